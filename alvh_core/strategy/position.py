"""One call from the Builder's inputs to everything it shows.

:func:`build_position` runs the whole recompute: the tier's condor and its
sizing, the hedge layers, the payoff curves at expiry and at the horizon,
the (SPX move × VIX) heat map, the stress table and the hedged book.  The
regime and stress score come in as a :class:`HedgeContext` (they depend on
history, not on the Builder's sliders, and are computed once per market).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from alvh_core.data.closes import History
from alvh_core.data.events import EventCalendar
from alvh_core.model.fitted import DEFAULT_FILL_SHARE
from alvh_core.model.market import MarketState
from alvh_core.model.regime import Regime, classify_regime
from alvh_core.model.spotvol import vix_after_move
from alvh_core.strategy.book_risk import HORIZONS, BookScenarios, book_scenarios_at, size_by_book_cvar
from alvh_core.strategy.condor import IronCondor
from alvh_core.strategy.edits import PositionEdits, edited_condor, edited_hedge, with_limit
from alvh_core.strategy.hedge import (
    HedgePlan,
    HedgeSettings,
    breakeven_vix,
    build_hedge,
    layer_pnls,
    layer_value_one,
    roll_cost,
    whole_contract_note,
)
from alvh_core.strategy.payoff import (
    HeatMap,
    HedgedBook,
    PayoffCurves,
    StressRow,
    heat_map,
    hedged_book,
    payoff_curves,
    payoff_grid,
    stress_table,
    trading_days_between,
)
from alvh_core.strategy.plan import CondorPlan, plan_condor, plan_for_condor
from alvh_core.strategy.quotes import QuotedCondor, QuoteTable, quote_condor
from alvh_core.strategy.signals import RegimeReport, hedge_budget
from alvh_core.strategy.sizing import (
    BOOK_MEASURE_DAYS,
    BOOK_MEASURES,
    MEASURE_LABELS,
    RiskBudget,
    Sizing,
    TwoPercentGate,
    two_percent_gate,
)
from alvh_core.strategy.stress import EpisodeRow, episode_rows
from alvh_core.strategy.tiers import Tier

#: What the hedge says when the budget buys no condor.
NO_CONDOR_NO_HEDGE = ("The budget buys no condor, so no hedge is bought: the hedge protects a position, and there "
                      "is none. Raise the budget or choose XSP to see the hedged book.")


@dataclass(frozen=True)
class HedgeContext:
    """What the regime page knows that the hedge needs."""

    regime: Regime
    budget_pct: float
    stress_score: float = 0.0
    rebalance_trigger: bool = False
    next_event_days: int | None = None
    band_high_pct: float | None = None   # top of the regime's hedge band, % of notional

    @staticmethod
    def from_report(report: RegimeReport, calendar: EventCalendar) -> HedgeContext:
        """The context a regime report gives on its day, with the calendar's next event."""
        day = pd.Timestamp(report.asof).date()
        return HedgeContext(report.regime, report.hedge_budget_pct, report.stress_score, report.rebalance_trigger,
                            calendar.next_any(day).days_away, report.hedge_band[1])

    @staticmethod
    def from_vix(vix: float, stress_score: float = 0.0, next_event_days: int | None = None) -> HedgeContext:
        regime = classify_regime(vix)
        budget, band = hedge_budget(regime, stress_score)
        return HedgeContext(regime, budget, stress_score, False, next_event_days, band[1])


@dataclass(frozen=True)
class Scenario:
    """The Builder's inputs (everything a share link carries)."""

    tier: Tier
    budget: RiskBudget
    measure: str = "max_loss"
    selection: str = "pop"
    days: float | None = None
    hedge: HedgeSettings = field(default_factory=HedgeSettings)
    horizon_days: float = 0.0
    underlying: str = "auto"                 # SPX, XSP, or auto (SPX when whole SPX condors fill 3/4 of it)
    fill_share: float = DEFAULT_FILL_SHARE   # 0 = mid, 1 = natural
    edits: PositionEdits = field(default_factory=PositionEdits)   # the trader's changes to the tier's position
    quotes: QuoteTable | None = None         # a chain to price the condor's legs at, when it covers them


