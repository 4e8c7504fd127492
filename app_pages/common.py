"""Widgets and helpers shared by every page (not a page itself).

The sidebar decides which market the pages see: live data (Yahoo, then
Cboe) downloaded in the background once for every session of the server;
else the last good copy on disk; else the user's files; else the last
closes the app ships with.  Any value typed over it makes the source
"manual".  The share-link helpers keep every input of a page in its
address as a short code.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

import pandas as pd
import streamlit as st

from alvh_core.data.closes import (
    History,
    HistoryFormatError,
    folder_stamp,
    history_folder,
    history_from_files,
    load_history_folder,
    visitor_folder,
)
from alvh_core.data.events import load_events, parse_user_dates
from alvh_core.data.live import LiveMarket, load_last_good, offline_requested
from alvh_core.model.market import DEFAULT_MARKET, MarketState
from alvh_core.model.snapshot import MarketSnapshot, choose_snapshot, market_from_panel
from alvh_core.present.links import (
    ACCOUNT_KEYS,
    ALL_KEYS,
    MARKET_KEYS,
    PAGE_KEYS,
    SETTINGS_KEYS,
    LinkNotice,
    format_value,
    read_link,
    shown,
)
from alvh_core.strategy.hedge import HedgeSettings
from alvh_core.strategy.signals import SIGNAL_LABELS, SignalWeights
from alvh_core.strategy.sizing import RiskBudget

DISCLAIMER = ("Educational software: ALVH Studio never places orders, and its numbers are models, "
              "not advice. Options can lose more than you expect.")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024

#: The first-visit hint: shown until dismissed, and then never again in this browser (its local storage,
#: not the link: a link someone sends carries no hint state).
FIRST_VISIT_HINT = """
<div id="alvh-hint" style="display:none;border:1px solid rgba(128,128,128,.45);border-radius:.5rem;
 padding:.55rem .8rem;margin:.2rem 0 .4rem 0;font-size:.92rem;line-height:1.45">
 <b>New here?</b> This page reads today's regime. Then build a condor for your budget on
 <a href="builder?t=Moderate" target="_self">Builder</a>, see it in a crash on
 <a href="hedge-lab" target="_self">Hedge Lab</a>, check it on history on
 <a href="backtest?bst=weekly" target="_self">Backtest</a>, and send any page with the sidebar's
 <i>Share this page</i> link.
 <button id="alvh-hint-ok" type="button" style="margin-left:.6rem;padding:.1rem .6rem;border-radius:.4rem;
  border:1px solid rgba(128,128,128,.6);background:transparent;color:inherit;cursor:pointer">Got it</button>
</div>
<script>
(function () {
  var box = document.getElementById("alvh-hint");
  if (!box) { return; }
  var seen = false;
  try { seen = window.localStorage.getItem("alvh-hint-dismissed") === "1"; } catch (e) { seen = false; }
  box.style.display = seen ? "none" : "block";
  document.getElementById("alvh-hint-ok").onclick = function () {
    try { window.localStorage.setItem("alvh-hint-dismissed", "1"); } catch (e) {}
    box.style.display = "none";
  };
})();
</script>
"""


def first_visit_hint() -> None:
    """The path through the app, once per browser (dismissed with "Got it"; kept in the browser's storage)."""
    st.html(FIRST_VISIT_HINT, unsafe_allow_javascript=True)

_BADGE_COLORS = {"live": "green", "cache": "blue", "file": "blue", "simulated": "violet",
                 "manual": "orange", "default": "gray"}

#: Sidebar market field -> share-link key when pinned.
PIN_KEYS = {"spot": "spx", "vix": "vix", "vix9d": "v9", "vix3m": "v3", "vix6m": "v6", "vvix": "vv"}
_MARKET_LIMITS = {k.key: (k.low, k.high) for k in MARKET_KEYS}
_MARKET_FIELDS = (
    # field, label, step, help
    ("spot", "SPX", 5.0, "S&P 500 index level (points)"),
    ("vix", "VIX", 0.1, "30-day implied vol index (vol points)"),
    ("vix9d", "VIX9D", 0.1, "9-day index; leave empty if unknown"),
    ("vix3m", "VIX3M", 0.1, "3-month index; leave empty if unknown"),
    ("vix6m", "VIX6M", 0.1, "6-month index; leave empty if unknown"),
    ("vvix", "VVIX", 0.5, "Vol of VIX index: prices the VIX options of the hedge"),
)
SOURCE_MODES = {"auto": "Auto (live first)", "files": "My files only",
                "default": "Built-in default only"}


# --- showing text that came from a link, a file or the network -------------------------

_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:=&^\"'%@/])")


def plain(text: object) -> str:
    """Text from outside the app (a link, a file name, a row of a CSV, a
    server's message) made inert for Streamlit's markdown: one line, every
    markup character escaped, so it shows as typed and never as a link, an
    image, an icon or a colour."""
    return _MARKUP.sub(r"\\\1", " ".join(str(text).split()))


