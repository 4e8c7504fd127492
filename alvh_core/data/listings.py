"""Exchange days and listed expiries: SPX/SPXW options and VIX futures.

Holidays are the NYSE/Cboe full closures: the fixed rules (New Year's Day,
Martin Luther King Jr. Day from 1998, Presidents' Day, Good Friday, Memorial
Day, Juneteenth from 2022, Independence Day, Labor Day, Thanksgiving,
Christmas; a Saturday holiday closes the Friday before, except New Year's
Day; a Sunday one the Monday after) and the one-off closures since 1990.

SPX expiries, by era:

* the **monthly** SPX option (A.M.-settled on the open of the third Friday,
  last traded the Thursday before; the Thursday when the Friday is a
  holiday), listed about a year out, plus December LEAPS;
* **SPXW** P.M.-settled weeklies on Fridays from 2005-10-28, Wednesdays from
  2016-02-23, Mondays from 2016-08-15, Tuesdays from 2022-04-18 and
  Thursdays from 2022-05-11 (every weekday since), listed up to
  ``WEEKLY_LISTED_DAYS`` ahead; a weekly that falls on a holiday moves to
  the business day before (a Monday one to the Tuesday after);
* SPXW **month-end** (last business day of the month, from 2014) expiries
  listed about six months out, and quarter-ends (from 2006) about a year.

VIX futures settle on the Wednesday 30 days before the third Friday of the
next month; when that Friday is a holiday, 30 days before the business day
preceding it; and when the Wednesday itself is a holiday, the business day
before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

#: One-off full closures of the US equity and options markets since 1990.
SPECIAL_CLOSURES = frozenset({
    date(1994, 4, 27),   # President Nixon's funeral
    date(2001, 9, 11), date(2001, 9, 12), date(2001, 9, 13), date(2001, 9, 14),
    date(2004, 6, 11),   # President Reagan's funeral
    date(2007, 1, 2),    # President Ford's funeral
    date(2012, 10, 29), date(2012, 10, 30),  # Hurricane Sandy
    date(2018, 12, 5),   # President G. H. W. Bush's funeral
    date(2025, 1, 9),    # President Carter's funeral
})

#: First trading days of the instruments a backtest may trade (Cboe and CFE): VIX futures, VIX options,
#: and Mini-SPX (XSP) options, a tenth of an SPX contract.
VIX_FUTURES_LISTED = date(2004, 3, 26)
VIX_OPTIONS_LISTED = date(2006, 2, 24)
XSP_LISTED = date(2005, 10, 25)

#: Weekdays (Mon = 0) with SPXW expiries, from each date on.
WEEKLY_ERAS = (
    (date(2005, 10, 28), frozenset({4})),
    (date(2016, 2, 23), frozenset({2, 4})),
    (date(2016, 8, 15), frozenset({0, 2, 4})),
    (date(2022, 4, 18), frozenset({0, 1, 2, 4})),
    (date(2022, 5, 11), frozenset({0, 1, 2, 3, 4})),
)
#: How far ahead weeklies and dailies are listed (calendar days): Fridays farther than other days.
WEEKLY_LISTED_DAYS = {"friday": 50, "other": 31}
MONTHLY_LISTED_DAYS = 370
#: Month-ends are listed about six months out, quarter-ends about a year.
MONTH_END_LISTED_DAYS = 180
MONTH_END_FROM = date(2014, 1, 1)
QUARTER_END_FROM = date(2006, 1, 1)
LEAPS_YEARS = 3


def _observed(day: date, new_year: bool = False) -> date | None:
    if day.weekday() == 5:
        return None if new_year else day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def holidays(year: int) -> frozenset[date]:
    """Full closures of the exchange in ``year``."""
    days = {
        _observed(date(year, 1, 1), new_year=True),
        _nth_weekday(year, 2, 0, 3),                       # Presidents' Day
        _easter(year) - timedelta(days=2),                 # Good Friday
        _last_weekday(year, 5, 0),                         # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),                       # Labor Day
        _nth_weekday(year, 11, 3, 4),                      # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    if year >= 1998:
        days.add(_nth_weekday(year, 1, 0, 3))              # Martin Luther King Jr. Day
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))             # Juneteenth
    # New Year's Day of next year on a Saturday is not observed on Dec 31.
    days.discard(None)
    days |= {d for d in SPECIAL_CLOSURES if d.year == year}
    return frozenset(days)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


def previous_business_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def next_business_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def third_friday(year: int, month: int) -> date:
    return _nth_weekday(year, month, 4, 3)


# --- VIX futures --------------------------------------------------------------------

def vix_expiry(year: int, month: int) -> date:
    """Final settlement of the VIX future of ``month`` (holiday rule included)."""
    nxt_year, nxt_month = (year + 1, 1) if month == 12 else (year, month + 1)
    friday = third_friday(nxt_year, nxt_month)
    if not is_business_day(friday):
        friday = previous_business_day(friday)
    settle = friday - timedelta(days=30)
    return settle if is_business_day(settle) else previous_business_day(settle)


# --- SPX options --------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class SpxExpiry:
    """One listed SPX/SPXW expiry."""

    day: date
    root: str         # "SPX" (monthly, A.M.), "SPXW" (P.M.), or "XSP" (the mini index, P.M.)
    cycle: str         # monthly, weekly, month-end, quarter-end, leaps

    @property
    def settlement(self) -> str:
        return "AM" if self.root == "SPX" else "PM"

    @property
    def label(self) -> str:
        style = "A.M.-settled" if self.settlement == "AM" else "P.M.-settled"
        return f"{self.root} {self.day:%a %d %b %Y} ({self.cycle}, {style})"

    def years_from(self, asof: date) -> float:
        """Time to expiry in calendar days: P.M. at the close, A.M. at the open (6.5 hours sooner)."""
        days = (self.day - asof).days
        return days - (6.5 / 24.0 if self.settlement == "AM" else 0.0)


def _weekly_days(asof: date) -> frozenset[int]:
    out: frozenset[int] = frozenset()
    for start, weekdays in WEEKLY_ERAS:
        if asof >= start:
            out = weekdays
    return out


def monthly_expiry(year: int, month: int) -> date:
    friday = third_friday(year, month)
    return friday if is_business_day(friday) else previous_business_day(friday)


def _month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last if is_business_day(last) else previous_business_day(last)


@lru_cache(maxsize=2048)
def spx_expiries(asof: date) -> tuple[SpxExpiry, ...]:
    """Every SPX/SPXW expiry listed on ``asof`` (after it), earliest first.

    One entry per day: where a monthly and a weekly share a day, the monthly
    (the A.M.-settled SPX) is kept, as the standard contract of that day.
    """
    found: dict[date, SpxExpiry] = {}

    def add(day: date, root: str, cycle: str) -> None:
        if day > asof and (day not in found or root == "SPX"):
            found[day] = SpxExpiry(day, root, cycle)

    year, month = asof.year, asof.month
    for i in range(13):
        y, m = year + (month - 1 + i) // 12, (month - 1 + i) % 12 + 1
        monthly = monthly_expiry(y, m)
        if (monthly - asof).days <= MONTHLY_LISTED_DAYS:
            add(monthly, "SPX", "monthly")
        end = _month_end(y, m)
        if asof >= MONTH_END_FROM and (end - asof).days <= MONTH_END_LISTED_DAYS:
            add(end, "SPXW", "month-end")
        elif m in (3, 6, 9, 12) and asof >= QUARTER_END_FROM and (end - asof).days <= MONTHLY_LISTED_DAYS:
            add(end, "SPXW", "quarter-end")
    for k in range(1, LEAPS_YEARS + 1):
        add(monthly_expiry(asof.year + k, 12), "SPX", "leaps")
    weekdays = _weekly_days(asof)
    if weekdays:
        day = asof
        while (day - asof).days < WEEKLY_LISTED_DAYS["friday"]:
            day += timedelta(days=1)
            if day.weekday() not in weekdays:
                continue
            horizon = WEEKLY_LISTED_DAYS["friday" if day.weekday() == 4 else "other"]
            if (day - asof).days > horizon:
                continue
            listed = day
            if not is_business_day(day):
                listed = next_business_day(day) if day.weekday() == 0 else previous_business_day(day)
            add(listed, "SPXW", "weekly")
    return tuple(sorted(found.values()))


#: A standard expiry (monthly, month-end) is preferred to a weekly this much farther
#: from the target, as a share of the target's days: it has the densest strikes.
STANDARD_PREFERENCE = 0.15


def nearest_expiry(asof: date, target_days: float) -> SpxExpiry:
    """The listed expiry closest to ``target_days`` calendar days out (the later one on a
    tie), or a standard one within :data:`STANDARD_PREFERENCE` of the target's days more."""
    listed = spx_expiries(asof)

    def miss(e: SpxExpiry) -> tuple[float, int]:
        return abs((e.day - asof).days - target_days), -(e.day - asof).days

    best = min(listed, key=miss)
    standard = [e for e in listed if e.cycle != "weekly"]
    if best.cycle == "weekly" and standard:
        alternative = min(standard, key=miss)
        if miss(alternative)[0] <= miss(best)[0] + STANDARD_PREFERENCE * target_days:
            return alternative
    return best


