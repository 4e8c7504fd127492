"""Live market data: the only module that touches the network.

Sources: one batched yfinance request for the Yahoo tickers below, and
Cboe's CDN CSVs (``<SYMBOL>_History.csv``) as the second live source for
the VIX family and the Cboe strategy indexes.  yfinance is imported lazily,
inside the one function that calls it.

Failures are expected, not exceptional: every fetch returns a
:class:`FetchResult` whose ``status`` says what happened (``ok``,
``partial``, ``empty``, ``rate_limited``, ``timeout``, ``network``,
``bad_format``, ``offline``) and whose ``message`` says it to a user.

:class:`LiveMarket` makes many sessions on one server cost one upstream
request per TTL, and keeps every page off the network: downloads run in a
background thread, sessions read whatever the process holds, and a failed
source is backed off (one minute, then longer) instead of being retried by
every rerun.
The last good download is kept on disk (``ALVH_CACHE_DIR``, default
``~/.cache/alvh-studio``) for when live data fails.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import stat
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from alvh_core.data.closes import (
    PLAUSIBLE,
    HistoryFormatError,
    implausible_to_nan,
    plausible_levels,
    read_panel_csv,
    read_series_csv,
)
from alvh_core.data.files import UnsafeFileError, read_small_json, set_aside

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
HISTORY_TTL = 6 * 3600.0    # seconds (ALVH_HISTORY_TTL overrides, for a server that wants it otherwise)
QUOTE_TTL = 15 * 60.0       # (ALVH_QUOTE_TTL)
CHAIN_TTL = 5 * 60.0       # one expiry of Yahoo's ^SPX chain, fetched when a page asks for it
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class FetchResult:
    status: str                       # ok, partial, empty, rate_limited, timeout, network, bad_format, offline
    frame: pd.DataFrame | None = None
    message: str = ""
    source: str = "live"
    fetched_at: str = ""              # ISO time (UTC) of the download
    missing: tuple[str, ...] = ()     # columns that came back empty
    origin: str = ""                  # "" = this process downloaded it; else who did (for the badge)

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "partial") and self.frame is not None and not self.frame.empty


def offline_requested() -> bool:
    """``ALVH_OFFLINE=1`` turns every live source off (no request is made)."""
    return os.environ.get("ALVH_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def ttl_from_env(name: str, default: float) -> float:
    """A feed's TTL, seconds: ``default`` unless the environment sets ``name`` (5 s to a week)."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return min(max(value, 5.0), 7 * 86400.0) if np.isfinite(value) else default


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
    closes = implausible_to_nan(closes.where(closes > 0))
    closes = closes[~closes.index.duplicated(keep="last")].sort_index().dropna(how="all")
    closes.columns.name = None
    return closes


def _classify_exception(exc: BaseException) -> tuple[str, str]:
    name = exc.__class__.__name__
    text = str(exc)
    if name == "YFRateLimitError" or "Too Many Requests" in text or "rate limit" in text.lower() or "YFRateLimit" in text:
        return "rate_limited", "Yahoo is rate-limiting requests."
    if isinstance(exc, TimeoutError) or "timed out" in text.lower() or "Timeout" in name:
        return "timeout", "Yahoo did not answer in time."
    if isinstance(exc, (OSError, ConnectionError)) or "Connection" in name or "resolve" in text.lower():
        return "network", "No connection to Yahoo."
    return "network", f"Yahoo request failed ({name})."


class YahooError(ConnectionError):
    """yfinance logged failures and returned nothing; the text says why."""


def yahoo_download(tickers: list[str], period: str = "2y", timeout: float = DEFAULT_TIMEOUT) -> pd.DataFrame:
    """The real call: one batched ``yf.download`` (imported here, lazily).

    yfinance reports failures by logging and printing, then returns an empty
    frame; its output is captured here (so the terminal and the logs stay
    clean) and an empty result with logged errors becomes a ``YahooError``.
    """
    stub = os.environ.get("ALVH_UPSTREAM_STUB", "").strip()
    if stub:
        return _stub_download(Path(stub), tickers, period)
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


