"""The signals that move the hedge inside its regime band, and the stress score.

Each signal is turned into a stress reading in [0, 1] (0 calm, 1 stressed)
by a published, monotone map; the stress score is their weighted mean over
the signals that are available.  Weights are editable (:class:`SignalWeights`).

Indicators (textbook definitions):

* RSI(14), Wilder's smoothing (exponential with alpha = 1/14);
* MACD(12, 26, 9): EMA12 − EMA26, its 9-day EMA as the signal line, the
  histogram as their difference;
* z-score of the VIX − VIX3M spread over 60 sessions (|z| > 0.8 is the
  rebalance trigger of seed 003).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import numpy as np
import pandas as pd

from alvh_core.data.events import EventCalendar
from alvh_core.model.regime import Regime, classify_regime
from alvh_core.strategy.hedge import STATIC_BUDGET_PCT

SPREAD_Z_WINDOW = 60
REBALANCE_Z = 0.8
#: Hedge budget bands, % of strategy notional (seed 001), and the static rule.
HEDGE_BANDS = {"Low": (6.0, 8.0), "Moderate": (12.0, 18.0), "High": (25.0, 35.0)}


@dataclass(frozen=True)
class SignalWeights:
    """Weights of each signal in the stress score (renormalised over the
    signals that are available)."""

    rsi_vix: float = 0.15
    macd_vix: float = 0.10
    macd_spx: float = 0.10
    term_vix_vix3m: float = 0.20
    term_vix9d_vix: float = 0.10
    breadth: float = 0.10
    events: float = 0.10
    spread_z: float = 0.15

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"weight {f.name} must be a non-negative number")
        if sum(getattr(self, f.name) for f in fields(self)) <= 0:
            raise ValueError("at least one weight must be positive")


SIGNAL_LABELS = {
    "rsi_vix": "RSI(14) of VIX",
    "macd_vix": "MACD(12,26,9) of VIX",
    "macd_spx": "MACD(12,26,9) of SPX",
    "term_vix_vix3m": "VIX / VIX3M",
    "term_vix9d_vix": "VIX9D / VIX",
    "breadth": "Breadth proxy RSP/SPY (a proxy for the A/D line)",
    "events": "Days to next FOMC/CPI/PPI",
    "spread_z": "z-score of VIX − VIX3M (60 d)",
}


@dataclass(frozen=True)
class SignalReading:
    key: str
    label: str
    value: float | None     # the raw reading (None when unavailable)
    stress: float | None    # mapped to [0, 1]
    weight: float
    contribution: float     # share of the stress score (0 when unavailable)
    detail: str


@dataclass(frozen=True)
class RegimeReport:
    """Everything the Regime page and ``regime`` command show for one day."""

    asof: str
    source: str
    levels: dict                 # spx, vix, vix9d, vix3m, vix6m, vvix (None if unknown)
    regime: Regime
    stress_score: float
    signals: tuple[SignalReading, ...]
    hedge_budget_pct: float
    hedge_band: tuple[float, float]
    static_hedge_pct: float
    rebalance_trigger: bool
    term_structure: str          # "contango", "backwardation" or "flat"/"unknown"
    next_events: tuple            # NextEvent per kind
    notes: tuple[str, ...] = ()

    def gate_readings(self, typed_rsi: float | None = None,
                      typed_falling: bool | None = None) -> tuple[float | None, bool | None, str, str]:
        """The 2 % gate's two market readings: RSI(14) of VIX and whether the breadth proxy falls,
        from history where the report has them, else what the user typed (None: not given, so
        unknown); with where each came from (``"history"``, ``"typed"`` or ``"unknown"``)."""
        reading = {s.key: s.value for s in self.signals}
        rsi_value, breadth = reading.get("rsi_vix"), reading.get("breadth")
        if rsi_value is not None and np.isfinite(rsi_value):
            rsi_pair = (float(rsi_value), "history")
        else:
            rsi_pair = (None, "unknown") if typed_rsi is None else (float(typed_rsi), "typed")
        if breadth is not None and np.isfinite(breadth):
            falling_pair = (bool(breadth < 0), "history")
        else:
            falling_pair = (None, "unknown") if typed_falling is None else (bool(typed_falling), "typed")
        return rsi_pair[0], falling_pair[0], rsi_pair[1], falling_pair[1]


# --- indicators -----------------------------------------------------------------

def rsi(series: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's RSI in [0, 100].

    The first average gain and loss are simple means of the first ``period``
    changes; after that each is smoothed as ``(prev·(period−1) + today)/period``.
    """
    values = series.dropna()
    delta = values.diff().iloc[1:]
    out = pd.Series(np.nan, index=values.index)
    if len(delta) < period:
        return out
    gains, losses = delta.clip(lower=0.0), (-delta).clip(lower=0.0)

    def wilder(x: pd.Series) -> pd.Series:
        seeded = x.iloc[period - 1:].copy()
        seeded.iloc[0] = x.iloc[:period].mean()
        return seeded.ewm(alpha=1.0 / period, adjust=False).mean()

    avg_gain, avg_loss = wilder(gains), wilder(losses)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    value = value.where(avg_loss > 0, 100.0)
    out.loc[value.index] = value
    return out


