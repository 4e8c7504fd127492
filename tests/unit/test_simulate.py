"""The simulated market beside the real history, and the Monte Carlo of a book."""

from __future__ import annotations

import numpy as np
import pytest

from alvh_core.calibration.fits import fit_simulator
from alvh_core.model import simulator as simulate
from alvh_core.model.fitted import SIMULATOR
from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.model.regime import classify_regime
from alvh_core.model.spotvol import log_vix_change
from alvh_core.strategy.hedge import HedgeSettings
from alvh_core.strategy.monte_carlo import book_monte_carlo
from alvh_core.strategy.position import HedgeContext, Scenario, build_position, gate_on_position
from alvh_core.strategy.sizing import RiskBudget
from alvh_core.strategy.tiers import find_tier, load_tiers


def test_paths_are_seeded_and_reproducible():
    a = simulate.simulate_paths(5000.0, 18.0, 50, 200, seed=4)
    b = simulate.simulate_paths(5000.0, 18.0, 50, 200, seed=4)
    c = simulate.simulate_paths(5000.0, 18.0, 50, 200, seed=5)
    np.testing.assert_array_equal(a.spx, b.spx)
    np.testing.assert_array_equal(a.vix, b.vix)
    assert not np.array_equal(a.spx, c.spx)
    assert np.all(np.isfinite(a.spx)) and np.all(a.vix >= 5.0) and np.all(a.vix <= 150.0)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        simulate.simulate_paths(5000.0, 18.0, 0, 10)
    with pytest.raises(ValueError):
        simulate.simulate_paths(-1.0, 18.0, 10, 10)
    with pytest.raises(ValueError):
        simulate.simulate_paths(5000.0, 18.0, 20_000, 1000)


@pytest.fixture(scope="module")
def history_and_simulation(real_history):
    frame = real_history.panel[["spx", "vix"]].dropna()
    spx, vix = frame["spx"].to_numpy(), frame["vix"].to_numpy()
    sim = simulate.simulate_paths(float(spx[0]), float(vix[0]), len(spx) - 1, 30, seed=7)
    return spx, vix, sim


@pytest.mark.data
def test_simulator_reproduces_the_history(history_and_simulation):
    spx, vix, sim = history_and_simulation
    table = simulate.compare_with_history(spx, vix, sim).set_index("statistic")
    real, model = table["history"], table["simulated"]
    assert model["VIX mean"] == pytest.approx(real["VIX mean"], abs=1.5)
    assert model["VIX median"] == pytest.approx(real["VIX median"], abs=1.5)
    assert model["VIX 5th pct"] == pytest.approx(real["VIX 5th pct"], abs=1.5)
    assert model["VIX 95th pct"] == pytest.approx(real["VIX 95th pct"], abs=3.0)
    assert model["VIX 99th pct"] == pytest.approx(real["VIX 99th pct"], abs=6.0)
    assert model["shock half-life (days)"] == pytest.approx(real["shock half-life (days)"], rel=0.3)
    assert model["SPX volatility (annual)"] == pytest.approx(real["SPX volatility (annual)"], abs=0.025)
    assert model["SPX 1st pct day"] == pytest.approx(real["SPX 1st pct day"], rel=0.2)
    assert model["SPX 0.1th pct day"] == pytest.approx(real["SPX 0.1th pct day"], rel=0.25)
    assert model["SPX skew"] < 0
    assert model["spot-vol slope (ln VIX per implied move)"] == pytest.approx(
        real["spot-vol slope (ln VIX per implied move)"], rel=0.15)
    assert model["VIX ratio on days SPX falls > 2 implied moves"] == pytest.approx(
        real["VIX ratio on days SPX falls > 2 implied moves"], abs=0.1)


@pytest.mark.data
def test_simulated_days_fall_in_the_spot_vol_band_as_often_as_real_days(history_and_simulation):
    spx, vix, sim = history_and_simulation

    def coverage(s, v):
        r = np.diff(np.log(s))
        change = np.diff(np.log(v))
        inside = [band[0] <= c <= band[2] for v0, ret, c in zip(v[:-1], r, change, strict=True)
                  for band in [log_vix_change(float(v0), ret, 1.0)]]
        return float(np.mean(inside))

    real = coverage(spx[-3000:], vix[-3000:])
    model = coverage(sim.spx[0, -3000:], sim.vix[0, -3000:])
    assert 0.72 < real < 0.88
    assert model == pytest.approx(real, abs=0.05)


@pytest.mark.data
def test_simulator_constants_are_the_fit_of_the_history(real_history):
    fit = fit_simulator(real_history)
    np.testing.assert_allclose(fit.shock, SIMULATOR.shock, atol=2e-3)
    assert fit.level_power == pytest.approx(SIMULATOR.level_power, abs=2e-3)
    for name, (a, b) in SIMULATOR.term.items():
        assert fit.term[name] == pytest.approx((a, b), abs=2e-3)


