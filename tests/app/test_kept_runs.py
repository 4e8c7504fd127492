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
        store._keep(("run", i), _result(3.0))   # 12 MB in all against 10
    kept, _ = store._store()
    assert [k[1] for k in kept] == [1, 2, 3]
    assert sum(store._sizes().values()) <= 10 * 2**20


def test_the_oldest_runs_go_past_the_count(store):
    for i in range(7):
        store._keep(("run", i), _result(0.1))
    kept, _ = store._store()
    assert [k[1] for k in kept] == [2, 3, 4, 5, 6]


def test_one_run_larger_than_the_budget_is_still_kept(store):
    store._keep(("big",), _result(20.0))
    kept, _ = store._store()
    assert list(kept) == [("big",)]


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
