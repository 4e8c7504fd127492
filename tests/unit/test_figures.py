"""Figure builders: labeled axes with units, finite data, the house colors."""

from __future__ import annotations

import numpy as np

from alvh_core.condor import build_condor, condor_metrics
from alvh_core.figures import CONDOR_COLOR, condor_payoff_figure, payoff_grid, scale_figure
from alvh_core.market import DEFAULT_MARKET
from alvh_core.sizing import scale_table
from alvh_core.tiers import find_tier, load_tiers


def _condor():
    condor = build_condor(DEFAULT_MARKET, find_tier(load_tiers(), "Moderate"))
    return condor, condor_metrics(condor)


def test_payoff_figure_is_labeled_and_finite():
    condor, metrics = _condor()
    grid = payoff_grid(condor, metrics)
    assert grid.size == 401 and grid[0] < condor.long_put.strike and grid[-1] > condor.long_call.strike
    fig = condor_payoff_figure(condor, metrics, 3, np.zeros_like(grid), "now", grid)
    assert "index points" in fig.layout.xaxis.title.text and "dollars" in fig.layout.yaxis.title.text
    expiry = next(t for t in fig.data if t.name == "Condor at expiry")
    assert expiry.line.color == CONDOR_COLOR
    y = np.asarray(expiry.y, float)
    assert np.all(np.isfinite(y))
    assert abs(y.max() - 3 * metrics.max_profit) < 1e-6 and abs(y.min() + 3 * metrics.max_loss) < 1e-6
    labels = " ".join(a.text for a in fig.layout.annotations)
    assert "BE" in labels and f"{condor.short_put.strike:,.0f}" in labels
    assert "budget allows none" in condor_payoff_figure(condor, metrics, 0).layout.title.text


def test_scale_figure_has_both_series():
    _, metrics = _condor()
    fig = scale_figure(scale_table(metrics, 18.0))
    assert len(fig.data) == 2 and fig.layout.xaxis.title.text == "Contracts"
    assert all(np.all(np.isfinite(np.asarray(t.y, float))) for t in fig.data)
