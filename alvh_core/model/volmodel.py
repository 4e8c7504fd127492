"""SPX implied volatility for any strike and tenor, built on the VIX family.

Two pieces:

1. **Term structure.**  VIX9D, VIX, VIX3M and VIX6M are variance-swap vols
   for 9, 30, 93 and 183 calendar days.  Total variance ``vol² · T`` is
   interpolated linearly in ``T`` between the quoted nodes (kept
   non-decreasing, so forward variance is never negative) and held at a
   flat vol outside them.  Missing indexes are simply left out.

2. **Smile.**  A parametric skew in standardised log-moneyness
   ``z = ln(K/F) / (σ_atm · √T)``::

       σ(K)/σ_atm = 1 + slope·τ^p·z + curvature·z² + call_curvature·max(z, 0)²

   with ``τ = T / 30 days``.  ``z`` is clamped to ``[z_min, z_max]`` and the
   ratio floored, so far wings stay finite and positive; the shape stops
   steepening past 70 days (the fitted range).

VIX is not at-the-money vol: it prices the whole smile.  The ATM vol at a
tenor is therefore the level whose smile has the variance-swap vol that the
(scaled) VIX term structure gives::

       varswap(σ_atm, smile, T) = vix_scale · VIX_interp(T)

where ``varswap`` is the log-contract replication integral
``(2/T)·∫ OTM(K)/K² dK`` on the smile.  The shape and ``vix_scale`` are
calibrated on real SPX chains (see :mod:`alvh_core.calibration.fits`); the
fitted numbers live in :mod:`alvh_core.model.fitted`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from alvh_core.model.fitted import SPX_SKEW
from alvh_core.model.params import SkewParams
from alvh_core.model.pricing import DAYS_PER_YEAR, black_price_scaled

# Tenors (calendar days) of the Cboe volatility indexes.
VIX_TENOR_DAYS = {"vix9d": 9.0, "vix": 30.0, "vix3m": 93.0, "vix6m": 183.0}


@dataclass(frozen=True)
class VixTermStructure:
    """The Cboe vol indexes in vol points (e.g. 16.5); any may be None."""

    vix: float
    vix9d: float | None = None
    vix3m: float | None = None
    vix6m: float | None = None

    def nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """Tenors (days) and total variances (decimal² · years), increasing."""
        days, var = [], []
        for name, tenor in VIX_TENOR_DAYS.items():
            value = getattr(self, name)
            if value is not None and np.isfinite(value) and value > 0:
                days.append(tenor)
                var.append((value / 100.0) ** 2 * tenor / DAYS_PER_YEAR)
        if not days:
            raise ValueError("the VIX term structure needs at least one positive index level")
        return np.array(days), np.maximum.accumulate(np.array(var))

    def variance_swap_vol(self, days) -> np.ndarray:
        """Variance-swap vol (decimal) for ``days`` to expiry, by total variance."""
        node_days, node_var = self.nodes()
        days = np.maximum(np.asarray(days, float), 1e-6)
        first_vol2 = node_var[0] / (node_days[0] / DAYS_PER_YEAR)
        last_vol2 = node_var[-1] / (node_days[-1] / DAYS_PER_YEAR)
        years = days / DAYS_PER_YEAR
        inside = np.interp(days, node_days, node_var)
        total = np.where(days < node_days[0], first_vol2 * years,
                         np.where(days > node_days[-1], last_vol2 * years, inside))
        return np.sqrt(total / years)


def _gauss_legendre_halves(points: int, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights on [low, 0] and [0, high]: the OTM price has a kink
    at the money (put side to call side), which one rule across it smears."""
    x, w = np.polynomial.legendre.leggauss(points)
    z = np.concatenate([0.5 * low * (x + 1.0) - 0.0, 0.5 * high * (x + 1.0)])
    weight = np.concatenate([0.5 * -low * w, 0.5 * high * w])
    return z, weight


# Nodes in z for the replication integral.
_REPLICATION_Z, _REPLICATION_W = _gauss_legendre_halves(48, -12.0, 10.0)


