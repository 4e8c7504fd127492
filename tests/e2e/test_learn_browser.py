"""The Learn page in Chromium: a link seeds its inputs, the claims table follows an input typed in, and the
address follows it too."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def _settled(page):
    page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
    page.wait_for_selector(".js-plotly-plot", timeout=90_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000)


def test_the_claims_table_follows_the_inputs_and_the_link(browser, app_url, artifacts):
    context = browser.new_context(viewport={"width": 1400, "height": 2200})
    page = context.new_page()
    page.goto(app_url + "/learn?eb=20000")
    _settled(page)
    budget = page.locator("[data-testid='stNumberInput']").filter(has_text="Risk budget of the tier comparison") \
        .locator("input")
    expect(budget).to_have_value("20000")
    page.get_by_role("tab", name="Claims checked").click()
    table = page.locator("[data-testid='stTable']").filter(has_text="The engine today")
    expect(table).to_contain_text("Conservative ÷ Aggressive contracts for $20,000")
    budget.fill("35000")
    budget.press("Enter")
    expect(table).to_contain_text("Conservative ÷ Aggressive contracts for $35,000", timeout=30_000)
    page.wait_for_function("() => location.search.includes('eb=35000')", timeout=30_000)
    assert parse_qs(urlparse(page.url).query)["eb"] == ["35000"]
    assert page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").count() == 0
    page.screenshot(path=str(artifacts / "learn_claims.png"), full_page=True)
    context.close()
