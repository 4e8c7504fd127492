"""Pricing checked against QuantLib (independent oracle), textbook values,
put–call parity, and the limits at expiry and zero vol."""

from __future__ import annotations

import numpy as np
import pytest
import QuantLib as ql
from vollib.black import implied_volatility as vollib_black_iv

from alvh_core.model import pricing

N_CASES = 1200
rng = np.random.default_rng(20261121)


def _random_cases(n: int) -> dict[str, np.ndarray]:
    return {
        "spot": rng.uniform(50, 8000, n),
        "moneyness": np.exp(rng.uniform(-0.6, 0.6, n)),
        "days": rng.integers(1, 3 * 365, n),
        "rate": rng.uniform(0.0, 0.08, n),
        "div": rng.uniform(0.0, 0.04, n),
        "vol": rng.uniform(0.05, 1.2, n),
        "is_call": rng.random(n) < 0.5,
    }


def _quantlib_bsm(spot, strike, days, rate, div, vol, is_call):
    today = ql.Date(15, ql.January, 2024)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, div, dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, rate, dc)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), vol, dc)),
    )
    option = ql.EuropeanOption(
        ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, strike),
        ql.EuropeanExercise(today + int(days)),
    )
    option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    return option.NPV(), option.delta(), option.gamma(), option.vega(), option.theta()


def test_bsm_matches_quantlib_on_random_cases():
    c = _random_cases(N_CASES)
    strike = np.round(c["spot"] * c["moneyness"], 2)
    ours = pricing.bsm(c["spot"], strike, c["days"] / 365.0, c["rate"], c["div"], c["vol"],
                       np.where(c["is_call"], "call", "put"))
    ref = np.array([
        _quantlib_bsm(c["spot"][i], strike[i], c["days"][i], c["rate"][i], c["div"][i], c["vol"][i], c["is_call"][i])
        for i in range(N_CASES)
    ])
    scale = c["spot"]
    # Relative to spot: prices to 1e-10 of spot, greeks to matching scales.
    assert np.max(np.abs(ours.price - ref[:, 0]) / scale) < 1e-10
    assert np.max(np.abs(ours.delta - ref[:, 1])) < 1e-10
    assert np.max(np.abs(ours.gamma - ref[:, 2]) * scale) < 1e-9
    assert np.max(np.abs(ours.vega - ref[:, 3] / 100.0) / scale) < 1e-10
    assert np.max(np.abs(ours.theta - ref[:, 4] / 365.0) / scale) < 1e-10


def test_black76_matches_quantlib_black_calculator():
    c = _random_cases(N_CASES)
    forward = c["spot"] / 200.0 + 9.0  # VIX-futures-like levels, 9..49
    strike = forward * c["moneyness"]
    years = c["days"] / 365.0
    ours = pricing.black76(forward, strike, years, c["rate"], c["vol"], np.where(c["is_call"], "call", "put"))
    for i in range(N_CASES):
        discount = np.exp(-c["rate"][i] * years[i])
        payoff = ql.PlainVanillaPayoff(ql.Option.Call if c["is_call"][i] else ql.Option.Put, float(strike[i]))
        calc = ql.BlackCalculator(payoff, float(forward[i]), float(c["vol"][i] * np.sqrt(years[i])), float(discount))
        assert ours.price[i] == pytest.approx(calc.value(), rel=1e-10, abs=1e-12)
        assert ours.delta[i] == pytest.approx(calc.deltaForward(), rel=1e-9, abs=1e-12)
        assert ours.gamma[i] == pytest.approx(calc.gammaForward(), rel=1e-9, abs=1e-12)
        assert ours.vega[i] == pytest.approx(calc.vega(float(years[i])) / 100.0, rel=1e-9, abs=1e-12)


