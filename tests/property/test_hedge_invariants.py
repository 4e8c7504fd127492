"""Hedge and payoff invariants over random markets (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alvh_core.model.market import MarketState
from alvh_core.strategy.hedge import HedgeLayer, HedgeSettings, build_hedge, hedge_pnl, layer_value
from alvh_core.strategy.payoff import condor_value_grid, heat_map
from alvh_core.strategy.position import HedgeContext, Scenario, build_position
from alvh_core.strategy.sizing import RiskBudget
from alvh_core.strategy.tiers import load_tiers

TIERS = load_tiers()
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

markets = st.builds(
    lambda spot, vix, slope, vvix, day: MarketState(spot=spot, vix=vix, vix9d=vix * (1 - slope), vix3m=vix * (1 + slope),
                                                    vix6m=vix * (1 + 1.5 * slope), vvix=vvix,
                                                    asof=f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}"),
    st.floats(1000, 12000), st.floats(9.0, 90.0), st.floats(-0.3, 0.3), st.floats(60.0, 220.0), st.integers(0, 300))
schemes = st.sampled_from(["alvh", "single", "static10", "vxth", "custom"])


def _hedge(market, scheme, stress=0.5, tail="vix_calls"):
    context = HedgeContext.from_vix(market.vix, stress, 3)
    return build_hedge(market, context.regime, context.budget_pct, 100_000.0,
                       HedgeSettings(scheme=scheme, tail_instrument=tail), stress, False, 3)


@SLOW
@given(market=markets, scheme=schemes, days=st.floats(0.0, 200.0))
def test_long_vix_calls_never_lose_more_than_their_premium(market, scheme, days):
    plan = _hedge(market, scheme)
    levels = np.linspace(5.0, 150.0, 60)
    for layer in plan.active_layers:
        # Held to its expiry at most (past it, the roll buys a new one: more premium at risk).
        if all(leg.side > 0 for leg in layer.legs) and days <= layer.days:
            pnl = layer_value(layer, market, levels, market.spot, days) - layer.cost
            assert np.all(pnl >= -layer.cost - 1e-6)


@SLOW
@given(market=markets, scheme=schemes, days=st.floats(0.0, 60.0))
def test_hedge_value_rises_with_vix(market, scheme, days):
    plan = _hedge(market, scheme)
    if plan.active_layers:
        days = min(days, min(layer.days for layer in plan.active_layers))  # before any roll
    levels = np.linspace(9.0, 90.0, 82)
    pnl = hedge_pnl(plan, market, levels, market.spot, days)
    assert np.all(np.diff(pnl) >= -1e-6)


@SLOW
@given(market=markets, scheme=schemes, tier=st.sampled_from(TIERS), days=st.floats(0.0, 60.0),
       tail=st.sampled_from(["vix_calls", "spx_put_fly"]))
def test_combined_is_the_sum_of_its_legs(market, scheme, tier, days, tail):
    scenario = Scenario(tier=tier, budget=RiskBudget(risk_pct=5.0), hedge=HedgeSettings(scheme=scheme, tail_instrument=tail),
                        horizon_days=days)
    position = build_position(market, scenario, HedgeContext.from_vix(market.vix, 0.5, 3), with_heat_map=False)
    curves = position.view.curves
    n = max(position.contracts, 1)
    # One leg at a time, each as its own one-leg structure.
    by_leg = np.zeros_like(curves.spx)
    for leg in position.condor.legs:
        one = type(position.condor)(legs=(leg,), spot=market.spot, days=position.condor.days, rate=market.rate,
                                    div=market.div, atm_vol=position.condor.atm_vol,
                                    underlying=position.condor.underlying)
        by_leg += condor_value_grid(one, market, market.vol_model(), curves.spx, curves.vix_median, curves.days_elapsed) * n
    by_leg -= position.condor.fill_cost * position.condor.dollars_per_point * n  # what the fill gave up
    for layer in position.hedge.active_layers:
        for leg in layer.legs:
            single = HedgeLayer(layer.name, "", layer.roll, (leg,), layer.contracts, layer.contracts, 0.0, True)
            by_leg += layer_value(single, market, curves.vix_median, curves.spx, curves.days_elapsed) - single.cost
    assert np.allclose(curves.combined, by_leg, rtol=1e-9, atol=1e-6)
    assert np.allclose(curves.combined, curves.condor + curves.hedge)


@SLOW
@given(market=markets, scheme=schemes, tier=st.sampled_from(TIERS), expiry_day=st.booleans())
def test_no_nan_over_the_whole_grid(market, scheme, tier, expiry_day):
    scenario = Scenario(tier=tier, budget=RiskBudget(risk_pct=2.0), hedge=HedgeSettings(scheme=scheme))
    position = build_position(market, scenario, HedgeContext.from_vix(market.vix), with_heat_map=False)
    days = position.condor.days if expiry_day else 0.0
    heat = heat_map(position.condor, 3, position.hedge, market, market.vol_model(), days,
                    vix_levels=np.linspace(9.0, 90.0, 61))
    assert heat.combined.shape == (61, 101) and np.all(np.isfinite(heat.combined))
    for curves in (position.at_expiry, position.view.curves):
        for series in (curves.condor, curves.hedge, curves.combined, curves.hedge_p10, curves.hedge_p90):
            assert np.all(np.isfinite(series))
    m = position.metrics
    assert all(np.isfinite(v) for v in (m.premium, m.cost_per_roll, m.cost_per_year, m.spike_payoff_per_dollar))
