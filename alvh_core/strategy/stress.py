"""Stress a position: an SPX move with the fitted VIX response, and real episodes.

:func:`stress_outcome` marks the condor and the hedge at an SPX move after
some trading days, at the p10, median and p90 of the spot–vol link's VIX
(:mod:`alvh_core.model.spotvol`), and, when given, at the VIX that actually
followed.  :data:`EPISODES` are the sharp falls of the project's history,
each as the SPX and VIX closes at its start and end; a Builder book is
marked at the episode's SPX move with VIX moved as it moved then, beside the
model's VIX for the same SPX move.

Re-derive the episode figures with
``python -m alvh_core calibrate --data-dir ../shared/data --json`` (key
``episodes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np

from alvh_core.model.market import MarketState
from alvh_core.model.pricing import TRADING_DAYS_PER_YEAR
from alvh_core.model.spotvol import BANDS, VIX_CAP, VIX_FLOOR, vix_band
from alvh_core.model.vixfutures import tenor_beta
from alvh_core.model.volmodel import VolModel
from alvh_core.strategy.condor import IronCondor
from alvh_core.strategy.hedge import HedgePlan, hedge_pnl
from alvh_core.strategy.payoff import condor_value_grid


@dataclass(frozen=True)
class Episode:
    """A real fall: SPX and VIX closes on its first and last day."""

    key: str
    label: str
    start: str
    end: str
    trading_days: int
    spx_start: float
    spx_end: float
    vix_start: float
    vix_end: float

    @property
    def spx_move(self) -> float:
        return self.spx_end / self.spx_start - 1.0

    @property
    def vix_ratio(self) -> float:
        return self.vix_end / self.vix_start

    @property
    def calendar_days(self) -> int:
        return (date.fromisoformat(self.end) - date.fromisoformat(self.start)).days


#: The falls replayed on the Builder and by ``stress --episode``.  Closes from
#: SPX_History.csv (S&P 500, rounded to 2 dp) and VIX_History.csv (Cboe).
EPISODES = (
    Episode("2008-10", "Oct 2008 (Lehman)", "2008-10-01", "2008-10-10", 7, 1161.06, 899.22, 39.81, 69.95),
    Episode("2011-08", "Aug 2011 (US downgrade)", "2011-07-29", "2011-08-08", 6, 1292.28, 1119.46, 25.25, 48.00),
    Episode("2015-08", "Aug 2015 (yuan)", "2015-08-19", "2015-08-24", 3, 2079.61, 1893.21, 15.25, 40.74),
    Episode("2018-02", "Feb 2018 (Volmageddon)", "2018-02-01", "2018-02-08", 5, 2821.98, 2581.00, 13.47, 33.46),
    Episode("2018-12", "Dec 2018", "2018-12-13", "2018-12-24", 7, 2650.54, 2351.10, 20.65, 36.07),
    Episode("2020-02", "Feb 2020 (COVID, first week)", "2020-02-19", "2020-02-28", 7, 3386.15, 2954.22, 14.38, 40.11),
    Episode("2020-03", "Mar 2020 (COVID crash)", "2020-03-06", "2020-03-16", 6, 2972.37, 2386.13, 41.94, 82.69),
    Episode("2022-06", "Jun 2022 (CPI shock)", "2022-06-08", "2022-06-16", 6, 4115.77, 3666.77, 23.96, 32.95),
    Episode("2024-08", "Aug 2024 (yen carry)", "2024-07-31", "2024-08-05", 3, 5522.30, 5186.33, 16.36, 38.57),
)
EPISODES_BY_KEY = {e.key: e for e in EPISODES}


def episode_from_history(panel, key: str, label: str, start: str, end: str) -> Episode:
    """An :class:`Episode` measured on a history panel (columns spx, vix)."""
    window = panel.loc[start:end].dropna(subset=["spx", "vix"])
    if window.empty or str(window.index[0].date()) != start or str(window.index[-1].date()) != end:
        raise ValueError(f"{key}: no SPX and VIX closes on both {start} and {end}")
    first, last = window.iloc[0], window.iloc[-1]
    return Episode(key, label, start, end, len(window) - 1, round(float(first["spx"]), 2), round(float(last["spx"]), 2),
                   round(float(first["vix"]), 2), round(float(last["vix"]), 2))


def calendar_days_for(trading_days: float) -> float:
    """Calendar days spanned by a number of trading days (252 a year)."""
    return float(trading_days) * 365.0 / TRADING_DAYS_PER_YEAR


@dataclass(frozen=True)
class Marks:
    """Whole-position P/L (dollars) at one scenario."""

    vix: float
    condor: float
    hedge: float

    @property
    def combined(self) -> float:
        return self.condor + self.hedge


@dataclass(frozen=True)
class FutureMove:
    expiry: str
    days_left: float     # calendar days to expiry after the move
    before: float        # the future's proxy before the move, VIX points
    after: dict          # band -> level after the move


@dataclass(frozen=True)
class StressOutcome:
    spx_move: float          # decimal
    spx_after: float
    trading_days: float
    calendar_days: float
    bands: dict              # band -> Marks (model VIX at p10 / median / p90)
    futures: tuple[FutureMove, ...]
    actual: Marks | None = None   # at the VIX given as the one that happened


def mark(condor: IronCondor, contracts: int, hedge: HedgePlan, market: MarketState, vol_model: VolModel,
         spx_after, vix_after, days_elapsed) -> tuple[np.ndarray, np.ndarray]:
    """Condor and hedge P/L (dollars, whole position) at SPX/VIX levels after
    ``days_elapsed`` (one date, or an array of dates broadcasting with the levels)."""
    if np.ndim(days_elapsed):
        days = np.clip(np.asarray(days_elapsed, float), 0.0, condor.days)
    else:
        days = min(max(float(days_elapsed), 0.0), condor.days)
    spx_after = np.asarray(spx_after, float)
    vix_after = np.asarray(vix_after, float)
    condor_pl = condor_value_grid(condor, market, vol_model, spx_after, vix_after, days) * contracts
    return condor_pl, hedge_pnl(hedge, market, vix_after, spx_after, days_elapsed)


def stress_outcome(condor: IronCondor, contracts: int, hedge: HedgePlan, market: MarketState, vol_model: VolModel,
                   spx_move: float, trading_days: float, calendar_days: float | None = None,
                   actual_vix: float | None = None) -> StressOutcome:
    """The position after SPX moves by ``spx_move`` (decimal) over ``trading_days``."""
    if not np.isfinite(spx_move) or spx_move <= -1.0:
        raise ValueError("the SPX move must be a finite percentage above -100 %")
    if not np.isfinite(trading_days) or trading_days <= 0:
        raise ValueError("the horizon must be a positive number of trading days")
    elapsed = calendar_days_for(trading_days) if calendar_days is None else float(calendar_days)
    spx_after = market.spot * (1.0 + spx_move)
    levels = vix_band(market.vix, np.log1p(spx_move), trading_days)
    vix = np.append(levels, actual_vix) if actual_vix is not None else levels
    condor_pl, hedge_pl = mark(condor, contracts, hedge, market, vol_model, spx_after, vix, elapsed)
    marks = [Marks(float(v), float(c), float(h)) for v, c, h in zip(vix, np.broadcast_to(condor_pl, vix.shape),
                                                                     hedge_pl, strict=True)]
    futures = []
    seen = set()
    for layer in hedge.active_layers:
        for leg in layer.legs:
            if leg.underlying != "VIX" or leg.expiry in seen:
                continue
            seen.add(leg.expiry)
            left = leg.days - elapsed
            beta = float(tenor_beta(max(left, 0.0)))
            after = {b: float(levels[i]) if left <= 0 else float(leg.forward * (levels[i] / market.vix) ** beta)
                     for i, b in enumerate(BANDS)}
            futures.append(FutureMove(leg.expiry, float(max(left, 0.0)), float(leg.forward), after))
    return StressOutcome(float(spx_move), float(spx_after), float(trading_days), float(elapsed),
                         dict(zip(BANDS, marks[:3], strict=True)), tuple(futures),
                         marks[3] if actual_vix is not None else None)


@lru_cache(maxsize=64)
def _model_vix_then(episode: Episode) -> float:
    """The link's median VIX for the episode's SPX move from its own start."""
    return _model_vix(episode.vix_start, episode)


@lru_cache(maxsize=512)
def _model_vix(vix: float, episode: Episode) -> float:
    """The link's median VIX after the episode's SPX move from ``vix`` (depends on the market's
    VIX only: kept across the Builder's recomputes on one market)."""
    return float(vix_band(vix, np.log1p(episode.spx_move), episode.trading_days)[1])


@dataclass(frozen=True)
class EpisodeRow:
    """Today's book through a real episode's SPX move."""

    episode: Episode
    model_vix_then: float    # the link's median from the episode's start VIX, for its SPX move
    vix_as_then: float       # today's VIX moved as VIX moved then (× vix_ratio)
    model_vix: float         # the link's median from today's VIX for the same SPX move
    actual: Marks            # the book at vix_as_then
    model: Marks             # the book at model_vix
    days_elapsed: float      # calendar days the book is marked after (capped at its expiry)
    as_then_clipped: bool = False   # today's VIX × the episode's ratio fell outside 5–150 and was held at the bound
    model_clipped: bool = False     # the link's median reached the 5 or 150 bound

    @property
    def clipped_at(self) -> float | None:
        """The bound VIX as then was held at, if it was."""
        return self.vix_as_then if self.as_then_clipped else None


def episode_rows(condor: IronCondor, contracts: int, hedge: HedgePlan, market: MarketState, vol_model: VolModel,
                 episodes=EPISODES) -> tuple[EpisodeRow, ...]:
    """Every episode on today's book: its SPX move, VIX as then and VIX as the model says."""
    episodes = tuple(episodes)
    model_then = np.array([_model_vix_then(e) for e in episodes])
    model_now = np.array([_model_vix(float(market.vix), e) for e in episodes])
    raw = market.vix * np.array([e.vix_ratio for e in episodes])
    as_then = np.clip(raw, VIX_FLOOR, VIX_CAP)
    clipped = raw != as_then
    model_clipped = (model_now <= VIX_FLOOR) | (model_now >= VIX_CAP)
    elapsed = np.minimum([e.calendar_days for e in episodes], condor.days).astype(float)
    spx_after = market.spot * (1.0 + np.array([e.spx_move for e in episodes]))
    # Every episode in one pricing call: a (2, episodes) grid with one date per column.
    vix = np.stack([as_then, model_now])
    spx = np.broadcast_to(spx_after[None, :], vix.shape)
    condor_pl, hedge_pl = mark(condor, contracts, hedge, market, vol_model, spx, vix, elapsed[None, :])
    marks = np.stack([np.broadcast_to(condor_pl, vix.shape).T, np.broadcast_to(hedge_pl, vix.shape).T], axis=-1)
    rows = [EpisodeRow(e, float(model_then[i]), float(as_then[i]), float(model_now[i]),
                       Marks(float(as_then[i]), *marks[i, 0]), Marks(float(model_now[i]), *marks[i, 1]),
                       float(elapsed[i]), bool(clipped[i]), bool(model_clipped[i]))
            for i, e in enumerate(episodes)]
    return tuple(rows)
