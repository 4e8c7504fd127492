"""Backtest: condors and hedge schemes over history (or a simulated market), model-priced.

Every input lives in the URL, so the page's address is a share link.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pandas as pd
import streamlit as st

from alvh_core.data.closes import HistoryFormatError, read_series_csv
from alvh_core.data.listings import VIX_OPTIONS_LISTED
from alvh_core.data.live import index_feed, offline_requested
from alvh_core.history import backtest as bt
from alvh_core.history import replicas, studies
from alvh_core.present.figures import drawdown_figure, equity_figure, replica_figure, scale_sweep_figure
from alvh_core.present.links import ALL_KEYS
from alvh_core.strategy.hedge import BACKTEST_SCHEMES, RESULT_LABELS
from alvh_core.strategy.management import ExitRules
from alvh_core.strategy.tiers import find_tier, load_tiers
from app_pages.common import (
    DOLLARS,
    account_hedge,
    bounds,
    choice,
    current_history,
    done,
    held,
    keep_in_link,
    linked,
    money,
    plain,
    setting,
    setting_choice,
    upload_key,
)
from app_pages.history_data import data_range, history_arrays, is_kept, kept, simulated_arrays, window_of

st.title("Backtest")
st.caption("Condors on the listed SPX expiries and strikes, with each hedge scheme bought and rolled by its rules, "
           "day by day at the real closes (or on the simulated market). Model-priced: every price comes from the "
           "project's vol model and futures proxy, not from quotes. The page's address is a share link.")


verdict_slot = st.container()   # the answer in words, above the inputs it answers


def _drop_shape() -> None:
    st.session_state["bshp"] = None
    keep_in_link("bshp", None)


@st.fragment(run_every=1.0)
def _await_index(name: str) -> None:
    """While Cboe's file downloads, look every second; rerun the page once it has landed or failed."""
    if not index_feed(name).status().fetching:
        st.rerun()


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


# --- inputs ------------------------------------------------------------------------------------
with st.container(border=True):
    c1, c2, c3 = st.columns([2, 1, 1])
    source = choice(c1.radio, "Data", "bsrc", horizontal=True,
                    help="The history the sidebar holds (live download, saved copy or your files), or a market "
                         "drawn from the simulator (seeded: the same seed gives the same history)")
    seed = linked(c2.number_input, "Simulation seed", *bounds("bseed"), 1, key="bseed",
                  disabled=source != "simulated")
    years = linked(c3.number_input, "Simulated years", *bounds("byrs"), 36, key="byrs", disabled=source != "simulated")

notes: list[str] = []
if source == "history":
    market_arrays, data_key, why = history_arrays()
    if market_arrays is None:
        st.info(f"{why} Showing the simulated market (seed {int(seed)}) instead.", icon=":material/info:")
        source = "simulated"
if source == "simulated":
    market_arrays, data_key = simulated_arrays(int(seed), int(years))
first_day, last_day = data_range(market_arrays)

