"""File-reader benchmark: hostile history files are read or refused quickly.

    python -m bench.bench_files

Times ``read_series_csv`` on a 1,000,000-row VIX file with 900,000 duplicate
dates (refused: over the row limit) and on a file just under the limit in
which nine rows in ten repeat a date (read, repeats reported), best of three.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from alvh_core.data.closes import MAX_ROWS, HistoryFormatError, read_series_csv


def _file(rows: int, distinct: int) -> bytes:
    days = pd.date_range("1750-01-01", periods=distinct, freq="D").strftime("%Y-%m-%d").to_numpy()
    picks = days[np.arange(rows) % distinct]
    return b"DATE,VIX\n" + "\n".join(f"{d},16.5" for d in picks).encode() + b"\n"


def _best(data: bytes) -> tuple[float, str]:
    times, outcome = [], ""
    for _ in range(3):
        start = time.perf_counter()
        try:
            series, problems = read_series_csv(data, "VIX_History.csv", "vix")
            outcome = f"read: {len(series):,} days, {len(problems)} problems listed"
        except HistoryFormatError as exc:
            outcome = f"refused: {exc}"
        times.append(time.perf_counter() - start)
    return min(times), outcome


def main() -> None:
    print("| case | best of 3 | outcome |")
    print("|---|---|---|")
    for label, data in (("1,000,000 rows, 900,000 duplicate dates", _file(1_000_000, 100_000)),
                        (f"{MAX_ROWS - 10:,} rows, nine in ten a duplicate date", _file(MAX_ROWS - 10, (MAX_ROWS - 10) // 10))):
        seconds, outcome = _best(data)
        print(f"| File reader: {label} ({len(data) / 2**20:.1f} MB) | {seconds * 1000:.0f} ms | {outcome} |")


if __name__ == "__main__":
    main()
