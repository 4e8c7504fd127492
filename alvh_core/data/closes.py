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
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alvh_core.data.files import UnsafeFileError, find_inside, read_bytes

#: Panel columns the engine understands, and the Cboe file stem for each.
SERIES_FILES = {
    "spx": "SPX_History.csv",
    "vix": "VIX_History.csv",
    "vix9d": "VIX9D_History.csv",
    "vix3m": "VIX3M_History.csv",
    "vix6m": "VIX6M_History.csv",
    "vvix": "VVIX_History.csv",
    "skew": "SKEW_History.csv",   # Cboe SKEW: ties the SPX smile's slope to the day (model/skew_index.py)
    "vxth": "VXTH_History.csv",   # Cboe's VIX Tail Hedge index: checks the VIX option model
    "cndr": "CNDR_History.csv",   # Cboe's S&P 500 Iron Condor index: checks the SPX smile
    "irx": "DTB3.csv",   # FRED's 3-month T-bill rate (percent, discount basis), as Yahoo's ^IRX
}
PANEL_FILE = "cboe_vol_panel.csv"
#: CFE's continuous front and second VIX futures settlements, and their panel columns.
VX_FILES = ("VX1_continuous.csv", "VX2_continuous.csv")
VX_COLUMNS = ("vx1", "vx2")
#: A history file larger than this is refused (the upload cap; Cboe's VIX file is under 1 MB).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: A daily history since 1900 has about 32,000 rows; more is not a daily history.
MAX_ROWS = 100_000
#: Bad rows listed one by one; the rest are counted in one last line.
MAX_PROBLEMS = 200
#: Levels a close can have (points; the T-bill ^IRX in percent): outside them a row is bad data.
PLAUSIBLE = {"spx": (1.0, 1e6), "vix": (1.0, 500.0), "vix9d": (1.0, 500.0), "vix3m": (1.0, 500.0),
             "vix6m": (1.0, 500.0), "vvix": (5.0, 1000.0), "skew": (90.0, 250.0), "vxth": (1.0, 1e6),
             "cndr": (1.0, 1e6), "irx": (-5.0, 50.0), "rsp": (0.01, 1e5), "spy": (0.01, 1e5)}


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


