"""The Adaptive Layered VIX Hedge: budget, layers, comparators, valuation.

Budget (seed 001): VIX exposure as a % of strategy notional, by regime band,
placed in the band by the stress score.  Exposure is **VIX notional**:
contracts × 100 × the VIX future of the option's expiry.

Layers (seeds 003, 004), split 40/40/20 by default:

* **Base**: long ~30-delta VIX calls, first expiry 14–35 days out (the next
  one when VIX/VIX3M ≥ 1: time-shifting), rolled weekly;
* **Adaptive**: VIX call spread (long ~40-delta, short ~15-delta), first
  expiry 30–95 days out, rolled monthly, × 1.5 within 5 trading days of an
  FOMC/CPI/PPI day;
* **Tail**: deep OTM (~10-delta) VIX calls 90–185 days out, or SPX put
  butterflies, rolled quarterly; always on, or only when the stress trigger
  fires (user's choice).

VIX options are priced with Black-76 on the futures proxy (never on spot
VIX) with the vol of VIX from VVIX decaying with tenor and an upward call
skew (:mod:`alvh_core.model.fitted`).  Contracts are whole numbers; the exact
figure is kept beside the rounded one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from alvh_core.data.listings import (
    VIX_ERA_MASKS,
    VIX_STRIKE_ERAS,
    VIX_STRIKE_SUPERSET,
    nearest_expiry,
    snap_strike,
    vix_strike_era,
)
from alvh_core.model import limits
from alvh_core.model.fitted import VIX_CALL_SKEW, VVIX_ELASTICITY
from alvh_core.model.market import MarketState
from alvh_core.model.pricing import DAYS_PER_YEAR, black76_one, black76_price, black_call_delta, bsm_one, bsm_price
from alvh_core.model.regime import Regime
from alvh_core.model.vixfutures import expiries_after, futures_proxy, tenor_beta, vix_option_vol
from alvh_core.strategy.legs import MULTIPLIER, OptionLeg

#: The hedge schemes, each with its one label (the Builder's choice order).
SCHEME_LABELS = {"alvh": "ALVH 40/40/20", "static10": "Static 10 %", "single": "Single VIX call",
                 "vxth": "Cboe VXTH rule", "none": "No hedge", "custom": "Custom"}
SCHEMES = tuple(SCHEME_LABELS)
#: The schemes a backtest runs (a custom hedge is the Builder's only), in the order results are shown.
BACKTEST_SCHEMES = ("none", "alvh", "single", "static10", "vxth")
#: Results show trading smaller (no hedge, fewer condors) beside the schemes.
RESULT_LABELS = {**SCHEME_LABELS, "smaller": "Trade smaller (no hedge)"}
CONTINGENT_MODES = ("always", "stress")
#: How the hedge is sized.  By default to the condor position it protects: the band's % of the
#: notional that position stands for, at seed 001's worked ratio ($100,000 of notional for $5,000
#: of risk: 20 × its max loss), so Low (6–8 %) is 1.2–1.6× the max loss, Moderate 2.4–3.6×, High
#: 5–7×.  Seed 001's literal rule, the band's % of the strategy notional, is one choice away.
SIZING_MODES = ("max_loss", "notional", "contract")
SIZING_LABELS = {"max_loss": "to the position: the band's % of 20 × its max loss",
                 "notional": "seed 001's rule: the band's % of the strategy notional",
                 "contract": "to the position: $ of VIX notional per condor contract"}
DEFAULT_SIZING = "max_loss"
#: Seed 001's worked ratio: strategy notional per dollar of condor risk ($100,000 for $5,000).
NOTIONAL_PER_RISK = 20.0
DEFAULT_PER_MAX_LOSS = NOTIONAL_PER_RISK
DEFAULT_PER_CONTRACT = 5_000.0   # per SPX-sized contract at the Low band's middle (an XSP contract counts a tenth)
REFERENCE_BUDGET_PCT = 7.0
TAIL_INSTRUMENTS = ("vix_calls", "spx_put_fly")
#: "held": a trader's own legs, kept to expiry (no roll; their carry is the whole premium's decay).
ROLLS_PER_YEAR = {"weekly": 52, "monthly": 12, "quarterly": 4, "held": 0}
ROLL_DAYS = {"weekly": 7, "monthly": 30, "quarterly": 91, "held": 100_000}
EVENT_WINDOW_DAYS = 7          # about 5 trading days
STATIC_BUDGET_PCT = 10.0


#: The largest multiple of its rule a hedge can be sized at.
HEDGE_SCALE_MAX = 10.0


@dataclass(frozen=True)
class HedgeSettings:
    """The user's hedge choices (every one editable on the Builder)."""

    scheme: str = "alvh"
    split: tuple[float, float, float] = (0.4, 0.4, 0.2)
    contingent: str = "always"
    stress_trigger: float = 0.6
    tail_instrument: str = "vix_calls"
    event_multiplier: float = 1.5
    custom_budget_pct: float = 10.0
    call_skew: float = VIX_CALL_SKEW
    sizing: str = DEFAULT_SIZING
    per_contract: float = DEFAULT_PER_CONTRACT
    per_max_loss: float = DEFAULT_PER_MAX_LOSS
    #: The event multiplier may take the total above the regime's band (said on the page).
    allow_above_band: bool = False
    #: The hedge's size as a multiple of what its rule gives (the frontier: 0 = no hedge, 1 = the rule).
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.scale) and 0.0 <= self.scale <= HEDGE_SCALE_MAX):
            raise ValueError(f"the hedge scale must be between 0 and {HEDGE_SCALE_MAX:g}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"hedge scheme must be one of {SCHEMES}")
        if self.contingent not in CONTINGENT_MODES:
            raise ValueError(f"contingent mode must be one of {CONTINGENT_MODES}")
        if self.tail_instrument not in TAIL_INSTRUMENTS:
            raise ValueError(f"tail instrument must be one of {TAIL_INSTRUMENTS}")
        split = tuple(float(x) for x in self.split)
        if len(split) != 3 or any(not np.isfinite(x) or x < 0 for x in split) or sum(split) <= 0:
            raise ValueError("the layer split needs three non-negative shares")
        object.__setattr__(self, "split", tuple(x / sum(split) for x in split))
        _within(self.custom_budget_pct, limits.BUDGET_PCT, "the custom budget (% of notional)")
        _within(self.event_multiplier, limits.EVENT_MULTIPLIER, "the event multiplier")
        _within(self.call_skew, limits.CALL_SKEW, "the VIX call skew")
        check_sizing(self.sizing, self.per_contract, self.per_max_loss)


def check_sizing(sizing: str, per_contract: float, per_max_loss: float) -> None:
    """The hedge's sizing mode and its two scales, or a ValueError saying what is wrong."""
    if sizing not in SIZING_MODES:
        raise ValueError(f"hedge sizing must be one of {SIZING_MODES}")
    _within(per_contract, limits.PER_CONTRACT, "VIX notional per contract (dollars)")
    _within(per_max_loss, limits.PER_MAX_LOSS, "notional per dollar of max loss")


def hedge_base(sizing: str, notional, max_loss, spx_contracts, per_max_loss: float, per_contract: float):
    """The dollars a hedge budget is a share of (elementwise): the strategy ``notional`` (seed 001's
    rule), ``per_max_loss`` × the condors' ``max_loss`` (the notional the position stands for), or
    ``per_contract`` dollars of VIX notional per SPX-sized condor contract at the Low band's middle."""
    if sizing == "notional":
        return notional
    if sizing == "contract":
        return np.multiply(per_contract * 100.0 / REFERENCE_BUDGET_PCT, spx_contracts)
    return np.multiply(per_max_loss, max_loss)


def _within(value: float, bounds: tuple[float, float], what: str) -> None:
    if not (np.isfinite(value) and bounds[0] <= value <= bounds[1]):
        raise ValueError(f"{what} must be between {limits.number(bounds[0])} and {limits.number(bounds[1])}")


@dataclass(frozen=True)
class HedgeLeg(OptionLeg):
    """An option leg of a hedge: on VIX (priced off its future) or SPX."""

    underlying: str = "VIX"
    forward: float = 0.0   # the VIX future (or SPX forward) it is priced on
    expiry: str = ""       # ISO date
    held: bool = False     # kept to expiry, not rolled (a trader's own leg)


@dataclass(frozen=True)
class HedgeLayer:
    name: str
    instrument: str
    roll: str
    legs: tuple[HedgeLeg, ...]
    contracts: int
    exact_contracts: float
    target_vix_notional: float   # dollars this layer was sized to
    active: bool
    note: str = ""

    @property
    def days(self) -> float:
        return self.legs[0].days if self.legs else 0.0

    @property
    def premium_per_contract(self) -> float:
        """Net premium of one contract of the layer, dollars."""
        return MULTIPLIER * sum(leg.signed_quantity * leg.price for leg in self.legs)

    @property
    def cost(self) -> float:
        return self.contracts * self.premium_per_contract

    @property
    def vix_notional(self) -> float:
        """contracts × 100 × the future of each long VIX leg (times its quantity)."""
        return self.contracts * MULTIPLIER * sum(leg.quantity * leg.forward for leg in self.legs
                                                 if leg.underlying == "VIX" and leg.side > 0)

    @property
    def rolls_per_year(self) -> int:
        return ROLLS_PER_YEAR[self.roll]


@dataclass(frozen=True)
class HedgePlan:
    scheme: str
    regime: str
    budget_pct: float                  # % of ``sized_on``
    target_vix_notional: float         # dollars
    layers: tuple[HedgeLayer, ...]
    notional: float                    # the strategy notional
    asof: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    sizing: str = DEFAULT_SIZING       # how ``sized_on`` was found (:data:`SIZING_MODES`)
    sized_on: float = 0.0              # dollars the budget is a % of (:func:`hedge_base`)

    def short_of_contracts(self) -> dict[str, float]:
        """Active VIX layers that round to no contract: layer name -> how many times larger the sized
        amount (``sized_on``) must be for the layer to hold one contract."""
        out = {}
        for layer in self.layers:
            vix_long = any(leg.underlying == "VIX" and leg.side > 0 for leg in layer.legs)
            if layer.active and vix_long and layer.contracts == 0 and layer.exact_contracts > 0:
                # Whole contracts round half up (a layer rounded down under the band's top needs a whole one).
                out[layer.name] = (0.5 if layer.exact_contracts < 0.5 else 1.0) / layer.exact_contracts
        return out

    @cached_property
    def active_layers(self) -> tuple[HedgeLayer, ...]:
        return tuple(layer for layer in self.layers if layer.active and layer.contracts > 0)

    @cached_property
    def total_cost(self) -> float:
        return float(sum(layer.cost for layer in self.active_layers))

    @cached_property
    def vix_legs(self) -> _VixLegTable:
        """The VIX legs of the active layers as arrays (built once per plan)."""
        return _VixLegTable.of(self.active_layers)

    @cached_property
    def has_spx_legs(self) -> bool:
        return any(leg.underlying != "VIX" for layer in self.active_layers for leg in layer.legs)

    @property
    def total_vix_notional(self) -> float:
        return float(sum(layer.vix_notional for layer in self.active_layers))

    def premium_over(self, days: float) -> float:
        """The premium spread over ``days`` (a condor's life): each layer's cost × the share of its
        own life that is (as the backtest's amortised premium counts it)."""
        return float(sum(layer.cost * min(days / max(layer.days, 1.0), 1.0) for layer in self.active_layers))


# --- the layers' rules ------------------------------------------------------------

@dataclass(frozen=True)
class LayerRule:
    """One hedge layer's rule: which VIX expiry it buys, at which deltas, how often it rolls.

    The one table both the Builder (:func:`build_hedge`) and the backtest
    (:mod:`alvh_core.history.backtest`) run."""

    name: str
    roll: str                          # weekly / monthly / quarterly
    low_days: int                      # the first VIX expiry this many days out ...
    high_days: int                     # ... up to this many
    long_delta: float
    short_delta: float | None = None   # a call spread's short leg
    share: float = 1.0                 # of the scheme's VIX notional (the split, for ALVH)
    time_shift: bool = False           # the next expiry when VIX/VIX3M ≥ 1
    event: bool = False                # grows by the event multiplier near FOMC/CPI/PPI
    contingent: bool = False           # the tail: may wait for the stress trigger
    on_vix_expiry: bool = False        # rolled on each VIX expiry (Cboe VXTH) rather than by the calendar

    @property
    def schedule(self) -> str:
        """When a backtest rolls it: the calendar period, or ``"vix-expiry"``."""
        return "vix-expiry" if self.on_vix_expiry else self.roll


BASE_LAYER = LayerRule("Base", "weekly", 14, 35, 0.30, time_shift=True)
ADAPTIVE_LAYER = LayerRule("Adaptive", "monthly", 30, 95, 0.40, 0.15, event=True)
TAIL_LAYER = LayerRule("Tail", "quarterly", 90, 185, 0.10, contingent=True)
SINGLE_CALL_LAYER = LayerRule("Single call", "monthly", 14, 35, 0.30)
#: Cboe VXTH: one-month 30-delta calls, bought on each VIX expiry.
VXTH_LAYER = LayerRule("VXTH", "monthly", 21, 45, 0.30, on_vix_expiry=True)
_SCHEME_LAYERS = {"alvh": (BASE_LAYER, ADAPTIVE_LAYER, TAIL_LAYER), "custom": (BASE_LAYER, ADAPTIVE_LAYER, TAIL_LAYER),
                  "single": (SINGLE_CALL_LAYER,), "static10": (SINGLE_CALL_LAYER,), "vxth": (VXTH_LAYER,),
                  "none": ()}


def scheme_layers(scheme: str, split: tuple[float, float, float] = (0.4, 0.4, 0.2)) -> tuple[LayerRule, ...]:
    """The layers of a scheme, the three ALVH layers with their shares of ``split``."""
    if scheme not in _SCHEME_LAYERS:
        raise ValueError(f"hedge scheme must be one of {SCHEMES}")
    layers = _SCHEME_LAYERS[scheme]
    if len(layers) == 3:
        return tuple(replace(rule, share=float(share)) for rule, share in zip(layers, split, strict=True))
    return layers


# --- VIX strikes and expiries ---------------------------------------------------------

#: Every VIX strike any era listed (:data:`alvh_core.data.listings.VIX_STRIKE_SUPERSET`); a search
#: masks it by the era and whether the expiry is the front month.
VIX_STRIKES = VIX_STRIKE_SUPERSET


def _searched(strikes: np.ndarray, future) -> np.ndarray:
    """Which ``strikes`` a search around ``future`` looks at: from 60 % of it (at least 1) to four
    times it (at least 60)."""
    return (strikes >= np.maximum(1.0, np.floor(future * 0.6))) & (strikes <= np.maximum(60.0, future * 4) + 1e-9)


def _asof(market: MarketState) -> date | None:
    """The market's date, None for a market without one (today's rules)."""
    return _parsed_day(market.asof) if market.asof else None


@lru_cache(maxsize=256)
def _parsed_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except (ValueError, TypeError):
        return None


def _era_front(day: date | None, expiry: date | None) -> tuple[int, bool]:
    """The strike era of ``day`` (None: today's rules) and whether ``expiry`` is its front month."""
    era = len(VIX_STRIKE_ERAS) - 1 if day is None else int(vix_strike_era(np.datetime64(day, "D")))
    front = True if day is None or expiry is None else expiry == expiries_after(day, 1)[0]
    return era, front


def vix_strikes_for(day: date | None = None, expiry: date | None = None) -> tuple[np.ndarray, str]:
    """Every VIX strike listed on ``day`` for ``expiry`` (None: today's rules, the front month), and the
    era's rule in words."""
    era, front = _era_front(day, expiry)
    return VIX_STRIKES[VIX_ERA_MASKS[era, int(front)]], VIX_STRIKE_ERAS[era][1]


def vix_strike_grid(future: float, day: date | None = None, expiry: date | None = None) -> np.ndarray:
    """The VIX strikes listed on ``day`` for ``expiry`` (None: today's rules, the front month) that a
    search around ``future`` looks at."""
    era, front = _era_front(day, expiry)
    listed = VIX_STRIKES[VIX_ERA_MASKS[era, int(front)]]
    return listed[_searched(listed, future)]


def strikes_at_delta(target: float, future, days, vvix, rate, call_skew: float = VIX_CALL_SKEW, era=None,
                     front=None) -> np.ndarray:
    """For each (future, days, VVIX, rate): the listed strike whose call delta on the future is nearest
    ``target`` (the lowest such strike on a tie).  ``era`` (:func:`vix_strike_era`) and ``front`` (the
    front month) pick the listed grid, one or one per row; None: today's rules, the front month."""
    future, days, vvix, rate = (a.reshape(-1)[:, None] for a in np.broadcast_arrays(
        *(np.asarray(x, float) for x in (future, days, vvix, rate))))
    cut = int(np.searchsorted(VIX_STRIKES, max(60.0, 4.0 * float(np.max(future, initial=0.0))), side="right"))
    k = VIX_STRIKES[None, :cut]
    era = np.broadcast_to(np.asarray(len(VIX_STRIKE_ERAS) - 1 if era is None else era, int), (future.shape[0],))
    front = np.broadcast_to(np.asarray(True if front is None else front, bool), (future.shape[0],))
    valid = _searched(k, future) & VIX_ERA_MASKS[era, front.astype(int)][:, :cut]
    vol = vix_option_vol(k, future, days, vvix, call_skew)
    years = days / DAYS_PER_YEAR
    delta = black_call_delta(future, k, years, vol, np.exp(-rate * years))
    miss = np.where(valid, np.abs(delta - target), np.inf)
    return k[0, np.argmin(miss, axis=1)]


def listed_above(strike, era=None, front=None) -> np.ndarray:
    """The next listed VIX strike above each ``strike`` (a spread's short leg must sit above its long)."""
    strike = np.asarray(strike, float).reshape(-1)
    era = np.broadcast_to(np.asarray(len(VIX_STRIKE_ERAS) - 1 if era is None else era, int), strike.shape)
    front = np.broadcast_to(np.asarray(True if front is None else front, bool), strike.shape)
    ok = VIX_ERA_MASKS[era, front.astype(int)] & (VIX_STRIKES[None, :] > strike[:, None] + 1e-9)
    return VIX_STRIKES[np.argmax(ok, axis=1)]


def strike_at_delta(target: float, future: float, days: float, market: MarketState, call_skew: float,
                    expiry: date | None = None) -> float:
    """The listed strike (on the market's date, for ``expiry``) whose call delta (on the future) is
    nearest ``target``."""
    vvix = float(market.vvix) if market.vvix is not None else np.nan
    era, front = _era_front(_asof(market), expiry)
    return _strike_at_delta(float(target), float(future), float(days), vvix, float(market.rate), float(call_skew),
                            era, front)


@lru_cache(maxsize=4096)
def _strike_at_delta(target: float, future: float, days: float, vvix: float, rate: float, call_skew: float,
                     era: int, front: bool) -> float:
    # One row of the array search, kept: a Builder rerun asks for the same few strikes again.
    return float(strikes_at_delta(target, future, days, vvix, rate, call_skew, era, front)[0])


def short_strike_at_delta(target: float, long_strike: float, future: float, days: float, market: MarketState,
                          call_skew: float, expiry: date | None = None) -> float:
    """A call spread's short strike: at ``target`` delta, and at least the next listed strike above the long."""
    era, front = _era_front(_asof(market), expiry)
    floor = float(listed_above(long_strike, era, front)[0])
    return max(strike_at_delta(target, future, days, market, call_skew, expiry), floor)


def pick_vix_expiries(listed: np.ndarray, asof: np.ndarray, low_days: int, high_days: int, skip=0) -> np.ndarray:
    """For each day of ``asof`` (datetime64[D]): the first of the ``listed`` VIX expiries
    (sorted, datetime64[D]) ``low_days``–``high_days`` out, or the one nearest ``low_days``
    out when none is; ``skip`` (one per day, or one for all) more, among the next ten."""
    asof = np.asarray(asof, "datetime64[D]")
    first = np.searchsorted(listed, asof, side="right")
    cand = np.minimum(first[:, None] + np.arange(10)[None, :], listed.size - 1)
    days = (listed[cand] - asof[:, None]).astype(float)
    inside = (days >= low_days) & (days <= high_days)
    chosen = np.where(inside.any(axis=1), np.argmax(inside, axis=1), np.argmin(np.abs(days - low_days), axis=1))
    return listed[cand[np.arange(asof.size), np.minimum(chosen + skip, 9)]]


@lru_cache(maxsize=4096)
def pick_expiry(asof: date, low_days: int, high_days: int, skip: int = 0) -> date:
    """The first VIX expiry ``low_days``–``high_days`` out (``skip`` more if asked)."""
    listed = np.array(expiries_after(asof, 10), "datetime64[D]")
    return pick_vix_expiries(listed, np.array([asof], "datetime64[D]"), low_days, high_days, skip)[0].item()


def vix_call_leg(side: int, strike: float, expiry: date, asof: date, market: MarketState, future: float,
                 call_skew: float = VIX_CALL_SKEW, quantity: int = 1) -> HedgeLeg:
    days = float((expiry - asof).days)
    vol = float(vix_option_vol(strike, future, days, market.vvix, call_skew))
    price, delta, gamma, vega, theta = black76_one(float(future), float(strike), days / 365.0, float(market.rate), vol,
                                                   True)
    return HedgeLeg(kind="call", side=side, strike=float(strike), days=days, iv=vol, price=price, delta=delta,
                    gamma=gamma, vega=vega, theta=theta, quantity=quantity, underlying="VIX", forward=float(future),
                    expiry=expiry.isoformat())


# --- building the plan --------------------------------------------------------------

def hedge_budget_pct(settings: HedgeSettings, regime_budget_pct: float) -> float:
    """The exposure budget for a scheme (VXTH is sized by premium, not here)."""
    return {"alvh": regime_budget_pct, "single": regime_budget_pct, "static10": STATIC_BUDGET_PCT,
            "custom": settings.custom_budget_pct, "none": 0.0, "vxth": 0.0}[settings.scheme]


def vxth_weight_pct(future_30d: float) -> float:
    """Cboe VXTH: % of portfolio value in 1-month 30-delta VIX calls by the future's level."""
    if future_30d <= 15:
        return 0.0
    if future_30d <= 30:
        return 1.0
    if future_30d <= 50:
        return 0.5
    return 0.0


def capped_event_multiplier(multiplier, band_high_pct, budget_pct, share):
    """The event multiplier on a layer holding ``share`` of a hedge at ``budget_pct`` % of notional,
    held so that the grown total stays at or under the band's top, ``band_high_pct`` % (never below 1;
    uncapped where the budget or the share is 0).  Elementwise."""
    multiplier, band_high_pct, budget_pct, share = np.broadcast_arrays(
        *(np.asarray(x, float) for x in (multiplier, band_high_pct, budget_pct, share)))
    with np.errstate(divide="ignore", invalid="ignore"):
        cap = 1.0 + (band_high_pct / budget_pct - 1.0) / share
    return np.where((budget_pct > 0) & (share > 0), np.minimum(multiplier, np.maximum(cap, 1.0)), multiplier)


def _rounded_within(layers: list[HedgeLayer], cap: float) -> list[HedgeLayer]:
    """Whole contracts round half up, but never take the hedge's VIX notional above ``cap`` dollars (the
    band's top): while it is above, the layer rounded up the most (in dollars) gives back a contract."""
    layers = list(layers)
    while sum(layer.vix_notional for layer in layers if layer.active) > cap * (1.0 + 1e-9):
        over = [(layer.vix_notional / layer.contracts * (layer.contracts - layer.exact_contracts), i)
                for i, layer in enumerate(layers) if layer.active and layer.contracts > layer.exact_contracts + 1e-12]
        if not over:
            break
        _, i = max(over)
        layer = layers[i]
        note = "; ".join(x for x in (layer.note, "rounded down: a whole contract more would take the hedge above "
                                     "the band's top") if x)
        layers[i] = replace(layer, contracts=layer.contracts - 1, note=note)
    return layers


def _base_words(sizing: str) -> str:
    """What a hedge budget's % is of, in a few words."""
    return {"notional": "the strategy notional", "max_loss": "20 × the max loss"}.get(sizing, "the sized notional")


def _sized(name, instrument, roll, legs, target_notional, note="", active=True) -> HedgeLayer:
    long_vix = [leg for leg in legs if leg.underlying == "VIX" and leg.side > 0]
    per_contract = MULTIPLIER * long_vix[0].forward if long_vix else 0.0
    exact = target_notional / per_contract if per_contract > 0 else 0.0
    contracts = int(np.floor(exact + 0.5)) if active else 0
    return HedgeLayer(name, instrument, roll, tuple(legs), contracts, float(exact), float(target_notional), active, note)


def build_hedge(market: MarketState, regime: Regime, regime_budget_pct: float, notional: float,
                settings: HedgeSettings | None = None, stress_score: float = 0.0, rebalance_trigger: bool = False,
                next_event_days: int | None = None, asof: date | None = None, position_max_loss: float = 0.0,
                spx_contracts: float = 0.0, band_high_pct: float | None = None) -> HedgePlan:
    """The hedge for a scheme: layers, strikes, expiries and whole contracts.

    ``settings.sizing`` picks the VIX notional: a share of ``notional`` (seed
    001), or to the position (``spx_contracts`` SPX-sized condor contracts, or
    ``position_max_loss`` dollars), scaled by the regime's budget against the
    Low band's 7 %.  Near an event the adaptive layer grows by the event
    multiplier, but the total stays under ``band_high_pct`` of the base unless
    ``settings.allow_above_band``."""
    settings = settings or HedgeSettings()
    asof = asof or (pd.Timestamp(market.asof).date() if market.asof else date.today())
    if not np.isfinite(notional) or notional <= 0:
        raise ValueError("notional must be a positive number of dollars")
    budget_pct = hedge_budget_pct(settings, regime_budget_pct)
    base = float(hedge_base(settings.sizing, notional, position_max_loss, spx_contracts, settings.per_max_loss,
                            settings.per_contract)) * settings.scale
    target = base * budget_pct / 100.0
    term = market.term
    notes: list[str] = []

    # Every expiry a layer may pick, priced in one call.
    listed = expiries_after(asof, 10)
    proxies = futures_proxy(term, np.array([(e - asof).days for e in listed], float), market.vvix)
    futures = dict(zip(listed, proxies.tolist(), strict=True))

    def future_for(expiry: date) -> float:
        return futures[expiry]

    def bought(rule: LayerRule, skip: int = 0) -> tuple[date, float, list[HedgeLeg]]:
        """The rule's expiry, its future, and its legs (the long call, and a spread's short call)."""
        expiry = pick_expiry(asof, rule.low_days, rule.high_days, skip)
        future = future_for(expiry)
        days = (expiry - asof).days
        strikes = [strike_at_delta(rule.long_delta, future, days, market, settings.call_skew, expiry)]
        if rule.short_delta is not None:
            strikes.append(short_strike_at_delta(rule.short_delta, strikes[0], future, days, market,
                                                 settings.call_skew, expiry))
        legs = [vix_call_leg(side, k, expiry, asof, market, future, settings.call_skew)
                for side, k in zip((1, -1), strikes, strict=False)]
        return expiry, future, legs

    def instrument(legs: list[HedgeLeg], expiry: date) -> str:
        if len(legs) == 1:
            return f"Long VIX {legs[0].strike:g} call, {expiry:%d %b %Y}"
        return f"VIX {legs[0].strike:g}/{legs[1].strike:g} call spread, {expiry:%d %b %Y}"

    layers: list[HedgeLayer] = []
    rules = scheme_layers(settings.scheme, settings.split)
    if settings.scheme == "none":
        notes.append("No hedge: the condor alone.")
    elif settings.scheme == "vxth":
        (rule,) = rules
        expiry, future, legs = bought(rule)
        weight = vxth_weight_pct(future)
        spend = base * weight / 100.0
        exact = spend / (MULTIPLIER * legs[0].price) if legs[0].price > 0 else 0.0
        contracts = int(np.floor(exact + 0.5))
        note = f"VXTH weight {weight:g} % of {_base_words(settings.sizing)} in calls (future {future:.2f})"
        layers.append(HedgeLayer(rule.name, instrument(legs, expiry), rule.roll, tuple(legs), contracts, float(exact),
                                 contracts * MULTIPLIER * future, True, note))
        budget_pct = weight
    else:
        inverted = market.vix3m is not None and market.vix / market.vix3m >= 1.0
        near_event = next_event_days is not None and next_event_days <= EVENT_WINDOW_DAYS
        triggered = stress_score >= settings.stress_trigger or rebalance_trigger
        for rule in rules:
            layer_target, note, active = target * rule.share, "", True
            if rule.time_shift and inverted:
                note = "time-shifted to the next expiry (VIX/VIX3M ≥ 1)"
            if rule.event and near_event:
                multiplier = settings.event_multiplier
                if band_high_pct is not None and not settings.allow_above_band:
                    multiplier = float(capped_event_multiplier(multiplier, band_high_pct, budget_pct, rule.share))
                    if multiplier < settings.event_multiplier:
                        notes.append(f"Event multiplier held at × {multiplier:.2f} (asked × "
                                     f"{settings.event_multiplier:g}) to keep the hedge inside the {regime.name} "
                                     f"band's top, {band_high_pct:g} % of {_base_words(settings.sizing)}.")
                elif band_high_pct is not None and budget_pct * (1 + rule.share * (multiplier - 1)) > band_high_pct:
                    notes.append(f"Near the event the hedge goes above the {regime.name} band's top "
                                 f"({band_high_pct:g} % of {_base_words(settings.sizing)}): × {multiplier:g} on the "
                                 "adaptive layer, as you allowed.")
                note = f"× {multiplier:.2f} within 5 trading days of an event" if multiplier > 1 else ""
                layer_target *= multiplier
            if rule.contingent and settings.contingent == "stress":
                active = triggered
                note = ("stress trigger fired" if triggered else
                        f"contingent: waits for stress ≥ {settings.stress_trigger:g} or the rebalance trigger")
            if rule.contingent and settings.tail_instrument == "spx_put_fly":
                tail_future = future_for(pick_expiry(asof, rule.low_days, rule.high_days))
                layers.append(_spx_fly_layer(market, asof, layer_target, settings, note, active, tail_future))
                continue
            expiry, _, legs = bought(rule, skip=1 if rule.time_shift and inverted else 0)
            layers.append(_sized(rule.name, instrument(legs, expiry), rule.roll, legs, layer_target, note, active))
        if band_high_pct is not None and not settings.allow_above_band:
            layers = _rounded_within(layers, base * max(band_high_pct, budget_pct) / 100.0)
    return HedgePlan(settings.scheme, regime.name, float(budget_pct), float(target if settings.scheme != "vxth"
                     else sum(layer.vix_notional for layer in layers)), tuple(layers), float(notional),
                     asof.isoformat(), tuple(notes), settings.sizing, base)


def whole_contract_note(plan: HedgePlan, position_max_loss: float, condor_max_loss: float,
                        underlying: str = "SPX") -> str:
    """What whole VIX contracts cannot build, and the smallest book that builds it: empty when every
    active layer holds a contract.  ``position_max_loss``: the condors' max loss the hedge was sized
    to; ``condor_max_loss``: one condor contract's (both dollars)."""
    short = plan.short_of_contracts()
    if not short:
        return ""
    vix_layers = [layer for layer in plan.layers if layer.active and any(
        leg.underlying == "VIX" and leg.side > 0 for leg in layer.legs)]
    none_built = len(short) == len(vix_layers)
    names = " and ".join(short) if len(short) < 3 else ", ".join(list(short)[:-1]) + f" and {list(short)[-1]}"
    one = next(layer for layer in vix_layers if layer.name in short)
    per_contract = MULTIPLIER * next(leg.forward for leg in one.legs if leg.underlying == "VIX" and leg.side > 0)
    head = (f"No VIX contract is bought: whole contracts cannot build {'this hedge' if len(vix_layers) > 1 else 'it'} "
            if none_built else f"The {names} layer{'s' if len(short) > 1 else ''} round{'' if len(short) > 1 else 's'} "
            "to no VIX contract ")
    head += (f"(the {one.name} layer's ${one.target_vix_notional:,.0f} of VIX notional is {one.exact_contracts:.2f} "
             f"of one contract, ${per_contract:,.0f} at its future).")
    every, first = max(short.values()), min(short.values())
    if plan.sizing == "notional":
        amount, what = plan.notional, "a strategy notional"
    elif plan.sizing == "max_loss":
        amount, what = position_max_loss, "a condor max loss"
    else:
        amount, what = plan.sized_on, "a sized notional"

    def book(factor: float) -> str:
        need = amount * factor
        text = f"{what} of ${need:,.0f}"
        if plan.sizing != "notional" and condor_max_loss > 0:
            count = int(np.ceil(need / condor_max_loss - 1e-9))
            text += f" ({count:,} {underlying} condor{'s' if count != 1 else ''} like this one)"
        return text

    parts = [f"All {len(vix_layers)} layers hold a contract from {book(every)}" if len(vix_layers) > 1
             else f"It holds a contract from {book(every)}"]
    if none_built and len(vix_layers) > 1 and first < every:
        first_name = min(short, key=short.get)
        parts.append(f"the {first_name} layer alone from {book(first)}")
    tail = "; ".join(parts) + "."
    if plan.sizing == "max_loss" and underlying == "XSP":
        tail += " XSP condors are a tenth of SPX: ten of them carry one SPX condor's hedge."
    return f"{head} {tail}"


def _spx_fly_layer(market: MarketState, asof: date, target_notional: float, settings: HedgeSettings,
                   note: str, active: bool, tail_future: float) -> HedgeLayer:
    """SPX put butterflies 10/15/20 % below spot on the listed expiry nearest 91
    days, costing what the VIX tail calls for the same budget would cost."""
    listed = nearest_expiry(asof, 91.0)
    days = float(listed.years_from(asof))
    vol_model = market.vol_model()
    forward = float(market.forward(days))
    strikes = [snap_strike(market.spot, market.spot * (1 - x), days, cycle=listed.cycle, vix=market.vix)
               for x in (0.10, 0.15, 0.20)]
    ivs = vol_model.implied_vol(np.array(strikes), forward, days)
    legs = []
    for (side, qty), k, iv in zip(((1, 1), (-1, 2), (1, 1)), strikes, ivs, strict=True):
        price, delta, gamma, vega, theta = bsm_one(float(market.spot), float(k), days / 365.0, float(market.rate),
                                                   float(market.div), float(iv), False)
        legs.append(HedgeLeg(kind="put", side=side, strike=float(k), days=days, iv=float(iv), price=price,
                             delta=delta, gamma=gamma, vega=vega, theta=theta,
                             quantity=qty, underlying="SPX", forward=forward, expiry=listed.day.isoformat()))
    fly_cost = MULTIPLIER * sum(leg.signed_quantity * leg.price for leg in legs)
    # Premium the VIX tail calls would spend on this budget, at a 10-delta call.
    expiry = pick_expiry(asof, 90, 185)
    k = strike_at_delta(0.10, tail_future, (expiry - asof).days, market, settings.call_skew, expiry)
    call = vix_call_leg(1, k, expiry, asof, market, tail_future, settings.call_skew)
    budget_premium = target_notional / (MULTIPLIER * tail_future) * MULTIPLIER * call.price
    exact = budget_premium / fly_cost if fly_cost > 0 else 0.0
    contracts = int(np.floor(exact + 0.5)) if active else 0
    label = f"{listed.root} {strikes[0]:g}/{strikes[1]:g}/{strikes[2]:g} put fly, {listed.day:%d %b %Y}"
    return HedgeLayer("Tail", label, "quarterly", tuple(legs), contracts, float(exact), float(target_notional),
                      active, (note + "; " if note else "") + "sized to the VIX tail calls' premium")


# --- valuing the hedge under scenarios -----------------------------------------------------

@dataclass(frozen=True)
class _VixLegTable:
    """The VIX legs of a set of layers as arrays (for valuing them in one call)."""

    strike: np.ndarray
    forward: np.ndarray
    vol: np.ndarray
    days: np.ndarray
    weight: np.ndarray   # dollars per VIX point per leg: contracts × signed quantity × 100
    layer: np.ndarray    # index of each leg's layer
    held: np.ndarray | None = None   # True where a leg is kept to expiry rather than rolled

    @classmethod
    def of(cls, layers: tuple[HedgeLayer, ...]) -> _VixLegTable:
        rows = [(i, layer.contracts, leg) for i, layer in enumerate(layers) for leg in layer.legs
                if leg.underlying == "VIX"]
        column = lambda f: np.array([f(n, leg) for _, n, leg in rows], float)  # noqa: E731
        return cls(column(lambda n, leg: leg.strike), column(lambda n, leg: leg.forward),
                   column(lambda n, leg: leg.iv), column(lambda n, leg: leg.days),
                   column(lambda n, leg: n * leg.signed_quantity * MULTIPLIER),
                   np.array([i for i, _, _ in rows], int), np.array([leg.held for _, _, leg in rows], bool))

    def values(self, market: MarketState, vix_level: np.ndarray, days_elapsed) -> np.ndarray:
        """Value of one unit of each leg (VIX points), shape (legs,) + vix_level.shape
        (+ the shape of ``days_elapsed`` when it is one date per scenario).

        VIX futures move with spot VIX by the tenor beta of their remaining
        days (``F = F0 · (VIX/VIX0)^beta``); the option's implied vol moves
        with VIX as VVIX does (``σ = σ0 · (VIX/VIX0)^k``, k fitted on VVIX
        history); a leg past its expiry is worth its payoff on the VIX level
        given.
        """
        if np.ndim(days_elapsed):
            return self._values_on_dates(market, vix_level, np.asarray(days_elapsed, float))
        lead = (-1,) + (1,) * vix_level.ndim
        left = self.days - days_elapsed
        log_ratio = np.log(np.maximum(vix_level, 1e-6) / market.vix)[None, ...]
        live = left > 0
        if live.any():
            years = left[live].reshape(lead) / 365.0
            beta = tenor_beta(left[live]).reshape(lead)
            future = self.forward[live].reshape(lead) * np.exp(beta * log_ratio)
            vol = self.vol[live].reshape(lead) * np.exp(VVIX_ELASTICITY * log_ratio)
            value = black76_price(future, self.strike[live].reshape(lead), years, market.rate, vol, True)
            if live.all():
                return value
        out = np.empty((self.strike.size,) + vix_level.shape)
        if live.any():
            out[live] = value
        for i in np.flatnonzero(~live):
            out[i] = self._expired_and_rolled(i, market, np.asarray(vix_level, float), days_elapsed)
        return out

    def _values_on_dates(self, market: MarketState, vix_level: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
        """:meth:`values` with one date per scenario (``elapsed`` broadcasts with
        ``vix_level``): the legs still live priced in one call; a leg past its
        expiry on some dates valued with its roll, one call per such date."""
        ndim = max(vix_level.ndim, elapsed.ndim)
        shape = np.broadcast_shapes(vix_level.shape, elapsed.shape)
        lead = (-1,) + (1,) * ndim
        # Dates, tenors and betas on the dates' own shape; only the VIX terms span the grid.
        left = self.days.reshape(lead) - elapsed.reshape((1,) * (ndim - elapsed.ndim + 1) + elapsed.shape)
        log_ratio = np.log(np.maximum(vix_level, 1e-6) / market.vix)[None, ...]
        years = np.maximum(left, 1e-6) / 365.0
        future = self.forward.reshape(lead) * np.exp(tenor_beta(np.maximum(left, 0.0)) * log_ratio)
        vol = self.vol.reshape(lead) * np.exp(VVIX_ELASTICITY * log_ratio)
        value = black76_price(future, self.strike.reshape(lead), years, market.rate, vol, True)
        value = np.array(np.broadcast_to(value, (self.strike.size,) + shape))
        dead_legs = np.flatnonzero((left <= 0).reshape(self.strike.size, -1).any(axis=1))
        if dead_legs.size:
            vix_level = np.broadcast_to(vix_level, shape)
            elapsed = np.broadcast_to(elapsed, shape)
            for i in dead_legs:
                dead = np.broadcast_to(left[i] <= 0, shape)
                for day in np.unique(elapsed[dead]):
                    at = dead & (elapsed == day)
                    value[i][at] = self._expired_and_rolled(i, market, vix_level[at], float(day))
        return value

    def _expired_and_rolled(self, i: int, market: MarketState, vix_h: np.ndarray, elapsed: float) -> np.ndarray:
        """A leg that expires before the horizon: its payoff at its own expiry, plus the
        roll that replaces it (the same tenor and moneyness on the next future, bought at
        that day's model price) up to the horizon.  VIX between today and the horizon
        follows the straight line in log VIX; the futures move by their tenor beta and
        the option vols as VVIX does.  Values in VIX points per unit, undiscounted."""
        tenor, strike0, future0, vol0 = self.days[i], self.strike[i], self.forward[i], self.vol[i]
        if tenor <= 0:
            return np.maximum(vix_h - strike0, 0.0)
        log_end = np.log(np.maximum(vix_h, 1e-6) / market.vix)

        def vix_at(t: float) -> np.ndarray:
            return market.vix * np.exp(log_end * min(t / elapsed, 1.0)) if elapsed > 0 else vix_h

        if self.held is not None and self.held[i]:   # kept to expiry: its payoff then, held as cash
            return np.maximum(vix_at(tenor) - strike0, 0.0)
        beta_new = float(tenor_beta(tenor))
        total = np.maximum(vix_at(tenor) - strike0, 0.0)
        start = tenor
        while True:
            ratio = vix_at(start) / market.vix
            future = future0 * ratio**beta_new
            strike = strike0 * future / future0
            vol = vol0 * ratio**VVIX_ELASTICITY
            premium = black76_price(future, strike, tenor / 365.0, 0.0, vol, True)
            end = start + tenor
            if end >= elapsed:
                left = end - elapsed
                if left <= 0:
                    return total - premium + np.maximum(vix_h - strike, 0.0)
                move = vix_h / vix_at(start)
                future_h = future * move ** float(tenor_beta(left))
                value = black76_price(future_h, strike, left / 365.0, 0.0, vol * move**VVIX_ELASTICITY, True)
                return total - premium + value
            total = total - premium + np.maximum(vix_at(end) - strike, 0.0)
            start = end

    def total(self, market: MarketState, vix_level: np.ndarray, days_elapsed,
              weights: np.ndarray | None = None) -> np.ndarray:
        """Weighted sum over legs (dollars): ``weights`` (rows, legs), default the
        legs' own dollar weights (one row); shape (rows,) + vix_level.shape."""
        weights = self.weight[None, :] if weights is None else weights
        values = self.values(market, vix_level, days_elapsed)
        return (weights @ values.reshape(values.shape[0], -1)).reshape((weights.shape[0],) + values.shape[1:])


def _leg_value_one(leg: HedgeLeg, market: MarketState, vix: float, spx: float, days_elapsed: float) -> float:
    """One unit of one hedge leg at one scenario (points), the scalar twin of
    :meth:`_VixLegTable.values` and :func:`_spx_leg_value`."""
    left = leg.days - days_elapsed
    if leg.underlying == "VIX":
        if left <= 0:
            table = _VixLegTable(np.array([leg.strike]), np.array([leg.forward]), np.array([leg.iv]),
                                 np.array([leg.days]), np.array([1.0]), np.array([0]), np.array([leg.held]))
            return float(table._expired_and_rolled(0, market, np.array(float(vix)), days_elapsed))
        ratio = max(vix, 1e-6) / market.vix
        future = leg.forward * ratio ** float(tenor_beta(left))
        return black76_one(future, leg.strike, left / 365.0, market.rate, leg.iv * ratio**VVIX_ELASTICITY, True)[0]
    if left <= 0:
        return max(leg.strike - spx, 0.0)
    vol = leg.iv * max(vix, 1e-6) / market.vix
    return bsm_one(spx, leg.strike, left / 365.0, market.rate, market.div, vol, False)[0]


def layer_value_one(layer: HedgeLayer, market: MarketState, vix: float, spx: float, days_elapsed: float) -> float:
    """Value (dollars, all contracts) of a layer at one scenario (see :func:`layer_value`)."""
    return MULTIPLIER * layer.contracts * sum(
        leg.signed_quantity * _leg_value_one(leg, market, float(vix), float(spx), days_elapsed) for leg in layer.legs)


def _spx_leg_value(leg: HedgeLeg, market: MarketState, vix_level, spx_level, days_elapsed) -> np.ndarray:
    """Value of one SPX put of a hedge (points, one unit): the vol model's
    vol at pricing, scaled by VIX/VIX0; its payoff past expiry (``days_elapsed``
    one date or one per scenario)."""
    left = leg.days - np.asarray(days_elapsed, float)
    if np.ndim(left) == 0 and left <= 0:
        return np.maximum(leg.strike - spx_level, 0.0)
    vol = leg.iv * np.maximum(vix_level, 1e-6) / market.vix
    # At zero years the price is the payoff.
    return bsm_price(spx_level, leg.strike, np.maximum(left, 0.0) / 365.0, market.rate, market.div, vol, False)


def _spx_value(layers, market: MarketState, vix_level, spx_level, days_elapsed) -> np.ndarray | float:
    total = 0.0
    for layer in layers:
        for leg in layer.legs:
            if leg.underlying != "VIX":
                total = total + leg.signed_quantity * MULTIPLIER * layer.contracts * _spx_leg_value(
                    leg, market, vix_level, spx_level, days_elapsed)
    return total


def layer_value(layer: HedgeLayer, market: MarketState, vix_level, spx_level, days_elapsed: float) -> np.ndarray:
    """Value (dollars, all contracts) of a layer after ``days_elapsed`` with spot
    VIX at ``vix_level`` and SPX at ``spx_level`` (arrays broadcast).

    VIX legs: Black-76 on their future moved by the tenor beta (see
    :meth:`_VixLegTable.values`).  SPX legs reprice on the vol model with
    the surface scaled by VIX/VIX0.
    """
    vix_level = np.asarray(vix_level, float)
    spx_level = np.asarray(spx_level, float)
    shape = np.broadcast_shapes(vix_level.shape, spx_level.shape)
    table = _VixLegTable.of((layer,))
    total = table.total(market, vix_level, days_elapsed)[0] if table.strike.size else 0.0
    return np.broadcast_to(total + _spx_value((layer,), market, vix_level, spx_level, days_elapsed), shape)


def hedge_pnl(plan: HedgePlan, market: MarketState, vix_level, spx_level, days_elapsed) -> np.ndarray:
    """P/L (dollars) of every active layer together: value then − premium paid.

    The same valuation as :func:`layer_value`, with every VIX leg of every
    layer priced in one call (a leading axis of legs).  ``days_elapsed`` is
    one date or an array broadcasting with the levels (one date per scenario).
    """
    vix_level = np.asarray(vix_level, float)
    spx_level = np.asarray(spx_level, float)
    shape = np.broadcast_shapes(vix_level.shape, spx_level.shape, np.shape(days_elapsed))
    table = plan.vix_legs
    total = table.total(market, vix_level, days_elapsed)[0] if table.strike.size else 0.0
    if plan.has_spx_legs:
        total = total + _spx_value(plan.active_layers, market, vix_level, spx_level, days_elapsed)
    return np.broadcast_to(total - plan.total_cost, shape)


def layer_pnls(plan: HedgePlan, market: MarketState, vix_level, spx_level, days_elapsed) -> dict[str, np.ndarray]:
    """P/L (dollars) of each active layer, by name, over ``vix_level`` (one pricing call;
    ``days_elapsed`` one date or an array broadcasting with the levels)."""
    vix_level = np.asarray(vix_level, float)
    spx_level = np.asarray(spx_level, float)
    shape = np.broadcast_shapes(vix_level.shape, spx_level.shape, np.shape(days_elapsed))
    table = plan.vix_legs
    layers = plan.active_layers
    by_layer = None
    if table.strike.size:
        weights = np.where(np.arange(len(layers))[:, None] == table.layer[None, :], table.weight[None, :], 0.0)
        by_layer = table.total(market, vix_level, days_elapsed, weights)
    out = {}
    for i, layer in enumerate(layers):
        total = by_layer[i] if by_layer is not None else 0.0
        total = total + _spx_value((layer,), market, vix_level, spx_level, days_elapsed)
        out[layer.name] = np.broadcast_to(total - layer.cost, shape)
    return out


def roll_cost(layer: HedgeLayer, market: MarketState) -> float:
    """Model carry of one roll: the value lost over one roll period, market unchanged."""
    elapsed = min(ROLL_DAYS[layer.roll], max(layer.days - 1.0, 0.0))
    later = layer_value_one(layer, market, market.vix, market.spot, elapsed)
    return max(layer.cost - later, 0.0)


def breakeven_vix(plan: HedgePlan, market: MarketState, days_elapsed: float) -> float | None:
    """Lowest spot VIX at which the hedge's P/L is ≥ 0 after ``days_elapsed``
    (None with no active layer or if not even VIX 150 pays for it).

    The P/L rises with VIX, so a 1-point grid brackets the crossing and a
    0.025-point grid inside the bracket gives the first level that pays.
    """
    if not plan.active_layers:
        return None
    coarse = np.linspace(5.0, 150.0, 146)
    pnl = hedge_pnl(plan, market, coarse, market.spot, days_elapsed)
    above = np.flatnonzero(pnl >= 0)
    if not above.size:
        return None
    if above[0] == 0:
        return float(coarse[0])
    fine = np.linspace(coarse[above[0] - 1], coarse[above[0]], 41)
    pnl = hedge_pnl(plan, market, fine, market.spot, days_elapsed)
    return float(fine[int(np.flatnonzero(pnl >= 0)[0])])
