"""Performance statistics of a daily equity curve (the backtest's outputs).

Conventions: 252 trading days a year; returns are simple daily returns of
the equity; Sharpe and Sortino use the excess over the daily risk-free rate
when one is given (T-bill, continuously compounded decimal a year), else the
raw returns; Sortino's downside deviation is the root mean square of the
negative excess returns over all days; max drawdown is the largest fall from
a running peak, as a positive share; Calmar is CAGR over max drawdown; the
worst month is the worst calendar-month return; the win rate is the share of
days with a positive return.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alvh_core.model.pricing import TRADING_DAYS_PER_YEAR


@dataclass(frozen=True)
class Performance:
    days: int
    start: str
    end: str
    total_return: float
    cagr: float
    volatility: float       # annualised
    sharpe: float
    sortino: float
    max_drawdown: float     # positive share of the peak
    calmar: float
    worst_day: float
    worst_month: float
    win_rate: float


def drawdown(equity: pd.Series) -> pd.Series:
    """Fall from the running peak at each date, as a share (0 at a new high, positive below it)."""
    values = equity.to_numpy(float)
    peak = np.maximum.accumulate(values)
    return pd.Series(1.0 - values / peak, index=equity.index)


def performance(equity: pd.Series, risk_free: pd.Series | None = None) -> Performance:
    """Statistics of a daily equity curve (index: dates, values: positive account values)."""
    equity = equity.dropna()
    if len(equity) < 2:
        raise ValueError("performance needs at least two days of equity")
    values = equity.to_numpy(float)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError("equity must be finite and positive")
    returns = values[1:] / values[:-1] - 1.0
    excess = returns
    if risk_free is not None:
        rate = risk_free.reindex(equity.index).ffill().bfill().to_numpy(float)[1:]
        excess = returns - (np.exp(np.nan_to_num(rate) / TRADING_DAYS_PER_YEAR) - 1.0)
    years = len(returns) / TRADING_DAYS_PER_YEAR
    total = values[-1] / values[0] - 1.0
    cagr = (values[-1] / values[0]) ** (1.0 / years) - 1.0
    sd = float(np.std(returns, ddof=1)) if len(returns) > 1 else 0.0
    downside = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)))
    mean_excess = float(np.mean(excess))
    dd = float(drawdown(equity).max())
    monthly = equity.resample("ME").last()
    month_returns = monthly.pct_change().dropna()
    first_month = monthly.iloc[0] / values[0] - 1.0  # the partial first month counts too
    worst_month = float(min([first_month, *month_returns.tolist()]))
    return Performance(
        days=len(values), start=str(equity.index[0].date()), end=str(equity.index[-1].date()),
        total_return=float(total), cagr=float(cagr), volatility=sd * np.sqrt(TRADING_DAYS_PER_YEAR),
        sharpe=mean_excess / sd * np.sqrt(TRADING_DAYS_PER_YEAR) if sd > 0 else 0.0,
        sortino=mean_excess / downside * np.sqrt(TRADING_DAYS_PER_YEAR) if downside > 0 else 0.0,
        max_drawdown=dd, calmar=float(cagr) / dd if dd > 0 else 0.0,
        worst_day=float(returns.min()), worst_month=worst_month, win_rate=float(np.mean(returns > 0)))
