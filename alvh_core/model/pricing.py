"""European option pricing: Black–Scholes–Merton (spot) and Black-76 (futures).

Every function is vectorised: arguments broadcast against each other like
numpy arrays, and the result has the broadcast shape.  Units throughout:

* time to expiry ``years`` in years (calendar days / 365),
* ``rate`` and ``div`` continuously compounded decimals (0.04 = 4 %),
* ``vol`` a decimal (0.20 = 20 %),
* ``vega`` in price units per 1 vol point (0.01 of vol),
* ``theta`` in price units per calendar day (the change as one day passes).

Edge cases have finite limits rather than NaN: at or past expiry, or when
``vol * sqrt(years)`` is negligible, the price is the discounted intrinsic
value on the forward, gamma and vega are zero, and delta is the step
function (one half exactly at the money).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

DAYS_PER_YEAR = 365.0
#: Trading days a year: annualising daily moves and returns, and the spot–vol link's √(h/252).
TRADING_DAYS_PER_YEAR = 252.0
# Below this total standard deviation the option is treated as deterministic.
_MIN_STDDEV = 1e-10
# Bounds for implied volatility (decimals).
MIN_VOL = 0.0
MAX_VOL = 10.0
_SQRT_2PI = np.sqrt(2.0 * np.pi)


def _npdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / _SQRT_2PI


def _is_call(kind) -> np.ndarray:
    """Turn 'call'/'put' strings, booleans or +1/-1 into a boolean array."""
    if isinstance(kind, str):
        lowered = kind.lower()
        if lowered not in ("call", "put", "c", "p"):
            raise ValueError("option kind must be 'call' or 'put'")
        return np.bool_(lowered in ("call", "c"))
    arr = np.asarray(kind)
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind in "USO":
        lowered = np.char.lower(arr.astype(str))
        calls = (lowered == "call") | (lowered == "c")
        if not np.all(calls | (lowered == "put") | (lowered == "p")):
            raise ValueError("option kind must be 'call' or 'put'")
        return calls
    return arr > 0


@dataclass(frozen=True)
class Greeks:
    """Price and first-order sensitivities, arrays of one broadcast shape."""

    price: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    vega: np.ndarray
    theta: np.ndarray

    def __post_init__(self) -> None:
        shape = np.shape(self.price)
        for name in ("price", "delta", "gamma", "vega", "theta"):
            # "+ 0.0" turns -0.0 into 0.0 so printed results stay tidy.
            value = np.asarray(getattr(self, name), float) + 0.0
            object.__setattr__(self, name, value if value.shape == shape else np.broadcast_to(value, shape).copy())


@dataclass(frozen=True)
class _Black:
    """Intermediate terms of the Black formula, all of one broadcast shape."""

    price: np.ndarray      # discounted option value
    n_d1: np.ndarray       # sign * N(sign * d1): undiscounted delta to the forward
    n_d2: np.ndarray       # sign * N(sign * d2): undiscounted minus d(price)/dK
    pdf_d1: np.ndarray     # standard normal density at d1 (0 when degenerate)
    stddev: np.ndarray     # vol * sqrt(years) (1 where degenerate, never 0)
    live: np.ndarray       # False where the option is deterministic
    years: np.ndarray
    forward: np.ndarray
    strike: np.ndarray
    vol: np.ndarray
    discount: np.ndarray


def _black_core(forward, strike, years, vol, discount, is_call) -> _Black:
    """Black formula on a forward; ``discount`` multiplies the expectation.

    Where the total standard deviation is negligible (expiry, zero vol) the
    discounted forward intrinsic value is used, with step-function deltas.
    Inputs broadcast naturally; every output has the full broadcast shape.
    """
    forward = np.asarray(forward, float)
    strike = np.asarray(strike, float)
    years = np.maximum(np.asarray(years, float), 0.0)
    vol = np.maximum(np.asarray(vol, float), 0.0)
    discount = np.asarray(discount, float)
    shape = np.broadcast_shapes(forward.shape, strike.shape, years.shape, vol.shape, discount.shape,
                                np.shape(is_call))
    stddev = vol * np.sqrt(years)
    live = np.broadcast_to((stddev > _MIN_STDDEV) & (forward > 0) & (strike > 0), shape)
    safe_sd = np.where(live, stddev, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = np.where(live, np.log(np.where(live, forward / np.where(strike > 0, strike, 1.0), 1.0)) / safe_sd
                      + 0.5 * safe_sd, 0.0)
    d2 = d1 - safe_sd
    sign = np.where(is_call, 1.0, -1.0)
    moneyness = np.sign(forward - strike)
    step = np.where(moneyness == 0, 0.5, (sign * moneyness > 0).astype(float))
    n_d1 = sign * np.where(live, ndtr(sign * d1), step)
    n_d2 = sign * np.where(live, ndtr(sign * d2), step)
    live_price = discount * (forward * n_d1 - strike * n_d2)
    intrinsic = discount * np.maximum(sign * (forward - strike), 0.0)
    price = np.where(live, np.maximum(live_price, 0.0), intrinsic)
    pdf_d1 = np.where(live, _npdf(d1), 0.0)
    return _Black(price, n_d1, n_d2, pdf_d1, safe_sd, live, years, forward, strike, vol, discount)


def _time_decay_diffusion(b: _Black) -> np.ndarray:
    """discount * F * n(d1) * vol / (2 sqrt(T)): the diffusion part of dV/dT."""
    safe_t = np.where(b.years > 0, b.years, 1.0)
    return np.where(b.live, b.discount * b.forward * b.pdf_d1 * b.vol / (2.0 * np.sqrt(safe_t)), 0.0)


def bsm(spot, strike, years, rate, div, vol, kind) -> Greeks:
    """Black–Scholes–Merton price and greeks of European options on a spot.

    ``spot``, ``strike`` in index points; ``kind`` is 'call'/'put' (or a
    boolean array, True for calls).  Delta and gamma are with respect to
    spot; vega per vol point; theta per calendar day.
    """
    years = np.maximum(np.asarray(years, float), 0.0)
    spot, rate, div = (np.asarray(x, float) for x in (spot, rate, div))
    forward = spot * np.exp((rate - div) * years)
    b = _black_core(forward, strike, years, vol, np.exp(-rate * years), _is_call(kind))
    carry = np.exp(-div * b.years)
    safe_spot = np.where(spot > 0, spot, 1.0)
    delta = carry * b.n_d1
    gamma = np.where(b.live, carry * b.pdf_d1 / (safe_spot * b.stddev), 0.0)
    vega = np.where(b.live, spot * carry * b.pdf_d1 * np.sqrt(b.years), 0.0) / 100.0
    # dV/dT: diffusion, minus the dividend carry on the spot leg, plus the
    # discounting of the strike leg.  Theta is minus that, per day.
    d_value_d_t = _time_decay_diffusion(b) - div * spot * carry * b.n_d1 + rate * b.strike * b.discount * b.n_d2
    theta = np.where(b.years > 0, -d_value_d_t / DAYS_PER_YEAR, 0.0)
    return Greeks(b.price, delta, gamma, vega, theta)


def black76(forward, strike, years, rate, vol, kind) -> Greeks:
    """Black-76 price and greeks of European options on a futures price.

    Delta and gamma are with respect to the futures price; the premium is
    discounted at ``rate``; vega per vol point; theta per calendar day with
    the futures price held fixed.
    """
    years = np.maximum(np.asarray(years, float), 0.0)
    rate = np.asarray(rate, float)
    b = _black_core(forward, strike, years, vol, np.exp(-rate * years), _is_call(kind))
    safe_f = np.where(b.forward > 0, b.forward, 1.0)
    delta = b.discount * b.n_d1
    gamma = np.where(b.live, b.discount * b.pdf_d1 / (safe_f * b.stddev), 0.0)
    vega = np.where(b.live, b.discount * b.forward * b.pdf_d1 * np.sqrt(b.years), 0.0) / 100.0
    d_value_d_t = _time_decay_diffusion(b) - rate * b.price
    theta = np.where(b.years > 0, -d_value_d_t / DAYS_PER_YEAR, 0.0)
    return Greeks(b.price, delta, gamma, vega, theta)


def _black_price(forward, strike, years, vol, discount, is_call) -> np.ndarray:
    """Price only, with as few array operations as possible (scenario grids).

    Same limits as :func:`_black_core`: the discounted forward intrinsic value
    where the total standard deviation is negligible or an input is not
    positive.
    """
    forward = np.asarray(forward, float)
    strike = np.asarray(strike, float)
    stddev = np.maximum(np.asarray(vol, float), 0.0) * np.sqrt(np.maximum(np.asarray(years, float), 0.0))
    sign = np.where(is_call, 1.0, -1.0)
    if stddev.min() > _MIN_STDDEV and forward.min() > 0 and strike.min() > 0:
        # The usual scenario grid: nothing degenerate to mask, fewest operations.
        d1 = np.log(forward / strike) / stddev + 0.5 * stddev
        value = sign * (forward * ndtr(sign * d1) - strike * ndtr(sign * (d1 - stddev)))
        return np.asarray(discount, float) * np.maximum(value, 0.0)
    live = (stddev > _MIN_STDDEV) & (forward > 0) & (strike > 0)
    safe_sd = np.where(live, stddev, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = np.log(np.where(live, forward / np.where(live, strike, 1.0), 1.0)) / safe_sd + 0.5 * safe_sd
    value = sign * (forward * ndtr(sign * d1) - strike * ndtr(sign * (d1 - safe_sd)))
    return np.asarray(discount, float) * np.where(live, np.maximum(value, 0.0), np.maximum(sign * (forward - strike), 0.0))


def black_price_scaled(forward, strike, stddev, scale, discount, is_call) -> np.ndarray:
    """Black prices with total standard deviation ``stddev · scale``.

    For scenario grids where the vol of every option is scaled by one factor
    per scenario (a VIX level): ``forward``, ``strike``, ``stddev`` and
    ``is_call`` share a small shape and only ``scale`` spans the big axis, so
    the work on the full grid is a handful of operations and two normal
    CDFs.  Same values and limits as :func:`_black_price`.
    """
    forward, strike, stddev, scale = (np.asarray(x, float) for x in (forward, strike, stddev, scale))
    if (min(forward.min(), strike.min(), scale.min()) <= 0 or stddev.min() * scale.min() <= _MIN_STDDEV
            or not (np.isfinite(scale).all() and np.isfinite(stddev).all())):
        # Degenerate cells; an unbounded vol is capped where N(d1) = 1 and N(d2) = 0 exactly.
        return _black_price(forward, strike, np.minimum(stddev * scale, 1e3), 1.0, discount, is_call)
    sign = np.where(is_call, 1.0, -1.0)
    # sign·d1 = a + b and sign·d2 = a − b with a = sign·ln(F/K)/sd, b = sign·sd/2.
    a = (sign * np.log(forward / strike) / stddev) / scale
    b = (0.5 * sign * stddev) * scale
    value = (sign * forward) * ndtr(a + b)
    value -= (sign * strike) * ndtr(a - b)
    np.maximum(value, 0.0, out=value)
    value *= discount
    return value


def bsm_price_delta(spot, strike, years, rate, div, vol, kind, log_moneyness=None) -> tuple[np.ndarray, np.ndarray]:
    """Price and spot delta only, elementwise (strike searches, condor marks over history): the
    values of :func:`bsm` with fewer array operations.  ``log_moneyness`` = ln(K/F) when the caller
    has it already."""
    years = np.maximum(np.asarray(years, float), 0.0)
    spot, strike, rate, div = (np.asarray(x, float) for x in (spot, strike, rate, div))
    raw = np.maximum(np.asarray(vol, float), 0.0) * np.sqrt(years)
    stddev = np.maximum(raw, _MIN_STDDEV)
    carry, discount = np.exp(-div * years), np.exp(-rate * years)
    forward = spot * np.exp((rate - div) * years)
    x = np.log(strike / forward) if log_moneyness is None else log_moneyness
    d1 = 0.5 * stddev - x / stddev
    sign = np.where(_is_call(kind), 1.0, -1.0)
    n_d1 = ndtr(sign * d1)
    value = np.maximum(sign * discount * (forward * n_d1 - strike * ndtr(sign * (d1 - stddev))), 0.0)
    delta = sign * carry * n_d1
    dead = raw <= _MIN_STDDEV
    if dead.any():   # expiry or zero vol: the discounted intrinsic value, a step delta (a half at the money)
        gap = forward - strike
        step = np.where(gap == 0, 0.5, (sign * gap > 0).astype(float))
        value = np.where(dead, discount * np.maximum(sign * gap, 0.0), value)
        delta = np.where(dead, sign * carry * step, delta)
    return value, delta


def bsm_price(spot, strike, years, rate, div, vol, kind) -> np.ndarray:
    """Black–Scholes–Merton price only (cheaper than :func:`bsm`)."""
    years_arr = np.maximum(np.asarray(years, float), 0.0)
    rate = np.asarray(rate, float)
    forward = np.asarray(spot, float) * np.exp((rate - np.asarray(div, float)) * years_arr)
    return _black_price(forward, strike, years_arr, vol, np.exp(-rate * years_arr), _is_call(kind))


def black76_price(forward, strike, years, rate, vol, kind) -> np.ndarray:
    """Black-76 price only."""
    years_arr = np.maximum(np.asarray(years, float), 0.0)
    discount = np.exp(-np.asarray(rate, float) * years_arr)
    return _black_price(forward, strike, years_arr, vol, discount, _is_call(kind))


def black_call_delta(forward, strike, years, vol, discount=1.0) -> np.ndarray:
    """Call delta on a forward, discount · N(d1) (for strike searches)."""
    stddev = np.maximum(np.asarray(vol, float) * np.sqrt(np.maximum(np.asarray(years, float), 0.0)), _MIN_STDDEV)
    return discount * forward_delta(np.log(np.asarray(strike, float) / np.asarray(forward, float)), stddev, True)


def forward_delta(log_moneyness, stddev, is_call) -> np.ndarray:
    """The undiscounted delta to the forward, N(d1) for a call and −N(−d1) for a put, with
    d1 = −ln(K/F)/σ√T + σ√T/2 (``log_moneyness`` = ln(K/F), ``stddev`` = σ√T > 0): the delta of
    every strike search."""
    sign = np.where(is_call, 1.0, -1.0)
    return sign * ndtr(sign * (0.5 * stddev - np.asarray(log_moneyness, float) / stddev))


def price_bounds(forward, strike, discount, kind) -> tuple[np.ndarray, np.ndarray]:
    """No-arbitrage (lower, upper) bounds of a European option on a forward."""
    is_call = _is_call(kind)
    forward, strike, discount = (np.asarray(x, float) for x in (forward, strike, discount))
    lower = discount * np.maximum(np.where(is_call, forward - strike, strike - forward), 0.0)
    upper = discount * np.where(is_call, forward, strike)
    return lower, upper


def implied_vol_black(price, forward, strike, years, discount, kind, tol=1e-12, max_iter=100) -> np.ndarray:
    """Implied vol from a Black (forward) price, vectorised.

    A safeguarded Newton iteration: each step stays inside a bracket that
    always contains the root, falling back to bisection when Newton would
    leave it.  Prices at or below the no-arbitrage lower bound give 0;
    prices at or above the upper bound (or beyond ``MAX_VOL``) give
    ``MAX_VOL``.  Use :func:`price_bounds` to tell those cases apart.
    """
    is_call = _is_call(kind)
    price, forward, strike, years, discount, is_call = np.broadcast_arrays(
        np.asarray(price, float), np.asarray(forward, float), np.asarray(strike, float),
        np.maximum(np.asarray(years, float), 0.0), np.asarray(discount, float), is_call,
    )
    lower, upper = price_bounds(forward, strike, discount, is_call)
    valid_t = years > 0
    lo = np.full(price.shape, MIN_VOL)
    hi = np.full(price.shape, MAX_VOL)
    at_hi = _black_core(forward, strike, years, hi, discount, is_call).price
    target = np.clip(price, lower, upper)
    below = (target <= lower * (1 + 1e-14) + 1e-300) | ~valid_t
    above = (target >= at_hi) & ~below
    solve = ~(below | above)
    # Brenner–Subrahmanyam start, clipped into the bracket.
    safe_fd = np.where(forward * discount > 0, forward * discount, 1.0)
    guess = np.sqrt(2 * np.pi / np.where(valid_t, years, 1.0)) * target / safe_fd
    sigma = np.clip(np.where(np.isfinite(guess), guess, 0.2), 0.01, 3.0)
    for _ in range(max_iter):
        b = _black_core(forward, strike, years, sigma, discount, is_call)
        diff = b.price - target
        lo = np.where(diff < 0, sigma, lo)
        hi = np.where(diff > 0, sigma, hi)
        vega = discount * forward * b.pdf_d1 * np.sqrt(years)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = np.where(vega > 1e-300, diff / vega, np.inf)
        candidate = sigma - step
        inside = np.isfinite(candidate) & (candidate > lo) & (candidate < hi)
        new_sigma = np.where(inside, candidate, 0.5 * (lo + hi))
        done = np.abs(new_sigma - sigma) < tol
        sigma = np.where(solve, new_sigma, sigma)
        if np.all(done | ~solve):
            break
    out = np.where(below, MIN_VOL, np.where(above, MAX_VOL, sigma))
    return np.nan_to_num(out, nan=MIN_VOL, posinf=MAX_VOL, neginf=MIN_VOL)


def implied_vol_bsm(price, spot, strike, years, rate, div, kind, **kwargs) -> np.ndarray:
    """Implied vol of a Black–Scholes–Merton price (spot, rate, dividend yield)."""
    years_arr = np.maximum(np.asarray(years, float), 0.0)
    rate = np.asarray(rate, float)
    forward = np.asarray(spot, float) * np.exp((rate - np.asarray(div, float)) * years_arr)
    return implied_vol_black(price, forward, strike, years_arr, np.exp(-rate * years_arr), kind, **kwargs)


def implied_vol_black76(price, forward, strike, years, rate, kind, **kwargs) -> np.ndarray:
    """Implied vol of a Black-76 price on a futures price."""
    years_arr = np.maximum(np.asarray(years, float), 0.0)
    return implied_vol_black(price, forward, strike, years_arr, np.exp(-np.asarray(rate, float) * years_arr), kind, **kwargs)


# --- Scalar reference implementation -------------------------------------------
# One option at a time with the math module: the obvious formulas, kept beside
# the vectorised ones so tests can compare them, and used where a structure
# prices a handful of legs (numpy's per-call overhead dominates there).

def _ncdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def bsm_one(spot: float, strike: float, years: float, rate: float, div: float, vol: float,
            is_call: bool) -> tuple[float, float, float, float, float]:
    """(price, delta, gamma, vega, theta) of one option; same units and limits as :func:`bsm`."""
    years = max(years, 0.0)
    vol = max(vol, 0.0)
    sign = 1.0 if is_call else -1.0
    discount = math.exp(-rate * years)
    carry = math.exp(-div * years)
    forward = spot * math.exp((rate - div) * years)
    stddev = vol * math.sqrt(years)
    if stddev <= _MIN_STDDEV or forward <= 0 or strike <= 0:
        diff = forward - strike
        step = 0.5 if diff == 0 else float(sign * diff > 0)
        price = discount * max(sign * diff, 0.0)
        theta = 0.0
        if years > 0:
            theta = -(-div * spot * carry * sign * step + rate * strike * discount * sign * step) / DAYS_PER_YEAR
        return price, carry * sign * step + 0.0, 0.0, 0.0, theta
    d1 = math.log(forward / strike) / stddev + 0.5 * stddev
    d2 = d1 - stddev
    n_d1 = sign * _ncdf(sign * d1)
    n_d2 = sign * _ncdf(sign * d2)
    price = max(discount * (forward * n_d1 - strike * n_d2), 0.0)
    pdf = math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi)
    gamma = carry * pdf / (spot * stddev)
    vega = spot * carry * pdf * math.sqrt(years) / 100.0
    d_value_d_t = (discount * forward * pdf * vol / (2.0 * math.sqrt(years))
                   - div * spot * carry * n_d1 + rate * strike * discount * n_d2)
    return price, carry * n_d1, gamma, vega, -d_value_d_t / DAYS_PER_YEAR


def black76_one(forward: float, strike: float, years: float, rate: float, vol: float,
                is_call: bool) -> tuple[float, float, float, float, float]:
    """(price, delta, gamma, vega, theta) of one option on a futures price, as
    :func:`black76`: Black-76 is Black–Scholes–Merton with the carry equal
    to the rate (the future neither grows nor pays)."""
    return bsm_one(forward, strike, years, rate, rate, vol, is_call)