# --- VIX option strikes ---------------------------------------------------------------

#: The listed VIX option strikes by era (Cboe Rule 24.9 and its notices): 2.5-point strikes from the
#: listing; 1-point strikes from 15 to 30 (only 10 below 15) by February 2012; 1-point strikes down to
#: 10 from January 2013; half points from 10.5 to 14.5 in the front month from 2014-05-29.  Always 2.5
#: points from 30 to 50 and 5 points above 50.  (VIX weeklies, from 2015-10-08, are not used: the
#: layers hold monthly expiries.)
VIX_STRIKE_ERAS = (
    (VIX_OPTIONS_LISTED, "2.5-point strikes from 10 to 50, 5-point above"),
    (date(2012, 1, 2), "1-point strikes from 15 to 30, 10 below them; 2.5-point to 50, 5-point above"),
    (date(2013, 1, 2), "1-point strikes from 10 to 30; 2.5-point to 50, 5-point above"),
    (date(2014, 5, 29), "1-point strikes from 10 to 30, half points from 10.5 to 14.5 in the front month; "
                        "2.5-point to 50, 5-point above"),
)
VIX_WEEKLIES_LISTED = date(2015, 10, 8)
#: Every strike any era listed (the grid searches run on it, masked by era).
VIX_STRIKE_SUPERSET = np.unique(np.concatenate([np.arange(10.0, 15.0, 0.5), np.arange(10.0, 30.0 + 1e-9, 1.0),
                                                np.arange(10.0, 50.0 + 1e-9, 2.5), np.arange(50.0, 500.0 + 1e-9, 5.0)]))


