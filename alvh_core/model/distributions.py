"""Distributions of SPX at expiry, and the probability measures built on them.

Conventions, shown side by side on the pages:

* **smile** (default): the risk-neutral density of the model's own smile
  (Breeden–Litzenberger: P(S_T < K) = ∂P_fwd/∂K on the smile's put prices),
  so the probabilities agree with the prices: a condor priced at the model's
  mids has an expected P/L of about zero before costs.
* **lognormal**: risk-neutral Black–Scholes with one vol (the model's ATM vol
  at the tenor), drift ``r − q``: the textbook convention (and optionlab's).
  Probabilities are closed form; expectations use an equal-probability grid.
* **empirical**: past moves of SPX over the same number of trading days,
  each scaled by today's VIX over the VIX at the start of that window.
  Equal weight per past window.

Both give an equal-weight sample ``spot_at_expiry`` so the P/L measures
(expected P/L, expected loss, CVaR) are computed the same way for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import ndtr, ndtri

from alvh_core.model.pricing import DAYS_PER_YEAR, TRADING_DAYS_PER_YEAR, black76_price

#: Equal-probability outcomes of the lognormal grid (CVaR 95 % averages 100 of them).
QUANTILE_POINTS = 2000
CVAR_LEVEL = 0.95


def trading_days(calendar_days: float) -> int:
    """Calendar days to expiry as a whole number of trading days (≥ 1)."""
    return max(1, int(round(calendar_days * TRADING_DAYS_PER_YEAR / DAYS_PER_YEAR)))


def lognormal_prob_between(spot: float, days: float, rate: float, div: float, vol: float,
                           low: float, high: float) -> float:
    """P(low < S_T < high) under the risk-neutral lognormal, closed form (scalar)."""
    years = max(days, 0.0) / DAYS_PER_YEAR
    sd = max(vol * math.sqrt(years), 1e-12)
    mean = (rate - div - 0.5 * vol * vol) * years

    def cdf(level: float) -> float:
        if level <= 0:
            return 0.0
        return 0.5 * math.erfc(-((math.log(level / spot) - mean) / sd) / math.sqrt(2.0))

    return min(max(cdf(high) - cdf(low), 0.0), 1.0)


@dataclass(frozen=True)
class TerminalDistribution:
    """SPX at expiry as an equal-weight sample, plus how it was made."""

    convention: str            # "lognormal" or "empirical"
    spot: float
    days: float
    spot_at_expiry: np.ndarray
    vol: float | None = None   # lognormal: the one vol used (decimal)
    drift: float = 0.0         # lognormal: r − q
    # empirical: scaled running extremes of each window, as price multiples
    path_max: np.ndarray | None = None
    path_min: np.ndarray | None = None
    description: str = ""
    # smile: the CDF of S_T on a strike grid
    cdf_levels: np.ndarray | None = None
    cdf_values: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.spot_at_expiry.size)

    def prob_between(self, low, high) -> np.ndarray:
        """P(low < S_T < high); arrays broadcast."""
        low = np.asarray(low, float)
        high = np.asarray(high, float)
        if self.convention in ("lognormal", "smile"):
            return np.minimum(np.maximum(self.cdf(high) - self.cdf(low), 0.0), 1.0)
        s = self.spot_at_expiry
        return np.mean((s > low[..., None]) & (s < high[..., None]), axis=-1)

    def cdf(self, level) -> np.ndarray:
        """P(S_T < level) (lognormal and smile conventions)."""
        if self.convention == "smile":
            return np.interp(np.asarray(level, float), self.cdf_levels, self.cdf_values, left=0.0, right=1.0)
        level = np.asarray(level, float)
        years = self.days / DAYS_PER_YEAR
        sd = max(self.vol * np.sqrt(years), 1e-12)
        safe = np.where(level > 0, level, 1.0)
        z = (np.log(safe / self.spot) - (self.drift - 0.5 * self.vol**2) * years) / sd
        return np.where(level > 0, ndtr(z), 0.0)

    def prob_touch(self, barrier) -> np.ndarray:
        """Probability that SPX trades through ``barrier`` before expiry.

        Lognormal: the exact first-passage probability of geometric Brownian
        motion.  Empirical: the share of past windows whose VIX-scaled daily
        closes crossed it.
        """
        barrier = np.asarray(barrier, float)
        if self.convention == "smile":
            # The reflection rule: about twice the chance of ending beyond the barrier.
            beyond = np.where(barrier >= self.spot, 1.0 - self.cdf(barrier), self.cdf(barrier))
            return np.minimum(2.0 * beyond, 1.0)
        if self.convention == "lognormal":
            years = self.days / DAYS_PER_YEAR
            sd = max(self.vol * np.sqrt(years), 1e-12)
            nu = self.drift - 0.5 * self.vol**2
            b = np.log(np.where(barrier > 0, barrier, 1e-300) / self.spot)
            up = b >= 0
            # Reflect a down barrier into an up barrier with the drift negated.
            bb = np.abs(b)
            nn = np.where(up, nu, -nu)
            with np.errstate(over="ignore"):
                reflect = np.exp(np.minimum(2 * nn * bb / self.vol**2, 700.0))
            p = ndtr((-bb + nn * years) / sd) + reflect * ndtr((-bb - nn * years) / sd)
            return np.minimum(np.maximum(np.where(bb == 0, 1.0, p), 0.0), 1.0)
        up = barrier >= self.spot
        hit_up = np.mean(self.spot * self.path_max >= barrier[..., None], axis=-1)
        hit_down = np.mean(self.spot * self.path_min <= barrier[..., None], axis=-1)
        return np.where(up, hit_up, hit_down)


@lru_cache(maxsize=8)
def _standard_quantiles(points: int) -> np.ndarray:
    """Standard normal quantiles at the midpoints of ``points`` equal-probability bins (read-only)."""
    z = ndtri((np.arange(points) + 0.5) / points)
    z.setflags(write=False)
    return z


def lognormal(spot: float, days: float, rate: float, div: float, vol: float,
              points: int = QUANTILE_POINTS) -> TerminalDistribution:
    """Risk-neutral lognormal SPX at expiry, on an equal-probability grid."""
    years = max(days, 0.0) / DAYS_PER_YEAR
    drift = rate - div
    sd = vol * np.sqrt(years)
    sample = spot * np.exp((drift - 0.5 * vol**2) * years + sd * _standard_quantiles(points))
    return TerminalDistribution("lognormal", float(spot), float(days), sample, vol=float(vol), drift=float(drift),
                                description=f"risk-neutral lognormal, one vol {vol:.2%} (model ATM at {days:g} days)")


#: Strikes of the density grid, in units of the ATM standard deviation around the forward.
SMILE_GRID = np.linspace(-12.0, 9.0, 4201)


def smile_density(market, vol_model, days: float, points: int = QUANTILE_POINTS) -> TerminalDistribution:
    """See :func:`_smile_density`; memoised per market, smile and tenor (a page rerun asks again)."""
    return _smile_density_cached(market, vol_model, float(days), int(points))


@lru_cache(maxsize=64)
def _smile_density_cached(market, vol_model, days: float, points: int) -> TerminalDistribution:
    return _smile_density(market, vol_model, days, points)


def _smile_density(market, vol_model, days: float, points: int = QUANTILE_POINTS) -> TerminalDistribution:
    """Risk-neutral SPX at expiry from the model smile's own put prices.

    P(S_T < K) is the strike-derivative of the undiscounted (forward) put
    price on the smile; it is made monotone and inverted at equal-probability
    quantiles, so every expectation over the sample prices an option as the
    smile does.  Touch probabilities use the reflection rule (twice the chance
    of ending beyond the barrier).
    """
    days = max(float(days), 0.05)
    years = days / DAYS_PER_YEAR
    forward = float(market.forward(days))
    atm = float(vol_model.atm_vol(days))
    sd = atm * np.sqrt(years)
    strikes = forward * np.exp(SMILE_GRID * sd)
    vol = vol_model.implied_vol(strikes, forward, days)
    put = black76_price(forward, strikes, years, 0.0, vol, "put")   # undiscounted
    mid = 0.5 * (strikes[1:] + strikes[:-1])
    cdf = np.clip(np.diff(put) / np.diff(strikes), 0.0, 1.0)
    cdf = np.maximum.accumulate(cdf)
    levels = np.concatenate([[strikes[0]], mid, [strikes[-1]]])
    values = np.concatenate([[0.0], cdf, [1.0]])
    values = np.maximum.accumulate(values)
    u = (np.arange(points) + 0.5) / points
    # Invert the CDF where it rises (flat stretches have no mass).
    rising = np.concatenate([[True], np.diff(values) > 0])
    sample = np.interp(u, values[rising], levels[rising])
    return TerminalDistribution(
        "smile", float(market.spot), float(days), sample, vol=atm, drift=float(market.rate - market.div),
        description=f"risk-neutral density of the model smile at {days:g} days (ATM vol {atm:.2%})",
        cdf_levels=levels, cdf_values=values)


def empirical(spot: float, days: float, vix_now: float, spx: pd.Series, vix: pd.Series,
              min_windows: int = 250) -> TerminalDistribution:
    """Past N-trading-day SPX moves scaled by VIX_now / VIX_then.

    ``spx`` and ``vix`` are daily closes indexed by date; only dates with
    both are used.  Raises ``ValueError`` with fewer than ``min_windows``
    past windows.
    """
    frame = pd.concat({"spx": spx, "vix": vix}, axis=1).dropna()
    frame = frame[(frame["spx"] > 0) & (frame["vix"] > 0)]
    n = trading_days(days)
    if len(frame) < n + min_windows:
        raise ValueError(f"empirical POP needs at least {n + min_windows} days of SPX and VIX history")
    log_spx = np.log(frame["spx"].to_numpy(float))
    windows = sliding_window_view(log_spx, n + 1)  # (count, n+1)
    scale = vix_now / frame["vix"].to_numpy(float)[: windows.shape[0]]
    paths = (windows - windows[:, :1]) * scale[:, None]
    sample = spot * np.exp(paths[:, -1])
    first, last = frame.index[0].date(), frame.index[-1].date()
    return TerminalDistribution(
        "empirical", float(spot), float(days), sample,
        path_max=np.exp(paths.max(axis=1)), path_min=np.exp(paths.min(axis=1)),
        description=f"{windows.shape[0]:,} past {n}-day SPX moves {first}–{last}, scaled by VIX {vix_now:.2f}/VIX then",
    )


@dataclass(frozen=True)
class PnlMeasures:
    """P/L statistics at expiry in the units of the P/L given (e.g. $)."""

    expected_pl: float
    expected_loss: float   # E[max(−P/L, 0)]
    cvar95: float          # mean loss in the worst 5 % of outcomes (positive = loss)
    pop: float             # P(P/L > 0)


def pnl_measures(pnl: np.ndarray, level: float = CVAR_LEVEL) -> PnlMeasures | dict[str, np.ndarray]:
    """Measures of an equal-weight P/L sample along the last axis.

    With a 1-D sample returns :class:`PnlMeasures`; with (candidates, n)
    returns a dict of arrays (the vectorised path for many condors).
    """
    pnl = np.asarray(pnl, float)
    n = pnl.shape[-1]
    tail = max(1, int(np.ceil((1.0 - level) * n)))
    worst = np.partition(pnl, tail - 1, axis=-1)[..., :tail]
    out = {
        "expected_pl": pnl.mean(axis=-1),
        "expected_loss": np.maximum(-pnl, 0.0).mean(axis=-1),
        "cvar95": -worst.mean(axis=-1),
        "pop": (pnl > 0).mean(axis=-1),
    }
    if pnl.ndim == 1:
        return PnlMeasures(**{k: float(v) for k, v in out.items()})
    return out
