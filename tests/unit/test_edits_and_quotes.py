"""A trader's own position: edits checked against the listings, legs priced at
the real chains' quotes (read back from the files with the csv module, not
the app's reader), hedge legs against QuantLib, the ticket and the scenario
file."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import date, datetime

import numpy as np
import pytest

from alvh_core.data.chains import read_cboe_chain_file
from alvh_core.model.snapshot import choose_snapshot
from alvh_core.model.vixfutures import vix_option_vol
from alvh_core.present.links import MARKET_KEYS, SCENARIO_KEYS, link_for, read_link
from alvh_core.present.ticket import ScenarioFileError, read_scenario, scenario_document, ticket_rows
from alvh_core.strategy.edits import AddedLeg, PositionEdits, parse_added, parse_strikes, vix_expiries, vix_future_on
from alvh_core.strategy.payoff import condor_value_grid
from alvh_core.strategy.position import HedgeContext, Scenario, build_position
from alvh_core.strategy.quotes import from_cboe
from alvh_core.strategy.sizing import RiskBudget
from alvh_core.strategy.tiers import find_tier, load_tiers

ql = pytest.importorskip("QuantLib")
DAYS = ("2022-02-04", "2023-02-07")


def _raw_quotes(path) -> dict:
    """(root, expiry, strike, kind) -> (bid, ask), straight from the Cboe file."""
    out = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Expiration Date")
    for r in rows[header + 1:]:
        if len(r) < 22:
            continue
        expiry = datetime.strptime(r[0], "%a %b %d %Y").date()
        root = "".join(ch for ch in r[1][:5] if ch.isalpha())
        strike = float(r[11])
        out[(root, expiry, strike, "call")] = (float(r[4]), float(r[5]))
        out[(root, expiry, strike, "put")] = (float(r[15]), float(r[16]))
    return out


@pytest.fixture(scope="module")
def day_markets(real_history):
    return {day: choose_snapshot(files=real_history, asof=day).market for day in DAYS}


NO_EDITS = PositionEdits()


def _position(market, history=None, quotes=None, edits=NO_EDITS, fill=0.5, tier="Moderate",
              notional=1_000_000.0):
    scenario = Scenario(tier=find_tier(load_tiers(), tier), budget=RiskBudget(notional, 1.0), fill_share=fill,
                        underlying="SPX", edits=edits, quotes=quotes)
    return build_position(market, scenario, HedgeContext.from_vix(market.vix), history, with_view=False)


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("tier", ["Conservative", "Moderate", "Aggressive"])
def test_legs_priced_at_the_chain_match_the_file_to_the_cent(data_dir, day_markets, day, tier):
    path = data_dir / "chains" / f"spx_quotedata_{day}.csv"
    raw = _raw_quotes(path)
    market = day_markets[day]
    quotes = from_cboe(read_cboe_chain_file(path), path.name)
    for fill in (0.0, 1.0):
        position = _position(market, quotes=quotes, fill=fill, tier=tier)
        assert position.quoted is not None, position.quote_note
        condor = position.condor
        mid_credit = natural = 0.0
        for leg, q in zip(condor.legs, position.quoted.legs, strict=True):
            bid, ask = raw[(condor.expiry.root, condor.expiry.day, leg.strike, leg.kind)]
            assert (q.bid, q.ask) == (bid, ask)
            assert round(leg.price, 2) == round((bid + ask) / 2, 2) or abs(leg.price - (bid + ask) / 2) < 1e-9
            mid_credit -= leg.side * (bid + ask) / 2
            natural += bid if leg.side < 0 else -ask
        expected = (mid_credit if fill == 0 else natural) * 100
        assert position.plan.metrics.credit == pytest.approx(expected, abs=0.005)
        assert position.plan.metrics.max_loss == pytest.approx(
            max(condor.put_width, condor.call_width) * 100 - expected, abs=0.005)


def _black(forward, strike, years, discount, vol, kind):
    option = ql.Option.Call if kind == "call" else ql.Option.Put
    return ql.blackFormula(option, strike, forward, vol * np.sqrt(years), discount)


def test_market_vols_reprice_the_mids_and_the_marks_start_from_them(data_dir, day_markets):
    day = "2023-02-07"
    market = day_markets[day]
    path = data_dir / "chains" / f"spx_quotedata_{day}.csv"
    position = _position(market, quotes=from_cboe(read_cboe_chain_file(path), path.name))
    condor = position.condor
    years = condor.days / 365.0
    forward, discount = float(market.forward(condor.days)), float(np.exp(-market.rate * years))
    for q in position.quoted.legs:
        assert _black(forward, q.strike, years, discount, q.market_iv, q.kind) == pytest.approx(q.mid, abs=1e-6)
        assert _black(forward, q.strike, years, discount, q.model_iv, q.kind) == pytest.approx(q.model_price, abs=1e-6)
    # Marked now at today's SPX and VIX, the condor is worth its mids: the P/L is the fill given up.
    now = condor_value_grid(condor, market, market.vol_model(), market.spot, market.vix, 0.0)
    assert float(now) == pytest.approx(-condor.fill_cost * 100, abs=0.05)


def test_a_chain_of_another_day_or_xsp_stays_on_the_model(data_dir, day_markets):
    path = data_dir / "chains" / "spx_quotedata_2022-02-04.csv"
    quotes = from_cboe(read_cboe_chain_file(path), path.name)
    position = _position(day_markets["2023-02-07"], quotes=quotes)
    assert position.quoted is None and "used only on their own day" in position.quote_note
    scenario = Scenario(tier=find_tier(load_tiers(), "Moderate"), budget=RiskBudget(100_000, 1.0),
                        underlying="XSP", quotes=quotes)
    market = day_markets["2022-02-04"]
    xsp = build_position(market, scenario, HedgeContext.from_vix(market.vix), with_view=False)
    assert xsp.quoted is None and "XSP" in xsp.quote_note


def test_edits_are_checked_against_the_listings(day_markets):
    market = day_markets["2022-02-04"]
    tier_position = _position(market)
    strikes = [leg.strike for leg in tier_position.condor.legs]
    with pytest.raises(ValueError, match="not a listed SPXW? strike"):
        _position(market, edits=PositionEdits(strikes=(strikes[0] + 1, *strikes[1:])))
    with pytest.raises(ValueError, match="not a listed SPX expiry"):
        _position(market, edits=PositionEdits(expiry=date(2022, 3, 17)))
    with pytest.raises(ValueError, match="not a listed VIX expiry"):
        _position(market, edits=PositionEdits(added=(AddedLeg("VIX", 1, 30.0, date(2022, 3, 16), 1),)))
    with pytest.raises(ValueError, match="rise"):
        parse_strikes("4200/4100/4700/4800")
    with pytest.raises(ValueError):
        parse_added("V+1P30@2022-03-15")   # VIX puts are not offered


def test_asymmetric_wings_size_and_limit(day_markets):
    market = day_markets["2022-02-04"]
    tier = _position(market)
    lp, sp, sc, lc = (leg.strike for leg in tier.condor.legs)
    edits = PositionEdits(strikes=(sp - 100.0, sp, sc, lc), contracts=3, limit=4.0)
    position = _position(market, edits=edits)
    condor = position.condor
    assert [leg.strike for leg in condor.legs] == [sp - 100.0, sp, sc, lc]
    assert position.contracts == 3
    assert position.plan.metrics.credit == pytest.approx(400.0)
    # Max loss is the wider (put) wing less the credit, on the 3 contracts asked for.
    assert position.plan.metrics.max_loss == pytest.approx(100 * 100.0 - 400.0)
    assert position.plan.chosen.position_max_loss == pytest.approx(3 * (10_000.0 - 400.0))
    assert position.tier_condor.legs[0].strike == lp


def test_added_legs_are_priced_like_quantlib_and_change_the_hedge(day_markets):
    market = day_markets["2022-02-04"]
    expiry = vix_expiries(market)[1]
    spx_put = AddedLeg("SPX", 1, 4000.0, date(2022, 3, 18), 2)
    vix_call = AddedLeg("VIX", 1, 30.0, expiry, 5)
    base = _position(market)
    position = _position(market, edits=PositionEdits(added=(spx_put, vix_call), layers_off=("tail",)))
    layer = next(la for la in position.hedge.layers if la.name == "Your legs")
    by_kind = {leg.underlying: leg for leg in layer.legs}
    v = by_kind["VIX"]
    future = vix_future_on(market, expiry)
    vol = float(vix_option_vol(30.0, future, v.days, market.vvix))
    years = v.days / 365.0
    assert v.price == pytest.approx(_black(future, 30.0, years, np.exp(-market.rate * years), vol, "call"), abs=1e-9)
    s = by_kind["SPX"]
    expected_put = ql.blackFormula(ql.Option.Put, 4000.0, market.spot * np.exp((market.rate - market.div) * s.days / 365),
                                   s.iv * np.sqrt(s.days / 365), np.exp(-market.rate * s.days / 365))
    assert s.price == pytest.approx(expected_put, abs=1e-8)
    assert layer.cost == pytest.approx(100 * (5 * v.price + 2 * s.price))
    tail = next(la for la in position.hedge.layers if la.name == "Tail")
    assert not tail.active and tail.contracts == 0
    base_tail = next(la for la in base.hedge.layers if la.name == "Tail")
    assert position.hedge.total_cost == pytest.approx(base.hedge.total_cost - base_tail.cost + layer.cost)


def test_a_held_vix_leg_pays_its_payoff_and_is_not_rolled(day_markets):
    from alvh_core.strategy.hedge import layer_value_one

    market = day_markets["2022-02-04"]
    expiry = vix_expiries(market)[0]           # 16 Feb 2022: 12 days out
    position = _position(market, edits=PositionEdits(added=(AddedLeg("VIX", 1, 25.0, expiry, 1),)))
    layer = next(la for la in position.hedge.layers if la.name == "Your legs")
    # 30 days on with VIX flat at 23.22: the 25 call expired worthless and nothing was bought again.
    assert layer_value_one(layer, market, market.vix, market.spot, 30.0) == pytest.approx(0.0, abs=1e-9)
    # VIX at 40 on day 30 (a straight line in log VIX): at its expiry (day 12) VIX was 23.22·(40/23.22)^(12/30).
    vix_then = market.vix * (40.0 / market.vix) ** (layer.legs[0].days / 30.0)
    assert layer_value_one(layer, market, 40.0, market.spot, 30.0) == pytest.approx(100 * (vix_then - 25.0), rel=1e-9)


def test_ticket_roots_settlement_and_limit(day_markets, data_dir):
    market = day_markets["2022-02-04"]
    monthly = _position(market, edits=PositionEdits(expiry=date(2022, 3, 18), strikes=(4100.0, 4150.0, 4750.0,
                                                                                        4800.0)))
    rows = ticket_rows(monthly)
    condor_rows = [r for r in rows if r["Order"] == "Condor"]
    assert {(r["Root"], r["Settlement"], r["Expiry"]) for r in condor_rows} == {("SPX", "AM", "2022-03-18")}
    assert condor_rows[0]["Net limit (per structure)"] == f"{monthly.plan.metrics.credit / 100:.2f} CREDIT"
    assert all(r["Quantity"] == monthly.contracts for r in condor_rows)
    vix_rows = [r for r in rows if r["Root"] == "VIX"]
    assert vix_rows and all(r["Settlement"] == "AM (SOQ)" for r in vix_rows)
    # Listed VIX expiries: 30 days before the next SPX monthly (Tue 15 Mar 2022: Good Friday moved April's).
    assert all(date.fromisoformat(r["Expiry"]) in vix_expiries(market) for r in vix_rows)
    assert date(2022, 3, 15) in vix_expiries(market)
    weekly = _position(market)
    assert {r["Root"] for r in ticket_rows(weekly) if r["Order"] == "Condor"} == {"SPXW"}


def test_scenario_file_round_trip_rebuilds_the_same_position(day_markets):
    market = day_markets["2022-02-04"]
    expiry = vix_expiries(market)[1]
    values = {"t": "Aggressive", "n": 1_000_000.0, "lg": (4100.0, 4150.0, 4750.0, 4800.0), "ex": date(2022, 3, 18),
              "q": 4, "lim": 9.5, "lo": ("tail",), "xl": (AddedLeg("VIX", 1, 30.0, expiry, 5),),
              "ad": date(2022, 2, 4)}
    params = link_for(values)
    position = _position(market, edits=PositionEdits(strikes=values["lg"], expiry=values["ex"], contracts=4,
                                                     limit=9.5, layers_off=("tail",), added=values["xl"]),
                         tier="Aggressive")
    text = json.dumps(scenario_document(params, position), default=str)
    reading = read_scenario(text.encode(), SCENARIO_KEYS + MARKET_KEYS)
    assert not reading.notices
    assert reading.values == read_link(params, SCENARIO_KEYS + MARKET_KEYS).values
    back = reading.values
    again = _position(market, edits=PositionEdits(strikes=back["lg"], expiry=back["ex"], contracts=back["q"],
                                                  limit=back["lim"], layers_off=back["lo"], added=back["xl"]),
                      tier=back["t"])
    assert ticket_rows(again) == ticket_rows(position)
    assert json.loads(text)["summary"]["ticket"] == json.loads(json.dumps(ticket_rows(position), default=str))


@pytest.mark.parametrize("raw, reason", [(b"\xff\xfe", "UTF-8"), (b"{not json", "not JSON"),
                                         (b'{"format": "other"}', "not an ALVH Studio scenario"),
                                         (b'{"format": "alvh-studio-scenario"}', "no \\\"inputs\\\"")])
def test_bad_scenario_files_say_why(raw, reason):
    with pytest.raises(ScenarioFileError, match=reason):
        read_scenario(raw, SCENARIO_KEYS)


def test_a_scenario_with_a_bad_value_keeps_the_rest_with_a_notice():
    doc = {"format": "alvh-studio-scenario", "inputs": {"t": "Moderate", "lg": "1/2/3", "q": 5}}
    reading = read_scenario(json.dumps(doc), SCENARIO_KEYS)
    assert reading.values == {"t": "Moderate", "q": 5}
    assert any(n.name == "lg" for n in reading.notices)


def test_yahoo_chain_frames_price_the_condor_through_the_seam(day_markets, data_dir):
    """Yahoo's frames (contractSymbol, strike, bid, ask, impliedVolatility) for the day of a real chain."""
    import pandas as pd

    from alvh_core.data.live import fetch_spx_chain
    from alvh_core.strategy.quotes import from_yahoo

    market = day_markets["2022-02-04"]
    rows = read_cboe_chain_file(data_dir / "chains" / "spx_quotedata_2022-02-04.csv").rows
    wanted = rows[(rows["expiration"] == "2022-02-28") & (rows["root"] == "SPXW")]
    calls = pd.DataFrame({"contractSymbol": wanted["call_symbol"], "strike": wanted["strike"],
                          "bid": wanted["call_bid"], "ask": wanted["call_ask"], "impliedVolatility": 0.2})
    puts = pd.DataFrame({"contractSymbol": wanted["put_symbol"], "strike": wanted["strike"],
                         "bid": wanted["put_bid"], "ask": wanted["put_ask"], "impliedVolatility": 0.2})
    result = fetch_spx_chain(getter=lambda n: {"2022-02-28": (calls, puts)})
    assert result.ok and set(result.frame["root"]) == {"SPXW"}
    live = from_yahoo(result.frame, date(2022, 2, 4))
    file_priced = _position(market, quotes=from_cboe(read_cboe_chain_file(data_dir / "chains" /
                                                                     "spx_quotedata_2022-02-04.csv"), "file"))
    yahoo_priced = _position(market, quotes=live)
    assert yahoo_priced.quoted is not None
    assert [q.mid for q in yahoo_priced.quoted.legs] == [q.mid for q in file_priced.quoted.legs]
    # A rate-limited or empty answer leaves the model in charge, with the reason.
    from alvh_core.data.live import YahooError

    def limited(n):
        raise YahooError("Too Many Requests. Rate limited. Try after a while.")

    assert fetch_spx_chain(getter=limited).status == "rate_limited"
    assert replace(live, quote_date=date(2022, 2, 3)).quote_date != date(2022, 2, 4)