def variance_swap_ratio(atm_stddev, days, skew: SkewParams, slope_scale=1.0) -> np.ndarray:
    """varswap vol / ATM vol for a smile with ATM total stddev ``atm_stddev``.

    Integrates the normalised OTM price over ``k = z·σ_atm·√T`` for z in
    ``[-12, 10]``, split at the money: ``σ²_VS · T = 2 ∫ otm(k) e^{-k} dk``
    (forward = 1, undiscounted Black prices).
    """
    atm_stddev = np.asarray(atm_stddev, float)[..., None]
    days_b = np.asarray(days, float)[..., None]
    z, weight = _REPLICATION_Z, _REPLICATION_W
    k = z * atm_stddev
    sd = atm_stddev * skew.ratio(z, days_b, np.asarray(slope_scale, float)[..., None])
    # OTM puts below the forward, calls above.
    otm = black_price_scaled(1.0, np.exp(k), sd, 1.0, 1.0, z >= 0)
    total_var = 2.0 * np.sum(weight * otm * np.exp(-k) * atm_stddev, axis=-1)
    return np.sqrt(np.maximum(total_var, 0.0)) / atm_stddev[..., 0]


def _solve_atm(target, days, skew: SkewParams, slope_scale=1.0) -> np.ndarray:
    """ATM vol whose smile has variance-swap vol ``target`` (fixed point)."""
    sqrt_years = np.sqrt(days / DAYS_PER_YEAR)
    atm = target / 1.15
    # The varswap/ATM ratio barely depends on the level: three or four steps.
    for _ in range(8):
        new = target / variance_swap_ratio(atm * sqrt_years, days, skew, slope_scale)
        converged = np.all(np.abs(new - atm) < 1e-10)
        atm = new
        if converged:
            break
    return atm


@lru_cache(maxsize=4096)
def _atm_vol_cached(term: VixTermStructure, skew: SkewParams, days: float, slope_scale: float = 1.0) -> float:
    target = skew.vix_scale * term.variance_swap_vol(days)
    return float(_solve_atm(target, np.float64(days), skew, slope_scale))


@dataclass(frozen=True)
class VolModel:
    """Implied vol for SPX from the VIX family plus a calibrated skew."""

    term: VixTermStructure
    skew: SkewParams = SPX_SKEW
    #: The smile's slope times this: the day's SKEW reading (:mod:`alvh_core.model.skew_index`), 1 unknown.
    slope_scale: float = 1.0

    def atm_vol(self, days) -> np.ndarray:
        """ATM (forward) implied vol, decimal, for ``days`` to expiry.

        Memoised per (term structure, skew, tenor) for a few tenors at a
        time, the common case on every page rerun.
        """
        if np.ndim(days) == 0:
            return np.float64(_atm_vol_cached(self.term, self.skew, max(float(days), 1e-6), self.slope_scale))
        days = np.maximum(np.asarray(days, float), 1e-6)
        if days.size <= 16:
            flat = [_atm_vol_cached(self.term, self.skew, float(d), self.slope_scale) for d in days.ravel()]
            return np.array(flat).reshape(days.shape)
        target = self.skew.vix_scale * self.term.variance_swap_vol(days)
        return _solve_atm(target, days, self.skew, self.slope_scale)

    def implied_vol(self, strikes, forward, days) -> np.ndarray:
        """Model IV (decimal) for ``strikes`` on ``forward`` at ``days``.

        ``days`` may be an array broadcasting with ``strikes``.
        """
        if np.ndim(days) == 0:  # one tenor: the common case, kept lean
            d = max(float(days), 1e-6)
            atm = _atm_vol_cached(self.term, self.skew, d, self.slope_scale)
            z = np.log(np.asarray(strikes, float) / np.asarray(forward, float)) / (atm * math.sqrt(d / DAYS_PER_YEAR))
            return atm * self.skew.ratio(z, d, self.slope_scale)
        days = np.maximum(np.asarray(days, float), 1e-6)
        if days.size == 1:
            atm = self.atm_vol(days)
        else:
            # Solve the ATM level once per distinct tenor, not once per strike.
            unique_days, inverse = np.unique(days, return_inverse=True)
            atm = self.atm_vol(unique_days)[inverse].reshape(days.shape)
        stddev = atm * np.sqrt(days / DAYS_PER_YEAR)
        z = np.log(np.asarray(strikes, float) / np.asarray(forward, float)) / stddev
        return atm * self.skew.ratio(z, days, self.slope_scale)
