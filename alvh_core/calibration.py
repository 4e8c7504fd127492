"""Fitting the model's constants to the real data, with their fit errors.

``python -m alvh_core calibrate --data-dir DIR --json`` runs these fits and
prints the constants that :mod:`alvh_core.fitted` carries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from .chains import expiry_slices, read_cboe_chain
from .history import History, closes_on, load_history_folder
from .pricing import DAYS_PER_YEAR, black76
from .volmodel import SkewParams, VixTermStructure, VolModel

#: The population the vol-model error is reported on.
FIT_MIN_DAYS, FIT_MAX_DAYS = 7, 70
FIT_MIN_DELTA, FIT_MAX_DELTA = 0.05, 0.50


@dataclass(frozen=True)
class ChainPoints:
    """Market IVs of OTM options on one quote date, with that day's VIX family."""

    quote_date: str
    term: VixTermStructure
    days: np.ndarray
    forward: np.ndarray
    strikes: np.ndarray
    ivs: np.ndarray
    atm_days: np.ndarray      # expiries in range and the chain's ATM vol at each
    atm_ivs: np.ndarray
    half_spreads: np.ndarray  # bid/ask half-spreads of the same options, points


@dataclass(frozen=True)
class FitError:
    """Errors in vol points (model − market)."""

    count: int
    rmse: float
    mean_abs: float
    p90_abs: float
    max_abs: float
    bias: float

    @staticmethod
    def of(errors: np.ndarray) -> FitError:
        e = np.asarray(errors, float)
        return FitError(int(e.size), float(np.sqrt(np.mean(e**2))), float(np.mean(np.abs(e))),
                        float(np.percentile(np.abs(e), 90)), float(np.max(np.abs(e))), float(np.mean(e)))


@dataclass(frozen=True)
class SkewCalibration:
    params: SkewParams
    overall: FitError
    by_date: dict[str, FitError]
    atm: FitError            # model ATM (from the VIX family) vs the chain's ATM
    median_half_spread: float
    chains: tuple[str, ...]


def chain_points(chain_path: Path, history: History) -> ChainPoints:
    """OTM 5–50-delta options, 7–70 days, from one chain file."""
    chain = read_cboe_chain(chain_path)
    row = closes_on(history, pd.Timestamp(chain.quote_date))
    term = VixTermStructure(vix=float(row["vix"]), vix9d=_value(row, "vix9d"),
                            vix3m=_value(row, "vix3m"), vix6m=_value(row, "vix6m"))
    cols: dict[str, list] = {k: [] for k in ("days", "forward", "strikes", "ivs", "hs")}
    atm_days, atm_ivs = [], []
    for s in expiry_slices(chain, FIT_MIN_DAYS, FIT_MAX_DAYS):
        years = s.days / DAYS_PER_YEAR
        delta = np.abs(black76(s.forward, s.strikes, years, 0.0, s.ivs, s.is_call).delta)
        use = (delta >= FIT_MIN_DELTA) & (delta <= FIT_MAX_DELTA)
        cols["days"].append(np.full(use.sum(), float(s.days)))
        cols["forward"].append(np.full(use.sum(), s.forward))
        cols["strikes"].append(s.strikes[use])
        cols["ivs"].append(s.ivs[use])
        cols["hs"].append(s.half_spreads[use])
        k = np.log(s.strikes / s.forward)
        order = np.argsort(k)
        atm_days.append(float(s.days))
        atm_ivs.append(float(np.interp(0.0, k[order], s.ivs[order])))
    if not atm_days:
        raise ValueError(f"{chain_path.name}: no expiries between {FIT_MIN_DAYS} and {FIT_MAX_DAYS} days")
    return ChainPoints(str(chain.quote_date), term, *(np.concatenate(cols[k]) for k in ("days", "forward", "strikes", "ivs")),
                       np.array(atm_days), np.array(atm_ivs), np.concatenate(cols["hs"]))


def _value(row: pd.Series, key: str) -> float | None:
    value = row.get(key)
    return float(value) if value is not None and np.isfinite(value) else None


def _params(x: np.ndarray) -> SkewParams:
    return SkewParams(slope=float(x[0]), slope_tenor_power=float(x[1]), curvature=float(x[2]),
                      call_curvature=float(x[3]), vix_scale=float(x[4]))


def model_errors(params: SkewParams, points: ChainPoints) -> np.ndarray:
    """Model minus market IV, vol points, for every option of the chain."""
    model = VolModel(points.term, params)
    return 100.0 * (model.implied_vol(points.strikes, points.forward, points.days) - points.ivs)


def fit_skew(points: list[ChainPoints]) -> SkewCalibration:
    """Least squares over all options of all chains, ATM level from the VIX."""

    def residuals(x):
        return np.concatenate([model_errors(_params(x), p) for p in points])

    fit = least_squares(residuals, x0=[-0.25, 0.3, 0.0, 0.05, 0.97],
                        bounds=([-1.0, -1.0, -0.2, -0.2, 0.5], [0.0, 1.5, 0.2, 0.5, 1.5]))
    params = _params(np.round(fit.x, 5))
    errors = {p.quote_date: model_errors(params, p) for p in points}
    atm = np.concatenate([100 * (VolModel(p.term, params).atm_vol(p.atm_days) - p.atm_ivs) for p in points])
    return SkewCalibration(
        params=params,
        overall=FitError.of(np.concatenate(list(errors.values()))),
        by_date={d: FitError.of(e) for d, e in errors.items()},
        atm=FitError.of(atm),
        median_half_spread=float(np.median(np.concatenate([p.half_spreads for p in points]))),
        chains=tuple(p.quote_date for p in points),
    )


def calibrate_skew(data_dir: str | Path) -> SkewCalibration:
    """Fit the smile on every chain under ``<data_dir>/chains``."""
    data_dir = Path(data_dir)
    files = sorted((data_dir / "chains").glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"{data_dir / 'chains'}: no option-chain CSV files")
    history = load_history_folder(data_dir)
    return fit_skew([chain_points(f, history) for f in files])


def as_dict(result) -> dict:
    """A JSON-ready dict of a calibration result."""
    return asdict(result)