def implausible_to_nan(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a panel with every close outside :data:`PLAUSIBLE` (or not
    finite) set to NaN: a level no market has is a bad print, not a close."""
    out = frame.copy()
    for col, (low, high) in PLAUSIBLE.items():
        if col in out:
            values = pd.to_numeric(out[col], errors="coerce").astype(float)
            out[col] = values.where(np.isfinite(values) & (values >= low) & (values <= high))
    return out


def plausible_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`implausible_to_nan`, and the rows left with no VIX dropped."""
    out = implausible_to_nan(frame)
    return out[out["vix"].notna()] if "vix" in out else out.iloc[0:0]


def _parse_dates(text: pd.Series) -> pd.Series:
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    us = pd.to_datetime(text, format="%m/%d/%Y", errors="coerce")
    return iso.fillna(us)


def _read_bytes(source: Path | bytes, label: str) -> bytes:
    """A file's bytes (a regular file only, never more than the cap), or an upload's bytes as given.

    Text is never taken for a file name: a page passes what a visitor uploaded as bytes."""
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
    elif isinstance(source, Path):
        try:
            raw = read_bytes(source, MAX_FILE_BYTES, label)
        except UnsafeFileError as exc:
            raise HistoryFormatError(str(exc)) from None
    else:
        raise TypeError(f"{label}: give the file's bytes or a Path, not {type(source).__name__}")
    if len(raw) > MAX_FILE_BYTES:
        raise HistoryFormatError(f"{label}: larger than {MAX_FILE_BYTES // 2**20} MB; not read")
    lines = raw.count(b"\n")
    if lines > MAX_ROWS:
        raise HistoryFormatError(f"{label}: {lines:,} lines; a daily history has at most {MAX_ROWS:,} rows, not read")
    return raw


def _csv(raw: bytes, label: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(raw), dtype=str, skip_blank_lines=True)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise HistoryFormatError(f"{label}: not a readable CSV ({exc.__class__.__name__})") from None


def _row_problems(label: str, rows: np.ndarray, describe, problems: list[RowProblem]) -> None:
    """Add one problem per row (0-based frame positions), up to MAX_PROBLEMS in all;
    ``describe(position)`` says what is wrong.  Linear in the rows."""
    room = max(MAX_PROBLEMS - len(problems), 0)
    for pos in rows[:room]:
        problems.append(RowProblem(label, int(pos) + 2, describe(int(pos))))
    if len(rows) > room:
        problems.append(RowProblem(label, int(rows[room]) + 2, f"… and {len(rows) - room:,} more rows like it"))


def _future(dates: pd.Series) -> pd.Series:
    """Dates after tomorrow: a daily close cannot be from the future."""
    return dates > pd.Timestamp.today().normalize() + pd.Timedelta(days=1)


def read_series_csv(source: str | Path | bytes, name: str | None = None,
                    series: str | None = None) -> tuple[pd.Series, list[RowProblem]]:
    """One Cboe-style history file to a close series (index: dates).

    ``source`` is a path or the file's bytes (an upload).  The close is the
    ``CLOSE`` column of an OHLC file or the single value column otherwise.
    ``series`` (``"vix"``, ``"spx"``, …) also checks each close against the
    levels that series can have (:data:`PLAUSIBLE`).  Files over
    :data:`MAX_FILE_BYTES` or :data:`MAX_ROWS` are refused; the reading is
    linear in the rows.
    """
    label = name or (Path(source).name if not isinstance(source, bytes) else "upload")
    frame = _csv(_read_bytes(source, label), label)
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
    future = ~bad_date & _future(dates)
    low, high = PLAUSIBLE.get(series or "", (0.0, np.inf))
    # Prices must be positive; a rate (the T-bill) may be zero or slightly negative.
    above_floor = values >= low if series == "irx" else values > max(low, 0.0)
    bad_value = ~bad_date & ~future & ~(np.isfinite(values) & above_floor & (values <= high))
    _row_problems(label, np.flatnonzero(bad_date.to_numpy()),
                  lambda i: f"unreadable date {frame[date_col].iloc[i]!r}", problems)
    _row_problems(label, np.flatnonzero(future.to_numpy()),
                  lambda i: f"date {dates.iloc[i].date()} is in the future", problems)
    wanted = "a positive number" if series is None else f"between {low:g} and {high:g}"
    _row_problems(label, np.flatnonzero(bad_value.to_numpy()),
                  lambda i: f"price must be {wanted}, got {frame[value_col].iloc[i]!r}", problems)
    keep = ~(bad_date | future | bad_value)
    series = pd.Series(values[keep].to_numpy(float), index=pd.DatetimeIndex(dates[keep]).normalize())
    return _first_of_each_date(series, np.flatnonzero(keep.to_numpy()), dates, label, problems), problems


#: Series whose opening level settles options (VIX options at the VIX opening quotation, A.M.-settled SPX at
#: the open): their files' OPEN column, where it is a real open, becomes the panel column ``<key>_open``.
OPEN_SERIES = ("vix", "spx")
#: Rows of a series that are not trusted, whatever their value: Cboe's VVIX file before 2007 is erratic
#: (15.71 on 2006-03-15 beside 70s and 80s); its values before this day are dropped.
TRUSTED_FROM = {"vvix": pd.Timestamp("2007-01-03")}


def read_open_series(source: Path | bytes, name: str, series: str) -> pd.Series:
    """The real opens of an OHLC history file (an empty series when it has no OPEN column): a row whose open,
    high, low and close are all equal holds a close only (Cboe's VIX before 2004-06-14), and an SPX open equal
    to the day before's close is the close carried over (Yahoo's ^GSPC before about 2008), not an open."""
    label = name
    frame = _csv(_read_bytes(source, label), label)
    columns = {c.strip().upper(): c for c in frame.columns}
    date_col = columns.get("DATE")
    if date_col is None or not {"OPEN", "HIGH", "LOW", "CLOSE"} <= set(columns):
        return pd.Series(dtype=float)
    dates = pd.DatetimeIndex(_parse_dates(frame[date_col].str.strip())).normalize()
    o, h, low, c = (pd.to_numeric(frame[columns[k]].str.strip(), errors="coerce").to_numpy(float)
                    for k in ("OPEN", "HIGH", "LOW", "CLOSE"))
    bounds = PLAUSIBLE.get(series, (0.0, np.inf))
    real = np.isfinite(o) & (o >= bounds[0]) & (o <= bounds[1]) & ~((o == h) & (h == low) & (low == c))
    order = np.argsort(dates.to_numpy(), kind="stable")
    if series == "spx":   # an open equal to the previous close (to the cent) is that close carried over
        previous = np.full(c.size, np.nan)
        previous[order[1:]] = c[order[:-1]]
        real &= ~(np.abs(np.round(o, 2) - np.round(previous, 2)) < 0.005)
    keep = real & dates.notna()
    out = pd.Series(o[keep], index=dates[keep])
    out = out[~out.index.duplicated(keep="first")].sort_index()
    return out.round(2) if series == "spx" else out


def read_panel_csv(source: str | Path | bytes, name: str | None = None,
                   columns: tuple[str, ...] = tuple(SERIES_FILES)) -> tuple[pd.DataFrame, list[RowProblem]]:
    """A panel CSV ``date,spx,vix[,vix9d,vix3m,vix6m,vvix]`` to a frame.

    Reads the ``columns`` it finds (at least ``vix``), each checked against
    :data:`PLAUSIBLE`; the same limits and rules as :func:`read_series_csv`.
    """
    label = name or (Path(source).name if not isinstance(source, bytes) else "upload")
    frame = _csv(_read_bytes(source, label), label)
    lower = {c.strip().lower(): c for c in frame.columns}
    if "date" not in lower:
        raise HistoryFormatError(f"{label}: no 'date' column")
    wanted = [c for c in columns if c in lower]
    if "vix" not in wanted:
        raise HistoryFormatError(f"{label}: a panel needs at least the 'vix' column")
    dates = _parse_dates(frame[lower["date"]].fillna("").str.strip())
    problems: list[RowProblem] = []
    _row_problems(label, np.flatnonzero(dates.isna().to_numpy()),
                  lambda i: f"unreadable date {frame[lower['date']].iloc[i]!r}", problems)
    future = dates.notna() & _future(dates)
    _row_problems(label, np.flatnonzero(future.to_numpy()),
                  lambda i: f"date {dates.iloc[i].date()} is in the future", problems)
    usable = (dates.notna() & ~future).to_numpy()
    out = pd.DataFrame(index=pd.DatetimeIndex(dates).normalize())
    for col in wanted:
        text = frame[lower[col]].fillna("").str.strip()
        values = pd.to_numeric(text, errors="coerce")
        low, high = PLAUSIBLE.get(col, (0.0, np.inf))
        good = np.isfinite(values) & (values > low if low <= 0 else values >= low) & (values <= high)
        bad = (text != "") & ~good & usable
        _row_problems(label, np.flatnonzero(bad.to_numpy()),
                      lambda i, col=col, text=text, low=low, high=high:
                      f"{col} must be between {low:g} and {high:g}, got {text.iloc[i]!r}", problems)
        out[col] = np.where(good, values, np.nan)
    return _first_of_each_date(out[usable], np.flatnonzero(usable), dates, label, problems), problems


def _first_of_each_date(data, rows: np.ndarray, dates: pd.Series, label: str, problems: list[RowProblem]):
    """``data`` (the usable ``rows`` of the file) by date, the first row of a date kept and the others
    named as problems; a HistoryFormatError when no row is left."""
    duplicated = data.index.duplicated(keep="first")
    _row_problems(label, rows[duplicated], lambda i: f"duplicated date {dates.iloc[i].date()}", problems)
    data = data[~duplicated].sort_index()
    if data.empty:
        raise HistoryFormatError(f"{label}: no usable rows")
    return data


def history_folder(text: str | Path) -> Path:
    """A folder the operator named (``~`` allowed; the command line, ``ALVH_DATA_DIR``) to its real path,
    or a one-line ``HistoryFormatError`` (unknown user, too long a name, a loop of links, not a folder).
    A web visitor never names a folder: see :func:`visitor_folder`."""
    try:
        folder = Path(text).expanduser()
        if not folder.is_dir():
            raise HistoryFormatError(f"{text}: not a folder")
        return folder.resolve(strict=True)
    except RuntimeError:  # "~nosuchuser", or a loop of links
        raise HistoryFormatError(f"{str(text)[:80]}: not a folder") from None
    except OSError as exc:  # a name too long, a loop of links, no permission
        raise HistoryFormatError(f"{str(text)[:80]}: {exc.strerror or 'cannot be opened'}") from None


def visitor_folder(root: Path, typed: str) -> Path:
    """A folder a visitor typed, confined to the operator's ``root``: a relative name of a folder under it
    (empty = ``root`` itself); no ``~``, no absolute path, no way out through ``..`` or a link.  The
    message never shows the server's paths."""
    text = str(typed).strip().strip("/") if typed else ""
    refused = HistoryFormatError(f"{text[:60]!r} is not a folder under the server's data folder")
    if text.startswith("~") or Path(text).is_absolute() or "\0" in text or len(text) > 200:
        raise refused
    try:
        base = Path(root).resolve(strict=True)
        folder = (base / text).resolve(strict=True) if text else base
    except (OSError, RuntimeError):
        raise refused from None
    if not folder.is_relative_to(base) or not folder.is_dir():
        raise refused
    return folder


def history_files(folder: Path) -> dict[str, Path]:
    """The files the app reads in a folder: regular files (a link counts
    only when it leads to a regular file inside the folder) with a known
    name, by name."""
    found = {}
    for name in (*SERIES_FILES.values(), PANEL_FILE, *VX_FILES):
        target = find_inside(folder, name)
        if target is not None:
            found[name] = target
    return found


def folder_stamp(folder: Path) -> tuple:
    """What changes when the files :func:`load_history_folder` reads change."""
    stamp = []
    for name, path in sorted(history_files(folder).items()):
        try:
            info = path.stat()
        except OSError:
            continue
        stamp.append((name, info.st_mtime_ns, info.st_size))
    return tuple(stamp)


def load_history_folder(folder: str | Path) -> History:
    """Every known series in a folder of Cboe files (and the vol panel).

    Individual ``<SYMBOL>_History.csv`` files win over the panel where both
    have a value; the panel fills later dates and missing series.  SPX is
    rounded to cents (Yahoo's float32-style values).
    """
    folder = history_folder(folder)
    available = history_files(folder)
    columns: dict[str, pd.Series] = {}
    problems: list[RowProblem] = [
        RowProblem(name, 1, "not a regular file inside the folder (a link out or in a loop, a pipe, a device); "
                   "skipped")
        for name in (*SERIES_FILES.values(), PANEL_FILE) if name not in available and os.path.lexists(folder / name)]
    files: list[str] = []
    panels: list[pd.DataFrame] = []
    for key, filename in SERIES_FILES.items():
        if filename in available:
            series, issues = read_series_csv(available[filename], filename, key)
            columns[key] = series
            problems += issues
            files.append(filename)
            opens = read_open_series(available[filename], filename, key) if key in OPEN_SERIES else None
            if opens is not None and not opens.empty:
                columns[f"{key}_open"] = opens
    found = vx_files(folder)
    if found is not None:   # CFE's settlements: the backtest marks VIX options on the real futures they cover
        for key, path in zip(VX_COLUMNS, found, strict=True):
            try:
                columns[key] = read_vx_continuous(path)
                files.append(path.name)
            except HistoryFormatError as exc:
                problems.append(RowProblem(path.name, 1, f"{exc}; not used"))
    if PANEL_FILE in available:
        panel, issues = read_panel_csv(available[PANEL_FILE], PANEL_FILE)
        problems += issues
        files.append(PANEL_FILE)
        panels.append(panel)
    frame = _assembled(columns, panels)
    if frame is None:
        raise HistoryFormatError(f"the folder has no VIX history ({SERIES_FILES['vix']} or {PANEL_FILE})")
    return History(panel=frame, problems=tuple(problems), files=tuple(files))


def _assembled(series: dict[str, pd.Series], panels: list[pd.DataFrame]) -> pd.DataFrame | None:
    """One frame of the series files, the panels filling dates and series they lack (a series file wins
    where both have a value); SPX rounded to cents, only days with a VIX close; None without VIX."""
    columns = dict(series)
    for panel in panels:
        for key in panel.columns:
            extra = panel[key].dropna()
            columns[key] = columns[key].combine_first(extra) if key in columns else extra
    if "vix" not in columns:
        return None
    frame = pd.DataFrame(columns).sort_index()
    if "spx" in frame:
        frame["spx"] = frame["spx"].round(2)
    for key, first in TRUSTED_FROM.items():
        if key in frame:
            frame.loc[frame.index < first, key] = np.nan
    return frame[frame["vix"].notna()]


def history_from_files(files: list[tuple[str, bytes]], max_bytes: int) -> tuple[History | None, list[str]]:
    """A history from files a visitor uploaded, as (name, bytes): Cboe ``<SYMBOL>_History.csv`` by name,
    any other CSV a panel (``date,spx,vix,...``), combined as :func:`load_history_folder` combines a
    folder.  Returns the history (None without VIX) and what to tell the visitor: files refused (larger
    than ``max_bytes``, not readable) and the first bad rows skipped."""
    series: dict[str, pd.Series] = {}
    panels: list[pd.DataFrame] = []
    problems: list[RowProblem] = []
    errors: list[str] = []
    by_name = {v.lower(): k for k, v in SERIES_FILES.items()}
    vx_names = {n.lower(): k for n, k in zip(VX_FILES, VX_COLUMNS, strict=True)}
    for name, data in files:
        if len(data) > max_bytes:
            errors.append(f"{name}: larger than {max_bytes // 2**20} MB; ignored")
            continue
        try:
            key = by_name.get(name.lower())
            if name.lower() in vx_names:
                series[vx_names[name.lower()]], issues = read_vx_continuous(data, name), []
            elif key is not None:
                series[key], issues = read_series_csv(data, name, key)
                opens = read_open_series(data, name, key) if key in OPEN_SERIES else None
                if opens is not None and not opens.empty:
                    series[f"{key}_open"] = opens
            else:
                panel, issues = read_panel_csv(data, name)
                panels.append(panel)
            problems += issues
        except HistoryFormatError as exc:
            errors.append(str(exc))
    frame = _assembled(series, panels)
    if frame is None:
        if files:
            errors.append("no VIX history among the uploads (VIX_History.csv or a panel with a 'vix' column)")
        return None, errors
    errors += [str(p) for p in problems[:10]]
    if len(problems) > 10:
        errors.append(f"… and {len(problems) - 10} more bad rows, all skipped")
    return History(frame, tuple(problems), tuple(name for name, _ in files)), errors


def closes_on(history: History, when: pd.Timestamp | str) -> pd.Series:
    """The last available row on or before ``when`` (a date)."""
    when = pd.Timestamp(when).normalize()
    frame = history.panel.loc[:when]
    if frame.empty:
        raise KeyError(f"no history on or before {when.date()}")
    return frame.ffill().iloc[-1]


def read_vx_continuous(source: Path | bytes, name: str = "VX_continuous.csv") -> pd.Series:
    """CFE continuous settlements (``Trade Date``, ``Settle``): newest-first rows, the old 10x scale
    before 2007-03-26 put right, zero or missing settlements dropped.  A file without those columns is
    a ``HistoryFormatError``."""
    label = name if isinstance(source, bytes) else Path(source).name
    frame = _csv(_read_bytes(source, label), label)
    missing = [c for c in ("Trade Date", "Settle") if c not in frame.columns]
    if missing:
        raise HistoryFormatError(f"{label}: no {' or '.join(repr(c) for c in missing)} column")
    dates = pd.to_datetime(frame["Trade Date"], format="%Y-%m-%d", errors="coerce")
    settle = pd.to_numeric(frame["Settle"], errors="coerce")
    series = pd.Series(settle.to_numpy(), index=dates)
    series = series[series.index.notna() & np.isfinite(series.to_numpy()) & (series.to_numpy() > 0)]
    series[series.index < "2007-03-26"] /= 10.0
    low, high = PLAUSIBLE["vix"]
    series = series[(series >= low) & (series <= high) & ~_future(series.index.to_series())]
    return series[~series.index.duplicated()].sort_index()


def vx_files(folder: Path | None) -> tuple[Path, Path] | None:
    """The VX1/VX2 files of a data folder (regular files inside it), or None."""
    if folder is None:
        return None
    found = [find_inside(Path(folder), name) for name in VX_FILES]
    return (found[0], found[1]) if all(f is not None for f in found) else None
