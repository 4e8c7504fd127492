"""Browser benchmark: the Builder against a trivial one-chart app, side by side.

    python -m bench.bench_browser [--moves 80] [--opens 12] [--only slider|first-paint]

Starts servers on 127.0.0.1: the app and a trivial one-slider app
(bench/trivial_app.py).  Two cases, each alternating between the two apps:

- slider: in headless Chromium, press ArrowRight on the Builder's horizon
  slider and time until the chart's dotted line is drawn anew (its SVG
  path changes); on the trivial app, until its chart shows the new value.
  The Builder's slider moves its chart in the browser (Plotly frames); the
  trivial app's is a Streamlit slider, a server round trip per move.
- first paint: open a Builder share link in a fresh browser context (no
  cookies, no session) and time until its first number shows; the same
  for the trivial app's chart.  Twice: with ALVH_OFFLINE=1, and with the
  network blocked (every proxy set to a closed local port) and live data
  on, as on a server that cannot reach Yahoo or Cboe; and with every proxy
  pointed at a local server that accepts connections and never answers (a
  network that drops packets), where tier changes are timed too.  Each
  server is warmed by two visits first.

Prints a Markdown table of medians and ratios (and the median of paired ratios).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench.browser_load import HORIZON_PATH
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Blackhole, start_streamlit

ROOT = Path(__file__).resolve().parents[1]


def _settle(page) -> None:
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(300)




def _time_move(page, label: str, expected: str, key: str = "ArrowRight") -> float:
    if label == "Horizon":   # the Builder's date slider: a component that moves the chart in the browser
        slider = page.locator(".st-key-hz_slider input[type=range]")
        before = page.evaluate(HORIZON_PATH)
        drawn = f"b => ({HORIZON_PATH})() !== b"
    else:
        slider = page.locator("[data-testid='stSlider']").filter(has_text=label).get_by_role("slider")
        before = expected
        drawn = "t => [...document.querySelectorAll('.js-plotly-plot')].some(e => e.textContent.includes(t))"
    slider.focus()
    start = time.perf_counter()
    slider.press(key)
    page.wait_for_function(drawn, arg=before, timeout=30_000, polling=5)
    elapsed = time.perf_counter() - start
    _settle(page)
    return elapsed


SHARE_LINK = "/builder?t=Moderate&r=5&h=single&bm=pct&hz=3&sd=2"
#: Any request for Yahoo or Cboe goes to a closed port on this machine: refused at once.
BLOCKED = {name: "http://127.0.0.1:9" for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}


def _medians(ours: list[float], reference: list[float]) -> tuple[float, float, float]:
    """Medians in ms of both apps, and the median of the paired ratios."""
    paired = statistics.median(x / y for x, y in zip(ours, reference, strict=True))
    return statistics.median(ours) * 1000, statistics.median(reference) * 1000, paired


def _open_fresh(browser, url: str, ready: str, then: str | None = None) -> tuple[float, float]:
    """Seconds from navigation to ``ready`` showing, in a new browser context
    (and to ``then`` showing after it, when given)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector(ready, timeout=120_000, state="visible")
    elapsed = time.perf_counter() - start
    if then is not None:
        page.wait_for_selector(then, timeout=120_000, state="visible")
    full = time.perf_counter() - start
    context.close()
    return elapsed, full


