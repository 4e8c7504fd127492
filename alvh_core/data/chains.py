"""Reading SPX option chains in Cboe's "delayed quotes" layout.

Cboe's ``spx_quotedata.csv`` has two preamble lines (the underlying and the
quote time), then a header, then one row per strike and expiry with the call
on the left and the put on the right (the put columns repeat the call
names, so they are read by position).  This module turns such a file into a
tidy frame; :mod:`alvh_core.model.chain_smile` derives, per expiry, the forward
and discount implied by put–call parity and implied vols from bid/ask mids.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from alvh_core.data.files import UnsafeFileError, find_inside, read_bytes

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


def chain_on(folder: Path, day: str) -> Path | None:
    """The chain file of ``day`` (YYYY-MM-DD) in a data folder's ``chains``, if there is one (a regular
    file inside the folder)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(day)):
        return None
    return find_inside(Path(folder), "chains", f"spx_quotedata_{day}.csv")
