"""A trader's own position: edits to the tier's condor and hedge.

The Builder starts from the tier's condor and its hedge layers; a
:class:`PositionEdits` says what the trader changed: the condor's four
strikes (asymmetric wings included) and its listed expiry, the number of
contracts, a typed net limit price, hedge layers left out, and legs added
(VIX calls at any listed VIX expiry, SPX puts at any listed SPX expiry,
bought or sold).  Every edit has a short text form, the same in share links,
on the command line and in scenario files:

* strikes ``5800/5850/6300/6350`` (long put / short put / short call / long
  call, SPX points, each on the listed grid of the expiry);
* an added leg ``V+3C25@2026-01-21`` (VIX, buy 3, call, strike 25, expiry) or
  ``S-1P5000@2026-03-20`` (SPX, sell 1, put 5000); several joined by commas.

Edits are checked against the listings: a strike off the grid or a date
that is not an expiry is refused with a message, never rounded silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from alvh_core.data.listings import SpxExpiry, on_grid, spx_expiries
from alvh_core.model import limits
from alvh_core.model.market import MarketState
from alvh_core.model.pricing import bsm_one
from alvh_core.model.vixfutures import expiries_after, futures_proxy
from alvh_core.strategy.condor import PRODUCT_SIZE, IronCondor, condor_from_strikes, market_date
from alvh_core.strategy.hedge import HedgeLayer, HedgeLeg, HedgePlan, vix_call_leg, vix_strikes_for

#: How many VIX expiries ahead an added VIX leg may use (CFE lists about nine monthlies).
VIX_EXPIRIES_LISTED = 9
#: The largest quantity of one added leg.
MAX_LEG_QUANTITY = 10_000
#: The name of the hedge layer that holds the added legs.
ADDED_LAYER = "Your legs"
#: Hedge layers a trader may leave out, by code.
LAYER_CODES = {"base": "Base", "adaptive": "Adaptive", "tail": "Tail", "single": "Single call", "vxth": "VXTH"}

_LEG = re.compile(r"([VS])([+-])(\d{1,5})([CP])(\d+(?:\.\d+)?)@(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True, order=True)
class AddedLeg:
    """One leg a trader adds to the hedge: whole position, not per condor."""

    underlying: str    # "VIX" (calls) or "SPX" (puts)
    side: int          # +1 buy, -1 sell
    strike: float
    expiry: date
    quantity: int

    @property
    def kind(self) -> str:
        return "call" if self.underlying == "VIX" else "put"

    @property
    def text(self) -> str:
        return (f"{self.underlying[0]}{'+' if self.side > 0 else '-'}{self.quantity}{self.kind[0].upper()}"
                f"{self.strike:g}@{self.expiry.isoformat()}")

    @property
    def label(self) -> str:
        return (f"{'Buy' if self.side > 0 else 'Sell'} {self.quantity} {self.underlying} {self.strike:g} "
                f"{self.kind}{'s' if self.quantity != 1 else ''}, {self.expiry:%d %b %Y}")


@dataclass(frozen=True)
class PositionEdits:
    """What the trader changed from the tier's position (nothing, by default)."""

    strikes: tuple[float, float, float, float] | None = None   # SPX points, ascending
    expiry: date | None = None                                  # a listed SPX expiry
    contracts: int | None = None                                # instead of the sized count
    limit: float | None = None       # typed net credit per condor, in the product's own points
    layers_off: tuple[str, ...] = ()  # LAYER_CODES keys
    added: tuple[AddedLeg, ...] = ()

    @property
    def changes_condor(self) -> bool:
        return self.strikes is not None or self.expiry is not None

    @property
    def any(self) -> bool:
        return self != PositionEdits()

    def describe(self) -> list[str]:
        """The edits in words, one line each."""
        out = []
        if self.strikes is not None:
            out.append("strikes " + "/".join(f"{k:g}" for k in self.strikes))
        if self.expiry is not None:
            out.append(f"expiry {self.expiry:%a %d %b %Y}")
        if self.contracts is not None:
            out.append(f"{self.contracts} contract{'s' if self.contracts != 1 else ''}")
        if self.limit is not None:
            out.append(f"limit {self.limit:.2f} credit")
        out += [f"{LAYER_CODES[c]} layer left out" for c in self.layers_off]
        out += [leg.label for leg in self.added]
        return out


