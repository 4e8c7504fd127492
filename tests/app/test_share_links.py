"""Share links through AppTest: what the user sets is what the link carries,
and no link, however hostile, raises on any page.

The fuzz tests run a short version by default; set ``ALVH_FUZZ_EXAMPLES``
for a long run (``ALVH_FUZZ_EXAMPLES=300 bash scripts/test.sh -m fuzz``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from alvh_core.present.links import ACCOUNT_KEYS, ALIASES, ALL_KEYS, BUILDER_KEYS, PAGE_KEYS, read_link
from tests.app import switch_to
from tests.app.date_sliders import KEYS, move, slider_data

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 60
EXAMPLES = int(os.environ.get("ALVH_FUZZ_EXAMPLES", "10"))
PAGES = {"regime": None, "builder": "app_pages/builder.py", "backtest": "app_pages/backtest.py",
         "hedge-lab": "app_pages/hedge_lab.py", "tiers": "app_pages/tiers.py", "learn": "app_pages/learn.py"}


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ALVH_DATA_DIR", raising=False)


def open_link(page: str, params: dict) -> AppTest:
    """A fresh session opening ``params`` on ``page``, as the browser shows it
    (the first run with the numbers, then the full page)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if PAGES[page]:
        switch_to(at, PAGES[page])
    at.query_params.update(params)
    at.run()
    at.run()
    return at


def _state(at: AppTest) -> dict:
    """Every link-bound widget's value and every headline number."""
    widgets = {}
    for kind in ("selectbox", "radio", "slider", "select_slider", "number_input", "checkbox"):
        for widget in getattr(at, kind):
            code = widget.key[1:] if widget.key and widget.key.startswith("_") else widget.key   # session settings
            if code in ALL_KEYS:
                widgets[code] = widget.value
    widgets |= {key: slider_data(at, key)["value"] for key in KEYS if at.get("bidi_component")}
    return {"widgets": widgets, "metrics": [(m.label, m.value) for m in at.metric]}


def _link_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "could not use" in w.value]


# Every Builder input and a value other than its default, set the way a user sets it.
BUILDER_CHANGES = (
    ("t", "selectbox", "Aggressive"), ("sel", "radio", "delta"), ("d", "select_slider", 30), ("m", "selectbox", "cvar95"),
    ("_n", "number_input", 250_000.0), ("h", "selectbox", "single"), ("sb", "number_input", 50),
    ("sa", "number_input", 30), ("st", "number_input", 25), ("c", "radio", "stress"), ("ti", "radio", "spx_put_fly"),
    ("cb", "number_input", 12.5), ("em", "number_input", 2.0), ("sk", "number_input", 0.5), ("hz", "date", 3),
    ("sd", "date", 2), ("u", "selectbox", "SPX"), ("fs", "slider", 75), ("_hpm", "number_input", 25.0),
    ("_hsz", "radio", "notional"), ("hab", "checkbox", True),
)


def _code(key: str) -> str:
    """The link key of a widget (the session's settings have widgets keyed ``_`` + the link key)."""
    return key[1:] if key.startswith("_") else key


def _set(at: AppTest, key: str, kind: str, value) -> None:
    if kind == "date":
        move(at, key, value)
    else:
        getattr(at, kind)(key=key).set_value(value)
        at.run()
    assert not at.exception, (key, at.exception)


@pytest.mark.parametrize("budget", [("_bm", "radio", "usd", "_b", 7_500.0), (None, None, None, "_r", 2.5)],
                         ids=["dollars", "percent"])
