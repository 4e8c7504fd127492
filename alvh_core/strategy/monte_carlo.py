"""Monte Carlo of a hedged book on the simulated market (always labeled "simulated").

Paths of SPX and VIX come from :mod:`alvh_core.model.simulator`, started at the
book's market.  The condor settles on each path's SPX at its own expiry (or
is marked at the horizon with the vol model moved by VIX); the hedge is
marked at the horizon with the hedge engine's valuation (legs that expire
first are paid and rolled as the Builder's horizon views do).  The worst
point of each path is read every five trading days.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from alvh_core.model.market import MarketState
from alvh_core.model.pricing import TRADING_DAYS_PER_YEAR
from alvh_core.model.simulator import SimPaths, simulate_paths
from alvh_core.model.volmodel import VolModel
from alvh_core.strategy.condor import IronCondor
from alvh_core.strategy.hedge import HedgePlan, hedge_pnl
from alvh_core.strategy.payoff import condor_value_grid, trading_days_between
from alvh_core.strategy.stress import calendar_days_for

CHECK_EVERY = 5
MAX_PATHS = 50_000


@dataclass(frozen=True)
class BookMonteCarlo:
    """P/L of the whole position (dollars) on each simulated path."""

    trading_days: int
    seed: int
    condor: np.ndarray
    hedge: np.ndarray
    combined: np.ndarray
    worst_combined: np.ndarray   # the lowest combined P/L read along each path (every 5 days and the end)
    worst_condor: np.ndarray
    spx_end: np.ndarray
    vix_end: np.ndarray

    @property
    def paths(self) -> int:
        return int(self.combined.size)

    def condor_only(self, fraction: float) -> BookMonteCarlo:
        """The condor alone at ``fraction`` of its size, no hedge, on the same paths ("trade smaller")."""
        condor, worst = self.condor * fraction, self.worst_condor * fraction
        return replace(self, condor=condor, hedge=np.zeros_like(condor), combined=condor, worst_combined=worst,
                       worst_condor=worst)

    def table(self) -> pd.DataFrame:
        """Mean, percentiles, chance of a loss and CVaR 95 % of each part."""
        rows = []
        for name, values in (("Condor", self.condor), ("Hedge", self.hedge), ("Combined", self.combined),
                             ("Worst point, condor", self.worst_condor),
                             ("Worst point, combined", self.worst_combined)):
            tail = np.sort(values)[: max(1, int(np.ceil(0.05 * values.size)))]
            rows.append({"book": name, "mean": float(values.mean()), "p1": float(np.percentile(values, 1)),
                         "p5": float(np.percentile(values, 5)), "median": float(np.median(values)),
                         "p95": float(np.percentile(values, 95)), "chance_of_loss": float(np.mean(values < 0)),
                         "cvar95": float(-tail.mean())})
        return pd.DataFrame(rows)


def book_monte_carlo(condor: IronCondor, contracts: int, plan: HedgePlan, market: MarketState, vol_model: VolModel,
                     trading_days: int = 60, paths: int = 10_000, seed: int = 0,
                     sim: SimPaths | None = None) -> BookMonteCarlo:
    """The book over ``trading_days`` on ``paths`` simulated paths (or the paths given)."""
    if not 1 <= trading_days <= TRADING_DAYS_PER_YEAR:
        raise ValueError(f"the Monte Carlo horizon is 1 to {TRADING_DAYS_PER_YEAR:.0f} trading days (a year)")
    if not 100 <= paths <= MAX_PATHS:
        raise ValueError(f"the Monte Carlo needs 100 to {MAX_PATHS:,} paths")
    sim = sim or simulate_paths(market.spot, market.vix, trading_days, paths, seed)
    n = max(int(contracts), 1)
    expiry_td = int(round(trading_days_between(condor.days))) if condor.days > 0 else 0
    settle_td = min(expiry_td, trading_days)

    def condor_at(td: int) -> np.ndarray:
        if td >= expiry_td:   # settled on the path's SPX on its expiry day
            return condor.pnl_at_expiry(sim.spx[:, expiry_td]) * condor.dollars_per_point * n
        return condor_value_grid(condor, market, vol_model, sim.spx[:, td], sim.vix[:, td],
                                 calendar_days_for(td)) * n

    def hedge_at(td: int) -> np.ndarray:
        return np.asarray(hedge_pnl(plan, market, sim.vix[:, td], sim.spx[:, td], calendar_days_for(td)), float)

    checks = sorted({*range(CHECK_EVERY, trading_days + 1, CHECK_EVERY), trading_days, settle_td} - {0})
    worst = np.full(sim.spx.shape[0], np.inf)
    worst_condor = np.full(sim.spx.shape[0], np.inf)
    for td in checks:
        c = condor_at(td)
        h = hedge_at(td)
        worst = np.minimum(worst, c + h)
        worst_condor = np.minimum(worst_condor, c)
    c_end, h_end = condor_at(trading_days), hedge_at(trading_days)
    return BookMonteCarlo(trading_days, sim.seed, c_end, h_end, c_end + h_end, np.minimum(worst, 0.0),
                          np.minimum(worst_condor, 0.0), sim.spx[:, -1], sim.vix[:, -1])
