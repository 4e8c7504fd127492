"""Replicas of two Cboe benchmark indexes, model-priced, to measure how far a backtest is from reality.

* **CNDR** (Cboe S&P 500 Iron Condor Index): on each monthly SPX expiry day,
  sell the 20-delta put and call and buy the 5-delta wings of the next
  monthly expiry; hold to expiry; the account sits in T-bills and covers ten
  times the condor's maximum loss (the number of condors is the account
  over ten max losses, fractional as an index's is).
* **VXTH** (Cboe VIX Tail Hedge Index): the S&P 500 with dividends
  reinvested, plus one-month 30-delta VIX calls bought on each VIX expiry
  day with a share of the portfolio set by the VIX future's level: 0 % up to
  15, 1 % to 30, 0.5 % to 50, 0 % above.

Both are priced with the project's models at the real daily closes, so the
gap to the real index is the model's (and the approximations': closes for
the 11 a.m. roll and the A.M. settlement, a constant dividend yield, the
futures proxy for the VIX future).  :func:`tracking` measures it when the
real index is at hand (Cboe's CDN, or the user's ``CNDR_History.csv`` /
``VXTH_History.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alvh_core.data.listings import monthly_expiry
from alvh_core.history.backtest import (
    BacktestConfig,
    Costs,
    MarketArrays,
    condor_book,
    vix_expiries,
    vix_futures,
)
from alvh_core.history.stats import drawdown, performance
from alvh_core.model.pricing import DAYS_PER_YEAR, black76_price
from alvh_core.model.vixfutures import vix_option_vol
from alvh_core.strategy.hedge import VXTH_LAYER, strikes_at_delta, vxth_weight_pct
from alvh_core.strategy.legs import MULTIPLIER
from alvh_core.strategy.tiers import Tier

REPLICAS = ("cndr", "vxth")
REPLICA_LABELS = {"cndr": "CNDR replica (model)", "vxth": "VXTH replica (model)"}
#: What a replica's gap to the real index comes from, for the page and the docs.
GAP_SOURCES = {
    "cndr": ("strikes and prices from the vol model's smile, not Cboe's 11 a.m. quotes",
             "A.M. settlement at the SPX open where the history has real opens (from about 2008), else the "
             "expiry day's close",
             "the roll at the close, not at 11 a.m."),
    "vxth": ("VIX calls priced on the futures proxy with a VVIX-based vol, not quotes",
             "a constant dividend yield for the total-return S&P 500",
             "VIX settlement (the special opening quotation) approximated by the VIX open of the expiry day"),
}
#: Each index's rule in one sentence, for the pages.
REPLICA_RULES = {
    "cndr": ("on each monthly SPX expiry day, sell the 20-delta put and call and buy the 5-delta wings of the next "
             "monthly expiry, hold to expiry; the account sits in T-bills and covers ten times the condor's "
             "maximum loss."),
    "vxth": ("the S&P 500 with dividends reinvested, plus one-month 30-delta VIX calls bought on each VIX expiry "
             "day with 0 % of the portfolio while the VIX future is at most 15, 1 % to 30, 0.5 % to 50, 0 % above."),
}
#: The CNDR rule's condor (20-delta shorts, 5-delta wings, about a month).
CNDR_TIER = Tier("CNDR", 0.5, 0.6, 0.20, 1.0, 30)
#: Index costs: Cboe's indexes trade at their roll prices, with no commissions.
INDEX_COSTS = Costs(fill_share=0.0, slippage=0.0, commission=0.0, vix_half_spread=0.0)


@dataclass(eq=False)
class Replica:
    name: str
    level: pd.Series        # index level, 100 on the first day
    rolls: pd.DataFrame     # one row per roll: what was traded
    costs: Costs
    div: float

    @property
    def label(self) -> str:
        return REPLICA_LABELS[self.name]


def _growth(m: MarketArrays) -> np.ndarray:
    """Cumulative T-bill growth from the first day (the rate of each night applied)."""
    gap = np.r_[0.0, np.diff(m.dates.astype("int64")).astype(float)]
    return np.cumprod(np.exp(np.r_[0.0, m.rate[:-1]] * gap / 365.0))


def cndr_replica(m: MarketArrays, costs: Costs = INDEX_COSTS, div: float = 0.019) -> Replica:
    """The CNDR rule on ``m`` (see the module docstring)."""
    days = m.dates.astype(object)
    first, last = days[0], days[-1]
    expiries = []
    year, month = first.year, first.month
    while (year, month) <= (last.year + 1, last.month):
        expiries.append(monthly_expiry(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    expiries = np.array(expiries, dtype="datetime64[D]")
    # Roll on each monthly expiry day the history has (a missing one: the next session).
    rolls = np.unique(np.searchsorted(m.dates, expiries[expiries >= m.dates[0]], side="left"))
    rolls = rolls[rolls < m.size - 1]
    if rolls.size == 0:
        raise ValueError("the window holds no monthly SPX expiry to roll on")
    nxt = expiries[np.searchsorted(expiries, m.dates[rolls], side="right")]
    config = BacktestConfig(strategy="monthly", tier=CNDR_TIER, contracts=1, costs=costs, div=div, interest=False)
    book = condor_book(m, config, entries=rolls, long_delta=0.05,
                       expiries=(nxt, np.ones(rolls.size, bool), np.zeros(rolls.size, int)))   # A.M., the monthly grid
    owner, day, unit = book.unit_rows
    growth = _growth(m)
    level = np.full(m.size, np.nan)
    level[: rolls[0] + 1] = 100.0
    account = 100.0
    units = np.zeros(rolls.size)
    bounds = np.searchsorted(owner, np.arange(rolls.size + 1))   # each condor's rows are contiguous
    for k, r in enumerate(rolls):
        end = rolls[k + 1] if k + 1 < rolls.size else m.size - 1
        units[k] = account / (10.0 * max(book.max_loss[k], 0.05) * MULTIPLIER)
        lo, hi = bounds[k], bounds[k + 1]
        pnl = np.bincount(day[lo:hi] - r, weights=unit[lo:hi], minlength=end - r + 1)[: end - r + 1]
        pnl[0] += book.unit_entry[k]
        span = slice(r, end + 1)
        level[span] = account * growth[span] / growth[r] + units[k] * np.cumsum(pnl)
        account = level[end]
    frame = pd.DataFrame({"roll": m.dates[rolls], "expiry": nxt, "spx": m.spx[rolls],
                          "long_put": book.strikes[:, 0], "short_put": book.strikes[:, 1],
                          "short_call": book.strikes[:, 2], "long_call": book.strikes[:, 3],
                          "credit": book.credit, "max_loss": book.max_loss, "settled_at": book.exit_value,
                          "condors_per_100": units})
    return Replica("cndr", pd.Series(level, index=pd.DatetimeIndex(m.dates)).iloc[rolls[0]:], frame, costs, div)


def vxth_replica(m: MarketArrays, costs: Costs = INDEX_COSTS, div: float = 0.019) -> Replica:
    """The VXTH rule on ``m`` (see the module docstring)."""
    expiries = vix_expiries(m.day(0), m.day(m.size - 1))
    rolls = np.unique(np.r_[0, np.searchsorted(m.dates, expiries, side="left")])
    rolls = rolls[rolls < m.size - 1]
    target = expiries[np.searchsorted(expiries, m.dates[rolls], side="right")]
    days = (target - m.dates[rolls]).astype(float)
    future = vix_futures(m, rolls, target, days)   # real VX settlements where the files cover them
    strike = strikes_at_delta(VXTH_LAYER.long_delta, future, days, m.vvix[rolls], m.rate[rolls])
    mid = black76_price(future, strike, days / DAYS_PER_YEAR, m.rate[rolls],
                        vix_option_vol(strike, future, days, m.vvix[rolls]), True)
    paid = mid + costs.vix_fill_share * costs.vix_half_spread
    weight = np.array([vxth_weight_pct(f) for f in future]) / 100.0
    gap = np.r_[0.0, np.diff(m.dates.astype("int64")).astype(float)]
    total_return = np.cumprod(np.r_[1.0, m.spx[1:] / m.spx[:-1]] * np.exp(div * gap / 365.0))
    level = np.full(m.size, 100.0)
    account = 100.0
    settled, _ = m.settlement(target, True, m.vix, m.vix_open)   # the VIX open of the expiry day where known
    calls = np.zeros(rolls.size)
    for k, r in enumerate(rolls):
        end = rolls[k + 1] if k + 1 < rolls.size else m.size - 1
        spend = account * weight[k]
        calls[k] = spend / (MULTIPLIER * paid[k]) if paid[k] > 0 and spend > 0 else 0.0
        cost = calls[k] * MULTIPLIER * costs.commission
        span = np.arange(r, end + 1)
        left = (target[k] - m.dates[span]).astype(float)
        live_future = vix_futures(m, span, np.full(span.size, target[k]), np.maximum(left, 0.0))
        value = np.where(left > 0,
                         black76_price(live_future, strike[k], np.maximum(left, 1e-9) / DAYS_PER_YEAR, m.rate[span],
                                       vix_option_vol(strike[k], live_future, np.maximum(left, 1e-9), m.vvix[span]),
                                       True),
                         np.maximum(settled[k] - strike[k], 0.0))
        # Calls still alive at the next roll are sold there at mid less the fill.
        if left[-1] > 0 and k + 1 < rolls.size:
            value[-1] -= costs.vix_fill_share * costs.vix_half_spread
        stocks = (account - spend) * total_return[span] / total_return[r]
        level[span] = stocks + calls[k] * MULTIPLIER * value - cost
        account = level[end]
    frame = pd.DataFrame({"roll": m.dates[rolls], "vix_expiry": target, "future": future, "weight_pct": 100 * weight,
                          "strike": strike, "price": paid, "calls_per_100": calls})
    return Replica("vxth", pd.Series(level, index=pd.DatetimeIndex(m.dates)), frame, costs, div)


def replica(name: str, m: MarketArrays, costs: Costs = INDEX_COSTS, div: float = 0.019) -> Replica:
    if name == "cndr":
        return cndr_replica(m, costs, div)
    if name == "vxth":
        return vxth_replica(m, costs, div)
    raise ValueError(f"replica must be one of {REPLICAS}")


@dataclass(frozen=True)
class Tracking:
    """How a replica follows the real index over their common dates."""

    start: str
    end: str
    months: int
    monthly_correlation: float
    cagr_replica: float
    cagr_index: float
    cagr_gap: float              # replica − index
    max_drawdown_replica: float
    max_drawdown_index: float
    drawdown_gap: float          # replica − index
    tracking_error: float        # annualised sd of monthly return differences


def tracking(replica_level: pd.Series, index_level: pd.Series) -> Tracking:
    """Monthly correlation, CAGR gap, drawdown gap and tracking error on the common dates."""
    both = pd.concat([replica_level.rename("replica"), index_level.rename("index")], axis=1).dropna()
    if len(both) < 40:
        raise ValueError("the replica and the index share fewer than 40 days")
    monthly = both.resample("ME").last().dropna()
    returns = monthly.pct_change().dropna()
    if len(returns) < 3:
        raise ValueError("the replica and the index share fewer than 3 months")
    corr = float(returns["replica"].corr(returns["index"]))
    a, b = performance(both["replica"]), performance(both["index"])
    te = float((returns["replica"] - returns["index"]).std(ddof=1) * np.sqrt(12))
    return Tracking(str(both.index[0].date()), str(both.index[-1].date()), len(returns), corr, a.cagr, b.cagr,
                    a.cagr - b.cagr, a.max_drawdown, b.max_drawdown, a.max_drawdown - b.max_drawdown, te)


def rebased(series: pd.Series, start=None) -> pd.Series:
    """A level series at 100 on its first day (from ``start`` if given)."""
    s = series.dropna()
    if start is not None:
        s = s.loc[pd.Timestamp(start):]
    return 100.0 * s / s.iloc[0] if len(s) else s


__all__ = ["REPLICAS", "Replica", "Tracking", "cndr_replica", "vxth_replica", "replica", "tracking", "rebased",
           "drawdown", "GAP_SOURCES"]
