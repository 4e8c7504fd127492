"""The live-data seam, driven with frames shaped like yfinance's and text
shaped like Cboe's, including their failures.  The network stays blocked."""

from __future__ import annotations

import os
import threading
import time
import urllib.error
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from yfinance.exceptions import YFRateLimitError

from alvh_core.data.closes import load_history_folder
from alvh_core.data.live import (
    YAHOO_TICKERS,
    FetchResult,
    LiveFeed,
    LiveMarket,
    fetch_cboe_series,
    fetch_cboe_vix_family,
    fetch_live_panel,
    fetch_spx_chain,
    fetch_yahoo_history,
    load_last_good,
    normalise_yahoo,
    save_last_good,
)
from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.model.snapshot import choose_snapshot

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


def test_fifty_sessions_on_a_cold_cache_cause_one_upstream_call_and_none_waits():
    calls, release = [], threading.Event()

    def slow_fetch():
        calls.append(1)
        release.wait(5)
        return FetchResult("ok", normalise_yahoo(yahoo_frame()), source="live")

    feed = LiveFeed("history", slow_fetch, ttl=3600)
    statuses, barrier = [], threading.Barrier(50)

    def session():
        barrier.wait()
        started = time.perf_counter()
        feed.poke()
        statuses.append((feed.status(), time.perf_counter() - started))

    threads = [threading.Thread(target=session) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Every session came back at once, with nothing yet, while the one download runs.
    assert all(s.good is None and s.fetching for s, _ in statuses)
    assert max(elapsed for _, elapsed in statuses) < 0.5
    release.set()
    assert feed.wait(5)
    assert len(calls) == 1 and feed.upstream_calls == 1
    state = feed.status()
    assert state.good is not None and state.fresh and not state.fetching and state.version == 1
    assert not feed.poke() and feed.upstream_calls == 1  # fresh: no second download


def test_a_failed_source_is_backed_off_for_every_session():
    now = [0.0]
    outcomes = [FetchResult("network", message="No connection to Yahoo."),
                FetchResult("rate_limited", message="Yahoo is rate-limiting requests."),
                FetchResult("ok", normalise_yahoo(yahoo_frame()))]
    feed = LiveFeed("history", lambda: outcomes.pop(0), ttl=100, backoff=(60, 120), clock=lambda: now[0])
    assert feed.poke() and feed.wait(2)
    state = feed.status()
    assert state.failure.status == "network" and state.retry_in == 60 and state.good is None
    now[0] = 59.0
    assert not feed.poke() and feed.upstream_calls == 1       # within the back-off: nobody retries
    assert feed.status().retry_in == pytest.approx(1.0)
    now[0] = 61.0
    assert feed.poke() and feed.wait(2)
    assert feed.status().failure.status == "rate_limited" and feed.status().retry_in == 120  # longer the 2nd time
    now[0] = 100.0
    assert not feed.poke()
    assert feed.refresh() and feed.wait(2)                     # the user's refresh ignores the back-off
    assert feed.status().good is not None and feed.status().failure is None and feed.upstream_calls == 3
    now[0] = 150.0
    assert not feed.poke()                                     # fresh success served from memory


def test_a_download_that_never_answers_is_reported_and_not_stacked():
    now = [0.0]
    hang = threading.Event()
    feed = LiveFeed("history", lambda: (hang.wait(5), FetchResult("timeout"))[1], ttl=100, backoff=(60,),
                    deadline=25, clock=lambda: now[0])
    assert feed.poke()
    now[0] = 10.0
    assert feed.status().fetching
    now[0] = 26.0
    state = feed.status()
    assert not state.fetching and state.failure.status == "timeout" and "25 s" in state.failure.message
    now[0] = 100.0  # past the back-off, but the first download still hangs: no second one
    assert not feed.poke() and feed.upstream_calls == 1
    hang.set()
    assert feed.wait(5)
    assert feed.status().failure.status == "timeout" and feed.poke()
    hang.set()
    feed.wait(5)
    assert feed.upstream_calls == 2


def test_live_market_lays_quotes_over_history_and_says_what_it_is_doing(monkeypatch, tmp_path):
    monkeypatch.delenv("ALVH_OFFLINE", raising=False)
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    history = FetchResult("ok", normalise_yahoo(yahoo_frame(days=30)), fetched_at="2026-07-08T20:00:00+00:00")
    quotes = normalise_yahoo(yahoo_frame(days=3)) * 1.01
    live = LiveMarket(lambda: history, lambda: FetchResult("ok", quotes, fetched_at="2026-07-08T20:15:00+00:00"))
    live.history.on_success = None  # no saved copy from a unit test
    assert live.result() is None and live.notes() == []
    live.poke()
    assert live.wait(5)
    live.poke()  # the quotes start once there is a history
    assert live.wait(5)
    merged = live.result()
    assert merged.ok and merged.fetched_at.endswith("20:15:00+00:00")
    # Where both have a day the quotes win; elsewhere the history stays.
    assert merged.frame["vix"].iloc[:3].to_numpy() == pytest.approx(quotes["vix"].to_numpy())
    assert merged.frame["vix"].iloc[3:].to_numpy() == pytest.approx(history.frame["vix"].iloc[3:].to_numpy())
    assert live.result() is merged   # merged once per pair of downloads, not on every page run
    live.quotes.refresh()
    assert live.wait(5)
    again = live.result()
    assert again is not merged and again.frame.equals(merged.frame)

    failing = LiveMarket(lambda: FetchResult("network", message="No connection to Yahoo."), backoff=(60,))
    failing.poke()
    failing.wait(5)
    assert failing.result().status == "network"
    (note,) = failing.notes()
    assert note.startswith("No connection to Yahoo.") and "next try in 60 s" in note


def test_a_failure_is_backed_off_by_every_process_sharing_the_cache_folder(tmp_path):
    shared = tmp_path / "live-backoff.json"
    one = LiveFeed("history", lambda: FetchResult("timeout", message="Yahoo did not answer in time."), ttl=100,
                   backoff=(60,), shared_file=shared)
    assert one.poke() and one.wait(5)
    calls = []
    other = LiveFeed("history", lambda: calls.append(1) or FetchResult("ok", normalise_yahoo(yahoo_frame())),
                     ttl=100, shared_file=shared)  # a second server process, same cache folder
    assert not other.poke() and calls == []
    state = other.status()
    assert state.failure.message == "Yahoo did not answer in time." and 55 < state.retry_in <= 60
    assert other.refresh() and other.wait(5) and calls == [1]  # the user's refresh clears it for everyone
    assert other.status().good is not None
    shared.write_text("<html>not json</html>")  # a damaged state file is ignored, never fatal
    third = LiveFeed("history", lambda: FetchResult("ok", normalise_yahoo(yahoo_frame())), ttl=100,
                     shared_file=shared)
    assert third.poke() and third.wait(5) and third.status().good is not None


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
    # ^IRX is a discount yield: a 91-day bill costs 1 - d·91/360; its continuous rate is -ln(price)·365/91.
    discount = snap.panel["irx"].iloc[-1] / 100
    assert snap.market.rate == pytest.approx(-np.log(1 - discount * 91 / 360) * 365 / 91)
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


GOOD_COPY = "date,spx,vix,vix3m,irx\n2026-07-06,7400.5,17.1,19.2,4.1\n2026-07-07,7450.25,16.8,19.3,4.1\n"
CORRUPT_COPIES = {
    "inf_last_row": GOOD_COPY + "2026-07-08,7482.71,inf,19.4,4.1\n",
    "html": "<html><body>Too Many Requests</body></html>\n",
    "duplicated_date": GOOD_COPY + "2026-07-07,7460.0,16.5,19.1,4.1\n",
    "huge_value": GOOD_COPY + "2026-07-08,1e308,16.9,19.4,4.1\n",
    "tiny_value": GOOD_COPY + "2026-07-08,7482.71,0.0001,19.4,4.1\n",
}


@pytest.mark.parametrize("variant", list(CORRUPT_COPIES))
def test_a_corrupt_saved_copy_is_cleaned_or_set_aside(tmp_path, variant):
    (tmp_path / "yahoo.csv").write_text(CORRUPT_COPIES[variant])
    result = load_last_good("yahoo", tmp_path)
    if variant == "html":
        assert result.status == "bad_format" and "set aside as yahoo.csv.bad" in result.message
        assert not (tmp_path / "yahoo.csv").exists() and (tmp_path / "yahoo.csv.bad").exists()
        again = load_last_good("yahoo", tmp_path)  # never read again, and still said
        assert again.status == "bad_format" and "set aside" in again.message and again.frame is None
        return
    assert result.ok and "bad row" in result.message
    frame = result.frame
    assert frame.index.is_unique and np.isfinite(frame["vix"]).all() and frame["vix"].between(1, 500).all()
    snapshot = choose_snapshot(None, result)
    assert snapshot.source == "cache" and 1 <= snapshot.market.vix <= 500 and snapshot.market.spot < 1e6


def test_the_saved_copy_is_validated_when_written(tmp_path):
    frame = normalise_yahoo(yahoo_frame(days=5))
    frame.iloc[-1, frame.columns.get_loc("vix")] = 1e308
    assert save_last_good("yahoo", FetchResult("ok", frame), tmp_path) is not None
    back = load_last_good("yahoo", tmp_path)
    assert back.ok and len(back.frame) == 4 and not back.message


def test_processes_sharing_a_cache_folder_download_once_per_ttl(tmp_path):
    """Two feeds as two server processes would hold them: the second finds the first one's fresh copy."""
    shared = tmp_path / "live-backoff.json"
    calls = []

    def feed(name: str) -> LiveFeed:
        def fetch():
            calls.append(name)
            time.sleep(0.2)   # the download takes a while: the other process waits on the folder's lock
            return FetchResult("ok", normalise_yahoo(yahoo_frame()), fetched_at=datetime.now(UTC).isoformat())
        return LiveFeed("history", fetch, ttl=100, shared_file=shared, shared_copy="yahoo",
                        on_success=lambda r: save_last_good("yahoo", r, tmp_path))

    one, two = feed("one"), feed("two")
    assert one.poke() and two.poke()          # both due at once
    assert one.wait(5) and two.wait(5)
    assert len(calls) == 1 and one.upstream_calls + two.upstream_calls == 1
    assert one.status().good is not None and two.status().good is not None
    assert not one.poke() and not two.poke()  # both fresh now


def test_two_server_processes_make_one_upstream_request(tmp_path):
    """Real processes, the Yahoo stand-in counting requests: one history and one quotes download in all."""
    import subprocess
    import sys

    stub = tmp_path / "stub"
    stub.mkdir()
    panel = normalise_yahoo(yahoo_frame())
    panel.to_csv(stub / "panel.csv", index_label="date")
    script = ("from alvh_core.data.live import LiveMarket\n"
              "m = LiveMarket()\n"
              "for _ in range(3):\n"
              "    m.poke(); m.wait(20)\n"
              "print(m.result().status, m.history.upstream_calls, m.quotes.upstream_calls)\n")
    env = {**os.environ, "ALVH_UPSTREAM_STUB": str(stub), "ALVH_CACHE_DIR": str(tmp_path / "cache"),
           "ALVH_OFFLINE": "", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(out[0] in ("ok", "partial") for out in outputs), outputs
    requests = (stub / "requests.log").read_text().splitlines()
    periods = sorted(line.split()[2] for line in requests)
    assert periods == ["5d", "max"], requests         # one history, one quotes request between the two
    assert sum(int(out[1]) + int(out[2]) for out in outputs) == 2


def test_a_cboe_index_file_is_one_background_download_for_every_session(monkeypatch, tmp_path):
    from alvh_core.data import live

    monkeypatch.delenv("ALVH_OFFLINE", raising=False)
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(live, "_INDEX_FEEDS", {})
    calls = []
    started = threading.Event()
    release = threading.Event()

    def getter(url, timeout):
        calls.append(url)
        started.set()
        release.wait(5)
        return b"DATE,VXTH\n07/07/2026,301.5\n07/08/2026,302.25\n"

    monkeypatch.setattr(live, "cboe_get", getter)
    feed = live.index_feed("VXTH")
    assert live.index_feed("VXTH") is feed
    assert feed.poke() and started.wait(5)
    # The page's thread is not held: while Cboe answers, the feed says it is fetching, and a
    # second session's click starts nothing.
    assert feed.status().fetching and not feed.poke()
    release.set()
    assert feed.wait(5)
    state = feed.status()
    assert state.good.frame.loc["2026-07-08", "vxth"] == 302.25 and len(calls) == 1
    assert not feed.poke() and len(calls) == 1   # fresh for the TTL
    with pytest.raises(ValueError):
        live.index_feed("NOPE")
