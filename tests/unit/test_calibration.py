"""The fitted smile against the real Cboe chains under ALVH_DATA_DIR."""

from __future__ import annotations

import numpy as np
import pytest

from alvh_core import fitted
from alvh_core.calibration import FitError, calibrate_skew, chain_points, model_errors
from alvh_core.chains import expiry_slices, read_cboe_chain
from alvh_core.history import load_history_folder

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def points(data_dir):
    history = load_history_folder(data_dir)
    return [chain_points(path, history) for path in sorted((data_dir / "chains").glob("*.csv"))]


def test_chain_reader_knows_the_days_and_spots(data_dir):
    c22 = read_cboe_chain(data_dir / "chains" / "spx_quotedata_2022-02-04.csv")
    c23 = read_cboe_chain(data_dir / "chains" / "spx_quotedata_2023-02-07.csv")
    assert str(c22.quote_date) == "2022-02-04"  # stamped Saturday evening: Friday's close
    assert str(c23.quote_date) == "2023-02-07"
    assert c22.spot == pytest.approx(4500.53, abs=0.01) and c23.spot == pytest.approx(4164.0)
    slices = expiry_slices(c23, 20, 40)
    rates = [-np.log(s.discount) / (s.days / 365) for s in slices]
    assert 0.03 < np.median(rates) < 0.06  # Feb 2023 T-bill yields were about 4.5 %


def test_fitted_smile_error_stays_within_the_documented_figures(points):
    errors = FitError.of(np.concatenate([model_errors(fitted.SPX_SKEW, p) for p in points]))
    assert errors.count > 4000
    assert errors.rmse <= fitted.SKEW_FIT_RMSE_MAX
    assert errors.p90_abs <= fitted.SKEW_FIT_P90_MAX
    assert abs(errors.bias) < 0.3


def test_recalibration_reproduces_the_constants(data_dir):
    result = calibrate_skew(data_dir)
    assert result.overall.rmse <= fitted.SKEW_FIT_RMSE_MAX
    assert result.atm.rmse <= fitted.ATM_FIT_RMSE_MAX
    assert result.params.slope == pytest.approx(fitted.SPX_SKEW.slope, abs=0.01)
    assert result.params.vix_scale == pytest.approx(fitted.SPX_SKEW.vix_scale, abs=0.01)
    assert result.median_half_spread == pytest.approx(fitted.SPX_MEDIAN_HALF_SPREAD, abs=0.05)


@pytest.fixture(scope="module")
def history(data_dir):
    return load_history_folder(data_dir)


def test_spot_vol_link_matches_the_constants_and_textbook_signs(history):
    from alvh_core.calibration import fit_spot_vol

    for fit in fit_spot_vol(history):
        beta_down, beta_up, gamma, p10, p90 = fitted.SPOT_VOL_LINK[fit.horizon]
        assert fit.beta_down == pytest.approx(beta_down, abs=0.01) and fit.beta_up == pytest.approx(beta_up, abs=0.01)
        assert fit.beta_down < fit.beta_up < 0  # VIX rises when SPX falls, more on the way down
        assert fit.residual_p10 == pytest.approx(p10, abs=1e-3) and fit.residual_p90 == pytest.approx(p90, abs=1e-3)
        assert fit.r_squared > 0.45


def test_futures_proxy_error_stays_within_the_documented_figures(data_dir, history):
    from alvh_core.calibration import fit_futures_proxy

    fit = fit_futures_proxy(data_dir, history)
    assert fit.level == pytest.approx(fitted.VIX_FUTURES_PROXY.level, abs=0.005)
    assert fit.convexity == pytest.approx(fitted.VIX_FUTURES_PROXY.convexity, abs=0.01)
    assert max(fit.vx1_median_abs, fit.vx2_median_abs) <= fitted.FUTURES_PROXY_MEDIAN_MAX
    assert max(fit.vx1_p90_abs, fit.vx2_p90_abs) <= fitted.FUTURES_PROXY_P90_MAX
    assert fit.tenor_beta_scale_days == pytest.approx(fitted.TENOR_BETA_SCALE_DAYS, abs=0.5)


def test_vx_file_quirks_are_handled(data_dir):
    from alvh_core.calibration import read_vx_continuous

    vx1 = read_vx_continuous(data_dir / "VX1_continuous.csv")
    assert vx1.index.is_monotonic_increasing
    assert vx1.loc["2007-03-23"] < 30 and vx1.loc["2008-11-20"] > 50  # old 10x scale put right
    assert vx1.loc["2020-09-24"] == pytest.approx(32.225)


def test_vix_expiry_calendar_known_dates():
    from datetime import date

    from alvh_core.vixfutures import expiries_after, vix_expiry

    assert vix_expiry(2020, 3) == date(2020, 3, 18) and vix_expiry(2018, 2) == date(2018, 2, 14)
    assert expiries_after(date(2020, 3, 18), 1) == [date(2020, 4, 15)]  # on expiry day the front is the next
