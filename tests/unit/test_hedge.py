"""The hedge's rules, its pricing against QuantLib, and seed 001's example."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import QuantLib as ql

from alvh_core.model.market import DEFAULT_MARKET, MarketState
from alvh_core.model.regime import classify_regime
from alvh_core.model.spotvol import implied_move_units, link_coefficients, vix_after_move, vix_band
from alvh_core.model.vixfutures import expiries_after, futures_proxy, vix_option_vol
from alvh_core.strategy.hedge import (
    HedgeSettings,
    breakeven_vix,
    build_hedge,
    capped_event_multiplier,
    hedge_pnl,
    pick_expiry,
    pick_vix_expiries,
    scheme_layers,
    strikes_at_delta,
    vix_strike_grid,
    vxth_weight_pct,
)

CALM = MarketState(spot=6000.0, vix=13.0, vix9d=12.0, vix3m=15.5, vix6m=17.0, vvix=85.0, asof="2026-03-02")
INVERTED = MarketState(spot=5000.0, vix=35.0, vix9d=40.0, vix3m=30.0, vix6m=28.0, vvix=140.0, asof="2026-03-02")


def _plan(market, budget_pct=7.0, **settings):
    """A hedge on $100,000 of notional for seed 001's worked example: a condor risking $5,000."""
    stress = settings.pop("stress", 0.0)
    event = settings.pop("event_days", None)
    max_loss = settings.pop("max_loss", 5_000.0)
    return build_hedge(market, classify_regime(market.vix), budget_pct, 100_000.0, HedgeSettings(**settings),
                       stress_score=stress, next_event_days=event, position_max_loss=max_loss)


def test_seed_001_worked_example_low_regime_exposure():
    # A condor risking $5,000 on $100,000 notional in the Low regime starts
    # with $6,000-$10,000 of VIX exposure (seed 001): the Low band is 6-8 %.
    for budget_pct in (6.0, 7.0, 8.0):
        plan = _plan(CALM, budget_pct)
        assert plan.regime == "Low"
        assert 6_000 <= plan.total_vix_notional <= 10_000, plan.total_vix_notional


def test_vix_notional_is_contracts_times_100_times_the_future_of_the_expiry():
    plan = _plan(CALM)
    for layer in plan.active_layers:
        leg = next(leg for leg in layer.legs if leg.side > 0)
        expected_future = float(futures_proxy(CALM.term, leg.days, CALM.vvix))
        assert leg.forward == pytest.approx(expected_future)
        assert layer.vix_notional == pytest.approx(layer.contracts * 100 * expected_future)
        assert layer.contracts == int(np.floor(layer.exact_contracts + 0.5))


def test_layers_follow_the_split_tenors_and_deltas():
    plan = _plan(CALM)
    base, adaptive, tail = plan.layers
    assert 14 <= base.days <= 35 and 30 <= adaptive.days <= 95 and 90 <= tail.days <= 185
    assert base.target_vix_notional == pytest.approx(0.4 * 7_000) and tail.target_vix_notional == pytest.approx(0.2 * 7_000)
    # Base strike near 30 delta on its future, checked with QuantLib's Black calculator.
    leg = base.legs[0]
    payoff = ql.PlainVanillaPayoff(ql.Option.Call, leg.strike)
    calc = ql.BlackCalculator(payoff, leg.forward, leg.iv * np.sqrt(leg.days / 365), np.exp(-CALM.rate * leg.days / 365))
    assert calc.value() == pytest.approx(leg.price, rel=1e-9)
    assert abs(calc.deltaForward() - 0.30) < 0.06  # nearest 1-point strike
    long_k, short_k = (leg.strike for leg in adaptive.legs)
    assert short_k > long_k and [leg.side for leg in adaptive.legs] == [1, -1]


def test_time_shifting_when_the_curve_inverts():
    asof = date(2026, 3, 2)
    calm_base, inverted_base = _plan(CALM).layers[0], _plan(INVERTED, 30.0).layers[0]
    assert calm_base.legs[0].expiry == pick_expiry(asof, 14, 35).isoformat()
    assert inverted_base.legs[0].expiry == pick_expiry(asof, 14, 35, skip=1).isoformat()
    assert "time-shifted" in inverted_base.note


