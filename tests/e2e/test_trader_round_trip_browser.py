"""A trader's round trip in Chromium, on the real data folder: the market as of
2020-02-19 (the eve of the Covid crash), a wing edited, a VIX call added, the
P/L table read and downloaded, the link opened in a fresh browser, and the
scenario saved as JSON and loaded into a third one."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from alvh_core.strategy.condor import listed_strikes

pytestmark = pytest.mark.e2e
DAY = "2020-02-19"


def _ready(page):
    page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
    page.wait_for_selector(".js-plotly-plot", timeout=90_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000)


def _metrics(page) -> list[tuple[str, str]]:
    return [(m.locator("[data-testid='stMetricLabel']").inner_text().strip(),
             m.locator("[data-testid='stMetricValue']").inner_text().strip())
            for m in page.locator("[data-testid='stMetric']").all()]


def _params(page) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def _wait_for_param(page, key: str, pattern: str = ".+"):
    page.wait_for_function("([k, p]) => new RegExp(p).test(new URLSearchParams(window.location.search).get(k) || '')",
                           arg=[key, pattern], timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def _download(page, button: str) -> bytes:
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=button, exact=True).click()
    return open(info.value.path(), "rb").read()


def _pnl_csv(page) -> bytes:
    page.get_by_role("tab", name="P/L over time").click()
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    return _download(page, "P/L table (CSV)")


def test_build_as_of_a_past_day_edit_share_and_reload(browser, files_app_url, artifacts, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 2600}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{files_app_url}/builder?ad={DAY}&t=Moderate&n=1000000")
    _ready(page)
    assert f"Data: file · {DAY}" in page.locator("[data-testid='stSidebar']").inner_text()
    # The expiry: March's A.M.-settled SPX monthly instead of the tier's weekly.
    expiry = page.locator("[data-testid='stSelectbox']").filter(has_text="Condor expiry (listed)").first
    expiry.locator("input[role='combobox']").click()
    page.keyboard.type("Fri 20 Mar 2020")
    page.get_by_role("option", name=re.compile(r"^Fri 20 Mar 2020 · SPX AM \(monthly\)")).click()
    _wait_for_param(page, "ex", "^2020-03-20$")
    credit_before = dict(_metrics(page))["Credit / contract"]
    # Edit a wing: the long put lower.
    box = page.locator("[data-testid='stSelectbox']").filter(has_text="Long put").first
    combo = box.locator("input[role='combobox']")
    current = float(combo.input_value().replace(",", ""))
    # A listed strike at least 50 points below it on the monthly's grid (SPX 3,386.15, VIX 14.38, 29.73 days).
    lower = float(max(k for k in listed_strikes(3386.15, 29.73, current - 300, current, "monthly", vix=14.38)
                      if k <= current - 50))   # far enough down to move the credit by dollars
    combo.click()
    page.keyboard.type(f"{lower:g}")
    page.get_by_role("option", name=f"{lower:g}", exact=True).click()
    _wait_for_param(page, "lg", f"^{lower:g}/")
    assert dict(_metrics(page))["Credit / contract"] != credit_before
    # Add a VIX call.
    page.get_by_text("Add a leg: VIX call or SPX put").click()
    quantity = page.locator("[data-testid='stNumberInput']").filter(has_text="Quantity (whole position)").locator("input")
    quantity.fill("5")
    quantity.press("Enter")
    page.get_by_role("button", name="Add this leg").click()
    _wait_for_param(page, "xl", r"^V\+5C")
    # …and an SPX put, from the same popover.
    leg_kind = page.get_by_role("radiogroup", name="Leg")
    if not leg_kind.is_visible():
        page.get_by_text("Add a leg: VIX call or SPX put").click()
    leg_kind.get_by_text("SPX put", exact=True).click()
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.get_by_role("button", name="Add this leg").click()
    _wait_for_param(page, "xl", r"S\+5P")   # the quantity stays as typed
    page.keyboard.press("Escape")
    assert "Added: Buy 5 VIX" in page.locator("[data-testid='stMain']").inner_text()
    # A fixed size, and the tail layer left out.
    contracts = page.locator("[data-testid='stNumberInput']").filter(has_text="Contracts (0 = sized").locator("input")
    contracts.fill("3")
    contracts.press("Enter")
    _wait_for_param(page, "q", "^3$")
    assert dict(_metrics(page))["Contracts (SPX)"] == "3"
    page.locator("[data-testid='stMultiSelect']").filter(has_text="Hedge layers to leave out").click()
    page.get_by_role("option", name="Tail", exact=True).click()
    _wait_for_param(page, "lo", "^tail$")
    page.keyboard.press("Escape")
    page.screenshot(path=str(artifacts / "round_trip_edited.png"), full_page=True)
    # Read the P/L table and keep its CSV.
    table = _pnl_csv(page)
    assert table.decode().splitlines()[0].startswith("SPX,")
    page.screenshot(path=str(artifacts / "round_trip_pnl_table.png"), full_page=True)
    link, metrics, params = page.url, _metrics(page), _params(page)
    assert params["ad"] == DAY and {"lg", "ex", "q", "lo", "xl"} <= set(params)
    # The scenario file, from the ticket tab.
    page.get_by_role("tab", name="Legs (trade ticket)").click()
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    saved = _download(page, "Scenario (JSON)")
    doc = json.loads(saved)
    assert doc["inputs"]["lg"] == params["lg"] and doc["inputs"]["xl"] == params["xl"]
    assert any(r["Root"] == "VIX" and r["Order"] == "Hedge: Your legs" for r in doc["summary"]["ticket"])
    page.screenshot(path=str(artifacts / "round_trip_ticket.png"), full_page=True)
    context.close()

    # The link in a fresh browser: the same numbers, the same P/L table, no notice.
    fresh = browser.new_context(viewport={"width": 1400, "height": 2600}, accept_downloads=True)
    again = fresh.new_page()
    again.goto(link)
    _ready(again)
    assert _metrics(again) == metrics
    assert again.locator("[data-testid='stAlertContentWarning']").filter(has_text="could not").count() == 0
    assert _pnl_csv(again) == table
    fresh.close()

    # The JSON file loaded into a third browser, opened on the plain Builder.
    third = browser.new_context(viewport={"width": 1400, "height": 2600}, accept_downloads=True)
    page = third.new_page()
    page.goto(f"{files_app_url}/builder")
    _ready(page)
    page.get_by_role("tab", name="Legs (trade ticket)").click()
    path = tmp_path / "scenario.json"
    path.write_bytes(saved)
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="Load a scenario (JSON)")
    uploader.locator("input[type='file']").set_input_files(str(path))
    _wait_for_param(page, "xl", r"V\+5C")
    _ready(page)
    assert _params(page) == params
    assert _metrics(page) == metrics
    page.screenshot(path=str(artifacts / "round_trip_loaded.png"), full_page=True)
    third.close()
