"""Every benchmark, one command: the benchmark tables of docs/benchmarks.md, printed.

    python -m bench.all [--quick] [--out FILE.md]

Runs, each in its own process so that none warms another's caches:
``bench_engine.py`` (the condor against optionlab, the Builder's recompute),
``bench_files.py`` (the file readers), ``bench_history.py`` (backtests over
the real history; needs ``ALVH_DATA_DIR``), ``bench_browser.py`` (the Builder
against a one-slider app in Chromium) and ``load_test.py`` (20 sessions on one
server: rerun times, upstream requests, memory idle and per added session).
Prints their tables under one heading each, with the SPEC 11 targets they are
measured against, and the machine they ran on.  ``--quick`` runs fewer
repetitions (for a look, not for docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = {
    "engine": "SPEC 11: one condor ≥ 10× faster than optionlab's run_strategy; the full Builder recompute ≤ 5 ms.",
    "files": "The file readers refuse what they cannot read in well under 2 s.",
    "history": "SPEC 11: daily condors with ALVH 1990–2026 ≤ 0.25 s beyond start-up; all five schemes ≤ 1 s; "
               "100 configurations ≤ 10 s; Monte Carlo 10,000 × 60 days ≤ 1 s.",
    "browser": "SPEC 11: a Builder slider updates its chart within 1.5× a one-slider app's time; a share link's "
               "first numbers within 1.3× the one-chart app's chart, with or without a network.",
    "load": "SPEC 11: 20 concurrent sessions on one server, p95 page rerun ≤ 1 s; one Yahoo request per TTL.",
}


def _table(text: str) -> str:
    """The Markdown table lines of a benchmark's output."""
    return "\n".join(line for line in text.splitlines() if line.startswith("|"))


def _run(script: str, *args: str, timeout: float = 3600) -> tuple[str, float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", f"bench.{Path(script).stem}", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=HERE.parent)
    if done.returncode != 0:
        return f"(failed: exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]})", 0.0
    return done.stdout, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    parts = [f"Run on {platform.node() or 'this machine'}: {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}."]
    browser_args = ("--moves", "20", "--opens", "3") if args.quick else ()
    load_seconds = "30" if args.quick else "120"
    steps = [("engine", "bench_engine.py", ()), ("files", "bench_files.py", ())]
    if os.environ.get("ALVH_DATA_DIR"):
        steps.append(("history", "bench_history.py", ()))
    else:
        parts.append("(The history benchmark needs ALVH_DATA_DIR: skipped.)")
    steps.append(("browser", "bench_browser.py", browser_args))
    for name, script, extra in steps:
        out, seconds = _run(script, *extra)
        parts.append(f"### {name}: `python -m bench.{Path(script).stem}{' ' + ' '.join(extra) if extra else ''}`\n\n"
                     f"{TARGETS[name]}\n\n{_table(out) or out.strip()}\n")
        print(f"{name} done in {seconds:.0f} s", file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "load.json"
        out, seconds = _run("load_test.py", "--seconds", load_seconds, "--json", str(report))
        parts.append(f"### load: `python -m bench.load_test --seconds {load_seconds}`\n\n{TARGETS['load']}\n\n"
                     f"{_table(out) or out.strip()}\n")
        if report.is_file():
            result = json.loads(report.read_text())
            memory = result["memory_mb"]
            parts.append(f"Server memory: {memory['idle'][0]:.0f} MB idle (after one visitor), "
                         f"{memory['per_session'][0]:.1f} MB per added session over {result['sessions']} sessions.")
        print(f"load done in {seconds:.0f} s", file=sys.stderr)
    text = "\n\n".join(parts)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
