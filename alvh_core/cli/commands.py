"""The JSON command line: ``python -m alvh_core <command> [options] --json``.

Every command prints one JSON object on stdout and exits 0.  Bad input exits
2 with one line on stderr; no traceback ever reaches the terminal.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from alvh_core import __version__
from alvh_core.calibration.fits import (
    calibrate_skew,
    fit_futures_proxy,
    fit_simulator,
    fit_size_depth,
    fit_spot_vol,
    fit_spreads,
    fit_strike_grid,
    fit_vix_call_skew,
    fit_vvix_response,
    natural_credit_check,
    vix_expiry_check,
)
from alvh_core.data.chains import chain_on, read_cboe_chain_file
from alvh_core.data.closes import HistoryFormatError, closes_on, load_history_folder, read_series_csv
from alvh_core.history.stats import performance
from alvh_core.model import limits
from alvh_core.model.chain_smile import chain_carry
from alvh_core.model.fitted import DEFAULT_FILL_SHARE
from alvh_core.model.market import DEFAULT_MARKET, MarketState, tbill_rate
from alvh_core.model.pricing import TRADING_DAYS_PER_YEAR, black76, bsm
from alvh_core.strategy.condor import SELECTIONS
from alvh_core.strategy.hedge import DEFAULT_SIZING, SIZING_MODES
from alvh_core.strategy.management import ExitRules
from alvh_core.strategy.plan import UNDERLYINGS
from alvh_core.strategy.sizing import ALL_MEASURES, DEFAULT_NOTIONAL, MEASURES, RiskBudget, compare_tiers
from alvh_core.strategy.stress import EPISODES
from alvh_core.strategy.tiers import TierTableError, find_tier, load_tiers


class UsageError(Exception):
    """Bad input: reported on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print usage and exit 2
        raise UsageError(message)


#: Where each number of the command line must lie: checked before any arithmetic, so that an
#: extreme value is one line on stderr, never a numpy warning or an overflow.
#: The market and the budget take the ranges every input of the project takes (:mod:`alvh_core.model.limits`);
#: ``price`` is a plain option calculator, with its own wide ranges.
LIMITS = {"--spx": limits.SPX, "--vix": limits.VIX, "--vix9d": limits.VIX9D, "--vix3m": limits.VIX3M,
          "--vix6m": limits.VIX6M, "--vvix": limits.VVIX, "--rate": limits.RATE, "--div": limits.DIV,
          "--risk-budget": limits.RISK_DOLLARS, "--notional": limits.NOTIONAL, "--risk-pct": limits.RISK_PCT,
          "--capital": limits.CAPITAL, "--contracts": limits.CONTRACTS, "--commission": limits.COMMISSION,
          "--slippage": limits.SLIPPAGE, "--profit-target": limits.PROFIT_TARGET, "--stop": limits.STOP_MULTIPLE,
          "--exit-days": limits.EXIT_DAYS,
          "--spot": (1e-3, 1e7), "--forward": (1e-3, 1e7), "--strike": (1e-3, 1e7), "--days": (0.0, 36_500.0),
          "--years": (0.0, 100.0), "--vol": (0.0, 10.0), "--spx-move": (-95.0, 100.0)}
#: ``stress --days`` counts trading days: up to a year.
STRESS_DAYS = (0.0, TRADING_DAYS_PER_YEAR)


def _number(name: str, positive: bool = False, bounds: tuple[float, float] | None = None):
    """An argparse type: a finite float within the argument's limits (and > 0 when ``positive``)."""
    low, high = bounds or LIMITS.get(name, (-1e12, 1e12))

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not math.isfinite(value) or (positive and value <= 0):
            kind = "a positive number" if positive else "finite"
            raise argparse.ArgumentTypeError(f"{name} must be {kind}, got {text!r}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be between {low:g} and {high:g}, got {text!r}")
        return value
    return parse


def _positive(name: str, bounds: tuple[float, float] | None = None):
    return _number(name, positive=True, bounds=bounds)


