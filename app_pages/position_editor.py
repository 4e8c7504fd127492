"""The Builder's "Your position" panel: edit the condor's legs, the hedge's
layers and added legs; where the prices come from; the scenario file.

The edits live in the page's address under their link keys (``lg`` strikes,
``ex`` expiry, ``q`` contracts, ``lim`` limit, ``lo`` layers left out, ``xl``
added legs; see :mod:`alvh_core.strategy.edits`).  Widgets whose options depend on
the position (strikes on the listed grid of the chosen expiry) are keyed by
the position they show, and write the link keys from their callbacks.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import streamlit as st

from alvh_core.data.chains import ChainFormatError, chain_on, parse_cboe_chain, read_cboe_chain_file
from alvh_core.data.listings import snap_strike, spx_expiries
from alvh_core.data.live import CHAIN_TTL, LiveFeed, fetch_spx_chain, offline_requested
from alvh_core.model import limits
from alvh_core.model.market import MarketState
from alvh_core.present.links import MARKET_KEYS, SCENARIO_KEYS, format_value, link_for
from alvh_core.present.ticket import MAX_SCENARIO_BYTES, ScenarioFileError, read_scenario, scenario_document
from alvh_core.strategy.condor import PRODUCT_SIZE, listed_strikes, market_date
from alvh_core.strategy.edits import LAYER_CODES, MAX_LEG_QUANTITY, AddedLeg, PositionEdits, vix_expiries, vix_future_on
from alvh_core.strategy.hedge import vix_strike_grid
from alvh_core.strategy.quotes import QuoteTable, from_cboe, from_yahoo
from app_pages.common import MAX_UPLOAD_BYTES, bounds, data_folder, keep_in_link, link_notices, plain, upload_key

EDIT_KEYS = ("lg", "ex", "q", "lim", "lo", "xl")


def current_edits() -> PositionEdits:
    """The edits the address (and the widgets) hold now."""
    get = st.session_state.get
    lim = get("lim")
    return PositionEdits(strikes=get("lg"), expiry=get("ex"), contracts=int(get("q")) if get("q") else None,
                         limit=float(lim) if lim is not None else None,
                         layers_off=tuple(c for c in LAYER_CODES if c in (get("lo") or ())),
                         added=tuple(get("xl") or ()))


def _set(key: str, value) -> None:
    st.session_state[key] = value
    keep_in_link(key, value)


def back_to_tier() -> None:
    for key in EDIT_KEYS:
        _set(key, [] if key == "lo" else (0 if key == "q" else None))


# --- where the prices come from ----------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=8)
def _folder_chain(path: str, stamp: float) -> QuoteTable:
    return from_cboe(read_cboe_chain_file(Path(path)), f"Cboe chain {Path(path).name}")


@st.cache_data(show_spinner=False, max_entries=4)
def _uploaded_chain(raw: bytes, name: str) -> QuoteTable:
    return from_cboe(parse_cboe_chain(raw, name), f"your chain {name}")


@st.cache_resource(show_spinner=False, max_entries=16)
def _live_chain_feed(expiry: str) -> LiveFeed:
    """Yahoo's ^SPX chain of one expiry, fetched in the background (shared by the server)."""
    return LiveFeed(f"Yahoo ^SPX options {expiry}", lambda: fetch_spx_chain(wanted=(expiry,)), CHAIN_TTL)


