"""Constants fitted on real data, each with its source and how to re-derive it.

Re-derive every number here with::

    python -m alvh_core calibrate --data-dir ../shared/data --json
"""

from __future__ import annotations

from alvh_core.model.params import FuturesProxyParams, SimulatorParams, SkewParams

#: SPX smile (see :mod:`alvh_core.model.volmodel` for the formula).  Fitted by least
#: squares on the Cboe end-of-day SPX/SPXW chains of 2022-02-04 and
#: 2023-02-07: implied vols recomputed from bid/ask mids on parity-implied
#: forwards, out-of-the-money options of 5–50 delta and 7–70 days (4,259
#: options), with the ATM level implied from each day's VIX9D/VIX/VIX3M/VIX6M
#: and each day's skew terms scaled by its SKEW reading (Cboe SKEW less its
#: ten-year median: +3.50 and −5.55; the constants hold at their mean:
#: :mod:`alvh_core.model.skew_index`).
#:
#: Fit error, model − market, vol points: RMSE 0.56, mean |e| 0.45,
#: 90th percentile |e| 0.90, max |e| 1.87 (2022-02-04: RMSE 0.47;
#: 2023-02-07: RMSE 0.65).  One shape for both days, without the SKEW tie,
#: fitted to RMSE 0.89.  Held out: fitted on one day alone, the other day's
#: RMSE is 0.79 (2023-02-07) and 1.04 (2022-02-04) with the skew tied to
#: SKEW, against 1.55 and 1.76 with the first day's shape as it is
#: (``calibrate``: ``skew_held_out_days``).  ATM vol from the VIX family vs
#: the chains' ATM at 38 expiries of 7–70 days: RMSE 0.62, max 1.63; at the
#: 17 expiries of 71–200 days (outside the fit) RMSE 0.98, max 1.68, mean
#: +0.75 (``atm_fit_error_vol_points``, ``atm_error_beyond_fit_vol_points``).
SPX_SKEW = SkewParams(
    slope=-0.24804,
    slope_tenor_power=0.21925,
    curvature=-0.01119,
    call_curvature=0.0809,
    vix_scale=0.94792,
)

#: Documented ceilings the calibration test holds the model to (vol points).
SKEW_FIT_RMSE_MAX = 0.60
SKEW_FIT_P90_MAX = 0.95
ATM_FIT_RMSE_MAX = 0.65

#: Bid/ask half spread of an SPX option (index points):
#: ln(hs) = intercept + log_mid·ln(mid) + delta·|delta| + call·[call] + log_vix·ln(VIX/20).
#: Least squares on 7,193 OTM options of 2–50 delta, 1–120 days, mid above 0.10,
#: from the Cboe chains of 2022-02-04 (VIX 23.22) and 2023-02-07 (VIX 18.66).
#: Residual sd 0.19 log points; summed model / market half spreads 0.995
#: (2–10 delta), 0.969 (10–20), 0.963 (20–35), 1.010 (35–50).  The VIX term
#: rests on those two days only (their spreads differ by about 10 %).  Held
#: out: fitted on one day without the VIX term, the other day's summed spreads
#: come out at 0.894 (2022-02-04) and 1.068 (2023-02-07) of the market's.
SPX_SPREAD = {"intercept": -2.6293, "log_mid": 0.4384, "delta": -0.5803, "call": 0.1051, "log_vix": 0.5071}
#: Default fill: the share of the way from mid to the natural price (selling at
#: the bid, buying at the ask) a combo order gives up.  Halfway is what SPX
#: combo orders typically get; the Builder lets the user choose 0 (mid) to 1
#: (natural).
DEFAULT_FILL_SHARE = 0.5

#: Median bid/ask half-spread of those same options (index points), the
#: base of the slippage model.
SPX_MEDIAN_HALF_SPREAD = 0.30
#: VIX level on the two chain dates, averaged (23.22 and 18.66): the level
#: at which ``SPX_MEDIAN_HALF_SPREAD`` was observed.
HALF_SPREAD_REFERENCE_VIX = 20.94
#: Size term of the slippage model: the square-root law of market impact (impact grows with the
#: square root of size over the volume the market trades, with a coefficient of order one; Tóth et
#: al. 2011), the half spread × (1 + sqrt(n / depth)).  ``depth`` is the day's volume of one side of
#: one expiry's 5–50-delta options 14–60 days out, median of the 66 (chain, expiry, side) groups of
#: the two Cboe chains (quartiles 610 and 6,300): a 200-lot pays about a third more than one
#: contract's half spread on each leg.  Re-derive with ``python -m alvh_core calibrate --data-dir
#: ../shared/data --json`` (key ``slippage_depth``).  The coefficient of one is an assumption (the
#: files carry no fills by size).
SLIPPAGE_DEPTH = 1740.0
SLIPPAGE_IMPACT = 1.0

