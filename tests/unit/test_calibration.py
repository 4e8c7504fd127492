"""The fitted smile against the real Cboe chains under ALVH_DATA_DIR."""

from __future__ import annotations

import numpy as np
import pytest

from alvh_core.calibration.fits import FitError, calibrate_skew, chain_points, model_errors
from alvh_core.data.chains import read_cboe_chain_file
from alvh_core.data.closes import load_history_folder
from alvh_core.model import fitted
from alvh_core.model.chain_smile import expiry_slices

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def points(data_dir):
    history = load_history_folder(data_dir)
    return [chain_points(path, history) for path in sorted((data_dir / "chains").glob("*.csv"))]


def test_chain_reader_knows_the_days_and_spots(data_dir):
    c22 = read_cboe_chain_file(data_dir / "chains" / "spx_quotedata_2022-02-04.csv")
    c23 = read_cboe_chain_file(data_dir / "chains" / "spx_quotedata_2023-02-07.csv")
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
    from alvh_core.calibration.fits import fit_spot_vol

    for fit in fit_spot_vol(history):
        table = fitted.SPOT_VOL_LINK[fit.horizon]
        for band, coefficients in fit.coefficients.items():
            assert coefficients == pytest.approx(list(table[band]), abs=2e-3), (fit.horizon, band)
        assert fit.z_min == pytest.approx(fitted.SPOT_VOL_Z_MIN[fit.horizon], abs=0.01)
        _, down, up, _, level = table["median"]
        assert down < 0 and up < 0 and level < 0  # VIX rises when SPX falls and mean-reverts from high levels
        assert fit.pseudo_r2_median > 0.3


def _falls(history, horizon, fall):
    """Every window of ``horizon`` trading days since 1990 in which SPX fell by ``fall`` or more,
    straight from the closes: (start VIX, SPX log return, end VIX, start date)."""
    frame = history.panel[["spx", "vix"]].dropna().loc["1990-01-02":]
    spx, vix = frame["spx"].to_numpy(), frame["vix"].to_numpy()
    r = np.log(spx[horizon:] / spx[:-horizon])
    pick = np.flatnonzero(r <= np.log(1 - fall))
    return vix[pick], r[pick], vix[pick + horizon], frame.index[pick]


@pytest.mark.parametrize("horizon,fall", [(1, 0.03), (5, 0.07)])
def test_band_holds_real_crashes_from_calm_and_stressed_starts(history, horizon, fall):
    """About 80 % of real falls end inside the p10-p90 band, from calm and stressed starts alike
    (the old link, blind to the starting level, missed every calm-start crash above its p90)."""
    from alvh_core.model.spotvol import vix_band

    vix0, r, actual, _ = _falls(history, horizon, fall)
    bands = np.array([vix_band(v, x, horizon) for v, x in zip(vix0, r, strict=True)])
    inside = (actual >= bands[:, 0] - 1e-9) & (actual <= bands[:, 2] + 1e-9)
    assert len(actual) > 70
    assert 0.72 <= inside.mean() <= 0.88
    calm, stressed = vix0 < 20, vix0 >= 30
    assert calm.sum() >= 8 and stressed.sum() >= 40
    assert inside[calm].mean() >= 0.75 and inside[stressed].mean() >= 0.75
    above = actual > bands[:, 2]
    assert above[calm].mean() <= 0.25  # calm-start crashes no longer all land above the band


@pytest.mark.parametrize("start,end,inside", [
    ("2015-08-19", "2015-08-24", True),   # 19.14 -> 40.74
    ("2020-02-20", "2020-02-28", True),   # 14.38 -> 40.11
    ("2020-03-13", "2020-03-16", True),   # 57.83 -> 82.69 (the old link said 104)
    ("2018-02-02", "2018-02-05", False),  # 17.31 -> 37.32: one of the fifth of falls above the band
])
def test_real_episodes_against_the_band(history, start, end, inside):
    from alvh_core.model.spotvol import vix_band

    panel = history.panel
    days = len(panel.loc[start:end].dropna(subset=["spx"])) - 1
    r = np.log(panel.loc[end, "spx"] / panel.loc[start, "spx"])
    low, _, high = vix_band(panel.loc[start, "vix"], r, days)
    assert bool(low <= panel.loc[end, "vix"] <= high) == inside