with st.container(border=True):
    c1, c2, c3, c4 = st.columns(4)
    for key in ("bs", "be"):
        value = st.session_state.get(key)
        if value is not None and not first_day <= value <= last_day:
            notes.append(f"The link's {ALL_KEYS[key].label} {value} is outside the data ({first_day} to {last_day}): "
                         "the data's own range is used.")
            st.session_state.pop(key)
    start = c1.date_input("Start", value=first_day, min_value=first_day, max_value=last_day, key="bs")
    end = c2.date_input("End", value=last_day, min_value=first_day, max_value=last_day, key="be")
    keep_in_link("bs", None if start == first_day else start)
    keep_in_link("be", None if end == last_day else end)
    strategy = choice(c3.selectbox, "Strategy", "bst",
                      help="Condors entered every session, week or month (held to expiry unless a rule closes them), "
                           "or a replica of one of Cboe's benchmark indexes")
    tier_name = choice(c4.selectbox, "Tier", "btr", help="The tier's short delta, wing and days to expiry",
                       disabled=strategy in replicas.REPLICAS)
    c1, c2, c3 = st.columns([2, 1, 1])
    st.session_state.setdefault("bh", list(ALL_KEYS["bh"].default))
    schemes = linked(c1.multiselect, "Hedge schemes", list(ALL_KEYS["bh"].choices), key="bh",
                     format_func=ALL_KEYS["bh"].label_of, disabled=strategy in replicas.REPLICAS,
                     help="Each is run on the same condors; “No hedge” is the condor alone")
    capital = setting(c2.number_input, "Account ($)", "n", *bounds("n"), step=10_000.0, format="%.0f",
                      help="The session's strategy notional (the same on every page): the account the backtest starts "
                           "with, which sizes the condors and the hedge")
    smaller = linked(c3.checkbox, "Show “trade smaller”", key="bsm", value=True,
                     help="No hedge, the condor scaled to the first hedged scheme's risk (its max drawdown by "
                          "default; the popover offers its worst weeks or the premium's share of the credit): the "
                          "bar a hedge has to beat at the same risk")
    with st.popover("Costs, sizing and exit rules", icon=":material/tune:"):
        c1, c2, c3 = st.columns(3)
        fill_pct = linked(c1.slider, "Fill: % of the way from mid to natural", 0, 100, held("bfs", 50), 5, key="bfs")
        commission = linked(c2.number_input, "Commission ($ per contract, each way)", *bounds("bcm"), held("bcm", 1.0), 0.25,
                            key="bcm")
        slippage = linked(c3.number_input, "Slippage (points per SPX leg, each way)", *bounds("bsl"), held("bsl", 0.0), 0.05,
                          key="bsl")
        c1, c2, c3 = st.columns(3)
        profit_target = linked(c1.number_input, "Profit target (% of credit, 0 = off)", *bounds("bpt"), held("bpt", 0), 5,
                               key="bpt")
        stop = linked(c2.number_input, "Stop (loss × credit, 0 = off)", *bounds("bsp"), held("bsp", 0.0), 0.5, key="bsp")
        exit_days = linked(c3.number_input, "Close N days before expiry (0 = hold)", *bounds("bxd"), held("bxd", 0), 1,
                           key="bxd")
        roll = linked(c3.checkbox, "…and roll: open the next condor that day", value=held("brl", False), key="brl",
                      help="Weekly and monthly strategies: the next condor opens the day one is closed, instead of "
                           "at the next scheduled entry", disabled=not exit_days)
        c1, c2, c3 = st.columns(3)
        risk_pct = linked(c1.number_input, "Max loss per entry (% of capital, 0 = default)", *bounds("brk"),
                          held("brk", 0.0), 0.1,
                          key="brk", help="Default: 0.4 % daily, 2 % weekly, 8 % monthly (similar open risk)")
        contracts = linked(c2.number_input, "Contracts per entry (0 = size by risk)", *bounds("bct"), held("bct", 0), 1,
                           key="bct")
        sizing = setting_choice(c3.radio, "Hedge sized", "hsz", declared=True,
                                help="The session's hedge sizing (the same on every page)")
        c1, c2, c3 = st.columns(3)
        account_sizing = choice(c1.radio, "Entries sized on", "bsiz", in_popover=True,
                                help="The account as it is at each entry (default: the book keeps its share of the "
                                     "account in every decade), or the starting capital (fixed dollars)")
        synthetic = linked(c2.checkbox, "Synthetic VIX hedge before VIX options were listed (2006-02-24)",
                           value=held("bsyn", False), key="bsyn",
                           help="Off: a run that starts earlier buys its first VIX call at the first roll after the "
                                "listing, and says so. On: model-priced calls that could not have been traded, "
                                "labeled synthetic")
        settlement = choice(c3.radio, "Options settle at", "bset", in_popover=True,
                            help="VIX options settle at the special opening quotation of their expiry day (the VIX "
                                 "open stands in for it) and A.M. SPX expiries at the open; the close is the old "
                                 "approximation")
        c1, c2, c3 = st.columns(3)
        smaller_match = choice(c1.radio, "“Trade smaller” matched on", "bsmm", in_popover=True,
                               help="The unhedged condor scaled until its risk is the hedged book's: the bar a "
                                    "hedge has to beat at the same risk (above 1 it trades more, where the hedge "
                                    "made the book riskier)")
        c1, c2, c3 = st.columns(3)
        contingent = choice(c1.radio, "Tail layer", "bcn", in_popover=True)
        interest = linked(c2.checkbox, "T-bill interest on the account", key="bint", value=held("bint", True))
        div_pct = linked(c3.number_input, "S&P 500 dividend yield (%)", *bounds("bdv"), held("bdv", 1.9), 0.1, key="bdv",
                         help="Forwards of the condor pricing and the VXTH replica's total return")

for note in notes:
    st.warning(note)
if start >= end:
    st.error("The start must be before the end.")
    done()
try:
    m = window_of(market_arrays, data_key, start, end)
except ValueError as exc:
    st.error(str(exc))
    done()

badge = {"simulated": ("violet", "Simulated market"), "live": ("green", "Live history"),
         "cache": ("blue", "Saved live history"), "file": ("blue", "Your files")}[m.source]
st.badge(f"{badge[1]} · {start} to {end} · model-priced", color=badge[0], icon=":material/history:")

costs = bt.Costs(fill_share=fill_pct / 100.0, slippage=float(slippage), commission=float(commission))

