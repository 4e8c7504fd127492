"""Invariants over random inputs (hypothesis)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alvh_core.cli import commands as cli
from alvh_core.model.market import MarketState
from alvh_core.model.pricing import bsm
from alvh_core.strategy.condor import build_condor, condor_metrics
from alvh_core.strategy.tiers import load_tiers

TIERS = load_tiers()
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

spots = st.floats(100, 20000)
vols = st.floats(0.0, 5.0)
years = st.floats(0.0, 30.0)
rates = st.floats(-0.02, 0.2)
divs = st.floats(0.0, 0.1)


@FAST
@given(spot=spots, moneyness=st.floats(0.2, 5.0), t=years, r=rates, q=divs, vol=vols)
def test_put_call_parity_and_bounds(spot, moneyness, t, r, q, vol):
    strike = spot * moneyness
    call = bsm(spot, strike, t, r, q, vol, "call")
    put = bsm(spot, strike, t, r, q, vol, "put")
    parity = spot * np.exp(-q * t) - strike * np.exp(-r * t)
    assert abs(call.price - put.price - parity) <= 1e-9 * (spot + strike)
    for g in (call, put):
        for value in (g.price, g.delta, g.gamma, g.vega, g.theta):
            assert np.all(np.isfinite(value))
    assert -1e-12 <= call.delta <= 1 + 1e-12 and -1 - 1e-12 <= put.delta <= 1e-12


@FAST
@given(spot=st.floats(500, 15000), vix=st.floats(8.0, 90.0), term=st.floats(0.6, 1.6),
       days=st.integers(1, 120), tier=st.sampled_from(TIERS), selection=st.sampled_from(["pop", "delta"]))
def test_condor_pnl_is_bounded_and_finite(spot, vix, term, days, tier, selection):
    market = MarketState(spot=spot, vix=vix, vix9d=vix / term, vix3m=vix * term, vix6m=vix * term**1.5)
    condor = build_condor(market, tier, selection, days=days)
    m = condor_metrics(condor)
    values = [m.credit, m.max_loss, m.pop, m.expected_pl, m.expected_loss, m.cvar95, m.touch_short_put,
              m.touch_short_call, *m.breakevens, *m.greeks.values()]
    assert all(np.isfinite(v) for v in values)
    grid = np.linspace(spot * 0.3, spot * 2.0, 501)
    pnl = condor.pnl_at_expiry(grid) * 100
    assert np.all(pnl <= m.max_profit + 1e-6) and np.all(pnl >= -m.max_loss - 1e-6)
    # When losses are 5 % likely or more, the worst 5 % are all losses and their mean (CVaR) bounds the
    # expected loss; when they are rarer, CVaR can be a gain and every loss lies inside that 5 % tail.
    assert 0 <= m.pop <= 1 and 0 <= m.expected_loss and m.cvar95 <= m.max_loss + 1e-3
    assert m.expected_loss <= (m.cvar95 if m.cvar95 > 0 else 0.05 * m.max_loss) + 1e-6
    assert m.credit_mid >= 0 and m.credit_natural <= m.credit <= m.credit_mid + 1e-9


garbage = st.lists(st.one_of(st.sampled_from(["plan", "tiers", "vol", "price", "calibrate", "stress", "--spx", "--vix",
                                              "--tier", "--days", "--strikes", "--risk-pct", "--json",
                                              "--measure", "--kind", "--vol", "--spx-move", "--episode", "2020-03",
                                              "--underlying", "XSP", "--fill-share", "--hedge-sizing",
                                              "nan", "-1", "1e400", "0", "-95", "--tiers", "--scenario",
                                              "--data-dir", "--index", "--out", "/dev/zero", "/dev/stdin", "/",
                                              "x" * 300, "backtest", "regime", "--asof", "--start", "--end",
                                              "2099-01-01", "1900-01-01", "--vix6m", "1e12"]),
                             st.text(max_size=8)), max_size=10)


@settings(max_examples=150, deadline=None)
@given(args=garbage)
def test_garbage_arguments_never_crash_the_cli(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args)
    assert code in (0, 2), err.getvalue()
    if code == 2:
        assert len(err.getvalue().strip().splitlines()) == 1
