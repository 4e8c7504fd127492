"""Fitting the model's constants to the real data, with their fit errors.

``python -m alvh_core calibrate --data-dir DIR --json`` runs these fits and
prints the constants that :mod:`alvh_core.model.fitted` carries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from alvh_core.data.chains import read_cboe_chain_file
from alvh_core.data.closes import History, closes_on, load_history_folder, read_vx_continuous
from alvh_core.model.chain_smile import expiry_slices
from alvh_core.model.params import FuturesProxyParams, SkewParams
from alvh_core.model.pricing import DAYS_PER_YEAR, TRADING_DAYS_PER_YEAR, black76
from alvh_core.model.skew_index import SKEW_REFERENCE, skew_reading, slope_scale
from alvh_core.model.volmodel import VixTermStructure, VolModel

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
    skew_index: float = float("nan")   # the SKEW reading that day (skew_index.skew_reading; NaN: no SKEW)


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
    atm_beyond: FitError | None = None   # the same past the fitted tenors (71–200 days)
    held_out: tuple = ()                  # HeldOutDay: fitted on one chain day, checked on another
    skew_readings: dict = field(default_factory=dict)   # chain day -> its SKEW reading


#: Expiries past the fitted range on which the ATM level is checked, calendar days.
BEYOND_FIT_DAYS = (FIT_MAX_DAYS + 1, 200)


def chain_points(chain_path: Path, history: History, min_days: int = FIT_MIN_DAYS,
                 max_days: int = FIT_MAX_DAYS) -> ChainPoints:
    """OTM 5–50-delta options, 7–70 days (or ``min_days``–``max_days``), from one chain file."""
    chain = read_cboe_chain_file(chain_path)
    row = closes_on(history, pd.Timestamp(chain.quote_date))
    term = VixTermStructure(vix=float(row["vix"]), vix9d=_value(row, "vix9d"),
                            vix3m=_value(row, "vix3m"), vix6m=_value(row, "vix6m"))
    cols: dict[str, list] = {k: [] for k in ("days", "forward", "strikes", "ivs", "hs")}
    atm_days, atm_ivs = [], []
    for s in expiry_slices(chain, min_days, max_days):
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
        raise ValueError(f"{chain_path.name}: no expiries between {min_days} and {max_days} days")
    skew_index = skew_reading_on(history, pd.Timestamp(chain.quote_date))
    return ChainPoints(str(chain.quote_date), term, *(np.concatenate(cols[k]) for k in ("days", "forward", "strikes", "ivs")),
                       np.array(atm_days), np.array(atm_ivs), np.concatenate(cols["hs"]),
                       float("nan") if skew_index is None else skew_index)


def skew_reading_on(history: History, day: pd.Timestamp) -> float:
    """The SKEW reading (:func:`alvh_core.model.skew_index.skew_reading`) on ``day``; NaN without SKEW."""
    panel = history.panel
    if not {"skew", "spx", "vix"} <= set(panel.columns):
        return float("nan")
    sessions = panel.loc[:day]
    series = sessions.loc[sessions["spx"].notna() & sessions["vix"].notna(), "skew"]   # the backtest's rows
    return float(skew_reading(series.to_numpy())[-1]) if len(series) else float("nan")


def _value(row: pd.Series, key: str) -> float | None:
    value = row.get(key)
    return float(value) if value is not None and np.isfinite(value) else None


def _params(x: np.ndarray) -> SkewParams:
    return SkewParams(slope=float(x[0]), slope_tenor_power=float(x[1]), curvature=float(x[2]),
                      call_curvature=float(x[3]), vix_scale=float(x[4]))


def model_errors(params: SkewParams, points: ChainPoints, reference: float | None = None) -> np.ndarray:
    """Model minus market IV, vol points, for every option of the chain: the smile's slope scaled by the
    day's SKEW against ``reference`` (default :data:`SKEW_REFERENCE`, the chain days' mean; NaN: no scale)."""
    scale = float(slope_scale(points.skew_index, params, SKEW_REFERENCE if reference is None else reference))
    model = VolModel(points.term, params, scale)
    return 100.0 * (model.implied_vol(points.strikes, points.forward, points.days) - points.ivs)


def _least_squares_smile(points: list[ChainPoints], reference: float | None = None, tie: bool = True) -> SkewParams:
    def residuals(x):
        params = _params(x)
        return np.concatenate([model_errors(params, p, reference) if tie else
                               model_errors(params, replace(p, skew_index=float("nan"))) for p in points])

    fit = least_squares(residuals, x0=[-0.25, 0.3, 0.0, 0.05, 0.97],
                        bounds=([-1.0, -1.0, -0.2, -0.2, 0.5], [0.0, 1.5, 0.2, 0.5, 1.5]))
    return _params(np.round(fit.x, 5))


@dataclass(frozen=True)
class HeldOutDay:
    """The smile fitted on one chain day and checked on another: RMSE (vol points) with one shape for
    every day and with the slope tied to SKEW."""

    fitted_on: str
    checked_on: str
    rmse_fixed_shape: float
    rmse_skew_tied: float
    slope_scale: float


def held_out_days(points: list[ChainPoints]) -> list[HeldOutDay]:
    """Each chain day checked with the smile fitted on each other one, with and without the SKEW tie."""
    out = []
    for a in points:
        if not np.isfinite(a.skew_index):
            continue
        fixed = _least_squares_smile([a], tie=False)
        for b in points:
            if b is a or not np.isfinite(b.skew_index):
                continue
            plain = model_errors(fixed, replace(b, skew_index=float("nan")))
            tied = model_errors(fixed, b, reference=a.skew_index)
            out.append(HeldOutDay(a.quote_date, b.quote_date, FitError.of(plain).rmse, FitError.of(tied).rmse,
                                  float(slope_scale(b.skew_index, fixed, a.skew_index))))
    return out


def fit_skew(points: list[ChainPoints]) -> SkewCalibration:
    """Least squares over all options of all chains, ATM level from the VIX, each day's slope tied to its SKEW."""
    params = _least_squares_smile(points)
    errors = {p.quote_date: model_errors(params, p) for p in points}
    return SkewCalibration(
        params=params,
        overall=FitError.of(np.concatenate(list(errors.values()))),
        by_date={d: FitError.of(e) for d, e in errors.items()},
        atm=FitError.of(atm_errors(params, points)),
        median_half_spread=float(np.median(np.concatenate([p.half_spreads for p in points]))),
        chains=tuple(p.quote_date for p in points),
        held_out=tuple(held_out_days(points)),
        skew_readings={p.quote_date: p.skew_index for p in points},
    )


