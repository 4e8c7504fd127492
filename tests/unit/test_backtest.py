"""The backtester: against its slow reference, the real crashes, and the engine's own rules."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from alvh_core.data.events import load_events
from alvh_core.data.listings import on_grid
from alvh_core.history import backtest as bt
from alvh_core.history.reference import reference_equity
from alvh_core.model.pricing import bsm_one
from alvh_core.strategy.condor import listed_strikes
from alvh_core.strategy.hedge import BACKTEST_SCHEMES
from alvh_core.strategy.management import ExitRules
from alvh_core.strategy.signals import regime_report, stress_series
from alvh_core.strategy.stress import EPISODES_BY_KEY
from alvh_core.strategy.tiers import find_tier, load_tiers

# --- pieces against the one-market engine ------------------------------------------------

@pytest.mark.parametrize("weekly", [False, True])
def test_listed_strike_search_equals_a_scan_of_the_listed_grid(weekly):
    rng = np.random.default_rng(7 + weekly)
    for _ in range(60):
        spot, days = float(rng.uniform(300, 8000)), float(rng.uniform(1, 120))
        grid = listed_strikes(spot, days, spot * 0.2, spot * 1.9, "weekly" if weekly else "monthly")
        levels = rng.uniform(spot * 0.6, spot * 1.4, 40)
        args = (np.full(40, spot), levels, np.full(40, days), np.full(40, weekly))
        below, above = bt.listed_at_or_below(*args), bt.listed_at_or_above(*args)
        for level, lo, hi in zip(levels, below, above, strict=True):
            assert lo == grid[grid <= level + 1e-9].max()
            assert hi == grid[grid >= level - 1e-9].min()


def test_stress_series_equals_the_regime_report_day_by_day(backtest_panel):
    panel, _ = backtest_panel
    calendar = load_events()
    series = stress_series(panel, calendar)
    rng = np.random.default_rng(3)
    for i in [30, 89, 200, *rng.choice(len(panel), 25, replace=False)]:
        day, row = panel.index[i], panel.iloc[i]
        levels = {k: (None if pd.isna(row.get(k)) else float(row[k]))
                  for k in ("spx", "vix", "vix9d", "vix3m", "vix6m", "vvix")}
        report = regime_report(panel.loc[:day], day, levels, "file", calendar)
        assert series["stress"].iloc[i] == pytest.approx(report.stress_score, abs=1e-12)
        assert series["budget_pct"].iloc[i] == pytest.approx(report.hedge_budget_pct, abs=1e-10)
        assert bool(series["rebalance"].iloc[i]) == report.rebalance_trigger


# --- the vectorised engine against the slow reference, to the cent ---------------------------

CASES = [
    # window, strategy, scheme, management, sizing
    (("2018-01-02", "2018-03-29"), "daily", "alvh", (None, None, None), "notional"),
    (("2019-12-02", "2020-04-30"), "weekly", "alvh", (0.5, 2.0, None), "max_loss"),
    (("1998-01-02", "1999-12-31"), "monthly", "static10", (None, None, 7), "notional"),
    (("2008-06-02", "2009-03-31"), "weekly", "vxth", (None, 1.0, None), "notional"),
    (("2015-06-01", "2015-12-31"), "monthly", "single", (0.6, None, 5), "contract"),
    (("2011-05-02", "2011-12-30"), "monthly", "alvh", (None, None, 10, True), "max_loss"),   # rolled at 10 days
]


@pytest.mark.parametrize("window,strategy,scheme,management,sizing", CASES)
def test_vectorised_backtest_equals_the_reference_to_the_cent(backtest_market, backtest_panel, window, strategy, scheme,
                                                               management, sizing):
    """On the real history with the data folder, else on the seeded simulated market (the same dates)."""
    m = backtest_market.window(*window)
    config = bt.BacktestConfig(strategy=strategy, management=ExitRules(*management),
                               hedge=bt.HedgeSettings(sizing=sizing))
    fast = bt.run_backtest(m, config, (scheme,), smaller=False).equity[scheme].to_numpy()
    slow = reference_equity(m, backtest_panel[0], config, scheme)
    assert np.all(np.isfinite(fast))
    assert np.max(np.abs(fast - slow)) < 0.01
    assert abs(fast[-1] - config.capital) > 100.0   # something happened


# --- the real crashes ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def daily_run(backtest_market):
    """Daily condors 1990-2026 with every scheme: on the real history with the data folder, else on
    the seeded simulated market."""
    return bt.run_backtest(backtest_market, bt.BacktestConfig(strategy="daily"), BACKTEST_SCHEMES)


@pytest.mark.data
@pytest.mark.parametrize("key", ["2018-02", "2020-03"])
def test_unhedged_daily_condors_lose_and_every_alvh_layer_gains_in_the_crash(data_dir, daily_run, key):
    episode = EPISODES_BY_KEY[key]
    index = pd.DatetimeIndex(daily_run.market.dates)
    inside = (index > pd.Timestamp(episode.start)) & (index <= pd.Timestamp(episode.end))
    assert daily_run.condor.daily_pnl[inside].sum() < -5_000
    for name, pnl in daily_run.hedges["alvh"].layer_pnl.items():
        assert pnl[inside].sum() > 0, name


def test_equity_is_never_nan_and_starts_at_the_capital(daily_run):
    for name, curve in daily_run.equity.items():
        values = curve.to_numpy()
        assert np.all(np.isfinite(values)), name
        assert abs(values[0] - 1_000_000) < 5_000, name
    assert daily_run.equity.index[0] == pd.Timestamp("1990-01-02")


def test_condors_sit_on_listed_strikes_at_the_tier_delta(daily_run):
    m, book = daily_run.market, daily_run.condor
    tier = daily_run.config.tier
    rng = np.random.default_rng(1)
    for i in rng.choice(book.entry.size, 40, replace=False):
        row = book.entry[i]
        day = m.day(row)
        left = (pd.Timestamp(book.expiry[i]).date() - day).days
        spot, rate = float(m.spx[row]), float(m.rate[row])
        strikes = book.strikes[i]
        assert strikes[0] < strikes[1] < strikes[2] < strikes[3]
        for k in strikes:
            kind = "weekly" if bt.spx_expiry_for(m, tier.days)[2][row] else "monthly"
            days = max(left - (6.5 / 24 if bt.spx_expiry_for(m, tier.days)[1][row] else 0.0), 0.25)
            assert on_grid(spot, float(k), days, "SPX", kind)
        # The short put's |delta| on the smile is at most the tier's (the engine's own pricer).
        from alvh_core.model import over_days
        atm = float(over_days.atm_vol(m.nodes[row], days))
        fwd = spot * math.exp((rate - daily_run.config.div) * days / 365)
        vol = float(over_days.smile_vol(atm, strikes[1], fwd, days))
        delta = bsm_one(spot, float(strikes[1]), days / 365, rate, daily_run.config.div, vol, False)[1]
        assert abs(delta) <= tier.short_delta + 1e-9


def test_held_condors_settle_at_the_expiry_close(daily_run):
    m, book = daily_run.market, daily_run.condor
    frame = book.frame(m)
    settled = frame[frame.reason == "expiry"].sample(50, random_state=2)
    closes = pd.Series(m.spx, index=pd.DatetimeIndex(m.dates))
    for row in settled.itertuples():
        s = float(closes.loc[: row.expiry].iloc[-1])
        payoff = (max(row.short_put - s, 0) - max(row.long_put - s, 0) + max(s - row.short_call, 0)
                  - max(s - row.long_call, 0))
        assert row.exit_value == pytest.approx(payoff, abs=1e-9)


def test_trade_smaller_cuts_contracts_by_the_hedge_premium_share(daily_run):
    alvh = daily_run.hedges["alvh"]
    credit = daily_run.condor.credit_dollars.sum()
    assert daily_run.smaller_scale == pytest.approx(1 - alvh.amortised_premium / credit)
    assert 0 < daily_run.smaller_scale < 1
    assert alvh.amortised_premium < alvh.premium
    # Its book is the same condors with fewer contracts.
    small = bt.condor_book(daily_run.market, daily_run.config, scale=daily_run.smaller_scale)
    np.testing.assert_array_equal(small.strikes, daily_run.condor.strikes)
    assert np.all(small.contracts <= daily_run.condor.contracts)
    assert small.contracts.sum() < 0.7 * daily_run.condor.contracts.sum()


@pytest.mark.data
def test_tbill_interest_compounds_the_fred_rate(real_market, real_history):
    m = real_market.window("2000-01-03", "2000-12-29")
    growth = bt.equity_curve(m, np.zeros(m.size), 1.0)
    # FRED DTB3 is a discount yield: a 91-day bill's price is 1 - d·91/360; hold it night by night.
    irx = real_history.panel["irx"].ffill().reindex(pd.DatetimeIndex(m.dates)).to_numpy()
    value = 1.0
    for i in range(1, m.size):
        nights = int((m.dates[i] - m.dates[i - 1]).astype(int))
        price = 1 - irx[i - 1] / 100 * 91 / 360
        value *= price ** (-nights / 91)
    assert growth[-1] == pytest.approx(value, rel=1e-9)
    assert 0.055 < growth[-1] - 1 < 0.065   # T-bills paid about 6 % in 2000


def test_tiers_and_frequencies_all_run(backtest_market):
    m = backtest_market.window("2019-01-02", "2019-12-31")
    for tier in load_tiers():
        for strategy in bt.FREQUENCIES:
            result = bt.run_backtest(m, bt.BacktestConfig(strategy=strategy, tier=find_tier(load_tiers(), tier.name)),
                                     ("none", "alvh"))
            assert np.all(np.isfinite(result.equity.to_numpy()))
            assert result.condor.entry.size == bt.period_starts(m.dates, strategy).size


def test_a_roll_opens_the_next_condor_the_day_one_is_closed(backtest_market):
    m = backtest_market.window("2016-01-04", "2016-12-30")
    config = bt.BacktestConfig(strategy="monthly", management=ExitRules(exit_days=7, roll=True))
    book = bt.condor_book(m, config)
    frame = book.frame(m)
    assert (frame.reason.iloc[:-1] == "days").all()
    # Each condor opens on the day the one before it is closed, 7 calendar days or less before its expiry.
    np.testing.assert_array_equal(book.entry[1:], book.exit[:-1])
    left = (pd.to_datetime(frame.expiry) - pd.to_datetime(frame.exit)).dt.days.iloc[:-1]
    assert left.between(0, 7).all()
    assert book.entry.size > bt.period_starts(m.dates, "monthly").size   # about every three weeks
