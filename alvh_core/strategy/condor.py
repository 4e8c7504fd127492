"""SPX iron condors: candidates on the strike grid, the tier's pick, metrics.

A condor is four legs (long put < short put < short call < long call) on the
SPX strike grid, priced with the vol model.  Short strikes are chosen by
|delta| (the same delta on both sides), either at the tier's delta target or
at the delta whose condor POP comes closest to the tier's POP target.

Money units: leg prices and widths in index points; every P/L figure of
:class:`CondorMetrics` in dollars per one condor contract (×100).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache

import numpy as np

from alvh_core.data.listings import FAR_STEP, SpxExpiry, nearest_expiry, strike_step
from alvh_core.model.distributions import PnlMeasures, TerminalDistribution, lognormal, pnl_measures
from alvh_core.model.fills import fill_for_legs
from alvh_core.model.fitted import DEFAULT_FILL_SHARE
from alvh_core.model.market import MarketState
from alvh_core.model.pricing import DAYS_PER_YEAR, bsm_price_delta
from alvh_core.model.volmodel import VolModel
from alvh_core.strategy.legs import MULTIPLIER, OptionLeg, Structure, price_leg
from alvh_core.strategy.tiers import Tier

SELECTIONS = ("pop", "delta")
#: Products: SPX, and the mini index XSP (one tenth of SPX).  The engine keeps every
#: strike and price in SPX points; an XSP contract is worth a tenth of an SPX one.
PRODUCT_SIZE = {"SPX": 1.0, "XSP": 0.1}
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
    expiry: SpxExpiry | None = None  # the listed expiry (None for a hand-made tenor)
    fill_cost: float = 0.0           # points per contract given up from mid at the chosen fill
    natural_cost: float = 0.0        # points per contract from mid to the natural price
    underlying: str = "SPX"          # "SPX", or "XSP" (one tenth of SPX: strikes and prices / 10)
    #: Per leg, the vol its price implies less the vol model's at entry (zero for model prices;
    #: a leg priced at a chain's quotes keeps its market vol when it is valued later).
    iv_shift: tuple[float, ...] = ()
    quote_source: str = ""           # where the legs' prices came from: "" (the model) or the chain's name

    def leg_iv_shift(self) -> np.ndarray:
        return np.array(self.iv_shift if len(self.iv_shift) == len(self.legs) else (0.0,) * len(self.legs), float)

    @property
    def size(self) -> float:
        """Contract size as a share of one SPX contract."""
        return PRODUCT_SIZE[self.underlying]

    @property
    def dollars_per_point(self) -> float:
        """Dollars per SPX point per contract (100 for SPX, 10 for XSP)."""
        return MULTIPLIER * self.size

    def greeks(self) -> dict[str, float]:
        return {name: value * self.size for name, value in super().greeks().items()}

    def quoted(self, points: float) -> float:
        """A strike or price in the product's own units (XSP quotes one tenth of SPX)."""
        return points * self.size

    @property
    def premium(self) -> float:
        """Net premium at the fill: the legs' mids plus what the fill gives up."""
        return super().premium + self.fill_cost

    @property
    def mid_credit(self) -> float:
        """Net credit at the legs' model mids, index points."""
        return -super().premium

    @property
    def natural_credit(self) -> float:
        """Net credit selling at the bid and buying at the ask (model spreads), index points."""
        return self.mid_credit - self.natural_cost

    def pnl_at_expiry(self, underlying_at_expiry) -> np.ndarray:
        return super().pnl_at_expiry(underlying_at_expiry) - self.fill_cost

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
        """Net credit received at the fill, index points."""
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

    credit: float              # at the fill
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
    credit_mid: float = 0.0        # at the legs' model mids
    credit_natural: float = 0.0    # selling at the bid, buying at the ask (model spreads)
    fill_share: float = 0.0        # 0 = mid, 1 = natural
    reg_t: float = 0.0             # what a broker holds (Reg-T): the wider side's width less the credit

    @property
    def return_on_reg_t(self) -> float:
        """The credit as a share of the Reg-T requirement (the most the trade can earn on the margin held)."""
        return self.credit / self.reg_t if self.reg_t > 0 else 0.0


def product_step(spot: float, strike: float, days: float, cycle: str = "standard", underlying: str = "SPX",
                 vix: float | None = None) -> float:
    """The listed strike interval in SPX points for SPX or XSP (see :func:`alvh_core.data.listings.strike_step`;
    an XSP point is a tenth of an SPX point), on a day of VIX ``vix``."""
    return strike_step(spot, strike, days, underlying, cycle, vix) / PRODUCT_SIZE[underlying]


