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

from alvh_core.data.listings import monthly_expiry, vix_strike_era
from alvh_core.history.backtest import (
    BacktestConfig,
    Costs,
    MarketArrays,
    condor_book,
    vix_expiries,
    vix_futures,
)
from alvh_core.history.stats import drawdown, performance
from alvh_core.model.fills import vix_half_spread
from alvh_core.model.fitted import VIX_CALL_SKEW
from alvh_core.model.pricing import DAYS_PER_YEAR, black76_price
from alvh_core.model.vixfutures import vix_option_vol
from alvh_core.strategy.hedge import VXTH_LAYER, strikes_at_delta, vxth_weight_pct
from alvh_core.strategy.legs import MULTIPLIER
from alvh_core.strategy.tiers import Tier

REPLICAS = ("cndr", "vxth")
REPLICA_LABELS = {"cndr": "CNDR replica (model)", "vxth": "VXTH replica (model)"}
#: What a replica's gap to the real index comes from, for the page and the docs.
GAP_SOURCES = {
    "cndr": ("strikes and prices from the vol model's smile (its skew tied to the day's SKEW), not Cboe's 11 a.m. "
             "quotes",
             "A.M. settlement at the SPX open where the history has real opens (from about 2008), else the "
             "close of the session before",
             "the roll at the close, not at 11 a.m."),
    "vxth": ("VIX calls priced with the ATM vol VVIX implies and the call skew fitted on VXTH 2016-2026, on CFE's "
             "settlements through 2020-09 and the futures proxy after, not quotes",
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
INDEX_COSTS = Costs(fill_share=0.0, slippage=0.0, commission=0.0, vix_half_spread=0.0, vix_fill_share=0.0)


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


def spx_total_return(m: MarketArrays, div: float = 0.019) -> np.ndarray:
    """The S&P 500 with dividends reinvested at a constant yield ``div``, 1 on the first day."""
    gap = np.r_[0.0, np.diff(m.dates.astype("int64")).astype(float)]
    return np.cumprod(np.r_[1.0, m.spx[1:] / m.spx[:-1]] * np.exp(div * gap / 365.0))


def vxth_replica(m: MarketArrays, costs: Costs = INDEX_COSTS, div: float = 0.019,
                 call_skew: float | None = None) -> Replica:
    """The VXTH rule on ``m`` (see the module docstring); ``call_skew`` the VIX smile's (default the fitted)."""
    expiries = vix_expiries(m.day(0), m.day(m.size - 1))
    rolls = np.unique(np.r_[0, np.searchsorted(m.dates, expiries, side="left")])
    rolls = rolls[rolls < m.size - 1]
    target = expiries[np.searchsorted(expiries, m.dates[rolls], side="right")]
    days = (target - m.dates[rolls]).astype(float)
    future = vix_futures(m, rolls, target, days)   # real VX settlements where the files cover them
    skew = VIX_CALL_SKEW if call_skew is None else call_skew
    # One-month calls: the front month, on the strikes listed that day.
    strike = strikes_at_delta(VXTH_LAYER.long_delta, future, days, m.vvix[rolls], m.rate[rolls], skew,
                              vix_strike_era(m.dates[rolls]), True)
    mid = black76_price(future, strike, days / DAYS_PER_YEAR, m.rate[rolls],
                        vix_option_vol(strike, future, days, m.vvix[rolls], skew), True)
    paid = mid + costs.vix_fill_share * vix_half_spread(mid, m.vix[rolls], costs.vix_half_spread)
    weight = np.array([vxth_weight_pct(f) for f in future]) / 100.0
    total_return = spx_total_return(m, div)
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
                                       vix_option_vol(strike[k], live_future, np.maximum(left, 1e-9), m.vvix[span],
                                                      skew),
                                       True),
                         np.maximum(settled[k] - strike[k], 0.0))
        # Calls still alive at the next roll are sold there at mid less the fill.
        if left[-1] > 0 and k + 1 < rolls.size:
            value[-1] -= costs.vix_fill_share * float(vix_half_spread(value[-1], m.vix[span[-1]], costs.vix_half_spread))
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