def _tier_changes(browser, url: str, changes: int) -> list[float]:
    """Seconds from picking another tier until the first headline number changes."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    page.goto(url + SHARE_LINK)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
    times = []
    for i in range(changes):
        before = page.locator("[data-testid='stMetricValue']").first.inner_text()
        page.locator("[data-testid='stSelectbox']").filter(has_text="Tier").click()
        start = time.perf_counter()
        page.get_by_role("option", name=("Aggressive", "Conservative")[i % 2]).click()
        page.wait_for_function("b => document.querySelector('[data-testid=stMetricValue]').innerText !== b",
                               arg=before, timeout=60_000, polling=10)
        times.append(time.perf_counter() - start)
        page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    context.close()
    return times


def first_paint(opens: int, env: dict, label: str, tier_changes: int = 0) -> str:
    from playwright.sync_api import sync_playwright

    app, app_url = start_streamlit(ROOT / "serve.py", env)
    trivial, trivial_url = start_streamlit(ROOT / "bench" / "trivial_app.py", env)
    ours, charts, reference = [], [], []
    metric = "[data-testid='stMetricValue']"
    chart = ".js-plotly-plot .main-svg"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for _ in range(2):  # warm servers: imports done, caches filled
                _open_fresh(browser, app_url + SHARE_LINK, metric)
                _open_fresh(browser, trivial_url, chart)
            for _ in range(opens):
                numbers, drawn = _open_fresh(browser, app_url + SHARE_LINK, metric, chart)
                ours.append(numbers)
                charts.append(drawn)
                reference.append(_open_fresh(browser, trivial_url, chart)[0])
            changes = _tier_changes(browser, app_url, tier_changes) if tier_changes else []
            browser.close()
    finally:
        for proc in (app, trivial):
            proc.terminate()
    a, b, paired = _medians(ours, reference)
    c = statistics.median(charts) * 1000
    return (f"| Browser: Builder share link in a fresh context → first number ({label}; {opens} opens each, "
            f"alternating) | {a:.0f} ms | one-chart app's chart {b:.0f} ms | {a / b:.2f}× (median of paired ratios "
            f"{paired:.2f}×) |\n"
            f"| … and its payoff chart drawn ({label}) | {c:.0f} ms | one-chart app's chart {b:.0f} ms | "
            f"{c / b:.2f}× (no target) |"
            + (f"\n| … a tier change until the first number changes ({label}; {len(changes)} changes) | "
               f"{statistics.median(changes) * 1000:.0f} ms (slowest {max(changes) * 1000:.0f} ms) | "
               "target < 2 s | |" if changes else ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=80, help="slider moves per app (back and forth over 1-6)")
    parser.add_argument("--opens", type=int, default=12, help="fresh-context opens per app and network case")
    parser.add_argument("--only", choices=("slider", "first-paint"), help="run one case")
    args = parser.parse_args()
    rows = []
    if args.only != "first-paint":
        rows.append(slider(args.moves))
    if args.only != "slider":
        rows.append(first_paint(args.opens, {"ALVH_OFFLINE": "1"}, "ALVH_OFFLINE=1"))
        rows.append(first_paint(args.opens, {"ALVH_OFFLINE": ""} | BLOCKED, "network blocked, live data on"))
        hole = Blackhole()
        try:
            rows.append(first_paint(args.opens, {"ALVH_OFFLINE": ""} | hole.proxies,
                                    "Yahoo and Cboe behind a server that never answers", tier_changes=8))
        finally:
            hole.close()
    print("| case | median | reference | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print(row)


def slider(moves: int) -> str:
    from playwright.sync_api import sync_playwright

    app, app_url = start_streamlit(ROOT / "serve.py")
    trivial, trivial_url = start_streamlit(ROOT / "bench" / "trivial_app.py")
    ours, reference = [], []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            builder = browser.new_page(viewport={"width": 1400, "height": 1600})
            builder.goto(f"{app_url}/builder?t=Moderate&r=5")
            _settle(builder)
            simple = browser.new_page(viewport={"width": 1400, "height": 1600})
            simple.goto(trivial_url)
            _settle(simple)
            # Back and forth between 0 and 6 (every tier's condor lasts at least 7 days).
            position = 0
            for move in range(moves):
                key = "ArrowRight" if (move // 6) % 2 == 0 else "ArrowLeft"
                position += 1 if key == "ArrowRight" else -1
                ours.append(_time_move(builder, "Horizon", "", key))
                reference.append(_time_move(simple, "Value", f"value {position}", key))
            browser.close()
    finally:
        for proc in (app, trivial):
            proc.terminate()
    a, b, paired = _medians(ours, reference)
    return (f"| Browser: Builder horizon slider → chart updated ({len(ours)} moves each, alternating) | {a:.0f} ms | "
            f"one-slider app {b:.0f} ms | {a / b:.2f}× (median of paired ratios {paired:.2f}×) |")


if __name__ == "__main__":
    main()
