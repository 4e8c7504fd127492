"""SPX iron condors: candidates on the strike grid, the tier's pick, metrics.

A condor is four legs (long put < short put < short call < long call) on the
SPX strike grid, priced with the vol model.  Short strikes are chosen by
|delta| (the same delta on both sides), either at the tier's delta target or
at the delta whose condor POP comes closest to the tier's POP target.

Money units: leg prices and widths in index points; every P/L figure of
:class:`CondorMetrics` in dollars per one condor contract (×100).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .legs import MULTIPLIER, OptionLeg, Structure, price_leg
from .market import MarketState, strike_step
from .pricing import DAYS_PER_YEAR, bsm_price_delta
from .probability import PnlMeasures, TerminalDistribution, lognormal, pnl_measures
from .tiers import Tier
from .volmodel import VolModel

SELECTIONS = ("pop", "delta")
#: |delta| values tried when searching for the POP target.
_DELTA_GRID = np.arange(0.01, 0.451, 0.0025)


@dataclass(frozen=True)
class IronCondor(Structure):
    """Four legs plus the market they were priced in."""

    spot: float = 0.0
    days: float = 0.0
    rate: float = 0.0
    div: float = 0.0
    atm_vol: float = 0.0  # model ATM vol at the tenor (decimal)

    @property
    def long_put(self) -> OptionLeg:
        return self.legs[0]

    @property
    def short_put(self) -> OptionLeg:
        return self.legs[1]

    @property
    def short_call(self) -> OptionLeg:
        return self.legs[2]

    @property
    def long_call(self) -> OptionLeg:
        return self.legs[3]

    @property
    def credit(self) -> float:
        """Net credit received, index points."""
        return -self.premium

    @property
    def put_width(self) -> float:
        return self.short_put.strike - self.long_put.strike

    @property
    def call_width(self) -> float:
        return self.long_call.strike - self.short_call.strike

    @property
    def max_loss_points(self) -> float:
        return max(self.put_width, self.call_width) - self.credit

    @property
    def breakevens(self) -> tuple[float, float]:
        return self.short_put.strike - self.credit, self.short_call.strike + self.credit


@dataclass(frozen=True)
class CandidateSet:
    """Many condors of one tenor and wing, as arrays (one entry each)."""

    short_put: np.ndarray
    short_call: np.ndarray
    long_put: np.ndarray
    long_call: np.ndarray
    credit: np.ndarray       # points
    max_loss: np.ndarray     # points
    breakeven_low: np.ndarray
    breakeven_high: np.ndarray
    pop: np.ndarray
    short_delta: np.ndarray  # |delta| of the short put (the call's matches nearest)


@dataclass(frozen=True)
class CondorMetrics:
    """Everything the pages and the CLI report about one condor contract.

    Dollars per contract unless the name says points; probabilities as
    decimals; greeks in dollars (delta $/point, gamma $/point², vega $/vol
    point, theta $/day).
    """

    credit: float
    max_profit: float
    max_loss: float
    breakevens: tuple[float, float]
    pop: float
    touch_short_put: float
    touch_short_call: float
    expected_pl: float
    expected_loss: float
    cvar95: float
    greeks: dict
    expected_move_1sd: float   # points
    expected_move_2sd: float   # points
    convention: str
    distribution: str


class _StrikeGrid:
    """Model prices and deltas of puts and calls on the strike grid."""

    def __init__(self, market: MarketState, vol_model: VolModel, days: float, wing: float):
        self.step = strike_step(market.spot)
        self.forward = float(market.forward(days))
        years = days / DAYS_PER_YEAR
        atm = float(vol_model.atm_vol(days))
        sd = atm * np.sqrt(years)
        low = max(self.step, np.floor(market.spot * np.exp(-7 * sd - 0.02) / self.step) * self.step - wing)
        high = np.ceil(market.spot * np.exp(5 * sd + 0.02) / self.step) * self.step + wing
        self.strikes = np.arange(low, high + self.step / 2, self.step)
        self.iv = vol_model.implied_vol(self.strikes, self.forward, days)
        put_price, put_delta = bsm_price_delta(market.spot, self.strikes, years, market.rate, market.div, self.iv,
                                               "put")
        # Calls by put–call parity: C = P + e^{-qT}S − e^{-rT}K, delta_C = delta_P + e^{-qT}.
        carry, discount = np.exp(-market.div * years), np.exp(-market.rate * years)
        self.put_price, self.put_delta = put_price, put_delta
        self.call_price = np.maximum(put_price + carry * market.spot - discount * self.strikes, 0.0)
        self.call_delta = put_delta + carry
        self.atm = atm

    def index(self, strikes) -> np.ndarray:
        idx = np.rint((np.asarray(strikes, float) - self.strikes[0]) / self.step).astype(int)
        return np.minimum(np.maximum(idx, 0), self.strikes.size - 1)


def candidates(market: MarketState, days: float, wing: float, short_deltas=None,
               vol_model: VolModel | None = None, distribution: TerminalDistribution | None = None) -> CandidateSet:
    """Condors whose short strikes sit at each |delta| of ``short_deltas``.

    Vectorised: one call prices every candidate.  POP uses ``distribution``
    (default: lognormal at the model ATM vol).
    """
    vol_model = vol_model or market.vol_model()
    grid = _StrikeGrid(market, vol_model, days, wing)
    deltas = np.asarray(_DELTA_GRID if short_deltas is None else short_deltas, float)
    # Nearest grid strike to each target |delta| (put deltas rise with strike).
    last = grid.strikes.size - 1
    put_idx = np.minimum(np.searchsorted(-np.abs(grid.put_delta[::-1]), -deltas), last)
    put_idx = grid.strikes.size - 1 - put_idx
    call_idx = np.minimum(np.searchsorted(-grid.call_delta, -deltas), last)
    short_put = grid.strikes[put_idx]
    short_call = np.maximum(grid.strikes[call_idx], short_put + grid.step)
    long_put = np.maximum(short_put - wing, grid.strikes[0])
    long_call = short_call + wing
    price = lambda side, k: (grid.put_price if side == "put" else grid.call_price)[grid.index(k)]  # noqa: E731
    credit = price("put", short_put) - price("put", long_put) + price("call", short_call) - price("call", long_call)
    max_loss = np.maximum(short_put - long_put, long_call - short_call) - credit
    be_low, be_high = short_put - credit, short_call + credit
    dist = distribution or lognormal(market.spot, days, market.rate, market.div, grid.atm)
    return CandidateSet(short_put, short_call, long_put, long_call, credit, max_loss, be_low, be_high,
                        dist.prob_between(be_low, be_high), np.abs(grid.put_delta[put_idx]))


def candidate_measures(cands: CandidateSet, distribution: TerminalDistribution) -> dict[str, np.ndarray]:
    """Expected P/L, expected loss, CVaR 95 % and POP of every candidate, $/contract."""
    s = distribution.spot_at_expiry[None, :]
    pnl = (cands.credit[:, None]
           - np.maximum(cands.short_put[:, None] - s, 0.0) + np.maximum(cands.long_put[:, None] - s, 0.0)
           - np.maximum(s - cands.short_call[:, None], 0.0) + np.maximum(s - cands.long_call[:, None], 0.0))
    return pnl_measures(pnl * MULTIPLIER)


def build_condor(market: MarketState, tier: Tier, selection: str = "pop", days: float | None = None,
                 wing_points: float | None = None, vol_model: VolModel | None = None) -> IronCondor:
    """The tier's condor: short strikes at the POP target or the delta target."""
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}")
    days = float(tier.days if days is None else days)
    if not 1 <= days <= 365:
        raise ValueError("days to expiry must be between 1 and 365")
    vol_model = vol_model or market.vol_model()
    step = strike_step(market.spot)
    wing = float(wing_points if wing_points is not None else tier.wing_points(market.spot, step))
    wing = max(step, round(wing / step) * step)
    if selection == "delta":
        pick = candidates(market, days, wing, [tier.short_delta], vol_model)
        i = 0
    else:
        pick = candidates(market, days, wing, None, vol_model)
        inside = (pick.pop >= tier.pop_min) & (pick.pop <= tier.pop_max)
        miss = np.abs(pick.pop - tier.pop_target)
        # Inside the range, take the richest credit; otherwise the nearest POP.
        i = int(np.argmax(np.where(inside, pick.credit, -np.inf))) if inside.any() else int(np.argmin(miss))
    return condor_from_strikes(market, days, pick.long_put[i], pick.short_put[i], pick.short_call[i],
                               pick.long_call[i], vol_model)


