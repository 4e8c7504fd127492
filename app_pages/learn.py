"""Learn: the method in pictures the engine draws live, a glossary, and the seeds' claims checked.

Every input lives in the URL, so the page's address is a share link.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from alvh_core.history.backtest import BacktestConfig
from alvh_core.present import claims as cl
from alvh_core.present.figures import (
    decay_figure,
    layers_vs_vix_figure,
    spike_figure,
    tier_contracts_figure,
    vix_history_figure,
)
from alvh_core.strategy.hedge import hedge_pnl, layer_pnls
from alvh_core.strategy.payoff import condor_value_grid
from alvh_core.strategy.position import Scenario, build_position, gate_on_position
from alvh_core.strategy.sizing import MEASURE_LABELS, MEASURES, RiskBudget, compare_tiers
from alvh_core.strategy.tiers import find_tier, load_tiers
from app_pages.common import (
    account_hedge,
    account_inputs,
    bounds,
    choice,
    current_market,
    current_snapshot,
    done,
    gate_checklist,
    hedge_context,
    keep_in_link,
    linked,
    money,
    plain,
    setting_value,
)
from app_pages.history_data import history_arrays, is_kept, kept, tier_runs, tier_runs_key

st.title("Learn")
st.caption("The method in the project's own words, each idea beside a chart the engine draws for today's market; "
           "the terms of the source articles with a frank note where a term has no computable meaning here; and "
           "every number the articles claim, checked against the engine and the loaded history. Model-based; the "
           "address is a share link.")

market = current_market()
snapshot = current_snapshot()
context, report = hedge_context(market, snapshot)
tiers = load_tiers()
vol_model = market.vol_model()

with st.container(border=True):
    c1, c2, c3, c4, c5 = st.columns(5)
    tier_name = choice(c1.selectbox, "Tier of the examples", "et", help="The condor the charts and examples use")
    account = account_inputs(c2, c3, c4)
    notional, risk = account.notional, account.amount
    tier_budget = linked(c5.number_input, "Risk budget of the tier comparison ($)", *bounds("eb"), 50_000.0, 1_000.0,
                         key="eb", format="%.0f", help="Seed 000's example: $50,000 of risk")
inputs = cl.ClaimInputs(tier_name, float(notional), float(risk), float(tier_budget), str(setting_value("hsz")))
tier = find_tier(tiers, tier_name)


@st.cache_data(show_spinner=False, max_entries=32)
def _engine_claims(_market, market_key: tuple, _context, context_key: tuple, inputs: cl.ClaimInputs,
                   rsi: float | None, falling: bool | None) -> list[cl.Claim]:
    return cl.engine_claims(_market, _context, load_tiers(), inputs, rsi, falling)


rsi, falling, _, _ = report.gate_readings()   # history's readings; without them, unknown (never a pass)
market_key = (market.spot, market.vix, market.vix9d, market.vix3m, market.vix6m, market.vvix, market.rate,
              market.div, market.asof, market.source)
context_key = (context.regime.name, context.budget_pct, context.stress_score, context.rebalance_trigger,
               context.next_event_days, context.band_high_pct)
try:
    engine = _engine_claims(market, market_key, context, context_key, inputs, rsi, falling)
except ValueError as exc:
    st.warning(f"The engine cannot build the examples for these inputs ({plain(exc)}).")
    done()

position = build_position(market, Scenario(tier=tier, budget=RiskBudget(notional=inputs.notional, risk_pct=None,
                                                                        dollars=inputs.risk),
                                           hedge=account_hedge("alvh")),
                          context, None, vol_model, with_view=False)
cols = st.columns(4)
cols[0].metric("Regime today", context.regime.name, help=f"VIX {market.vix:.2f} ({market.source})")
cols[1].metric("Hedge budget (the regime's band)", f"{context.budget_pct:.1f} %",
               help="The regime's band, placed inside it by the stress score: a % of the notional the position "
                    "stands for (20 × its max loss, the default), or of the strategy notional (seed 001's rule)")
cols[2].metric("Contracts in the example", f"{position.contracts:,}",
               help=f"{tier.name} condors for {money(inputs.risk)} of risk, sized by max loss (model)")
cols[3].metric("ALVH premium today", money(position.hedge.total_cost), help="All active layers, model prices")

method, claims_tab, glossary = st.tabs(["The method", "Claims checked", "Glossary"])

# --- the method --------------------------------------------------------------------------------
with method:
    condor = position.condor
    days_out = float(min(5.0, condor.days))
    spiked_vix = float(min(max(market.vix * 1.8, market.vix + 10.0), 90.0))
    spx = np.linspace(market.spot * 0.93, market.spot * 1.07, 121)
    calm = condor_value_grid(condor, market, vol_model, spx, np.full_like(spx, market.vix), days_out)
    spiked = condor_value_grid(condor, market, vol_model, spx, np.full_like(spx, spiked_vix), days_out)
    t1, c1 = st.columns([2, 3])
    t1.markdown(f"""
