"""Many users on one server: a group's traffic, timed as people wait for it.

    python -m bench.load_test [--sessions 20] [--seconds 90] [--think 5,15] [--ramp 20] [--processes 1|2]
                              [--ttl 30] [--browsers 0] [--backtests 0] [--json FILE]

Starts ``streamlit run serve.py`` on 127.0.0.1 (``--processes 2``: two servers
sharing one cache folder, the sessions split between them) with live data on
and Yahoo replaced by a local stand-in that serves the real history
(``ALVH_DATA_DIR``, else a simulated one) and logs every request, the feeds'
TTLs the servers' own (``--ttl`` sets a shorter one, so that a bounded run spans
several).  Then ``--sessions`` users arrive over ``--ramp`` seconds (0: all at
once), each on its own websocket speaking the app's protocol
(``bench/streamclient.py``): Regime, then the Builder, then until the time is up
a mix of tier changes, horizon-slider moves, visits of Tiers, the Hedge Lab,
Learn and Regime, backtests no one ran before, and uploads of a history CSV,
pausing ``--think`` seconds (uniform) between actions.  ``--backtests N`` then
has the sessions open N distinct backtests (the memory the server keeps for
them).  ``--browsers N`` adds N headless Chromium contexts going through the
pages themselves (their latency includes the browsers' own CPU on this machine).

Reports, as a Markdown table: each action's time from the request to the
page's last run finishing (both halves of a first paint: what a user waits
for) as p50/p95, in all and by action, with the server's own share; each
script run on the server; errors (exceptions, error boxes, failed or dropped
sessions: must be 0); upstream requests by feed against the TTL's allowance;
the servers' memory idle, at the end and at its peak, and CPU.  Exits 1 when
an error was seen.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from alvh_core.data.live import QUOTE_TTL
from bench.streamclient import StreamSession
from tests.e2e.conftest import start_streamlit

ROOT = Path(__file__).resolve().parents[1]

TIERS = ("Conservative", "Moderate", "Aggressive")


def launch(env_extra: dict, log: Path) -> tuple[subprocess.Popen, str]:
    """``streamlit run serve.py`` on 127.0.0.1, its output to ``log``."""
    return start_streamlit(ROOT / "serve.py", env_extra, log=log, wait=90.0)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, seconds (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def stub_folder(folder: Path) -> Path:
    """The Yahoo stand-in's data: the real history when ALVH_DATA_DIR has it, else a simulated one."""
    folder.mkdir(parents=True, exist_ok=True)
    data = os.environ.get("ALVH_DATA_DIR", "")
    panel = None
    if data:
        try:
            from alvh_core.data.closes import load_history_folder

            panel = load_history_folder(data).panel
        except Exception:  # no usable files: fall back to the simulated market
            panel = None
    if panel is None:
        from alvh_core.model.simulator import simulated_panel

        panel = simulated_panel(years=10.0, seed=7)
    panel.to_csv(folder / "panel.csv", index_label="date")
    (folder / "requests.log").write_text("")
    return folder


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[str, list[float]] = {}
        self.waits: dict[str, list[float]] = {}
        self.server: dict[str, list[float]] = {}   # the server's own time for an action: its runs added up
        self.problems: list[str] = []
        self.actions = 0

    def add(self, label: str, load) -> None:
        with self.lock:
            self.actions += 1
            self.runs.setdefault(label, []).extend(r.seconds for r in load.runs)
            self.waits.setdefault(label, []).append(load.seconds)
            self.server.setdefault(label, []).append(sum(r.seconds for r in load.runs))
            self.problems += [f"{label}: exception {e}" for e in load.exceptions]
            self.problems += [f"{label}: error box {e}" for e in load.errors]

    def actions_of(self, label: str) -> int:
        return len(self.waits.get(label, []))

    def fail(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)


#: What a group does, as (share of actions, label): every page, cold backtests, the Hedge Lab.
MIX = ((0.25, "tier change"), (0.25, "horizon slider"), (0.10, "open Tiers"), (0.10, "open Hedge Lab"),
       (0.10, "cold Backtest"), (0.05, "open Learn"), (0.05, "upload a history"), (0.10, "open Regime"))


def _upload_body(seed: int) -> bytes:
    """A panel CSV of ten years (about 300 kB) as a user would upload in the sidebar's "Data files"."""
    rng = random.Random(seed)
    lines, spx, vix = ["date,spx,vix"], 2000.0, 18.0
    day = date(2010, 1, 4)
    while day < date(2020, 1, 1):
        if day.weekday() < 5:
            spx *= 1 + rng.gauss(0.0003, 0.01)
            vix = min(max(vix + rng.gauss(0, 0.6), 9.0), 80.0)
            lines.append(f"{day:%Y-%m-%d},{spx:.2f},{vix:.2f}")
        day += timedelta(days=1)
    return ("\n".join(lines) + "\n").encode()
