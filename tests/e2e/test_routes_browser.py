"""Addresses and first paint in Chromium: every address the app and its
README give opens its page from the first paint on, a fresh server shows the
app's own navigation at once, and the pages hold at 1,400 and 390 px."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import FULL, ROOT, one_of_each, start_streamlit

pytestmark = pytest.mark.e2e
NAV = "Regime|Builder|Tiers|Hedge Lab|Backtest|Learn"

#: What the browser has seen: every h1, every navigation snapshot, any "page not found".
RECORDER = """
window.__seen = {titles: [], navs: [], notFound: false};
new MutationObserver(() => {
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  const t = h1 ? h1.innerText.trim() : null;
  if (t && window.__seen.titles[window.__seen.titles.length - 1] !== t) window.__seen.titles.push(t);
  const nav = document.querySelector('[data-testid="stSidebarNav"]');
  if (nav) {
    const items = [...nav.querySelectorAll('a')].map(a => a.innerText.trim().split('\\n').pop().trim()).join('|');
    if (window.__seen.navs[window.__seen.navs.length - 1] !== items) window.__seen.navs.push(items);
  }
  if (document.body && /Page not found/i.test(document.body.innerText)) window.__seen.notFound = true;
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def _settled(page):
    page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(500)


def _open(browser, url: str, **context_args):
    context = browser.new_context(**context_args)
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.goto(url)
    _settled(page)
    return context, page


def readme_addresses() -> set[str]:
    """The page addresses the README's table of pages gives (`/`, `/builder`, …)."""
    text = (ROOT / "README.md").read_text()
    return set(re.findall(r"^\| [^|]+ \| `(/[a-z-]*)` \|", text, re.M))


def test_readme_lists_the_pages():
    assert readme_addresses() >= {"/", "/builder", "/tiers", "/hedge-lab", "/backtest", "/learn"}


@pytest.mark.parametrize("address, title", [("/", "Regime"), ("/builder", "Builder"), ("/regime", "Regime"),
                                            ("/builder?t=Moderate", "Builder"), ("/regime?pin=true&vix=31", "Regime"),
                                            ("/hedge-lab?lmp=1000", "Hedge Lab"), ("/backtest?byrs=2", "Backtest"),
                                            ("/tiers?tb=20000", "Tiers"), ("/learn?eb=20000", "Learn")])
def test_every_address_opens_its_page_from_the_first_paint(browser, app_url, address, title):
    assert urlparse(address).path in readme_addresses() | {"/regime"}
    context, page = _open(browser, app_url + address)
    seen = page.evaluate("window.__seen")
    assert seen["titles"] == [title], seen  # no other page was ever shown on the way
    assert not seen["notFound"]
    assert all(nav == NAV for nav in seen["navs"]), seen["navs"]
    active = page.locator("[data-testid='stSidebarNav'] a[aria-current='page']").inner_text().strip()
    assert active.splitlines()[-1].strip() == title
    if address.startswith("/regime"):  # the old address lands on "/" with its parameters
        assert urlparse(page.url).path == "/"
        if "vix=31" in address:
            assert parse_qs(urlparse(page.url).query)["vix"] == ["31"]
            assert "Regime: High" in page.locator("[data-testid='stMain']").inner_text()
    context.close()


def test_a_fresh_server_shows_the_app_navigation_from_its_first_paint(browser, artifacts):
    proc, url = start_streamlit(ROOT / "serve.py", {"ALVH_DATA_DIR": ""})
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(RECORDER)
        page = context.new_page()
        page.goto(url + "/builder")
        page.wait_for_selector("[data-testid='stSidebarNav']", timeout=60_000)
        page.screenshot(path=str(artifacts / "fresh_server_first_paint.png"))
        _settled(page)
        seen = page.evaluate("window.__seen")
        assert seen["navs"] and all(nav == NAV for nav in seen["navs"]), seen["navs"]
        assert seen["titles"] == ["Builder"] and not seen["notFound"]
        # The page icon is served by the app itself: nothing is fetched from a font server.
        icons = page.evaluate("[...document.querySelectorAll('link[rel*=icon]')].map(l => l.href)")
        assert icons and all(urlparse(href).netloc == urlparse(url).netloc for href in icons), icons
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("width,scheme", one_of_each([(1400, "light"), (1400, "dark"), (390, "light"), (390, "dark")],
                                                     [(1400, "light"), (390, "dark")]))
def test_pages_fit_the_screen(browser, app_url, artifacts, width, scheme):
    pages = [("/builder?t=Moderate&r=5&hz=3&sd=3", "builder"), ("/", "regime")]
    # The history pages once in each theme and width (the full run), else once.
    if (scheme, width) in ((("dark", 1400), ("light", 390)) if FULL else (("light", 1400),)):
        pages += [("/backtest?byrs=3&bst=weekly", "backtest"), ("/hedge-lab?lmp=1000&lhz=20", "hedge_lab"),
                  ("/tiers", "tiers"), ("/learn", "learn")]
    for address, name in pages:
        context, page = _open(browser, app_url + address, viewport={"width": width, "height": 3000 if width > 1000 else 7000},
                              color_scheme=scheme)
        page.screenshot(path=str(artifacts / f"{name}_{width}_{scheme}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} at {width}px scrolls sideways by {overflow}px"
        # Charts fit their column, and no headline label or value is cut short with an ellipsis.
        too_wide = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].filter(
            c => c.getBoundingClientRect().right > document.querySelector('[data-testid="stMain"]')
                                                      .getBoundingClientRect().right + 1).length""")
        assert too_wide == 0
        clipped = page.evaluate("""() => [...document.querySelectorAll(
            '[data-testid="stMetricLabel"] *, [data-testid="stMetricValue"] *, [data-testid="stMetricDelta"] *')]
            .filter(e => e.children.length === 0 && e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")
        assert clipped == [], f"{name} at {width}px: {clipped}"
        context.close()


def test_a_network_that_never_answers_slows_no_page(browser, artifacts):
    """Yahoo and Cboe behind a server that accepts and never answers: pages
    show their numbers at once, a tier change still works, and the sidebar
    names the slow source once the download's cap has passed."""
    from tests.e2e.conftest import Blackhole

    hole = Blackhole()
    proc, url = start_streamlit(ROOT / "serve.py", {"ALVH_OFFLINE": "", "ALVH_DATA_DIR": "", "ALVH_FETCH_DEADLINE": "6"}
                                | hole.proxies)
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1600})
        page = context.new_page()
        page.goto(url + "/builder?t=Moderate")
        _settled(page)
        sidebar = page.locator("[data-testid='stSidebar']")
        assert "Data: default" in sidebar.inner_text()
        before = page.locator("[data-testid='stMetricValue']").first.inner_text()
        page.locator("[data-testid='stSelectbox']").filter(has_text="Tier").click()
        page.get_by_role("option", name="Aggressive").click()
        page.wait_for_function("b => document.querySelector('[data-testid=stMetricValue]').innerText !== b",
                               arg=before, timeout=10_000)
        sidebar.get_by_text("did not answer within 6 s").wait_for(timeout=60_000)
        assert "next try in" in sidebar.inner_text()
        page.screenshot(path=str(artifacts / "blackhole_network.png"))
        regime = context.new_page()
        regime.goto(url + "/")
        regime.wait_for_selector("[data-testid='stMetricValue']", timeout=30_000)
        assert "did not answer within 6 s" in regime.locator("[data-testid='stSidebar']").inner_text()
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        hole.close()
