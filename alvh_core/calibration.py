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


# --- spot–vol link ----------------------------------------------------------------

SPOT_VOL_HORIZONS = (1, 5, 21)


@dataclass(frozen=True)
class SpotVolFit:
    """log(VIX_h/VIX_0) = beta_down·r·1{r<0} + beta_up·r·1{r>0} + gamma·r² + e,
    r = log(SPX_h/SPX_0) over ``horizon`` trading days."""

    horizon: int
    beta_down: float
    beta_up: float
    gamma: float
    residual_p10: float
    residual_p50: float
    residual_p90: float
    r_squared: float
    observations: int
    first: str
    last: str


def fit_spot_vol(history: History, horizons=SPOT_VOL_HORIZONS) -> tuple[SpotVolFit, ...]:
    """Least squares on overlapping windows of the real SPX and VIX closes."""
    frame = history.panel[["spx", "vix"]].dropna()
    log_spx, log_vix = np.log(frame["spx"].to_numpy()), np.log(frame["vix"].to_numpy())
    fits = []
    for h in horizons:
        r = log_spx[h:] - log_spx[:-h]
        y = log_vix[h:] - log_vix[:-h]
        design = np.column_stack([np.minimum(r, 0.0), np.maximum(r, 0.0), r * r])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = y - design @ coef
        fits.append(SpotVolFit(
            horizon=h, beta_down=round(float(coef[0]), 3), beta_up=round(float(coef[1]), 3), gamma=round(float(coef[2]), 2),
            residual_p10=round(float(np.percentile(resid, 10)), 4), residual_p50=round(float(np.percentile(resid, 50)), 4),
            residual_p90=round(float(np.percentile(resid, 90)), 4),
            r_squared=round(float(1 - resid.var() / y.var()), 3), observations=int(r.size),
            first=str(frame.index[0].date()), last=str(frame.index[-1].date())))
    return tuple(fits)


# --- VIX futures proxy --------------------------------------------------------------

@dataclass(frozen=True)
class FuturesProxyFit:
    level: float
    convexity: float
    vx1_median_abs: float   # VIX points
    vx1_p90_abs: float
    vx2_median_abs: float
    vx2_p90_abs: float
    observations: int
    first: str
    last: str
    tenor_beta_vx1: float    # d log VX / d log VIX, daily, front month
    tenor_beta_vx2: float
    mean_days_vx1: float
    mean_days_vx2: float
    tenor_beta_scale_days: float  # beta(T) = exp(-(T/scale)^power) through the two betas
    tenor_beta_power: float


def read_vx_continuous(path: Path) -> pd.Series:
    """CFE continuous settlements: newest-first rows, the old 10x scale
    before 2007-03-26 put right, zero or missing settlements dropped."""
    frame = pd.read_csv(path)
    dates = pd.to_datetime(frame["Trade Date"], format="%Y-%m-%d", errors="coerce")
    settle = pd.to_numeric(frame["Settle"], errors="coerce")
    series = pd.Series(settle.to_numpy(), index=dates).dropna()
    series = series[series > 0]
    series[series.index < "2007-03-26"] /= 10.0
    return series[~series.index.duplicated()].sort_index()


def futures_points(data_dir: Path, history: History) -> pd.DataFrame:
    """VX1/VX2 settlements with days to expiry and that day's VIX family."""
    from .vixfutures import expiries_after

    vx = pd.DataFrame({"vx1": read_vx_continuous(data_dir / "VX1_continuous.csv"),
                       "vx2": read_vx_continuous(data_dir / "VX2_continuous.csv")})
    cols = [c for c in ("vix", "vix9d", "vix3m", "vix6m", "vvix") if c in history.panel]
    frame = vx.join(history.panel[cols], how="inner").dropna(subset=["vx1", "vx2", "vix", "vix3m", "vix6m"])
    days = [[(e - d.date()).days for e in expiries_after(d.date(), 2)] for d in frame.index]
    frame["days1"], frame["days2"] = np.array(days)[:, 0], np.array(days)[:, 1]
    return frame


def fit_futures_proxy(data_dir: str | Path, history: History | None = None) -> FuturesProxyFit:
    """Fit the proxy's level and convexity on VX1 and VX2 settlements."""
    from .vixfutures import FuturesProxyParams, futures_proxy

    data_dir = Path(data_dir)
    history = history or load_history_folder(data_dir)
    frame = futures_points(data_dir, history)

    def term(row) -> VixTermStructure:
        value = lambda k: float(row[k]) if k in row and np.isfinite(row[k]) else None  # noqa: E731
        return VixTermStructure(vix=float(row["vix"]), vix9d=value("vix9d"), vix3m=value("vix3m"), vix6m=value("vix6m"))

    terms = [term(row) for _, row in frame.iterrows()]
    vvix = frame["vvix"].to_numpy() if "vvix" in frame else np.full(len(frame), np.nan)

    def errors(x):
        params = FuturesProxyParams(float(x[0]), float(x[1]))
        e1 = [futures_proxy(t, d, v, params) for t, d, v in zip(terms, frame["days1"], vvix, strict=True)]
        e2 = [futures_proxy(t, d, v, params) for t, d, v in zip(terms, frame["days2"], vvix, strict=True)]
        return np.concatenate([np.array(e1) - frame["vx1"].to_numpy(), np.array(e2) - frame["vx2"].to_numpy()])

    fit = least_squares(errors, x0=[0.97, 0.16])
    level, convexity = round(float(fit.x[0]), 4), round(float(fit.x[1]), 4)
    e = errors([level, convexity])
    n = len(frame)
    e1, e2 = np.abs(e[:n]), np.abs(e[n:])
    # Daily log changes within one contract (skip roll days, when VX1 changes contract).
    same = frame["days1"].diff().to_numpy() < 0
    dl = np.log(frame[["vx1", "vx2", "vix"]]).diff().to_numpy()
    keep = same & np.all(np.isfinite(dl), axis=1)
    beta1 = float(np.polyfit(dl[keep, 2], dl[keep, 0], 1)[0])
    beta2 = float(np.polyfit(dl[keep, 2], dl[keep, 1], 1)[0])
    t1, t2 = float(frame["days1"].mean()), float(frame["days2"].mean())
    power = np.log(np.log(beta2) / np.log(beta1)) / np.log(t2 / t1)
    scale = t1 / (-np.log(beta1)) ** (1.0 / power)
    return FuturesProxyFit(level, convexity, round(float(np.median(e1)), 3), round(float(np.percentile(e1, 90)), 3),
                           round(float(np.median(e2)), 3), round(float(np.percentile(e2, 90)), 3), n,
                           str(frame.index[0].date()), str(frame.index[-1].date()), round(beta1, 3), round(beta2, 3),
                           round(t1, 1), round(t2, 1), round(float(scale), 1), round(float(power), 3))
