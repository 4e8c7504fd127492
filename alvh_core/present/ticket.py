"""The trade ticket and the scenario file.

:func:`ticket_rows` lists every order of a position as a broker's ticket
needs it: the root (SPX monthlies settle A.M., SPXW and XSP P.M., VIX
options A.M. on the special opening quotation), the expiry date, the side,
quantity, strike and type, each leg's price and the structure's net limit.

A scenario file is the page's link parameters (the exact inputs, the same
codes a share link carries) plus, for reading, what they produced; loading
one takes only the parameters, checked like a link.
"""

from __future__ import annotations

import json
from datetime import date

from alvh_core.present.links import LinkReading, read_link

SCENARIO_FORMAT = "alvh-studio-scenario"
SCENARIO_VERSION = 1
#: The largest scenario file read back.
MAX_SCENARIO_BYTES = 200_000


def _root_and_settlement(leg, condor=None) -> tuple[str, str]:
    if condor is not None:
        e = condor.expiry
        return (e.root, e.settlement) if e is not None else (condor.underlying, "PM")
    if leg.underlying == "VIX":
        return "VIX", "AM (SOQ)"
    return ("SPX", "AM") if _is_monthly(leg.expiry) else ("SPXW", "PM")


def _is_monthly(day: str) -> bool:
    from alvh_core.data.listings import monthly_expiry

    d = date.fromisoformat(day)
    return monthly_expiry(d.year, d.month) == d


def ticket_rows(position) -> list[dict]:
    """One row per leg: the condor's, then each active hedge layer's (dollars and index points)."""
    condor, n = position.condor, position.contracts
    rows = []
    root, settlement = _root_and_settlement(None, condor)
    expiry = condor.expiry.day.isoformat() if condor.expiry is not None else ""
    limit = round(condor.quoted(condor.credit), 2)
    for leg in condor.legs:
        rows.append({"Order": "Condor", "Action": "BUY TO OPEN" if leg.side > 0 else "SELL TO OPEN",
                     "Quantity": n * leg.quantity, "Root": root, "Expiry": expiry, "Settlement": settlement,
                     "Strike": condor.quoted(leg.strike), "Type": leg.kind.upper(),
                     "Leg price": round(condor.quoted(leg.price), 2),
                     "Priced at": condor.quote_source or "model mid",
                     "Net limit (per structure)": f"{limit:.2f} CREDIT" if limit >= 0 else f"{-limit:.2f} DEBIT"})
    for layer in position.hedge.active_layers:
        net = sum(leg.signed_quantity * leg.price for leg in layer.legs) / max(
            min(leg.quantity for leg in layer.legs), 1)
        for leg in layer.legs:
            root, settlement = _root_and_settlement(leg)
            rows.append({"Order": f"Hedge: {layer.name}", "Action": "BUY TO OPEN" if leg.side > 0 else "SELL TO OPEN",
                         "Quantity": layer.contracts * leg.quantity, "Root": root, "Expiry": leg.expiry,
                         "Settlement": settlement, "Strike": leg.strike, "Type": leg.kind.upper(),
                         "Leg price": round(leg.price, 2), "Priced at": "model mid",
                         "Net limit (per structure)": (f"{net:.2f} DEBIT" if net >= 0 else f"{-net:.2f} CREDIT")
                         if layer.name != "Your legs" else "each leg at its price"})
    return rows


def scenario_document(params: dict, position, page_url: str = "") -> dict:
    """The scenario as a JSON-ready dict: the inputs (link codes) and, for reading, the results."""
    m = position.plan.metrics
    return {
        "format": SCENARIO_FORMAT, "version": SCENARIO_VERSION,
        "inputs": dict(sorted(params.items())),
        "link": page_url,
        "summary": {
            "as_of": position.plan.market.asof, "condor": [leg.as_dict() for leg in position.condor.legs],
            "underlying": position.condor.underlying,
            "expiry": position.condor.expiry.day.isoformat() if position.condor.expiry is not None else None,
            "contracts": position.contracts, "credit_per_contract": round(m.credit, 2),
            "max_loss_per_contract": round(m.max_loss, 2), "hedge_premium": round(position.hedge.total_cost, 2),
            "ticket": ticket_rows(position), "model_based": True,
        },
    }


class ScenarioFileError(ValueError):
    """The file is not a scenario this app wrote; the message says why."""


def read_scenario(raw: bytes | str, keys) -> LinkReading:
    """The inputs of a scenario file, checked like a link's parameters."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_SCENARIO_BYTES:
            raise ScenarioFileError(f"the file is larger than {MAX_SCENARIO_BYTES // 1000} kB")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioFileError("the file is not UTF-8 text") from None
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise ScenarioFileError("the file is not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != SCENARIO_FORMAT:
        raise ScenarioFileError(f"the file is not an ALVH Studio scenario (no \"format\": \"{SCENARIO_FORMAT}\")")
    inputs = doc.get("inputs")
    if not isinstance(inputs, dict):
        raise ScenarioFileError("the scenario has no \"inputs\"")
    return read_link({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in inputs.items()}, keys)
