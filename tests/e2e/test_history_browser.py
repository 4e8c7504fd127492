"""The Backtest and Hedge Lab pages in Chromium: on the real data and offline (simulated)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"


def _settled(page, charts: int = 2, timeout: int = 120_000) -> None:
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {charts}", timeout=timeout)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)
    page.wait_for_function("!document.querySelector('[data-testid=\"stProgress\"]')", timeout=timeout)
    page.wait_for_timeout(800)


def test_backtest_on_the_data_shows_progress_then_the_run(browser, files_app_url, artifacts):
    context = browser.new_context(viewport={"width": 1400, "height": 3600})
    page = context.new_page()
    # A run no other test makes: the daily Aggressive book since 1990, with every scheme.
    page.goto(files_app_url + "/backtest?bst=daily&btr=Aggressive&bh=none,alvh,single,static10,vxth")
    page.wait_for_selector("[data-testid='stProgress']", timeout=60_000)
    page.screenshot(path=str(artifacts / "backtest_progress.png"))
    _settled(page)
    assert page.locator(ERRORS).count() == 0
    main = page.locator("[data-testid='stMain']").inner_text()
    assert "Your files · 1990-01-02" in main and "model-priced" in main
    assert "Trade smaller (no hedge)" in main and "Seed 004" in main
    page.screenshot(path=str(artifacts / "backtest_data.png"), full_page=True)
    # The scale study runs under its own progress bar.
    page.get_by_role("button", name="Run the scale study").click()
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=180_000)
    _settled(page, 3)
    assert page.locator(ERRORS).count() == 0
    context.close()


def test_backtest_offline_runs_on_the_simulated_market(browser, app_url, artifacts):
    context = browser.new_context(viewport={"width": 1400, "height": 2600}, color_scheme="dark")
    page = context.new_page()
    page.goto(app_url + "/backtest?bst=weekly&byrs=10&bseed=3")
    _settled(page)
    main = page.locator("[data-testid='stMain']").inner_text()
    assert "Showing the simulated market (seed 3)" in main and "Simulated market ·" in main
    assert page.locator(ERRORS).count() == 0
    page.screenshot(path=str(artifacts / "backtest_simulated_dark.png"), full_page=True)
    context.close()


def test_hedge_lab_on_the_data_replays_and_simulates(browser, files_app_url, artifacts):
    context = browser.new_context(viewport={"width": 1400, "height": 5200})
    page = context.new_page()
    page.goto(files_app_url + "/hedge-lab?lep=2020-03&lmp=5000")
    _settled(page, 6)
    main = page.locator("[data-testid='stMain']").inner_text()
    assert "VIX futures: CFE settlements" in page.content() and "median miss" in main
    assert "Simulated:" in main and page.locator(ERRORS).count() == 0
    page.screenshot(path=str(artifacts / "hedge_lab_data.png"), full_page=True)
    context.close()


def test_hedge_lab_offline(browser, app_url, artifacts):
    context = browser.new_context(viewport={"width": 1400, "height": 4200})
    page = context.new_page()
    page.goto(app_url + "/hedge-lab?lmp=2000&lhz=30")
    _settled(page, 3)
    main = page.locator("[data-testid='stMain']").inner_text()
    assert "Replays need the real history" in main and page.locator(ERRORS).count() == 0
    page.screenshot(path=str(artifacts / "hedge_lab_offline.png"), full_page=True)
    context.close()
