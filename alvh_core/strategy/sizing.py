"""Position sizing: contracts from a risk budget, the 2 % gate, slippage.

Contracts = floor(budget / risk per contract), where the risk per contract
is one of three measures of the condor's loss at expiry:

* ``max_loss``: (widest wing − credit) × 100, the classic defined risk;
* ``expected_loss``: E[max(−P/L, 0)] under the chosen distribution;
* ``cvar95``: the mean loss in the worst 5 % of outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from alvh_core.model.distributions import TerminalDistribution, smile_density
from alvh_core.model.fitted import HALF_SPREAD_REFERENCE_VIX, SLIPPAGE_DEPTH, SLIPPAGE_IMPACT, SPX_MEDIAN_HALF_SPREAD
from alvh_core.model.market import MarketState
from alvh_core.strategy.condor import CondorMetrics, build_condor, condor_metrics
from alvh_core.strategy.legs import MULTIPLIER
from alvh_core.strategy.tiers import Tier

#: Measures of one condor contract at expiry.
MEASURES = ("max_loss", "expected_loss", "cvar95")
#: Measures of the hedged book a few trading days out (:mod:`alvh_core.strategy.book_risk`).
BOOK_MEASURES = ("book_cvar_1d", "book_cvar_5d")
ALL_MEASURES = MEASURES + BOOK_MEASURES
MEASURE_LABELS = {"max_loss": "max loss", "expected_loss": "expected loss", "cvar95": "CVaR 95 %",
                  "book_cvar_1d": "book CVaR 95 %, 1 day", "book_cvar_5d": "book CVaR 95 %, 5 days"}
BOOK_MEASURE_DAYS = {"book_cvar_1d": 1, "book_cvar_5d": 5}
#: A sizing never returns more than this many contracts (a typo guard).
MAX_CONTRACTS = 100_000
#: Default strategy notional and risk per trade (seeds 000–002).
DEFAULT_NOTIONAL = 100_000.0
DEFAULT_RISK_PCT = 1.0


@dataclass(frozen=True)
class RiskBudget:
    """Dollars at risk per trade, given directly or as % of notional."""

    notional: float = DEFAULT_NOTIONAL
    risk_pct: float | None = DEFAULT_RISK_PCT
    dollars: float | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.notional) and self.notional > 0):
            raise ValueError("notional must be a positive number of dollars")
        if self.dollars is None and self.risk_pct is None:
            raise ValueError("give the risk budget in dollars or as % of notional")
        if self.dollars is not None and not (np.isfinite(self.dollars) and self.dollars > 0):
            raise ValueError("the risk budget must be a positive number of dollars")
        if self.dollars is None and not (np.isfinite(self.risk_pct) and 0 < self.risk_pct <= 100):
            raise ValueError("risk % must be between 0 and 100")

    @property
    def amount(self) -> float:
        """The budget in dollars."""
        return float(self.dollars) if self.dollars is not None else self.notional * self.risk_pct / 100.0

    @property
    def pct_of_notional(self) -> float:
        return 100.0 * self.amount / self.notional


@dataclass(frozen=True)
class Sizing:
    measure: str
    budget: float                 # dollars
    risk_per_contract: float      # dollars, under ``measure``
    contracts: int
    position_max_loss: float      # contracts × max loss, dollars
    position_credit: float        # contracts × credit, dollars
    note: str = ""


def risk_per_contract(metrics: CondorMetrics, measure: str) -> float:
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}")
    return float({"max_loss": metrics.max_loss, "expected_loss": metrics.expected_loss,
                  "cvar95": metrics.cvar95}[measure])


def size_position(metrics: CondorMetrics, budget: float, measure: str = "max_loss") -> Sizing:
    """Contracts that fit ``budget`` dollars under ``measure``."""
    risk = risk_per_contract(metrics, measure)
    if not np.isfinite(budget) or budget <= 0:
        raise ValueError("the risk budget must be a positive number of dollars")
    if risk <= 0.01:
        return Sizing(measure, budget, risk, 0, 0.0, 0.0,
                      note=f"{MEASURE_LABELS[measure].capitalize()} per contract is zero: this measure cannot size the trade")
    contracts = int(min(MAX_CONTRACTS, np.floor(budget / risk)))
    note = "" if contracts > 0 else f"The budget is below one contract's {MEASURE_LABELS[measure]} (${risk:,.0f})"
    return Sizing(measure, budget, risk, contracts, contracts * metrics.max_loss, contracts * metrics.credit, note)


# --- The 2 % gate (seed 002) -------------------------------------------------

@dataclass(frozen=True)
class GateCheck:
    name: str
    passed: bool | None    # None: its data is missing (unknown, never a pass)
    detail: str

    @property
    def state(self) -> str:
        return "unknown" if self.passed is None else ("pass" if self.passed else "fail")


@dataclass(frozen=True)
class TwoPercentGate:
    """Whether risk above 1 % (up to 2 %) of notional is unlocked: only when every check passes.
    A check whose data is missing reads "unknown" and keeps the size at 1 % until the user gives it."""

    requested_pct: float
    allowed_pct: float
    unlocked: bool
    checks: tuple[GateCheck, ...]

    @property
    def holds_back(self) -> bool:
        """True when the size asked is above what the gate allows."""
        return self.requested_pct > self.allowed_pct + 1e-9

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if c.passed is False)

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if c.passed is None)

    def why(self) -> str:
        """Why the size asked is held back, in a few words (empty when it is not)."""
        if not self.holds_back:
            return ""
        parts = ("the method never risks more than 2 %" if self.requested_pct > 2.0 else "",
                 f"the gate is closed ({'; '.join(self.failed)})" if self.failed else "",
                 f"unknown until you give it: {'; '.join(self.unknown)}" if self.unknown else "")
        return "; ".join(part for part in parts if part)

    def budget(self, asked: RiskBudget) -> RiskBudget:
        """``asked`` held to the allowed % of notional (kept in the form it was given: % or dollars)."""
        if asked.risk_pct is not None and asked.dollars is None:
            return replace(asked, risk_pct=self.allowed_pct)
        return replace(asked, dollars=asked.notional * self.allowed_pct / 100.0)


def two_percent_gate(requested_pct: float, regime: str, rsi_vix: float | None, breadth_falling: bool | None,
                     expected_pl_after_hedge: float) -> TwoPercentGate:
    """The checklist: regime not High, RSI(14) of VIX < 70, breadth proxy
    not falling, expected P/L after hedge cost > 0.  Risk up to 1 % needs
    none of it; above 1 % needs all four to pass (an RSI that is None or NaN, or a breadth of
    None, is unknown: not a pass); above 2 % is never allowed."""
    rsi_known = rsi_vix is not None and bool(np.isfinite(rsi_vix))
    checks = (
        GateCheck("Regime is not High", regime.lower() != "high", f"regime: {regime}"),
        GateCheck("RSI(14) of VIX below 70", bool(rsi_vix < 70) if rsi_known else None,
                  f"RSI {rsi_vix:.1f}" if rsi_known else "unknown: too little VIX history (type it to confirm)"),
        GateCheck("Breadth proxy not falling", None if breadth_falling is None else not breadth_falling,
                  "unknown: no breadth data (RSP/SPY); confirm it yourself" if breadth_falling is None
                  else ("falling" if breadth_falling else "flat or rising")),
        GateCheck("Expected P/L after hedge cost is positive", bool(expected_pl_after_hedge > 0),
                  f"expected P/L {'−' if expected_pl_after_hedge < 0 else ''}${abs(expected_pl_after_hedge):,.0f}"),
    )
    unlocked = all(c.passed is True for c in checks)
    cap = 2.0 if unlocked else 1.0
    return TwoPercentGate(float(requested_pct), float(min(requested_pct, cap)), unlocked, checks)


# --- Trade smaller: the bar a hedge has to beat ---------------------------------

def smaller_fraction(premium: float, credit: float) -> float:
    """The share of the unhedged condors kept when the hedge's premium is given up as credit
    instead: 1 − premium / credit, within 0–1 (1 without credit)."""
    return float(np.clip(1.0 - premium / credit, 0.0, 1.0)) if credit > 0 else 1.0


def smaller_contracts(contracts: float, size: float, fraction: float) -> float:
    """``contracts`` condors of ``size`` (1 SPX, 0.1 XSP) cut to ``fraction``, in whole tenths of an
    SPX-sized condor (XSP is a tenth of SPX), in the condor's own contracts."""
    return float(np.floor(contracts * size * fraction * 10 + 1e-9) / 10 / size)