@dataclass(frozen=True)
class HedgeMetrics:
    premium: float                 # dollars paid today for all layers
    cost_per_roll: float           # model carry of one roll of each layer, summed
    cost_per_year: float           # carry × rolls a year, summed
    cost_pct_of_credit: float      # premium / position credit (%)
    carry_pct_of_credit: float     # yearly carry / yearly condor credit at this size and tenor (%)
    spike_payoff_per_dollar: float  # hedge P/L per $ of premium if SPX falls 10 % in 5 trading days
    breakeven_vix: float | None    # spot VIX on the condor's expiry day at which the layers' P/L is zero
    vix_notional_by_layer: dict
    contracts_note: str = ""       # what whole VIX contracts cannot build, and the book that builds it
    vix_notional_per_max_loss: float = 0.0   # the hedge's VIX notional ÷ the position's max loss

    @property
    def premium_over_credit(self) -> bool:
        return self.cost_pct_of_credit > 100.0

    @property
    def carry_over_credit(self) -> bool:
        return self.carry_pct_of_credit > 100.0

    def cost_warnings(self) -> tuple[str, ...]:
        """What the hedge costs beyond what the condor earns, in plain words (empty when it does not)."""
        out = []
        if self.premium_over_credit:
            out.append(f"The hedge's premium is {self.cost_pct_of_credit / 100:.1f}× the condor's credit.")
        if self.carry_over_credit:
            out.append(f"A year of the hedge's carry is {self.carry_pct_of_credit / 100:.1f}× a year of the condor's "
                       "credit at this size and tenor.")
        return tuple(out)


@dataclass(frozen=True)
class HorizonView:
    """Everything that depends on the horizon date (the sliders' part)."""

    days: float
    curves: PayoffCurves | None    # None when not asked for (the Builder draws them in another fragment)
    heat: HeatMap | None
    stress: tuple[StressRow, ...]
    episodes: tuple[EpisodeRow, ...]   # today's book through the real falls of the history
    layer_vix_levels: np.ndarray
    layer_pnl: dict                # layer name -> P/L array against layer_vix_levels


@dataclass(frozen=True)
class Position:
    scenario: Scenario
    plan: CondorPlan
    hedge: HedgePlan
    metrics: HedgeMetrics
    at_expiry: PayoffCurves
    book: HedgedBook
    view: HorizonView | None       # at scenario.horizon_days; None when not asked for
    book_risk: dict = field(default_factory=dict)   # trading days -> BookRisk of the position as sized
    tier_condor: IronCondor | None = None   # the tier's own condor, before the trader's edits
    quoted: QuotedCondor | None = None      # the legs at the chain's quotes, when a chain covered them
    quote_note: str = ""                    # why the model prices the condor, when a chain was given

    @property
    def condor(self) -> IronCondor:
        return self.plan.condor

    @property
    def contracts(self) -> int:
        return self.plan.chosen.contracts


@dataclass(frozen=True)
class GateOnPosition:
    """The 2 % gate on a position, with the expected P/L it was judged on (dollars)."""

    gate: TwoPercentGate
    condor_pl: float       # the condors' expected P/L to expiry (history's when there is any, else the model's)
    hedge_drag: float      # the hedge's carry over the condor's days

    @property
    def after_hedge(self) -> float:
        return self.condor_pl - self.hedge_drag


def gate_on_position(position: Position, requested_pct: float, regime: str, rsi_vix: float | None,
                     breadth_falling: bool | None) -> GateOnPosition:
    """Seeds 001–002's 2 % gate for ``position`` sized at ``requested_pct`` % of notional (a reading
    of None is unknown: the gate stays at 1 %)."""
    metrics = position.plan.empirical_metrics or position.plan.metrics
    condor_pl = position.contracts * metrics.expected_pl
    drag = position.metrics.cost_per_year * position.condor.days / 365.0
    return GateOnPosition(two_percent_gate(requested_pct, regime, rsi_vix, breadth_falling, condor_pl - drag),
                          float(condor_pl), float(drag))