def calibrate_skew(data_dir: str | Path) -> SkewCalibration:
    """Fit the smile on every chain under ``<data_dir>/chains``."""
    data_dir = Path(data_dir)
    files = sorted((data_dir / "chains").glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"{data_dir / 'chains'}: no option-chain CSV files")
    history = load_history_folder(data_dir)
    result = fit_skew([chain_points(f, history) for f in files])
    beyond = []
    for f in files:
        try:
            beyond.append(chain_points(f, history, *BEYOND_FIT_DAYS))
        except ValueError:   # a chain without such expiries
            continue
    return replace(result, atm_beyond=FitError.of(atm_errors(result.params, beyond))) if beyond else result


def atm_errors(params: SkewParams, points: list[ChainPoints]) -> np.ndarray:
    """The model's ATM vol (from each day's VIX family) minus the chain's, vol points, at every expiry."""
    return np.concatenate([100 * (VolModel(p.term, params, float(slope_scale(p.skew_index, params))).atm_vol(p.atm_days)
                                  - p.atm_ivs) for p in points])


def as_dict(result) -> dict:
    """A JSON-ready dict of a calibration result."""
    return asdict(result)


# --- spot–vol link ----------------------------------------------------------------

SPOT_VOL_HORIZONS = (1, 5, 21)
SPOT_VOL_QUANTILES = {"p10": 0.10, "median": 0.50, "p90": 0.90}
#: Falls the link must hold: ≥ 3 % in a day, ≥ 7 % in a week (5 trading days), ≥ 15 % in a month.
CRASH_FALLS = {1: 0.03, 5: 0.07, 21: 0.15}
#: Starting states the coverage is reported for (VIX at the start of the fall).
START_STATES = {"calm (VIX < 20)": (0.0, 20.0), "elevated (20-30)": (20.0, 30.0), "stressed (VIX >= 30)": (30.0, 1e9)}
#: The fit is repeated on odd years (checked on even years) and on the history before
#: this date (checked on the falls after it).
HOLDOUT_FROM = "2013-01-01"


