"""The live-data seam, driven with frames shaped like yfinance's and text
shaped like Cboe's, including their failures.  The network stays blocked."""

from __future__ import annotations

import threading
import time
import urllib.error

import numpy as np
import pandas as pd
import pytest
from yfinance.exceptions import YFRateLimitError

from alvh_core.history import load_history_folder
from alvh_core.market import DEFAULT_MARKET
from alvh_core.marketdata import (
    YAHOO_TICKERS,
    FetchResult,
    SharedFetch,
    fetch_cboe_series,
    fetch_cboe_vix_family,
    fetch_live_panel,
    fetch_spx_chain,
    fetch_yahoo_history,
    load_last_good,
    normalise_yahoo,
    save_last_good,
)
from alvh_core.snapshot import choose_snapshot

FIELDS = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
LEVELS = {"^GSPC": 6000.0, "^VIX": 16.0, "^VIX9D": 14.5, "^VIX3M": 18.0, "^VIX6M": 19.5, "^VVIX": 90.0,
          "^IRX": 4.2, "RSP": 180.0, "SPY": 600.0}


def yahoo_frame(days: int = 30, tz: str | None = None, ticker_first: bool = False, drop: tuple = (),
                nan_rows: int = 0) -> pd.DataFrame:
    """A frame laid out like ``yf.download(tickers, group_by=...)``."""
    index = pd.bdate_range("2026-06-01", periods=days, name="Date")
    if tz:
        index = index.tz_localize(tz)
    rng = np.random.default_rng(1)
    data = {}
    for ticker, level in LEVELS.items():
        path = level * np.exp(np.cumsum(rng.normal(0, 0.01, days)))
        for f in FIELDS:
            values = np.full(days, np.nan) if ticker in drop else (path * 1000 if f == "Volume" else path)
            data[(ticker, f) if ticker_first else (f, ticker)] = values
    frame = pd.DataFrame(data, index=index)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["Ticker", "Price"] if ticker_first else ["Price", "Ticker"])
    if nan_rows:
        frame.iloc[3:3 + nan_rows] = np.nan
    return frame


def test_normalise_both_multiindex_layouts_and_time_zones():
    a = normalise_yahoo(yahoo_frame())
    b = normalise_yahoo(yahoo_frame(ticker_first=True))
    c = normalise_yahoo(yahoo_frame(tz="America/New_York"))
    assert list(a.columns) == list(YAHOO_TICKERS.values())
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    assert a.index.tz is None and a.index.is_monotonic_increasing
    assert all(a.index == a.index.normalize())
    assert a.dtypes.unique().tolist() == [np.dtype(float)]


def test_normalise_drops_empty_rows_and_duplicates():
    frame = yahoo_frame(nan_rows=2)
    frame = pd.concat([frame, frame.iloc[[-1]]])
    panel = normalise_yahoo(frame)
    assert len(panel) == 30 - 2 and not panel.index.duplicated().any()


def test_fetch_reports_partial_tickers():
    result = fetch_yahoo_history(downloader=lambda tickers, **kw: yahoo_frame(drop=("^VIX9D", "RSP")))
    assert result.status == "partial" and result.ok
    assert set(result.missing) == {"vix9d", "rsp"} and "vix9d" in result.message


@pytest.mark.parametrize("exc, status", [
    (YFRateLimitError(), "rate_limited"),
    (TimeoutError("read timed out"), "timeout"),
    (ConnectionError("Failed to establish a new connection"), "network"),
    (RuntimeError("something else"), "network"),
])
def test_fetch_failures_become_typed_outcomes(exc, status):
    def boom(tickers, **kw):
        raise exc

    result = fetch_yahoo_history(downloader=boom)
    assert result.status == status and not result.ok and result.message


def test_empty_frame_is_an_outcome():
    assert fetch_yahoo_history(downloader=lambda t, **kw: pd.DataFrame()).status == "empty"
    assert fetch_yahoo_history(downloader=lambda t, **kw: yahoo_frame(drop=("^VIX",))).status == "empty"


def test_real_yfinance_call_with_the_network_blocked_returns_an_outcome():
    start = time.monotonic()
    result = fetch_yahoo_history(period="5d", timeout=2)
    assert not result.ok and result.status in ("network", "empty", "timeout", "rate_limited")
    assert time.monotonic() - start < 60


def test_offline_switch_makes_no_request(monkeypatch):
    monkeypatch.setenv("ALVH_OFFLINE", "1")

    def never(*a, **k):
        raise AssertionError("no request may be made offline")

    assert fetch_yahoo_history(downloader=never).status == "offline"
    assert fetch_cboe_series("VIX", getter=never).status == "offline"
    assert fetch_spx_chain(getter=never).status == "offline"


CBOE_ISO = b"DATE,OPEN,HIGH,LOW,CLOSE\n2026-07-07,16,16,16,16.13\n2026-07-08,17,17,16,16.90\n"
CBOE_US = b"DATE,VVIX\n07/07/2026,87.90\n07/08/2026,91.38\n"


def test_cboe_csv_in_both_layouts():
    vix = fetch_cboe_series("VIX", getter=lambda url, timeout: CBOE_ISO)
    vvix = fetch_cboe_series("VVIX", getter=lambda url, timeout: CBOE_US)
    assert vix.ok and vix.frame["vix"].iloc[-1] == 16.90
    assert vvix.frame.loc["2026-07-08", "vvix"] == 91.38


def test_cboe_html_rate_limit_and_timeout():
    html = fetch_cboe_series("VIX", getter=lambda url, timeout: b"<!DOCTYPE html><html><body>Access denied")
    assert html.status == "bad_format" and "web page" in html.message

    def http_429(url, timeout):
        raise urllib.error.HTTPError(url, 429, "Too Many Requests", {}, None)

    def slow(url, timeout):
        raise TimeoutError("timed out")

    assert fetch_cboe_series("VIX", getter=http_429).status == "rate_limited"
    assert fetch_cboe_series("VIX", getter=slow).status == "timeout"


