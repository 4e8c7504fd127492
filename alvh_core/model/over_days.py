"""The vol model over many days at once, for history and simulation.

The Builder prices one market at a time (:class:`alvh_core.model.volmodel.VolModel`);
a backtest prices thousands of days and tenors in one go.  This module gives
the same model as arrays:

* the VIX-family term structure as node variances per day (a missing index
  is filled so that the interpolation is exactly the one-day model's: flat
  vol outside the quoted nodes, linear total variance between them);
* the ATM level of the smile from the variance-swap vol, solved with a
  tabulated varswap/ATM ratio (bilinear in log ATM stddev and the weight of
  the smile's skew terms at that tenor, so a per-day SKEW scale costs nothing; within 1e-5
  (relative) of the exact replication integral, checked in the tests);
* the smile, the VIX futures proxy and the VIX option vol, elementwise.

Every function takes arrays that broadcast together and has no Python loop
over days; the scalar reference backtest calls the same functions with one
element, so both run on identical arithmetic.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from alvh_core.model.fitted import SPX_SKEW
from alvh_core.model.params import SkewParams
from alvh_core.model.pricing import DAYS_PER_YEAR
from alvh_core.model.vixfutures import proxy_from_forward_vol
from alvh_core.model.volmodel import VIX_TENOR_DAYS, variance_swap_ratio

NODE_DAYS = np.array([VIX_TENOR_DAYS[k] for k in ("vix9d", "vix", "vix3m", "vix6m")])


def node_variances(vix9d, vix, vix3m, vix6m) -> np.ndarray:
    """Total variance (decimal² · years) at 9, 30, 93 and 183 days, shape (..., 4).

    VIX must be present; a missing (NaN) index is filled so that the curve is
    the one-day model's: VIX9D flat at VIX's vol, VIX3M on the line between
    VIX and VIX6M (or flat at the last quoted vol), VIX6M flat at the last
    quoted vol; then made non-decreasing."""
    vix = np.asarray(vix, float)
    shape = np.broadcast_shapes(vix.shape, np.shape(vix9d), np.shape(vix3m), np.shape(vix6m))

    def total(level, days):
        return (np.broadcast_to(np.asarray(level, float), shape) / 100.0) ** 2 * days / DAYS_PER_YEAR

    v9, v30, v93, v183 = (total(x, d) for x, d in zip((vix9d, vix, vix3m, vix6m), NODE_DAYS, strict=True))
    d9, d30, d93, d183 = NODE_DAYS
    a9 = np.where(np.isfinite(v9) & (v9 > 0), v9, v30 * d9 / d30)   # VIX's vol held flat below it
    a30 = np.maximum(a9, v30)
    has93, has183 = np.isfinite(v93) & (v93 > 0), np.isfinite(v183) & (v183 > 0)
    a183_quoted = np.maximum(a30, np.where(has183, v183, 0.0))
    # VIX3M missing: on the line from VIX to VIX6M when that is quoted, else VIX's vol held flat.
    a93 = np.where(has93, np.maximum(a30, np.where(has93, v93, 0.0)),
                   np.where(has183, a30 + (a183_quoted - a30) * (d93 - d30) / (d183 - d30), a30 * d93 / d30))
    a183 = np.where(has183, np.maximum(a93, np.where(has183, v183, 0.0)), a93 * d183 / d93)
    return np.stack([a9, a30, a93, a183], axis=-1)


def varswap_vol(nodes: np.ndarray, days) -> np.ndarray:
    """Variance-swap vol (decimal) for ``days`` on each row's curve (``nodes`` (..., 4))."""
    days = np.maximum(np.asarray(days, float), 1e-6)
    nodes = np.asarray(nodes, float)
    d = NODE_DAYS
    # Which segment: 0 below 9 days, 1..3 between nodes, 4 beyond 183 days.
    seg = np.searchsorted(d, days, side="left")
    seg = np.where(days == d[0], 1, seg)  # exactly on the first node: interpolation gives the node itself
    lo = np.clip(seg - 1, 0, 3)
    hi = np.clip(seg, 0, 3)
    v_lo = np.take_along_axis(nodes, np.broadcast_to(lo, nodes.shape[:-1])[..., None], -1)[..., 0]
    v_hi = np.take_along_axis(nodes, np.broadcast_to(hi, nodes.shape[:-1])[..., None], -1)[..., 0]
    d_lo, d_hi = d[lo], d[hi]
    inside = v_lo + (v_hi - v_lo) * (days - d_lo) / np.where(d_hi > d_lo, d_hi - d_lo, 1.0)
    first = nodes[..., 0] / d[0] * days
    last = nodes[..., 3] / d[3] * days
    total = np.where(seg == 0, first, np.where(seg >= 4, last, inside))
    return np.sqrt(total / (days / DAYS_PER_YEAR))


# --- the ATM level of the smile ----------------------------------------------------------

_LOG_SD = np.linspace(np.log(1e-3), np.log(2.0), 321)
#: The weight of the smile's skew terms at a tenor, ``τ^p · scale`` (:meth:`SkewParams.skew_weight`):
#: 0.25–70 days and a SKEW scale of 0.25–2 stay inside.
_WEIGHTS = np.linspace(0.0, 2.7, 601)


