"""The smile a Cboe chain's quotes imply: per expiry, the forward and discount factor from
put–call parity and implied vols recomputed from bid/ask mids; the dividend yield the forwards imply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from alvh_core.data.chains import ChainFormatError, OptionChain
from alvh_core.model.pricing import DAYS_PER_YEAR, implied_vol_black


@dataclass(frozen=True)
class ExpirySlice:
    """One expiry's parity-implied forward and discount, and OTM mid IVs."""

    expiration: date
    days: int
    forward: float
    discount: float
    strikes: np.ndarray
    ivs: np.ndarray         # implied vols (decimals) from OTM mids
    is_call: np.ndarray     # True where the OTM option used is a call
    half_spreads: np.ndarray  # half bid/ask spread of that option, index points


def parity_forward(strikes: np.ndarray, call_mid: np.ndarray, put_mid: np.ndarray, spot: float) -> tuple[float, float]:
    """Forward and discount factor from C − P = D·(F − K) near the money.

    A least-squares line through the strikes within 3 % of spot whose call
    and put both have two-sided quotes.
    """
    near = np.abs(strikes / spot - 1) < 0.03
    ok = near & np.isfinite(call_mid) & np.isfinite(put_mid) & (call_mid > 0) & (put_mid > 0)
    if ok.sum() < 3:
        raise ChainFormatError("fewer than three two-sided strikes near the money")
    slope, intercept = np.polyfit(strikes[ok], call_mid[ok] - put_mid[ok], 1)
    discount = -slope
    if not 0.5 < discount <= 1.01:
        raise ChainFormatError(f"parity gives an implausible discount factor {discount:.4f}")
    return float(intercept / discount), float(min(discount, 1.0))


def expiry_slices(chain: OptionChain, min_days: int = 1, max_days: int = 400) -> list[ExpirySlice]:
    """Per-expiry forwards and OTM implied vols recomputed from mids.

    Only options with a positive bid are used (a zero bid has no reliable
    mid).  Puts below the forward and calls above it.
    """
    out = []
    for expiration, group in chain.quotes.groupby("expiration"):
        days = int(group["days"].iloc[0])
        if days < min_days or days > max_days:
            continue
        strikes = group["strike"].to_numpy(float)
        try:
            forward, discount = parity_forward(strikes, group["call_mid"].to_numpy(float),
                                               group["put_mid"].to_numpy(float), chain.spot)
        except ChainFormatError:
            continue
        use_call = strikes >= forward
        bid = np.where(use_call, group["call_bid"], group["put_bid"]).astype(float)
        ask = np.where(use_call, group["call_ask"], group["put_ask"]).astype(float)
        mid = 0.5 * (bid + ask)
        good = (bid > 0) & (ask >= bid)
        years = days / DAYS_PER_YEAR
        ivs = implied_vol_black(mid[good], forward, strikes[good], years, discount, use_call[good])
        keep = (ivs > 0.005) & (ivs < 3.0)
        out.append(ExpirySlice(
            expiration=pd.Timestamp(expiration).date(), days=days, forward=forward, discount=discount,
            strikes=strikes[good][keep], ivs=ivs[keep], is_call=use_call[good][keep],
            half_spreads=0.5 * (ask - bid)[good][keep],
        ))
    return out


def chain_carry(chain: OptionChain, rate: float) -> float:
    """The SPX dividend yield (decimal, continuous) implied by the chain's parity
    forwards at ``rate``: ln F(T) = ln S* + (r − q)·T fitted over the expiries
    of 7–200 days, so a spot stamped a few minutes off the options' close
    (S* ≠ the quoted spot) does not leak into q."""
    slices = expiry_slices(chain, 7, 200)
    if len(slices) < 3:
        raise ChainFormatError("fewer than three expiries of 7-200 days for a parity-implied carry")
    years = np.array([s.days / DAYS_PER_YEAR for s in slices])
    slope, _ = np.polyfit(years, np.log([s.forward for s in slices]), 1)
    return float(rate - slope)