# --- Slippage that grows with size (seed 003) --------------------------------

@dataclass(frozen=True)
class SlippageModel:
    """Half bid/ask spread per leg, widening with VIX and with size.

    ``half_spread(vix, n) = base · (vix / reference_vix) · (1 + impact · sqrt(n / depth))``
    index points per option: ``base`` and ``reference_vix`` from the chains'
    quotes, ``depth`` from their traded volumes, the square-root law of
    market impact with a coefficient ``impact`` of one (see
    :mod:`alvh_core.model.fitted`).
    """

    base_half_spread: float = SPX_MEDIAN_HALF_SPREAD
    reference_vix: float = HALF_SPREAD_REFERENCE_VIX
    depth: float = SLIPPAGE_DEPTH
    impact: float = SLIPPAGE_IMPACT
    stress_vix_multiple: float = 2.0  # VIX when the position is closed in a loss

    def half_spread(self, vix, contracts) -> np.ndarray:
        return self.base_half_spread * (np.asarray(vix, float) / self.reference_vix) * (
            1.0 + self.impact * np.sqrt(np.maximum(np.asarray(contracts, float), 0.0) / self.depth))


@dataclass(frozen=True)
class ScaleTable:
    """Net credit and worst-case drawdown from 1 to N contracts."""

    contracts: np.ndarray
    entry_cost: np.ndarray          # $ total, crossing half the spread on 4 legs
    net_credit: np.ndarray          # $ total after entry slippage
    net_credit_per_contract: np.ndarray
    drawdown: np.ndarray            # $ total: max loss + entry and stressed exit slippage


