"""The history the Backtest and Hedge Lab pages run on, and their runs, kept for the server.

Not a page.  The real history is the sidebar's (live download, saved copy
or the user's files); the simulated one is drawn from its seed.  Each is
turned into backtest arrays once; each run is kept by its inputs (the last
few dozen), so going back to an earlier choice is instant.  A run that is
not kept yet shows a progress bar while it computes.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
import streamlit as st

from alvh_core.history import backtest as bt
from alvh_core.model.simulator import simulated_panel
from app_pages.common import KeptResults, current_history, current_snapshot, env_int, shared

KEPT_RUNS = 32


#: Memory the kept runs may take together (MB; ``ALVH_KEPT_MB``): the oldest are let go past it.
KEPT_MB = env_int("ALVH_KEPT_MB", 96, low=16)


def result_bytes(obj, seen: set | None = None) -> int:
    """About how many bytes of arrays a kept result holds (numpy arrays and pandas frames, through
    dataclasses, dicts, lists and tuples); the history's own arrays are shared by every run and not counted."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, bt.MarketArrays):
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, pd.DataFrame | pd.Series):
        return int(obj.memory_usage(index=True, deep=False).sum()) if isinstance(obj, pd.DataFrame) \
            else int(obj.memory_usage(index=True, deep=False))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return sum(result_bytes(getattr(obj, f.name), seen) for f in dataclasses.fields(obj))
    if isinstance(obj, dict):
        return sum(result_bytes(v, seen) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(result_bytes(v, seen) for v in obj)
    return 0


@st.cache_resource(show_spinner=False, max_entries=4)
def _arrays(key: str, _panel: pd.DataFrame, source: str) -> bt.MarketArrays:
    return bt.market_arrays(_panel, source=source)


@st.cache_resource(show_spinner=False, max_entries=4)
def _simulated(seed: int, years: int) -> bt.MarketArrays:
    return bt.market_arrays(simulated_panel(years=float(years), seed=seed), source="simulated")


def history_arrays() -> tuple[bt.MarketArrays | None, str, str]:
    """The sidebar's history as arrays (None when it has no SPX and VIX), its key and a note."""
    history = current_history()
    if history is None or "spx" not in history.panel or history.panel["spx"].notna().sum() < 60:
        return None, "", ("No history with SPX and VIX is loaded (the built-in default is one day). Load Cboe "
                          "files in the sidebar's “Data files”, or use the simulated market.")
    panel = history.panel
    source = current_snapshot().market.source
    source = source if source in ("live", "cache", "file") else "file"
    # hashed once per panel object for the whole server, not on every rerun of every session
    digest = shared("panel hash", (id(panel),), lambda: int(pd.util.hash_pandas_object(panel, index=True).sum()),
                    (panel,))
    key = f"{source}:{digest}"
    return _arrays(key, panel, source), key, ""


def simulated_arrays(seed: int, years: int) -> tuple[bt.MarketArrays, str]:
    return _simulated(int(seed), int(years)), f"simulated:{int(seed)}:{int(years)}"


def _kept_bytes(result) -> int:
    # a window of the history is kept as a result of its own: its arrays and condor marks count
    return result_bytes(vars(result)) if isinstance(result, bt.MarketArrays) else result_bytes(result)


@st.cache_resource(show_spinner=False)
def _store() -> KeptResults:
    """The runs kept for the server: the last :data:`KEPT_RUNS`, at most :data:`KEPT_MB` of arrays."""
    return KeptResults(KEPT_RUNS, KEPT_MB * 2**20, _kept_bytes)


def is_kept(key: tuple) -> bool:
    """Whether the result for ``key`` is kept already (showing it costs nothing)."""
    return key in _store()


def kept(key: tuple, compute: Callable[[Callable[[float, str], None]], object], what: str, bar: bool = True):
    """The result for ``key``: kept from an earlier run, or computed now (under a progress bar), once for
    every session that asks at the same time."""
    store = _store()
    if not bar or key in store:
        return store.get(key, lambda: compute(lambda fraction, text: None))
    shown = st.progress(0.0, text=f"{what}…")

    def progress(fraction: float, text: str) -> None:
        shown.progress(min(max(float(fraction), 0.0), 1.0), text=f"{what}: {text}")

    def run():
        slots = _run_slots()
        nested = getattr(_this_thread, "holds_slot", False)   # a run inside a run keeps its caller's slot
        if not nested and not slots.acquire(blocking=False):
            shown.progress(0.0, text=f"{what}: waiting for another session's run to finish…")
            slots.acquire()
        _this_thread.holds_slot = True
        try:
            return compute(progress)
        finally:
            if not nested:
                _this_thread.holds_slot = False
                slots.release()
                _give_back_memory()

    def waiting() -> None:
        shown.progress(0.0, text=f"{what}: another session is computing this run; it is shared when done…")

    try:
        return store.get(key, run, on_wait=waiting)
    finally:
        shown.empty()


_this_thread = threading.local()


@st.cache_resource(show_spinner=False)
def _run_slots() -> threading.BoundedSemaphore:
    """Long runs computed at once by the whole server (``ALVH_RUN_SLOTS``, default 1): Python runs one
    thread at a time anyway, and each cold backtest takes tens of MB while it runs, so twenty sessions
    starting one together would hold twenty times that."""
    return threading.BoundedSemaphore(env_int("ALVH_RUN_SLOTS", 1, high=64))


def _give_back_memory() -> None:
    """Return the freed heap of a long run to the system (glibc keeps it otherwise, and the process's
    size stays at its peak); a no-op where there is no glibc."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def window_of(m: bt.MarketArrays, data_key: str, start: date, end: date) -> bt.MarketArrays:
    """The rows from ``start`` to ``end``, kept so that their condor marks are kept with them."""
    return kept(("window", data_key, start, end), lambda progress: m.window(start, end), "", bar=False)


def data_range(m: bt.MarketArrays) -> tuple[date, date]:
    return m.day(0), m.day(m.size - 1)


def tier_runs_key(data_key: str, strategy: str, tiers: tuple) -> tuple:
    return ("tiers", data_key, strategy, tiers)


def tier_runs(m: bt.MarketArrays, data_key: str, strategy: str, tiers: tuple) -> dict:
    """Each tier's backtest (no hedge and ALVH, the Backtest page's defaults) on ``m``, kept for the server:
    tier name -> BacktestResult, or the reason it could not run."""
    def compute(progress) -> dict:
        runs = {}
        for i, tier in enumerate(tiers):
            progress(i / len(tiers), tier.name)
            try:
                runs[tier.name] = bt.run_backtest(m, bt.BacktestConfig(strategy=strategy, tier=tier),
                                                  ("none", "alvh"), smaller=False)
            except ValueError as exc:
                runs[tier.name] = str(exc)
        return runs

    return kept(tier_runs_key(data_key, strategy, tiers), compute, "Backtesting the tiers")
