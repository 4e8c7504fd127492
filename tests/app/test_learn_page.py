"""The Learn page (AppTest): the method's charts, the glossary, and the claims table the engine fills."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.strategy.sizing import compare_tiers
from alvh_core.strategy.tiers import load_tiers

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _learn(monkeypatch, tmp_path, params: dict | None = None, data_dir: Path | None = None) -> AppTest:
    if data_dir is None:
        monkeypatch.delenv("ALVH_DATA_DIR", raising=False)
    else:
        monkeypatch.setenv("ALVH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("app_pages/learn.py")
    at.query_params.update(params or {})
    at.run()
    assert not at.exception, at.exception
    return at


def _claims(at: AppTest):
    table = next(t.value for t in at.table if "The engine today" in t.value.columns)
    return table.set_index(table["Claim"].str.replace("\\", "", regex=False))


def _row(at: AppTest, start: str):
    claims = _claims(at)
    return claims.loc[next(c for c in claims.index if c.startswith(start))]


def test_the_page_explains_with_live_charts_and_lists_every_claim(monkeypatch, tmp_path):
    at = _learn(monkeypatch, tmp_path)
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) >= 4                                     # spike, decay, layers, tiers (regimes need history)
    claims = _claims(at)
    assert list(claims["Seed"]) == ["000", "001", "001", "001", "004", "003", "002", "002/004"]
    assert all("needs the history" in v for v in claims["The backtest on the loaded history"])
    assert set(claims["Page"]) >= {"[open](/tiers)", "[open](/)", "[open](/hedge-lab)"}
    # The engine's words carry its numbers: seed 000's ratios are compare_tiers' for the budget.
    ratio = compare_tiers(DEFAULT_MARKET, load_tiers(), 50_000.0).ratio
    engine = _row(at, "For one risk budget")["The engine today"].replace("\\", "")
    assert f"max loss {ratio['max_loss']:.2f}×" in engine and f"expected loss {ratio['expected_loss']:.2f}×" in engine
    glossary = next(t.value for t in at.table if "Here" in t.value.columns)
    assert len(glossary) >= 25 and any("not computable" in h or "No computable" in h.replace("\\", "")
                                       for h in glossary["Here"])


def test_changing_the_inputs_changes_the_claims_numbers(monkeypatch, tmp_path):
    at = _learn(monkeypatch, tmp_path)
    before = _claims(at)["The engine today"].tolist()
    at.number_input(key="eb").set_value(20_000.0).run()
    at.number_input(key="_n").set_value(1_000_000.0).run()   # the session's account: ten times the default
    assert not at.exception
    assert at.query_params["eb"] == "20000" and at.query_params["n"] == "1000000"
    after = _claims(at)["The engine today"].tolist()
    assert after[0] != before[0] and "20,000" in after[0]           # the tier comparison's budget
    assert after[2] != before[2]                                      # the account's condor and its hedges
    # Seed 001's worked example is checked at its own numbers, whatever the account.
    assert after[3] == before[3] and "Seed 001's $5,000 of risk on $100,000" in after[3].replace("\\", "")
    # A pinned market in the link moves the regime's row and the stress rows.
    high = _learn(monkeypatch, tmp_path, {"pin": "true", "vix": "32"})
    regimes = _row(high, "Hedge about")["The engine today"].replace("\\", "")
    assert "VIX 32.00: High regime" in regimes
    assert _row(high, "A fixed 10")["The engine today"] != _row(at, "A fixed 10")["The engine today"]


def test_the_glossary_filter_travels_in_the_link(monkeypatch, tmp_path):
    at = _learn(monkeypatch, tmp_path, {"eq": "wacc"})
    glossary = next(t.value for t in at.table if "Here" in t.value.columns)
    assert len(glossary) == 1 and "WACC" in glossary["Term"].iloc[0]
    at.text_input[0].set_value("cvar").run()
    assert at.query_params["eq"] == "cvar"
    glossary = next(t.value for t in at.table if "Here" in t.value.columns)
    assert any("CVaR" in t for t in glossary["Term"])


@pytest.mark.data
def test_the_history_columns_are_the_backtests(monkeypatch, tmp_path, data_dir):
    from alvh_core.data.closes import load_history_folder
    from alvh_core.history import backtest as bt

    at = _learn(monkeypatch, tmp_path, data_dir=data_dir)
    at.button(key="e_history_run").click().run()
    assert not at.exception, at.exception
    m = bt.market_arrays(load_history_folder(data_dir).panel, source="file")
    result = bt.run_backtest(m, bt.BacktestConfig(strategy="daily", tier=load_tiers()[1]), ("none", "alvh"),
                             smaller=False)
    stats = result.stats["alvh"]
    pays = _row(at, "Across cycles")["The backtest on the loaded history"].replace("\\", "")
    assert f"hedge P/L −${abs(stats.hedge_pnl):,.0f}" in pays or f"hedge P/L ${stats.hedge_pnl:,.0f}" in pays
    assert f"CAGR {100 * stats.performance.cagr:.1f} %" in pays
    assert "Trading smaller" in _row(at, "Across cycles")["Trade smaller instead"].replace("\\", "")
    assert not any("needs the history" in v for v in _claims(at)["The backtest on the loaded history"])
