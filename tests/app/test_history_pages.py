"""The Backtest and Hedge Lab pages through Streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from alvh_core.history import backtest as bt
from alvh_core.model.simulator import simulated_panel
from tests.app import switch_to

TIMEOUT = 180
APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _open(monkeypatch, tmp_path, page: str, data_dir: Path | None, params: dict | None = None) -> AppTest:
    if data_dir is None:
        monkeypatch.delenv("ALVH_DATA_DIR", raising=False)
    else:
        monkeypatch.setenv("ALVH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    switch_to(at, f"app_pages/{page}.py")
    at.query_params.update(params or {})
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label_start: str) -> str:
    """The value of the metric labeled exactly so, else of the first whose label starts so."""
    for m in at.metric:
        if m.label == label_start:
            return m.value
    for m in at.metric:
        if m.label.startswith(label_start):
            return m.value
    raise AssertionError(f"no metric {label_start!r}: {[m.label for m in at.metric]}")


def _table(at: AppTest, column: str):
    """The first table on the page with ``column``."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with {column!r}")


def test_backtest_offline_runs_on_the_simulated_market_and_says_so(monkeypatch, tmp_path):
    at = _open(monkeypatch, tmp_path, "backtest", None, {"byrs": "3", "bst": "weekly"})
    assert any("simulated market" in i.value for i in at.info)
    assert not at.error
    # The numbers are the engine's on the same seeded market.
    m = bt.market_arrays(simulated_panel(years=3.0, seed=1), source="simulated")
    result = bt.run_backtest(m, bt.BacktestConfig(strategy="weekly"), ("none", "alvh"))
    assert _metric(at, "CAGR, ALVH 40/40/20") == f"{100 * result.stats['alvh'].performance.cagr:.2f} %"
    assert _metric(at, "Condors traded") == f"{result.condor.entry.size:,}"


@pytest.mark.data
def test_backtest_on_the_data_matches_the_engine_and_writes_the_link(monkeypatch, tmp_path, data_dir, real_market):
    at = _open(monkeypatch, tmp_path, "backtest", data_dir,
               {"bs": "2019-01-02", "be": "2020-12-31", "bst": "monthly", "bh": "none,alvh,single"})
    assert not at.exception and not at.error
    m = real_market.window("2019-01-02", "2020-12-31")
    result = bt.run_backtest(m, bt.BacktestConfig(strategy="monthly"), ("none", "alvh", "single"))
    assert _metric(at, "CAGR, ALVH 40/40/20") == f"{100 * result.stats['alvh'].performance.cagr:.2f} %"
    assert at.query_params["bst"] == "monthly" and at.query_params["bh"] == "none,alvh,single"
    stats = next(t.value for t in at.table if "Sortino" in t.value.index)   # measures down, schemes across
    assert list(stats.columns) == ["No hedge", "ALVH 40/40/20", "Single VIX call", "Trade smaller (no hedge)"]
    assert all(text.endswith("%") for text in stats.loc["CAGR"])
    # Changing an input reruns and keeps the link in step.
    at.selectbox(key="btr").select("Aggressive").run()
    assert not at.exception and at.query_params["btr"] == "Aggressive"


@pytest.mark.data
def test_backtest_replica_page(monkeypatch, tmp_path, data_dir):
    at = _open(monkeypatch, tmp_path, "backtest", data_dir, {"bst": "vxth", "bs": "2016-01-04", "be": "2020-12-31"})
    assert not at.exception and not at.error
    assert _metric(at, "CAGR (model)").endswith("%")
    # Cboe's own VXTH file is in the data folder: the page overlays it and reads the tracking figures.
    assert float(_metric(at, "Monthly correlation")) >= 0.95


def test_backtest_odd_link_values_are_reported_not_fatal(monkeypatch, tmp_path):
    at = _open(monkeypatch, tmp_path, "backtest", None, {"byrs": "2", "bs": "1970-01-01", "bh": "alvh,nonsense",
                                                          "bfs": "500"})
    assert not at.exception and not at.error
    warning = " ".join(w.value for w in at.warning)
    assert "bs" in warning and "bh" in warning and "bfs" in warning


def test_hedge_lab_offline_compares_schemes_and_simulates(monkeypatch, tmp_path):
    at = _open(monkeypatch, tmp_path, "hedge_lab", None, {"lmp": "2000", "lhz": "20"})
    assert not at.exception and not at.error
    stress = _table(at, "Premium now ($)")
    assert list(stress["Scheme"])[0] == "No hedge" and list(stress["Scheme"])[-1] == "Trade smaller (no hedge)"
    # Every hedge gains against no hedge at SPX −20 %; the condor alone loses.
    column = next(c for c in stress.columns if c.startswith("SPX -20"))
    assert stress[column].iloc[0] < 0 and (stress[column].iloc[1:-1] > stress[column].iloc[0]).all()
    table = _table(at, "Chance of a loss")
    assert len(table) == 6 and table["Chance of a loss"].between(0, 1).all()
    assert any("Replays need the real history" in i.value for i in at.info)


@pytest.mark.data
def test_hedge_lab_replays_an_episode_with_the_futures_beside(monkeypatch, tmp_path, data_dir):
    at = _open(monkeypatch, tmp_path, "hedge_lab", data_dir, {"lep": "2018-02", "lmp": "1000", "lhz": "10",
                                                              "n": "1000000"})   # whole SPX condors in 2018
    assert not at.exception and not at.error
    def dollars(text: str) -> float:
        return float(text.replace("−", "-").replace("$", "").replace(",", ""))

    condors = dollars(_metric(at, "Condors"))
    assert condors < 0                                               # the condors lost in Feb 2018
    assert dollars(_metric(at, "ALVH 40/40/20")) > condors           # the layered hedge took some of it back
    assert any("median miss" in c.value for c in at.caption)


def test_fetching_the_real_index_never_holds_the_page(monkeypatch, tmp_path):
    """The Fetch button starts one background download; the page says so, and the next run lays the
    index over the replica (Cboe answered through the data layer's seam, no network)."""
    import threading

    import numpy as np
    import pandas as pd

    from alvh_core.data import live

    at = _open(monkeypatch, tmp_path, "backtest", None, {"bst": "vxth", "byrs": "3"})
    assert any("Upload Cboe's VXTH_History.csv" in c.value for c in at.caption)
    days = pd.bdate_range("1990-01-02", periods=700)
    body = "DATE,VXTH\n" + "\n".join(f"{d:%m/%d/%Y},{100 * np.exp(0.0002 * i):.4f}" for i, d in enumerate(days))
    release = threading.Event()

    def cboe(url, timeout):
        release.wait(10)
        return body.encode()

    monkeypatch.delenv("ALVH_OFFLINE")
    monkeypatch.setattr(live, "cboe_get", cboe)
    monkeypatch.setattr(live, "_INDEX_FEEDS", {})
    next(b for b in at.button if b.label.startswith("Fetch VXTH")).click().run()
    assert not at.exception
    assert any("in the background" in i.value for i in at.info)
    release.set()
    assert live.index_feed("VXTH").wait(10)
    at.run()
    assert not at.exception and not at.error
    assert _metric(at, "Monthly correlation")
