"""Share links: every input of a page as a short, stable URL parameter.

Every input has a short key, a type and a valid range; defaults are left out
of links.  Choices travel as short codes (``bm=usd``, ``h=single``), never as
the labels shown on screen; links written with labels (older links) still
read through each key's label table.  :func:`read_link` checks a link's
parameters and returns the values it can use plus one :class:`LinkNotice`
per parameter it had to ignore (unknown, malformed, out of range, or given
twice under two names): a bad link never stops a page.  Old names keep
working through :data:`ALIASES`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from alvh_core.history.backtest import parse_shape, shape_text
from alvh_core.model import limits
from alvh_core.model.fitted import VIX_CALL_SKEW
from alvh_core.model.pricing import TRADING_DAYS_PER_YEAR
from alvh_core.strategy.edits import LAYER_CODES, added_text, parse_added, parse_strikes, strikes_text
from alvh_core.strategy.hedge import (
    BACKTEST_SCHEMES,
    DEFAULT_PER_CONTRACT,
    DEFAULT_PER_MAX_LOSS,
    DEFAULT_SIZING,
    SCHEME_LABELS,
    SIZING_LABELS,
)
from alvh_core.strategy.signals import SIGNAL_LABELS, SignalWeights
from alvh_core.strategy.sizing import DEFAULT_NOTIONAL, DEFAULT_RISK_PCT, MEASURE_LABELS
from alvh_core.strategy.tiers import parse_tiers, tiers_text


@dataclass(frozen=True)
class LinkKey:
    key: str
    label: str
    kind: str       # "choice", "multi" (several choices), "int", "float", "bool", "date", "day", "text"
    default: object
    choices: tuple = ()
    low: float = -math.inf
    high: float = math.inf
    labels: Mapping[str, str] = field(default_factory=dict)   # code -> on-screen label (choices)
    legacy: tuple[tuple[str, str], ...] = ()                  # (label prefix, code) of older links
    parser: Callable[[str], object] | None = None             # "text": link text -> value (ValueError if bad)
    formatter: Callable[[object], str] | None = None          # "text": value -> link text

    def label_of(self, code: str) -> str:
        """The on-screen label of a choice code."""
        return self.labels.get(code, str(code))


def _range(bounds: tuple[float, float], scale: float = 1.0) -> dict:
    """A link key's range from :mod:`alvh_core.model.limits` (``scale`` 100 for a decimal shown in %)."""
    return {"low": bounds[0] * scale, "high": bounds[1] * scale}


TIER_CHOICES = ("Conservative", "Moderate", "Aggressive")
#: Days are capped where the engine's vol model and expiry calendar stop.
MAX_DAYS = 365
#: As-of dates a pinned link may carry: from the first VIX close to a year ahead.
FIRST_ASOF = date(1990, 1, 2)

#: The account: one strategy notional, one risk budget and one hedge sizing per session, set on any page and
#: carried by every page's link (the Backtest page's account starts at the notional).
ACCOUNT_KEYS: tuple[LinkKey, ...] = (
    LinkKey("n", "strategy notional $", "float", DEFAULT_NOTIONAL, **_range(limits.NOTIONAL)),
    LinkKey("bm", "risk budget in", "choice", "pct", ("pct", "usd"),
            labels={"pct": "% of notional", "usd": "dollars"}),
    LinkKey("r", "risk budget %", "float", DEFAULT_RISK_PCT, **_range(limits.RISK_PCT)),
    LinkKey("b", "risk budget $", "float", DEFAULT_NOTIONAL * DEFAULT_RISK_PCT / 100.0, **_range(limits.RISK_DOLLARS)),
    LinkKey("hsz", "hedge sized", "choice", DEFAULT_SIZING, tuple(SIZING_LABELS), labels=SIZING_LABELS),
    LinkKey("hpc", "VIX notional per condor contract", "float", DEFAULT_PER_CONTRACT, **_range(limits.PER_CONTRACT)),
    LinkKey("hpm", "notional per $ of max loss", "float", DEFAULT_PER_MAX_LOSS, **_range(limits.PER_MAX_LOSS)),
)

