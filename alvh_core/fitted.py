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
