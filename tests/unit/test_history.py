"""History files: both Cboe date formats, validation naming file and row."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from alvh_core.data.closes import (
    MAX_PROBLEMS,
    MAX_ROWS,
    PANEL_FILE,
    HistoryFormatError,
    closes_on,
    folder_stamp,
    history_folder,
    history_from_files,
    load_history_folder,
    read_panel_csv,
    read_series_csv,
)


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


def test_a_million_rows_are_refused_at_once_and_duplicates_read_in_linear_time():
    rows = b"".join(b"2020-01-%02d,%d\n" % (1 + i % 28, 10 + i % 7) for i in range(1_000_000))
    with pytest.raises(HistoryFormatError, match="1,000,001 lines"):
        read_series_csv(b"DATE,VIX\n" + rows, "VIX_History.csv", "vix")
    # Just under the limit, nine in ten rows repeat a date: read, the repeats counted, not listed one by one.
    n = MAX_ROWS - 10
    body = b"".join(b"%s,%d\n" % (str(pd.Timestamp("1990-01-01") + pd.Timedelta(days=i // 10)).encode()[:10], 15)
                    for i in range(n))
    series, problems = read_series_csv(b"DATE,VIX\n" + body, "VIX_History.csv", "vix")
    assert len(series) == (n + 9) // 10
    assert len(problems) == MAX_PROBLEMS + 1 and problems[-1].problem.startswith("… and ")
    counted = int(problems[-1].problem.split()[2].replace(",", ""))
    assert MAX_PROBLEMS + counted == n - len(series)
    assert problems[0].row == 3 and "duplicated date 1990-01-01" in problems[0].problem


def test_future_dates_and_impossible_levels_are_bad_rows():
    text = b"DATE,CLOSE\n2020-01-02,16\n2261-01-02,17\n2020-01-03,inf\n2020-01-06,1e308\n2020-01-07,0.0001\n"
    series, problems = read_series_csv(text, "VIX_History.csv", "vix")
    assert list(series.values) == [16.0]
    text = " ".join(str(p) for p in problems)
    assert "2261-01-02 is in the future" in text and "between 1 and 500" in text and "'1e308'" in text
    panel, problems = read_panel_csv(b"date,spx,vix\n2020-01-02,3000,16\n2020-01-03,1e308,17\n2099-01-01,1,1\n", "p")
    assert panel["vix"].tolist() == [16.0, 17.0] and panel["spx"].isna().tolist() == [False, True]
    assert any("spx must be between" in p.problem for p in problems)
    assert any("in the future" in p.problem for p in problems)


def test_folders_take_only_regular_files_inside_them(tmp_path):
    (tmp_path / "VIX_History.csv").write_text("DATE,CLOSE\n2020-01-02,16\n")
    os.symlink(tmp_path / "missing.csv", tmp_path / "SPX_History.csv")  # a broken link
    outside = tmp_path.parent / f"{tmp_path.name}-outside.csv"
    outside.write_text("DATE,CLOSE\n2020-01-02,9\n")
    os.symlink(outside, tmp_path / "VVIX_History.csv")  # a link out of the folder
    history = load_history_folder(tmp_path)
    assert history.files == ("VIX_History.csv",) and list(history.panel.columns) == ["vix"]
    assert folder_stamp(tmp_path)[0][0] == "VIX_History.csv" and len(folder_stamp(tmp_path)) == 1
    for bad, message in (("~nosuchuser/x", "not a folder"), ("/tmp/" + "a" * 300, "too long"),
                         (str(tmp_path / "VIX_History.csv"), "not a folder")):
        with pytest.raises(HistoryFormatError, match=message):
            history_folder(bad)


def test_uploads_combine_as_a_folder_does_and_oversized_or_bad_files_are_named(tmp_path):
    vix = b"DATE,OPEN,HIGH,LOW,CLOSE\n2024-01-02,13,14,12,13.20\n2024-01-03,14,15,13,14.04\n"
    panel = b"date,spx,vix,vvix\n2024-01-02,4742.831,99,80\n2024-01-04,4688.68,14.87,81\n"
    # A panel before the series file: the series still wins where both have a value.
    history, messages = history_from_files([("mine.csv", panel), ("VIX_History.csv", vix),
                                            ("big.csv", b"x" * 2048), ("SPX_History.csv", b"not,a\ncsv")], 1024)
    assert history.panel["vix"].tolist() == [13.20, 14.04, 14.87]
    assert history.panel["spx"].dropna().tolist() == [4742.83, 4688.68]
    assert history.panel.loc["2024-01-02", "vvix"] == 80
    assert any("big.csv: larger than" in m for m in messages) and any("SPX_History.csv" in m for m in messages)
    # The same files in a folder give the same closes.
    (tmp_path / "VIX_History.csv").write_bytes(vix)
    (tmp_path / PANEL_FILE).write_bytes(panel)
    folder = load_history_folder(tmp_path)
    pd.testing.assert_frame_equal(folder.panel[["vix", "spx", "vvix"]], history.panel[["vix", "spx", "vvix"]])
    none, why = history_from_files([("VVIX_History.csv", b"DATE,VVIX\n01/02/2024,80\n")], 1024)
    assert none is None and "no VIX history" in why[-1]


def test_opens_are_kept_only_where_they_are_real_opens(tmp_path):
    # A VIX row with O=H=L=C holds a close only; an SPX open equal to the day before's close is that close.
    (tmp_path / "VIX_History.csv").write_text(
        "DATE,OPEN,HIGH,LOW,CLOSE\n2000-01-03,24.0,24.0,24.0,24.21\n2000-01-04,27.0,27.0,27.0,27.01\n"
        "2004-06-10,15.0,15.0,15.0,15.0\n2008-09-17,30.25,36.5,29.9,36.22\n2008-09-19,30.0,33.1,29.5,32.07\n")
    (tmp_path / "SPX_History.csv").write_text(
        "DATE,OPEN,HIGH,LOW,CLOSE\n01/03/2000,1469.25,1478.0,1438.36,1455.22\n01/04/2000,1455.22,1455.22,1397.43,"
        "1399.42\n09/19/2008,1213.11,1265.12,1213.11,1255.08\n")
    panel = load_history_folder(tmp_path).panel
    assert panel["vix_open"].dropna().to_dict() == {pd.Timestamp(d): v for d, v in (
        ("2000-01-03", 24.0), ("2000-01-04", 27.0), ("2008-09-17", 30.25), ("2008-09-19", 30.0))}
    # 2000-01-03 has no day before in the file: its open stands; 2000-01-04 opened at the 3rd's close.
    assert panel["spx_open"].dropna().index.strftime("%Y-%m-%d").tolist() == ["2000-01-03", "2008-09-19"]


@pytest.mark.data
def test_the_data_folder_gives_opens_vx_settlements_and_no_vvix_before_2007(data_dir):
    panel = load_history_folder(data_dir).panel
    assert panel.loc["2008-09-17", "vix_open"] == 30.25 and panel.loc["2008-09-17", "vix"] == 36.22
    assert panel["vvix"].first_valid_index() >= pd.Timestamp("2007-01-03")   # Cboe's 2006 rows are erratic
    assert 5 < panel.loc["2006-06-01", "vx1"] < 30                          # the old 10x scale put right
    assert panel["vx1"].last_valid_index() == pd.Timestamp("2020-09-24")
    assert panel["spx_open"].loc["2010"].notna().mean() > 0.95 and panel["spx_open"].loc["1995"].notna().mean() < 0.5
