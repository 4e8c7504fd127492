"""Replays, the seeds' claims and sweeps: on the real history, and (the sweep) on the simulated market
without the data folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alvh_core.data.closes import read_vx_continuous
from alvh_core.history import backtest as bt
from alvh_core.history import studies
from alvh_core.model.simulator import simulated_panel
from alvh_core.strategy.management import ExitRules


@pytest.fixture(scope="module")
def run(real_market):
    m = real_market.window("2017-01-03", "2021-06-30")
    return bt.run_backtest(m, bt.BacktestConfig(strategy="daily"), ("none", "alvh", "single"))


@pytest.mark.data
def test_replay_starts_at_zero_and_adds_up(run):
    path = studies.replay(run, "2020-02-19", "2020-03-23")
    assert path.index[0] == pd.Timestamp("2020-02-19")
    assert (path.iloc[0].drop(["SPX", "VIX"]) == 0).all()
    index = pd.DatetimeIndex(run.market.dates)
    inside = (index > "2020-02-19") & (index <= "2020-03-23")
    assert path["Condors"].iloc[-1] == pytest.approx(run.condor.daily_pnl[inside].sum())
    layers = [c for c in path if c.startswith("ALVH 40/40/20: ") and c.split(": ")[1] in ("Base", "Adaptive", "Tail")]
    assert len(layers) == 3
    np.testing.assert_allclose(path[layers].sum(axis=1), path["ALVH 40/40/20: hedge"], atol=1e-6)
    assert path["ALVH 40/40/20: hedge"].iloc[-1] > 0 > path["Condors"].iloc[-1]
    with pytest.raises(ValueError):
        studies.replay(run, "2030-01-01", "2030-02-01")


@pytest.mark.data
def test_futures_beside_the_model_on_the_covid_crash(real_market, data_dir):
    table = studies.futures_beside_model(data_dir, real_market, "2020-02-19", "2020-04-30")
    assert table is not None and len(table) > 40
    vx1 = read_vx_continuous(data_dir / "VX1_continuous.csv")
    assert table["VX1 settled"].loc["2020-03-16"] == vx1.loc["2020-03-16"]
    both = table.dropna()
    error = np.abs(both["VX1 model"] / both["VX1 settled"] - 1)
    assert error.median() < 0.08
    # After the files end there is nothing to show beside the model.
    assert studies.futures_beside_model(data_dir, real_market, "2023-01-03", "2023-03-01") is None


@pytest.mark.data
def test_layered_versus_single_reads_the_run(run):
    table = studies.layered_versus_single(run).set_index("scheme")
    assert table.loc["ALVH 40/40/20", "hedge_pnl"] == pytest.approx(run.stats["alvh"].hedge_pnl)
    assert table.loc["Single VIX call", "premium_paid"] == pytest.approx(run.hedges["single"].premium)


@pytest.mark.data
def test_scale_sweep_grows_the_book_in_whole_contracts(real_market):
    m = real_market.window("2018-01-02", "2020-12-31")
    table = studies.scale_sweep(m, bt.BacktestConfig(strategy="monthly"), contracts=(10, 50, 200))
    assert list(table.contracts) == [10, 50, 200]
    # Drawdowns in dollars grow with the book; as a share of an account that grows with it they hold.
    assert table.none_max_drawdown.is_monotonic_increasing
    assert table.none_max_drawdown_pct.max() - table.none_max_drawdown_pct.min() < 0.02
    assert table.alvh_max_drawdown_pct.max() - table.alvh_max_drawdown_pct.min() < 0.03
    assert (table.hedge_contracts_mean.diff().dropna() > 0).all()


def test_a_backtest_on_the_simulated_market(tmp_path):
    panel = simulated_panel(years=3, seed=11)
    m = bt.market_arrays(panel, source="simulated")
    result = bt.run_backtest(m, bt.BacktestConfig(strategy="weekly"), ("none", "alvh"))
    assert np.all(np.isfinite(result.equity.to_numpy()))
    assert result.market.source == "simulated"
    assert result.condor.entry.size == bt.period_starts(m.dates, "weekly").size


def test_sweep_shares_marks_and_reports_each_configuration(backtest_market):
    m = backtest_market.window("2019-01-02", "2019-12-31")
    configs = [bt.BacktestConfig(strategy="weekly", costs=bt.Costs(fill_share=f),
                                 management=ExitRules(profit_target=p)) for f in (0.0, 1.0) for p in (None, 0.5)]
    table = studies.sweep(m, configs)
    assert len(table) == 4
    # Paying the natural price costs money against the mid.
    mid = table[(table.fill_share == 0.0) & table.profit_target.isna()].none_cagr.iloc[0]
    natural = table[(table.fill_share == 1.0) & table.profit_target.isna()].none_cagr.iloc[0]
    assert natural < mid


def test_the_year_table_adds_up_to_the_run(backtest_market):
    from alvh_core.history import backtest as bt
    from alvh_core.history.studies import per_year

    m = backtest_market.window("2016-01-04", "2019-12-31")
    run = bt.run_backtest(m, bt.BacktestConfig(strategy="weekly"), ("none", "alvh"), smaller=False)
    years = per_year(run, "alvh")
    assert years["year"].tolist() == [2016, 2017, 2018, 2019]
    assert years["condor_pnl"].sum() == pytest.approx(run.condors["alvh"].daily_pnl.sum())
    assert years["condor_credit"].sum() == pytest.approx(run.condors["alvh"].credit_dollars.sum())
    trades = run.hedges["alvh"].trades
    assert years["hedge_premium"].sum() == pytest.approx(trades["cost"].sum())
    for layer, pnl in run.hedges["alvh"].layer_pnl.items():
        assert years[f"{layer.lower()}_pnl"].sum() == pytest.approx(pnl.sum())
    first = trades[trades["bought"].dt.year == 2016]
    assert years.loc[0, "hedge_premium"] == pytest.approx(first["cost"].sum())
    assert years["premium_over_credit"].iloc[0] == pytest.approx(first["cost"].sum() / years.loc[0, "condor_credit"])
    # The hedge is sized to the open max loss at 20 × the band: its median ratio sits in the bands' 1.2–7×.
    assert years["median_notional_per_max_loss"].between(0.5, 8.0).all()


def test_start_dates_and_the_tbill_account(backtest_market):
    from alvh_core.history import backtest as bt
    from alvh_core.history.studies import excess, start_date_table, tbill_cagr

    m = backtest_market.window("2011-01-03", "2016-12-30")
    table = start_date_table(m, bt.BacktestConfig(strategy="weekly"), ("none", "alvh"),
                             starts=("1990-01-02", "2013-01-02", "2015-06-01"))
    assert sorted(set(table["start"])) == ["2013-01-02", "2015-06-01"]   # a start outside the data is left out
    assert set(table["result"]) == {"none", "alvh", "smaller"}
    # T-bills by hand: the account grows by exp(rate × days / 365) each day.
    late = m.window("2015-06-01", None)
    days = np.diff(late.dates.astype("int64")).astype(float)
    growth = float(np.exp(np.sum(late.rate[:-1] * days / 365.0)))
    years = (late.dates[-1] - late.dates[0]).astype(float) / 365.25
    assert tbill_cagr(late) == pytest.approx(growth ** (1 / years) - 1, rel=1e-9)
    row = table[(table["start"] == "2015-06-01") & (table["result"] == "alvh")].iloc[0]
    assert row["excess_cagr"] == pytest.approx(excess(row["cagr"], row["tbill_cagr"]))
    alone = bt.run_backtest(late, bt.BacktestConfig(strategy="weekly"), ("none", "alvh"))
    assert row["cagr"] == pytest.approx(alone.stats["alvh"].performance.cagr)


def test_the_sensitivity_table_moves_one_assumption_at_a_time(backtest_market):
    from alvh_core.history import backtest as bt
    from alvh_core.history.studies import SENSITIVITY, sensitivity

    m = backtest_market.window("2017-01-03", "2018-12-31")
    config = bt.BacktestConfig(strategy="weekly")
    table = sensitivity(m, config, "alvh")
    assert len(table) == len(SENSITIVITY) and table.iloc[0]["assumption"] == "the model"
    base = bt.run_backtest(m, config, ("none", "alvh"))
    assert table.iloc[0]["cagr"] == pytest.approx(base.stats["alvh"].performance.cagr)
    assert table["beats_smaller"].tolist() == (table["cagr"] > table["smaller_cagr"]).tolist()
    # Dearer VIX options (vol × 1.2) cost more premium than cheaper ones (× 0.8), the same contracts bought.
    dear = bt.run_backtest(m, bt.BacktestConfig(strategy="weekly", vix_vol_scale=1.2), ("alvh",), smaller=False)
    cheap = bt.run_backtest(m, bt.BacktestConfig(strategy="weekly", vix_vol_scale=0.8), ("alvh",), smaller=False)
    assert dear.hedges["alvh"].trades["price"].mean() > cheap.hedges["alvh"].trades["price"].mean()
    close = bt.run_backtest(m, bt.BacktestConfig(strategy="weekly", settlement="close"), ("none", "alvh"))
    row = table[table["assumption"] == "settlement"].iloc[0]
    assert row["cagr"] == pytest.approx(close.stats["alvh"].performance.cagr)


def test_frontier_end_points_are_the_plain_runs(backtest_market):
    """Scale 0 is the unhedged run and "trade smaller" at fraction 1 is the unhedged run, to 1e-9; the scale-1
    point is the plain hedged run; a point is above the line exactly where its excess beats the line there."""
    from alvh_core.history import backtest as bt
    from alvh_core.history import studies

    m = backtest_market.window("2018-01-02", "2020-12-31")
    config = bt.BacktestConfig(strategy="weekly")
    front = studies.frontier(m, config, ("alvh",), scales=(0.0, 0.5, 1.0), fractions=(0.0, 0.5, 1.0, 2.0))
    plain = bt.run_backtest(m, config, ("none", "alvh"), smaller=False)
    points = front.points.set_index("scale")
    assert points.loc[0.0, "cagr"] == pytest.approx(plain.stats["none"].performance.cagr, abs=1e-9)
    assert points.loc[1.0, "cagr"] == pytest.approx(plain.stats["alvh"].performance.cagr, abs=1e-9)
    line = front.smaller.set_index("fraction")
    assert line.loc[1.0, "cagr"] == pytest.approx(plain.stats["none"].performance.cagr, abs=1e-9)
    assert line.loc[0.0, "max_drawdown"] < 1e-4 and abs(line.loc[0.0, "excess_cagr"]) < 1e-4   # T-bills alone
    ordered = front.smaller.sort_values("max_drawdown")
    for row in front.points.itertuples():
        if row.above_smaller is not None:
            at = np.interp(row.max_drawdown, ordered["max_drawdown"], ordered["excess_cagr"])
            assert row.above_smaller == (row.excess_cagr > at)
    assert "ALVH 40/40/20 lies above the line" in front.sentence()
    with pytest.raises(ValueError):
        studies.frontier(m, config, risk="sharpe")


def test_hedge_scale_zero_buys_nothing_and_two_doubles_the_target():
    from alvh_core.model.market import DEFAULT_MARKET
    from alvh_core.model.regime import classify_regime
    from alvh_core.strategy.hedge import HedgeSettings, build_hedge

    regime = classify_regime(DEFAULT_MARKET.vix)
    one = build_hedge(DEFAULT_MARKET, regime, 14.0, 100_000.0, HedgeSettings(), position_max_loss=5_000.0)
    two = build_hedge(DEFAULT_MARKET, regime, 14.0, 100_000.0, HedgeSettings(scale=2.0), position_max_loss=5_000.0)
    none = build_hedge(DEFAULT_MARKET, regime, 14.0, 100_000.0, HedgeSettings(scale=0.0), position_max_loss=5_000.0)
    assert two.target_vix_notional == pytest.approx(2 * one.target_vix_notional)
    assert none.target_vix_notional == 0.0 and all(layer.contracts == 0 for layer in none.layers)
    with pytest.raises(ValueError):
        HedgeSettings(scale=-1.0)