def quantile_regression(design: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    """Koenker–Bassett quantile regression through its dual linear programme:
    max y·d s.t. Xᵀd = (1 − τ)·Xᵀ1, 0 ≤ d ≤ 1; the coefficients are the
    equality constraints' multipliers."""
    from scipy.optimize import linprog

    result = linprog(-y, A_eq=design.T, b_eq=(1.0 - tau) * design.sum(axis=0), bounds=(0.0, 1.0), method="highs")
    if result.status != 0:
        raise ValueError(f"quantile regression did not converge: {result.message}")
    return -np.asarray(result.eqlin.marginals, float)


def spot_vol_design(spx_return: np.ndarray, vix0: np.ndarray, horizon: int) -> np.ndarray:
    """The link's terms: 1, z⁻, z⁺, (z⁻)², ln(VIX0/20), z in implied-move units."""
    z = spx_return / (vix0 / 100.0 * np.sqrt(horizon / TRADING_DAYS_PER_YEAR))
    down = np.minimum(z, 0.0)
    return np.column_stack([np.ones_like(z), down, np.maximum(z, 0.0), down * down, np.log(vix0 / 20.0)])


@dataclass(frozen=True)
class Coverage:
    """Share of real falls whose VIX ended inside the p10–p90 band."""

    falls: int
    inside: float
    below: float
    above: float


@dataclass(frozen=True)
class SpotVolFit:
    """Quantiles of ln(VIX_h/VIX0) against the move in implied-move units
    and the starting level (see :mod:`alvh_core.model.spotvol`)."""

    horizon: int
    coefficients: dict          # band -> [1, z-, z+, z-^2, ln(VIX0/20)]
    z_min: float                # lowest z- in the fit (the quadratic's range)
    pseudo_r2_median: float     # 1 - sum|e| (model) / sum|e| (constant), median
    observations: int
    first: str
    last: str
    crash_fall_pct: float       # the fall that counts as a crash at this horizon
    coverage: dict              # start state -> Coverage, on the falls of 1990-2026
    holdout_coverage: dict      # split -> start state -> Coverage: fitted on one part, checked on the other


def _windows(history: History, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DatetimeIndex]:
    frame = history.panel[["spx", "vix"]].dropna()
    frame = frame[frame.index >= "1990-01-02"]
    log_spx, log_vix = np.log(frame["spx"].to_numpy()), np.log(frame["vix"].to_numpy())
    r = log_spx[horizon:] - log_spx[:-horizon]
    y = log_vix[horizon:] - log_vix[:-horizon]
    return r, y, frame["vix"].to_numpy()[:-horizon], frame.index[:-horizon]


def _fit_quantiles(r, y, vix0, horizon) -> dict:
    design = spot_vol_design(r, vix0, horizon)
    return {band: quantile_regression(design, y, tau) for band, tau in SPOT_VOL_QUANTILES.items()}


def band_coverage(coefficients: dict, z_min: float, r, y, vix0, horizon: int) -> dict:
    """Coverage of the p10–p90 band on the falls at ``horizon``, by start state,
    evaluated through the same code the app uses (:func:`spotvol.log_vix_change`)."""
    from alvh_core.model import spotvol

    fall = r <= np.log(1.0 - CRASH_FALLS[horizon])
    out = {}
    for state, (low, high) in {"all": (0.0, 1e9), **START_STATES}.items():
        pick = np.flatnonzero(fall & (vix0 >= low) & (vix0 < high))
        if not pick.size:
            out[state] = Coverage(0, float("nan"), float("nan"), float("nan"))
            continue
        lo, hi = [], []
        for i in pick:
            band = spotvol.log_vix_change_with(coefficients, z_min, float(vix0[i]), float(r[i]), horizon)
            lo.append(band[0])
            hi.append(band[2])
        lo, hi, actual = np.array(lo), np.array(hi), y[pick]
        out[state] = Coverage(int(pick.size), round(float(np.mean((actual >= lo) & (actual <= hi))), 3),
                              round(float(np.mean(actual < lo)), 3), round(float(np.mean(actual > hi)), 3))
    return out


def fit_spot_vol(history: History, horizons=SPOT_VOL_HORIZONS) -> tuple[SpotVolFit, ...]:
    """Quantile regressions on overlapping windows of the real SPX and VIX closes."""
    fits = []
    for h in horizons:
        r, y, vix0, dates = _windows(history, h)
        coef = {band: np.round(c, 4) for band, c in _fit_quantiles(r, y, vix0, h).items()}
        z_min = round(float(np.min(np.minimum(r / (vix0 / 100.0 * np.sqrt(h / TRADING_DAYS_PER_YEAR)), 0.0))), 2)
        design = spot_vol_design(r, vix0, h)
        resid = y - design @ coef["median"]
        pseudo = 1.0 - np.abs(resid).sum() / np.abs(y - np.median(y)).sum()
        holdout = {}
        odd = np.array([d.year % 2 == 1 for d in dates])
        early = np.asarray(dates < HOLDOUT_FROM)
        for name, train in (("fit on odd years, checked on even years", odd),
                            (f"fit before {HOLDOUT_FROM[:4]}, checked from {HOLDOUT_FROM[:4]}", early)):
            part = _fit_quantiles(r[train], y[train], vix0[train], h)
            holdout[name] = band_coverage(part, z_min, r[~train], y[~train], vix0[~train], h)
        fits.append(SpotVolFit(
            horizon=h, coefficients={b: [float(x) for x in c] for b, c in coef.items()}, z_min=z_min,
            pseudo_r2_median=round(float(pseudo), 3), observations=int(r.size),
            first=str(dates[0].date()), last=str(dates[-1].date()), crash_fall_pct=round(100 * CRASH_FALLS[h], 1),
            coverage=band_coverage(coef, z_min, r, y, vix0, h),
            holdout_coverage=holdout))
    return tuple(fits)


@dataclass(frozen=True)
class VvixResponse:
    """ln(VVIX_h/VVIX0) = elasticity · ln(VIX_h/VIX0), least squares by horizon."""

    elasticity: dict     # horizon (trading days) -> slope
    r_squared: dict
    observations: int
    first: str
    last: str


def fit_vvix_response(history: History, horizons=SPOT_VOL_HORIZONS) -> VvixResponse:
    """How VVIX moves with VIX; Cboe's VVIX rows before 2007 are erratic and left out."""
    frame = history.panel[["vix", "vvix"]].dropna()
    frame = frame[frame.index >= "2007-01-03"]
    log_vix, log_vvix = np.log(frame["vix"].to_numpy()), np.log(frame["vvix"].to_numpy())
    slopes, r2 = {}, {}
    for h in horizons:
        x = log_vix[h:] - log_vix[:-h]
        y = log_vvix[h:] - log_vvix[:-h]
        slope = float(np.sum(x * y) / np.sum(x * x))
        slopes[h] = round(slope, 3)
        r2[h] = round(float(1.0 - np.var(y - slope * x) / np.var(y)), 3)
    return VvixResponse(slopes, r2, int(len(frame)), str(frame.index[0].date()), str(frame.index[-1].date()))


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
    backwardation: float          # the inverted-curve factor exp(b · max(ln(VIX/VIX3M), 0))
    error_by_curve: dict          # curve state -> VX1/VX2 errors, points and % of the future
    error_by_era: dict = field(default_factory=dict)   # era -> the proxy as the backtest builds it, against VX


#: The proxy's eras: before Cboe published VIX3M it sees VIX (and VIX9D, VIX6M where they exist) only.
PROXY_ERAS = {"before VIX3M (to 2009-09-17)": (None, "2009-09-17"), "with VIX3M (2009-09-18 on)": ("2009-09-18", None)}


def proxy_error_by_era(data_dir: Path, history: History) -> dict:
    """The futures proxy as the backtest computes it (from the day's VIX family, whatever exists) against
    VX1 and VX2 on every settlement day the files have: median signed error (proxy − settlement) and median
    absolute error in VIX points, by era.  The proxy is fitted only on the second era's days."""
    from alvh_core.model import over_days
    from alvh_core.model.vixfutures import expiries_after

    vx = pd.DataFrame({"vx1": read_vx_continuous(data_dir / "VX1_continuous.csv"),
                       "vx2": read_vx_continuous(data_dir / "VX2_continuous.csv")})
    panel = history.panel
    frame = vx.join(panel[[c for c in ("vix", "vix9d", "vix3m", "vix6m", "vvix") if c in panel]], how="inner")
    frame = frame.dropna(subset=["vix"])

    def col(name):
        return frame[name].to_numpy(float) if name in frame else np.full(len(frame), np.nan)

    nodes = over_days.node_variances(col("vix9d"), col("vix"), col("vix3m"), col("vix6m"))
    days = np.array([[(e - d.date()).days for e in expiries_after(d.date(), 2)] for d in frame.index], float)
    out = {}
    for era, (first, last) in PROXY_ERAS.items():
        pick = np.ones(len(frame), bool)
        if first:
            pick &= frame.index >= first
        if last:
            pick &= frame.index <= last
        row = {"days": int(pick.sum()), "first": str(frame.index[pick][0].date()) if pick.any() else None}
        for k, name in enumerate(("vx1", "vx2")):
            settle = col(name)
            ok = pick & np.isfinite(settle)
            proxy = over_days.futures_proxy(nodes[ok], col("vix")[ok], col("vix3m")[ok], col("vvix")[ok], days[ok, k])
            error = proxy - settle[ok]
            row |= {f"{name}_median_error": round(float(np.median(error)), 3) if ok.any() else None,
                    f"{name}_median_abs": round(float(np.median(np.abs(error))), 3) if ok.any() else None}
        out[era] = row
    return out


def futures_points(data_dir: Path, history: History) -> pd.DataFrame:
    """VX1/VX2 settlements with days to expiry and that day's VIX family."""
    from alvh_core.model.vixfutures import expiries_after

    vx = pd.DataFrame({"vx1": read_vx_continuous(data_dir / "VX1_continuous.csv"),
                       "vx2": read_vx_continuous(data_dir / "VX2_continuous.csv")})
    cols = [c for c in ("vix", "vix9d", "vix3m", "vix6m", "vvix") if c in history.panel]
    frame = vx.join(history.panel[cols], how="inner").dropna(subset=["vx1", "vx2", "vix", "vix3m", "vix6m"])
    days = [[(e - d.date()).days for e in expiries_after(d.date(), 2)] for d in frame.index]
    frame["days1"], frame["days2"] = np.array(days)[:, 0], np.array(days)[:, 1]
    return frame


def fit_futures_proxy(data_dir: str | Path, history: History | None = None) -> FuturesProxyFit:
    """Fit the proxy on VX1 and VX2 settlements: level and convexity on every
    day, then the inverted-curve factor on the days VIX stood above VIX3M."""
    from alvh_core.model.vixfutures import futures_proxy

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
    # The inverted-curve factor, fitted on the inverted days alone with level and convexity held.
    inversion = np.maximum(np.log(frame["vix"].to_numpy() / frame["vix3m"].to_numpy()), 0.0)
    inverted = inversion > 0
    base = np.concatenate([e[:n] + frame["vx1"].to_numpy(), e[n:] + frame["vx2"].to_numpy()])
    target = np.concatenate([frame["vx1"].to_numpy(), frame["vx2"].to_numpy()])
    x2, pick = np.concatenate([inversion, inversion]), np.concatenate([inverted, inverted])
    back_fit = least_squares(lambda b: (base * np.exp(b[0] * x2) - target)[pick], x0=[0.1])
    backwardation = round(float(back_fit.x[0]), 4)
    e = base * np.exp(backwardation * x2) - target
    e1, e2 = np.abs(e[:n]), np.abs(e[n:])
    ratio = frame["vix"].to_numpy() / frame["vix3m"].to_numpy()
    by_curve = {}
    for state, (low, high) in {"contango (VIX/VIX3M < 1)": (0.0, 1.0), "inverted (1-1.1)": (1.0, 1.1),
                               "deeply inverted (> 1.1)": (1.1, 1e9)}.items():
        m = (ratio >= low) & (ratio < high)
        row = {"days": int(m.sum()), "vx1_bias": round(float(np.median(e[:n][m])), 3)}
        for name, err, settle in (("vx1", e1, frame["vx1"]), ("vx2", e2, frame["vx2"])):
            rel = 100 * err[m] / settle.to_numpy()[m]
            row |= {f"{name}_median_abs": round(float(np.median(err[m])), 3),
                    f"{name}_p90_abs": round(float(np.percentile(err[m], 90)), 3),
                    f"{name}_median_pct": round(float(np.median(rel)), 2),
                    f"{name}_p90_pct": round(float(np.percentile(rel, 90)), 2)}
        by_curve[state] = row
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
                           round(t1, 1), round(t2, 1), round(float(scale), 1), round(float(power), 3),
                           backwardation, by_curve, proxy_error_by_era(data_dir, history))