def _stub_download(folder: Path, tickers: list[str], period: str) -> pd.DataFrame:
    """A stand-in for Yahoo (``ALVH_UPSTREAM_STUB=<folder>``, for load tests): ``panel.csv`` in the folder
    (date plus panel columns) served in yfinance's layout after a network-like pause, and every request
    written as one line to ``requests.log`` there, so a test can count what reached "upstream"."""
    with open(folder / "requests.log", "a", encoding="utf-8") as log:   # one short line: appends stay whole
        log.write(f"{time.time():.3f} {os.getpid()} {period}\n")
    time.sleep(0.3)
    panel = pd.read_csv(folder / "panel.csv", index_col=0, parse_dates=True)
    if period == "5d":
        panel = panel.tail(5)
    columns = {c: t for t, c in YAHOO_TICKERS.items()}
    closes = panel[[c for c in panel.columns if c in columns]].rename(columns=columns)
    closes.columns = pd.MultiIndex.from_product([["Close"], closes.columns], names=["Price", "Ticker"])
    return closes


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
        return FetchResult("empty", message="Yahoo returned no data.")
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
        series, problems = read_series_csv(body, f"{symbol}_History.csv (Cboe)", CBOE_SYMBOLS[symbol])
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

def yahoo_chain(expiries: int = 2, wanted: tuple[str, ...] = ()) -> dict:
    """The real call: ``^SPX`` option chains for the nearest expiries, or for the
    ``wanted`` ones (ISO dates) that Yahoo lists."""
    import yfinance as yf

    ticker = yf.Ticker("^SPX")
    listed = list(ticker.options)
    out = {}
    for expiry in ([e for e in listed if e in wanted] if wanted else listed[:expiries]):
        chain = ticker.option_chain(expiry)
        out[expiry] = (chain.calls, chain.puts)
    return out


def fetch_spx_chain(expiries: int = 2, getter: Callable[[int], dict] | None = None,
                    wanted: tuple[str, ...] = ()) -> FetchResult:
    """``^SPX`` calls and puts (strike, bid, ask, mid, iv, kind, expiry, root); ``wanted``
    names the expiries (ISO dates) to fetch instead of the nearest ``expiries``."""
    if offline_requested():
        return FetchResult("offline", message="Offline mode (ALVH_OFFLINE): live data is off.")
    try:
        raw = (getter or (lambda n: yahoo_chain(n, wanted)))(expiries)
    except Exception as exc:
        status, message = _classify_exception(exc)
        return FetchResult(status, message=f"{message} Using model prices.")
    rows = []
    for expiry, (calls, puts) in raw.items():
        for kind, table in (("call", calls), ("put", puts)):
            if table is None or table.empty or not {"strike", "bid", "ask"} <= set(table.columns):
                continue
            part = table[["strike", "bid", "ask"] + (["impliedVolatility"] if "impliedVolatility" in table else [])].copy()
            part["kind"], part["expiry"] = kind, pd.Timestamp(expiry)
            # SPX (A.M. monthlies) and SPXW (P.M.) share dates: the contract symbol tells them apart.
            part["root"] = (table["contractSymbol"].astype(str).str.extract(r"^([A-Z]+?)\d", expand=False)
                            .fillna("SPX") if "contractSymbol" in table else "SPX")
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


# --- live data in the background, shared by every session of a process ------------

#: Seconds to wait before trying a failed source again: one minute, then longer.
BACKOFF = (60.0, 120.0, 300.0, 600.0)
#: A fetch still running after this many seconds counts as failed (it may still finish later);
#: ALVH_FETCH_DEADLINE sets another for a server.
FETCH_DEADLINE = 25.0


def fetch_deadline() -> float:
    """The wall-clock cap on one live download, seconds (``ALVH_FETCH_DEADLINE``, 2-300)."""
    try:
        value = float(os.environ.get("ALVH_FETCH_DEADLINE", FETCH_DEADLINE))
    except ValueError:
        return FETCH_DEADLINE
    return min(max(value, 2.0), 300.0) if np.isfinite(value) else FETCH_DEADLINE


