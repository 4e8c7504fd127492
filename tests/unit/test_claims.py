"""The claims table's engine: every claim gets a finite answer in calm and wild markets, and the history's
columns read the backtests they name."""

from __future__ import annotations

from dataclasses import replace

import pytest

from alvh_core.history import backtest as bt
from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.model.simulator import simulated_panel
from alvh_core.present import claims as cl
from alvh_core.strategy.position import HedgeContext
from alvh_core.strategy.tiers import load_tiers

TIERS = load_tiers()


@pytest.mark.parametrize("vix", [9.0, 16.0, 45.0, 90.0])
def test_every_claim_has_a_finite_engine_answer(vix):
    market = replace(DEFAULT_MARKET, vix=vix, vix9d=vix, vix3m=vix, vix6m=vix)
    rows = cl.engine_claims(market, HedgeContext.from_vix(vix), TIERS, cl.ClaimInputs(), 50.0, False)
    assert [r.key for r in rows] == list(cl.CLAIMS)
    for r in rows:
        assert r.engine and "nan" not in r.engine.lower() and "inf" not in r.engine.lower(), r


def test_the_history_columns_are_read_from_the_runs():
    m = bt.market_arrays(simulated_panel(years=3.0, seed=3), source="simulated")
    tier_runs = {t.name: bt.run_backtest(m, bt.BacktestConfig(strategy="daily", tier=t), ("none", "alvh"),
                                         smaller=False) for t in (TIERS[0], TIERS[2])}
    runs = cl.history_runs(m, TIERS, tier_runs)
    rows = {r.key: r for r in cl.with_history(cl.engine_claims(DEFAULT_MARKET, HedgeContext.from_vix(16.9), TIERS,
                                                               cl.ClaimInputs()), runs)}
    cons, aggr = tier_runs["Conservative"], tier_runs["Aggressive"]
    ratio = cons.condor.contracts.mean() / aggr.condor.contracts.mean()
    assert f"Conservative averaged {ratio:.2f}×" in rows["tier_ratio"].backtest
    ten = rows["ten_pct"].backtest
    assert f"fixed 10 % CAGR {100 * runs.main.stats['static10'].performance.cagr:.1f} %" in ten
    first, last = runs.scale.iloc[0], runs.scale.iloc[-1]
    assert f"at {int(last['contracts'])}: {100 * last['none_max_drawdown_pct']:.1f} %" in rows["scale"].backtest
    assert int(first["contracts"]) == 10 and int(last["contracts"]) == 200
    # Two per cent a day risks twice the contracts of one per cent.
    # 2 % a day trades about twice the 1 % book while the two accounts are still alike (the first year).
    assert runs.two_pct.condor.contracts[:250].sum() > 1.5 * runs.one_pct.condor.contracts[:250].sum()
    assert rows["pays"].smaller.startswith(f"Trading smaller (×{runs.main.smaller_scale:.2f})")
    for r in rows.values():
        assert "nan" not in (r.backtest + r.smaller).lower(), r
