"""Studies on a backtest: replays of real episodes, the seeds' claims, sweeps.

* :func:`replay`: each scheme's P/L through a window (a real episode or any
  dates), layer by layer, from the book as it stood at the window's start;
  with :func:`futures_beside_model`, the VIX futures' own settlements next
  to the proxy the hedge was marked on, where the CFE files cover the dates.
* :func:`scale_sweep`: max drawdown against contracts per entry, with and
  without the hedge (seed 003's claim that drawdowns stay contained from 10
  to 200 contracts).
* :func:`layered_versus_single`: the 40/40/20 ALVH against one VIX call on
  the same budget (seed 004's claim).
* :func:`sweep`: many configurations, sharing the condor marks between the
  ones that trade the same condors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from alvh_core.data.closes import read_vx_continuous, vx_files
from alvh_core.history.backtest import BacktestConfig, BacktestResult, MarketArrays, run_backtest
from alvh_core.history.stats import drawdown
from alvh_core.model import over_days
from alvh_core.model.vixfutures import expiries_after
from alvh_core.strategy.hedge import RESULT_LABELS

SCALE_CONTRACTS = (10, 25, 50, 100, 200)


def replay(result: BacktestResult, start, end) -> pd.DataFrame:
    """Cumulative P/L (dollars) after the close of ``start`` through ``end``: the condors, each
    scheme's hedge, each hedge layer, and each scheme's combined book."""
    index = pd.DatetimeIndex(result.market.dates)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    inside = (index > start) & (index <= end)
    if inside.sum() < 1:
        raise ValueError("the replay window holds no trading day after its start")
    first = np.flatnonzero(index <= start)
    rows = np.r_[first[-1:] if first.size else [], np.flatnonzero(inside)].astype(int)
    out = pd.DataFrame(index=index[rows])

    def path(daily):
        values = np.asarray(daily, float)[rows].copy()
        values[0] = 0.0 if first.size else values[0]
        return np.cumsum(values)

    out["Condors"] = path(result.condor.daily_pnl)
    for scheme, book in result.hedges.items():
        if book is None or scheme == "none":
            continue
        out[f"{RESULT_LABELS[scheme]}: hedge"] = path(book.daily_pnl)
        for layer, pnl in book.layer_pnl.items():
            if len(book.layer_pnl) > 1:
                out[f"{RESULT_LABELS[scheme]}: {layer}"] = path(pnl)
        out[f"{RESULT_LABELS[scheme]}: condors + hedge"] = out["Condors"] + out[f"{RESULT_LABELS[scheme]}: hedge"]
    out["SPX"] = result.market.spx[rows]
    out["VIX"] = result.market.vix[rows]
    return out


def futures_beside_model(data_dir: Path | None, m: MarketArrays, start, end) -> pd.DataFrame | None:
    """The first two VIX futures as settled (CFE files ``VX1_continuous.csv``, ``VX2_continuous.csv``)
    beside the proxy for the same expiries, over ``start``..``end``; None where no file covers it.
    A file that is not CFE's layout raises ``HistoryFormatError``."""
    if data_dir is None:
        return None
    files = vx_files(data_dir)
    if files is None:
        return None
    real = pd.DataFrame({"VX1 settled": read_vx_continuous(files[0]), "VX2 settled": read_vx_continuous(files[1])})
    index = pd.DatetimeIndex(m.dates)
    mask = (index >= pd.Timestamp(start)) & (index <= pd.Timestamp(end))
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return None
    real = real.reindex(index[rows])
    if real.notna().sum().sum() == 0:
        return None
    days = np.array([[(e - d.date()).days for e in expiries_after(d.date(), 2)] for d in index[rows]], float)
    out = real.copy()
    for j, name in enumerate(("VX1 model", "VX2 model")):
        out[name] = over_days.futures_proxy(m.nodes[rows], m.vix[rows], m.vix3m[rows], m.vvix[rows], days[:, j])
    out["VIX"] = m.vix[rows]
    return out[["VIX", "VX1 settled", "VX1 model", "VX2 settled", "VX2 model"]]


def scale_sweep(m: MarketArrays, config: BacktestConfig, contracts=SCALE_CONTRACTS, scheme: str = "alvh",
                capital_per_contract: float = 50_000.0, progress=None) -> pd.DataFrame:
    """Max drawdown (dollars, and % of an account of ``capital_per_contract`` per contract) with and
    without the hedge as the book grows; the hedge sized to the open condors' max loss (seed 001's
    $ of VIX notional per $ of risk), so it grows with the book in whole contracts."""
    rows = []
    for i, n in enumerate(contracts):
        if progress:
            progress(i / len(contracts), f"{n} contracts")
        hedge = replace(config.hedge, sizing="max_loss")
        cfg = replace(config, contracts=int(n), capital=float(n) * capital_per_contract, hedge=hedge, risk_pct=None)
        result = run_backtest(m, cfg, ("none", scheme), smaller=False)
        row = {"contracts": int(n), "capital": cfg.capital}
        for name in ("none", scheme):
            equity = result.equity[name]
            peak_fall = float((equity.cummax() - equity).max())
            row[f"{name}_max_drawdown"] = peak_fall
            row[f"{name}_max_drawdown_pct"] = float(drawdown(equity.clip(lower=1.0)).max())
            row[f"{name}_cagr"] = result.stats[name].performance.cagr
        row["hedge_contracts_mean"] = float(result.hedges[scheme].trades["contracts"].mean())
        rows.append(row)
    if progress:
        progress(1.0, "done")
    return pd.DataFrame(rows)