def test_black76_theta_is_the_finite_difference_in_time():
    forward, strike, rate, vol = 20.0, np.array([15.0, 20.0, 30.0]), 0.04, 0.9
    years = 40 / 365
    g = pricing.black76(forward, strike, years, rate, vol, "call")
    later = pricing.black76_price(forward, strike, years - 1e-6 / 365, rate, vol, "call")
    earlier = pricing.black76_price(forward, strike, years + 1e-6 / 365, rate, vol, "call")
    assert np.allclose(g.theta, (later - earlier) / 2e-6, rtol=1e-5)


def test_textbook_values():
    # Hull, Options, Futures and Other Derivatives, Example 15.6:
    # S=42, K=40, r=10 %, sigma=20 %, T=0.5 -> call 4.76, put 0.81.
    call = pricing.bsm_price(42, 40, 0.5, 0.10, 0.0, 0.20, "call")
    put = pricing.bsm_price(42, 40, 0.5, 0.10, 0.0, 0.20, "put")
    assert float(call) == pytest.approx(4.76, abs=0.005)
    assert float(put) == pytest.approx(0.81, abs=0.005)
    # Hull, the Black-model example of the futures-options chapter: F=20, K=20, r=9 %, sigma=25 %,
    # T=4 months -> European put 1.12.
    assert float(pricing.black76_price(20, 20, 4 / 12, 0.09, 0.25, "put")) == pytest.approx(1.12, abs=0.005)


def test_put_call_parity_bsm():
    c = _random_cases(5000)
    strike = c["spot"] * c["moneyness"]
    years = c["days"] / 365.0
    call = pricing.bsm_price(c["spot"], strike, years, c["rate"], c["div"], c["vol"], "call")
    put = pricing.bsm_price(c["spot"], strike, years, c["rate"], c["div"], c["vol"], "put")
    parity = c["spot"] * np.exp(-c["div"] * years) - strike * np.exp(-c["rate"] * years)
    assert np.max(np.abs(call - put - parity) / c["spot"]) < 1e-12


def test_expiry_day_is_intrinsic_and_finite():
    strikes = np.array([5900.0, 6000.0, 6100.0])
    g = pricing.bsm(6000.0, strikes, 0.0, 0.05, 0.01, 0.2, "call")
    assert np.array_equal(g.price, [100.0, 0.0, 0.0])
    assert np.array_equal(g.delta, [1.0, 0.5, 0.0])
    assert np.all(g.gamma == 0) and np.all(g.vega == 0) and np.all(g.theta == 0)
    gp = pricing.bsm(6000.0, strikes, 0.0, 0.05, 0.01, 0.2, "put")
    assert np.array_equal(gp.price, [0.0, 0.0, 100.0])
    assert np.array_equal(gp.delta, [0.0, -0.5, -1.0])


def test_zero_vol_is_discounted_forward_intrinsic():
    spot, strike, years, rate, div = 100.0, 95.0, 0.5, 0.05, 0.02
    forward = spot * np.exp((rate - div) * years)
    price = pricing.bsm_price(spot, strike, years, rate, div, 0.0, "call")
    assert float(price) == pytest.approx(np.exp(-rate * years) * (forward - strike), rel=1e-14)
    tiny = pricing.bsm_price(spot, strike, years, rate, div, 1e-9, "call")
    assert float(tiny) == pytest.approx(float(price), rel=1e-9)


@pytest.mark.parametrize("vol", [0.0, 1e-12, 1e-4, 0.2, 5.0, 50.0])
@pytest.mark.parametrize("years", [0.0, 1e-9, 1 / 365, 1.0, 30.0, 200.0])
def test_extremes_never_leave_nan_or_inf(vol, years):
    strikes = np.array([1e-6, 1.0, 3000.0, 6000.0, 9000.0, 1e9])
    for kind in ("call", "put"):
        g = pricing.bsm(6000.0, strikes, years, 0.05, 0.015, vol, kind)
        for field in (g.price, g.delta, g.gamma, g.vega, g.theta):
            assert np.all(np.isfinite(field))
        lower, upper = pricing.price_bounds(6000.0 * np.exp((0.05 - 0.015) * years), strikes,
                                            np.exp(-0.05 * years), kind)
        assert np.all(g.price >= lower - 1e-9 * (1 + upper))
        assert np.all(g.price <= upper * (1 + 1e-12) + 1e-12)


