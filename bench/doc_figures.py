"""The figures the docs quote, printed by the command line on the real data, so none can go stale.

    python -m bench.doc_figures            # print every block
    python -m bench.doc_figures --check    # exit 1 naming each block of docs/*.md that differs (the tests run it)
    python -m bench.doc_figures --write    # rewrite the blocks in docs/*.md

A block in a doc is the text between ``<!-- figures:NAME -->`` and ``<!-- /figures -->``; NAME is one of
``BLOCKS``.  Each is computed with the same functions ``python -m alvh_core`` runs (the commands are printed
in the block's comment), on the data folder of ``ALVH_DATA_DIR`` (default ``../shared/data``).
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from alvh_core.cli import commands as cli

ROOT = Path(__file__).resolve().parents[1]

DOCS = ROOT / "docs"
README = ROOT / "README.md"


def documents() -> list[Path]:
    """The files whose figures blocks the engine writes: docs/*.md and the README."""
    return [*sorted(DOCS.glob("*.md")), *([README] if README.is_file() else [])]
EPISODES = ("2015-08", "2018-02", "2020-02", "2020-03", "2024-08")
DAILY_SCHEMES = ("alvh", "single", "static10", "vxth")
BLOCK = re.compile(r"(<!-- figures:(?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /figures -->)", re.S)


def data_dir() -> str:
    return os.environ.get("ALVH_DATA_DIR") or str(ROOT.parent / "shared" / "data")


def _run(argv: list[str]) -> dict:
    args = cli.build_parser().parse_args(argv)
    return cli._clean(args.run(args))


def _money(x: float) -> str:
    text = f"${abs(x):,.0f}"
    return ("−" if x < 0 and round(abs(x)) > 0 else "+") + text


def episodes() -> str:
    """The stress table of docs/cli.md: Moderate condors, $5,000 of risk, ALVH, each episode replayed."""
    rows = ["| episode | VIX then | model p10–p90 (median) | book at the real VIX | book at the model median |",
            "|---|---|---|---|---|"]
    for key in EPISODES:
        out = _run(["stress", "--data-dir", data_dir(), "--episode", key, "--risk-budget", "5000"])
        vix, ep = out["vix"], out["episode"]
        label = ep["label"].split(" (")[0]
        rows.append(f"| {label} | {ep['vix'][0]:.2f} → {ep['vix'][1]:.2f} | {vix['p10']:.1f}–{vix['p90']:.1f} "
                    f"({vix['median']:.1f}) | {_money(out['actual']['combined'])} | "
                    f"{_money(out['pnl']['median']['combined'])} |")
    command = f"python -m alvh_core stress --data-dir DATA --episode {{{','.join(EPISODES)}}} --risk-budget 5000"
    return f"<!-- {command} -->\n" + "\n".join(rows) + "\n"


def _pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f} %".replace("-", "−")


def backtest_daily() -> str:
    """The daily-condor results table of docs/how-the-numbers-are-made.md: Moderate, $100,000, defaults."""
    rows = ["| daily condors | CAGR | volatility | Sharpe | max drawdown | Calmar | worst month | hedge P/L a year "
            "| hedge in the 10 worst weeks |", "|---|---|---|---|---|---|---|---|---|"]
    from alvh_core.strategy.hedge import SCHEME_LABELS as names
    smaller = None
    for i, scheme in enumerate(DAILY_SCHEMES):
        out = _run(["backtest", "--data-dir", data_dir(), "--strategy", "daily", "--tier", "moderate",
                    "--hedge", scheme])
        if i == 0:
            rows.append(_stats_row(names["none"], out["schemes"]["none"], hedged=False))
            smaller = out
        rows.append(_stats_row(names[scheme], out["stats"], hedged=True))
    scale = smaller.get("smaller_scale")
    label = (f"Trade smaller: no hedge at {names[DAILY_SCHEMES[0]]}'s max drawdown (risk × {scale:.2f})"
             if scale is not None else "Trade smaller")
    rows.append(_stats_row(label, smaller["schemes"]["smaller"], hedged=False))
    command = ("python -m alvh_core backtest --data-dir DATA --strategy daily --tier moderate "
               f"--hedge {{{','.join(DAILY_SCHEMES)}}}")
    return f"<!-- {command} -->\n" + "\n".join(rows) + "\n"


def _stats_row(name: str, s: dict, hedged: bool) -> str:
    cells = [name, _pct(s["cagr"]), _pct(s["volatility"]), f"{s['sharpe']:.2f}".replace("-", "−"),
             _pct(s["max_drawdown"], 1), f"{s['calmar']:.2f}", _pct(s["worst_month"])]
    if hedged:
        cells += [f"{s['hedge_drag_pct']:.2f} %".replace("-", "−"), _money(s["worst_weeks_hedge_pnl"])]
    else:
        cells += ["", ""]
    return "| " + " | ".join(cells) + " |"


def backtest_monthly() -> str:
    """The monthly line under that table: no hedge, ALVH and trading smaller."""
    out = _run(["backtest", "--data-dir", data_dir(), "--strategy", "monthly", "--tier", "moderate",
                "--hedge", "alvh"])
    s = out["schemes"]
    line = (f"Monthly condors: no hedge {_pct(s['none']['cagr'])} a year (max drawdown "
            f"{_pct(s['none']['max_drawdown'], 1)}), ALVH {_pct(s['alvh']['cagr'])} "
            f"({_pct(s['alvh']['max_drawdown'], 1)}), no hedge at ALVH's max drawdown (risk × "
            f"{out['smaller_scale']:.2f}) {_pct(s['smaller']['cagr'])} ({_pct(s['smaller']['max_drawdown'], 1)}).")
    command = "python -m alvh_core backtest --data-dir DATA --strategy monthly --tier moderate --hedge alvh"
    return f"<!-- {command} -->\n{line}\n"


def _indented(text: str) -> str:
    """A block inside a list item: each line, and the closing marker after it, two spaces in."""
    return "".join("  " + line for line in text.splitlines(True)) + "  "


_CALIBRATION: dict = {}


def _calibration() -> dict:
    if not _CALIBRATION:
        _CALIBRATION.update(_run(["calibrate", "--data-dir", data_dir()]))
    return _CALIBRATION


def _share(x: float) -> str:
    return f"{100 * x:.0f} %"


def spot_vol() -> str:
    """How often the spot–vol link's 10–90 % band held the real falls (docs/how-the-numbers-are-made.md)."""
    cal = _calibration()
    link = cal["spot_vol_link"]
    groups = ("calm (VIX < 20)", "elevated (20-30)", "stressed (VIX >= 30)")
    rows = ["| falls | all | calm start (VIX < 20) | 20–30 | stressed (≥ 30) |", "|---|---|---|---|---|"]
    for key, span in (("1d", "in a day"), ("5d", "in 5 days")):
        fit = link[key]
        cover = fit["coverage"]
        rows.append(f"| ≥ {fit['crash_fall_pct']:g} % {span} ({cover['all']['falls']}) | "
                    f"{_share(cover['all']['inside'])} inside | "
                    + " | ".join(f"{_share(cover[g]['inside'])} of {cover[g]['falls']}" for g in groups) + " |")
    odd = [link[k]["holdout_coverage"]["fit on odd years, checked on even years"]["all"]["inside"] for k in ("1d", "5d")]
    early = [link[k]["holdout_coverage"]["fit before 2013, checked from 2013"]["all"]["inside"] for k in ("1d", "5d")]
    elasticity = {str(k): v for k, v in cal["vvix_response"]["elasticity"].items()}["5"]
    vvix = cal["vvix_response"]
    one = link["1d"]
    horizons = [f"{link[k]['horizon']}-" for k in link]
    fall = {vix: _run(["stress", "--spx", "5000", "--vix", str(vix), "--spx-move", "-3", "--days", "1",
                       "--tier", "moderate"])["vix"]["median"] / vix for vix in FALL_FROM}
    intro = (f"Fitted on every {', '.join(horizons[:-1])} and {horizons[-1]}day window of "
             f"{one['first'][:4]}–{one['last'][:4]}.\nThe same 3 % fall in a day moves VIX "
             + " and ".join(f"×{ratio:.2f} from {vix}" for vix, ratio in fall.items())
             + ", and the band widens with\nthe move. On the real falls:\n\n")
    text = (intro + "\n".join(rows) + "\n\n"
            f"Fitted on odd years and checked on even years' falls: {_share(odd[0])} (1 day) and {_share(odd[1])} "
            f"(5 days). Fitted on 1990–2012 alone it covers only {_share(early[0])} / {_share(early[1])} of the\n"
            "falls since 2013 (VIX has answered falls harder since), so the constants\n"
            f"use every year. VIX-option vols move with VIX as VVIX does (elasticity\n"
            f"{elasticity:.3f}, fitted on {vvix['first'][:4]}–{vvix['last'][:4]} VVIX).\n")
    command = ("<!-- python -m alvh_core calibrate --data-dir DATA: spot_vol_link, vvix_response; python -m alvh_core "
               f"stress --spx 5000 --vix {{{','.join(map(str, FALL_FROM))}}} --spx-move -3 --days 1 --tier moderate -->\n")
    return _indented(command + text)


#: The starting VIX levels of the docs' example fall.
FALL_FROM = (13, 45)


def futures_proxy() -> str:
    """The VIX futures proxy's errors against CFE settlements and its tenor betas."""
    fit = _calibration()["vix_futures_proxy"]
    curve = fit["error_by_curve"]
    calm, deep = curve["contango (VIX/VIX3M < 1)"], curve["deeply inverted (> 1.1)"]
    text = (f"inverted-curve factor exp({fit['backwardation']:.3f}·max(ln(VIX/VIX3M), 0)) fitted on the\n"
            f"inverted days. Against CFE settlements {fit['first'][:4]}–{fit['last'][:4]}: front month median error\n"
            f"{calm['vx1_median_abs']:.2f} points in contango ({calm['vx1_median_pct']:.1f} % of the future), "
            f"{deep['vx1_median_abs']:.2f} when VIX/VIX3M > 1.1\n"
            f"({deep['vx1_median_pct']:.1f} %); second month {calm['vx2_median_abs']:.2f} / "
            f"{deep['vx2_median_abs']:.2f}. Futures move {fit['tenor_beta_vx1']:.2f}× spot VIX at "
            f"{fit['mean_days_vx1']:.0f} days to expiry and {fit['tenor_beta_vx2']:.2f}× at\n"
            f"{fit['mean_days_vx2']:.0f} days.")
    eras = fit["error_by_era"]
    before, after = (eras[k] for k in ("before VIX3M (to 2009-09-17)", "with VIX3M (2009-09-18 on)"))
    text += (f" By era, the proxy as the backtest builds it (proxy − settlement, median): before VIX3M\n"
             f"({before['first']} … 2009-09-17, {before['days']:,} days) {_signed_first(before['vx1_median_error'])} "
             f"front / {_signed_first(before['vx2_median_error'])} second month, after it\n"
             f"{_signed_first(after['vx1_median_error'])} / {_signed_first(after['vx2_median_error'])}: the backtest "
             "marks the front and second months on the real settlements\nwhere the files have them and uses the "
             "proxy only beyond them (the tail layer) and after 2020-09.\n")
    return _indented("<!-- python -m alvh_core calibrate --data-dir DATA: vix_futures_proxy -->\n" + text)


def _signed_first(x: float) -> str:
    """A signed figure at the start of a phrase: "−0.77" or "+0.08"."""
    return f"{'−' if x < 0 else '+'}{abs(x):.2f}"


def _signed(x: float, digits: int) -> str:
    """A term after the first: "+ 0.438" or "− 0.580"."""
    return ("− " if x < 0 else "+ ") + f"{abs(x):.{digits}f}"


def _minus(x: float, digits: int) -> str:
    return f"{x:.{digits}f}".replace("-", "−")


def vol_fit() -> str:
    """The vol model's fit to the two Cboe chains."""
    cal = _calibration()
    smile, atm = cal["skew_fit_error_vol_points"], cal["atm_fit_error_vol_points"]
    held = cal["skew_held_out_days"]
    out = ";\n".join(f"fitted on {h['fitted_on']} alone, {h['checked_on']} is priced to {h['rmse_skew_tied']:.2f} "
                      f"with the tie, {h['rmse_fixed_shape']:.2f} without" for h in held)
    text = (f"forwards, each day's skew terms scaled by its SKEW reading): **{smile['rmse']:.2f} vol points RMSE** on "
            f"{smile['count']:,}\nOTM options of 5–50 delta and 7–70 days (90th percentile {smile['p90_abs']:.2f}, "
            f"max {smile['max_abs']:.2f}); ATM level from\nthe VIX family within {atm['rmse']:.2f} vol points RMSE. "
            f"Held out:\n{out}\n(vol points RMSE).\n")
    return _indented("<!-- python -m alvh_core calibrate --data-dir DATA: skew_fit_error_vol_points, "
                     "atm_fit_error_vol_points, skew_held_out_days -->\n" + text)


def fills() -> str:
    """The half-spread model and the slippage depth, fitted on the two chains."""
    cal = _calibration()
    b, depth = cal["bid_ask_spreads"], cal["slippage_depth"]
    ratios = b["sum_ratio_by_delta"].values()
    credits = cal["natural_credits"]
    condors = sum(c["condors"] for c in credits.values())
    per_chain = " and ".join(f"{c['model_over_market']:.3f}× ({day})" for day, c in credits.items())
    text = (f"exp({_minus(b['intercept'], 2)} {_signed(b['log_mid'], 3)}·ln(mid) {_signed(b['delta'], 3)}·|delta| "
            f"{_signed(b['call'], 3)}·[call] {_signed(b['log_vix'], 3)}·ln(VIX/20))\n"
            f"points, fitted on {b['options']:,} OTM options of the two chains (residual {b['residual_sd']:.2f} log\n"
            f"points; summed model/market spreads {min(ratios):.2f}–{max(ratios):.2f} by delta bucket). "
            f"The natural\ncredits (sold at the bid, bought at the ask) of the chains' own {condors} condors (short\n"
            "strikes at 10/15/20 delta, 25- and 50-point wings, 7–60 days) come out at\n"
            f"{per_chain} of the market's on average. "
            "Credit, max loss, sizing and expected P/L use the chosen fill;\n"
            "the size-dependent slippage of the scale table comes on top: the square-root\n"
            f"law of market impact, half spread × (1 + √(contracts / {depth['depth']:,.0f})), {depth['depth']:,.0f} "
            "being\nthe median day's volume of one side of one expiry's 5–50-delta options\n"
            f"14–60 days out on the two chains ({depth['groups']} groups, quartiles {depth['p25']:,.0f} and "
            f"{depth['p75']:,.0f}); the\nlaw's coefficient of one is an assumption (no fills by size in the files).\n")
    return _indented("<!-- python -m alvh_core calibrate --data-dir DATA: bid_ask_spreads, natural_credits, "
                     "slippage_depth -->\n" + text)


SIMULATOR_ROWS = (  # (label, statistics, format)
    ("VIX mean / median", ("VIX mean", "VIX median"), "{:.2f}"),
    ("VIX 5th / 95th / 99th percentile", ("VIX 5th pct", "VIX 95th pct", "VIX 99th pct"), "{:.2f}"),
    ("share of days VIX > 30", ("share of days VIX > 30",), "pct2"),
    ("shock half-life of ln VIX (days)", ("shock half-life (days)",), "{:.1f}"),
    ("SPX volatility (annual)", ("SPX volatility (annual)",), "pct1"),
    ("SPX 1st / 0.1th percentile day", ("SPX 1st pct day", "SPX 0.1th pct day"), "pct2"),
    ("SPX 1st percentile week", ("SPX 1st pct week",), "pct2"),
    ("SPX skew / excess kurtosis", ("SPX skew", "SPX excess kurtosis"), "skew"),
    ("spot–vol slope (ln VIX per implied move)", ("spot-vol slope (ln VIX per implied move)",), "{:.4f}"),
    ("VIX ratio on days SPX falls > 2 implied moves", ("VIX ratio on days SPX falls > 2 implied moves",), "{:.3f}"),
)


def simulator() -> str:
    """Thirty simulated histories (seed 7) beside the real one: the table the simulator's test holds."""
    from alvh_core.data.closes import load_history_folder
    from alvh_core.model.simulator import compare_with_history, simulate_paths

    frame = load_history_folder(data_dir()).panel[["spx", "vix"]].dropna()
    spx, vix = frame["spx"].to_numpy(), frame["vix"].to_numpy()
    table = compare_with_history(spx, vix, simulate_paths(float(spx[0]), float(vix[0]), len(spx) - 1, 30, seed=7))
    table = table.set_index("statistic")

    def cell(column: str, names: tuple, fmt: str) -> str:
        values = [float(table.loc[name, column]) for name in names]
        if fmt.startswith("pct"):
            return " / ".join(_pct(v, int(fmt[3:])) for v in values)
        if fmt == "skew":
            return f"{values[0]:.2f} / {values[1]:.1f}".replace("-", "−")
        return " / ".join(fmt.format(v).replace("-", "−") for v in values)

    rows = ["| statistic | history | simulated |", "|---|---|---|"]
    rows += [f"| {label} | {cell('history', names, fmt)} | {cell('simulated', names, fmt)} |"
             for label, names, fmt in SIMULATOR_ROWS]
    return _indented("<!-- python -m bench.doc_figures: alvh_core.model.simulator.compare_with_history, 30 paths, seed 7 -->\n"
                     + "\n".join(rows) + "\n")


def model_check() -> str:
    """A Moderate condor at mid on the shipped market: expected P/L under the smile's density and under
    the one-vol lognormal."""
    from alvh_core.model.distributions import smile_density
    from alvh_core.model.market import DEFAULT_MARKET
    from alvh_core.strategy.condor import build_condor, condor_metrics
    from alvh_core.strategy.tiers import find_tier, load_tiers

    vol_model = DEFAULT_MARKET.vol_model()
    condor = build_condor(DEFAULT_MARKET, find_tier(load_tiers(), "Moderate"), vol_model=vol_model, fill_share=0.0)
    smile = condor_metrics(condor, smile_density(DEFAULT_MARKET, vol_model, condor.days)).expected_pl
    flat = condor_metrics(condor).expected_pl
    text = (f"probabilities agree: a Moderate condor at mid (the shipped market) expects {_dollars(smile)}\n"
            f"(the interest on its credit) where the one-vol lognormal says {_dollars(flat)};\n")
    return _indented("<!-- python -m bench.doc_figures: condor_metrics on the smile's density and on the "
                     "lognormal -->\n" + text)


def _dollars(x: float) -> str:
    return f"{'−' if round(x) < 0 else ''}${abs(x):,.0f}"


def seed_000() -> str:
    """Seed 000's contract ratio on the shipped market, $50,000, default tiers."""
    from alvh_core.model.market import DEFAULT_MARKET
    from alvh_core.strategy.sizing import MEASURE_LABELS, MEASURES, compare_tiers
    from alvh_core.strategy.tiers import load_tiers

    ratio = compare_tiers(DEFAULT_MARKET, load_tiers(), 50_000).ratio
    holds = [m for m in MEASURES if ratio[m] is not None and 1.8 <= ratio[m] <= 2.2]
    by_value: dict[str, list[str]] = {}
    for m in MEASURES:
        by_value.setdefault("n/a" if ratio[m] is None else f"{ratio[m]:.2f}×", []).append(MEASURE_LABELS[m])
    listed = ", ".join(f"{value} under {' and '.join(names)}" for value, names in by_value.items())
    verdict = ("under none of them" if not holds else "under " + " and ".join(MEASURE_LABELS[m] for m in holds))
    text = (f"default tiers and the shipped market it holds {verdict} ({listed}, on SPX\n"
            "condors at the default fill): wider wings cost more per contract.\n")
    return _indented("<!-- python -m alvh_core tiers (the shipped market, --risk-budget 50000); "
                     "alvh_core.strategy.sizing.compare_tiers -->\n" + text)


#: Published levels of the real indexes the replicas are checked against (not in the data folder):
#: CNDR 771.31 (29 Jan 2010) to 713.49 (14 Jan 2019) on Cboe's dashboard; VXTH +98.6 % in the five years to
#: October 2023 (Cboe Index Insights, 6 Nov 2023); CNDR 6.57 % a year 1988–2019 (Cboe's CNDR paper).
CNDR_2010, CNDR_2019, VXTH_FIVE_YEARS, CNDR_LONG = 771.31, 713.49, 0.986, 0.0657


def replicas_table() -> str:
    """The replicas of Cboe's CNDR and VXTH against the indexes' published figures."""
    import pandas as pd

    from alvh_core.data.closes import load_history_folder
    from alvh_core.history.backtest import market_arrays
    from alvh_core.history.replicas import cndr_replica, vxth_replica
    from alvh_core.history.stats import performance

    m = market_arrays(load_history_folder(data_dir()).panel)
    cndr, vxth = cndr_replica(m).level, vxth_replica(m.window("2006-03-01", None)).level

    def on(level, day):
        return float(level.loc[:day].iloc[-1])

    start, end = pd.Timestamp("2010-01-29"), pd.Timestamp("2019-01-14")
    years = (end - start).days / 365.25
    ours = (on(cndr, end) / on(cndr, start)) ** (1 / years) - 1
    theirs = (CNDR_2019 / CNDR_2010) ** (1 / years) - 1
    five = on(vxth, "2023-10-31") / on(vxth, "2018-10-31") - 1
    whole, vx = performance(cndr), performance(vxth)
    plus = lambda x, digits=2: _pct(x, digits) if x < 0 else "+" + _pct(x, digits)  # noqa: E731
    rows = ["| replica | window | replica | real index | gap |", "|---|---|---|---|---|",
            f"| CNDR | Jan 2010 → Jan 2019, a year | {plus(ours)} | {_pct(theirs)} ({CNDR_2010} → {CNDR_2019}) | "
            f"{100 * (ours - theirs):+.1f} points |".replace("+-", "−").replace("-", "−"),
            f"| CNDR | {cndr.index[0]:%Y} → {cndr.index[-1]:%Y}, a year | {_pct(whole.cagr)} (max drawdown "
            f"{_pct(whole.max_drawdown, 1)}) | {_pct(CNDR_LONG)} a year 1988–2019 | not the same window |",
            f"| VXTH | Oct 2018 → Oct 2023, total | {plus(five, 1)} | +{_pct(VXTH_FIVE_YEARS, 1)} (Cboe, Nov 2023) | "
            f"{100 * (five - VXTH_FIVE_YEARS):+.1f} points |".replace("-", "−"),
            f"| VXTH | {vxth.index[0]:%b %Y} → {vxth.index[-1]:%b %Y}, a year | {_pct(vx.cagr)} (max drawdown "
            f"{_pct(vx.max_drawdown, 1)}) | | |"]
    return _indented("<!-- python -m bench.doc_figures: alvh_core.history.replicas on the data folder; the indexes' "
                     "published figures -->\n" + "\n".join(rows) + "\n")


REGIME_DAYS = ("2020-03-16", "2017-05-09")


def regime_days() -> str:
    """The regime, stress score and hedge budget on two days of the history."""
    crash, calm = (_run(["regime", "--data-dir", data_dir(), "--asof", day]) for day in REGIME_DAYS)
    text = (f"On {crash['asof']} (VIX {crash['vix']:.2f},\n"
            f"VIX9D {crash['vix9d']:.2f} over VIX3M {crash['vix3m']:.2f}) the score is {crash['stress_score']:.2f} "
            f"and the budget {crash['hedge_budget_pct']:.1f} %; on\n"
            f"{calm['asof']} (VIX {calm['vix']:.2f}) the regime is {calm['regime']}.\n")
    command = f"python -m alvh_core regime --data-dir DATA --asof {{{','.join(REGIME_DAYS)}}}"
    return _indented(f"<!-- {command} -->\n" + text)


def listed() -> str:
    """The VIX expiry calendar against the VX1 file's roll days; the dividend yields of the chain days."""
    from alvh_core.model.market import DEFAULT_MARKET

    cal = _calibration()
    check = cal["vix_expiries"]
    missed = check["expiries"] - check["matching_roll_days"]
    plans = {day: _run(["plan", "--tier", "moderate", "--data-dir", data_dir(), "--asof", day]) for day in cal["chains"]}
    divs = ", ".join(f"{100 * out['market']['div']:.2f} % on {day}" for day, out in plans.items())
    text = (f"Of the {check['expiries']} VIX expiries {check['first'][:4]}–{check['last'][:4]} the calendar gives, "
            f"{check['matching_roll_days']} are roll days of the\nVX1 file (the other {missed} fall on gaps or "
            "ambiguous rows of the file). Dividends on\nchain days come from the parity forwards "
            f"({divs}), else\n{100 * DEFAULT_MARKET.div:.2f} % (editable).\n")
    return _indented("<!-- python -m alvh_core calibrate --data-dir DATA: vix_expiries; python -m alvh_core plan "
                     "--tier moderate --data-dir DATA --asof DAY: market.div -->\n" + text)


def slippage() -> str:
    """The scale table's slippage with size (the engine's model and its fitted constants)."""
    from alvh_core.strategy.sizing import SlippageModel

    m = SlippageModel()
    text = (f"Slippage with size (the scale table): a half spread per leg of {m.base_half_spread:.2f} points (the "
            f"median\non the calibration chains) × VIX/{m.reference_vix:.2f} × (1 + {_impact(m.impact)}√(contracts / "
            f"{m.depth:,.0f})).\n")
    return _indented("<!-- alvh_core.strategy.sizing.SlippageModel; its constants re-derived by python -m alvh_core calibrate "
                     "--data-dir DATA: median_half_spread_points, slippage_depth -->\n" + text)


def _impact(x: float) -> str:
    return "" if x == 1 else f"{x:g}·"


def vix_vol() -> str:
    """The vol of VIX options: the ATM vol VVIX implies, decayed by tenor, with the call skew fitted on VXTH."""
    from alvh_core.model.fitted import VIX_VOL_DECAY
    from alvh_core.model.vixfutures import vix_atm_vol_30d

    fit = _calibration()["vix_call_skew"]
    text = (f"Vol of VIX at the money = the 30-day ATM vol whose smile has the variance-swap vol VVIX (VVIX 90:\n"
            f"{100 * float(vix_atm_vol_30d(90.0)):.1f} %) × (days/30)^−{VIX_VOL_DECAY:g} (the decay of realized vol "
            f"from VX1 to VX2), times the call\nskew 1 + {fit['call_skew']:g} · ln(K/F): the slope whose VXTH replica "
            f"follows Cboe's index closest over\n{fit['start']} to {fit['end']} ({fit['months']} months; monthly "
            f"correlation {fit['monthly_correlation']:.3f}, CAGR gap\n"
            f"{100 * fit['cagr_gap']:+.2f} points).\n".replace("-0.", "−0."))
    return _indented("<!-- python -m alvh_core calibrate --data-dir DATA: vix_call_skew; alvh_core.model.vixfutures -->\n"
                     + text)


def model_checks_table() -> str:
    """The two option models against the real Cboe indexes, as every backtest reports them."""
    out = _run(["backtest", "--data-dir", data_dir(), "--strategy", "monthly", "--hedge", "none", "--end",
                "1990-12-31"])["model_checks"]

    def gap(x: float) -> str:
        return f"{100 * x:+.2f} points".replace("-", "−")

    rows = ["| check | years | monthly correlation | CAGR, replica | CAGR, index | gap |", "|---|---|---|---|---|---|"]
    for t in out["cndr"]:
        rows.append(f"| CNDR (the SPX smile) | {t['start'][:4]}–{t['end'][:4]} | {t['monthly_correlation']:.3f} | "
                    f"{_pct(t['cagr_replica'])} | {_pct(t['cagr_index'])} | {gap(t['cagr_gap'])} |")
    vix = out["vix_options"]
    t = vix["tracking"]
    rows.append(f"| VXTH (the VIX options) | {t['start'][:4]}–{t['end'][:4]} | {t['monthly_correlation']:.3f} | "
                f"{_pct(t['cagr_replica'])} | {_pct(t['cagr_index'])} | {gap(t['cagr_gap'])} |")
    spikes = []
    for x in vix["spikes"]:
        if x["multiple_index"] is None:
            spikes.append(f"- {x['label']} (VIX {x['vix_at_peak']:.1f} on {x['peak']}): {x['note']}.")
        else:
            spikes.append(f"- {x['label']} (VIX {x['vix_at_peak']:.1f} on {x['peak']}): ×{x['multiple_index']:.1f} in "
                          f"the index, ×{x['multiple_replica']:.1f} in the replica" + (f"; {x['note']}." if x["note"]
                                                                                       else "."))
    text = ("\n".join(rows) + "\n\n"
            f"VXTH's calls in calm weeks ({vix['calm_weeks']} weeks of VIX under 20 and not rising) lose "
            f"{-vix['calm_decay_index_bp']:.1f} bp a week in\nthe index, {-vix['calm_decay_replica_bp']:.1f} "
            "in the replica. Per dollar of calls, from the roll to VIX's peak:\n\n" + "\n".join(spikes) + "\n")
    return "<!-- python -m alvh_core backtest --data-dir DATA --json: model_checks -->\n" + text


def offline_market() -> str:
    """The market the app opens on without live data or files (docs/data.md)."""
    from alvh_core.data.closes import closes_on, load_history_folder
    from alvh_core.model.market import DEFAULT_MARKET as m

    row = closes_on(load_history_folder(data_dir()), m.asof)
    text = (f"**Offline defaults**: SPX {m.spot:,.2f}, VIX {m.vix:.2f}, VIX9D {m.vix9d:.2f}, VIX3M {m.vix3m:.2f},\n"
            f"VIX6M {m.vix6m:.2f}, VVIX {m.vvix:.2f} (closes of {m.asof}), rate {100 * m.rate:.2f} % (that day's "
            f"3-month\nT-bill, DTB3 {row['irx']:.2f} % discount). The {100 * m.div:.2f} % dividend yield is an "
            "assumption\nto edit: the project has no dividend history (chains imply it on their\ndays). "
            "`DTB3.csv` in a data folder gives the rate of every date.\n")
    return _indented("<!-- alvh_core.model.market.DEFAULT_MARKET; the DTB3 of its day from DATA -->\n" + text)


def chain_limits() -> str:
    """What two days of chains can and cannot say (docs/data.md)."""
    cal = _calibration()
    vix = [c["vix"] for c in cal["natural_credits"].values()]
    atm, beyond = cal["atm_fit_error_vol_points"], cal["atm_error_beyond_fit_vol_points"]
    text = (f"The vol model was calibrated on two days of chains (VIX {vix[0]:.1f} and {vix[1]:.1f}); its ATM "
            f"level\n(from the VIX family) is within {atm['rmse']:.2f} vol points RMSE of the chains' at 7–70 days "
            f"and\n{beyond['rmse']:.2f} at the {beyond['count']} expiries of 71–200 days (largest {beyond['max_abs']:.2f}, "
            f"mean {_minus(beyond['bias'], 2)}); its wings\nbeyond the fitted 5-delta range are extrapolations.\n")
    return _indented("<!-- python -m alvh_core calibrate --data-dir DATA: atm_fit_error_vol_points, "
                     "atm_error_beyond_fit_vol_points, natural_credits -->\n" + text)


_VERDICT = ["backtest", "--data-dir", "", "--strategy", "daily", "--tier", "moderate", "--hedge", "alvh"]
_NAMES = {"none": "No hedge", "alvh": "ALVH 40/40/20", "smaller": "Trade smaller (no hedge, at ALVH's max drawdown)"}


def _verdict(*extra: str) -> dict:
    argv = list(_VERDICT)
    argv[2] = data_dir()
    return _run([*argv, *extra])


def verdict_starts() -> str:
    """The start-date table: the daily condors with ALVH and trading smaller from each start to the data's end."""
    out = _verdict("--start-dates")
    rows = ["| from | result | CAGR | over T-bills | max drawdown | T-bills alone |", "|---|---|---|---|---|---|"]
    for r in out["start_dates"]:
        rows.append(f"| {r['start']} | {_NAMES[r['result']]} | {_pct(r['cagr'])} | {_signed_pct(r['excess_cagr'])} | "
                    f"{_pct(r['max_drawdown'], 1)} | {_pct(r['tbill_cagr'])} |")
    command = ("python -m alvh_core backtest --data-dir DATA --strategy daily --tier moderate --hedge alvh "
               "--start-dates --json: start_dates")
    return f"<!-- {command} -->\n" + "\n".join(rows) + "\n"


def verdict_sensitivity() -> str:
    """The sensitivity table: ALVH against trading smaller with one assumption moved at a time."""
    out = _verdict("--sensitivity")
    rows = ["| assumption | moved to | ALVH CAGR | over T-bills | max drawdown | trade smaller CAGR | ALVH beats it |",
            "|---|---|---|---|---|---|---|"]
    for r in out["sensitivity"]:
        rows.append(f"| {r['assumption']} | {r['value']} | {_pct(r['cagr'])} | {_signed_pct(r['excess_cagr'])} | "
                    f"{_pct(r['max_drawdown'], 1)} | {_pct(r['smaller_cagr'])} | "
                    f"{'yes' if r['beats_smaller'] else 'no'} |")
    command = ("python -m alvh_core backtest --data-dir DATA --strategy daily --tier moderate --hedge alvh "
               "--sensitivity --json: sensitivity")
    return f"<!-- {command} -->\n" + "\n".join(rows) + "\n"


def verdict_years() -> str:
    """The year-by-year table of ALVH on the daily condors."""
    out = _verdict()
    rows = ["| year | condors | credit | base premium / P/L | adaptive premium / P/L | tail premium / P/L | premium ÷ "
            "credit | VIX notional ÷ max loss |", "|---|---|---|---|---|---|---|---|"]
    for r in out["per_year"]:
        layers = " | ".join(f"${r[f'{k}_premium']:,.0f} / {_money(r[f'{k}_pnl'])}" for k in ("base", "adaptive", "tail"))
        ratio = "" if r["median_notional_per_max_loss"] is None else f"{r['median_notional_per_max_loss']:.2f}"
        share = "" if r["premium_over_credit"] is None else f"{r['premium_over_credit']:.2f}"
        rows.append(f"| {r['year']} | {_money(r['condor_pnl'])} | ${r['condor_credit']:,.0f} | {layers} | {share} | "
                    f"{ratio} |")
    command = ("python -m alvh_core backtest --data-dir DATA --strategy daily --tier moderate --hedge alvh --json: "
               "per_year")
    return f"<!-- {command} -->\n" + "\n".join(rows) + "\n"


def _signed_pct(x: float) -> str:
    return f"{'−' if x < 0 else '+'}{abs(100 * x):.2f} %"


BLOCKS = {"verdict-starts": verdict_starts, "verdict-sensitivity": verdict_sensitivity,
          "verdict-years": verdict_years, "episodes": episodes, "backtest-daily": backtest_daily,
          "backtest-monthly": backtest_monthly,
          "spot-vol": spot_vol, "futures-proxy": futures_proxy, "regime-days": regime_days, "vol-fit": vol_fit,
          "fills": fills, "simulator": simulator, "model-check": model_check, "seed-000": seed_000,
          "replicas": replicas_table, "listed": listed, "slippage": slippage, "vix-vol": vix_vol,
          "offline-market": offline_market, "chain-limits": chain_limits, "model-checks": model_checks_table}


def check(write: bool = False) -> list[str]:
    """The blocks of docs/*.md that differ from what the engine prints now (rewritten with ``write``)."""
    cache: dict[str, str] = {}
    stale = []
    for doc in documents():
        text = doc.read_text(encoding="utf-8")

        def fresh(match: re.Match, doc: Path = doc) -> str:
            name = match["name"]
            if name not in BLOCKS:
                raise SystemExit(f"{doc.name}: unknown figures block {name!r}")
            if name not in cache:
                cache[name] = BLOCKS[name]()
            if match["body"] != cache[name]:
                stale.append(f"{doc.name}: {name}")
            return match[1] + cache[name] + match[4]

        new = BLOCK.sub(fresh, text)
        if write and new != text:
            doc.write_text(new, encoding="utf-8")
    return stale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a block in docs/ differs")
    parser.add_argument("--write", action="store_true", help="rewrite the blocks in docs/")
    args = parser.parse_args()
    if args.check or args.write:
        stale = check(write=args.write)
        for line in stale:
            print(("rewritten: " if args.write else "stale: ") + line)
        return 1 if stale and args.check else 0
    for name, make in BLOCKS.items():
        print(f"## {name}\n{make()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
