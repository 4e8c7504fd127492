"""The command line as a user runs it: JSON out, one-line errors."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cache: Path | None = None) -> subprocess.CompletedProcess:
    """The command line's answer (exit code, stdout, stderr), computed in this process: what
    ``python -m alvh_core ARGS`` prints, with any warning the run raises added to stderr as Python would
    print it.  Offline, with a cache folder of its own.  Tests of the process itself (devices on stdin,
    the console script) start one with :func:`run_process`."""
    from alvh_core.cli.commands import main

    env = {"YF_DISABLE_CURL_CFFI": "1", "ALVH_OFFLINE": "1",
           "ALVH_CACHE_DIR": str(cache or ROOT / "test-artifacts" / "no-cache")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
            warnings.simplefilter("always")
            try:
                code = main(list(args))
            except SystemExit as exc:   # argparse's own exits (--help)
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    shown = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught)
    return subprocess.CompletedProcess(["alvh", *args], code, out.getvalue(), err.getvalue() + shown)


def run_process(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m alvh_core ARGS`` in a process of its own (offline: it is outside the socket guard)."""
    return subprocess.run([sys.executable, "-m", "alvh_core", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=None, env={**os.environ, "ALVH_OFFLINE": "1"}, cwd=ROOT)


def test_plan_prints_legs_metrics_and_contracts():
    out = run("plan", "--spx", "6000", "--vix", "16", "--tier", "conservative", "--notional", "100000",
              "--risk-pct", "1", "--json")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    legs = plan["condor"]["legs"]
    assert [leg["side"] for leg in legs] == ["long", "short", "short", "long"]
    assert legs[0]["strike"] < legs[1]["strike"] < 6000 < legs[2]["strike"] < legs[3]["strike"]
    assert 0.78 <= plan["condor"]["pop"] <= 0.86
    assert plan["contracts"] == int(1000 // plan["condor"]["max_loss"])
    hedge = plan["hedge"]
    assert hedge["scheme"] == "alvh" and hedge["regime"] == "Moderate" and 12 <= hedge["budget_pct"] <= 18
    assert [layer["name"] for layer in hedge["layers"]] == ["Base", "Adaptive", "Tail"]
    for layer in hedge["layers"]:
        assert {"instrument", "strikes", "days", "contracts", "cost", "vix_notional"} <= set(layer)
        assert layer["contracts"] == round(layer["exact_contracts"])
    assert hedge["total_cost"] == pytest.approx(sum(layer["cost"] for layer in hedge["layers"] if layer["active"]))


@pytest.mark.parametrize("scheme, layers", [("none", 0), ("single", 1), ("static10", 1), ("vxth", 1)])
def test_plan_hedge_comparators(scheme, layers):
    out = run("plan", "--spx", "6000", "--vix", "16", "--tier", "moderate", "--risk-pct", "2", "--hedge", scheme)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["hedge"]["layers"]) == layers


def test_tiers_reports_the_ratio_under_each_measure():
    out = run("tiers", "--spx", "6000", "--vix", "16", "--risk-budget", "50000", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [t["tier"] for t in result["tiers"]] == ["Conservative", "Moderate", "Aggressive"]
    assert set(result["conservative_to_aggressive_ratio"]) == {"max_loss", "expected_loss", "cvar95"}


def test_price_matches_the_textbook_value():
    out = run("price", "--model", "bsm", "--kind", "call", "--spot", "42", "--strike", "40", "--years", "0.5",
              "--rate", "0.1", "--vol", "0.2", "--json")
    assert json.loads(out.stdout)["price"] == pytest.approx(4.7594, abs=1e-3)


@pytest.mark.parametrize("args", [
    ("plan", "--spx", "abc", "--vix", "16", "--tier", "conservative"),
    ("plan", "--spx", "6000", "--vix", "16", "--tier", "nope"),
    ("plan", "--spx", "6000", "--tier", "moderate"),
    ("plan", "--spx", "6000", "--vix", "-3", "--tier", "moderate"),
    ("vol", "--spx", "6000", "--vix", "16", "--days", "30", "--strikes", "a,b"),
    ("price", "--kind", "call", "--spot", "1", "--strike", "1", "--vol", "0.2"),
    ("price", "--kind", "call", "--spot", "1", "--strike", "1", "--vol", "inf", "--days", "3"),
    ("frobnicate",),
    (),
    ("plan", "--data-dir", "/nonexistent", "--tier", "moderate"),
    ("regime", "--asof", "garbage"),
    ("regime", "--data-dir", "/nonexistent"),
    # Extreme numbers and odd paths: one line, never a numpy warning or "internal error".
    ("price", "--model", "bsm", "--kind", "call", "--spot", "100", "--strike", "1e-320", "--days", "30", "--rate",
     "0.04", "--vol", "0.2"),
    ("tiers", "--spx", "6000", "--vix", "1e12", "--risk-budget", "50000"),
    ("plan", "--spx", "1e300", "--vix", "16", "--tier", "moderate"),
    ("plan", "--data-dir", "~nosuchuser/x", "--asof", "2020-03-16", "--tier", "moderate"),
    ("plan", "--data-dir", "/tmp/" + "a" * 300, "--asof", "2020-03-16", "--tier", "moderate"),
])
def test_bad_input_exits_2_with_one_line(args):
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


DEFAULT_LEVELS = ("--spx", "7482.71", "--vix", "16.9", "--vix9d", "14.41", "--vix3m", "19.46", "--vix6m", "21.56",
                  "--vvix", "91.38")   # the market the app ships with


def test_plan_sizes_the_hedge_to_the_position_or_says_why_it_cannot():
    plan = json.loads(run("plan", *DEFAULT_LEVELS, "--tier", "moderate", "--json").stdout)
    hedge, position = plan["hedge"], plan["position"]
    assert hedge["sizing"] == "max_loss" and hedge["sized_on"] == pytest.approx(20 * position["max_loss"])
    ratio = hedge["total_vix_notional"] / position["max_loss"]
    assert ratio <= 4.0 or hedge["note"], (ratio, hedge)
    assert ratio == pytest.approx(hedge["vix_notional_per_max_loss"])
    for layer in hedge["layers"]:
        if layer["active"] and layer["contracts"] == 0:
            assert "round" in hedge["note"] and "condor max loss of $" in hedge["note"]
    # Seed 001's rule is one option away: the band's % of the strategy notional.
    seed = json.loads(run("plan", *DEFAULT_LEVELS, "--tier", "moderate", "--hedge-sizing", "notional",
                          "--json").stdout)["hedge"]
    assert seed["sized_on"] == 100_000 and seed["target_vix_notional"] == pytest.approx(seed["budget_pct"] * 1_000)
    # The broker's hold beside the max loss.
    broker = plan["broker"]
    assert broker["reg_t"] == pytest.approx(plan["condor"]["max_loss"])
    assert broker["return_on_reg_t"] == pytest.approx(plan["condor"]["credit"] / broker["reg_t"], abs=1e-6)  # 6 dp


def test_plan_applies_the_two_percent_gate_and_unknown_is_not_a_pass():
    asked = run("plan", *DEFAULT_LEVELS, "--tier", "moderate", "--risk-pct", "2", "--json")
    gate = json.loads(asked.stdout)["gate"]
    states = {c["name"]: c["state"] for c in gate["checks"]}
    assert states["RSI(14) of VIX below 70"] == "unknown" and states["Breadth proxy not falling"] == "unknown"
    assert gate["held_back"] and gate["sized_at_pct"] == 1.0 and "unknown" in gate["why"]
    held = json.loads(asked.stdout)
    over = json.loads(run("plan", *DEFAULT_LEVELS, "--tier", "moderate", "--risk-pct", "2", "--override-gate",
                          "--json").stdout)
    assert over["gate"]["overridden"] and over["gate"]["sized_at_pct"] == 2.0
    assert over["risk_budget"]["sized_at"]["dollars"] == 2_000 and held["risk_budget"]["sized_at"]["dollars"] == 1_000
    assert over["position"]["max_loss"] > held["position"]["max_loss"]
    # Given by the user, the readings are known (whether the gate then opens is up to the other checks).
    typed = json.loads(run("plan", *DEFAULT_LEVELS, "--tier", "moderate", "--risk-pct", "2", "--rsi-vix", "50",
                           "--breadth", "not-falling", "--json").stdout)["gate"]
    assert {c["state"] for c in typed["checks"][1:3]} == {"pass"}
    assert typed["readings"] == {"rsi_vix": "typed", "breadth": "typed"}
    assert typed["held_back"] == any(c["state"] != "pass" for c in typed["checks"])


@pytest.mark.data
def test_seed_001_example_keeps_six_to_ten_thousand_of_vix_notional(data_dir):
    out = run("plan", "--data-dir", str(data_dir), "--asof", "2017-06-01", "--tier", "moderate", "--risk-budget",
              "5000", "--override-gate", "--json")
    plan = json.loads(out.stdout)
    assert plan["hedge"]["regime"] == "Low" and plan["gate"]["overridden"]
    assert 6_000 <= plan["hedge"]["total_vix_notional"] <= 10_000


@pytest.mark.data
def test_plan_from_the_data_folder_on_a_known_day(data_dir):
    out = run("plan", "--data-dir", str(data_dir), "--asof", "2020-03-16", "--tier", "moderate", "--json")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["market"]["vix"] == 82.69 and plan["market"]["spot"] == 2386.13
    assert 0 < plan["condor"]["empirical"]["pop"] < 1


def test_regime_offline_answers_from_the_default_with_one_warning(tmp_path):
    out = run("regime", "--json", cache=tmp_path)
    assert out.returncode == 0
    report = json.loads(out.stdout)
    assert report["source"] == "default" and report["asof"] == "2026-07-08"
    assert report["regime"] in ("Low", "Moderate", "High") and 0 <= report["stress_score"] <= 1
    assert out.stderr.strip().startswith("warning:") and len(out.stderr.strip().splitlines()) == 1


def test_regime_reads_a_saved_copy_when_live_is_off(tmp_path):
    import pandas as pd

    days = pd.bdate_range("2026-01-02", periods=120)
    frame = pd.DataFrame({"spx": 6000.0, "vix": 30.0, "vix3m": 25.0, "vix9d": 33.0, "vix6m": 24.0}, index=days)
    frame.to_csv(tmp_path / "yahoo.csv", index_label="date", date_format="%Y-%m-%d")
    out = run("regime", "--json", cache=tmp_path)
    report = json.loads(out.stdout)
    assert report["source"] == "cache" and report["regime"] == "High" and report["term_structure"] == "backwardation"
    assert report["asof"] == str(days[-1].date())


@pytest.mark.data
def test_regime_on_known_days(data_dir):
    covid = json.loads(run("regime", "--data-dir", str(data_dir), "--asof", "2020-03-16", "--json").stdout)
    assert covid["vix"] == 82.69 and covid["regime"] == "High" and covid["term_structure"] == "backwardation"
    calm = json.loads(run("regime", "--data-dir", str(data_dir), "--asof", "2017-05-09", "--json").stdout)
    assert calm["regime"] == "Low" and calm["source"] == "file"
    assert run("regime", "--data-dir", str(data_dir), "--asof", "1900-01-01").returncode == 2


@pytest.mark.data
def test_calibrate_prints_every_fit(data_dir):
    out = run("calibrate", "--data-dir", str(data_dir), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert {"skew", "spot_vol_link", "vix_futures_proxy", "skew_fit_error_vol_points", "vvix_response", "strike_grid",
            "bid_ask_spreads", "episodes"} <= set(result)
    assert set(result["spot_vol_link"]) == {"1d", "5d", "21d"}
    from alvh_core.model.fitted import SPX_SPREAD
    from alvh_core.strategy.stress import EPISODES

    spreads = result["bid_ask_spreads"]
    assert spreads["log_mid"] == pytest.approx(SPX_SPREAD["log_mid"], abs=1e-4)
    assert spreads["log_vix"] == pytest.approx(SPX_SPREAD["log_vix"], abs=1e-4)
    assert [e["vix_end"] for e in result["episodes"]] == [e.vix_end for e in EPISODES]
    assert [e["spx_start"] for e in result["episodes"]] == pytest.approx([e.spx_start for e in EPISODES])


def test_backtest_prints_stats_and_writes_the_equity_curve(data_dir, tmp_path):
    out_file = tmp_path / "equity.csv"
    out = run("backtest", "--data-dir", str(data_dir), "--start", "2019-06-03", "--end", "2020-06-30",
              "--strategy", "weekly", "--tier", "aggressive", "--hedge", "alvh", "--out", str(out_file), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    stats = result["stats"]
    assert stats["days"] == len(open(out_file).read().splitlines()) - 1
    assert {"cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar", "worst_day", "worst_month",
            "win_rate", "hedge_drag_pct"} <= set(stats)
    assert set(result["schemes"]) == {"none", "alvh", "smaller"}
    assert 0 < result["smaller_scale"] <= 4 and result["config"]["smaller_match"] == "drawdown"
    assert result["schemes"]["smaller"]["max_drawdown"] == pytest.approx(result["schemes"]["alvh"]["max_drawdown"],
                                                                          rel=0.05)
    assert result["model_based"] is True and "in-sample" in result["in_sample"]
    import pandas as pd

    curve = pd.read_csv(out_file)
    assert list(curve.columns) == ["date", "equity"]
    assert curve["date"].iloc[0] == "2019-06-03" and curve["date"].iloc[-1] == "2020-06-30"
    assert curve["equity"].iloc[-1] == pytest.approx(stats["final_equity"], abs=1e-4)
    # The equity's own statistics, recomputed here.
    returns = curve["equity"].pct_change().dropna()
    assert stats["worst_day"] == pytest.approx(returns.min(), abs=1e-6)
    peak = curve["equity"].cummax()
    assert stats["max_drawdown"] == pytest.approx((1 - curve["equity"] / peak).max(), abs=1e-6)


@pytest.mark.parametrize("strategy", ["cndr", "vxth"])
def test_backtest_replicas_and_tracking_against_an_index_file(data_dir, tmp_path, strategy):
    out_file = tmp_path / "replica.csv"
    first = run("backtest", "--data-dir", str(data_dir), "--start", "2012-01-03", "--end", "2016-12-30",
                "--strategy", strategy, "--out", str(out_file), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["stats"]["days"] > 900
    # A Cboe-style file of the replica itself: tracking is perfect.
    import pandas as pd

    curve = pd.read_csv(out_file)
    index_file = tmp_path / f"{strategy.upper()}_History.csv"
    pd.DataFrame({"DATE": pd.to_datetime(curve["date"]).dt.strftime("%m/%d/%Y"),
                  strategy.upper(): curve["equity"] * 7.5}).to_csv(index_file, index=False)
    again = run("backtest", "--data-dir", str(data_dir), "--start", "2012-01-03", "--end", "2016-12-30",
                "--strategy", strategy, "--index", str(index_file), "--json")
    tracking = json.loads(again.stdout)["tracking"]
    assert tracking["monthly_correlation"] == pytest.approx(1.0, abs=1e-9)
    assert tracking["cagr_gap"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("args", [
    ["--start", "2020-13-01"],
    ["--start", "2021-01-01", "--end", "2020-01-01"],
    ["--start", "2035-01-01"],
    ["--strategy", "hourly"],
    ["--risk-pct", "-1"],
    ["--tier", "nosuchtier"],
    ["--roll", "--start", "2020-01-02", "--end", "2020-02-28"],
    ["--out", "/nonexistent-folder/x.csv", "--start", "2020-01-02", "--end", "2020-02-28"],
])
def test_backtest_bad_input_exits_2_with_one_line(data_dir, args):
    out = run("backtest", "--data-dir", str(data_dir), *args)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("error:") and out.stderr.count("\n") == 1
    assert out.stdout == ""


def test_backtest_needs_a_data_folder():
    out = run("backtest", "--strategy", "daily")
    assert out.returncode == 2 and "--data-dir" in out.stderr


def test_plan_with_your_own_position_and_the_days_chain(data_dir, tmp_path):
    out = run("plan", "--data-dir", str(data_dir), "--asof", "2022-02-04", "--tier", "moderate", "--notional",
              "1000000", "--strikes", "4160/4210/4705/4730", "--add-leg", "V+5C32.5@2022-03-15", "--drop-layer", "tail",
              "--contracts", "3", "--json")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    mine = plan["your_position"]
    assert [leg["strike"] for leg in plan["condor"]["legs"]] == [4160, 4210, 4705, 4730] and plan["contracts"] == 3
    assert mine["prices"]["source"] == "Cboe chain spx_quotedata_2022-02-04.csv"
    # The 4210 put of 28 Feb 2022 (SPXW) as the file quotes it: 24.90 / 25.50.
    short_put = next(leg for leg in mine["prices"]["legs"] if leg["strike"] == 4210)
    assert (short_put["bid"], short_put["ask"], short_put["root"]) == (24.9, 25.5, "SPXW")
    assert any(r["Order"] == "Hedge: Your legs" and r["Root"] == "VIX" and r["Strike"] == 32.5 for r in mine["ticket"])
    assert not any(r["Order"] == "Hedge: Tail" for r in mine["ticket"])
    # The same position from a scenario file the Builder saves.
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"format": "alvh-studio-scenario", "inputs": {
        "t": "Moderate", "n": "1000000", "ad": "2022-02-04", "lg": "4160/4210/4705/4730", "q": "3", "lo": "tail",
        "xl": "V+5C32.5@2022-03-15"}}))
    again = run("plan", "--data-dir", str(data_dir), "--scenario", str(scenario), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["your_position"]["ticket"] == mine["ticket"]


@pytest.mark.parametrize("extra, message", [
    (("--strikes", "4163/4210/4705/4730"), "not a listed"), (("--strikes", "4210/4160/4705/4730"), "rise"),
    (("--expiry", "2022-03-17"), "not a listed SPX expiry"), (("--add-leg", "V+5P33@2022-03-15"), "VIX calls"),
    (("--add-leg", "V+5C33@2022-03-16"), "not a listed VIX expiry"), (("--limit", "80"), "widest wing")])
def test_plan_refuses_a_position_that_is_not_listed(data_dir, extra, message):
    out = run("plan", "--data-dir", str(data_dir), "--asof", "2022-02-04", "--tier", "moderate", "--notional",
              "1000000", *extra, "--json")
    assert out.returncode == 2 and message in out.stderr and len(out.stderr.strip().splitlines()) == 1



@pytest.mark.parametrize("args", [
    ["tiers", "--spx", "5000", "--vix", "20", "--risk-budget", "5000", "--tiers", "/dev/zero"],
    ["plan", "--spx", "5000", "--vix", "20", "--scenario", "/dev/zero"],
    ["plan", "--spx", "5000", "--vix", "20", "--tier", "Moderate", "--tiers", "/dev/stdin"],
    ["stress", "--spx", "5000", "--vix", "20", "--spx-move", "-5", "--tiers", "/dev/zero"],
    ["backtest", "--data-dir", "/dev", "--tiers", "/dev/zero"],
    ["regime", "--data-dir", "x" * 5000],
    ["tiers", "--spx", "5000", "--vix", "20", "--vix6m", "1e12", "--risk-budget", "5000"],
])
def test_hostile_files_and_values_end_at_once_with_one_line(args):
    """Devices, the terminal, huge names and values: refused with one line, exit 2, never a wait."""
    done = run_process(*args, "--json", timeout=30)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr and done.stdout == ""


@pytest.fixture
def looped_folder(tmp_path):
    """A data folder whose SPX_History.csv is a link to itself, beside a VIX file of two days."""
    (tmp_path / "VIX_History.csv").write_text("DATE,CLOSE\n2020-01-02,16\n2020-01-03,17\n")
    os.symlink("SPX_History.csv", tmp_path / "SPX_History.csv")
    return tmp_path


@pytest.mark.parametrize("args", [
    ["vol", "--spx", "5000", "--vix", "20", "--days", "30", "--strikes", "5000", "--asof", "NaT",
     "--data-dir", "{data}"],
    ["backtest", "--data-dir", "{data}", "--start", ""],
    ["backtest", "--data-dir", "{data}", "--end", ""],
    ["backtest", "--data-dir", "{data}", "--end", "NaT"],
    ["regime", "--data-dir", "{data}", "--asof", "NaT"],
    ["plan", "--data-dir", "{loop}", "--tier", "moderate", "--notional", "100000", "--risk-pct", "1"],
    ["tiers", "--data-dir", "{loop}", "--risk-budget", "5000"],
    ["stress", "--data-dir", "{loop}", "--spx-move", "-10"],
    ["backtest", "--data-dir", "{loop}"],
    ["calibrate", "--data-dir", "{loop}"],
])
def test_dates_that_are_no_day_and_looped_folders_exit_2(args, looped_folder, tmp_path):
    """The cases that ended in "internal error" (exit 1): each now exits 2 with one line."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "VIX_History.csv").write_text("DATE,CLOSE\n2020-01-02,16\n2020-01-03,17\n")
    (data / "SPX_History.csv").write_text("DATE,CLOSE\n2020-01-02,3200\n2020-01-03,3210\n")
    args = [a.format(data=data, loop=looped_folder) for a in args]
    done = run(*args, "--json")
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")
    assert "internal error" not in done.stderr and done.stdout == ""


def test_an_extreme_typed_market_stresses_without_a_warning():
    out = run("stress", "--spx", "20000", "--vix", "5", "--vix9d", "200", "--vix6m", "21", "--risk-budget", "1000",
              "--tier", "conservative", "--spx-move", "0", "--days", "5", "--json")
    assert out.returncode == 0 and out.stderr == ""
    assert np.isfinite(json.loads(out.stdout)["vix"]["median"])


def test_a_looped_file_is_named_and_the_rest_of_the_folder_used(looped_folder):
    out = run("regime", "--data-dir", str(looped_folder), "--json")
    assert out.returncode == 0 and out.stderr == ""
    assert any("SPX_History.csv" in m and "not a regular file" in m for m in json.loads(out.stdout)["messages"])


def test_the_alvh_command_is_python_m_alvh_core():
    """The installed console script answers exactly as ``python -m alvh_core`` does."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("alvh")
    if not script.exists():
        script = shutil.which("alvh")
    assert script, "the package is not installed (scripts/test.sh installs it with the test dependencies)"
    args = ["plan", "--tier", "moderate", "--spx", "5000", "--vix", "18", "--risk-budget", "5000", "--json"]
    env = {"YF_DISABLE_CURL_CFFI": "1", "ALVH_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    ours = subprocess.run([str(script), *args], capture_output=True, text=True, env=env, timeout=120)
    module = subprocess.run([sys.executable, "-m", "alvh_core", *args], capture_output=True, text=True, env=env,
                            timeout=120)
    assert ours.returncode == module.returncode == 0, ours.stderr + module.stderr
    assert ours.stdout == module.stdout and '"contracts"' in ours.stdout


def test_the_command_line_and_the_links_take_one_range_per_input():
    """Each input the command line shares with the pages' links has one range (alvh_core.model.limits)."""
    from alvh_core.cli.commands import LIMITS
    from alvh_core.present.links import ALL_KEYS

    same = {"--spx": "spx", "--vix": "vix", "--vix9d": "v9", "--vix3m": "v3", "--vix6m": "v6", "--vvix": "vv",
            "--notional": "n", "--risk-budget": "b", "--risk-pct": "r", "--capital": "n", "--commission": "bcm",
            "--slippage": "bsl", "--stop": "bsp", "--exit-days": "bxd"}
    for flag, key in same.items():
        assert LIMITS[flag] == (ALL_KEYS[key].low, ALL_KEYS[key].high), flag
    for flag, key in (("--rate", "rate"), ("--div", "div"), ("--profit-target", "bpt")):
        assert tuple(100 * x for x in LIMITS[flag]) == pytest.approx((ALL_KEYS[key].low, ALL_KEYS[key].high)), flag
    # At the top of the range a plan builds; just past it the command refuses in one line.
    top = str(ALL_KEYS["vix"].high)
    assert run("plan", "--spx", "6000", "--vix", top, "--tier", "moderate", "--json").returncode == 0
    past = run("plan", "--spx", "6000", "--vix", str(ALL_KEYS["vix"].high + 1), "--tier", "moderate")
    assert past.returncode == 2 and len(past.stderr.strip().splitlines()) == 1


@pytest.mark.data
def test_backtest_reports_its_sizing_and_writes_every_trade(data_dir, tmp_path):
    """The Done-when of the hedge's verdict: equity sizing and the position's hedge by default, no VIX trade
    before the listing, every trade in one file."""
    out = run("backtest", "--data-dir", str(data_dir), "--start", "2005-06-01", "--end", "2006-12-29",
              "--strategy", "weekly", "--trades-out", str(tmp_path / "trades.csv"), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["config"]["sizing"] == "equity" and result["config"]["hedge_sizing"] == "max_loss"
    assert result["config"]["settlement"] == "open" and result["hedge_starts"] >= "2006-02-24"
    trades = pd.read_csv(tmp_path / "trades.csv")
    assert list(trades.columns) == ["kind", "layer", "bought", "sold", "expiry", "strike", "contracts", "price",
                                    "cost", "max_loss"]
    hedges = trades[trades["kind"] != "condor"]
    assert len(hedges) and (hedges["bought"] >= "2006-02-24").all() and hedges["max_loss"].isna().all()
    condors = trades[trades["kind"] == "condor"]
    assert (condors["max_loss"] > 0).all() and (condors["cost"] < 0).all()   # a credit received
    assert len(condors) + result["condors_without_contract"] == result["condors"]
    synthetic = json.loads(run("backtest", "--data-dir", str(data_dir), "--start", "2005-06-01", "--end",
                               "2006-12-29", "--strategy", "weekly", "--synthetic-hedge", "--json").stdout)
    assert synthetic["hedge_starts"] < "2006-02-24" and synthetic["config"]["synthetic_hedge"]
