"""A hosted server trusts no visitor: uploaded content is parsed, never opened as a path; a data folder's
files are regular files inside it; every file of the cache folder is validated with bounded parsing, and a
bad one is set aside while the app goes on."""

from __future__ import annotations

import json
import os
import threading
import time
import tracemalloc
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from alvh_core.data.chains import ChainFormatError, chain_on, parse_cboe_chain, read_cboe_chain_file
from alvh_core.data.closes import (
    HistoryFormatError,
    load_history_folder,
    read_panel_csv,
    read_series_csv,
    read_vx_continuous,
    visitor_folder,
)
from alvh_core.data.files import UnsafeFileError, inside, json_depth, read_bytes, read_small_json
from alvh_core.data.live import (
    STALE_TMP_SECONDS,
    FetchResult,
    LiveFeed,
    _read_backoff,
    _write_backoff,
    clean_cache_folder,
    load_last_good,
    save_last_good,
)

#: What a hostile visitor put in a file named spx_quotedata.csv: each is a path on the server.
PATH_PAYLOADS = ["/dev/zero", "/etc/passwd", "/root/.bashrc", "/proc/self/environ", "/nonexistent/secret.csv",
                 "/etc", "~/.bashrc", "../../etc/passwd", "C:\\Windows\\win.ini"]


def _panel(days: int = 30, spx: float = 5000.0, end: str | None = None) -> pd.DataFrame:
    index = pd.bdate_range(end=end or pd.Timestamp.today().normalize(), periods=days)
    rng = np.random.default_rng(7)
    return pd.DataFrame({"spx": spx * np.exp(np.cumsum(rng.normal(0, 0.01, days))),
                         "vix": 15 + rng.normal(0, 0.5, days).cumsum().clip(-4, 10)}, index=index)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    return path


# --- uploads are bytes, never paths ------------------------------------------------------------

@pytest.mark.parametrize("payload", PATH_PAYLOADS)
def test_a_chain_upload_naming_a_server_file_is_parsed_as_text(payload):
    """The bytes are the chain: no file is opened, whatever they say, and memory stays flat."""
    tracemalloc.start()
    with mock.patch("os.open", side_effect=AssertionError("a file was opened")), \
            mock.patch("builtins.open", side_effect=AssertionError("a file was opened")):
        with pytest.raises(ChainFormatError, match="not a Cboe chain"):
            parse_cboe_chain(payload.encode(), "spx_quotedata.csv")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 * 2**20


def test_a_chain_upload_naming_the_data_folders_own_chain_is_not_read(data_dir):
    """The issue's case: the path of a chain that sits on the server, uploaded as a file's content."""
    path = data_dir / "chains" / "spx_quotedata_2023-02-07.csv"
    with pytest.raises(ChainFormatError, match="not a Cboe chain"):
        parse_cboe_chain(str(path).encode(), "spx_quotedata.csv")
    assert parse_cboe_chain(path.read_bytes(), "spx_quotedata.csv").spot > 0  # its content parses, of course


def test_a_fifo_or_a_device_is_refused_at_once(fifo):
    """Reading a FIFO or /dev/zero held a server thread (or all memory); now refused before reading."""
    started = time.monotonic()
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(ChainFormatError, match="not a regular file"):
            read_cboe_chain_file(path)
        with pytest.raises(HistoryFormatError, match="not a regular file"):
            read_series_csv(path, "VIX_History.csv")
    assert time.monotonic() - started < 5


def test_text_is_never_taken_for_a_file_name():
    with pytest.raises(TypeError):
        read_series_csv("/etc/passwd", "VIX_History.csv")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        read_panel_csv("/etc/passwd", "p.csv")  # type: ignore[arg-type]


# --- a data folder's files are regular files inside it --------------------------------------

def _vix_file(folder: Path) -> None:
    (folder / "VIX_History.csv").write_text("DATE,CLOSE\n2020-01-02,16\n2020-01-03,17\n")


def test_a_folder_with_a_loop_of_links_loads_what_it_can(tmp_path):
    _vix_file(tmp_path)
    os.symlink("SPX_History.csv", tmp_path / "SPX_History.csv")        # a link to itself
    os.symlink(tmp_path / "b.csv", tmp_path / "VVIX_History.csv")
    os.symlink(tmp_path / "VVIX_History.csv", tmp_path / "b.csv")       # a loop of two
    os.mkfifo(tmp_path / "VIX3M_History.csv")                           # a FIFO
    os.symlink("/dev/zero", tmp_path / "VIX6M_History.csv")             # a device, outside
    history = load_history_folder(tmp_path)
    assert history.files == ("VIX_History.csv",)


