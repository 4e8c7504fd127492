"""Daily market history from files: Cboe ``<SYMBOL>_History.csv`` and panels.

Accepted layouts, exactly as Cboe and the project's data folder publish them:

* ``DATE,OPEN,HIGH,LOW,CLOSE`` (five columns) or ``DATE,<SYMBOL>`` (two),
  with dates as ``YYYY-MM-DD`` or ``MM/DD/YYYY``;
* a panel ``date,spx,vix[,vix9d,vix3m,vix6m,vvix]`` (any case), and Cboe's
  wide ``cboe_vol_panel.csv`` (its extra columns are ignored).

Problems are reported with the file and row: unparsable dates, non-positive
or non-numeric prices, duplicated dates.  Bad rows are dropped and listed;
they never replace good data.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: Panel columns the engine understands, and the Cboe file stem for each.
SERIES_FILES = {
    "spx": "SPX_History.csv",
    "vix": "VIX_History.csv",
    "vix9d": "VIX9D_History.csv",
    "vix3m": "VIX3M_History.csv",
    "vix6m": "VIX6M_History.csv",
    "vvix": "VVIX_History.csv",
}
PANEL_FILE = "cboe_vol_panel.csv"
MAX_BAD_ROWS_LISTED = 20


class HistoryFormatError(ValueError):
    """A file that cannot be read as a price history; says which and why."""


@dataclass(frozen=True)
class RowProblem:
    file: str
    row: int  # 1-based line number in the file, header = 1
    problem: str

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}: {self.problem}"


@dataclass(frozen=True)
class History:
    """A panel of daily closes (index: session dates) and what was dropped."""

    panel: pd.DataFrame
    problems: tuple[RowProblem, ...] = field(default_factory=tuple)
    files: tuple[str, ...] = field(default_factory=tuple)

    @property
    def first(self) -> pd.Timestamp:
        return self.panel.index[0]

    @property
    def last(self) -> pd.Timestamp:
        return self.panel.index[-1]


def _parse_dates(text: pd.Series) -> pd.Series:
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    us = pd.to_datetime(text, format="%m/%d/%Y", errors="coerce")
    return iso.fillna(us)


def read_series_csv(source: str | Path | bytes, name: str | None = None) -> tuple[pd.Series, list[RowProblem]]:
    """One Cboe-style history file to a close series (index: dates).

    ``source`` is a path or the file's bytes (an upload).  The close is the
    ``CLOSE`` column of an OHLC file or the single value column otherwise.
    """
    label = name or (Path(source).name if not isinstance(source, bytes) else "upload")
    try:
        raw = source if isinstance(source, bytes) else Path(source).read_bytes()
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, skip_blank_lines=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise HistoryFormatError(f"{label}: not a readable CSV ({exc.__class__.__name__})") from None
    columns = {c.strip().upper(): c for c in frame.columns}
    date_col = columns.get("DATE") or columns.get("TRADE DATE")
    if date_col is None:
        raise HistoryFormatError(f"{label}: no DATE column (columns: {', '.join(frame.columns[:6])})")
    if "CLOSE" in columns:
        value_col = columns["CLOSE"]
    else:
        others = [c for c in frame.columns if c != date_col]
        if len(others) != 1:
            raise HistoryFormatError(f"{label}: expected DATE,OPEN,HIGH,LOW,CLOSE or DATE,<value>")
        value_col = others[0]
    dates = _parse_dates(frame[date_col].str.strip())
    values = pd.to_numeric(frame[value_col].str.strip(), errors="coerce")
    problems: list[RowProblem] = []
    bad_date = dates.isna()
    bad_value = ~bad_date & ~(values > 0)
    for idx in np.flatnonzero(bad_date.to_numpy()):
        problems.append(RowProblem(label, int(idx) + 2, f"unreadable date {frame[date_col].iloc[idx]!r}"))
    for idx in np.flatnonzero(bad_value.to_numpy()):
        problems.append(RowProblem(label, int(idx) + 2, f"price must be a positive number, got {frame[value_col].iloc[idx]!r}"))
    keep = ~(bad_date | bad_value)
    series = pd.Series(values[keep].to_numpy(float), index=pd.DatetimeIndex(dates[keep]).normalize())
    duplicated = series.index.duplicated(keep="first")
    for pos in np.flatnonzero(duplicated):
        row = int(np.flatnonzero(keep.to_numpy())[pos]) + 2
        problems.append(RowProblem(label, row, f"duplicated date {series.index[pos].date()}"))
    series = series[~duplicated].sort_index()
    if series.empty:
        raise HistoryFormatError(f"{label}: no usable rows")
    return series, problems


def read_panel_csv(source: str | Path | bytes, name: str | None = None) -> tuple[pd.DataFrame, list[RowProblem]]:
    """A panel CSV ``date,spx,vix[,vix9d,vix3m,vix6m,vvix]`` to a frame."""
    label = name or (Path(source).name if not isinstance(source, bytes) else "upload")
    try:
        raw = source if isinstance(source, bytes) else Path(source).read_bytes()
        frame = pd.read_csv(io.BytesIO(raw), dtype=str)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise HistoryFormatError(f"{label}: not a readable CSV ({exc.__class__.__name__})") from None
    lower = {c.strip().lower(): c for c in frame.columns}
    if "date" not in lower:
        raise HistoryFormatError(f"{label}: no 'date' column")
    wanted = [c for c in SERIES_FILES if c in lower]
    if "vix" not in wanted:
        raise HistoryFormatError(f"{label}: a panel needs at least the 'vix' column")
    dates = _parse_dates(frame[lower["date"]].str.strip())
    problems = [RowProblem(label, int(i) + 2, f"unreadable date {frame[lower['date']].iloc[i]!r}")
                for i in np.flatnonzero(dates.isna().to_numpy())]
    out = pd.DataFrame(index=pd.DatetimeIndex(dates).normalize())
    for col in wanted:
        text = frame[lower[col]].fillna("").str.strip()
        values = pd.to_numeric(text, errors="coerce")
        bad = (text != "") & ~(values > 0) & dates.notna()
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(RowProblem(label, int(i) + 2, f"{col} must be a positive number, got {text.iloc[i]!r}"))
        out[col] = np.where(values > 0, values, np.nan)
    out = out[dates.notna().to_numpy()]
    dup = out.index.duplicated(keep="first")
    for pos in np.flatnonzero(dup):
        problems.append(RowProblem(label, int(pos) + 2, f"duplicated date {out.index[pos].date()}"))
    out = out[~dup].sort_index()
    if out.empty:
        raise HistoryFormatError(f"{label}: no usable rows")
    return out, problems


def load_history_folder(folder: str | Path) -> History:
    """Every known series in a folder of Cboe files (and the vol panel).

    Individual ``<SYMBOL>_History.csv`` files win over the panel where both
    have a value; the panel fills later dates and missing series.  SPX is
    rounded to cents (Yahoo's float32-style values).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise HistoryFormatError(f"{folder}: not a folder")
    columns: dict[str, pd.Series] = {}
    problems: list[RowProblem] = []
    files: list[str] = []
    for key, filename in SERIES_FILES.items():
        path = folder / filename
        if path.is_file():
            series, issues = read_series_csv(path)
            columns[key] = series
            problems += issues
            files.append(filename)
    panel_path = folder / PANEL_FILE
    if panel_path.is_file():
        panel, issues = read_panel_csv(panel_path)
        problems += issues
        files.append(PANEL_FILE)
        for key in panel.columns:
            extra = panel[key].dropna()
            columns[key] = columns[key].combine_first(extra) if key in columns else extra
    if "vix" not in columns:
        raise HistoryFormatError(f"{folder}: no VIX history ({SERIES_FILES['vix']} or {PANEL_FILE})")
    frame = pd.DataFrame(columns).sort_index()
    if "spx" in frame:
        frame["spx"] = frame["spx"].round(2)
    frame = frame[frame["vix"].notna()]
    return History(panel=frame, problems=tuple(problems), files=tuple(files))


def closes_on(history: History, when: pd.Timestamp | str) -> pd.Series:
    """The last available row on or before ``when`` (a date)."""
    when = pd.Timestamp(when).normalize()
    frame = history.panel.loc[:when]
    if frame.empty:
        raise KeyError(f"no history on or before {when.date()}")
    return frame.ffill().iloc[-1]