BUILDER_KEYS: tuple[LinkKey, ...] = (
    LinkKey("t", "tier", "choice", "Conservative", TIER_CHOICES),
    LinkKey("sel", "short strikes by", "choice", "pop", ("pop", "delta"),
            labels={"pop": "POP target", "delta": "delta target"}, legacy=(("pop", "pop"), ("delta", "delta"))),
    LinkKey("d", "days to expiry (0 = the tier's)", "int", 0, low=0, high=MAX_DAYS),
    LinkKey("m", "risk measure", "choice", "max_loss", tuple(MEASURE_LABELS), labels=MEASURE_LABELS),
    LinkKey("h", "hedge scheme", "choice", "alvh", tuple(SCHEME_LABELS), labels=SCHEME_LABELS),
    LinkKey("sb", "base layer %", "int", 40, low=0, high=100),
    LinkKey("sa", "adaptive layer %", "int", 40, low=0, high=100),
    LinkKey("st", "tail layer %", "int", 20, low=0, high=100),
    LinkKey("c", "tail layer", "choice", "always", ("always", "stress"),
            labels={"always": "always on", "stress": "only on the stress trigger"}),
    LinkKey("ti", "tail instrument", "choice", "vix_calls", ("vix_calls", "spx_put_fly"),
            labels={"vix_calls": "deep OTM VIX calls", "spx_put_fly": "SPX put butterflies"}),
    LinkKey("cb", "custom budget %", "float", 10.0, **_range(limits.BUDGET_PCT)),
    LinkKey("em", "event multiplier", "float", 1.5, **_range(limits.EVENT_MULTIPLIER)),
    LinkKey("sk", "VIX call skew", "float", VIX_CALL_SKEW, **_range(limits.CALL_SKEW)),
    LinkKey("u", "underlying", "choice", "auto", ("auto", "SPX", "XSP"),
            labels={"auto": "Auto (SPX if whole SPX condors fill ¾ of the budget)", "SPX": "SPX", "XSP": "XSP (one tenth)"}),
    LinkKey("fs", "fill (% of the way from mid to natural)", "int", 50, low=0, high=100),
    LinkKey("hab", "event multiplier may exceed the band", "bool", False),
    LinkKey("hz", "horizon days", "int", 0, low=0, high=MAX_DAYS),
    LinkKey("hzl", "more dates on the payoff chart (days from now)", "multi", (), tuple(range(MAX_DAYS + 1))),
    LinkKey("sd", "scenario date (days from now)", "int", 0, low=0, high=MAX_DAYS),
    # The trader's own position (see alvh_core.strategy.edits): nothing here means the tier's.
    LinkKey("lg", "condor strikes (long put/short put/short call/long call)", "text", None,
            parser=parse_strikes, formatter=strikes_text),
    LinkKey("ex", "condor expiry", "day", None),
    LinkKey("q", "contracts (0 = sized by the budget)", "int", 0, low=0, high=100_000),
    LinkKey("lim", "net limit credit per condor", "float", None, low=-10_000.0, high=10_000.0),
    LinkKey("lo", "hedge layers left out", "multi", (), tuple(LAYER_CODES), labels=LAYER_CODES),
    LinkKey("xl", "added legs", "text", None, parser=parse_added, formatter=added_text),
    LinkKey("gov", "size above the 2 % gate's allowance", "bool", False),
    # Management rules (the backtester's, plus rolling the tested side).
    LinkKey("mpt", "profit target % of credit (0 = off)", "int", 0, **_range(limits.PROFIT_TARGET, 100)),
    LinkKey("msp", "stop, × credit (0 = off)", "float", 0.0, **_range(limits.STOP_MULTIPLE)),
    LinkKey("mxd", "close days before expiry (0 = hold)", "int", 0, **_range(limits.EXIT_DAYS)),
    LinkKey("mrl", "roll to a new condor at the close", "bool", False),
    LinkKey("mtr", "roll the tested side within % of a short strike (0 = off)", "float", 0.0,
            **_range(limits.TESTED, 100)),
    LinkKey("qs", "prices from", "choice", "auto", ("auto", "model", "live"),
            labels={"auto": "a chain of the day when there is one", "model": "the model",
                    "live": "Yahoo's live ^SPX chain"}),
)