def test_inside_refuses_every_way_out(tmp_path, fifo):
    _vix_file(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-secret.csv"
    outside.write_text("secret")
    os.symlink(outside, tmp_path / "out.csv")
    assert inside(tmp_path, "VIX_History.csv").name == "VIX_History.csv"
    for name, words in (("out.csv", "outside"), ("pipe.csv", "not a regular file"), ("missing.csv", "no such"),
                        ("../" + outside.name, "not a file name"), (str(outside), "not a file name")):
        with pytest.raises(UnsafeFileError, match=words) as caught:
            inside(tmp_path, name)
        assert str(tmp_path) not in str(caught.value)   # the message names the file, not the server's path


def test_chain_on_takes_only_a_day_and_a_regular_file(tmp_path):
    (tmp_path / "chains").mkdir()
    os.mkfifo(tmp_path / "chains" / "spx_quotedata_2024-01-02.csv")
    assert chain_on(tmp_path, "2024-01-02") is None
    assert chain_on(tmp_path, "../../etc/passwd") is None


@pytest.mark.parametrize("typed", ["~", "~daemon", "~nosuchuser", "/proc/self", "/proc/self/cwd", "/etc", "..",
                                   "../..", "sub/../..", "link-out", "\x00", "a" * 300])
def test_a_visitor_folder_stays_under_the_operators(tmp_path, typed):
    root = tmp_path / "data"
    (root / "group-a").mkdir(parents=True)
    os.symlink(tmp_path, root / "link-out")
    with pytest.raises(HistoryFormatError) as caught:
        visitor_folder(root, typed)
    message = str(caught.value)
    assert "not a folder under the server's data folder" in message
    assert str(tmp_path) not in message and "/usr" not in message and "root" not in message.replace(typed, "")


def test_a_visitor_folder_under_the_operators_is_accepted(tmp_path):
    root = tmp_path / "data"
    (root / "group-a").mkdir(parents=True)
    assert visitor_folder(root, "") == root.resolve()
    assert visitor_folder(root, "group-a") == (root / "group-a").resolve()
    assert visitor_folder(root, "/group-a/") == (root / "group-a").resolve()  # leading slash: relative anyway


def test_a_vx_file_without_its_columns_is_a_format_error(tmp_path):
    (tmp_path / "VX2_continuous.csv").write_text("Date,Close\n2024-08-05,30\n")
    with pytest.raises(HistoryFormatError, match="Trade Date"):
        read_vx_continuous(tmp_path / "VX2_continuous.csv")
    good = read_vx_continuous(b"Trade Date,Settle\n2024-08-06,25.5\n2024-08-05,30\n2006-01-03,125\n", "VX1")
    assert good.tolist() == [12.5, 30.0, 25.5]   # the old 10x scale before 2007-03-26 put right, oldest first


# --- bounded parsing -------------------------------------------------------------------------

def test_json_depth_counts_nesting_outside_strings():
    assert json_depth('{"a": [1, {"b": "[[[[["}]}') == 3
    assert json_depth("[" * 100_000 + "]" * 100_000, limit=16) == 17
    assert json_depth('"\\"[[["') == 0


def test_small_json_is_bounded(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UnsafeFileError):   # too large and too deep: never handed to the parser
        read_small_json(deep)
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 40 + "]" * 40)
    with pytest.raises(UnsafeFileError, match="nested deeper"):
        read_small_json(nested)
    nan = tmp_path / "nan.json"
    nan.write_text('{"until": NaN}')
    with pytest.raises(UnsafeFileError, match="not JSON"):
        read_small_json(nan)
    with pytest.raises(UnsafeFileError, match="not a regular file"):
        read_bytes(Path("/dev/zero"))


# --- the cache folder cannot break a page ------------------------------------------------------

def _saved(folder: Path, frame: pd.DataFrame | None = None) -> None:
    assert save_last_good("yahoo", FetchResult("ok", frame if frame is not None else _panel()), folder)


@pytest.mark.parametrize("content, unreadable", [(b"[" * 100_000 + b"]" * 100_000, True),
                                                 (b'{"fetched_at": NaN}', True), (b"\xff\xfe garbage", True),
                                                 (b'"a string"', False), (b"[1, 2, 3]", False)])