def _vix_era_masks() -> np.ndarray:
    """(era, front month) -> which of :data:`VIX_STRIKE_SUPERSET` were listed, shape (4, 2, strikes)."""
    k = VIX_STRIKE_SUPERSET
    by_2_5 = (np.abs(k / 2.5 - np.round(k / 2.5)) < 1e-9) & (k <= 50.0)
    by_5 = (np.abs(k / 5.0 - np.round(k / 5.0)) < 1e-9) & (k >= 50.0)
    whole = np.abs(k - np.round(k)) < 1e-9
    base = by_5 | (by_2_5 & (k >= 30.0))
    eras = [
        base | by_2_5,
        base | (whole & (k >= 15.0) & (k <= 30.0)) | (k == 10.0),
        base | (whole & (k >= 10.0) & (k <= 30.0)),
        base | (whole & (k >= 10.0) & (k <= 30.0)),
    ]
    half = (k > 10.0) & (k < 15.0) & ~whole
    out = np.zeros((len(eras), 2, k.size), bool)
    for e, mask in enumerate(eras):
        out[e, 0] = out[e, 1] = mask
    out[3, 1] |= half                                 # the front month from 2014-05-29
    out.setflags(write=False)
    return out


VIX_ERA_MASKS = _vix_era_masks()
_VIX_ERA_STARTS = np.array([start for start, _ in VIX_STRIKE_ERAS], dtype="datetime64[D]")


