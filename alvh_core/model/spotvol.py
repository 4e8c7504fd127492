"""The spot–vol link: where VIX goes when SPX moves, by starting state.

A move of SPX is measured in units of the move the market implied for it,
``z = r / (VIX0/100 · √(h/252))`` with ``r = ln(SPX_h/SPX0)`` over ``h``
trading days.  The same 3 % fall is a 3.5σ shock from VIX 13 and a 1σ
shock from VIX 45, and VIX answers accordingly.  For each horizon the 10th,
50th and 90th percentiles of ``ln(VIX_h/VIX0)`` are linear in::

    1,  z⁻ = min(z, 0),  z⁺ = max(z, 0),  (z⁻)²,  ln(VIX0/20)

(quantile regressions on 1990–2026 closes, :mod:`alvh_core.calibration.fits`),
so the band's width depends on the move and on where VIX starts.  The
coefficients are interpolated between the fitted horizons (1, 5, 21 trading
days); past 21 days they are held and the band widens with √time.  Past the
largest fall in the fit (``z⁻`` below its lowest value) only the linear term
continues, and ``ln(VIX0/20)`` is held inside the levels seen since 1990, so
no input extrapolates a parabola: a 20 % one-day fall from VIX 17 gives a
median near ×5 (the 1987 crash took VXO about ×4 from 36; it is not in the
data).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from alvh_core.model import limits
from alvh_core.model.fitted import SPOT_VOL_LINK, SPOT_VOL_Z_MIN
from alvh_core.model.pricing import TRADING_DAYS_PER_YEAR

BANDS = ("p10", "median", "p90")
#: VIX levels a scenario may reach (points): the link is not asked beyond them.
VIX_FLOOR, VIX_CAP = limits.VIX
#: Starting levels seen in the fit (VIX 9.1 to 82.7): ln(VIX0/20) is held inside them.
FITTED_VIX = (9.0, 83.0)
LEVEL_RANGE = (np.log(FITTED_VIX[0] / 20.0), np.log(FITTED_VIX[1] / 20.0))


def outside_fit_notice(vix0: float) -> str:
    """What to say when a starting VIX is outside the levels the link was fitted on (empty inside them)."""
    if FITTED_VIX[0] <= vix0 <= FITTED_VIX[1]:
        return ""
    edge = FITTED_VIX[0] if vix0 < FITTED_VIX[0] else FITTED_VIX[1]
    return (f"VIX {vix0:.2f} is outside the starting levels the spot–vol link was fitted on (about "
            f"{FITTED_VIX[0]:g}–{FITTED_VIX[1]:g}): the link answers as if VIX started at {edge:g}, so its VIX "
            "response is an extrapolation.")


def implied_move_units(spx_return, vix0: float, trading_days: float) -> np.ndarray:
    """An SPX log return in units of the move VIX implied over ``trading_days``."""
    scale = max(float(vix0), 1e-6) / 100.0 * np.sqrt(max(float(trading_days), 1e-6) / TRADING_DAYS_PER_YEAR)
    return np.asarray(spx_return, float) / scale


@lru_cache(maxsize=512)
def link_coefficients(trading_days: float) -> tuple[np.ndarray, float]:
    """Coefficients (3 bands × 5 terms) at a horizon, and the lowest ``z⁻`` fitted.

    Rows are p10, median, p90; columns multiply 1, z⁻, z⁺, (z⁻)², ln(VIX0/20).
    """
    horizons = np.array(sorted(SPOT_VOL_LINK), float)
    table = np.array([[SPOT_VOL_LINK[int(h)][b] for b in BANDS] for h in horizons])  # (h, 3, 5)
    z_min = np.array([SPOT_VOL_Z_MIN[int(h)] for h in horizons])
    h = float(np.clip(trading_days, horizons[0], horizons[-1]))
    coef = np.empty((3, 5))
    for i in range(3):
        for j in range(5):
            coef[i, j] = np.interp(h, horizons, table[:, i, j])
    if trading_days > horizons[-1]:
        # The band widens with √time past the last fitted horizon.
        widen = np.sqrt(trading_days / horizons[-1])
        for i in (0, 2):
            coef[i] = coef[1] + (coef[i] - coef[1]) * widen
    coef.setflags(write=False)
    return coef, float(np.interp(h, horizons, z_min))


def log_vix_change(vix0: float, spx_return, trading_days: float) -> np.ndarray:
    """ln(VIX_h/VIX0) at the p10, median and p90: shape (3,) + spx_return's shape."""
    coef, z_min = link_coefficients(float(trading_days))
    return _evaluate(coef, z_min, vix0, spx_return, trading_days)


def log_vix_change_with(coefficients: dict, z_min: float, vix0: float, spx_return, trading_days: float) -> np.ndarray:
    """:func:`log_vix_change` with explicit coefficients (band -> 5 terms), for calibration."""
    coef = np.array([coefficients[b] for b in BANDS], float)
    return _evaluate(coef, z_min, vix0, spx_return, trading_days)


def _evaluate(coef: np.ndarray, z_min: float, vix0: float, spx_return, trading_days: float) -> np.ndarray:
    z = implied_move_units(spx_return, vix0, trading_days)
    level = np.clip(np.log(max(float(vix0), 1e-6) / 20.0), *LEVEL_RANGE)
    return link_quantiles(coef, z_min, level, z)


def link_quantiles(coef: np.ndarray, z_min: float, level, z) -> np.ndarray:
    """ln(VIX_h/VIX0) at the p10, median and p90 for SPX moves of ``z`` implied-move units from a
    VIX whose clipped ln(VIX/20) is ``level`` (one, or one per element of ``z``): shape (3,) + z's."""
    z = np.asarray(z, float)
    down, up = np.minimum(z, 0.0), np.maximum(z, 0.0)
    inside = np.maximum(down, z_min)
    beyond = down - inside  # ≤ 0: how far past the fitted range
    a, b_down, b_up, b_sq, b_level = (coef[:, j].reshape((3,) + (1,) * z.ndim) for j in range(5))
    # Inside the fitted range the quadratic; beyond it, the linear term alone (no fitted
    # day lies there: the curvature is not carried past the data).
    out = (a + b_level * level + (b_down + b_sq * inside) * inside + b_up * up + b_down * beyond)
    # Quantiles never cross: the band holds the median.
    out[0] = np.minimum(out[0], out[1])
    out[2] = np.maximum(out[2], out[1])
    return out


#: Past this log change VIX is at its floor or cap from any start: the exponent is clipped there so that
#: an extreme typed market never overflows.
_MAX_LOG_CHANGE = 50.0

def vix_after_move(vix0: float, spx_return, trading_days: float, band: str = "median") -> np.ndarray:
    """VIX after an SPX log return over ``trading_days`` at a band of the link
    (``"median"``, ``"p10"`` or ``"p90"``), kept within 5–150."""
    if band not in BANDS:
        raise ValueError(f"band must be one of {BANDS}")
    change = log_vix_change(vix0, spx_return, trading_days)[BANDS.index(band)]
    return np.minimum(np.maximum(vix0 * np.exp(np.clip(change, -_MAX_LOG_CHANGE, _MAX_LOG_CHANGE)), VIX_FLOOR), VIX_CAP)


def vix_band(vix0: float, spx_return, trading_days: float) -> np.ndarray:
    """VIX at p10, median and p90 in one call: shape (3,) + spx_return's shape."""
    change = np.clip(log_vix_change(vix0, spx_return, trading_days), -_MAX_LOG_CHANGE, _MAX_LOG_CHANGE)
    return np.minimum(np.maximum(vix0 * np.exp(change), VIX_FLOOR), VIX_CAP)
