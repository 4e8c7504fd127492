"""History files: both Cboe date formats, validation naming file and row."""

from __future__ import annotations

import pandas as pd
import pytest

from alvh_core.history import HistoryFormatError, closes_on, load_history_folder, read_panel_csv, read_series_csv


def test_both_date_formats_and_both_layouts():
    iso, problems = read_series_csv(b"DATE,OPEN,HIGH,LOW,CLOSE\n2020-03-16,1,1,1,82.69\n2020-03-13,1,1,1,57.83\n", "VIX")
    us, _ = read_series_csv(b"DATE,VVIX\n03/16/2020,207.59\n", "VVIX")
    assert not problems
    assert iso.index.is_monotonic_increasing and iso.loc["2020-03-16"] == 82.69
    assert us.loc["2020-03-16"] == 207.59


def test_bad_rows_are_named_and_dropped():
    text = b"DATE,CLOSE\n2020-01-02,10\nnot-a-date,11\n2020-01-03,-4\n2020-01-03,12\n2020-01-03,13\n"
    series, problems = read_series_csv(text, "X.csv")
    assert list(series.values) == [10.0, 12.0]
    rows = {p.row: p.problem for p in problems}
    assert "unreadable date" in rows[3] and "positive" in rows[4] and "duplicated" in rows[6]
    assert str(problems[0]).startswith("X.csv, row 3")


def test_unreadable_files_raise_a_clear_error():
    with pytest.raises(HistoryFormatError, match="no DATE column"):
        read_series_csv(b"foo,bar\n1,2\n", "f.csv")
    with pytest.raises(HistoryFormatError, match="no usable rows"):
        read_series_csv(b"DATE,CLOSE\nx,y\n", "f.csv")
    with pytest.raises(HistoryFormatError, match="vix"):
        read_panel_csv(b"date,spx\n2020-01-02,3000\n", "p.csv")


@pytest.mark.data
def test_real_folder_known_closes(data_dir):
    h = load_history_folder(data_dir)
    row = closes_on(h, "2020-03-16")
    assert row["vix"] == 82.69 and row["spx"] == 2386.13 and row["vix9d"] > row["vix"] > row["vix3m"]
    assert closes_on(h, "2008-11-20")["vix"] == 80.86
    assert closes_on(h, "2009-03-09")["spx"] == 676.53
    assert h.first == pd.Timestamp("1990-01-02")
