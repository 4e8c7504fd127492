"""Backtests: condors and hedge schemes over real (or simulated) history, vectorised.

What is simulated, day by day at the real SPX and VIX-family closes:

* **Condors** entered daily, weekly (first session of the week) or monthly
  (first session of the month), on the listed expiry nearest the tier's
  days, short strikes the highest listed put / lowest listed call whose
  |delta| is at most the tier's, wings on the listed strike nearest the
  tier's width (the grid of that kind of expiry, wider-reaching on high-VIX
  days).  Priced with the vol model (the smile on the day's VIX curve, its
  skew scaled by the day's SKEW reading), filled ``fill_share`` of the way
  from mid to natural on the fitted spreads, plus slippage and commissions.
  Held to expiry (A.M. expiries settled at the day's open where the history
  has a real one, else the close before it; P.M. expiries at the close) or
  closed by rules: a profit target (share of credit), a stop (loss as a
  multiple of credit), or N calendar days before expiry.
* **Hedge schemes** of the hedge engine, each layer bought on its roll day
  (weekly / monthly / quarterly: the first session of the week, month or
  quarter) with the Builder's rules (expiry windows, deltas, time-shifting,
  the event multiplier kept in the band, the contingent tail) on the VIX
  strikes listed in that era, sized to the day's regime budget, marked daily
  on the VIX future (CFE's settlements where the files have them, else the
  proxy), with the ATM vol VVIX implies and the call skew fitted on VXTH, and
  sold at the next roll (half spreads wider with price and VIX).
* **Collateral**: the whole account earns the 3-month T-bill (FRED DTB3, or
  ``^IRX``), compounded daily.

Money: dollars.  Condor sizes are whole contracts, hedges whole VIX
contracts.  The replicas of Cboe's CNDR and VXTH indexes are in
:mod:`alvh_core.history.replicas`; the slow, obvious twin of this module that the
tests hold it to is :mod:`alvh_core.history.reference`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from alvh_core.data.events import EventCalendar, load_events
from alvh_core.data.listings import (
    FAR_STEP,
    GRID_KINDS,
    GRID_REFERENCE_SPOT,
    GRID_REFERENCE_VIX,
    LISTED_STEPS,
    SPX_STRIKE_GRID,
    expiry_class,
    nearest_expiry,
    vix_expiry,
    vix_strike_era,
)
from alvh_core.data.listings import VIX_OPTIONS_LISTED as VIX_OPTIONS_LISTED_DAY
from alvh_core.data.listings import XSP_LISTED as XSP_LISTED_DAY
from alvh_core.history.stats import Performance, performance
from alvh_core.model import limits, over_days
from alvh_core.model.fills import half_spread_array, vix_half_spread
from alvh_core.model.fitted import DEFAULT_FILL_SHARE, SPX_SKEW, VIX_SPREAD
from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.model.pricing import DAYS_PER_YEAR, black76_price, bsm_price_delta, forward_delta
from alvh_core.model.skew_index import skew_reading
from alvh_core.model.skew_index import slope_scale as skew_slope_scale
from alvh_core.model.vixfutures import DEFAULT_VVIX, vix_option_vol
from alvh_core.strategy.condor import nearest_wing
from alvh_core.strategy.hedge import (
    BACKTEST_SCHEMES,
    EVENT_WINDOW_DAYS,
    RESULT_LABELS,
    STATIC_BUDGET_PCT,
    HedgeSettings,
    LayerRule,
    capped_event_multiplier,
    hedge_base,
    listed_above,
    pick_vix_expiries,
    scheme_layers,
    strikes_at_delta,
    vxth_weight_pct,
)
from alvh_core.strategy.legs import MULTIPLIER
from alvh_core.strategy.management import ExitRules
from alvh_core.strategy.signals import stress_series
from alvh_core.strategy.sizing import DEFAULT_NOTIONAL, smaller_fraction
from alvh_core.strategy.tiers import Tier

FREQUENCIES = ("daily", "weekly", "monthly")
#: How a run sizes its condors and hedges: on the account as it is at each entry, or on the starting capital.
SIZINGS = ("equity", "fixed")
#: What "trade smaller" is matched on (see :func:`book_risk`); "premium": the share of the credit spent.
SMALLER_MATCHES = ("drawdown", "cvar", "premium")
#: "Trade smaller" may trade up to this many times the unhedged book where a hedge makes the book riskier.
SMALLER_MAX_SCALE = 4.0
#: From XSP's listing an account that sizes by its equity trades tenths of an SPX condor; before, whole SPX
#: contracts only.  No VIX option is bought before VIX options were listed unless a run asks for a synthetic
#: (model-priced, labeled) hedge before then.
XSP_LISTED = np.datetime64(XSP_LISTED_DAY, "D")
VIX_OPTIONS_LISTED = np.datetime64(VIX_OPTIONS_LISTED_DAY, "D")
#: Per-entry max loss as % of capital when none is given (about the same open risk for each frequency).
DEFAULT_RISK_PCT = {"daily": 0.4, "weekly": 2.0, "monthly": 8.0}
#: Dividend yield of the S&P 500 assumed where the history has none (its 1990-2026 average is about 1.9 %).
DEFAULT_DIV = 0.019
AM_HOURS = 6.5 / 24.0


# --- inputs ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Costs:
    """Trading costs: the fill model, slippage and commissions."""

    fill_share: float = DEFAULT_FILL_SHARE   # SPX legs: 0 = mid, 1 = natural (fitted spreads)
    slippage: float = 0.0                    # extra index points per SPX leg, each way
    commission: float = 1.0                  # dollars per option contract, each way (fees included)
    vix_half_spread: float = VIX_SPREAD["floor"]   # the VIX option half spread's floor, points (model/fills.py)
    vix_fill_share: float = 0.5

    def __post_init__(self) -> None:
        for name, low, high in (("fill_share", 0, 1), ("slippage", *limits.SLIPPAGE), ("commission", *limits.COMMISSION),
                                ("vix_half_spread", 0, 5), ("vix_fill_share", 0, 1)):
            value = getattr(self, name)
            if not (np.isfinite(value) and low <= value <= high):
                raise ValueError(f"{name} must be between {low} and {high}")


@dataclass(frozen=True)
class BacktestConfig:
    """One backtest: a condor strategy on a tier, its scale, costs and exit rules."""

    strategy: str = "daily"
    tier: Tier = Tier("Moderate", 0.73, 0.77, 0.14, 0.55, 21)
    capital: float = DEFAULT_NOTIONAL    # the strategy notional every page shares
    risk_pct: float | None = None        # per-entry max loss, % of capital (default by frequency)
    contracts: int | None = None         # or a fixed number of contracts per entry
    costs: Costs = field(default_factory=Costs)
    management: ExitRules = field(default_factory=ExitRules)
    hedge: HedgeSettings = field(default_factory=HedgeSettings)   # its scheme is set per run
    div: float = DEFAULT_DIV
    interest: bool = True                # T-bill interest on the account
    #: A trader's own structure instead of the tier's: (short put |delta|, short call |delta|, put wing,
    #: call wing as % of spot); its days to expiry are the tier's (:func:`shaped_tier`).
    shape: tuple[float, float, float, float] | None = None
    #: "equity": each entry risks its share of the account as it is that day (tenths of an SPX condor, XSP, from
    #: XSP's listing), and the hedge's notional rule takes the account as it is; "fixed": the starting capital.
    sizing: str = "equity"
    #: VIX calls before VIX options were listed (2006-02-24), priced on the model: off unless asked for.
    synthetic_hedge: bool = False
    #: "open": VIX options settle at the VIX open of their expiry day and A.M.-settled SPX expiries at the SPX
    #: open, where the history has real opens (else the close before); "close": every expiry at the day's close.
    settlement: str = "open"
    #: What "trade smaller" matches in the hedged book: its max drawdown, the CVaR 95 % of its weekly returns,
    #: or (the older bar) the share of the credit its premium took.
    smaller_match: str = "drawdown"
    #: The VIX-option vol model times this (a sensitivity; 1 is the model).
    vix_vol_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.shape is not None:
            check_shape(self.shape)
        if self.strategy not in FREQUENCIES:
            raise ValueError(f"condor strategy must be one of {FREQUENCIES} (replicas: alvh_core.history.replicas)")
        if not (np.isfinite(self.capital) and limits.CAPITAL[0] <= self.capital <= limits.CAPITAL[1]):
            raise ValueError(f"capital must be between {limits.number(limits.CAPITAL[0])} and "
                             f"{limits.number(limits.CAPITAL[1])} dollars")
        if self.risk_pct is not None and not 0 < self.risk_pct <= 100:
            raise ValueError("risk per entry must be between 0 and 100 % of capital")
        if self.contracts is not None and not limits.CONTRACTS[0] <= self.contracts <= limits.CONTRACTS[1]:
            raise ValueError(f"contracts per entry must be between {limits.CONTRACTS[0]} and "
                             f"{limits.number(limits.CONTRACTS[1])}")
        if not limits.DIV[0] <= self.div <= limits.DIV[1]:
            raise ValueError(f"dividend yield must be between {limits.DIV[0]:g} and {limits.DIV[1]:g}")
        if self.sizing not in SIZINGS:
            raise ValueError(f"sizing must be one of {SIZINGS}")
        if self.settlement not in ("open", "close"):
            raise ValueError("settlement must be 'open' or 'close'")
        if self.smaller_match not in SMALLER_MATCHES:
            raise ValueError(f"trade smaller matches one of {SMALLER_MATCHES}")
        if not (np.isfinite(self.vix_vol_scale) and 0.1 <= self.vix_vol_scale <= 5.0):
            raise ValueError("the VIX-option vol scale must be between 0.1 and 5")
        if self.hedge.tail_instrument != "vix_calls":
            raise ValueError("the backtest's tail layer is VIX calls (SPX put flies are the Builder's only)")

    @property
    def risk_share(self) -> float:
        """Max loss per entry as a share of the account (risk sizing)."""
        return (self.risk_pct if self.risk_pct is not None else DEFAULT_RISK_PCT[self.strategy]) / 100.0

    @property
    def entry_risk(self) -> float:
        """Dollars of max loss per entry on the starting capital (fixed sizing)."""
        return self.capital * self.risk_share

    @property
    def sizes_by_equity(self) -> bool:
        """Whether entries and hedges are sized on the account as it is (a fixed contract count is not)."""
        return self.sizing == "equity" and self.contracts is None


def check_shape(shape) -> None:
    """A structure's (put delta, call delta, put wing %, call wing %), or a ValueError saying what is wrong."""
    if len(shape) != 4:
        raise ValueError("a structure is short put delta, short call delta, put wing %, call wing %")
    put_delta, call_delta, put_wing, call_wing = (float(x) for x in shape)
    if not (0.01 <= put_delta <= 0.5 and 0.01 <= call_delta <= 0.5):
        raise ValueError("short-strike deltas must be between 0.01 and 0.5")
    if not (0.05 <= put_wing <= 20 and 0.05 <= call_wing <= 20):
        raise ValueError("wings must be between 0.05 % and 20 % of spot")


