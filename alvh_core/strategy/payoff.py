"""The condor and its hedge on one SPX axis, scenarios and the hedged book.

The hedge pays in VIX and the condor in SPX; the fitted **spot–vol link**
(:mod:`alvh_core.model.spotvol`) maps each SPX move to a VIX level, by the VIX it
starts from, with its 10th–90th percentile band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from alvh_core.model.distributions import TerminalDistribution, pnl_measures
from alvh_core.model.market import MarketState
from alvh_core.model.pricing import TRADING_DAYS_PER_YEAR, black_price_scaled
from alvh_core.model.spotvol import vix_after_move, vix_band
from alvh_core.model.volmodel import VolModel
from alvh_core.strategy.condor import CondorMetrics, IronCondor
from alvh_core.strategy.hedge import HedgePlan, hedge_pnl

STRESS_MOVES = (-0.02, -0.05, -0.10, -0.20)


def trading_days_between(calendar_days: float) -> float:
    return max(calendar_days * TRADING_DAYS_PER_YEAR / 365.0, 1.0)


def condor_value_grid(condor: IronCondor, market: MarketState, vol_model: VolModel, spx, vix,
                      days_elapsed) -> np.ndarray:
    """Condor P/L (dollars per contract) at SPX ``spx`` and VIX ``vix`` after
    ``days_elapsed``; the smile moves with the index (sticky moneyness) and
    scales with VIX/VIX0.  At expiry this is the payoff.

    ``days_elapsed`` is one date or an array broadcasting with the grid (one
    date per scenario: the stress episodes of several lengths in one call).
    """
    spx = np.asarray(spx, float)
    vix = np.asarray(vix, float)
    if np.ndim(days_elapsed) == 0:
        left = condor.days - float(days_elapsed)
        if left <= 0:
            return np.broadcast_to(condor.pnl_at_expiry(spx) * condor.dollars_per_point,
                                   np.broadcast_shapes(spx.shape, vix.shape))
        shape = np.broadcast_shapes(spx.shape, vix.shape)
        return _condor_value(condor, market, vol_model, spx, vix, left, shape)
    left = condor.days - np.asarray(days_elapsed, float)
    shape = np.broadcast_shapes(spx.shape, vix.shape, left.shape)
    value = _condor_value(condor, market, vol_model, spx, vix, np.maximum(left, 1e-6), shape)
    if (left > 0).all():
        return value
    return np.where(left > 0, value, condor.pnl_at_expiry(np.broadcast_to(spx, shape)) * condor.dollars_per_point)


def _condor_value(condor: IronCondor, market: MarketState, vol_model: VolModel, spx: np.ndarray, vix: np.ndarray,
                  left, shape: tuple) -> np.ndarray:
    """The condor before expiry, ``left`` calendar days (a number or an array on the grid) still to run."""
    # All legs in one call: a leading axis of legs over the (SPX, VIX) grid.
    lead = (-1,) + (1,) * len(shape)
    if np.ndim(left) == 0:   # one date: plain floats
        tenor = float(left)
        years = tenor / 365.0
        growth, root, discount = math.exp((market.rate - market.div) * years), math.sqrt(years), math.exp(-market.rate * years)
    else:
        years = np.asarray(left, float) / 365.0
        tenor = np.asarray(left, float)[None, ...]
        growth, root, discount = np.exp((market.rate - market.div) * years), np.sqrt(years), np.exp(-market.rate * years)
    strikes = np.array([leg.strike for leg in condor.legs]).reshape(lead)
    is_call = np.array([leg.kind == "call" for leg in condor.legs]).reshape(lead)
    weights = np.array([leg.signed_quantity for leg in condor.legs], float)
    forward = (spx * growth)[None, ...]
    # The smile at today's VIX gives each leg's vol on the SPX axis; VIX/VIX0 scales it.
    stddev = (vol_model.implied_vol(strikes, forward, tenor) + condor.leg_iv_shift().reshape(lead)) * root
    prices = black_price_scaled(forward, strikes, stddev, (vix / market.vix)[None, ...], discount, is_call)
    prices = np.broadcast_to(prices, (len(weights),) + shape)
    total = (weights @ prices.reshape(len(weights), -1)).reshape(shape)
    return (total - condor.premium) * condor.dollars_per_point


def payoff_grid(condor: IronCondor, metrics: CondorMetrics, points: int = 241) -> np.ndarray:
    """SPX levels for the payoff chart: the wings plus 2.5σ either side (241
    points, a step of about 0.1 % of SPX: finer than a chart shows)."""
    low = min(condor.long_put.strike, condor.spot - 2.5 * metrics.expected_move_1sd)
    high = max(condor.long_call.strike, condor.spot + 2.5 * metrics.expected_move_1sd)
    pad = 0.15 * (high - low)
    return np.linspace(max(low - pad, 1.0), high + pad, points)


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
    vix = vix_band(market.vix, r, days)  # p10, median, p90
    condor_pl = condor_value_grid(condor, market, vol_model, spx, vix[1], days_elapsed) * contracts
    hedge = hedge_pnl(plan, market, vix, spx[None, :], days_elapsed)  # the three responses in one call
    return PayoffCurves(spx, vix[1], vix[0], vix[2], condor_pl, hedge[1], hedge[0], hedge[2],
                        condor_pl + hedge[1], float(days_elapsed))


@dataclass(frozen=True)
class HeatMap:
    spx_moves: np.ndarray   # decimals, columns
    vix_levels: np.ndarray  # rows
    combined: np.ndarray    # dollars, (vix, spx)
    days_elapsed: float
    condor_scale: float = 0.0   # the condor's largest P/L on the grid, dollars: the colour scale of the book


def heat_map(condor: IronCondor, contracts: int, plan: HedgePlan, market: MarketState, vol_model: VolModel,
             days_elapsed: float, moves: np.ndarray | None = None, vix_levels: np.ndarray | None = None) -> HeatMap:
    """Combined P/L over (SPX move, VIX level): 101 moves × 61 VIX levels by default."""
    moves = np.linspace(-0.20, 0.10, 101) if moves is None else np.asarray(moves, float)
    vix_levels = np.linspace(9.0, 90.0, 61) if vix_levels is None else np.asarray(vix_levels, float)
    spx = market.spot * (1.0 + moves)[None, :]
    vix = vix_levels[:, None]
    condor_pl = condor_value_grid(condor, market, vol_model, spx, vix, days_elapsed) * contracts
    return HeatMap(moves, vix_levels, condor_pl + hedge_pnl(plan, market, vix, spx, days_elapsed), float(days_elapsed),
                   float(np.max(np.abs(condor_pl))) if condor_pl.size else 0.0)


@dataclass(frozen=True)
class StressRow:
    move: float
    vix: float          # median VIX response
    condor: float       # whole position, dollars, at the median VIX
    hedge: float
    combined: float
    vix_p10: float = 0.0
    vix_p90: float = 0.0
    combined_p10: float = 0.0   # condor + hedge at the p10 / p90 VIX
    combined_p90: float = 0.0


def stress_table(condor: IronCondor, contracts: int, plan: HedgePlan, market: MarketState, vol_model: VolModel,
                 days_elapsed: float, moves=STRESS_MOVES) -> tuple[StressRow, ...]:
    """SPX shocks by the horizon with the fitted VIX response: median and band edges."""
    days = trading_days_between(max(days_elapsed, 1.0))
    moves = np.asarray(moves, float)
    spx = market.spot * (1.0 + moves)
    vix = vix_band(market.vix, np.log1p(moves), days)  # (3, moves)
    condor_pl = condor_value_grid(condor, market, vol_model, spx[None, :], vix, days_elapsed) * contracts
    hedge = hedge_pnl(plan, market, vix, spx[None, :], days_elapsed)
    total = condor_pl + hedge
    return tuple(StressRow(float(m), float(vix[1, i]), float(condor_pl[1, i]), float(hedge[1, i]), float(total[1, i]),
                           float(vix[0, i]), float(vix[2, i]), float(total[0, i]), float(total[2, i]))
                 for i, m in enumerate(moves))


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
    condor_pl = condor.pnl_at_expiry(s) * condor.dollars_per_point * n
    vix = vix_after_move(market.vix, np.log(s / market.spot), trading_days_between(condor.days))
    combined = condor_pl + hedge_pnl(plan, market, vix, s, condor.days)
    alone, both = pnl_measures(condor_pl), pnl_measures(combined)
    return HedgedBook(alone.expected_pl, both.expected_pl, alone.cvar95, both.cvar95,
                      float(-condor_pl.min()), float(-combined.min()), both.pop)


# --- P/L over time: dates × SPX levels ---------------------------------------------------------

@dataclass(frozen=True)
class PnlTable:
    """Combined P/L (dollars, whole position) on each date (columns) at each SPX level (rows)."""

    days: np.ndarray         # calendar days from today, the last one the condor's expiry
    spx: np.ndarray          # SPX levels, high to low (as traders' tables read)
    combined: np.ndarray     # (levels, dates)
    condor: np.ndarray
    hedge: np.ndarray
    vix: np.ndarray          # VIX assumed at each cell: the spot–vol link's median for that move

    def frame(self, asof=None):
        """The table as a frame: one row per SPX level, one column per date (labeled by date when
        ``asof`` is given, else by days from today)."""
        import pandas as pd

        if asof is not None:
            labels = [(pd.Timestamp(asof) + pd.Timedelta(days=float(d))).strftime("%a %d %b") + (
                " (expiry)" if i == len(self.days) - 1 else "") for i, d in enumerate(self.days)]
        else:
            labels = [f"T+{d:g}" for d in self.days]
        out = pd.DataFrame(self.combined, columns=labels)
        out.insert(0, "SPX", self.spx)
        return out


def pnl_dates(condor: IronCondor, count: int = 8, asof=None) -> np.ndarray:
    """About ``count`` dates from today to the condor's expiry in calendar days (expiry last);
    trading days only when ``asof`` (today's date) is given."""
    span = max(float(condor.days), 0.0)
    if span <= 0:
        return np.array([0.0])
    whole = np.arange(0.0, np.ceil(span))
    if asof is not None:
        from datetime import timedelta

        from alvh_core.data.listings import is_business_day
        whole = np.array([d for d in whole if is_business_day(asof + timedelta(days=int(d)))] or [0.0])
    pick = np.unique(np.round(np.linspace(0, whole.size - 1, min(max(int(count) - 1, 1), whole.size))).astype(int))
    days = whole[pick]
    return np.append(days[days < span], span)


def pnl_levels(condor: IronCondor, market: MarketState, count: int = 15) -> np.ndarray:
    """About ``count`` SPX levels from one wing beyond the long put to one beyond the long call,
    on round numbers, high to low."""
    wing = max(condor.put_width, condor.call_width)
    low = condor.long_put.strike - wing
    high = condor.long_call.strike + wing
    raw = (high - low) / (count - 1)
    step = max((s for s in (1, 2, 5, 10, 25, 50, 100, 250, 500) if s <= raw), default=1)
    levels = np.arange(np.floor(low / step) * step, high + step, step)
    if levels.size > count + 2:
        centre = np.argmin(np.abs(levels - market.spot))
        start = int(np.clip(centre - count // 2, 0, levels.size - count))
        levels = levels[start:start + count]
    return levels[::-1]


def pnl_table(condor: IronCondor, contracts: int, plan: HedgePlan, market: MarketState, vol_model: VolModel,
              days=None, spx=None, asof=None) -> PnlTable:
    """The book's P/L over dates × SPX levels, VIX at the spot–vol link's median for each move
    (:func:`payoff_curves` on each date); at expiry the condor's payoff.  With ``asof`` the
    dates are trading days."""
    days = pnl_dates(condor, asof=asof) if days is None else np.asarray(days, float)
    spx = pnl_levels(condor, market) if spx is None else np.asarray(spx, float)
    columns = [payoff_curves(condor, contracts, plan, market, vol_model, spx, float(d)) for d in days]
    stack = lambda name: np.stack([getattr(c, name) for c in columns], axis=1)  # noqa: E731
    return PnlTable(days, spx, stack("combined"), stack("condor"), stack("hedge"), stack("vix_median"))


#: Relative SPX bump for the book's greeks (0.5 %: smooth enough for the condor's kinks near expiry).
GREEK_BUMP = 0.005
BOOK_GREEK_ROWS = ("Delta along the spot–vol link ($ per SPX point)", "Delta, VIX held ($ per SPX point)",
                   "Hedge's delta through the link ($ per SPX point)",
                   "Gamma along the link ($ per SPX point, per point)", "Vega ($ per VIX point)",
                   "Theta, SPX and VIX held ($ per day)")


def book_value(condor: IronCondor, contracts: int, plan: HedgePlan, market: MarketState, vol_model: VolModel,
               spx, vix, days_elapsed: float) -> tuple[np.ndarray, np.ndarray]:
    """(condor, hedge) P/L in dollars of the whole position at SPX ``spx`` and VIX ``vix``."""
    condor_pl = condor_value_grid(condor, market, vol_model, spx, vix, days_elapsed) * contracts
    return condor_pl, hedge_pnl(plan, market, vix, spx, days_elapsed)


def book_greeks(condor: IronCondor, contracts: int, plan: HedgePlan, market: MarketState, vol_model: VolModel,
                days) -> np.ndarray:
    """The whole book's greeks in SPX terms on each date (columns; rows :data:`BOOK_GREEK_ROWS`).

    On each date SPX is where it is today and VIX at the spot–vol link's median for no move (the
    P/L table's middle).  "Along the link": SPX bumped ±0.5 % with VIX moving as the link's median
    says, so the VIX legs' vega arrives in SPX points; "VIX held": the condor's and the SPX legs'
    own delta.  Vega moves spot VIX one point (the condor's smile scales with it, the VIX futures by
    their tenor beta); theta is one calendar day with SPX and VIX held.  Central differences of
    the same valuation as the P/L table."""
    s0 = market.spot
    h = GREEK_BUMP
    out = np.full((len(BOOK_GREEK_ROWS), len(days)), np.nan)
    for j, d in enumerate(np.asarray(days, float)):
        td = trading_days_between(max(d, 1.0))
        spx = s0 * np.array([1.0 - h, 1.0, 1.0 + h])
        vix_link = vix_after_move(market.vix, np.log(spx / s0), td)
        mid = float(vix_link[1])
        c_link, h_link = book_value(condor, contracts, plan, market, vol_model, spx, vix_link, d)
        c_held, h_held = book_value(condor, contracts, plan, market, vol_model, spx, np.full(3, mid), d)
        link, held = c_link + h_link, c_held + h_held
        step = h * s0
        vega = np.diff(sum(book_value(condor, contracts, plan, market, vol_model, np.full(2, s0),
                                      np.array([mid - 0.5, mid + 0.5]), d)))[0]
        out[0, j] = (link[2] - link[0]) / (2 * step)
        out[1, j] = (held[2] - held[0]) / (2 * step)
        out[2, j] = ((h_link[2] - h_link[0]) - (h_held[2] - h_held[0])) / (2 * step)
        out[3, j] = (link[2] - 2 * link[1] + link[0]) / step**2
        out[4, j] = vega
        if d + 1.0 <= condor.days:
            later = sum(book_value(condor, contracts, plan, market, vol_model, np.array([s0]), np.array([mid]), d + 1.0))
            out[5, j] = float(later[0] - held[1])
    return out