def macd(series: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """MACD line, signal line and histogram."""
    line = series.ewm(span=fast, adjust=False).mean() - series.ewm(span=slow, adjust=False).mean()
    signal_line = line.ewm(span=signal, adjust=False).mean()
    return pd.DataFrame({"macd": line, "signal": signal_line, "histogram": line - signal_line})


def spread_zscore(vix: pd.Series, vix3m: pd.Series, window: int = SPREAD_Z_WINDOW) -> pd.Series:
    """z-score of VIX − VIX3M against its own trailing ``window`` sessions."""
    spread = (vix - vix3m).dropna()
    mean = spread.rolling(window, min_periods=window).mean()
    std = spread.rolling(window, min_periods=window).std()
    return ((spread - mean) / std.where(std > 0)).dropna()


def _logistic(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-np.clip(x, -50, 50))))


def _ramp(x: float, calm: float, stressed: float) -> float:
    """0 at ``calm``, 1 at ``stressed``, linear between, clipped."""
    return float(np.clip((x - calm) / (stressed - calm), 0.0, 1.0))


def _standardised_histogram(frame: pd.DataFrame, window: int = 60) -> float | None:
    hist = frame["histogram"].dropna()
    if len(hist) < window:
        return None
    scale = hist.iloc[-window:].std()
    return float(hist.iloc[-1] / scale) if scale > 0 else 0.0


# --- the report -----------------------------------------------------------------

def hedge_budget(regime: Regime, stress_score: float, bands: dict | None = None) -> tuple[float, tuple[float, float]]:
    """Hedge budget, % of notional: the regime's band, placed by the score."""
    low, high = (bands or HEDGE_BANDS)[regime.name]
    return low + float(np.clip(stress_score, 0.0, 1.0)) * (high - low), (low, high)


