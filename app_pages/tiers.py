"""Tiers: Conservative, Moderate and Aggressive side by side for one risk budget (seed 000).

Every input lives in the URL (the tier table too), so the page's address is a share link.
"""

from __future__ import annotations

import zlib

import pandas as pd
import streamlit as st

from alvh_core.history import backtest as bt
from alvh_core.present.figures import tier_contracts_figure
from alvh_core.strategy.hedge import SIZING_LABELS
from alvh_core.strategy.position import Scenario, build_position
from alvh_core.strategy.sizing import MEASURE_LABELS, MEASURES, RiskBudget, claim_search, compare_tiers
from alvh_core.strategy.tiers import COLUMNS, TierTableError, load_tiers, tiers_text
from app_pages.common import (
    account_hedge,
    account_inputs,
    choice,
    current_history,
    current_market,
    current_snapshot,
    done,
    hedge_context,
    keep_in_link,
    money,
    plain,
    setting_value,
)
from app_pages.history_data import data_range, history_arrays, is_kept, tier_runs, tier_runs_key

st.title("Tiers")
st.caption("The tiers side by side for one risk budget: the listed expiry and strikes each builds today, its credit, "
           "probabilities and risk, how many contracts the budget buys under each risk measure, and the hedge each "
           "position needs. Seed 000 says a Conservative budget buys 1.8–2.2× the Aggressive contracts: the verdict "
           "for today's inputs is below. Every number is model-based; the address is a share link.")

verdict_slot = st.container()   # the answer in words, above the inputs
market = current_market()
snapshot = current_snapshot()
defaults = load_tiers()

with st.container(border=True):
    c1, c2, c3, c4 = st.columns(4)
    account = account_inputs(c1, c2, c3)
    budget, notional = account.amount, account.notional
    selection = choice(c4.radio, "Short strikes by", "tsel", horizontal=True,
                       help="Each tier's POP range or its short-strike delta")
    linked_table = st.session_state.get("tt") or defaults
    text = tiers_text(linked_table)
    st.markdown("**The tier table** (edit any cell; it travels in the link)")
    edited = st.data_editor(pd.DataFrame([{c: getattr(t, c) for c in COLUMNS} for t in linked_table]),
                            key=f"t_table_{zlib.crc32(text.encode())}", hide_index=True, num_rows="dynamic",
                            column_config={"pop_min": st.column_config.NumberColumn("POP min", format="%.2f"),
                                           "pop_max": st.column_config.NumberColumn("POP max", format="%.2f"),
                                           "short_delta": st.column_config.NumberColumn("Short delta", format="%.2f"),
                                           "wing_pct": st.column_config.NumberColumn("Wing (% of spot)", format="%.2f"),
                                           "days": st.column_config.NumberColumn("Days", format="%d")})
    try:
        tiers = load_tiers(edited.dropna(how="all"))
    except TierTableError as exc:
        st.warning(f"That table cannot be used ({plain(exc)}): showing the last good one.")
        tiers = linked_table
    chosen = None if tiers == defaults else tiers
    if chosen != st.session_state.get("tt"):
        st.session_state["tt"] = chosen
        keep_in_link("tt", chosen)
        st.rerun()
    keep_in_link("tt", chosen)
    if st.button("Back to the default tiers", key="t_reset", disabled=chosen is None, icon=":material/undo:"):
        st.session_state["tt"] = None
        keep_in_link("tt", None)
        st.rerun()

context, _ = hedge_context(market, snapshot)
history = current_history()
vol_model = market.vol_model()
comparison = (compare_tiers(market, tiers, float(budget), selection)
              if {"conservative", "aggressive"} <= {t.key for t in tiers} else None)
product = comparison.underlying if comparison is not None else "auto"
positions = {}
for tier in tiers:
    scenario = Scenario(tier=tier, budget=RiskBudget(notional=float(notional), risk_pct=None, dollars=float(budget)),
                        selection=selection, underlying=product, hedge=account_hedge())
    try:
        positions[tier.name] = build_position(market, scenario, context, history, vol_model, with_view=False)
    except ValueError as exc:
        st.warning(plain(f"{tier.name}: no condor for these inputs ({exc})."))
if not positions:
    done()


def _row(label: str, values) -> dict:
    return {"": label} | dict(zip(positions, values, strict=True))


