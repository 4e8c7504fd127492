"""Replicas of Cboe's CNDR and VXTH indexes, and the tracking figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alvh_core.history import replicas
from alvh_core.history.backtest import Costs
from alvh_core.strategy.hedge import vxth_weight_pct

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def vxth(real_market):
    return replicas.vxth_replica(real_market.window("2006-03-01", None))


@pytest.fixture(scope="module")
def cndr(real_market):
    return replicas.cndr_replica(real_market)


def test_vxth_weights_follow_cboe_schedule(vxth):
    for row in vxth.rolls.itertuples():
        assert row.weight_pct == vxth_weight_pct(row.future)
    assert set(vxth.rolls.weight_pct) == {0.0, 0.5, 1.0}
    # Rolls on VIX expiry days: Wednesdays (or the session before a holiday).
    weekdays = pd.DatetimeIndex(vxth.rolls.roll[1:]).weekday
    assert np.mean(weekdays == 2) > 0.95


def test_vxth_without_calls_is_the_sp500_total_return(real_market):
    m = real_market.window("2017-01-03", "2017-12-29")   # futures under 15: VXTH holds no calls
    no_calls = replicas.vxth_replica(m, div=0.02)
    # Where the weight was zero over a whole roll period the level moves with SPX plus dividends.
    rolls = no_calls.rolls
    zero = rolls.index[rolls.weight_pct == 0]
    assert len(zero) > 0
    k = zero[0]
    a, b = pd.Timestamp(rolls.roll[k]), pd.Timestamp(rolls.roll[k + 1])
    level = no_calls.level
    spx = pd.Series(m.spx, index=pd.DatetimeIndex(m.dates))
    expected = spx[b] / spx[a] * np.exp(0.02 * (b - a).days / 365)
    assert level[b] / level[a] == pytest.approx(expected, rel=1e-12)


def test_vxth_replica_close_to_cboe_published_five_years(vxth):
    # Cboe's Index Insights (6 Nov 2023): VXTH gained 98.6 % in the five years to October 2023.
    level = vxth.level
    gain = level.loc[:"2023-10-31"].iloc[-1] / level.loc[:"2018-10-31"].iloc[-1] - 1
    assert gain == pytest.approx(0.986, abs=0.15)


def test_vxth_gains_in_march_2020(vxth):
    level = vxth.level
    assert level["2020-03-16"] / level["2020-02-19"] > 1.2


def test_cndr_collateral_is_ten_max_losses(cndr):
    rolls = cndr.rolls
    level = cndr.level
    for row in rolls.sample(30, random_state=4).itertuples():
        before = level.loc[: pd.Timestamp(row.roll)].iloc[-1]
        assert row.condors_per_100 * 10 * row.max_loss * 100 == pytest.approx(before, rel=1e-9)
    assert np.all(np.isfinite(level.to_numpy()))
    assert level.iloc[0] == 100.0


def test_cndr_condors_are_20_and_5_delta_on_the_next_monthly(cndr):
    rolls = cndr.rolls
    days = (pd.to_datetime(rolls.expiry) - pd.to_datetime(rolls.roll)).dt.days
    assert days.between(27, 36).all()
    assert pd.DatetimeIndex(rolls.expiry).weekday.isin([3, 4]).all()   # Fridays (Thursdays before a holiday)
    assert (rolls.long_put < rolls.short_put).all() and (rolls.short_call < rolls.long_call).all()
    assert (rolls.short_put < rolls.spx).all() and (rolls.spx < rolls.short_call).all()


def test_cndr_replica_against_the_published_2010_2019_cagr(cndr):
    # CNDR went from 771.31 (Jan 2010) to 713.49 (Jan 2019): -0.86 % a year (Cboe's dashboard data).
    level = cndr.level
    years = (pd.Timestamp("2019-01-14") - pd.Timestamp("2010-01-29")).days / 365.25
    cagr = (level.loc[:"2019-01-14"].iloc[-1] / level.loc[:"2010-01-29"].iloc[-1]) ** (1 / years) - 1
    # Years kept back from every fit (the data folder's CNDR file stops at 2009): +1.1 points a year with the
    # smile's skew tied to SKEW (+3.8 with one smile for every day).
    assert abs(cagr - (-0.0086)) < 0.015


@pytest.fixture(scope="module")
def checks(real_market, real_history):
    panel = real_history.panel
    return replicas.model_checks(real_market, panel.get("cndr"), panel.get("vxth"))


def test_vix_option_model_tracks_cboes_vxth(checks):
    """The VXTH replica on the index file's years (2016-2026): the call skew is fitted on them, the ATM vol
    follows VVIX; a monthly correlation of 0.95 at least and a CAGR gap within a point a year."""
    vix = checks.vix_options
    assert vix is not None and vix.tracking.months >= 120
    assert vix.tracking.monthly_correlation >= 0.95 and abs(vix.tracking.cagr_gap) <= 0.01
    assert vix.calm_weeks > 100 and vix.calm_decay_index_bp < 0 and vix.calm_decay_replica_bp < 0
    assert abs(vix.calm_decay_replica_bp - vix.calm_decay_index_bp) < 5.0      # the calls' bleed, bp a week
    spikes = {x.label: x for x in vix.spikes}
    assert set(spikes) == {"2018-02", "2020-03", "2024-08"}
    assert spikes["2018-02"].weight_pct == 0 and abs(spikes["2018-02"].overlay_index_pct) < 0.2   # no calls held
    march = spikes["2020-03"]
    assert march.multiple_index > 20 and march.multiple_replica == pytest.approx(march.multiple_index, rel=0.2)


def test_spx_smile_tracks_cboes_cndr_by_decade(checks):
    """The CNDR replica on 1990-2009 (the index file's years; nothing is fitted on them): the CAGR gap within
    a point a year over the two decades.  The monthly correlation stays near 0.89: the index rolls at 11 a.m.
    and settles at the opening quotation, which daily closes (and opens only from 2008) cannot follow."""
    rows = dict(checks.cndr)
    assert set(rows) == {"1990s", "2000s", "1990-2009"}
    assert abs(rows["1990-2009"].cagr_gap) <= 0.01
    assert all(abs(t.cagr_gap) <= 0.015 for t in rows.values())
    assert all(t.monthly_correlation >= 0.85 for t in rows.values())


def test_tracking_figures_against_an_independent_computation():
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2015-01-01", "2019-12-31")
    index = pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.008, len(days)))), index=days)
    replica = index * np.exp(np.cumsum(rng.normal(0.0001, 0.002, len(days))))
    t = replicas.tracking(replica, index)
    r_month = replica.resample("ME").last().pct_change().dropna()
    i_month = index.resample("ME").last().pct_change().dropna()
    assert t.monthly_correlation == pytest.approx(np.corrcoef(r_month, i_month)[0, 1], abs=1e-12)
    years = len(days) - 1
    cagr = lambda s: (s.iloc[-1] / s.iloc[0]) ** (252 / years) - 1  # noqa: E731
    assert t.cagr_gap == pytest.approx(cagr(replica) - cagr(index), abs=1e-12)
    dd = lambda s: float((1 - s / s.cummax()).max())  # noqa: E731
    assert t.drawdown_gap == pytest.approx(dd(replica) - dd(index), abs=1e-12)
    assert t.months == len(r_month)


def test_tracking_needs_an_overlap():
    a = pd.Series(1.0, index=pd.bdate_range("2001-01-01", periods=30))
    with pytest.raises(ValueError, match="fewer than"):
        replicas.tracking(a, a)


def test_replica_costs_lower_the_level(real_market):
    m = real_market.window("2016-01-04", "2017-12-29")
    free = replicas.cndr_replica(m).level.iloc[-1]
    paid = replicas.cndr_replica(m, Costs(fill_share=1.0, commission=1.0)).level.iloc[-1]
    assert paid < free