def chain_for(market: MarketState, expiry: date | None) -> tuple[QuoteTable | None, str]:
    """The quotes to price the condor at, and a line saying where prices come from."""
    mode = st.session_state.get("qs", "auto")
    upload = st.session_state.get(upload_key("b_chain_upload"))
    if mode == "model":
        return None, "Prices: the model (you chose it)."
    if mode == "live":
        if market.source != "live":
            return None, ("Prices: the model. Live quotes price only today's live market; the sidebar's data is "
                          f"{market.source} ({market.asof}).")
        if offline_requested() or expiry is None:
            return None, "Prices: the model (live data is off)."
        feed = _live_chain_feed(expiry.isoformat())
        feed.poke()
        state = feed.status()
        if state.good is not None:
            return from_yahoo(state.good.frame, market_date(market)), ""
        if state.fetching:
            return None, "Prices: the model while Yahoo's ^SPX chain downloads (rerun in a moment)."
        reason = state.failure.message if state.failure is not None else "no answer yet"
        return None, f"Prices: the model. Yahoo's chain: {reason}"
    if upload is not None:
        raw = upload.getvalue()
        if len(raw) > MAX_UPLOAD_BYTES:
            return None, f"Prices: the model. The uploaded chain is larger than {MAX_UPLOAD_BYTES // 2**20} MB."
        try:
            return _uploaded_chain(raw, upload.name), ""
        except (ChainFormatError, ValueError) as exc:
            return None, f"Prices: the model. The uploaded chain could not be read: {exc}"
    folder = data_folder()
    path = chain_on(folder, market.asof[:10]) if folder is not None and market.asof else None
    if path is not None:
        try:
            return _folder_chain(str(path), path.stat().st_mtime), ""
        except (ChainFormatError, ValueError, OSError) as exc:
            return None, f"Prices: the model. {path.name} could not be read: {exc}"
    return None, ("Prices: the model (no chain of this day: upload a Cboe spx_quotedata.csv, keep one in the data "
                  "folder's chains/, or choose Yahoo's live chain).")


# --- the panel --------------------------------------------------------------------------------

def _expiry_label(e, asof: date) -> str:
    return f"{e.day:%a %d %b %Y} · {e.root} {e.settlement} ({e.cycle}) · {(e.day - asof).days} d"


def _strike_options(market: MarketState, condor, days: float, cycle: str) -> list[float]:
    underlying = condor.underlying
    size = PRODUCT_SIZE[underlying]
    grid = listed_strikes(market.spot * size, days, market.spot * size * 0.5, market.spot * size * 1.5, cycle,
                          underlying, market.vix) / size
    current = [leg.strike for leg in condor.legs]
    return sorted(set(np.round(grid, 6).tolist()) | set(current))


#: The Builder's inputs an editor change must arrive alone among (the editors' own keys, and the keys
#: that fragments change in runs that draw no editors, left out).
_OTHER_INPUTS = tuple(k.key for k in (*SCENARIO_KEYS, *MARKET_KEYS) if k.key not in ("lg", "ex", "hz", "sd", "hzl"))


def _inputs_now() -> tuple:
    return tuple(repr(st.session_state.get(key)) for key in _OTHER_INPUTS)


def _from_a_finished_run(sig: str) -> bool:
    """Whether an editor's change is the user's: its editors were drawn by a run that finished, and no
    other input changed since that run (one request is one action).  A run cut short by the next input
    (two quick key presses) leaves the browser with editors the server never saw through: their values
    come back as changes (index 0 of each list) with the request of the other input, and must not count
    as the user's edits."""
    return (st.session_state.get("_editors_finished") == sig
            and st.session_state.get("_inputs_finished") == _inputs_now())


def editors_finished() -> None:
    """app.py, at the end of every run that finished: the editors drawn in it are the user's to change."""
    st.session_state["_editors_finished"] = st.session_state.get("_editors_drawn")
    st.session_state["_inputs_finished"] = _inputs_now()


def _on_strike(keys: tuple[str, ...], tier: tuple[float, ...], shown: tuple[float, ...], sig: str) -> None:
    strikes = tuple(float(st.session_state[k]) for k in keys)
    if strikes == shown or not _from_a_finished_run(sig):
        return
    if not strikes[0] < strikes[1] < strikes[2] < strikes[3]:
        st.session_state["_edit_problem"] = ("Strikes must rise from the long put to the long call: "
                                             + " / ".join(f"{k:g}" for k in strikes) + " was not used.")
        return
    _set("lg", None if strikes == tier else strikes)


def _on_expiry(key: str, tier_day: date, market: MarketState, underlying: str, current: tuple[float, ...],
               shown: date, sig: str) -> None:
    """A new expiry: the strikes move to the nearest listed ones of its grid."""
    e = st.session_state[key]
    if e.day == shown or not _from_a_finished_run(sig):
        return
    _set("ex", None if e.day == tier_day else e.day)
    days = max(e.years_from(market_date(market)), 0.25)
    size = PRODUCT_SIZE[underlying]
    snapped = tuple(snap_strike(market.spot * size, k * size, days, "nearest", underlying, e.cycle, market.vix) / size
                    for k in current)
    if len(set(snapped)) == 4 and list(snapped) == sorted(snapped) and (st.session_state.get("lg") or e.day != tier_day):
        _set("lg", snapped)