def _pct(x: float) -> str:
    return f"{x:.1%}"


if comparison is not None:
    count = {r.tier.key: r.sizing["max_loss"].contracts for r in comparison.rows}
    with verdict_slot:
        st.info(f"**For {money(comparison.budget)} of risk today, Conservative buys {count['conservative']:,} "
                f"{comparison.underlying} condors and Aggressive {count['aggressive']:,}** (sized by max loss"
                + (", on XSP: the budget holds no SPX condor of every tier" if comparison.underlying == "XSP" else "")
                + "). "
                + comparison.verdict() + " Model-based.", icon=":material/gavel:")
metric_cols = st.columns(len(MEASURES) + 1)
metric_cols[0].metric("Regime", context.regime.name, help=f"VIX {market.vix:.2f}")
for col, m in zip(metric_cols[1:], MEASURES, strict=True):
    ratio = comparison.ratio[m] if comparison is not None else None
    col.metric(f"C ÷ A, {MEASURE_LABELS[m]}", "n/a" if ratio is None else f"{ratio:.2f}×",
               help="Conservative contracts ÷ Aggressive contracts for the budget under this measure; seed 000 says "
                    "1.8–2.2×" + ("" if comparison is not None else ": needs Conservative and Aggressive in the table"))

cols = list(positions.values())
rows = [
    _row("Expiry", [f"{p.condor.expiry.root} {p.condor.expiry.day:%a %d %b %Y} ({p.condor.expiry.settlement})"
                    if p.condor.expiry else f"{p.condor.days:.3g} days" for p in cols]),
    _row("Days to expiry", [f"{p.condor.days:.3g}" for p in cols]),
    _row(f"Strikes (long put / short put / short call / long call), {product if product != 'auto' else 'SPX'}",
         [" / ".join(f"{p.condor.quoted(leg.strike):,.{0 if p.condor.size == 1 else 1}f}" for leg in p.condor.legs)
          for p in cols]),
    _row("Wings, put / call (points)", [f"{p.condor.quoted(p.condor.put_width):g} / "
                                        f"{p.condor.quoted(p.condor.call_width):g}" for p in cols]),
    _row("Credit at mid, per contract", [money(p.plan.metrics.credit_mid) for p in cols]),
    _row("Credit at the fill (halfway to natural)", [money(p.plan.metrics.credit) for p in cols]),
    _row("Max loss per contract", [money(p.plan.metrics.max_loss) for p in cols]),
    _row("POP, risk-neutral (the model smile)", [_pct(p.plan.metrics.pop) for p in cols]),
    _row("POP, empirical (VIX-scaled history)", [_pct(p.plan.empirical_metrics.pop) if p.plan.empirical_metrics
                                                 else "needs history" for p in cols]),
    _row("Expected P/L per contract (risk-neutral)", [money(p.plan.metrics.expected_pl) for p in cols]),
    _row("Expected loss per contract", [money(p.plan.metrics.expected_loss) for p in cols]),
    _row("CVaR 95 % per contract, at expiry", [money(p.plan.metrics.cvar95) for p in cols]),
    _row("CVaR 95 % per contract, 5 trading days (condor alone)",
         [money(p.book_risk[5].condor_cvar95 / max(p.plan.chosen.contracts, 1)) for p in cols]),
    *[_row(f"Contracts by {MEASURE_LABELS[m]}", [f"{p.plan.sizing[m].contracts:,}" for p in cols]) for m in MEASURES],
    _row("Book CVaR 95 %, 5 trading days (sized by max loss, with its hedge)",
         [money(p.book_risk[5].cvar95) for p in cols]),
    _row("Hedge it needs: VIX notional", [money(p.hedge.total_vix_notional) for p in cols]),
    _row("Hedge premium today", [money(p.hedge.total_cost) for p in cols]),
]
st.plotly_chart(tier_contracts_figure({name: [p.plan.sizing[m].contracts for m in MEASURES]
                                       for name, p in positions.items()}, [MEASURE_LABELS[m] for m in MEASURES]),
                key="t_contracts_chart")