def parse_shape(text: str) -> tuple[tuple[float, float, float, float], int]:
    """``"0.12/0.10/1.5/1.2/21"`` (put delta/call delta/put wing %/call wing %/days) → (shape, days)."""
    parts = [p for p in str(text).split("/") if p.strip()]
    if len(parts) != 5:
        raise ValueError("a structure is written put delta/call delta/put wing %/call wing %/days")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError("a structure's parts are numbers") from None
    shape = tuple(values[:4])
    check_shape(shape)
    days = values[4]
    if not (days.is_integer() and 1 <= days <= 365):
        raise ValueError("a structure's days to expiry are a whole number from 1 to 365")
    return shape, int(days)  # type: ignore[return-value]


def shape_text(shape, days: int) -> str:
    return "/".join(f"{float(x):g}" for x in shape) + f"/{int(days)}"


def shaped_tier(tier: Tier, shape, days: int) -> Tier:
    """The tier carrying a structure's put side and days (its call side rides on the config's shape)."""
    return Tier("Your structure", tier.pop_min, tier.pop_max, float(shape[0]), float(shape[2]), int(days))


# --- the market as arrays ---------------------------------------------------------------

@dataclass(eq=False)
class MarketArrays:
    """Daily closes as arrays, with the day's stress score and regime budget."""

    dates: np.ndarray          # datetime64[D]
    spx: np.ndarray
    vix: np.ndarray
    vix9d: np.ndarray
    vix3m: np.ndarray
    vix6m: np.ndarray
    vvix: np.ndarray
    rate: np.ndarray           # continuously compounded decimal
    nodes: np.ndarray          # (N, 4) total variances of the VIX curve
    stress: np.ndarray
    budget_pct: np.ndarray     # the regime band placed by the stress score, % of notional
    band_high_pct: np.ndarray
    regime: np.ndarray         # "Low" / "Moderate" / "High"
    rebalance: np.ndarray      # the spread z-score trigger
    event_days: np.ndarray     # calendar days to the next FOMC/CPI/PPI (NaN unknown)
    vix_open: np.ndarray | None = None   # the day's real VIX open (NaN where the history has a close only)
    spx_open: np.ndarray | None = None   # the day's real SPX open (NaN likewise)
    vx1: np.ndarray | None = None        # CFE's front and second VIX futures settlements (NaN where not known)
    vx2: np.ndarray | None = None
    skew: np.ndarray | None = None       # Cboe's SKEW index (NaN where not known)
    slope_scale: np.ndarray | None = None   # the SPX smile's skew scale from SKEW (1 where there is no reading)
    source: str = "file"
    rate_note: str = ""
    _cache: dict = field(default_factory=dict, repr=False)
    _parent: tuple | None = field(default=None, repr=False)   # (the whole history, first row): shares its maps

    def __post_init__(self) -> None:
        for name in ("vix_open", "spx_open", "vx1", "vx2", "skew"):
            if getattr(self, name) is None:
                setattr(self, name, np.full(self.dates.size, np.nan))
        if self.slope_scale is None:
            self.slope_scale = skew_slope_scale(skew_reading(self.skew))

    @property
    def size(self) -> int:
        return self.dates.size

    def settlement(self, expiry: np.ndarray, at_open, close: np.ndarray, opens: np.ndarray) -> tuple[np.ndarray,
                                                                                                np.ndarray]:
        """The settlement level of each ``expiry`` (datetime64[D]) and whether it was the real open.  Where
        ``at_open``: the expiry day's open where the history has a real one, else the close of the session
        before (on the A.M. SPX expiries of 2008-2026 the open sat a median 0.11 % from the close before and
        0.41 % from the day's own close).  Otherwise the last close on or before the expiry."""
        day = np.searchsorted(self.dates, expiry, side="left")
        on_day = (day < self.size) & (self.dates[np.minimum(day, self.size - 1)] == expiry)
        open_level = opens[np.minimum(day, self.size - 1)]
        at_open = np.asarray(at_open, bool) & on_day
        use_open = at_open & np.isfinite(open_level)
        last_close = close[np.maximum(np.searchsorted(self.dates, expiry, side="right") - 1, 0)]
        close_before = close[np.maximum(np.minimum(day, self.size - 1) - 1, 0)]
        return np.where(use_open, open_level, np.where(at_open, close_before, last_close)), use_open

    def day(self, i: int) -> date:
        return pd.Timestamp(self.dates[i]).date()

    def window(self, start, end) -> MarketArrays:
        """The rows from ``start`` to ``end`` (dates or None)."""
        lo = 0 if start is None else int(np.searchsorted(self.dates, np.datetime64(pd.Timestamp(start).date(), "D")))
        hi = self.size if end is None else int(np.searchsorted(self.dates, np.datetime64(pd.Timestamp(end).date(),
                                                                                            "D"), side="right"))
        if hi - lo < 2:
            raise ValueError("the backtest window needs at least two trading days of SPX and VIX history")
        cut = {name: getattr(self, name)[lo:hi] for name in ("dates", "spx", "vix", "vix9d", "vix3m", "vix6m",
                                                               "vvix", "rate", "nodes", "stress", "budget_pct",
                                                               "band_high_pct", "regime", "rebalance", "event_days",
                                                               "vix_open", "spx_open", "vx1", "vx2", "skew",
                                                               "slope_scale")}
        root, offset = self._parent if self._parent is not None else (self, 0)
        return MarketArrays(**cut, source=self.source, rate_note=self.rate_note, _parent=(root, offset + lo))


def market_arrays(panel: pd.DataFrame, calendar: EventCalendar | None = None, source: str = "file") -> MarketArrays:
    """The backtest's market from a panel of closes (``spx``, ``vix`` required; ``vix9d``,
    ``vix3m``, ``vix6m``, ``vvix``, ``irx`` used when present).  Days without SPX or VIX
    are dropped; the T-bill carries its last value over holidays."""
    if "spx" not in panel or "vix" not in panel:
        raise ValueError("a backtest needs SPX and VIX history")
    frame = panel[panel["spx"].notna() & panel["vix"].notna()]
    if len(frame) < 2:
        raise ValueError("a backtest needs at least two days with both SPX and VIX")
    calendar = calendar or load_events()
    stress = stress_series(frame, calendar)

    def col(name):
        return frame[name].to_numpy(float) if name in frame else np.full(len(frame), np.nan)

    if "irx" in frame and frame["irx"].notna().any():
        irx = frame["irx"].ffill().bfill().to_numpy(float)
        rate = -np.log(1.0 - irx / 100.0 * 91.0 / 360.0) * 365.0 / 91.0
        note = "3-month T-bill (DTB3 / ^IRX), day by day"
    else:
        rate = np.full(len(frame), DEFAULT_MARKET.rate)
        note = f"no T-bill history: a flat {DEFAULT_MARKET.rate:.2%}"
    vix9d, vix, vix3m, vix6m = col("vix9d"), col("vix"), col("vix3m"), col("vix6m")
    return MarketArrays(
        dates=frame.index.to_numpy().astype("datetime64[D]"), spx=col("spx"), vix=vix, vix9d=vix9d, vix3m=vix3m,
        vix6m=vix6m, vvix=col("vvix"), rate=rate, nodes=over_days.node_variances(vix9d, vix, vix3m, vix6m),
        stress=stress["stress"].to_numpy(float), budget_pct=stress["budget_pct"].to_numpy(float),
        band_high_pct=stress["band_high_pct"].to_numpy(float), regime=stress["regime"].to_numpy(),
        rebalance=stress["rebalance"].to_numpy(bool), event_days=stress["event_days"].to_numpy(float),
        vix_open=col("vix_open"), spx_open=col("spx_open"), vx1=col("vx1"), vx2=col("vx2"), skew=col("skew"),
        source=source,
        rate_note=note)


# --- schedules --------------------------------------------------------------------------

def period_starts(dates: np.ndarray, frequency: str) -> np.ndarray:
    """Indexes of the first session of each day / week / month / quarter."""
    if frequency == "daily":
        return np.arange(dates.size)
    if frequency == "weekly":
        # Weeks start on Monday: 1970-01-01 was a Thursday.
        key = (dates.astype("int64") + 3) // 7
    elif frequency == "monthly":
        key = dates.astype("datetime64[M]").astype("int64")
    elif frequency == "quarterly":
        key = dates.astype("datetime64[M]").astype("int64") // 3
    else:
        raise ValueError(f"unknown frequency {frequency!r}")
    return np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))


