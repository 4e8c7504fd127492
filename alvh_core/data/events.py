"""Macro event days: FOMC statements, CPI and PPI releases.

The project carries its own copy of the public schedules (``events.csv``
beside this module); users add dates of their own.  Each kind has a covered
range: asking about a date past it says "unknown", never "no event".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

EVENTS_FILE = Path(__file__).with_name("events.csv")
KINDS = ("FOMC", "CPI", "PPI")


@dataclass(frozen=True)
class EventDay:
    day: date
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class NextEvent:
    """The next event on or after a date, or why it is unknown."""

    kind: str
    day: date | None
    days_away: int | None  # calendar days; 0 = today
    note: str = ""


@dataclass(frozen=True)
class EventCalendar:
    events: tuple[EventDay, ...]
    coverage: dict  # kind -> (first, last) date of the list

    def with_user_dates(self, dates: list[date], kind: str = "FOMC", detail: str = "added by user") -> EventCalendar:
        """A calendar with extra dates (duplicates of existing days are ignored)."""
        if kind not in KINDS:
            raise ValueError(f"event kind must be one of {KINDS}")
        known = {(e.day, e.kind) for e in self.events}
        extra = tuple(EventDay(d, kind, detail) for d in dates if (d, kind) not in known)
        merged = tuple(sorted(self.events + extra, key=lambda e: (e.day, e.kind)))
        coverage = dict(self.coverage)
        if extra:
            first, last = coverage.get(kind, (min(d.day for d in extra), max(d.day for d in extra)))
            coverage[kind] = (min(first, *(d.day for d in extra)), max(last, *(d.day for d in extra)))
        return EventCalendar(merged, coverage)

    def next_event(self, asof: date, kind: str) -> NextEvent:
        """The first ``kind`` event on or after ``asof``."""
        first, last = self.coverage.get(kind, (None, None))
        if first is None:
            return NextEvent(kind, None, None, f"no {kind} dates known")
        for e in self.events:
            if e.kind == kind and e.day >= asof:
                return NextEvent(kind, e.day, (e.day - asof).days)
        return NextEvent(kind, None, None, f"{kind} schedule known only to {last.isoformat()}")

    def next_any(self, asof: date) -> NextEvent:
        """The nearest of the next FOMC, CPI and PPI days."""
        nexts = [self.next_event(asof, k) for k in KINDS]
        known = [n for n in nexts if n.day is not None]
        if not known:
            return NextEvent("any", None, None, "; ".join(n.note for n in nexts))
        return min(known, key=lambda n: n.days_away)

    def between(self, start: date, end: date) -> list[EventDay]:
        return [e for e in self.events if start <= e.day <= end]

    def within(self, asof: date, days: int) -> list[EventDay]:
        """Events from ``asof`` to ``days`` calendar days after it."""
        return self.between(asof, asof + pd.Timedelta(days=days).to_pytimedelta())


def load_events(path: str | Path | None = None) -> EventCalendar:
    """The calendar from ``events.csv`` (or another file of the same layout); the built-in one is read once."""
    if path is None:
        return _default_events()
    return _read_events(path)


@functools.lru_cache(maxsize=1)
def _default_events() -> EventCalendar:
    return _read_events(EVENTS_FILE)


def _read_events(path: str | Path) -> EventCalendar:
    frame = pd.read_csv(path, comment="#", dtype=str)
    events = tuple(EventDay(pd.Timestamp(r.date).date(), r.event, r.detail if isinstance(r.detail, str) else "")
                   for r in frame.itertuples())
    coverage = {}
    for kind in KINDS:
        days = [e.day for e in events if e.kind == kind]
        if days:
            coverage[kind] = (min(days), max(days))
    return EventCalendar(events, coverage)


def parse_user_dates(text: str) -> tuple[list[date], list[str]]:
    """Dates typed by a user (commas, spaces or new lines; YYYY-MM-DD or
    MM/DD/YYYY) and the pieces that were not dates."""
    good, bad = [], []
    for piece in text.replace(",", " ").split():
        for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
            try:
                good.append(pd.to_datetime(piece, format=fmt).date())
                break
            except (ValueError, TypeError):
                continue
        else:
            bad.append(piece[:40])
    return sorted(set(good)), bad
