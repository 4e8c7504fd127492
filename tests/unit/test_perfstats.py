"""Equity statistics against known market facts and textbook cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alvh_core.history.stats import drawdown, performance


@pytest.mark.data
def test_spx_figures_everyone_knows(data_dir):
    spx = pd.read_csv(data_dir / "SPX_History.csv")
    spx.index = pd.to_datetime(spx["DATE"], format="%m/%d/%Y")
    close = spx["CLOSE"].round(2)
    crisis = performance(close.loc["2007-10-09":"2009-03-09"])
    assert crisis.max_drawdown == pytest.approx(1 - 676.53 / 1565.15, abs=1e-6)   # the 2007-09 bear market, 56.8 %
    assert crisis.worst_day == pytest.approx(close["2008-10-15"] / close["2008-10-14"] - 1)  # −9.0 %, the worst day
    assert crisis.worst_day < -0.09
    year = performance(close.loc["2007-12-31":"2008-12-31"])
    assert year.total_return == pytest.approx(903.25 / 1468.36 - 1, abs=1e-6)     # 2008: −38.5 %
    assert year.worst_month == pytest.approx(968.75 / 1166.36 - 1, abs=1e-6)      # October 2008: −16.9 %


def test_textbook_cases():
    days = pd.bdate_range("2020-01-01", periods=253)
    steady = pd.Series(100 * 1.0002 ** np.arange(253), index=days)
    stats = performance(steady)
    assert stats.cagr == pytest.approx(1.0002**252 - 1) and stats.max_drawdown == 0 and stats.win_rate == 1.0
    rng = np.random.default_rng(3)
    returns = rng.normal(0.0004, 0.01, 252)
    equity = pd.Series(100 * np.cumprod(np.concatenate([[1.0], 1 + returns])), index=days)
    stats = performance(equity)
    assert stats.sharpe == pytest.approx(returns.mean() / returns.std(ddof=1) * np.sqrt(252))
    assert stats.volatility == pytest.approx(returns.std(ddof=1) * np.sqrt(252))
    downside = np.sqrt(np.mean(np.minimum(returns, 0) ** 2))
    assert stats.sortino == pytest.approx(returns.mean() / downside * np.sqrt(252))
    peak = equity.cummax()
    assert drawdown(equity).max() == pytest.approx(((peak - equity) / peak).max())
    with pytest.raises(ValueError):
        performance(pd.Series([100.0, -1.0], index=days[:2]))