def test_a_bad_metadata_file_leaves_the_saved_copy_usable(tmp_path, content, unreadable):
    _saved(tmp_path)
    (tmp_path / "yahoo.json").write_bytes(content)
    result = load_last_good("yahoo", tmp_path)
    assert result.ok and len(result.frame) == 30
    assert (tmp_path / "yahoo.json.bad").exists() == unreadable
    assert ("set aside" in result.message) == unreadable


def test_a_saved_copy_cut_off_while_written_is_set_aside(tmp_path):
    _saved(tmp_path, _panel(days=600))
    body = (tmp_path / "yahoo.csv").read_bytes()
    (tmp_path / "yahoo.csv").write_bytes(body[: len(body) // 3])   # a kill -9 halfway, say
    result = load_last_good("yahoo", tmp_path)
    assert result.status == "bad_format" and "cut off" in result.message
    assert (tmp_path / "yahoo.csv.bad").exists() and not (tmp_path / "yahoo.csv").exists()


def test_a_saved_copy_with_impossible_levels_is_set_aside(tmp_path):
    _saved(tmp_path, _panel(spx=60_000.0))   # SPX ×10
    result = load_last_good("yahoo", tmp_path)
    assert result.status == "bad_format" and "outside 100–20,000" in result.message


def test_an_old_saved_copy_is_labeled_old(tmp_path):
    from alvh_core.model.snapshot import choose_snapshot

    _saved(tmp_path, _panel(end="2011-11-23"))
    snapshot = choose_snapshot(None, load_last_good("yahoo", tmp_path), None)
    assert snapshot.source == "cache" and "years old" in snapshot.origin
    fresh = tmp_path / "fresh"
    _saved(fresh)
    assert choose_snapshot(None, load_last_good("yahoo", fresh), None).origin == ""


@pytest.mark.parametrize("entry", [{"until": float("nan")}, {"until": float("inf")}, {"until": 1e300},
                                   {"until": "soon"}, {"until": True}, {"until": -5.0}, "not a dict"])
def test_an_impossible_back_off_is_no_back_off(tmp_path, entry):
    path = tmp_path / "live-backoff.json"
    path.write_text(json.dumps({"Yahoo quotes": entry}))   # json.dumps writes NaN and Infinity as such
    assert _read_backoff(path, "Yahoo quotes") is None


def test_a_deeply_nested_back_off_file_is_set_aside_and_live_data_goes_on(tmp_path):
    path = tmp_path / "live-backoff.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    calls = []
    feed = LiveFeed("Yahoo quotes", lambda: calls.append(1) or FetchResult("ok", _panel()), 60.0,
                    shared_file=path)
    assert feed.poke() and feed.wait(10) and calls == [1]
    assert feed.status().good is not None and (tmp_path / "live-backoff.json.bad").exists()
    _write_backoff(path, "Yahoo quotes", time.time() + 30, FetchResult("network", message="down"))
    until, failure = _read_backoff(path, "Yahoo quotes")
    assert 0 < until - time.time() <= 30 and failure.message == "down"


def test_no_temporary_file_stays_behind(tmp_path):
    (tmp_path / "yahoo.csv").mkdir()   # the rename into place fails
    assert save_last_good("yahoo", FetchResult("ok", _panel()), tmp_path) is None
    assert not list(tmp_path.glob("*.tmp"))
    old = tmp_path / "yahoo.123.tmp"
    old.write_text("left by a process killed while saving")
    os.utime(old, (time.time() - STALE_TMP_SECONDS - 5,) * 2)
    young = tmp_path / "yahoo.456.tmp"
    young.write_text("being written now")
    assert clean_cache_folder(tmp_path) == 1 and not old.exists() and young.exists()


def test_a_lock_file_that_is_a_fifo_does_not_hold_the_download(tmp_path):
    os.mkfifo(tmp_path / "live-yahoo-quotes.lock")
    feed = LiveFeed("Yahoo quotes", lambda: FetchResult("ok", _panel()), 60.0,
                    shared_file=tmp_path / "live-backoff.json")
    done = threading.Event()
    threading.Thread(target=lambda: (feed.poke(), feed.wait(10), done.set()), daemon=True).start()
    assert done.wait(10) and feed.status().good is not None
