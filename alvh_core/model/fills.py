"""Fills: what a trader gets for a condor, not the model's mid.

Each leg's bid/ask half spread comes from a model fitted on the Cboe chains
(:data:`alvh_core.model.fitted.SPX_SPREAD`): it grows with the option's price and
with VIX, and is narrower (relative to price) near the money.  An order fills
``share`` of the way from mid to the natural price (sell at the bid, buy at
the ask): 0 is mid, 1 is natural, the default is halfway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from alvh_core.model.fitted import DEFAULT_FILL_SHARE, SPX_SPREAD, VIX_SPREAD

#: Cboe's minimum tick for SPX options: a half spread is at least half of it.
MIN_HALF_SPREAD = 0.025


def half_spread_one(mid: float, delta: float, is_call: bool, vix: float) -> float:
    """Model half spread (index points) of one SPX option at ``mid`` with ``delta`` at ``vix``.

    Scalar arithmetic: this runs for every leg of every condor priced."""
    c = SPX_SPREAD
    mid = max(float(mid), 0.05)
    log_hs = (c["intercept"] + c["log_mid"] * math.log(mid) + c["delta"] * abs(float(delta))
              + c["call"] * float(bool(is_call)) + c["log_vix"] * math.log(max(float(vix), 1.0) / 20.0))
    # A half spread never exceeds the mid itself (a zero bid), nor goes under half a tick.
    return min(max(math.exp(log_hs), MIN_HALF_SPREAD), max(mid, MIN_HALF_SPREAD))


def half_spread(mid, delta, is_call, vix: float) -> np.ndarray:
    """:func:`half_spread_one` over sequences of options."""
    return np.array([half_spread_one(m, d, c, vix) for m, d, c in zip(mid, delta, is_call, strict=True)])


@dataclass(frozen=True)
class Fill:
    """How one structure fills: its legs' half spreads and the share given up."""

    share: float                 # 0 = mid, 1 = natural
    half_spreads: tuple[float, ...]

    @property
    def natural_cost(self) -> float:
        """Points given up at the natural price (sum of the legs' half spreads)."""
        return float(sum(self.half_spreads))

    @property
    def cost(self) -> float:
        """Points given up at this fill."""
        return self.share * self.natural_cost


def fill_for_legs(legs, vix: float, share: float = DEFAULT_FILL_SHARE) -> Fill:
    """The fill of a set of option legs (``OptionLeg``: price, delta, kind, quantity)."""
    if not (math.isfinite(share) and 0.0 <= share <= 1.0):
        raise ValueError("the fill share must be between 0 (mid) and 1 (natural)")
    return Fill(float(share), tuple(half_spread_one(leg.price, leg.delta, leg.kind == "call", vix) * leg.quantity
                                    for leg in legs))


def half_spread_array(mid, delta, is_call, vix) -> np.ndarray:
    """:func:`half_spread_one` elementwise over arrays (a backtest's thousands of legs)."""
    c = SPX_SPREAD
    mid = np.maximum(np.asarray(mid, float), 0.05)
    log_hs = (c["intercept"] + c["log_mid"] * np.log(mid) + c["delta"] * np.abs(np.asarray(delta, float))
              + c["call"] * np.asarray(is_call, float) + c["log_vix"] * np.log(np.maximum(np.asarray(vix, float), 1.0)
                                                                             / 20.0))
    return np.minimum(np.maximum(np.exp(log_hs), MIN_HALF_SPREAD), np.maximum(mid, MIN_HALF_SPREAD))


def vix_half_spread(price, vix, floor: float = VIX_SPREAD["floor"]) -> np.ndarray:
    """Half spread (VIX points) of a VIX option at ``price`` on a day of ``vix``, elementwise
    (:data:`alvh_core.model.fitted.VIX_SPREAD`: an assumption, there are no VIX option quotes): at least
    half the minimum tick (0.05 under 3.00, 0.10 from 3.00), ``floor`` and a share of the price, widened
    by (VIX/20)^power above VIX 20."""
    price = np.maximum(np.asarray(price, float), 0.0)
    half_tick = np.where(price < 3.0, 0.025, 0.05)
    base = np.maximum(np.maximum(half_tick, floor), VIX_SPREAD["price_share"] * price)
    vix = np.asarray(vix, float)
    widen = np.maximum(np.where(np.isfinite(vix), vix, 20.0) / 20.0, 1.0) ** VIX_SPREAD["vix_power"]
    return base * widen