#### 1. The iron condor, and why a volatility spike hurts it
An iron condor sells a put spread below the market and a call spread above it. It collects a credit and keeps
it if SPX stays between the short strikes until expiry; the long wings cap the loss at the wing width less the
credit. Today's {tier.name} condor: **{" / ".join(f"{leg.strike:,.0f}" for leg in condor.legs)}**, expiring in
{condor.days:g} days, {money(position.plan.metrics.credit)} of credit for up to
{money(position.plan.metrics.max_loss)} of loss per contract.

Before expiry the condor is marked at option prices, and those rise with implied volatility. When VIX jumps,
the short options gain value faster than the wings, so the position shows a loss even where SPX has not moved:
the gap between the two lines on the right, at {days_out:g} days and VIX {spiked_vix:.0f} instead of
{market.vix:.1f}. Sell-offs bring both at once.
""")
    c1.plotly_chart(spike_figure(spx, calm, spiked, market.spot, market.vix, spiked_vix, days_out),
                    key="e_spike_chart")

    hedge = position.hedge
    first_expiry = min((layer.days for layer in hedge.active_layers if layer.legs), default=30.0)
    held = np.linspace(0.0, max(first_expiry - 1.0, 1.0), 30)
    flat = np.array([float(hedge_pnl(hedge, market, market.vix, market.spot, d)) for d in held])
    hot = np.array([float(hedge_pnl(hedge, market, spiked_vix, market.spot * 0.95, d)) for d in held])
    t2, c2 = st.columns([2, 3])
    t2.markdown(f"""
#### 2. Why VIX calls hedge it, and why they cost
VIX rises when SPX falls hard, so calls on VIX gain when the condor loses. They are priced off VIX futures,
which move less than spot VIX, and they are options: when nothing happens they lose their time value day by
day. The orange line is today's ALVH hedge ({money(hedge.total_cost)} of premium) marked at an unchanged
VIX as the days pass, up to the first layer's expiry; the green one, at VIX {spiked_vix:.0f} with SPX 5 %
lower. The hedge is insurance: most days it costs, some days it pays.
""")
    c2.plotly_chart(decay_figure(held, flat, hot, market.vix, spiked_vix), key="e_decay_chart")

    t3, c3 = st.columns([2, 3])
    t3.markdown(f"""
#### 3. Regimes
The method reads VIX in three bands: **Low** below {context.regime.low_max:g}, **Moderate** up to
{context.regime.high_min:g}, **High** above. Each band has a hedge budget, a share of the condors' notional
to hold in VIX exposure: 6–8 %, 12–18 % and 25–35 %. Inside its band the stress score (term structure, VIX
momentum, VVIX, breadth, events) places the budget. Today: **{context.regime.name}**, {context.budget_pct:.1f} %.
""")
    if snapshot.panel is not None and "vix" in snapshot.panel and snapshot.panel["vix"].notna().sum() > 60:
        end = pd.Timestamp(snapshot.panel["vix"].dropna().index[-1])
        c3.plotly_chart(vix_history_figure(snapshot.panel.loc[:end], end - pd.Timedelta(days=3 * 365),
                                           context.regime.low_max, context.regime.high_min), key="e_regime_chart")
    else:
        c3.info("The VIX history with its bands needs the history (live data or the sidebar's “Data files”).")

    levels = np.linspace(max(9.0, market.vix * 0.7), min(90.0, market.vix * 3.0), 80)
    layers = layer_pnls(hedge, market, levels, np.full_like(levels, market.spot), 5.0)
    t4, c4 = st.columns([2, 3])
    t4.markdown("""
