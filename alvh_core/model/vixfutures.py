"""VIX futures: the expiry calendar and a proxy price from the index curve.

The proxy prices the future expiring in ``T`` days from the VIX-family term
structure: the forward 30-day variance between ``T`` and ``T + 30`` days
(mean reversion is already in the curve's shape), less a convexity
adjustment that grows with the vol of VIX and the time to expiry::

    F(T) = sqrt(fwd var(T, T+30)) · (level − convexity · (VIX vol)² · T/365)
           · exp(backwardation · max(ln(VIX/VIX3M), 0))

In contango the curve's shape carries the mean reversion.  When the curve
inverts the index curve's forward variance undershoots the futures (the
market prices a slower fall than the spot curve implies); the last factor,
fitted on the inverted days alone, puts that right.  ``level``, ``convexity``
and ``backwardation`` are fitted on CFE settlements (see
:mod:`alvh_core.model.fitted`).  VIX options are priced off this proxy, never off
spot VIX.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import numpy as np

from alvh_core.data.listings import third_friday, vix_expiry  # noqa: F401  (re-exported)
from alvh_core.model.fitted import (
    TENOR_BETA_POWER,
    TENOR_BETA_SCALE_DAYS,
    VIX_CALL_SKEW,
    VIX_FUTURES_PROXY,
    VIX_VOL_DECAY,
    VIX_VOL_MIN_DAYS,
)
from alvh_core.model.params import FuturesProxyParams
from alvh_core.model.volmodel import VixTermStructure

#: VVIX used when none is known: its median 2007-01-03..2026-08-20 (Cboe VVIX).
DEFAULT_VVIX = 91.25
#: The convexity term is held past the longest tenor it was fitted on (VX2).
CONVEXITY_MAX_DAYS = 63.0


def expiries_after(day: date, count: int = 8) -> list[date]:
    """The next ``count`` VIX expiries strictly after ``day`` (on an expiry
    day the front contract is already the next one, as in CFE's continuous
    series)."""
    return list(_expiries_after(day, count))


@lru_cache(maxsize=1024)
def _expiries_after(day: date, count: int) -> tuple[date, ...]:
    out, year, month = [], day.year, day.month - 1
    if month == 0:
        year, month = year - 1, 12
    while len(out) < count:
        expiry = vix_expiry(year, month)
        if expiry > day:
            out.append(expiry)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(out)


def forward_vol(term: VixTermStructure, days) -> np.ndarray:
    """sqrt of the forward 30-day variance from ``days`` to ``days + 30``, vol points."""
    days = np.maximum(np.asarray(days, float), 0.0)
    total_now = term.variance_swap_vol(np.maximum(days, 1e-6)) ** 2 * days
    total_later = term.variance_swap_vol(days + 30.0) ** 2 * (days + 30.0)
    return 100.0 * np.sqrt(np.maximum(total_later - total_now, 1e-12) / 30.0)


def tenor_beta(days) -> np.ndarray:
    """Move of a VIX future per unit (log) move of spot VIX, by days to expiry."""

    days = np.maximum(np.asarray(days, float), 0.0)
    return np.exp(-((days / TENOR_BETA_SCALE_DAYS) ** TENOR_BETA_POWER))


def futures_proxy(term: VixTermStructure, days, vvix: float | None = None,
                  params: FuturesProxyParams | None = None) -> np.ndarray:
    """Proxy price (VIX points) of the VIX future expiring in ``days``."""
    days = np.maximum(np.asarray(days, float), 0.0)
    inversion = max(np.log(term.vix / term.vix3m), 0.0) if term.vix3m else 0.0
    return proxy_from_forward_vol(forward_vol(term, days), term.vix, np.nan if vvix is None else vvix, days,
                                  inversion, params)


def proxy_from_forward_vol(forward, vix, vvix, days, inversion, params: FuturesProxyParams | None = None) -> np.ndarray:
    """The futures proxy from the forward 30-day vol ``forward`` (vol points) ``days`` out:
    times its level, less a convexity term in VVIX (NaN or not positive: the median), raised
    by the curve's inversion ``max(ln VIX/VIX3M, 0)``; at expiry the index itself.  Elementwise:
    the one formula behind :func:`futures_proxy` and its array twin
    :func:`alvh_core.model.over_days.futures_proxy`."""
    if params is None:
        params = VIX_FUTURES_PROXY
    vvix = np.asarray(vvix, float)
    vol_of_vix = np.where(np.isfinite(vvix) & (vvix > 0), vvix, DEFAULT_VVIX) / 100.0
    horizon = np.minimum(days, CONVEXITY_MAX_DAYS)
    factor = np.maximum(params.level - params.convexity * vol_of_vix**2 * horizon / 365.0, 0.5)
    if params.backwardation:
        factor = factor * np.exp(params.backwardation * inversion)
    # At expiry the future settles on (a special quote of) the index itself.
    return np.where(days <= 0.0, vix, forward * factor)


#: Floor of the VIX call smile, a share of the at-the-money vol (below the money the smile flattens).
VIX_SMILE_FLOOR = 0.7
_VVIX_ATM_NODES = np.exp(np.linspace(np.log(0.05), np.log(6.0), 241))


def _vix_smile_ratio(moneyness, call_skew: float):
    return np.maximum(1.0 + call_skew * moneyness, VIX_SMILE_FLOOR)


@lru_cache(maxsize=32)
def _vvix_curve(call_skew: float) -> np.ndarray:
    """The 30-day variance-swap vol (what VVIX measures) of the VIX smile at each ATM vol of
    :data:`_VVIX_ATM_NODES`: Cboe's VIX formula, the log-contract replication
    ``σ²·T = 2 ∫ OTM(K)/K² dK`` on a future of 1, over log-moneyness split at the money."""
    from alvh_core.model.pricing import black_price_scaled

    years = 30.0 / 365.0
    x, w = np.polynomial.legendre.leggauss(96)
    out = np.empty(_VVIX_ATM_NODES.size)
    for i, atm in enumerate(_VVIX_ATM_NODES):
        sd = atm * np.sqrt(years)
        lo, hi = -12.0 * sd, 12.0 * sd
        k = np.concatenate([0.5 * lo * (x + 1.0), 0.5 * hi * (x + 1.0)])
        weight = np.concatenate([0.5 * -lo * w, 0.5 * hi * w])
        otm = black_price_scaled(1.0, np.exp(k), sd * _vix_smile_ratio(k, call_skew), 1.0, 1.0, k >= 0)
        out[i] = np.sqrt(max(2.0 * np.sum(weight * otm * np.exp(-k)), 0.0) / years)
    return out


def vix_atm_vol_30d(vvix, call_skew: float | None = None) -> np.ndarray:
    """The 30-day at-the-money vol (decimal) of VIX options whose smile has the variance-swap vol VVIX.

    VVIX prices the whole VIX smile, as VIX prices SPX's: with the calls skewed up, the money sits below it
    (VVIX 90 with the default skew: an ATM vol of about 0.83).  ``vvix`` NaN or not positive: the median."""
    skew = VIX_CALL_SKEW if call_skew is None else float(call_skew)
    level = np.asarray(np.nan if vvix is None else vvix, float)
    level = np.where(np.isfinite(level) & (level > 0), level, DEFAULT_VVIX) / 100.0
    curve = _vvix_curve(round(skew, 6))
    return np.interp(level, curve, _VVIX_ATM_NODES)


def vix_option_vol(strike, future, days, vvix=None, call_skew: float | None = None) -> np.ndarray:
    """Implied vol (decimal) of a VIX option: the 30-day ATM vol that VVIX implies for the smile
    (:func:`vix_atm_vol_30d`) decaying with tenor, (days/30)^−decay, times the call skew
    ``1 + skew · ln(K/F)`` (floored at 0.7).  ``vvix`` is one level or one per element; where it is
    None, NaN or not positive the median VVIX stands in."""
    skew = VIX_CALL_SKEW if call_skew is None else call_skew
    tenor = np.maximum(np.asarray(days, float), VIX_VOL_MIN_DAYS)
    atm = vix_atm_vol_30d(vvix, skew) * (tenor / 30.0) ** (-VIX_VOL_DECAY)
    moneyness = np.log(np.asarray(strike, float) / np.maximum(np.asarray(future, float), 1e-6))
    return atm * _vix_smile_ratio(moneyness, skew)
