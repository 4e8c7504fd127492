"""A simulated market: SPX and the VIX family, day by day, seeded and reproducible.

The model, every piece fitted on the 1990-2026 closes (:func:`alvh_core.calibration.fits.fit_simulator`):

* **SPX**: the day's log return is ``z · VIX/100/√252``: a move in units of
  the move VIX implied.  ``z`` has a Johnson SU law (skewed, fat left tail)
  scaled by ``(VIX/20)^γ``: in stress the realised move runs larger against
  VIX than in calm.  SPX variance is thus tied to VIX.
* **VIX**: mean-reverting log-VIX whose daily change is the state-dependent
  spot–vol link of :mod:`alvh_core.model.spotvol` at one day (its median and
  10th/90th percentiles, which carry the mean reversion through the
  ``ln(VIX0/20)`` term and the crash response through ``z``), with Student-t
  innovations (8 degrees of freedom) scaled to that band: the fat tails are
  the jumps.
* **The rest of the curve**: VIX9D, VIX3M, VIX6M and VVIX from VIX by the
  fitted log-linear rules ``ln(X/VIX) = a + b·ln(VIX/20)`` (VVIX: ``ln VVIX``),
  so the curve inverts when VIX is high as it does in the data.

Everything it produces is labeled "simulated".  :func:`compare_with_history`
puts its statistics beside the real data's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from alvh_core.data.listings import is_business_day, next_business_day
from alvh_core.model.fitted import SIMULATOR
from alvh_core.model.params import SimulatorParams
from alvh_core.model.pricing import TRADING_DAYS_PER_YEAR
from alvh_core.model.spotvol import LEVEL_RANGE, VIX_CAP, VIX_FLOOR, link_coefficients, link_quantiles

_Z90 = 1.2815515655446004   # the standard normal's 90th percentile


@dataclass(frozen=True)
class SimPaths:
    """Simulated closes: arrays (paths, days + 1), day 0 the start."""

    spx: np.ndarray
    vix: np.ndarray
    seed: int

    def curve(self, params: SimulatorParams | None = None) -> dict[str, np.ndarray]:
        """VIX9D, VIX3M, VIX6M and VVIX on the same grid."""
        return term_from_vix(self.vix, params)


#: One simulation holds at most this many path-days (paths × days): about 0.5 GB of float64 arrays in all.
MAX_PATH_DAYS = 5_000_000


def _params(params: SimulatorParams | None) -> SimulatorParams:
    return SIMULATOR if params is None else params


def term_from_vix(vix, params: SimulatorParams | None = None) -> dict[str, np.ndarray]:
    p = _params(params)
    level = np.log(np.asarray(vix, float) / 20.0)
    out = {}
    for name, (a, b) in p.term.items():
        out[name] = np.exp(a + b * level) * (1.0 if name == "vvix" else np.asarray(vix, float))
    return out


def simulate_paths(spx0: float, vix0: float, days: int, paths: int, seed: int = 0,
                   params: SimulatorParams | None = None) -> SimPaths:
    """``paths`` paths of ``days`` trading days from SPX ``spx0`` and VIX ``vix0``."""
    if not (np.isfinite(spx0) and spx0 > 0 and np.isfinite(vix0) and vix0 > 0):
        raise ValueError("the simulation needs a positive SPX and VIX to start from")
    if not (1 <= days <= 20_000 and 1 <= paths <= 200_000 and days * paths <= MAX_PATH_DAYS):
        raise ValueError(f"simulate 1-20,000 days and 1-200,000 paths, at most {MAX_PATH_DAYS:,} path-days")
    p = _params(params)
    rng = np.random.default_rng(seed)
    coef, z_min = link_coefficients(1.0)
    a, b, loc, scale = p.shock
    t_scale = _Z90 / stats.t.ppf(0.9, p.vix_dof)
    spx = np.empty((paths, days + 1))
    vix = np.empty((paths, days + 1))
    spx[:, 0], vix[:, 0] = spx0, min(max(vix0, VIX_FLOOR), VIX_CAP)
    sqrt_year = np.sqrt(TRADING_DAYS_PER_YEAR)
    for t in range(days):
        v = vix[:, t]
        # Johnson SU by its definition: z = loc + scale · sinh((N − a)/b).
        z = (loc + scale * np.sinh((rng.standard_normal(paths) - a) / b)) * (v / 20.0) ** p.level_power
        ret = z * v / 100.0 / sqrt_year
        low, median, high = link_quantiles(coef, z_min, np.clip(np.log(v / 20.0), *LEVEL_RANGE), z)
        xi = rng.standard_t(p.vix_dof, paths) * t_scale
        step = median + np.where(xi < 0, median - low, high - median) / _Z90 * xi
        vix[:, t + 1] = np.clip(v * np.exp(step), VIX_FLOOR, VIX_CAP)
        spx[:, t + 1] = spx[:, t] * np.exp(ret)
    return SimPaths(spx, vix, seed)


def business_days_from(start: date, count: int) -> pd.DatetimeIndex:
    day = start if is_business_day(start) else next_business_day(start)
    out = [day]
    while len(out) < count:
        day = next_business_day(day)
        out.append(day)
    return pd.DatetimeIndex(out)


def simulated_panel(start: date = date(1990, 1, 2), years: float = 36.5, seed: int = 0, spx0: float = 353.4,
                    vix0: float = 17.24, tbill_pct: float = 3.0,
                    params: SimulatorParams | None = None) -> pd.DataFrame:
    """One simulated history as a panel of closes (the columns of a real one), on business days
    from ``start``; the T-bill held at ``tbill_pct`` (a discount yield, as FRED's)."""
    if not 0.1 <= years <= 60:
        raise ValueError("simulate 0.1 to 60 years")
    days = int(round(years * TRADING_DAYS_PER_YEAR))
    paths = simulate_paths(spx0, vix0, days, 1, seed, params)
    index = business_days_from(start, days + 1)
    curve = paths.curve(params)
    frame = pd.DataFrame({"spx": paths.spx[0].round(2), "vix": paths.vix[0].round(2)}, index=index)
    for name, values in curve.items():
        frame[name] = values[0].round(2)
    frame["irx"] = float(tbill_pct)
    return frame


# --- the simulator beside the history ---------------------------------------------------------

def _half_life(vix: np.ndarray) -> float:
    """Half-life (trading days) of a shock to ln VIX, from its one-day autocorrelation."""
    x = np.log(vix)
    phi = np.corrcoef(x[..., :-1].ravel(), x[..., 1:].ravel())[0, 1]
    return float(np.log(2.0) / -np.log(phi)) if 0 < phi < 1 else float("inf")


def _spot_vol_slope(spx: np.ndarray, vix: np.ndarray) -> tuple[float, float]:
    """OLS slope of the one-day ln VIX change on the SPX move in implied units, and on down days
    beyond 2 of them the mean VIX change (ratio)."""
    r = np.diff(np.log(spx), axis=-1).ravel()
    z = r / (vix[..., :-1].ravel() / 100.0 / np.sqrt(TRADING_DAYS_PER_YEAR))
    dv = np.diff(np.log(vix), axis=-1).ravel()
    slope = float(np.polyfit(z, dv, 1)[0])
    big = z < -2.0
    return slope, float(np.exp(dv[big]).mean()) if big.any() else float("nan")


def history_statistics(spx: np.ndarray, vix: np.ndarray) -> dict[str, float]:
    """The statistics the simulator is judged on, for one history or many paths (last axis: days)."""
    spx, vix = np.atleast_2d(spx), np.atleast_2d(vix)
    r = np.diff(np.log(spx), axis=-1).ravel()
    r5 = (np.log(spx[:, 5:]) - np.log(spx[:, :-5])).ravel()
    slope, crash_ratio = _spot_vol_slope(spx, vix)
    v = vix.ravel()
    return {
        "VIX mean": float(v.mean()), "VIX 5th pct": float(np.percentile(v, 5)),
        "VIX median": float(np.median(v)), "VIX 95th pct": float(np.percentile(v, 95)),
        "VIX 99th pct": float(np.percentile(v, 99)), "share of days VIX > 30": float(np.mean(v > 30)),
        "shock half-life (days)": _half_life(vix),
        "SPX volatility (annual)": float(r.std() * np.sqrt(TRADING_DAYS_PER_YEAR)),
        "SPX 1st pct day": float(np.percentile(r, 1)), "SPX 0.1th pct day": float(np.percentile(r, 0.1)),
        "SPX 1st pct week": float(np.percentile(r5, 1)),
        "SPX skew": float(stats.skew(r)), "SPX excess kurtosis": float(stats.kurtosis(r)),
        "spot-vol slope (ln VIX per implied move)": slope,
        "VIX ratio on days SPX falls > 2 implied moves": crash_ratio,
    }


def compare_with_history(real_spx: np.ndarray, real_vix: np.ndarray, paths: SimPaths) -> pd.DataFrame:
    """History and simulation side by side: one row per statistic."""
    real = history_statistics(real_spx, real_vix)
    sim = history_statistics(paths.spx, paths.vix)
    return pd.DataFrame({"statistic": list(real), "history": list(real.values()),
                         "simulated": [sim[k] for k in real]})
