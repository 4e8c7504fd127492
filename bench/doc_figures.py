"""The figures the docs quote, printed by the command line on the real data, so none can go stale.

    python bench/doc_figures.py            # print every block
    python bench/doc_figures.py --check    # exit 1 naming each block of docs/*.md that differs (the tests run it)
    python bench/doc_figures.py --write    # rewrite the blocks in docs/*.md

A block in a doc is the text between ``<!-- figures:NAME -->`` and ``<!-- /figures -->``; NAME is one of
``BLOCKS``.  Each is computed with the same functions ``python -m alvh_core`` runs (the commands are printed
in the block's comment), on the data folder of ``ALVH_DATA_DIR`` (default ``../shared/data``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alvh_core import cli  # noqa: E402

DOCS = ROOT / "docs"
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
    """The daily-condor results table of docs/how-the-numbers-are-made.md: Moderate, $1,000,000, defaults."""
    rows = ["| daily condors | CAGR | volatility | Sharpe | max drawdown | Calmar | worst month | hedge P/L a year "
            "| hedge in the 10 worst weeks |", "|---|---|---|---|---|---|---|---|---|"]
    names = {"none": "No hedge", "alvh": "ALVH 40/40/20", "single": "Single VIX call", "static10": "Static 10 %",
             "vxth": "VXTH rule"}
    smaller = None
    for i, scheme in enumerate(DAILY_SCHEMES):
        out = _run(["backtest", "--data-dir", data_dir(), "--strategy", "daily", "--tier", "moderate",
                    "--hedge", scheme])
        if i == 0:
            rows.append(_stats_row(names["none"], out["schemes"]["none"], hedged=False))
            smaller = out
        rows.append(_stats_row(names[scheme], out["stats"], hedged=True))
    scale = smaller.get("smaller_scale")
    label = f"Trade smaller (× {scale:.2f})" if scale is not None else "Trade smaller"
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
            f"({_pct(s['alvh']['max_drawdown'], 1)}), trade smaller (× {out['smaller_scale']:.2f}) "
            f"{_pct(s['smaller']['cagr'])} ({_pct(s['smaller']['max_drawdown'], 1)}).")
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
    text = ("\n".join(rows) + "\n\n"
            f"Fitted on odd years and checked on even years' falls: {_share(odd[0])} (1 day) and {_share(odd[1])} "
            f"(5 days). Fitted on 1990–2012 alone it covers only {_share(early[0])} / {_share(early[1])} of the\n"
            "falls since 2013 (VIX has answered falls harder since), so the constants\n"
            f"use every year. VIX-option vols move with VIX as VVIX does (elasticity\n"
            f"{elasticity:.3f}, fitted on {vvix['first'][:4]}–{vvix['last'][:4]} VVIX).\n")
    return _indented("<!-- python -m alvh_core calibrate --data-dir DATA: spot_vol_link, vvix_response -->\n" + text)


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
            f"{fit['mean_days_vx2']:.0f} days.\n")
    return _indented("<!-- python -m alvh_core calibrate --data-dir DATA: vix_futures_proxy -->\n" + text)


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


BLOCKS = {"episodes": episodes, "backtest-daily": backtest_daily, "backtest-monthly": backtest_monthly,
          "spot-vol": spot_vol, "futures-proxy": futures_proxy, "regime-days": regime_days}


def check(write: bool = False) -> list[str]:
    """The blocks of docs/*.md that differ from what the engine prints now (rewritten with ``write``)."""
    cache: dict[str, str] = {}
    stale = []
    for doc in sorted(DOCS.glob("*.md")):
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
