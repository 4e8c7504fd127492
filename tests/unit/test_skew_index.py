"""The SPX smile's skew tied to Cboe's SKEW: the formula, the mapping and the check on the chains."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from alvh_core.model import skew_index as si
from alvh_core.model.fitted import SPX_SKEW


def test_a_flat_smile_has_no_skew():
    """Lognormal prices (one vol at every strike) have a normal log return: skewness 0, SKEW 100."""
    flat = replace(SPX_SKEW, slope=0.0, curvature=0.0, call_curvature=0.0)
    for atm in (0.10, 0.25, 0.50):
        assert si.model_skew_index(atm, flat) == pytest.approx(100.0, abs=0.05)


def test_skew_index_matches_the_moments_of_a_known_density():
    """Against an independent route: the risk-neutral density by Breeden-Litzenberger (second difference of
    the call prices) and its third standardised moment, for the fitted smile at 30 days."""
    from alvh_core.model.pricing import black_price_scaled

    atm, days = 0.18, 30.0
    sd = atm * np.sqrt(days / 365.0)
    k = np.linspace(-1.2, 0.8, 40001)
    z = k / sd
    calls = black_price_scaled(1.0, np.exp(k), sd * SPX_SKEW.ratio(z, days), 1.0, 1.0, np.ones_like(k, bool))
    strikes = np.exp(k)
    density = np.gradient(np.gradient(calls, strikes), strikes)
    weights = density * np.gradient(strikes)
    weights /= weights.sum()
    mean = np.sum(weights * k)
    var = np.sum(weights * (k - mean) ** 2)
    skew = np.sum(weights * (k - mean) ** 3) / var**1.5
    assert si.model_skew_index(atm, SPX_SKEW) == pytest.approx(100.0 - 10.0 * skew, abs=0.6)


def test_the_scale_is_one_at_the_chain_days_and_rises_with_skew():
    assert float(si.slope_scale(si.SKEW_REFERENCE)) == pytest.approx(1.0, abs=1e-6)
    readings = np.array([-20.0, -8.0, -2.0, 0.0, 4.0, 12.0, 40.0, np.nan])
    scale = si.slope_scale(readings)
    assert np.all(np.diff(scale[:-1]) >= 0) and scale[-1] == 1.0
    assert si.SCALE_BOUNDS[0] <= scale.min() and scale.max() <= si.SCALE_BOUNDS[1]
    # A scaled smile's own SKEW moves by the reading's change (inside the bounds).
    s = float(si.slope_scale(si.SKEW_REFERENCE + 3.0))
    moved = si.model_skew_index(0.2, SPX_SKEW, s) - si.model_skew_index(0.2, SPX_SKEW, 1.0)
    assert moved == pytest.approx(3.0, abs=0.15)


def test_reading_is_the_recent_mean_less_the_eras_median():
    values = np.r_[np.full(300, 120.0), np.full(10, 130.0)]
    reading = si.skew_reading(values)
    assert np.all(np.isnan(reading[: si.ERA_MIN_SESSIONS - 1]))
    assert reading[299] == pytest.approx(0.0)
    assert reading[-1] == pytest.approx(10.0)            # the last 5 all 130, the era's median still 120
    gappy = values.copy()
    gappy[-2] = np.nan                                   # a missing day: the mean of the readings there are
    assert si.skew_reading(gappy)[-1] == pytest.approx(10.0)


@pytest.mark.data
def test_the_tie_improves_the_held_out_chain_day(data_dir):
    """Fitted on one chain day alone, the other day is priced better with the skew tied to SKEW."""
    from alvh_core.calibration.fits import calibrate_skew

    result = calibrate_skew(data_dir)
    assert len(result.held_out) == 2
    for day in result.held_out:
        assert day.rmse_skew_tied < 0.75 * day.rmse_fixed_shape, day
    assert result.skew_readings == pytest.approx(si.SKEW_ON_CHAIN_DAYS, abs=1e-3)
