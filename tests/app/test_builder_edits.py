"""Editing the position on the Builder (AppTest): every kind of leg, the link
that carries the edits, the chain's quotes and the model beside them."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from streamlit.testing.v1 import AppTest

from alvh_core.data.listings import spx_expiries

TIMEOUT = 90
APP = str(Path(__file__).resolve().parents[2] / "app.py")
DAY = "2022-02-04"
BASE = {"ad": DAY, "t": "Moderate", "n": "1000000"}


def _builder(monkeypatch, tmp_path, data_dir, params: dict) -> AppTest:
    monkeypatch.setenv("ALVH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("app_pages/builder.py")
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def _frame(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _ticket(at: AppTest):
    at.session_state["b_tab"] = "Legs (trade ticket)"
    at.run()
    assert not at.exception, at.exception
    return _frame(at, "Net limit (per structure)")


def _select(at: AppTest, label: str):
    return next(s for s in at.selectbox if s.label == label)


def _raw_quote(data_dir: Path, root: str, expiry: date, strike: float, kind: str) -> tuple[float, float]:
    with open(data_dir / "chains" / f"spx_quotedata_{DAY}.csv", newline="", encoding="utf-8-sig") as f:
        for r in csv.reader(f):
            if len(r) >= 22 and r[1].rstrip("0123456789CP") and r[1][:len(root)] == root and r[1][len(root)].isdigit():
                if datetime.strptime(r[0], "%a %b %d %Y").date() == expiry and float(r[11]) == strike:
                    return (float(r[4]), float(r[5])) if kind == "CALL" else (float(r[15]), float(r[16]))
    raise AssertionError(f"no {root} {strike} {kind} {expiry} in the file")


def test_legs_at_the_chains_quotes_with_the_model_beside_them(monkeypatch, tmp_path, data_dir):
    at = _builder(monkeypatch, tmp_path, data_dir, BASE)
    ticket = _ticket(at)
    condor = ticket[ticket["Order"] == "Condor"]
    assert set(condor["Priced at"]) == {f"Cboe chain spx_quotedata_{DAY}.csv"}
    for row in condor.itertuples():
        bid, ask = _raw_quote(data_dir, row.Root, date.fromisoformat(row.Expiry), row.Strike, row.Type)
        assert row._9 == round((bid + ask) / 2, 2)   # "Leg price": the file's mid to the cent
    table = _frame(at, "Model − market (vol pts)")
    assert len(table) == 4
    assert (abs(table["Mid"] - (table["Bid"] + table["Ask"]) / 2) < 1e-6).all()
    assert (abs(table["Model − mid (pts)"] - (table["Model"] - table["Mid"])) < 0.011).all()


def test_each_kind_of_edit_changes_the_outputs_and_the_link(monkeypatch, tmp_path, data_dir):
    at = _builder(monkeypatch, tmp_path, data_dir, BASE)
    credit, premium = _metric(at, "Credit / contract"), _metric(at, "Hedge premium")
    # A wing: the long put one strike further out.
    long_put = _select(at, "Long put")
    lower = max(k for k in long_put.options if float(k) < float(long_put.value))
    long_put.set_value(float(lower)).run()
    assert not at.exception, at.exception
    assert at.query_params["lg"].startswith(f"{float(lower):g}/")
    assert _metric(at, "Credit / contract") != credit
    # The expiry: a listed monthly.
    monthly = next(e for e in spx_expiries(date(2022, 2, 4)) if e.day == date(2022, 3, 18))
    assert monthly.root == "SPX" and any(o.startswith("Fri 18 Mar 2022 · SPX AM (monthly)")
                                         for o in _select(at, "Condor expiry (listed)").options)
    _select(at, "Condor expiry (listed)").set_value(monthly).run()
    assert not at.exception, at.exception
    assert at.query_params["ex"] == "2022-03-18"
    assert set(_ticket(at).query("Order == 'Condor'")["Root"]) == {"SPX"}
    # Quantity and a typed limit.
    at.number_input(key="q").set_value(7).run()
    assert _metric(at, "Contracts") == "7"
    at.number_input(key="lim").set_value(9.5).run()
    assert _metric(at, "Credit / contract") == "$950"
    # A VIX call and an SPX put added; a layer left out.
    at.radio(key="xa_kind").set_value("VIX call")
    at.number_input(key="xa_q").set_value(5)
    at.button(key="xa_add").click().run()
    assert at.query_params["xl"].startswith("V+5C")
    with_vix = _metric(at, "Hedge premium")
    assert with_vix != premium
    at.radio(key="xa_kind").set_value("SPX put").run()
    at.button(key="xa_add").click().run()
    assert "S+5P" in at.query_params["xl"]
    ticket = _ticket(at)
    assert {r[:3] for r in ticket.loc[ticket["Order"] == "Hedge: Your legs", "Root"]} == {"VIX", "SPX"}
    at.multiselect(key="lo").set_value(["tail"]).run()
    assert at.query_params["lo"] == "tail"
    assert "Hedge: Tail" not in set(_ticket(at)["Order"])
    link = {k: at.query_params[k] for k in at.query_params}
    metrics = [(m.label, m.value) for m in at.metric]
    ticket = _ticket(at)
    # The link opened fresh shows the same position.
    fresh = _builder(monkeypatch, tmp_path, data_dir, link)
    assert [(m.label, m.value) for m in fresh.metric] == metrics
    assert _ticket(fresh).equals(ticket)
    assert not [w.value for w in fresh.warning if "costs more than the condor earns" not in w.value]
    # Back to the tier's condor: every edit leaves the link.
    at.button(key="b_reset").click().run()
    assert not {"lg", "ex", "q", "lim", "lo", "xl"} & set(at.query_params)
    assert _metric(at, "Credit / contract") == credit


def test_a_link_with_an_unlisted_strike_says_so_and_shows_the_tiers_position(monkeypatch, tmp_path, data_dir):
    at = _builder(monkeypatch, tmp_path, data_dir, BASE | {"lg": "4181/4210/4705/4730"})
    assert any("could not be used" in w.value and "4181" in w.value for w in at.warning)
    tier = _builder(monkeypatch, tmp_path, data_dir, BASE)
    assert _metric(at, "Credit / contract") == _metric(tier, "Credit / contract")


def test_the_gate_decides_the_size_unless_overridden_in_the_link(monkeypatch, tmp_path, data_dir):
    from alvh_core.strategy.sizing import two_percent_gate

    asked = _builder(monkeypatch, tmp_path, data_dir, {"ad": "2020-02-19", "t": "Moderate", "n": "1000000", "r": "2"})
    one = _builder(monkeypatch, tmp_path, data_dir, {"ad": "2020-02-19", "t": "Moderate", "n": "1000000", "r": "1"})
    note = next(i.value for i in asked.info if i.value.startswith("Sized at 1 % of notional"))
    # The data folder has no breadth series: that check is unknown, and unknown is not a pass.
    assert "unknown until you give it: Breadth proxy not falling" in note
    # Closed on that day: the headline is the 1 % position, not the 2 % asked.
    assert _metric(asked, "Contracts") == _metric(one, "Contracts")
    assert two_percent_gate(2.0, "Low", 50.0, False, -1.0).allowed_pct == 1.0
    asked.checkbox(key="gov").check().run()
    assert asked.query_params["gov"] == "true"
    assert int(_metric(asked, "Contracts").replace(",", "")) > int(_metric(one, "Contracts").replace(",", ""))
    assert any("your override" in w.value for w in asked.warning)
    fresh = _builder(monkeypatch, tmp_path, data_dir, {k: asked.query_params[k] for k in asked.query_params})
    assert _metric(fresh, "Contracts") == _metric(asked, "Contracts")


def test_a_budget_that_buys_no_condor_buys_no_hedge(monkeypatch, tmp_path, data_dir):
    at = _builder(monkeypatch, tmp_path, data_dir, {"n": "5000", "u": "SPX"})
    assert _metric(at, "Contracts") == "0"
    assert _metric(at, "Hedge premium") == "$0" and _metric(at, "VIX notional") == "$0"
    assert any(i.value.startswith("The budget buys no condor, so no hedge is bought") for i in at.info)


def test_management_rules_mark_the_chart_list_triggers_and_send_the_structure_to_the_backtest(
        monkeypatch, tmp_path, data_dir):
    import json

    from alvh_core.history.backtest import parse_shape

    at = _builder(monkeypatch, tmp_path, data_dir, {"ad": "2020-02-19", "t": "Moderate", "n": "1000000",
                                                    "lg": "3200/3250/3480/3500", "hz": "10"})
    assert not [c for c in at.caption if "Management marks" in c.value]
    at.number_input(key="mpt").set_value(50)
    at.number_input(key="msp").set_value(2.0)
    at.number_input(key="mxd").set_value(7)
    at.number_input(key="mtr").set_value(1.0).run()
    assert not at.exception, at.exception
    assert {k: at.query_params[k] for k in ("mpt", "msp", "mxd", "mtr")} == {"mpt": "50", "msp": "2", "mxd": "7",
                                                                              "mtr": "1"}
    chart = next(c for c in at.get("plotly_chart") if "b_payoff_chart" in c.proto.id)
    ticks = " ".join(json.loads(chart.proto.spec)["layout"]["xaxis2"]["ticktext"])
    assert all(name in ticks for name in ("target", "stop", "roll put", "roll call"))
    at.session_state["b_tab"] = "Management"
    at.run()
    triggers = _frame(at, "Stop: SPX at or below")
    assert len(triggers) >= 5 and (triggers["Put side tested at SPX ≤"] == "3,282").all()
    rolls = _frame(at, "Expected cost per roll (model)")
    assert list(rolls["Layer"]) == ["Base", "Adaptive", "Tail"]
    at.button(key="b_to_backtest").click().run()
    assert not at.exception, at.exception
    shape, days = parse_shape(at.query_params["bshp"])
    assert at.query_params["bst"] == "weekly" and days == 21 and shape[2] > shape[3]   # the wider put wing
    assert {at.query_params[k] for k in ("bpt", "bsp", "bxd")} == {"50", "2", "7"}
    assert any(i.value.startswith("Your structure from the Builder") for i in at.info)
    assert _metric(at, "Condors traded")
    at.button(key="b_drop_shape").click().run()
    assert "bshp" not in at.query_params and not any(i.value.startswith("Your structure") for i in at.info)


def test_a_stranded_link_shows_the_tiers_position_one_message_and_the_way_back(monkeypatch, tmp_path):
    """SPX strikes asked at a budget the 2 % gate cuts to XSP size: the page showed one sentence and nothing
    else.  Now the tier's position at the gate's size, one message saying what would build the edits, and
    "Back to the tier's condor"."""
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ALVH_DATA_DIR", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("app_pages/builder.py")
    at.query_params.update({"t": "Moderate", "bm": "usd", "b": "5000", "lg": "7125/7150/7720/7775",
                            "xl": "V+2C25@2026-09-16", "q": "2"})
    at.run()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.metric and any(m.label.startswith("Credit") for m in at.metric)
    messages = [w.value.replace("\\", "") for w in at.warning if "could not be built" in w.value.replace("\\", "")]
    assert len(messages) == 1, [w.value for w in at.warning]
    assert "choose SPX as the underlying" in messages[0] and "anyway" in messages[0]
    assert any("are not used" in m.value for m in at.markdown)   # the panel says the same, not "edited"
    back = at.button(key="b_reset")
    assert not back.disabled
    back.click().run()
    assert not at.exception and "lg" not in at.query_params and "xl" not in at.query_params
