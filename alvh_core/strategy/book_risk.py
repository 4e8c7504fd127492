"""The hedged book's P/L a few trading days out: the risk measure that sees the hedge.

At expiry a condor's worst 5 % is its max loss whatever the hedge does, and a
VIX hedge is worth most before expiry, in the sell-off itself.  This module
marks the whole book (condor and hedge) after 1 or 5 trading days over a
joint SPX/VIX distribution:

* SPX from the risk-neutral density of the model smile at that horizon
  (:func:`alvh_core.model.distributions.smile_density`), on equal-probability
  quantiles;
* VIX from the state-dependent spot–vol link (:mod:`alvh_core.model.spotvol`) at
  each SPX outcome: a split normal in log VIX through its p10, median and
  p90, on five equal-probability quantiles.

Measures, dollars for the whole position: expected P/L, CVaR 95 % (mean loss
of the worst 5 % of outcomes), and the mean P/L of the 5 % of outcomes where
SPX falls the most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from alvh_core.model.distributions import CVAR_LEVEL, smile_density
from alvh_core.model.market import MarketState
from alvh_core.model.spotvol import log_vix_change
from alvh_core.model.volmodel import VolModel
from alvh_core.strategy.condor import IronCondor
from alvh_core.strategy.hedge import HedgePlan, hedge_pnl
from alvh_core.strategy.payoff import condor_value_grid
from alvh_core.strategy.stress import calendar_days_for

#: Horizons (trading days) offered for the short-horizon measures.
HORIZONS = (1, 5)
SPX_POINTS = 250
VIX_POINTS = 5
_Z_P90 = float(ndtri(0.9))


@dataclass(frozen=True)
class BookRisk:
    trading_days: int
    expected_pl: float
    cvar95: float              # positive = loss
    worst_down_pl: float       # mean P/L where SPX falls most (its worst 5 %)
    condor_cvar95: float       # the condor alone, same scenarios
    scenarios: int

    @property
    def cvar_reduction(self) -> float:
        return 1.0 - self.cvar95 / self.condor_cvar95 if self.condor_cvar95 > 0 else 0.0


@dataclass(frozen=True)
class BookScenarios:
    """P/L of one condor contract and of the hedge over the joint outcomes (equal weights)."""

    trading_days: int
    spx: np.ndarray            # (n,)
    condor_one: np.ndarray     # dollars per condor contract
    hedge: np.ndarray          # dollars, the hedge as planned
    down_tail: np.ndarray      # bool: the 5 % of outcomes with the lowest SPX

    def measures(self, contracts: int) -> BookRisk:
        book = contracts * self.condor_one + self.hedge
        condor = contracts * self.condor_one
        return BookRisk(self.trading_days, float(book.mean()), _cvar(book), float(book[self.down_tail].mean()),
                        _cvar(condor), int(book.size))


def _cvar(pnl: np.ndarray, level: float = CVAR_LEVEL) -> float:
    tail = max(1, int(np.ceil((1.0 - level) * pnl.size)))
    return float(-np.partition(pnl, tail - 1)[:tail].mean())


def book_scenarios(condor: IronCondor, hedge: HedgePlan, market: MarketState, vol_model: VolModel,
                   trading_days: int) -> BookScenarios:
    """Joint SPX/VIX outcomes after ``trading_days`` and the book marked at each."""
    return book_scenarios_at(condor, hedge, market, vol_model, (trading_days,))[trading_days]


def book_scenarios_at(condor: IronCondor, hedge: HedgePlan, market: MarketState, vol_model: VolModel,
                      horizons=HORIZONS) -> dict[int, BookScenarios]:
    """:func:`book_scenarios` at several horizons, the book priced on all of them in one call."""
    horizons = tuple(int(h) for h in horizons)
    for trading_days in horizons:
        if trading_days not in HORIZONS and not 1 <= trading_days <= 21:
            raise ValueError("the short horizon is 1 to 21 trading days")
    days = np.array([calendar_days_for(h) for h in horizons], float)
    grids = [_outcomes(market, vol_model, h, d) for h, d in zip(horizons, days, strict=True)]
    # SPX spans the outcomes only (horizons, 1, n): the smile is read once per SPX level, not per VIX point.
    spx = np.stack([g[0][None, :] for g in grids])
    vix = np.stack([g[1] for g in grids])                                         # (horizons, VIX_POINTS, n)
    when = days[:, None, None]
    condor_one = condor_value_grid(condor, market, vol_model, spx, vix, np.minimum(when, condor.days))
    hedge_pl = np.broadcast_to(hedge_pnl(hedge, market, vix, spx, when), vix.shape)
    return {h: BookScenarios(h, np.broadcast_to(spx[i], vix.shape[1:]).ravel(), np.asarray(condor_one[i], float).ravel(),
                             np.asarray(hedge_pl[i], float).ravel(),
                             np.broadcast_to(grids[i][2][None, :], vix.shape[1:]).ravel())
            for i, h in enumerate(horizons)}


def _outcomes(market: MarketState, vol_model: VolModel, trading_days: int, days: float):
    """SPX outcomes (n,) from the smile's density, VIX at each (VIX_POINTS, n) from the
    spot–vol band, and the down tail (the 5 % of outcomes with the lowest SPX)."""
    density = smile_density(market, vol_model, days, SPX_POINTS)
    spx = density.spot_at_expiry
    band = log_vix_change(market.vix, np.log(spx / market.spot), trading_days)  # (3, n)
    up = (band[2] - band[1]) / _Z_P90
    down = (band[1] - band[0]) / _Z_P90
    z = ndtri((np.arange(VIX_POINTS) + 0.5) / VIX_POINTS)[:, None]
    log_vix = band[1][None, :] + np.where(z > 0, up[None, :], down[None, :]) * z
    vix = np.clip(market.vix * np.exp(log_vix), 5.0, 150.0)          # (VIX_POINTS, n)
    order = np.argsort(spx)
    tail = np.zeros(spx.size, bool)
    tail[order[: max(1, int(np.ceil(0.05 * spx.size)))]] = True
    return spx, vix, tail


def size_by_book_cvar(scenarios: BookScenarios, budget: float, max_contracts: int = 5_000) -> int:
    """The most condor contracts whose book CVaR 95 % (with the hedge) stays within ``budget``."""
    n = np.arange(0, max_contracts + 1)
    best = 0
    # CVaR of n·c + h grows with n once the condor dominates: scan in blocks.
    for start in range(0, n.size, 500):
        block = n[start:start + 500]
        books = block[:, None] * scenarios.condor_one[None, :] + scenarios.hedge[None, :]
        tail = max(1, int(np.ceil((1.0 - CVAR_LEVEL) * books.shape[1])))
        cvar = -np.partition(books, tail - 1, axis=1)[:, :tail].mean(axis=1)
        fits = block[cvar <= budget]
        if fits.size:
            best = int(fits.max())
        if np.all(cvar[-10:] > budget):
            break
    return best