# --- the VIX call skew, on Cboe's VXTH index ------------------------------------------------

#: Call skews tried (the VIX smile's slope in log-moneyness).
VIX_SKEW_GRID = tuple(round(0.05 * i, 2) for i in range(33))


@dataclass(frozen=True)
class VixSkewFit:
    """The VIX call skew whose VXTH replica follows the real index closest (least squares on monthly returns)."""

    call_skew: float
    start: str
    end: str
    months: int
    sum_squared_monthly_gap: float
    monthly_correlation: float
    cagr_gap: float
    by_skew: dict               # skew -> sum of squared monthly return gaps


def fit_vix_call_skew(history: History, index: pd.Series) -> VixSkewFit:
    """Least squares over :data:`VIX_SKEW_GRID` of the VXTH replica's monthly returns against ``index``
    (Cboe's VXTH levels); the ATM vol follows VVIX through the smile (:func:`vix_atm_vol_30d`)."""
    from alvh_core.history.backtest import market_arrays
    from alvh_core.history.replicas import tracking, vxth_replica

    index = index.dropna()
    market = market_arrays(history.panel)
    start = max((index.index[0] - pd.Timedelta(days=40)).date(), market.day(0))
    window = market.window(start, None)
    scores, best = {}, None
    for skew in VIX_SKEW_GRID:
        level = vxth_replica(window, call_skew=skew).level.loc[index.index[0]:]
        both = pd.concat([level.rename("replica"), index.rename("index")], axis=1).dropna()
        monthly = both.resample("ME").last().pct_change().dropna()
        scores[skew] = float(((monthly["replica"] - monthly["index"]) ** 2).sum())
        if best is None or scores[skew] < scores[best[0]]:
            best = (skew, tracking(level, index))
    skew, track = best
    return VixSkewFit(skew, track.start, track.end, track.months, scores[skew], track.monthly_correlation,
                      track.cagr_gap, scores)