# --- replicas ----------------------------------------------------------------------------------
if strategy in replicas.REPLICAS:
    name = strategy.upper()
    rep = kept(("replica", data_key, start, end, strategy, div_pct), lambda progress: replicas.replica(
        strategy, m, div=div_pct / 100.0), f"{name} replica")
    st.subheader(f"{rep.label}")
    st.caption(f"Cboe's {name} rule on this history, priced with the project's models at Cboe's index terms "
               f"(mids, no commissions): {replicas.REPLICA_RULES[strategy]}")
    index_level = None
    c1, c2 = st.columns([2, 1])
    upload = c1.file_uploader(f"The real index: Cboe's {name}_History.csv", type=["csv"], key=upload_key(f"b_index_{strategy}"),
                              help=f"From cdn.cboe.com/api/global/us_indices/daily_prices/{name}_History.csv")
    if upload is not None:
        try:
            index_level, _ = read_series_csv(upload.getvalue(), upload.name)
        except HistoryFormatError as exc:
            st.warning(f"That file could not be read: {plain(exc)}")
    feed = index_feed(name)
    if c2.button(f"Fetch {name} from Cboe", key=f"b_fetch_{strategy}", help="Cboe's CDN, when the server is online"):
        st.session_state[f"b_fetch_asked_{strategy}"] = True
        if offline_requested():
            st.warning("Offline mode (ALVH_OFFLINE): live data is off.")
        else:
            feed.poke()   # in the background: the page never waits on the network
    if st.session_state.get(f"b_fetch_asked_{strategy}") and not offline_requested():
        state = feed.status()
        if state.good is not None:
            st.session_state[f"b_fetched_{strategy}"] = state.good.frame.iloc[:, 0]
        elif state.fetching:
            st.info(f"Downloading {name}_History.csv from Cboe in the background…")
            _await_index(name)
        elif state.failure is not None:
            st.warning(plain(state.failure.message or "Cboe's file could not be fetched."))
            st.session_state[f"b_fetch_asked_{strategy}"] = False
        else:
            st.info(f"Cboe's {name} file is not here yet: press Fetch again in a moment.")
    if index_level is None:
        index_level = st.session_state.get(f"b_fetched_{strategy}")
    if index_level is None and source == "history":
        loaded = current_history()   # Cboe's own file in the data folder or the sidebar's uploads
        if loaded is not None and strategy in loaded.panel and loaded.panel[strategy].notna().sum() > 40:
            index_level = loaded.panel[strategy].dropna()
    level = rep.level
    if index_level is not None:
        try:
            track = replicas.tracking(level, index_level)
            common = pd.Timestamp(track.start)
            st.plotly_chart(replica_figure(replicas.rebased(level, common), replicas.rebased(index_level, common)
                                           .loc[: pd.Timestamp(track.end)], rep.label, f"Cboe {name}"),
                            key="b_replica_chart")
            cols = st.columns(5)
            cols[0].metric("Monthly correlation", f"{track.monthly_correlation:.2f}", help=f"{track.months} months")
            cols[1].metric("CAGR, replica − index", pct(track.cagr_gap, 2),
                           help=f"replica {pct(track.cagr_replica, 2)}, index {pct(track.cagr_index, 2)}")
            cols[2].metric("Max drawdown, replica − index", pct(track.drawdown_gap),
                           help=f"replica {pct(track.max_drawdown_replica)}, index {pct(track.max_drawdown_index)}")
            cols[3].metric("Tracking error (annual)", pct(track.tracking_error))
            cols[4].metric("Common dates", f"{track.start} to {track.end}")
        except ValueError as exc:
            st.warning(f"The index and the replica cannot be compared: {plain(exc)}")
            st.plotly_chart(replica_figure(level, None, rep.label), key="b_replica_chart")
    else:
        st.plotly_chart(replica_figure(level, None, rep.label), key="b_replica_chart")
        st.caption(f"Upload Cboe's {name}_History.csv (or fetch it when online) to overlay the real index and read "
                   "the tracking figures.")
    st.markdown("**What the gap to the real index comes from:** " + "; ".join(replicas.GAP_SOURCES[strategy]) + ".")
    from alvh_core.history.stats import performance

    perf = performance(level, pd.Series(m.rate, index=pd.DatetimeIndex(m.dates)))
    cols = st.columns(5)
    cols[0].metric("CAGR (model)", pct(perf.cagr, 2))
    cols[1].metric("Volatility", pct(perf.volatility))
    cols[2].metric("Max drawdown", pct(perf.max_drawdown))
    cols[3].metric("Sharpe (over T-bills)", f"{perf.sharpe:.2f}")
    cols[4].metric("Worst month", pct(perf.worst_month))
    st.dataframe(rep.rolls, hide_index=True, height=260, key="b_replica_rolls")
    csv = pd.DataFrame({"date": level.index.strftime("%Y-%m-%d"), "level": level.to_numpy().round(6)})
    st.download_button("Download the replica (CSV)", csv.to_csv(index=False), f"{strategy}_replica.csv", "text/csv",
                       key="b_dl_replica")
    st.caption(bt.IN_SAMPLE_NOTE)
    done()

