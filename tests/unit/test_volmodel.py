"""Vol model: the term structure by hand, the replication integral against
Cboe's discrete VIX formula, and graceful degradation."""

from __future__ import annotations

import numpy as np
import pytest

from alvh_core.model.params import SkewParams
from alvh_core.model.pricing import _black_core
from alvh_core.model.volmodel import VixTermStructure, VolModel, variance_swap_ratio

FLAT = SkewParams(slope=0.0, slope_tenor_power=0.0, curvature=0.0, call_curvature=0.0, vix_scale=1.0)


def test_total_variance_interpolation_by_hand():
    term = VixTermStructure(vix=20.0, vix9d=15.0, vix3m=25.0)
    # 60 days sits between VIX (30 d) and VIX3M (93 d): linear in vol²·T.
    w30, w93 = 0.20**2 * 30, 0.25**2 * 93
    w60 = w30 + (w93 - w30) * (60 - 30) / (93 - 30)
    assert term.variance_swap_vol(60)[()] == pytest.approx(np.sqrt(w60 / 60), rel=1e-12)
    # Outside the nodes the vol is flat.
    assert term.variance_swap_vol(3)[()] == pytest.approx(0.15)
    assert term.variance_swap_vol(400)[()] == pytest.approx(0.25)


def test_missing_indexes_degrade_to_what_is_given():
    only_vix = VixTermStructure(vix=18.0)
    assert np.allclose(only_vix.variance_swap_vol([1, 30, 365]), 0.18)
    with pytest.raises(ValueError):
        VixTermStructure(vix=float("nan")).nodes()


def test_inverted_curve_never_gives_negative_forward_variance():
    term = VixTermStructure(vix=82.69, vix9d=106.66, vix3m=67.70, vix6m=55.40)  # 2020-03-16
    days = np.arange(1, 400)
    total = term.variance_swap_vol(days) ** 2 * days
    assert np.all(np.diff(total) >= -1e-12)


def test_flat_smile_variance_swap_equals_the_vol():
    # Textbook: with no skew the fair variance-swap vol is the Black vol.
    for sd in (0.02, 0.1, 0.3):
        assert variance_swap_ratio(sd, 30, FLAT)[()] == pytest.approx(1.0, abs=2e-4)
    model = VolModel(VixTermStructure(vix=20.0), FLAT)
    assert model.atm_vol(30)[()] == pytest.approx(0.20, abs=1e-4)


def _cboe_discrete_vix(model: VolModel, forward: float, days: float) -> float:
    """Cboe's VIX white-paper formula on model prices, 0.5-point strikes."""
    years = days / 365.0
    strikes = np.arange(0.5, 4 * forward, 0.5)
    ivs = model.implied_vol(strikes, forward, days)
    k0 = strikes[strikes <= forward].max()
    otm = np.where(strikes < k0, _black_core(forward, strikes, years, ivs, 1.0, False).price,
                   np.where(strikes > k0, _black_core(forward, strikes, years, ivs, 1.0, True).price, 0.0))
    at_k0 = 0.5 * (_black_core(forward, k0, years, ivs[strikes == k0], 1.0, False).price
                   + _black_core(forward, k0, years, ivs[strikes == k0], 1.0, True).price)
    otm = np.where(strikes == k0, at_k0, otm)
    var = 2 / years * np.sum(0.5 / strikes**2 * otm) - (forward / k0 - 1) ** 2 / years
    return float(np.sqrt(var))


@pytest.mark.parametrize("vix", [12.0, 20.0, 45.0])
def test_model_reprices_the_vix_through_cboes_formula(vix):
    from alvh_core.model.fitted import SPX_SKEW

    model = VolModel(VixTermStructure(vix=vix), SPX_SKEW)
    discrete = _cboe_discrete_vix(model, 100.0, 30.0)
    assert discrete == pytest.approx(SPX_SKEW.vix_scale * vix / 100, rel=2e-3)


def test_skew_shape_puts_over_calls_and_finite_everywhere():
    from alvh_core.model.fitted import SPX_SKEW

    model = VolModel(VixTermStructure(vix=16.0, vix9d=14.0, vix3m=18.0, vix6m=20.0), SPX_SKEW)
    strikes = np.array([1.0, 3000, 5400, 5700, 6000, 6300, 6600, 1e7])
    for days in (0.01, 1, 7, 30, 90, 365, 3650):
        iv = model.implied_vol(strikes, 6000.0, days)
        assert np.all(np.isfinite(iv)) and np.all(iv > 0)
    iv30 = model.implied_vol(np.array([5700.0, 6000.0, 6300.0]), 6000.0, 30)
    assert iv30[0] > iv30[1] > iv30[2]