def position_through_gate(market: MarketState, scenario: Scenario, context: HedgeContext, history: History | None,
                          rsi_vix: float | None, breadth_falling: bool | None, override: bool = False,
                          vol_model=None) -> tuple[Position, GateOnPosition]:
    """The position at the size the 2 % gate allows (the size asked with ``override``), and the gate as
    judged on the size asked.  A ValueError when the position cannot be built at that size."""
    vol_model = vol_model or market.vol_model()
    position = build_position(market, scenario, context, history, vol_model, with_view=False)
    asked = gate_on_position(position, scenario.budget.pct_of_notional, context.regime.name, rsi_vix, breadth_falling)
    if asked.gate.holds_back and not override:
        position = build_position(market, replace(scenario, budget=asked.gate.budget(scenario.budget)), context,
                                  history, vol_model, with_view=False)
    return position, asked


def build_position(market: MarketState, scenario: Scenario, context: HedgeContext, history: History | None = None,
                   vol_model=None, with_heat_map: bool = True, with_view: bool = True) -> Position:
    """The whole Builder recompute for one scenario (all arrays numpy).

    ``with_view=False`` leaves out the horizon view (curves, heat map, stress
    and layer P/L at ``scenario.horizon_days``) for callers that draw it
    separately (the Builder's slider fragments) or not at all (the CLI)."""
    vol_model = vol_model or market.vol_model()
    plan = plan_condor(market, scenario.tier, scenario.budget, scenario.measure, scenario.selection,
                       days=scenario.days, history=history, vol_model=vol_model, underlying=scenario.underlying,
                       fill_share=scenario.fill_share)
    tier_condor = plan.condor
    edits = scenario.edits
    try:
        plan, quoted, quote_note = _edited_plan(plan, scenario, market, history, vol_model)
    except ValueError:
        # Auto picked XSP for the fill, the edits were made on SPX's grid (an older link, or a budget near the
        # line): where the budget holds one SPX condor the edits keep the product they were made on.
        if scenario.underlying != "auto" or not edits.any or plan.condor.underlying != "XSP":
            raise
        spx = plan_condor(market, scenario.tier, scenario.budget, scenario.measure, scenario.selection,
                          days=scenario.days, history=history, vol_model=vol_model, underlying="SPX",
                          fill_share=scenario.fill_share)
        if spx.metrics.max_loss > scenario.budget.amount:
            raise
        tier_condor = spx.condor
        plan, quoted, quote_note = _edited_plan(spx, scenario, market, history, vol_model)
    condor = plan.condor

    def hedge_for(sizing: Sizing) -> HedgePlan:
        settings = scenario.hedge
        if sizing.contracts <= 0:   # no condor, no hedge for it
            settings = replace(settings, scheme="none")
        built = build_hedge(market, context.regime, context.budget_pct, scenario.budget.notional, settings,
                            context.stress_score, context.rebalance_trigger, context.next_event_days,
                            position_max_loss=max(sizing.position_max_loss, plan.metrics.max_loss),
                            spx_contracts=max(sizing.contracts, 1) * condor.size, band_high_pct=context.band_high_pct)
        if sizing.contracts <= 0 and scenario.hedge.scheme != "none":
            built = replace(built, notes=(NO_CONDOR_NO_HEDGE,))
        return edited_hedge(built, market, edits, vol_model, scenario.hedge.call_skew)

    hedge = hedge_for(plan.chosen)
    scenarios = book_scenarios_at(condor, hedge, market, vol_model, HORIZONS)
    if scenario.measure in BOOK_MEASURES and edits.contracts is None:
        plan, hedge, scenarios = _size_by_book(plan, hedge, scenarios, scenario, hedge_for, market, vol_model)
    contracts = max(plan.chosen.contracts, 1)
    book_risk = {d: sc.measures(contracts) for d, sc in scenarios.items()}
    grid = payoff_grid(condor, plan.metrics)
    at_expiry = payoff_curves(condor, contracts, hedge, market, vol_model, grid, condor.days)
    book = hedged_book(condor, plan.chosen.contracts, hedge, market, plan.distribution)
    view = None
    if with_view:
        horizon = min(max(float(scenario.horizon_days), 0.0), condor.days)
        view = horizon_view(plan, hedge, market, vol_model, horizon, with_heat_map, grid)
    return Position(scenario, plan, hedge, _hedge_metrics(hedge, plan, market), at_expiry, book, view, book_risk,
                    tier_condor, quoted, quote_note)