def code(text: object) -> str:
    """Outside text as an inline code span (shown literally, in monospace)."""
    value = shown(text) or "(empty)"
    fence = "`" * (max((len(run) for run in re.findall("`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


# --- share links: every input of a page in its address ------------------------------------

def read_page_link(url_path: str) -> tuple[LinkNotice, ...]:
    """Check the address of the page about to run, before any widget exists.

    The address is read only when it comes from outside the session: the
    session's first run, a move to this page from another, and the browser's
    back/forward (Streamlit flags that run).  On every other run the widgets
    are the authority and the address the session last wrote is rewritten
    from them, so a rerun request that still carries an older address (two
    key presses 30 ms apart: the second leaves before the first run's
    address reaches the browser) can never pass for a link.

    Keys the address lacks go back to their defaults, except, on a move
    between pages, the session's market and regime settings: they hold on
    every page.  Old parameter names are rewritten to today's keys and
    parameters the page cannot use are taken out of the address.  Returns
    the notices to show: those of the last link opened on this page, kept
    while the session stays on it (the cleaned address no longer says what
    was dropped).
    """
    keys = PAGE_KEYS.get(url_path, MARKET_KEYS)
    entering = st.session_state.get("_link_page") != url_path
    from_outside = entering or _history_navigation()
    st.session_state["_link_page"] = url_path
    params = {name: st.query_params.get_all(name) for name in st.query_params.keys()}
    reading = read_link(params, keys)
    if from_outside:
        if "pin" not in reading.values and any(k.key in reading.values for k in MARKET_KEYS if k.key != "ad"):
            reading.values["pin"] = True  # a link that carries market values means them
        held = SESSION_WIDE if entering else frozenset(SETTINGS) | frozenset(ACCOUNT)
        for spec in keys:
            if spec.key in reading.values:
                value = reading.values[spec.key]
                st.session_state[spec.key] = list(value) if spec.kind == "multi" else value
            elif spec.key not in held:
                # Set, not dropped: a widget shows a value the server sets, not one it forgets.
                if spec.default is None or spec.key not in st.session_state:
                    st.session_state.pop(spec.key, None)
                else:
                    st.session_state[spec.key] = list(spec.default) if spec.kind == "multi" else spec.default
        for name in set(reading.ignored) | set(reading.renamed):
            if name in st.query_params:
                del st.query_params[name]
    shown_notices = st.session_state.get("_link_notices", {})
    if from_outside and reading.notices:
        shown_notices = {url_path: reading.notices}
    st.session_state["_link_notices"] = {k: v for k, v in shown_notices.items() if k == url_path}
    return st.session_state["_link_notices"].get(url_path, ())


def _history_navigation() -> bool:
    """True when this run was asked for by the browser's back or forward button."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx is not None and getattr(ctx, "is_history_navigation", False))


def keep_in_link(key: str, value) -> None:
    """Write one input into the page's address: its code when it differs
    from the default, nothing otherwise.  Call right after the widget."""
    spec = ALL_KEYS[key]
    if spec.kind == "multi" and value is not None:
        value = tuple(c for c in spec.choices if c in tuple(value))
    text = None if value is None or value == spec.default else format_value(spec, value)
    if text is None:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != text:
        st.query_params[key] = text


class PageDone(Exception):
    """A page has shown all it can for these inputs (app.py ends the run there, after the share link)."""


class FirstPaintDone(PageDone):
    """A session's first run has shown its headline numbers; the rest (the share link too) follows on the
    browser's next tick, so that the first paint waits for no element's code but the numbers'."""


def done():
    """End the page here, like ``st.stop()``, but let app.py finish the run (the share link follows)."""
    raise PageDone


#: The link keys that carry the market (pinned links).
MARKET_LINK_KEYS = ("pin", *PIN_KEYS.values(), "rate", "div", "asof")
#: Keys that hold on every page of a session: the market and the regime's settings.
SESSION_WIDE = frozenset(k.key for k in (*MARKET_KEYS, *SETTINGS_KEYS, *ACCOUNT_KEYS)) | frozenset(MARKET_LINK_KEYS)


def page_link(url_path: str, params: dict | None = None) -> str:
    """The address of this page with every input as it is now (``params``: these parameters instead).

    The server's address comes from the browser's (``st.context.url``, without the
    page's own path), so it is right behind a proxy or a base path too."""
    address = str(st.context.url or "").split("?")[0].split("#")[0].rstrip("/")
    parts = address.rsplit("/", 1)
    if len(parts) == 2 and parts[1] in set(PAGE_KEYS) | {"home", "regime"} and "//" not in parts[1]:
        address = parts[0] if not parts[0].endswith(":") else address
    path = "" if url_path in ("", "home") else f"/{url_path}"
    query = urlencode(st.query_params.to_dict() if params is None else params, quote_via=quote, safe=",:;@")
    return f"{address}{path or '/'}" + (f"?{query}" if query else "")


def share_links(url_path: str) -> tuple[str, str]:
    """(the pinned link, the live link) of this page as it is now.  The pinned one carries the market the
    numbers were computed on (the levels, rate, dividend and as-of day, typed values included), so that it
    shows the same numbers next week on another server; the live one takes the market when it is opened."""
    params = st.query_params.to_dict()
    live = {k: v for k, v in params.items() if k not in MARKET_LINK_KEYS}
    pinned = dict(live)
    market = current_market()
    levels = {PIN_KEYS[f]: getattr(market, f) for f in PIN_KEYS} | {"rate": round(market.rate * 100, 3),
                                                                   "div": round(market.div * 100, 3)}
    pinned["pin"] = "true"
    for key, value in levels.items():
        if value is not None:
            pinned[key] = format_value(ALL_KEYS[key], _clamped(key, value))
    if market.asof:
        pinned["asof"] = market.asof[:10]
        if current_snapshot().panel is not None and "ad" in {k.key for k in PAGE_KEYS.get(url_path, MARKET_KEYS)}:
            pinned["ad"] = market.asof[:10]   # and the history up to that day: signals and empirical odds too
    return page_link(url_path, pinned), page_link(url_path, live)


def share_box(slot, url_path: str) -> None:
    """The copy-link control: the pinned link first (the numbers on screen, whatever the market does
    later), the live link one click away; each in full, with a copy button.  ``slot`` is an ``st.empty``
    kept for the session's fragments: an input a fragment changes redraws the box (see
    :func:`redraw_share_box`), so the box always gives what the address holds."""
    pinned, live = share_links(url_path)
    with slot.container():
        st.markdown("**Share this page**", help="Copy the link with the button at its right. It opens this page "
                    "with every input as it is now and the market these numbers were computed on, so it shows "
                    "the same numbers next week or on another server.")
        st.code(pinned, language=None, wrap_lines=False)  # one line: the sidebar never shifts
        st.caption("Pinned: the market of these numbers travels with the link.")
        with st.expander("Live link: the market when it is opened", icon=":material/sensors:"):
            st.code(live, language=None, wrap_lines=False)


def share_slot(url_path: str):
    """The sidebar's place for the share box, created before the page runs so that the page's fragments
    can draw into it too."""
    slot = st.sidebar.empty()
    st.session_state["_share_slot"] = (slot, url_path)
    return slot


def redraw_share_box() -> None:
    """From a fragment whose inputs are in the link: the share box again, with this run's address.  It
    draws in the full run too (Streamlit lets a fragment write outside itself only where it wrote in the
    last full run); app.py's draw at the end of the run replaces it."""
    kept = st.session_state.get("_share_slot")
    if kept is not None:
        share_box(*kept)


def link_notices(notices: tuple[LinkNotice, ...]) -> None:
    """The parameters a link had that the page could not use, shown as
    plain text: a link cannot put its own words or links into the app."""
    if not notices:
        return
    lines = []
    for notice in notices:
        value = "" if notice.value is None else f" = {code(notice.value)}"
        lines.append(f"- {code(notice.name)}{value}: {plain(notice.reason)}")
    st.warning("This link had parameters the page could not use; it shows the rest:\n\n" + "\n".join(lines),
               icon=":material/link_off:")


# --- live data, shared by every session of this server ----------------------------

@st.cache_resource(show_spinner=False)
def live_market() -> LiveMarket:
    """The process's live data: downloaded in the background, never waited on."""
    return LiveMarket()


@st.fragment(run_every=2.0)
def _await_live_data() -> None:
    """While a download runs, look every 2 s; rerun the page when it lands."""
    if live_market().version != st.session_state.get("_live_seen"):
        st.rerun()


# --- first paint: numbers before charts ------------------------------------------------

@st.fragment(run_every=1.0)
def _paint_the_rest() -> None:
    if st.session_state.get("_painted"):
        st.rerun()  # the browser's first tick after showing the numbers: now the whole page


def numbers_first() -> None:
    """End a session's first run here, once its headline numbers are out.

    A browser shows nothing of a page until the code of every element in it
    has loaded, and Plotly's and the data grid's take seconds on a fresh
    visit; stopping the first run before them lets the numbers show at once.
    The browser's next tick reruns the page in full (charts, tables)."""
    if st.session_state.get("_painted"):
        return
    st.caption("Drawing the charts and tables…")
    _paint_the_rest()
    st.session_state["_painted"] = True
    raise FirstPaintDone


def refresh_live() -> None:
    live_market().refresh()


# --- files: a folder, or uploads ------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=4)   # one History for every session (it is immutable)
def _folder_history(folder: str, stamp: tuple) -> History:
    return load_history_folder(Path(folder))


def operator_folder() -> Path | None:
    """The server's data folder (``ALVH_DATA_DIR``, set by whoever runs the server), or None."""
    text = os.environ.get("ALVH_DATA_DIR", "").strip()
    if not text:
        return None
    try:
        return history_folder(text)
    except HistoryFormatError:
        return None


def visitor_folders_allowed() -> bool:
    """Whether a visitor may choose a folder under the server's data folder (``ALVH_VISITOR_FOLDERS=1``;
    off by default: a visitor of a hosted app names no server folder)."""
    return os.environ.get("ALVH_VISITOR_FOLDERS", "").strip().lower() in ("1", "true", "yes")


def folder_history(folder: Path) -> tuple[History | None, str]:
    """A folder's history (cached until its files change), or why not."""
    try:
        return _folder_history(str(folder), folder_stamp(folder)), ""
    except HistoryFormatError as exc:
        return None, str(exc)


def env_int(name: str, default: int, low: int = 1, high: int = 100_000) -> int:
    """A whole-number setting of the server's environment, kept within ``low``..``high`` (``default``
    when it is unset or not a number)."""
    try:
        return max(low, min(int(os.environ.get(name, default)), high))
    except ValueError:
        return default


#: Uploads one session may hold at once, and all sessions of the server together (MB; the environment
#: variables ALVH_SESSION_UPLOAD_MB and ALVH_SERVER_UPLOAD_MB change them).
SESSION_UPLOAD_MB = env_int("ALVH_SESSION_UPLOAD_MB", 40)
SERVER_UPLOAD_MB = env_int("ALVH_SERVER_UPLOAD_MB", 300)


def upload_key(name: str) -> str:
    """The key of the file uploader ``name`` in this session: renewed whenever uploads were dropped for
    being over the limits, so that the uploader starts empty and lets go of the files it held."""
    generation = st.session_state.get("_upload_generation", 0)
    return name if not generation else f"{name}~{generation}"


def enforce_upload_limits() -> None:
    """Drop the newest uploads of this session that take it over its share of memory, or the server over
    its total, and say so: Streamlit keeps every uploaded file in memory until its session ends."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    manager = getattr(ctx, "uploaded_file_mgr", None)
    storage = getattr(manager, "file_storage", None)
    if ctx is None or not isinstance(storage, dict):
        return
    mine = list(storage.get(ctx.session_id, {}).values())
    held = sum(len(f.data) for f in mine)
    server = sum(len(f.data) for files in list(storage.values()) for f in list(files.values()))
    dropped = []
    for rec in reversed(mine):   # newest first
        if held <= SESSION_UPLOAD_MB * 2**20 and server <= SERVER_UPLOAD_MB * 2**20:
            break
        manager.remove_file(ctx.session_id, rec.file_id)
        held -= len(rec.data)
        server -= len(rec.data)
        dropped.append(f"{rec.name} ({len(rec.data) / 2**20:.1f} MB)")
    if dropped:
        # A file uploader keeps the files it was given in its widget state: a new key (see upload_key) gives
        # every uploader of the session a fresh, empty widget, and the old state goes at the end of the run.
        st.session_state["_upload_generation"] = st.session_state.get("_upload_generation", 0) + 1
        st.session_state.pop("_uploads_parsed", None)
        st.warning(plain(f"Not kept: {', '.join(dropped)}. A session holds at most {SESSION_UPLOAD_MB} MB of "
                         f"uploads at once and this server {SERVER_UPLOAD_MB} MB for everyone: the uploads were "
                         "cleared; upload fewer or smaller files."), icon=":material/upload_file:")


def uploads_history(files) -> tuple[History | None, list[str]]:
    """Uploaded CSVs: Cboe ``<SYMBOL>_History.csv`` files by name, or panels."""
    return history_from_files([(upload.name, upload.getvalue()) for upload in files], MAX_UPLOAD_BYTES)


# --- the sidebar ----------------------------------------------------------------------

def data_badge(market: MarketState, origin: str = "") -> None:
    """The provenance badge: source and as-of, with who downloaded it when not this server process and how
    old it is when it ends long before today (``origin``)."""
    when = f" · {market.asof}" if market.asof else ""
    extra = f" ({origin})" if origin else ""
    color = "orange" if "old" in origin else _BADGE_COLORS.get(market.source, "gray")
    st.badge(f"Data: {market.source}{extra}{when}", color=color,
             icon=":material/database:",
             help="live = Yahoo/Cboe now; cache = last good download; file = your CSVs; "
                  "manual = typed in; default = the last closes the app ships with")


def _files_ui() -> History | None:
    """The 'Data files' popover: uploads, and the server's data folder when it has one.

    A visitor uploads files (their bytes are parsed, nothing else); the server's folder is the
    operator's: it is read as set, and a visitor may pick a folder under it only where the operator
    allows it, by a name relative to it.  No server path is ever shown.
    A popover rather than an expander: the browser mounts its widgets only while it is open, which
    keeps every rerun of every page lighter."""
    root = operator_folder()
    with st.popover("Data files", icon=":material/folder_open:", width="stretch"):
        folder = root
        if root is not None:
            st.caption("The server's data folder is read (set by whoever runs this server).")
            if visitor_folders_allowed():
                st.text_input("Folder under the server's data folder (empty = the folder itself)",
                              key="data_folder", max_chars=200,
                              help="A name relative to the server's data folder, e.g. a group's own "
                                   "subfolder; nothing outside it can be read")
                folder, problem = _chosen_folder(root)
                if problem:
                    st.caption(f":material/warning: {plain(problem)}")
        uploads = st.file_uploader("Upload CSV files", type=["csv"], accept_multiple_files=True, key=upload_key("data_uploads"),
                                   help="Cboe <SYMBOL>_History.csv files, or one panel date,spx,vix[,vix9d,vix3m,vix6m,vvix]")
        history, messages = None, []
        if uploads:   # parsed once per set of uploaded files, not on every rerun (kept with the session)
            key = tuple((f.file_id, f.name, f.size) for f in uploads)
            parsed = st.session_state.get("_uploads_parsed")
            if parsed is None or parsed[0] != key:
                parsed = (key, uploads_history(uploads))
                st.session_state["_uploads_parsed"] = parsed
            history, messages = parsed[1]
        elif folder is not None:
            history, message = folder_history(folder)
            messages = [message] if message else [str(p) for p in (history.problems[:5] if history else ())]
        for message in messages:
            st.caption(f":material/warning: {plain(message)}")
        if history is not None:
            st.session_state["last_good_files"] = history
            st.caption(plain(f"Loaded {', '.join(history.files)}: {history.first.date()} to {history.last.date()}."))
        elif (uploads or folder is not None) and "last_good_files" in st.session_state:
            history = st.session_state["last_good_files"]
            st.caption("Keeping the previous good files.")
    if messages:  # visible with the popover closed too
        st.caption(f":material/warning: Data files: {len(messages)} problem{'s' if len(messages) != 1 else ''}, "
                   "see “Data files”.")
    return history


def market_sidebar() -> MarketState:
    """Data source, market inputs and the badge; stores the state for the pages.

    Never waits on the network: in Auto mode it shows what the server holds
    now (live data already downloaded, else the saved copy, the files, the
    built-in closes) and the download runs in the background; the page
    reruns by itself when it lands."""
    with st.sidebar:
        st.subheader("Market")
        mode = st.selectbox("Data source", list(SOURCE_MODES), format_func=SOURCE_MODES.get, key="data_mode",
                            help="Auto takes the first source that has data: live (Yahoo, then Cboe), the copy "
                                 "saved after the last download, your files, the closes the app ships with")
        files = _files_ui()
        notes: list[str] = []
        feed = None
        if mode == "auto":
            feed = live_market()
            feed.poke()
            st.session_state["_live_seen"] = feed.version
            live = feed.result()
            live = live if live is not None and live.ok else None
            cached = load_last_good("yahoo")
            # (a result without data is new on every call: it is known by what it says, not by its id)
            cached_key = id(cached) if cached.ok else (cached.status, cached.message)
            snapshot = shared("snapshot", (id(live), cached_key, id(files)),
                              lambda: choose_snapshot(live, cached, files), (live, cached, files))
            notes = feed.notes()
        elif mode == "files":
            snapshot = shared("snapshot", (None, None, id(files)), lambda: choose_snapshot(None, None, files), (files,))
        else:
            snapshot = choose_snapshot(None, None, None)
        if snapshot.panel is not None:
            snapshot = _as_of_day(snapshot)
        base = snapshot.market
        pinned = st.checkbox("Pin market data in the link", key="pin",
                             help="Writes these market inputs into the page's URL, so a shared link shows the same "
                                  "numbers whatever the live data does later")
        keep_in_link("pin", pinned)
        if pinned:
            market = _pinned_market(base)
        else:
            for key in list(PIN_KEYS.values()) + ["rate", "div", "asof"]:
                keep_in_link(key, None)
                st.session_state.pop(key, None)
            market = _market_inputs(base, f"{snapshot.source}-{base.asof}")
        data_badge(market, snapshot.origin if market.source == snapshot.source else "")
        keep_settings_in_link()
        for message in (list(snapshot.messages) + notes)[-4:]:
            st.caption(plain(message))
        if feed is not None and not offline_requested():
            st.button("Refresh live data", key="refresh_live", on_click=refresh_live,
                      help="Fetch again now (shared by everyone using this server)")
            if feed.fetching:
                _await_live_data()
    st.session_state["market"] = market
    st.session_state["snapshot"] = snapshot
    return market


def _as_of_day(snapshot: MarketSnapshot) -> MarketSnapshot:
    """A past day of the history as the market (the closes of that day, the history up to it)."""
    days = snapshot.vix_days
    if len(days) < 2:
        return snapshot
    first, last = days[0].date(), days[-1].date()
    value = st.session_state.get("ad")
    if value is not None and not (isinstance(value, date) and first <= value <= last):
        st.session_state["ad"] = None
        st.caption(plain(f"The as-of day {value} is outside the history ({first} to {last}): using the latest."))
    picked = st.date_input("As of (a past day of the history; empty = the latest)", value=None, min_value=first,
                           max_value=last, key="ad", format="YYYY-MM-DD",
                           help="Build the position as a trader would have on that day: its closes, its listed "
                                "expiries, its regime and a chain of that day when the data folder has one")
    keep_in_link("ad", picked)
    if picked is None or picked >= last:
        return snapshot
    def as_of() -> MarketSnapshot:
        panel = snapshot.panel.loc[: pd.Timestamp(picked)]
        market = market_from_panel(panel, snapshot.source)
        note = f"As of {market.asof}: the history up to that day." + (
            f" ({picked} was not a trading day.)" if market.asof != picked.isoformat() else "")
        return MarketSnapshot(market, panel, snapshot.source, (note,))

    return shared("as of", (id(snapshot), picked), as_of, (snapshot,))


def _clamped(key: str, value: float | None) -> float | None:
    if value is None:
        return None
    low, high = _MARKET_LIMITS[key]
    return min(max(float(value), low), high)


def _market_inputs(base: MarketState, tag: str) -> MarketState:
    """Market inputs prefilled from the data; widgets renew when the data does."""
    values = {}
    cols = st.columns(2)
    for i, (field_name, label, step, help_text) in enumerate(_MARKET_FIELDS):
        key = PIN_KEYS[field_name]
        low, high = _MARKET_LIMITS[key]
        with cols[i % 2]:
            values[field_name] = st.number_input(label, min_value=low, max_value=high,
                                                 value=_clamped(key, getattr(base, field_name)), step=step,
                                                 key=f"mkt_{field_name}_{tag}", help=help_text, format="%.2f")
    cols = st.columns(2)
    with cols[0]:
        rate_pct = st.number_input("Rate %", *_MARKET_LIMITS["rate"], value=_clamped("rate", round(base.rate * 100, 3)),
                                   step=0.05, key=f"mkt_rate_{tag}", help="Risk-free rate, % a year (13-week T-bill)")
    with cols[1]:
        div_pct = st.number_input("Div yield %", *_MARKET_LIMITS["div"], value=_clamped("div", round(base.div * 100, 3)),
                                  step=0.05, key=f"mkt_div_{tag}", help="SPX dividend yield, % a year")
    return _market_from_inputs(base, values, rate_pct, div_pct, base.asof)


def _pinned_market(base: MarketState) -> MarketState:
    """Market inputs that travel in the link (short keys), prefilled once
    from the data; a link's own values (already checked) win."""
    presets = {PIN_KEYS[k]: getattr(base, k) for k in PIN_KEYS} | {"rate": round(base.rate * 100, 3),
                                                                   "div": round(base.div * 100, 3)}
    for key, value in presets.items():
        if key not in st.session_state and value is not None:
            st.session_state[key] = _clamped(key, value)
    if "asof" not in st.session_state:
        st.session_state["asof"] = base.asof or None
    values = {}
    cols = st.columns(2)
    for i, (field_name, label, step, help_text) in enumerate(_MARKET_FIELDS):
        key = PIN_KEYS[field_name]
        with cols[i % 2]:
            values[field_name] = st.number_input(label, *_MARKET_LIMITS[key], value=None, step=step, key=key,
                                                 help=help_text, format="%.2f")
        keep_in_link(key, values[field_name])
    cols = st.columns(2)
    with cols[0]:
        rate_pct = st.number_input("Rate %", *_MARKET_LIMITS["rate"], value=None, step=0.05, key="rate",
                                   format="%.3f", help="Risk-free rate, % a year (13-week T-bill)")
    with cols[1]:
        div_pct = st.number_input("Div yield %", *_MARKET_LIMITS["div"], value=None, step=0.05, key="div",
                                  format="%.3f", help="SPX dividend yield, % a year")
    keep_in_link("rate", rate_pct)
    keep_in_link("div", div_pct)
    asof = st.session_state["asof"]
    keep_in_link("asof", asof)
    market = _market_from_inputs(base, values, base.rate * 100 if rate_pct is None else rate_pct,
                                 base.div * 100 if div_pct is None else div_pct, asof or "")
    st.caption(f"Pinned: these values travel in the link (as of {asof or 'an unknown date'}).")
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


#: Dollar columns of tables: whole dollars with thousands separators (the header says "($)"); cents on
#: six- and seven-figure sums were noise.
DOLLARS = st.column_config.NumberColumn(format="%,.0f")


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


# --- the hedge's context: regime, budget, stress, events ---------------------------------------

# --- the regime's settings: one set per session, in every page's link ---------------------------

SETTINGS = {k.key: k for k in SETTINGS_KEYS}


@dataclass(frozen=True)
class RegimeSettings:
    """How this session classifies the market (set on the Regime page): bands, the signals' weights,
    spot or the 30-day future, and the user's own event days."""

    low_max: float = 15.0
    high_min: float = 25.0
    on_future: bool = False
    weights: SignalWeights = field(default_factory=SignalWeights)
    event_dates: tuple = ()
    problems: tuple = ()


def regime_settings() -> RegimeSettings:
    """The session's settings, checked: a Low band that does not end below the High one, or weights that
    are all zero, fall back to the defaults with the reason in ``problems``."""
    get = lambda key: st.session_state.get(key, SETTINGS[key].default)  # noqa: E731
    problems = []
    low, high = float(get("rlo")), float(get("rhi"))
    if low >= high:
        problems.append(f"The Low band ({low:g}) must end below where the High band starts ({high:g}): using 15 / 25.")
        low, high = 15.0, 25.0
    try:
        weights = SignalWeights(**{name: float(get(f"w_{name}")) for name in SIGNAL_LABELS})
    except ValueError as exc:
        problems.append(f"{exc}: using the default weights.")
        weights = SignalWeights()
    days, _ = parse_user_dates(str(get("rev") or ""))
    return RegimeSettings(low, high, bool(get("rfu")), weights, tuple(days), tuple(problems))


#: The session's account (notional, risk budget, hedge sizing): set on any page, the same on every page.
ACCOUNT = {k.key: k for k in ACCOUNT_KEYS}


def keep_settings_in_link() -> None:
    """Every page carries the session's account and regime settings in its address (defaults omitted)."""
    for key, spec in (SETTINGS | ACCOUNT).items():
        keep_in_link(key, st.session_state.get(key, spec.default))


def _copy_setting(key: str) -> None:
    st.session_state[key] = st.session_state[f"_{key}"]


def setting_value(key: str):
    """The session's value of a setting held for every page (its link's, or the default)."""
    return st.session_state.get(key, ALL_KEYS[key].default)


def setting(widget, label: str, key: str, *args, declared: bool = False, **kwargs):
    """A widget for one session setting (the regime's, or the account's).  The setting itself lives under its
    link key (not the widget's, which Streamlit forgets on pages that do not draw it), so every page of the
    session sees it.  ``declared``: the caller gives the widget its current value (``value=`` / ``index=``),
    as a widget inside a popover needs (see :func:`held`)."""
    held_value = setting_value(key)
    if declared:
        st.session_state.pop(f"_{key}", None)
    else:
        # Always from the setting: a link or history navigation may have changed it, and another page's widget of
        # the same key (another label) leaves a value a new widget would not take.
        st.session_state[f"_{key}"] = held_value
    value = widget(label, *args, key=f"_{key}", on_change=_copy_setting, args=(key,), **kwargs)
    st.session_state[key] = value
    keep_in_link(key, value)
    return value


def setting_choice(widget, label: str, key: str, declared: bool = False, **kwargs):
    """A choice among a session setting's codes (labels on screen)."""
    spec = ALL_KEYS[key]
    options = list(spec.choices)
    kwargs.setdefault("format_func", spec.label_of)
    if declared:
        current = setting_value(key)
        kwargs["index"] = options.index(current) if current in options else 0
    return setting(widget, label, key, options, declared=declared, **kwargs)


def account_budget() -> RiskBudget:
    """The session's risk budget on its notional, as every page reads it (defaults where a value is bad)."""
    notional = float(setting_value("n"))
    try:
        if setting_value("bm") == "usd":
            return RiskBudget(notional=notional, risk_pct=None, dollars=float(setting_value("b")))
        return RiskBudget(notional=notional, risk_pct=float(setting_value("r")))
    except ValueError:
        return RiskBudget()


def account_inputs(notional_slot, mode_slot, amount_slot, declared: bool = False) -> RiskBudget:
    """The session's notional and risk budget as widgets (in the three containers given): the same values on
    every page, carried from page to page and in every link."""
    notional = setting(notional_slot.number_input, "Strategy notional ($)", "n", *bounds("n"), step=1_000.0,
                       format="%.0f", declared=declared, **({"value": float(setting_value("n"))} if declared else {}),
                       help="The account the risk budget and the hedge refer to (the same on every page)")
    mode = setting_choice(mode_slot.radio, "Risk budget in", "bm", declared=declared, horizontal=True,
                          help="Risk per trade as a share of the notional, or in dollars")
    if mode == "usd":
        dollars = setting(amount_slot.number_input, "Risk budget ($)", "b", *bounds("b"), step=100.0, format="%.0f",
                          declared=declared, **({"value": float(setting_value("b"))} if declared else {}),
                          help="Dollars one trade may risk under the chosen measure")
        return RiskBudget(notional=float(notional), risk_pct=None, dollars=float(dollars))
    pct = setting(amount_slot.number_input, "Risk budget (% of notional)", "r", *bounds("r"), step=0.05,
                  declared=declared, **({"value": float(setting_value("r"))} if declared else {}),
                  help="Seeds 001–002: 1 % per trade, up to 2 % when the 2 % gate is open")
    return RiskBudget(notional=float(notional), risk_pct=float(pct))


def account_hedge(scheme: str = "alvh") -> HedgeSettings:
    """The scheme's hedge with the session's sizing (the Builder's other hedge settings at their defaults)."""
    try:
        return HedgeSettings(scheme=scheme, sizing=setting_value("hsz"), per_contract=float(setting_value("hpc")),
                             per_max_loss=float(setting_value("hpm")))
    except ValueError:
        return HedgeSettings(scheme=scheme)


def hedge_sizing_inputs(slot, declared: bool = False) -> tuple[str, float, float]:
    """How the session sizes the hedge: (sizing, VIX notional per condor contract, notional per $ of max loss)."""
    sizing = setting_choice(slot.radio, "Hedge sized", "hsz", declared=declared,
                            help="To the position it protects (default): the regime band's % of 20 × the condors' "
                                 "max loss, seed 001's $100,000 of notional for $5,000 of risk. Or seed 001's "
                                 "literal rule: the band's % of the strategy notional.")
    per_max_loss = setting(slot.number_input, "Notional per $ of max loss", "hpm", *bounds("hpm"), step=1.0,
                           declared=declared, **({"value": float(setting_value("hpm"))} if declared else {}),
                           disabled=sizing != "max_loss",
                           help="Seed 001: $100,000 for a $5,000 risk, 20. The hedge is the band's % of this × the "
                                "max loss: Low 1.2–1.6×, Moderate 2.4–3.6×, High 5–7× the max loss at 20")
    per_contract = setting(slot.number_input, "$ VIX notional per SPX-sized contract", "hpc", *bounds("hpc"),
                           step=500.0, declared=declared,
                           **({"value": float(setting_value("hpc"))} if declared else {}),
                           disabled=sizing != "contract",
                           help="At the Low band's middle (7 %), scaled by the band; an XSP contract counts a tenth")
    return sizing, float(per_contract), float(per_max_loss)


def session_calendar(settings: RegimeSettings):
    """The event calendar with the session's own event days added (as FOMC-like days)."""
    calendar = load_events()
    if settings.event_dates:
        calendar = calendar.with_user_dates(list(settings.event_dates), "FOMC", "added by you")
    return calendar


@st.cache_data(show_spinner=False, max_entries=64)
def _context(market_key: tuple, source: str, has_panel: bool, settings: RegimeSettings, _panel, _breadth):
    """(HedgeContext, RegimeReport) for the market and the session's regime settings, cached: history-based.

    The panel itself is not hashed (leading underscore); the market's levels
    and as-of date, the source and whether there is a panel identify it."""
    from datetime import date

    from alvh_core.model.vixfutures import futures_proxy
    from alvh_core.strategy.position import HedgeContext
    from alvh_core.strategy.signals import regime_report

    spot, vix, vix9d, vix3m, vix6m, vvix, asof = market_key
    levels = {"spx": spot, "vix": vix, "vix9d": vix9d, "vix3m": vix3m, "vix6m": vix6m, "vvix": vvix}
    asof_day = pd.Timestamp(asof).date() if asof else date.today()
    calendar = session_calendar(settings)
    level = None
    if settings.on_future:
        from alvh_core.model.volmodel import VixTermStructure

        level = float(futures_proxy(VixTermStructure(vix=vix, vix9d=vix9d, vix3m=vix3m, vix6m=vix6m), 30.0, vvix))
    report = regime_report(_panel, asof_day, levels, source, calendar, breadth=_breadth, weights=settings.weights,
                           low_max=settings.low_max, high_min=settings.high_min, regime_level=level)
    return HedgeContext.from_report(report, calendar), report


def hedge_context(market: MarketState, snapshot: MarketSnapshot):
    """The regime, hedge budget, stress score and next event for ``market`` under the session's regime
    settings (and the full report): the same on every page."""
    market_key = (market.spot, market.vix, market.vix9d, market.vix3m, market.vix6m, market.vvix, market.asof)
    return _context(market_key, market.source, snapshot.panel is not None, regime_settings(), snapshot.panel,
                    snapshot.breadth)


def data_folder() -> Path | None:
    """The data folder the pages read (chains, VIX futures): the server's, or the folder under it that
    this session chose where the operator allows it; None without one."""
    root = operator_folder()
    if root is None or not visitor_folders_allowed():
        return root
    return _chosen_folder(root)[0]


def _chosen_folder(root: Path) -> tuple[Path | None, str]:
    """The folder under ``root`` this session typed (where the operator allows it), or why not."""
    try:
        return visitor_folder(root, st.session_state.get("data_folder") or ""), ""
    except HistoryFormatError as exc:
        return None, str(exc)


_GATE_MARKS = {"pass": ":green[:material/check_circle:]", "fail": ":red[:material/cancel:]",
               "unknown": ":orange[:material/help:]"}


def gate_checklist(gate) -> None:
    """The 2 % gate's checks, each marked pass, fail or unknown (missing data is never a pass)."""
    for check in gate.checks:
        st.markdown(f"{_GATE_MARKS[check.state]} {check.name} — {plain(check.detail)}")


def bounds(key: str) -> tuple:
    """The range of the link key ``key`` (:mod:`alvh_core.present.links`, from
    :mod:`alvh_core.model.limits`): what its widget accepts is what its link accepts."""
    spec = ALL_KEYS[key]
    return (int(spec.low), int(spec.high)) if spec.kind == "int" else (float(spec.low), float(spec.high))


def linked(widget, label: str, *args, key: str, **kwargs):
    """A widget whose value lives in the page's address (app.py seeded it from the link)."""
    value = widget(label, *args, key=key, **kwargs)
    keep_in_link(key, value)
    return value


def choice(widget, label: str, key: str, options=None, in_popover: bool = False, **kwargs):
    """A choice widget: codes in the address, labels on screen, the link key's default preselected.
    ``in_popover``: the widget is declared with its current choice (see :func:`held`)."""
    spec = ALL_KEYS[key]
    kwargs.setdefault("format_func", spec.label_of)
    options = list(options or spec.choices)
    if in_popover:
        current = held(key, spec.default)
        kwargs["index"] = options.index(current) if current in options else 0
    elif spec.default in options:
        st.session_state.setdefault(key, spec.default)
    return linked(widget, label, options, key=key, **kwargs)


def held(key: str, default):
    """The value a widget inside a popover holds now, taken out of the session state so that the
    widget is declared with it.  A popover mounts its widgets in the browser only when it opens, and
    a widget mounted late shows the value it was declared with, not one the session state (or a
    link) gave it."""
    return st.session_state.pop(key, default)


# --- work shared by every session of this server ---------------------------------------------

class KeptResults:
    """Results kept for the whole server, the most recently used ``size`` of them (and, given a
    ``sizer``, at most ``max_bytes`` of them together, the newest always kept), each computed once: a
    session asking for a key that another session is computing waits for that result instead of
    computing it again (twenty visitors opening the same page at once cost one computation).  A
    computation that fails is not kept; a session that waited on it then computes it (and reports its
    own error if it fails again)."""

    def __init__(self, size: int, max_bytes: float | None = None, sizer=None):
        self.size, self.max_bytes, self.sizer = size, max_bytes, sizer
        self._items: OrderedDict = OrderedDict()
        self._bytes: dict = {}
        self._running: dict = {}
        self._lock = threading.Lock()

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items

    def keys(self) -> list:
        with self._lock:
            return list(self._items)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(self._bytes.values())

    def get(self, key, compute, held: tuple = (), on_wait=None):
        """The result for ``key``, kept or computed now; ``on_wait()`` is called before waiting on
        another session's computation of it."""
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key][0]
                gate = self._running.get(key)
                if gate is None:
                    gate = self._running[key] = threading.Event()
                    break
            if on_wait is not None:
                on_wait()
            gate.wait()   # then the result is kept, or the one it waited on failed and this one computes
        try:
            value = compute()
            self.put(key, value, held)
            return value
        finally:
            with self._lock:
                self._running.pop(key, None)
            gate.set()

    def put(self, key, value, held: tuple = ()) -> None:
        """Keep ``value``; let the least recently used go past the count or the bytes."""
        sizes = {}
        if self.sizer is not None:   # measured outside the lock; kept results may grow (memoised parts)
            with self._lock:
                items = list(self._items.items())
            sizes = {k: self.sizer(v[0]) for k, v in items} | {key: self.sizer(value)}
        with self._lock:
            self._items[key] = (value, held)
            self._items.move_to_end(key)
            self._bytes.update({k: b for k, b in sizes.items() if k in self._items})
            while len(self._items) > 1 and (len(self._items) > self.size or (
                    self.max_bytes is not None and sum(self._bytes.values()) > self.max_bytes)):
                oldest, _ = self._items.popitem(last=False)
                self._bytes.pop(oldest, None)


@st.cache_resource(show_spinner=False)
def _memo_store() -> KeptResults:
    return KeptResults(64)


def shared(name: str, key: tuple, compute, held: tuple = ()):
    """``compute()`` once per ``key`` for the whole server (the last 64 kept): what every session's rerun
    would otherwise redo from the same inputs.  ``held`` are the objects whose ``id`` is in the key, kept
    alive with the result so that an id is never reused for another object while it is kept."""
    return _memo_store().get((name, *key), compute, held)


# --- positions, shared by every session of this server ---------------------------------------

KEPT_POSITIONS = 256


@st.cache_resource(show_spinner=False)
def _positions() -> KeptResults:
    return KeptResults(KEPT_POSITIONS)


def shared_position(market: MarketState, scenario, context, history, vol_model):
    """``build_position`` for these inputs, built once for the whole server: a group looking at the same
    market and tier shares one (positions are immutable).  Errors are not kept."""
    from alvh_core.strategy.position import build_position

    quotes = scenario.quotes
    panel = None if history is None else history.panel
    key = (market, replace(scenario, quotes=None),
           None if quotes is None else (quotes.source, quotes.quote_date, len(quotes.frame)), context,
           None if panel is None else (id(panel), len(panel), str(panel.index[-1]) if len(panel) else ""))
    return _positions().get(key, lambda: build_position(market, scenario, context, history, vol_model,
                                                         with_view=False))