def listed_strikes(spot: float, days: float, low: float, high: float, cycle: str = "standard",
                   underlying: str = "SPX", vix: float | None = None) -> np.ndarray:
    """Every listed strike (SPX points) between ``low`` and ``high`` on the grid of
    :func:`product_step` (finer near the money)."""
    candidates = np.arange(np.floor(max(low, 5.0) / 5.0) * 5.0, high + 5.0, 5.0)
    steps = np.array([product_step(spot, k, days, cycle, underlying, vix) for k in candidates])
    return candidates[np.abs(candidates / steps - np.round(candidates / steps)) < 1e-9]


def nearest_wing(target, below, above, short, direction: int):
    """The wing strike nearest ``target`` of the listed ``below`` and ``above`` it (elementwise), the one on
    or inside the ``short`` strike left out; a tie goes to the wider wing.  ``direction`` −1 for the put
    wing (below the short put), +1 for the call wing."""
    target, below, above, short = np.broadcast_arrays(*(np.asarray(x, float) for x in (target, below, above, short)))
    if direction < 0:
        inner, outer = above, below           # the put wing: "above" is the narrower one
        inner_ok = inner < short
    else:
        inner, outer = below, above
        inner_ok = inner > short
    closer = np.abs(inner - target) < np.abs(outer - target)
    return np.where(inner_ok & closer, inner, outer)


class _StrikeGrid:
    """Model prices and deltas of puts and calls on the listed strike grid."""

    def __init__(self, market: MarketState, vol_model: VolModel, days: float, wing: float, cycle: str = "standard",
                 underlying: str = "SPX"):
        self.forward = float(market.forward(days))
        years = days / DAYS_PER_YEAR
        atm = float(vol_model.atm_vol(days))
        sd = atm * np.sqrt(years)
        # Two far-grid steps beyond the wings, so every short strike has a listed wing beyond it.
        low = market.spot * np.exp(-7 * sd - 0.02) - 2 * wing - 2 * FAR_STEP
        high = market.spot * np.exp(5 * sd + 0.02) + 2 * wing + 2 * FAR_STEP
        self.strikes = _listed_cached(float(market.spot), float(days), float(low), float(high), cycle, underlying,
                                      market.vix)
        if self.strikes.size < 8:
            # An index level no listing was ever made for (SPX has not traded below 300 since 1990,
            # a hand-typed 100 is possible): a uniform grid of about half a percent instead.
            step = max(0.5, round(market.spot * 0.005 * 2) / 2)
            self.strikes = np.arange(max(step, np.floor(low / step) * step), high + step, step)
        self.iv = vol_model.implied_vol(self.strikes, self.forward, days)
        put_price, put_delta = bsm_price_delta(market.spot, self.strikes, years, market.rate, market.div, self.iv,
                                               "put")
        # Calls by put–call parity: C = P + e^{-qT}S − e^{-rT}K, delta_C = delta_P + e^{-qT}.
        carry, discount = np.exp(-market.div * years), np.exp(-market.rate * years)
        self.put_price, self.put_delta = put_price, put_delta
        self.call_price = np.maximum(put_price + carry * market.spot - discount * self.strikes, 0.0)
        self.call_delta = put_delta + carry
        self.atm = atm
        for values in (self.iv, self.put_price, self.put_delta, self.call_price, self.call_delta):
            values.setflags(write=False)   # shared by every caller of the cached grid

    def index(self, strikes) -> np.ndarray:
        """Index of each (listed) strike in the grid."""
        idx = np.searchsorted(self.strikes, np.asarray(strikes, float) - 1e-9)
        return np.minimum(np.maximum(idx, 0), self.strikes.size - 1)

    def at_or_below(self, level) -> np.ndarray:
        idx = np.searchsorted(self.strikes, np.asarray(level, float) + 1e-9, side="right") - 1
        return self.strikes[np.maximum(idx, 0)]

    def at_or_above(self, level) -> np.ndarray:
        idx = np.searchsorted(self.strikes, np.asarray(level, float) - 1e-9, side="left")
        return self.strikes[np.minimum(idx, self.strikes.size - 1)]


def _listed_cached(spot: float, days: float, low: float, high: float, cycle: str, underlying: str,
                   vix: float | None = None) -> np.ndarray:
    # Rounded bounds keep the cache small; the grid itself is exact.
    return _listed(round(spot, 2), round(days, 4), float(np.floor(low / 100) * 100), float(np.ceil(high / 100) * 100),
                   cycle, underlying, None if vix is None else round(float(vix), 4))


