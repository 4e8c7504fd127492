"""Share links: the Builder's inputs as short, stable URL parameters.

Every input has a short key, a type and a valid range; defaults are left out
of links.  :func:`read_link` checks a link's parameters and returns the
values it can use plus one notice per parameter it had to ignore (unknown,
malformed or out of range): a bad link never stops the page.  Old names keep
working through :data:`ALIASES`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class LinkKey:
    key: str
    label: str
    kind: str                      # "choice", "int", "float", "bool"
    default: object
    choices: tuple = ()
    low: float = -math.inf
    high: float = math.inf


TIER_CHOICES = ("Conservative", "Moderate", "Aggressive")

BUILDER_KEYS: tuple[LinkKey, ...] = (
    LinkKey("t", "tier", "choice", "Conservative", TIER_CHOICES),
    LinkKey("sel", "short strikes by", "choice", "pop", ("pop", "delta")),
    LinkKey("d", "days to expiry (0 = the tier's)", "int", 0, low=0, high=90),
    LinkKey("m", "risk measure", "choice", "max_loss", ("max_loss", "expected_loss", "cvar95")),
    LinkKey("n", "notional", "float", 100_000.0, low=1_000.0, high=1e9),
    LinkKey("bm", "risk budget in", "choice", "pct", ("pct", "usd")),
    LinkKey("r", "risk budget %", "float", 1.0, low=0.05, high=100.0),
    LinkKey("b", "risk budget $", "float", 1_000.0, low=1.0, high=1e9),
    LinkKey("h", "hedge scheme", "choice", "alvh", ("alvh", "static10", "single", "vxth", "none", "custom")),
    LinkKey("sb", "base layer %", "int", 40, low=0, high=100),
    LinkKey("sa", "adaptive layer %", "int", 40, low=0, high=100),
    LinkKey("st", "tail layer %", "int", 20, low=0, high=100),
    LinkKey("c", "tail layer", "choice", "always", ("always", "stress")),
    LinkKey("ti", "tail instrument", "choice", "vix_calls", ("vix_calls", "spx_put_fly")),
    LinkKey("cb", "custom budget %", "float", 10.0, low=0.0, high=100.0),
    LinkKey("em", "event multiplier", "float", 1.5, low=1.0, high=5.0),
    LinkKey("sk", "VIX call skew", "float", 0.35, low=-1.0, high=2.0),
    LinkKey("hz", "horizon days", "int", 0, low=0, high=90),
    LinkKey("sd", "scenario date (days from now)", "int", 0, low=0, high=90),
)

#: Market inputs, in links only when "pin market data" is on.
MARKET_KEYS: tuple[LinkKey, ...] = (
    LinkKey("pin", "pin market data", "bool", False),
    LinkKey("spx", "SPX", "float", None, low=100.0, high=20000.0),
    LinkKey("vix", "VIX", "float", None, low=5.0, high=150.0),
    LinkKey("v9", "VIX9D", "float", None, low=5.0, high=200.0),
    LinkKey("v3", "VIX3M", "float", None, low=5.0, high=150.0),
    LinkKey("v6", "VIX6M", "float", None, low=5.0, high=150.0),
    LinkKey("vv", "VVIX", "float", None, low=20.0, high=300.0),
    LinkKey("rate", "rate %", "float", None, low=-5.0, high=50.0),
    LinkKey("div", "dividend yield %", "float", None, low=0.0, high=20.0),
    LinkKey("asof", "as-of date", "text", None),
)

ALL_KEYS = {k.key: k for k in BUILDER_KEYS + MARKET_KEYS}
#: Long or older names that still work, mapped to today's keys.
ALIASES = {"tier": "t", "days": "d", "measure": "m", "notional": "n", "risk": "r", "hedge": "h",
           "horizon": "hz", "selection": "sel", "budget": "b"}
#: Parameters that belong to other parts of the app (page routing, Streamlit).
PASS_THROUGH = {"embed", "embed_options", "page"}


def parse_value(spec: LinkKey, raw: str):
    """The typed value of one parameter, or ``ValueError`` saying why not."""
    text = raw.strip()
    if spec.kind == "choice":
        for choice in spec.choices:
            if text.lower() == str(choice).lower():
                return choice
        raise ValueError(f"must be one of {', '.join(map(str, spec.choices))}")
    if spec.kind == "bool":
        if text.lower() in ("true", "1", "yes", "on"):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError("must be true or false")
    if spec.kind == "text":
        if len(text) > 40 or not text.isprintable():
            raise ValueError("is not a short text")
        return text
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


@dataclass(frozen=True)
class LinkReading:
    values: dict            # key -> typed value, for the parameters that could be used
    notices: tuple[str, ...]
    renamed: dict           # alias -> key, for old names found


def read_link(params: Mapping[str, object]) -> LinkReading:
    """Check a link's parameters.  ``params`` maps names to a string or a
    list of strings (repeated parameters: the last one counts)."""
    values, notices, renamed = {}, [], {}
    unknown = []
    for name, raw in params.items():
        name_text = str(name)[:40]
        key = ALIASES.get(name_text, name_text)
        if key != name_text:
            renamed[name_text] = key
        if key in PASS_THROUGH:
            continue
        spec = ALL_KEYS.get(key)
        if spec is None:
            unknown.append(name_text)
            continue
        text = raw[-1] if isinstance(raw, (list, tuple)) and raw else raw
        if not isinstance(text, str):
            notices.append(f"Ignored '{name_text}': no value")
            continue
        try:
            values[key] = parse_value(spec, text)
        except ValueError as exc:
            shown = text[:20] + ("…" if len(text) > 20 else "")
            notices.append(f"Ignored {name_text}={shown!r}: {spec.label} {exc}")
    if unknown:
        notices.insert(0, f"Ignored unknown link parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown[:8])}")
    return LinkReading(values, tuple(notices), renamed)


def link_for(values: Mapping[str, object]) -> dict[str, str]:
    """The parameters for a scenario: non-default values only, as strings."""
    out = {}
    for key, value in values.items():
        spec = ALL_KEYS[key]
        if value is None or value == spec.default:
            continue
        if spec.kind == "bool":
            out[key] = "true" if value else "false"
        elif spec.kind == "float":
            out[key] = repr(float(value))
        else:
            out[key] = str(value)
    return out