def _edited_plan(plan: CondorPlan, scenario: Scenario, market: MarketState, history: History | None,
                 vol_model) -> tuple[CondorPlan, QuotedCondor | None, str]:
    """The plan for the trader's condor: edited strikes and expiry, priced at the chain's
    quotes when it covers every leg, filled at a typed limit, with a fixed contract count."""
    edits = scenario.edits
    condor = plan.condor
    if edits.changes_condor:
        condor = edited_condor(market, condor, edits, vol_model, scenario.fill_share)
    quoted, note = None, ""
    if scenario.quotes is not None:
        result = quote_condor(condor, scenario.quotes, market, scenario.fill_share)
        if isinstance(result, str):
            note = result
        else:
            quoted, condor = result, result.condor
    if edits.limit is not None:
        condor = with_limit(condor, edits.limit)
    if condor is not plan.condor:
        plan = plan_for_condor(plan, condor, history, vol_model)
    if edits.contracts is not None:
        n = int(edits.contracts)
        metrics = plan.metrics
        chosen = Sizing(plan.measure, plan.budget.amount, plan.chosen.risk_per_contract, n, n * metrics.max_loss,
                        n * metrics.credit, "")
        plan = replace(plan, sizing={**plan.sizing, plan.measure: chosen})
    return plan, quoted, note


def _size_by_book(plan: CondorPlan, hedge: HedgePlan, scenarios: dict, scenario: Scenario, hedge_for, market,
                  vol_model):
    """Contracts whose hedged book keeps its short-horizon CVaR 95 % within the budget.

    A hedge sized to the position grows with it: its P/L is scaled by the
    contracts tried (from the hedge built for the max-loss size, which is the
    plan's sizing until a book measure is added), then the hedge is rebuilt
    for the size found."""
    days = BOOK_MEASURE_DAYS[scenario.measure]
    start = plan.sizing["max_loss"]
    sc = scenarios[days]
    if scenario.hedge.sizing != "notional" and start.contracts > 0:
        per_contract = sc.hedge / max(start.contracts, 1)
        sc = BookScenarios(sc.trading_days, sc.spx, sc.condor_one + per_contract, np.zeros_like(sc.hedge), sc.down_tail)
    contracts = size_by_book_cvar(sc, plan.budget.amount)
    metrics = plan.metrics
    risk = sc.measures(max(contracts, 1)).cvar95 / max(contracts, 1)
    note = "" if contracts > 0 else (f"The budget is below one contract's {MEASURE_LABELS[scenario.measure]} "
                                     f"with its hedge (${risk:,.0f})")
    chosen = Sizing(scenario.measure, plan.budget.amount, risk, contracts, contracts * metrics.max_loss,
                    contracts * metrics.credit, note)
    plan = replace(plan, sizing={**plan.sizing, scenario.measure: chosen})
    if scenario.hedge.sizing != "notional":
        hedge = hedge_for(chosen)
        scenarios = book_scenarios_at(plan.condor, hedge, market, vol_model, HORIZONS)
    return plan, hedge, scenarios


#: The grids of the Builder's scenario views (one per whole day, all sent to the browser at once for the
#: date slider): 51 × 33 heat-map cells, so that a 44-day condor's frames stay a few hundred kilobytes.
FRAME_MOVES = np.linspace(-0.20, 0.10, 51)       # 0.6 % steps
FRAME_VIX = np.linspace(9.0, 89.0, 33)           # 2.5 vol-point steps
FRAME_LAYER_VIX = np.arange(5.0, 91.0)           # 1 vol point: the layers' chart stops at 90


