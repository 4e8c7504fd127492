"""Management rules on the Builder: trigger levels against the condor valued leg by leg, the hedge's
roll calendar, and a trader's structure in the backtester."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from alvh_core.history import backtest as bt
from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.model.pricing import bsm_one
from alvh_core.model.regime import classify_regime
from alvh_core.model.spotvol import vix_after_move
from alvh_core.strategy.hedge import HedgeSettings, roll_cost
from alvh_core.strategy.management import ExitRules, exit_day, roll_calendar, trigger_levels
from alvh_core.strategy.payoff import trading_days_between
from alvh_core.strategy.position import HedgeContext, Scenario, build_position
from alvh_core.strategy.sizing import RiskBudget
from alvh_core.strategy.tiers import find_tier, load_tiers


@pytest.fixture(scope="module")
def position():
    market = DEFAULT_MARKET
    context = HedgeContext(classify_regime(market.vix), 7.0, band_high_pct=8.0)
    scenario = Scenario(find_tier(load_tiers(), "Moderate"), RiskBudget(notional=1_000_000, risk_pct=1),
                        hedge=HedgeSettings(scheme="alvh"), underlying="SPX")
    return market, build_position(market, scenario, context, with_heat_map=False, with_view=False)


def _condor_pl(condor, market, s: float, d: float) -> float:
    """The condor's P/L per contract at SPX ``s`` after ``d`` days, one BSM leg at a time."""
    vol_model = market.vol_model()
    vix = float(vix_after_move(market.vix, np.log(s / market.spot), trading_days_between(max(d, 1.0))))
    left = condor.days - d
    forward = s * np.exp((market.rate - market.div) * left / 365.0)
    value = 0.0
    for leg in condor.legs:
        vol = float(vol_model.implied_vol(np.array([leg.strike]), forward, left)[0]) * vix / market.vix
        value += leg.signed_quantity * bsm_one(s, leg.strike, left / 365.0, market.rate, market.div, vol,
                                               leg.kind == "call")[0]
    return (value - condor.premium) * condor.dollars_per_point


def test_trigger_levels_are_where_the_condor_crosses_each_rule(position):
    market, pos = position
    condor = pos.condor
    credit = pos.plan.metrics.credit
    rules = ExitRules(profit_target=0.5, stop=2.0, tested=0.01)
    days = [0.0, condor.days * 0.5, condor.days * 0.8]
    rows = trigger_levels(condor, market, market.vol_model(), days, rules)
    assert [r.days for r in rows] == days
    step = np.log(2.0) / 800          # the search grid's spacing in log SPX
    for r in rows:
        for level, outward in ((r.stop_low, -1), (r.stop_high, 1)):
            assert level is not None
            assert _condor_pl(condor, market, level, r.days) <= -2.0 * credit + 1e-6
            inside = level * np.exp(-outward * step)
            assert _condor_pl(condor, market, inside, r.days) > -2.0 * credit
        if r.target_low is not None:
            assert _condor_pl(condor, market, r.target_low, r.days) >= 0.5 * credit - 1e-6
            assert _condor_pl(condor, market, r.target_low * np.exp(-step), r.days) < 0.5 * credit
            assert _condor_pl(condor, market, r.target_high * np.exp(step), r.days) < 0.5 * credit
        assert r.tested_put == pytest.approx(condor.short_put.strike * 1.01)
        assert r.tested_call == pytest.approx(condor.short_call.strike * 0.99)
        assert r.pl_tested_put == pytest.approx(_condor_pl(condor, market, r.tested_put, r.days), abs=1e-6)
    # Today the condor has made nothing: the target is out of reach; later it is reached around spot.
    assert rows[0].target_low is None
    assert rows[-1].target_low < market.spot < rows[-1].target_high
    # The stop moves towards the short strikes as time passes (less time value to lose).
    assert rows[0].stop_low < rows[-1].stop_low or rows[-1].stop_low <= condor.short_put.strike


def test_exit_day_is_a_trading_day_before_expiry(position):
    market, pos = position
    condor = pos.condor
    asof = date.fromisoformat(market.asof)
    day = exit_day(condor, asof, 7)
    assert day.weekday() < 5 and 7 <= (condor.expiry.day - day).days <= 10


def test_roll_calendar_follows_the_backtesters_schedule(position):
    market, pos = position
    asof = date.fromisoformat(market.asof)
    horizon = date(asof.year + 1, asof.month, 1)
    calendar = {c.name: c for c in roll_calendar(pos.hedge, market, asof, horizon)}
    assert set(calendar) == {layer.name for layer in pos.hedge.active_layers}
    base, adaptive, tail = calendar["Base"], calendar["Adaptive"], calendar["Tail"]
    # Weekly: the first session of each week (a Monday unless it is a holiday).
    assert len(base.dates) >= 50 and all(d.weekday() <= 1 for d in base.dates)
    assert len({d.isocalendar()[:2] for d in base.dates}) == len(base.dates)
    assert all(d.day <= 4 for d in adaptive.dates) and len(adaptive.dates) >= 11
    assert {(d.month - 1) // 3 for d in tail.dates} and len(tail.dates) >= 3
    for layer in pos.hedge.active_layers:
        c = calendar[layer.name]
        assert c.cost_per_roll == pytest.approx(roll_cost(layer, market))
        assert c.cost_to_horizon == pytest.approx(c.cost_per_roll * len(c.dates))


def test_rules_are_checked():
    with pytest.raises(ValueError):
        ExitRules(profit_target=1.5)
    with pytest.raises(ValueError):
        ExitRules(tested=0.5)
    assert not ExitRules().active and ExitRules(exit_days=7).active


def test_a_symmetric_structure_backtests_like_the_tier_and_an_asymmetric_one_moves_its_wings(real_market):
    m = real_market.window("2019-01-02", "2019-12-31")
    tier = find_tier(load_tiers(), "Moderate")
    base = bt.BacktestConfig(strategy="weekly", tier=tier)
    same = bt.BacktestConfig(strategy="weekly", tier=tier,
                             shape=(tier.short_delta, tier.short_delta, tier.wing_pct, tier.wing_pct))
    a, b = bt.condor_book(m, base), bt.condor_book(m, same)
    np.testing.assert_array_equal(a.strikes, b.strikes)
    np.testing.assert_allclose(bt.run_backtest(m, base, ("none",), smaller=False).equity["none"],
                               bt.run_backtest(m, same, ("none",), smaller=False).equity["none"])
    wide_put = bt.BacktestConfig(strategy="weekly", tier=tier, shape=(0.10, 0.20, 2.0, 0.3))
    c = bt.condor_book(m, wide_put)
    put_wing, call_wing = c.strikes[:, 1] - c.strikes[:, 0], c.strikes[:, 3] - c.strikes[:, 2]
    spot = m.spx[c.entry]
    assert np.all(put_wing > call_wing)
    assert np.median(put_wing / spot) == pytest.approx(0.02, abs=0.004)
    # A lower put delta sits further from spot than the higher call delta.
    assert np.median((spot - c.strikes[:, 1]) / spot) > np.median((c.strikes[:, 2] - spot) / spot)
    assert bt.parse_shape(bt.shape_text((0.1, 0.2, 2.0, 0.3), 21)) == ((0.1, 0.2, 2.0, 0.3), 21)
    with pytest.raises(ValueError):
        bt.parse_shape("0.1/0.2/2/0.3")
    with pytest.raises(ValueError):
        bt.BacktestConfig(shape=(0.9, 0.2, 2.0, 0.3))