@dataclass(frozen=True)
class FeedStatus:
    """What a :class:`LiveFeed` holds right now.

    ``good`` is the last successful download (kept after its TTL until a new
    one arrives); ``failure`` the outcome of the latest attempt when it
    failed; ``retry_in`` seconds until the next attempt is allowed (0 when
    one may start now); ``version`` grows with every finished attempt.
    """

    good: FetchResult | None
    failure: FetchResult | None
    fetching: bool
    retry_in: float
    version: int
    fresh: bool


class LiveFeed:
    """One live source, refreshed in a background thread, shared by a process.

    Nobody waits on the network: :meth:`poke` starts a download when the
    last success is older than ``ttl`` (or there is none), no download is
    running and no back-off is in force, and returns at once; readers take
    :meth:`status`.  Many sessions poking at once start one download.  A
    failure is remembered and the source is not tried again for
    ``backoff[i]`` seconds (longer after each consecutive failure); a
    download running past ``deadline`` seconds is reported as timed out and
    backed off the same way, and no second one starts while it still runs.
    """

    def __init__(self, name: str, fetch: Callable[[], FetchResult], ttl: float,
                 backoff: tuple[float, ...] = BACKOFF, deadline: float = FETCH_DEADLINE,
                 clock: Callable[[], float] = time.monotonic,
                 on_success: Callable[[FetchResult], object] | None = None,
                 shared_file: Path | None = None, shared_copy: str | None = None) -> None:
        self.name, self.fetch, self.ttl, self.shared_file = name, fetch, ttl, shared_file
        #: The saved copy (in ``shared_file``'s folder) another process sharing it may have downloaded.
        self.shared_copy = shared_copy
        self.backoff, self.deadline, self.clock, self.on_success = backoff, deadline, clock, on_success
        self.upstream_calls = 0
        self._lock = threading.Lock()
        self._good: FetchResult | None = None
        self._good_at = -np.inf
        self._failure: FetchResult | None = None
        self._failures = 0
        self._retry_at = -np.inf
        self._thread: threading.Thread | None = None
        self._started_at = -np.inf
        self._overdue = False
        self._version = 0
        self._done = threading.Event()
        self._done.set()

    # the download itself, in its own thread
    def _shared_fresh(self) -> tuple[FetchResult, float] | None:
        """(the copy another process sharing the cache folder downloaded, its age in seconds) when it is
        younger than the TTL."""
        if self.shared_file is None or self.shared_copy is None:
            return None
        saved = load_last_good(self.shared_copy, self.shared_file.parent)
        try:
            age = time.time() - datetime.fromisoformat(saved.fetched_at).timestamp()
        except (TypeError, ValueError):
            return None
        if not saved.ok or not 0 <= age < self.ttl:
            return None
        when = datetime.fromisoformat(saved.fetched_at).astimezone(UTC).strftime("%H:%M UTC")
        note = f"Live data downloaded by another server process sharing the cache folder at {when}."
        return FetchResult("ok", saved.frame, note, "live", saved.fetched_at,
                           origin="another server process"), age

    def _run(self) -> None:
        age = 0.0
        with _folder_lock(self.shared_file, self.name):   # one download at a time among the processes
            shared = self._shared_fresh()
            if shared is not None:
                result, age = shared
                with self._lock:
                    self.upstream_calls -= 1   # counted when it started: this one never went upstream
            else:
                try:
                    result = self.fetch()
                except Exception as exc:  # a fetch function should not raise; if it does, it is a failure
                    result = FetchResult("network", message=f"{self.name}: {exc.__class__.__name__}")
                if result.ok and self.on_success is not None:
                    try:
                        self.on_success(result)
                    except Exception:  # saving a copy is a convenience, never a failure of the fetch
                        logging.getLogger(__name__).exception("saving the live copy failed")
        with self._lock:
            now = self.clock()
            if result.ok:
                self._good, self._good_at, self._failure, self._failures = result, now - age, None, 0
                self._retry_at = -np.inf
            elif not self._overdue:  # an overdue download was already counted as a failure
                self._fail(result, now)
            self._thread, self._overdue = None, False
            self._version += 1
            self._done.set()

    def _fail(self, result: FetchResult, now: float) -> None:
        self._failure = result
        wait = self.backoff[min(self._failures, len(self.backoff) - 1)]
        self._retry_at = now + wait
        self._failures += 1
        _write_backoff(self.shared_file, self.name, time.time() + wait, result)

    def _adopt_shared_backoff(self, now: float) -> bool:
        """Another server process sharing the cache folder saw this source
        fail: wait out its back-off too (True when one is in force)."""
        shared = _read_backoff(self.shared_file, self.name)
        if shared is None:
            return False
        until, result = shared
        left = until - time.time()
        if left <= 0:
            return False
        self._failure, self._retry_at = result, now + left
        return True

    def _check_deadline(self, now: float) -> None:
        if self._thread is not None and not self._overdue and now - self._started_at > self.deadline:
            self._overdue = True
            self._fail(FetchResult("timeout", message=f"{self.name} did not answer within {self.deadline:.0f} s."),
                       now)
            self._version += 1

    def poke(self) -> bool:
        """Start a background download if one is due; True when one started."""
        with self._lock:
            now = self.clock()
            self._check_deadline(now)
            if self._thread is not None:  # running (or overdue and still hanging): never two at once
                return False
            if self._good is not None and now - self._good_at < self.ttl:
                return False
            if now < self._retry_at or self._adopt_shared_backoff(now):
                return False
            self.upstream_calls += 1
            self._started_at = now
            self._done.clear()
            self._thread = threading.Thread(target=self._run, name=f"live-{self.name}", daemon=True)
            self._thread.start()
            return True

    def refresh(self) -> bool:
        """Fetch again now, whatever the TTL and back-off say (the user asked)."""
        with self._lock:
            self._good_at, self._retry_at = -np.inf, -np.inf
        _write_backoff(self.shared_file, self.name, 0.0, FetchResult("refresh"))
        return self.poke()

    def status(self) -> FeedStatus:
        with self._lock:
            now = self.clock()
            self._check_deadline(now)
            return FeedStatus(self._good, self._failure, self._thread is not None and not self._overdue,
                              max(0.0, self._retry_at - now) if self._failure is not None else 0.0,
                              self._version, self._good is not None and now - self._good_at < self.ttl)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the running download (if any) finishes; for tests and the command line."""
        return self._done.wait(timeout)


@contextlib.contextmanager
def _folder_lock(shared_file: Path | None, name: str):
    """Hold ``<folder>/<name>.lock`` (an OS file lock) while one process downloads ``name``: the others
    wait, then find its fresh copy.  Without a writable folder (or file locks) each process goes alone."""
    if shared_file is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # no POSIX file locks here
        yield
        return
    slug = "".join(ch if ch.isalnum() else "-" for ch in name.lower())
    path = shared_file.parent / f"live-{slug}.lock"
    try:
        shared_file.parent.mkdir(parents=True, exist_ok=True)
        # Never follow a link, never block on a FIFO: the lock must be a regular file of the folder.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            set_aside(path)   # the next process locks a fresh file
        yield
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            fd = -1
            set_aside(path)
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd >= 0:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


#: A back-off is never longer than this (seconds from now); a file saying more is not believed.
MAX_BACKOFF_AHEAD = 24 * 3600.0


def _backoff_state(path: Path) -> dict:
    """The shared back-off file as a dict of sources; a file that is not one is set aside (and {})."""
    try:
        state = read_small_json(path)
    except UnsafeFileError:
        if path.exists():
            aside = set_aside(path)
            logging.getLogger(__name__).warning("the shared back-off file was unreadable; set aside as %s", aside)
        return {}
    return state if isinstance(state, dict) else {}


def _read_backoff(path: Path | None, name: str) -> tuple[float, FetchResult] | None:
    """(wall-clock time until which ``name`` is backed off, its failure), if any.  A time that is not a
    finite number within a day from now is treated as no back-off."""
    if path is None:
        return None
    entry = _backoff_state(path).get(name)
    if not isinstance(entry, dict):
        return None
    until = entry.get("until")
    if isinstance(until, bool) or not isinstance(until, int | float) or not np.isfinite(until):
        return None
    if not 0 <= until - time.time() <= MAX_BACKOFF_AHEAD:
        return None
    return float(until), FetchResult(str(entry.get("status", "network"))[:20],
                                     message=str(entry.get("message", ""))[:300])


def _write_backoff(path: Path | None, name: str, until: float, result: FetchResult) -> None:
    """Record a failed source's back-off for every process sharing the cache folder."""
    if path is None:
        return
    state = _backoff_state(path) if path.exists() else {}
    state = {k: v for k, v in list(state.items())[-32:] if isinstance(v, dict)}  # feeds of this app: a few
    state[name] = {"until": until, "status": result.status, "message": result.message[:300]}
    with contextlib.suppress(OSError):  # no shared folder: each process backs off on its own
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, json.dumps(state).encode())


