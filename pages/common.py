"""Widgets and helpers shared by every page (not a page itself)."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from alvh_core.history import History, HistoryFormatError, load_history_folder
from alvh_core.market import DEFAULT_MARKET, MarketState

DISCLAIMER = ("Educational software: ALVH Studio never places orders, and its numbers are models, "
              "not advice. Options can lose more than you expect.")

_BADGE_COLORS = {"live": "green", "cache": "blue", "file": "blue", "simulated": "violet",
                 "manual": "orange", "default": "gray"}

_MARKET_FIELDS = (
    # key, label, min, max, step, help
    ("spot", "SPX", 100.0, 20000.0, 5.0, "S&P 500 index level (points)"),
    ("vix", "VIX", 5.0, 150.0, 0.1, "30-day implied vol index (vol points)"),
    ("vix9d", "VIX9D", 5.0, 200.0, 0.1, "9-day index; leave empty if unknown"),
    ("vix3m", "VIX3M", 5.0, 150.0, 0.1, "3-month index; leave empty if unknown"),
    ("vix6m", "VIX6M", 5.0, 150.0, 0.1, "6-month index; leave empty if unknown"),
)


def ensure_router() -> None:
    """Route every run through ``app.py``'s ``st.navigation``.

    Streamlit decides once per process, before any script runs, that an app
    with a folder named ``pages/`` is a legacy multipage app; until some run
    calls ``st.navigation`` a deep link (``/builder``) would execute the page
    file alone, without the shared sidebar.  Clearing that decision and
    rerunning sends the same URL through the router (page identity is the
    URL path, so the rerun lands on the same page).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def data_badge(market: MarketState) -> None:
    """The provenance badge: source and as-of."""
    when = f" · {market.asof}" if market.asof else ""
    st.badge(f"Data: {market.source}{when}", color=_BADGE_COLORS.get(market.source, "gray"),
             icon=":material/database:",
             help="live = Yahoo/Cboe now; cache = last good download; file = your CSVs; "
                  "manual = typed in; default = the last closes the app ships with")


def market_sidebar() -> MarketState:
    """Market inputs in the sidebar; stores the state for the pages."""
    base = DEFAULT_MARKET
    with st.sidebar:
        st.subheader("Market")
        values = {}
        cols = st.columns(2)
        for i, (key, label, low, high, step, help_text) in enumerate(_MARKET_FIELDS):
            default = getattr(base, key)
            with cols[i % 2]:
                values[key] = st.number_input(label, min_value=low, max_value=high, value=default, step=step,
                                              key=f"mkt_{key}", help=help_text, format="%.2f")
        cols = st.columns(2)
        with cols[0]:
            rate_pct = st.number_input("Rate %", min_value=-5.0, max_value=50.0, value=base.rate * 100, step=0.05,
                                       key="mkt_rate", help="Risk-free rate, % a year (13-week T-bill)")
        with cols[1]:
            div_pct = st.number_input("Div yield %", min_value=0.0, max_value=20.0, value=base.div * 100,
                                      step=0.05, key="mkt_div", help="SPX dividend yield, % a year")
        spot = values["spot"] if values["spot"] is not None else base.spot
        vix = values["vix"] if values["vix"] is not None else base.vix
        edited = (spot != base.spot or vix != base.vix or rate_pct != base.rate * 100 or div_pct != base.div * 100
                  or any(values[k] != getattr(base, k) for k in ("vix9d", "vix3m", "vix6m")))
        market = MarketState(spot=spot, vix=vix, vix9d=values["vix9d"], vix3m=values["vix3m"],
                             vix6m=values["vix6m"], vvix=base.vvix, rate=rate_pct / 100, div=div_pct / 100,
                             asof=base.asof, source="manual" if edited else base.source)
        data_badge(market)
        if market.source == "default":
            st.caption(f"Offline defaults: the last closes the app knows ({base.asof}). "
                       "Rate and dividend yield are assumptions; edit any value.")
    st.session_state["market"] = market
    return market


def money(value: float, decimals: int = 0) -> str:
    """Dollars as a trader writes them: $1,234 and −$56 (a real minus sign)."""
    text = f"${abs(value):,.{decimals}f}"
    return f"−{text}" if value < 0 and round(abs(value), decimals) > 0 else text


def current_market() -> MarketState:
    return st.session_state.get("market", DEFAULT_MARKET)


@st.cache_resource(show_spinner=False)
def _history_from(folder: str) -> History | None:
    try:
        return load_history_folder(folder)
    except (HistoryFormatError, OSError):
        return None


def history_folder_history() -> History | None:
    """SPX/VIX history from the folder named by ``ALVH_DATA_DIR``, if any."""
    folder = os.environ.get("ALVH_DATA_DIR")
    if not folder or not Path(folder).is_dir():
        return None
    return _history_from(str(Path(folder).resolve()))