def test_every_builder_input_set_in_the_page_reopens_from_its_link(budget):
    at = open_link("builder", {})
    mode_key, mode_kind, mode_value, amount_key, amount = budget
    changes = BUILDER_CHANGES + (((mode_key, mode_kind, mode_value),) if mode_key else ())
    for key, kind, value in changes + ((amount_key, "number_input", amount),):
        _set(at, key, kind, value)
    at.checkbox(key="pin").check()
    at.run()
    _set(at, "vix", "number_input", 24.0)
    link = dict(at.query_params)
    # Codes, not labels, and every changed input is in the link.
    assert link["h"] == "single" and link["ti"] == "spx_put_fly" and link["c"] == "stress" and link["m"] == "cvar95"
    assert {_code(k) for k, _, _ in changes} | {_code(amount_key), "pin", "vix", "spx", "asof"} <= set(link)
    assert not read_link(link, PAGE_KEYS["builder"]).notices
    before = _state(at)

    fresh = open_link("builder", link)
    assert not fresh.exception, fresh.exception
    assert not _link_warnings(fresh)
    assert _state(fresh) == before
    assert dict(fresh.query_params) == link  # opening the link leaves its address as it was


def test_label_style_links_still_open_and_are_rewritten_as_codes():
    old = {"bm": "dollars", "b": "2500", "h": "Single VIX call", "ti": "SPX put butterflies",
           "c": "only on the stress trigger", "sel": "delta 0.08", "m": "expected loss", "tier": "Moderate"}
    at = open_link("builder", old)
    assert not at.exception and not _link_warnings(at)
    assert at.radio(key="_bm").value == "usd" and at.selectbox(key="h").value == "single"
    assert at.selectbox(key="t").value == "Moderate"
    assert dict(at.query_params) == {"bm": "usd", "b": "2500", "h": "single", "ti": "spx_put_fly", "c": "stress",
                                     "sel": "delta", "m": "expected_loss", "t": "Moderate"}


def _choice_value(spec):
    return st.sampled_from(spec.choices)


def _valid_value(spec):
    if spec.kind == "choice":
        return _choice_value(spec)
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "int":
        return st.integers(int(spec.low), min(int(spec.high), 5 if spec.key in ("hz", "sd") else int(spec.high)))
    return st.floats(spec.low, min(spec.high, 1e7), allow_nan=False).map(lambda v: round(v, 2)).filter(
        lambda v: spec.low <= v <= spec.high)


# The dollars budget is covered above (its pair depends on bm); the dated lines' choices depend on the
# condor (tests/app/test_builder_page.py sets them in the page and reads the link); so do the edits of the
# position, checked against the listings (tests/app/test_builder_edits.py edits each kind in the page).
ACCOUNT = {k.key for k in ACCOUNT_KEYS}
_SKIP_IN_RANDOM = {"bm", "b", "hzl", "lg", "ex", "lim", "lo", "xl", "qs", "gov"}
scenarios = st.fixed_dictionaries({}, optional={k.key: _valid_value(k) for k in BUILDER_KEYS + ACCOUNT_KEYS
                                                if k.key not in _SKIP_IN_RANDOM})


@pytest.mark.fuzz
@settings(max_examples=max(3, EXAMPLES // 2), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(values=scenarios)
def test_any_scenario_set_in_the_page_reopens_the_same(values):
    at = open_link("builder", {})
    for key, value in values.items():
        kind = {"choice": "selectbox" if key in ("t", "m", "h", "u") else "radio", "int": "number_input",
                "float": "number_input", "bool": "checkbox"}[ALL_KEYS[key].kind]
        if key in ACCOUNT:
            key = f"_{key}"   # the session's account: its widgets are keyed "_" + the link key
            if getattr(at, kind)(key=key).disabled:
                continue      # a scale the chosen hedge sizing does not use: a user cannot set it either
        elif key in ("hz", "sd"):
            kind = "date"
        elif key in ("d", "fs"):
            kind = "select_slider" if key == "d" else "slider"
            if key == "fs":
                value = value // 5 * 5  # the slider moves in 5 % steps
        _set(at, key, kind, value)
    link = dict(at.query_params)
    fresh = open_link("builder", link)
    assert not fresh.exception and not _link_warnings(fresh)
    assert _state(fresh) == _state(at)


HOSTILE = ["NaN", "nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e308", "-1e308", "", "   ", "0", "-0",
           "9" * 400, "1e-320", "<script>alert(1)</script>", "![a](http://127.0.0.1:9/x.png)", "[a](javascript:x)",
           ":red[x]", ":material/home:", "$x^2$", "**bold**", "9999-12-31", "0001-01-01", "2020-02-30", "notadate",
           "2020-03-16", "true", "yes", "ＴＲＵＥ", "١٢٣", "😀", "a\nb", "%00", "Aggressive", "usd", "delta 0.08"]
names = st.one_of(st.sampled_from(sorted(ALL_KEYS) + sorted(ALIASES)), st.sampled_from(HOSTILE),
                  st.text(max_size=12))
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30), st.floats().map(repr),
                   st.integers(-10**30, 10**30).map(str))
