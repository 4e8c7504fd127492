"""The condor priced at a real chain's quotes, with the model beside it.

A chain is one table of quotes (expiry, root, strike, call/put, bid, ask),
from a Cboe ``spx_quotedata.csv`` (uploaded, or in the data folder under
``chains/spx_quotedata_<date>.csv``) or from Yahoo's live ``^SPX`` chain.
:func:`quote_condor` looks up the condor's four legs on its listed expiry
and root (SPX A.M. monthlies and SPXW P.M. weeklies are different
contracts), prices each leg at the chain's mid, fills the condor the chosen
share of the way from that mid to the chain's natural price, and keeps each
leg's market vol so that later marks start from the market's price, not
the model's.  Where a leg has no two-sided quote the whole condor stays on
the model, and the reason is given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from alvh_core.data.chains import OptionChain
from alvh_core.model.market import MarketState
from alvh_core.model.pricing import implied_vol_black
from alvh_core.strategy.condor import IronCondor
from alvh_core.strategy.legs import price_leg

QUOTE_COLUMNS = ("expiry", "root", "strike", "kind", "bid", "ask")


@dataclass(frozen=True)
class QuoteTable:
    """One day's quotes, long format (one row per option), and where they came from."""

    source: str            # e.g. "Cboe file spx_quotedata_2022-02-04.csv" or "Yahoo ^SPX (live)"
    quote_date: date
    frame: pd.DataFrame    # QUOTE_COLUMNS; expiry as datetime.date


def from_cboe(chain: OptionChain, source: str) -> QuoteTable:
    """A Cboe chain's every row (SPX and SPXW kept apart) as quotes."""
    rows = chain.rows if chain.rows is not None else chain.quotes.assign(root="SPX")
    parts = []
    for kind in ("call", "put"):
        part = rows[["expiration", "root", "strike", f"{kind}_bid", f"{kind}_ask"]].copy()
        part.columns = ["expiry", "root", "strike", "bid", "ask"]
        part["kind"] = kind
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame["expiry"] = pd.to_datetime(frame["expiry"]).dt.date
    return _clean(QuoteTable(source, chain.quote_date, frame[list(QUOTE_COLUMNS)]))


def from_yahoo(frame: pd.DataFrame, quote_date: date, source: str = "Yahoo ^SPX (live)") -> QuoteTable:
    """The frame of :func:`alvh_core.data.live.fetch_spx_chain` (strike, bid, ask, kind, expiry[, root]) as quotes."""
    out = frame.copy()
    if "root" not in out:
        out["root"] = "SPX"
    out["expiry"] = pd.to_datetime(out["expiry"]).dt.date
    return _clean(QuoteTable(source, quote_date, out[list(QUOTE_COLUMNS)]))


def _clean(table: QuoteTable) -> QuoteTable:
    """Numbers as numbers; rows without a strike, bid or ask dropped."""
    frame = table.frame.copy()
    for col in ("strike", "bid", "ask"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame = frame.dropna(subset=["strike", "bid", "ask"])
    return replace(table, frame=frame.reset_index(drop=True))


@dataclass(frozen=True)
class LegQuote:
    """One condor leg at the chain and on the model (index points; vols decimal)."""

    kind: str
    side: int
    strike: float
    root: str
    bid: float
    ask: float
    market_iv: float
    model_price: float
    model_iv: float

    @property
    def mid(self) -> float:
        return 0.5 * (self.bid + self.ask)

    @property
    def model_minus_market(self) -> float:
        return self.model_price - self.mid

    @property
    def vol_points(self) -> float:
        """Model vol less the market's, in vol points."""
        return 100.0 * (self.model_iv - self.market_iv)


@dataclass(frozen=True)
class QuotedCondor:
    condor: IronCondor           # priced at the chain (mid + fill), market vols kept
    legs: tuple[LegQuote, ...]
    source: str

    @property
    def mid_credit(self) -> float:
        """Net credit at the chain's mids, index points."""
        return float(-sum(q.side * q.mid for q in self.legs))

    @property
    def natural_credit(self) -> float:
        """Selling at the bids and buying at the asks, index points."""
        return float(sum(q.bid if q.side < 0 else -q.ask for q in self.legs))


def quote_condor(condor: IronCondor, table: QuoteTable, market: MarketState,
                 fill_share: float) -> QuotedCondor | str:
    """The model condor repriced at the chain's quotes, or the reason it cannot be."""
    if condor.expiry is None:
        return "the condor has no listed expiry"
    if condor.underlying != "SPX":
        return f"the chain is SPX's; {condor.underlying} legs stay on the model"
    if table.quote_date != date.fromisoformat(market.asof[:10] if market.asof else "1900-01-01"):
        return (f"the chain is dated {table.quote_date}, the market {market.asof or 'today'}: "
                "quotes are used only on their own day")
    day, root = condor.expiry.day, condor.expiry.root
    frame = table.frame
    on_day = frame[frame["expiry"] == day]
    if on_day.empty:
        return f"the chain has no {day:%d %b %Y} expiry"
    if not (on_day["root"] == root).any():
        other = sorted(on_day["root"].unique())
        return f"the chain lists {day:%d %b %Y} only as {', '.join(other)}, not {root}"
    on_day = on_day[on_day["root"] == root]
    years = condor.days / 365.0
    forward = float(market.forward(condor.days))
    discount = float(np.exp(-market.rate * years))
    quotes, legs = [], []
    for leg in condor.legs:
        row = on_day[(on_day["kind"] == leg.kind) & (np.abs(on_day["strike"] - leg.strike) < 1e-6)]
        if row.empty:
            return f"no {root} {leg.strike:g} {leg.kind} in the chain"
        bid, ask = float(row["bid"].iloc[0]), float(row["ask"].iloc[0])
        if not (np.isfinite(bid) and np.isfinite(ask) and ask > 0 and 0 <= bid <= ask):
            return f"the {root} {leg.strike:g} {leg.kind} has no two-sided quote ({bid:g} / {ask:g})"
        mid = 0.5 * (bid + ask)
        iv = float(implied_vol_black(mid, forward, leg.strike, years, discount, leg.kind))
        if not 0.005 < iv < 3.0:
            return f"the {root} {leg.strike:g} {leg.kind} mid {mid:.2f} implies no sensible vol"
        quotes.append(LegQuote(leg.kind, leg.side, leg.strike, root, bid, ask, iv, leg.price, leg.iv))
        priced = price_leg(leg.kind, leg.side, leg.strike, condor.days, market.spot, market.rate, market.div, iv,
                           leg.quantity)
        legs.append(replace(priced, price=mid))   # the chain's mid to the cent; greeks at its vol
    natural = sum(0.5 * (q.ask - q.bid) for q in quotes)
    repriced = replace(condor, legs=tuple(legs), fill_cost=fill_share * natural, natural_cost=natural,
                       iv_shift=tuple(q.market_iv - q.model_iv for q in quotes), quote_source=table.source)
    return QuotedCondor(repriced, tuple(quotes), table.source)
