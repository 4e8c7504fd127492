"""History benchmark: backtests, the slow reference beside them, sweeps and Monte Carlo.

    ALVH_DATA_DIR=../shared/data python -m bench.bench_history      # prints a Markdown table

Cases (medians of several runs on 1990-2026, 9,191 days):

* start-up, once per history: reading the files, the stress score of every
  day, the listed expiry nearest the tier's days for every day (once per
  tier), the condor marks of a schedule (once per tier and frequency);
* daily Moderate condors with ALVH, beyond start-up (marks kept); and cold
  (the marks computed too);
* all five hedge schemes together (plus "trade smaller");
* a sweep of 100 configurations (tiers × frequencies × fills × exit rules);
* the reference (one day, one position at a time) on one year, and the
  vectorised engine on the same year;
* the CNDR and VXTH replicas over their whole windows;
* Monte Carlo: 10,000 paths × 60 days of a hedged book (simulation and marks).
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from alvh_core.data.closes import load_history_folder
from alvh_core.history import backtest as bt
from alvh_core.history import replicas, studies
from alvh_core.history.reference import reference_equity
from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.model.regime import classify_regime
from alvh_core.strategy.hedge import BACKTEST_SCHEMES, HedgeSettings
from alvh_core.strategy.management import ExitRules
from alvh_core.strategy.monte_carlo import book_monte_carlo
from alvh_core.strategy.position import HedgeContext, Scenario, build_position
from alvh_core.strategy.sizing import RiskBudget
from alvh_core.strategy.tiers import find_tier, load_tiers


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    folder = os.environ.get("ALVH_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    rows = []
    start = time.perf_counter()
    history = load_history_folder(folder)
    m = bt.market_arrays(history.panel)
    rows.append(("start-up: files, stress score of every day", time.perf_counter() - start, "once per history"))
    config = bt.BacktestConfig(strategy="daily")
    start = time.perf_counter()
    bt.spx_expiry_for(m, config.tier.days)
    rows.append(("start-up: listed expiry for every day (one tier)", time.perf_counter() - start, "once per tier"))
    start = time.perf_counter()
    bt.condor_book(m, config)
    rows.append(("start-up: daily condor marks 1990-2026 (one tier)", time.perf_counter() - start,
                 "once per tier and frequency"))

    rows.append(("daily condors + ALVH, 1990-2026", timed(lambda: bt.run_backtest(m, config, ("none", "alvh"),
                                                                                   smaller=False)), "≤ 0.25 s"))

    copy = m.window(None, None)   # same rows, its own marks (the expiry map is shared)
    start = time.perf_counter()
    bt.run_backtest(copy, config, ("none", "alvh"), smaller=False)
    rows.append(("daily condors + ALVH, cold (marks computed)", time.perf_counter() - start, ""))
    rows.append(("all five schemes + trade smaller, daily", timed(lambda: bt.run_backtest(m, config, BACKTEST_SCHEMES),
                                                                  3), "≤ 1 s"))

    tiers = load_tiers()
    configs = []
    for tier in tiers:
        for strategy in bt.FREQUENCIES:
            for fill in (0.0, 0.5, 1.0):
                for target in (None, 0.5):
                    for stop in (None, 2.0):
                        configs.append(bt.BacktestConfig(strategy=strategy, tier=tier, costs=bt.Costs(fill_share=fill),
                                                         management=ExitRules(target, stop)))
    configs = (configs * 2)[:100]
    for tier in tiers:   # the expiry maps are start-up
        bt.spx_expiry_for(m, tier.days)
    start = time.perf_counter()
    studies.sweep(m, configs)
    rows.append(("sweep of 100 configurations (3 tiers × 3 frequencies × fills × rules)",
                 time.perf_counter() - start, "≤ 10 s"))

    year = m.window("2019-01-02", "2019-12-31")
    slow = timed(lambda: reference_equity(year, history.panel, config, "alvh"), 1)
    fast = timed(lambda: bt.run_backtest(year.window(None, None), config, ("alvh",), smaller=False), 3)
    rows.append(("reference (one day at a time), daily + ALVH, 2019", slow, f"{slow / fast:,.0f}× the vectorised"))
    rows.append(("vectorised, the same year (cold marks)", fast, ""))

    rows.append(("CNDR replica 1990-2026", timed(lambda: replicas.cndr_replica(m), 3), ""))
    rows.append(("VXTH replica 2006-2026", timed(lambda: replicas.vxth_replica(m.window("2006-03-01", None)), 3), ""))

    tier = find_tier(tiers, "Moderate")
    market = DEFAULT_MARKET
    context = HedgeContext(classify_regime(market.vix), 12.0, band_high_pct=18.0)
    position = build_position(market, Scenario(tier, RiskBudget(notional=1_000_000, risk_pct=2),
                                               hedge=HedgeSettings()), context, with_heat_map=False, with_view=False)
    vm = market.vol_model()
    book_monte_carlo(position.condor, position.contracts, position.hedge, market, vm, 60, 1000, 0)
    rows.append(("Monte Carlo, 10,000 paths × 60 days of the hedged book",
                 timed(lambda: book_monte_carlo(position.condor, position.contracts, position.hedge, market, vm, 60,
                                                10_000, 1), 5), "≤ 1 s"))
    print("| case | median | note |")
    print("|---|---|---|")
    for name, seconds, note in rows:
        print(f"| {name} | {seconds:.3f} s | {note} |")


if __name__ == "__main__":
    main()