hostile_links = st.dictionaries(names, st.one_of(values, st.lists(values, min_size=1, max_size=3)), max_size=8)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)*?\1", re.S)


def _check_page(page: str, params: dict) -> None:
    at = open_link(page, params)
    assert not at.exception, (page, params, at.exception)
    # What is left in the address reads cleanly; the notice shows link text only inside code spans.
    assert not read_link(dict(at.query_params), PAGE_KEYS["" if page == "regime" else page]).notices
    for warning in _link_warnings(at):
        outside = _CODE_SPAN.sub("", warning)
        assert not re.search(r"(?<!\\)[\[\]<>!*`$]", outside.split("\n", 1)[1]), warning


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(params=hostile_links, pinned=st.booleans())
def test_no_link_raises_on_any_page(params, pinned):
    if pinned:
        params = {"pin": "true"} | params
    for page in PAGES:
        _check_page(page, params)


@pytest.mark.parametrize("value", ["NaN", "inf", "-inf", "1e309", "", "9999-12-31", "![a](http://127.0.0.1:9/x.png)",
                                   "0"])
def test_every_key_of_every_page_with_a_bad_value(value):
    """Every key at once with one of the values that broke pages before, pinned (so that the market keys are
    read) and not, on each page."""
    every_key = {k.key: value for k in ALL_KEYS.values()} | {alias: value for alias in ALIASES}
    for params in (every_key, every_key | {"pin": "true"}):
        for page in PAGES:
            if "pin" in params and page in ("backtest", "hedge-lab", "tiers"):
                continue   # pinning reads the sidebar's keys, the same on every page (checked on the first two)
            _check_page(page, params)


def test_pinned_values_a_link_cannot_use_are_named_and_yes_pins():
    at = open_link("builder", {"pin": "true", "spx": "NaN", "vix": "inf"})
    notice = " ".join(_link_warnings(at))
    assert "`spx` = `NaN`" in notice and "`vix` = `inf`" in notice
    assert at.checkbox(key="pin").value and at.number_input(key="vix").value is not None  # the data's VIX instead
    at = open_link("builder", {"pin": "yes", "vix": "24"})
    assert at.checkbox(key="pin").value and at.number_input(key="vix").value == 24.0 and not _link_warnings(at)
    at = open_link("regime", {"vix": "31"})  # market values alone pin too
    assert at.checkbox(key="pin").value and "High" in " ".join(m.value for m in at.markdown)
    at = open_link("builder", {"tier": "aggressive", "t": "Moderate"})
    assert at.selectbox(key="t").value == "Moderate"
    assert "tier was also given as t" in " ".join(_link_warnings(at))


