"""The runs a server keeps for its sessions (app_pages/history_data.py): bounded by count and by the
memory their arrays take, the oldest let go first; shared history arrays are not counted against a run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest


@dataclass(frozen=True)
class _Result:
    curve: np.ndarray
    table: pd.DataFrame
    parts: dict


def _result(megabytes: float) -> _Result:
    n = int(megabytes * 2**20 / 8)
    return _Result(np.zeros(n), pd.DataFrame({"x": np.zeros(1000)}), {"again": None})


@pytest.fixture
def store(monkeypatch):
    import streamlit as st

    from app_pages import history_data

    st.cache_resource.clear()
    monkeypatch.setattr(history_data, "KEPT_MB", 10)
    monkeypatch.setattr(history_data, "KEPT_RUNS", 5)
    return history_data


def test_result_bytes_counts_arrays_once(store):
    r = _result(1.0)
    r.parts["again"] = r.curve              # the same array twice: counted once
    expected = r.curve.nbytes + int(r.table.memory_usage(index=True).sum())
    assert store.result_bytes(r) == expected


def test_the_oldest_runs_go_past_the_memory_budget(store):
    for i in range(4):
        store._store().put(("run", i), _result(3.0))   # 12 MB in all against 10
    assert [k[1] for k in store._store().keys()] == [1, 2, 3]
    assert store._store().total_bytes <= 10 * 2**20


def test_the_oldest_runs_go_past_the_count(store):
    for i in range(7):
        store._store().put(("run", i), _result(0.1))
    assert [k[1] for k in store._store().keys()] == [2, 3, 4, 5, 6]


def test_one_run_larger_than_the_budget_is_still_kept(store):
    store._store().put(("big",), _result(20.0))
    assert store._store().keys() == [("big",)]


def test_runs_take_turns_and_a_run_inside_a_run_keeps_its_slot(store):
    import threading
    import time

    inside = []

    def outer(progress):
        inside.append(store.kept(("inner",), lambda p: "inner result", "inner"))   # nested: no deadlock
        return "outer result"

    assert store.kept(("outer",), outer, "outer") == "outer result" and inside == ["inner result"]

    running, most = [0], [0]

    def slow(progress):
        running[0] += 1
        most[0] = max(most[0], running[0])
        time.sleep(0.2)
        running[0] -= 1
        return "done"

    threads = [threading.Thread(target=store.kept, args=((f"slow{i}",), slow, "slow")) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 1   # one slot (ALVH_RUN_SLOTS's default): one run at a time


def test_a_result_asked_for_by_many_sessions_at_once_is_computed_once():
    """Twenty sessions asking at once for what none has yet: one computes, the others wait for its
    result (the burst of a group opening the same link); the most recent ``size`` are kept."""
    import threading
    import time

    from app_pages.common import KeptResults

    kept = KeptResults(2)
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.2)        # long enough for every thread to arrive while it runs
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(kept.get("k", compute))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(got) == 20 and all(g is got[0] for g in got)
    kept.get("a", object)
    kept.get("b", object)
    assert kept.get("k", compute) is not got[0] and len(calls) == 2     # let go: the oldest of three


def test_a_failed_computation_is_not_kept_and_a_waiting_session_computes_its_own():
    import threading
    import time

    from app_pages.common import KeptResults

    kept = KeptResults(4)
    started = threading.Event()

    def fails():
        started.set()
        time.sleep(0.2)
        raise ValueError("no data")

    errors, got = [], []

    def first():
        try:
            kept.get("k", fails)
        except ValueError as exc:
            errors.append(exc)

    t = threading.Thread(target=first)
    t.start()
    started.wait()
    got.append(kept.get("k", lambda: "computed again"))
    t.join()
    assert len(errors) == 1 and got == ["computed again"]
    assert kept.get("k", lambda: "fresh") == "computed again"       # the good result is the one kept
