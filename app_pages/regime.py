"""Regime: today's VIX regime, the signals behind the stress score, the
term structure, the event calendar and the hedge budget they imply."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from alvh_core.data.events import parse_user_dates
from alvh_core.model.vixfutures import expiries_after, futures_proxy
from alvh_core.present.figures import stress_contributions_figure, term_structure_figure, vix_history_figure
from alvh_core.strategy.signals import SIGNAL_LABELS
from app_pages.common import (
    account_budget,
    bounds,
    current_market,
    current_snapshot,
    first_visit_hint,
    hedge_context,
    linked,
    money,
    numbers_first,
    regime_settings,
    session_calendar,
    setting,
    setting_value,
)

WINDOWS = {"1M": 31, "3M": 92, "6M": 183, "1Y": 366, "2Y": 731, "5Y": 1827, "All": None}

st.title("Regime")
first_visit_hint()
st.markdown("ALVH Studio plans SPX iron condors protected by a layered VIX hedge. Start here with today's regime, "
            "then:")
_path = st.columns(4)
_path[0].page_link("app_pages/builder.py", label="Build a condor for your budget", icon=":material/construction:",
                   query_params={"t": "Moderate"})
_path[1].page_link("app_pages/hedge_lab.py", label="See it in a crash", icon=":material/science:")
_path[2].page_link("app_pages/backtest.py", label="Check it on 36 years of history", icon=":material/history:",
                   query_params={"bst": "weekly"})
_path[3].page_link("app_pages/tiers.py", label="Compare the tiers", icon=":material/stacked_bar_chart:")
st.caption("Every page's link, in the sidebar under “Share this page”, reopens exactly what you see.")
market = current_market()
snapshot = current_snapshot()

with st.expander("Settings: regime bands, stress weights, your event dates (every page uses them)"):
    c1, c2, c3 = st.columns(3)
    setting(c1.number_input, "Low regime below VIX", "rlo", *bounds("rlo"), step=0.5)
    setting(c2.number_input, "High regime above VIX", "rhi", *bounds("rhi"), step=0.5)
    setting(c3.checkbox, "Classify on the 30-day VIX future (model proxy) instead of spot", "rfu",
            help="Cboe's VXTH rule looks at the future that matches the hedge tenor")
    st.caption("Stress-score weights (renormalised over the signals that are available):")
    cols = st.columns(4)
    for i, key in enumerate(SIGNAL_LABELS):
        setting(cols[i % 4].number_input, SIGNAL_LABELS[key], f"w_{key}", *bounds(f"w_{key}"), step=0.05)
    typed_dates = setting(st.text_input, "Your event dates (YYYY-MM-DD, comma-separated)", "rev",
                          help="Counted as FOMC-like event days for the adaptive layer, on every page")

settings = regime_settings()
problems = list(settings.problems)
if typed_dates:
    _, bad = parse_user_dates(typed_dates)
    if bad:
        problems.append(f"Not dates, ignored: {', '.join(bad[:5])}")
for problem in problems:
    st.warning(problem)
low_max, high_min, on_future = settings.low_max, settings.high_min, settings.on_future
calendar = session_calendar(settings)

levels = {"spx": market.spot, "vix": market.vix, "vix9d": market.vix9d, "vix3m": market.vix3m,
          "vix6m": market.vix6m, "vvix": market.vvix}
asof_day = pd.Timestamp(market.asof).date() if market.asof else date.today()
future_days = [(e - asof_day).days for e in expiries_after(asof_day, 7)]
future_levels = futures_proxy(market.term, future_days, market.vvix)
thirty_day_future = float(futures_proxy(market.term, 30.0, market.vvix))
_, report = hedge_context(market, snapshot)   # the same report every page of this session uses

# --- headline ------------------------------------------------------------------------
c1, c2, c3, c4 = st.columns([1.2, 1, 1, 1.3])
with c1:
    color = {"Low": "green", "Moderate": "orange", "High": "red"}[report.regime.name]
    st.markdown(f"#### Regime: :{color}[{report.regime.name}]")
    basis = f"30-day VIX future (model) {thirty_day_future:.2f}" if on_future else f"spot VIX {market.vix:.2f}"
    st.caption(f"On {basis}; bands: Low < {low_max:g} ≤ Moderate ≤ {high_min:g} < High")
c2.metric("Stress score", f"{report.stress_score:.2f}", help="0 calm … 1 stressed; weighted mean of the signals below")
c3.metric("Hedge budget", f"{report.hedge_budget_pct:.1f} %",
          help=f"{report.regime.name} band {report.hedge_band[0]:g}–{report.hedge_band[1]:g} % of notional, "
               f"placed by the stress score; the static rule is {report.static_hedge_pct:g} %")
with c4:
    notional = setting(st.number_input, "Strategy notional ($)", "n", *bounds("n"), step=1_000.0, format="%.0f",
                       help="The account the risk budget and the hedge refer to (the same on every page)")
budget = account_budget()
pct = report.hedge_budget_pct
if setting_value("hsz") == "notional":
    told = (f"**{money(notional * pct / 100)}** of VIX exposure on {money(notional)} notional ({pct:.1f} %, seed "
            f"001's rule, the session's choice), against {money(notional * report.static_hedge_pct / 100)} under the "
            "static 10 % rule.")
else:
    per = float(setting_value("hpm")) * pct / 100
    told = (f"**{per:.1f}× the condors' max loss** in VIX notional ({pct:.1f} % of {setting_value('hpm'):g} × the max "
            f"loss, model-based): about **{money(per * budget.amount)}** for a position risking the session's "
            f"{money(budget.amount)}. Seed 001's literal rule would hold {money(notional * pct / 100)} on "
            f"{money(notional)} of notional.")
st.info("Today's hedge budget: " + told
        + (" The VIX−VIX3M spread z-score is past ±0.8: rebalance the layers." if report.rebalance_trigger else ""))
for note in report.notes:
    st.caption(note)
numbers_first()

# --- charts --------------------------------------------------------------------------
left, right = st.columns([1.5, 1])
with left:
    if snapshot.panel is not None and "vix" in snapshot.panel:
        st.session_state.setdefault("rwin", "1Y")
        window = linked(st.segmented_control, "Window", list(WINDOWS), key="rwin") or "1Y"
        end = pd.Timestamp(asof_day)
        start = snapshot.panel.index[0] if WINDOWS[window] is None else end - pd.Timedelta(days=WINDOWS[window])
        st.plotly_chart(vix_history_figure(snapshot.panel.loc[:end], start, low_max, high_min), key="r_vix_chart")
    else:
        st.info("VIX history needs live data or your files (sidebar → Data files). The regime, term structure, "
                "events and the signals that need no history still work below.")
with right:
    shape = {"contango": "Contango (VIX below VIX3M: calm carry)",
             "backwardation": "Backwardation (VIX at or above VIX3M: stress)"}.get(report.term_structure,
                                                                                "Term structure unknown (needs VIX3M)")
    st.markdown(f"**{shape}**")
    st.plotly_chart(term_structure_figure(levels, list(zip(future_days, future_levels.tolist(), strict=True))),
                    key="r_term_chart")
    st.caption("VIX futures here are the model proxy (forward variance from the index curve, fitted on CFE "
               "settlements: median error 0.42–0.49 VIX points), not quotes.")

st.plotly_chart(stress_contributions_figure(report), key="r_stress_chart")

# --- signals and events ---------------------------------------------------------------
sig_col, event_col = st.columns([1.6, 1])
with sig_col:
    st.subheader("Signals")
    st.table(pd.DataFrame([{   # a table, not a grid: its notes wrap instead of being cut off
        "Signal": s.label,
        "Reading": "n/a" if s.value is None else f"{s.value:,.3f}",
        "Stress (0–1)": "n/a" if s.stress is None else f"{s.stress:.2f}",
        "Weight": f"{s.weight:.2f}",
        "Adds to score": f"{s.contribution:.3f}",
        "Note": s.detail,
    } for s in report.signals]).set_index("Signal"))
    st.caption("The breadth signal uses RSP/SPY (equal- vs cap-weight S&P 500), a proxy for the advance–decline "
               "line. Stress maps: RSI 30→70, VIX/VIX3M 0.85→1.05, VIX9D/VIX 0.85→1.10 linear; MACD histograms "
               "and the spread z-score through a logistic; events 7 days → 0 days.")
with event_col:
    st.subheader("Events")
    for nxt in report.next_events:
        if nxt.day is None:
            st.write(f"**{nxt.kind}**: {nxt.note}")
        else:
            st.write(f"**{nxt.kind}**: {nxt.day:%a %d %b %Y} ({nxt.days_away} days)")
    upcoming = calendar.within(asof_day, 60)
    if upcoming:
        st.dataframe(pd.DataFrame([{"Date": e.day.isoformat(), "Event": e.kind, "Detail": e.detail} for e in upcoming]),
                     hide_index=True)
    st.caption("FOMC statement days and CPI/PPI release days (Federal Reserve and BLS schedules). The adaptive "
               "hedge layer expands within 5 trading days of these.")
