"""Stress scenarios and real-episode replays: the ``stress`` command and the Builder's rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from alvh_core.model.market import DEFAULT_MARKET, MarketState
from alvh_core.model.spotvol import outside_fit_notice, vix_band
from alvh_core.strategy.hedge import HedgeSettings
from alvh_core.strategy.position import HedgeContext, Scenario, build_position
from alvh_core.strategy.sizing import RiskBudget
from alvh_core.strategy.stress import EPISODES, episode_rows, stress_outcome
from alvh_core.strategy.tiers import find_tier, load_tiers

from .test_cli import run


def _position(market=DEFAULT_MARKET, scheme="alvh", tier="Moderate"):
    scenario = Scenario(find_tier(load_tiers(), tier), RiskBudget(dollars=5_000.0), hedge=HedgeSettings(scheme=scheme))
    return build_position(market, scenario, HedgeContext.from_vix(market.vix), with_view=False)


@pytest.mark.data
def test_episode_closes_are_the_real_ones(data_dir):
    """Every episode's SPX and VIX closes, read straight from the Cboe and S&P files."""
    spx = pd.read_csv(data_dir / "SPX_History.csv")
    spx.index = pd.to_datetime(spx["DATE"], format="%m/%d/%Y")
    vix = pd.read_csv(data_dir / "VIX_History.csv")
    vix.index = pd.to_datetime(vix["DATE"])
    for e in EPISODES:
        assert round(spx.loc[e.start, "CLOSE"], 2) == pytest.approx(e.spx_start, abs=0.006)
        assert round(spx.loc[e.end, "CLOSE"], 2) == pytest.approx(e.spx_end, abs=0.006)
        assert vix.loc[e.start, "CLOSE"] == pytest.approx(e.vix_start) and vix.loc[e.end, "CLOSE"] == pytest.approx(e.vix_end)
        assert len(spx.loc[e.start:e.end]) - 1 == e.trading_days
        assert e.spx_move < -0.05 and e.vix_ratio > 1.3


def test_hedge_pays_more_the_higher_vix_goes_and_the_condor_loses_its_max_past_the_wings():
    position = _position()
    condor, contracts = position.condor, max(position.contracts, 1)
    out = stress_outcome(condor, contracts, position.hedge, DEFAULT_MARKET, DEFAULT_MARKET.vol_model(), -0.20,
                         trading_days=5, calendar_days=condor.days)
    low, mid, high = (out.bands[b] for b in ("p10", "median", "p90"))
    assert low.vix < mid.vix < high.vix
    assert low.hedge < mid.hedge < high.hedge
    # At expiry, 20 % below spot is past the long put: the condor loses exactly its max loss.
    assert mid.condor == pytest.approx(-position.plan.metrics.max_loss * contracts, rel=1e-9)
    for f in out.futures:
        assert f.after["p10"] <= f.after["median"] <= f.after["p90"] and f.after["median"] > f.before


def test_episode_rows_on_todays_book():
    position = _position()
    rows = episode_rows(position.condor, 1, position.hedge, DEFAULT_MARKET, DEFAULT_MARKET.vol_model())
    assert [r.episode.key for r in rows] == [e.key for e in EPISODES]
    for r in rows:
        assert r.vix_as_then == pytest.approx(DEFAULT_MARKET.vix * r.episode.vix_ratio)
        assert np.isfinite([r.actual.combined, r.model.combined, r.model_vix_then]).all()
        assert r.days_elapsed <= position.condor.days
    by = {r.episode.key: r for r in rows}
    # From a calm start the link now expects most of the real VIX spike (the old one said 21 for 2018-02).
    assert by["2020-02"].model_vix_then > 30 and by["2015-08"].model_vix_then > 25


@pytest.mark.parametrize("tier", ["Moderate", "Aggressive"])
def test_episodes_in_one_call_are_each_episode_marked_alone(tier):
    """The episodes are priced together, one date per episode; each row is the book marked
    alone at its own date (condor and hedge); the longest episodes end at the condor's expiry."""
    from alvh_core.strategy.stress import mark

    position = _position(tier=tier)
    vol_model = DEFAULT_MARKET.vol_model()
    n = max(position.contracts, 1)
    rows = episode_rows(position.condor, n, position.hedge, DEFAULT_MARKET, vol_model)
    assert len({r.days_elapsed for r in rows}) >= 3
    for r in rows:
        spx = DEFAULT_MARKET.spot * (1.0 + r.episode.spx_move)
        for marks in (r.actual, r.model):
            condor, hedge = mark(position.condor, n, position.hedge, DEFAULT_MARKET, vol_model, spx, marks.vix,
                                 r.days_elapsed)
            assert marks.condor == pytest.approx(float(condor), rel=1e-9, abs=1e-6)
            assert marks.hedge == pytest.approx(float(hedge), rel=1e-9, abs=1e-6)


