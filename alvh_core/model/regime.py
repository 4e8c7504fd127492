"""VIX regimes: Low / Moderate / High bands on spot VIX (seed 001)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Default band edges in VIX points: Low < 15 ≤ Moderate ≤ 25 < High.
LOW_MAX = 15.0
HIGH_MIN = 25.0


@dataclass(frozen=True)
class Regime:
    name: str
    vix: float
    low_max: float
    high_min: float


def classify_regime(vix: float, low_max: float = LOW_MAX, high_min: float = HIGH_MIN) -> Regime:
    """The band of ``vix``; edges are editable (``low_max`` < ``high_min``)."""
    if not (np.isfinite(vix) and vix > 0):
        raise ValueError("VIX must be a positive number")
    if not low_max < high_min:
        raise ValueError("the Low band must end below where the High band starts")
    name = "Low" if vix < low_max else ("High" if vix > high_min else "Moderate")
    return Regime(name, float(vix), float(low_max), float(high_min))