def test_adaptive_layer_expands_near_events_and_tail_waits_for_stress():
    quiet = _plan(CALM).layers[1]
    busy = _plan(CALM, event_days=3).layers[1]
    assert busy.target_vix_notional == pytest.approx(1.5 * quiet.target_vix_notional)
    waiting = _plan(CALM, contingent="stress", stress=0.2).layers[2]
    fired = _plan(CALM, contingent="stress", stress=0.8).layers[2]
    assert not waiting.active and waiting.contracts == 0 and "waits" in waiting.note
    assert fired.active and fired.contracts >= 0


def test_comparators_on_the_same_budget():
    single = _plan(CALM, scheme="single")
    assert len(single.layers) == 1 and single.target_vix_notional == pytest.approx(7_000)
    assert _plan(CALM, scheme="static10").target_vix_notional == pytest.approx(10_000)
    assert _plan(CALM, scheme="none").layers == ()
    assert _plan(CALM, scheme="custom", custom_budget_pct=4.0).target_vix_notional == pytest.approx(4_000)
    assert [vxth_weight_pct(v) for v in (12, 15, 15.01, 30, 45, 50.5)] == [0, 0, 1, 1, 0.5, 0]


def test_vix_option_vol_decays_with_tenor_and_has_call_skew():
    vols = vix_option_vol(20.0, 20.0, np.array([7.0, 30.0, 90.0]), 100.0)
    assert vols[1] < 1.0 and vols[0] > vols[1] > vols[2]      # with the calls skewed up the money sits below VVIX
    assert vix_option_vol(30.0, 20.0, 30.0, 100.0) > vix_option_vol(20.0, 20.0, 30.0, 100.0)
    assert vix_option_vol(20.0, 20.0, 30.0, 100.0, call_skew=0.0) == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize("vvix,skew", [(70.0, 0.85), (100.0, 0.85), (140.0, 0.3), (100.0, 1.5)])
def test_the_vix_smile_reprices_vvix_through_cboes_discrete_formula(vvix, skew):
    """VVIX is Cboe's VIX formula on VIX options: run that discrete formula (strikes every 0.25 point, the
    forward's own ΔK/K² weights and the K0 correction) on the model's 30-day prices and VVIX comes back."""
    from alvh_core.model.pricing import black76_price

    future, days = 20.0, 30.0
    years = days / 365.0
    strikes = np.arange(1.0, 400.0, 0.25)
    vol = vix_option_vol(strikes, future, days, vvix, skew)
    is_call = strikes >= future
    prices = black76_price(future, strikes, years, 0.0, vol, is_call)
    k0 = strikes[strikes <= future].max()
    dk = np.gradient(strikes)
    variance = 2.0 / years * np.sum(dk / strikes**2 * prices) - (future / k0 - 1.0) ** 2 / years
    assert 100.0 * np.sqrt(variance) == pytest.approx(vvix, rel=0.01)


def test_spot_vol_link_by_hand():
    """The median at 5 days for a 5 % fall from VIX 20, term by term from the table."""
    from alvh_core.model.fitted import SPOT_VOL_LINK

    a, b_down, b_up, b_sq, b_level = SPOT_VOL_LINK[5]["median"]
    r = np.log(0.95)
    z = r / (0.20 * np.sqrt(5 / 252))
    assert implied_move_units(r, 20.0, 5) == pytest.approx(z)
    assert float(vix_after_move(20.0, r, 5)) == pytest.approx(20.0 * np.exp(a + b_down * z + b_sq * z * z))
    low, mid, high = vix_band(20.0, r, 5)
    assert low < mid < high and float(vix_after_move(20.0, r, 5, "p90")) == pytest.approx(high)
    coef3, _ = link_coefficients(3)
    assert coef3[1, 1] == pytest.approx(np.interp(3, [1, 5], [SPOT_VOL_LINK[1]["median"][1], b_down]))


def test_the_same_fall_moves_vix_more_from_a_calm_start():
    """A 3 % fall is a 3.5-sigma day from VIX 13 and a 1-sigma day from VIX 45."""
    r = np.log(0.97)
    calm, stressed = vix_band(13.0, r, 1) / 13.0, vix_band(45.0, r, 1) / 45.0
    assert calm[1] > 1.3 and stressed[1] < 1.15
    assert (calm[2] - calm[0]) > (stressed[2] - stressed[0])  # the band widens with the move in sigmas


