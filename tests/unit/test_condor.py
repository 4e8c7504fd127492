"""Condors: POP against optionlab, the other measures against independent
integration and Monte Carlo, and the construction rules."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from alvh_core.model.distributions import lognormal
from alvh_core.model.market import DEFAULT_MARKET, MarketState
from alvh_core.strategy.condor import build_condor, candidate_measures, candidates, condor_from_strikes, condor_metrics
from alvh_core.strategy.tiers import find_tier, load_tiers

TIERS = load_tiers()


def _optionlab_pop(condor, vol: float) -> float:
    from optionlab import run_strategy

    legs = [{"type": leg.kind, "strike": leg.strike, "premium": max(leg.price, 1e-6), "n": 100,
             "action": "buy" if leg.side > 0 else "sell"} for leg in condor.legs]
    out = run_strategy({
        "stock_price": condor.spot, "volatility": vol, "interest_rate": condor.rate,
        "dividend_yield": condor.div, "min_stock": condor.spot * 0.5, "max_stock": condor.spot * 1.5,
        "strategy": legs, "days_to_target_date": round(condor.days), "discard_nonbusiness_days": False,
    })
    return out.probability_of_profit


def test_lognormal_pop_agrees_with_optionlab_on_random_condors():
    rng = np.random.default_rng(7)
    worst = 0.0
    for _ in range(24):
        spot = float(rng.uniform(2000, 8000))
        market = MarketState(spot=spot, vix=float(rng.uniform(10, 45)), rate=float(rng.uniform(0, 0.05)),
                             div=float(rng.uniform(0, 0.02)))
        tier = TIERS[int(rng.integers(0, len(TIERS)))]
        days = int(rng.integers(3, 60))
        condor = build_condor(market, tier, "delta" if rng.random() < 0.5 else "pop", days=days)
        # optionlab counts whole days; an A.M.-settled expiry is 6.5 hours short of one.
        ours = condor_metrics(condor, lognormal(condor.spot, round(condor.days), condor.rate, condor.div,
                                                condor.atm_vol)).pop
        theirs = _optionlab_pop(condor, condor.atm_vol)
        worst = max(worst, abs(ours - theirs))
    assert worst < 0.005, f"largest POP gap {worst:.4f}"


def _lognormal_pdf(market, days, vol):
    years = days / 365
    mu = np.log(market.spot) + (market.rate - market.div - 0.5 * vol**2) * years
    return stats.lognorm(s=vol * np.sqrt(years), scale=np.exp(mu))


def test_expected_pl_and_loss_match_numerical_integration():
    market = DEFAULT_MARKET
    condor = build_condor(market, find_tier(TIERS, "moderate"))
    m = condor_metrics(condor)
    dist = _lognormal_pdf(market, condor.days, condor.atm_vol)
    kinks = [leg.strike for leg in condor.legs]

    def integrand(s, f):
        return f(condor.pnl_at_expiry(s) * 100) * dist.pdf(s)

    lo, hi = dist.ppf(1e-12), dist.ppf(1 - 1e-12)
    epl = integrate.quad(integrand, lo, hi, args=(lambda x: x,), points=kinks, limit=200)[0]
    eloss = integrate.quad(integrand, lo, hi, args=(lambda x: np.maximum(-x, 0),), points=kinks, limit=200)[0]
    assert m.expected_pl == pytest.approx(epl, abs=0.5)
    assert m.expected_loss == pytest.approx(eloss, rel=2e-3)


def test_cvar_and_touch_match_monte_carlo():
    market = DEFAULT_MARKET.with_changes(vix=22.0)
    condor = build_condor(market, find_tier(TIERS, "aggressive"))
    m = condor_metrics(condor)
    rng = np.random.default_rng(11)
    years, vol = condor.days / 365, condor.atm_vol
    steps, paths = 400, 20000
    dt = years / steps
    increments = (market.rate - market.div - 0.5 * vol**2) * dt + vol * np.sqrt(dt) * rng.standard_normal((paths, steps))
    log_paths = np.cumsum(increments, axis=1)
    terminal = market.spot * np.exp(log_paths[:, -1])
    pnl = np.sort(condor.pnl_at_expiry(terminal) * 100)
    mc_cvar = -pnl[: int(0.05 * paths)].mean()
    assert m.cvar95 == pytest.approx(mc_cvar, rel=0.03)
    # Discrete monitoring misses some crossings: MC touch is a lower bound, close to the formula.
    touch_put = np.mean(market.spot * np.exp(log_paths.min(axis=1)) <= condor.short_put.strike)
    assert touch_put <= m.touch_short_put + 0.01
    assert m.touch_short_put - touch_put < 0.03


def test_touch_is_about_twice_the_finish_probability_without_drift():
    dist = lognormal(6000.0, 30, 0.0, 0.0, 0.2)
    barrier = 5600.0
    finish = dist.prob_between(0.0, barrier)
    assert dist.prob_touch(barrier) == pytest.approx(2 * finish, rel=0.05)


@pytest.mark.parametrize("tier_name", ["Conservative", "Moderate", "Aggressive"])
def test_pop_selection_lands_in_the_tier_range(tier_name):
    tier = find_tier(TIERS, tier_name)
    condor = build_condor(DEFAULT_MARKET, tier, "pop")
    pop = condor_metrics(condor).pop
    assert tier.pop_min - 0.01 <= pop <= tier.pop_max + 0.01
    from alvh_core.data.listings import on_grid, strike_step

    strikes = [leg.strike for leg in condor.legs]
    cycle, days, spot = condor.expiry.cycle, condor.days, DEFAULT_MARKET.spot
    vix = DEFAULT_MARKET.vix
    assert strikes == sorted(strikes) and all(on_grid(spot, k, days, cycle=cycle, vix=vix) for k in strikes)
    # Wings on the listed strike nearest the width the tier asks: within a step of it where the grid is coarser.
    wing = tier.wing_points(spot, 5)
    assert abs(condor.put_width - wing) <= strike_step(spot, condor.long_put.strike, days, cycle=cycle, vix=vix)
    assert abs(condor.call_width - wing) <= strike_step(spot, condor.long_call.strike, days, cycle=cycle, vix=vix)


def test_delta_selection_hits_the_short_delta():
    tier = find_tier(TIERS, "Moderate")
    condor = build_condor(DEFAULT_MARKET, tier, "delta")
    assert abs(abs(condor.short_put.delta) - tier.short_delta) < 0.01
    assert abs(condor.short_call.delta - tier.short_delta) < 0.015


def test_max_loss_and_breakevens_follow_from_the_legs():
    condor = condor_from_strikes(DEFAULT_MARKET, 14, 7200, 7250, 7700, 7750, fill_share=0.5)
    m = condor_metrics(condor)
    mid = -(condor.legs[0].price - condor.legs[1].price - condor.legs[2].price + condor.legs[3].price)
    # Filled halfway from mid to natural: half the sum of the legs' half spreads is given up.
    from alvh_core.model.fills import half_spread

    spreads = half_spread([leg.price for leg in condor.legs], [leg.delta for leg in condor.legs],
                          [leg.kind == "call" for leg in condor.legs], DEFAULT_MARKET.vix)
    credit = mid - 0.5 * spreads.sum()
    assert m.credit_mid == pytest.approx(mid * 100) and m.credit_natural == pytest.approx((mid - spreads.sum()) * 100)
    assert m.credit == pytest.approx(credit * 100)
    assert m.max_loss == pytest.approx((50 - credit) * 100)
    assert m.breakevens == pytest.approx((7250 - credit, 7700 + credit))
    grid = np.linspace(5000, 10000, 2001)
    pnl = condor.pnl_at_expiry(grid) * 100
    assert pnl.max() == pytest.approx(m.max_profit) and pnl.min() == pytest.approx(-m.max_loss)


def test_a_thousand_candidates_in_one_call():
    deltas = np.linspace(0.02, 0.40, 1000)
    cands = candidates(DEFAULT_MARKET, 21, 40.0, deltas)
    assert cands.credit.shape == (1000,)
    # Every strike is a listed one, wings at least the width asked.
    from alvh_core.data.listings import on_grid

    for k in np.concatenate([cands.long_put, cands.short_put, cands.short_call, cands.long_call]):
        assert on_grid(DEFAULT_MARKET.spot, k, 21, vix=DEFAULT_MARKET.vix)
    # The nearest listed wings to 40 points: within one far-grid step of it, never zero.
    put_w, call_w = cands.short_put - cands.long_put, cands.long_call - cands.short_call
    assert np.all(put_w > 0) and np.all(call_w > 0) and np.all(np.abs(put_w - 40) <= 50) and np.all(np.abs(call_w - 40) <= 50)
    # With the same wings, closer short strikes collect more credit and have lower POP.
    same = (cands.short_put - cands.long_put == 40) & (cands.long_call - cands.short_call == 40)
    assert same.sum() > 500
    assert np.all(np.diff(cands.credit[same]) >= -1e-9)
    assert np.all(np.diff(cands.pop[same]) <= 1e-9)
    dist = lognormal(DEFAULT_MARKET.spot, 21, DEFAULT_MARKET.rate, DEFAULT_MARKET.div, 0.15)
    measures = candidate_measures(cands, dist)
    one = condor_from_strikes(DEFAULT_MARKET, 21, cands.long_put[500], cands.short_put[500],
                              cands.short_call[500], cands.long_call[500], fill_share=0.0)  # candidates are at mid
    assert measures["expected_loss"][500] == pytest.approx(condor_metrics(one, dist).expected_loss, rel=1e-9)


def test_bad_strikes_are_refused():
    with pytest.raises(ValueError):
        condor_from_strikes(DEFAULT_MARKET, 7, 7300, 7250, 7700, 7750)
    with pytest.raises(ValueError):
        build_condor(DEFAULT_MARKET, TIERS[0], "vibes")


def test_scalar_lognormal_pop_matches_the_distribution():
    from alvh_core.model.distributions import lognormal_prob_between

    dist = lognormal(6000.0, 21, 0.04, 0.013, 0.17)
    for low, high in ((5500, 6400), (0, 6000), (6100, 9e9), (5000, 5001)):
        assert lognormal_prob_between(6000.0, 21, 0.04, 0.013, 0.17, low, high) == pytest.approx(
            float(dist.prob_between(low, high)), abs=1e-12)


def test_priced_legs_equal_dataclass_built_legs():
    from alvh_core.model.pricing import bsm_one
    from alvh_core.strategy.legs import OptionLeg, price_leg

    leg = price_leg("put", -1, 7000.0, 21.0, 7400.0, 0.04, 0.013, 0.2)
    price, delta, gamma, vega, theta = bsm_one(7400.0, 7000.0, 21 / 365, 0.04, 0.013, 0.2, False)
    built = OptionLeg(kind="put", side=-1, strike=7000.0, days=21.0, iv=0.2, price=price,
                      delta=delta, gamma=gamma, vega=vega, theta=theta)
    assert leg == built and hash(leg) == hash(built)
    with pytest.raises(AttributeError):
        leg.strike = 1.0  # still immutable


def test_the_wing_is_the_listed_strike_nearest_the_width_asked():
    from alvh_core.strategy.condor import nearest_wing

    # A put wing asked at 2347 between listed 2325 and 2350: 2350 (3 away, not 22); a tie goes wider.
    assert nearest_wing(2347.0, 2325.0, 2350.0, 2360.0, -1) == 2350.0
    assert nearest_wing(2337.5, 2325.0, 2350.0, 2360.0, -1) == 2325.0
    # The nearer strike on or inside the short strike is never the wing.
    assert nearest_wing(2357.0, 2350.0, 2360.0, 2360.0, -1) == 2350.0
    # Calls mirror it.
    assert nearest_wing(2486.0, 2475.0, 2500.0, 2470.0, 1) == 2475.0
    assert nearest_wing(2476.0, 2475.0, 2500.0, 2475.0, 1) == 2500.0