def entry_rows(m: MarketArrays, config: BacktestConfig) -> np.ndarray:
    """The rows a strategy opens condors on: its schedule, or with a roll the chain of each
    condor's close N days before its expiry (the first session at or past it)."""
    rule = config.management
    if not rule.rolling or config.strategy == "daily":
        return period_starts(m.dates, config.strategy)
    expiry = spx_expiry_for(m, config.tier.days)[0]
    close_at = np.searchsorted(m.dates, expiry - np.timedelta64(int(rule.exit_days), "D"), side="left")
    rows = [0]
    while True:
        nxt = max(int(close_at[rows[-1]]), rows[-1] + 1)
        if nxt >= m.size:
            return np.array(rows)
        rows.append(nxt)


def spx_expiry_for(m: MarketArrays, target_days: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every day: the listed SPX expiry nearest ``target_days`` (datetime64[D]), whether it
    is A.M.-settled, and the strike grid it trades on (its index in :data:`GRID_KINDS`).  Cached per market."""
    if m._parent is not None:   # a window: the whole history's map, cut to the window
        root, offset = m._parent
        return tuple(x[offset: offset + m.size] for x in spx_expiry_for(root, target_days))
    key = ("spx_expiry", float(target_days))
    if key not in m._cache:
        days, am, kind = [], [], []
        for d in m.dates.astype(object):
            e = nearest_expiry(d, target_days)
            days.append(e.day)
            am.append(e.settlement == "AM")
            kind.append(GRID_KINDS.index(expiry_class(e.cycle)))
        m._cache[key] = (np.array(days, dtype="datetime64[D]"), np.array(am), np.array(kind, int))
    return m._cache[key]


def vix_expiries(first: date, last: date) -> np.ndarray:
    """Every VIX expiry from ``first``'s month to a year after ``last`` (datetime64[D])."""
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year + 1, last.month):
        out.append(vix_expiry(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return np.array(out, dtype="datetime64[D]")


# --- the listed strike grid as arrays ----------------------------------------------------

def grid_step(spot, strike, days, kind, scale=1.0) -> np.ndarray:
    """:func:`alvh_core.data.listings.strike_step` (SPX) elementwise: ``kind`` the index of the expiry's
    grid in :data:`GRID_KINDS`, ``scale`` the day's :func:`reach_scale`."""
    spot, strike, days, kind, scale = np.broadcast_arrays(np.asarray(spot, float), np.asarray(strike, float),
                                                          np.asarray(days, float), np.asarray(kind, int),
                                                          np.asarray(scale, float))
    distance = np.abs(strike / spot - 1.0) / scale
    step = np.full(spot.shape, FAR_STEP)
    for code, cls in enumerate(GRID_KINDS):
        buckets = SPX_STRIKE_GRID[cls]
        limits = np.array([limit for limit, _ in buckets], float)
        which = np.minimum(np.searchsorted(limits, days, side="left"), limits.size - 1)
        for b, (_, steps) in enumerate(buckets):
            mask = (kind == code) & (which == b)
            if not mask.any():
                continue
            chosen = np.full(mask.sum(), FAR_STEP)
            for s, reach in reversed(steps):
                chosen = np.where(distance[mask] < reach, s, chosen)
            step[mask] = chosen
    # At a lower index level every step shrinks in proportion, to the listed step at or below it (at least 5).
    ratio = np.minimum(spot / GRID_REFERENCE_SPOT, 1.0)
    scaled = step * ratio
    out = np.full(step.shape, LISTED_STEPS[0])
    for s in LISTED_STEPS[1:]:
        out = np.where(scaled + 1e-9 >= s, s, out)
    return np.where(ratio >= 1.0, step, np.minimum(out, step))


def reach_scale_array(vix) -> np.ndarray:
    """:func:`alvh_core.data.listings.reach_scale` elementwise."""
    vix = np.asarray(vix, float)
    return np.where(np.isfinite(vix), np.maximum(vix / GRID_REFERENCE_VIX, 1.0), 1.0)


def _listed(spot, strike, days, kind, scale) -> np.ndarray:
    step = grid_step(spot, strike, days, kind, scale)
    return np.abs(strike / step - np.round(strike / step)) < 1e-9


_SCAN = 48  # 5-point candidates scanned for a listed strike (covers the 200-point far grid)


def _scan(spot, level, days, kind, scale, direction: int) -> np.ndarray:
    """The nearest listed strike at or beyond ``level`` going ``direction`` (-1 down, +1 up)."""
    level = np.asarray(level, float)
    # Fast path: the multiple of the grid step at the level; a step change between the level and
    # that strike (a finer step nearer the money) sends the row to the scan of 5-point candidates.
    step = grid_step(spot, level, days, kind, scale)
    guess = (np.floor(level / step + 1e-9) if direction < 0 else np.ceil(level / step - 1e-9)) * step
    start = (np.floor(level / 5.0 + 1e-9) if direction < 0 else np.ceil(level / 5.0 - 1e-9)) * 5.0
    out = guess
    # Going away from the money the step only grows: the guess is right when it is listed on the
    # same step (nothing between it and the level is a multiple of a step that far out).
    guess_step = grid_step(spot, guess, days, kind, scale)
    away = direction * (level - spot) >= 0
    ok = (guess_step == step) & (guess > 0) & away
    redo = np.flatnonzero(~ok)
    if redo.size:
        cand = start[redo, None] + direction * 5.0 * np.arange(_SCAN)[None, :]
        listed = _listed(spot[redo, None], cand, days[redo, None], kind[redo, None], scale[redo, None]) & (cand > 0)
        first = np.argmax(listed, axis=1)
        found = cand[np.arange(redo.size), first]
        out = out.copy()
        out[redo] = np.where(listed.any(axis=1), found, np.maximum(start[redo], 5.0))
    return out


def listed_at_or_below(spot, level, days, kind, scale) -> np.ndarray:
    """The highest listed strike at or below ``level`` (elementwise)."""
    return _scan(spot, level, days, kind, scale, -1)


def listed_at_or_above(spot, level, days, kind, scale) -> np.ndarray:
    """The lowest listed strike at or above ``level`` (elementwise)."""
    return _scan(spot, level, days, kind, scale, 1)


def _at_least_one_apart(strike, inner, spot, days, kind, scale, direction: int) -> np.ndarray:
    """``strike``, or the next listed strike beyond ``inner`` where it is not beyond it."""
    bad = np.flatnonzero(direction * (strike - inner) <= 0)
    if bad.size == 0:
        return strike
    out = strike.copy()
    out[bad] = _scan(spot[bad], inner[bad] + direction * 5.0, days[bad], kind[bad], scale[bad], direction)
    return out


# --- option arithmetic ------------------------------------------------------------------

def price_on_smile(spot, strike, days, rate, div, atm, is_call, slope_scale=1.0):
    """Price and delta of options on the smile around ``atm`` (the vol model's, its slope times
    ``slope_scale``), elementwise."""
    days_floor = np.maximum(np.asarray(days, float), 0.25)
    forward = spot * np.exp((rate - div) * days_floor / 365.0)
    x = np.log(strike / forward)
    vol = atm * SPX_SKEW.ratio(x / (atm * np.sqrt(days_floor / 365.0)), days_floor, slope_scale)
    left = np.asarray(days, float)
    years = np.maximum(left, 0.0) / DAYS_PER_YEAR
    if np.array_equal(left, days_floor):
        return bsm_price_delta(spot, strike, years, rate, div, vol, is_call, log_moneyness=x)
    return bsm_price_delta(spot, strike, years, rate, div, vol, is_call)


def _strike_at_delta(m, rows, days, target, is_call, atm, div):
    """The strike whose smile delta is ``target`` (|delta|), by bisection in log strike."""
    spot, rate = m.spx[rows], m.rate[rows]
    forward = spot * np.exp((rate - div) * days / 365.0)
    sd = atm * np.sqrt(days / 365.0)
    lo = np.log(forward) - (10.0 * sd + 0.05) if not is_call else np.log(forward) - 0.5 * sd
    hi = np.log(forward) + 0.5 * sd if not is_call else np.log(forward) + 8.0 * sd + 0.05
    years = days / 365.0
    carry, sqrt_years = np.exp(-div * years), np.sqrt(years)
    for _ in range(34):   # 2^-34 of the bracket: far below a strike step
        mid = 0.5 * (lo + hi)
        vol_sd = over_days.smile_vol(atm, np.exp(mid), forward, days, slope_scale=m.slope_scale[rows]) * sqrt_years
        size = carry * np.abs(forward_delta(mid - np.log(forward), vol_sd, is_call))   # |delta|
        too_far = size < target   # puts: below the strike sought; calls: above it
        if is_call:
            hi, lo = np.where(too_far, mid, hi), np.where(too_far, lo, mid)
        else:
            lo, hi = np.where(too_far, mid, lo), np.where(too_far, hi, mid)
    return np.exp(0.5 * (lo + hi))


# --- the condor book --------------------------------------------------------------------

@dataclass(eq=False)
class CondorBook:
    """Every condor of a run (one row each) and its daily P/L (dollars)."""

    entry: np.ndarray          # row index of the entry day
    exit: np.ndarray           # row index of the exit (or the last day if still open)
    expiry: np.ndarray         # datetime64[D]
    strikes: np.ndarray        # (n, 4): long put, short put, short call, long call
    credit: np.ndarray         # points at the fill
    mid_credit: np.ndarray
    max_loss: np.ndarray       # points per contract at the fill
    contracts: np.ndarray      # whole contracts
    exit_value: np.ndarray     # points paid to close (payoff at expiry, or the buy-back)
    reason: np.ndarray         # "expiry", "target", "stop", "days", "open"
    daily_pnl: np.ndarray      # dollars per day, whole book
    credit_dollars: np.ndarray  # credit received per row, dollars (all contracts)
    open_contracts: np.ndarray  # condor contracts open at each day's close
    open_max_loss: np.ndarray   # their max loss at the fill, dollars
    unit_rows: tuple = ()       # (condor, day, P/L per contract in dollars) for every row of every life
    unit_entry: np.ndarray | None = None  # P/L per contract on the entry day (the fill and commissions)

    def frame(self, m: MarketArrays) -> pd.DataFrame:
        """One row per condor, for tables and CSV."""
        dollars = self.contracts * MULTIPLIER
        return pd.DataFrame({
            "entry": m.dates[self.entry], "exit": m.dates[self.exit], "expiry": self.expiry,
            "long_put": self.strikes[:, 0], "short_put": self.strikes[:, 1], "short_call": self.strikes[:, 2],
            "long_call": self.strikes[:, 3], "contracts": self.contracts, "credit": self.credit,
            "max_loss": self.max_loss, "exit_value": self.exit_value, "reason": self.reason,
            "pnl": (self.credit - self.exit_value) * dollars})


def _life_rows(entry: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flattened (condor, day) pairs for days entry+1 .. last of each condor."""
    length = np.maximum(last - entry, 0)
    owner = np.repeat(np.arange(entry.size), length)
    start = np.cumsum(length) - length
    offset = np.arange(owner.size) - np.repeat(start, length)
    return owner, entry[owner] + 1 + offset


@dataclass(eq=False)
class _Marks:
    """The condors of a schedule and their model marks: what does not depend on costs, exit
    rules or size (cached per market, schedule and tier)."""

    rows: np.ndarray
    expiry: np.ndarray
    am: np.ndarray
    strikes: np.ndarray
    mid_credit: np.ndarray
    half_spread: np.ndarray    # sum of the legs' half spreads at entry (points)
    owner: np.ndarray          # life rows: condor, day
    day: np.ndarray
    value: np.ndarray          # mid to buy back (points); the payoff on the settlement row
    price: np.ndarray          # (rows, 4) leg prices and deltas (for the buy-back's spreads)
    delta: np.ndarray
    at_expiry: np.ndarray
    last: np.ndarray           # each condor's last row (settlement, or the end of the data)
    settle: np.ndarray         # first session on/after expiry (m.size if after the data)


_IS_CALL = np.array([False, False, True, True])
_SIDE = np.array([1.0, -1.0, -1.0, 1.0])      # +1 long
_MARKS_KEPT = 6


#: Rows of condor-days priced at once (bounds the memory a cold backtest takes; the result is the same).
_MARK_BLOCK = 8192


def _condor_marks(m: MarketArrays, rows: np.ndarray, tier: Tier, div: float, short_delta: float,
                  long_delta: float | None, expiry: np.ndarray, am: np.ndarray, kind: np.ndarray,
                  shape=None, at_open: bool = True) -> _Marks:
    """``shape`` (put delta, call delta, put wing %, call wing %) replaces the tier's symmetric one."""
    days = np.maximum((expiry - m.dates[rows]).astype(float) - np.where(am, AM_HOURS, 0.0), 0.25)
    spot, rate, vix = m.spx[rows], m.rate[rows], m.vix[rows]
    atm = over_days.atm_vol(m.nodes[rows], days, slope_scale=m.slope_scale[rows])
    put_delta, call_delta, put_wing, call_wing = (shape if shape is not None else
                                                  (short_delta, short_delta, tier.wing_pct, tier.wing_pct))
    k_put = _strike_at_delta(m, rows, days, put_delta, False, atm, div)
    k_call = _strike_at_delta(m, rows, days, call_delta, True, atm, div)
    grid = (kind, reach_scale_array(vix))
    short_put = listed_at_or_below(spot, k_put, days, *grid)
    short_call = listed_at_or_above(spot, k_call, days, *grid)
    short_call = _at_least_one_apart(short_call, short_put, spot, days, *grid, 1)
    if long_delta is None:
        step = grid_step(spot, spot, days, *grid)
        wing_put = np.maximum(step, np.round(spot * put_wing / 100.0 / step) * step)
        wing_call = np.maximum(step, np.round(spot * call_wing / 100.0 / step) * step)
        put_target, call_target = short_put - wing_put, short_call + wing_call
        long_put = nearest_wing(put_target, listed_at_or_below(spot, put_target, days, *grid),
                                listed_at_or_above(spot, put_target, days, *grid), short_put, -1)
        long_call = nearest_wing(call_target, listed_at_or_below(spot, call_target, days, *grid),
                                 listed_at_or_above(spot, call_target, days, *grid), short_call, 1)
    else:
        long_put = listed_at_or_below(spot, _strike_at_delta(m, rows, days, long_delta, False, atm, div), days, *grid)
        long_call = listed_at_or_above(spot, _strike_at_delta(m, rows, days, long_delta, True, atm, div), days, *grid)
    long_put = _at_least_one_apart(long_put, short_put, spot, days, *grid, -1)
    long_call = _at_least_one_apart(long_call, short_call, spot, days, *grid, 1)
    strikes = np.stack([long_put, short_put, short_call, long_call], axis=1)
    price, leg_delta = price_on_smile(spot[:, None], strikes, days[:, None], rate[:, None], div, atm[:, None],
                                      _IS_CALL[None, :], m.slope_scale[rows][:, None])
    mid_credit = -(price * _SIDE).sum(axis=1)
    half = half_spread_array(price, leg_delta, np.broadcast_to(_IS_CALL, price.shape), vix[:, None]).sum(axis=1)

    # Every later day of every condor's life, to expiry or the end of the data.
    settle = np.searchsorted(m.dates, expiry, side="left")          # first session on/after expiry
    last = np.minimum(settle, m.size - 1)
    owner, day = _life_rows(rows, last)
    left = (expiry[owner] - m.dates[day]).astype(float) - np.where(am[owner], AM_HOURS, 0.0)
    at_expiry = (left <= 0) | (m.dates[day] >= expiry[owner])
    # Settlement: A.M.-settled expiries at the expiry day's open where the history has one, else (and P.M.)
    # on the last close on or before the expiry day.
    settle_level, _ = m.settlement(expiry, am & at_open, m.spx, m.spx_open)
    s_day = np.where(at_expiry, settle_level[owner], m.spx[day])
    left = np.where(at_expiry, 0.0, left)
    # One ATM level per (day, expiry): many condors share both.
    pair, inverse = np.unique(day.astype(np.int64) * 100_000 + (expiry[owner] - m.dates[day]).astype(np.int64),
                              return_inverse=True)
    first_of_pair = np.zeros(pair.size, np.int64)
    first_of_pair[inverse] = np.arange(inverse.size)
    atm_day = over_days.atm_vol(m.nodes[day[first_of_pair]], np.maximum(left[first_of_pair], 0.25),
                                slope_scale=m.slope_scale[day[first_of_pair]])[inverse]
    # Priced in blocks of rows: the smile's temporaries for every day of every condor at once were ~0.5 GB.
    p_day, d_day = np.empty((owner.size, 4)), np.empty((owner.size, 4))
    for a in range(0, owner.size, _MARK_BLOCK):
        b = slice(a, a + _MARK_BLOCK)
        p_day[b], d_day[b] = price_on_smile(s_day[b, None], strikes[owner[b]], left[b, None], m.rate[day[b]][:, None],
                                            div, atm_day[b, None], _IS_CALL[None, :], m.slope_scale[day[b]][:, None])
    value = -(p_day * _SIDE).sum(axis=1)                # points to buy the condor back at mid (≥ 0 mostly)
    return _Marks(rows, expiry, am, strikes, mid_credit, half, owner, day, value, p_day, d_day, at_expiry, last,
                  settle)


@dataclass(eq=False)
class CondorUnits:
    """Every condor of a run, one contract each: its strikes, credit, exit and daily P/L, none of which
    depends on how many are traded.  :meth:`book` sizes them."""

    entry: np.ndarray          # row index of the entry day
    exit: np.ndarray           # row of the exit (or the last day if still open)
    expiry: np.ndarray
    strikes: np.ndarray
    credit: np.ndarray         # points at the fill
    mid_credit: np.ndarray
    max_loss: np.ndarray       # points per contract at the fill
    exit_value: np.ndarray     # points paid to close
    reason: np.ndarray
    owner: np.ndarray          # life rows: condor, day, P/L per contract (dollars) on each day after the entry
    day: np.ndarray
    unit: np.ndarray
    unit_entry: np.ndarray     # P/L per contract on the entry day (the fill and commissions)

    def book(self, m: MarketArrays, contracts: np.ndarray) -> CondorBook:
        """The condors traded ``contracts`` each (SPX-sized; tenths are XSP): daily P/L and what is open."""
        contracts = np.asarray(contracts, float)
        dollars = contracts * MULTIPLIER
        daily = np.bincount(self.day, weights=self.unit * contracts[self.owner], minlength=m.size)
        daily += np.bincount(self.entry, weights=self.unit_entry * contracts, minlength=m.size)

        def still_open(weights):
            opened = np.bincount(self.entry, weights=weights, minlength=m.size)
            closed = np.bincount(np.where(self.reason == "open", m.size, self.exit), weights=weights,
                                 minlength=m.size + 1)
            return np.cumsum(opened - closed[: m.size])

        return CondorBook(self.entry, self.exit, self.expiry, self.strikes, self.credit, self.mid_credit,
                          self.max_loss, contracts, self.exit_value, self.reason, daily, self.credit * dollars,
                          still_open(contracts), still_open(contracts * self.max_loss * MULTIPLIER),
                          (self.owner, self.day, self.unit), self.unit_entry)


def condor_book(m: MarketArrays, config: BacktestConfig, entries: np.ndarray | None = None,
                short_delta: float | None = None, long_delta: float | None = None,
                scale: float = 1.0, expiries: tuple | None = None) -> CondorBook:
    """All condors of ``config`` on ``m``, sized on the starting capital (or ``config.contracts`` each).

    ``entries``, ``short_delta``, ``long_delta``, ``expiries``: see :func:`condor_units`; ``scale``
    multiplies the contract count before rounding ("trade smaller")."""
    units = condor_units(m, config, entries, short_delta, long_delta, expiries)
    if config.contracts is not None:
        contracts = np.floor(np.full(units.entry.size, float(config.contracts) * scale) + 1e-9)
    else:
        contracts = np.floor(scale * config.entry_risk / (np.maximum(units.max_loss, 0.05) * MULTIPLIER) + 1e-9)
    return units.book(m, contracts)


def condor_units(m: MarketArrays, config: BacktestConfig, entries: np.ndarray | None = None,
                 short_delta: float | None = None, long_delta: float | None = None,
                 expiries: tuple | None = None) -> CondorUnits:
    """All condors of ``config`` on ``m``, per contract (entry rows from the strategy's schedule unless given).

    ``long_delta`` puts the wings at a delta instead of the tier's width (CNDR's 5-delta wings);
    ``expiries`` = (expiry days, A.M.-settled, grid kind) per entry replaces the tier's nearest listed one.
    The strikes and marks of a schedule are kept on ``m`` for the next run that shares them."""
    tier, costs, div = config.tier, config.costs, config.div
    delta = tier.short_delta if short_delta is None else short_delta
    rows = entry_rows(m, config) if entries is None else np.asarray(entries, int)
    key = None
    if entries is None and expiries is None:
        rolled = config.management.exit_days if config.management.rolling else None
        key = ("marks", config.strategy, rolled, tier.days, tier.wing_pct, delta, long_delta, div, config.shape,
               config.settlement)
    marks = m._cache.get(key) if key else None
    if marks is None:
        if expiries is None:
            expiry_all, am_all, kind_all = spx_expiry_for(m, tier.days)
            expiry, am, kind = expiry_all[rows], am_all[rows], kind_all[rows]
        else:
            expiry, am, kind = (np.asarray(x) for x in expiries)
        marks = _condor_marks(m, rows, tier, div, delta, long_delta, expiry, am, kind,
                              config.shape if short_delta is None and long_delta is None else None,
                              config.settlement == "open")
        if key:
            kept = [k for k in m._cache if isinstance(k, tuple) and k[0] == "marks"]
            for old in kept[: max(len(kept) - _MARKS_KEPT + 1, 0)]:
                del m._cache[old]
            m._cache[key] = marks
    expiry, strikes, mid_credit = marks.expiry, marks.strikes, marks.mid_credit
    is_call = _IS_CALL
    credit = mid_credit - costs.fill_share * marks.half_spread - 4 * costs.slippage
    short_put, long_put, short_call, long_call = strikes[:, 1], strikes[:, 0], strikes[:, 2], strikes[:, 3]
    max_loss = np.maximum(short_put - long_put, long_call - short_call) - credit
    owner, day, value, p_day, d_day = marks.owner, marks.day, marks.value, marks.price, marks.delta
    at_expiry, last, settle = marks.at_expiry, marks.last, marks.settle

    # Exit rules: the first day a rule fires (never on the expiry day itself: it settles).
    n = rows.size
    exit_row = last.copy()
    reason = np.where(settle < m.size, "expiry", "open").astype(object)
    rule = config.management
    if rule.active:
        fire = np.zeros(owner.size, bool)
        why = np.full(owner.size, "", dtype=object)
        calendar_left = (expiry[owner] - m.dates[day]).astype(float)
        checks = []
        if rule.exit_days is not None:
            checks.append(("days", calendar_left <= rule.exit_days))
        if rule.stop is not None:
            checks.append(("stop", value - credit[owner] >= rule.stop * credit[owner]))
        if rule.profit_target is not None:
            checks.append(("target", value <= (1.0 - rule.profit_target) * credit[owner]))
        for name, hit in reversed(checks):   # the first listed wins on a day two fire
            hit = hit & ~at_expiry
            why = np.where(hit, name, why)
            fire |= hit
        first = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first, owner[fire], day[fire])
        closed = first < np.iinfo(np.int64).max
        exit_row = np.where(closed, first, exit_row)
        fired_at = np.flatnonzero(fire)
        pick = {(o, d): w for o, d, w in zip(owner[fired_at], day[fired_at], why[fired_at], strict=True)}
        for i in np.flatnonzero(closed):
            reason[i] = pick[(i, first[i])]
    keep = day <= exit_row[owner]
    owner, day, value, p_day, d_day = owner[keep], day[keep], value[keep], p_day[keep], d_day[keep]
    at_expiry = at_expiry[keep]
    closing = (day == exit_row[owner]) & ~at_expiry & (reason[owner] != "open")
    paid = value.copy()
    if closing.any():   # buying back before expiry: the fill and slippage again
        half_day = half_spread_array(p_day[closing], d_day[closing], np.broadcast_to(is_call, (closing.sum(), 4)),
                                     m.vix[day[closing]][:, None])
        paid[closing] += costs.fill_share * half_day.sum(axis=1) + 4 * costs.slippage

    # Day by day: the mid value's change; on the entry day, credit at the fill less the mid.
    prev = np.empty_like(paid)
    first_day = np.r_[True, owner[1:] != owner[:-1]] if owner.size else np.zeros(0, bool)
    prev[first_day] = mid_credit[owner[first_day]]
    prev[~first_day] = value[np.flatnonzero(~first_day) - 1]
    unit = -(paid - prev) * MULTIPLIER - np.where(closing, 4 * costs.commission, 0.0)
    unit_entry = (credit - mid_credit) * MULTIPLIER - 4 * costs.commission
    # The value each condor ended at: the last row of its life.
    end_value = np.where(exit_row == rows, mid_credit, np.nan)
    last_row = np.r_[owner[1:] != owner[:-1], True] if owner.size else np.zeros(0, bool)
    end_value[owner[last_row]] = paid[last_row]
    return CondorUnits(rows, exit_row, expiry, strikes, credit, mid_credit, max_loss, end_value,
                       reason.astype(str), owner, day, unit, unit_entry)


# --- the hedge book ---------------------------------------------------------------------

def _roll_rows(m: MarketArrays, frequency: str) -> np.ndarray:
    if frequency != "vix-expiry":
        return period_starts(m.dates, frequency)
    expiries = vix_expiries(m.day(0), m.day(m.size - 1))
    rows = np.unique(np.searchsorted(m.dates, expiries, side="left"))
    return np.unique(np.r_[0, rows[rows < m.size]])


def vix_futures(m: MarketArrays, rows: np.ndarray, expiry: np.ndarray, days) -> np.ndarray:
    """The VIX future of each ``expiry`` on each day ``rows``: CFE's settlement where the VX files cover it (the
    front month is the first VIX expiry after the day, the second the one after: on its final-settlement day
    the continuous series already shows the next contract), the futures proxy elsewhere."""
    proxy = over_days.futures_proxy(m.nodes[rows], m.vix[rows], m.vix3m[rows], m.vvix[rows], days)
    if not (np.isfinite(m.vx1).any() or np.isfinite(m.vx2).any()):
        return proxy
    listed = _vix_expiries(m)
    k = np.searchsorted(listed, m.dates[rows], side="right")
    front = listed[np.minimum(k, listed.size - 1)]
    second = listed[np.minimum(k + 1, listed.size - 1)]
    real = np.where(expiry == front, m.vx1[rows], np.where(expiry == second, m.vx2[rows], np.nan))
    return np.where(np.isfinite(real), real, proxy)


def _vix_expiries(m: MarketArrays) -> np.ndarray:
    expiries = m._cache.get("vix_expiries")
    if expiries is None:
        expiries = m._cache.setdefault("vix_expiries", vix_expiries(m.day(0), m.day(m.size - 1)))
    return expiries


def _layer_rolls(m: MarketArrays, layer: LayerRule, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A layer's roll rows from row ``first`` on and the VIX expiry bought on each: its schedule, plus the
    session an option expires on when that comes before the next scheduled roll (it is replaced there)."""
    rolls = _roll_rows(m, layer.schedule)
    rolls = rolls[rolls >= first]
    if rolls.size == 0:
        return rolls, np.zeros(0, "datetime64[D]")
    while True:
        skip = np.zeros(rolls.size, int)
        if layer.time_shift:
            with np.errstate(invalid="ignore", divide="ignore"):
                skip = ((m.vix[rolls] / m.vix3m[rolls]) >= 1.0).astype(int)  # NaN VIX3M: no shift
        expiry = pick_vix_expiries(_vix_expiries(m), m.dates[rolls], layer.low_days, layer.high_days, skip)
        expires_at = np.searchsorted(m.dates, expiry, side="left")
        early = expires_at < np.r_[rolls[1:], m.size]
        if not early.any():
            return rolls, expiry
        rolls = np.unique(np.r_[rolls, expires_at[early]])


@dataclass(eq=False)
class HedgeBook:
    """One scheme's hedge trades and their daily P/L (dollars)."""

    scheme: str
    daily_pnl: np.ndarray
    layer_pnl: dict            # layer name -> daily P/L
    trades: pd.DataFrame       # one row per layer position
    premium: float             # premium paid at the fill, dollars (all positions)
    amortised_premium: float   # premium spread over the days each position was held


@dataclass(eq=False)
class LayerUnits:
    """One hedge layer's positions, one contract each (what does not depend on the account): each roll's
    expiry, strikes and price, its daily P/L per contract, and the factors that turn the dollars the
    hedge is sized on into contracts (:meth:`contracts`)."""

    name: str
    rolls: np.ndarray
    until: np.ndarray
    expiry: np.ndarray
    future: np.ndarray
    strikes: list
    unit_mid: np.ndarray
    unit_paid: np.ndarray
    owner: np.ndarray          # life rows: roll, day, P/L per contract (dollars)
    day: np.ndarray
    unit: np.ndarray
    unit_entry: np.ndarray     # per contract on the roll day: the fill and commissions (dollars)
    held: np.ndarray           # calendar days each position was held
    days: np.ndarray           # calendar days to expiry at the roll
    budget: np.ndarray | None  # % of the sized dollars (None: VXTH's premium weight)
    weight: np.ndarray | None  # VXTH: % of the sized dollars in premium
    share: float
    multiplier: np.ndarray | None   # the event multiplier on each roll (1 off events)
    active: np.ndarray | None       # the contingent tail's trigger on each roll

    def contracts(self, sized_on, rows=slice(None)) -> np.ndarray:
        """Whole VIX contracts for ``sized_on`` dollars on the rolls ``rows`` (elementwise)."""
        if self.weight is not None:
            spend = sized_on * self.weight[rows] / 100.0
            return np.floor(spend / (MULTIPLIER * np.maximum(self.unit_mid[rows], 1e-9)) + 0.5)
        target = sized_on * self.budget[rows] / 100.0
        target = target * self.share
        if self.multiplier is not None:
            target = target * self.multiplier[rows]
        if self.active is not None:
            target = np.where(self.active[rows], target, 0.0)
        return np.floor(target / (MULTIPLIER * self.future[rows]) + 0.5)


def _front_vix_expiry(dates: np.ndarray) -> np.ndarray:
    """The first VIX expiry after each day (datetime64[D]): the front month's."""
    if dates.size == 0:
        return dates
    listed = vix_expiries(pd.Timestamp(dates.min()).date(), pd.Timestamp(dates.max()).date())
    return listed[np.searchsorted(listed, dates, side="right")]


def _vvix_for_options(vvix: np.ndarray, scale: float) -> np.ndarray:
    """VVIX as the VIX-option vol reads it, scaled (a sensitivity): the model's own where ``scale`` is 1."""
    if scale == 1.0:
        return vvix
    return np.where(np.isfinite(vvix) & (vvix > 0), vvix, DEFAULT_VVIX) * scale


def hedge_units(m: MarketArrays, config: BacktestConfig, scheme: str) -> list[LayerUnits]:
    """The scheme's layers on ``m``, one contract each: bought at each roll, marked daily, sold at the next."""
    rules, costs = config.hedge, config.costs
    out = []
    for layer in scheme_layers(scheme, rules.split):
        # No VIX option before its listing: the layer starts at its first scheduled roll after it.
        first = 0 if config.synthetic_hedge else int(np.searchsorted(m.dates, VIX_OPTIONS_LISTED))
        rolls, expiry = _layer_rolls(m, layer, first)
        if rolls.size == 0:   # the window ends before the layer's first roll
            none, empty = np.zeros(0, int), np.zeros(0)
            out.append(LayerUnits(layer.name, none, none, np.zeros(0, "datetime64[D]"), empty, [empty], empty, empty,
                                  none, none, empty, empty, empty, empty, empty, None, layer.share, None, None))
            continue
        until = np.r_[rolls[1:], m.size - 1]
        days = (expiry - m.dates[rolls]).astype(float)
        future = vix_futures(m, rolls, expiry, days)
        rate = m.rate[rolls]
        vvix = _vvix_for_options(m.vvix, config.vix_vol_scale)   # the VIX-option vol is proportional to it
        era, front = vix_strike_era(m.dates[rolls]), expiry == _front_vix_expiry(m.dates[rolls])
        k_long = strikes_at_delta(layer.long_delta, future, days, vvix[rolls], rate, rules.call_skew, era, front)
        strikes = [k_long]
        if layer.short_delta is not None:
            k_short = np.maximum(strikes_at_delta(layer.short_delta, future, days, vvix[rolls], rate, rules.call_skew,
                                                  era, front), listed_above(k_long, era, front))
            strikes.append(k_short)
        sides = [1.0, -1.0][: len(strikes)]
        prices = [black76_price(future, k, days / DAYS_PER_YEAR, rate,
                                vix_option_vol(k, future, days, vvix[rolls], rules.call_skew), True)
                  for k in strikes]
        unit_mid = sum(s * p for s, p in zip(sides, prices, strict=True))
        fill = costs.vix_fill_share * sum(vix_half_spread(p, m.vix[rolls], costs.vix_half_spread) for p in prices)
        unit_paid = unit_mid + fill
        budget = weight = multiplier = active = None
        if scheme == "vxth":
            weight = np.array([vxth_weight_pct(f) for f in future])
        else:
            budget = np.full(rolls.size, STATIC_BUDGET_PCT) if scheme == "static10" else m.budget_pct[rolls]
            if layer.event:
                near = m.event_days[rolls] <= EVENT_WINDOW_DAYS
                mult = np.full(rolls.size, rules.event_multiplier)
                if not rules.allow_above_band:
                    mult = capped_event_multiplier(mult, m.band_high_pct[rolls], budget, layer.share)
                multiplier = np.where(near, mult, 1.0)
            if layer.contingent and rules.contingent == "stress":
                active = (m.stress[rolls] >= rules.stress_trigger) | m.rebalance[rolls]
        # Every day of every position's life after its roll day.
        owner, day = _life_rows(rolls, until)
        left = (expiry[owner] - m.dates[day]).astype(float)
        expired = left <= 0
        vix_settle, _ = m.settlement(expiry, config.settlement == "open", m.vix, m.vix_open)
        f_day = vix_futures(m, day, expiry[owner], np.maximum(left, 0.0))
        value = np.zeros(owner.size)
        sell_fill = np.zeros(owner.size)
        for s, k in zip(sides, strikes, strict=True):
            kk = k[owner]
            live = black76_price(f_day, kk, np.maximum(left, 1e-9) / DAYS_PER_YEAR, m.rate[day],
                                 vix_option_vol(kk, f_day, np.maximum(left, 1e-9), vvix[day], rules.call_skew), True)
            value += s * np.where(expired, np.maximum(vix_settle[owner] - kk, 0.0), live)
            sell_fill += costs.vix_fill_share * vix_half_spread(live, m.vix[day], costs.vix_half_spread)
        # Sold at the next roll (at mid less the fill), unless it expired first.
        sell_now = (day == until[owner]) & (owner < rolls.size - 1) & ~expired   # the last one is still held
        got = value - np.where(sell_now, sell_fill, 0.0)
        prev = np.empty_like(value)
        first_row = np.r_[True, owner[1:] != owner[:-1]] if owner.size else np.zeros(0, bool)
        prev[first_row] = unit_mid[owner[first_row]]
        prev[~first_row] = value[np.flatnonzero(~first_row) - 1]
        legs = len(strikes)
        unit = (got - prev) * MULTIPLIER - np.where(sell_now, legs * costs.commission, 0.0)
        unit_entry = -(unit_paid - unit_mid) * MULTIPLIER - legs * costs.commission
        held = (m.dates[until] - m.dates[rolls]).astype(float)
        out.append(LayerUnits(layer.name, rolls, until, expiry, future, strikes, unit_mid, unit_paid, owner, day, unit,
                              unit_entry, held, days, budget, weight, layer.share, multiplier, active))
    return out


def hedge_book_from(m: MarketArrays, scheme: str, layers: list[LayerUnits], contracts: list[np.ndarray]) -> HedgeBook:
    """The scheme's hedge with ``contracts`` of each layer on each roll: daily P/L and trades."""
    daily = np.zeros(m.size)
    layer_pnl, frames = {}, []
    premium_total = amortised_total = 0.0
    for lu, n in zip(layers, contracts, strict=True):
        layer_daily = np.bincount(lu.day, weights=lu.unit * n[lu.owner], minlength=m.size)
        layer_daily += np.bincount(lu.rolls, weights=lu.unit_entry * n, minlength=m.size)
        daily += layer_daily
        layer_pnl[lu.name] = layer_daily
        premium = lu.unit_paid * n * MULTIPLIER
        premium_total += float(premium.sum())
        amortised_total += float((premium * np.minimum(lu.held / np.maximum(lu.days, 1.0), 1.0)).sum())
        frames.append(pd.DataFrame({"layer": lu.name, "bought": m.dates[lu.rolls], "sold": m.dates[lu.until],
                                    "expiry": lu.expiry, "future": lu.future, "strike": lu.strikes[0],
                                    "short_strike": lu.strikes[1] if len(lu.strikes) > 1 else np.nan,
                                    "contracts": n, "price": lu.unit_paid, "cost": premium}))
    trades = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["layer", "bought", "sold", "expiry", "future", "strike", "short_strike", "contracts", "price",
                 "cost"])
    return HedgeBook(scheme, daily, layer_pnl, trades, premium_total, amortised_total)


def contract_unit(dates: np.ndarray) -> np.ndarray:
    """The smallest condor an account could trade on each day, in SPX contracts: 0.1 (XSP) from XSP's
    listing, 1 before."""
    return np.where(np.asarray(dates, "datetime64[D]") >= XSP_LISTED, 0.1, 1.0)


def equity_sizes(m: MarketArrays, config: BacktestConfig, units: CondorUnits, layers: list[LayerUnits],
                 scale: float = 1.0) -> tuple[np.ndarray, list[np.ndarray]]:
    """Contracts of every condor and every hedge roll when each is sized on the account as it stands that day.

    Day by day: the account carried into the day (yesterday's close grown by a day of T-bill interest, the
    starting capital on the first day) sizes the day's condor entries, ``scale`` × the risk share of it
    over each condor's max loss, in whole units of :func:`contract_unit`; then the hedge rolls of the day,
    on that account (the notional rule, or VXTH's) or on the condors open after the entries (the
    position rules).  The day's P/L of everything open then moves the account.  An account at zero
    trades no more."""
    size = m.size
    growth = _growth(m, config.interest)
    pl = np.zeros(size)
    open_ml, open_n = np.zeros(size), np.zeros(size)
    n_condor = np.zeros(units.entry.size)
    n_layers = [np.zeros(lu.rolls.size) for lu in layers]
    c_entry = units.entry.tolist()
    c_end = np.where(units.reason == "open", size, units.exit).tolist()
    c_risk = (np.maximum(units.max_loss, 0.05) * MULTIPLIER).tolist()
    c_ml = (units.max_loss * MULTIPLIER).tolist()
    c_unit = contract_unit(m.dates[units.entry]).tolist()
    c_bounds = np.searchsorted(units.owner, np.arange(units.entry.size + 1)).tolist()
    c_first = units.day[np.minimum(c_bounds[:-1], max(units.day.size - 1, 0))].tolist() if units.day.size else []
    share = scale * config.risk_share
    rules = config.hedge
    roll_at = {}
    for j, lu in enumerate(layers):
        for r, row in enumerate(lu.rolls.tolist()):
            roll_at.setdefault(row, []).append((j, r))
    h_bounds = [np.searchsorted(lu.owner, np.arange(lu.rolls.size + 1)).tolist() for lu in layers]
    k = 0
    equity = float(config.capital)
    for i in range(size):
        carried = equity * growth[i]
        if carried <= 0:
            break
        while k < len(c_entry) and c_entry[k] == i:
            lots = np.floor(share * carried / c_risk[k] / c_unit[k] + 1e-9)
            if lots > 0:
                n = lots * c_unit[k]
                n_condor[k] = n
                pl[i] += n * units.unit_entry[k]
                a, b = c_bounds[k], c_bounds[k + 1]
                if b > a:
                    pl[c_first[k]: c_first[k] + b - a] += n * units.unit[a:b]
                open_ml[i: c_end[k]] += n * c_ml[k]
                open_n[i: c_end[k]] += n
            k += 1
        for j, r in roll_at.get(i, ()):
            lu = layers[j]
            sized_on = rules.scale * hedge_base(rules.sizing, carried, open_ml[i], open_n[i], rules.per_max_loss,
                                                rules.per_contract)
            n = float(lu.contracts(np.float64(sized_on), r))
            if n > 0:
                n_layers[j][r] = n
                pl[i] += n * lu.unit_entry[r]
                a, b = h_bounds[j][r], h_bounds[j][r + 1]
                if b > a:
                    first = int(lu.day[a])
                    pl[first: first + b - a] += n * lu.unit[a:b]
        equity = carried + pl[i]
    return n_condor, n_layers


def book_risk(m: MarketArrays, equity: np.ndarray, measure: str = "drawdown") -> float:
    """The risk "trade smaller" is matched on: the max drawdown of ``equity`` (a share of the peak), or the
    CVaR 95 % of its weekly returns (the mean loss of its worst 5 % of weeks, as a positive share)."""
    values = np.maximum(np.asarray(equity, float), 1e-12)
    if measure == "drawdown":
        return float(np.max(1.0 - values / np.maximum.accumulate(values)))
    week = (m.dates.astype("int64") + 3) // 7
    last = np.r_[week[1:] != week[:-1], True]
    closes = np.r_[values[0], values[last]]
    returns = closes[1:] / closes[:-1] - 1.0
    worst = np.sort(returns)[: max(int(np.ceil(0.05 * returns.size)), 1)]
    return float(max(-worst.mean(), 0.0))


def _matched(scaled, risk_of, target: float, iterations: int = 8) -> tuple[float, CondorBook, np.ndarray]:
    """The scale of the unhedged book whose risk is ``target``: secant steps from 0 (no risk) and 1 (the
    unhedged book), kept within 0 … :data:`SMALLER_MAX_SCALE`, ending on the tried scale nearest the target."""
    if target <= 0:
        small, curve = scaled(0.0)
        return 0.0, small, curve
    tried = {}
    low, high = (0.0, 0.0), None
    f = 1.0
    for _ in range(iterations):
        small, curve = scaled(f)
        r = risk_of(curve)
        tried[f] = (abs(r - target), small, curve)
        if abs(r - target) <= 0.01 * target:
            break
        if r < target:
            low = max(low, (f, r))
        else:
            high = (f, r) if high is None or f < high[0] else high
        if high is None:   # the unhedged book is still below the target: grow by the ratio (risk ~ scale)
            nxt = min(f * target / max(r, 1e-9), SMALLER_MAX_SCALE) if r > 0 else SMALLER_MAX_SCALE
            if nxt <= f or f >= SMALLER_MAX_SCALE:
                break
        else:              # between a scale below and one above: interpolate
            (f0, r0), (f1, r1) = low, high
            nxt = f0 + (target - r0) * (f1 - f0) / max(r1 - r0, 1e-12)
            nxt = min(max(nxt, f0 + 0.05 * (f1 - f0)), f1 - 0.05 * (f1 - f0))
        f = float(round(nxt, 4))
        if f in tried:
            break
    best = min(tried, key=lambda k: tried[k][0])
    return best, tried[best][1], tried[best][2]


def _growth(m: MarketArrays, interest: bool) -> np.ndarray:
    """Each day's growth of a balance from the day before at the T-bill rate (1 on the first day, or
    without interest)."""
    if not interest:
        return np.ones(m.size)
    gap = np.r_[0.0, np.diff(m.dates.astype("int64")).astype(float)]
    return np.exp(np.r_[0.0, m.rate[:-1]] * gap / 365.0)


def _sized_on(rules: HedgeSettings, rows: np.ndarray, capital, open_max_loss, open_contracts) -> np.ndarray:
    """The dollars each roll's hedge is sized on (:func:`alvh_core.strategy.hedge.hedge_base`)."""
    return rules.scale * hedge_base(rules.sizing, np.broadcast_to(np.asarray(capital, float), rows.shape),
                                    open_max_loss[rows], open_contracts[rows], rules.per_max_loss, rules.per_contract)


def hedge_book(m: MarketArrays, config: BacktestConfig, scheme: str, condor: CondorBook | None = None) -> HedgeBook:
    """The scheme's layers on ``m`` sized on the starting capital (or the open condors of ``condor``)."""
    layers = hedge_units(m, config, scheme)
    zeros = np.zeros(m.size)
    open_ml = zeros if condor is None else condor.open_max_loss
    open_n = zeros if condor is None else condor.open_contracts
    contracts = [lu.contracts(_sized_on(config.hedge, lu.rolls, config.capital, open_ml, open_n)) for lu in layers]
    return hedge_book_from(m, scheme, layers, contracts)


# --- equity, statistics and the whole run -------------------------------------------------

def equity_curve(m: MarketArrays, daily_pnl: np.ndarray, capital: float, interest: bool = True) -> np.ndarray:
    """Account value each day: capital plus P/L, the balance earning the T-bill rate
    (``E_t = E_{t-1}·g_t + pnl_t``, solved in closed form); zero from the first day it is not positive."""
    g = np.cumprod(_growth(m, interest))
    equity = g * (capital + np.cumsum(daily_pnl / g))
    broke = np.flatnonzero(equity <= 0)
    if broke.size:   # ruined: the account stops there
        equity[broke[0]:] = 0.0
    return equity


@dataclass(frozen=True)
class SchemeStats:
    """A scheme's statistics beside the :class:`Performance` of its equity."""

    performance: Performance
    ruined: str | None          # first date the account went to zero, if it did
    hedge_pnl: float            # dollars over the run
    hedge_premium: float        # premium paid, dollars
    hedge_drag_pct: float       # hedge P/L per year, % of capital (negative: a cost)
    worst_weeks_hedge: float    # hedge P/L in the unhedged book's 10 worst weeks, dollars
    worst_weeks_condor: float   # condor P/L in those weeks, dollars


@dataclass(eq=False)
class BacktestResult:
    config: BacktestConfig
    market: MarketArrays
    condor: CondorBook
    hedges: dict               # scheme -> HedgeBook
    equity: pd.DataFrame       # one column per scheme (and "smaller"), dollars
    stats: dict                # scheme -> SchemeStats
    smaller_scale: float | None
    smaller_of: str | None
    by_regime: pd.DataFrame    # share of days and P/L by regime and scheme
    worst_weeks: pd.DataFrame  # the unhedged book's 10 worst weeks, with each scheme's hedge P/L
    condors: dict = field(default_factory=dict)   # scheme (and "smaller") -> its own CondorBook

    def summary(self, scheme: str) -> dict:
        s = self.stats[scheme]
        p = s.performance
        return {"days": p.days, "start": p.start, "end": p.end, "final_equity": float(self.equity[scheme].iloc[-1]),
                "total_return": p.total_return, "cagr": p.cagr, "volatility": p.volatility, "sharpe": p.sharpe,
                "sortino": p.sortino, "max_drawdown": p.max_drawdown, "calmar": p.calmar, "worst_day": p.worst_day,
                "worst_month": p.worst_month, "win_rate": p.win_rate, "ruined": s.ruined,
                "hedge_pnl": s.hedge_pnl, "hedge_premium": s.hedge_premium, "hedge_drag_pct": s.hedge_drag_pct,
                "worst_weeks_hedge_pnl": s.worst_weeks_hedge, "worst_weeks_condor_pnl": s.worst_weeks_condor}


def condor_only_equity(m: MarketArrays, config: BacktestConfig, fraction: float = 1.0) -> np.ndarray:
    """The account with the condors alone at ``fraction`` of their risk share (0: T-bills only): the run's
    "trade smaller" curve at any size; at 1 it is the unhedged run's equity."""
    if config.sizes_by_equity:
        units = condor_units(m, config)
        book = units.book(m, equity_sizes(m, config, units, [], fraction)[0])
    else:
        book = condor_book(m, config, scale=fraction)
    return equity_curve(m, book.daily_pnl, config.capital, config.interest)


def _stats(m: MarketArrays, equity: np.ndarray, hedge: HedgeBook | None, capital: float,
           worst: np.ndarray, week: np.ndarray, condor_daily: np.ndarray) -> SchemeStats:
    index = pd.DatetimeIndex(m.dates)
    broke = np.flatnonzero(equity <= 0)
    ruined = str(index[broke[0]].date()) if broke.size else None
    values = np.where(np.arange(equity.size) >= (broke[0] if broke.size else equity.size), 1.0,
                      np.maximum(equity, 1.0))
    perf = performance(pd.Series(values, index=index), pd.Series(m.rate, index=index))
    years = max((m.dates[-1] - m.dates[0]).astype(float) / 365.25, 1 / 365.25)
    hedge_daily = hedge.daily_pnl if hedge is not None else np.zeros(m.size)
    in_worst = np.isin(week, worst)
    return SchemeStats(perf, ruined, float(hedge_daily.sum()), float(hedge.premium if hedge else 0.0),
                       float(100.0 * hedge_daily.sum() / years / capital),
                       float(hedge_daily[in_worst].sum()), float(condor_daily[in_worst].sum()))


def run_backtest(m: MarketArrays, config: BacktestConfig, schemes=("none", "alvh"), smaller: bool = True,
                 progress=None) -> BacktestResult:
    """The condor strategy with each hedge scheme (and the "trade smaller" comparator).

    ``progress(fraction, text)`` is called between steps (the pages' progress bar).
    "Trade smaller" is the unhedged condor with its contracts cut by the share of the
    condor credit the first hedged scheme spent on premium (spread over the time each
    hedge was held): the bar that hedge has to beat."""
    schemes = tuple(dict.fromkeys(schemes))
    for s in schemes:
        if s not in BACKTEST_SCHEMES:
            raise ValueError(f"hedge scheme must be one of {BACKTEST_SCHEMES}")
    steps = len(schemes) + 2
    tell = progress or (lambda fraction, text: None)
    tell(0.0, "condors")
    by_equity = config.sizes_by_equity
    units = condor_units(m, config) if by_equity else None
    fixed = None if by_equity else condor_book(m, config)
    hedges, curves, condors = {}, {}, {}
    for i, scheme in enumerate(schemes):
        tell((i + 1) / steps, RESULT_LABELS[scheme])
        if by_equity:   # each scheme's account sizes its own condors and hedge as it grows or shrinks
            layers = hedge_units(m, config, scheme)
            n_condor, n_layers = equity_sizes(m, config, units, layers)
            condors[scheme] = units.book(m, n_condor)
            hedges[scheme] = hedge_book_from(m, scheme, layers, n_layers)
        else:
            condors[scheme] = fixed
            hedges[scheme] = hedge_book(m, config, scheme, fixed)
        curves[scheme] = equity_curve(m, condors[scheme].daily_pnl + hedges[scheme].daily_pnl, config.capital,
                                      config.interest)
    scale, smaller_of = None, None
    hedged = [s for s in schemes if s != "none"]
    if smaller and hedged:
        smaller_of = hedged[0]
        tell((steps - 1) / steps, RESULT_LABELS["smaller"])

        def scaled(f: float) -> tuple[CondorBook, np.ndarray]:
            small = (units.book(m, equity_sizes(m, config, units, [], f)[0]) if by_equity
                     else condor_book(m, config, scale=f))
            return small, equity_curve(m, small.daily_pnl, config.capital, config.interest)

        if config.smaller_match == "premium":
            scale = smaller_fraction(hedges[smaller_of].amortised_premium, float(condors[smaller_of].credit_dollars.sum()))
            small, curve = scaled(scale)
        else:
            target = book_risk(m, curves[smaller_of], config.smaller_match)
            scale, small, curve = _matched(scaled, lambda c: book_risk(m, c, config.smaller_match), target)
        curves["smaller"] = curve
        hedges["smaller"] = None
        condors["smaller"] = small
    condor = condors.get("none") or condors[schemes[0]]
    index = pd.DatetimeIndex(m.dates)
    equity = pd.DataFrame(curves, index=index)
    # The unhedged book's 10 worst weeks (condor P/L), and what each hedge did in them.
    week = (m.dates.astype("int64") + 3) // 7
    weekly = pd.Series(condor.daily_pnl).groupby(week).sum()
    worst = weekly.nsmallest(min(10, len(weekly))).index.to_numpy()
    stats = {}
    for name in curves:
        book = hedges.get(name)
        condor_daily = condors[name].daily_pnl
        stats[name] = _stats(m, curves[name], book, config.capital, worst, week, condor_daily)
    worst_rows = []
    for w in worst:
        mask = week == w
        row = {"week_of": str(index[mask][0].date()), "condor_pnl": float(condor.daily_pnl[mask].sum()),
               "spx_change": float(m.spx[mask][-1] / m.spx[max(np.flatnonzero(mask)[0] - 1, 0)] - 1.0),
               "vix_close": float(m.vix[mask][-1])}
        for s in schemes:
            if s != "none":
                row[f"{s}_hedge_pnl"] = float(hedges[s].daily_pnl[mask].sum())
        worst_rows.append(row)
    regime_rows = []
    for regime in ("Low", "Moderate", "High"):
        mask = m.regime == regime
        row = {"regime": regime, "share_of_days": float(mask.mean()), "condor_pnl": float(condor.daily_pnl[mask].sum())}
        for s in schemes:
            if s != "none":
                row[f"{s}_hedge_pnl"] = float(hedges[s].daily_pnl[mask].sum())
        regime_rows.append(row)
    tell(1.0, "done")
    return BacktestResult(config, m, condor, hedges, equity, stats, scale, smaller_of, pd.DataFrame(regime_rows),
                          pd.DataFrame(worst_rows), condors)


def wide_wings(m: MarketArrays, book: CondorBook, config: BacktestConfig) -> np.ndarray:
    """The condors whose wings could not be built near the tier's width: a side wider than twice its target
    (the tier's % of spot, or the structure's) and 10 points beyond that, as the far-from-the-money strike grid
    steps 25 to 200 points where a high VIX puts the short strikes.  Their max loss is far above the tier's."""
    spot = m.spx[book.entry]
    put_pct, call_pct = ((config.shape[2], config.shape[3]) if config.shape is not None
                         else (config.tier.wing_pct, config.tier.wing_pct))
    put = book.strikes[:, 1] - book.strikes[:, 0]
    call = book.strikes[:, 3] - book.strikes[:, 2]
    return (put > 2.0 * spot * put_pct / 100.0 + 10.0) | (call > 2.0 * spot * call_pct / 100.0 + 10.0)


TRADE_COLUMNS = ("kind", "layer", "bought", "sold", "expiry", "strike", "contracts", "price", "cost", "max_loss")


def trades_frame(result: BacktestResult, scheme: str) -> pd.DataFrame:
    """Every condor and hedge trade of ``scheme``'s run, one row each (:data:`TRADE_COLUMNS`): ``kind``
    condor / VIX call / VIX call spread; ``strike`` the condor's four (long put/short put/short call/long call)
    or the hedge's long strike (and short); ``contracts`` SPX-sized condors (tenths are XSP) or VIX contracts;
    ``price`` points per contract at the fill (a condor's credit negative: received); ``cost`` dollars paid
    (negative: received); ``max_loss`` dollars per condor contract, empty for hedges.  Rows with no contract
    are left out."""
    m = result.market
    book = result.condors.get(scheme) or result.condor
    keep = book.contracts > 0
    strikes = book.strikes[keep]
    condors = pd.DataFrame({
        "kind": "condor", "layer": "", "bought": m.dates[book.entry[keep]], "sold": m.dates[book.exit[keep]],
        "expiry": book.expiry[keep],
        "strike": ["/".join(f"{k:g}" for k in row) for row in strikes],
        "contracts": book.contracts[keep], "price": -book.credit[keep],
        "cost": -book.credit[keep] * book.contracts[keep] * MULTIPLIER,
        "max_loss": book.max_loss[keep] * MULTIPLIER})
    frames = [condors]
    hedge = result.hedges.get(scheme)
    if hedge is not None and len(hedge.trades):
        t = hedge.trades[hedge.trades["contracts"] > 0]
        spread = t["short_strike"].notna()
        frames.append(pd.DataFrame({
            "kind": np.where(spread, "VIX call spread", "VIX call"), "layer": t["layer"].to_numpy(),
            "bought": t["bought"].to_numpy(), "sold": t["sold"].to_numpy(), "expiry": t["expiry"].to_numpy(),
            "strike": [f"{a:g}/{b:g}" if np.isfinite(b) else f"{a:g}" for a, b in zip(t["strike"], t["short_strike"],
                                                                                     strict=True)],
            "contracts": t["contracts"].to_numpy(), "price": t["price"].to_numpy(), "cost": t["cost"].to_numpy(),
            "max_loss": np.nan}))
    out = pd.concat(frames, ignore_index=True).sort_values(["bought", "kind"], kind="stable", ignore_index=True)
    for column in ("bought", "sold", "expiry"):
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d")
    out["contracts"] = out["contracts"].round(6)   # tenths of an SPX condor, without binary noise
    return out.round({"price": 4, "cost": 2, "max_loss": 2})[list(TRADE_COLUMNS)]


#: What in a backtest is fitted on which data (no look-ahead in the trading rules; a stated
#: in-sample window for the pricing model's constants).
IN_SAMPLE_NOTE = (
    "Trading decisions use only each day's data and what came before it: the regime, the stress score, "
    "the event calendar and the term structure are read as of the day. The pricing model's constants are "
    "fitted once and used throughout (an in-sample window for part of the history): the smile's shape on "
    "the SPX chains of 2022-02-04 and 2023-02-07, the VIX futures proxy on CFE settlements 2009-2020, the "
    "fill spreads on the same two chains, the spot-vol link on 1990-2026 (replays only).")