def layered_versus_single(result: BacktestResult) -> pd.DataFrame:
    """The 40/40/20 ALVH beside one VIX call on the same regime budget (both in ``result``)."""
    rows = []
    for scheme in ("alvh", "single"):
        if scheme not in result.stats:
            raise ValueError("the run needs both the 'alvh' and the 'single' schemes")
        s = result.stats[scheme]
        book = result.hedges[scheme]
        rows.append({"scheme": RESULT_LABELS[scheme], "cagr": s.performance.cagr,
                     "max_drawdown": s.performance.max_drawdown, "sharpe": s.performance.sharpe,
                     "worst_month": s.performance.worst_month, "hedge_pnl": s.hedge_pnl,
                     "premium_paid": book.premium, "hedge_in_10_worst_weeks": s.worst_weeks_hedge,
                     "hedge_per_premium_dollar": s.hedge_pnl / book.premium if book.premium else 0.0})
    return pd.DataFrame(rows)


def sweep(m: MarketArrays, configs: list[BacktestConfig], schemes=("none", "alvh"), progress=None) -> pd.DataFrame:
    """Each configuration's headline statistics (one row each); configurations trading the same
    condors share their marks."""
    rows = []
    for i, config in enumerate(configs):
        if progress:
            progress(i / max(len(configs), 1), f"configuration {i + 1} of {len(configs)}")
        result = run_backtest(m, config, schemes, smaller=False)
        row = {"strategy": config.strategy, "tier": config.tier.name, "fill_share": config.costs.fill_share,
               "profit_target": config.management.profit_target, "stop": config.management.stop,
               "exit_days": config.management.exit_days}
        for name in schemes:
            p = result.stats[name].performance
            row |= {f"{name}_cagr": p.cagr, f"{name}_max_drawdown": p.max_drawdown, f"{name}_sharpe": p.sharpe}
        rows.append(row)
    if progress:
        progress(1.0, "done")
    return pd.DataFrame(rows)


# --- the verdict's tables: by year, by start date ---------------------------------------------------

#: Start dates every verdict is read from: the data's first day, VIX options' listing, the 2008 low, 2013.
START_DATES = ("1990-01-02", "2006-02-24", "2008-11-20", "2013-01-02")


def tbill_cagr(m: MarketArrays) -> float:
    """The T-bill account's yearly growth over ``m`` (the rate the backtest's cash earns)."""
    from alvh_core.history.backtest import equity_curve

    bills = equity_curve(m, np.zeros(m.size), 1.0, True)
    years = max((m.dates[-1] - m.dates[0]).astype(float) / 365.25, 1 / 365.25)
    return float(bills[-1] ** (1.0 / years) - 1.0)


def excess(cagr: float, bills: float) -> float:
    """A yearly growth over the T-bill account's: (1 + cagr) / (1 + bills) − 1."""
    return (1.0 + cagr) / (1.0 + bills) - 1.0