def _write_atomically(target: Path, data: bytes) -> None:
    """Write ``target`` through a temporary file beside it, renamed into place; the temporary file never
    stays behind (a full disk, a failed write)."""
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")  # several server processes may share the folder
    try:
        tmp.write_bytes(data)
        tmp.replace(target)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _in_words(seconds: float) -> str:
    seconds = max(1, round(seconds))
    return f"{seconds} s" if seconds < 90 else f"{round(seconds / 60)} min"


class LiveMarket:
    """Yahoo/Cboe live data for a whole server process: the long history
    (every 6 hours) with the last days' quotes laid over it (every 15
    minutes), both downloaded in the background.  A successful history
    download is saved as the last good copy."""

    def __init__(self, history_fetch: Callable[[], FetchResult] | None = None,
                 quotes_fetch: Callable[[], FetchResult] | None = None, **feed_options) -> None:
        feed_options.setdefault("shared_file", cache_dir() / "live-backoff.json")
        clean_cache_folder(feed_options["shared_file"].parent)   # what a killed process left while saving
        feed_options.setdefault("deadline", fetch_deadline())
        self.history = LiveFeed("Yahoo/Cboe history",
                                history_fetch or (lambda: fetch_live_panel(period="max", timeout=10.0)),
                                ttl_from_env("ALVH_HISTORY_TTL", HISTORY_TTL),
                                on_success=lambda r: save_last_good("yahoo", r), shared_copy="yahoo", **feed_options)
        self.quotes = LiveFeed("Yahoo quotes", quotes_fetch or (lambda: fetch_live_panel(period="5d")),
                               ttl_from_env("ALVH_QUOTE_TTL", QUOTE_TTL),
                               on_success=lambda r: save_last_good("yahoo-quotes", r), shared_copy="yahoo-quotes",
                               **feed_options)
        self._merged: tuple | None = None

    def poke(self) -> None:
        """Start whatever download is due (quotes only once there is a history)."""
        if offline_requested():
            return
        self.history.poke()
        if self.history.status().good is not None:
            self.quotes.poke()

    def refresh(self) -> None:
        self.history.refresh()
        if self.history.status().good is not None:
            self.quotes.refresh()

    @property
    def version(self) -> int:
        return self.history.status().version + self.quotes.status().version

    @property
    def fetching(self) -> bool:
        return self.history.status().fetching or self.quotes.status().fetching

    def wait(self, timeout: float | None = None) -> bool:
        return self.history.wait(timeout) and self.quotes.wait(timeout)

    def result(self) -> FetchResult | None:
        """The live panel (history with the latest quotes over it), the latest
        failure when there is nothing good, or None before the first answer."""
        if offline_requested():
            return FetchResult("offline", message="Offline mode (ALVH_OFFLINE): live data is off.")
        history, quotes = self.history.status(), self.quotes.status()
        if history.good is None:
            return history.failure
        result = history.good
        if quotes.good is not None:
            key = (id(history.good), id(quotes.good))
            merged = self._merged   # one merge per pair of downloads, not one per page run
            if merged is not None and merged[0] == key:
                return merged[1]
            frame = quotes.good.frame.combine_first(result.frame).sort_index()
            result = FetchResult(result.status, frame, result.message, "live", quotes.good.fetched_at,
                                 result.missing, result.origin or quotes.good.origin)
            self._merged = (key, result, history.good, quotes.good)   # (the inputs held: their ids stay theirs)
        return result

    def notes(self) -> list[str]:
        """What the live sources are doing, for the sidebar: downloading, or
        failed and when the next try is."""
        if offline_requested():
            return []
        notes = []
        for feed in (self.history, self.quotes):
            state = feed.status()
            if state.fetching:
                notes.append(f"Downloading {feed.name} in the background…")
            elif state.failure is not None and (state.good is None or feed is self.quotes):
                when = f"next try in {_in_words(state.retry_in)}" if state.retry_in > 0 else "next try on the next refresh"
                notes.append(f"{state.failure.message} ({feed.name}: {when}.)")
        return notes


