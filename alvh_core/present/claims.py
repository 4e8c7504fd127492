"""The seeds' quantitative claims, each checked by the engine today and on the loaded history.

One row per claim.  The engine's column is computed from today's market and
the Learn page's inputs (:func:`engine_claims`); the history's columns come
from backtests of the loaded closes (:func:`history_runs`, then
:func:`with_history`): what the hedged strategy did, and what simply trading
smaller did instead.  Every figure is model-based; the texts say which
measure and which run each comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from alvh_core.history.backtest import BacktestConfig, BacktestResult, MarketArrays, run_backtest
from alvh_core.history.studies import layered_versus_single, scale_sweep
from alvh_core.model.market import MarketState
from alvh_core.strategy.hedge import DEFAULT_SIZING, HedgeSettings
from alvh_core.strategy.position import HedgeContext, Scenario, build_position, gate_on_position
from alvh_core.strategy.signals import HEDGE_BANDS
from alvh_core.strategy.sizing import MEASURE_LABELS, MEASURES, RiskBudget, compare_tiers, scale_table
from alvh_core.strategy.stress import stress_outcome
from alvh_core.strategy.tiers import Tier, find_tier

#: The claims, in the order the page lists them: key -> (seed, the claim in this project's words, page link).
CLAIMS = {
    "tier_ratio": ("000", "For one risk budget the Conservative tier runs 1.8–2.2× the Aggressive tier's contracts",
                   "tiers"),
    "regimes": ("001", "Hedge about 6–8 % of notional below VIX 15, 12–18 % from 15 to 25, 25–35 % above 25", ""),
    "ten_pct": ("001", "A fixed 10 % of notional in VIX hedges is the baseline the layers improve on", "hedge-lab"),
    "example": ("001", "A condor risking $5,000 on $100,000 of notional starts with $6,000–10,000 of VIX exposure",
                "builder"),
    "layers": ("004", "40/40/20 layers protect better than one VIX call on the same budget", "hedge-lab"),
    "scale": ("003", "With the layers, drawdowns stay contained as the book grows from 10 to 200 contracts",
              "backtest"),
    "two_pct": ("002", "Risk can scale to 2 % a trade when conditions allow, the layers guarding it", "builder"),
    "pays": ("002/004", "Across cycles the hedge pays for itself: an alpha layer, not a cost", "backtest"),
}
#: What a stress means in the engine's column: SPX down 10 % over 5 trading days, VIX at the model's median.
STRESS_MOVE, STRESS_DAYS = -0.10, 5
EXAMPLE_BAND = (6_000.0, 10_000.0)


@dataclass(frozen=True)
class Claim:
    key: str
    seed: str
    claim: str
    engine: str
    backtest: str = "needs the history (load it in the sidebar's “Data files”)"
    smaller: str = "—"
    link: str = ""


#: Seed 001's worked example: a condor risking $5,000 on $100,000 of notional.
SEED_001_NOTIONAL, SEED_001_RISK = 100_000.0, 5_000.0


@dataclass(frozen=True)
class ClaimInputs:
    """The Learn page's inputs: the tier of the examples, the notional and risk of seed 001's example, and
    the risk budget of seed 000's tier comparison."""

    tier: str = "Moderate"
    notional: float = 100_000.0
    risk: float = 1_000.0
    tier_budget: float = 50_000.0
    sizing: str = DEFAULT_SIZING        # the session's hedge sizing


def _usd(x: float) -> str:
    text = f"${abs(x):,.0f}"
    return f"−{text}" if x < 0 and round(abs(x)) > 0 else text


def _count(n: int, what: str = "contract") -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


def _position(market: MarketState, context: HedgeContext, tier: Tier, inputs: ClaimInputs, scheme: str,
              sizing: str | None = None):
    scenario = Scenario(tier=tier, budget=RiskBudget(notional=inputs.notional, risk_pct=None, dollars=inputs.risk),
                        hedge=HedgeSettings(scheme=scheme, sizing=sizing or inputs.sizing))
    return build_position(market, scenario, context, None, market.vol_model(), with_view=False)


