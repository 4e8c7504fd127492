"""A hostile visitor of a hosted server (AppTest): an upload is bytes, never a path; the server's folders
are the operator's; no file in the cache folder takes a page down; a link over a joint limit gets a notice.
The same visitor in Chromium is in tests/e2e/test_hostile_visitor_browser.py."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app import switch_to
from tests.unit.test_hostile_files import PATH_PAYLOADS

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = {"regime": None, "builder": "app_pages/builder.py", "tiers": "app_pages/tiers.py",
         "hedge-lab": "app_pages/hedge_lab.py", "backtest": "app_pages/backtest.py", "learn": "app_pages/learn.py"}


def _shown(at: AppTest) -> str:
    """Every text element of the page and the sidebar, markup escapes removed."""
    parts = [e.value for kind in ("caption", "markdown", "warning", "info", "error", "success")
             for e in getattr(at, kind)]
    parts += [e.value for kind in ("caption", "markdown", "warning") for e in getattr(at.sidebar, kind)]
    return re.sub(r"\\(.)", r"\1", " ".join(str(p) for p in parts))


def _badge(at: AppTest) -> str:
    return " ".join(m.value for m in at.sidebar.markdown if "-badge[" in m.value)


def _open(page: str | None, params: dict | None = None, timeout: float = 120) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout)
    if page:
        switch_to(at, page)
    at.query_params.update(params or {})
    at.run()
    at.run()   # the first run paints the numbers; the second the rest
    return at


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ALVH_DATA_DIR", raising=False)
    monkeypatch.delenv("ALVH_VISITOR_FOLDERS", raising=False)
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    return tmp_path


def _chain_uploader(at: AppTest):
    return next(w for w in at.get("file_uploader") if w.key == "b_chain_upload")


# --- uploads are bytes ------------------------------------------------------------------------------------

def test_each_chain_payload_is_parsed_as_text_on_the_builder(offline):
    at = _open(PAGES["builder"])
    for payload in PATH_PAYLOADS:
        _chain_uploader(at).set_value(("spx_quotedata.csv", payload.encode(), "text/csv"))
        at.run()
        assert not at.exception, (payload, at.exception)
        shown = _shown(at)
        assert "The uploaded chain could not be read" in shown and "not a Cboe chain" in shown, (payload, shown)
        assert "priced at your chain" not in shown


@pytest.mark.data
def test_the_data_folders_own_chain_named_in_an_upload_is_not_read(offline, monkeypatch, data_dir):
    """The issue's case: the page was showing the server's file's quotes ("mid credit 8.62, natural 8.10")."""
    monkeypatch.setenv("ALVH_DATA_DIR", str(data_dir))
    at = _open(PAGES["builder"], {"ad": "2023-02-07", "u": "SPX", "n": "1000000", "r": "5", "qs": "model"})
    at.radio(key="qs").set_value("auto").run()
    assert "Condor legs priced at Cboe chain spx_quotedata_2023-02-07.csv" in _shown(at)  # the operator's file
    payload = str(data_dir / "chains" / "spx_quotedata_2023-02-07.csv").encode()
    _chain_uploader(at).set_value(("spx_quotedata.csv", payload, "text/csv"))
    at.run()
    shown = _shown(at)
    assert "not a Cboe chain" in shown and "priced at your chain" not in shown, shown


def test_uploads_over_a_sessions_share_are_dropped_with_a_notice(offline, monkeypatch):
    monkeypatch.setattr("app_pages.common.SESSION_UPLOAD_MB", 1)
    at = _open(None)
    big = b"date,spx,vix\n" + b"2024-01-02,5000,18\n" * 80_000   # 1.4 MB
    at.sidebar.get("file_uploader")[0].set_value(("big.csv", big, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    assert any("Not kept: big.csv (1.4 MB)" in w.value.replace("\\", "") for w in at.warning), \
        [w.value for w in at.warning]
    # (AppTest hands a widget its files again on every run, so what the server then holds is checked in
    # Chromium: tests/e2e/test_hostile_visitor_browser.py)


# --- folders are the operator's ------------------------------------------------------------------------

def test_a_visitor_names_no_server_folder_by_default(offline, monkeypatch, tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "VIX_History.csv").write_text("DATE,CLOSE\n2024-01-02,13\n2024-01-03,14\n")
    monkeypatch.setenv("ALVH_DATA_DIR", str(root))
    at = _open(None)
    assert not [w for w in at.sidebar.text_input if w.key == "data_folder"]
    assert "Data: file" in _badge(at)               # the operator's folder is read
    assert str(root) not in _shown(at)               # and never shown


def test_a_visitor_folder_is_confined_when_the_operator_allows_it(offline, monkeypatch, tmp_path):
    root = tmp_path / "data"
    (root / "group-a").mkdir(parents=True)
    (root / "VIX_History.csv").write_text("DATE,CLOSE\n2024-01-02,13\n2024-01-03,14\n")
    (root / "group-a" / "VIX_History.csv").write_text("DATE,CLOSE\n2024-01-02,21\n2024-01-03,22.5\n")
    os.symlink("/proc/self", root / "proc")
    monkeypatch.setenv("ALVH_DATA_DIR", str(root))
    monkeypatch.setenv("ALVH_VISITOR_FOLDERS", "1")
    at = _open(None)
    for typed in ("~", "~daemon", "~nosuchuser", "/proc/self", "/proc/self/cwd", "/etc", "../..", "proc", "/usr/sbin"):
        at.text_input(key="data_folder").input(typed).run()
        assert not at.exception, (typed, at.exception)
        shown = _shown(at)
        assert "is not a folder under the server's data folder" in shown, (typed, shown)
        for leak in (str(root), "/root", "/usr/sbin", "daemon's", "process"):
            assert leak not in shown.replace(repr(typed)[1:-1], ""), (typed, leak)
    at.text_input(key="data_folder").input("group-a").run()
    vix = next(w for w in at.sidebar.number_input if w.key.startswith("mkt_vix_"))
    assert vix.value == 22.5   # the group's own file


# --- the cache folder ------------------------------------------------------------------------------------

def _saved_copy(cache: Path, spx: float = 5000.0, end=None) -> None:
    from alvh_core.data.live import FetchResult, save_last_good

    index = pd.bdate_range(end=end or pd.Timestamp.today().normalize(), periods=400)
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"spx": spx * np.exp(np.cumsum(rng.normal(0, 0.01, 400))),
                          "vix": (16 + rng.normal(0, 0.4, 400).cumsum()).clip(11, 40)}, index=index)
    assert save_last_good("yahoo", FetchResult("ok", frame, fetched_at="2026-01-01T00:00:00+00:00"), cache)


