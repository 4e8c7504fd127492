"""The condor and its hedge on one SPX axis, scenarios and the hedged book.

The hedge pays in VIX and the condor in SPX; the fitted **spot–vol link**
maps each SPX move to a VIX level (:data:`alvh_core.fitted.SPOT_VOL_LINK`),
with its 10th–90th percentile residual band.  Coefficients are interpolated
between the fitted horizons (1, 5, 21 trading days) and held past 21 days,
where the residual band widens with the square root of time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .condor import IronCondor
from .fitted import SPOT_VOL_LINK
from .hedge import HedgePlan, hedge_pnl
from .legs import MULTIPLIER
from .market import MarketState
from .pricing import black_price_scaled
from .probability import TRADING_DAYS_PER_YEAR, TerminalDistribution, pnl_measures
from .volmodel import VolModel

STRESS_MOVES = (-0.02, -0.05, -0.10, -0.20)


@lru_cache(maxsize=512)
def link_coefficients(trading_days: float) -> tuple[float, float, float, float, float]:
    """(beta_down, beta_up, gamma, residual p10, residual p90) at a horizon."""
    horizons = np.array(sorted(SPOT_VOL_LINK), float)
    table = np.array([SPOT_VOL_LINK[int(h)] for h in horizons])
    h = float(np.clip(trading_days, horizons[0], horizons[-1]))
    coef = [float(np.interp(h, horizons, table[:, i])) for i in range(5)]
    if trading_days > horizons[-1]:
        widen = np.sqrt(trading_days / horizons[-1])
        coef[3], coef[4] = coef[3] * widen, coef[4] * widen
    return tuple(coef)


def vix_after_move(vix0: float, spx_return, trading_days: float, band: str = "median") -> np.ndarray:
    """VIX after a log-return of SPX over ``trading_days``: the fitted link
    (``band`` = "median", "p10" or "p90" of the residuals), floored at 5."""
    beta_down, beta_up, gamma, p10, p90 = link_coefficients(float(trading_days))
    r = np.asarray(spx_return, float)
    shift = {"median": 0.0, "p10": p10, "p90": p90}[band]
    log_change = np.where(r < 0, beta_down * r, beta_up * r) + gamma * r * r + shift
    return np.maximum(vix0 * np.exp(log_change), 5.0)


def trading_days_between(calendar_days: float) -> float:
    return max(calendar_days * TRADING_DAYS_PER_YEAR / 365.0, 1.0)


def condor_value_grid(condor: IronCondor, market: MarketState, vol_model: VolModel, spx, vix,
                      days_elapsed: float) -> np.ndarray:
    """Condor P/L (dollars per contract) at SPX ``spx`` and VIX ``vix`` after
    ``days_elapsed``; the smile moves with the index (sticky moneyness) and
    scales with VIX/VIX0.  At expiry this is the payoff."""
    spx = np.asarray(spx, float)
    vix = np.asarray(vix, float)
    left = condor.days - days_elapsed
    if left <= 0:
        return np.broadcast_to(condor.pnl_at_expiry(spx) * MULTIPLIER, np.broadcast_shapes(spx.shape, vix.shape))
    years = left / 365.0
    shape = np.broadcast_shapes(spx.shape, vix.shape)
    # All legs in one call: a leading axis of legs over the (SPX, VIX) grid.
    lead = (-1,) + (1,) * len(shape)
    strikes = np.array([leg.strike for leg in condor.legs]).reshape(lead)
    is_call = np.array([leg.kind == "call" for leg in condor.legs]).reshape(lead)
    weights = np.array([leg.signed_quantity for leg in condor.legs], float)
    forward = (spx * math.exp((market.rate - market.div) * years))[None, ...]
    # The smile at today's VIX gives each leg's vol on the SPX axis; VIX/VIX0 scales it.
    stddev = vol_model.implied_vol(strikes, forward, left) * math.sqrt(years)
    prices = black_price_scaled(forward, strikes, stddev, (vix / market.vix)[None, ...], math.exp(-market.rate * years),
                                is_call)
    prices = np.broadcast_to(prices, (len(weights),) + shape)
    total = (weights @ prices.reshape(len(weights), -1)).reshape(shape)
    return (total - condor.premium) * MULTIPLIER


@dataclass(frozen=True)
class PayoffCurves:
    """P/L against SPX (dollars, whole position) at the horizon date."""

    spx: np.ndarray
    vix_median: np.ndarray
    vix_p10: np.ndarray
    vix_p90: np.ndarray
    condor: np.ndarray
    hedge: np.ndarray
    hedge_p10: np.ndarray      # hedge P/L at the p10 / p90 VIX response
    hedge_p90: np.ndarray
    combined: np.ndarray
    days_elapsed: float


def payoff_curves(condor: IronCondor, contracts: int, plan: HedgePlan, market: MarketState, vol_model: VolModel,
                  spx: np.ndarray, days_elapsed: float) -> PayoffCurves:
    spx = np.asarray(spx, float)
    days = trading_days_between(max(days_elapsed, 1.0))
    r = np.log(spx / market.spot)
    vix = np.stack([vix_after_move(market.vix, r, days, b) for b in ("median", "p10", "p90")])
    condor_pl = condor_value_grid(condor, market, vol_model, spx, vix[0], days_elapsed) * contracts
    hedge = hedge_pnl(plan, market, vix, spx[None, :], days_elapsed)  # the three responses in one call
    return PayoffCurves(spx, vix[0], vix[1], vix[2], condor_pl, hedge[0], hedge[1], hedge[2],
                        condor_pl + hedge[0], float(days_elapsed))


@dataclass(frozen=True)
class HeatMap:
    spx_moves: np.ndarray   # decimals, columns
    vix_levels: np.ndarray  # rows
    combined: np.ndarray    # dollars, (vix, spx)
    days_elapsed: float


def heat_map(condor: IronCondor, contracts: int, plan: HedgePlan, market: MarketState, vol_model: VolModel,
             days_elapsed: float, moves: np.ndarray | None = None, vix_levels: np.ndarray | None = None) -> HeatMap:
    """Combined P/L over (SPX move, VIX level): 101 moves × 61 VIX levels by default."""
    moves = np.linspace(-0.20, 0.10, 101) if moves is None else np.asarray(moves, float)
    vix_levels = np.linspace(9.0, 90.0, 61) if vix_levels is None else np.asarray(vix_levels, float)
    spx = market.spot * (1.0 + moves)[None, :]
    vix = vix_levels[:, None]
    condor_pl = condor_value_grid(condor, market, vol_model, spx, vix, days_elapsed) * contracts
    return HeatMap(moves, vix_levels, condor_pl + hedge_pnl(plan, market, vix, spx, days_elapsed), float(days_elapsed))


@dataclass(frozen=True)
class StressRow:
    move: float
    vix: float
    condor: float
    hedge: float
    combined: float


def stress_table(condor: IronCondor, contracts: int, plan: HedgePlan, market: MarketState, vol_model: VolModel,
                 days_elapsed: float, moves=STRESS_MOVES) -> tuple[StressRow, ...]:
    """SPX shocks by the horizon with the fitted VIX response (median)."""
    days = trading_days_between(max(days_elapsed, 1.0))
    moves = np.asarray(moves, float)
    spx = market.spot * (1.0 + moves)
    vix = vix_after_move(market.vix, np.log1p(moves), days)
    condor_pl = condor_value_grid(condor, market, vol_model, spx, vix, days_elapsed) * contracts
    hedge = hedge_pnl(plan, market, vix, spx, days_elapsed)
    return tuple(StressRow(float(m), float(v), float(c), float(h), float(c + h))
                 for m, v, c, h in zip(moves, vix, condor_pl, hedge, strict=True))


@dataclass(frozen=True)
class HedgedBook:
    """Condor alone vs condor + hedge at the condor's expiry (model-based)."""

    expected_pl_condor: float
    expected_pl_combined: float
    cvar95_condor: float
    cvar95_combined: float
    worst_condor: float
    worst_combined: float
    pop_combined: float

    @property
    def cvar_reduction(self) -> float:
        return 1.0 - self.cvar95_combined / self.cvar95_condor if self.cvar95_condor > 0 else 0.0

    @property
    def worst_case_reduction(self) -> float:
        return 1.0 - self.worst_combined / self.worst_condor if self.worst_condor > 0 else 0.0


def hedged_book(condor: IronCondor, contracts: int, plan: HedgePlan, market: MarketState,
                distribution: TerminalDistribution) -> HedgedBook:
    """P/L measures of the position over the distribution of SPX at expiry,
    with VIX from the spot–vol link (median)."""
    n = max(contracts, 1)
    s = distribution.spot_at_expiry
    condor_pl = condor.pnl_at_expiry(s) * MULTIPLIER * n
    vix = vix_after_move(market.vix, np.log(s / market.spot), trading_days_between(condor.days))
    combined = condor_pl + hedge_pnl(plan, market, vix, s, condor.days)
    alone, both = pnl_measures(condor_pl), pnl_measures(combined)
    return HedgedBook(alone.expected_pl, both.expected_pl, alone.cvar95, both.cvar95,
                      float(-condor_pl.min()), float(-combined.min()), both.pop)
