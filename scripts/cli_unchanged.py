"""Does a change leave the command line's answers as they were?  Runs one set of commands (every
subcommand, on the real data folder and on typed markets) in this tree and in a clean checkout of
another revision, and compares their JSON byte for byte.

    python scripts/cli_unchanged.py                  # against HEAD (the uncommitted change)
    python scripts/cli_unchanged.py --base REV       # against REV (e.g. the commit before a move)
    python scripts/cli_unchanged.py --quick          # the commands without backtests and calibration

Exits 1 naming each command whose output differs (with the first differing line), 0 when all agree.
The data folder is ``ALVH_DATA_DIR`` (default ``../shared/data``).  Keys added on purpose are listed
with ``--allow-new-keys``: an output that only gains them still counts as unchanged.  ``--rtol 1e-9``
accepts numbers that differ only by floating-point rounding (a change of kernel, not of behaviour).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commands(data: str, quick: bool) -> list[list[str]]:
    """The commands compared: each subcommand on typed inputs and on the data folder."""
    typed = ["--spx", "5000", "--vix", "18", "--vix9d", "16", "--vix3m", "20", "--vix6m", "21", "--vvix", "95"]
    out = [
        ["price", "--kind", "put", "--spot", "5000", "--strike", "4800", "--days", "30", "--vol", "0.2"],
        ["price", "--model", "black76", "--kind", "call", "--forward", "20", "--strike", "25", "--days", "40",
         "--vol", "0.9"],
        ["vol", *typed, "--days", "30", "--strikes", "4500,4800,5000,5200"],
        ["vol", "--data-dir", data, "--asof", "2020-03-16", "--days", "45", "--strikes", "2000,2400,2700"],
        ["tiers", *typed, "--risk-budget", "5000"],
        ["tiers", "--data-dir", data, "--asof", "2022-02-04", "--risk-budget", "50000"],
        ["regime", "--data-dir", data, "--asof", "2020-03-16"],
        ["regime", "--data-dir", data, "--asof", "2017-05-09"],
    ]
    for tier in ("conservative", "moderate", "aggressive"):
        out.append(["plan", "--tier", tier, *typed, "--risk-budget", "5000"])
        out.append(["plan", "--tier", tier, "--data-dir", data, "--asof", "2023-02-07", "--risk-pct", "2"])
    for hedge in ("alvh", "static10", "single", "vxth", "none"):
        out.append(["plan", "--tier", "moderate", *typed, "--notional", "250000", "--hedge", hedge])
    out.append(["plan", "--tier", "moderate", *typed, "--measure", "book_cvar_5d", "--hedge-sizing", "max_loss"])
    for episode in ("2008-10", "2020-03", "2024-08"):
        out.append(["stress", "--data-dir", data, "--episode", episode, "--risk-budget", "5000"])
    out.append(["stress", *typed, "--spx-move", "-10", "--days", "5", "--tier", "aggressive"])
    if quick:
        return out
    for strategy, hedge in (("daily", "alvh"), ("weekly", "vxth"), ("monthly", "static10"), ("daily", "none"),
                            ("cndr", "none"), ("vxth", "none")):
        out.append(["backtest", "--data-dir", data, "--strategy", strategy, "--tier", "moderate", "--hedge", hedge,
                    "--start", "2006-01-01"])
    out.append(["backtest", "--data-dir", data, "--strategy", "daily", "--tier", "aggressive", "--hedge", "single",
                "--profit-target", "0.5", "--stop", "2", "--hedge-sizing", "max_loss"])
    out.append(["calibrate", "--data-dir", data])
    return out


def run_all(tree: Path, cmds: list[list[str]]) -> list[str]:
    env = dict(os.environ, YF_DISABLE_CURL_CFFI="1", ALVH_OFFLINE="1", PYTHONPATH=str(tree))
    outputs = []
    for cmd in cmds:
        done = subprocess.run([sys.executable, "-m", "alvh_core", *cmd, "--json"], cwd=tree, env=env,
                              capture_output=True, text=True, timeout=1800)
        outputs.append(done.stdout if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()}")
    return outputs


def _without(value, keys: set):
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def _close(a, b, rtol: float, atol: float = 0.0) -> bool:
    """The same JSON value, numbers within ``rtol`` of each other (relative, or absolute near zero) or
    within ``atol`` (one unit of the last decimal the JSON prints, where a rounding boundary was crossed)."""
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, int | float) or not isinstance(b, int | float):
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(_close(a[k], b[k], rtol, atol) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(_close(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
        return a == b
    return abs(a - b) <= max(rtol * max(abs(a), abs(b), 1.0), atol * (1 + 1e-9))


def same(before: str, after: str, new_keys: set, rtol: float = 0.0, atol: float = 0.0) -> bool:
    if before == after:
        return True
    if not new_keys and not rtol and not atol:
        return False
    try:
        old, new = json.loads(before), _without(json.loads(after), new_keys)
    except ValueError:
        return False
    return _close(old, new, rtol, atol) if rtol or atol else json.dumps(new) == json.dumps(old)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="the revision to compare with (default HEAD)")
    parser.add_argument("--quick", action="store_true", help="leave out the backtests and calibrate")
    parser.add_argument("--allow-new-keys", default="", help="comma-separated keys the change adds on purpose")
    parser.add_argument("--rtol", type=float, default=0.0,
                        help="numbers may differ by this much (relative; absolute below 1): for a change that only "
                             "reorders floating-point operations, e.g. one pricing kernel for two")
    parser.add_argument("--atol", type=float, default=0.0,
                        help="numbers may differ by this much (absolute): 1e-6 lets a number printed to six "
                             "decimals move by one unit when a rounding boundary was crossed")
    args = parser.parse_args(argv)
    data = str(Path(os.environ.get("ALVH_DATA_DIR") or ROOT.parent / "shared" / "data").resolve())
    cmds = commands(data, args.quick)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(base), args.base], cwd=ROOT, check=True)
        try:
            before = run_all(base, cmds)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False)
    after = run_all(ROOT, cmds)
    new_keys = {k for k in args.allow_new_keys.split(",") if k}
    differ = rounding = 0
    for cmd, b, a in zip(cmds, before, after, strict=True):
        if same(b, a, new_keys):
            continue
        if (args.rtol or args.atol) and same(b, a, new_keys, args.rtol, args.atol):
            rounding += 1
            print(f"within rtol {args.rtol:g} / atol {args.atol:g}: {' '.join(cmd)}")
            continue
        differ += 1
        lines = list(difflib.unified_diff(b.splitlines(), a.splitlines(), lineterm="", n=0))[3:5]
        print(f"differs: {' '.join(cmd)}\n  {' | '.join(lines)[:400]}")
    print(f"{len(cmds) - differ} of {len(cmds)} commands unchanged against {args.base}"
          + (f" ({rounding} of them only within rtol {args.rtol:g} / atol {args.atol:g})" if rounding else ""))
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
