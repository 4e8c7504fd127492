"""The Builder page through Streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.strategy.plan import plan_condor
from alvh_core.strategy.sizing import RiskBudget
from alvh_core.strategy.tiers import find_tier, load_tiers
from tests.app.date_sliders import KEYS, move, slider_data

TIMEOUT = 60
APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app(monkeypatch, tmp_path) -> AppTest:
    monkeypatch.delenv("ALVH_DATA_DIR", raising=False)
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/builder.py").run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label_start: str) -> str:
    for m in at.metric:
        if m.label.startswith(label_start):
            return m.value
    raise AssertionError(f"no metric {label_start!r}: {[m.label for m in at.metric]}")


def test_builder_renders_offline_with_the_engine_numbers(app):
    expected = plan_condor(DEFAULT_MARKET, find_tier(load_tiers(), "Conservative"), RiskBudget())
    assert _metric(app, "Credit / contract") == f"${expected.metrics.credit:,.0f}"
    assert _metric(app, "POP (risk-neutral)") == f"{expected.metrics.pop:.1%}"
    assert _metric(app, "Contracts") == f"{expected.chosen.contracts:,}"
    assert _metric(app, "POP (empirical)") == "n/a"
    assert not app.error
    assert any("Educational software" in c.value for c in app.caption)


def test_the_default_builder_holds_a_position_with_dates_and_fills(app):
    """$1,000 of risk on $100,000 (1 %) cannot hold one SPX condor: Auto trades XSP, one tenth the size."""
    assert int(_metric(app, "Contracts (XSP)").replace(",", "")) > 0
    ticket = next(c.value for c in app.caption if "-settled)" in c.value)
    expiry = plan_condor(DEFAULT_MARKET, find_tier(load_tiers(), "Conservative"), RiskBudget()).condor.expiry
    assert f"{expiry.day:%a %d %b %Y}" in ticket and "XSP" in ticket and "natural" in ticket
    assert expiry.day.weekday() < 5
    app.selectbox(key="u").select("SPX").run()
    assert not app.exception and _metric(app, "Contracts (SPX)") == "0"
    app.slider(key="fs").set_value(0).run()  # a fill at mid: the credit is the model mid
    expected = plan_condor(DEFAULT_MARKET, find_tier(load_tiers(), "Conservative"), RiskBudget(), underlying="SPX",
                           fill_share=0.0)
    assert _metric(app, "Credit / contract") == f"${expected.metrics.credit_mid:,.0f}"


def test_changing_tier_and_budget_changes_the_numbers(app):
    before = (_metric(app, "Credit / contract"), _metric(app, "Contracts"))
    app.selectbox(key="t").select("Aggressive").run()
    assert not app.exception
    after_tier = (_metric(app, "Credit / contract"), _metric(app, "Contracts"))
    assert after_tier != before
    risk = lambda: float(_metric(app, "Position max loss").strip("$").replace(",", ""))  # noqa: E731
    at_one = risk()
    app.number_input(key="_r").set_value(2.0).run()
    assert not app.exception
    capped = [i.value for i in app.info if i.value.startswith("Sized at 1 % of notional")]
    if capped:   # the 2 % gate is closed on this market: the page keeps 1 % and says why
        assert risk() == at_one and "the gate is closed" in capped[0]
        app.checkbox(key="gov").check().run()
        assert app.query_params["gov"] == "true"
    # Twice the budget: about twice the position (whole contracts fill at least three quarters of it).
    assert 1.5 * at_one <= risk() <= 2_000.0


def test_market_inputs_reprice_and_mark_the_source_manual(app):
    key = next(w.key for w in app.number_input if w.key and w.key.startswith("mkt_vix_"))
    app.number_input(key=key).set_value(30.0).run()
    assert not app.exception
    high = plan_condor(DEFAULT_MARKET.with_changes(vix=30.0, source="manual"),
                       find_tier(load_tiers(), "Conservative"), RiskBudget())
    assert _metric(app, "Credit / contract") == f"${high.metrics.credit:,.0f}"


def test_empirical_pop_appears_with_a_history_folder(monkeypatch, tmp_path, data_dir):
    monkeypatch.setenv("ALVH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/builder.py").run()
    assert not at.exception
    assert _metric(at, "POP (empirical)").endswith("%")


def _builder_with(monkeypatch, tmp_path, params: dict) -> AppTest:
    monkeypatch.delenv("ALVH_DATA_DIR", raising=False)
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("app_pages/builder.py")  # the link opens on /builder itself
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Builder" and at.metric  # the first run shows the numbers…
    at.run()  # …and the browser's next tick the whole page
    assert not at.exception, at.exception
    return at


def test_query_parameters_seed_the_scenario(monkeypatch, tmp_path):
    # 5 % is above anything the 2 % gate allows: the link carries the override that sizes at it.
    at = _builder_with(monkeypatch, tmp_path, {"t": "aggressive", "r": "5", "h": "single", "d": "30", "gov": "true"})
    assert any("your override" in w.value for w in at.warning)
    assert at.selectbox(key="t").value == "Aggressive"
    assert at.number_input(key="_r").value == 5.0 and at.selectbox(key="h").value == "single"
    expected = plan_condor(DEFAULT_MARKET, find_tier(load_tiers(), "Aggressive"), RiskBudget(risk_pct=5.0), days=30.0)
    assert _metric(at, "Credit / contract") == f"${expected.metrics.credit:,.0f}"
    assert _metric(at, "Contracts") == f"{expected.chosen.contracts:,}"
    assert all("could not use" not in w.value for w in at.warning)
    capped = _builder_with(monkeypatch, tmp_path, {"t": "aggressive", "r": "5", "h": "single", "d": "30"})
    assert any(i.value.startswith("Sized at") and "never risks more than 2 %" in i.value for i in capped.info)
    assert int(_metric(capped, "Contracts")) < expected.chosen.contracts


def test_garbage_parameters_show_a_notice_and_keep_the_rest(monkeypatch, tmp_path):
    at = _builder_with(monkeypatch, tmp_path, {"t": "moderate", "r": "-7", "d": "banana", "zzz": "1",
                                               "h": "<script>", "days": "14"})
    notice = " ".join(w.value for w in at.warning)
    assert "could not use" in notice and "`zzz`" in notice and "`r` = `-7`" in notice and "`banana`" in notice
    assert "`<script>`" in notice
    assert at.selectbox(key="t").value == "Moderate" and at.select_slider(key="d").value == 14  # the alias 'days' works
    assert not at.error


def test_hedge_scheme_changes_the_hedge_numbers(monkeypatch, tmp_path):
    app = _builder_with(monkeypatch, tmp_path, {"n": "1000000"})   # a book whose hedge holds whole VIX contracts
    premium = _metric(app, "Hedge premium")
    app.selectbox(key="h").select("none").run()
    assert not app.exception
    assert _metric(app, "Hedge premium") == "$0" != premium
    app.selectbox(key="h").select("vxth").run()
    assert _metric(app, "Hedge budget") == "1.0 %"  # VIX 16.90: the 30-day future sits in 15-30


def test_dates_past_the_condors_expiry_are_brought_back_with_a_note(monkeypatch, tmp_path):
    at = _builder_with(monkeypatch, tmp_path, {"hz": "30", "sd": "60"})
    for key in KEYS:
        data = slider_data(at, key)
        assert data["value"] == len(data["ticks"]) - 1 == 7, (key, data["value"])
        assert data["ticks"][0] == "today" and data["ticks"][7].startswith("T+7 · ")
    assert at.query_params["hz"] == "7" and at.query_params["sd"] == "7"
    notes = " ".join(i.value for i in at.info)
    assert "horizon (30 days)" in notes and "scenario date (60 days)" in notes
    assert not at.error


def test_scenario_date_moves_the_stress_table_not_the_headline(monkeypatch, tmp_path):
    app = _builder_with(monkeypatch, tmp_path, {"n": "1000000"})   # a book whose hedge holds whole VIX contracts
    data = slider_data(app, "sd")
    combined = data["columns"].index("Combined")
    days = [[row[combined] for row in rows] for rows in data["rows"]]
    assert len(days) == len(data["ticks"]) and days[0] != days[5]   # a table per day, and they differ
    headline = [(m.label, m.value) for m in app.metric]
    move(app, "sd", 5)
    assert not app.exception
    assert slider_data(app, "sd")["value"] == 5 and app.query_params["sd"] == "5"
    assert [(m.label, m.value) for m in app.metric] == headline
    assert float(_metric(app, "Breakeven VIX")) > DEFAULT_MARKET.vix  # decay must be earned back by expiry


def _month(label: str) -> int:
    """The month of a column label such as "Wed 08 Jul"."""
    return ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].index(label[7:10]) + 1


def test_pnl_over_time_tab_is_the_engine_table(app):
    from datetime import date

    import numpy as np

    from alvh_core.data.events import load_events
    from alvh_core.strategy.payoff import pnl_table
    from alvh_core.strategy.position import HedgeContext, Scenario, build_position
    from alvh_core.strategy.signals import regime_report

    app.session_state["b_tab"] = "P/L over time"
    app.run()
    assert not app.exception
    frame = next(d.value for d in app.dataframe if "SPX" in d.value.columns)
    market = DEFAULT_MARKET
    levels = {"spx": market.spot, "vix": market.vix, "vix9d": market.vix9d, "vix3m": market.vix3m,
              "vix6m": market.vix6m, "vvix": market.vvix}
    report = regime_report(None, market.asof, levels, market.source, load_events())
    nxt = load_events().next_any(date.fromisoformat(report.asof))
    context = HedgeContext(report.regime, report.hedge_budget_pct, report.stress_score, report.rebalance_trigger,
                           nxt.days_away, report.hedge_band[1])
    position = build_position(market, Scenario(find_tier(load_tiers(), "Conservative"), RiskBudget()), context,
                              with_view=False)
    expected = pnl_table(position.condor, max(position.contracts, 1), position.hedge, market, market.vol_model(),
                         asof=date.fromisoformat(market.asof))
    shown = [date.fromisoformat(f"{market.asof[:4]}-01-01").replace(
        month=_month(c), day=int(c[4:6])) for c in frame.columns[1:-1]]
    assert all(day.weekday() < 5 for day in shown)   # trading days
    assert frame.columns[-1].endswith("(expiry)") and len(frame) == expected.spx.size
    np.testing.assert_allclose(frame["SPX"].to_numpy(float), expected.spx)
    np.testing.assert_allclose(frame.iloc[:, 1:].to_numpy(float), expected.combined, rtol=1e-9, atol=1e-6)
    assert any(b.label == "P/L table (CSV)" for b in app.get("download_button"))
    # The book's greeks over the same dates: the engine's, row by row (shown rounded).
    from alvh_core.strategy.payoff import BOOK_GREEK_ROWS, book_greeks

    greeks = next(d.value for d in app.dataframe if "Book greek" in d.value.columns)
    assert list(greeks["Book greek"]) == list(BOOK_GREEK_ROWS)
    assert list(greeks.columns[1:]) == list(frame.columns[1:])
    engine = book_greeks(position.condor, max(position.contracts, 1), position.hedge, market, market.vol_model(),
                         expected.days)
    np.testing.assert_allclose(greeks.iloc[:, 1:].to_numpy(float), engine, rtol=1e-9, atol=1e-9)


def test_dated_lines_join_the_payoff_chart_and_the_link(app):
    chart = lambda: next(c for c in app.get("plotly_chart") if "b_payoff_chart" in c.proto.id)  # noqa: E731
    before = str(chart().proto.spec).count('"name"')
    options = app.multiselect(key="hzl").options
    assert len(options) >= 3
    app.multiselect(key="hzl").select(options[1]).select(options[2]).run()
    assert not app.exception
    assert str(chart().proto.spec).count('"name"') >= before + 2
    days = sorted(int(o.split("T+")[1].rstrip(")")) for o in options[1:3])
    assert app.query_params["hzl"] == ",".join(str(d) for d in days)