def regime_report(panel: pd.DataFrame | None, asof: date | str | None, levels: dict, source: str,
                  calendar: EventCalendar, breadth: pd.Series | None = None,
                  weights: SignalWeights | None = None, low_max: float = 15.0, high_min: float = 25.0,
                  bands: dict | None = None, regime_level: float | None = None) -> RegimeReport:
    """Regime, signals and stress score on ``asof``.

    ``panel``: daily closes (columns spx, vix, vix3m, vix9d ...) up to and
    including ``asof``, or None when no history is available (then only the
    signals that need no history are read).  ``levels``: today's values.
    ``breadth``: RSP/SPY closes, optional.  ``regime_level``: classify the
    regime on this level (e.g. the VIX future matching the hedge tenor)
    instead of spot VIX.
    """
    weights = weights or SignalWeights()
    asof_day = pd.Timestamp(asof).date() if asof else date.today()
    notes: list[str] = []
    raw: dict[str, tuple[float | None, float | None, str]] = {}

    def history(col: str) -> pd.Series | None:
        if panel is None or col not in panel:
            return None
        s = panel[col].loc[: pd.Timestamp(asof_day)].dropna()
        return s if len(s) > 0 else None

    vix_hist, spx_hist, vix3m_hist = history("vix"), history("spx"), history("vix3m")
    if vix_hist is not None and len(vix_hist) >= 30:
        value = float(rsi(vix_hist).iloc[-1])
        raw["rsi_vix"] = (value, _ramp(value, 30.0, 70.0), "70 and above: VIX momentum up")
    else:
        raw["rsi_vix"] = (None, None, "needs 30 days of VIX history")
    for key, series, sign, what in (("macd_vix", vix_hist, 1.0, "VIX"), ("macd_spx", spx_hist, -1.0, "SPX")):
        z = _standardised_histogram(macd(series)) if series is not None and len(series) >= 90 else None
        if z is None:
            raw[key] = (None, None, f"needs 90 days of {what} history")
        else:
            direction = "rising" if z > 0 else "falling"
            raw[key] = (z, _logistic(sign * z), f"histogram {z:+.2f} sd ({what} momentum {direction})")
    vix, vix3m, vix9d = levels.get("vix"), levels.get("vix3m"), levels.get("vix9d")
    if vix and vix3m:
        ratio = vix / vix3m
        raw["term_vix_vix3m"] = (ratio, _ramp(ratio, 0.85, 1.05), "≥ 1 is backwardation")
    else:
        raw["term_vix_vix3m"] = (None, None, "needs VIX3M")
    if vix and vix9d:
        ratio = vix9d / vix
        raw["term_vix9d_vix"] = (ratio, _ramp(ratio, 0.85, 1.10), "above 1: near-term stress priced")
    else:
        raw["term_vix9d_vix"] = (None, None, "needs VIX9D")
    if breadth is not None and len(breadth.loc[: pd.Timestamp(asof_day)].dropna()) >= 60:
        b = breadth.loc[: pd.Timestamp(asof_day)].dropna()
        change = float(np.log(b.iloc[-1] / b.iloc[-21]))
        scale = float(np.log(b).diff(20).iloc[-250:].std()) or 1.0
        trend = "falling" if change < 0 else "rising"
        raw["breadth"] = (change, _logistic(-change / scale), f"20-day change {change:+.2%} ({trend})")
    else:
        raw["breadth"] = (None, None, "needs RSP and SPY history (live data)")
    nxt = calendar.next_any(asof_day)
    if nxt.days_away is None:
        raw["events"] = (None, None, nxt.note)
    else:
        raw["events"] = (float(nxt.days_away), _ramp(-nxt.days_away, -7.0, 0.0),
                         f"{nxt.kind} on {nxt.day.isoformat()} ({nxt.days_away} days)")
    z_series = spread_zscore(vix_hist, vix3m_hist) if vix_hist is not None and vix3m_hist is not None else None
    fresh = asof_day - pd.Timedelta(days=7).to_pytimedelta()  # a stale z-score is no reading
    if z_series is not None and len(z_series) > 0 and z_series.index[-1].date() >= fresh:
        z = float(z_series.iloc[-1])
        raw["spread_z"] = (z, _logistic(z), f"|z| > {REBALANCE_Z} triggers a rebalance")
    else:
        z = None
        raw["spread_z"] = (None, None, f"needs {SPREAD_Z_WINDOW} days of VIX and VIX3M history")

    available = {k: v for k, v in raw.items() if v[1] is not None and getattr(weights, k) > 0}
    total_weight = sum(getattr(weights, k) for k in available)
    score = sum(getattr(weights, k) * v[1] for k, v in available.items()) / total_weight if total_weight else 0.0
    if not total_weight:
        notes.append("no signal is available: the stress score is 0 and the budget sits at the bottom of the band")
    readings = tuple(
        SignalReading(k, SIGNAL_LABELS[k], v[0], v[1], getattr(weights, k),
                      (getattr(weights, k) * v[1] / total_weight) if (k in available) else 0.0, v[2])
        for k, v in raw.items())
    regime = classify_regime(float(regime_level if regime_level is not None else vix), low_max, high_min)
    budget, band = hedge_budget(regime, score, bands)
    if vix and vix3m:
        ratio = vix / vix3m
        shape = "backwardation" if ratio >= 1.0 else "contango"
    else:
        shape = "unknown"
    return RegimeReport(
        asof=asof_day.isoformat(), source=source, levels=dict(levels), regime=regime, stress_score=float(score),
        signals=readings, hedge_budget_pct=float(budget), hedge_band=band, static_hedge_pct=STATIC_BUDGET_PCT,
        rebalance_trigger=bool(z is not None and abs(z) > REBALANCE_Z), term_structure=shape,
        next_events=tuple(calendar.next_event(asof_day, k) for k in ("FOMC", "CPI", "PPI")), notes=tuple(notes))


# --- the score over a whole history ----------------------------------------------------