#: The VIX spikes the call model is checked on: (label, first day, last day); the peak is VIX's highest
#: close between them, the calls those bought at the last VXTH roll before it.
SPIKES = (("2018-02", "2018-01-25", "2018-02-28"), ("2020-03", "2020-02-14", "2020-03-31"),
          ("2024-08", "2024-07-20", "2024-08-31"))
#: A calm week: VIX below this all week and no higher at its end than at its start.
CALM_VIX = 20.0


@dataclass(frozen=True)
class SpikeCheck:
    """The VIX calls through one spike, the real VXTH against the replica: the overlay is the index's
    return less the S&P 500's (with dividends) from the roll to VIX's peak; the multiple is what the calls
    became per dollar spent (1 + overlay / weight), None when the rule held no calls."""

    label: str
    bought: str
    peak: str
    vix_at_peak: float
    weight_pct: float
    overlay_index_pct: float
    overlay_replica_pct: float
    multiple_index: float | None
    multiple_replica: float | None
    future: float = float("nan")      # the model's VIX future at the roll (CFE's where the files have it)
    note: str = ""


@dataclass(frozen=True)
class VixOptionCheck:
    """The VIX option model against what is real: Cboe's VXTH index on the file's years."""

    tracking: Tracking
    calm_weeks: int
    calm_decay_index_bp: float      # mean weekly return of the calls (index less the S&P 500), basis points
    calm_decay_replica_bp: float
    spikes: tuple
    call_skew: float
    note: str


def _overlay(level: pd.Series, stocks: pd.Series, a, b) -> float:
    return float(level.asof(b) / level.asof(a) - stocks.asof(b) / stocks.asof(a))


def vix_option_check(m: MarketArrays, index: pd.Series, div: float = 0.019) -> VixOptionCheck:
    """The VXTH replica (the model's VIX calls) against the real ``index`` over their common days: monthly
    correlation and CAGR gap, the calls' mean weekly bleed in calm weeks, and the spikes of :data:`SPIKES`."""
    index = index.dropna()
    if index.empty:
        raise ValueError("the VXTH index file has no levels")
    start = pd.Timestamp(index.index[0]) - pd.Timedelta(days=40)   # a roll before the index's first day
    window = m.window(max(start.date(), m.day(0)), m.day(m.size - 1))
    rep = vxth_replica(window, div=div)
    level = rep.level
    stocks = pd.Series(spx_total_return(window, div), index=pd.DatetimeIndex(window.dates))
    vix = pd.Series(window.vix, index=pd.DatetimeIndex(window.dates))
    track = tracking(level.loc[index.index[0]:], index)
    weekly = pd.concat([index.rename("index"), level.rename("replica"), stocks.rename("stocks"),
                        vix.rename("vix")], axis=1).dropna()
    ends = weekly.resample("W-FRI").last()
    highs = weekly["vix"].resample("W-FRI").max()
    returns = ends.pct_change()
    calm = (highs < CALM_VIX) & (ends["vix"] <= ends["vix"].shift(1))
    calm = calm & returns.notna().all(axis=1)
    decay_index = 1e4 * float((returns["index"] - returns["stocks"])[calm].mean())
    decay_replica = 1e4 * float((returns["replica"] - returns["stocks"])[calm].mean())
    spikes = []
    rolls = rep.rolls
    for label, first, last in SPIKES:
        span = vix.loc[first:last]
        if span.empty or pd.Timestamp(first) < index.index[0] or pd.Timestamp(last) > index.index[-1]:
            continue
        peak = span.idxmax()
        before = rolls[rolls["roll"] <= peak]
        if before.empty:
            continue
        roll = before.iloc[-1]
        bought = pd.Timestamp(roll["roll"])
        weight = float(roll["weight_pct"])
        o_index, o_rep = _overlay(index, stocks, bought, peak), _overlay(level, stocks, bought, peak)
        future = float(roll["future"])
        if weight <= 0:
            note = f"no calls held: the VIX future read {future:.2f}, at or under 15"
        elif abs(o_index) < 0.005 <= abs(o_rep):
            note = f"the index held no calls (Cboe's future read ≤ 15); the model's read {future:.2f}"
        else:
            note = ""
        spikes.append(SpikeCheck(label, str(bought.date()), str(peak.date()), float(span.max()), weight,
                                 100 * o_index, 100 * o_rep,
                                 1 + o_index / (weight / 100) if weight > 0 else None,
                                 1 + o_rep / (weight / 100) if weight > 0 else None, future, note))
    return VixOptionCheck(track, int(calm.sum()), decay_index, decay_replica, tuple(spikes), VIX_CALL_SKEW,
                          "Model-based: the VXTH rule priced with the project's VIX option model (VVIX-consistent "
                          "ATM vol, the fitted call skew, CFE settlements for the futures through 2020-09 and the "
                          "proxy after) against Cboe's own index levels. The call skew is fitted on these years; "
                          "2006-2015 are kept back to check it.")


