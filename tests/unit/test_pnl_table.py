"""P/L over time: every cell of the table is the book valued at that date and SPX level."""

from __future__ import annotations

import numpy as np
import pytest

from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.model.regime import classify_regime
from alvh_core.model.spotvol import vix_after_move
from alvh_core.strategy.hedge import HedgeSettings, layer_value_one
from alvh_core.strategy.payoff import condor_value_grid, pnl_dates, pnl_levels, pnl_table, trading_days_between
from alvh_core.strategy.position import HedgeContext, Scenario, build_position
from alvh_core.strategy.sizing import RiskBudget
from alvh_core.strategy.tiers import find_tier, load_tiers


@pytest.fixture(scope="module")
def position():
    market = DEFAULT_MARKET
    context = HedgeContext(classify_regime(market.vix), 12.0, band_high_pct=18.0)
    scenario = Scenario(find_tier(load_tiers(), "Moderate"), RiskBudget(notional=500_000, risk_pct=2),
                        hedge=HedgeSettings(scheme="alvh"))
    return market, build_position(market, scenario, context, with_heat_map=False, with_view=False)


def test_dates_run_from_today_to_expiry_and_levels_span_the_wings(position):
    market, pos = position
    condor = pos.condor
    days = pnl_dates(condor)
    assert days[0] == 0 and days[-1] == condor.days and 6 <= days.size <= 8 and np.all(np.diff(days) > 0)
    from datetime import date, timedelta

    trading = pnl_dates(condor, asof=date(2026, 7, 8))
    assert trading[-1] == condor.days and all((date(2026, 7, 8) + timedelta(days=int(d))).weekday() < 5
                                               for d in trading[:-1])
    levels = pnl_levels(condor, market)
    assert 12 <= levels.size <= 17 and np.all(np.diff(levels) < 0)
    assert levels[-1] <= condor.long_put.strike and levels[0] >= condor.long_call.strike


def test_each_cell_is_the_book_valued_one_leg_at_a_time(position):
    market, pos = position
    condor, n, plan = pos.condor, pos.contracts, pos.hedge
    vol_model = market.vol_model()
    table = pnl_table(condor, n, plan, market, vol_model)
    frame = table.frame(market.asof)
    assert frame.shape == (table.spx.size, table.days.size + 1)
    rng = np.random.default_rng(0)
    for i, j in zip(rng.integers(0, table.spx.size, 12), rng.integers(0, table.days.size, 12), strict=True):
        s, d = float(table.spx[i]), float(table.days[j])
        vix = float(vix_after_move(market.vix, np.log(s / market.spot), trading_days_between(max(d, 1.0))))
        if d >= condor.days:   # the condor's payoff, leg by leg
            payoff = sum(leg.signed_quantity * max((s - leg.strike) if leg.kind == "call" else (leg.strike - s), 0.0)
                         for leg in condor.legs)
            condor_pl = (payoff + condor.credit) * condor.dollars_per_point * n
        else:
            condor_pl = float(condor_value_grid(condor, market, vol_model, s, vix, d)) * n
        hedge_pl = sum(layer_value_one(layer, market, vix, s, d) for layer in plan.active_layers) - plan.total_cost
        assert table.combined[i, j] == pytest.approx(condor_pl + hedge_pl, abs=1e-6)
        assert frame.iloc[i, j + 1] == table.combined[i, j]
    # The CSV the page offers is the table.
    import io

    import pandas as pd

    back = pd.read_csv(io.StringIO(frame.to_csv(index=False)))
    np.testing.assert_allclose(back.iloc[:, 1:].to_numpy(), table.combined, rtol=1e-12)
    assert list(back.columns) == list(frame.columns)


def _book_one(condor, n, plan, market, vol_model, s: float, vix: float, d: float) -> float:
    """The book at one point, leg by leg: BSM on each condor leg at the smile's vol (sticky moneyness)
    scaled by VIX/VIX0, each hedge layer through layer_value_one."""
    from alvh_core.model.pricing import bsm_one

    left = condor.days - d
    if left <= 0:
        value = sum(leg.signed_quantity * max((s - leg.strike) if leg.kind == "call" else (leg.strike - s), 0.0)
                    for leg in condor.legs)
    else:
        forward = s * np.exp((market.rate - market.div) * left / 365.0)
        value = 0.0
        for leg, shift in zip(condor.legs, condor.leg_iv_shift(), strict=True):
            vol = (float(vol_model.implied_vol(np.array([leg.strike]), forward, left)[0]) + shift) * vix / market.vix
            value += leg.signed_quantity * bsm_one(s, leg.strike, left / 365.0, market.rate, market.div, vol,
                                                   leg.kind == "call")[0]
    condor_pl = (value - condor.premium) * condor.dollars_per_point * n
    return condor_pl + sum(layer_value_one(layer, market, vix, s, d) for layer in plan.active_layers) - plan.total_cost


def test_book_greeks_are_differences_of_the_book_valued_leg_by_leg(position):
    from alvh_core.strategy.payoff import BOOK_GREEK_ROWS, GREEK_BUMP, book_greeks

    market, pos = position
    condor, n, plan = pos.condor, pos.contracts, pos.hedge
    vol_model = market.vol_model()
    days = pnl_dates(condor)
    greeks = book_greeks(condor, n, plan, market, vol_model, days)
    assert greeks.shape == (len(BOOK_GREEK_ROWS), days.size)
    s0, h = market.spot, GREEK_BUMP
    for j, d in enumerate(days):
        td = trading_days_between(max(d, 1.0))
        up, down = s0 * (1 + h), s0 * (1 - h)
        v_up = float(vix_after_move(market.vix, np.log(1 + h), td))
        v_down = float(vix_after_move(market.vix, np.log(1 - h), td))
        mid = float(vix_after_move(market.vix, 0.0, td))
        book = lambda s, v, t=d: _book_one(condor, n, plan, market, vol_model, s, v, t)  # noqa: E731
        assert greeks[0, j] == pytest.approx((book(up, v_up) - book(down, v_down)) / (2 * h * s0), abs=1e-6)
        assert greeks[1, j] == pytest.approx((book(up, mid) - book(down, mid)) / (2 * h * s0), abs=1e-6)
        assert greeks[3, j] == pytest.approx((book(up, v_up) - 2 * book(s0, mid) + book(down, v_down)) / (h * s0) ** 2,
                                             abs=1e-6)
        assert greeks[4, j] == pytest.approx(book(s0, mid + 0.5) - book(s0, mid - 0.5), abs=1e-6)
        if d + 1 <= condor.days:
            assert greeks[5, j] == pytest.approx(book(s0, mid, d + 1) - book(s0, mid), abs=1e-6)
        else:
            assert np.isnan(greeks[5, j])
    # A long VIX hedge gains as SPX falls: through the link it adds negative delta.
    assert greeks[2, 0] < 0