def _strike_list(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"strikes must be numbers separated by commas, got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError("strikes must be positive numbers")
    if len(values) > 10_000:
        raise argparse.ArgumentTypeError("at most 10,000 strikes")
    return values


def _add_market_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spx", type=_positive("--spx"), help="SPX spot (index points)")
    p.add_argument("--vix", type=_positive("--vix"), help="VIX (vol points, e.g. 16.5)")
    for name in ("vix9d", "vix3m", "vix6m", "vvix"):
        p.add_argument(f"--{name}", type=_positive(f"--{name}"))
    p.add_argument("--rate", type=_number("--rate"), default=None, help="risk-free rate, decimal (0.04)")
    p.add_argument("--div", type=_number("--div"), default=None, help="SPX dividend yield, decimal (0.013)")
    p.add_argument("--data-dir", type=Path, help="folder of Cboe *_History.csv files for the market")
    p.add_argument("--asof", help="date (YYYY-MM-DD) of the market in --data-dir (default: last)")


def _market(args) -> tuple[MarketState, object]:
    """The market from --data-dir/--asof, else from --spx/--vix; history too."""
    history = None
    rate = DEFAULT_MARKET.rate if args.rate is None else args.rate
    div = DEFAULT_MARKET.div if args.div is None else args.div
    if args.data_dir is not None:
        asof = _date_arg(args.asof, "--asof")
        history = load_history_folder(args.data_dir)
        when = asof.isoformat() if asof else history.last.strftime("%Y-%m-%d")
        try:
            row = closes_on(history, when)
        except (KeyError, ValueError) as exc:
            raise UsageError(f"--asof: {exc}") from None
        if not np.isfinite(row.get("spx", np.nan)):
            raise UsageError(f"{args.data_dir}: no SPX close on or before {when}")
        get = lambda k: float(row[k]) if k in row and np.isfinite(row[k]) else None  # noqa: E731
        if args.rate is None and "irx" in row and np.isfinite(row["irx"]):
            rate = tbill_rate(float(row["irx"]))  # the 3-month T-bill of that day
        chain_file = chain_on(args.data_dir, str(row.name.date()))
        if args.div is None and chain_file is not None:
            div = min(max(chain_carry(read_cboe_chain_file(chain_file), rate), 0.0), 0.2)  # the chain's parity forwards
        market = MarketState(spot=float(row["spx"]), vix=float(row["vix"]), vix9d=get("vix9d"), vix3m=get("vix3m"),
                             vix6m=get("vix6m"), vvix=get("vvix"), rate=rate, div=div, asof=str(row.name.date()),
                             source="file")
        overrides = {k: getattr(args, k) for k in ("vix9d", "vix3m", "vix6m", "vvix") if getattr(args, k) is not None}
        if args.spx is not None:
            overrides["spot"] = args.spx
        if args.vix is not None:
            overrides["vix"] = args.vix
        return (market.with_changes(**overrides, source="manual") if overrides else market), history
    if args.spx is None or args.vix is None:
        raise UsageError("give --spx and --vix, or --data-dir")
    return MarketState(spot=args.spx, vix=args.vix, vix9d=args.vix9d, vix3m=args.vix3m, vix6m=args.vix6m,
                       vvix=args.vvix, rate=rate, div=div, source="manual"), history


def _clean(value):
    """JSON-safe: numpy to Python, rounded floats, no NaN or inf."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return round(v, 6) if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    return value


# --- commands ----------------------------------------------------------------

def cmd_price(args) -> dict:
    if args.years is None and args.days is None:
        raise UsageError("give --days or --years")
    years = args.years if args.years is not None else args.days / 365.0
    if years < 0 or years > 100:
        raise UsageError("time to expiry must be between 0 and 100 years")
    if not 0 <= args.vol <= 10:
        raise UsageError("--vol is a decimal between 0 and 10 (0.2 = 20 %)")
    if args.model == "bsm":
        if args.spot is None:
            raise UsageError("--model bsm needs --spot")
        g = bsm(args.spot, args.strike, years, args.rate, args.div, args.vol, args.kind)
    else:
        if args.forward is None:
            raise UsageError("--model black76 needs --forward")
        g = black76(args.forward, args.strike, years, args.rate, args.vol, args.kind)
    return {"model": args.model, "kind": args.kind, "years": years, "price": g.price, "delta": g.delta,
            "gamma": g.gamma, "vega": g.vega, "theta": g.theta,
            "units": {"vega": "per 1 vol point", "theta": "per calendar day"}}


def cmd_vol(args) -> dict:
    market, _ = _market(args)
    model = market.vol_model()
    forward = float(market.forward(args.days))
    ivs = model.implied_vol(np.array(args.strikes), forward, args.days)
    return {"spx": market.spot, "forward": forward, "days": args.days, "atm": model.atm_vol(args.days),
            "variance_swap_vol": market.term.variance_swap_vol(args.days) * model.skew.vix_scale,
            "strikes": args.strikes, "ivs": ivs, "model": "VIX-family term structure + fitted skew (model-based)"}


def _budget(args) -> RiskBudget:
    if args.risk_budget is not None:
        return RiskBudget(notional=args.notional, risk_pct=None, dollars=args.risk_budget)
    return RiskBudget(notional=args.notional, risk_pct=args.risk_pct if args.risk_pct is not None else 1.0)


def _built(args):
    """The market, history, tier, budget, built position and hedge context the arguments ask for."""
    market, history = _market(args)
    tier = find_tier(load_tiers(args.tiers), args.tier)
    budget = _budget(args)
    position, context, gate = _position(market, history, args, budget, tier)
    args.gate_result = gate
    return market, history, tier, budget, position, context


def cmd_plan(args) -> dict:
    if args.scenario is not None:
        _apply_scenario(args)
    if args.tier is None:
        raise UsageError("give --tier (or a --scenario file)")
    market, history, tier, budget, position, context = _built(args)
    plan = position.plan
    condor, metrics, sizing = plan.condor, plan.metrics, plan.chosen
    out = {
        "market": asdict(market),
        "tier": asdict(tier),
        "selection": args.selection,
        "condor": {
            "legs": [leg.as_dict() for leg in condor.legs],
            "underlying": condor.underlying, "credit": metrics.credit, "max_profit": metrics.max_profit,
            "max_loss": metrics.max_loss,
            "fill": {"share": metrics.fill_share, "credit_mid": metrics.credit_mid,
                     "credit_natural": metrics.credit_natural},
            "breakevens": metrics.breakevens, "pop": metrics.pop,
            "touch": {"short_put": metrics.touch_short_put, "short_call": metrics.touch_short_call},
            "expected_pl": metrics.expected_pl, "expected_loss": metrics.expected_loss, "cvar95": metrics.cvar95,
            "greeks": metrics.greeks,
            "expected_move": {"1sd": metrics.expected_move_1sd, "2sd": metrics.expected_move_2sd},
            "atm_vol": condor.atm_vol, "pop_convention": metrics.distribution,
            "expiry": _expiry_json(condor),
        },
        "risk_budget": {"dollars": budget.amount, "pct_of_notional": budget.pct_of_notional, "notional": budget.notional,
                        "sized_at": {"dollars": plan.budget.amount, "pct_of_notional": plan.budget.pct_of_notional}},
        "broker": {"reg_t": metrics.reg_t, "return_on_reg_t": metrics.return_on_reg_t,
                   "position_reg_t": metrics.reg_t * sizing.contracts,
                   "meaning": "Reg-T margin: the wider side's width less the credit, dollars per contract"},
        "measure": args.measure,
        "contracts": sizing.contracts,
        "risk_per_contract": sizing.risk_per_contract,
        "contracts_by_measure": {m: s.contracts for m, s in plan.sizing.items()},
        "position": {"max_loss": sizing.position_max_loss, "credit": sizing.position_credit},
        "hedge": _hedge_json(position, context),
        "gate": args.gate_result,
        "book_risk": {f"{d}d": asdict(r) for d, r in position.book_risk.items()},
        "your_position": _position_json(position),
        "units": {"money": "dollars per contract unless 'position'", "strikes": "SPX points",
                  "prices": "SPX points per option", "probabilities": "decimals"},
        "model_based": True,
    }
    if sizing.note:
        out["note"] = sizing.note
    if history is not None:
        emp = plan.empirical_metrics
        out["condor"]["empirical"] = ({"pop": emp.pop, "expected_pl": emp.expected_pl,
                                       "expected_loss": emp.expected_loss, "cvar95": emp.cvar95,
                                       "distribution": emp.distribution}
                                      if emp is not None else {"unavailable": plan.empirical_note})
    return out


def _position(market, history, args, budget, tier):
    """The Builder's whole recompute for the command line (regime and stress from history when given)."""
    from alvh_core.data.events import load_events
    from alvh_core.strategy.hedge import HedgeSettings
    from alvh_core.strategy.position import HedgeContext, Scenario, position_through_gate
    from alvh_core.strategy.signals import regime_report

    calendar = load_events()
    asof = pd.Timestamp(market.asof).date() if market.asof else None
    levels = {"spx": market.spot, "vix": market.vix, "vix9d": market.vix9d, "vix3m": market.vix3m,
              "vix6m": market.vix6m, "vvix": market.vvix}
    report = regime_report(history.panel if history is not None else None, asof, levels, market.source, calendar)
    context = HedgeContext.from_report(report, calendar)
    breadth = {"falling": True, "not-falling": False}.get(getattr(args, "breadth", None))
    rsi, falling, rsi_from, breadth_from = report.gate_readings(getattr(args, "rsi_vix", None), breadth)
    scenario = Scenario(tier=tier, budget=budget, measure=args.measure, selection=args.selection, days=args.days,
                        hedge=HedgeSettings(scheme=args.hedge, contingent=args.contingent, sizing=args.hedge_sizing),
                        underlying=args.underlying, fill_share=args.fill_share, edits=_edits(args),
                        quotes=_chain_quotes(args, market))
    try:
        position, asked = position_through_gate(market, scenario, context, history, rsi, falling,
                                                override=bool(getattr(args, "override_gate", False)))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    gate = asked.gate
    gate_json = {
        "requested_pct": gate.requested_pct, "allowed_pct": gate.allowed_pct, "unlocked": gate.unlocked,
        "held_back": gate.holds_back and not args.override_gate, "overridden": gate.holds_back and args.override_gate,
        "sized_at_pct": position.plan.budget.pct_of_notional, "why": gate.why(),
        "checks": [{"name": c.name, "state": c.state, "detail": c.detail} for c in gate.checks],
        "readings": {"rsi_vix": rsi_from, "breadth": breadth_from},
        "expected_pl": {"condor": asked.condor_pl, "hedge_drag": asked.hedge_drag, "after_hedge": asked.after_hedge},
    }
    return position, context, gate_json


def _edits(args):
    """The trader's edits from --strikes, --expiry, --contracts, --limit, --add-leg, --drop-layer."""
    from alvh_core.strategy.edits import PositionEdits, parse_added, parse_strikes

    if not hasattr(args, "strikes"):
        return PositionEdits()
    try:
        strikes = parse_strikes(args.strikes) if args.strikes else None
        added = parse_added(",".join(args.add_leg)) if args.add_leg else ()
        expiry = date.fromisoformat(args.expiry) if args.expiry else None
    except ValueError as exc:
        raise UsageError(f"position: {exc}") from None
    return PositionEdits(strikes=strikes, expiry=expiry, contracts=None if args.contracts is None else int(args.contracts),
                         limit=args.limit,
                         layers_off=tuple(sorted(set(args.drop_layer or ()))), added=added)


def _chain_quotes(args, market):
    """The chain of the market's day in --data-dir/chains (unless --prices model)."""
    from alvh_core.strategy.quotes import from_cboe

    if getattr(args, "prices", "model") == "model" or args.data_dir is None or not market.asof:
        return None
    path = chain_on(args.data_dir, market.asof[:10])
    return from_cboe(read_cboe_chain_file(path), f"Cboe chain {path.name}") if path is not None else None


def _position_json(position) -> dict:
    """What the edits and the chain did to the position, for ``plan``."""
    out = {"edits": position.scenario.edits.describe(), "tier_strikes": [leg.strike for leg in position.tier_condor.legs]
           if position.tier_condor is not None else None}
    q = position.quoted
    if q is not None:
        out["prices"] = {"source": q.source, "mid_credit": q.mid_credit, "natural_credit": q.natural_credit,
                         "legs": [{"kind": x.kind, "side": x.side, "strike": x.strike, "root": x.root, "bid": x.bid,
                                   "ask": x.ask, "mid": x.mid, "model": x.model_price,
                                   "model_minus_mid": x.model_minus_market, "market_iv": x.market_iv,
                                   "model_iv": x.model_iv, "model_minus_market_vol_points": x.vol_points}
                                  for x in q.legs]}
    else:
        out["prices"] = {"source": "model", "why": position.quote_note or "no chain of the market's day"}
    from alvh_core.present.ticket import ticket_rows

    out["ticket"] = ticket_rows(position)
    return out


#: Scenario-file keys (the Builder's link codes) and the ``plan`` option each one fills.
_SCENARIO_ARGS = {"t": "tier", "sel": "selection", "m": "measure", "n": "notional", "r": "risk_pct",
                  "h": "hedge", "c": "contingent", "u": "underlying", "hsz": "hedge_sizing", "ad": "asof",
                  "spx": "spx", "vix": "vix", "v9": "vix9d", "v3": "vix3m", "v6": "vix6m", "vv": "vvix"}


def _apply_scenario(args) -> None:
    """Fill the options a --scenario file sets (a saved Builder scenario; options given on the line win)."""
    from alvh_core.present.links import MARKET_KEYS, SCENARIO_KEYS
    from alvh_core.present.ticket import MAX_SCENARIO_BYTES, ScenarioFileError, read_scenario
    from alvh_core.strategy.edits import added_text, strikes_text

    path = Path(args.scenario)
    try:
        if not path.is_file():   # never a device, a pipe or the terminal: they may never end
            raise UsageError(f"--scenario: not a regular file: {args.scenario}")
        if path.stat().st_size > MAX_SCENARIO_BYTES:
            raise UsageError(f"--scenario: larger than {MAX_SCENARIO_BYTES // 1000} kB: {args.scenario}")
        raw = path.read_bytes()
        reading = read_scenario(raw, SCENARIO_KEYS + MARKET_KEYS)
    except OSError as exc:
        raise UsageError(f"--scenario: {exc.strerror or exc}: {args.scenario}") from None
    except ScenarioFileError as exc:
        raise UsageError(f"--scenario: {exc}") from None
    if reading.notices:
        raise UsageError("--scenario: " + "; ".join(n.text for n in reading.notices))
    v = reading.values
    defaults = vars(build_parser().parse_args(["plan"]))
    for key, name in _SCENARIO_ARGS.items():
        if key in v and getattr(args, name) == defaults[name]:
            setattr(args, name, v[key].isoformat() if hasattr(v[key], "isoformat") else v[key])
    if v.get("bm") == "usd" and "b" in v and args.risk_budget is None:
        args.risk_budget = v["b"]
    if "d" in v and args.days is None and v["d"]:
        args.days = float(v["d"])
    if "fs" in v and args.fill_share == DEFAULT_FILL_SHARE:
        args.fill_share = v["fs"] / 100.0
    if "rate" in v and args.rate is None:
        args.rate = v["rate"] / 100.0
    if "div" in v and args.div is None:
        args.div = v["div"] / 100.0
    if "lg" in v and not args.strikes:
        args.strikes = strikes_text(v["lg"])
    if "ex" in v and not args.expiry:
        args.expiry = v["ex"].isoformat()
    if v.get("gov") and not args.override_gate:
        args.override_gate = True
    if v.get("q") and args.contracts is None:
        args.contracts = int(v["q"])
    if "lim" in v and args.limit is None:
        args.limit = v["lim"]
    if "lo" in v and not args.drop_layer:
        args.drop_layer = list(v["lo"])
    if "xl" in v and not args.add_leg:
        args.add_leg = [added_text(v["xl"])]


def _expiry_json(condor) -> dict | None:
    e = condor.expiry
    if e is None:
        return None
    return {"date": e.day.isoformat(), "weekday": e.day.strftime("%A"), "root": e.root, "kind": e.cycle,
            "settlement": e.settlement, "days": condor.days}


def _hedge_json(position, context) -> dict:
    """The hedge layers for ``plan --hedge``."""
    from alvh_core.strategy.hedge import SCHEME_LABELS

    hedge, book = position.hedge, position.book
    return {
        "scheme": hedge.scheme, "label": SCHEME_LABELS[hedge.scheme], "regime": hedge.regime,
        "stress_score": context.stress_score, "budget_pct": hedge.budget_pct,
        "target_vix_notional": hedge.target_vix_notional,
        "layers": [{"name": layer.name, "instrument": layer.instrument, "roll": layer.roll,
                    "strikes": [leg.strike for leg in layer.legs], "days": layer.days,
                    "expiry": layer.legs[0].expiry if layer.legs else None,
                    "legs": [leg.as_dict() | {"underlying": leg.underlying, "forward": round(leg.forward, 4)}
                             for leg in layer.legs],
                    "contracts": layer.contracts, "exact_contracts": layer.exact_contracts,
                    "cost": layer.cost, "vix_notional": layer.vix_notional, "active": layer.active,
                    "note": layer.note} for layer in hedge.layers],
        "sizing": hedge.sizing, "sized_on": hedge.sized_on,
        "total_cost": hedge.total_cost, "total_vix_notional": hedge.total_vix_notional,
        "vix_notional_per_max_loss": position.metrics.vix_notional_per_max_loss,
        "premium_pct_of_credit": position.metrics.cost_pct_of_credit,
        "carry_pct_of_credit": position.metrics.carry_pct_of_credit,
        "note": " ".join((position.metrics.contracts_note, *position.metrics.cost_warnings(), *hedge.notes)).strip(),
        "cost_per_year": position.metrics.cost_per_year, "breakeven_vix": position.metrics.breakeven_vix,
        "cvar95": {"condor": book.cvar95_condor, "combined": book.cvar95_combined},
        "worst_case": {"condor": book.worst_condor, "combined": book.worst_combined},
        "model_based": True,
    }


def cmd_tiers(args) -> dict:
    market, _ = _market(args)
    tiers = load_tiers(args.tiers)
    budget = args.risk_budget if args.risk_budget is not None else 50_000.0
    comparison = compare_tiers(market, tiers, budget, args.selection)
    rows = []
    for row in comparison.rows:
        rows.append({
            "tier": row.tier.name, "days": row.tier.days, "strikes": row.strikes,
            "contracts": {m: s.contracts for m, s in row.sizing.items()},
            "risk_per_contract": {m: s.risk_per_contract for m, s in row.sizing.items()},
            "pop": row.metrics.pop, "expected_pl": row.metrics.expected_pl, "cvar95": row.metrics.cvar95,
            "credit": row.metrics.credit, "max_loss": row.metrics.max_loss,
        })
    return {"market": asdict(market), "risk_budget": budget, "tiers": rows,
            "conservative_to_aggressive_ratio": comparison.ratio,
            "claim_1_8_to_2_2_holds": {m: comparison.claim_holds(m) for m in MEASURES},
            "verdict": comparison.verdict(), "model_based": True}


def cmd_stress(args) -> dict:
    from alvh_core.model.spotvol import outside_fit_notice
    from alvh_core.strategy.hedge import SCHEME_LABELS
    from alvh_core.strategy.stress import EPISODES_BY_KEY, calendar_days_for, episode_rows, stress_outcome

    episode = None
    if args.episode is not None:
        episode = EPISODES_BY_KEY.get(args.episode)
        if episode is None:
            raise UsageError(f"--episode must be one of {', '.join(EPISODES_BY_KEY)}, got {args.episode!r}")
        if args.spx_move is not None or args.trading_days is not None:
            raise UsageError("--episode sets the SPX move and the days: leave out --spx-move and --days")
        if args.data_dir is not None:
            if args.asof is not None and args.asof != episode.start:
                raise UsageError(f"--episode {episode.key} replays from {episode.start}: leave out --asof")
            args.asof = episode.start
    elif args.spx_move is None:
        raise UsageError("give --spx-move PCT (e.g. -10) or --episode")
    market, history, tier, budget, position, context = _built(args)
    condor, hedge = position.condor, position.hedge
    contracts = max(position.contracts, 1)
    vol_model = market.vol_model()
    replay = episode is not None and args.data_dir is not None
    if episode is not None:
        move, days = episode.spx_move, float(episode.trading_days)
        calendar = float(episode.calendar_days)
    else:
        move, days = args.spx_move / 100.0, float(args.trading_days if args.trading_days is not None else 5)
        calendar = calendar_days_for(days)
    actual_vix = None
    if replay:
        actual_vix = episode.vix_end
    elif episode is not None:
        actual_vix = market.vix * episode.vix_ratio
    outcome = stress_outcome(condor, contracts, hedge, market, vol_model, move, days, calendar, actual_vix)
    marks = lambda m: {"vix": m.vix, "condor": m.condor, "hedge": m.hedge, "combined": m.combined}  # noqa: E731
    out = {
        "market": asdict(market),
        "tier": tier.name, "contracts": position.contracts,
        "condor": {"legs": [leg.as_dict() for leg in condor.legs], "credit": position.plan.metrics.credit,
                   "max_loss": position.plan.metrics.max_loss, "expiry": _expiry_json(condor)},
        "hedge": {"scheme": hedge.scheme, "label": SCHEME_LABELS[hedge.scheme], "regime": hedge.regime,
                  "premium": hedge.total_cost,
                  "layers": [{"name": layer.name, "instrument": layer.instrument, "contracts": layer.contracts,
                              "expiry": layer.legs[0].expiry if layer.legs else None} for layer in hedge.active_layers]},
        "spx_move_pct": 100.0 * outcome.spx_move, "spx_after": outcome.spx_after,
        "trading_days": outcome.trading_days, "calendar_days": outcome.calendar_days,
        "vix": {band: m.vix for band, m in outcome.bands.items()},
        "futures": [{"expiry": f.expiry, "days_left": f.days_left, "before": f.before, "after": f.after}
                    for f in outcome.futures],
        "pnl": {band: marks(m) for band, m in outcome.bands.items()},
        "units": {"pnl": "dollars, whole position", "vix": "VIX points", "futures": "VIX points"},
        "model_based": True,
    }
    if episode is not None:
        out["episode"] = {"key": episode.key, "label": episode.label, "start": episode.start, "end": episode.end,
                          "spx": [episode.spx_start, episode.spx_end], "vix": [episode.vix_start, episode.vix_end]}
        out["actual"] = marks(outcome.actual) | {
            "meaning": ("the book built on the episode's first day, marked at its last day's SPX and VIX" if replay
                        else "today's book at the episode's SPX move, VIX moved by the episode's ratio")}
        if not replay:
            row = episode_rows(condor, contracts, hedge, market, vol_model, (episode,))[0]
            out["episode"]["model_vix_then"] = row.model_vix_then
            out["actual"]["clipped"] = row.as_then_clipped
    notice = outside_fit_notice(market.vix)
    if notice:
        out["notice"] = notice
    return out


def cmd_calibrate(args) -> dict:
    if args.data_dir is None:
        raise UsageError("calibrate needs --data-dir")
    history = load_history_folder(args.data_dir)
    result = calibrate_skew(args.data_dir)
    out = {}
    if (Path(args.data_dir) / "VX1_continuous.csv").is_file() and (Path(args.data_dir) / "VX2_continuous.csv").is_file():
        out["vix_futures_proxy"] = asdict(fit_futures_proxy(args.data_dir, history))
    else:
        out["vix_futures_proxy"] = {"unavailable": "needs VX1_continuous.csv and VX2_continuous.csv"}
    if "spx" in history.panel:
        out["spot_vol_link"] = {f"{f.horizon}d": asdict(f) for f in fit_spot_vol(history)}
    if "vvix" in history.panel:
        out["vvix_response"] = asdict(fit_vvix_response(history))
    if "spx" in history.panel:
        out["simulator"] = asdict(fit_simulator(history))
    out["strike_grid"] = fit_strike_grid(args.data_dir)
    if "vxth" in history.panel and history.panel["vxth"].notna().sum() > 40:
        out["vix_call_skew"] = asdict(fit_vix_call_skew(history, history.panel["vxth"]))
    else:
        out["vix_call_skew"] = {"unavailable": "needs VXTH_History.csv (Cboe's VIX Tail Hedge index)"}
    out["bid_ask_spreads"] = asdict(fit_spreads(args.data_dir))
    out["slippage_depth"] = fit_size_depth(args.data_dir)
    out["natural_credits"] = natural_credit_check(args.data_dir)
    if (Path(args.data_dir) / "VX1_continuous.csv").is_file():
        out["vix_expiries"] = vix_expiry_check(args.data_dir)
    if "spx" in history.panel:
        from alvh_core.strategy.stress import EPISODES, episode_from_history

        out["episodes"] = [asdict(episode_from_history(history.panel, e.key, e.label, e.start, e.end))
                           for e in EPISODES]
    return out | {"skew": asdict(result.params),
            "skew_fit_error_vol_points": asdict(result.overall),
            "skew_fit_error_by_date": {k: asdict(v) for k, v in result.by_date.items()},
            "atm_fit_error_vol_points": asdict(result.atm),
            "atm_error_beyond_fit_vol_points": asdict(result.atm_beyond) if result.atm_beyond else None,
            "skew_held_out_days": [asdict(h) for h in result.held_out],
            "skew_readings": {d: round(v, 3) for d, v in result.skew_readings.items()},
            "median_half_spread_points": result.median_half_spread,
            "chains": list(result.chains),
            "population": "OTM options of 5-50 delta, 7-70 days, IVs from bid/ask mids; each day's slope scaled by "
                          "its Cboe SKEW (alvh_core/model/skew_index.py)"}


def cmd_regime(args) -> dict:
    from alvh_core.data.events import load_events
    from alvh_core.data.live import fetch_live_panel, load_last_good, save_last_good
    from alvh_core.model.snapshot import choose_snapshot
    from alvh_core.strategy.signals import regime_report

    if args.asof is not None:
        args.asof = _date_arg(args.asof, "--asof").isoformat()
    if args.data_dir is not None:
        snapshot = choose_snapshot(files=load_history_folder(args.data_dir), asof=args.asof)
        if snapshot.source != "file":
            raise UsageError(f"{args.data_dir}: no VIX close on or before {args.asof}")
    else:
        live = fetch_live_panel()
        if live.ok:
            save_last_good("yahoo", live)
        snapshot = choose_snapshot(live, load_last_good("yahoo"), None, args.asof)
    if snapshot.source == "default":
        print(f"warning: {snapshot.messages[-1]}", file=sys.stderr)
    market = snapshot.market
    levels = {k: getattr(market, k) for k in ("vix", "vix9d", "vix3m", "vix6m", "vvix")} | {"spx": market.spot}
    report = regime_report(snapshot.panel, market.asof, levels, snapshot.source, load_events(),
                           breadth=snapshot.breadth)
    return {
        "asof": report.asof, "source": report.source, **levels,
        "regime": report.regime.name, "stress_score": report.stress_score,
        "hedge_budget_pct": report.hedge_budget_pct, "hedge_band_pct": report.hedge_band,
        "static_hedge_pct": report.static_hedge_pct, "term_structure": report.term_structure,
        "rebalance_trigger": report.rebalance_trigger,
        "signals": {s.key: {"label": s.label, "value": s.value, "stress": s.stress, "weight": s.weight,
                            "contribution": s.contribution, "detail": s.detail} for s in report.signals},
        "next_events": {e.kind: {"date": e.day.isoformat() if e.day else None, "days_away": e.days_away,
                                 "note": e.note} for e in report.next_events},
        "messages": list(snapshot.messages), "model_based": True,
    }



def _date_arg(text: str | None, name: str):
    """A date option as a ``date`` (None when not given); anything else that is not a day, "NaT" and "" too,
    is a usage error."""
    if text is None:
        return None
    try:
        day = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        day = pd.NaT
    if pd.isna(day):
        raise UsageError(f"{name} must be a date (YYYY-MM-DD), got {text!r}")
    return day.date()


def _records(frame: pd.DataFrame) -> list[dict]:
    """A table as JSON rows (NaN as null)."""
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def cmd_backtest(args) -> dict:
    from alvh_core.history import backtest as bt
    from alvh_core.history import studies
    from alvh_core.history.replicas import INDEX_COSTS, REPLICAS, replica, tracking

    if args.data_dir is None:
        raise UsageError("give --data-dir (a folder of Cboe *_History.csv files, SPX and VIX at least)")
    start, end = _date_arg(args.start, "--start"), _date_arg(args.end, "--end")
    if start and end and start >= end:
        raise UsageError("--start must be before --end")
    history = load_history_folder(args.data_dir)
    market = bt.market_arrays(history.panel)
    try:
        window = market.window(start, end)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    costs = bt.Costs(fill_share=args.fill_share, slippage=args.slippage, commission=args.commission)
    out: dict = {"strategy": args.strategy, "data": str(args.data_dir), "model_based": True,
                 "in_sample": bt.IN_SAMPLE_NOTE, "rates": window.rate_note}
    if args.strategy in REPLICAS:
        rep = replica(args.strategy, window, costs if args.costs else INDEX_COSTS, args.div)
        equity = rep.level
        perf = performance(equity, pd.Series(window.rate, index=pd.DatetimeIndex(window.dates)))
        out |= {"label": rep.label, "stats": asdict(perf), "rolls": len(rep.rolls),
                "units": {"equity": "index level, 100 at the start"}}
        if args.index is not None:
            real, _ = read_series_csv(args.index, args.index.name)
            try:
                out["tracking"] = asdict(tracking(equity, real))
            except ValueError as exc:
                raise UsageError(f"--index: {exc}") from None
    else:
        tier = find_tier(load_tiers(args.tiers), args.tier)
        if args.roll and args.exit_days is None:
            raise UsageError("--roll needs --exit-days (the days before expiry the condor is closed and rolled)")
        management = ExitRules(args.profit_target, args.stop,
                                   None if args.exit_days is None else int(args.exit_days), bool(args.roll))
        rules = bt.HedgeSettings(contingent=args.contingent, sizing=args.hedge_sizing)
        contracts = None if args.contracts is None else int(args.contracts)
        config = bt.BacktestConfig(strategy=args.strategy, tier=tier, capital=args.capital, risk_pct=args.risk_pct,
                                   contracts=contracts, costs=costs, management=management, hedge=rules,
                                   div=args.div, sizing=args.sizing, synthetic_hedge=args.synthetic_hedge,
                                   settlement=args.settlement, smaller_match=args.smaller_match)
        schemes = ("none",) if args.hedge == "none" else ("none", args.hedge)
        result = bt.run_backtest(window, config, schemes, smaller=args.hedge != "none")
        equity = result.equity[args.hedge]
        book = result.condors[args.hedge]
        traded = result.hedges[args.hedge].trades if args.hedge != "none" else None
        bought = traded[traded["contracts"] > 0] if traded is not None else None
        bills = studies.tbill_cagr(window)
        summaries = {name: result.summary(name) | {"excess_cagr": studies.excess(result.summary(name)["cagr"], bills)}
                     for name in result.equity}
        out |= {"tier": tier.name, "hedge": args.hedge, "capital": args.capital,
                "tbills": {"cagr": bills, "meaning": "the account in 3-month T-bills alone, yearly growth"},
                "config": {"sizing": config.sizing, "hedge_sizing": rules.sizing, "capital": config.capital,
                           "risk_pct": 100.0 * config.risk_share, "contracts": config.contracts,
                           "synthetic_hedge": config.synthetic_hedge, "settlement": config.settlement,
                           "smaller_match": config.smaller_match},
                "stats": summaries[args.hedge],
                "schemes": summaries,
                "smaller_scale": result.smaller_scale,
                "condors": int(book.entry.size),
                "condors_without_contract": int((book.contracts == 0).sum()),
                "condors_wide_wings": int(bt.wide_wings(window, book, config).sum()),
                "hedge_trades": int(len(bought)) if bought is not None else 0,
                "hedge_starts": (str(pd.Timestamp(bought["bought"].min()).date()) if bought is not None and len(bought)
                                 else None),
                "units": {"equity": "dollars", "hedge_drag_pct": "hedge P/L per year, % of capital",
                          "contracts": "SPX-sized condors; tenths are XSP"}}
    if args.strategy not in REPLICAS:
        from alvh_core.history.replicas import model_checks, model_checks_dict

        panel = history.panel
        out["model_checks"] = model_checks_dict(model_checks(market, panel.get("cndr"), panel.get("vxth")))
        if args.hedge != "none":
            out["per_year"] = _records(studies.per_year(result, args.hedge))
        if args.sensitivity and args.hedge != "none":
            out["sensitivity"] = _records(studies.sensitivity(window, config, args.hedge))
        if args.frontier:
            schemes_tried = ("alvh", "single", "static10", "vxth") if args.hedge == "none" else (args.hedge,)
            front = studies.frontier(window, config, schemes_tried, risk=args.frontier_risk)
            out["frontier"] = _records(front.points)
            out["smaller"] = _records(front.smaller)
            out["frontier_note"] = front.sentence()
        if args.start_dates is not None:
            starts = list(dict.fromkeys([*studies.START_DATES, *(d.isoformat() for d in args.start_dates)]))
            out["start_dates"] = _records(studies.start_date_table(window, config, schemes, starts))
    if getattr(args, "trades_out", None) is not None:
        if args.strategy in REPLICAS:
            raise UsageError("--trades-out: the replicas have no trade list; use --out for the index level")
        try:
            bt.trades_frame(result, args.hedge).to_csv(args.trades_out, index=False)
        except OSError as exc:
            raise UsageError(f"--trades-out {args.trades_out}: {exc.strerror or 'cannot be written'}") from None
        out["trades_out"] = str(args.trades_out)
    if args.out is not None:
        frame = pd.DataFrame({"date": equity.index.strftime("%Y-%m-%d"), "equity": equity.to_numpy().round(6)})
        try:
            frame.to_csv(args.out, index=False)
        except OSError as exc:
            raise UsageError(f"--out {args.out}: {exc.strerror or 'cannot be written'}") from None
        out["out"] = str(args.out)
    return out


def _add_trade_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--underlying", choices=UNDERLYINGS, default="auto",
                   help="SPX, XSP (one tenth), or auto: SPX when whole SPX condors use 3/4 of the budget or more")
    p.add_argument("--fill-share", type=_number("--fill-share", bounds=(0.0, 1.0)), default=DEFAULT_FILL_SHARE,
                   help="share of the way from mid (0) to natural (1) the condor fills")
    p.add_argument("--hedge-sizing", choices=SIZING_MODES, default=DEFAULT_SIZING,
                   help="to the condor position: the band's %% of 20 × its max loss (default); notional: seed "
                        "001's rule, the band's %% of the strategy notional; contract: per condor contract")
    g = p.add_argument_group("the 2 % gate (risk above 1 % needs all four checks)")
    g.add_argument("--override-gate", action="store_true",
                   help="size at the risk asked even where the 2 %% gate holds it back (said in the output)")
    g.add_argument("--rsi-vix", type=_number("--rsi-vix", bounds=(0.0, 100.0)),
                   help="RSI(14) of VIX where the history has too little VIX to compute it")
    g.add_argument("--breadth", choices=("falling", "not-falling"),
                   help="the breadth proxy (RSP/SPY) where there is no breadth data; unknown otherwise")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m alvh_core", description="ALVH Studio engine: JSON on stdout.")
    parser.add_argument("--version", action="version", version=f"alvh_core {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("price", help="price and greeks of one option")
    p.add_argument("--model", choices=("bsm", "black76"), default="bsm")
    p.add_argument("--kind", choices=("call", "put"), required=True)
    p.add_argument("--spot", type=_positive("--spot"))
    p.add_argument("--forward", type=_positive("--forward"))
    p.add_argument("--strike", type=_positive("--strike"), required=True)
    p.add_argument("--days", type=_number("--days"))
    p.add_argument("--years", type=_number("--years"))
    p.add_argument("--rate", type=_number("--rate"), default=0.0)
    p.add_argument("--div", type=_number("--div"), default=0.0)
    p.add_argument("--vol", type=_number("--vol"), required=True)
    p.set_defaults(run=cmd_price)

    p = sub.add_parser("vol", help="model implied vols for strikes")
    _add_market_args(p)
    p.add_argument("--days", type=_positive("--days"), required=True)
    p.add_argument("--strikes", type=_strike_list, required=True)
    p.set_defaults(run=cmd_vol)

    for name, run, help_text in (("plan", cmd_plan, "one tier's condor, sized"),
                                 ("tiers", cmd_tiers, "all tiers side by side")):
        p = sub.add_parser(name, help=help_text)
        _add_market_args(p)
        p.add_argument("--tiers", type=Path, help="CSV tier table (default: the built-in one)")
        p.add_argument("--selection", choices=SELECTIONS, default="pop")
        p.add_argument("--risk-budget", type=_positive("--risk-budget"), help="dollars")
        if name == "plan":
            p.add_argument("--tier", help="the tier (required unless --scenario sets it)")
            p.add_argument("--notional", type=_positive("--notional"), default=DEFAULT_NOTIONAL)
            p.add_argument("--risk-pct", type=_positive("--risk-pct"))
            p.add_argument("--measure", choices=ALL_MEASURES, default="max_loss")
            p.add_argument("--days", type=_positive("--days"), help="override the tier's days to expiry")
            _add_trade_args(p)
            p.add_argument("--hedge", choices=("alvh", "static10", "single", "vxth", "none"), default="alvh")
            p.add_argument("--contingent", choices=("always", "stress"), default="always",
                           help="tail layer always on, or only when the stress trigger fires")
            g = p.add_argument_group("your own position (edits to the tier's)")
            g.add_argument("--strikes", help="the condor's strikes LP/SP/SC/LC in SPX points, on the listed grid")
            g.add_argument("--expiry", help="the condor's listed expiry (YYYY-MM-DD)")
            g.add_argument("--contracts", type=_positive("--contracts"),
                           help="a fixed number of condors instead of sizing by the budget")
            g.add_argument("--limit", type=_number("--limit", bounds=(-10_000.0, 10_000.0)),
                           help="net limit credit per condor, in the product's points")
            g.add_argument("--add-leg", action="append", metavar="LEG",
                           help="add a hedge leg: V+3C25@2026-01-21 (buy 3 VIX 25 calls) or S+1P5000@2026-03-20 "
                                "(buy 1 SPX 5000 put); repeat for more")
            g.add_argument("--drop-layer", action="append", choices=("base", "adaptive", "tail", "single", "vxth"),
                           help="leave a hedge layer out; repeat for more")
            g.add_argument("--prices", choices=("auto", "model"), default="auto",
                           help="auto: the condor at the quotes of --data-dir/chains/spx_quotedata_<asof>.csv when "
                                "there is one; model: model prices")
            g.add_argument("--scenario", type=Path, help="a scenario file saved by the Builder (JSON)")
        p.set_defaults(run=run)

    p = sub.add_parser("stress", help="a position after an SPX move, with the fitted VIX response")
    _add_market_args(p)
    p.add_argument("--spx-move", type=_number("--spx-move"), help="SPX move in percent (e.g. -10)")
    p.add_argument("--days", dest="trading_days", type=_positive("--days", STRESS_DAYS),
                   help="trading days the move takes (default 5)")
    p.add_argument("--episode", help="a real fall: " + ", ".join(e.key for e in EPISODES)
                   + " (with --data-dir: the book built on its first day, marked at its last)")
    p.add_argument("--tiers", type=Path, help="CSV tier table (default: the built-in one)")
    p.add_argument("--tier", default="Moderate")
    p.add_argument("--selection", choices=SELECTIONS, default="pop")
    p.add_argument("--notional", type=_positive("--notional"), default=DEFAULT_NOTIONAL)
    p.add_argument("--risk-budget", type=_positive("--risk-budget"), help="dollars")
    p.add_argument("--risk-pct", type=_positive("--risk-pct"))
    p.add_argument("--measure", choices=ALL_MEASURES, default="max_loss")
    p.add_argument("--hedge", choices=("alvh", "static10", "single", "vxth", "none"), default="alvh")
    p.add_argument("--contingent", choices=("always", "stress"), default="always")
    _add_trade_args(p)
    p.set_defaults(run=cmd_stress, days=None)

    p = sub.add_parser("backtest", help="condors and hedge schemes over history (model-priced)")
    p.add_argument("--data-dir", type=Path, help="folder of Cboe *_History.csv files (SPX, VIX; DTB3 for T-bills)")
    p.add_argument("--start", help="first day (YYYY-MM-DD); default the history's first")
    p.add_argument("--end", help="last day (YYYY-MM-DD); default the history's last")
    p.add_argument("--strategy", choices=("daily", "weekly", "monthly", "cndr", "vxth"), default="daily",
                   help="condors entered daily/weekly/monthly, or a replica of Cboe's CNDR or VXTH index")
    p.add_argument("--tiers", type=Path, help="CSV tier table (default: the built-in one)")
    p.add_argument("--tier", default="Moderate")
    p.add_argument("--hedge", choices=("alvh", "static10", "single", "vxth", "none"), default="alvh")
    p.add_argument("--hedge-sizing", choices=SIZING_MODES, default=DEFAULT_SIZING)
    p.add_argument("--contingent", choices=("always", "stress"), default="always")
    p.add_argument("--capital", type=_positive("--capital"), default=DEFAULT_NOTIONAL,
                   help="the account at the start, dollars (default: the strategy notional every page shares)")
    p.add_argument("--sizing", choices=("equity", "fixed"), default="equity",
                   help="equity: each entry risks its share of the account as it is that day (XSP tenths from "
                        "2005-10-25); fixed: the starting capital's")
    p.add_argument("--settlement", choices=("open", "close"), default="open",
                   help="open: VIX options at the VIX open of their expiry day, A.M. SPX expiries at the SPX open, "
                        "where the history has real opens (else the close before); close: every expiry at the close")
    p.add_argument("--start-dates", nargs="*", type=lambda t: _date_arg(t, "--start-dates"), metavar="DATE",
                   help="add the start-date table: the same run from 1990-01-02, 2006-02-24, 2008-11-20, "
                        "2013-01-02 and the dates given, to --end")
    p.add_argument("--sensitivity", action="store_true",
                   help="add the sensitivity table: the run with the VIX-option vol x0.8 and x1.2, call skew 0 and x2, "
                        "VIX half spread floor 0.025 and 0.10, settlement at the close; each against trading smaller")
    p.add_argument("--frontier", action="store_true",
                   help="add the frontier: the hedge at 0 to 3x its rule's size (every scheme with --hedge none), "
                        "each point's excess over T-bills against its risk, beside the unhedged condors at 0 to 3x "
                        "their size ('trade smaller')")
    p.add_argument("--frontier-risk", choices=("drawdown", "cvar"), default="drawdown",
                   help="the frontier's risk axis: max drawdown, or the CVaR 95 %% of the worst weeks")
    p.add_argument("--smaller-match", choices=("drawdown", "cvar", "premium"), default="drawdown",
                   help="'trade smaller' is the unhedged condor scaled to the hedged book's max drawdown (default), "
                        "to the CVaR 95 %% of its weekly returns, or cut by the share of credit the premium took")
    p.add_argument("--synthetic-hedge", action="store_true",
                   help="buy model-priced VIX calls before VIX options were listed (2006-02-24); labeled synthetic")
    p.add_argument("--risk-pct", type=_positive("--risk-pct", (0.0, 100.0)),
                   help="max loss per entry, %% of capital (default: 0.4 daily, 2 weekly, 8 monthly)")
    p.add_argument("--contracts", type=_positive("--contracts"),
                   help="a fixed number of contracts per entry instead")
    p.add_argument("--fill-share", type=_number("--fill-share", bounds=(0.0, 1.0)), default=DEFAULT_FILL_SHARE)
    p.add_argument("--commission", type=_number("--commission"), default=1.0,
                   help="dollars per option contract, each way")
    p.add_argument("--slippage", type=_number("--slippage"), default=0.0,
                   help="index points per SPX leg, each way")
    p.add_argument("--profit-target", type=_number("--profit-target", positive=True),
                   help="close at this share of the credit kept (0.5 = half)")
    p.add_argument("--stop", type=_number("--stop", positive=True),
                   help="close when the loss reaches this multiple of the credit")
    p.add_argument("--exit-days", type=_number("--exit-days"),
                   help="close this many calendar days before expiry")
    p.add_argument("--roll", action="store_true",
                   help="with --exit-days: open the next condor the day one is closed (weekly, monthly)")
    p.add_argument("--div", type=_number("--div"), default=0.019,
                   help="S&P 500 dividend yield, decimal")
    p.add_argument("--costs", action="store_true", help="replicas: trade at the fill model, not the index's mids")
    p.add_argument("--index", type=Path, help="replicas: the real index CSV (Cboe CNDR_History.csv / VXTH_History.csv)")
    p.add_argument("--out", type=Path, help="write the daily equity curve (date,equity) to this CSV")
    p.add_argument("--trades-out", type=Path,
                   help="write every condor and hedge trade of --hedge's run to this CSV (kind, layer, bought, sold, "
                        "expiry, strike, contracts, price, cost, max_loss)")
    p.set_defaults(run=cmd_backtest)

    p = sub.add_parser("regime", help="today's VIX regime, signals and hedge budget")
    p.add_argument("--data-dir", type=Path, help="folder of Cboe *_History.csv files (else live, then cache)")
    p.add_argument("--asof", help="date (YYYY-MM-DD); default the latest")
    p.set_defaults(run=cmd_regime)

    p = sub.add_parser("calibrate", help="re-derive the fitted constants")
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(run=cmd_calibrate)

    for action in sub.choices.values():
        action.add_argument("--json", action="store_true", help="JSON output (the only format)")
    return parser


def _one_line(message: object) -> str:
    """Error text safe for one terminal line: control characters escaped."""
    text = str(message)
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        result = args.run(args)
    except UsageError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (ValueError, KeyError, HistoryFormatError, TierTableError, FileNotFoundError) as exc:
        message = exc.args[0] if exc.args else exc.__class__.__name__
        print(f"error: {_one_line(message)}", file=sys.stderr)
        return 2
    except Exception as exc:  # never a traceback on the terminal
        print(f"error: internal error ({exc.__class__.__name__}: {_one_line(exc)})", file=sys.stderr)
        return 1
    try:
        json.dump(_clean(result), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (e.g. "| head"): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