def _add_leg() -> None:
    s = st.session_state
    kind = s.get("xa_kind", "VIX call")
    underlying = "VIX" if kind == "VIX call" else "SPX"
    expiry = s.get("xa_vexp") if underlying == "VIX" else s.get("xa_sexp")
    strike = s.get("xa_vk") if underlying == "VIX" else s.get("xa_sk")
    quantity = int(s.get("xa_q") or 1)
    if expiry is None or strike is None:
        s["_edit_problem"] = "Choose an expiry and a strike for the leg."
        return
    day = expiry if isinstance(expiry, date) else expiry.day
    leg = AddedLeg(underlying, 1 if s.get("xa_side", "Buy") == "Buy" else -1, float(strike), day, quantity)
    legs = tuple(s.get("xl") or ())
    if len(legs) >= limits.MAX_ADDED_LEGS:
        s["_edit_problem"] = f"At most {limits.MAX_ADDED_LEGS} added legs."
        return
    _set("xl", tuple(sorted(legs + (leg,))))


def _remove_leg(text: str) -> None:
    legs = tuple(leg for leg in (st.session_state.get("xl") or ()) if leg.text != text)
    _set("xl", legs or None)


def position_panel(position, market: MarketState, vol_model, problem: str, quote_line: str) -> None:
    """The editors, drawn below the inputs (the position was built from the link keys already)."""
    condor, tier_condor = position.condor, position.tier_condor
    edits = current_edits()
    asof = market_date(market)
    with st.container(border=True):
        top = st.columns([3, 1])
        if edits.any and problem:   # the edits were refused: the tier's position is what is shown
            top[0].markdown("**Your position** — the tier's: your edits (" + plain("; ".join(edits.describe()))
                            + ") are not used, see below.")
        elif edits.any:
            top[0].markdown("**Your position** — edited from the tier's: " + plain("; ".join(edits.describe())))
        else:
            top[0].markdown("**Your position** — the tier's condor and hedge; change any leg below.")
        top[1].button("Back to the tier's condor", key="b_reset", on_click=back_to_tier, disabled=not edits.any,
                      icon=":material/undo:", help="Drop every edit: the tier's strikes, expiry, size and hedge")
        for message in (problem, st.session_state.pop("_edit_problem", "")):
            if message:
                st.warning(plain(message))
        if condor.expiry is not None and tier_condor is not None and tier_condor.expiry is not None:
            _condor_editors(position, market, asof)
        c1, c2, c3 = st.columns(3)
        c1.number_input("Contracts (0 = sized by your budget)", *bounds("q"), step=1, key="q",
                        help="A fixed count overrides the sizing; the risk budget still shows what it allows")
        keep_in_link("q", st.session_state.get("q", 0))
        c2.number_input(f"Net limit credit per condor ({condor.underlying} points; empty = the fill slider)",
                        *bounds("lim"), value=None, step=0.05, format="%.2f", key="lim",
                        help="The price you will work the order at: credit, metrics and sizing use it")
        keep_in_link("lim", st.session_state.get("lim"))
        present = [c for c, name in LAYER_CODES.items() if any(layer.name == name for layer in position.hedge.layers)]
        kept = [c for c in (st.session_state.get("lo") or []) if c in LAYER_CODES]
        st.session_state["lo"] = kept
        c3.multiselect("Hedge layers to leave out", sorted(set(present) | set(kept), key=list(LAYER_CODES).index),
                       key="lo", format_func=LAYER_CODES.get)
        keep_in_link("lo", st.session_state.get("lo"))
        _added_legs(market, asof)
        c1, c2 = st.columns([1, 2])
        c1.radio("Prices from", ["auto", "model", "live"], key="qs", horizontal=False,
                 format_func={"auto": "A chain of the day, when there is one", "model": "The model",
                              "live": "Yahoo's live ^SPX chain"}.get,
                 help="A chain prices the condor's legs at its bid/ask (the fill slider moves from its mid to its "
                      "natural); the hedge's VIX legs are always model-priced (no VIX quotes)")
        keep_in_link("qs", st.session_state.get("qs", "auto"))
        c2.file_uploader("Cboe chain (spx_quotedata.csv) of the market's day", type=["csv"], key=upload_key("b_chain_upload"),
                         help="Cboe's delayed-quotes download; it is used when its quote date is the market's day")
        if quote_line:
            st.caption(plain(quote_line))
        elif position.quoted is not None:
            q = position.quoted
            st.caption(plain(f"Condor legs priced at {q.source}: mid credit {condor.quoted(q.mid_credit):.2f}, "
                             f"natural {condor.quoted(q.natural_credit):.2f} (model mid "
                             f"{condor.quoted(-sum(x.side * x.model_price for x in q.legs)):.2f}); the legs tab "
                             "shows model against market."))
        elif position.quote_note:
            st.caption(plain(f"Prices: the model — {position.quote_note}."))