def scale_table(metrics: CondorMetrics, vix: float, model: SlippageModel | None = None,
                max_contracts: int = 200, legs: int = 4, size: float = 1.0) -> ScaleTable:
    """``size``: the contract as a share of SPX's (0.1 for XSP, whose spreads in dollars are a tenth)."""
    model = model or SlippageModel()
    n = np.arange(1, max_contracts + 1, dtype=float)
    # The credit is already at the chosen fill: entry adds only what size costs beyond it.
    entry = n * legs * (model.half_spread(vix, n) - model.half_spread(vix, 0.0)) * MULTIPLIER * size
    stressed_exit = n * legs * model.half_spread(vix * model.stress_vix_multiple, n) * MULTIPLIER * size
    net = n * metrics.credit - entry
    return ScaleTable(n.astype(int), entry, net, net / n, n * metrics.max_loss + entry + stressed_exit)


# --- Tiers side by side (seed 000's claim) -----------------------------------

@dataclass(frozen=True)
class TierSizing:
    tier: Tier
    metrics: CondorMetrics
    strikes: tuple[float, float, float, float]
    sizing: dict  # measure -> Sizing


@dataclass(frozen=True)
class TierComparison:
    budget: float
    rows: tuple[TierSizing, ...]
    ratio: dict              # measure -> Conservative contracts / Aggressive contracts (None if undefined)
    claim_low: float = 1.8
    claim_high: float = 2.2
    underlying: str = "SPX"  # every tier's condor is on this product (XSP when the budget holds no SPX one)

    def claim_holds(self, measure: str) -> bool:
        r = self.ratio.get(measure)
        return r is not None and self.claim_low <= r <= self.claim_high

    def verdict(self) -> str:
        held = [MEASURE_LABELS[m] for m in MEASURES if self.claim_holds(m)]
        parts = ", ".join(f"{MEASURE_LABELS[m]} {self.ratio[m]:.2f}×" if self.ratio[m] is not None
                          else f"{MEASURE_LABELS[m]} undefined" for m in MEASURES)
        if held:
            return f"Conservative/Aggressive contracts: {parts}. The 1.8–2.2× claim holds under {', '.join(held)}."
        return f"Conservative/Aggressive contracts: {parts}. The 1.8–2.2× claim holds under none of the measures today."


def compare_tiers(market: MarketState, tiers: tuple[Tier, ...], budget: float, selection: str = "pop",
                  distribution_for=None, underlying: str = "auto") -> TierComparison:
    """Each tier's condor and its contracts under every measure, all on one product: ``underlying`` SPX or
    XSP, or ``"auto"``: SPX when the budget holds one SPX condor of every tier by max loss, else XSP (a
    tenth of the size), so that a small budget compares whole contracts too.

    ``distribution_for(tier, condor)`` may supply a distribution (e.g. the
    empirical one); by default each condor uses the density of the model's
    smile at its tenor, as the Builder does.
    """
    vol_model = market.vol_model()

    def rows_on(product: str) -> list[TierSizing]:
        rows = []
        for tier in tiers:
            condor = build_condor(market, tier, selection, vol_model=vol_model, underlying=product)
            dist: TerminalDistribution = (distribution_for(tier, condor) if distribution_for
                                          else smile_density(market, vol_model, condor.days))
            metrics = condor_metrics(condor, dist)
            rows.append(TierSizing(tier, metrics, tuple(leg.strike for leg in condor.legs),
                                   {m: size_position(metrics, budget, m) for m in MEASURES}))
        return rows

    product = "SPX" if underlying == "auto" else underlying
    rows = rows_on(product)
    if underlying == "auto" and any(r.metrics.max_loss > budget for r in rows):
        product, rows = "XSP", rows_on("XSP")
    by_key = {r.tier.key: r for r in rows}
    ratio = {}
    for m in MEASURES:
        cons, aggr = by_key.get("conservative"), by_key.get("aggressive")
        if cons is None or aggr is None or aggr.sizing[m].contracts == 0:
            ratio[m] = None
        else:
            ratio[m] = cons.sizing[m].contracts / aggr.sizing[m].contracts
    return TierComparison(budget, tuple(rows), ratio, underlying=product)