def _stress_hedge(pos, market: MarketState) -> float:
    out = stress_outcome(pos.condor, pos.contracts, pos.hedge, market, market.vol_model(), STRESS_MOVE, STRESS_DAYS)
    return out.bands["median"].hedge


def engine_claims(market: MarketState, context: HedgeContext, tiers: tuple[Tier, ...], inputs: ClaimInputs,
                  rsi_vix: float | None = None, breadth_falling: bool | None = None) -> list[Claim]:
    """Each claim with what the engine says for today's market and these inputs."""
    tier = find_tier(tiers, inputs.tier)
    rows: dict[str, str] = {}

    if {"conservative", "aggressive"} <= {t.key for t in tiers}:
        comparison = compare_tiers(market, tiers, inputs.tier_budget)
        held = [MEASURE_LABELS[m] for m in MEASURES if comparison.claim_holds(m)]
        ratios = ", ".join(f"{MEASURE_LABELS[m]} {comparison.ratio[m]:.2f}×" if comparison.ratio[m] is not None
                           else f"{MEASURE_LABELS[m]} undefined" for m in MEASURES)
        rows["tier_ratio"] = (f"Conservative ÷ Aggressive contracts for {_usd(inputs.tier_budget)}: {ratios}. "
                              + (f"Holds under {', '.join(held)}." if held else "Holds under no measure today."))
    else:
        rows["tier_ratio"] = "Needs a Conservative and an Aggressive tier in the table."

    low, high = HEDGE_BANDS[context.regime.name]
    rows["regimes"] = (f"VIX {market.vix:.2f}: {context.regime.name} regime, hedge budget today "
                       f"{context.budget_pct:.1f} % of notional (the band {low:g}–{high:g} %, placed by the stress "
                       f"score {context.stress_score:.2f}). The bands are the method's rule, not a result.")

    alvh = _position(market, context, tier, inputs, "alvh")
    static = _position(market, context, tier, inputs, "static10")
    single = _position(market, context, tier, inputs, "single")
    a_hit, s_hit, one_hit = (_stress_hedge(p, market) for p in (alvh, static, single))
    rows["ten_pct"] = (f"{tier.name} condor, {_count(alvh.contracts)}: fixed 10 % costs "
                       f"{_usd(static.hedge.total_cost)} today and pays {_usd(s_hit)} if SPX falls 10 % in 5 days; "
                       f"ALVH ({context.budget_pct:.1f} %) costs {_usd(alvh.hedge.total_cost)} and pays "
                       f"{_usd(a_hit)}.")

    # Seed 001's own numbers, whatever the session's: $5,000 of risk on $100,000, the hedge sized to it.
    seed = replace(inputs, notional=SEED_001_NOTIONAL, risk=SEED_001_RISK)
    sized = _position(market, context, tier, seed, "alvh", sizing="max_loss")
    by_layer = sized.metrics.vix_notional_by_layer
    first = next(iter(by_layer.values()), 0.0)
    inside = EXAMPLE_BAND[0] <= sized.hedge.total_vix_notional <= EXAMPLE_BAND[1]
    rows["example"] = (f"Seed 001's {_usd(seed.risk)} of risk on {_usd(seed.notional)}: "
                       f"{_count(sized.contracts, tier.name + ' contract')}, max loss "
                       f"{_usd(sized.contracts * sized.plan.metrics.max_loss)}; ALVH sized to "
                       f"it holds {_usd(sized.hedge.total_vix_notional)} of VIX notional (first layer "
                       f"{_usd(first)}): {'inside' if inside else 'outside'} $6,000–10,000.")

    rows["layers"] = (f"Same budget, SPX −10 % in 5 days: the layers pay {_usd(a_hit)} on {_usd(alvh.hedge.total_cost)} "
                      f"of premium ({a_hit / max(alvh.hedge.total_cost, 1e-9):.2f} per $), one VIX call pays "
                      f"{_usd(one_hit)} on {_usd(single.hedge.total_cost)} "
                      f"({one_hit / max(single.hedge.total_cost, 1e-9):.2f} per $).")

    table = scale_table(alvh.plan.metrics, market.vix)
    per = {n: float(table.entry_cost[n - 1] / n) for n in (10, 200)}
    rows["scale"] = (f"Size itself costs: entering at 10 contracts gives up {_usd(per[10])} a condor to the spread, "
                     f"at 200 {_usd(per[200])} (square-root slippage fitted on the chains' volumes). Drawdowns need "
                     "history.")

    gate = gate_on_position(alvh, 2.0, context.regime.name, rsi_vix, breadth_falling).gate
    failed, unknown = gate.failed, gate.unknown
    said = []
    if failed:
        said.append(f"{len(failed)} of 4 checks fail ({'; '.join(failed)})")
    if unknown:
        said.append(f"{len(unknown)} {'is' if len(unknown) == 1 else 'are'} unknown without data "
                    f"({'; '.join(unknown)}), which is not a pass")
    rows["two_pct"] = ("The 2 % gate today: " + ("all four checks pass, 2 % allowed." if gate.unlocked else
                       f"{'; '.join(said)}: 1 % at most."))

    credit_year = alvh.contracts * alvh.plan.metrics.credit * 365.0 / max(alvh.condor.days, 1.0)
    rows["pays"] = (f"At today's prices ALVH costs {_usd(alvh.metrics.cost_per_year)} a year to carry, "
                    f"{alvh.metrics.cost_per_year / max(credit_year, 1e-9):.0%} of the condors' yearly credit; the "
                    "model's expected P/L of the hedge is negative (it is insurance). Whether it pays back in "
                    "sell-offs is a question for history.")
    return [Claim(key, CLAIMS[key][0], CLAIMS[key][1], rows[key], link=CLAIMS[key][2]) for key in CLAIMS]