def test_simulated_panel_has_the_columns_of_a_real_one():
    panel = simulate.simulated_panel(years=2, seed=3)
    assert list(panel.columns) == ["spx", "vix", "vix9d", "vix3m", "vix6m", "vvix", "irx"]
    assert panel.index.is_monotonic_increasing and panel.index.dayofweek.max() <= 4
    assert panel.notna().all().all() and len(panel) == 505
    # VIX3M sits above VIX in calm and below it in stress, as in the data.
    calm, stressed = panel[panel.vix < 14], panel[panel.vix > 35]
    assert (calm.vix3m > calm.vix).all()
    if len(stressed):
        assert (stressed.vix3m < stressed.vix).all()


@pytest.fixture(scope="module")
def book():
    tier = find_tier(load_tiers(), "Moderate")
    market = DEFAULT_MARKET
    context = HedgeContext(classify_regime(market.vix), 12.0, band_high_pct=18.0)
    out = {}
    for scheme in ("alvh", "none"):
        position = build_position(market, Scenario(tier, RiskBudget(notional=500_000, risk_pct=2),
                                                   hedge=HedgeSettings(scheme=scheme)), context,
                                  with_heat_map=False, with_view=False)
        out[scheme] = position
    return market, out


def test_monte_carlo_of_the_book_respects_its_bounds(book):
    market, positions = book
    for scheme, position in positions.items():
        # 9 trading days: before the first hedge leg expires (none is rolled, no new premium is paid).
        mc = book_monte_carlo(position.condor, position.contracts, position.hedge, market, market.vol_model(),
                              trading_days=9, paths=2000, seed=9)
        n = position.contracts
        metrics = position.plan.metrics
        assert np.all(mc.condor >= -metrics.max_loss * n - 1e-6)
        assert np.all(mc.condor <= metrics.credit * n + 1e-6)
        assert np.all(mc.hedge >= -position.hedge.total_cost - 1e-6)
        assert np.all(np.isfinite(mc.combined)) and np.all(mc.worst_combined <= np.minimum(mc.combined, 0) + 1e-9)
        if scheme == "none":
            assert np.all(mc.hedge == 0)


def test_monte_carlo_condor_settles_on_each_paths_spx_at_its_expiry(book):
    market, positions = book
    position = positions["none"]
    sim = simulate.simulate_paths(market.spot, market.vix, 40, 500, seed=2)
    mc = book_monte_carlo(position.condor, position.contracts, position.hedge, market, market.vol_model(),
                          trading_days=40, paths=500, sim=sim)
    condor = position.condor
    expiry_td = int(round(condor.days * 252 / 365))
    s = sim.spx[:, expiry_td]
    k = [leg.strike for leg in condor.legs]
    payoff = (-np.maximum(k[1] - s, 0) + np.maximum(k[0] - s, 0) - np.maximum(s - k[2], 0) + np.maximum(s - k[3], 0))
    expected = (payoff + condor.credit) * condor.dollars_per_point * position.contracts
    np.testing.assert_allclose(mc.condor, expected, atol=1e-6)
    table = mc.table().set_index("book")
    assert table.loc["Condor", "chance_of_loss"] == pytest.approx(np.mean(expected < 0))


def test_trading_smaller_on_the_same_paths_is_the_condor_scaled(book):
    market, positions = book
    position = positions["alvh"]
    mc = book_monte_carlo(position.condor, position.contracts, position.hedge, market, market.vol_model(),
                          trading_days=20, paths=1000, seed=4)
    small = mc.condor_only(0.6)
    np.testing.assert_allclose(small.combined, 0.6 * mc.condor)
    assert np.all(small.hedge == 0) and np.array_equal(small.worst_combined, small.worst_condor)
    row = small.table().set_index("book").loc["Combined"]
    worst_5pct = np.sort(0.6 * mc.condor)[:50]
    assert row["cvar95"] == pytest.approx(-worst_5pct.mean()) and row["p5"] == pytest.approx(np.percentile(0.6 * mc.condor, 5))


def test_the_gate_on_a_position_judges_its_expected_pl_after_the_hedge_carry(book):
    market, positions = book
    for scheme, position in positions.items():
        on = gate_on_position(position, 1.8, "Moderate", 50.0, False)
        assert on.condor_pl == pytest.approx(position.contracts * position.plan.metrics.expected_pl)
        assert on.hedge_drag == pytest.approx(position.metrics.cost_per_year
                                              * position.condor.days / 365.0)
        assert (on.hedge_drag == 0) == (scheme == "none")
        assert on.gate.checks[3].passed == (on.after_hedge > 0)
        assert on.gate.allowed_pct == (1.8 if on.after_hedge > 0 else 1.0)
