"""The parameter types of the models, apart from the modules that use them and from the constants
that fill them (:mod:`alvh_core.model.fitted`), so that neither has to import the other."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SkewParams:
    """Shape of the smile relative to ATM vol (see :mod:`alvh_core.model.volmodel`)::

        σ(K)/σ_atm = 1 + w · (slope · z + curvature · z²) + call_curvature · max(z, 0)²,  w = τ^p · scale
    """

    slope: float
    slope_tenor_power: float
    curvature: float
    call_curvature: float
    vix_scale: float
    z_min: float = -5.0
    z_max: float = 3.0
    floor: float = 0.25
    #: The tenor scaling is held beyond this many days (the fit's range).
    max_tenor_days: float = 70.0

    def ratio(self, z, days, slope_scale=1.0) -> np.ndarray:
        """σ(K)/σ_atm at standardised moneyness ``z`` and ``days`` to expiry, the skew's slope times
        ``slope_scale`` (the day's SKEW reading, :mod:`alvh_core.model.skew_index`; 1 on the fit's days)."""
        # np.minimum/np.maximum rather than np.clip: same result, less overhead
        # (this sits on every pricing path).
        z = np.minimum(np.maximum(np.asarray(z, float), self.z_min), self.z_max)
        if np.ndim(days) == 0:
            tau = min(max(float(days), 0.25), self.max_tenor_days) / 30.0
        else:
            tau = np.minimum(np.maximum(np.asarray(days, float), 0.25), self.max_tenor_days) / 30.0
        return self.ratio_at(z, self.skew_weight(tau, slope_scale))

    def ratio_at(self, z, weight) -> np.ndarray:
        """σ(K)/σ_atm at (clamped) ``z`` with the skew terms, the slope and the curvature, times ``weight``
        (:meth:`skew_weight`: they scale together with the tenor and the day's SKEW); the call wing's
        upturn stays as fitted."""
        upside = np.maximum(z, 0.0)
        out = 1.0 + weight * z * (self.slope + self.curvature * z) + self.call_curvature * upside * upside
        return np.maximum(out, self.floor)

    def skew_weight(self, tau, slope_scale=1.0):
        """The skew terms' weight at ``tau`` (tenor / 30 days, already held past the fitted range):
        ``τ^p`` times ``slope_scale``."""
        return tau ** self.slope_tenor_power * slope_scale


@dataclass(frozen=True)
class FuturesProxyParams:
    """The VIX futures proxy's constants (see :func:`alvh_core.model.vixfutures.futures_proxy`)."""

    level: float
    convexity: float
    backwardation: float = 0.0


@dataclass(frozen=True)
class SimulatorParams:
    """The fitted constants (see :data:`alvh_core.model.fitted.SIMULATOR`)."""

    shock: tuple[float, float, float, float]   # Johnson SU (a, b, loc, scale) of z / (VIX/20)^γ
    level_power: float                          # γ
    vix_dof: float                              # Student-t degrees of freedom of the VIX innovation
    term: dict                                  # name -> (a, b): ln(X/VIX) (VVIX: ln VVIX) = a + b ln(VIX/20)