HEDGES = ("alvh", "static10", "single", "vxth")


def user(url: str, until: float, think: tuple[float, float], rec: Recorder, seed: int) -> None:
    """One person: Regime, then the Builder; then a mix of tier changes, slider moves and visits of every
    other page, among them backtests no one ran before (a cold run each), pausing between actions."""
    rng = random.Random(seed)
    try:
        session = StreamSession(url)
    except Exception as exc:
        rec.fail(f"session {seed}: could not connect ({exc.__class__.__name__})")
        return
    try:
        rec.add("open Regime", session.open("/"))
        rec.add("open Builder", session.open(f"/builder?t={rng.choice(TIERS)}"))
        horizon = 0
        while time.time() < until:
            time.sleep(rng.uniform(*think))
            if time.time() >= until:
                break
            pick, label = rng.random(), MIX[-1][1]
            for share, name in MIX:
                if pick < share:
                    label = name
                    break
                pick -= share
            on_builder = session.page == "builder"
            if label in ("tier change", "horizon slider") and not on_builder:
                rec.add("open Builder", session.open(f"/builder?t={rng.choice(TIERS)}"))
                horizon = 0
            elif label == "tier change":
                rec.add(label, session.set("t", "string", rng.choice(TIERS)))
            elif label == "horizon slider":
                horizon = (horizon + rng.choice((1, 2, 3))) % 15
                # The chart moves in the browser; the server hears the new day (for the link) in one small run.
                rec.add(label, session.trigger("hz_slider", "day", horizon))
            elif label == "cold Backtest":
                # A risk budget no one chose before: a backtest the server has not kept.
                rec.add(label, session.open(f"/backtest?bst={rng.choice(('daily', 'weekly', 'monthly'))}"
                                            f"&bh=none,{rng.choice(HEDGES)}&brk={rng.randint(50, 400) / 100:g}"))
            elif label == "upload a history":
                rec.add(label, session.upload("data_uploads", f"panel-{seed}.csv", _upload_body(seed)))
            elif label == "open Hedge Lab":
                rec.add(label, session.open(f"/hedge-lab?t={rng.choice(TIERS)}"))
            else:
                rec.add(label, session.open({"open Tiers": "/tiers", "open Learn": "/learn",
                                             "open Regime": "/"}[label]))
    except Exception as exc:
        rec.fail(f"session {seed}: {exc.__class__.__name__}: {str(exc)[:200]}")
    finally:
        session.close()


def distinct_backtests(url: str, count: int, sessions: int, rec: Recorder) -> None:
    """``count`` backtests no one ran before, spread over ``sessions`` sessions opening them one after
    another: strategies, tiers, hedges, start years and risk budgets all vary, so each is computed cold and
    kept by the server (what its memory bound is for)."""
    configs = []
    rng = random.Random(11)
    for i in range(count):
        configs.append(f"/backtest?bst={('daily', 'weekly', 'monthly')[i % 3]}&btr={TIERS[(i // 3) % 3]}"
                       f"&bh=none,{HEDGES[(i // 9) % 4]}&bs={1990 + (i * 7) % 30}-01-02"
                       f"&brk={rng.randint(50, 400) / 100:g}")

    def one(k: int) -> None:
        try:
            session = StreamSession(url, timeout=300)
        except Exception as exc:
            rec.fail(f"backtest session {k}: could not connect ({exc.__class__.__name__})")
            return
        try:
            for address in configs[k::sessions]:
                rec.add("distinct Backtest", session.open(address))
        except Exception as exc:
            rec.fail(f"backtest session {k}: {exc.__class__.__name__}: {str(exc)[:200]}")
        finally:
            session.close()

    threads = [threading.Thread(target=one, args=(k,), daemon=True) for k in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=1800)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))]


def warm(url: str) -> None:
    """One visitor first, not counted: the server's first runs fill its caches."""
    session = StreamSession(url)
    try:
        for address in ("/", "/builder?t=Moderate", "/tiers", "/hedge-lab", "/learn", "/builder"):
            session.open(address)
    finally:
        session.close()


