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