def per_year(result: BacktestResult, scheme: str) -> pd.DataFrame:
    """Each calendar year of ``scheme``'s run: the condors' P/L and credit, each hedge layer's premium and P/L,
    the premium over the condors' credit, and the median over the year's days of the VIX notional held over
    the condors' open max loss (the VIX notional of each position as bought: contracts × 100 × its future)."""
    m = result.market
    years = m.dates.astype("datetime64[Y]").astype(int) + 1970
    book = result.condors.get(scheme) or result.condor
    hedge = result.hedges.get(scheme)
    frame = pd.DataFrame({"year": years, "condor_pnl": book.daily_pnl})
    credit = np.bincount(book.entry, weights=book.credit_dollars, minlength=m.size)
    frame["condor_credit"] = credit
    notional = np.zeros(m.size + 1)
    layers = []
    if hedge is not None:
        for layer, pnl in hedge.layer_pnl.items():
            frame[f"{layer}_pnl"] = pnl
            t = hedge.trades[hedge.trades["layer"] == layer]
            bought = np.searchsorted(m.dates, t["bought"].to_numpy().astype("datetime64[D]"))
            sold = np.searchsorted(m.dates, t["sold"].to_numpy().astype("datetime64[D]"))
            frame[f"{layer}_premium"] = np.bincount(bought, weights=t["cost"].to_numpy(float), minlength=m.size)
            held = t["contracts"].to_numpy(float) * 100.0 * t["future"].to_numpy(float)
            np.add.at(notional, bought, held)
            np.add.at(notional, sold, -held)
            layers.append(layer)
    frame["vix_notional"] = np.cumsum(notional[: m.size])
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["notional_per_max_loss"] = np.where(book.open_max_loss > 0, frame["vix_notional"] / book.open_max_loss,
                                                  np.nan)
    sums = frame.drop(columns=["vix_notional", "notional_per_max_loss"]).groupby("year").sum()
    out = pd.DataFrame({"year": sums.index, "condor_pnl": sums["condor_pnl"].to_numpy(),
                        "condor_credit": sums["condor_credit"].to_numpy()})
    premium = np.zeros(len(out))
    for layer in layers:
        out[f"{layer.lower()}_premium"] = sums[f"{layer}_premium"].to_numpy()
        out[f"{layer.lower()}_pnl"] = sums[f"{layer}_pnl"].to_numpy()
        premium += sums[f"{layer}_premium"].to_numpy()
    out["hedge_premium"] = premium
    out["hedge_pnl"] = sum((out[f"{layer.lower()}_pnl"] for layer in layers), np.zeros(len(out)))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["premium_over_credit"] = np.where(out["condor_credit"] > 0, premium / out["condor_credit"], np.nan)
    out["median_notional_per_max_loss"] = frame.groupby("year")["notional_per_max_loss"].median().to_numpy()
    return out


def start_date_table(m: MarketArrays, config: BacktestConfig, schemes=("none", "alvh"), starts=START_DATES,
                     progress=None) -> pd.DataFrame:
    """The same run from each start date to the data's end: per start and result (each scheme and trading
    smaller), CAGR, the excess over T-bills, max drawdown, and the T-bill account's CAGR beside them.  Starts
    outside the data are left out."""
    rows = []
    inside = [s for s in starts if m.dates[0] <= np.datetime64(pd.Timestamp(s).date(), "D") < m.dates[-1]]
    for i, start in enumerate(inside):
        if progress:
            progress(i / max(len(inside), 1), f"from {start}")
        window = m.window(start, None)
        result = run_backtest(window, config, schemes, smaller="none" in schemes and len(schemes) > 1)
        bills = tbill_cagr(window)
        for name in result.equity:
            perf = result.stats[name].performance
            rows.append({"start": str(start), "result": name, "cagr": perf.cagr,
                         "excess_cagr": excess(perf.cagr, bills), "max_drawdown": perf.max_drawdown,
                         "tbill_cagr": bills, "ruined": result.stats[name].ruined})
    return pd.DataFrame(rows, columns=["start", "result", "cagr", "excess_cagr", "max_drawdown", "tbill_cagr",
                                       "ruined"])


#: The assumptions a verdict may hang on, each moved one way and the other: (what, how, the config's change).
SENSITIVITY = (
    ("the model", "as fitted", {}),
    ("VIX-option vol", "× 0.8", {"vix_vol_scale": 0.8}),
    ("VIX-option vol", "× 1.2", {"vix_vol_scale": 1.2}),
    ("VIX call skew", "0", {"call_skew": 0.0}),
    ("VIX call skew", "× 2", {"call_skew": "double"}),
    ("VIX half spread", "floor 0.025 points", {"vix_half_spread": 0.025}),
    ("VIX half spread", "floor 0.10 points", {"vix_half_spread": 0.10}),
    ("settlement", "at the close", {"settlement": "close"}),
)


def _varied(config: BacktestConfig, change: dict) -> BacktestConfig:
    """``config`` with one assumption of :data:`SENSITIVITY` changed."""
    out = config
    for key, value in change.items():
        if key == "call_skew":
            skew = 2.0 * config.hedge.call_skew if value == "double" else float(value)
            out = replace(out, hedge=replace(out.hedge, call_skew=skew))
        elif key == "vix_half_spread":
            out = replace(out, costs=replace(out.costs, vix_half_spread=float(value)))
        else:
            out = replace(out, **{key: value})
    return out


def sensitivity(m: MarketArrays, config: BacktestConfig, scheme: str = "alvh", progress=None) -> pd.DataFrame:
    """``scheme`` against trading smaller at its risk, with each assumption of :data:`SENSITIVITY` moved: CAGR,
    over T-bills, max drawdown, trading smaller's CAGR, and whether the scheme beat it.  Which row flips the
    verdict is the assumption the verdict hangs on."""
    bills = tbill_cagr(m)
    rows = []
    for i, (what, how, change) in enumerate(SENSITIVITY):
        if progress:
            progress(i / len(SENSITIVITY), f"{what} {how}")
        result = run_backtest(m, _varied(config, change), ("none", scheme))
        perf, small = result.stats[scheme].performance, result.stats["smaller"].performance
        rows.append({"assumption": what, "value": how, "cagr": perf.cagr, "excess_cagr": excess(perf.cagr, bills),
                     "max_drawdown": perf.max_drawdown, "smaller_cagr": small.cagr,
                     "beats_smaller": bool(perf.cagr > small.cagr)})
    return pd.DataFrame(rows)