_INDEX_FEEDS: dict[str, LiveFeed] = {}
_INDEX_FEEDS_LOCK = threading.Lock()


def index_feed(symbol: str) -> LiveFeed:
    """The process's one feed of a Cboe ``<SYMBOL>_History.csv`` (the Backtest page's real index beside
    its replica): downloaded in the background when a page pokes it, at most once a history TTL for
    every session, backed off on failure like the live market."""
    if symbol not in CBOE_SYMBOLS:
        raise ValueError(f"unknown Cboe symbol {symbol!r}")
    with _INDEX_FEEDS_LOCK:
        feed = _INDEX_FEEDS.get(symbol)
        if feed is None:
            feed = _INDEX_FEEDS[symbol] = LiveFeed(
                f"Cboe {symbol}", lambda: fetch_cboe_series(symbol), ttl_from_env("ALVH_HISTORY_TTL", HISTORY_TTL),
                deadline=fetch_deadline(), shared_file=cache_dir() / "live-backoff.json")
        return feed


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
    frame = plausible_levels(result.frame)
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    if frame.empty:
        return None
    folder = folder or cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}.csv"
        body = frame.to_csv(index_label="date", date_format="%Y-%m-%d").encode()
        _write_atomically(target, body)
        meta = {"fetched_at": result.fetched_at, "status": result.status, "rows": len(frame),
                "last": frame.index[-1].strftime("%Y-%m-%d"), "bytes": len(body)}
        _write_atomically(folder / f"{name}.json", json.dumps(meta).encode())
        return target
    except OSError:
        return None


