"""Widgets and helpers shared by every page (not a page itself).

The sidebar decides which market the pages see: live data (Yahoo, then
Cboe) shared by every session through one process-wide fetch and
``st.cache_data``; else the last good copy on disk; else the user's files;
else the last closes the app ships with.  Any value typed over it makes the
source "manual".
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from alvh_core.history import (
    SERIES_FILES,
    History,
    HistoryFormatError,
    RowProblem,
    load_history_folder,
    read_panel_csv,
    read_series_csv,
)
from alvh_core.market import DEFAULT_MARKET, MarketState
from alvh_core.marketdata import (
    HISTORY_TTL,
    MIN_INTERVAL,
    QUOTE_TTL,
    FetchResult,
    SharedFetch,
    fetch_live_panel,
    load_last_good,
    offline_requested,
    save_last_good,
)
from alvh_core.snapshot import MarketSnapshot, choose_snapshot

DISCLAIMER = ("Educational software: ALVH Studio never places orders, and its numbers are models, "
              "not advice. Options can lose more than you expect.")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024

_BADGE_COLORS = {"live": "green", "cache": "blue", "file": "blue", "simulated": "violet",
                 "manual": "orange", "default": "gray"}

_MARKET_FIELDS = (
    # key, label, min, max, step, help
    ("spot", "SPX", 100.0, 20000.0, 5.0, "S&P 500 index level (points)"),
    ("vix", "VIX", 5.0, 150.0, 0.1, "30-day implied vol index (vol points)"),
    ("vix9d", "VIX9D", 5.0, 200.0, 0.1, "9-day index; leave empty if unknown"),
    ("vix3m", "VIX3M", 5.0, 150.0, 0.1, "3-month index; leave empty if unknown"),
    ("vix6m", "VIX6M", 5.0, 150.0, 0.1, "6-month index; leave empty if unknown"),
    ("vvix", "VVIX", 20.0, 300.0, 0.5, "Vol of VIX index: prices the VIX options of the hedge"),
)
SOURCE_MODES = {"auto": "Auto: live → saved copy → files → default", "files": "My files only",
                "default": "Built-in default only"}


def ensure_router() -> None:
    """Route every run through ``app.py``'s ``st.navigation``.

    Streamlit decides once per process, before any script runs, that an app
    with a folder named ``pages/`` is a legacy multipage app; until some run
    calls ``st.navigation`` a deep link (``/builder``) would execute the page
    file alone, without the shared sidebar.  Clearing that decision and
    rerunning sends the same URL through the router (page identity is the
    URL path, so the rerun lands on the same page).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# --- live data, shared by every session of this server ----------------------------

@st.cache_resource(show_spinner=False)
def _shared_live_fetch() -> dict[str, SharedFetch]:
    """Process-wide gates (lock, single flight, minimum interval): the long
    history every 6 hours, the last few days' quotes every 15 minutes."""
    return {
        "history": SharedFetch(lambda: fetch_live_panel(period="max", timeout=10.0), ttl=HISTORY_TTL,
                               min_interval=MIN_INTERVAL),
        "quotes": SharedFetch(lambda: fetch_live_panel(period="5d"), ttl=QUOTE_TTL, min_interval=MIN_INTERVAL),
    }


class _LiveFailed(Exception):
    """Raised inside the cached functions so that failures are never cached."""


@st.cache_data(ttl=HISTORY_TTL, show_spinner="Fetching market history…", max_entries=2)
def _history_cached() -> FetchResult:
    result = _shared_live_fetch()["history"].get()
    if not result.ok:
        raise _LiveFailed(result)
    save_last_good("yahoo", result)
    return result


@st.cache_data(ttl=QUOTE_TTL, show_spinner=False, max_entries=2)
def _quotes_cached() -> FetchResult:
    result = _shared_live_fetch()["quotes"].get()
    if not result.ok:
        raise _LiveFailed(result)
    return result


def live_result() -> FetchResult:
    """Long history with the latest quotes laid over it (quotes win)."""
    if offline_requested():
        return FetchResult("offline", message="Offline mode (ALVH_OFFLINE): live data is off.")
    try:
        history = _history_cached()
    except _LiveFailed as failed:
        return failed.args[0]
    try:
        quotes = _quotes_cached()
    except _LiveFailed:
        return history
    merged = quotes.frame.combine_first(history.frame).sort_index()
    return FetchResult(history.status, merged, history.message, "live", quotes.fetched_at, history.missing)


def refresh_live() -> None:
    _history_cached.clear()
    _quotes_cached.clear()
    for gate in _shared_live_fetch().values():
        gate.clear()


# --- files: a folder, or uploads ------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=4)
def _folder_history(folder: str, stamp: float) -> History:
    return load_history_folder(folder)