# --- condor strategies -------------------------------------------------------------------------
if not schemes:
    st.info("Pick at least one hedge scheme (“No hedge” runs the condor alone).")
    done()
tier = find_tier(load_tiers(), tier_name)
shape = None
if st.session_state.get("bshp") is not None:
    shape, shape_days = st.session_state["bshp"]
    tier = bt.shaped_tier(tier, shape, shape_days)
    c1, c2 = st.columns([4, 1])
    c1.info(f"Your structure from the Builder: short put at {shape[0]:.2f} delta and short call at {shape[1]:.2f}, "
            f"wings {shape[2]:g} % and {shape[3]:g} % of spot, on the listed expiry nearest {shape_days} days, "
            f"entered {dict(daily='every session', weekly='every week', monthly='every month')[strategy]}; the "
            "tier's own strikes are not used.", icon=":material/construction:")
    c2.button("Use the tier's condor instead", key="b_drop_shape", on_click=_drop_shape)
keep_in_link("bshp", st.session_state.get("bshp"))
try:
    config = bt.BacktestConfig(
        strategy=strategy, tier=tier, capital=float(capital), risk_pct=float(risk_pct) or None,
        contracts=int(contracts) or None, costs=costs,
        management=ExitRules(profit_target / 100.0 if profit_target else None, float(stop) or None,
                                 int(exit_days) or None, bool(roll)),
        hedge=replace(account_hedge(), contingent=contingent, sizing=sizing), div=div_pct / 100.0,
        interest=bool(interest), shape=shape, sizing=account_sizing, synthetic_hedge=bool(synthetic),
        settlement=settlement, smaller_match=smaller_match)
except ValueError as exc:
    st.error(f"These inputs cannot run: {exc}")
    done()
order = [s for s in BACKTEST_SCHEMES if s in schemes]
run_schemes = tuple(["none"] + [s for s in order if s != "none"])
result = kept(("run", data_key, start, end, config, run_schemes, bool(smaller)),
              lambda progress: bt.run_backtest(m, config, run_schemes, smaller=bool(smaller), progress=progress),
              "Backtesting")
labels = RESULT_LABELS
shown_cols = [c for c in result.equity.columns if c in schemes or c == "smaller"]
equity = result.equity[shown_cols]
main = next((s for s in order if s != "none"), "none")



def history_notes(result, scheme: str) -> list[str]:
    """What of the run could not have been traded as asked: when the hedge starts, the condors whose wings the
    listed grid made far wider than the tier's, and the entries the account could not size to a contract."""
    config, m = result.config, result.market
    lines = []
    if scheme != "none":
        trades = result.hedges[scheme].trades
        bought = trades[trades["contracts"] > 0]
        first_day = pd.Timestamp(m.dates[0]).date()
        if config.synthetic_hedge and first_day < VIX_OPTIONS_LISTED:
            lines.append(f"Synthetic hedge: VIX calls bought before {VIX_OPTIONS_LISTED} were not listed; they are "
                         "priced on the model and could not have been traded.")
        elif first_day < VIX_OPTIONS_LISTED:
            start = pd.Timestamp(bought["bought"].min()).date() if len(bought) else None
            lines.append(f"The hedge starts on {start or 'no day of this window'}: VIX options were listed on "
                         f"{VIX_OPTIONS_LISTED}, so before then {labels[scheme]} holds no VIX call (turn on the "
                         "synthetic hedge in the popover to price one anyway).")
    book = result.condors[scheme]
    wide = bt.wide_wings(m, book, config)
    if wide.any():
        lines.append(f"{int(wide.sum()):,} of {book.entry.size:,} condors have a wing wider than twice the tier's "
                     "width: where a high VIX puts the short strikes far out, the listed grid steps 25 to 200 "
                     "points, so their max loss is far above the tier's (and sizing by risk buys fewer of them, "
                     "often none).")
    empty = int((book.contracts == 0).sum())
    if empty:
        early = int(((book.contracts == 0) & (m.dates[book.entry] < bt.XSP_LISTED)).sum())
        lines.append(f"{empty:,} of {book.entry.size:,} entries bought no contract: their share of the account was "
                     "less than one condor's max loss"
                     + (f" ({early:,} of them before XSP, a tenth of SPX, was listed on 2005-10-25)" if early else "")
                     + ". A larger account trades them.")
    return lines


