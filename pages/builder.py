"""Builder: the tier's iron condor for the sidebar's market, sized to a budget."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from alvh_core.condor import SELECTIONS
from alvh_core.figures import condor_payoff_figure, payoff_grid, scale_figure
from alvh_core.plan import plan_condor, value_at_horizon
from alvh_core.regime import classify_regime
from alvh_core.sizing import MEASURE_LABELS, MEASURES, RiskBudget, scale_table, two_percent_gate
from alvh_core.tiers import load_tiers
from pages.common import current_history, current_market, ensure_router, money

ensure_router()

st.title("Builder")
st.caption("An SPX iron condor for your tier and risk budget, priced with the VIX-based vol model "
           "(model-based: the vol model is calibrated on real Cboe chains, see the Method notes below).")

market = current_market()
tiers = load_tiers()
tier_names = [t.name for t in tiers]

with st.container(border=True):
    c1, c2, c3, c4 = st.columns(4)
    tier_name = c1.selectbox("Tier", tier_names, key="b_tier")
    tier = tiers[tier_names.index(tier_name)]
    selection = c2.radio("Short strikes by", SELECTIONS, key="b_sel", horizontal=True,
                         format_func=lambda s: {"pop": f"POP target {tier.pop_min:.0%}–{tier.pop_max:.0%}",
                                                "delta": f"delta {tier.short_delta:.2f}"}[s])
    days = c3.slider("Days to expiry", 1, 90, int(tier.days), key=f"b_days_{tier.key}",
                     help=f"The {tier.name} tier's default is {tier.days} days")
    measure = c4.selectbox("Risk measure", MEASURES, key="b_measure", format_func=MEASURE_LABELS.get)
    c1, c2, c3, c4 = st.columns(4)
    notional = c1.number_input("Strategy notional ($)", 1_000.0, 1e9, 100_000.0, 1_000.0, key="b_notional")
    budget_mode = c2.radio("Risk budget in", ("% of notional", "dollars"), key="b_budget_mode", horizontal=True)
    if budget_mode == "dollars":
        budget_dollars = c3.number_input("Risk budget ($)", 1.0, 1e9, 1_000.0, 100.0, key="b_budget_usd")
        budget = RiskBudget(notional=notional, risk_pct=None, dollars=budget_dollars)
    else:
        risk_pct = c3.number_input("Risk budget (% of notional)", 0.05, 100.0, 1.0, 0.05, key="b_risk_pct")
        budget = RiskBudget(notional=notional, risk_pct=risk_pct)

try:
    plan = plan_condor(market, tier, budget, measure, selection, days=days, history=current_history())
except ValueError as exc:
    st.error(f"No condor for these inputs: {exc}")
    st.stop()

condor, metrics, chosen = plan.condor, plan.metrics, plan.chosen


@st.fragment
def payoff_section() -> None:
    """The horizon slider and the chart redraw without rerunning the page."""
    horizon = st.slider("Show the model value after this many days (0 = now)", 0, max(int(condor.days) - 1, 0),
                        0, key="b_horizon", disabled=condor.days <= 1)
    grid = payoff_grid(condor, metrics)
    values = value_at_horizon(condor, market, market.vol_model(), grid, horizon)
    label = "now" if horizon == 0 else f"after {horizon} day{'s' if horizon != 1 else ''}"
    fig = condor_payoff_figure(condor, metrics, chosen.contracts, values, label, grid)
    st.plotly_chart(fig, key="b_payoff_chart")


cols = st.columns(6)
cols[0].metric("Credit / contract", money(metrics.credit), help="Model mid credit, dollars per condor")
cols[1].metric("Max loss / contract", money(metrics.max_loss))
cols[2].metric("POP (lognormal)", f"{metrics.pop:.1%}", help=metrics.distribution)
if plan.empirical_metrics is not None:
    cols[3].metric("POP (empirical)", f"{plan.empirical_metrics.pop:.1%}", help=plan.empirical_metrics.distribution)
else:
    cols[3].metric("POP (empirical)", "n/a", help=f"Empirical POP {plan.empirical_note}")
cols[4].metric(f"Contracts ({MEASURE_LABELS[measure]})", f"{chosen.contracts:,}",
               help=f"floor(${budget.amount:,.0f} / ${chosen.risk_per_contract:,.0f} per contract)")
cols[5].metric("Position max loss", money(chosen.position_max_loss),
               help=f"{chosen.position_max_loss / budget.notional:.1%} of notional")
if chosen.note:
    st.warning(chosen.note)
elif chosen.position_max_loss > 2 * budget.amount:
    st.info(f"Sized by {MEASURE_LABELS[measure]}, the position can still lose ${chosen.position_max_loss:,.0f} "
            f"at worst, {chosen.position_max_loss / budget.amount:.1f}× the risk budget.")

payoff_section()

legs_tab, metrics_tab, sizing_tab, gate_tab, scale_tab = st.tabs(
    ["Legs (trade ticket)", "Metrics & greeks", "Sizing by measure", "2 % gate", "Scale & slippage"])

with legs_tab:
    legs = pd.DataFrame([{
        "Side": "Buy" if leg.side > 0 else "Sell", "Type": leg.kind.title(), "Strike": leg.strike,
        "Days": int(leg.days), "Model IV %": round(100 * leg.iv, 2), "Model price (pts)": round(leg.price, 2),
        "Delta": round(leg.delta, 3), "Contracts": chosen.contracts,
    } for leg in condor.legs])
    st.dataframe(legs, hide_index=True)
    st.download_button("Download legs (CSV)", legs.to_csv(index=False).encode(), file_name="alvh_condor_legs.csv",
                       mime="text/csv", key="b_legs_csv")
    st.caption("Prices are model mids (BSM on the VIX-based smile), not quotes.")

with metrics_tab:
    low, high = metrics.breakevens
    rows = [
        ("Credit", f"${metrics.credit:,.2f}"), ("Max profit", f"${metrics.max_profit:,.2f}"),
        ("Max loss", f"${metrics.max_loss:,.2f}"), ("Breakevens", f"{low:,.1f} / {high:,.1f}"),
        ("Touch short put", f"{metrics.touch_short_put:.1%}"), ("Touch short call", f"{metrics.touch_short_call:.1%}"),
        ("Expected move ±1σ / ±2σ", f"{metrics.expected_move_1sd:,.0f} / {metrics.expected_move_2sd:,.0f} pts"),
        ("ATM vol at tenor (model)", f"{condor.atm_vol:.2%}"),
    ]
    st.dataframe(pd.DataFrame(rows, columns=["Per contract", "Value"]), hide_index=True)
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
    n = chosen.contracts
    st.dataframe(pd.DataFrame({
        "Greek": ["Delta ($ per SPX point)", "Gamma ($ per point²)", "Vega ($ per vol point)", "Theta ($ per day)"],
        "Per contract": [round(g["delta"], 2), round(g["gamma"], 4), round(g["vega"], 2), round(g["theta"], 2)],
        f"Position ({n} contract{'s' if n != 1 else ''})": [
            round(n * g[k], 2) + 0.0 for k in ("delta", "gamma", "vega", "theta")],
    }), hide_index=True)

with sizing_tab:
    st.dataframe(pd.DataFrame([{
        "Measure": MEASURE_LABELS[m], "Risk per contract": f"${s.risk_per_contract:,.0f}",
        "Contracts": s.contracts, "Position max loss": f"${s.position_max_loss:,.0f}",
        "Position credit": f"${s.position_credit:,.0f}",
    } for m, s in plan.sizing.items()]), hide_index=True)
    st.caption(f"Budget ${budget.amount:,.0f} ({budget.pct_of_notional:.2f} % of ${budget.notional:,.0f}). "
               "Contracts = floor(budget / risk per contract).")

with gate_tab:
    st.write("Risk above 1 % (up to 2 %) per trade is unlocked only when all four checks pass.")
    c1, c2 = st.columns(2)
    rsi = c1.number_input("RSI(14) of VIX", 0.0, 100.0, 50.0, 1.0, key="b_gate_rsi",
                          help="Type today's reading; the Regime page computes it from history")
    breadth_falling = c2.checkbox("Breadth proxy (RSP/SPY) falling", key="b_gate_breadth")
    regime = classify_regime(market.vix)
    gate = two_percent_gate(budget.pct_of_notional, regime.name, rsi, breadth_falling,
                            chosen.contracts * (plan.empirical_metrics or metrics).expected_pl)
    for check in gate.checks:
        st.write(f"{'✅' if check.passed else '❌'} {check.name} — {check.detail}")
    st.caption("Expected P/L uses the empirical convention when history is loaded, else the lognormal one; "
               "hedge cost is not yet deducted.")
    if budget.pct_of_notional > 1.0 and not gate.unlocked:
        st.warning(f"Requested {budget.pct_of_notional:.2f} % but the gate is closed: the method allows 1 %.")
    elif budget.pct_of_notional > 2.0:
        st.warning(f"Requested {budget.pct_of_notional:.2f} %: the method never allows more than 2 %.")
    else:
        st.success(f"Allowed risk: {gate.allowed_pct:.2f} % of notional.")

with scale_tab:
    table = scale_table(metrics, market.vix)
    st.plotly_chart(scale_figure(table), key="b_scale_chart")
    st.caption("Slippage model: half-spread per leg = 0.30 pts × (VIX / 20.94) × (1 + contracts / 50); 0.30 pts is "
               "the median half-spread of 5–50-delta SPX options on the calibration chains. Worst case adds closing "
               "at twice today's VIX. Model-based.")

with st.expander("Method notes"):
    st.markdown(
        "- **Vol model**: ATM vol by tenor comes from VIX9D/VIX/VIX3M/VIX6M (total-variance interpolation), "
        "converted from variance-swap vol to ATM through a fitted skew; fit error on real chains 0.89 vol "
        "points RMSE (5–50 delta, 7–70 days).\n"
        "- **Strikes**: 5-point grid; short strikes at the same |delta| on both sides, chosen to hit the POP "
        "target (richest credit inside the range) or the tier's delta.\n"
        "- **POP**: lognormal at the model ATM vol (risk-neutral), and empirical when history is loaded.")
