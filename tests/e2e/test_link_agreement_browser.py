"""The page, its address and its share box describe one scenario after every run, however fast the
inputs come: key presses with no wait between them on each Builder slider, inputs inside fragments,
the browser's back button; the copied link (the copy button, through the clipboard) reopens the same
numbers, on a server whose market differs too."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import ARTIFACTS, FULL, date_slider, one_of_each

pytestmark = pytest.mark.e2e

#: Each Builder slider: (its label's start, its link key, its default).
SLIDERS = [("Days to expiry", "d", 0), ("Fill:", "fs", 50), ("Horizon", "hz", 0), ("Scenario date", "sd", 0)]
FOLDED = ("d", "fs")   # in the Builder's folded "Condor" inputs
TRIALS = int(os.environ.get("ALVH_LINK_TRIALS", "20" if FULL else "12"))
IDLE = "!document.querySelector('[data-testid=\"stStatusWidget\"]')"


def _idle(page, settle_ms: int = 350):
    """Wait until no run is going on and none starts within ``settle_ms``."""
    for _ in range(40):
        page.wait_for_function(IDLE, timeout=60_000)
        page.wait_for_timeout(settle_ms)
        if page.evaluate(IDLE):
            return


def _ready(page):
    page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
    page.wait_for_selector(".js-plotly-plot", timeout=90_000)
    _idle(page, 800)


def _query(url: str) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}


def _metrics(page) -> list[tuple[str, str]]:
    return [(m.locator("[data-testid='stMetricLabel']").inner_text().strip(),
             m.locator("[data-testid='stMetricValue']").inner_text().strip())
            for m in page.locator("[data-testid='stMain'] [data-testid='stMetric']").all()]


DATE_SLIDERS = {"Horizon": "hz", "Scenario date": "sd"}   # moved in the browser (app_pages/date_slider.py)


def _thumb(page, label: str):
    if label in DATE_SLIDERS:
        return date_slider(page, DATE_SLIDERS[label])
    return page.locator("[data-testid='stSlider']").filter(has_text=label).first.get_by_role("slider")


def _charts_day(page, key: str) -> int:
    """The day the date slider ``key``'s chart shows: the payoff chart's dotted line, or the heat map's title."""
    if key == "hz":   # the frame whose line the dotted line is (whole dollars)
        return int(page.wait_for_function(
            "() => { const plot = document.querySelector('.st-key-b_payoff_chart .js-plotly-plot');"
            " const line = plot && (plot._fullData || []).find(t => t.name === 'Combined at the horizon');"
            " if (!line || !plot._transitionData) return null;"
            " const y = JSON.stringify(Array.from(line.y, Math.round));"
            " const frame = plot._transitionData._frames.find(f => JSON.stringify(f.data[0].y) === y);"
            " return frame ? frame.name : null; }", timeout=30_000).json_value())
    title = page.wait_for_function(
        "() => { const plot = document.querySelector('.st-key-b_heat_chart .js-plotly-plot');"
        " return plot && plot.layout && plot.layout.title && plot.layout.title.text; }", timeout=30_000).json_value()
    return int(title.split("day ")[1].split()[0])


def _stress(page) -> str:
    return page.locator(".st-key-sd_slider table").inner_text()


def _share_link(page) -> str:
    return page.locator("[data-testid='stSidebar'] [data-testid='stCode']").first.inner_text().strip()


def _state(page, label: str, key: str, default: int) -> tuple[int, int, int]:
    """(the slider, the address, the share box) for one key; an absent key is the default."""
    widget = int(float(_thumb(page, label).input_value()))
    address = int(float(_query(page.url).get(key, default)))
    shared = int(float(_query(_share_link(page)).get(key, default)))
    return widget, address, shared


