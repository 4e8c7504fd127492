"""Builder: the tier's SPX iron condor and its layered VIX hedge on one chart.

Every input lives in the URL (short keys, defaults left out), so the page's
address is a share link; "pin market data" in the sidebar adds the market.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from alvh_core.model.fitted import (
    HALF_SPREAD_REFERENCE_VIX,
    SLIPPAGE_DEPTH,
    SPX_MEDIAN_HALF_SPREAD,
    VIX_CALL_SKEW,
    VIX_VOL_DECAY,
)
from alvh_core.model.spotvol import outside_fit_notice
from alvh_core.present.figures import (
    COMBINED_COLOR,
    CONDOR_COLOR,
    LOSS_COLOR,
    combined_payoff_figure,
    heat_day_frames,
    heat_map_figure,
    heat_scale,
    layers_day_frames,
    layers_vs_vix_figure,
    payoff_day_frames,
    scale_figure,
    surface_figure,
    with_day_frames,
)
from alvh_core.present.links import MAX_DAYS
from alvh_core.present.ticket import ticket_rows
from alvh_core.strategy.condor import condor_expiry, market_date
from alvh_core.strategy.edits import PositionEdits
from alvh_core.strategy.hedge import SCHEME_LABELS, HedgeSettings
from alvh_core.strategy.management import ExitRules, exit_day, roll_calendar, trigger_levels
from alvh_core.strategy.payoff import BOOK_GREEK_ROWS, book_greeks, payoff_curves, pnl_dates, pnl_table
from alvh_core.strategy.position import Scenario, gate_on_position
from alvh_core.strategy.sizing import MEASURE_LABELS, scale_table
from alvh_core.strategy.stress import episode_rows
from alvh_core.strategy.tiers import find_tier, load_tiers
from app_pages.common import (
    account_inputs,
    bounds,
    choice,
    current_history,
    current_market,
    current_snapshot,
    done,
    gate_checklist,
    hedge_context,
    hedge_sizing_inputs,
    held,
    keep_in_link,
    linked,
    money,
    numbers_first,
    plain,
    redraw_share_box,
    shared,
    shared_position,
)
from app_pages.date_slider import date_slider, day_value
from app_pages.position_editor import chain_for, current_edits, position_panel, scenario_files

st.title("Builder")
st.caption("An SPX iron condor for your tier and risk budget, with its layered VIX hedge. Every number is "
           "model-based; the address is a share link for this exact scenario.")

market = current_market()
snapshot = current_snapshot()
tiers = load_tiers()


#: On a phone the columns stack: the answer's column goes above the inputs', its numbers a size smaller,
#: and the eight tabs wrap onto two rows instead of running off the screen.
ANSWER_FIRST = """<style>@media (max-width: 640px) {
  [data-testid="stColumn"]:has(.st-key-b_answer) { order: -1; }
  .st-key-b_answer [data-testid="stMetricValue"] { font-size: 1.55rem; }
  .st-key-b_answer [data-testid="stMetric"] { gap: 0; }
  .st-key-b_answer [data-testid="stMetricValue"] > div { line-height: 1.25; }
  .st-key-b_answer [data-testid="stMetricDelta"] { font-size: .72rem; line-height: 1.2; }
  .st-key-b_tabs [role="tablist"] { flex-wrap: wrap; row-gap: .25rem; overflow-x: visible; }
}</style>"""

# --- inputs beside the answer: tier, budget and hedge first, the rest folded ------------------
inputs, answer = st.columns([1, 3], gap="medium")
answer = answer.container(key="b_answer")   # first on a phone (see ANSWER_FIRST)
st.html(ANSWER_FIRST)
below = st.container()      # the position's editors, under the answer
with inputs:
    tier_name = choice(st.selectbox, "Tier", "t", [t.name for t in tiers],
                       help="Seed 000's three tiers: POP target, wing width and days to expiry")
    tier = find_tier(tiers, tier_name)
    c1, c2 = st.columns(2)
    budget = account_inputs(c1, c2, st)
    scheme = choice(st.selectbox, "Hedge scheme", "h",
                    help="ALVH's three layers, or a comparator on the same budget")
    with st.expander("Condor: days, strikes, risk measure, underlying, fill", icon=":material/tune:"):
        days_choice = linked(st.select_slider, "Days to expiry", list(range(MAX_DAYS + 1)), key="d",
                             format_func=lambda d: f"tier's ({tier.days:g} d)" if d == 0 else f"{d} d",
                             help=f"The {tier.name} tier's default is {tier.days:g} days; any other value replaces it")
        selection = choice(st.radio, "Short strikes by", "sel", horizontal=True,
                           format_func=lambda s: {"pop": f"POP {tier.pop_min:.0%}–{tier.pop_max:.0%}",
                                                  "delta": f"delta {tier.short_delta:.2f}"}[s],
                           help="Place the short strikes to hit the tier's POP range or its short-strike delta")
        measure = choice(st.selectbox, "Risk measure", "m",
                         help="What one contract risks when sizing: max loss, expected loss or CVaR 95 % at expiry")
        underlying = choice(st.selectbox, "Underlying", "u",
                            help="SPX, or XSP (the mini index, one tenth the size, 1-point strikes) for smaller "
                                 "accounts; Auto trades SPX when whole SPX condors use three quarters of the budget or more")
        fill_pct = linked(st.slider, "Fill: % of the way from mid to natural", 0, 100, 50, 5, key="fs",
                          help="0 = the model mid, 100 = selling at the bid and buying at the ask (model spreads "
                               "fitted on Cboe chains). Credit, max loss, sizing and expected P/L use this fill.")
    # A popover, not an expander: its widgets are mounted in the browser only while it is open,
    # which keeps every rerun of the page (and the sliders) lighter.
    with st.popover("Hedge settings: layer split, tail layer, skew",
                    icon=":material/tune:"):
        c1, c2, c3 = st.columns(3)
        split = (linked(c1.number_input, "Base layer %", *bounds("sb"), held("sb", 40), 5, key="sb",
                        help="Share of the hedge budget in weekly ~30-delta VIX calls"),
                 linked(c2.number_input, "Adaptive layer %", *bounds("sa"), held("sa", 40), 5, key="sa",
                        help="Share in 1–3 month VIX call spreads, expanded near FOMC/CPI/PPI"),
                 linked(c3.number_input, "Tail layer %", *bounds("st"), held("st", 20), 5, key="st",
                        help="Share in deep OTM VIX calls (or SPX put butterflies), 3–6 months"))
        c1, c2, c3 = st.columns(3)
        contingent = choice(c1.radio, "Tail layer", "c", in_popover=True,
                            help="Seed 004 keeps the tail always on; seed 003 buys it only when stress fires")
        tail_instrument = choice(c2.radio, "Tail instrument", "ti", in_popover=True, help="What the tail layer buys")
        custom_pct = linked(c3.number_input, "Custom budget (% of notional)", *bounds("cb"), held("cb", 10.0), 0.5, key="cb",
                            help="Used by the Custom scheme")
        c1, c2, c3 = st.columns(3)
        event_multiplier = linked(c1.number_input, "Adaptive layer × near events", *bounds("em"), held("em", 1.5), 0.1, key="em",
                                  help="How much the adaptive layer grows within ~5 trading days of an event")
        allow_above = linked(c1.checkbox, "Let it take the hedge above the regime's band", value=held("hab", False), key="hab",
                             help="Off: near an event the total stays inside the regime's band (the multiplier is "
                                  "held down and the page says so)")
        call_skew = linked(c2.number_input, "VIX call skew (per unit log-moneyness)", *bounds("sk"),
                           held("sk", VIX_CALL_SKEW), 0.05, key="sk",
                           help=f"Fitted at {VIX_CALL_SKEW:g} on Cboe's VXTH index 2016-2026 (the slope whose VXTH "
                                "replica tracks the index closest); there are no VIX option quotes to fit it on")
        hedge_sizing, per_contract, per_max_loss = hedge_sizing_inputs(c3, declared=True)
    with st.popover("Management: target, stop, roll", icon=":material/rule:"):
        c1, c2, c3 = st.columns(3)
        m_target = linked(c1.number_input, "Profit target, % of the credit (0 = off)", *bounds("mpt"), held("mpt", 0), 5,
                          key="mpt", help="Close when the condor has made this share of its credit")
        m_stop = linked(c1.number_input, "Stop, × the credit lost (0 = off)", *bounds("msp"), held("msp", 0.0), 0.5,
                        key="msp", help="Close when the condor has lost this multiple of its credit")
        m_exit = linked(c2.number_input, "Close this many days before expiry (0 = hold)", *bounds("mxd"), held("mxd", 0), 1,
                        key="mxd", help="Gamma grows in the last days: many traders close at 7–21 days")
        m_roll = linked(c2.checkbox, "…and open the next condor that day (roll)", value=held("mrl", False), key="mrl")
        m_tested = linked(c3.number_input, "Roll the tested side within % of its short strike (0 = off)", *bounds("mtr"),
                          held("mtr", 0.0), 0.5, key="mtr",
                          help="When SPX comes this close to the short put (or call), close that side and sell it "
                               "again further out")
with answer:
    try:
        rules = ExitRules(profit_target=m_target / 100.0 or None, stop=m_stop or None, exit_days=m_exit or None,
                      roll=bool(m_roll), tested=m_tested / 100.0 or None)
    except ValueError as exc:
        st.warning(f"Management rules ignored: {exc}.")
        rules = ExitRules()

    problems = []
    if sum(split) == 0:
        problems.append("The layer split is all zero: using 40/40/20.")
        split = (40, 40, 20)
    try:
        settings = HedgeSettings(scheme=scheme, split=split, contingent=contingent, tail_instrument=tail_instrument,
                                 custom_budget_pct=custom_pct, event_multiplier=event_multiplier, call_skew=call_skew,
                                 sizing=hedge_sizing, per_contract=per_contract, per_max_loss=per_max_loss,
                                 allow_above_band=bool(allow_above))
    except ValueError as exc:
        problems.append(f"{exc}: using the default hedge settings.")
        settings = HedgeSettings(scheme=scheme)
    for problem in problems:
        st.warning(problem)


    context, report = hedge_context(market, snapshot)
    budget_pct_asked = budget.pct_of_notional
    edits = current_edits()
    target_days = float(days_choice or tier.days)
    quotes, quote_line = chain_for(market, edits.expiry or condor_expiry(market, target_days)[0].day)
    scenario = Scenario(tier=tier, budget=budget, measure=measure, selection=selection,
                        days=None if days_choice == 0 else float(days_choice), hedge=settings, underlying=underlying,
                        fill_share=fill_pct / 100.0, edits=edits, quotes=quotes)
    vol_model = market.vol_model()
    edit_problem = ""
    try:
        # The date-dependent views are drawn by the two fragments below.
        position = shared_position(market, scenario, context, current_history(), vol_model)
    except ValueError as exc:
        if not edits.any:
            st.error(f"No position for these inputs: {exc}")
            done()
        edit_problem = f"Your edits could not be used ({exc}): showing the tier's position."
        try:
            position = shared_position(market, replace(scenario, edits=PositionEdits()), context, current_history(),
                                       vol_model)
        except ValueError as exc2:
            st.error(f"No position for these inputs: {exc2}")
            done()


    rsi, breadth_falling, rsi_from, breadth_from = report.gate_readings(
        st.session_state.get("b_gate_rsi"), st.session_state.get("b_gate_breadth"))
    asked_gate = gate_on_position(position, budget.pct_of_notional, context.regime.name, rsi, breadth_falling)
    gate = asked_gate.gate
    override = False
    if gate.holds_back:
        override = linked(st.checkbox, f"Size at my {budget.pct_of_notional:.2f} % anyway (above the 2 % gate's "
                          f"{gate.allowed_pct:g} %)", key="gov",
                          help="The method sizes at 1 % unless all four checks of the 2 % gate pass, and never above 2 %")
        if override:
            st.warning(f"Sized at your {budget.pct_of_notional:.2f} % of notional, above the {gate.allowed_pct:g} % the "
                       "2 % gate allows today: your override (it is in the link).")
        else:
            why = gate.why()
            capped = gate.budget(budget)
            try:
                position = shared_position(market, replace(scenario, budget=capped,
                                                           edits=scenario.edits if not edit_problem else PositionEdits()),
                                           context, current_history(), vol_model)
                budget = capped
                st.info(f"Sized at {gate.allowed_pct:g} % of notional, not the {budget_pct_asked:.2f} % asked: {why} "
                        "(see the 2 % gate tab).")
            except ValueError as exc:
                if not scenario.edits.any or edit_problem:
                    st.error(f"No position at the gate's {gate.allowed_pct:g} %: {exc}")
                    done()
                # The edits build at the size asked but not at the gate's: the tier's position at the gate's size,
                # one message saying what was refused and what would build it, and the way back.
                ways = [f"size at your {budget_pct_asked:.2f} % anyway (the box above)"]
                if underlying != position.condor.underlying:
                    ways.insert(0, f"choose {position.condor.underlying} as the underlying")
                try:
                    position = shared_position(market, replace(scenario, budget=capped, edits=PositionEdits()), context,
                                               current_history(), vol_model)
                except ValueError as exc2:
                    st.error(f"No position at the gate's {gate.allowed_pct:g} %: {exc2}")
                    done()
                budget = capped
                edit_problem = (f"Your edits could not be built at the gate's {gate.allowed_pct:g} % ({exc}); showing "
                                f"the tier's position at {gate.allowed_pct:g} %. To build them: {' or '.join(ways)}.")
    else:
        keep_in_link("gov", False)
    with below:
        position_panel(position, market, vol_model, edit_problem, quote_line)

    plan, hedge, condor = position.plan, position.hedge, position.condor
    metrics, chosen = plan.metrics, plan.chosen
    n = chosen.contracts

    # --- headline numbers -------------------------------------------------------------------------
    # A wrapping row of fixed-width numbers: four or five across beside the inputs, two across on a phone.
    grid = st.container(horizontal=True, gap="small")
    metric = partial(grid.metric, width=156)
    metric("Credit / contract", money(metrics.credit),
                   help=f"At your fill, {fill_pct} % of the way from mid to natural (model spreads fitted on Cboe "
                        f"chains): model mid {money(metrics.credit_mid)}, natural {money(metrics.credit_natural)}. "
                        "Dollars per condor.")
    metric("Max loss / contract", money(metrics.max_loss),
           delta=f"Reg-T: {metrics.return_on_reg_t:.1%} on it", delta_color="off", delta_arrow="off",
           help=f"Widest wing less the credit at your fill. A broker holds Reg-T margin: the wider side's width "
                f"less the credit, {money(metrics.reg_t)} a condor (for an iron condor, its max loss; "
                f"{money(metrics.reg_t * n)} for the position); the credit is {metrics.return_on_reg_t:.1%} of it.")
    metric("POP (risk-neutral)", f"{metrics.pop:.1%}", help=metrics.distribution)
    if plan.empirical_metrics is not None:
        metric("POP (empirical)", f"{plan.empirical_metrics.pop:.1%}", help=plan.empirical_metrics.distribution)
    else:
        metric("POP (empirical)", "n/a", help=f"Empirical POP {plan.empirical_note}")
    metric(f"Contracts ({condor.underlying})", f"{n:,}",
                   help=f"Sized by {MEASURE_LABELS[measure]}: floor({money(budget.amount)} / "
                        f"{money(chosen.risk_per_contract)} per contract)")
    metric("Position max loss", money(chosen.position_max_loss),
                   help=f"{chosen.position_max_loss / budget.notional:.1%} of notional")
    metric("Regime", f"{context.regime.name}", help=f"VIX {market.vix:.2f}; stress score {context.stress_score:.2f}")
    hm = position.metrics
    metric("Hedge budget", f"{hedge.budget_pct:.1f} %",
           help=f"{SCHEME_LABELS[hedge.scheme]}: {hedge.budget_pct:.1f} % of {money(hedge.sized_on)}, "
                + ("the strategy notional (seed 001's rule)" if hedge.sizing == "notional" else
                   "20 × the position's max loss (the notional it stands for at seed 001's $100,000 for $5,000)"
                   if hedge.sizing == "max_loss" else "the notional sized per condor contract"))
    metric("VIX notional", money(hedge.total_vix_notional), delta=f"{hm.vix_notional_per_max_loss:.1f}× max loss",
           delta_color="off", delta_arrow="off",
           help=f"target {money(hedge.target_vix_notional)}; contracts × 100 × the VIX future of each expiry; "
                f"{hm.vix_notional_per_max_loss:.2f}× the position's max loss ({money(chosen.position_max_loss)})")
    over = hm.premium_over_credit
    metric("Hedge premium", money(hedge.total_cost),
           delta=f"{hm.cost_pct_of_credit / 100:.2f}× the credit", delta_color="inverse" if over else "off",
           delta_arrow="up" if over else "off",
           help=f"Paid today for all active layers (model): {hm.cost_pct_of_credit:.0f} % of the position's credit; "
                f"a year of carry {money(hm.cost_per_year)} is {hm.carry_pct_of_credit:.0f} % of a year of credit")
    short = position.book_risk[5]
    metric("Book CVaR, 5 d", money(short.cvar95),
                   delta=(f"{-100 * short.cvar_reduction:+.0f} % vs condor" if round(100 * short.cvar_reduction)
                          else "the condor's"), delta_color="inverse" if round(100 * short.cvar_reduction) else "off",
                   delta_arrow="auto" if round(100 * short.cvar_reduction) else "off",
                   help="Mean loss of the worst 5 % of outcomes of the whole book (condor + hedge) marked 5 trading "
                        "days out, SPX from the model smile's density and VIX from the spot–vol link with its band. "
                        f"Condor alone: {money(short.condor_cvar95)}. Model-based.")
    metric("Breakeven VIX", "n/a" if position.metrics.breakeven_vix is None else
                   f"{position.metrics.breakeven_vix:.1f}",
                   help=f"The hedge's breakeven: spot VIX on the condor's expiry day ({condor.days:.3g} days) at which the "
                        "hedge layers' P/L "
                        "reaches zero, SPX unchanged (model)")
    chart_slot = st.container()   # the payoff chart, right under the numbers (drawn by its fragment below)
    if condor.expiry is not None:
        e = condor.expiry
        st.caption(f"**{e.root} {e.day:%a %d %b %Y}** ({e.cycle}, {e.settlement}-settled), {condor.days:.3g} days: "
                   + " / ".join(f"{condor.quoted(leg.strike):g}" for leg in condor.legs)
                   + f" {condor.underlying}. Fill {money(metrics.credit)} of a {money(metrics.credit_mid)} mid "
                   f"(natural {money(metrics.credit_natural)}). 1-day book CVaR {money(position.book_risk[1].cvar95)}; "
                   f"5-day P/L when SPX falls most (worst 5 %): {money(short.worst_down_pl)}.")
    for note in hedge.notes:
        if note.startswith(("Event multiplier", "Near the event", "The budget buys no condor")):
            st.info(note)
    if hm.contracts_note:
        st.info(hm.contracts_note, icon=":material/pie_chart:")
    for warning in hm.cost_warnings():
        st.warning(warning + " The hedge costs more than the condor earns.", icon=":material/money_off:")
    if chosen.note:
        st.warning(chosen.note)
    elif chosen.position_max_loss > 2 * budget.amount:
        st.info(f"Sized by {MEASURE_LABELS[measure]}, the position can still lose {money(chosen.position_max_loss)} at "
                f"worst, {chosen.position_max_loss / budget.amount:.1f}× the risk budget.")

    numbers_first()


def _greek(value: float, decimals: int = 2) -> str:
    """A greek as the table shows it: fixed decimals, no minus zero."""
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text.replace("-", "−")


def _days_slider_top(key: str, what: str) -> int:
    """The last day a date slider can show (the condor's expiry); a value past
    it (an old link, a shorter tier chosen since) is brought back with a note."""
    top = max(int(condor.days), 1)
    value = st.session_state.get(key, 0)
    if isinstance(value, int | float) and value > top:
        st.session_state[key] = top
        st.info(f"The {what} ({value:g} days) was past the condor's expiry: showing day {top}.")
    return top


def _day_ticks(top: int) -> list[str]:
    """The date sliders' labels: each whole day from today to ``top`` with its date."""
    today = market_date(market)
    return ["today" if d == 0 else f"T+{d} · {today + timedelta(days=d):%a %d %b}" for d in range(top + 1)]


def _date_views(top: int, with_curves: bool, with_scenarios: bool):
    """Every day's views for the date sliders, computed once per position for the whole server."""
    from alvh_core.strategy.position import date_views

    return shared("date views", (id(position), top, with_curves, with_scenarios),
                  lambda: date_views(plan, hedge, market, vol_model, top, position.at_expiry.spx, with_curves,
                                     with_scenarios), held=(position,))


@st.fragment
def payoff_section() -> None:
    """The payoff chart and, under it, its horizon slider (moved in the browser) and the extra dates."""
    chart = st.container()
    top = _days_slider_top("hz", "horizon")
    views = _date_views(top, True, False)
    horizon = day_value("hz", top)
    today = market_date(market)
    chosen = [int(d) for d in st.session_state.get("hzl", []) if isinstance(d, int | float)]
    if any(d >= condor.days for d in chosen):
        st.info("Dates on or past the condor's expiry were taken off the chart (its solid lines are the expiry).")
        st.session_state["hzl"] = [d for d in chosen if d < condor.days]
    ticks = _day_ticks(top)
    marks = _rule_marks_by_day(top)
    date_slider("hz", "Horizon: the dotted line's date (the solid lines are at expiry)", ticks, ["b_payoff_chart"],
                redraw=marks is not None)   # the management marks move with the date: a redraw
    offered = sorted({int(d) for d in pnl_dates(condor, asof=today)[:-1]} | set(st.session_state.get("hzl", [])))
    more = linked(st.multiselect, "More dates on the chart (a line each)", offered, key="hzl",
                  format_func=lambda d: f"{today + timedelta(days=int(d)):%a %d %b} (T+{int(d)})",
                  help="The combined position on each chosen date, as the P/L table's columns")
    dated = [(f"{today + timedelta(days=int(d)):%a %d %b}",
              payoff_curves(condor, max(n, 1), hedge, market, vol_model, position.at_expiry.spx, float(d)))
             for d in sorted(more)]
    # Short enough for a phone's width; the dotted line is named in the legend.
    sized = f"{n} condor{'s' if n != 1 else ''}" if n else "1 condor (budget: none)"
    title = f"P/L at expiry ({condor.days:.3g} d): {sized} + hedge"
    figure = combined_payoff_figure(position.at_expiry, condor, metrics, title, views[horizon].curves, dated,
                                    marks[horizon] if marks else ())
    frames = shared("payoff frames", (id(position), top, rules, n),
                    lambda: payoff_day_frames(figure, condor, metrics, [v.days for v in views],
                                              [v.curves.combined for v in views], marks), held=(position,))
    band = position.at_expiry
    chart.plotly_chart(with_day_frames(figure, frames, also=(band.condor + band.hedge_p10, band.condor + band.hedge_p90)),
                       key="b_payoff_chart")
    if rules.active:
        close = (f" Close{' and roll' if rules.roll else ''} on "
                 f"{exit_day(condor, today, rules.exit_days):%a %d %b}." if rules.exit_days else "")
        st.caption("Management marks on the horizon's date: the SPX levels where the target, stop and roll rules "
                   "fire on the condor's own P/L (the Management tab lists every date)." + close)
    redraw_share_box()   # the extra dates are in the link too


def _rule_marks_by_day(top: int) -> list | None:
    """The management rules' trigger levels on each day from today to ``top``, as chart marks (None
    without rules)."""
    if not rules.active:
        return None
    return shared("rule marks", (id(position), top, rules), lambda: _marks_of_days(top), held=(position,))


def _marks_of_days(top: int) -> list:
    rows = {row.days: row for row in trigger_levels(condor, market, vol_model, list(range(top + 1)), rules)}
    out = []
    for day in range(top + 1):
        row = rows.get(float(day))
        marks = []
        if row is not None:
            for x, color, dash, name in ((row.target_low, COMBINED_COLOR, "dash", "target"),
                                         (row.target_high, COMBINED_COLOR, "dash", "target"),
                                         (row.stop_low, LOSS_COLOR, "dot", "stop"),
                                         (row.stop_high, LOSS_COLOR, "dot", "stop"),
                                         (row.tested_put, CONDOR_COLOR, "dashdot", "roll put"),
                                         (row.tested_call, CONDOR_COLOR, "dashdot", "roll call")):
                if x is not None:
                    marks.append((x, color, dash, name))
        out.append(marks)
    return out


STRESS_COLUMNS = ["SPX move", "VIX", "Condor", "Hedge", "Combined", "VIX p10–p90", "Combined p10 / p90"]


def _stress_rows(view) -> list[list[str]]:
    return [[f"{100 * r.move:+.0f} %".replace("-", "−"), f"{r.vix:.1f}", money(r.condor), money(r.hedge),
             money(r.combined), f"{r.vix_p10:.0f}–{r.vix_p90:.0f}",
             f"{money(r.combined_p10)} / {money(r.combined_p90)}"] for r in view.stress]


@st.fragment
def scenario_section() -> None:
    """SPX × VIX heat map, the layers against VIX and the stress table at one
    date, with its own date slider (moved in the browser)."""
    top = _days_slider_top("sd", "scenario date")
    views = _date_views(top, False, True)
    days = day_value("sd", top)
    view = views[days]
    heat_col, layer_col = st.columns([1.3, 1])
    scale = heat_scale([v.heat for v in views])
    heat_frames = shared("heat frames", (id(position), top), lambda: heat_day_frames([v.heat for v in views], scale),
                         held=(position,))
    figures = ["b_heat_chart"]
    with heat_col:
        heat_box = st.container()
        surface = st.toggle("Show as a 3-D surface", key="b_surface")
        if surface:
            st.plotly_chart(with_day_frames(surface_figure(view.heat), heat_frames), key="b_surface_chart")
            figures.append("b_surface_chart")
        heat_box.plotly_chart(with_day_frames(heat_map_figure(view.heat, scale), heat_frames), key="b_heat_chart")
    with layer_col:
        if view.layer_pnl:
            layer_frames = shared("layer frames", (id(position), top), lambda: layers_day_frames(views),
                                  held=(position,))
            st.plotly_chart(with_day_frames(layers_vs_vix_figure(view.layer_vix_levels, view.layer_pnl, market.vix,
                                                                 view.days), layer_frames), key="b_layers_chart")
            figures.append("b_layers_chart")
        else:
            st.info("No active hedge layer: nothing to draw against VIX.")
    rows = shared("stress rows", (id(position), top), lambda: [_stress_rows(v) for v in views], held=(position,))
    date_slider("sd", "Scenario date: the heat map, the layers and the stress table on this day", _day_ticks(top),
                figures, columns=STRESS_COLUMNS, rows=rows,
                captions=[f"Stress scenarios {'over 1 day' if d == 0 else f'after {d} day' + ('s' if d != 1 else '')}"
                          ": the SPX move with the VIX response of the spot–vol link from today's VIX (median; "
                          "p10–p90 band beside it, with the book's P/L at each edge). Model-based."
                          for d in range(top + 1)])
    episodes = shared("episodes", (id(position),),
                      lambda: episode_rows(condor, max(n, 1), hedge, market, vol_model), held=(position,))
    st.markdown("**Real falls on this book**")
    notice = outside_fit_notice(market.vix)
    if notice:
        st.info(notice, icon=":material/warning:")

    def _clip(level: float, clipped: bool) -> str:
        bound = "cap" if level >= 100 else "floor"
        return f"VIX {level:.1f}, clipped at the {bound}" if clipped else f"VIX {level:.1f}"

    st.table(pd.DataFrame([{
        "Episode": f"{e.episode.label}",
        "SPX": f"{100 * e.episode.spx_move:+.1f} % in {e.episode.trading_days} d".replace("-", "−"),
        "Combined, VIX from today (link)": f"{money(e.model.combined)} ({_clip(e.model_vix, e.model_clipped)})",
        "VIX then (link from its start)": f"{e.episode.vix_start:.1f} → {e.episode.vix_end:.1f} "
                                          f"({e.model_vix_then:.1f})",
        "Combined, today's VIX × the episode's ratio": f"{money(e.actual.combined)} "
                                                       f"({_clip(e.vix_as_then, e.as_then_clipped)})",
    } for e in episodes]).set_index("Episode"))
    st.caption("Each real fall replayed on today's book: SPX moves as it did, marked after the episode's length "
               "(at most the condor's expiry). First, VIX moves from today's level by the fitted spot–vol link for "
               "that SPX move (its median; the link depends on where VIX starts). Beside it, the episode's own "
               "path: the real VIX at its start and end (in brackets what the link said from its start), and "
               "today's VIX times the ratio VIX moved then, a path that ignores where VIX starts; a value past "
               "5 or 150 is held there and marked clipped. Closes from Cboe and S&P history; P/L model-based.")

# Static notes sit outside the fragments: each element a fragment re-sends costs the browser a
# render pass of the whole page.
with chart_slot:
    payoff_section()
with answer:
    st.caption("Hedge on the SPX axis through the fitted spot–vol link: each SPX level maps to a VIX level (median), "
               "the green band is the combined P/L at the 10th–90th percentile VIX response. VIX futures move by "
               "their tenor beta. Shaded: the ±1σ and ±2σ expected moves. Model-based.")
st.subheader("Scenarios: SPX and VIX moving apart")
scenario_section()

# Only the open tab is computed and sent (a rerun on switching): the page stays light, which keeps
# the sliders above quick.  The gate's own inputs keep their values while their tab is closed.
for _key in ("b_gate_rsi", "b_gate_breadth"):
    if _key in st.session_state:
        st.session_state[_key] = st.session_state[_key]
tabs_box = st.container(key="b_tabs")
hedge_tab, legs_tab, time_tab, manage_tab, metrics_tab, sizing_tab, gate_tab, scale_tab = tabs_box.tabs(
    ["Hedge layers", "Legs (trade ticket)", "P/L over time", "Management", "Metrics & greeks", "Sizing by measure",
     "2 % gate", "Scale & slippage"],
    key="b_tab", on_change="rerun")


def _pnl_color(value: float, scale: float) -> str:
    """Green for a gain, red for a loss, stronger with size (text stays readable on both themes)."""
    if not np.isfinite(value) or scale <= 0:
        return ""
    alpha = 0.12 + 0.55 * min(abs(value) / scale, 1.0)
    return f"background-color: rgba({'16,185,129' if value >= 0 else '239,68,68'},{alpha:.2f})"


if time_tab.open:
    with time_tab:
        table = pnl_table(condor, max(n, 1), hedge, market, vol_model, asof=market_date(market))
        frame = table.frame(market.asof or None)
        scale = float(np.nanmax(np.abs(table.combined))) if table.combined.size else 0.0
        dates = [c for c in frame.columns if c != "SPX"]
        styled = (frame.style.map(lambda v: _pnl_color(v, scale), subset=dates)
                  .format({c: lambda v: money(v) for c in dates} | {"SPX": "{:,.0f}"}))
        st.dataframe(styled, hide_index=True, key="b_pnl_table", height=36 * (len(frame) + 1) + 3)
        st.caption(f"Condor + hedge, whole position ({max(n, 1)} {condor.underlying} contract"
                   f"{'s' if max(n, 1) != 1 else ''}), dollars; each column a date to the condor's expiry, each row an "
                   "SPX level; VIX at the fitted spot–vol link's median for that move by that date; the last column "
                   "is the condor's payoff at expiry with the hedge marked then. Model-based.")
        csv = frame.copy()
        st.download_button("P/L table (CSV)", csv.to_csv(index=False), "pnl_over_time.csv", "text/csv",
                           key="b_pnl_csv")
        greeks = book_greeks(condor, max(n, 1), hedge, market, vol_model, table.days)
        book = pd.DataFrame(greeks, index=list(BOOK_GREEK_ROWS), columns=dates).reset_index(names="Book greek")
        st.markdown("**The book's greeks over the same dates**, in SPX terms")
        st.dataframe(book.style.format({c: lambda v: "—" if not np.isfinite(v) else _greek(v, 3 if abs(v) < 1 else 0)
                                        for c in dates}), hide_index=True, key="b_book_greeks")
        st.caption("SPX where it is today, VIX at the link's median for no move on each date. Along the link, SPX "
                   "moves ±0.5 % and VIX with it as the fitted spot–vol link's median says: the VIX legs' vega "
                   "arrives in SPX points (the hedge's row). Vega: spot VIX one point up (the condor's smile "
                   "scales with it, VIX futures by their tenor beta). Theta: one calendar day, SPX and VIX held. "
                   "Model-based.")

if hedge_tab.open:
    with hedge_tab:
        if hedge.layers:
            st.table(pd.DataFrame([{   # a table, not a grid: the status notes wrap instead of being cut off
                "Layer": layer.name, "Instrument": layer.instrument, "Roll": layer.roll,
                "Contracts": layer.contracts, "Exact (before rounding)": f"{layer.exact_contracts:.2f}",
                "VIX notional": money(layer.vix_notional), "Target notional": money(layer.target_vix_notional),
                "Premium": money(layer.cost), "Status": ("active" if layer.active else "waiting")
                + (f" — {layer.note}" if layer.note else ""),
            } for layer in hedge.layers]).set_index("Layer"))
        for note in hedge.notes:
            st.caption(note)
        hm = position.metrics
        st.dataframe(pd.DataFrame([
            ("Premium today", money(hm.premium)),
            ("Carry per roll (model)", money(hm.cost_per_roll)),
            ("Carry per year (model)", money(hm.cost_per_year)),
            ("Premium as % of the condor credit", f"{hm.cost_pct_of_credit:.1f} %"),
            ("Yearly carry as % of yearly condor credit", f"{hm.carry_pct_of_credit:.1f} %"),
            ("Hedge P/L per $ of premium, SPX −10 % in a week", f"{hm.spike_payoff_per_dollar:.2f}"),
            ("Expected P/L at expiry: condor alone → with hedge", f"{money(position.book.expected_pl_condor)} → "
                                                                  f"{money(position.book.expected_pl_combined)}"),
            ("Worst case at expiry: condor alone → with hedge", f"{money(-position.book.worst_condor)} → "
                                                                f"{money(-position.book.worst_combined)}"),
        ], columns=["Hedge metric", "Value"]), hide_index=True)
        st.caption("VIX options are priced with Black-76 on the model VIX futures (never on spot VIX); the ATM vol is "
                   f"the one VVIX implies through the smile, decaying as (days/30)^−{VIX_VOL_DECAY:g} (fitted on VX1/VX2 "
                   "realized vols), with the call skew above (fitted on Cboe's VXTH index). Model-based.")

if legs_tab.open:
    with legs_tab:
        ticket = pd.DataFrame(ticket_rows(position))
        st.dataframe(ticket, hide_index=True, key="b_ticket")
        c1, c2 = st.columns(2)
        c1.download_button("Ticket (CSV)", ticket.to_csv(index=False).encode(), file_name="alvh_ticket.csv",
                           mime="text/csv", key="b_legs_csv", icon=":material/download:")
        with c2:
            scenario_files(position)
        st.caption("Roots and settlement: SPX monthlies settle A.M. on the opening prints (last trade the day "
                   "before), SPXW and XSP P.M. at the close, VIX options A.M. on the special opening quotation of "
                   "their expiry day (a Wednesday, a Tuesday before a holiday). Net limit: the condor at your fill "
                   "(credit); each hedge layer per structure at model mid (debit). Quantities are the whole "
                   "position.")
        if position.quoted is not None:
            q = position.quoted
            st.markdown(f"**Model against market** — {plain(q.source)}")
            st.dataframe(pd.DataFrame([{
                "Leg": f"{'Buy' if x.side > 0 else 'Sell'} {x.root} {x.strike:g} {x.kind}",
                "Bid": x.bid, "Ask": x.ask, "Mid": round(x.mid, 3), "Model": round(x.model_price, 2),
                "Model − mid (pts)": round(x.model_minus_market, 2), "Market IV %": round(100 * x.market_iv, 2),
                "Model IV %": round(100 * x.model_iv, 2), "Model − market (vol pts)": round(x.vol_points, 2),
            } for x in q.legs]), hide_index=True, key="b_model_vs_market")
            st.caption(f"Condor credit: chain mid {q.mid_credit:.2f}, chain natural {q.natural_credit:.2f}, model mid "
                       f"{-sum(x.side * x.model_price for x in q.legs):.2f} points. Market IV is implied from the chain's "
                       "mid on the same forward and rate as the model. The legs keep their market vols when marked "
                       "later (the smile moves as the model's does). VIX legs: model (no VIX quotes).")
        else:
            st.caption(plain("Prices are model mids: " + (position.quote_note or "no chain of the market's day") + "."))

if metrics_tab.open:
    with metrics_tab:
        low, high = metrics.breakevens
        st.dataframe(pd.DataFrame([
            ("Credit", money(metrics.credit, 2)), ("Max profit", money(metrics.max_profit, 2)),
            ("Max loss", money(metrics.max_loss, 2)), ("Breakevens", f"{low:,.1f} / {high:,.1f}"),
            ("Touch short put", f"{metrics.touch_short_put:.1%}"), ("Touch short call", f"{metrics.touch_short_call:.1%}"),
            ("Expected move ±1σ / ±2σ", f"{metrics.expected_move_1sd:,.0f} / {metrics.expected_move_2sd:,.0f} pts"),
            ("ATM vol at tenor (model)", f"{condor.atm_vol:.2%}"),
        ], columns=["Per condor contract", "Value"]), hide_index=True)
        conventions = {"Lognormal (risk-neutral)": metrics}
        if plan.empirical_metrics is not None:
            conventions["Empirical (VIX-scaled history)"] = plan.empirical_metrics
        st.dataframe(pd.DataFrame({name: {"POP": f"{m.pop:.1%}", "Expected P/L": money(m.expected_pl),
                                          "Expected loss": money(m.expected_loss), "CVaR 95 %": money(m.cvar95)}
                                   for name, m in conventions.items()}))
        for m in conventions.values():
            st.caption(f"{m.convention}: {m.distribution}")
        if plan.empirical_metrics is None:
            st.caption(f"Empirical view {plan.empirical_note}: load live data or files in the sidebar.")
        g = metrics.greeks
        hedge_greeks = {k: sum(100 * layer.contracts * leg.signed_quantity * getattr(leg, k)
                               for layer in hedge.active_layers for leg in layer.legs if leg.underlying == "VIX")
                        for k in ("delta", "vega", "theta")}
        position_greeks = (n * g["delta"], n * g["gamma"], n * g["vega"], n * g["theta"] + hedge_greeks["theta"],
                           hedge_greeks["delta"], hedge_greeks["vega"], hedge_greeks["theta"])
        st.dataframe(pd.DataFrame({
            "Greek": ["Delta ($ per SPX point)", "Gamma ($ per point²)", "Vega ($ per SPX vol point)", "Theta ($ per day)",
                      "Hedge delta ($ per VIX-future point)", "Hedge vega ($ per VIX-option vol point)",
                      "Hedge theta ($ per day)"],
            "Per condor": [_greek(g["delta"]), _greek(g["gamma"], 4), _greek(g["vega"]), _greek(g["theta"]),
                           "—", "—", "—"],
            f"Position ({n} condor{'s' if n != 1 else ''} + hedge)": [
                _greek(value, 4 if i == 1 else 2) for i, value in enumerate(position_greeks)],
        }), hide_index=True)
        st.caption("Position theta includes the hedge's; the hedge rows are the VIX legs alone. Model-based.")

if sizing_tab.open:
    with sizing_tab:
        st.dataframe(pd.DataFrame([{
            "Measure": MEASURE_LABELS[m], "Risk per contract": money(s.risk_per_contract), "Contracts": s.contracts,
            "Position max loss": money(s.position_max_loss), "Position credit": money(s.position_credit),
        } for m, s in plan.sizing.items()]), hide_index=True)
        st.caption(f"Budget {money(budget.amount)} ({budget.pct_of_notional:.2f} % of {money(budget.notional)}). "
                   "Contracts = floor(budget / risk per contract).")

if gate_tab.open:
    with gate_tab:
        st.write("Risk above 1 % (up to 2 %) per trade is unlocked only when all four checks pass; the headline "
                 "size follows the gate unless you override it above.")
        c1, c2 = st.columns(2)
        if rsi_from == "history":
            c1.write(f"RSI(14) of VIX from history: **{rsi:.1f}**")
        else:
            c1.number_input("RSI(14) of VIX (no history: type today's reading)", 0.0, 100.0, None, 1.0,
                            key="b_gate_rsi", placeholder="unknown",
                            help="Left empty, the check is unknown and the size stays at 1 %")
        breadth_reading = next((s for s in report.signals if s.key == "breadth"), None)
        if breadth_from == "history":
            c2.write(f"Breadth proxy RSP/SPY 20-day change: **{breadth_reading.value:+.2%}**")
        else:
            c2.radio("Breadth proxy (RSP/SPY), no data: your call", [None, False, True], key="b_gate_breadth",
                     horizontal=True, format_func=lambda v: {None: "unknown", False: "not falling", True: "falling"}[v],
                     help="Unknown keeps the size at 1 % until you say")
        gate_checklist(gate)
        st.caption(f"Expected P/L after hedge cost = condor expected P/L ({money(asked_gate.condor_pl)}, "
                   f"{'empirical' if plan.empirical_metrics else 'lognormal'}) − hedge carry over the condor's "
                   f"{condor.days:.3g} days ({money(asked_gate.hedge_drag)}), at the size asked.")
        if budget_pct_asked > 2.0:
            st.warning(f"Requested {budget_pct_asked:.2f} %: the method never allows more than 2 %.")
        elif budget_pct_asked > 1.0 and not gate.unlocked:
            st.warning(f"Requested {budget_pct_asked:.2f} % but the gate is "
                       f"{'closed' if gate.failed else 'not open until every check is known'}: the method allows 1 %.")
        else:
            st.success(f"Allowed risk: {gate.allowed_pct:.2f} % of notional.")

def _shape_problem(shape) -> str:
    """Why a structure cannot be backtested ("" when it can)."""
    from alvh_core.history.backtest import check_shape

    try:
        check_shape(shape)
    except ValueError as exc:
        return f"It cannot be backtested: {exc}."
    return ""


def _to_backtest(shape, days: int) -> None:
    """The Backtest page with this structure, the rules, the fill, the budget and the hedge."""
    from alvh_core.history.backtest import shape_text
    from alvh_core.strategy.hedge import BACKTEST_SCHEMES

    # The account (notional, budget, hedge sizing) is the session's: the Backtest page reads it as it is.
    params = {"bst": "weekly", "btr": tier.name, "bshp": shape_text(shape, days), "bfs": str(fill_pct),
              "brk": f"{min(budget.pct_of_notional, 100.0):g}"}
    if scheme in BACKTEST_SCHEMES and scheme != "none":
        params["bh"] = f"none,{scheme}"
    if rules.profit_target:
        params["bpt"] = str(int(round(rules.profit_target * 100)))
    if rules.stop:
        params["bsp"] = f"{rules.stop:g}"
    if rules.exit_days:
        params["bxd"] = str(rules.exit_days)
        if rules.roll:
            params["brl"] = "true"
    st.switch_page("app_pages/backtest.py", query_params=params)


def _level(x: float | None, prefix: str = "") -> str:
    return "—" if x is None else f"{prefix}{x:,.0f}"


if manage_tab.open:
    with manage_tab:
        today = market_date(market)
        if not rules.active:
            st.info("No rules set: the condor is held to expiry. Set a profit target, a stop, a close before expiry "
                    "or a tested-side roll under \"Management\" above.")
        else:
            days = pnl_dates(condor, asof=today)[:-1]
            rows = trigger_levels(condor, market, vol_model, days, rules)
            credit = metrics.credit
            st.dataframe(pd.DataFrame([{
                "Date": f"{today + timedelta(days=int(r.days)):%a %d %b}",
                "Target: SPX between": (f"{r.target_low:,.0f}–{r.target_high:,.0f}" if r.target_low is not None
                                        else ("not reachable" if rules.profit_target else "—")),
                "Stop: SPX at or below": _level(r.stop_low), "Stop: SPX at or above": _level(r.stop_high),
                "Put side tested at SPX ≤": _level(r.tested_put),
                "Condor P/L there": "—" if r.pl_tested_put is None else money(n * r.pl_tested_put),
                "Call side tested at SPX ≥": _level(r.tested_call),
                "Condor P/L there ": "—" if r.pl_tested_call is None else money(n * r.pl_tested_call),
            } for r in rows]), hide_index=True, key="b_triggers")
            parts = []
            if rules.profit_target:
                parts.append(f"take profit at {rules.profit_target:.0%} of the {money(credit)} credit "
                             f"(+{money(rules.profit_target * credit)} a contract)")
            if rules.stop:
                parts.append(f"stop at a loss of {rules.stop:g}× the credit (−{money(rules.stop * credit)} a contract)")
            if rules.exit_days:
                close_day = exit_day(condor, today, rules.exit_days)
                parts.append(f"close {rules.exit_days} days before expiry, on {close_day:%a %d %b %Y}"
                             + (" and open the next condor that day" if rules.roll else ""))
            if rules.tested:
                parts.append(f"roll a side when SPX comes within {rules.tested:.1%} of its short strike")
            st.caption("Rules: " + "; ".join(parts) + ". Levels on the condor's own P/L (as the backtester manages "
                       "it), marked with the smile moving with SPX and VIX at the spot–vol link's median. Model-based.")
        shape = (round(abs(condor.short_put.delta), 3), round(abs(condor.short_call.delta), 3),
                 round(100 * condor.put_width / market.spot, 2), round(100 * condor.call_width / market.spot, 2))
        c1, c2 = st.columns([1, 2])
        if c1.button("Backtest this structure, entered every week", key="b_to_backtest", icon=":material/history:",
                     disabled=bool(_shape_problem(shape)),
                     help="Opens the Backtest page with this condor's short-strike deltas, wing widths (as % of "
                          "spot) and days to expiry, your rules, fill, budget and hedge"):
            _to_backtest(shape, max(int(round(condor.days)), 1))
        c2.caption(f"The structure: short put {shape[0]:.2f} delta, short call {shape[1]:.2f} delta, wings "
                   f"{shape[2]:g} % and {shape[3]:g} % of spot, {condor.days:.0f} days; entered on the first session "
                   "of every week on the history. "
                   + ("Rolling the tested side is not in the backtester: it runs the other rules." if rules.tested
                      else "") + (f" {_shape_problem(shape)}" if _shape_problem(shape) else ""))
        st.markdown("**The hedge's roll calendar** to the condor's expiry")
        horizon_day = condor.expiry.day if condor.expiry is not None else today + timedelta(days=int(condor.days))
        calendar = roll_calendar(hedge, market, today, horizon_day)
        if calendar:
            st.dataframe(pd.DataFrame([{
                "Layer": c.name, "Roll": c.roll, "Option expires": c.expiry,
                "Roll dates": ", ".join(f"{d:%d %b}" for d in c.dates) or ("held to expiry" if c.roll == "held"
                                                                          else "none before the condor's expiry"),
                "Expected cost per roll (model)": money(c.cost_per_roll),
                "Cost to the condor's expiry": money(c.cost_to_horizon),
            } for c in calendar]), hide_index=True, key="b_rolls")
            st.caption("Roll dates: the first session of each week (Base), month (Adaptive) or quarter (Tail), as "
                       "the backtester rolls, and the day an option expires when that comes first. Cost per roll: "
                       "the value a layer loses over one roll period with the market unchanged (its carry); your "
                       "own legs are held, their cost is what they lose to their expiry. Model-based.")
        else:
            st.caption("No active hedge layer: nothing to roll.")

if scale_tab.open:
    with scale_tab:
        table = scale_table(metrics, market.vix, size=condor.size)
        st.plotly_chart(scale_figure(table), key="b_scale_chart")
        st.caption(f"Slippage with size, on top of your fill: half-spread per leg = {SPX_MEDIAN_HALF_SPREAD:.2f} pts × "
                   f"(VIX / {HALF_SPREAD_REFERENCE_VIX:.2f}) × "
                   f"(1 + √(contracts / {SLIPPAGE_DEPTH:,.0f})), the square-root law of market impact, of which the "
                   f"part beyond the fill is added at entry. {SPX_MEDIAN_HALF_SPREAD:.2f} pts is the median half-spread "
                   "of 5–50-delta SPX "
                   f"options on the calibration chains; {SLIPPAGE_DEPTH:,.0f} contracts the median day's volume of "
                   "one side of one expiry's 5–50-delta options there (XSP: a tenth in dollars). Worst case adds "
                   "closing at twice today's VIX. Model-based.")
