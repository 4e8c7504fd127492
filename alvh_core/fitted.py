"""Constants fitted on real data, each with its source and how to re-derive it.

Re-derive every number here with::

    python -m alvh_core calibrate --data-dir ../shared/data --json
"""

from __future__ import annotations

from .volmodel import SkewParams

#: SPX smile (see :mod:`alvh_core.volmodel` for the formula).  Fitted by least
#: squares on the Cboe end-of-day SPX/SPXW chains of 2022-02-04 and
#: 2023-02-07: implied vols recomputed from bid/ask mids on parity-implied
#: forwards, out-of-the-money options of 5–50 delta and 7–70 days (4,259
#: options), with the ATM level implied from each day's VIX9D/VIX/VIX3M/VIX6M.
#:
#: Fit error, model − market, vol points: RMSE 0.89, mean |e| 0.71,
#: 90th percentile |e| 1.51, max |e| 2.79 (2022-02-04: RMSE 0.77;
#: 2023-02-07: RMSE 1.01).  ATM vol from the VIX family vs the chains' ATM
#: at 38 expiries of 7–70 days: RMSE 0.67, max 1.78; at 70–200 days the
#: model's ATM runs 0.1–1.5 vol points low (mean −0.8).
SPX_SKEW = SkewParams(
    slope=-0.27049,
    slope_tenor_power=0.28031,
    curvature=-0.01431,
    call_curvature=0.09626,
    vix_scale=0.9442,
)

#: Documented ceilings the calibration test holds the model to (vol points).
SKEW_FIT_RMSE_MAX = 0.95
SKEW_FIT_P90_MAX = 1.60
ATM_FIT_RMSE_MAX = 0.70

#: Median bid/ask half-spread of those same options (index points), the
#: base of the slippage model.
SPX_MEDIAN_HALF_SPREAD = 0.30
#: VIX level on the two chain dates, averaged (23.22 and 18.66): the level
#: at which ``SPX_MEDIAN_HALF_SPREAD`` was observed.
HALF_SPREAD_REFERENCE_VIX = 20.94

# --- Spot–vol link ---------------------------------------------------------------
#: log(VIX_h/VIX_0) = beta_down·r (r < 0) or beta_up·r (r > 0), + gamma·r², with
#: r = log(SPX_h/SPX_0) over h trading days.  Least squares on overlapping
#: windows of the real daily closes 1990-01-02..2026-07-08 (about 9,190 per
#: horizon); residual percentiles in log points.  R² 0.52 / 0.51 / 0.50.
SPOT_VOL_LINK = {
    # h: (beta_down, beta_up, gamma, residual p10, residual p90)
    1: (-4.783, -3.778, -1.34, -0.0526, 0.0490),
    5: (-4.719, -3.447, -5.84, -0.1054, 0.1037),
    21: (-4.015, -2.713, -2.12, -0.1731, 0.1891),
}

# --- VIX futures -----------------------------------------------------------------
from .vixfutures import FuturesProxyParams  # noqa: E402

#: Proxy of :mod:`alvh_core.vixfutures`, fitted on CFE VX1 and VX2 settlements
#: 2009-09-18..2020-09-24 (2,758 days each, old 10x scale put right, days to
#: expiry from the CFE calendar).  Error, VIX points: VX1 median |e| 0.42,
#: 90th percentile 1.14; VX2 median 0.49, 90th percentile 1.26.  Fitted on
#: 2009–2015 only, the 2016–2020 errors are 0.48 / 0.43 (out of sample).
VIX_FUTURES_PROXY = FuturesProxyParams(level=0.972, convexity=0.1582)
FUTURES_PROXY_MEDIAN_MAX = 0.55
FUTURES_PROXY_P90_MAX = 1.35

#: How much a VIX future moves per unit move of spot VIX (daily log changes,
#: same data): 0.634 for the front month (16 days to expiry on average),
#: 0.433 for the second (46 days).  beta(T) = exp(-(T/62.9)^0.576) passes
#: through both: about 0.52 at 30 days and 0.19 at 150 days.
TENOR_BETA_SCALE_DAYS = 62.9
TENOR_BETA_POWER = 0.576

# --- Vol of VIX (for VIX options) ----------------------------------------------------
#: ATM implied vol of a VIX option on the future expiring in T days:
#: VVIX/100 · (T/30)^-0.31, with T floored at 7 days.  The decay exponent is
#: the ratio of realized vols of the CFE front and second months (daily log
#: changes within a contract, 2009–2020: 0.91 at 16 days, 0.65 at 46 days,
#: log-ratio / log-tenor-ratio = 0.31).  VVIX itself is a 30-day implied vol.
VIX_VOL_DECAY = 0.31
VIX_VOL_MIN_DAYS = 7.0
#: Upward call skew: vol · (1 + slope · ln(K/F)), floored at 0.7 · ATM.  An
#: assumption, not a fit: the project has no VIX option quotes; 0.35 per unit
#: of log-moneyness is a typical VIX smile slope.  Editable in the Builder.
VIX_CALL_SKEW = 0.35
