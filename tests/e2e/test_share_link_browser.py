"""Share links in Chromium: a moved slider lands in the URL, and the URL
opened in a fresh browser context reproduces the numbers."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = pytest.mark.e2e
KEY_METRICS = ("Credit / contract", "Contracts", "Hedge premium", "VIX notional", "CVaR 95 % hedged", "POP (lognormal)")


def _ready(page):
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def _metrics(page) -> dict:
    out = {}
    for label in KEY_METRICS:
        metric = page.locator("[data-testid='stMetric']").filter(has_text=label).first
        out[label] = metric.locator("[data-testid='stMetricValue']").inner_text().strip()
    return out


def _open_fresh(browser, url: str, **context_args):
    """The link in a new browser context (no shared session), ready."""
    context = browser.new_context(**context_args)
    page = context.new_page()
    page.goto(url)
    _ready(page)
    page.wait_for_timeout(500)
    return context, page


def _wait_for_url(page, pattern: str):
    page.wait_for_function("p => new RegExp(p).test(window.location.search)", arg=pattern, timeout=30_000)


def test_slider_and_inputs_travel_in_the_link(browser, app_url, artifacts):
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    page.goto(f"{app_url}/builder")
    _ready(page)
    page.locator("[data-testid='stSelectbox']").filter(has_text="Tier").click()
    page.get_by_role("option", name="Moderate").click()
    _wait_for_url(page, "t=Moderate")
    risk = page.locator("[data-testid='stNumberInput']").filter(has_text="Risk budget (% of notional)").locator("input")
    risk.fill("5")
    risk.press("Enter")
    _wait_for_url(page, "r=5")
    _ready(page)
    sliders = page.locator("[data-testid='stSlider']").filter(has_text="Horizon")
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stSlider]')]"
                           ".filter(e => e.innerText.includes('Horizon')).length === 1", timeout=30_000)
    thumb = sliders.get_by_role("slider")
    thumb.focus()
    for _ in range(3):
        thumb.press("ArrowRight")
    _wait_for_url(page, "hz=3")
    _ready(page)
    page.wait_for_timeout(500)
    before = _metrics(page)
    shared = page.url
    query = parse_qs(urlparse(shared).query)
    assert query["t"] == ["Moderate"] and query["hz"] == ["3"] and query["r"][0].startswith("5")
    page.screenshot(path=str(artifacts / "builder_before_share.png"), full_page=True)

    context, fresh = _open_fresh(browser, shared, viewport={"width": 1400, "height": 2000})
    assert _metrics(fresh) == before
    shown = fresh.locator("[data-testid='stSlider']").filter(has_text="Horizon")
    assert shown.locator("[data-testid='stSliderThumbValue']").inner_text().strip() == "3"
    assert re.fullmatch(r"\d[\d,]*", before["Contracts"])
    fresh.screenshot(path=str(artifacts / "builder_from_link.png"), full_page=True)
    context.close()
    page.close()


def test_pinned_market_data_reproduces_a_typed_market(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{app_url}/builder")
    _ready(page)
    page.get_by_text("Pin market data in the link").click()
    _wait_for_url(page, "pin=true")
    vix = page.locator("[data-testid='stSidebar'] [data-testid='stNumberInput']").filter(
        has_text=re.compile(r"^VIX$")).first.locator("input")
    vix.fill("24")
    vix.press("Enter")
    _wait_for_url(page, "vix=24")
    # The rerun with the typed VIX has finished once the badge says so.
    page.locator("[data-testid='stSidebar']").get_by_text("Data: manual").first.wait_for(timeout=60_000)
    _ready(page)
    page.wait_for_timeout(500)
    before = _metrics(page)
    shared = page.url
    assert "spx=" in shared and "asof=" in shared
    context, fresh = _open_fresh(browser, shared)
    assert _metrics(fresh) == before
    assert "Data: manual" in fresh.locator("[data-testid='stSidebar']").inner_text()
    context.close()
    page.close()


def test_garbage_link_shows_a_notice_not_an_error(browser, app_url):
    page = browser.new_page()
    page.goto(f"{app_url}/builder?t=nope&d=-3&hz=abc&zzz=%3Cscript%3E")
    _ready(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert "could not use" in page.locator("[data-testid='stAlert']").first.inner_text()
    page.close()