@pytest.mark.parametrize("page, params, key, value, expected", [
    ("builder", {"t": "Aggressive"}, "_r", 2.0, "r=2"),
    ("tiers", {"tsel": "delta"}, "_n", 500_000.0, "n=500000"),
    ("learn", {"eb": "20000"}, "_n", 250_000.0, "n=250000"),
    ("backtest", {"byrs": "2"}, "_n", 50_000.0, "n=50000"),
    ("hedge-lab", {"lmp": "1000"}, "_n", 2_000_000.0, "n=2000000"),
])
def test_every_page_shows_its_share_link_with_the_inputs_as_they_are_now(page, params, key, value, expected):
    at = open_link(page, params)
    pinned, live = (c.value for c in at.sidebar.code)
    path = "/" if page == "regime" else f"/{page}"
    assert live == f"{path}?" + "&".join(f"{k}={v}" for k, v in params.items()), live
    assert pinned.startswith(live + "&pin=true&spx=") and "&vix=" in pinned and "&asof=" in pinned, pinned
    at.number_input(key=key).set_value(value).run()
    assert not at.exception
    link = at.sidebar.code[0].value
    assert link.startswith(f"{path}?") and expected in link and all(f"{k}={v}" in link for k, v in params.items())
    assert "pin=true" in link and expected in at.sidebar.code[1].value and "pin=" not in at.sidebar.code[1].value
    # The link, opened in a fresh session, shows the same page with the same inputs.
    again = open_link(page, dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&")))
    assert again.number_input(key=key).value == value
    assert again.sidebar.code[0].value == link


def test_the_regime_page_link_pins_the_market():
    at = open_link("regime", {"pin": "true", "vix": "31"})
    link = at.sidebar.code[0].value
    assert link.startswith("/?pin=true&") and "&vix=31&" in link and "spx=" in link


def test_a_repeated_scheme_runs_both_and_a_repeated_choice_is_named(monkeypatch, tmp_path):
    """``/backtest?bst=weekly&bh=none&bh=alvh`` ran ALVH only, silently."""
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ALVH_DATA_DIR", raising=False)
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("app_pages/backtest.py")
    at.query_params["bh"] = ["none", "alvh"]
    at.query_params["bst"] = ["monthly", "weekly"]
    at.query_params["byrs"] = "3"
    at.run()
    at.run()
    assert not at.exception, at.exception
    assert at.multiselect(key="bh").value == ["none", "alvh"]
    assert at.selectbox(key="bst").value == "weekly"
    notice = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "bst" in notice and "given 2 times" in notice, notice


def test_the_pinned_link_shows_the_same_numbers_after_the_market_moved(monkeypatch, tmp_path):
    """The share box's default link carries the market and the as-of day: opened a week later on a server
    whose history has five more days (VIX at 31 by then), it shows the sender's numbers; a VIX typed by the
    sender travels too."""
    days = pd.bdate_range(end="2026-06-30", periods=400)
    rng = np.random.default_rng(4)
    spx = 6000 * np.exp(np.cumsum(rng.normal(0, 0.01, days.size)))
    vix = np.clip(16 + np.cumsum(rng.normal(0, 0.5, days.size)), 11, 40)

    def folder(name: str, extra: int) -> Path:
        path = tmp_path / name
        path.mkdir()
        later = pd.bdate_range(days[-1] + pd.Timedelta(days=1), periods=extra)
        rows = list(zip(days, spx, vix, strict=True)) + [(d, spx[-1] * 0.9, 31.0) for d in later]
        (path / "VIX_History.csv").write_text("DATE,CLOSE\n" + "".join(f"{d:%Y-%m-%d},{v:.2f}\n" for d, _, v in rows))
        (path / "SPX_History.csv").write_text("DATE,CLOSE\n" + "".join(f"{d:%Y-%m-%d},{s:.2f}\n" for d, s, _ in rows))
        return path

    monkeypatch.setenv("ALVH_DATA_DIR", str(folder("sent", 0)))
    at = open_link("builder", {"t": "Moderate"})
    sent = {m.label: m.value for m in at.metric}
    link = at.sidebar.code[0].value
    assert "ad=2026-06-30" in link and "pin=true" in link, link
    params = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    typed = open_link("builder", {"t": "Moderate"})
    next(w for w in typed.sidebar.number_input if w.key.startswith("mkt_vix_")).set_value(25.0).run()
    assert "&vix=25&" in typed.sidebar.code[0].value   # typed: it travels in the share link
    monkeypatch.setenv("ALVH_DATA_DIR", str(folder("a week later", 5)))
    moved = open_link("builder", {"t": "Moderate"})
    assert {m.label: m.value for m in moved.metric} != sent   # the market did move
    again = open_link("builder", params)
    assert not again.exception and {m.label: m.value for m in again.metric} == sent