st.dataframe(pd.DataFrame(rows), hide_index=True, key="t_side_by_side", height=36 * (len(rows) + 1) + 3)
st.caption(f"SPX {market.spot:,.2f}, VIX {market.vix:.2f} ({market.source}, {market.asof or 'today'}); regime "
           f"{context.regime.name}. Listed SPX/SPXW expiries and strikes; the fill halfway from mid to the natural "
           f"price (model spreads). The hedge is the regime's ALVH layers, sized {SIZING_LABELS[setting_value('hsz')]} "
           "(the session's hedge sizing, set on the Builder). Model-based.")

st.subheader("Seed 000's claim: 1.8–2.2× the contracts")
if comparison is not None:
    search = claim_search(market, tiers, float(budget), selection, underlying=product)
    conservative = next(t for t in tiers if t.key == "conservative")
    st.dataframe(pd.DataFrame([{
        "Measure": MEASURE_LABELS[m],
        "Conservative / Aggressive contracts": "undefined (no Aggressive contract)" if comparison.ratio[m] is None
        else f"{comparison.ratio[m]:.2f}×",
        "Claim 1.8–2.2×": "holds" if comparison.claim_holds(m) else "does not hold",
    } for m in MEASURES]), hide_index=True, key="t_claim")
    st.markdown(plain(comparison.verdict()))
    st.markdown("**What would give 1.8–2.2×** (one change to the Conservative tier, the Aggressive tier as it is):\n"
                + "\n".join(f"- {MEASURE_LABELS[m]}: " + plain(search.describe(m, conservative) if search is not None
                                                              else "the Aggressive condor cannot be built")
                             for m in MEASURES))
    st.caption("Contracts = floor(budget / risk per contract) under each measure, with the same condors as the table "
               "above. Wider wings cost more per contract at max loss, so under max loss the claim usually runs the "
               f"other way. The list tries {search.tried if search else 0} Conservative tiers, each with one "
               "setting changed (its wing width on a 0.05 % grid, or its short strikes), today's market and budget. "
               "Model-based.")
else:
    st.info("The claim compares the Conservative and Aggressive tiers: keep both names in the table to check it.")

# --- each tier over the loaded history ---------------------------------------------------------
st.subheader("Each tier over history")
m, data_key, why_not = history_arrays()
if m is None:
    st.info(why_not)
    done()
strategy = choice(st.radio, "Condors entered", "tbs", horizontal=True,
                  help="How often a new condor of each tier is opened in the backtest (as on the Backtest page)")
first, last = data_range(m)
run_key = tier_runs_key(data_key, strategy, tiers)

if is_kept(run_key) or st.button(f"Backtest the {len(tiers)} tiers, {first:%Y}–{last:%Y}", key="t_history_run",
                                 icon=":material/play_arrow:",
                                 help="About three seconds a tier the first time on 36 years of closes; kept after"):
    runs = tier_runs(m, data_key, strategy, tiers)
    rows = []
    for name, result in runs.items():
        if isinstance(result, str):
            rows.append({"Tier": name, "Note": plain(result)})
            continue
        row = {"Tier": name}
        for scheme, label in (("none", "no hedge"), ("alvh", "ALVH")):
            perf = result.stats[scheme].performance
            row |= {f"CAGR, {label}": perf.cagr, f"Max drawdown, {label}": perf.max_drawdown,
                    f"Worst month, {label}": perf.worst_month}
        row["Condors"] = int(result.condor.entry.size)
        row["Note"] = (f"ruined on {result.stats['alvh'].ruined} with ALVH" if result.stats["alvh"].ruined
                       else f"ruined on {result.stats['none'].ruined} unhedged" if result.stats["none"].ruined
                       else "")
        rows.append(row)
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="t_history",
                 column_config={c: percent for c in rows[0] if c.split(",")[0] in ("CAGR", "Max drawdown",
                                                                                 "Worst month")})
    st.caption(f"{m.source.capitalize()} closes {first:%Y-%m-%d} … {last:%Y-%m-%d}: each tier's condors entered "
               f"{strategy}, held to expiry, {money(bt.BacktestConfig().capital)} of capital, the frequency's default "
               "risk per entry, the hedge sized to the condors' max loss; costs and rules as the Backtest page's "
               "defaults. "
               "Model-priced (the history has closes, not option quotes): " + bt.IN_SAMPLE_NOTE)
else:
    st.caption("Runs the Backtest page's engine for each tier in the table on the loaded history; a run made once "
               "is kept for everyone on this server.")
