"""Option legs and structures built from them.

An iron condor, a VIX call spread and a single hedge call are all "a list of
legs": the payoff and the greeks of a structure are sums over its legs, never
new formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alvh_core.model.pricing import bsm, bsm_one

#: Dollars per index point of one SPX (or VIX) option contract.
MULTIPLIER = 100.0


@dataclass(frozen=True)
class OptionLeg:
    """One option position per contract of the structure.

    ``side`` is +1 long, -1 short; ``quantity`` options of this leg per
    structure; ``price`` the model premium in index points; ``iv`` decimal;
    greeks per option (delta per point, vega per vol point, theta per day).
    """

    kind: str  # "call" or "put"
    side: int
    strike: float
    days: float
    iv: float
    price: float
    delta: float = 0.0
    gamma: float = 0.0
    vega: float = 0.0
    theta: float = 0.0
    quantity: int = 1

    @property
    def signed_quantity(self) -> int:
        return self.side * self.quantity

    def as_dict(self) -> dict:
        return {
            "kind": self.kind, "side": "long" if self.side > 0 else "short", "strike": self.strike,
            "days": self.days, "price": round(self.price, 4), "iv": round(self.iv, 5), "quantity": self.quantity,
        }


@dataclass(frozen=True)
class Structure:
    """A list of legs traded together, per one contract of the structure."""

    legs: tuple[OptionLeg, ...]

    @property
    def premium(self) -> float:
        """Net premium paid (+) or received (−), index points."""
        return float(sum(leg.signed_quantity * leg.price for leg in self.legs))

    def pnl_at_expiry(self, underlying_at_expiry) -> np.ndarray:
        """P/L at expiry in index points per structure, for any array of prices."""
        s = np.asarray(underlying_at_expiry, float)
        # All legs at once: intrinsic values of shape (legs, *s.shape), then
        # the signed sum over legs.
        table = np.array([(leg.strike, 1.0 if leg.kind == "call" else -1.0, leg.side * leg.quantity,
                           leg.price) for leg in self.legs])
        column = (-1,) + (1,) * s.ndim
        intrinsic = np.maximum(table[:, 1].reshape(column) * (s - table[:, 0].reshape(column)), 0.0)
        premium = float(table[:, 2] @ table[:, 3])
        summed = table[:, 2] @ intrinsic if s.ndim == 1 else np.tensordot(table[:, 2], intrinsic, axes=1)
        return summed - premium

    def greeks(self) -> dict[str, float]:
        """Structure greeks in dollars: delta $/point, gamma $/point², vega
        $/vol point, theta $/day (per one contract)."""
        return {
            name: float(MULTIPLIER * sum(leg.signed_quantity * getattr(leg, name) for leg in self.legs))
            for name in ("delta", "gamma", "vega", "theta")
        }

    def value_before_expiry(self, spots, days_left: float, rate: float, div: float, iv_of) -> np.ndarray:
        """Model value (points) of the legs at ``spots`` with ``days_left`` to
        expiry; ``iv_of(strike, spots, days_left)`` gives each leg's vol."""
        spots = np.asarray(spots, float)
        years = max(days_left, 0.0) / 365.0
        total = np.zeros(spots.shape)
        for leg in self.legs:
            vol = iv_of(leg.strike, spots, days_left)
            total = total + leg.signed_quantity * bsm(spots, leg.strike, years, rate, div, vol, leg.kind).price
        return total


def price_leg(kind: str, side: int, strike: float, days: float, spot: float, rate: float, div: float,
              iv: float, quantity: int = 1) -> OptionLeg:
    """An SPX leg priced with Black–Scholes–Merton at ``iv``."""
    if kind not in ("call", "put"):
        raise ValueError("option kind must be 'call' or 'put'")
    strike, days, iv = float(strike), float(days), float(iv)
    price, delta, gamma, vega, theta = bsm_one(float(spot), strike, days / 365.0, float(rate), float(div), iv,
                                               kind == "call")
    # Same object the dataclass __init__ would build, without its per-field
    # frozen __setattr__ (this runs for every leg of every candidate).
    leg = object.__new__(OptionLeg)
    leg.__dict__.update(kind=kind, side=side, strike=strike, days=days, iv=iv, price=price, delta=delta,
                        gamma=gamma, vega=vega, theta=theta, quantity=quantity)
    return leg
