"""Browser benchmark: a slider change until the chart shows it, side by side.

    python bench/bench_browser.py [--moves 12]

Starts two servers on 127.0.0.1 (offline): the Builder and a trivial
one-slider app (bench/trivial_app.py).  In headless Chromium it presses
ArrowRight on the slider and times until the Plotly chart's DOM contains the
new value (the Builder's horizon trace is named "Combined after N d"), then
prints the medians and their ratio.  Runs alternate between the two apps.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit  # noqa: E402


def _settle(page) -> None:
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(300)


def _time_move(page, label: str, expected: str, key: str = "ArrowRight") -> float:
    slider = page.locator("[data-testid='stSlider']").filter(has_text=label).get_by_role("slider")
    slider.focus()
    start = time.perf_counter()
    slider.press(key)
    page.wait_for_function("t => [...document.querySelectorAll('.js-plotly-plot')].some(e => e.textContent.includes(t))",
                           arg=expected, timeout=30_000, polling=5)
    elapsed = time.perf_counter() - start
    _settle(page)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=40, help="slider moves per app (back and forth over 1-6)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    app, app_url = start_streamlit(ROOT / "app.py")
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
            for move in range(args.moves):
                key = "ArrowRight" if (move // 6) % 2 == 0 else "ArrowLeft"
                position += 1 if key == "ArrowRight" else -1
                ours.append(_time_move(builder, "Horizon", f"Combined after {position} d", key))
                reference.append(_time_move(simple, "Value", f"value {position}", key))
            browser.close()
    finally:
        for proc in (app, trivial):
            proc.terminate()
    a, b = statistics.median(ours) * 1000, statistics.median(reference) * 1000
    paired = statistics.median(x / y for x, y in zip(ours, reference, strict=True))
    print("| case | median | reference | ratio |")
    print("|---|---|---|---|")
    print(f"| Browser: Builder horizon slider → chart updated ({len(ours)} moves each, alternating) | {a:.0f} ms | "
          f"one-slider app {b:.0f} ms | {a / b:.2f}× (median of paired ratios {paired:.2f}×) |")


if __name__ == "__main__":
    main()