@pytest.mark.parametrize("vix0", [9.0, 13.0, 25.0, 60.0, 82.0])
def test_link_stays_finite_and_ordered_far_outside_the_fit(vix0):
    moves = np.log(np.array([0.3, 0.5, 0.8, 0.9, 0.97, 1.0, 1.05, 1.3, 2.0]))
    for days in (1, 5, 21, 60, 250):
        band = vix_band(vix0, moves, days)
        assert np.all(np.isfinite(band)) and np.all((band >= 5.0) & (band <= 150.0))
        assert np.all(band[0] <= band[1]) and np.all(band[1] <= band[2])
        median = band[1]
        assert np.all(np.diff(median[:6]) <= 1e-9)  # a deeper fall never lowers the median VIX


def test_breakeven_vix_is_where_the_hedge_pays_for_itself():
    plan = _plan(DEFAULT_MARKET)
    level = breakeven_vix(plan, DEFAULT_MARKET, 5.0)
    assert level is not None and level > DEFAULT_MARKET.vix * 0.5
    assert float(hedge_pnl(plan, DEFAULT_MARKET, level, DEFAULT_MARKET.spot, 5.0)) >= 0
    assert float(hedge_pnl(plan, DEFAULT_MARKET, level - 0.03, DEFAULT_MARKET.spot, 5.0)) < 0


def test_bad_settings_are_refused():
    for bad in ({"scheme": "yolo"}, {"split": (0, 0, 0)}, {"contingent": "maybe"}, {"event_multiplier": 9.0}):
        with pytest.raises(ValueError):
            HedgeSettings(**bad)
    assert HedgeSettings(split=(2, 2, 1)).split == pytest.approx((0.4, 0.4, 0.2))


def _black(future, strike, days, vol, discount=1.0):
    calc = ql.BlackCalculator(ql.PlainVanillaPayoff(ql.Option.Call, strike), float(future),
                              vol * np.sqrt(days / 365.0), discount)
    return calc.value()


def _rolled_by_hand(leg, vix_h, elapsed, market=DEFAULT_MARKET):
    """A leg that expired before the horizon, rolled at each expiry into the same tenor and
    moneyness, VIX on the log-straight path to ``vix_h``: payoffs received, premiums paid
    (QuantLib's Black), the last roll valued at the horizon."""
    from alvh_core.model.fitted import VVIX_ELASTICITY
    from alvh_core.model.vixfutures import tenor_beta

    path = lambda t: market.vix * (vix_h / market.vix) ** min(t / elapsed, 1.0)  # noqa: E731
    tenor = leg.days
    total, start = max(path(tenor) - leg.strike, 0.0), tenor
    while True:
        r = path(start) / market.vix
        future = leg.forward * r ** float(tenor_beta(tenor))
        strike = leg.strike * future / leg.forward
        vol = leg.iv * r**VVIX_ELASTICITY
        total -= _black(future, strike, tenor, vol)
        end = start + tenor
        if end >= elapsed:
            left = end - elapsed
            if left <= 0:
                return total + max(vix_h - strike, 0.0)
            move = vix_h / path(start)
            return total + _black(future * move ** float(tenor_beta(left)), strike, left, vol * move**VVIX_ELASTICITY)
        total += max(path(end) - strike, 0.0)
        start = end


def _quantlib_leg_value(leg, vix, days_elapsed, market=DEFAULT_MARKET):
    """One VIX leg under a VIX scenario: QuantLib's BlackCalculator on the future moved by
    its tenor beta, at the vol moved as VVIX does; rolled by hand past its expiry."""
    from alvh_core.model.fitted import VVIX_ELASTICITY
    from alvh_core.model.vixfutures import tenor_beta

    left = leg.days - days_elapsed
    if left <= 0:
        return _rolled_by_hand(leg, vix, days_elapsed, market)
    future = leg.forward * (vix / market.vix) ** float(tenor_beta(left))
    years = left / 365.0
    calc = ql.BlackCalculator(ql.PlainVanillaPayoff(ql.Option.Call, leg.strike), float(future),
                              leg.iv * (vix / market.vix) ** VVIX_ELASTICITY * np.sqrt(years),
                              float(np.exp(-market.rate * years)))
    return calc.value()


@pytest.mark.parametrize("days_elapsed", [0.0, 5.0, 30.0, 120.0])
def test_vix_leg_scenarios_match_quantlib_black(days_elapsed):
    """Every VIX leg under a VIX scenario: F = F0 · (VIX/VIX0)^beta, σ = σ0 · (VIX/VIX0)^k
    (the roll past expiry), against QuantLib."""
    plan = _plan(DEFAULT_MARKET)
    levels = np.array([6.0, 12.0, DEFAULT_MARKET.vix, 25.0, 45.0, 80.0, 140.0])
    table = plan.vix_legs
    got = table.values(DEFAULT_MARKET, levels, days_elapsed)
    legs = [leg for layer in plan.active_layers for leg in layer.legs if leg.underlying == "VIX"]
    assert got.shape == (len(legs), levels.size)
    for i, leg in enumerate(legs):
        for j, vix in enumerate(levels):
            assert got[i, j] == pytest.approx(_quantlib_leg_value(leg, vix, days_elapsed), rel=1e-10, abs=1e-12)