def vix_strike_era(days) -> np.ndarray:
    """The index in :data:`VIX_STRIKE_ERAS` of each day (datetime64[D]); before the listing, the first."""
    return np.maximum(np.searchsorted(_VIX_ERA_STARTS, np.asarray(days, "datetime64[D]"), side="right") - 1, 0)


def vix_strikes_listed(day: date | None = None, front: bool = True) -> np.ndarray:
    """The VIX option strikes listed on ``day`` (None: today's rules) for the front month or a later one."""
    era = len(VIX_STRIKE_ERAS) - 1 if day is None else int(vix_strike_era(np.datetime64(day, "D")))
    return VIX_STRIKE_SUPERSET[VIX_ERA_MASKS[era, int(bool(front))]]


# --- SPX strike grid ------------------------------------------------------------------

#: The listed strike grid, read off the Cboe SPX/SPXW chains of 2022-02-04 and
#: 2023-02-07: by kind of expiry (the third-Friday monthlies, which Cboe lists with
#: "the most granularity and widest ranges"; the other standard expiries: month-end,
#: quarter-end, LEAPS; the weeklies) and tenor (calendar days, upper bound), the
#: steps and how far from spot (share of spot) every multiple of each step was listed
#: on every expiry of the bucket.  Beyond the last reach the grid is 200 points.
#: Re-derive with ``python -m alvh_core calibrate --data-dir ../shared/data --json``
#: (key ``strike_grid``).
SPX_STRIKE_GRID = {
    "weekly": (
        (10, ((5.0, 0.025), (10.0, 0.035), (25.0, 0.05), (50.0, 0.09), (100.0, 0.175))),
        (27, ((5.0, 0.02), (10.0, 0.035), (25.0, 0.05), (50.0, 0.065), (100.0, 0.125))),
        (50, ((10.0, 0.01), (25.0, 0.025), (50.0, 0.04), (100.0, 0.085))),
    ),
    "monthly": (
        (60, ((5.0, 0.065), (10.0, 0.105), (25.0, 0.205), (50.0, 0.255), (100.0, 0.485))),
        (110, ((5.0, 0.03), (10.0, 0.08), (25.0, 0.19), (50.0, 0.26), (100.0, 0.365))),
        (180, ((10.0, 0.08), (25.0, 0.13), (50.0, 0.16), (100.0, 0.32))),
        (400, ((25.0, 0.005), (50.0, 0.14), (100.0, 0.265))),
    ),
    "standard": (
        (60, ((5.0, 0.055), (10.0, 0.095), (25.0, 0.13), (50.0, 0.21), (100.0, 0.32))),
        (110, ((5.0, 0.065), (10.0, 0.11), (25.0, 0.13), (50.0, 0.21), (100.0, 0.32))),
        (180, ((10.0, 0.025), (25.0, 0.06), (50.0, 0.09), (100.0, 0.175))),
        (400, ((25.0, 0.11), (50.0, 0.16), (100.0, 0.32))),
    ),
}
#: Grid kinds as the vectorised backtest codes them.
GRID_KINDS = ("monthly", "standard", "weekly")
#: The listed steps, and the lower of the chains' spots (4,164.00 and 4,500.53): at a lower index level every
#: step shrinks in proportion, to the listed step at or below it (never under 5 points), so the grid keeps
#: its shape as a share of spot (SPX 1,150 in 2010: 100-point steps become 25, 50 become 10).  An
#: assumption (no chain before 2022 to read it off), in the spirit of Cboe's old rule for SPX: "five points,
#: 25-point intervals for far months".
LISTED_STEPS = (5.0, 10.0, 25.0, 50.0, 100.0, 200.0)
GRID_REFERENCE_SPOT = 4164.0
#: VIX on the two chain days, averaged (23.22 and 18.66): the level at which the reaches were read.
GRID_REFERENCE_VIX = 20.94
FAR_STEP = 200.0
#: The mini index XSP (one tenth of SPX) lists its own, denser grid: 1-point strikes within 20 %
#: of spot (10 SPX points), 5-point beyond.  Cboe's XSP specification sets intervals of one point
#: or more; the project has no XSP chain to fit the reach on, so it is an assumption.  (Scaling
#: SPX's steps instead would leave 200-point gaps 10 % from spot: condors with absurd wings.)
XSP_ONE_POINT_REACH = 0.20
XSP_FAR_STEP = 5.0