def verdict(result, shown: list[str], config) -> str:
    """Which scheme ended ahead and by how much, against the others ("trade smaller" included) and T-bills
    alone, and whether and when an account was ruined: the backtest in three sentences."""
    final = {name: float(result.equity[name].iloc[-1]) for name in shown}
    names = {name: ("trading smaller" if name == "smaller" else labels[name]) for name in shown}
    ranked = sorted(final, key=final.get, reverse=True)
    first = ranked[0]
    span = result.stats[first if first != "smaller" else "none"].performance
    lead = f", {money(final[first] - final[ranked[1]])} more than {names[ranked[1]]}" if len(ranked) > 1 else ""
    leader = names[first][:1].upper() + names[first][1:]
    parts = [f"**{leader} ended ahead**: {money(config.capital)} became {money(final[first])} from "
             f"{span.start} to {span.end}{lead}."]
    others = ", ".join(f"{names[k]} {money(final[k])}" for k in ranked[1:])
    if config.interest:
        bills = float(bt.equity_curve(result.market, np.zeros(result.market.size), config.capital, True)[-1])
        parts.append((f"Then {others}; " if others else "") + f"T-bills alone {money(bills)}, so the best "
                     + ("beat" if final[first] > bills else "did not beat") + " cash.")
    elif others:
        parts.append(f"Then {others}.")
    ruined = [f"{names[k]} was ruined on {result.stats[k].ruined} (the account reached zero)."
              for k in shown if k != "smaller" and result.stats[k].ruined]
    if "smaller" in shown and final["smaller"] <= 0:
        ruined.append("Trading smaller ruined the account.")
    parts.append(" ".join(ruined) or "No account was ruined.")
    return " ".join(parts)


with verdict_slot:
    st.info(verdict(result, shown_cols, config) + " Model-priced.", icon=":material/gavel:")
for line in history_notes(result, main):
    st.caption(line)

s_main = result.stats[main].performance
cols = st.columns(5)
cols[0].metric(f"CAGR, {labels[main]}", pct(s_main.cagr, 2),
               delta=None if main == "none" else f"{100 * (s_main.cagr - result.stats['none'].performance.cagr):+.2f} "
                                                  "pts vs no hedge")
cols[1].metric("Max drawdown", pct(s_main.max_drawdown),
               delta=None if main == "none" else
               f"{100 * (s_main.max_drawdown - result.stats['none'].performance.max_drawdown):+.1f} pts vs no hedge",
               delta_color="inverse")
cols[2].metric("Sharpe (over T-bills)", f"{s_main.sharpe:.2f}")
cols[3].metric("Condors traded", f"{result.condor.entry.size:,}",
               help=f"{int(result.condor.contracts.sum()):,} contracts in all")
if result.smaller_scale is not None:
    cols[4].metric("Trade smaller: risk ×", f"{result.smaller_scale:.2f}",
                   help={"premium": f"1 − {labels[result.smaller_of]}'s premium (spread over the time held) / the "
                                    "condors' credit",
                         "drawdown": f"The unhedged condors at the risk share whose max drawdown is "
                                     f"{labels[result.smaller_of]}'s: the same risk without the hedge",
                         "cvar": f"The unhedged condors at the risk share whose worst weeks (CVaR 95 %) are "
                                 f"{labels[result.smaller_of]}'s: the same risk without the hedge"}[config.smaller_match])

log_scale = linked(st.toggle, "Log scale", value=True, key="blog")
st.plotly_chart(equity_figure(equity, labels, f"Account value by scheme (model-priced, {m.source} data)", log_scale),
                key="b_equity_chart")
st.plotly_chart(drawdown_figure(equity, labels), key="b_drawdown_chart")

bills = studies.tbill_cagr(m)
rows = []
for name in shown_cols:
    s = result.stats[name]
    p = s.performance
    rows.append({"Scheme": labels[name], "CAGR": p.cagr, "Over T-bills": studies.excess(p.cagr, bills),
                 "Volatility": p.volatility, "Sharpe": p.sharpe,
                 "Sortino": p.sortino, "Max drawdown": p.max_drawdown, "Calmar": p.calmar, "Worst day": p.worst_day,
                 "Worst month": p.worst_month, "Win days": p.win_rate,
                 "Hedge / yr": s.hedge_drag_pct / 100.0,
                 "Hedge, worst wks ($)": s.worst_weeks_hedge,
                 "Ruined on": s.ruined or ""})
st.subheader("Statistics")
percent = st.column_config.NumberColumn(format="percent")
# Measures down, schemes across: twelve measures side by side did not fit 1,400 px, five schemes do.
_fmt = {"CAGR": "{:.2%}", "Over T-bills": "{:+.2%}",
        "Volatility": "{:.2%}", "Sharpe": "{:.2f}", "Sortino": "{:.2f}", "Max drawdown": "{:.2%}",
        "Calmar": "{:.2f}", "Worst day": "{:.2%}", "Worst month": "{:.2%}", "Win days": "{:.1%}",
        "Hedge / yr": "{:.2%}", "Hedge, worst wks ($)": "{:,.0f}", "Ruined on": "{}"}