# --- the history's side ------------------------------------------------------------------------

@dataclass(eq=False)
class ClaimRuns:
    """The backtests the history's columns read (daily condors, default costs and rules)."""

    main: BacktestResult               # the tier of the examples with none / ALVH / one call / fixed 10 %, smaller
    tiers: dict                        # tier name -> BacktestResult (none, ALVH) or the reason it could not run
    two_pct: BacktestResult            # the tier of the examples at 2 % max loss a day
    one_pct: BacktestResult            # ... and at 1 %
    scale: pd.DataFrame                # studies.scale_sweep of the main config


MAIN_SCHEMES = ("none", "alvh", "single", "static10")


def history_runs(m: MarketArrays, tiers: tuple[Tier, ...], tier_runs: dict, tier_name: str = "Moderate",
                 progress=None) -> ClaimRuns:
    """The backtests behind the claims (``tier_runs``: each tier's run, as the Tiers page keeps them)."""
    tell = progress or (lambda fraction, text: None)
    config = BacktestConfig(strategy="daily", tier=find_tier(tiers, tier_name))
    tell(0.0, f"{tier_name} with every hedge")
    main = run_backtest(m, config, MAIN_SCHEMES, smaller=True)
    tell(0.4, "1 % and 2 % a day")
    one = run_backtest(m, replace(config, risk_pct=1.0), ("none", "alvh"), smaller=False)
    two = run_backtest(m, replace(config, risk_pct=2.0), ("none", "alvh"), smaller=False)
    tell(0.6, "10 to 200 contracts")
    scale = scale_sweep(m, config)
    tell(1.0, "done")
    return ClaimRuns(main, tier_runs, two, one, scale)


def _perf(result: BacktestResult, scheme: str) -> str:
    p = result.stats[scheme].performance
    ruined = result.stats[scheme].ruined
    return f"CAGR {_pct(p.cagr)}, max DD {_pct(p.max_drawdown)}" + (f" (ruined {ruined})" if ruined else "")