def condor_from_strikes(market: MarketState, days: float, long_put: float, short_put: float,
                        short_call: float, long_call: float, vol_model: VolModel | None = None) -> IronCondor:
    """An iron condor with the given strikes, priced with the vol model."""
    if not 0 < long_put < short_put < short_call < long_call:
        raise ValueError("strikes must satisfy long put < short put < short call < long call")
    vol_model = vol_model or market.vol_model()
    strikes = np.array([long_put, short_put, short_call, long_call], float)
    ivs = vol_model.implied_vol(strikes, market.forward(days), days)
    spec = (("put", 1), ("put", -1), ("call", -1), ("call", 1))
    legs = tuple(price_leg(kind, side, k, days, market.spot, market.rate, market.div, iv)
                 for (kind, side), k, iv in zip(spec, strikes, ivs, strict=True))
    return IronCondor(legs=legs, spot=market.spot, days=float(days), rate=market.rate, div=market.div,
                      atm_vol=float(vol_model.atm_vol(days)))


def expected_move(spot: float, vol: float, days: float) -> tuple[float, float]:
    """±1σ and ±2σ moves to expiry in index points (spot · vol · √T)."""
    one = spot * vol * np.sqrt(max(days, 0.0) / DAYS_PER_YEAR)
    return float(one), float(2 * one)


def condor_metrics(condor: IronCondor, distribution: TerminalDistribution | None = None) -> CondorMetrics:
    """Credit, risk, probabilities and greeks of one condor contract."""
    dist = distribution or lognormal(condor.spot, condor.days, condor.rate, condor.div, condor.atm_vol)
    pnl = condor.pnl_at_expiry(dist.spot_at_expiry) * MULTIPLIER
    measures: PnlMeasures = pnl_measures(pnl)
    low, high = condor.breakevens
    pop = float(dist.prob_between(low, high)) if dist.convention == "lognormal" else measures.pop
    one, two = expected_move(condor.spot, condor.atm_vol, condor.days)
    return CondorMetrics(
        credit=condor.credit * MULTIPLIER,
        max_profit=condor.credit * MULTIPLIER,
        max_loss=condor.max_loss_points * MULTIPLIER,
        breakevens=(float(low), float(high)),
        pop=pop,
        touch_short_put=float(dist.prob_touch(condor.short_put.strike)),
        touch_short_call=float(dist.prob_touch(condor.short_call.strike)),
        expected_pl=measures.expected_pl,
        expected_loss=measures.expected_loss,
        cvar95=measures.cvar95,
        greeks=condor.greeks(),
        expected_move_1sd=one,
        expected_move_2sd=two,
        convention=dist.convention,
        distribution=dist.description,
    )