def _agree(page, label: str, key: str, default: int) -> tuple[int, int, int]:
    """The three agree once the page is idle (polled briefly: the address is written by the run)."""
    state = _state(page, label, key, default)
    for _ in range(20):
        if len(set(state)) == 1:
            break
        page.wait_for_timeout(250)
        _idle(page, 200)
        state = _state(page, label, key, default)
    return state


@pytest.fixture()
def builder(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    page = context.new_page()
    page.goto(f"{app_url}/builder")
    _ready(page)
    page.get_by_text("Condor: days, strikes").click()   # the folded inputs: days and fill
    yield page
    context.close()


@pytest.mark.parametrize("label,key,default", one_of_each(SLIDERS, [SLIDERS[1], SLIDERS[3]]), ids=[s[1] for s in SLIDERS])
def test_fast_key_presses_leave_slider_address_share_box_and_numbers_agreeing(builder, browser, app_url,
                                                                                label, key, default):
    page = builder
    seen: dict[int, list] = {}
    for trial in range(TRIALS):
        thumb = _thumb(page, label)
        thumb.focus()
        direction = "ArrowRight" if trial % 4 < 2 else "ArrowLeft"
        thumb.press(direction, delay=0)
        thumb.press(direction, delay=0)          # no wait between the two presses
        page.wait_for_timeout(150)
        _idle(page)
        widget, address, shared = _agree(page, label, key, default)
        assert widget == address == shared, f"trial {trial}: slider {widget}, address {address}, share box {shared}"
        if key in DATE_SLIDERS.values():
            assert _charts_day(page, key) == widget, f"trial {trial}: the chart shows another day"
        numbers = _metrics(page)
        if widget in seen:   # the same scenario shows the same numbers, whatever the order of the runs
            if numbers != seen[widget]:
                page.screenshot(path=str(ARTIFACTS / f"other_numbers_{key}.png"), full_page=True)
            assert numbers == seen[widget], f"trial {trial}: {label} = {widget} shows other numbers"
        seen[widget] = numbers
    link = _share_link(page)
    before = _metrics(page)
    fresh = browser.new_context(viewport={"width": 1400, "height": 1400})
    again = fresh.new_page()
    again.goto(link)
    _ready(again)
    assert _metrics(again) == before
    if key in FOLDED:
        again.get_by_text("Condor: days, strikes").click()
    assert int(float(_thumb(again, label).input_value())) == widget
    fresh.close()


def test_fragment_inputs_are_in_the_copied_link_and_the_back_button_restores(builder, browser, app_url,
                                                                             files_app_url, artifacts):
    page = builder
    for label, key in (("Horizon", "hz"), ("Scenario date", "sd")):
        thumb = _thumb(page, label)
        thumb.focus()
        for _ in range(3):
            thumb.press("ArrowRight")
        page.wait_for_timeout(150)
        _idle(page)
        assert _agree(page, label, key, 0) == (3, 3, 3)
    assert {"hz": "3", "sd": "3"}.items() <= _query(_share_link(page)).items()
    stress = _stress(page)
    assert _charts_day(page, "hz") == _charts_day(page, "sd") == 3
    before = _metrics(page)
    # The copy button gives what the box shows.
    code = page.locator("[data-testid='stSidebar'] [data-testid='stCode']").first
    code.hover()
    code.get_by_role("button", name="Copy to clipboard").click()
    copied = page.evaluate("navigator.clipboard.readText()").strip()
    assert copied == _share_link(page)
    assert {"hz": "3", "sd": "3", "pin": "true"}.items() <= _query(copied).items() and "vix" in _query(copied)
    page.screenshot(path=str(artifacts / "builder_fragment_link.png"))
    # The copied link reopens the same stress table (the fragment's scenario date) and numbers.
    other = browser.new_context(viewport={"width": 1400, "height": 1400})
    there = other.new_page()
    there.goto(copied)
    _ready(there)
    assert _stress(there) == stress and _charts_day(there, "hz") == _charts_day(there, "sd") == 3
    assert _metrics(there) == before
    other.close()

    # Back: an address this session had before (the presses' runs each wrote one, unless the next press cut
    # it short), and the page with it; forward: the last one again.
    page.go_back()
    _idle(page, 800)
    back = _agree(page, "Scenario date", "sd", 0)
    assert len(set(back)) == 1 and back[0] < 3, f"after back: slider, address, share box = {back}"
    page.go_forward()
    _idle(page, 800)
    assert _agree(page, "Scenario date", "sd", 0) == (3, 3, 3)
    assert _metrics(page) == before


def test_the_default_share_link_shows_the_same_numbers_after_the_market_moved(browser, last_week_app_url,
                                                                              files_app_url):
    """A link made on a server whose data ended two weeks ago, opened on one with today's: every number
    the same (the link carries the market's levels and the history's last day)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    page = context.new_page()
    page.goto(f"{last_week_app_url}/builder")
    _ready(page)
    made = _metrics(page)
    stress = _stress(page)
    link = _share_link(page)
    assert {"pin", "asof", "ad", "vix", "spx"} <= set(_query(link))
    context.close()
    other = browser.new_context(viewport={"width": 1400, "height": 1400})
    there = other.new_page()
    there.goto(f"{files_app_url}/builder")
    _ready(there)
    assert _metrics(there) != made            # the market did move
    there.goto(link.replace(last_week_app_url, files_app_url))
    _ready(there)
    assert _metrics(there) == made
    assert _stress(there) == stress
    other.close()


def test_regime_inputs_and_a_repeated_list_key_travel(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    page.goto(f"{app_url}/?rlo=17&n=250000&rwin=5Y&w_rsi_vix=0.3")
    page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
    _idle(page, 800)
    box = lambda label: page.locator("[data-testid='stMain'] [data-testid='stNumberInput']").filter(  # noqa: E731
        has_text=label).first.locator("input")
    assert float(box("Low regime below").input_value()) == 17.0
    link = _query(_share_link(page))
    assert {"rlo": "17", "n": "250000", "rwin": "5Y", "w_rsi_vix": "0.3"}.items() <= link.items()
    assert "could not use" not in page.locator("[data-testid='stMain']").inner_text()
    # The Builder in the same session classifies with the same bands, and says so in its link.
    page.goto(f"{app_url}/builder?rlo=17")
    _ready(page)
    assert "rlo=17" in _share_link(page)

    page.goto(f"{app_url}/backtest?bsrc=simulated&byrs=3&bst=weekly&bh=none&bh=single&bsm=false")
    page.wait_for_selector("[data-testid='stTable']", timeout=120_000)
    _idle(page, 800)
    stats = page.locator("[data-testid='stTable']").first.inner_text()
    assert "No hedge" in stats and "Single VIX call" in stats     # both values of the repeated key ran
    assert "could not use" not in page.locator("[data-testid='stMain']").inner_text()
    given = [code for value in parse_qs(urlparse(_share_link(page)).query)["bh"] for code in value.split(",")]
    assert given == ["none", "single"]
    context.close()


def test_the_first_visit_hint_is_dismissed_for_good_in_this_browser_only(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(app_url + "/")
    page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
    hint = page.locator("#alvh-hint")
    hint.wait_for(state="visible", timeout=30_000)
    page.get_by_role("button", name="Got it").click()
    assert not hint.is_visible()
    assert "hint" not in page.url                      # the browser keeps it, not the link
    page.reload()
    page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
    page.wait_for_timeout(1000)
    assert page.locator("#alvh-hint").count() == 1 and not page.locator("#alvh-hint").is_visible()
    context.close()
    other = browser.new_context(viewport={"width": 1400, "height": 1000})   # another browser: shown again
    fresh = other.new_page()
    fresh.goto(app_url + "/")
    fresh.locator("#alvh-hint").wait_for(state="visible", timeout=90_000)
    other.close()
