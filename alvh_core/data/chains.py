"""Reading SPX option chains in Cboe's "delayed quotes" layout.

Cboe's ``spx_quotedata.csv`` has two preamble lines (the underlying and the
quote time), then a header, then one row per strike and expiry with the call
on the left and the put on the right (the put columns repeat the call
names, so they are read by position).  This module turns such a file into a
tidy frame and derives, per expiry, the forward and discount factor implied
by put–call parity, and implied vols recomputed from bid/ask mids.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from alvh_core.data.files import UnsafeFileError, find_inside, read_bytes
from alvh_core.model.pricing import DAYS_PER_YEAR, implied_vol_black

_COLUMNS = [
    "expiration", "call_symbol", "call_last", "call_net", "call_bid", "call_ask", "call_volume",
    "call_iv", "call_delta", "call_gamma", "call_oi", "strike",
    "put_symbol", "put_last", "put_net", "put_bid", "put_ask", "put_volume",
    "put_iv", "put_delta", "put_gamma", "put_oi",
]


class ChainFormatError(ValueError):
    """The file is not a Cboe quote-data chain; the message says why."""


@dataclass(frozen=True)
class OptionChain:
    """One day's chain: quotes, the quote date, and the spot Cboe printed."""

    quote_date: date
    spot: float
    quotes: pd.DataFrame  # one row per (expiration, strike): bids, asks, mids, days
    rows: pd.DataFrame | None = None   # every row as in the file (SPX and SPXW apart), with its root


_DATE_PATTERNS = ("%B %d, %Y", "%B %d %Y")


def _parse_quote_date(line: str) -> date:
    match = re.search(r"Date:\s*([A-Za-z]+ \d{1,2},? \d{4})", line)
    if not match:
        raise ChainFormatError(f"line 2 has no 'Date: Month D, YYYY': {line[:80]!r}")
    text = match.group(1)
    for fmt in _DATE_PATTERNS:
        try:
            stamped = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        # A download made at a weekend shows Friday's close: date it Friday.
        return stamped - timedelta(days=max(0, stamped.weekday() - 4))
    raise ChainFormatError(f"cannot read the quote date {text!r}")


def parse_cboe_chain(content: bytes | str, name: str = "the chain") -> OptionChain:
    """Parse the text of a Cboe ``spx_quotedata.csv`` (an upload's bytes, or text).

    Content is only ever parsed: whatever it says, no file is opened."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ChainFormatError(f"{name}: not a Cboe chain (not UTF-8 text)") from None
    if not isinstance(content, str):
        raise TypeError("parse_cboe_chain takes the chain's text or bytes")
    return _parse_chain_text(content.removeprefix("\ufeff"), name)


def read_cboe_chain_file(path: Path) -> OptionChain:
    """Read a chain file the operator named (the command line, a data folder's ``chains/`` found by
    :func:`chain_on`): only a regular file, at most :data:`~alvh_core.data.files.MAX_DATA_FILE_BYTES`;
    otherwise ``ChainFormatError``."""
    try:
        raw = read_bytes(Path(path))
    except UnsafeFileError as exc:
        raise ChainFormatError(str(exc)) from None
    return parse_cboe_chain(raw, Path(path).name)


def _parse_chain_text(text: str, name: str) -> OptionChain:
    lines = text.splitlines()
    # Some downloads start with a blank line; the header row anchors the layout.
    header_at = next((i for i, line in enumerate(lines[:10]) if line.startswith("Expiration Date,")), None)
    if header_at is None or header_at < 2:
        raise ChainFormatError(f"{name}: not a Cboe chain (no 'Expiration Date,...' header in the first lines)")
    spot_match = re.search(r"Last:\s*([0-9.]+)", lines[header_at - 2])
    if not spot_match:
        raise ChainFormatError(f"{name}: line {header_at - 1} has no 'Last: <spot>'")
    spot = float(spot_match.group(1))
    quote_date = _parse_quote_date(lines[header_at - 1])
    try:
        frame = pd.read_csv(io.StringIO("\n".join(lines[header_at + 1:])), header=None, names=_COLUMNS)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ChainFormatError(f"{name}: the quote rows cannot be read ({exc.__class__.__name__})") from None
    frame["expiration"] = pd.to_datetime(frame["expiration"], format="%a %b %d %Y", errors="coerce")
    frame = frame.dropna(subset=["expiration", "strike"])
    numeric = [c for c in _COLUMNS if c not in ("expiration", "call_symbol", "put_symbol")]
    frame[numeric] = frame[numeric].apply(pd.to_numeric, errors="coerce")
    frame["days"] = (frame["expiration"] - pd.Timestamp(quote_date)).dt.days
    frame["call_mid"] = 0.5 * (frame["call_bid"] + frame["call_ask"])
    frame["put_mid"] = 0.5 * (frame["put_bid"] + frame["put_ask"])
    frame["root"] = frame["call_symbol"].astype(str).str.extract(r"^([A-Z]+?)\d", expand=False).fillna("SPX")
    rows = frame.copy()
    # SPXW and SPX can share an expiry date (PM and AM settlement): keep the
    # row with the tighter call+put spread for each (expiry, strike).
    frame["spread"] = (frame["call_ask"] - frame["call_bid"]) + (frame["put_ask"] - frame["put_bid"])
    frame = (frame.sort_values("spread").drop_duplicates(["expiration", "strike"])
             .sort_values(["expiration", "strike"]).reset_index(drop=True))
    return OptionChain(quote_date=quote_date, spot=spot, quotes=frame, rows=rows)


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


def chain_on(folder: Path, day: str) -> Path | None:
    """The chain file of ``day`` (YYYY-MM-DD) in a data folder's ``chains``, if there is one (a regular
    file inside the folder)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(day)):
        return None
    return find_inside(Path(folder), "chains", f"spx_quotedata_{day}.csv")