#: A temporary file older than this in the cache folder was left by a process that died while saving.
STALE_TMP_SECONDS = 600.0


def clean_cache_folder(folder: Path | None = None) -> int:
    """Remove temporary files that a killed process or a full disk left in the cache folder (those
    still being written are younger than :data:`STALE_TMP_SECONDS`); how many were removed."""
    folder = folder or cache_dir()
    removed = 0
    try:
        candidates = list(folder.glob("*.tmp"))
    except OSError:
        return 0
    for path in candidates:
        with contextlib.suppress(OSError):
            if time.time() - path.lstat().st_mtime > STALE_TMP_SECONDS:
                path.unlink()
                removed += 1
    return removed


#: A saved copy's last closes outside these (the app's own input ranges) are not today's market.
SAVED_COPY_LEVELS = {"spx": (100.0, 20_000.0), "vix": (5.0, 150.0)}


_saved_copies: dict[Path, tuple[tuple[int, int, int], FetchResult]] = {}
_saved_lock = threading.Lock()


#: What was set aside in this process, by saved copy: said again on every later read, so that every page
#: (not only the first to find the bad file) shows why.
_set_aside_notes: dict[Path, str] = {}


def load_last_good(name: str, folder: Path | None = None) -> FetchResult:
    """The last good copy as a ``cache`` result (status ``empty`` if none).

    Read once per version of the file: every rerun of every session asks
    for it, and it changes only when a live download is saved."""
    folder = folder or cache_dir()
    path = folder / f"{name}.csv"
    try:
        info = path.stat()
    except OSError:
        if path.with_name(f"{path.name}.bad").is_file():
            note = _set_aside_notes.get(path) or f"The last saved copy was unreadable; it was set aside as {path.name}.bad."
            return FetchResult("bad_format", source="cache", message=note)
        return FetchResult("empty", message="no saved copy yet", source="cache")
    meta_path = folder / f"{name}.json"
    try:
        meta_stamp = meta_path.stat().st_mtime_ns
    except OSError:
        meta_stamp = 0
    stamp = (info.st_mtime_ns, info.st_size, meta_stamp)
    with _saved_lock:
        known = _saved_copies.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
    result = _read_saved_copy(path, meta_path)
    with _saved_lock:
        note = _set_aside_notes.get(path)
        if "set aside" in result.message:
            _set_aside_notes[path] = result.message
        elif note and result.ok and not meta_path.exists():   # its metadata was set aside on an earlier read
            result = replace(result, message=f"{result.message} {note}".strip())
        else:   # a new copy was saved since
            _set_aside_notes.pop(path, None)
        _saved_copies[path] = (stamp, result)
    return result