# --- SPX strike grid ---------------------------------------------------------------------

GRID_STEPS = (5.0, 10.0, 25.0, 50.0, 100.0)
#: Tenor buckets (calendar days, upper bounds) of the listed strike grid, by kind of expiry.
GRID_BUCKETS = {"weekly": (10, 27, 50), "monthly": (60, 110, 180, 400), "standard": (60, 110, 180, 400)}


def listed_reach(strikes: set, spot: float, step: float) -> float:
    """How far from spot (a share of it, 0.5 % steps) every multiple of ``step`` is listed."""
    reach = 0.0
    for distance in np.arange(0.005, 0.5001, 0.005):
        wanted = np.arange(step, spot * 2.0, step)
        wanted = wanted[np.abs(wanted / spot - 1.0) < distance]
        if not all(k in strikes for k in wanted):
            break
        reach = float(distance)
    return reach


def fit_strike_grid(data_dir: str | Path) -> dict:
    """The listed SPX strike grid by kind of expiry, tenor and distance from spot.

    For every expiry of every chain under ``<data_dir>/chains`` and each step
    of :data:`GRID_STEPS`, the distance from spot within which every multiple
    of the step is listed; per bucket, the smallest such distance over the
    expiries (so the grid is listed on every one of them), made to grow with
    the step.  Returns kind -> [(max days, [(step, reach), ...]), ...].
    """
    from alvh_core.data.chains import read_cboe_chain_file
    from alvh_core.data.listings import expiry_class, spx_expiries

    reaches: dict[tuple[str, int], list[list[float]]] = {}
    for path in sorted((Path(data_dir) / "chains").glob("*.csv")):
        chain = read_cboe_chain_file(path)
        quotes = chain.quotes
        expiry_days = pd.to_datetime(quotes["expiration"]).dt.date
        for e in spx_expiries(chain.quote_date):
            days = (e.day - chain.quote_date).days
            kind = expiry_class(e.cycle)
            bucket = next((b for b in GRID_BUCKETS[kind] if days <= b), None)
            if bucket is None:
                continue
            strikes = set(quotes.loc[expiry_days == e.day, "strike"].astype(float))
            reaches.setdefault((kind, bucket), []).append([listed_reach(strikes, chain.spot, s) for s in GRID_STEPS])
    table: dict[str, list] = {}
    for kind, buckets in GRID_BUCKETS.items():
        rows = []
        for bucket in buckets:
            if (kind, bucket) not in reaches:
                continue
            low = np.min(np.array(reaches[(kind, bucket)]), axis=0)
            low = np.maximum.accumulate(low)
            rows.append((bucket, [(step, round(float(r), 3)) for step, r in zip(GRID_STEPS, low, strict=True) if r > 0]))
        table[kind] = rows
    return table


