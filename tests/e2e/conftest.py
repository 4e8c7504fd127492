"""Start ``streamlit run serve.py`` (app.py behind its server) on 127.0.0.1 and drive Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
#: The whole browser matrix (every width × scheme, every slider) with ``ALVH_E2E_FULL=1``; by default
#: one case of each kind runs (a desktop in light, a phone in dark; a folded slider, a fragment's).
FULL = bool(os.environ.get("ALVH_E2E_FULL"))


def one_of_each(cases: list, kept: list) -> list:
    """``cases`` for ``parametrize``: those in ``kept`` always, the rest only in the full run."""
    skip = pytest.mark.skipif(not FULL, reason="the full browser matrix: ALVH_E2E_FULL=1")
    return [case if case in kept else pytest.param(*(case if isinstance(case, tuple) else (case,)), marks=skip)
            for case in cases]


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(script: Path, env_extra: dict | None = None, log: Path | None = None,
                    wait: float = 60.0) -> tuple[subprocess.Popen, str]:
    """``streamlit run script`` on 127.0.0.1 (offline, a cache folder of its own); its output goes to
    ``log`` (default: test-artifacts/server-<port>.log), never to a pipe nobody reads."""
    port = _free_port()
    # The server is a separate process, outside the socket guard: keep it offline
    # and give it a cache folder of its own.
    env = {**os.environ, "YF_DISABLE_CURL_CFFI": "1", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
           "ALVH_OFFLINE": "1", "ALVH_CACHE_DIR": str(ARTIFACTS / f"cache-{port}"), **(env_extra or {})}
    ARTIFACTS.mkdir(exist_ok=True)
    with open(log or ARTIFACTS / f"server-{port}.log", "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + wait
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not start within {wait:.0f} s")


def date_slider(page, key: str):
    """The Builder's date slider ``key`` ("hz", "sd"): its range input (inside the component's shadow root)."""
    return page.locator(f".st-key-{key}_slider input[type=range]")


def move_date_slider(page, key: str, target: int) -> None:
    """Arrow keys on the date slider ``key`` until it shows day ``target`` (each press moves the charts in
    the browser at once)."""
    handle = date_slider(page, key)
    handle.focus()
    now = int(handle.input_value())
    for _ in range(abs(target - now)):
        handle.press("ArrowRight" if target > now else "ArrowLeft")


class Blackhole:
    """A server on 127.0.0.1 that accepts every connection and never answers:
    the network that drops packets.  ``proxies`` points every HTTP client of a
    process at it (yfinance through requests, Cboe through urllib)."""

    def __init__(self) -> None:
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)  # read nothing, answer nothing

    @property
    def proxies(self) -> dict:
        url = f"http://127.0.0.1:{self.port}"
        return {name: url for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}

    def close(self) -> None:
        self.closed = True
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests, but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def app_url():
    proc, url = start_streamlit(ROOT / "serve.py", {"ALVH_DATA_DIR": ""})
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def files_app_url():
    """The app reading the real data folder (skipped without ALVH_DATA_DIR)."""
    folder = os.environ.get("ALVH_DATA_DIR")
    if not folder or not Path(folder).is_dir():
        pytest.skip("ALVH_DATA_DIR is not set to a folder with the real market data")
    proc, url = start_streamlit(ROOT / "serve.py", {"ALVH_DATA_DIR": folder})
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


#: How far back the "last week" data folder ends: the market moved on since a link was made there.
MOVED_DAYS = 10


@pytest.fixture(scope="session")
def last_week_app_url(tmp_path_factory):
    """The app on the real data folder as it stood ``MOVED_DAYS`` trading days before its last day: every
    daily file cut there (in a temporary folder; chains and events linked), so that a link made on it
    is a link made before the market moved."""
    folder = os.environ.get("ALVH_DATA_DIR")
    if not folder or not Path(folder).is_dir():
        pytest.skip("ALVH_DATA_DIR is not set to a folder with the real market data")
    import pandas as pd

    source, cut = Path(folder), tmp_path_factory.mktemp("last_week")
    days = pd.to_datetime(pd.read_csv(source / "SPX_History.csv")["DATE"], format="%m/%d/%Y")
    end = days.sort_values().iloc[-1 - MOVED_DAYS]
    for path in source.iterdir():
        if path.is_dir():
            (cut / path.name).symlink_to(path)
        elif path.suffix == ".csv":
            frame = pd.read_csv(path, dtype=str)
            when = pd.to_datetime(frame.iloc[:, 0], format="mixed", errors="coerce")
            frame[when.isna() | (when <= end)].to_csv(cut / path.name, index=False)
    proc, url = start_streamlit(ROOT / "serve.py", {"ALVH_DATA_DIR": str(cut)})
    yield url
    proc.terminate()
    proc.wait(timeout=10)