#: The windows the CNDR replica is checked on (the index file ends 2009-12-31: the later years are kept back).
CNDR_CHECKS = (("1990s", "1990-01-02", "1999-12-31"), ("2000s", "2000-01-03", "2009-12-31"),
               ("1990-2009", "1990-01-02", "2009-12-31"))


@dataclass(frozen=True)
class ModelChecks:
    """The models every backtest rests on, checked against real Cboe indexes fitted on nothing here but
    their own years as said: the SPX smile (CNDR, by decade) and the VIX option model (VXTH)."""

    cndr: tuple                   # (label, Tracking) per window of CNDR_CHECKS the index covers
    vix_options: VixOptionCheck | None
    missing: tuple                # what could not be checked, and why


def model_checks(m: MarketArrays, cndr: pd.Series | None, vxth: pd.Series | None) -> ModelChecks:
    """:class:`ModelChecks` on the whole history ``m`` (cached on it): CNDR and VXTH are Cboe's index levels
    (None or empty: that check is missing)."""
    root = m._parent[0] if m._parent is not None else m
    key = ("model_checks", None if cndr is None else len(cndr.dropna()), None if vxth is None else len(vxth.dropna()))
    if key in root._cache:
        return root._cache[key]
    missing, rows = [], []
    if cndr is not None and cndr.dropna().size > 40:
        for label, first, last in CNDR_CHECKS:
            try:
                window = root.window(first, last)
                rows.append((label, tracking(cndr_replica(window).level, cndr.dropna())))
            except ValueError:
                continue
    else:
        missing.append("CNDR: needs CNDR_History.csv (Cboe's S&P 500 Iron Condor index)")
    vix = None
    if vxth is not None and vxth.dropna().size > 40:
        try:
            vix = vix_option_check(root, vxth)
        except ValueError as exc:
            missing.append(f"VXTH: {exc}")
    else:
        missing.append("VXTH: needs VXTH_History.csv (Cboe's VIX Tail Hedge index)")
    out = ModelChecks(tuple(rows), vix, tuple(missing))
    root._cache[key] = out
    return out


def model_checks_dict(checks: ModelChecks) -> dict:
    """:class:`ModelChecks` as JSON-ready data."""
    from dataclasses import asdict

    out: dict = {"cndr": [{"window": label} | asdict(t) for label, t in checks.cndr],
                 "vix_options": asdict(checks.vix_options) if checks.vix_options else None,
                 "missing": list(checks.missing),
                 "meaning": "model-based replicas of Cboe's CNDR and VXTH indexes against the real levels: the SPX "
                            "smile (fitted on two 2022-2023 chains, its skew tied to SKEW) and the VIX option model "
                            "(call skew fitted on VXTH 2016-2026); CNDR after 2009 and VXTH before 2016 are kept "
                            "back"}
    return out


def rebased(series: pd.Series, start=None) -> pd.Series:
    """A level series at 100 on its first day (from ``start`` if given)."""
    s = series.dropna()
    if start is not None:
        s = s.loc[pd.Timestamp(start):]
    return 100.0 * s / s.iloc[0] if len(s) else s


__all__ = ["REPLICAS", "Replica", "Tracking", "cndr_replica", "vxth_replica", "replica", "tracking", "rebased",
           "drawdown", "GAP_SOURCES", "VixOptionCheck", "SpikeCheck", "vix_option_check", "spx_total_return",
           "ModelChecks", "model_checks", "model_checks_dict"]