def run(args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="alvh-load-"))
    stub = stub_folder(work / "stub")
    cache = work / "cache"
    env = {"ALVH_UPSTREAM_STUB": str(stub), "ALVH_CACHE_DIR": str(cache), "ALVH_OFFLINE": "", "ALVH_DATA_DIR": "",
           # as docs/hosting.md runs a server: two malloc arenas, not one per script thread (each keeps its freed
           # memory; 20 sessions' threads held ~80 MB more at the peak)
           "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
    if args.ttl:   # shorter than the servers' own (6 h of history, 15 min of quotes): several TTLs in one run
        env |= {"ALVH_HISTORY_TTL": str(args.ttl), "ALVH_QUOTE_TTL": str(args.ttl)}
    servers = [launch(env, work / f"server{i}.log") for i in range(args.processes)]
    try:
        started = time.time()
        for _, url in servers:
            warm(url)
        idle = [rss_mb(p.pid) for p, _ in servers]
        cpu0 = [cpu_seconds(p.pid) for p, _ in servers]
        own0 = time.process_time()
        t_start = time.time()
        rec = Recorder()
        memory = [0.0]
        sampling = threading.Event()

        def sample() -> None:   # the servers' peak memory over the run
            while not sampling.wait(0.5):
                memory[0] = max(memory[0], sum(rss_mb(p.pid) for p, _ in servers))

        threading.Thread(target=sample, daemon=True).start()
        until = time.time() + args.seconds + args.ramp
        threads = [threading.Thread(target=user, args=(servers[i % len(servers)][1], until, args.think, rec, i),
                                    daemon=True) for i in range(args.sessions)]
        browser_result = {}
        for t in threads:   # people arrive over the ramp, not in the same instant
            t.start()
            time.sleep(args.ramp / max(1, len(threads)))
        if args.browsers:
            from bench.browser_load import browsers

            # In a thread of its own: the caller may already run an event loop (Playwright's sync API does).
            box: dict = {}
            worker = threading.Thread(target=lambda: box.update(result=browsers(
                [u for _, u in servers], args.browsers, until, args.think, args.ramp)), daemon=True)
            worker.start()
            worker.join()
            browser_result = box.get("result") or {"contexts": args.browsers, "actions": 0, "p50": float("nan"),
                                                   "p95": float("nan"), "load_p50": float("nan"),
                                                   "load_p95": float("nan"), "by_action": {},
                                                   "errors": ["the browsers' run raised (see the log)"]}
        for t in threads:
            t.join(timeout=args.seconds + 300)
        if args.backtests:
            distinct_backtests(servers[0][1], args.backtests, max(1, args.sessions), rec)
        if any(t.is_alive() for t in threads):
            rec.fail("a session did not finish within 5 minutes of the end")
        end = [rss_mb(p.pid) for p, _ in servers]
        sampling.set()
        busy = [(cpu_seconds(p.pid) - c) / (time.time() - t_start) for (p, _), c in zip(servers, cpu0, strict=True)]
        own = (time.process_time() - own0) / (time.time() - t_start)
        elapsed = time.time() - started
        lines = [line.split() for line in (stub / "requests.log").read_text().splitlines() if line.strip()]
        for p, _ in servers:
            if p.poll() is not None:
                rec.fail(f"server {p.pid} exited with {p.returncode}")
    finally:
        for p, _ in servers:
            p.terminate()
        for p, _ in servers:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    all_runs = [x for v in rec.runs.values() for x in v]
    all_waits = [x for v in rec.waits.values() for x in v]
    all_server = [x for v in rec.server.values() for x in v]
    ttl = args.ttl or QUOTE_TTL
    allowance = int(elapsed // ttl) + 1
    result = {
        "sessions": args.sessions, "processes": args.processes, "seconds": args.seconds, "ramp": args.ramp,
        "think": list(args.think),
        "actions": rec.actions, "runs": len(all_runs),
        "action_p50": pct(all_waits, 0.5), "action_p95": pct(all_waits, 0.95), "action_max": max(all_waits, default=0.0),
        "server_action_p50": pct(all_server, 0.5), "server_action_p95": pct(all_server, 0.95),
        "action_target_met": bool(all_waits) and pct(all_waits, 0.95) <= 2.0,
        "rerun_p50": pct(all_runs, 0.5), "rerun_p95": pct(all_runs, 0.95), "rerun_max": max(all_runs, default=0.0),
        "by_action": {k: {"runs": len(v), "p50": pct(v, 0.5), "p95": pct(v, 0.95),
                          "wait_p50": pct(rec.waits[k], 0.5), "wait_p95": pct(rec.waits[k], 0.95),
                          "server_p95": pct(rec.server[k], 0.95), "actions": len(rec.waits[k])}
                      for k, v in sorted(rec.runs.items())},
        "errors": rec.problems,
        "uploads": rec.actions_of("upload a history"),
        "upstream": {"history": sum(1 for line in lines if line[2] == "max"),
                     "quotes": sum(1 for line in lines if line[2] == "5d"),
                     "allowance_per_feed": allowance, "ttl": ttl, "elapsed": round(elapsed, 1),
                     "by_process": sorted({line[1] for line in lines})},
        "memory_mb": {"idle": idle, "end": end, "peak_all": memory[0],
                      "per_session": [(e - i) / max(1, len(threads[k::len(servers)]))
                                      for k, (i, e) in enumerate(zip(idle, end, strict=True))]},
        "browsers": browser_result,
        "rerun_target_met": bool(all_runs) and pct(all_runs, 0.95) <= 1.0,
        "cpu": {"servers": busy, "load_client": own},
    }
    result["ok"] = (not rec.problems and result["upstream"]["history"] <= allowance
                    and result["upstream"]["quotes"] <= allowance and not browser_result.get("errors"))
    return result


def table(r: dict) -> str:
    rows = ["| measure | p50 | p95 | note |", "|---|---|---|---|"]
    if r["actions"] and r["sessions"]:
        rows.append(f"| **action → its last run finished** (what a user waits for, both halves of a first paint; "
                    f"{r['actions']:,} actions) | {r['action_p50']:.2f} s | {r['action_p95']:.2f} s | target p95 ≤ 2 s: "
                    f"{'met' if r['action_p95'] <= 2 else 'missed'}; max {r['action_max']:.1f} s |")
        rows.append(f"| … of it, the server's own time (its runs added up) | {r['server_action_p50']:.2f} s | "
                    f"{r['server_action_p95']:.2f} s | the rest is the first paint's 1 s tick and the network |")
    if r["runs"]:
        rows.append(f"| server rerun, every run ({r['runs']:,} runs, {r['actions']:,} actions) | {r['rerun_p50']:.3f} s "
                    f"| {r['rerun_p95']:.3f} s | target p95 ≤ 1 s: {'met' if r['rerun_p95'] <= 1 else 'missed'} |")
    for name, a in r["by_action"].items():
        rows.append(f"| … {name} ({a['actions']} actions, {a['runs']} runs) | {a['wait_p50']:.2f} s | "
                    f"{a['wait_p95']:.2f} s | server p95 {a['server_p95']:.2f} s; one run p50/p95 {a['p50']:.3f} / "
                    f"{a['p95']:.3f} s |")
    up = r["upstream"]
    rows.append(f"| upstream requests in {up['elapsed']:.0f} s, TTL {up['ttl']:g} s | history {up['history']}, "
                f"quotes {up['quotes']} | allowance {up['allowance_per_feed']} each | from "
                f"{len(up['by_process'])} of {r['processes']} process(es) |")
    mem = r["memory_mb"]
    per = (" | per added session " + ", ".join(f"{m:.1f} MB" for m in mem["per_session"])) if r["sessions"] else " |"
    rows.append("| server memory | idle " + ", ".join(f"{m:.0f} MB" for m in mem["idle"]) + " | end "
                + ", ".join(f"{m:.0f} MB" for m in mem["end"]) + f" (peak {mem['peak_all']:.0f} MB)" + per + " |")
    if r["browsers"]:
        b = r["browsers"]
        rows.append(f"| Chromium contexts: action to update ({b['actions']} actions in {b['contexts']} contexts) | "
                    f"{b['p50']:.2f} s | {b['p95']:.2f} s | page loads {b['load_p50']:.1f} / {b['load_p95']:.1f} s; "
                    f"errors {len(b['errors'])} |")
    rows.append("| CPU, cores busy over the run | servers " + ", ".join(f"{c:.2f}" for c in r["cpu"]["servers"])
                + f" | this client {r['cpu']['load_client']:.2f} | |")
    rows.append(f"| errors | {len(r['errors'])} | | {'; '.join(r['errors'][:3]) or 'none'} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--think", type=lambda t: tuple(float(x) for x in t.split(",")), default=(5.0, 15.0))
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which the sessions arrive")
    parser.add_argument("--ttl", type=float, default=0.0,
                        help="the feeds' TTL for this run, seconds (0: the servers' own, 6 h and 15 min)")
    parser.add_argument("--browsers", type=int, default=0)
    parser.add_argument("--backtests", type=int, default=0,
                        help="after the run, this many distinct backtests opened by the sessions (memory bound)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(args)
    print(f"{args.sessions} sessions arriving over {args.ramp:g} s on {args.processes} server process(es), then "
          f"{args.seconds:g} s; think {args.think[0]:g}–{args.think[1]:g} s\n")
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