def folder_history(folder: str) -> tuple[History | None, str]:
    """A folder's history (cached until its files change), or why not."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        return None, f"{folder}: not a folder"
    stamp = max((p.stat().st_mtime for p in path.glob("*.csv")), default=0.0)
    try:
        return _folder_history(str(path.resolve()), stamp), ""
    except HistoryFormatError as exc:
        return None, str(exc)


def uploads_history(files) -> tuple[History | None, list[str]]:
    """Uploaded CSVs: Cboe ``<SYMBOL>_History.csv`` files by name, or panels."""
    columns: dict[str, pd.Series] = {}
    problems: list[RowProblem] = []
    errors: list[str] = []
    by_name = {v.lower(): k for k, v in SERIES_FILES.items()}
    for upload in files:
        data = upload.getvalue()
        if len(data) > MAX_UPLOAD_BYTES:
            errors.append(f"{upload.name}: larger than {MAX_UPLOAD_BYTES // 2**20} MB; ignored")
            continue
        try:
            key = by_name.get(upload.name.lower())
            if key is not None:
                series, issues = read_series_csv(data, upload.name)
                columns[key] = series
            else:
                panel, issues = read_panel_csv(data, upload.name)
                for col in panel.columns:
                    columns[col] = columns[col].combine_first(panel[col].dropna()) if col in columns else panel[col].dropna()
            problems += issues
        except HistoryFormatError as exc:
            errors.append(str(exc))
    if "vix" not in columns:
        if files:
            errors.append("no VIX history among the uploads (VIX_History.csv or a panel with a 'vix' column)")
        return None, errors
    frame = pd.DataFrame(columns).sort_index()
    if "spx" in frame:
        frame["spx"] = frame["spx"].round(2)
    errors += [str(p) for p in problems[:10]]
    if len(problems) > 10:
        errors.append(f"… and {len(problems) - 10} more bad rows, all skipped")
    return History(frame[frame["vix"].notna()], tuple(problems), tuple(f.name for f in files)), errors


# --- the sidebar ----------------------------------------------------------------------

def data_badge(market: MarketState) -> None:
    """The provenance badge: source and as-of."""
    when = f" · {market.asof}" if market.asof else ""
    st.badge(f"Data: {market.source}{when}", color=_BADGE_COLORS.get(market.source, "gray"),
             icon=":material/database:",
             help="live = Yahoo/Cboe now; cache = last good download; file = your CSVs; "
                  "manual = typed in; default = the last closes the app ships with")


def _files_ui() -> History | None:
    """The 'Data files' popover: a folder path and/or uploads.

    A popover rather than an expander: the browser mounts its widgets only
    while it is open, which keeps every rerun of every page lighter."""
    default_folder = os.environ.get("ALVH_DATA_DIR", "")
    with st.popover("Data files", icon=":material/folder_open:", width="stretch"):
        folder = st.text_input("Folder of Cboe *_History.csv files", value=default_folder, key="data_folder",
                               help="e.g. a folder with VIX_History.csv, SPX_History.csv, VIX3M_History.csv …")
        uploads = st.file_uploader("…or upload CSV files", type=["csv"], accept_multiple_files=True, key="data_uploads",
                                   help="Cboe <SYMBOL>_History.csv files, or one panel date,spx,vix[,vix9d,vix3m,vix6m,vvix]")
        history, messages = None, []
        if uploads:
            history, messages = uploads_history(uploads)
        elif folder.strip():
            history, message = folder_history(folder.strip())
            messages = [message] if message else [str(p) for p in (history.problems[:5] if history else ())]
        for message in messages:
            st.caption(f"⚠ {message}")
        if history is not None:
            st.session_state["last_good_files"] = history
            st.caption(f"Loaded {', '.join(history.files)}: {history.first.date()} to {history.last.date()}.")
        elif (uploads or folder.strip()) and "last_good_files" in st.session_state:
            history = st.session_state["last_good_files"]
            st.caption("Keeping the previous good files.")
    if messages:  # visible with the popover closed too
        st.caption(f"⚠ Data files: {len(messages)} problem{'s' if len(messages) != 1 else ''}, see “Data files”.")
    return history


def market_sidebar() -> MarketState:
    """Data source, market inputs and the badge; stores the state for the pages."""
    with st.sidebar:
        st.subheader("Market")
        mode = st.selectbox("Data source", list(SOURCE_MODES), format_func=SOURCE_MODES.get, key="data_mode")
        files = _files_ui()
        if mode == "auto":
            live = live_result()
            snapshot = choose_snapshot(live, load_last_good("yahoo"), files)
        elif mode == "files":
            snapshot = choose_snapshot(None, None, files)
        else:
            snapshot = choose_snapshot(None, None, None)
        base = snapshot.market
        pinned = st.checkbox("Pin market data in the link", key="pin", bind="query-params",
                             help="Writes these market inputs into the page's URL, so a shared link shows the same "
                                  "numbers whatever the live data does later")
        if pinned:
            market = _pinned_market(base)
        else:
            if "asof" in st.query_params:
                del st.query_params["asof"]
            market = _market_inputs(base, f"{snapshot.source}-{base.asof}")
        data_badge(market)
        for message in snapshot.messages[-3:]:
            st.caption(message)
        if mode == "auto" and not offline_requested():
            st.button("Refresh live data", key="refresh_live", on_click=refresh_live,
                      help="Fetch again now (shared by everyone using this server)")
    st.session_state["market"] = market
    st.session_state["snapshot"] = snapshot
    return market


def _market_inputs(base: MarketState, tag: str) -> MarketState:
    """Market inputs prefilled from the data; widgets renew when the data does."""
    values = {}
    cols = st.columns(2)
    for i, (key, label, low, high, step, help_text) in enumerate(_MARKET_FIELDS):
        default = getattr(base, key)
        if default is not None:
            default = min(max(float(default), low), high)
        with cols[i % 2]:
            values[key] = st.number_input(label, min_value=low, max_value=high, value=default, step=step,
                                          key=f"mkt_{key}_{tag}", help=help_text, format="%.2f")
    cols = st.columns(2)
    with cols[0]:
        rate_pct = st.number_input("Rate %", min_value=-5.0, max_value=50.0, value=round(base.rate * 100, 3),
                                   step=0.05, key=f"mkt_rate_{tag}", help="Risk-free rate, % a year (13-week T-bill)")
    with cols[1]:
        div_pct = st.number_input("Div yield %", min_value=0.0, max_value=20.0, value=round(base.div * 100, 3),
                                  step=0.05, key=f"mkt_div_{tag}", help="SPX dividend yield, % a year")
    return _market_from_inputs(base, values, rate_pct, div_pct, base.asof)


#: Sidebar market field -> share-link key when pinned.
PIN_KEYS = {"spot": "spx", "vix": "vix", "vix9d": "v9", "vix3m": "v3", "vix6m": "v6", "vvix": "vv"}


def _pinned_market(base: MarketState) -> MarketState:
    """Market inputs bound to the URL (short keys), prefilled once from the data."""
    presets = {PIN_KEYS[k]: getattr(base, k) for k in PIN_KEYS} | {"rate": round(base.rate * 100, 3),
                                                                   "div": round(base.div * 100, 3)}
    for key, value in presets.items():
        if key not in st.session_state and key not in st.query_params and value is not None:
            st.session_state[key] = float(value)
            # Into the link at once: the browser writes a bound value only when it changes.
            st.query_params[key] = repr(float(value))
    if "asof" not in st.query_params:
        st.query_params["asof"] = base.asof or "unknown"
    values = {}
    cols = st.columns(2)
    for i, (field_name, label, low, high, step, help_text) in enumerate(_MARKET_FIELDS):
        with cols[i % 2]:
            values[field_name] = st.number_input(label, min_value=low, max_value=high, value=None, step=step,
                                                 key=PIN_KEYS[field_name], bind="query-params", help=help_text,
                                                 format="%.2f")
    cols = st.columns(2)
    with cols[0]:
        rate_pct = st.number_input("Rate %", min_value=-5.0, max_value=50.0, value=None, step=0.05, key="rate",
                                   bind="query-params", format="%.3f")
    with cols[1]:
        div_pct = st.number_input("Div yield %", min_value=0.0, max_value=20.0, value=None, step=0.05, key="div",
                                  bind="query-params", format="%.3f")
    asof = str(st.query_params.get("asof", base.asof))[:20]
    market = _market_from_inputs(base, values, base.rate * 100 if rate_pct is None else rate_pct,
                                 base.div * 100 if div_pct is None else div_pct, asof)
    st.caption(f"Pinned: these values travel in the link (as of {asof}).")
    return market


def _market_from_inputs(base: MarketState, values: dict, rate_pct: float, div_pct: float, asof: str) -> MarketState:
    spot = values["spot"] if values["spot"] is not None else base.spot
    vix = values["vix"] if values["vix"] is not None else base.vix
    edited = (abs(spot - base.spot) > 1e-9 or abs(vix - base.vix) > 1e-9
              or abs(rate_pct - round(base.rate * 100, 3)) > 1e-9 or abs(div_pct - round(base.div * 100, 3)) > 1e-9
              or any(_differs(values[k], getattr(base, k)) for k in ("vix9d", "vix3m", "vix6m", "vvix"))
              or asof != base.asof)
    return MarketState(spot=spot, vix=vix, vix9d=values["vix9d"], vix3m=values["vix3m"], vix6m=values["vix6m"],
                       vvix=values["vvix"], rate=rate_pct / 100, div=div_pct / 100, asof=asof,
                       source="manual" if edited else base.source)


def _differs(a, b) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(float(a) - float(b)) > 1e-9


def money(value: float, decimals: int = 0) -> str:
    """Dollars as a trader writes them: $1,234 and −$56 (a real minus sign)."""
    text = f"${abs(value):,.{decimals}f}"
    return f"−{text}" if value < 0 and round(abs(value), decimals) > 0 else text


def current_market() -> MarketState:
    return st.session_state.get("market", DEFAULT_MARKET)


def current_snapshot() -> MarketSnapshot:
    snapshot = st.session_state.get("snapshot")
    return snapshot if snapshot is not None else choose_snapshot()


def current_history() -> History | None:
    """The history behind the current market, as a History (None offline)."""
    snapshot = current_snapshot()
    if snapshot.panel is None:
        return None
    return History(snapshot.panel)
