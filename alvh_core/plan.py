"""One call from inputs to a sized condor: what the Builder and ``plan`` show."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .condor import CondorMetrics, IronCondor, build_condor, condor_metrics
from .history import History
from .market import MarketState
from .probability import TerminalDistribution, empirical, lognormal
from .sizing import MEASURES, RiskBudget, Sizing, size_position
from .tiers import Tier
from .volmodel import VolModel


@dataclass(frozen=True)
class CondorPlan:
    market: MarketState
    tier: Tier
    selection: str
    condor: IronCondor
    metrics: CondorMetrics                 # lognormal convention
    distribution: TerminalDistribution     # the lognormal outcomes behind ``metrics``
    empirical_metrics: CondorMetrics | None
    empirical_note: str                    # why the empirical view is missing, if it is
    budget: RiskBudget
    measure: str
    sizing: dict                           # measure -> Sizing

    @property
    def chosen(self) -> Sizing:
        return self.sizing[self.measure]


def plan_condor(market: MarketState, tier: Tier, budget: RiskBudget, measure: str = "max_loss",
                selection: str = "pop", days: float | None = None, history: History | None = None,
                vol_model: VolModel | None = None) -> CondorPlan:
    """Build the tier's condor, measure it under both POP conventions, size it."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}")
    vol_model = vol_model or market.vol_model()
    condor = build_condor(market, tier, selection, days=days, vol_model=vol_model)
    distribution = lognormal(market.spot, condor.days, market.rate, market.div, condor.atm_vol)
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

    def iv_of(strike, spots, days):
        return vol_model.implied_vol(strike, forward, days)

    return condor.value_before_expiry(spx, days_left, market.rate, market.div, iv_of) - condor.premium