def test_one_date_per_scenario_matches_quantlib_black():
    """The stress episodes and the book's horizons price every scenario at its own date in one
    call; dates on both sides of a leg's expiry (the short leg rolls on some, not on others)."""
    plan = _plan(DEFAULT_MARKET)
    legs = [leg for layer in plan.active_layers for leg in layer.legs if leg.underlying == "VIX"]
    shortest = min(leg.days for leg in legs)
    dates = np.array([0.0, 3.0, shortest - 0.5, shortest, shortest + 4.0, 60.0])
    levels = np.array([9.0, DEFAULT_MARKET.vix, 33.0, 95.0])
    got = plan.vix_legs.values(DEFAULT_MARKET, levels[None, :], dates[:, None])
    assert got.shape == (len(legs), dates.size, levels.size)
    for i, leg in enumerate(legs):
        for k, when in enumerate(dates):
            for j, vix in enumerate(levels):
                assert got[i, k, j] == pytest.approx(_quantlib_leg_value(leg, vix, when), rel=1e-10, abs=1e-12)
    # The whole hedge, SPX legs included (the put-fly tail), against the one-date call.
    fly = _plan(INVERTED, budget_pct=100.0, tail_instrument="spx_put_fly", split=(1, 1, 3))
    spx = np.array([3900.0, 4700.0, 5200.0])[None, :, None]
    vix = levels[None, None, :]
    both = hedge_pnl(fly, INVERTED, vix, spx, dates[:, None, None])
    for k, when in enumerate(dates):
        assert np.allclose(both[k], hedge_pnl(fly, INVERTED, vix[0], spx[0], float(when)), rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize("tail", ["vix_calls", "spx_put_fly"])
def test_scalar_layer_value_matches_the_vectorised_one(tail):
    from alvh_core.strategy.hedge import layer_value, layer_value_one

    plan = _plan(INVERTED, budget_pct=100.0, tail_instrument=tail, split=(1, 1, 3))
    assert [layer.name for layer in plan.active_layers] == ["Base", "Adaptive", "Tail"]
    for layer in plan.active_layers:
        for vix, spx, days in ((35.0, 5000.0, 0.0), (60.0, 4300.0, 7.0), (20.0, 5200.0, 40.0), (90.0, 3900.0, 200.0)):
            vector = float(layer_value(layer, INVERTED, vix, spx, days))
            assert layer_value_one(layer, INVERTED, vix, spx, days) == pytest.approx(vector, rel=1e-10, abs=1e-8)


@pytest.mark.parametrize("future,days,vvix,rate", [(14.0, 21.0, 80.0, 0.04), (22.5, 63.0, 110.0, 0.05),
                                                   (48.0, 120.0, 160.0, 0.0), (95.0, 30.0, np.nan, 0.02)])
def test_the_strike_search_is_the_grid_strike_with_quantlibs_delta_nearest(future, days, vvix, rate):
    discount = np.exp(-rate * days / 365.0)
    best = None
    for k in vix_strike_grid(future):
        vol = float(vix_option_vol(k, future, days, vvix))
        calc = ql.BlackCalculator(ql.PlainVanillaPayoff(ql.Option.Call, float(k)), future, vol * np.sqrt(days / 365.0),
                                  discount)
        miss = abs(calc.deltaForward() - 0.30)
        if best is None or miss < best[0] - 1e-12:
            best = (miss, k)
    found = strikes_at_delta(0.30, np.array([future, future]), days, vvix, rate)
    assert found.tolist() == [best[1], best[1]]
    grid = vix_strike_grid(future)
    low = max(1.0, np.floor(0.6 * future))
    assert low <= grid[0] < low + 5 and grid[-1] <= max(60.0, 4 * future) < grid[-1] + 5


def test_expiry_picks_for_many_days_follow_the_window_rule():
    listed = np.array(expiries_after(date(2019, 12, 1), 40), "datetime64[D]")
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2021-06-01"))
    for low, high, skip in ((14, 35, 0), (30, 95, 0), (90, 185, 0), (14, 35, 1)):
        picked = pick_vix_expiries(listed, days, low, high, skip)
        for day, got in zip(days, picked, strict=True):
            ahead = [e for e in listed if e > day][:10]
            gaps = [int((e - day).astype(int)) for e in ahead]
            inside = [i for i, g in enumerate(gaps) if low <= g <= high]
            first = inside[0] if inside else int(np.argmin([abs(g - low) for g in gaps]))
            assert got == ahead[min(first + skip, 9)], (day, low, high, skip)
        assert pick_expiry(days[40].item(), low, high, skip) == picked[40].item()


def test_the_event_multiplier_keeps_the_hedge_under_the_band_top():
    budget, share = np.array([6.0, 7.5, 8.0, 0.0, 7.0]), np.array([0.4, 0.4, 0.4, 0.4, 0.0])
    held = capped_event_multiplier(1.5, 8.0, budget, share)
    # Grown total budget × (1 + share × (m − 1)) at most the top, never below × 1, untouched without budget or share.
    assert np.all(budget * (1 + share * (held - 1)) <= 8.0 + 1e-9)
    assert held.tolist()[:3] == pytest.approx([1.5, 1.0 + (8.0 / 7.5 - 1.0) / 0.4, 1.0])
    assert held[3] == 1.5 and held[4] == 1.5


def test_the_builder_and_the_backtest_read_one_layer_table():
    alvh = scheme_layers("alvh", (0.5, 0.3, 0.2))
    assert [(r.name, r.low_days, r.high_days, r.long_delta, r.short_delta, r.share) for r in alvh] == [
        ("Base", 14, 35, 0.30, None, 0.5), ("Adaptive", 30, 95, 0.40, 0.15, 0.3), ("Tail", 90, 185, 0.10, None, 0.2)]
    plan = _plan(CALM)
    for rule, layer in zip(scheme_layers("alvh"), plan.layers, strict=True):
        assert (layer.name, layer.roll) == (rule.name, rule.roll)
        assert layer.legs[0].expiry == pick_expiry(date(2026, 3, 2), rule.low_days, rule.high_days).isoformat()
    assert scheme_layers("vxth")[0].schedule == "vix-expiry" and scheme_layers("single")[0].schedule == "monthly"
    with pytest.raises(ValueError):
        scheme_layers("bogus")


def test_premium_over_a_condors_life_counts_each_layers_share_of_its_own_life():
    plan = _plan(CALM)
    by_hand = sum(layer.cost * min(21.0 / layer.days, 1.0) for layer in plan.active_layers)
    assert plan.premium_over(21.0) == pytest.approx(by_hand)
    assert plan.premium_over(1_000.0) == pytest.approx(plan.total_cost)


def test_vix_strikes_are_searched_on_the_listed_grid_of_their_era():
    from alvh_core.data.listings import VIX_STRIKE_ERAS
    from alvh_core.strategy.hedge import listed_above, strikes_at_delta

    futures = np.linspace(11.0, 45.0, 60)
    old = strikes_at_delta(0.3, futures, 30.0, 90.0, 0.03, era=0, front=True)
    assert np.all(np.abs(old / 2.5 - np.round(old / 2.5)) < 1e-9)             # 2006-2011: 2.5-point strikes
    new = strikes_at_delta(0.3, futures, 30.0, 90.0, 0.03, era=len(VIX_STRIKE_ERAS) - 1, front=True)
    assert np.any(np.abs(new / 2.5 - np.round(new / 2.5)) > 1e-9)             # 1-point strikes since
    assert list(listed_above([14.0, 14.0, 30.0, 50.0], [0, 3, 3, 3], [True, True, True, True])) == [15.0, 14.5, 32.5, 55.0]


def test_vix_half_spread_widens_with_price_and_vix():
    from alvh_core.model.fills import vix_half_spread

    assert vix_half_spread(0.20, 15.0, 0.0) == pytest.approx(0.025)         # half the 0.05 tick under 3.00
    assert vix_half_spread(3.50, 15.0, 0.0) == pytest.approx(max(0.05, 0.03 * 3.5))
    assert vix_half_spread(6.0, 15.0) > vix_half_spread(1.0, 15.0)
    assert vix_half_spread(1.0, 45.0) == pytest.approx(vix_half_spread(1.0, 20.0) * 1.5)
    assert vix_half_spread(1.0, 12.0) == vix_half_spread(1.0, 20.0)           # never narrower than at VIX 20
    assert vix_half_spread(1.0, 20.0, 0.10) == pytest.approx(0.10)            # the floor the sensitivity moves