def test_implied_vol_round_trip_and_matches_vollib():
    c = _random_cases(2000)
    forward = c["spot"]
    strike = forward * np.exp(rng.uniform(-0.3, 0.3, 2000))
    years = c["days"] / 365.0
    discount = np.exp(-c["rate"] * years)
    kind = np.where(c["is_call"], "call", "put")
    price = pricing._black_core(forward, strike, years, c["vol"], discount, c["is_call"]).price
    # Round trip where the price is not lost to rounding (vega meaningful).
    vega = pricing.black76(forward, strike, years, c["rate"], c["vol"], kind).vega
    ok = vega * 100 > 1e-8 * forward
    iv = pricing.implied_vol_black(price, forward, strike, years, discount, kind)
    assert np.max(np.abs(iv[ok] - c["vol"][ok])) < 1e-7
    # Peer library (py_vollib's "Let's be rational") on the undiscounted price.
    for i in np.flatnonzero(ok)[:400]:
        ref = vollib_black_iv.implied_volatility_of_undiscounted_option_price(
            price[i] / discount[i], forward[i], strike[i], years[i], "c" if c["is_call"][i] else "p")
        assert iv[i] == pytest.approx(ref, abs=1e-7)


def test_implied_vol_outside_bounds_gives_the_limits():
    lower, upper = pricing.price_bounds(100.0, 110.0, 1.0, "put")
    iv = pricing.implied_vol_black([lower - 1, lower, upper + 1, np.nan], 100.0, 110.0, 0.25, 1.0, "put")
    assert iv[0] == 0.0 and iv[1] == 0.0
    assert iv[2] == pricing.MAX_VOL
    assert np.all(np.isfinite(iv))


def test_vectorised_over_any_shape():
    strikes = np.linspace(5000, 7000, 12).reshape(3, 4)
    g = pricing.bsm(6000.0, strikes, np.array([[7], [30], [90]]) / 365, 0.04, 0.013, 0.18, "put")
    assert g.price.shape == (3, 4) and g.theta.shape == (3, 4)
    flat = pricing.bsm(6000.0, strikes.ravel(), np.repeat([7, 30, 90], 4) / 365, 0.04, 0.013, 0.18, "put")
    assert np.allclose(g.price.ravel(), flat.price)


def test_bad_kind_is_refused():
    with pytest.raises(ValueError):
        pricing.bsm(100, 100, 1, 0, 0, 0.2, "straddle")


def test_scalar_reference_matches_the_vectorised_pricer():
    c = _random_cases(600)
    strike = c["spot"] * c["moneyness"]
    years = np.concatenate([c["days"][:500] / 365.0, np.zeros(50), np.full(50, 1e-9)])
    vol = np.concatenate([c["vol"][:550], np.zeros(50)])
    vec = pricing.bsm(c["spot"], strike, years, c["rate"], c["div"], vol, c["is_call"])
    for i in range(600):
        one = pricing.bsm_one(c["spot"][i], strike[i], years[i], c["rate"][i], c["div"][i], vol[i], bool(c["is_call"][i]))
        for value, field in zip(one, (vec.price, vec.delta, vec.gamma, vec.vega, vec.theta), strict=True):
            assert value == pytest.approx(field[i], rel=1e-9, abs=1e-9 * c["spot"][i])


def test_implied_vol_wrappers_round_trip_both_models():
    price = pricing.bsm_price(6000.0, 5800.0, 30 / 365, 0.04, 0.013, 0.21, "put")
    assert float(pricing.implied_vol_bsm(price, 6000.0, 5800.0, 30 / 365, 0.04, 0.013, "put")) == pytest.approx(0.21, abs=1e-10)
    fut = pricing.black76_price(18.5, 25.0, 40 / 365, 0.04, 1.1, "call")
    assert float(pricing.implied_vol_black76(fut, 18.5, 25.0, 40 / 365, 0.04, "call")) == pytest.approx(1.1, abs=1e-10)