#: Market inputs, in links only when "pin market data" is on (every page).
MARKET_KEYS: tuple[LinkKey, ...] = (
    LinkKey("pin", "pin market data", "bool", False),
    LinkKey("spx", "SPX", "float", None, **_range(limits.SPX)),
    LinkKey("vix", "VIX", "float", None, **_range(limits.VIX)),
    LinkKey("v9", "VIX9D", "float", None, **_range(limits.VIX9D)),
    LinkKey("v3", "VIX3M", "float", None, **_range(limits.VIX3M)),
    LinkKey("v6", "VIX6M", "float", None, **_range(limits.VIX6M)),
    LinkKey("vv", "VVIX", "float", None, **_range(limits.VVIX)),
    LinkKey("rate", "rate %", "float", None, **_range(limits.RATE, 100)),
    LinkKey("div", "dividend yield %", "float", None, **_range(limits.DIV, 100)),
    LinkKey("asof", "as-of date", "date", None),
    LinkKey("ad", "market as of a past day of the history", "day", None),
)

_BT_SCHEME_LABELS = {k: SCHEME_LABELS[k] for k in BACKTEST_SCHEMES}
_STRATEGY_LABELS = {"daily": "Condors entered daily", "weekly": "Condors entered weekly",
                    "monthly": "Condors entered monthly", "cndr": "CNDR replica (Cboe iron condor index)",
                    "vxth": "VXTH replica (Cboe VIX tail hedge index)"}
#: The Backtest page (keys start with "b").
BACKTEST_KEYS: tuple[LinkKey, ...] = (
    LinkKey("bsrc", "data", "choice", "history", ("history", "simulated"),
            labels={"history": "History (the sidebar's data)", "simulated": "Simulated market"}),
    LinkKey("bseed", "simulation seed", "int", 1, low=0, high=1_000_000),
    LinkKey("byrs", "simulated years", "int", 36, low=1, high=60),
    LinkKey("bs", "start", "day", None),
    LinkKey("be", "end", "day", None),
    LinkKey("bst", "strategy", "choice", "daily", tuple(_STRATEGY_LABELS), labels=_STRATEGY_LABELS),
    LinkKey("btr", "tier", "choice", "Moderate", TIER_CHOICES),
    LinkKey("bh", "hedge schemes", "multi", ("none", "alvh"), BACKTEST_SCHEMES, labels=_BT_SCHEME_LABELS),
    LinkKey("bcn", "tail layer", "choice", "always", ("always", "stress"),
            labels={"always": "always on", "stress": "only on the stress trigger"}),
    LinkKey("brk", "max loss per entry % (0 = the frequency's default)", "float", 0.0, low=0.0, high=100.0),
    LinkKey("bsiz", "entries sized on", "choice", "equity", ("equity", "fixed"),
            labels={"equity": "the account as it is (XSP tenths from 2005-10-25)", "fixed": "the starting capital"}),
    LinkKey("bsyn", "synthetic VIX hedge before 2006-02-24", "bool", False),
    LinkKey("bset", "options settle at", "choice", "open", ("open", "close"),
            labels={"open": "the open (VIX and A.M. SPX, where the history has opens)", "close": "the close"}),
    LinkKey("bct", "contracts per entry (0 = size by risk)", "int", 0, low=0, high=limits.CONTRACTS[1]),
    LinkKey("bfs", "fill (% of the way from mid to natural)", "int", 50, low=0, high=100),
    LinkKey("bcm", "commission $ per contract", "float", 1.0, **_range(limits.COMMISSION)),
    LinkKey("bsl", "slippage points per leg", "float", 0.0, **_range(limits.SLIPPAGE)),
    LinkKey("bpt", "profit target % of credit (0 = off)", "int", 0, **_range(limits.PROFIT_TARGET, 100)),
    LinkKey("bsp", "stop, × credit (0 = off)", "float", 0.0, **_range(limits.STOP_MULTIPLE)),
    LinkKey("bxd", "close days before expiry (0 = hold)", "int", 0, **_range(limits.EXIT_DAYS)),
    LinkKey("brl", "roll to a new condor at the close", "bool", False),
    LinkKey("blog", "log scale", "bool", True),
    LinkKey("bint", "T-bill interest on the account", "bool", True),
    LinkKey("bdv", "dividend yield %", "float", 1.9, **_range(limits.DIV, 100)),
    LinkKey("bsm", "show trade smaller", "bool", True),
    LinkKey("bsmm", "trade smaller matched on", "choice", "drawdown", ("drawdown", "cvar", "premium"),
            labels={"drawdown": "the hedged book's max drawdown", "cvar": "its worst weeks (CVaR 95 %)",
                    "premium": "the share of credit its premium took"}),
    LinkKey("bshp", "structure from the Builder (put delta/call delta/put wing %/call wing %/days)", "text", None,
            parser=parse_shape, formatter=lambda value: shape_text(*value)),
)
#: The Hedge Lab page (keys start with "l").
EPISODE_CHOICES = ("2008-10", "2011-08", "2015-08", "2018-02", "2018-12", "2020-02", "2020-03", "2022-06", "2024-08",
                   "custom")