# --- text forms ----------------------------------------------------------------------------

def parse_strikes(text: str) -> tuple[float, float, float, float]:
    """``"5800/5850/6300/6350"`` → the four strikes, or ValueError."""
    parts = [p for p in re.split(r"[/\s;]+", str(text).strip()) if p]
    if len(parts) != 4:
        raise ValueError("needs four strikes: long put/short put/short call/long call")
    try:
        strikes = tuple(float(p) for p in parts)
    except ValueError:
        raise ValueError("strikes must be numbers") from None
    if not all(np.isfinite(k) and 1 <= k <= 100_000 for k in strikes):
        raise ValueError("strikes must be between 1 and 100,000")
    if not strikes[0] < strikes[1] < strikes[2] < strikes[3]:
        raise ValueError("strikes must rise: long put < short put < short call < long call")
    return strikes  # type: ignore[return-value]


def strikes_text(strikes) -> str:
    return "/".join(f"{float(k):g}" for k in strikes)


def parse_added(text: str) -> tuple[AddedLeg, ...]:
    """``"V+3C25@2026-01-21,S-1P5000@2026-03-20"`` → the legs (sorted), or ValueError."""
    legs = []
    for piece in (p.strip() for p in str(text).split(",")):
        if not piece:
            continue
        match = _LEG.fullmatch(piece.upper())
        if match is None:
            raise ValueError("legs are written like V+3C25@2026-01-21 (VIX call) or S+1P5000@2026-03-20 (SPX put)")
        under, sign, qty, kind, strike, day = match.groups()
        if (under, kind) not in (("V", "C"), ("S", "P")):
            raise ValueError("added legs are VIX calls (V…C) or SPX puts (S…P)")
        try:
            expiry = date.fromisoformat(day)
        except ValueError:
            raise ValueError(f"{day} is not a calendar date") from None
        quantity = int(qty)
        if not 1 <= quantity <= MAX_LEG_QUANTITY:
            raise ValueError(f"a leg's quantity must be between 1 and {MAX_LEG_QUANTITY:,}")
        legs.append(AddedLeg("VIX" if under == "V" else "SPX", 1 if sign == "+" else -1, float(strike), expiry,
                             quantity))
    if not legs:
        raise ValueError("no legs")
    if len(legs) > limits.MAX_ADDED_LEGS:
        raise ValueError(f"at most {limits.MAX_ADDED_LEGS} added legs")
    return tuple(sorted(legs))


def added_text(legs) -> str:
    return ",".join(leg.text for leg in legs)


# --- listings ----------------------------------------------------------------------------

def listed_spx_expiry(market: MarketState, day: date, underlying: str = "SPX") -> SpxExpiry:
    """The listed SPX/SPXW (or XSP) expiry on ``day``, or ValueError saying what is listed near it."""
    asof = market_date(market)
    listed = {e.day: e for e in spx_expiries(asof) if 1 <= (e.day - asof).days <= 365}
    if day not in listed:
        near = sorted(listed, key=lambda d: abs((d - day).days))[:2]
        raise ValueError(f"{day:%a %d %b %Y} is not a listed SPX expiry on {asof}; nearest: "
                         + ", ".join(f"{d:%a %d %b %Y}" for d in sorted(near)))
    expiry = listed[day]
    return replace(expiry, root="XSP") if underlying == "XSP" else expiry


def vix_expiries(market: MarketState) -> list[date]:
    """The VIX option expiries listed on the market's date."""
    return expiries_after(market_date(market), VIX_EXPIRIES_LISTED)


def check_spx_strike(market: MarketState, strike: float, expiry: SpxExpiry, underlying: str = "SPX") -> None:
    days = max(expiry.years_from(market_date(market)), 0.25)
    grid_strike = strike * PRODUCT_SIZE[underlying]   # XSP lists in its own points
    if not on_grid(market.spot * PRODUCT_SIZE[underlying], grid_strike, days, underlying, expiry.cycle,
                   market.vix):
        raise ValueError(f"{strike:g} is not a listed {expiry.root} strike for {expiry.day:%d %b %Y}")


def vix_future_on(market: MarketState, expiry: date) -> float:
    """The model VIX future of an expiry (the same proxy the hedge layers use)."""
    asof = market_date(market)
    return float(futures_proxy(market.term, np.array([(expiry - asof).days], float), market.vvix)[0])


# --- applying edits ---------------------------------------------------------------------------

