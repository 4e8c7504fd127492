"""Tiers: the editable table of how each condor tier is built.

The defaults live in ``tiers.csv`` beside this module (data, not code); a
user's own table (CSV with the same columns, or edited rows) replaces it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

DEFAULT_TIERS_FILE = Path(__file__).with_name("tiers.csv")
COLUMNS = ("name", "pop_min", "pop_max", "short_delta", "wing_pct", "days")
MAX_TABLE_BYTES = 100_000


class TierTableError(ValueError):
    """A tier table with a missing column or an out-of-range value."""


@dataclass(frozen=True)
class Tier:
    """How one tier builds its condor.

    ``pop_min``/``pop_max`` the POP target range (decimals); ``short_delta``
    the |delta| of the short strikes in delta mode; ``wing_pct`` the wing
    width as a percentage of spot (rounded to the strike grid); ``days``
    calendar days to expiry.
    """

    name: str
    pop_min: float
    pop_max: float
    short_delta: float
    wing_pct: float
    days: int

    @property
    def key(self) -> str:
        return self.name.strip().lower()

    @property
    def pop_target(self) -> float:
        return 0.5 * (self.pop_min + self.pop_max)

    def wing_points(self, spot: float, step: float) -> float:
        """Wing width in index points on the strike grid (at least one step)."""
        return max(step, round(spot * self.wing_pct / 100.0 / step) * step)


def _validate(frame: pd.DataFrame, label: str) -> tuple[Tier, ...]:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise TierTableError(f"{label}: missing column(s) {', '.join(missing)}")
    tiers = []
    for i, row in frame.reset_index(drop=True).iterrows():
        where = f"{label}, row {i + 2}"
        try:
            tier = Tier(name=str(row["name"]).strip(), pop_min=float(row["pop_min"]), pop_max=float(row["pop_max"]),
                        short_delta=float(row["short_delta"]), wing_pct=float(row["wing_pct"]), days=int(row["days"]))
        except (TypeError, ValueError):
            raise TierTableError(f"{where}: every value except the name must be a number") from None
        if not tier.name:
            raise TierTableError(f"{where}: the tier needs a name")
        if not 0.05 <= tier.pop_min <= tier.pop_max <= 0.99:
            raise TierTableError(f"{where}: need 0.05 ≤ pop_min ≤ pop_max ≤ 0.99")
        if not 0.01 <= tier.short_delta <= 0.5:
            raise TierTableError(f"{where}: short_delta must be between 0.01 and 0.5")
        if not 0.01 <= tier.wing_pct <= 20:
            raise TierTableError(f"{where}: wing_pct must be between 0.01 and 20 (% of spot)")
        if not 1 <= tier.days <= 365:
            raise TierTableError(f"{where}: days must be between 1 and 365")
        tiers.append(tier)
    if not tiers:
        raise TierTableError(f"{label}: no tiers")
    if len({t.key for t in tiers}) != len(tiers):
        raise TierTableError(f"{label}: tier names must be unique")
    return tuple(tiers)


def load_tiers(source: str | Path | bytes | pd.DataFrame | None = None) -> tuple[Tier, ...]:
    """The tier table from a CSV path, its bytes, a frame, or the defaults."""
    if source is None:
        source = DEFAULT_TIERS_FILE
    if isinstance(source, pd.DataFrame):
        return _validate(source, "tier table")
    label = "upload" if isinstance(source, bytes) else str(source)
    try:
        if isinstance(source, bytes):
            data = source
        else:  # a regular file of tier-table size: never a device, a pipe or the terminal
            path = Path(source)
            if not path.is_file():
                raise TierTableError(f"{label}: not a regular file")
            if path.stat().st_size > MAX_TABLE_BYTES:
                raise TierTableError(f"{label}: larger than {MAX_TABLE_BYTES // 1000} kB; a tier table is a few rows")
            data = path.read_bytes()
        frame = pd.read_csv(io.BytesIO(data), comment="#", skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TierTableError(f"{label}: not a readable CSV ({exc.__class__.__name__})") from None
    return _validate(frame, label)


def find_tier(tiers: tuple[Tier, ...], name: str) -> Tier:
    for tier in tiers:
        if tier.key == name.strip().lower():
            return tier
    raise KeyError(f"unknown tier {name!r}; known: {', '.join(t.name for t in tiers)}")


def tiers_text(tiers: tuple[Tier, ...]) -> str:
    """A tier table as one link value: ``name:pop_min:pop_max:short_delta:wing_pct:days`` joined by ``;``."""
    return ";".join(f"{t.name}:{t.pop_min:g}:{t.pop_max:g}:{t.short_delta:g}:{t.wing_pct:g}:{t.days}" for t in tiers)


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """The tier table of :func:`tiers_text` (checked like a CSV table), or a ValueError."""
    rows = [r.split(":") for r in str(text).split(";") if r.strip()]
    if not rows or len(rows) > 8 or any(len(r) != len(COLUMNS) for r in rows):
        raise TierTableError("a tier table is up to 8 tiers written name:pop_min:pop_max:short_delta:wing_pct:days")
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    if any(len(name) > 40 or not name.strip() for name in frame["name"]):
        raise TierTableError("tier names are 1-40 characters")
    return _validate(frame, "tier table")
