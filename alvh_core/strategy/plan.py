"""One call from inputs to a sized condor: what the Builder and ``plan`` show."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alvh_core.data.closes import History
from alvh_core.model.distributions import TerminalDistribution, empirical, smile_density
from alvh_core.model.fitted import DEFAULT_FILL_SHARE
from alvh_core.model.market import MarketState
from alvh_core.model.volmodel import VolModel
from alvh_core.strategy.condor import CondorMetrics, IronCondor, build_condor, condor_metrics
from alvh_core.strategy.sizing import ALL_MEASURES, MEASURES, RiskBudget, Sizing, risk_per_contract, size_position
from alvh_core.strategy.tiers import Tier


@dataclass(frozen=True)
class CondorPlan:
    market: MarketState
    tier: Tier
    selection: str
    condor: IronCondor
    metrics: CondorMetrics                 # risk-neutral convention: the model smile's own density
    distribution: TerminalDistribution     # the outcomes behind ``metrics``
    empirical_metrics: CondorMetrics | None
    empirical_note: str                    # why the empirical view is missing, if it is
    budget: RiskBudget
    measure: str
    sizing: dict                           # measure -> Sizing

    @property
    def chosen(self) -> Sizing:
        """The sizing under the plan's measure (book measures are added by the position)."""
        return self.sizing.get(self.measure) or self.sizing["max_loss"]


UNDERLYINGS = ("auto", "SPX", "XSP")
#: "auto" trades SPX when whole SPX condors use at least this share of the risk budget, else XSP.
SPX_FILL = 0.75


def plan_condor(market: MarketState, tier: Tier, budget: RiskBudget, measure: str = "max_loss",
                selection: str = "pop", days: float | None = None, history: History | None = None,
                vol_model: VolModel | None = None, underlying: str = "auto",
                fill_share: float = DEFAULT_FILL_SHARE) -> CondorPlan:
    """Build the tier's condor, measure it under both POP conventions, size it.

    ``underlying="auto"`` trades SPX when whole SPX contracts use at least :data:`SPX_FILL` of the budget
    under ``measure``, else XSP (one tenth of the size: 2 SPX condors of $1,672 leave a third of $5,000
    unused, 29 XSP ones use 97 % of it)."""
    if measure not in ALL_MEASURES:
        raise ValueError(f"measure must be one of {ALL_MEASURES}")
    if underlying not in UNDERLYINGS:
        raise ValueError(f"underlying must be one of {UNDERLYINGS}")
    vol_model = vol_model or market.vol_model()
    product = "SPX" if underlying == "auto" else underlying
    condor = build_condor(market, tier, selection, days=days, vol_model=vol_model, fill_share=fill_share,
                          underlying=product)
    if underlying == "auto":
        # SPX when whole contracts of it fill SPX_FILL of the budget, measured the way the plan measures it.
        # A book measure is sized later, with the hedge; its condor part is at least the CVaR one's.
        condor_measure = measure if measure in MEASURES else "cvar95"
        if condor_measure == "max_loss":  # no distribution needed
            per = condor.max_loss_points * condor.dollars_per_point
        else:
            per = risk_per_contract(condor_metrics(condor, _distribution(market, condor, vol_model)), condor_measure)
        whole = np.floor(budget.amount / per) if per > 0.01 else 0.0
        fits = whole >= 1 and whole * per >= SPX_FILL * budget.amount
        if not fits:
            condor = build_condor(market, tier, selection, days=days, vol_model=vol_model, fill_share=fill_share,
                                  underlying="XSP")
    return _plan(market, condor, budget, measure, history, tier, selection, vol_model)


def plan_for_condor(plan: CondorPlan, condor: IronCondor, history: History | None,
                    vol_model: VolModel | None = None) -> CondorPlan:
    """The same plan for another condor (a trader's edit, or the condor at a chain's quotes):
    measured and sized again."""
    return _plan(plan.market, condor, plan.budget, plan.measure, history, plan.tier, plan.selection,
                 vol_model or plan.market.vol_model())


def _distribution(market: MarketState, condor: IronCondor, vol_model: VolModel) -> TerminalDistribution:
    """The risk-neutral density of the model's own smile at the condor's tenor."""
    return smile_density(market, vol_model, condor.days)


def _plan(market: MarketState, condor: IronCondor, budget: RiskBudget, measure: str, history: History | None,
          tier: Tier, selection: str, vol_model: VolModel) -> CondorPlan:
    distribution = _distribution(market, condor, vol_model)
    metrics = condor_metrics(condor, distribution)
    empirical_metrics, note = None, ""
    if history is None or "spx" not in history.panel:
        note = "needs SPX and VIX history (a data folder)"
    else:
        end = pd.Timestamp(market.asof) if market.asof else history.last
        try:
            dist = empirical(market.spot, condor.days, market.vix, history.panel["spx"].loc[:end],
                             history.panel["vix"].loc[:end])
            empirical_metrics = condor_metrics(condor, dist)
        except ValueError as exc:
            note = str(exc)
    sizing = {m: size_position(metrics, budget.amount, m) for m in MEASURES}
    return CondorPlan(market, tier, selection, condor, metrics, distribution, empirical_metrics, note, budget, measure,
                      sizing)


def value_at_horizon(condor: IronCondor, market: MarketState, vol_model: VolModel, spx, days_elapsed: float) -> np.ndarray:
    """Model P/L (points per contract) at ``days_elapsed`` for SPX levels ``spx``.

    The smile moves with the index (sticky moneyness) and keeps today's VIX
    term structure; at expiry this equals the payoff.
    """
    days_left = max(condor.days - days_elapsed, 0.0)
    if days_left <= 0:
        return condor.pnl_at_expiry(spx)
    spx = np.asarray(spx, float)
    forward = spx * np.exp((market.rate - market.div) * days_left / 365.0)

    shift = {leg.strike: d for leg, d in zip(condor.legs, condor.leg_iv_shift(), strict=True)}

    def iv_of(strike, spots, days):
        return vol_model.implied_vol(strike, forward, days) + shift.get(strike, 0.0)

    return condor.value_before_expiry(spx, days_left, market.rate, market.div, iv_of) - condor.premium
