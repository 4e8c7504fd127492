"""The backtest written the slow, obvious way: one day, one position, one leg at a time.

It exists to hold :mod:`alvh_core.history.backtest` to account.  Every choice is
made with the engine's own one-market functions (the listed expiries and
strike grid, scalar Black–Scholes and Black-76, the fill model, the hedge's
expiry and strike rules, the futures proxy, and the regime report for each
roll day's budget), and the account is stepped forward day by day.  The
only piece shared with the vectorised engine is the tabulated ATM level of
the smile (:func:`alvh_core.model.over_days.atm_vol`), called here on one day at a
time.  Far too slow for 36 years; the tests run it on a few.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from alvh_core.data.events import EventCalendar, load_events
from alvh_core.data.listings import VIX_OPTIONS_LISTED, nearest_expiry, strike_step, vix_expiry
from alvh_core.history.backtest import AM_HOURS, XSP_LISTED, BacktestConfig, MarketArrays
from alvh_core.model import over_days
from alvh_core.model.fills import half_spread_one, vix_half_spread
from alvh_core.model.fitted import SPX_SKEW
from alvh_core.model.market import MarketState
from alvh_core.model.pricing import black76_one, bsm_one
from alvh_core.model.skew_index import ERA_MIN_SESSIONS, ERA_SESSIONS, SKEW_WINDOW, slope_scale
from alvh_core.model.vixfutures import DEFAULT_VVIX, futures_proxy, vix_option_vol
from alvh_core.strategy.condor import listed_strikes
from alvh_core.strategy.hedge import (
    EVENT_WINDOW_DAYS,
    REFERENCE_BUDGET_PCT,
    STATIC_BUDGET_PCT,
    pick_expiry,
    scheme_layers,
    short_strike_at_delta,
    strike_at_delta,
    vxth_weight_pct,
)
from alvh_core.strategy.legs import MULTIPLIER
from alvh_core.strategy.signals import regime_report

XSP_LISTED_DAY = pd.Timestamp(XSP_LISTED).date()


@dataclass
class _Condor:
    expiry: object
    am: bool
    strikes: tuple
    credit: float
    mid_credit: float
    contracts: float
    value: float        # last mid (points)
    max_loss: float = 0.0
    open: bool = True


@dataclass
class _Hedge:
    expiry: object
    strikes: tuple
    sides: tuple
    contracts: float
    value: float
    open: bool = True
    leg_mids: tuple = ()       # each leg's mid when bought (its half spread is paid on it)


def _market(m: MarketArrays, i: int) -> MarketState:
    def level(x):
        return float(x) if np.isfinite(x) else None
    return MarketState(spot=float(m.spx[i]), vix=float(m.vix[i]), vix9d=level(m.vix9d[i]), vix3m=level(m.vix3m[i]),
                       vix6m=level(m.vix6m[i]), vvix=level(m.vvix[i]), rate=float(m.rate[i]), div=0.0,
                       asof=str(m.day(i)), source="file")


def _slope_scale(m: MarketArrays, i: int) -> float:
    """The smile's skew scale on day ``i``: the mean SKEW of the last SKEW_WINDOW sessions less the median
    of the last ERA_SESSIONS (at least ERA_MIN_SESSIONS readings), through
    :func:`alvh_core.model.skew_index.slope_scale`; 1 without a reading."""
    root, offset = m._parent if m._parent is not None else (m, 0)
    j = offset + i
    key = ("reference slope scale", j)   # one day's scale, asked for every option priced that day
    if key not in root._cache:
        recent = [float(x) for x in root.skew[max(j - SKEW_WINDOW + 1, 0): j + 1] if np.isfinite(x)]
        era = [float(x) for x in root.skew[max(j - ERA_SESSIONS + 1, 0): j + 1] if np.isfinite(x)]
        root._cache[key] = (1.0 if not recent or len(era) < ERA_MIN_SESSIONS
                            else float(slope_scale(sum(recent) / len(recent) - statistics.median(era))))
    return root._cache[key]


def _smile_price(m: MarketArrays, i: int, strike: float, days: float, div: float, is_call: bool) -> tuple:
    """Price and delta of one SPX option on day ``i`` with ``days`` to expiry."""
    spot, rate = float(m.spx[i]), float(m.rate[i])
    t = max(days, 0.25)
    scale = _slope_scale(m, i)
    atm = float(over_days.atm_vol(m.nodes[i], t, slope_scale=scale))
    forward = spot * math.exp((rate - div) * t / 365.0)
    z = math.log(strike / forward) / (atm * math.sqrt(t / 365.0))
    iv = atm * float(SPX_SKEW.ratio(z, t, scale))
    price, delta, *_ = bsm_one(spot, strike, max(days, 0.0) / 365.0, rate, div, iv, is_call)
    return price, delta


def _pick_condor(m: MarketArrays, i: int, config: BacktestConfig, delta: float, long_delta, scale: float,
                 carried: float):
    tier, costs, div = config.tier, config.costs, config.div
    day = m.day(i)
    expiry = nearest_expiry(day, tier.days)
    days = max(expiry.years_from(day), 0.25)
    spot = float(m.spx[i])
    atm = float(over_days.atm_vol(m.nodes[i], days, slope_scale=_slope_scale(m, i)))
    reach = 8.0 * atm * math.sqrt(days / 365.0) + 0.05
    margin = 2 * spot * tier.wing_pct / 100.0 + 400.0
    vix = float(m.vix[i])
    grid = listed_strikes(spot, days, spot * math.exp(-reach) - margin, spot * math.exp(reach) + margin, expiry.cycle,
                          vix=vix)
    puts = [k for k in grid if abs(_smile_price(m, i, k, days, div, False)[1]) <= delta]
    calls = [k for k in grid if _smile_price(m, i, k, days, div, True)[1] <= delta]
    short_put = max(puts)
    short_call = min(k for k in calls if k > short_put)
    if long_delta is None:
        step = strike_step(spot, spot, days, "SPX", expiry.cycle, vix)
        wing = max(step, round(spot * tier.wing_pct / 100.0 / step) * step)
        # The listed strike nearest the width asked, never on or inside the short strike; a tie goes wider.
        long_put = min((k for k in grid if k < short_put), key=lambda k: (abs(short_put - wing - k), k))
        long_call = min((k for k in grid if k > short_call), key=lambda k: (abs(short_call + wing - k), -k))
    else:
        long_put = max(k for k in grid if k < short_put and abs(_smile_price(m, i, k, days, div, False)[1])
                       <= long_delta)
        long_call = min(k for k in grid if k > short_call and _smile_price(m, i, k, days, div, True)[1] <= long_delta)
    strikes = (long_put, short_put, short_call, long_call)
    legs = [(_smile_price(m, i, k, days, div, c), s, c) for k, s, c in
            zip(strikes, (1, -1, -1, 1), (False, False, True, True), strict=True)]
    mid_credit = -sum(s * p for (p, _), s, _ in legs)
    half = sum(half_spread_one(p, d, c, float(m.vix[i])) for (p, d), _, c in legs)
    credit = mid_credit - costs.fill_share * half - 4 * costs.slippage
    max_loss = max(short_put - long_put, long_call - short_call) - credit
    if config.contracts is not None:
        contracts = math.floor(config.contracts * scale + 1e-9)
    elif config.sizing == "equity":   # its share of the account today, in tenths of SPX (XSP) once XSP is listed
        unit = 0.1 if day >= XSP_LISTED_DAY else 1.0
        contracts = math.floor(scale * config.risk_share * carried / (max(max_loss, 0.05) * MULTIPLIER) / unit
                               + 1e-9) * unit
    else:
        contracts = math.floor(scale * config.entry_risk / (max(max_loss, 0.05) * MULTIPLIER) + 1e-9)
    return _Condor(expiry.day, expiry.settlement == "AM", strikes, credit, mid_credit, contracts, mid_credit, max_loss)


def _settle_level(m: MarketArrays, expiry, close: np.ndarray, opens: np.ndarray, at_open: bool) -> float:
    """The expiry day's open if asked for and the history has a real one that day; asked for without one, the
    close before the expiry day; else the last close on or before the expiry."""
    for j in range(m.size):
        if at_open and m.day(j) == expiry:
            return float(opens[j]) if np.isfinite(opens[j]) else float(close[max(j - 1, 0)])
    j = max(k for k in range(m.size) if m.day(k) <= expiry) if m.day(0) <= expiry else 0
    return float(close[j])


def _condor_value(m: MarketArrays, i: int, c: _Condor, div: float, at_open: bool) -> tuple[float, bool, float]:
    """Mid value (points) on day ``i``, whether it settles today, and the half spreads to close."""
    day = m.day(i)
    if day >= c.expiry:
        s = _settle_level(m, c.expiry, m.spx, m.spx_open, at_open and c.am)
        k = c.strikes
        payoff = max(k[1] - s, 0) - max(k[0] - s, 0) + max(s - k[2], 0) - max(s - k[3], 0)
        return payoff, True, 0.0
    left = (c.expiry - day).days - (AM_HOURS if c.am else 0.0)
    value = half = 0.0
    for k, side, is_call in zip(c.strikes, (1, -1, -1, 1), (False, False, True, True), strict=True):
        price, delta = _smile_price(m, i, k, left, div, is_call)
        value -= side * price
        half += half_spread_one(price, delta, is_call, float(m.vix[i]))
    return value, False, half


def _period_start(m: MarketArrays, i: int, frequency: str) -> bool:
    if i == 0 or frequency == "daily":
        return True
    a, b = m.day(i - 1), m.day(i)
    if frequency == "weekly":
        return a.isocalendar()[:2] != b.isocalendar()[:2]
    if frequency == "monthly":
        return (a.year, a.month) != (b.year, b.month)
    if frequency == "quarterly":
        return (a.year, (a.month - 1) // 3) != (b.year, (b.month - 1) // 3)
    if frequency == "vix-expiry":
        return any(a < vix_expiry(y, mo) <= b for y, mo in ((b.year, b.month),))
    raise ValueError(frequency)


def _hedge_trade(m: MarketArrays, i: int, layer, scheme: str, config: BacktestConfig, panel: pd.DataFrame,
                 calendar: EventCalendar, open_book: tuple[float, float], carried: float) -> _Hedge:
    rules = config.hedge
    day = m.day(i)
    market = _market(m, i)
    skip = 1 if layer.time_shift and market.vix3m is not None and market.vix / market.vix3m >= 1.0 else 0
    expiry = pick_expiry(day, layer.low_days, layer.high_days, skip)
    days = float((expiry - day).days)
    future = _future(m, i, expiry, days, market)
    options = _for_options(market, config.vix_vol_scale)
    k_long = strike_at_delta(layer.long_delta, future, days, options, rules.call_skew, expiry)
    strikes, sides = [k_long], [1]
    if layer.short_delta is not None:
        strikes.append(short_strike_at_delta(layer.short_delta, k_long, future, days, options, rules.call_skew, expiry))
        sides.append(-1)
    leg_mids = tuple(black76_one(future, k, days / 365.0, market.rate,
                                 float(vix_option_vol(k, future, days, options.vvix, rules.call_skew)), True)[0]
                     for k in strikes)
    mid = sum(s * p for p, s in zip(leg_mids, sides, strict=True))
    contracts_open, max_loss_open = open_book
    if rules.sizing == "notional":      # seed 001's rule: a share of the account (as it is today, by equity)
        sized_on = carried if config.sizing == "equity" else config.capital
    elif rules.sizing == "contract":    # dollars per SPX-sized condor at the Low band's middle
        sized_on = rules.per_contract * contracts_open * 100.0 / REFERENCE_BUDGET_PCT
    else:                               # the notional the open condors stand for
        sized_on = rules.per_max_loss * max_loss_open
    sized_on *= rules.scale             # the frontier's multiple of the rule
    if scheme == "vxth":
        spend = sized_on * vxth_weight_pct(future) / 100.0
        contracts = math.floor(spend / (MULTIPLIER * max(mid, 1e-9)) + 0.5)
    else:
        levels = {"spx": market.spot, "vix": market.vix, "vix9d": market.vix9d, "vix3m": market.vix3m,
                  "vix6m": market.vix6m, "vvix": market.vvix}
        report = regime_report(panel.loc[: pd.Timestamp(day)], day, levels, "file", calendar)
        budget = STATIC_BUDGET_PCT if scheme == "static10" else report.hedge_budget_pct
        target = sized_on * budget / 100.0
        budget_for_cap = budget
        target *= layer.share
        nxt = calendar.next_any(day)
        if layer.event and nxt.days_away is not None and nxt.days_away <= EVENT_WINDOW_DAYS:
            multiplier = rules.event_multiplier
            if not rules.allow_above_band and budget_for_cap > 0:
                cap = 1.0 + (report.hedge_band[1] / budget_for_cap - 1.0) / layer.share
                if cap < multiplier:
                    multiplier = max(cap, 1.0)
            target *= multiplier
        if layer.contingent and rules.contingent == "stress":
            if not (report.stress_score >= rules.stress_trigger or report.rebalance_trigger):
                target = 0.0
        contracts = math.floor(target / (MULTIPLIER * future) + 0.5)
    return _Hedge(expiry, tuple(strikes), tuple(sides), contracts, mid, leg_mids=leg_mids)


def _future(m: MarketArrays, i: int, expiry, days: float, market: MarketState) -> float:
    """The VIX future of ``expiry`` on day ``i``: CFE's front (VX1) or second (VX2) settlement when the expiry is
    the first or second VIX expiry after the day and the files have it, else the proxy."""
    day = m.day(i)
    after, year, month = [], day.year, day.month
    while len(after) < 2:
        e = vix_expiry(year, month)
        if e > day:
            after.append(e)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    real = float(m.vx1[i]) if expiry == after[0] else float(m.vx2[i]) if expiry == after[1] else float("nan")
    return real if math.isfinite(real) else float(futures_proxy(market.term, days, market.vvix))


def _for_options(market: MarketState, scale: float) -> MarketState:
    """The market as the VIX-option vol reads it: VVIX (the median where it is missing) times ``scale``."""
    if scale == 1.0:
        return market
    return replace(market, vvix=(market.vvix if market.vvix else DEFAULT_VVIX) * scale)


def _hedge_value(m: MarketArrays, i: int, h: _Hedge, config: BacktestConfig) -> tuple[float, bool, tuple]:
    """The hedge's value per contract on day ``i``, whether it settled, and each leg's mid (to sell it at)."""
    day = m.day(i)
    if day >= h.expiry:
        vix = _settle_level(m, h.expiry, m.vix, m.vix_open, config.settlement == "open")
        return sum(s * max(vix - k, 0.0) for k, s in zip(h.strikes, h.sides, strict=True)), True, ()
    market = _market(m, i)
    left = float((h.expiry - day).days)
    future = _future(m, i, h.expiry, left, market)
    vvix = _for_options(market, config.vix_vol_scale).vvix
    legs = tuple(black76_one(future, k, left / 365.0, market.rate,
                             float(vix_option_vol(k, future, left, vvix, config.hedge.call_skew)), True)[0]
                 for k in h.strikes)
    return sum(s * p for p, s in zip(legs, h.sides, strict=True)), False, legs


def _vix_fill(costs, legs: tuple, vix: float) -> float:
    """What filling ``legs`` (their mids) gives up, points per contract: the fill share of each half spread."""
    return costs.vix_fill_share * sum(float(vix_half_spread(p, vix, costs.vix_half_spread)) for p in legs)


def reference_equity(m: MarketArrays, panel: pd.DataFrame, config: BacktestConfig, scheme: str = "none",
                     calendar: EventCalendar | None = None, short_delta: float | None = None,
                     long_delta: float | None = None, scale: float = 1.0) -> np.ndarray:
    """The account's value on each day of ``m`` (dollars), stepped one day at a time."""
    calendar = calendar or load_events()
    costs, rule, div = config.costs, config.management, config.div
    delta = config.tier.short_delta if short_delta is None else short_delta
    condors: list[_Condor] = []
    hedges: dict[str, _Hedge] = {}
    layers = scheme_layers(scheme, config.hedge.split)
    equity = np.zeros(m.size)
    balance = config.capital
    roll_mode = rule.roll and rule.exit_days is not None and config.strategy != "daily"

    def rolls_now(i: int) -> bool:
        """A new condor today: on the schedule, or (rolling) once the last one's close day has come."""
        if not roll_mode:
            return _period_start(m, i, config.strategy)
        if not condors:
            return True
        last = condors[-1]
        return (last.expiry - m.day(i)).days <= rule.exit_days

    for i in range(m.size):
        if i > 0:
            gap = (m.day(i) - m.day(i - 1)).days
            if config.interest:
                balance *= math.exp(float(m.rate[i - 1]) * gap / 365.0)
        carried = balance   # the account as the day opens: what today's entries are sized on
        pnl = 0.0
        # Condors already open: mark, settle, or close by the rules.
        for c in condors:
            if not c.open:
                continue
            value, settles, half = _condor_value(m, i, c, div, config.settlement == "open")
            paid = value
            if settles:
                c.open = False
            else:
                left = (c.expiry - m.day(i)).days
                hit = ((rule.exit_days is not None and left <= rule.exit_days)
                       or (rule.stop is not None and value - c.credit >= rule.stop * c.credit)
                       or (rule.profit_target is not None and value <= (1 - rule.profit_target) * c.credit))
                if hit:
                    paid = value + costs.fill_share * half + 4 * costs.slippage
                    pnl -= 4 * c.contracts * costs.commission
                    c.open = False
            pnl -= (paid - c.value) * c.contracts * MULTIPLIER
            c.value = value
        if rolls_now(i):
            c = _pick_condor(m, i, config, delta, long_delta, scale, carried)
            pnl += (c.credit - c.mid_credit) * c.contracts * MULTIPLIER - 4 * c.contracts * costs.commission
            condors.append(c)
        open_book = (sum(c.contracts for c in condors if c.open),
                     sum(c.contracts * c.max_loss * MULTIPLIER for c in condors if c.open))
        # Hedge layers: mark, then sell and buy again on roll days.
        for layer in layers:
            h = hedges.get(layer.name)
            rolling = _period_start(m, i, layer.schedule)
            if h is not None and h.open:
                value, expired, legs = _hedge_value(m, i, h, config)
                got = value
                if expired:        # settled today: replaced today
                    h.open = False
                    rolling = True
                elif rolling:
                    got = value - _vix_fill(costs, legs, float(m.vix[i]))
                    pnl -= len(h.strikes) * h.contracts * costs.commission
                    h.open = False
                pnl += (got - h.value) * h.contracts * MULTIPLIER
                h.value = value
            if rolling and (config.synthetic_hedge or m.day(i) >= VIX_OPTIONS_LISTED):
                h = _hedge_trade(m, i, layer, scheme, config, panel, calendar, open_book, carried)
                fill = _vix_fill(costs, h.leg_mids, float(m.vix[i]))
                pnl -= fill * h.contracts * MULTIPLIER + len(h.strikes) * h.contracts * costs.commission
                hedges[layer.name] = h
        balance += pnl
        equity[i] = balance
        if balance <= 0:   # ruined: the account stops
            equity[i:] = 0.0
            break
    return equity