def edited_condor(market: MarketState, tier_condor: IronCondor, edits: PositionEdits, vol_model,
                  fill_share: float) -> IronCondor:
    """The tier's condor with the edited strikes and expiry (checked against the listings)."""
    underlying = tier_condor.underlying
    expiry = (listed_spx_expiry(market, edits.expiry, underlying) if edits.expiry is not None
              else tier_condor.expiry)
    if expiry is None:
        raise ValueError("the condor has no listed expiry to edit")
    strikes = edits.strikes if edits.strikes is not None else tuple(leg.strike for leg in tier_condor.legs)
    for k in strikes:
        check_spx_strike(market, k, expiry, underlying)
    days = max(expiry.years_from(market_date(market)), 0.25)
    condor = condor_from_strikes(market, days, *strikes, vol_model=vol_model, fill_share=fill_share)
    return replace(condor, expiry=expiry, underlying=underlying)


def with_limit(condor: IronCondor, limit: float) -> IronCondor:
    """The condor filled at a typed net credit (product points): the fill is
    whatever the limit gives up from the legs' mid."""
    widest = max(condor.put_width, condor.call_width) * condor.size
    if not (np.isfinite(limit) and 0 < limit < widest):
        raise ValueError(f"a condor's net limit credit is above 0 and below its widest wing ({widest:g} points)")
    return replace(condor, fill_cost=condor.mid_credit - float(limit) / condor.size)


def added_layer(market: MarketState, legs: tuple[AddedLeg, ...], vol_model, call_skew: float) -> HedgeLayer:
    """The added legs as one hedge layer (one 'contract' of it; each leg's quantity is its count)."""
    asof = market_date(market)
    listed_vix = vix_expiries(market)
    priced: list[HedgeLeg] = []
    for leg in legs:
        if leg.underlying == "VIX":
            if leg.expiry not in listed_vix:
                raise ValueError(f"{leg.expiry:%d %b %Y} is not a listed VIX expiry; listed: "
                                 + ", ".join(f"{d:%d %b}" for d in listed_vix[:4]) + " …")
            future = vix_future_on(market, leg.expiry)
            listed, rule = vix_strikes_for(asof, leg.expiry)
            if not np.any(np.abs(listed - leg.strike) < 1e-9):
                raise ValueError(f"{leg.strike:g} is not a VIX strike listed on {asof:%d %b %Y} for "
                                 f"{leg.expiry:%d %b %Y} ({rule})")
            priced.append(replace(vix_call_leg(leg.side, leg.strike, leg.expiry, asof, market, future, call_skew,
                                               leg.quantity), held=True))
        else:
            expiry = listed_spx_expiry(market, leg.expiry)
            check_spx_strike(market, leg.strike, expiry)
            days = max(expiry.years_from(asof), 0.25)
            forward = float(market.forward(days))
            iv = float(vol_model.implied_vol(np.array([leg.strike]), forward, days)[0])
            price, delta, gamma, vega, theta = bsm_one(float(market.spot), leg.strike, days / 365.0,
                                                       float(market.rate), float(market.div), iv, False)
            priced.append(HedgeLeg(kind="put", side=leg.side, strike=leg.strike, days=days, iv=iv, price=price,
                                   delta=delta, gamma=gamma, vega=vega, theta=theta, quantity=leg.quantity,
                                   underlying="SPX", forward=forward, expiry=expiry.day.isoformat(), held=True))
    label = "; ".join(leg.label for leg in legs)
    return HedgeLayer(ADDED_LAYER, label, "held", tuple(priced), 1, 1.0, 0.0, True, "your own legs, held to expiry")


def edited_hedge(plan: HedgePlan, market: MarketState, edits: PositionEdits, vol_model, call_skew: float) -> HedgePlan:
    """The hedge with the layers left out switched off and the added legs as one more layer."""
    if not edits.layers_off and not edits.added:
        return plan
    off = {LAYER_CODES[c] for c in edits.layers_off}
    layers = tuple(replace(layer, active=False, contracts=0, note="left out by you") if layer.name in off else layer
                   for layer in plan.layers)
    if edits.added:
        layers = layers + (added_layer(market, edits.added, vol_model, call_skew),)
    notes = plan.notes + ((f"Left out: {', '.join(sorted(off))}.",) if off else ())
    return replace(plan, layers=layers, notes=notes)
