"""Headless Chromium contexts using the app at once: the load test's browser half.

Each context opens Regime, then the Builder; until the time is up it changes the
tier, moves the horizon slider with the keyboard, opens the Backtest page and
comes back, pausing as people do.  Timed from the action to the page showing
its result (the headline number changed, the chart's trace renamed, the page's
first chart drawn), so the figures include the browsers' own work; on a 2-core
machine twenty Chromiums share the cores with the server.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time

from playwright.async_api import async_playwright

#: The drawn path of the Builder's dotted horizon line (SVG), in its chart's main subplot.
HORIZON_PATH = """() => {
  const plot = document.querySelector('.st-key-b_payoff_chart .js-plotly-plot');
  const main = plot.data.filter(t => (t.xaxis || 'x') === 'x');
  const i = main.findIndex(t => t.name === 'Combined at the horizon');
  const trace = plot.querySelector('.cartesianlayer .subplot.xy .scatterlayer').children[i];
  return trace.querySelector('path.js-line').getAttribute('d');
}"""

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
TIERS = ("Conservative", "Moderate", "Aggressive")
SETTLED = "!document.querySelector('[data-testid=\"stStatusWidget\"]')"
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"


async def _settled(page, timeout: float) -> None:
    await page.wait_for_selector(".js-plotly-plot", timeout=timeout * 1000)
    await page.wait_for_function(SETTLED, timeout=timeout * 1000, polling=100)


async def _first_metric(page) -> str:
    return await page.locator("[data-testid='stMetricValue']").first.inner_text()


async def _person(browser, url: str, until: float, think: tuple[float, float], seed: int, out: dict,
                  delay: float = 0.0) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(delay)     # people arrive over the ramp
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.on("pageerror", lambda exc: out["errors"].append(f"context {seed}: page error {str(exc)[:120]}"))
    timeout = max(60.0, until - time.time() + 120.0)
    page.set_default_navigation_timeout(timeout * 1000)
    page.set_default_timeout(timeout * 1000)

    async def timed(label: str, action, done) -> None:
        start = time.perf_counter()
        await action()
        await done()
        out["times"].setdefault(label, []).append(time.perf_counter() - start)
        shown = await page.locator(ERRORS).count()
        if shown:
            out["errors"].append(f"context {seed}: {shown} error element(s) after {label}")

    try:
        await timed("open Regime", lambda: page.goto(url + "/", wait_until="commit"), lambda: _settled(page, timeout))
        tier = rng.choice(TIERS)
        await timed("open Builder", lambda: page.goto(f"{url}/builder?t={tier}", wait_until="commit"),
                    lambda: _settled(page, timeout))
        horizon = 0
        while time.time() < until:
            await asyncio.sleep(rng.uniform(*think))
            if time.time() >= until:
                break
            pick = rng.random()
            if pick < 0.35:
                before = await _first_metric(page)
                tier = rng.choice([t for t in TIERS if t != tier])
                box = page.locator("[data-testid='stSelectbox']").filter(has_text="Tier").locator("input").first

                async def choose(tier=tier, box=box):
                    await box.click()
                    await page.get_by_role("option", name=tier, exact=True).click()

                async def changed(before=before):
                    await page.wait_for_function(
                        "b => { const m = document.querySelector('[data-testid=\"stMetricValue\"]');"
                        " return m && m.innerText !== b; }", arg=before, timeout=timeout * 1000, polling=50)

                await timed("tier change", choose, changed)
                await page.wait_for_function(SETTLED, timeout=timeout * 1000, polling=100)
            elif pick < 0.8:
                slider = page.locator(".st-key-hz_slider input[type=range]")   # moved in the browser
                if not await slider.count():
                    continue
                if horizon >= 12:
                    horizon = 0
                    await slider.first.press("Home")
                    await page.wait_for_function(SETTLED, timeout=timeout * 1000, polling=100)
                horizon += 1
                before = await page.evaluate(HORIZON_PATH)

                async def move(slider=slider):
                    await slider.first.press("ArrowRight")

                async def redrawn(before=before):   # the dotted line drawn anew (in the browser: no run)
                    await page.wait_for_function(f"b => ({HORIZON_PATH})() !== b", arg=before,
                                                 timeout=timeout * 1000, polling=50)

                await timed("horizon slider", move, redrawn)
            else:
                strategy = rng.choice(("daily", "weekly"))
                await timed("open Backtest", lambda s=strategy: page.goto(f"{url}/backtest?bst={s}", wait_until="commit"),
                            lambda: _settled(page, timeout))
                await asyncio.sleep(rng.uniform(*think))
                tier = rng.choice(TIERS)
                await timed("open Builder", lambda t=tier: page.goto(f"{url}/builder?t={t}", wait_until="commit"),
                            lambda: _settled(page, timeout))
                horizon = 0
    except Exception as exc:  # a timeout or a closed page is an error of the run, reported, never raised
        out["errors"].append(f"context {seed}: {exc.__class__.__name__}: {str(exc).splitlines()[0][:160]}")
    finally:
        await context.close()


async def _all(urls: list[str], contexts: int, until: float, think: tuple[float, float], ramp: float) -> dict:
    out: dict = {"times": {}, "errors": []}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            await asyncio.gather(*[_person(browser, urls[i % len(urls)], until, think, 1000 + i, out,
                                           ramp * i / max(1, contexts)) for i in range(contexts)])
        finally:
            await browser.close()
    return out


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def browsers(urls: list[str], contexts: int, until: float, think: tuple[float, float], ramp: float = 0.0) -> dict:
    """Run ``contexts`` Chromium contexts against ``urls`` until ``until`` (epoch seconds), arriving over
    ``ramp`` seconds; their figures."""
    out = asyncio.run(_all(urls, contexts, until, think, ramp))
    actions = [t for k, v in out["times"].items() if not k.startswith("open") for t in v]
    loads = [t for k, v in out["times"].items() if k.startswith("open") for t in v]
    return {"contexts": contexts, "actions": len(actions), "p50": _q(actions, 0.5), "p95": _q(actions, 0.95),
            "load_p50": _q(loads, 0.5), "load_p95": _q(loads, 0.95),
            "by_action": {k: {"n": len(v), "median": statistics.median(v), "p95": _q(v, 0.95)}
                          for k, v in sorted(out["times"].items())},
            "errors": out["errors"]}