HEDGE_LAB_KEYS: tuple[LinkKey, ...] = (
    LinkKey("lt", "tier", "choice", "Moderate", TIER_CHOICES),
    LinkKey("lh", "hedge schemes", "multi", ("alvh", "single", "static10", "vxth"), BACKTEST_SCHEMES[1:],
            labels=_BT_SCHEME_LABELS),
    LinkKey("lep", "replay", "choice", "2020-03", EPISODE_CHOICES),
    LinkKey("lrs", "replay start", "day", None),
    LinkKey("lre", "replay end", "day", None),
    LinkKey("lhz", "Monte Carlo horizon (trading days)", "int", 60, low=5, high=int(TRADING_DAYS_PER_YEAR)),
    LinkKey("lmp", "Monte Carlo paths", "int", 10_000, low=1_000, high=50_000),
    LinkKey("lsd", "Monte Carlo seed", "int", 1, low=0, high=1_000_000),
)

#: The Tiers page (keys start with "t", after the Builder's "t" tier).
TIERS_KEYS: tuple[LinkKey, ...] = (
    LinkKey("tsel", "short strikes by", "choice", "pop", ("pop", "delta"),
            labels={"pop": "POP target", "delta": "delta target"}),
    LinkKey("tt", "tier table", "text", None, parser=parse_tiers, formatter=tiers_text),
    LinkKey("tbs", "condors entered (history)", "choice", "daily", ("daily", "weekly", "monthly"),
            labels={"daily": "every session", "weekly": "every week", "monthly": "every month"}),
)

def _short_text(text: str) -> str:
    """Free text of up to 60 characters (a filter), or a ValueError."""
    text = " ".join(str(text).split())
    if not text or len(text) > 60:
        raise ValueError("a filter is 1-60 characters")
    return text


#: The Learn page (keys start with "e").
LEARN_KEYS: tuple[LinkKey, ...] = (
    LinkKey("et", "tier of the examples", "choice", "Moderate", TIER_CHOICES),
    LinkKey("eb", "risk budget of the tier comparison $", "float", 50_000.0, **_range(limits.RISK_DOLLARS)),
    LinkKey("eq", "glossary filter", "text", None, parser=_short_text, formatter=str),
)

def _event_dates(text: str) -> str:
    """Event dates as a link carries them: YYYY-MM-DD, comma-separated, at most 40."""
    days = [d.strip() for d in text.replace(";", ",").split(",") if d.strip()]
    if len(days) > 40:
        raise ValueError("has more than 40 dates")
    for day in days:
        try:
            date.fromisoformat(day)
        except ValueError:
            raise ValueError(f"has {shown(day)!r}, not a date (YYYY-MM-DD)") from None
    return ",".join(days)


#: The regime's settings: set on the Regime page, held for the whole session and carried by every page's
#: link, so that every page classifies the market the same way.
SETTINGS_KEYS: tuple[LinkKey, ...] = (
    LinkKey("rlo", "Low regime below VIX", "float", 15.0, low=5.0, high=60.0),
    LinkKey("rhi", "High regime above VIX", "float", 25.0, low=5.0, high=90.0),
    LinkKey("rfu", "regime on the 30-day VIX future", "bool", False),
    *(LinkKey(f"w_{name}", f"weight of {label}", "float", getattr(SignalWeights(), name), low=0.0, high=1.0)
      for name, label in SIGNAL_LABELS.items()),
    LinkKey("rev", "your event dates", "text", None, parser=_event_dates, formatter=str),
)
REGIME_KEYS: tuple[LinkKey, ...] = (
    LinkKey("rwin", "VIX chart window", "choice", "1Y", ("1M", "3M", "6M", "1Y", "2Y", "5Y", "All")),
)