# --- Spot–vol link ---------------------------------------------------------------
#: Quantiles of ln(VIX_h/VIX0) over h trading days (see :mod:`alvh_core.model.spotvol`),
#: each a row of coefficients on [1, z-, z+, (z-)^2, ln(VIX0/20)], z the SPX log
#: return in units of the move VIX implied, z = r / (VIX0/100 · sqrt(h/252)).
#: Quantile regressions (10th, 50th, 90th percentiles) on every overlapping
#: window of the real SPX and VIX closes 1990-01-02..2026-07-08 (9,170–9,190
#: windows per horizon).
#:
#: Checked on the falls it exists for (share of real VIX closes inside the
#: p10–p90 band; falls of >= 3 % in a day, >= 7 % in 5 days, >= 15 % in 21):
#:
#: ==========  =====  ===============  ================  =================
#: horizon     all    calm (VIX < 20)  elevated (20–30)  stressed (>= 30)
#: ==========  =====  ===============  ================  =================
#: 1 day       0.80 of 107  0.80 of 10   0.74 of 34        0.84 of 63
#: 5 days      0.77 of 75   0.88 of 8    0.67 of 27        0.83 of 40
#: 21 days     0.86 of 56   0.92 of 13   0.94 of 16        0.78 of 27
#: ==========  =====  ===============  ================  =================
#:
#: Held out: fitted on odd years and checked on the even years' falls, 0.80
#: (1 day, 76 falls) and 0.76 (5 days, 49 falls), calm starts 0.86 and 0.83;
#: at 21 days only 0.44 (43 overlapping windows from a handful of episodes).
#: Fitted on 1990–2012 and checked from 2013, coverage drops to 0.60 (1 day)
#: and 0.35 (5 days): since 2013 VIX has answered falls harder than before
#: (2018-02-05, 2020-02/03), which is why the constants use every year.
SPOT_VOL_LINK = {
    1: {"p10": (-0.0462, -0.0596, -0.0707, 0.0023, -0.0263),
        "median": (-0.0094, -0.0669, -0.0456, 0.0081, -0.0196),
        "p90": (0.0286, -0.0839, -0.0303, 0.0119, -0.0204)},
    5: {"p10": (-0.0935, -0.1172, -0.1378, 0.0090, -0.0932),
        "median": (-0.0163, -0.1392, -0.0903, 0.0070, -0.0676),
        "p90": (0.0591, -0.1834, -0.0559, 0.0056, -0.0671)},
    21: {"p10": (-0.1773, -0.2648, -0.1594, -0.0095, -0.2305),
         "median": (-0.0494, -0.2775, -0.1030, -0.0084, -0.1967),
         "p90": (0.1035, -0.3263, -0.0843, -0.0159, -0.1891)},
}
#: Lowest z- in each fit: past it only the linear term continues.
SPOT_VOL_Z_MIN = {1: -5.03, 5: -5.96, 21: -8.48}

#: VIX-option implied vol moves with VIX: ln(VVIX_h/VVIX0) = k · ln(VIX_h/VIX0).
#: Least squares on Cboe VVIX and VIX closes 2007-01-03..2026-08-20 (4,937
#: days; earlier VVIX rows are erratic): k = 0.542 (1 day, R² 0.67), 0.546
#: (5 days, R² 0.64), 0.468 (21 days, R² 0.61).  Scenarios use the 5-day slope.
VVIX_ELASTICITY = 0.546

# --- VIX futures -----------------------------------------------------------------

