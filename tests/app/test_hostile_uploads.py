"""Hostile uploads in the sidebar's "Data files" (AppTest): each gets a message naming the problem, the
page keeps working, and a file that cannot be used leaves the previous good data in place."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
DAYS = pd.bdate_range("2024-01-02", periods=300)


def _panel(spx_shift: float = 0.0) -> bytes:
    rng = np.random.default_rng(3)
    spx = 4800 * np.exp(np.cumsum(rng.normal(0, 0.01, DAYS.size))) + spx_shift
    vix = np.clip(15 + np.cumsum(rng.normal(0, 0.5, DAYS.size)), 10, 60)
    return pd.DataFrame({"date": DAYS.strftime("%Y-%m-%d"), "spx": spx.round(2), "vix": vix.round(2)}) \
        .to_csv(index=False).encode()


def _rows(text: str) -> bytes:
    return text.encode()


GOOD = _panel()
HEADER = "date,spx,vix\n"
HOSTILE = {
    # name -> (bytes, words the message must contain, whether the upload is refused as a whole)
    "random bytes": (bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)), "not a readable CSV",
                     True),
    "empty": (b"", "not a readable CSV", True),
    "html": (b"<!DOCTYPE html><html><body>Too many requests</body></html>", "no 'date' column", True),
    "wrong columns": (b"when,close\n2024-01-02,1\n2024-01-03,2\n", "no 'date' column", True),
    "negative prices": (_rows(HEADER + "".join(f"{d:%Y-%m-%d},{-5000 if i % 7 == 0 else 5000},{-3 if i % 9 == 0 else 18}\n"
                                                for i, d in enumerate(DAYS))), "must be between 1 and", False),
    "duplicated dates": (_rows(HEADER + "".join(f"{d:%Y-%m-%d},5000,18\n{d:%Y-%m-%d},5001,19\n" for d in DAYS)),
                         "duplicated date 2024-01-02", False),
    "mixed date formats": (_rows(HEADER + "".join(f"{d:%Y-%m-%d},5000,18\n" if i % 2 else f"{d:%m/%d/%Y},5000,18\n"
                                                  for i, d in enumerate(DAYS))), "Loaded hostile.csv", False),
    "future dates": (_rows(HEADER + "".join(f"{d:%Y-%m-%d},5000,18\n" for d in DAYS)
                           + "2099-01-02,5000,18\n2099-01-05,5000,18\n"), "date 2099-01-02 is in the future", False),
    "over the cap": (b"date,spx,vix\n" + b"2024-01-02,5000,18\n" * 1_200_000, "larger than 20 MB; ignored", True),
    "a million rows": (b"date,spx,vix\n" + b"2024-01-02,5000,18\n" * 1_000_000, "1,000,001 lines", True),
}


@pytest.fixture
def app(monkeypatch, tmp_path):
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ALVH_DATA_DIR", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    return at


def _sidebar_text(at: AppTest) -> str:
    return " ".join(str(c.value) for c in at.sidebar.caption).replace("\\", "")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_upload_is_named_and_the_good_data_kept(app, name):
    at = app
    at.sidebar.get("file_uploader")[0].set_value(("panel.csv", GOOD, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    assert "Loaded panel.csv" in _sidebar_text(at)
    spot = next(w for w in at.sidebar.number_input if w.key.startswith("mkt_spot"))
    good_spot = spot.value
    content, words, refused = HOSTILE[name]
    at.sidebar.get("file_uploader")[0].set_value(("hostile.csv", content, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    text = _sidebar_text(at)
    if refused:
        assert "hostile.csv" in text and "Keeping the previous good files." in text, text
        assert words in text
        assert next(w for w in at.sidebar.number_input if w.key.startswith("mkt_spot")).value == good_spot
    else:
        assert "Loaded hostile.csv" in text and words in text, text
    # The page under it still shows its numbers.
    assert [m for m in at.metric]