#### 4. Three layers: 40/40/20
Instead of one VIX call, ALVH splits the budget: **Base** (40 %) short-dated calls near the money for the
first jump, **Adaptive** (40 %) further out in time, for a spike that lasts, and **Tail** (20 %) far out of
the money, cheap, for the crash. Each pays at a different VIX level and decays at a different speed; the chart
shows each layer's P/L five days out against the VIX level then. Whether the split beats one call on the same
budget is one of the claims checked in the next tab.
""")
    c4.plotly_chart(layers_vs_vix_figure(levels, layers, market.vix, 5.0), key="e_layers_chart")

    t5, c5 = st.columns([2, 3])
    t5.markdown("""
#### 5. Time-shifting
The layers do not expire together. Each is rolled on its own clock (the Base often, the Adaptive and the Tail
seldom), so at any time some protection is fresh and some is old and cheap. "Time-shifting" in the articles
means this: moving protection forward in time by rolling it, rather than buying it all at once before an
event. The table is today's hedge: what each layer holds and when it rolls.
""")
    c5.dataframe(pd.DataFrame([{"Layer": layer.name, "Holds": layer.instrument,
                                "Expiry": ", ".join(sorted({leg.expiry for leg in layer.legs})),
                                "Days": f"{layer.days:g}", "Contracts": layer.contracts, "Rolled": layer.roll,
                                "VIX notional": money(layer.vix_notional)}
                               for layer in hedge.layers]), hide_index=True, key="e_layers_table")

    comparison = compare_tiers(market, tiers, inputs.tier_budget)
    t6, c6 = st.columns([2, 3])
    t6.markdown(f"""