def horizon_view(plan: CondorPlan, hedge: HedgePlan, market: MarketState, vol_model, days: float,
                 with_heat_map: bool = True, grid: np.ndarray | None = None, with_curves: bool = True) -> HorizonView:
    """Payoff curves, heat map, stress table and layer P/L after ``days``."""
    condor = plan.condor
    contracts = max(plan.chosen.contracts, 1)
    days = min(max(float(days), 0.0), condor.days)
    curves = None
    if with_curves:
        grid = payoff_grid(condor, plan.metrics) if grid is None else grid
        curves = payoff_curves(condor, contracts, hedge, market, vol_model, grid, days)
    heat = heat_map(condor, contracts, hedge, market, vol_model, days, FRAME_MOVES, FRAME_VIX) if with_heat_map else None
    stress = stress_table(condor, contracts, hedge, market, vol_model, max(days, 1.0))
    episodes = episode_rows(condor, contracts, hedge, market, vol_model)
    levels = np.linspace(5.0, 150.0, 291)  # 0.5-point steps
    layer_pnl = layer_pnls(hedge, market, levels, market.spot, days)
    return HorizonView(days, curves, heat, stress, episodes, levels, layer_pnl)


def date_views(plan: CondorPlan, hedge: HedgePlan, market: MarketState, vol_model, top: int,
               grid: np.ndarray | None = None, with_curves: bool = True,
               with_scenarios: bool = True) -> tuple[HorizonView, ...]:
    """The horizon view on every whole day from today (0) to ``top`` (the last a date slider shows),
    computed once per position so that the browser moves between them without asking the server.
    Each view's heat map is on :data:`FRAME_MOVES` × :data:`FRAME_VIX` and its layer P/L on
    :data:`FRAME_LAYER_VIX`; the real falls (the same on every day) are left out.  ``with_curves``:
    the combined line on ``grid``; ``with_scenarios``: heat map, stress table and layers."""
    condor = plan.condor
    contracts = max(plan.chosen.contracts, 1)
    grid = payoff_grid(condor, plan.metrics) if grid is None else grid
    views = []
    for day in range(int(top) + 1):
        days = min(float(day), condor.days)
        curves = payoff_curves(condor, contracts, hedge, market, vol_model, grid, days) if with_curves else None
        heat = stress = None
        layer_pnl: dict = {}
        if with_scenarios:
            heat = heat_map(condor, contracts, hedge, market, vol_model, days, FRAME_MOVES, FRAME_VIX)
            stress = stress_table(condor, contracts, hedge, market, vol_model, max(days, 1.0))
            layer_pnl = layer_pnls(hedge, market, FRAME_LAYER_VIX, market.spot, days)
        views.append(HorizonView(days, curves, heat, stress or (), (), FRAME_LAYER_VIX, layer_pnl))
    return tuple(views)


def _hedge_metrics(hedge: HedgePlan, plan: CondorPlan, market: MarketState) -> HedgeMetrics:
    layers = hedge.active_layers
    premium = hedge.total_cost
    per_roll = {layer.name: roll_cost(layer, market) for layer in layers}
    per_year = sum(per_roll[layer.name] * layer.rolls_per_year for layer in layers)
    contracts = max(plan.chosen.contracts, 1)
    credit = plan.metrics.credit * contracts
    yearly_credit = credit * 365.0 / max(plan.condor.days, 1.0)
    spike_vix = float(vix_after_move(market.vix, np.log(0.9), trading_days_between(7)))
    spike = sum(layer_value_one(layer, market, spike_vix, market.spot * 0.9, 7.0) for layer in layers) - premium
    position_max_loss = max(plan.chosen.position_max_loss, plan.metrics.max_loss)
    note = (whole_contract_note(hedge, position_max_loss, plan.metrics.max_loss, plan.condor.underlying)
            if plan.chosen.contracts > 0 else "")
    return HedgeMetrics(
        premium=premium, cost_per_roll=float(sum(per_roll.values())), cost_per_year=float(per_year),
        cost_pct_of_credit=100.0 * premium / credit if credit > 0 else 0.0,
        carry_pct_of_credit=100.0 * per_year / yearly_credit if yearly_credit > 0 else 0.0,
        spike_payoff_per_dollar=spike / premium if premium > 0 else 0.0,
        breakeven_vix=breakeven_vix(hedge, market, plan.condor.days),
        vix_notional_by_layer={layer.name: layer.vix_notional for layer in hedge.layers},
        contracts_note=note,
        vix_notional_per_max_loss=hedge.total_vix_notional / position_max_loss if position_max_loss > 0 else 0.0)