@lru_cache(maxsize=256)
def _listed(spot: float, days: float, low: float, high: float, cycle: str, underlying: str,
            vix: float | None = None) -> np.ndarray:
    strikes = listed_strikes(spot, days, low, high, cycle, underlying, vix)
    strikes.setflags(write=False)
    return strikes


@lru_cache(maxsize=64)
def _strike_grid(market: MarketState, vol_model: VolModel, days: float, wing: float, cycle: str,
                 underlying: str) -> _StrikeGrid:
    """The priced grid of one market, tenor and product: a Builder rerun that changes the budget or the hedge
    (not the market) prices it once.  Its arrays are never written after construction."""
    return _StrikeGrid(market, vol_model, days, wing, cycle, underlying)


def candidates(market: MarketState, days: float, wing: float, short_deltas=None,
               vol_model: VolModel | None = None, distribution: TerminalDistribution | None = None,
               cycle: str = "standard", underlying: str = "SPX") -> CandidateSet:
    """Condors whose short strikes sit at each |delta| of ``short_deltas``.

    Vectorised: one call prices every candidate.  POP uses ``distribution``
    (default: lognormal at the model ATM vol).
    """
    vol_model = vol_model or market.vol_model()
    grid = _strike_grid(market, vol_model, float(days), float(wing), cycle, underlying)
    deltas = np.asarray(_DELTA_GRID if short_deltas is None else short_deltas, float)
    # Nearest grid strike to each target |delta| (put deltas rise with strike).
    last = grid.strikes.size - 1
    put_idx = np.minimum(np.searchsorted(-np.abs(grid.put_delta[::-1]), -deltas), last)
    # Keep a listed strike below the short put and two above it (the short call and its wing).
    put_idx = np.clip(grid.strikes.size - 1 - put_idx, 1, max(last - 2, 1))
    call_idx = np.clip(np.minimum(np.searchsorted(-grid.call_delta, -deltas), last), put_idx + 1, last - 1)
    short_put = grid.strikes[put_idx]
    short_call = grid.strikes[call_idx]
    # Wings on the listed strike nearest the width asked (where the grid is coarse, the nearer of the
    # listed strikes either side; never on or inside the short strike).
    put_target, call_target = short_put - wing, short_call + wing
    long_put = nearest_wing(put_target, np.maximum(grid.at_or_below(put_target), grid.strikes[0]),
                            grid.at_or_above(put_target), short_put, -1)
    long_put = np.where(long_put >= short_put, grid.strikes[0], long_put)
    long_call = nearest_wing(call_target, grid.at_or_below(call_target), grid.at_or_above(call_target), short_call, 1)
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
    return pnl_measures(pnl * MULTIPLIER)  # per SPX-sized contract


def condor_expiry(market: MarketState, target_days: float) -> tuple[SpxExpiry, float]:
    """The listed SPX/SPXW expiry nearest ``target_days`` and its time to expiry (calendar days)."""
    asof = market_date(market)
    expiry = nearest_expiry(asof, target_days)
    return expiry, max(expiry.years_from(asof), 0.25)


def market_date(market: MarketState) -> date:
    """The trading date of a market (today when it carries none)."""
    if market.asof:
        try:
            return date.fromisoformat(market.asof[:10])
        except ValueError:
            pass
    return date.today()


def build_condor(market: MarketState, tier: Tier, selection: str = "pop", days: float | None = None,
                 wing_points: float | None = None, vol_model: VolModel | None = None,
                 fill_share: float = DEFAULT_FILL_SHARE, underlying: str = "SPX") -> IronCondor:
    """The tier's condor on the listed expiry nearest its days (or ``days``), short
    strikes at the POP target or the delta target, every strike on the listed grid.

    Memoised per input (and the day, for a market without a date): a Builder rerun that changes the budget,
    the hedge or the view, not the market or the condor's own inputs, searches once."""
    vol_model = vol_model or market.vol_model()
    try:
        return _build_condor_cached(market, tier, selection, days, wing_points, vol_model, fill_share, underlying,
                                    market_date(market))
    except TypeError:   # an input that cannot be a cache key
        return _build_condor(market, tier, selection, days, wing_points, vol_model, fill_share, underlying)


@lru_cache(maxsize=128)
def _build_condor_cached(market, tier, selection, days, wing_points, vol_model, fill_share, underlying,
                         _day) -> IronCondor:
    return _build_condor(market, tier, selection, days, wing_points, vol_model, fill_share, underlying)