def test_book_risk_horizons_in_one_call_are_each_horizon_alone():
    from alvh_core.strategy.book_risk import book_scenarios_at
    from alvh_core.strategy.payoff import condor_value_grid

    position = _position()
    vol_model = DEFAULT_MARKET.vol_model()
    both = book_scenarios_at(position.condor, position.hedge, DEFAULT_MARKET, vol_model, (1, 5, 21))
    for days, sc in both.items():
        alone = book_scenarios_at(position.condor, position.hedge, DEFAULT_MARKET, vol_model, (days,))[days]
        assert np.allclose(sc.condor_one, alone.condor_one, rtol=1e-10, atol=1e-8)
        assert np.allclose(sc.hedge, alone.hedge, rtol=1e-10, atol=1e-8)
        assert (sc.spx == alone.spx).all() and (sc.down_tail == alone.down_tail).all()
    # The condor with one date per scenario: past its expiry it is its payoff.
    condor = position.condor
    dates = np.array([0.0, 2.0, condor.days - 0.5, condor.days, condor.days + 3.0])
    spx = DEFAULT_MARKET.spot * np.array([0.85, 0.97, 1.0, 1.04])
    got = condor_value_grid(condor, DEFAULT_MARKET, vol_model, spx[None, :], 22.0, dates[:, None])
    for k, when in enumerate(dates):
        one = condor_value_grid(condor, DEFAULT_MARKET, vol_model, spx, 22.0, float(when))
        assert np.allclose(got[k], one, rtol=1e-10, atol=1e-8)
    assert np.allclose(got[-1], condor.pnl_at_expiry(spx) * condor.dollars_per_point)


@pytest.mark.data
@pytest.mark.parametrize("key", ["2015-08", "2018-02", "2020-02", "2020-03"])
def test_stress_replays_an_episode_from_its_first_day(data_dir, key):
    episode = next(e for e in EPISODES if e.key == key)
    # A book large enough for every hedge layer to hold whole VIX contracts.
    out = run("stress", "--data-dir", str(data_dir), "--episode", key, "--notional", "1000000", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["market"]["asof"] == episode.start and result["market"]["vix"] == episode.vix_start
    assert result["spx_after"] == pytest.approx(episode.spx_end, abs=0.01)
    assert result["actual"]["vix"] == episode.vix_end
    vix = result["vix"]
    assert vix["p10"] < vix["median"] < vix["p90"]
    for band in ("p10", "median", "p90"):
        pnl = result["pnl"][band]
        assert pnl["combined"] == pytest.approx(pnl["condor"] + pnl["hedge"], abs=0.01)
    assert result["pnl"]["p10"]["hedge"] < result["pnl"]["p90"]["hedge"]
    assert result["futures"] and all(f["after"]["median"] > f["before"] for f in result["futures"])


def test_stress_from_typed_levels():
    out = run("stress", "--spx", "7000", "--vix", "15", "--vix3m", "18", "--spx-move", "-10", "--days", "5",
              "--tier", "Conservative", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["spx_after"] == pytest.approx(6300.0)
    assert 25 < result["vix"]["median"] < 60 and result["trading_days"] == 5


@pytest.mark.parametrize("args", [
    ("stress", "--spx", "7000", "--vix", "15"),
    ("stress", "--spx", "7000", "--vix", "15", "--spx-move", "-100"),
    ("stress", "--spx", "7000", "--vix", "15", "--spx-move", "nan"),
    ("stress", "--spx", "7000", "--vix", "15", "--spx-move", "-5", "--days", "0"),
    ("stress", "--spx", "7000", "--vix", "15", "--spx-move", "-5", "--days", "9999"),
    ("stress", "--spx", "7000", "--vix", "15", "--episode", "1929-10"),
    ("stress", "--spx", "7000", "--vix", "15", "--episode", "2020-03", "--spx-move", "-5"),
])
def test_stress_bad_input_is_one_line(args):
    out = run(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_real_falls_from_a_stressed_day_say_which_values_were_clipped():
    """As of 2020-03-16 (VIX 82.69) today's VIX times a calm start's ratio runs past 150: held there, and said."""
    market = MarketState(spot=2386.13, vix=82.69, vix9d=106.66, vix3m=67.70, vix6m=55.40, vvix=207.59,
                         asof="2020-03-16")
    position = _position(market)
    rows = episode_rows(position.condor, max(position.contracts, 1), position.hedge, market, market.vol_model())
    for row in rows:
        raw = market.vix * row.episode.vix_ratio
        assert row.as_then_clipped == (raw > 150.0 or raw < 5.0)
        assert row.vix_as_then == pytest.approx(min(max(raw, 5.0), 150.0))
        # The link from today's level answers from where VIX starts: never the calm start's ratio.
        assert row.model_vix == pytest.approx(float(vix_band(82.69, np.log1p(row.episode.spx_move),
                                                             row.episode.trading_days)[1]))
    assert sum(r.as_then_clipped for r in rows) >= 3
    assert outside_fit_notice(82.69) == "" and "outside" in outside_fit_notice(95.0)
    assert "outside" in outside_fit_notice(8.0)