def expiry_class(cycle: str) -> str:
    """The grid a cycle of expiry is listed on: "weekly" (SPXW weeklies and
    dailies), "monthly" (the third-Friday SPX) or "standard" (month-end,
    quarter-end, LEAPS)."""
    return cycle if cycle in ("weekly", "monthly") else "standard"


def reach_scale(vix: float | None) -> float:
    """How much farther from spot each step of the grid reaches on a day of VIX ``vix``: the chains'
    reaches times ``max(1, VIX / GRID_REFERENCE_VIX)``.  Cboe lists new strikes as the index trades
    toward the outermost ones and as traders ask for them, so the listed range follows the moves the
    market expects; with only two chain days (VIX 18.7 and 23.2) the proportional rule is an assumption,
    the same in every era.  None or not finite: 1 (the chains' own reach)."""
    if vix is None or not np.isfinite(vix) or vix <= GRID_REFERENCE_VIX:
        return 1.0
    return float(vix) / GRID_REFERENCE_VIX


def strike_step(spot: float, strike: float, days: float, underlying: str = "SPX", cycle: str = "standard",
                vix: float | None = None) -> float:
    """The listed strike interval at ``strike`` for an expiry ``days`` out (see :data:`SPX_STRIKE_GRID`),
    the reaches widened on a day of high ``vix`` (:func:`reach_scale`).

    XSP: its own points, 1-point strikes within :data:`XSP_ONE_POINT_REACH` of spot, 5-point beyond.
    """
    distance = abs(strike / spot - 1.0)
    if underlying == "XSP":
        return 1.0 if distance < XSP_ONE_POINT_REACH else XSP_FAR_STEP
    distance /= reach_scale(vix)
    buckets = SPX_STRIKE_GRID[expiry_class(cycle)]
    steps = next((row for limit, row in buckets if days <= limit), buckets[-1][1])
    step = next((s for s, reach in steps if distance < reach), FAR_STEP)
    return level_step(step, spot)


def level_step(step: float, spot: float) -> float:
    """``step`` (the chains' grid) at an index level of ``spot``: scaled down by spot / the chains' spot to the
    listed step at or below it, at least 5 points; never coarser than the chains'."""
    if spot >= GRID_REFERENCE_SPOT:
        return step
    scaled = step * spot / GRID_REFERENCE_SPOT
    return max([s for s in LISTED_STEPS if s <= scaled + 1e-9] or [LISTED_STEPS[0]])


def on_grid(spot: float, strike: float, days: float, underlying: str = "SPX", cycle: str = "standard",
            vix: float | None = None) -> bool:
    step = strike_step(spot, strike, days, underlying, cycle, vix)
    return abs(strike / step - round(strike / step)) < 1e-9


def snap_strike(spot: float, strike: float, days: float, direction: str = "nearest", underlying: str = "SPX",
                cycle: str = "standard", vix: float | None = None) -> float:
    """The listed strike nearest ``strike`` (or the nearest below / above)."""
    step = strike_step(spot, strike, days, underlying, cycle, vix)
    q = strike / step
    k = {"nearest": round(q), "down": int(q // 1), "up": -int(-q // 1)}[direction] * step
    return float(max(k, step))