#: The keys each page reads, by its URL path ("" is the default page at "/").
#: A Builder scenario (a saved file, the command line's --scenario): the Builder's inputs and the account.
SCENARIO_KEYS = BUILDER_KEYS + ACCOUNT_KEYS
#: Keys every page carries: the account, the regime's settings, the market.
SESSION_KEYS = ACCOUNT_KEYS + SETTINGS_KEYS + MARKET_KEYS
PAGE_KEYS: dict[str, tuple[LinkKey, ...]] = {"": REGIME_KEYS + SESSION_KEYS,
                                             "builder": BUILDER_KEYS + SESSION_KEYS,
                                             "backtest": BACKTEST_KEYS + SESSION_KEYS,
                                             "hedge-lab": HEDGE_LAB_KEYS + SESSION_KEYS,
                                             "tiers": TIERS_KEYS + SESSION_KEYS,
                                             "learn": LEARN_KEYS + SESSION_KEYS}
ALL_KEYS = {k.key: k for k in BUILDER_KEYS + BACKTEST_KEYS + HEDGE_LAB_KEYS + TIERS_KEYS + LEARN_KEYS + REGIME_KEYS
            + SESSION_KEYS}
#: Long or older names that still work, mapped to today's keys (the pages' own notional, budget and hedge
#: sizing of older links are the session's account now).
ALIASES = {"tier": "t", "days": "d", "measure": "m", "notional": "n", "risk": "r", "hedge": "h",
           "horizon": "hz", "selection": "sel", "budget": "b",
           "rn": "n", "tn": "n", "ln": "n", "en": "n", "bcap": "n", "lr": "r", "tb": "b", "er": "b",
           "lsz": "hsz", "bsz": "hsz"}
#: Older pages' own risk budgets, given in dollars.
DOLLAR_ALIASES = ("tb", "er")
#: Parameters that belong to other parts of the app (page routing, Streamlit).
PASS_THROUGH = {"embed", "embed_options", "page"}
#: How much of a parameter's name or value a notice repeats.
SHOWN_CHARS = 40


def _plain(text: str) -> str:
    """Lower case, single spaces: how labels are compared."""
    return " ".join(text.lower().split())


def _date_range() -> tuple[date, date]:
    return FIRST_ASOF, date.today() + timedelta(days=366)


def parse_value(spec: LinkKey, raw: str):
    """The typed value of one parameter, or ``ValueError`` saying why not."""
    text = raw.strip()
    if spec.kind == "choice":
        wanted = _plain(text)
        for choice in spec.choices:
            if wanted in (_plain(str(choice)), _plain(spec.label_of(choice))):
                return choice
        for prefix, code in spec.legacy:
            if wanted.startswith(prefix):
                return code
        raise ValueError(f"must be one of {', '.join(map(str, spec.choices))}")
    if spec.kind == "multi":
        picked = []
        for piece in (p for p in text.split(",") if p.strip()):
            wanted = _plain(piece)
            found = next((c for c in spec.choices if wanted in (_plain(str(c)), _plain(spec.label_of(c)))), None)
            if found is None:
                raise ValueError(f"must be a comma-separated list of {', '.join(map(str, spec.choices))}")
            picked.append(found)
        if not picked:
            raise ValueError("needs at least one choice")
        return tuple(c for c in spec.choices if c in picked)   # canonical order, no repeats
    if spec.kind == "text":
        if len(text) > 400:
            raise ValueError("is too long")
        return spec.parser(text)
    if spec.kind == "bool":
        if text.lower() in ("true", "1", "yes", "on"):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError("must be true or false")
    if spec.kind in ("date", "day"):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError("must be a date written YYYY-MM-DD")
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError("is not a calendar date") from None
        first, last = _date_range()
        if not first <= day <= last:
            raise ValueError(f"must be between {first} and {last}")
        return day if spec.kind == "day" else text
    try:
        value = float(text)
    except ValueError:
        raise ValueError("must be a number") from None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    if spec.kind == "int":
        if value != int(value):
            raise ValueError("must be a whole number")
        value = int(value)
    if not spec.low <= value <= spec.high:
        raise ValueError(f"must be between {spec.low:g} and {spec.high:g}")
    return value


def format_value(spec: LinkKey, value) -> str:
    """A value as its link text: codes for choices, short numbers."""
    if spec.kind == "bool":
        return "true" if value else "false"
    if spec.kind == "text":
        return spec.formatter(value)
    if spec.kind == "multi":
        return ",".join(str(c) for c in spec.choices if c in tuple(value))
    if spec.kind == "day":
        return value.isoformat() if isinstance(value, date) else str(value)
    if spec.kind == "float":
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return str(value)