def _build_condor(market: MarketState, tier: Tier, selection: str, days: float | None, wing_points: float | None,
                  vol_model: VolModel | None, fill_share: float, underlying: str) -> IronCondor:
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}")
    target = float(tier.days if days is None else days)
    if not 1 <= target <= 365:
        raise ValueError("days to expiry must be between 1 and 365")
    vol_model = vol_model or market.vol_model()
    if underlying not in PRODUCT_SIZE:
        raise ValueError(f"underlying must be one of {tuple(PRODUCT_SIZE)}")
    expiry, days = condor_expiry(market, target)
    if underlying == "XSP":  # the same listed days; XSP settles at the close (P.M.)
        expiry = replace(expiry, root="XSP")
        days = max(expiry.years_from(market_date(market)), 0.25)
    step = product_step(market.spot, market.spot, days, expiry.cycle, underlying, market.vix)
    wing = float(wing_points if wing_points is not None else tier.wing_points(market.spot, step))
    wing = max(step, round(wing / step) * step)
    if selection == "delta":
        pick = candidates(market, days, wing, [tier.short_delta], vol_model, cycle=expiry.cycle, underlying=underlying)
        i = 0
    else:
        pick = candidates(market, days, wing, None, vol_model, cycle=expiry.cycle, underlying=underlying)
        inside = (pick.pop >= tier.pop_min) & (pick.pop <= tier.pop_max)
        miss = np.abs(pick.pop - tier.pop_target)
        # Inside the range, take the richest credit; otherwise the nearest POP.
        i = int(np.argmax(np.where(inside, pick.credit, -np.inf))) if inside.any() else int(np.argmin(miss))
    condor = condor_from_strikes(market, days, pick.long_put[i], pick.short_put[i], pick.short_call[i],
                                 pick.long_call[i], vol_model, fill_share)
    return replace(condor, expiry=expiry, underlying=underlying)


def condor_from_strikes(market: MarketState, days: float, long_put: float, short_put: float,
                        short_call: float, long_call: float, vol_model: VolModel | None = None,
                        fill_share: float = DEFAULT_FILL_SHARE) -> IronCondor:
    """An iron condor with the given strikes, priced with the vol model, filled
    ``fill_share`` of the way from mid to natural (model spreads)."""
    if not 0 < long_put < short_put < short_call < long_call:
        raise ValueError("strikes must satisfy long put < short put < short call < long call")
    vol_model = vol_model or market.vol_model()
    strikes = np.array([long_put, short_put, short_call, long_call], float)
    ivs = vol_model.implied_vol(strikes, market.forward(days), days)
    spec = (("put", 1), ("put", -1), ("call", -1), ("call", 1))
    legs = tuple(price_leg(kind, side, k, days, market.spot, market.rate, market.div, iv)
                 for (kind, side), k, iv in zip(spec, strikes, ivs, strict=True))
    fill = fill_for_legs(legs, market.vix, fill_share)
    return IronCondor(legs=legs, spot=market.spot, days=float(days), rate=market.rate, div=market.div,
                      atm_vol=float(vol_model.atm_vol(days)), fill_cost=fill.cost, natural_cost=fill.natural_cost)


def expected_move(spot: float, vol: float, days: float) -> tuple[float, float]:
    """±1σ and ±2σ moves to expiry in index points (spot · vol · √T)."""
    one = spot * vol * np.sqrt(max(days, 0.0) / DAYS_PER_YEAR)
    return float(one), float(2 * one)


def condor_metrics(condor: IronCondor, distribution: TerminalDistribution | None = None) -> CondorMetrics:
    """Credit, risk, probabilities and greeks of one condor contract."""
    dist = distribution or lognormal(condor.spot, condor.days, condor.rate, condor.div, condor.atm_vol)
    dollars = condor.dollars_per_point
    pnl = condor.pnl_at_expiry(dist.spot_at_expiry) * dollars
    measures: PnlMeasures = pnl_measures(pnl)
    low, high = condor.breakevens
    pop = float(dist.prob_between(low, high)) if dist.convention in ("lognormal", "smile") else measures.pop
    one, two = expected_move(condor.spot, condor.atm_vol, condor.days)
    return CondorMetrics(
        credit=condor.credit * dollars,
        max_profit=condor.credit * dollars,
        max_loss=condor.max_loss_points * dollars,
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
        credit_mid=condor.mid_credit * dollars,
        credit_natural=condor.natural_credit * dollars,
        fill_share=condor.fill_cost / condor.natural_cost if condor.natural_cost > 0 else 0.0,
        reg_t=max(max(condor.put_width, condor.call_width) - condor.credit, 0.0) * dollars,
    )