def stress_series(panel: pd.DataFrame, calendar: EventCalendar, weights: SignalWeights | None = None,
                  low_max: float = 15.0, high_min: float = 25.0,
                  bands: dict | None = None) -> pd.DataFrame:
    """The stress score, hedge budget and rebalance trigger for every day of ``panel``.

    The same signals and maps as :func:`regime_report` on each day (with that
    day's closes as the levels and no breadth history), computed in one pass:
    every indicator is causal, so the value on a day uses only the rows up to
    it.  Columns: ``stress``, ``budget_pct``, ``regime`` (Low/Moderate/High),
    ``rebalance`` (bool), ``event_days`` (calendar days to the next event, NaN
    when unknown)."""
    weights = weights or SignalWeights()
    index = panel.index
    parts: dict[str, pd.Series] = {}

    def ramp(x, calm, stressed):
        return ((x - calm) / (stressed - calm)).clip(0.0, 1.0)

    def logistic(x):
        return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))

    def col(name):
        return panel[name].dropna() if name in panel else pd.Series(dtype=float)

    vix, spx, vix3m = col("vix"), col("spx"), col("vix3m")
    if len(vix) >= 30:
        value = rsi(vix)
        value = value[np.arange(len(value)) >= 29]  # a reading needs 30 days of history
        parts["rsi_vix"] = ramp(value, 30.0, 70.0)
    for key, series, sign in (("macd_vix", vix, 1.0), ("macd_spx", spx, -1.0)):
        if len(series) < 90:
            continue
        hist = macd(series)["histogram"]
        scale = hist.rolling(60, min_periods=60).std()
        z = (hist / scale).where(scale > 0, 0.0)
        z = z[(np.arange(len(z)) >= 89) & scale.notna().to_numpy()]
        parts[key] = logistic(sign * z)
    if "vix3m" in panel:
        parts["term_vix_vix3m"] = ramp(panel["vix"] / panel["vix3m"], 0.85, 1.05).dropna()
    if "vix9d" in panel:
        parts["term_vix9d_vix"] = ramp(panel["vix9d"] / panel["vix"], 0.85, 1.10).dropna()
    event_days = pd.Series(np.nan, index=index)
    known = sorted({e.day for e in calendar.events})
    if known:
        last_known = {k: calendar.coverage[k][1] for k in calendar.coverage}
        days = np.array([d.date() for d in index])
        for kind in last_known:
            kind_days = np.array(sorted(e.day for e in calendar.events if e.kind == kind), dtype="datetime64[D]")
            at = np.searchsorted(kind_days, days.astype("datetime64[D]"), side="left")
            found = at < kind_days.size
            away = np.where(found, (kind_days[np.minimum(at, kind_days.size - 1)] - days.astype("datetime64[D]"))
                            .astype(float), np.nan)
            event_days = pd.Series(np.fmin(event_days.to_numpy(), away), index=index)
        parts["events"] = ramp(-event_days.dropna(), -7.0, 0.0)
    z_spread = spread_zscore(vix, vix3m) if len(vix3m) else pd.Series(dtype=float)
    if len(z_spread):
        # A z-score more than 7 calendar days old is no reading.
        last_z = z_spread.reindex(index, method="ffill")
        z_day = pd.Series(z_spread.index, index=z_spread.index).reindex(index, method="ffill")
        fresh = (index - pd.DatetimeIndex(z_day)).days <= 7
        z_now = last_z.where(fresh)
        parts["spread_z"] = logistic(z_now.dropna())
    else:
        z_now = pd.Series(np.nan, index=index)
    num = pd.Series(0.0, index=index)
    den = pd.Series(0.0, index=index)
    for key, stress in parts.items():
        w = getattr(weights, key)
        if w <= 0:
            continue
        # Momentum readings carry their last value (as on a day a series is not published).
        s = stress.reindex(index, method="ffill") if key in ("rsi_vix", "macd_vix", "macd_spx") else stress.reindex(index)
        num += (w * s).fillna(0.0)
        den += s.notna() * w
    score = (num / den.where(den > 0)).fillna(0.0)
    level = panel["vix"].to_numpy(float)
    regime = np.where(level < low_max, "Low", np.where(level > high_min, "High", "Moderate"))
    table = bands or HEDGE_BANDS
    low = np.array([table[r][0] for r in regime])
    high = np.array([table[r][1] for r in regime])
    return pd.DataFrame({"stress": score, "budget_pct": low + score.clip(0, 1).to_numpy() * (high - low),
                         "band_high_pct": high, "regime": regime,
                         "rebalance": (z_now.abs() > REBALANCE_Z).fillna(False).astype(bool),
                         "event_days": event_days}, index=index)
