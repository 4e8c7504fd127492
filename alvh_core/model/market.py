"""The market inputs every calculation starts from, with their provenance."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from alvh_core.model import limits
from alvh_core.model.params import SkewParams
from alvh_core.model.volmodel import VixTermStructure, VolModel

#: Where a number came from, as shown on the data badge.
SOURCES = ("live", "cache", "file", "simulated", "manual", "default")


@dataclass(frozen=True)
class MarketState:
    """SPX, the VIX family, rates and where they came from.

    ``spot`` in index points; VIX-family levels in vol points (16.5 = 16.5 %);
    ``rate`` and ``div`` continuously compounded decimals.
    """

    spot: float
    vix: float
    vix9d: float | None = None
    vix3m: float | None = None
    vix6m: float | None = None
    vvix: float | None = None
    rate: float = 0.04
    div: float = 0.013
    asof: str = ""
    source: str = "manual"

    def __post_init__(self) -> None:
        for name in ("spot", "vix"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        for name in ("vix9d", "vix3m", "vix6m", "vvix"):
            value = getattr(self, name)
            if value is not None and not (np.isfinite(value) and value > 0):
                object.__setattr__(self, name, None)
        if not (np.isfinite(self.rate) and limits.RATE[0] <= self.rate <= limits.RATE[1]):
            raise ValueError(f"rate must be a decimal between {limits.RATE[0]:g} and {limits.RATE[1]:g}, got {self.rate!r}")
        if not (np.isfinite(self.div) and limits.DIV[0] <= self.div <= limits.DIV[1]):
            raise ValueError(f"dividend yield must be a decimal between {limits.DIV[0]:g} and {limits.DIV[1]:g}, "
                             f"got {self.div!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}")

    @property
    def term(self) -> VixTermStructure:
        return VixTermStructure(vix=self.vix, vix9d=self.vix9d, vix3m=self.vix3m, vix6m=self.vix6m)

    def vol_model(self, skew: SkewParams | None = None) -> VolModel:
        return VolModel(self.term) if skew is None else VolModel(self.term, skew)

    def forward(self, days) -> np.ndarray:
        """SPX forward for ``days`` calendar days (cost of carry r − q)."""
        return self.spot * np.exp((self.rate - self.div) * np.asarray(days, float) / 365.0)

    def with_changes(self, **changes) -> MarketState:
        return replace(self, **changes)


def tbill_rate(discount_pct: float) -> float:
    """Continuously compounded rate (decimal) of a 3-month T-bill quoted as a
    discount yield in percent (FRED DTB3, Yahoo ^IRX): price 1 − d·91/360."""
    price = 1.0 - float(discount_pct) / 100.0 * 91.0 / 360.0
    return -np.log(price) * 365.0 / 91.0


#: The last closes the project knows (Cboe and S&P data of 2026-07-08), the
#: rate from that day's 3-month T-bill (DTB3 3.73 %).  The dividend yield is an
#: assumption to edit (the project carries no dividend history; chains imply it
#: on their days).
DEFAULT_MARKET = MarketState(
    spot=7482.71,
    vix=16.90,
    vix9d=14.41,
    vix3m=19.46,
    vix6m=21.56,
    vvix=91.38,
    rate=0.0380,
    div=0.013,
    asof="2026-07-08",
    source="default",
)