_names = {"Over T-bills": f"CAGR over T-bills ({bills:.2%} a year)",
          "Win days": "Days with a gain", "Hedge / yr": "Hedge P/L a year (% of capital)",
          "Hedge, worst wks ($)": "Hedge P/L in the 10 worst weeks ($)", "Ruined on": "Ruined on (account at zero)"}
stats_table = pd.DataFrame({row["Scheme"]: {_names.get(k, k): (_fmt[k].format(v) if v not in ("", None) else "—")
                                            for k, v in row.items() if k != "Scheme"} for row in rows})
st.table(stats_table)   # every row and every name shown: no scroll, no cut

if m.source != "simulated" and main != "none":
    st.subheader("The verdict from other start dates, and year by year")
    own = pd.Timestamp(m.dates[0]).date().isoformat()
    starts = tuple(dict.fromkeys([*studies.START_DATES, own]))
    by_start = kept(("starts", data_key, end, config, run_schemes, starts),
                    lambda progress: studies.start_date_table(window_of(market_arrays, data_key, None, end), config,
                                                              ("none", main), starts, progress), "Other start dates")
    table = by_start.assign(result=by_start["result"].map(lambda r: labels[r]),
                            ruined=by_start["ruined"].fillna("—"))
    table = table.rename(columns={"start": "Start", "result": "Result", "cagr": "CAGR",
                                  "excess_cagr": "CAGR over T-bills", "max_drawdown": "Max drawdown",
                                  "tbill_cagr": "T-bills alone", "ruined": "Ruined on"})
    st.dataframe(table, hide_index=True, key="b_starts",
                 column_config={c: st.column_config.NumberColumn(format="percent")
                                for c in ("CAGR", "CAGR over T-bills", "Max drawdown", "T-bills alone")})
    st.caption(f"The same rules from each start to {end}: the data's first day, VIX options' listing "
               "(2006-02-24), the 2008 low (2008-11-20), 2013, and this page's start. “Trade smaller” is the "
               f"unhedged condor at {labels[main]}'s risk ({ALL_KEYS['bsmm'].label_of(config.smaller_match)}). "
               "A scheme earns its place only where it beats trading smaller at the same risk. Model-priced.")
    years = studies.per_year(result, main)
    shown_years = years.rename(columns={"year": "Year", "condor_pnl": "Condors ($)", "condor_credit": "Credit ($)",
                                        "hedge_premium": "Hedge premium ($)", "hedge_pnl": "Hedge P/L ($)",
                                        "premium_over_credit": "Premium ÷ credit",
                                        "median_notional_per_max_loss": "VIX notional ÷ max loss (median)"}
                               | {c: c.split("_")[0].capitalize() + (" premium ($)" if c.endswith("_premium")
                                                                         else " P/L ($)")
                                  for c in years.columns if c.endswith(("_premium", "_pnl"))
                                  and c.split("_")[0] not in {"condor", "hedge"}})
    st.dataframe(shown_years, hide_index=True, key="b_years",
                 column_config={"Year": st.column_config.NumberColumn(format="%d"),
                                "Premium ÷ credit": st.column_config.NumberColumn(format="%.2f"),
                                "VIX notional ÷ max loss (median)": st.column_config.NumberColumn(format="%.2f")}
                 | {c: DOLLARS for c in shown_years.columns if c.endswith("($)")})
    st.caption(f"{labels[main]} year by year: the condors' P/L and credit, each layer's premium and P/L, the "
               "premium over the credit, and the median over the year's days of the VIX notional held over the "
               "condors' open max loss. Model-priced.")

    st.markdown("**Which assumption decides the verdict**")
    sens_key = ("sensitivity", data_key, start, end, config, main)
    if is_kept(sens_key) or st.button("Run the sensitivity table (8 runs)", key="b_sensitivity",
                                      icon=":material/tune:"):
        sens = kept(sens_key, lambda progress: studies.sensitivity(m, config, main, progress), "Sensitivity")
        shown_sens = sens.assign(beats_smaller=sens["beats_smaller"].map({True: "yes", False: "no"})).rename(
            columns={"assumption": "Assumption", "value": "Moved to", "cagr": f"{labels[main]} CAGR",
                     "excess_cagr": "Over T-bills", "max_drawdown": "Max drawdown",
                     "smaller_cagr": "Trade smaller CAGR", "beats_smaller": "Beats trading smaller"})
        st.dataframe(shown_sens, hide_index=True, key="b_sens",
                     column_config={c: st.column_config.NumberColumn(format="percent")
                                    for c in (f"{labels[main]} CAGR", "Over T-bills", "Max drawdown",
                                              "Trade smaller CAGR")})
        flips = sens[sens["beats_smaller"] != sens["beats_smaller"].iloc[0]]
        st.caption("Each row moves one assumption of the model (the VIX-option vol, its call skew, the VIX half "
                   "spread, settlement at the close) and runs again, trade smaller matched as above. "
                   + (f"The verdict flips with: {', '.join(flips['assumption'] + ' ' + flips['value'])}."
                      if len(flips) else "No row flips the verdict.") + " Model-priced.")