def _condor_editors(position, market: MarketState, asof: date) -> None:
    condor, tier_condor = position.condor, position.tier_condor
    listed = [e for e in spx_expiries(asof) if 1 <= (e.day - asof).days <= 365]
    if condor.underlying == "XSP":
        from dataclasses import replace

        listed = [replace(e, root="XSP") for e in listed]
    current = next((e for e in listed if e.day == condor.expiry.day), None)
    if current is None:
        return
    strikes = tuple(leg.strike for leg in condor.legs)
    tier = tuple(leg.strike for leg in tier_condor.legs)
    sig = f"{condor.expiry.day}-" + "-".join(f"{k:g}" for k in strikes)
    st.session_state["_editors_drawn"] = sig
    cols = st.columns([2, 1, 1, 1, 1])
    key = f"e_ex_{sig}"
    st.session_state.setdefault(key, current)
    cols[0].selectbox("Condor expiry (listed)", listed, key=key, format_func=lambda e: _expiry_label(e, asof),
                      on_change=_on_expiry,
                      args=(key, tier_condor.expiry.day, market, condor.underlying, strikes, condor.expiry.day, sig))
    options = _strike_options(market, condor, condor.days, condor.expiry.cycle)
    names = ("Long put", "Short put", "Short call", "Long call")
    keys = tuple(f"e_k{i}_{sig}" for i in range(4))
    for i, (col, name) in enumerate(zip(cols[1:], names, strict=True)):
        st.session_state.setdefault(keys[i], strikes[i])
        col.selectbox(name, options, key=keys[i], format_func=lambda k: f"{condor.quoted(k):g}",
                      on_change=_on_strike, args=(keys, tier, strikes, sig),
                      help=f"Listed {condor.expiry.root} strikes of this expiry (the tier's: "
                           f"{condor.quoted(tier[i]):g})")


def _index(options: list, value, fallback: int) -> int:
    return options.index(value) if value in options else fallback


