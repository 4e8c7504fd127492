"""The vol model over many days equals the one-market model it stands for."""

from __future__ import annotations

import numpy as np
import pytest

from alvh_core.model import over_days
from alvh_core.model.market import MarketState
from alvh_core.model.vixfutures import futures_proxy, vix_option_vol


def _random_curves(rng, n):
    levels = rng.uniform(9.0, 85.0, size=(n, 4))
    missing = rng.random((n, 4)) < 0.3
    missing[:, 1] = False   # VIX is always there
    return np.where(missing, np.nan, levels)


def _market(row, vvix=None):
    get = lambda x: None if np.isnan(x) else float(x)  # noqa: E731
    return MarketState(spot=4000.0, vix=float(row[1]), vix9d=get(row[0]), vix3m=get(row[2]), vix6m=get(row[3]),
                       vvix=vvix)


def test_variance_swap_vol_matches_the_one_day_term_structure_for_any_missing_index():
    rng = np.random.default_rng(11)
    days = np.array([0.3, 4.0, 9.0, 20.0, 30.0, 61.0, 93.0, 140.0, 183.0, 400.0])
    for row in _random_curves(rng, 300):
        nodes = over_days.node_variances(*row)
        expected = _market(row).term.variance_swap_vol(days)
        got = over_days.varswap_vol(np.broadcast_to(nodes, (days.size, 4)), days)
        np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_atm_level_is_the_replication_solve_within_one_in_a_hundred_thousand():
    rng = np.random.default_rng(5)
    for row in _random_curves(rng, 80):
        nodes = over_days.node_variances(*row)
        model = _market(row).vol_model()
        for days in (0.5, 3.0, 21.0, 45.0, 75.0, 180.0):
            assert over_days.atm_vol(nodes, days) == pytest.approx(float(model.atm_vol(days)), rel=1e-5)


def test_smile_matches_the_vol_model_at_any_strike():
    row = np.array([14.0, 17.0, 19.5, 21.0])
    model = _market(row).vol_model()
    nodes = over_days.node_variances(*row)
    strikes = np.linspace(2500.0, 5200.0, 28)
    for days in (7.0, 35.0):
        atm = over_days.atm_vol(nodes, days)
        np.testing.assert_allclose(over_days.smile_vol(atm, strikes, 4010.0, days),
                                   model.implied_vol(strikes, 4010.0, days), rtol=5e-5)


def test_futures_proxy_over_days_equals_the_one_day_function():
    rng = np.random.default_rng(2)
    for row in _random_curves(rng, 100):
        vvix = float(rng.uniform(70, 160)) if rng.random() < 0.7 else None
        market = _market(row, vvix)
        days = np.array([0.0, 5.0, 16.0, 44.0, 100.0])
        got = over_days.futures_proxy(np.broadcast_to(over_days.node_variances(*row), (5, 4)), row[1], row[2],
                                    np.nan if vvix is None else vvix, days)
        np.testing.assert_allclose(got, futures_proxy(market.term, days, market.vvix), rtol=1e-12)
        # One VVIX per element gives what each day's own VVIX gives (a missing one: the median).
        strikes = np.array([12.0, 20.0, 35.0])
        per_day = vix_option_vol(strikes, got[2], 16.0, np.full(3, np.nan if vvix is None else vvix))
        assert np.array_equal(per_day, vix_option_vol(strikes, got[2], 16.0, market.vvix))