def _read_saved_copy(path: Path, meta_path: Path) -> FetchResult:
    """The saved copy, read with the rules of an uploaded panel.  A copy that
    cannot be read at all, that is shorter than its metadata says (cut off
    while being written), or whose last levels are no market's is set aside
    (renamed ``*.bad``) so that no page reads it again; bad rows are
    skipped and counted.  (A copy that ends long before today is labeled so
    on the badge: :func:`~alvh_core.model.snapshot.choose_snapshot`.)"""
    if not path.is_file():
        return FetchResult("empty", message="no saved copy yet", source="cache")
    meta, meta_problem = {}, ""
    if meta_path.exists():
        try:
            meta = read_small_json(meta_path)
            meta = meta if isinstance(meta, dict) else {}
        except UnsafeFileError as exc:
            meta_problem = f" Its metadata was unreadable ({exc}) and was set aside as {set_aside(meta_path)}."
    try:
        frame, problems = read_panel_csv(path, f"saved copy {path.name}", columns=tuple(PLAUSIBLE))
        frame = frame[frame["vix"].notna()]
        if frame.empty:
            raise HistoryFormatError("no VIX close")
        _check_saved_copy(path, frame, meta)
    except (HistoryFormatError, UnsafeFileError) as exc:
        aside = set_aside(path)
        where = f" It was set aside as {aside}." if aside else ""
        return FetchResult("bad_format", message=f"The saved copy could not be used ({exc}).{where}{meta_problem}",
                           source="cache")
    fetched_at = str(meta.get("fetched_at", ""))[:40]
    frame.index.name = "date"
    notes = [f"{len(problems)} bad row(s) in the saved copy were skipped; first: {problems[0]}"] if problems else []
    if meta_problem:
        notes.append(meta_problem.strip())
    return FetchResult("ok", frame, " ".join(notes), "cache", fetched_at)


def _check_saved_copy(path: Path, frame: pd.DataFrame, meta: dict) -> None:
    """``HistoryFormatError`` when the copy is not what was saved (its size differs from the one its
    metadata recorded: cut off while written, say) or its last levels are no market's."""
    size = meta.get("bytes")
    if isinstance(size, int) and not isinstance(size, bool) and path.stat().st_size != size:
        raise HistoryFormatError(f"it has {path.stat().st_size:,} bytes where {size:,} were saved (it ends on "
                                 f"{frame.index[-1].date()}): cut off")
    for column, (low, high) in SAVED_COPY_LEVELS.items():
        values = frame[column].dropna() if column in frame else pd.Series(dtype=float)
        if len(values) and not low <= values.iloc[-1] <= high:
            raise HistoryFormatError(f"its last {column.upper()} close {values.iloc[-1]:,.2f} on "
                                     f"{values.index[-1].date()} is outside {low:g}–{high:,.0f}")
