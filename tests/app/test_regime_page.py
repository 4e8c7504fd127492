"""The Regime page through AppTest: offline, from files, bad settings."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ALVH_DATA_DIR", raising=False)


def _run(timeout: int = 60) -> AppTest:
    """The page as a browser shows it: the first run (numbers first), then the
    full page (the browser's next tick)."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    assert not at.exception, at.exception
    assert any("Drawing the charts" in c.value for c in at.caption)
    at.run()
    assert not at.exception, at.exception
    return at


def _badge(at: AppTest) -> str:
    return " ".join(m.value for m in at.sidebar.markdown if "-badge[" in m.value)


def _texts(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info])


def test_regime_is_the_default_page_and_works_offline(offline):
    at = _run()
    assert at.title[0].value == "Regime"
    assert "Regime: :orange[Moderate]" in _texts(at)  # VIX 16.90 shipped default
    assert any(m.label == "Hedge budget" for m in at.metric)
    budget = next(m for m in at.metric if m.label == "Hedge budget").value
    assert 12.0 <= float(budget.split()[0]) <= 18.0
    assert "VIX history needs live data" in _texts(at)
    assert "Data: default · 2026-07-08" in _badge(at)


def test_regime_from_the_data_folder(offline, monkeypatch, data_dir):
    monkeypatch.setenv("ALVH_DATA_DIR", str(data_dir))
    at = _run(120)
    labels = _badge(at)
    assert "Data: file" in labels
    assert "VIX history needs" not in _texts(at)
    assert "before their VIX" in _unescaped(_texts(at))  # the files' SPX ends before their VIX


def test_typed_vix_moves_the_regime_and_marks_manual(offline):
    at = _run()
    key = next(w.key for w in at.number_input if w.key and w.key.startswith("mkt_vix_"))
    at.number_input(key=key).set_value(40.0).run()
    assert not at.exception
    assert "Regime: :red[High]" in _texts(at)
    assert "Data: manual" in _badge(at)
    budget = float(next(m for m in at.metric if m.label == "Hedge budget").value.split()[0])
    assert 25.0 <= budget <= 35.0


def test_bad_settings_give_warnings_not_errors(offline):
    at = _run()
    at.number_input(key="_rlo").set_value(30.0).run()
    at.text_input(key="_rev").input("2027-01-13, not-a-date").run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "must end below where the High band starts" in warnings and "not-a-date" in warnings


def _clear_caches():
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


def _unescaped(text: str) -> str:
    """Sidebar messages escape every markup character; read them as shown."""
    return re.sub(r"\\(.)", r"\1", text)


def _sidebar(at: AppTest) -> str:
    return _unescaped(" ".join(c.value for c in at.sidebar.caption))


def test_live_data_arrives_in_the_background_through_the_yfinance_seam(monkeypatch, tmp_path):
    from alvh_core.data import live as marketdata
    from app_pages.common import live_market
    from tests.unit.test_marketdata import yahoo_frame

    monkeypatch.delenv("ALVH_OFFLINE", raising=False)
    monkeypatch.delenv("ALVH_DATA_DIR", raising=False)
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    calls, release = [], threading.Event()

    def slow_download(tickers, period="2y", timeout=6.0):
        calls.append(period)
        release.wait(10)
        return yahoo_frame(days=200 if period == "max" else 5, tz="America/New_York")

    monkeypatch.setattr(marketdata, "yahoo_download", slow_download)
    _clear_caches()
    at = _run()  # the first paint does not wait for Yahoo
    assert "Data: default" in _badge(at)
    assert "Downloading Yahoo/Cboe history in the background" in _sidebar(at)
    assert "no live data, saved copy or files" in _sidebar(at)
    release.set()
    assert live_market().wait(10)
    at.run()  # (the browser's watcher fragment triggers this rerun)
    assert live_market().wait(10)
    at.run()
    assert "Data: live" in _badge(at)
    assert (tmp_path / "yahoo.csv").is_file()  # the last good copy was written
    at.run()
    assert sorted(calls) == ["5d", "max"]  # history and quotes once each; reruns are served from memory

    _clear_caches()   # a second server process on the same cache folder, within the TTL: no request of its own
    at = _run()
    assert live_market().wait(10)
    at.run()
    assert "Data: live" in _badge(at) and sorted(calls) == ["5d", "max"]

    # Hours later the saved copies are past their TTL, and Yahoo rate-limits.
    import json
    from datetime import UTC, datetime, timedelta

    for name in ("yahoo", "yahoo-quotes"):
        meta = json.loads((tmp_path / f"{name}.json").read_text())
        meta["fetched_at"] = (datetime.now(UTC) - timedelta(hours=7)).isoformat()
        (tmp_path / f"{name}.json").write_text(json.dumps(meta))

    def rate_limited(tickers, period="2y", timeout=6.0):
        from yfinance.exceptions import YFRateLimitError

        calls.append("limited")
        raise YFRateLimitError()

    monkeypatch.setattr(marketdata, "yahoo_download", rate_limited)
    monkeypatch.setattr(marketdata, "cboe_get", lambda url, timeout: b"<html>busy</html>")
    _clear_caches()
    at = _run()
    assert live_market().wait(10)
    at.run()
    assert "Data: cache" in _badge(at)
    sidebar = _sidebar(at)
    assert "rate-limiting" in sidebar and "Using the last good copy saved" in sidebar
    assert "next try in 60 s" in sidebar
    tries = calls.count("limited")
    for _ in range(3):  # reruns (any session) within the back-off do not ask Yahoo again
        at.run()
    assert calls.count("limited") == tries == 1
    _clear_caches()


