"""The Builder in a real browser: renders offline, reacts to input, no errors."""

from __future__ import annotations

import re

import pytest

from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.strategy.plan import plan_condor
from alvh_core.strategy.sizing import RiskBudget
from alvh_core.strategy.tiers import find_tier, load_tiers
from tests.e2e.conftest import one_of_each

pytestmark = pytest.mark.e2e


def _wait_for_app(page):
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def _metric(page, label: str) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return metric.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_builder_renders_offline_in_chromium(browser, app_url, artifacts):
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.goto(f"{app_url}/builder")
    _wait_for_app(page)
    expected = plan_condor(DEFAULT_MARKET, find_tier(load_tiers(), "Conservative"), RiskBudget())
    assert _metric(page, "Credit / contract") == f"${expected.metrics.credit:,.0f}"
    assert _metric(page, "POP (risk-neutral)") == f"{expected.metrics.pop:.1%}"
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    assert "Data: default" in page.locator("[data-testid='stSidebar']").inner_text()
    page.screenshot(path=str(artifacts / "builder_offline.png"), full_page=True)
    page.close()


def test_changing_the_tier_updates_the_numbers(browser, app_url, artifacts):
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.goto(f"{app_url}/builder")
    _wait_for_app(page)
    before = _metric(page, "Credit / contract")
    page.locator("[data-testid='stSelectbox']").filter(has_text="Tier").click()
    page.get_by_role("option", name="Aggressive").click()
    expected = plan_condor(DEFAULT_MARKET, find_tier(load_tiers(), "Aggressive"), RiskBudget())
    page.wait_for_function(
        "t => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.trim() === t)",
        arg=f"${expected.metrics.credit:,.0f}", timeout=30_000)
    assert _metric(page, "Credit / contract") != before
    assert re.fullmatch(r"\d[\d,]*", _metric(page, "Contracts"))
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifacts / "builder_aggressive.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("width,height,screens,scheme", one_of_each(
    [(1400, 1000, 1.0, "light"), (1400, 1000, 1.0, "dark"), (390, 844, 1.5, "light"), (390, 844, 1.5, "dark")],
    [(1400, 1000, 1.0, "light"), (390, 844, 1.5, "dark")]))
def test_the_answer_is_on_the_first_screen(browser, app_url, artifacts, width, height, screens, scheme):
    """The headline numbers and the payoff chart, whole, within the first screen on a desktop and within 1.5
    screens on a phone, in both themes."""
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{app_url}/builder")
    _wait_for_app(page)
    page.wait_for_timeout(800)
    first = page.locator("[data-testid='stMain'] [data-testid='stMetric']").first.bounding_box()
    chart = page.locator(".js-plotly-plot").first.bounding_box()
    limit = screens * height
    assert first["y"] + first["height"] <= limit
    assert chart["y"] + chart["height"] <= limit + 1, f"the payoff chart ends at {chart['y'] + chart['height']:.0f} px"
    page.screenshot(path=str(artifacts / f"builder_first_screen_{width}_{scheme}.png"))
    for tab in page.get_by_role("tab").all():     # no tab runs off the screen (they wrap on a phone)
        box = tab.bounding_box()
        assert box["x"] + box["width"] <= width, f"the tab {tab.inner_text()!r} ends at {box['x'] + box['width']:.0f} px"
    context.close()