#: Proxy of :mod:`alvh_core.model.vixfutures`, fitted on CFE VX1 and VX2 settlements
#: 2009-09-18..2020-09-24 (2,758 days each, old 10x scale put right, days to
#: expiry from the CFE calendar): level and convexity on every day, the
#: inverted-curve factor on the 252 days with VIX above VIX3M.  Error, VIX
#: points (and % of the future):
#:
#: ========================  ====  ==========================  ==========================
#: curve                     days  VX1 median / p90            VX2 median / p90
#: ========================  ====  ==========================  ==========================
#: contango (VIX/VIX3M < 1)  2506  0.40 / 1.08 (2.4 % / 6.3 %)  0.49 / 1.25 (2.7 % / 6.6 %)
#: inverted (1–1.1)          191   0.48 / 1.52 (2.0 % / 4.4 %)  0.51 / 1.30 (2.2 % / 5.0 %)
#: deeply inverted (> 1.1)   61    0.63 / 1.77 (2.4 % / 5.9 %)  0.59 / 2.83 (2.8 % / 7.7 %)
#: ========================  ====  ==========================  ==========================
#:
#: Without the inverted-curve factor the deeply inverted days ran 0.91 / 2.59
#: points on VX1, biased low by 0.76.  Fitted on 2009–2015 only, the 2016–2020
#: errors of level and convexity are 0.48 / 0.43 (out of sample).
VIX_FUTURES_PROXY = FuturesProxyParams(level=0.972, convexity=0.1582, backwardation=0.117)
FUTURES_PROXY_MEDIAN_MAX = 0.55
FUTURES_PROXY_P90_MAX = 1.35

#: How much a VIX future moves per unit move of spot VIX (daily log changes,
#: same data): 0.634 for the front month (16 days to expiry on average),
#: 0.433 for the second (46 days).  beta(T) = exp(-(T/62.9)^0.576) passes
#: through both: about 0.52 at 30 days and 0.19 at 150 days.
TENOR_BETA_SCALE_DAYS = 62.9
TENOR_BETA_POWER = 0.576

# --- Vol of VIX (for VIX options) ----------------------------------------------------
#: ATM implied vol of a VIX option on the future expiring in T days: the 30-day ATM vol whose
#: smile has the variance-swap vol VVIX (VVIX prices the whole VIX smile, as VIX prices SPX's:
#: :func:`alvh_core.model.vixfutures.vix_atm_vol_30d`), times (T/30)^-0.31, T floored at 7 days.
#: The decay exponent is the ratio of realized vols of the CFE front and second months (daily log
#: changes within a contract, 2009–2020: 0.91 at 16 days, 0.65 at 46 days, log-ratio /
#: log-tenor-ratio = 0.31).
VIX_VOL_DECAY = 0.31
VIX_VOL_MIN_DAYS = 7.0
#: Upward call skew: vol · (1 + slope · ln(K/F)), floored at 0.7 · ATM.  Fitted on Cboe's VIX Tail
#: Hedge index (VXTH_History.csv, 2016-01-04..2026-07-08, 126 months): the slope in 0–1.6 whose VXTH
#: replica's monthly returns are nearest the index's (least squares); the replica then tracks it with a
#: monthly correlation of 0.996 and a CAGR gap of +0.04 points a year (0.35, the old assumed slope:
#: twice the squared gap).  VXTH's 2006–2015 are kept back to check it.  Re-derive with ``python -m
#: alvh_core calibrate --data-dir ../shared/data --json`` (key ``vix_call_skew``).  Editable in the Builder.
VIX_CALL_SKEW = 0.85

#: Bid/ask half spread of a VIX option (VIX points): at least half the minimum tick (0.05 under a
#: price of 3, 0.10 from 3) and the chosen floor, at least ``price_share`` of the price, widened by
#: (VIX/20)^vix_power when VIX is above 20.  An assumption, not a fit: the project has no VIX option
#: quotes (a 3.00 call quoted 2.90–3.10 is 3.3 % a side; spreads widen in stress).  The floor is the
#: sensitivity table's knob (0.025 to 0.10).
VIX_SPREAD = {"price_share": 0.03, "vix_power": 0.5, "floor": 0.05}

# --- the market simulator -----------------------------------------------------------

#: :mod:`alvh_core.model.simulator`, fitted on SPX and VIX closes 1990-01-02..2026-07-08 (9,190 days):
#: z = SPX log return / (VIX/100/√252) scaled by (VIX/20)^0.272 has a Johnson SU law; VIX9D,
#: VIX3M, VIX6M (ratios to VIX) and VVIX are log-linear in ln(VIX/20) (RMSE of the log: 0.091,
#: 0.058, 0.082, 0.150).  Re-derive: ``python -m alvh_core calibrate --data-dir ../shared/data
#: --json`` (key ``simulator``).
SIMULATOR = SimulatorParams(
    shock=(0.5634, 2.2033, 0.4589, 1.5063),
    level_power=0.272,
    vix_dof=8.0,
    term={"vix9d": (-0.0382, 0.1442), "vix3m": (0.0921, -0.1753), "vix6m": (0.1532, -0.3077),
          "vvix": (4.5438, 0.1867)},
)
