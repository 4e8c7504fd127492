"""The deflated Sharpe ratio, the probability of backtest overfitting and the walk-forward view, checked
against simulation (an independent route to the same quantities) and against grids built to a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from alvh_core.history import overfitting as of


def test_expected_max_sharpe_matches_the_simulated_maximum():
    """The expected best of N luck-only Sharpe ratios: the closed form against the mean maximum of simulated
    normal draws (the formula is an approximation, within a few percent for N of 10 to 1,000)."""
    rng = np.random.default_rng(3)
    for trials in (10, 100, 1000):
        simulated = rng.normal(0.0, 0.5, (4000, trials)).max(axis=1).mean()
        assert of.expected_max_sharpe(trials, 0.25) == pytest.approx(simulated, rel=0.04)
    assert of.expected_max_sharpe(1, 0.25, mean=0.1) == 0.1


def test_probabilistic_sharpe_ratio_has_its_nominal_coverage():
    """With normal returns of true per-period Sharpe 0.05 over 500 periods, the PSR against the truth is below
    5 % in about 5 % of samples, and the PSR against 0 is high on average."""
    rng = np.random.default_rng(11)
    true_sr, periods = 0.05, 500
    below, against_zero = 0, []
    for _ in range(2000):
        r = rng.normal(true_sr, 1.0, periods)
        sr = float(of.sharpe(r[:, None])[0])
        below += of.probabilistic_sharpe_ratio(sr, true_sr, periods) < 0.05
        against_zero.append(of.probabilistic_sharpe_ratio(sr, 0.0, periods))
    assert below / 2000 == pytest.approx(0.05, abs=0.015)
    assert np.mean(against_zero) > 0.7


def test_negative_skew_and_fat_tails_lower_the_psr():
    base = of.probabilistic_sharpe_ratio(0.1, 0.0, 250)
    assert of.probabilistic_sharpe_ratio(0.1, 0.0, 250, skewness=-3.0, kurt=10.0) < base


def test_deflated_sharpe_ratio_falls_as_the_grid_grows():
    rng = np.random.default_rng(5)
    r = rng.normal(0.08, 1.0, 1000)
    values = [of.deflated_sharpe_ratio(r, n, 0.002) for n in (1, 10, 100, 1000)]
    assert all(a > b for a, b in zip(values, values[1:], strict=False))
    assert values[0] > 0.95


def test_pbo_is_a_coin_toss_on_noise_and_near_zero_on_a_real_edge():
    rng = np.random.default_rng(7)
    noise = rng.normal(0.0, 1.0, (1600, 20))
    coin = of.probability_of_overfitting(noise, blocks=10)
    assert coin.splits == 252 and 0.25 <= coin.probability <= 0.75
    edge = noise.copy()
    edge[:, 3] += 0.25                       # one configuration truly better in every period
    real = of.probability_of_overfitting(edge, blocks=10)
    assert real.probability < 0.05 and real.probability < coin.probability


def test_walk_forward_reports_the_chosen_configuration_out_of_sample():
    """A grid where configuration 0 is best in sample by construction (a burst before the split, nothing
    after): the view names it as chosen, reports its out-of-sample Sharpe, ranks it below the best after the
    fact and counts the configurations; its deflated Sharpe ratio falls as more configurations of the same
    kind are tried."""
    rng = np.random.default_rng(13)
    periods, split = 4000, 2000
    base = rng.normal(0.0, 1.0, (periods, 2))
    base[:split, 0] += 0.1                   # best in sample, nothing after
    base[:, 1] += 0.05
    dsr = []
    for extra in (6, 30, 150):
        # More configurations of the same kind: their Sharpe ratios as spread as the first two's.
        drift = np.clip(rng.normal(0.0, 0.05, extra), -0.1, 0.08)
        grid = np.column_stack([base, rng.normal(0.0, 1.0, (periods, extra)) + drift])
        view = of.walk_forward(grid, split)
        assert view.chosen == 0 and view.trials == 2 + extra
        assert view.sharpe_out == pytest.approx(float(of.sharpe(grid[split:, :1])[0]))
        assert view.sharpe_out < view.sharpe_in and view.rank_out > 1
        assert view.best_after != 0 and view.best_sharpe_out > view.sharpe_out
        dsr.append(view.deflated_sharpe)
    assert dsr[0] > dsr[1] > dsr[2]


def test_bad_inputs_say_why():
    with pytest.raises(ValueError):
        of.probability_of_overfitting(np.zeros((100, 1)))
    with pytest.raises(ValueError):
        of.probability_of_overfitting(np.zeros((100, 3)), blocks=5)
    with pytest.raises(ValueError):
        of.walk_forward(np.zeros((10, 3)), 9)
    with pytest.raises(ValueError):
        of.expected_max_sharpe(0, 1.0)