def test_vvix_elasticity_matches_a_direct_regression(history):
    frame = history.panel[["vix", "vvix"]].dropna().loc["2007-01-03":]
    x = np.log(frame["vix"]).diff(5).dropna().to_numpy()
    y = np.log(frame["vvix"]).diff(5).dropna().to_numpy()
    slope = np.polyfit(x, y, 1)[0]
    assert fitted.VVIX_ELASTICITY == pytest.approx(slope, abs=0.01)
    assert 0.3 < slope < 0.8


def test_futures_proxy_error_stays_within_the_documented_figures(data_dir, history):
    from alvh_core.calibration.fits import fit_futures_proxy

    fit = fit_futures_proxy(data_dir, history)
    assert fit.level == pytest.approx(fitted.VIX_FUTURES_PROXY.level, abs=0.005)
    assert fit.convexity == pytest.approx(fitted.VIX_FUTURES_PROXY.convexity, abs=0.01)
    assert fit.backwardation == pytest.approx(fitted.VIX_FUTURES_PROXY.backwardation, abs=0.005)
    assert max(fit.vx1_median_abs, fit.vx2_median_abs) <= fitted.FUTURES_PROXY_MEDIAN_MAX
    assert max(fit.vx1_p90_abs, fit.vx2_p90_abs) <= fitted.FUTURES_PROXY_P90_MAX
    assert fit.tenor_beta_scale_days == pytest.approx(fitted.TENOR_BETA_SCALE_DAYS, abs=0.5)


def test_futures_proxy_holds_in_backwardation(data_dir, history):
    """With VIX/VIX3M > 1.1 the front-month error, as a share of the future, is close to its
    contango error, and no longer biased low; checked row by row on the CFE settlements."""
    from alvh_core.calibration.fits import futures_points
    from alvh_core.model.vixfutures import futures_proxy
    from alvh_core.model.volmodel import VixTermStructure

    frame = futures_points(data_dir, history)
    ok = lambda v: float(v) if np.isfinite(v) else None  # noqa: E731
    proxy = np.array([float(futures_proxy(VixTermStructure(row.vix, ok(row.vix9d), row.vix3m, row.vix6m), row.days1,
                                          ok(row.vvix))) for row in frame.itertuples()])
    error = proxy - frame["vx1"].to_numpy()
    relative = np.abs(error) / frame["vx1"].to_numpy()
    ratio = (frame["vix"] / frame["vix3m"]).to_numpy()
    contango, deep = ratio < 1.0, ratio > 1.1
    assert deep.sum() > 50
    assert np.median(relative[deep]) <= np.median(relative[contango]) + 0.005
    assert np.percentile(relative[deep], 90) <= np.percentile(relative[contango], 90) + 0.01
    assert abs(np.median(error[deep])) < 0.4  # was -0.76 points without the inverted-curve factor


def test_vx_file_quirks_are_handled(data_dir):
    from alvh_core.data.closes import read_vx_continuous

    vx1 = read_vx_continuous(data_dir / "VX1_continuous.csv")
    assert vx1.index.is_monotonic_increasing
    assert vx1.loc["2007-03-23"] < 30 and vx1.loc["2008-11-20"] > 50  # old 10x scale put right
    assert vx1.loc["2020-09-24"] == pytest.approx(32.225)


def test_vix_expiry_calendar_known_dates():
    from datetime import date

    from alvh_core.model.vixfutures import expiries_after, vix_expiry

    assert vix_expiry(2020, 3) == date(2020, 3, 18) and vix_expiry(2018, 2) == date(2018, 2, 14)
    assert expiries_after(date(2020, 3, 18), 1) == [date(2020, 4, 15)]  # on expiry day the front is the next