#### 6. Tiers and risk measures
A tier is a recipe for the condor: how far out the short strikes sit (a POP range or a delta), how wide the
wings are, how many days to expiry. A risk budget buys contracts by dividing it by the risk of one contract,
and that risk can be measured three ways: the **max loss** (wing less credit), the **expected loss** (the
average loss over the model's outcomes) or the **CVaR 95 %** (the average of the worst 5 %). The measure
changes the count a lot; for {money(inputs.tier_budget)} the chart shows how much.
""")
    c6.plotly_chart(tier_contracts_figure({r.tier.name: [r.sizing[m].contracts for m in MEASURES]
                                           for r in comparison.rows}, [MEASURE_LABELS[m] for m in MEASURES]),
                    key="e_tiers_chart")

    gate = gate_on_position(position, 2.0, context.regime.name, rsi, falling).gate
    t7, c7 = st.columns([2, 3])
    t7.markdown("""
#### 7. The 2 % gate
Risk per trade up to 1 % of the account needs no permission. Above it, up to 2 %, four things must hold: the
regime is not High, VIX's 14-day RSI is below 70, market breadth is not falling, and the condor's expected P/L
after the hedge's cost is positive. A check whose data is missing is unknown, and unknown is not a pass: the
size stays at 1 % until the trader gives the reading. Above 2 % is never allowed. Today's checklist, for the
example condor:
""")
    with c7:
        gate_checklist(gate)
        st.markdown(f"**Allowed today: {gate.allowed_pct:g} %** of the account at risk per trade.")

    st.markdown("""
#### 8. What a model-priced backtest can and cannot tell
The history holds daily closes of SPX, VIX and its family, not option quotes. The backtester rebuilds every
condor and every VIX option from those closes with the pricing model (its smile fitted on real chains, VIX
options on a futures proxy), pays modelled spreads and commissions, and follows the rules day by day with
no look-ahead. So it can tell how the rules would have behaved through 1990–2026's real paths, which hedge
scheme lost least in the real sell-offs, and how results move with costs, tiers and size. It cannot tell what
fills were really available, how skew behaved on a given afternoon, or what happens in a market unlike any in
the sample; and the model's constants were fitted on part of the same history. Read its numbers as a
model's, compare schemes with each other, and check a trade against a real chain before placing it.
""")

# --- the claims ----------------------------------------------------------------------------------
with claims_tab:
    st.markdown("Each quantitative claim of the five source articles, in the project's words, with what the engine "
                "says for today's market and the inputs above, what the backtest of the loaded history says, and "
                "what simply trading smaller did instead of hedging. Every number is computed now; the last column "
                "opens the page where it is computed in full.")
    m, data_key, why_not = history_arrays()
    shown = engine
    tiers_key = tier_runs_key(data_key, "daily", tiers) if m is not None else None
    claims_key = ("claims", data_key, tiers, inputs.tier)
    if m is None:
        st.info(why_not)
    elif (is_kept(tiers_key) and is_kept(claims_key)) or st.button(
            "Check the claims on the loaded history", key="e_history_run", icon=":material/play_arrow:",
            help="Backtests of daily condors with each hedge scheme, each tier, 1 % and 2 % risk, and 10 to 200 "
                 "contracts: about 15 seconds the first time on 36 years of closes, kept for everyone after"):
        runs_by_tier = tier_runs(m, data_key, "daily", tiers)
        runs = kept(claims_key, lambda progress: cl.history_runs(m, tiers, runs_by_tier, inputs.tier, progress),
                    "Backtesting the claims")
        shown = cl.with_history(engine, runs)
    else:   # the history is loaded, its backtests not run yet: say so, not that the history is missing
        shown = [replace(c, backtest="not run yet: press “Check the claims on the loaded history” above")
                 if c.backtest == cl.Claim.backtest else c for c in engine]
    links = {"tiers": "/tiers", "": "/", "hedge-lab": "/hedge-lab", "builder": f"/builder?t={tier.name}",
             "backtest": f"/backtest?btr={tier.name}"}
    st.table(pd.DataFrame([{"Seed": c.seed, "Claim": plain(c.claim), "The engine today": plain(c.engine),
                            "The backtest on the loaded history": plain(c.backtest),
                            "Trade smaller instead": plain(c.smaller), "Page": f"[open]({links[c.link]})"}
                           for c in shown]), hide_index=True)
    st.caption("Engine: today's market (sidebar), the inputs above, model prices; a stress is SPX −10 % over 5 "
               "trading days with VIX at the model's median for that fall. Backtest: daily condors of the tier of "
               f"the examples held to expiry, the Backtest page's default costs and sizing, "
               f"{money(BacktestConfig().capital)} of capital; "
               "“trade smaller” is the unhedged condor cut by the share of credit ALVH's premium took. "
               "Model-priced, in-sample constants.")

# --- glossary ------------------------------------------------------------------------------------
GLOSSARY = [
    ("ALVH, Adaptive Layered VIX Hedge", "The method: short SPX iron condors with VIX calls in three layers, sized "
     "by the VIX regime.", "Computed here (Builder, Hedge Lab, Backtest)."),
    ("Iron condor", "A short put spread and a short call spread on the same expiry: a credit, a range, a capped "
     "loss.", "Computed."),
    ("SPX, SPXW, XSP", "S&P 500 index options: SPX monthly (A.M.-settled), SPXW weeklies and dailies (P.M.), XSP "
     "a tenth of the size.", "Listed expiries and strikes are used."),
    ("VIX, VIX9D, VIX3M, VIX6M, VVIX", "Cboe's 30-day implied volatility of SPX, its 9-day, 3- and 6-month "
     "cousins, and the volatility of VIX itself.", "Read daily; they set the smile and the hedge."),
    ("Contango / backwardation", "Longer-dated VIX above shorter-dated (calm) or below it (stress).",
     "Computed from the term structure."),
    ("Regime", "The VIX band: Low, Moderate, High.", "Computed; the edges are editable."),
    ("Hedge budget", "The share of notional to hold as VIX exposure in the regime.", "Computed."),
    ("Base / Adaptive / Contingent (Tail) layer", "The three parts of the hedge, 40/40/20 by default.",
     "Computed; the split is editable."),
    ("10 % notional rule", "A fixed 10 % of notional in VIX hedges whatever the regime.",
     "Computed as the 'fixed 10 %' scheme."),
    ("Time-shifting / time travel", "Rolling hedges on staggered clocks so protection is renewed over time.",
     "Computed as the layers' roll calendar; the 'travel' is only a metaphor."),
    ("Big Top “Temporal Theta” Cash Press", "The articles' name for the condor's time decay earned across many "
     "contracts.", "No formula given; here it is just theta (Builder's greeks)."),
    ("POP, probability of profit", "The chance the condor ends above zero.",
     "Computed two ways: risk-neutral (the smile) and empirical (history)."),
    ("Break-even point", "Where the expiry P/L crosses zero: short strike ∓ credit.", "Computed."),
    ("Time value (extrinsic value)", "An option's price above what exercise would pay now.", "Computed."),
    ("Expected loss, CVaR 95 %", "The average loss over all outcomes; the average of the worst 5 %.", "Computed."),
    ("MACD, RSI", "Momentum indicators; here applied to VIX.", "Computed as stress-score signals."),
    ("Advance-Decline (A/D) line", "Breadth: advancing less declining stocks.",
     "No free daily source; the RSP/SPY ratio stands in for it, and is labelled a proxy."),
    ("FOMC, CPI, PPI", "Fed meetings and inflation releases.", "Dates in the event calendar; they raise the budget."),
    ("Conversion, reversal", "Arbitrages of options against the underlying via put-call parity.",
     "Used as a test of the pricer (parity); no hedge decision depends on them."),
    ("Steward vs. promoter", "A temperament: protect capital or chase return.", "A metaphor; not computable."),
    ("The False Binary (loyalty vs. motion)", "Sticking to a rule versus adapting it.", "A metaphor; not computable."),
    ("The Second Engine / Private Leverage Layer", "An extra return source named but not defined in the articles.",
     "No computable meaning; not modelled."),
    ("WACC, IRR, CAPM, DDM, P/E, P/CF, quick ratio, market cap, ROE", "Corporate-finance and valuation measures of "
     "companies.", "No computable meaning for an index option book; not used. Sharpe, CAGR and drawdown are "
     "used instead."),
    ("Real effective exchange rate, interest-rate differential, GDP", "Macro-economic series.",
     "Not inputs of the method here; the T-bill rate is the only rate used."),
    ("IPO, REIT, ETF, DRIP", "Kinds of securities and plans.", "No role in the method; ETFs appear only as the "
     "RSP/SPY breadth proxy."),
    ("HFT", "High-frequency trading.", "Not modelled; the spread and slippage models stand for liquidity."),
    ("MEV, DeFi, AMM, DAO, multi-sig", "Terms from crypto markets and blockchains.",
     "No computable meaning for listed index options; not used."),
    ("Fill, mid, natural", "Where an order trades: between the bid/ask mid and the worst side.",
     "Computed: the fill is a share of the way from mid to natural."),
    ("2 % gate", "The checklist that allows risk above 1 % and up to 2 % a trade.", "Computed (Builder)."),
    ("CNDR, VXTH", "Cboe's iron condor index and VIX tail-hedge index.", "Replicated from the rules (Backtest)."),
]
with glossary:
    typed = st.text_input("Find a term", value=st.session_state.get("eq") or "", max_chars=60,
                          placeholder="e.g. CVaR, WACC, time-shifting", help="Filters the glossary by the words typed")
    query = " ".join(typed.split()) or None
    if query != st.session_state.get("eq"):
        st.session_state["eq"] = query
    keep_in_link("eq", query)
    words = [w.lower() for w in str(query or "").split()]
    rows = [{"Term": f"**{plain(t)}**", "Meaning": plain(d), "Here": plain(h)} for t, d, h in GLOSSARY
            if all(w in f"{t} {d} {h}".lower() for w in words)]
    if rows:
        st.table(pd.DataFrame(rows), hide_index=True)
    else:
        st.info("No term matches those words.")