# --- bid/ask spreads (fills) ---------------------------------------------------------------

@dataclass(frozen=True)
class SpreadFit:
    """ln(half spread) = a + b·ln(mid) + c·|delta| + d·[call] + e·ln(VIX/20), index points."""

    intercept: float
    log_mid: float
    delta: float
    call: float
    log_vix: float
    residual_sd: float          # log points
    sum_ratio_by_delta: dict    # |delta| bucket -> sum(model half spreads) / sum(market)
    bias_by_date: dict          # date -> mean log residual
    options: int
    held_out: dict              # date -> summed model/market half spreads, fitted on the other day(s) only


def spread_points(data_dir: str | Path) -> pd.DataFrame:
    """OTM options of 2–50 delta, 1–120 days, mid above 0.10, from every chain, with that day's VIX."""
    data_dir = Path(data_dir)
    history = load_history_folder(data_dir)
    rows = []
    for path in sorted((data_dir / "chains").glob("*.csv")):
        chain = read_cboe_chain_file(path)
        vix = float(closes_on(history, pd.Timestamp(chain.quote_date))["vix"])
        for s in expiry_slices(chain, 1, 120):
            greeks = black76(s.forward, s.strikes, s.days / DAYS_PER_YEAR, 0.0, s.ivs, s.is_call)
            mid = greeks.price * s.discount
            rows.append(pd.DataFrame({"date": str(chain.quote_date), "vix": vix, "days": s.days, "strike": s.strikes,
                                      "mid": mid, "delta": np.abs(greeks.delta), "call": s.is_call.astype(float),
                                      "half_spread": s.half_spreads}))
    frame = pd.concat(rows, ignore_index=True)
    return frame[(frame["delta"] >= 0.02) & (frame["delta"] <= 0.5) & (frame["mid"] > 0.1) & (frame["half_spread"] > 0)]