def test_cboe_family_merges_and_lists_what_is_missing():
    def getter(url, timeout):
        if "VIX6M" in url:
            return b"<html>not found</html>"
        return CBOE_US if "VVIX" in url else CBOE_ISO

    result = fetch_cboe_vix_family(getter)
    assert result.status == "partial" and result.missing == ("vix6m",)
    assert {"vix", "vix9d", "vix3m", "vvix"} <= set(result.frame.columns)


def test_spx_chain_normalised_with_mids():
    calls = pd.DataFrame({"contractSymbol": ["c1", "c2"], "strike": [6000.0, 6100.0], "bid": [50.0, 0.0],
                          "ask": [52.0, 0.1], "impliedVolatility": [0.15, 0.14]})
    puts = pd.DataFrame({"contractSymbol": ["p1"], "strike": [5900.0], "bid": [40.0], "ask": [41.0],
                         "impliedVolatility": [0.18]})
    result = fetch_spx_chain(getter=lambda n: {"2026-07-17": (calls, puts)})
    assert result.ok and len(result.frame) == 2  # the zero-bid call is dropped
    assert result.frame.loc[result.frame["kind"] == "put", "mid"].item() == 40.5
    assert fetch_spx_chain(getter=lambda n: {}).status == "empty"


def test_fifty_concurrent_requests_on_a_cold_cache_cause_one_upstream_call():
    calls = []

    def slow_fetch():
        calls.append(1)
        time.sleep(0.3)
        return FetchResult("ok", normalise_yahoo(yahoo_frame()), source="live")

    shared = SharedFetch(slow_fetch, ttl=3600, min_interval=2)
    results, barrier = [], threading.Barrier(50)

    def session():
        barrier.wait()
        results.append(shared.get())

    threads = [threading.Thread(target=session) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and shared.upstream_calls == 1
    assert len(results) == 50 and all(r is results[0] for r in results)


def test_failures_are_not_cached_but_retries_are_spaced():
    now = [0.0]
    outcomes = [FetchResult("rate_limited", message="slow down"), FetchResult("ok", normalise_yahoo(yahoo_frame()))]
    shared = SharedFetch(lambda: outcomes.pop(0), ttl=100, min_interval=5, clock=lambda: now[0])
    assert shared.get().status == "rate_limited"
    now[0] = 1.0
    assert shared.get().status == "rate_limited" and shared.upstream_calls == 1  # too soon to retry
    now[0] = 6.0
    assert shared.get().ok and shared.upstream_calls == 2
    now[0] = 50.0
    assert shared.get().ok and shared.upstream_calls == 2  # fresh success served from memory


def test_last_good_copy_round_trip(tmp_path):
    live = FetchResult("ok", normalise_yahoo(yahoo_frame()), fetched_at="2026-07-08T20:00:00+00:00")
    assert save_last_good("yahoo", live, tmp_path) is not None
    back = load_last_good("yahoo", tmp_path)
    assert back.ok and back.source == "cache" and back.fetched_at.startswith("2026-07-08")
    pd.testing.assert_frame_equal(back.frame, live.frame, check_freq=False, check_names=False)
    assert load_last_good("nothing", tmp_path).status == "empty"
    (tmp_path / "broken.csv").write_text("date,vix\nxx,yy\n")
    assert not load_last_good("broken", tmp_path).ok


def test_unwritable_cache_folder_is_not_fatal(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    live = FetchResult("ok", normalise_yahoo(yahoo_frame()))
    assert save_last_good("yahoo", live, blocker / "sub") is None


def test_snapshot_prefers_live_then_cache_then_files_then_default(tmp_path, data_dir):
    live_ok = FetchResult("ok", normalise_yahoo(yahoo_frame()), source="live")
    failed = FetchResult("rate_limited", message="Yahoo is rate-limiting requests")
    cached = FetchResult("ok", normalise_yahoo(yahoo_frame(days=20)), source="cache", fetched_at="2026-07-01T20:00:00")
    files = load_history_folder(data_dir)
    assert choose_snapshot(live_ok, cached, files).source == "live"
    snap = choose_snapshot(failed, cached, files)
    assert snap.source == "cache" and any("rate-limiting" in m for m in snap.messages)
    assert snap.market.rate == pytest.approx(snap.panel["irx"].iloc[-1] / 100)
    snap = choose_snapshot(failed, FetchResult("empty", source="cache"), files, asof="2020-03-16")
    assert snap.source == "file" and snap.market.vix == 82.69 and snap.market.spot == 2386.13
    snap = choose_snapshot(failed, None, None)
    assert snap.source == "default" and snap.market == DEFAULT_MARKET and snap.panel is None
    assert snap.breadth is None
    assert choose_snapshot(live_ok).breadth is not None


def test_cboe_stands_in_when_yahoo_fails():
    def no_yahoo(tickers, **kw):
        raise YFRateLimitError()

    result = fetch_live_panel(no_yahoo, lambda url, timeout: CBOE_US if "VVIX" in url else CBOE_ISO)
    assert result.ok and result.status == "partial" and "spx" in result.missing
    assert "Cboe instead" in result.message
    snap = choose_snapshot(result)
    assert snap.source == "live" and snap.market.vix == 16.90 and snap.market.spot == DEFAULT_MARKET.spot
    assert any("No SPX" in m for m in snap.messages)

    def no_cboe(url, timeout):
        raise TimeoutError("timed out")

    both = fetch_live_panel(no_yahoo, no_cboe)
    assert not both.ok and "rate-limiting" in both.message and "Cboe" in both.message