@lru_cache(maxsize=8)
def _ratio_table(skew: SkewParams) -> np.ndarray:
    """varswap/ATM ratio on (log ATM stddev, skew weight) nodes: the smile in standardised moneyness
    depends on the tenor and the SKEW scale only through the weight of its skew terms."""
    flat = SkewParams(skew.slope, 0.0, skew.curvature, skew.call_curvature, skew.vix_scale, skew.z_min, skew.z_max,
                      skew.floor, skew.max_tenor_days)   # τ^0 = 1: the scale passed is the weight itself
    sd = np.exp(_LOG_SD)[:, None]
    table = np.empty((sd.size, _WEIGHTS.size))
    # Built a band of rows at a time: the whole grid at once held ~0.55 GB of temporaries (same values).
    for a in range(0, sd.size, 16):
        band = sd[a:a + 16]
        table[a:a + 16] = variance_swap_ratio(np.broadcast_to(band, (band.size, _WEIGHTS.size)), 30.0, flat,
                                              np.broadcast_to(_WEIGHTS[None, :], (band.size, _WEIGHTS.size)))
    table.setflags(write=False)
    return table


def _ratio(skew: SkewParams, atm_stddev, days, slope_scale=1.0) -> np.ndarray:
    table = _ratio_table(skew)
    tau = np.minimum(np.maximum(np.asarray(days, float), 0.25), skew.max_tenor_days) / 30.0
    x = np.clip(np.log(np.maximum(atm_stddev, 1e-300)), _LOG_SD[0], _LOG_SD[-1])
    y = np.clip(skew.skew_weight(tau, slope_scale), _WEIGHTS[0], _WEIGHTS[-1])
    # Both axes are uniform: the cell is arithmetic, no search.
    i = np.minimum(((x - _LOG_SD[0]) * ((_LOG_SD.size - 1) / (_LOG_SD[-1] - _LOG_SD[0]))).astype(np.int64),
                   _LOG_SD.size - 2)
    j = np.minimum(((y - _WEIGHTS[0]) * ((_WEIGHTS.size - 1) / (_WEIGHTS[-1] - _WEIGHTS[0]))).astype(np.int64),
                   _WEIGHTS.size - 2)
    fx = (x - _LOG_SD[i]) / (_LOG_SD[i + 1] - _LOG_SD[i])
    fy = (y - _WEIGHTS[j]) / (_WEIGHTS[j + 1] - _WEIGHTS[j])
    return ((1 - fx) * (1 - fy) * table[i, j] + fx * (1 - fy) * table[i + 1, j]
            + (1 - fx) * fy * table[i, j + 1] + fx * fy * table[i + 1, j + 1])


def atm_vol(nodes: np.ndarray, days, skew: SkewParams | None = None, slope_scale=1.0) -> np.ndarray:
    """ATM vol (decimal) whose smile (its slope times ``slope_scale``) has the scaled variance-swap vol of
    each row's curve."""
    skew = skew or SPX_SKEW
    days = np.maximum(np.asarray(days, float), 1e-6)
    target = skew.vix_scale * varswap_vol(nodes, days)
    sqrt_years = np.sqrt(days / DAYS_PER_YEAR)
    atm = target / 1.15
    for _ in range(6):  # the ratio barely moves with the level: a few fixed-point steps
        atm = target / _ratio(skew, atm * sqrt_years, days, slope_scale)
    return atm


def smile_vol(atm, strike, forward, days, skew: SkewParams | None = None, slope_scale=1.0) -> np.ndarray:
    """Implied vol (decimal) at ``strike`` on the smile around ``atm`` (its slope times ``slope_scale``)."""
    skew = skew or SPX_SKEW
    days = np.maximum(np.asarray(days, float), 1e-6)
    z = np.log(np.asarray(strike, float) / np.asarray(forward, float)) / (atm * np.sqrt(days / DAYS_PER_YEAR))
    return atm * skew.ratio(z, days, slope_scale)


# --- VIX futures and options -------------------------------------------------------------

def futures_proxy(nodes: np.ndarray, vix, vix3m, vvix, days, params=None) -> np.ndarray:
    """The VIX futures proxy (:func:`alvh_core.model.vixfutures.futures_proxy`) elementwise.

    ``vix3m`` and ``vvix`` may be NaN (no backwardation term; the median VVIX)."""
    days = np.maximum(np.asarray(days, float), 0.0)
    vix = np.asarray(vix, float)
    vix3m = np.asarray(vix3m, float)
    has3m = np.isfinite(vix3m) & (vix3m > 0)
    inversion = np.where(has3m, np.maximum(np.log(vix / np.where(has3m, vix3m, vix)), 0.0), 0.0)
    now = np.maximum(days, 1e-6)
    total_now = varswap_vol(nodes, now) ** 2 * days
    total_later = varswap_vol(nodes, days + 30.0) ** 2 * (days + 30.0)
    forward = 100.0 * np.sqrt(np.maximum(total_later - total_now, 1e-12) / 30.0)
    return proxy_from_forward_vol(forward, vix, vvix, days, inversion, params)