# --- the models checked against real indexes --------------------------------------------------
st.markdown("**Are the model's prices real?** Its two option models against Cboe's own indexes")
if source != "history":
    st.caption("The checks read Cboe's CNDR and VXTH index files: they run on the real history, not the simulated "
               "market.")
else:
    loaded = current_history()
    panel = loaded.panel if loaded is not None else pd.DataFrame()
    checks = kept(("model checks", data_key),
                  lambda progress: replicas.model_checks(market_arrays, panel.get("cndr"), panel.get("vxth")),
                  "Model checks")

    def points(x: float) -> str:
        return f"{100 * x:+.2f}".replace("-", "−")

    rows = [{"Check": f"CNDR, the SPX smile ({label})", "Months": t.months,
             "Monthly correlation": f"{t.monthly_correlation:.3f}", "Replica CAGR": pct(t.cagr_replica, 2),
             "Index CAGR": pct(t.cagr_index, 2), "Gap (points)": points(t.cagr_gap)} for label, t in checks.cndr]
    vix = checks.vix_options
    if vix is not None:
        t = vix.tracking
        rows.append({"Check": f"VXTH, the VIX options ({t.start[:4]}–{t.end[:4]})", "Months": t.months,
                     "Monthly correlation": f"{t.monthly_correlation:.3f}", "Replica CAGR": pct(t.cagr_replica, 2),
                     "Index CAGR": pct(t.cagr_index, 2), "Gap (points)": points(t.cagr_gap)})
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="b_check_tracking")
        st.caption("Cboe's CNDR condor rule priced by the model's smile (fitted on two 2022–2023 chains, its skew "
                   "tied to SKEW; nothing fitted on CNDR, and its years after 2009 are kept back) and Cboe's VXTH "
                   "rule priced by the VIX option model (ATM vol from VVIX through the smile; the call skew"
                   + (f", {vix.call_skew:g}," if vix is not None else "")
                   + " is the one constant fitted on VXTH's 2016–2026, and its earlier years are kept back), each "
                   "against the real index.")
    if vix is not None:
        def times(x) -> str:
            return "no calls" if x is None else f"×{x:.1f}"

        spikes = pd.DataFrame([{"Spike": x.label, "Calls bought": x.bought,
                                "VIX peak": f"{x.peak} ({x.vix_at_peak:.1f})", "Index": times(x.multiple_index),
                                "Replica": times(x.multiple_replica), "Why": x.note} for x in vix.spikes])
        st.dataframe(spikes, hide_index=True, key="b_check_spikes")
        st.caption(f"What VXTH's calls became through three VIX spikes, per dollar spent, from the roll to VIX's peak. "
                   f"In {vix.calm_weeks} calm weeks (VIX under 20 and not rising) the calls lost "
                   f"{-vix.calm_decay_index_bp:.1f} bp a week in the index, {-vix.calm_decay_replica_bp:.1f} in the "
                   "replica.")
    for why in checks.missing:
        st.caption(f"Not checked: {why}.")

# Full width, one after the other: side by side, their last columns (the hedges') were cut off at 1,400 px.
with st.container():
    st.markdown("**The unhedged book's 10 worst weeks**, and what each hedge did in them")
    worst = result.worst_weeks.rename(columns={"week_of": "Week of", "condor_pnl": "Condors ($)",
                                               "spx_change": "SPX", "vix_close": "VIX at the end"}
                                      | {f"{s}_hedge_pnl": f"{labels[s]} hedge ($)" for s in run_schemes})
    st.dataframe(worst, hide_index=True, key="b_worst_weeks",
                 column_config={"SPX": percent} | {c: DOLLARS
                                                   for c in worst.columns if c.endswith("($)")})
with st.container():
    st.markdown("**Time and P/L by regime** (VIX band of each day)")
    regimes = result.by_regime.rename(columns={"regime": "Regime", "share_of_days": "Share of days",
                                               "condor_pnl": "Condors ($)"}
                                      | {f"{s}_hedge_pnl": f"{labels[s]} hedge ($)" for s in run_schemes})
    st.dataframe(regimes, hide_index=True, key="b_regimes",
                 column_config={"Share of days": percent} | {c: DOLLARS
                                                             for c in regimes.columns if c.endswith("($)")})