def shown(text: object) -> str:
    """A parameter's name or value as a notice repeats it: printable, short."""
    text = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in str(text))
    return text[:SHOWN_CHARS] + ("…" if len(text) > SHOWN_CHARS else "")


@dataclass(frozen=True)
class LinkNotice:
    """One parameter a page ignored: its name and value exactly as the link
    had them (shortened) and the reason in the app's words.  Pages show
    ``name`` and ``value`` as plain text, never as markup."""

    name: str
    value: str | None
    reason: str

    @property
    def text(self) -> str:
        if self.value is None:
            return f"{self.name}: {self.reason}"
        return f"{self.name}={self.value!r}: {self.reason}"


@dataclass(frozen=True)
class LinkReading:
    values: dict                      # key -> typed value, for the parameters that could be used
    notices: tuple[LinkNotice, ...]
    renamed: dict                     # alias -> key, for old names found
    ignored: tuple[str, ...] = ()     # parameter names to take out of the address

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(n.text for n in self.notices)


def read_link(params: Mapping[str, object], keys: tuple[LinkKey, ...] | None = None) -> LinkReading:
    """Check a link's parameters against the keys of one page (every key by
    default).  ``params`` maps names to a string or a list of strings
    (a repeated parameter: every value counts for a list input, the last one
    for any other, with a notice naming the ones dropped).  A key given both by its
    alias and by its short name takes the short name's value, and a notice
    says so."""
    specs = {k.key: k for k in keys} if keys is not None else ALL_KEYS
    values, notices, renamed, ignored, unknown = {}, [], {}, [], []
    given_by: dict[str, str] = {}
    # Short names first, so that they win over aliases whatever the order in the link.
    ordered = sorted(params.items(), key=lambda item: str(item[0]) in ALIASES)
    for name, raw in ordered:
        name_text = str(name)
        key = ALIASES.get(name_text, name_text)
        if key != name_text:
            renamed[name_text] = key
        if key in PASS_THROUGH:
            continue
        spec = specs.get(key)
        if spec is None:
            unknown.append(name_text)
            continue
        text = raw[-1] if isinstance(raw, (list, tuple)) and raw else raw
        repeated = [v for v in raw if isinstance(v, str)] if isinstance(raw, (list, tuple)) else []
        if len(set(repeated)) > 1:
            if spec.kind == "multi":   # a list input: every value given counts
                text = ",".join(repeated)
            else:
                notices.append(LinkNotice(shown(name_text), shown(" / ".join(repeated)),
                                          f"{spec.label} was given {len(repeated)} times; the last, "
                                          f"{shown(repeated[-1])}, is used"))
        if key in given_by:
            notices.append(LinkNotice(shown(name_text), shown(text) if isinstance(text, str) else None,
                                      f"{spec.label} was also given as {given_by[key]}, which is used"))
            ignored.append(name_text)
            continue
        if not isinstance(text, str):
            notices.append(LinkNotice(shown(name_text), None, "no value"))
            ignored.append(name_text)
            continue
        try:
            values[key] = parse_value(spec, text)
            given_by[key] = name_text
        except ValueError as exc:
            notices.append(LinkNotice(shown(name_text), shown(text), f"{spec.label} {exc}"))
            ignored.append(name_text)
    if "bm" not in values and "bm" in specs and "b" in values and any(
            renamed.get(name) == "b" for name in DOLLAR_ALIASES):
        values["bm"] = "usd"   # an older page's own budget in dollars (Tiers' "tb", Learn's "er") meant dollars
    if unknown:
        notices.insert(0, LinkNotice(", ".join(shown(u) for u in unknown[:8]) + (" …" if len(unknown) > 8 else ""),
                                     None, f"unknown link parameter{'s' if len(unknown) > 1 else ''} on this page"))
        ignored.extend(unknown)
    return LinkReading(values, tuple(notices), renamed, tuple(ignored))


def link_for(values: Mapping[str, object]) -> dict[str, str]:
    """The parameters for a scenario: non-default values only, as strings."""
    out = {}
    for key, value in values.items():
        spec = ALL_KEYS[key]
        if value is None or value == spec.default:
            continue
        out[key] = format_value(spec, value)
    return out