def _added_legs(market: MarketState, asof: date) -> None:
    # The popover comes before the list of added legs: a leg added below it leaves it where it was
    # (and open), so several can be added in a row.
    with st.popover("Add a leg: VIX call or SPX put", icon=":material/add:"):
        c1, c2, c3 = st.columns(3)
        kind = c1.radio("Leg", ["VIX call", "SPX put"], key="xa_kind", horizontal=True)
        c2.radio("Side", ["Buy", "Sell"], key="xa_side", horizontal=True)
        c3.number_input("Quantity (whole position)", 1, MAX_LEG_QUANTITY, 1, key="xa_q")
        c1, c2 = st.columns(2)
        # Popover widgets mount in the browser only when it opens, with their declared index: so each
        # one is given its index (the value it holds, else a sensible default), never a value set in
        # the session state.
        if kind == "VIX call":
            expiries = vix_expiries(market)
            expiry = c1.selectbox("VIX expiry (listed, A.M.-settled)", expiries, key="xa_vexp",
                                  index=_index(expiries, st.session_state.get("xa_vexp"), min(1, len(expiries) - 1)),
                                  format_func=lambda d: f"{d:%a %d %b %Y} · {(d - asof).days} d")
            future = vix_future_on(market, expiry)
            grid = [float(k) for k in vix_strike_grid(future, asof, expiry)]
            near = grid.index(min(grid, key=lambda k: abs(k - round(future * 1.25))))
            c2.selectbox(f"Strike (model future {future:.2f})", grid, key="xa_vk", format_func=lambda k: f"{k:g}",
                         index=_index(grid, st.session_state.get("xa_vk"), near))
        else:
            listed = [e for e in spx_expiries(asof) if 1 <= (e.day - asof).days <= 365]
            quarter = listed.index(min(listed, key=lambda e: abs((e.day - asof).days - 91)))
            e = c1.selectbox("SPX expiry (listed)", listed, key="xa_sexp", format_func=lambda x: _expiry_label(x, asof),
                             index=_index(listed, st.session_state.get("xa_sexp"), quarter))
            days = max(e.years_from(asof), 0.25)
            grid = listed_strikes(market.spot, days, market.spot * 0.5, market.spot * 1.05, e.cycle,
                                       vix=market.vix).tolist()
            tenth = grid.index(min(grid, key=lambda k: abs(k - market.spot * 0.9)))
            c2.selectbox("Strike", grid, key="xa_sk", format_func=lambda k: f"{k:g}",
                         index=_index(grid, st.session_state.get("xa_sk"), tenth))
        st.button("Add this leg", key="xa_add", on_click=_add_leg, type="primary")
    for leg in tuple(st.session_state.get("xl") or ()):
        c1, c2 = st.columns([5, 1])
        c1.markdown(plain(f"Added: {leg.label}"))
        c2.button("Remove", key=f"xl_rm_{leg.text}", on_click=_remove_leg, args=(leg.text,))


# --- the scenario file ------------------------------------------------------------------------

def scenario_params() -> dict:
    """Every Builder input that differs from its default, as link codes (market too when pinned)."""
    keys = SCENARIO_KEYS + (MARKET_KEYS if st.session_state.get("pin") else tuple(k for k in MARKET_KEYS
                                                                                  if k.key == "ad"))
    values = {}
    for spec in keys:
        value = st.session_state.get(spec.key)
        if spec.kind == "multi" and value is not None:
            value = tuple(c for c in spec.choices if c in tuple(value))
        values[spec.key] = value
    return link_for(values)


def scenario_files(position) -> None:
    """Download the scenario as JSON; load one back (its inputs go through the link's checks)."""
    params = scenario_params()
    doc = scenario_document(params, position)
    c1, c2 = st.columns(2)
    c1.download_button("Scenario (JSON)", json.dumps(doc, indent=1, default=str), "alvh_scenario.json",
                       "application/json", key="b_scenario_json", icon=":material/download:",
                       help="Every input of this page (the share link's parameters) and the position they build")
    c2.file_uploader("Load a scenario (JSON)", type=["json"], key=upload_key("b_scenario_upload"), on_change=_load_scenario,
                     help="A file saved with the button beside: the page takes its inputs, checked like a link's")
    message = st.session_state.pop("_scenario_message", None)
    if message:
        st.warning(plain(message))
    notices = st.session_state.pop("_scenario_notices", ())
    if notices:
        link_notices(notices)


def _load_scenario() -> None:
    """The uploader's callback (it runs before the page, so every widget can take the file's values)."""
    upload = st.session_state.get(upload_key("b_scenario_upload"))
    if upload is None:
        return
    raw = upload.getvalue()
    try:
        reading = read_scenario(raw[: MAX_SCENARIO_BYTES + 1], SCENARIO_KEYS + MARKET_KEYS)
    except ScenarioFileError as exc:
        st.session_state["_scenario_message"] = f"{upload.name}: {exc}. Nothing was changed."
        return
    apply_reading(reading)
    st.session_state["_scenario_notices"] = reading.notices


def apply_reading(reading) -> None:
    """Every Builder input from a checked set of values: the ones given, the defaults for the rest."""
    for spec in SCENARIO_KEYS + MARKET_KEYS:
        if spec.key in reading.values:
            value = reading.values[spec.key]
            st.session_state[spec.key] = list(value) if spec.kind == "multi" else value
            text = format_value(spec, value)
            st.query_params[spec.key] = text
        else:
            st.session_state.pop(spec.key, None)
            if spec.key in st.query_params:
                del st.query_params[spec.key]