# --- the seeds' claims -------------------------------------------------------------------------
st.subheader("The method's claims on this history")
with st.container():
    st.markdown("**Seed 004: 40/40/20 against one VIX call on the same budget**")
    pair = kept(("run", data_key, start, end, config, ("none", "alvh", "single"), False),
                lambda progress: bt.run_backtest(m, config, ("none", "alvh", "single"), smaller=False,
                                                 progress=progress), "ALVH against the single call")
    versus = studies.layered_versus_single(pair)
    better = versus.set_index("scheme")["hedge_pnl"].idxmax()
    versus = versus.rename(columns={"scheme": "Scheme", "cagr": "CAGR", "max_drawdown": "Max drawdown",
                                    "sharpe": "Sharpe", "worst_month": "Worst month", "hedge_pnl": "Hedge P/L ($)",
                                    "premium_paid": "Premium paid ($)",
                                    "hedge_in_10_worst_weeks": "Hedge in the 10 worst weeks ($)",
                                    "hedge_per_premium_dollar": "Hedge P/L per premium $"})
    st.dataframe(versus, hide_index=True, key="b_versus",
                 column_config={"CAGR": percent, "Max drawdown": percent, "Worst month": percent,
                                "Sharpe": st.column_config.NumberColumn(format="%.2f"),
                                "Hedge P/L per premium $": st.column_config.NumberColumn(format="%.2f")}
                 | {c: DOLLARS for c in versus.columns if c.endswith("($)")})
    st.caption(f"On this history and these inputs the hedge that lost least (or made most) is **{better}**.")
with st.container():
    st.markdown("**Seed 003: max drawdown from 10 to 200 contracts, with and without ALVH**")
    st.caption("Five runs of this strategy at 10, 25, 50, 100 and 200 contracts per entry, the account $50,000 a "
               "contract, the hedge sized to the condors' max loss in whole VIX contracts.")
    sweep_key = ("scale", data_key, start, end, config)
    if st.button("Run the scale study", key="b_scale_run") or st.session_state.get("b_scale_done") == sweep_key:
        table = kept(sweep_key, lambda progress: studies.scale_sweep(m, config, progress=progress),
                     "Scale study")
        st.session_state["b_scale_done"] = sweep_key
        st.plotly_chart(scale_sweep_figure(table, labels["alvh"]), key="b_scale_chart")

# --- downloads and provenance -------------------------------------------------------------------
c1, c2, c3 = st.columns(3)


def _equity_csv(equity=equity) -> str:
    curve = equity.copy()
    curve.insert(0, "date", curve.index.strftime("%Y-%m-%d"))
    return curve.to_csv(index=False)


def _hedges_csv(result=result) -> str:
    frames = [b.trades.assign(scheme=s) for s, b in result.hedges.items() if b is not None and len(b.trades)]
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["scheme"])).to_csv(index=False)


# Written when clicked, not on every rerun (36 years of days take a fifth of a second to write).
c1.download_button("Daily equity (CSV)", _equity_csv, "backtest_equity.csv", "text/csv", key="b_dl_equity")
c2.download_button(f"Every trade of {labels[main]} (CSV)",
                   lambda result=result: bt.trades_frame(result, main).to_csv(index=False),
                   "backtest_trades.csv", "text/csv", key="b_dl_condors",
                   help="Every condor and hedge trade: kind, layer, bought, sold, expiry, strike, contracts, price, "
                        "cost and the condor's max loss")
c3.download_button("Hedge trades (CSV)", _hedges_csv, "backtest_hedges.csv", "text/csv", key="b_dl_hedges")
with st.expander("How this backtest is made, and what it is not"):
    st.markdown(bt.__doc__.split("What is simulated, day by day at the real SPX and VIX-family closes:")[1]
                .split("Money: dollars.")[0])
    st.markdown(f"- **Rates:** {m.rate_note}.\n- **No look-ahead:** {bt.IN_SAMPLE_NOTE}\n"
                "- **Settlement:** VIX options at the VIX open of their expiry day (the special opening "
                "quotation's stand-in), A.M.-settled SPX expiries at the SPX open where the history has real "
                "opens (from about 2008), else the close of the session before; the popover switches both to the "
                "close.\n"
                "- **VIX futures:** CFE's front and second month settlements where the files have them "
                "(2005-06 … 2020-09), the model's proxy beyond.\n"
                "- **VIX options:** the ATM vol VVIX implies through the smile, the call skew fitted on Cboe's VXTH "
                "index; a half spread of at least 0.05 points or 3 % of the price, wider above VIX 20 (assumed: "
                "no VIX quotes in the data); strikes as listed in their era.")
    st.json({"config": asdict(config) | {"tier": asdict(tier)}, "schemes": list(run_schemes)}, expanded=False)