def fit_spreads(data_dir: str | Path) -> SpreadFit:
    """Least squares of the log half spread on the option's mid, delta, side and VIX."""
    frame = spread_points(data_dir)
    design = np.column_stack([np.ones(len(frame)), np.log(frame["mid"]), frame["delta"], frame["call"],
                              np.log(frame["vix"] / 20.0)])
    y = np.log(frame["half_spread"].to_numpy())
    coef = np.round(np.linalg.lstsq(design, y, rcond=None)[0], 4)
    resid = y - design @ coef
    model = np.exp(design @ coef)
    ratios = {}
    for low, high in ((0.02, 0.1), (0.1, 0.2), (0.2, 0.35), (0.35, 0.5)):
        m = ((frame["delta"] >= low) & (frame["delta"] < high)).to_numpy()
        ratios[f"{low:g}-{high:g}"] = round(float(model[m].sum() / frame["half_spread"].to_numpy()[m].sum()), 3)
    bias = {d: round(float(resid[(frame["date"] == d).to_numpy()].mean()), 3) for d in frame["date"].unique()}
    held_out = {}
    for day in frame["date"].unique():
        test = (frame["date"] == day).to_numpy()
        if test.all():
            continue
        # Without the VIX term (one day left to fit on cannot separate it from the level).
        part = np.linalg.lstsq(design[~test][:, :4], y[~test], rcond=None)[0]
        held_out[day] = round(float(np.exp(design[test][:, :4] @ part).sum() / np.exp(y[test]).sum()), 3)
    return SpreadFit(*(float(c) for c in coef), round(float(resid.std()), 3), ratios, bias, int(len(frame)), held_out)


def fit_size_depth(data_dir: str | Path) -> dict:
    """The depth of the slippage model's size term: the daily volume of one side (calls or puts) of
    one expiry's 5–50-delta options, 14–60 days out, median over every (chain, expiry and root,
    side) of the chains (the Cboe files' own Volume columns)."""
    volumes = []
    for path in sorted((Path(data_dir) / "chains").glob("*.csv")):
        rows = read_cboe_chain_file(path).rows
        rows = rows[(rows["days"] >= 14) & (rows["days"] <= 60)]
        for _, group in rows.groupby(["expiration", "root"]):
            for side in ("call", "put"):
                delta = group[f"{side}_delta"].abs()
                volumes.append(float(group.loc[(delta >= 0.05) & (delta <= 0.5), f"{side}_volume"].sum()))
    if not volumes:
        raise ValueError(f"{data_dir}: no chains with 14-60 day expiries")
    return {"depth": round(float(np.median(volumes)), -1), "groups": len(volumes),
            "p25": round(float(np.percentile(volumes, 25)), -1), "p75": round(float(np.percentile(volumes, 75)), -1)}


def chain_condor_quotes(chain) -> list[tuple[int, list]]:
    """Condors from a chain's own quotes: short strikes at 10/15/20 delta (Cboe's deltas), wings of
    25 and 50 points, expiries of 7-60 days, every leg quoted on both sides.  Each is (days, legs) with
    legs of (kind, side, strike, bid, ask, |delta|)."""
    out = []
    for _expiry, group in chain.quotes.groupby("expiration"):
        days = int(group["days"].iloc[0])
        if not 7 <= days <= 60:
            continue
        group = group.set_index("strike")
        puts, calls = group[group["put_bid"] > 0], group[group["call_bid"] > 0]
        if puts.empty or calls.empty:
            continue
        for target in (0.10, 0.15, 0.20):
            short_put = (puts["put_delta"].abs() - target).abs().idxmin()
            short_call = (calls["call_delta"].abs() - target).abs().idxmin()
            for wing in (25.0, 50.0):
                shape = (("put", 1, short_put - wing), ("put", -1, short_put), ("call", -1, short_call),
                         ("call", 1, short_call + wing))
                if short_call <= short_put or not all(k in group.index for _, _, k in shape):
                    continue
                legs = [(kind, side, k, group.loc[k, f"{kind}_bid"], group.loc[k, f"{kind}_ask"],
                         abs(group.loc[k, f"{kind}_delta"])) for kind, side, k in shape]
                if all(bid > 0 and ask >= bid for _, _, _, bid, ask, _ in legs):
                    out.append((days, legs))
    return out


def natural_credit_check(data_dir: str | Path) -> dict:
    """The fill model against the chains' own condors: each condor's natural credit (sold at the bid,
    bought at the ask) against the model's (mid less the model's half spread on each leg), by chain:
    how many condors, their mean natural credits and the ratio of the means."""
    from alvh_core.model.fills import half_spread

    data_dir = Path(data_dir)
    history = load_history_folder(data_dir)
    out = {}
    for path in sorted((data_dir / "chains").glob("*.csv")):
        chain = read_cboe_chain_file(path)
        vix = float(closes_on(history, pd.Timestamp(chain.quote_date))["vix"])
        market, model = [], []
        for _, legs in chain_condor_quotes(chain):
            mids = [0.5 * (bid + ask) for _, _, _, bid, ask, _ in legs]
            spreads = half_spread(mids, [d for *_, d in legs], [kind == "call" for kind, *_ in legs], vix)
            market.append(sum(bid if side < 0 else -ask for _, side, _, bid, ask, _ in legs))
            model.append(sum(-side * mid for (_, side, *_), mid in zip(legs, mids, strict=True)) - float(spreads.sum()))
        if market:
            out[str(chain.quote_date)] = {"vix": vix, "condors": len(market),
                                          "market_natural": round(float(np.mean(market)), 4),
                                          "model_natural": round(float(np.mean(model)), 4),
                                          "model_over_market": round(float(np.mean(model) / np.mean(market)), 4)}
    return out


