"""Shared test set-up: no test may reach the internet.

yfinance is told not to use curl_cffi before anything can import it, and
every socket connection to a non-loopback address raises at once.  The real
market data for calibration tests comes from the folder named by
``ALVH_DATA_DIR`` (skipped with a reason when it is unset).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("YF_DISABLE_CURL_CFFI", "1")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
# app.py shows visitors one line for an unexpected error; under test every error is raised as it is.
os.environ.setdefault("ALVH_RAISE_ERRORS", "1")


class NetworkBlocked(OSError):
    """Raised when a test tries to open a connection off this machine."""


def _is_loopback(address) -> bool:
    if isinstance(address, tuple):
        host = address[0]
    else:
        return True  # unix sockets
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self, address):
    if not _is_loopback(address):
        raise NetworkBlocked(f"tests may not reach {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_loopback(address):
        raise NetworkBlocked(f"tests may not reach {address!r}")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host not in (None, "localhost") and not _is_loopback((host, 0)):
        raise NetworkBlocked(f"tests may not resolve {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
socket.getaddrinfo = _guarded_getaddrinfo


def _data_dir() -> Path | None:
    value = os.environ.get("ALVH_DATA_DIR")
    if not value:
        return None
    path = Path(value)
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real market data folder, or a skip with the reason."""
    path = _data_dir()
    if path is None:
        pytest.skip("ALVH_DATA_DIR is not set to a folder with the real market data")
    return path


@pytest.fixture(scope="session")
def real_history(data_dir):
    """The real history folder, loaded once per run."""
    from alvh_core.data.closes import load_history_folder

    return load_history_folder(data_dir)


@pytest.fixture(scope="session")
def backtest_panel(request) -> tuple:
    """The history the backtester is held to its reference on: the real one with ``ALVH_DATA_DIR``,
    else the seeded simulated market (1990-2026, every column a real panel has), so that the
    equivalence runs on every machine."""
    if _data_dir() is not None:
        return request.getfixturevalue("real_history").panel, "file"
    from alvh_core.model.simulator import simulated_panel

    return simulated_panel(seed=11), "simulated"


@pytest.fixture(scope="session")
def backtest_market(backtest_panel, request):
    """``backtest_panel`` as the backtest's arrays (the real market's, once per run, when there is data)."""
    panel, source = backtest_panel
    if source == "file":
        return request.getfixturevalue("real_market")
    from alvh_core.history.backtest import market_arrays

    return market_arrays(panel, source=source)


@pytest.fixture(scope="session")
def real_market(real_history):
    """The real history as backtest arrays (stress score and budgets included), once per run."""
    from alvh_core.history.backtest import market_arrays

    return market_arrays(real_history.panel)