DEEP = "[" * 100_000 + "]" * 100_000
CORRUPTIONS = {
    # name -> (what to do to the cache folder, words the sidebar shows, the badge)
    "deep metadata": (lambda c: (c / "yahoo.json").write_text(DEEP), "set aside as yahoo.json.bad", "Data: cache"),
    "cut-off copy": (lambda c: (c / "yahoo.csv").write_bytes((c / "yahoo.csv").read_bytes()[:5000]),
                     "cut off", "Data: default"),
    "SPX ten times": (lambda c: _saved_copy(c, spx=60_000.0), "outside 100–20,000", "Data: default"),
    "old copy": (lambda c: _saved_copy(c, end="2011-11-23"), "Using the last good copy", "years old"),
    "random bytes": (lambda c: (c / "yahoo.csv").write_bytes(os.urandom(3000)), "set aside as yahoo.csv.bad",
                     "Data: default"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_a_bad_cache_file_leaves_the_page_working_with_a_notice(offline, name):
    cache = offline / "cache"
    _saved_copy(cache)
    corrupt, words, badge = CORRUPTIONS[name]
    corrupt(cache)
    at = _open(None)
    assert not at.exception, at.exception
    assert words in _shown(at), _shown(at)
    assert badge in _badge(at), _badge(at)


@pytest.mark.parametrize("backoff", [DEEP, json.dumps({"Yahoo/Cboe history": {"until": float("nan"), "status": "x",
                                                                              "message": "x"}}),
                                     json.dumps({"Yahoo/Cboe history": {"until": 1e300}})])
def test_a_bad_back_off_file_does_not_stop_live_data(offline, monkeypatch, backoff):
    from alvh_core.data import live as marketdata
    from app_pages.common import live_market
    from tests.unit.test_marketdata import yahoo_frame

    cache = offline / "cache"
    _saved_copy(cache)
    (cache / "live-backoff.json").write_text(backoff)
    monkeypatch.delenv("ALVH_OFFLINE")
    monkeypatch.setattr(marketdata, "yahoo_download",
                        lambda tickers, period="2y", timeout=6.0: yahoo_frame(days=200 if period == "max" else 5))
    at = _open(None)
    assert live_market().wait(10)
    at.run()
    assert live_market().wait(10)
    at.run()
    assert not at.exception, at.exception
    assert "Data: live" in _badge(at), (_badge(at), _shown(at))


def test_every_page_works_with_every_bad_cache_file_at_once(offline):
    cache = offline / "cache"
    _saved_copy(cache)
    (cache / "yahoo.json").write_text(DEEP)
    (cache / "yahoo-quotes.csv").write_bytes(os.urandom(2000))
    (cache / "live-backoff.json").write_text(DEEP)
    (cache / "yahoo.999.tmp").write_text("left behind")
    os.utime(cache / "yahoo.999.tmp", (time.time() - 3600,) * 2)
    os.mkfifo(cache / "live-yahoo-quotes.lock")
    for page in PAGES.values():
        at = _open(page, {"lmp": "1000", "lhz": "20"} if page and "hedge" in page else {})
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])


# --- joint limits from a link and from the widgets -------------------------------------------------------

@pytest.mark.parametrize("params", [{"lmp": "50000", "lhz": "101"}, {"lmp": "20000", "lhz": "251"}])
def test_paths_times_horizon_over_the_limit_is_a_notice(offline, params):
    at = _open(PAGES["hedge-lab"], params, timeout=300)
    assert not at.exception, at.exception
    notice = " ".join(i.value for i in at.info)
    assert "over the 5,000,000 path-days" in notice, notice
    simulated = int(re.search(r"simulating ([\d,]+) paths", notice).group(1).replace(",", ""))
    assert simulated * int(params["lhz"]) <= 5_000_000


def test_the_joint_limit_holds_when_typed_too(offline):
    at = _open(PAGES["hedge-lab"], {"lmp": "1000", "lhz": "20"})
    at.number_input(key="lhz").set_value(251)
    at.number_input(key="lmp").set_value(50_000)
    at.run()
    assert not at.exception, at.exception
    assert any("path-days" in i.value for i in at.info)
