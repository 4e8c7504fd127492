"""Managing the condor: where the backtester's exit rules would fire, and the hedge's roll calendar.

The rules (:class:`ExitRules`, the same the backtester runs): take
profit when the condor has made a share of its credit, stop when it has lost
a multiple of it, close (or close and open the next one) some days before
expiry; plus rolling the tested side when SPX comes within some percent of a
short strike.  :func:`trigger_levels` finds, on each date, the SPX levels at
which each rule fires, on the same valuation as the P/L table (the condor's
smile moves with the index, VIX at the spot–vol link's median for the move).
:func:`roll_calendar` lists each hedge layer's next roll dates and the model
carry of one roll.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from alvh_core.data.listings import is_business_day, previous_business_day
from alvh_core.model import limits
from alvh_core.model.market import MarketState
from alvh_core.model.spotvol import vix_after_move
from alvh_core.strategy.condor import IronCondor
from alvh_core.strategy.hedge import HedgePlan, roll_cost
from alvh_core.strategy.payoff import condor_value_grid, trading_days_between


@dataclass(frozen=True)
class ExitRules:
    """Exit and adjustment rules, the Builder's and the backtester's; None = off (held to expiry)."""

    profit_target: float | None = None   # close when the buy-back mid is down this share of the credit (0.5: half)
    stop: float | None = None            # close when the loss reaches this multiple of the credit (2: twice)
    exit_days: int | None = None         # close this many calendar days before expiry
    #: With ``exit_days``: open the next condor the day one is closed (the weekly and monthly strategies,
    #: the Builder's roll), instead of waiting for the next scheduled entry.
    roll: bool = False
    #: Roll a side when SPX comes within this share of its short strike (the Builder's marks; the
    #: backtester does not roll sides).
    tested: float | None = None

    def __post_init__(self) -> None:
        low, high = limits.PROFIT_TARGET
        if self.profit_target is not None and not low < self.profit_target <= high:
            raise ValueError(f"the profit target is a share of the credit between {low:g} and {high:g}")
        low, high = limits.STOP_MULTIPLE
        if self.stop is not None and not low < self.stop <= high:
            raise ValueError(f"the stop is a multiple of the credit between {low:g} and {high:g}")
        low, high = limits.EXIT_DAYS
        if self.exit_days is not None and not low <= self.exit_days <= high:
            raise ValueError(f"close-before-expiry days must be between {low} and {high}")
        low, high = limits.TESTED
        if self.tested is not None and not low <= self.tested <= high:
            raise ValueError(f"the tested-side distance is a share of the short strike between {low:g} and {high:g}")

    @property
    def active(self) -> bool:
        return any(x is not None for x in (self.profit_target, self.stop, self.exit_days, self.tested))

    @property
    def rolling(self) -> bool:
        return self.roll and self.exit_days is not None


@dataclass(frozen=True)
class TriggerRow:
    """Where each rule fires on one date (SPX levels; None where it cannot on that date)."""

    days: float
    target_low: float | None     # the profit target is reached with SPX between these
    target_high: float | None
    stop_low: float | None       # the stop fires with SPX at or below this…
    stop_high: float | None      # …or at or above this
    tested_put: float | None     # the put side is tested at or below this
    tested_call: float | None    # the call side at or above this
    pl_tested_put: float | None  # the condor's P/L (dollars per contract) when the put side is tested
    pl_tested_call: float | None


def _condor_pl(condor: IronCondor, market: MarketState, vol_model, spx: np.ndarray, days: float) -> np.ndarray:
    vix = vix_after_move(market.vix, np.log(spx / market.spot), trading_days_between(max(days, 1.0)))
    return condor_value_grid(condor, market, vol_model, spx, vix, days)


def trigger_levels(condor: IronCondor, market: MarketState, vol_model, days, rules: ExitRules,
                   points: int = 1601) -> tuple[TriggerRow, ...]:
    """Each rule's SPX trigger levels on each of ``days`` (before expiry), on a grid of ``points``
    SPX levels from half to twice spot (about 0.1 % apart)."""
    credit = condor.credit * condor.dollars_per_point       # dollars per contract at the fill
    half = points // 2 + 1
    below = market.spot * np.exp(np.linspace(np.log(0.5), 0.0, half))
    above = market.spot * np.exp(np.linspace(0.0, np.log(2.0), half))[1:]
    spx, mid = np.concatenate([below, above]), half - 1        # spx[mid] is spot
    rows = []
    for d in np.asarray(days, float):
        if d >= condor.days:
            continue
        pl = _condor_pl(condor, market, vol_model, spx, d)
        lo_hi = (None, None)
        if rules.profit_target is not None:
            hit = np.flatnonzero(pl >= rules.profit_target * credit)
            if hit.size:
                lo_hi = (float(spx[hit[0]]), float(spx[hit[-1]]))
        stop_low = stop_high = None
        if rules.stop is not None:
            losing = pl <= -rules.stop * credit
            below, above = np.flatnonzero(losing[:mid + 1]), np.flatnonzero(losing[mid:])
            stop_low = float(spx[below[-1]]) if below.size else None
            stop_high = float(spx[mid + above[0]]) if above.size else None
        tested_put = tested_call = pl_put = pl_call = None
        if rules.tested is not None:
            tested_put = condor.short_put.strike * (1.0 + rules.tested)
            tested_call = condor.short_call.strike * (1.0 - rules.tested)
            both = _condor_pl(condor, market, vol_model, np.array([tested_put, tested_call]), d)
            pl_put, pl_call = float(both[0]), float(both[1])
        rows.append(TriggerRow(float(d), *lo_hi, stop_low, stop_high, tested_put, tested_call, pl_put, pl_call))
    return tuple(rows)


def exit_day(condor: IronCondor, asof: date, exit_days: int) -> date | None:
    """The trading day ``exit_days`` calendar days before the condor's expiry (None without an expiry)."""
    if condor.expiry is None:
        return None
    day = condor.expiry.day - timedelta(days=int(exit_days))
    day = day if is_business_day(day) else previous_business_day(day)
    return max(day, asof)