def test_scaled_black_grid_matches_quantlib():
    """The scenario-grid kernel (vol scaled by one factor per row) against
    QuantLib's BlackCalculator cell by cell, puts and calls together."""
    legs = 6
    forward = rng.uniform(500, 8000, legs)[:, None, None] * np.exp(rng.uniform(-0.2, 0.2, (1, 1, 9)))
    strike = forward[:, :, :1] * np.exp(rng.uniform(-0.3, 0.3, (legs, 1, 1)))
    stddev = rng.uniform(0.005, 0.4, (legs, 1, 9))
    scale = np.linspace(0.4, 5.0, 7)[None, :, None]
    is_call = (np.arange(legs) % 2 == 0).reshape(-1, 1, 1)
    discount = 0.993
    ours = pricing.black_price_scaled(forward, strike, stddev, scale, discount, is_call)
    assert ours.shape == (legs, 7, 9)
    for i, j, k in np.ndindex(ours.shape):
        payoff = ql.PlainVanillaPayoff(ql.Option.Call if is_call[i, 0, 0] else ql.Option.Put, float(strike[i, 0, 0]))
        calc = ql.BlackCalculator(payoff, float(forward[i, 0, k]), float(stddev[i, 0, k] * scale[0, j, 0]), discount)
        assert ours[i, j, k] == pytest.approx(calc.value(), rel=1e-10, abs=1e-10 * forward[i, 0, k])


def test_scaled_black_grid_falls_back_at_the_limits():
    forward = np.array([[100.0], [100.0]])
    strike = np.array([[90.0], [110.0]])
    stddev = np.array([[0.2], [0.2]])
    scale = np.array([[0.0, 1.0, np.inf]])
    got = pricing.black_price_scaled(forward, strike, stddev, scale, 1.0, np.array([[True], [False]]))
    assert got[:, 0] == pytest.approx([10.0, 10.0])  # zero vol: intrinsic
    assert np.isfinite(got).all()


def test_price_and_delta_on_a_strike_grid_match_the_full_pricer():
    strikes = np.arange(5000.0, 8000.0, 5.0)
    vol = 0.12 + 0.2 * (strikes / 7000.0 - 1.0) ** 2
    for kind in ("put", "call"):
        for years in (7 / 365, 0.5, 0.0):
            price, delta = pricing.bsm_price_delta(7000.0, strikes, years, 0.04, 0.013, vol, kind)
            full = pricing.bsm(7000.0, strikes, years, 0.04, 0.013, vol, kind)
            np.testing.assert_allclose(price, full.price, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(delta, full.delta, rtol=1e-12, atol=1e-12)


def test_black76_scalar_matches_the_vectorised_black76():
    c = _random_cases(300)
    forward = c["spot"] / 200.0 + 9.0
    strike = forward * c["moneyness"]
    years = c["days"] / 365.0
    vec = pricing.black76(forward, strike, years, c["rate"], c["vol"], c["is_call"])
    for i in range(300):
        one = pricing.black76_one(forward[i], strike[i], years[i], c["rate"][i], c["vol"][i], bool(c["is_call"][i]))
        for value, field in zip(one, (vec.price, vec.delta, vec.gamma, vec.vega, vec.theta), strict=True):
            assert value == pytest.approx(field[i], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("is_call", [True, False])
def test_the_strike_searches_delta_is_quantlibs_forward_delta(is_call):
    for forward, strike, stddev in ((5000.0, 4700.0, 0.06), (20.0, 26.0, 0.35), (100.0, 100.0, 0.2)):
        kind = ql.Option.Call if is_call else ql.Option.Put
        calc = ql.BlackCalculator(ql.PlainVanillaPayoff(kind, strike), forward, stddev, 1.0)
        got = float(pricing.forward_delta(np.log(strike / forward), stddev, is_call))
        assert got == pytest.approx(calc.deltaForward(), rel=1e-12, abs=1e-15)
