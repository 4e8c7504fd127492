"""The smile's skew tied to Cboe's SKEW index, so the smile of 2000 is not the smile of 2022.

Cboe's SKEW is ``100 − 10 · S``, S the risk-neutral skewness of the S&P 500's 30-day log return
that the day's out-of-the-money SPX options imply (Bakshi, Kapadia and Madan 2003, the moments
replicated from option prices).  The same integrals on the model's smile give the model's own
SKEW for any scale of its skew terms: a flatter smile gives a smaller SKEW.

SKEW's level has drifted up over the decades (median 115 in the 1990s, 122 in 2010-14, 137 in
2020-24) as far-out puts were listed and bought in ever larger numbers, so a reading means
something only against its own era.  The day's reading is SKEW (its mean over the last
:data:`SKEW_WINDOW` sessions) less its median over the last :data:`ERA_SESSIONS` sessions; the
fitted smile is the smile of the chain days' readings, and on any other day the skew terms are
scaled so that the model's SKEW moves from its value on the chain days by as much as the reading
moved from theirs::

    model_skew(scale) − model_skew(1) = reading(day) − reading(chain days)

Matching the change, not the level: the model's smile is clamped in the far wings (z ≥ −5), so its
SKEW sits below Cboe's, which reads options to the last listed strike.  The model's SKEW barely
depends on the vol level (within half a point from an ATM vol of 12 % to 45 %), so one curve at
20 % serves.  The raw level, tried first, fits the two chain days as well but reads the low SKEW of
2000-2009 (113-121) as a smile almost flat (scale 0.4-0.75), which the CNDR index of those years
does not show (the replica ran 2.3 points a year above it).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from alvh_core.model.fitted import SPX_SKEW
from alvh_core.model.params import SkewParams
from alvh_core.model.pricing import black_price_scaled

#: Sessions of SKEW averaged for a day's reading (trailing, the day included).
SKEW_WINDOW = 5
#: The era a reading is taken against: the median SKEW of the last ten years of sessions (the day
#: included), once a year of them exists.
ERA_SESSIONS = 2520
ERA_MIN_SESSIONS = 250
#: The reading on the two chain days the smile is fitted on (SKEW 129.29 and 123.36, each day's
#: five-session mean less its era's median).  Re-derive with ``python -m alvh_core calibrate --data-dir
#: ../shared/data --json`` (key ``skew_readings``).
SKEW_ON_CHAIN_DAYS = {"2022-02-04": 3.496, "2023-02-07": -5.546}
#: Their mean: the reading at which the fitted smile holds (scale 1).
SKEW_REFERENCE = sum(SKEW_ON_CHAIN_DAYS.values()) / len(SKEW_ON_CHAIN_DAYS)
#: The slope scale is held within these bounds (SKEW 1990-2026 spans about 101-171).
SCALE_BOUNDS = (0.25, 2.0)
_SCALES = np.linspace(SCALE_BOUNDS[0], SCALE_BOUNDS[1], 71)


def model_skew_index(atm: float, skew: SkewParams = SPX_SKEW, slope_scale: float = 1.0, days: float = 30.0) -> float:
    """Cboe's SKEW formula (100 − 10 · skewness, Bakshi–Kapadia–Madan) on the model's smile: OTM options
    of a forward of 1 at ATM vol ``atm``, ``days`` out, no discounting (Cboe discounts the moments; at
    30 days it moves SKEW by well under a point)."""
    years = days / 365.0
    sd = atm * np.sqrt(years)
    z = np.linspace(-12.0, 10.0, 4001)
    k = z * sd                                   # ln K/F
    strikes = np.exp(k)
    otm = black_price_scaled(1.0, strikes, sd * skew.ratio(z, days, slope_scale), 1.0, 1.0, z >= 0)
    weight = np.gradient(strikes) * otm / strikes**2
    # The same kernels serve both sides when written in ln K/F (puts: ln S/K = −k).
    quad = np.sum(2.0 * (1.0 - k) * weight)
    cubic = np.sum((6.0 * k - 3.0 * k * k) * weight)
    quartic = np.sum((12.0 * k * k - 4.0 * k**3) * weight)
    mu = -quad / 2.0 - cubic / 6.0 - quartic / 24.0
    skewness = (cubic - 3.0 * mu * quad + 2.0 * mu**3) / (quad - mu * mu) ** 1.5
    return float(100.0 - 10.0 * skewness)


@lru_cache(maxsize=4)
def _curve(skew: SkewParams) -> np.ndarray:
    """The model's SKEW at each slope scale of :data:`_SCALES` (increasing with the scale)."""
    return np.array([model_skew_index(0.20, skew, s) for s in _SCALES])


def slope_scale(reading, skew: SkewParams = SPX_SKEW, reference: float = SKEW_REFERENCE) -> np.ndarray:
    """The scale of the skew terms whose model SKEW moves from scale 1's by ``reading − reference``
    (:func:`skew_reading`); 1 where there is no reading (NaN), held within :data:`SCALE_BOUNDS`."""
    values = np.asarray(reading, float)
    curve = _curve(skew)
    at_one = float(np.interp(1.0, _SCALES, curve))
    scale = np.interp(at_one + values - reference, curve, _SCALES)   # np.interp holds the ends
    return np.where(np.isfinite(values), scale, 1.0)


def trailing_skew(skew_index: np.ndarray, window: int = SKEW_WINDOW) -> np.ndarray:
    """Day by day, the mean of the SKEW readings over the last ``window`` sessions (the day included; NaN
    where none of them has one)."""
    values = np.asarray(skew_index, float)
    ok = np.isfinite(values)
    sums = np.cumsum(np.where(ok, values, 0.0))
    counts = np.cumsum(ok)
    lo = np.maximum(np.arange(values.size) - window, -1)
    total = sums - np.where(lo >= 0, sums[np.maximum(lo, 0)], 0.0)
    n = counts - np.where(lo >= 0, counts[np.maximum(lo, 0)], 0)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def skew_reading(skew_index) -> np.ndarray:
    """Day by day, SKEW's trailing mean (:func:`trailing_skew`) less its era's median (the last
    :data:`ERA_SESSIONS` sessions' readings that exist, at least :data:`ERA_MIN_SESSIONS`); NaN before."""
    values = pd.Series(np.asarray(skew_index, float))
    era = values.rolling(ERA_SESSIONS, min_periods=ERA_MIN_SESSIONS).median().to_numpy()
    return trailing_skew(values.to_numpy()) - era