def test_a_folder_path_with_markup_is_shown_as_text(offline, monkeypatch, tmp_path):
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("ALVH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ALVH_VISITOR_FOLDERS", "1")   # the operator lets visitors pick a folder under theirs
    at = _run()
    at.text_input(key="data_folder").input("![x](http://127.0.0.1:9/y.png) :red[z]").run()
    assert not at.exception
    shown = " ".join(c.value for c in at.sidebar.caption if "not a folder" in c.value)
    assert r"\!\[x\]\(http\:\/\/127\.0\.0\.1\:9\/y\.png\) \:red\[z\]" in shown


@pytest.mark.parametrize("variant", ["inf_last_row", "html", "duplicated_date", "huge_value"])
def test_every_page_works_over_a_corrupt_saved_copy(offline, tmp_path, variant):
    from tests.unit.test_marketdata import CORRUPT_COPIES

    (tmp_path / "yahoo.csv").write_text(CORRUPT_COPIES[variant])
    at = _run()
    assert not at.exception and "Data: manual" not in _badge(at)
    assert ("Data: default" if variant == "html" else "Data: cache") in _badge(at)
    if variant == "html":
        assert "set aside" in _sidebar(at)
    builder = AppTest.from_file(APP, default_timeout=60)
    builder.switch_page("app_pages/builder.py")
    builder.run()
    builder.run()
    assert not builder.exception and builder.metric


def test_the_first_page_says_what_the_app_is_for_and_offers_the_path(offline):
    at = _run()
    assert not at.exception
    assert "plans SPX iron condors protected by a layered VIX hedge" in " ".join(m.value for m in at.markdown)
    links = [(link.proto.label, link.proto.page) for link in at.get("page_link")]
    labels = [label for label, _ in links]
    assert labels[:4] == ["Build a condor for your budget", "See it in a crash", "Check it on 36 years of history",
                          "Compare the tiers"], links


def test_the_regime_pages_inputs_travel_in_its_link(offline):
    """``/?n=250000`` was "unknown link parameter": the Regime page had no link keys of its own."""
    params = {"rlo": "17", "rhi": "30", "w_rsi_vix": "0.3", "n": "250000", "rwin": "5Y", "rev": "2026-07-10"}
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params)
    at.run()
    at.run()
    assert not at.exception and not any("could not use" in w.value for w in at.warning)
    assert at.number_input(key="_rlo").value == 17.0 and at.number_input(key="_n").value == 250_000.0
    assert "Regime: :green[Low]" in _texts(at)   # VIX 16.90 is below 17
    link = at.sidebar.code[1].value   # the live link: the page's own inputs
    assert all(f"{k}={v}" in link for k, v in params.items()), link


def test_bands_set_on_regime_hold_on_every_page_of_the_session(offline):
    """A band changed on Regime made Regime say Low while the Builder in the same session said Moderate."""
    at = _run()
    at.number_input(key="_rlo").set_value(17.0).run()
    assert "Regime: :green[Low]" in _texts(at)
    at.switch_page("app_pages/builder.py").run()
    at.run()
    assert not at.exception
    assert next(m.value for m in at.metric if m.label == "Regime") == "Low"
    assert "rlo=17" in at.sidebar.code[1].value   # and it travels in the Builder's link
    at.switch_page("app_pages/regime.py").run()
    assert at.number_input(key="_rlo").value == 17.0   # and is still set when coming back
