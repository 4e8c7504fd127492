"""Live market data: the only module that touches the network.

Sources: one batched yfinance request for the Yahoo tickers below, and
Cboe's CDN CSVs (``<SYMBOL>_History.csv``) as the second live source for
the VIX family and the Cboe strategy indexes.  yfinance is imported lazily,
inside the one function that calls it.

Failures are expected, not exceptional: every fetch returns a
:class:`FetchResult` whose ``status`` says what happened (``ok``,
``partial``, ``empty``, ``rate_limited``, ``timeout``, ``network``,
``bad_format``, ``offline``) and whose ``message`` says it to a user.

:class:`SharedFetch` makes many sessions on one server cost one upstream
request: a process-wide lock, a TTL on successes (never on failures), a
minimum interval between upstream calls, and single flight (callers that
arrive while a request is running wait for it and share its result).
The last good download is kept on disk (``ALVH_CACHE_DIR``, default
``~/.cache/alvh-studio``) for when live data fails.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .history import HistoryFormatError, read_series_csv

#: Yahoo ticker -> panel column.
YAHOO_TICKERS = {
    "^GSPC": "spx", "^VIX": "vix", "^VIX9D": "vix9d", "^VIX3M": "vix3m", "^VIX6M": "vix6m",
    "^VVIX": "vvix", "^IRX": "irx", "RSP": "rsp", "SPY": "spy",
}
CBOE_URL = "https://cdn.cboe.com/api/global/us_indices/daily_prices/{symbol}_History.csv"
#: Cboe symbol -> panel column (VIX family) or strategy index.
CBOE_SYMBOLS = {"VIX": "vix", "VIX9D": "vix9d", "VIX3M": "vix3m", "VIX6M": "vix6m", "VVIX": "vvix",
                "CNDR": "cndr", "VXTH": "vxth", "PUT": "put", "BXM": "bxm"}
DEFAULT_TIMEOUT = 6.0
MIN_INTERVAL = 2.0          # seconds between upstream calls of one kind
HISTORY_TTL = 6 * 3600.0    # seconds
QUOTE_TTL = 15 * 60.0
CHAIN_TTL = 30 * 60.0
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class FetchResult:
    status: str                       # ok, partial, empty, rate_limited, timeout, network, bad_format, offline
    frame: pd.DataFrame | None = None
    message: str = ""
    source: str = "live"
    fetched_at: str = ""              # ISO time (UTC) of the download
    missing: tuple[str, ...] = ()     # columns that came back empty

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "partial") and self.frame is not None and not self.frame.empty


def offline_requested() -> bool:
    """``ALVH_OFFLINE=1`` turns every live source off (no request is made)."""
    return os.environ.get("ALVH_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


# --- normalising yfinance frames ----------------------------------------------

def normalise_yahoo(frame: pd.DataFrame, tickers: dict[str, str] | None = None) -> pd.DataFrame:
    """yfinance's download to one clean panel of closes.

    Handles both column layouts of ``yf.download`` (field first or ticker
    first in a MultiIndex) and single-level columns for one ticker; makes
    dates tz-naive session dates; floats; sorted; duplicates dropped; rows
    with no value at all dropped.  Columns are named by ``tickers``.
    """
    tickers = tickers or YAHOO_TICKERS
    if frame is None or frame.empty:
        return pd.DataFrame()
    if isinstance(frame.columns, pd.MultiIndex):
        levels = [set(map(str, frame.columns.get_level_values(i))) for i in range(frame.columns.nlevels)]
        field_level = next((i for i, lv in enumerate(levels) if "Close" in lv or "Adj Close" in lv), None)
        if field_level is None:
            return pd.DataFrame()
        name = "Close" if "Close" in levels[field_level] else "Adj Close"
        closes = frame.xs(name, axis=1, level=field_level)
    else:
        column = "Close" if "Close" in frame.columns else ("Adj Close" if "Adj Close" in frame.columns else None)
        if column is None:
            return pd.DataFrame()
        closes = frame[[column]].rename(columns={column: next(iter(tickers))})
    closes = closes.rename(columns={t: c for t, c in tickers.items()})
    closes = closes[[c for c in closes.columns if c in tickers.values()]]
    index = pd.DatetimeIndex(closes.index)
    if index.tz is not None:
        index = index.tz_convert("America/New_York").tz_localize(None)
    closes.index = index.normalize()
    closes = closes.apply(pd.to_numeric, errors="coerce").astype(float)
    closes = closes.where(closes > 0)
    closes = closes[~closes.index.duplicated(keep="last")].sort_index().dropna(how="all")
    closes.columns.name = None
    return closes


def _classify_exception(exc: BaseException) -> tuple[str, str]:
    name = exc.__class__.__name__
    text = str(exc)
    if name == "YFRateLimitError" or "Too Many Requests" in text or "rate limit" in text.lower() or "YFRateLimit" in text:
        return "rate_limited", "Yahoo is rate-limiting requests; using the last good data. Try again in a few minutes."
    if isinstance(exc, TimeoutError) or "timed out" in text.lower() or "Timeout" in name:
        return "timeout", "Yahoo did not answer in time; using the last good data."
    if isinstance(exc, (OSError, ConnectionError)) or "Connection" in name or "resolve" in text.lower():
        return "network", "No connection to Yahoo; using the last good data."
    return "network", f"Yahoo request failed ({name}); using the last good data."


class YahooError(ConnectionError):
    """yfinance logged failures and returned nothing; the text says why."""


def yahoo_download(tickers: list[str], period: str = "2y", timeout: float = DEFAULT_TIMEOUT) -> pd.DataFrame:
    """The real call: one batched ``yf.download`` (imported here, lazily).

    yfinance reports failures by logging and printing, then returns an empty
    frame; its output is captured here (so the terminal and the logs stay
    clean) and an empty result with logged errors becomes a ``YahooError``.
    """
    import yfinance as yf

    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    logger = logging.getLogger("yfinance")
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            frame = yf.download(tickers=tickers, period=period, interval="1d", auto_adjust=False, actions=False,
                                progress=False, threads=False, group_by="column", timeout=timeout)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
    text = captured.getvalue()
    if (frame is None or frame.empty or frame.isna().all().all()) and text.strip():
        raise YahooError(text.strip().splitlines()[-1][:300] + (" (rate limit)" if "Rate" in text else ""))
    return frame


def fetch_yahoo_history(period: str = "2y", downloader: Callable[..., pd.DataFrame] | None = None,
                        timeout: float = DEFAULT_TIMEOUT) -> FetchResult:
    """Daily closes of every Yahoo ticker in one request, as a typed outcome."""
    if offline_requested():
        return FetchResult("offline", message="Offline mode (ALVH_OFFLINE): live data is off.")
    download = downloader or yahoo_download
    try:
        raw = download(list(YAHOO_TICKERS), period=period, timeout=timeout)
    except Exception as exc:  # yfinance raises many kinds; each becomes an outcome
        status, message = _classify_exception(exc)
        return FetchResult(status, message=message)
    try:
        panel = normalise_yahoo(raw)
    except (KeyError, ValueError, TypeError) as exc:
        return FetchResult("bad_format", message=f"Yahoo returned an unexpected layout ({exc.__class__.__name__}).")
    if panel.empty or "vix" not in panel or panel["vix"].dropna().empty:
        return FetchResult("empty", message="Yahoo returned no data; using the last good data.")
    missing = tuple(c for c in YAHOO_TICKERS.values() if c not in panel or panel[c].dropna().empty)
    status = "partial" if missing else "ok"
    message = f"Yahoo sent no data for {', '.join(missing)}." if missing else ""
    return FetchResult(status, panel, message, "live", _now(), missing)


# --- Cboe CDN -------------------------------------------------------------------

def cboe_get(url: str, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """The real call: one HTTP GET of a Cboe CSV, size-capped."""
    request = urllib.request.Request(url, headers={"User-Agent": "alvh-studio"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (fixed https host)
        return response.read(MAX_DOWNLOAD_BYTES + 1)


def fetch_cboe_series(symbol: str, getter: Callable[[str, float], bytes] | None = None,
                      timeout: float = DEFAULT_TIMEOUT) -> FetchResult:
    """One Cboe ``<SYMBOL>_History.csv`` as a one-column frame."""
    if symbol not in CBOE_SYMBOLS:
        raise ValueError(f"unknown Cboe symbol {symbol!r}")
    if offline_requested():
        return FetchResult("offline", message="Offline mode (ALVH_OFFLINE): live data is off.")
    get = getter or cboe_get
    try:
        body = get(CBOE_URL.format(symbol=symbol), timeout)
    except urllib.error.HTTPError as exc:
        status = "rate_limited" if exc.code == 429 else "network"
        return FetchResult(status, message=f"Cboe answered HTTP {exc.code} for {symbol}.")
    except Exception as exc:
        status, _ = _classify_exception(exc)
        return FetchResult(status, message=f"Cboe could not be reached for {symbol} ({exc.__class__.__name__}).")
    if len(body) > MAX_DOWNLOAD_BYTES:
        return FetchResult("bad_format", message=f"Cboe's {symbol} file is larger than expected; ignored.")
    head = body[:200].lstrip().lower()
    if head.startswith(b"<") or b"<html" in head:
        return FetchResult("bad_format", message=f"Cboe sent a web page, not the {symbol} CSV.")
    try:
        series, problems = read_series_csv(body, f"{symbol}_History.csv (Cboe)")
    except HistoryFormatError as exc:
        return FetchResult("bad_format", message=str(exc))
    frame = series.to_frame(CBOE_SYMBOLS[symbol])
    note = f"{len(problems)} bad row(s) skipped" if problems else ""
    return FetchResult("ok", frame, note, "live", _now())


def fetch_cboe_vix_family(getter=None, timeout: float = DEFAULT_TIMEOUT) -> FetchResult:
    """VIX, VIX9D, VIX3M, VIX6M and VVIX from Cboe, merged into one panel."""
    parts, failures = [], []
    for symbol in ("VIX", "VIX9D", "VIX3M", "VIX6M", "VVIX"):
        result = fetch_cboe_series(symbol, getter, timeout)
        if result.ok:
            parts.append(result.frame)
        else:
            failures.append(result)
            if result.status in ("offline", "network", "timeout") and symbol == "VIX":
                return FetchResult(result.status, message=result.message)
    if not parts or all("vix" not in p for p in parts):
        return FetchResult("empty", message="Cboe sent no VIX history.")
    panel = pd.concat(parts, axis=1).sort_index()
    missing = tuple(CBOE_SYMBOLS[s] for s in ("VIX9D", "VIX3M", "VIX6M", "VVIX") if CBOE_SYMBOLS[s] not in panel)
    return FetchResult("partial" if missing else "ok", panel, "; ".join(f.message for f in failures), "live",
                       _now(), missing)


def fetch_live_panel(downloader=None, getter=None, period: str = "2y",
                     timeout: float = DEFAULT_TIMEOUT) -> FetchResult:
    """Yahoo first; when it fails, the VIX family from Cboe's CDN (no SPX,
    rate or breadth there: the result says so in ``missing``)."""
    yahoo = fetch_yahoo_history(period, downloader, timeout)
    if yahoo.ok or yahoo.status == "offline":
        return yahoo
    cboe = fetch_cboe_vix_family(getter, timeout)
    if not cboe.ok:
        return FetchResult(yahoo.status, message=f"{yahoo.message} Cboe: {cboe.message}")
    missing = tuple(dict.fromkeys(cboe.missing + ("spx", "irx", "rsp", "spy")))
    return FetchResult("partial", cboe.frame, f"{yahoo.message} VIX family from Cboe instead.", "live",
                       cboe.fetched_at, missing)


# --- option chain ---------------------------------------------------------------

def yahoo_chain(expiries: int = 2) -> dict:
    """The real call: ``^SPX`` option chains for the nearest expiries."""
    import yfinance as yf

    ticker = yf.Ticker("^SPX")
    out = {}
    for expiry in list(ticker.options)[:expiries]:
        chain = ticker.option_chain(expiry)
        out[expiry] = (chain.calls, chain.puts)
    return out


def fetch_spx_chain(expiries: int = 2, getter: Callable[[int], dict] | None = None) -> FetchResult:
    """``^SPX`` calls and puts (strike, bid, ask, mid, iv, kind, expiry)."""
    if offline_requested():
        return FetchResult("offline", message="Offline mode (ALVH_OFFLINE): live data is off.")
    try:
        raw = (getter or yahoo_chain)(expiries)
    except Exception as exc:
        status, message = _classify_exception(exc)
        return FetchResult(status, message=message.replace("the last good data", "model prices"))
    rows = []
    for expiry, (calls, puts) in raw.items():
        for kind, table in (("call", calls), ("put", puts)):
            if table is None or table.empty or not {"strike", "bid", "ask"} <= set(table.columns):
                continue
            part = table[["strike", "bid", "ask"] + (["impliedVolatility"] if "impliedVolatility" in table else [])].copy()
            part["kind"], part["expiry"] = kind, pd.Timestamp(expiry)
            rows.append(part)
    if not rows:
        return FetchResult("empty", message="Yahoo sent no SPX option quotes; using model prices.")
    frame = pd.concat(rows, ignore_index=True).rename(columns={"impliedVolatility": "iv"})
    frame[["strike", "bid", "ask"]] = frame[["strike", "bid", "ask"]].apply(pd.to_numeric, errors="coerce")
    frame = frame[(frame["bid"] > 0) & (frame["ask"] >= frame["bid"])]
    frame["mid"] = 0.5 * (frame["bid"] + frame["ask"])
    if frame.empty:
        return FetchResult("empty", message="No two-sided SPX quotes (market closed?); using model prices.")
    return FetchResult("ok", frame.reset_index(drop=True), "", "live", _now())


# --- sharing one request among many sessions -------------------------------------

@dataclass
class SharedFetch:
    """TTL cache + single flight + minimum interval around one fetch function.

    ``get()`` returns the cached success while it is fresh; otherwise one
    caller runs the fetch while the others wait for its result.  Failures are
    returned to the callers of that flight but never cached; a new attempt is
    not made sooner than ``min_interval`` after the previous one (callers in
    between get the last outcome).
    """

    fetch: Callable[[], FetchResult]
    ttl: float = HISTORY_TTL
    min_interval: float = MIN_INTERVAL
    clock: Callable[[], float] = time.monotonic
    upstream_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _good: FetchResult | None = field(default=None, repr=False)
    _good_at: float = field(default=-np.inf, repr=False)
    _last: FetchResult | None = field(default=None, repr=False)
    _last_at: float = field(default=-np.inf, repr=False)

    def get(self) -> FetchResult:
        with self._lock:  # one flight at a time; waiters then see its result
            now = self.clock()
            if self._good is not None and now - self._good_at < self.ttl:
                return self._good
            if self._last is not None and now - self._last_at < self.min_interval:
                return self._last
            self.upstream_calls += 1
            result = self.fetch()
            self._last, self._last_at = result, self.clock()
            if result.ok:
                self._good, self._good_at = result, self._last_at
            return result

    def clear(self) -> None:
        with self._lock:
            self._good, self._last = None, None
            self._good_at = self._last_at = -np.inf


# --- the last good copy on disk ----------------------------------------------------

def cache_dir() -> Path:
    configured = os.environ.get("ALVH_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "alvh-studio"


def save_last_good(name: str, result: FetchResult, folder: Path | None = None) -> Path | None:
    """Write a successful download to ``<cache>/<name>.csv`` (+ .json meta).

    Returns the path, or None when the folder cannot be written (the app
    keeps working without a disk cache).
    """
    if not result.ok:
        return None
    folder = folder or cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}.csv"
        tmp = target.with_suffix(".tmp")
        result.frame.to_csv(tmp, index_label="date", date_format="%Y-%m-%d")
        tmp.replace(target)
        (folder / f"{name}.json").write_text(json.dumps({"fetched_at": result.fetched_at, "status": result.status}))
        return target
    except OSError:
        return None


def load_last_good(name: str, folder: Path | None = None) -> FetchResult:
    """The last good copy as a ``cache`` result (status ``empty`` if none)."""
    folder = folder or cache_dir()
    path = folder / f"{name}.csv"
    if not path.is_file():
        return FetchResult("empty", message="no saved copy yet", source="cache")
    try:
        frame = pd.read_csv(path, index_col="date")
        meta = json.loads((folder / f"{name}.json").read_text()) if (folder / f"{name}.json").is_file() else {}
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return FetchResult("bad_format", message=f"the saved copy {path} is unreadable", source="cache")
    frame.index = pd.to_datetime(frame.index, format="%Y-%m-%d", errors="coerce")
    frame = frame[frame.index.notna()].apply(pd.to_numeric, errors="coerce")
    frame = frame.where(frame > 0).dropna(how="all").sort_index()
    frame.index.name = "date"
    if frame.empty or "vix" not in frame or frame["vix"].dropna().empty:
        return FetchResult("empty", message="the saved copy has no usable rows", source="cache")
    return FetchResult("ok", frame, "", "cache", str(meta.get("fetched_at", "")))