# --- the frontier: how much hedge, if any, beats trading smaller ---------------------------------------

#: Hedge sizes tried, as multiples of the scheme's rule (0 is the unhedged run).
FRONTIER_SCALES = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
#: "Trade smaller" sizes, as fractions of the condors' risk share (1 is the unhedged run, 0 T-bills alone).
SMALLER_FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
#: Risk axes of the frontier: the max drawdown, or the CVaR 95 % of the worst weeks.
FRONTIER_RISKS = ("drawdown", "cvar")


@dataclass(frozen=True)
class Frontier:
    """Each scheme at each hedge size against the line of the unhedged condors at each size."""

    points: pd.DataFrame      # scheme, scale, cagr, excess_cagr, max_drawdown, cvar_worst_weeks, above_smaller
    smaller: pd.DataFrame     # fraction, cagr, excess_cagr, max_drawdown, cvar_worst_weeks
    risk: str
    tbills: float

    def sentence(self) -> str:
        """For each scheme, at which sizes (if any) it earns more over T-bills than trading smaller at the same
        risk."""
        parts = []
        for scheme, rows in self.points[self.points["scale"] > 0].groupby("scheme", sort=False):
            above = rows.loc[rows["above_smaller"] == True, "scale"]   # noqa: E712 (None is unknown)
            label = RESULT_LABELS.get(scheme, scheme)
            parts.append(f"{label} lies above the line at {', '.join(f'{x:g}×' for x in above)} its rule's size"
                         if len(above) else f"{label} lies above the line at no size tried")
        axis = "max drawdown" if self.risk == "drawdown" else "CVaR 95 % of its weeks"
        return ("; ".join(parts) + f" (risk: the {axis}; the line runs from T-bills through the unhedged condors "
                "at 0.25 to 3× their size). Model-priced.")


def _point(m: MarketArrays, curve: np.ndarray, bills: float) -> dict:
    from alvh_core.history.backtest import book_risk
    from alvh_core.history.stats import performance

    index = pd.DatetimeIndex(m.dates)
    perf = performance(pd.Series(np.maximum(curve, 1.0), index=index))
    return {"cagr": perf.cagr, "excess_cagr": excess(perf.cagr, bills), "max_drawdown": perf.max_drawdown,
            "cvar_worst_weeks": book_risk(m, curve, "cvar")}


def frontier(m: MarketArrays, config: BacktestConfig, schemes=("alvh",), scales=FRONTIER_SCALES,
             fractions=SMALLER_FRACTIONS, risk: str = "drawdown", progress=None) -> Frontier:
    """Every scheme of ``schemes`` with its hedge at each multiple of ``scales`` of its rule, and the unhedged
    condors at each of ``fractions`` of their risk share; a point is above the line where it earns more over
    T-bills than the line at its risk (None: outside the line's risk range)."""
    from alvh_core.history.backtest import condor_only_equity

    if risk not in FRONTIER_RISKS:
        raise ValueError(f"the frontier's risk axis must be one of {FRONTIER_RISKS}")
    tell = progress or (lambda fraction, text: None)
    bills = tbill_cagr(m)
    total = len(fractions) + len(schemes) * len(scales)
    done = 0
    small = []
    for f in fractions:
        small.append({"fraction": float(f)} | _point(m, condor_only_equity(m, config, float(f)), bills))
        done += 1
        tell(done / total, "trade smaller")
    smaller = pd.DataFrame(small)
    axis = "max_drawdown" if risk == "drawdown" else "cvar_worst_weeks"
    line = smaller.sort_values(axis)
    rows = []
    for scheme in schemes:
        for s in scales:
            run = run_backtest(m, replace(config, hedge=replace(config.hedge, scale=float(s))), (scheme,),
                               smaller=False)
            point = {"scheme": scheme, "scale": float(s)} | _point(m, run.equity[scheme].to_numpy(), bills)
            x = point[axis]
            inside = line[axis].min() <= x <= line[axis].max()
            point["above_smaller"] = (bool(point["excess_cagr"] > np.interp(x, line[axis], line["excess_cagr"]))
                                      if inside else None)
            rows.append(point)
            done += 1
            tell(done / total, RESULT_LABELS.get(scheme, scheme))
    return Frontier(pd.DataFrame(rows), smaller, risk, bills)