# --- What would make seed 000's claim true -------------------------------------------------

#: Conservative wing widths tried (% of spot) and short-strike settings (POP band centre or |delta|).
CLAIM_WINGS = tuple(round(0.05 * i, 2) for i in range(2, 61))          # 0.10 … 3.00 % of spot
CLAIM_POPS = tuple(round(0.01 * i, 2) for i in range(60, 97))          # 0.60 … 0.96
CLAIM_DELTAS = tuple(round(0.01 * i, 2) for i in range(2, 31))         # 0.02 … 0.30


@dataclass(frozen=True)
class ClaimSearch:
    """Conservative tiers that would give the claimed contract ratio, the Aggressive tier held as it is.

    ``wings[m]`` / ``shorts[m]``: the tried values (wing % of spot; POP band centre or short |delta|)
    whose ratio under measure ``m`` falls in the claim's range; ``knob`` names the short-strike setting.
    """

    knob: str
    wings: dict
    shorts: dict
    tried: int

    def describe(self, measure: str, conservative: Tier) -> str:
        """What would do it under ``measure``, in words (the grid's stretches, today's value beside them)."""
        def stretches(runs, fmt) -> str:
            return ", ".join(fmt(a) if a == b else f"{fmt(a)}–{fmt(b)}" for a, b in runs)

        now_short = conservative.short_delta if self.knob == "short |delta|" else conservative.pop_target
        parts = []
        if self.wings[measure]:
            parts.append(f"wings of {stretches(self.wings[measure], lambda v: f'{v:.2f}')} % of spot "
                         f"(now {conservative.wing_pct:g} %)")
        if self.shorts[measure]:
            parts.append(f"a {self.knob} of {stretches(self.shorts[measure], lambda v: f'{v:.2f}')} "
                         f"(now {now_short:.3g})")
        if not parts:
            return ("no single change of the Conservative wing (0.10–3.00 % of spot) or of its "
                    f"{self.knob} gives 1.8–2.2×")
        return "a Conservative tier with " + ", or with ".join(parts)


def _runs(values: list[float], grid: tuple[float, ...]) -> list[tuple[float, float]]:
    """Contiguous stretches of ``grid`` covered by ``values``, as (first, last)."""
    runs: list[tuple[float, float]] = []
    index = {v: i for i, v in enumerate(grid)}
    for v in sorted(values):
        if runs and index[v] == index[runs[-1][1]] + 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


def claim_search(market: MarketState, tiers: tuple[Tier, ...], budget: float, selection: str = "pop",
                 low: float = 1.8, high: float = 2.2, underlying: str = "SPX") -> ClaimSearch | None:
    """Change one thing of the Conservative tier at a time (its wing width, then its short strikes) and
    keep the settings whose Conservative ÷ Aggressive contracts land in [low, high] under each measure.
    None when the table has no Conservative or Aggressive tier, or the Aggressive condor cannot be built."""
    by_key = {t.key: t for t in tiers}
    cons, aggr = by_key.get("conservative"), by_key.get("aggressive")
    if cons is None or aggr is None:
        return None
    vol_model = market.vol_model()

    def sized(tier: Tier) -> dict | None:
        try:
            condor = build_condor(market, tier, selection, vol_model=vol_model, underlying=underlying)
        except ValueError:
            return None
        metrics = condor_metrics(condor, smile_density(market, vol_model, condor.days))
        return {m: size_position(metrics, budget, m).contracts for m in MEASURES}

    base = sized(aggr)
    if base is None:
        return None

    def hits(variants: list[tuple[float, Tier]]) -> dict:
        found: dict = {m: [] for m in MEASURES}
        for value, tier in variants:
            counts = sized(tier)
            if counts is None:
                continue
            for m in MEASURES:
                if base[m] > 0 and low <= counts[m] / base[m] <= high:
                    found[m].append(value)
        return found

    wings = hits([(w, replace(cons, wing_pct=w)) for w in CLAIM_WINGS])
    if selection == "delta":
        knob, grid = "short |delta|", CLAIM_DELTAS
        shorts = hits([(d, replace(cons, short_delta=d)) for d in grid])
    else:
        knob, grid = "POP target", CLAIM_POPS
        half = 0.5 * (cons.pop_max - cons.pop_min)
        shorts = hits([(p, replace(cons, pop_min=max(0.05, p - half), pop_max=min(0.99, p + half)))
                       for p in grid])
    return ClaimSearch(knob, {m: _runs(v, CLAIM_WINGS) for m, v in wings.items()},
                       {m: _runs(v, grid) for m, v in shorts.items()}, len(CLAIM_WINGS) + len(grid))