def cfe_roll_days(data_dir: str | Path, since: str = "2009-01-01") -> tuple[set, tuple]:
    """The VX front month's final-settlement days read off ``VX1_continuous.csv``: a zero-volume
    settlement print, else the day its open interest jumps (the series has moved to the next
    contract).  Returns the days and the file's (first, last) dates."""
    vx = pd.read_csv(Path(data_dir) / "VX1_continuous.csv")
    vx.index = pd.to_datetime(vx["Trade Date"])
    vx = vx.sort_index().loc[since:]
    oi, volume, days = vx["Prev. Day Open Interest"].to_numpy(), vx["Total Volume"].to_numpy(), list(vx.index.date)
    rolls = {days[i] for i in range(len(vx)) if volume[i] == 0}
    rolls |= {days[i - 1] if volume[i - 1] == 0 else days[i]
              for i in range(1, len(vx)) if oi[i - 1] > 0 and oi[i] > 1.5 * oi[i - 1]}
    return rolls, (days[0], days[-1])


def vix_expiry_check(data_dir: str | Path) -> dict:
    """CFE's VIX expiries by the calendar's rule against the roll days read off the VX1 file."""
    from alvh_core.data.listings import vix_expiry

    rolls, (first, last) = cfe_roll_days(data_dir)
    ours = {vix_expiry(y, m) for y in range(first.year, last.year + 1) for m in range(1, 13)}
    ours = {d for d in ours if first < d <= last}
    return {"expiries": len(ours), "matching_roll_days": len(ours & rolls), "first": str(min(ours)),
            "last": str(max(ours))}


# --- the market simulator ---------------------------------------------------------------------

@dataclass(frozen=True)
class SimulatorFit:
    shock: tuple[float, float, float, float]   # Johnson SU of z / (VIX0/20)^γ
    level_power: float
    vix_dof: float
    term: dict                                  # name -> (a, b)
    term_rmse: dict                             # name -> RMSE of the log ratio
    days: int
    start: str
    end: str


def fit_simulator(history: History, vix_dof: float = 8.0) -> SimulatorFit:
    """The constants of :mod:`alvh_core.model.simulator` from the daily SPX and VIX closes.

    γ: half the slope of log mean z² on log VIX/20 across VIX deciles; the shock law: Johnson SU
    by maximum likelihood on z/(VIX0/20)^γ; the curve: least squares of ln(X/VIX) (ln VVIX) on
    ln(VIX/20), VVIX from 2007 (earlier rows are erratic).  ``vix_dof`` is chosen, not fitted:
    8 puts the simulated VIX 95th and 99th percentiles on the history's (33 and 46.7 points)."""
    from scipy import stats

    frame = history.panel[["spx", "vix"]].dropna()
    r = np.diff(np.log(frame["spx"].to_numpy()))
    vix0 = frame["vix"].to_numpy()[:-1]
    z = r / (vix0 / 100.0 / np.sqrt(TRADING_DAYS_PER_YEAR))
    deciles = pd.qcut(vix0, 10, labels=False)
    mean_z2 = pd.Series(z**2).groupby(deciles).mean().to_numpy()
    mean_level = pd.Series(np.log(vix0 / 20.0)).groupby(deciles).mean().to_numpy()
    gamma = float(np.polyfit(mean_level, np.log(mean_z2), 1)[0] / 2.0)
    shock = stats.johnsonsu.fit(z / (vix0 / 20.0) ** gamma)
    term, rmse = {}, {}
    panel = history.panel
    for name in ("vix9d", "vix3m", "vix6m", "vvix"):
        if name not in panel:
            continue
        both = panel[["vix", name]].dropna()
        if name == "vvix":
            both = both.loc["2007-01-01":]
        x = np.log(both["vix"].to_numpy() / 20.0)
        y = np.log(both[name].to_numpy()) - (0.0 if name == "vvix" else np.log(both["vix"].to_numpy()))
        b, a = np.polyfit(x, y, 1)
        term[name] = (round(float(a), 4), round(float(b), 4))
        rmse[name] = float(np.sqrt(np.mean((y - a - b * x) ** 2)))
    return SimulatorFit(tuple(round(float(v), 4) for v in shock), round(gamma, 4), vix_dof, term, rmse, len(z),
                        str(frame.index[0].date()), str(frame.index[-1].date()))