@dataclass(frozen=True)
class LayerRolls:
    name: str
    roll: str                 # weekly / monthly / quarterly / held
    expiry: str               # the option bought today expires
    dates: tuple[date, ...]   # the roll dates up to the horizon
    cost_per_roll: float      # model carry of one roll, dollars
    cost_to_horizon: float    # cost per roll × rolls before the horizon


def _first_sessions(start: date, end: date, frequency: str) -> list[date]:
    """The first trading day of each week / month / quarter after ``start``, to ``end``."""
    out, day = [], start + timedelta(days=1)
    last_key = None
    first_key = {"weekly": lambda d: d.isocalendar()[:2], "monthly": lambda d: (d.year, d.month),
                 "quarterly": lambda d: (d.year, (d.month - 1) // 3)}[frequency]
    start_key = first_key(start)
    while day <= end:
        if is_business_day(day):
            key = first_key(day)
            if key != start_key and key != last_key:
                out.append(day)
            last_key = key
        day += timedelta(days=1)
    return out


def roll_calendar(plan: HedgePlan, market: MarketState, asof: date, horizon: date) -> tuple[LayerRolls, ...]:
    """Each active layer's roll dates from ``asof`` to ``horizon``: its schedule (first session of
    each week, month or quarter, as the backtester rolls), plus the day its option expires when that
    comes first; with the model carry of one roll (the value lost over one roll period, market
    unchanged)."""
    out = []
    for layer in plan.active_layers:
        expiry = layer.legs[0].expiry if layer.legs else ""
        per_roll = roll_cost(layer, market)
        if layer.roll == "held":
            out.append(LayerRolls(layer.name, "held", expiry, (), per_roll, per_roll))
            continue
        dates = _first_sessions(asof, horizon, layer.roll)
        if expiry:
            expires = date.fromisoformat(expiry)
            if expires <= horizon and (not dates or expires < dates[0]):
                dates = sorted({expires, *dates})
        out.append(LayerRolls(layer.name, layer.roll, expiry, tuple(dates), per_roll, per_roll * len(dates)))
    return tuple(out)
