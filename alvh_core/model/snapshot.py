"""Choosing the market the app runs on: live, last good copy, files, default.

:func:`choose_snapshot` takes whatever each source produced and returns one
:class:`MarketSnapshot`: the history panel (when there is one), today's
:class:`MarketState`, the source and as-of for the badge, and the messages a
user should read about the sources that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from alvh_core.data.closes import History
from alvh_core.data.live import FetchResult
from alvh_core.model.market import DEFAULT_MARKET, MarketState, tbill_rate

#: A level older than this (calendar days before the last VIX close) is not used.
STALE_DAYS = 7


@dataclass(frozen=True)
class MarketSnapshot:
    market: MarketState
    panel: pd.DataFrame | None          # daily closes up to the as-of date, or None
    source: str
    messages: tuple[str, ...] = ()
    origin: str = ""        # who downloaded live data when not this process; "old" notes for a stale copy

    @cached_property
    def breadth(self) -> pd.Series | None:
        """RSP/SPY closes (the breadth proxy) when both are in the panel."""
        if self.panel is None or "rsp" not in self.panel or "spy" not in self.panel:
            return None
        ratio = (self.panel["rsp"] / self.panel["spy"]).dropna()
        return ratio if len(ratio) else None

    @cached_property
    def vix_days(self) -> pd.DatetimeIndex:
        """The days with a VIX close (an empty index without a panel)."""
        if self.panel is None or "vix" not in self.panel:
            return pd.DatetimeIndex([])
        return self.panel["vix"].dropna().index


def market_from_panel(panel: pd.DataFrame, source: str, asof: str | pd.Timestamp | None = None,
                      fallback: MarketState = DEFAULT_MARKET) -> MarketState:
    """Today's levels from the last rows of a panel (on or before ``asof``).

    Each level is the last close within ``STALE_DAYS`` of the last VIX close;
    the rate is the 3-month T-bill's (^IRX or DTB3, converted to a continuous
    rate) when present, else the fallback's.  SPX missing
    from the panel (e.g. a VIX-only file) falls back too, and the source says
    which numbers came from where in the caller's messages.
    """
    frame = panel.loc[: pd.Timestamp(asof)] if asof is not None else panel
    vix = frame["vix"].dropna()
    if vix.empty:
        raise ValueError("the panel has no VIX close on or before the date")
    last_day = vix.index[-1]
    recent = frame.loc[last_day - pd.Timedelta(days=STALE_DAYS): last_day]

    def level(col: str) -> float | None:
        if col not in recent:
            return None
        values = recent[col].dropna()
        return float(values.iloc[-1]) if len(values) and np.isfinite(values.iloc[-1]) and values.iloc[-1] > 0 else None

    spot = level("spx")
    irx = recent["irx"].dropna() if "irx" in recent else pd.Series(dtype=float)
    irx = float(irx.iloc[-1]) if len(irx) and np.isfinite(irx.iloc[-1]) else None  # a rate may be zero
    if spot is None and "spx" in frame and frame["spx"].notna().any():
        spot = float(frame["spx"].dropna().iloc[-1])  # stale, and the caller says so
    return MarketState(
        spot=spot if spot is not None else fallback.spot, vix=float(vix.iloc[-1]),
        vix9d=level("vix9d"), vix3m=level("vix3m"), vix6m=level("vix6m"), vvix=level("vvix"),
        rate=tbill_rate(irx) if irx is not None and irx < 50 else fallback.rate, div=fallback.div,
        asof=str(last_day.date()), source=source)


#: A live or saved panel whose last VIX close is older than this (calendar days) is labeled old.
OLD_DATA_DAYS = 7


def _origin(result: FetchResult, panel: pd.DataFrame) -> str:
    """What the badge adds to the source: who downloaded the data when not this process, and how old the
    data is when it ends long before today."""
    parts = [result.origin] if result.origin else []
    age = (pd.Timestamp.now().normalize() - panel["vix"].dropna().index[-1].normalize()).days
    if age > OLD_DATA_DAYS:
        parts.append(f"{age // 365} years old" if age >= 730 else f"{age} days old")
    return ", ".join(parts)


def choose_snapshot(live: FetchResult | None = None, cached: FetchResult | None = None,
                    files: History | None = None, asof: str | None = None,
                    default: MarketState = DEFAULT_MARKET) -> MarketSnapshot:
    """The first usable source in order live → cache → files → default."""
    messages: list[str] = []
    for result, label in ((live, "live"), (cached, "cache")):
        if result is None:
            continue
        if result.ok:
            panel = result.frame.sort_index()
            if asof is not None:
                panel = panel.loc[: pd.Timestamp(asof)]
            if panel["vix"].dropna().empty if "vix" in panel else True:
                messages.append(f"{label}: no VIX close on or before {asof}")
                continue
            market = market_from_panel(panel, label)
            if result.message:
                messages.append(result.message)
            if "spx" not in panel or panel["spx"].dropna().empty:
                messages.append(f"No SPX in the {label} data: SPX is the default {default.spot:,.2f}.")
            if label == "cache":
                saved = f" saved {result.fetched_at[:16].replace('T', ' ')} UTC" if result.fetched_at else ""
                messages.append(f"Using the last good copy{saved}: no live data now.")
            return MarketSnapshot(market, panel, label, tuple(messages), _origin(result, panel))
        if result.message and result.status != "empty" or label == "live":
            messages.append(result.message or f"{label}: {result.status}")
    if files is not None:
        panel = files.panel if asof is None else files.panel.loc[: pd.Timestamp(asof)]
        if not panel.empty and not panel["vix"].dropna().empty:
            market = market_from_panel(panel, "file")
            spx = panel["spx"].dropna() if "spx" in panel else pd.Series(dtype=float)
            if spx.empty:
                messages.append(f"No SPX in the files: SPX is the default {default.spot:,.2f}.")
            elif (pd.Timestamp(market.asof) - spx.index[-1]).days > STALE_DAYS:
                messages.append(f"The files' SPX ends {spx.index[-1].date()}, before their VIX ({market.asof}): "
                                f"SPX shown is {market.spot:,.2f}; type today's level to replace it.")
            if files.problems:
                messages.append(f"{len(files.problems)} bad row(s) in the files were skipped; first: {files.problems[0]}")
            messages.append(f"Using your files (last close {market.asof}).")
            return MarketSnapshot(market, panel, "file", tuple(messages))
        messages.append(f"The files have no VIX close on or before {asof}.")
    messages.append(f"Using the closes the app ships with ({default.asof}): no live data, saved copy or files.")
    return MarketSnapshot(default, None, "default", tuple(messages))
