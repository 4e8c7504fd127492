"""The Regime page in Chromium: offline and from the real data folder."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def _load(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    # A fresh server's first run reruns once (pages/common.ensure_router): wait for the finished page.
    page.get_by_text("Hedge budget").first.wait_for(timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    return page


def _no_errors(page):
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0


def test_regime_offline_default(browser, app_url, artifacts):
    page = _load(browser, app_url)
    _no_errors(page)
    body = page.locator("[data-testid='stMain']").inner_text()
    assert "Regime: Moderate" in body and "Hedge budget" in body and "Contango" in body
    assert "Data: default" in page.locator("[data-testid='stSidebar']").inner_text()
    assert page.locator(".js-plotly-plot").count() >= 2  # term structure and stress contributions
    page.screenshot(path=str(artifacts / "regime_offline.png"), full_page=True)
    page.close()


def test_regime_from_files_shows_history(browser, files_app_url, artifacts):
    page = _load(browser, files_app_url)
    _no_errors(page)
    assert "Data: file · 2026-08-20" in page.locator("[data-testid='stSidebar']").inner_text()
    assert "VIX with the regime bands" in page.locator("[data-testid='stMain']").inner_text()
    page.locator("[data-testid='stButtonGroup']").get_by_text("All", exact=True).click()
    page.wait_for_timeout(1500)
    _no_errors(page)
    page.screenshot(path=str(artifacts / "regime_files.png"), full_page=True)
    page.close()


def test_deep_link_to_builder_keeps_the_sidebar(browser, app_url):
    page = browser.new_page()
    page.goto(f"{app_url}/builder")
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    assert "Market" in page.locator("[data-testid='stSidebar']").inner_text()
    assert page.locator("h1").first.inner_text() == "Builder"
    page.close()