def with_history(claims: list[Claim], runs: ClaimRuns) -> list[Claim]:
    """The claims with the history's and "trade smaller"'s columns filled in from ``runs``."""
    main = runs.main
    span = f"{main.market.day(0):%Y}–{main.market.day(main.market.size - 1):%Y}"
    out = {}
    cons, aggr = runs.tiers.get("Conservative"), runs.tiers.get("Aggressive")
    if isinstance(cons, BacktestResult) and isinstance(aggr, BacktestResult):
        ratio = float(np.mean(cons.condor.contracts)) / max(float(np.mean(aggr.condor.contracts)), 1e-9)
        out["tier_ratio"] = (f"{span}, daily entries sized by max loss: Conservative averaged {ratio:.2f}× the "
                             f"Aggressive contracts. Unhedged: Conservative {_perf(cons, 'none')}; Aggressive "
                             f"{_perf(aggr, 'none')}.", "—")
    else:
        out["tier_ratio"] = ("Needs Conservative and Aggressive backtests.", "—")

    regimes = main.by_regime.set_index("regime")
    parts = [f"{name} {regimes.loc[name, 'share_of_days']:.0%} of days, condors {_usd(regimes.loc[name, 'condor_pnl'])}, "
             f"ALVH {_usd(regimes.loc[name, 'alvh_hedge_pnl'])}" for name in regimes.index]
    out["regimes"] = (f"{span}: " + "; ".join(parts) + ".", "—")

    smaller = f"Trading smaller (×{main.smaller_scale:.2f}) instead of ALVH: {_perf(main, 'smaller')}."
    out["ten_pct"] = (f"{span}: fixed 10 % {_perf(main, 'static10')}; ALVH {_perf(main, 'alvh')}; no hedge "
                      f"{_perf(main, 'none')}.", smaller)
    out["example"] = ("Not a claim about history.", "—")
    versus = layered_versus_single(main).set_index("scheme")
    rows = [f"{name}: hedge P/L {_usd(r['hedge_pnl'])} on {_usd(r['premium_paid'])} of premium, "
            f"{_usd(r['hedge_in_10_worst_weeks'])} in the 10 worst weeks, max DD {_pct(r['max_drawdown'])}"
            for name, r in versus.iterrows()]
    out["layers"] = (f"{span}: " + "; ".join(rows) + ".", smaller)
    first, last = runs.scale.iloc[0], runs.scale.iloc[-1]
    out["scale"] = (f"{span}, $50,000 of account a contract: max DD at {int(first['contracts'])} contracts "
                    f"{_pct(first['none_max_drawdown_pct'])} unhedged, {_pct(first['alvh_max_drawdown_pct'])} with "
                    f"ALVH; at {int(last['contracts'])}: {_pct(last['none_max_drawdown_pct'])} and "
                    f"{_pct(last['alvh_max_drawdown_pct'])}.", "—")
    out["two_pct"] = (f"{span}: 1 % max loss a day: no hedge {_perf(runs.one_pct, 'none')}, ALVH "
                      f"{_perf(runs.one_pct, 'alvh')}; 2 %: no hedge {_perf(runs.two_pct, 'none')}, ALVH "
                      f"{_perf(runs.two_pct, 'alvh')}.", "—")
    s = main.stats["alvh"]
    out["pays"] = (f"{span}: ALVH's hedge P/L {_usd(s.hedge_pnl)} on {_usd(s.hedge_premium)} of premium "
                   f"({s.hedge_drag_pct:+.2f} % of capital a year), {_usd(s.worst_weeks_hedge)} in the 10 worst "
                   f"weeks; hedged {_perf(main, 'alvh')} against unhedged {_perf(main, 'none')}.", smaller)
    return [replace(c, backtest=out[c.key][0], smaller=out[c.key][1]) for c in claims]
