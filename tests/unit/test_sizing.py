"""Sizing, the 2 % gate, slippage and the tier comparison (seed 000)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.strategy.condor import build_condor, condor_metrics
from alvh_core.strategy.sizing import (
    MEASURES,
    RiskBudget,
    SlippageModel,
    compare_tiers,
    scale_table,
    size_position,
    smaller_contracts,
    smaller_fraction,
    two_percent_gate,
)
from alvh_core.strategy.tiers import TierTableError, find_tier, load_tiers

TIERS = load_tiers()


@pytest.fixture(scope="module")
def metrics():
    return condor_metrics(build_condor(DEFAULT_MARKET, find_tier(TIERS, "moderate")))


def test_budget_in_dollars_or_percent():
    assert RiskBudget(notional=100_000, risk_pct=1).amount == 1_000
    assert RiskBudget(notional=100_000, risk_pct=None, dollars=2_500).pct_of_notional == 2.5
    with pytest.raises(ValueError):
        RiskBudget(notional=-1)
    with pytest.raises(ValueError):
        RiskBudget(risk_pct=None, dollars=None)


@pytest.mark.parametrize("measure", MEASURES)
def test_contracts_are_the_floor_of_budget_over_risk(metrics, measure):
    sized = size_position(metrics, 50_000, measure)
    risk = {"max_loss": metrics.max_loss, "expected_loss": metrics.expected_loss, "cvar95": metrics.cvar95}[measure]
    assert sized.contracts == math.floor(50_000 / risk)
    assert sized.contracts * risk <= 50_000 < (sized.contracts + 1) * risk
    assert sized.position_max_loss == pytest.approx(sized.contracts * metrics.max_loss)


def test_a_budget_below_one_contract_says_so(metrics):
    sized = size_position(metrics, 10.0, "max_loss")
    assert sized.contracts == 0 and "below one contract" in sized.note


def test_two_percent_gate_checklist():
    open_gate = two_percent_gate(2.0, "Moderate", 55.0, False, 120.0)
    assert open_gate.unlocked and open_gate.allowed_pct == 2.0
    for args in (("High", 55.0, False, 120.0), ("Low", 75.0, False, 120.0),
                 ("Low", 55.0, True, 120.0), ("Low", 55.0, False, -1.0)):
        gate = two_percent_gate(1.8, *args)
        assert not gate.unlocked and gate.allowed_pct == 1.0
        assert sum(not c.passed for c in gate.checks) == 1
    assert two_percent_gate(3.0, "Low", 50, False, 1.0).allowed_pct == 2.0
    assert two_percent_gate(0.5, "High", 90, True, -5).allowed_pct == 0.5


def test_a_check_without_data_is_unknown_and_keeps_the_size_at_one_percent():
    for rsi, breadth in ((None, False), (float("nan"), False), (55.0, None), (None, None)):
        gate = two_percent_gate(1.8, "Moderate", rsi, breadth, 120.0)
        assert not gate.unlocked and gate.allowed_pct == 1.0 and gate.holds_back
        states = [c.state for c in gate.checks]
        assert "unknown" in states and "fail" not in states
        assert gate.failed == () and gate.unknown and "unknown until you give it" in gate.why()
    # Given by the user, the same readings open the gate.
    assert two_percent_gate(1.8, "Moderate", 55.0, False, 120.0).allowed_pct == 1.8
    # Unknown never outweighs a failure: both are said.
    mixed = two_percent_gate(1.8, "High", None, None, 120.0)
    assert mixed.failed == ("Regime is not High",) and len(mixed.unknown) == 2


def test_gate_readings_come_from_history_else_what_was_typed_else_unknown():
    from alvh_core.strategy.signals import RegimeReport

    class Reading:
        def __init__(self, key, value):
            self.key, self.value = key, value

    report = RegimeReport.__new__(RegimeReport)
    object.__setattr__(report, "signals", (Reading("rsi_vix", 62.0), Reading("breadth", -0.01)))
    assert report.gate_readings(None, None) == (62.0, True, "history", "history")
    object.__setattr__(report, "signals", (Reading("rsi_vix", None), Reading("breadth", None)))
    assert report.gate_readings(None, None) == (None, None, "unknown", "unknown")
    assert report.gate_readings(40.0, False) == (40.0, False, "typed", "typed")


def test_reg_t_is_the_wider_side_less_the_credit():
    # An iron condor's Reg-T requirement: the wider spread's width less the net credit, here with a put
    # side 50 points wider than the call side, from the legs' own prices.
    from alvh_core.strategy.condor import condor_from_strikes

    spot = DEFAULT_MARKET.spot
    k = [round((spot * f) / 5) * 5 for f in (0.90, 0.93, 1.04, 1.06)]
    condor = condor_from_strikes(DEFAULT_MARKET, 30.0, *k, fill_share=0.0)   # filled at the mids
    credit = -sum(leg.side * leg.price for leg in condor.legs)
    widest = max(k[1] - k[0], k[3] - k[2])
    m = condor_metrics(condor)
    assert k[1] - k[0] > k[3] - k[2]
    assert m.reg_t == pytest.approx((widest - credit) * 100)
    assert m.return_on_reg_t == pytest.approx(credit * 100 / m.reg_t)


def test_slippage_grows_with_size_and_vix(metrics):
    model = SlippageModel()
    assert model.half_spread(model.reference_vix, 0) == pytest.approx(model.base_half_spread)
    assert model.half_spread(40, 100) > model.half_spread(20, 100) > model.half_spread(20, 1)
    table = scale_table(metrics, 20.0)
    assert table.contracts[0] == 1 and table.contracts[-1] == 200
    per_contract_cost = table.entry_cost / table.contracts
    assert np.all(np.diff(per_contract_cost) > 0)
    assert np.all(table.drawdown > table.contracts * metrics.max_loss)
    # Square-root impact: four times the size costs twice as much per contract beyond the fill.
    assert per_contract_cost[199] == pytest.approx(2 * per_contract_cost[49])
    # SPX quotes are deep: a 200-lot gives up a small share of its credit to size, not half of it.
    assert table.entry_cost[-1] / (200 * metrics.credit) < 0.15


def test_slippage_depth_is_the_chains_traded_volume(data_dir):
    from alvh_core.calibration.fits import fit_size_depth
    from alvh_core.model.fitted import SLIPPAGE_DEPTH

    fit = fit_size_depth(data_dir)
    assert fit["depth"] == SLIPPAGE_DEPTH and fit["p25"] < fit["depth"] < fit["p75"] and fit["groups"] >= 40


def test_seed_000_ratio_is_computed_for_every_measure():
    comparison = compare_tiers(DEFAULT_MARKET, TIERS, 50_000)
    by_name = {r.tier.key: r for r in comparison.rows}
    for m in MEASURES:
        cons, aggr = by_name["conservative"].sizing[m].contracts, by_name["aggressive"].sizing[m].contracts
        assert comparison.ratio[m] == pytest.approx(cons / aggr)
    # Wider wings cost more per contract at max loss: fewer Conservative contracts.
    assert comparison.ratio["max_loss"] < 1.0
    assert "Conservative/Aggressive" in comparison.verdict()


def test_tier_table_validation(tmp_path):
    bad = tmp_path / "tiers.csv"
    bad.write_text("name,pop_min,pop_max,short_delta,wing_pct,days\nX,0.9,0.8,0.1,1,7\n")
    with pytest.raises(TierTableError, match="row 2"):
        load_tiers(bad)
    bad.write_text("name,pop_min\nX,0.9\n")
    with pytest.raises(TierTableError, match="missing column"):
        load_tiers(bad)
    with pytest.raises(TierTableError):
        load_tiers(b"\x00\xff garbage")


@pytest.mark.parametrize("selection", ["pop", "delta"])
def test_claim_search_answers_rebuild_to_the_claimed_ratio(selection):
    from dataclasses import replace

    from alvh_core.strategy.sizing import CLAIM_WINGS, claim_search

    search = claim_search(DEFAULT_MARKET, TIERS, 50_000, selection)
    cons = TIERS[0]
    found = 0
    for m in MEASURES:
        inside = {w for a, b in search.wings[m] for w in CLAIM_WINGS if a <= w <= b}
        for w in CLAIM_WINGS:
            ratio = compare_tiers(DEFAULT_MARKET, (replace(cons, wing_pct=w), TIERS[2]), 50_000, selection).ratio[m]
            assert (ratio is not None and 1.8 <= ratio <= 2.2) == (w in inside), (m, w, ratio)
            found += w in inside
    assert found > 0
    assert "now 0.8 %" in search.describe("max_loss", cons) or "no single change" in search.describe("max_loss", cons)


def test_claim_search_needs_both_tiers():
    from alvh_core.strategy.sizing import claim_search

    assert claim_search(DEFAULT_MARKET, TIERS[:2], 50_000) is None


def test_the_gate_holds_back_a_size_above_what_it_allows_and_says_why():
    closed = two_percent_gate(1.8, "High", 55.0, False, 120.0)
    assert closed.holds_back and closed.failed == ("Regime is not High",)
    assert closed.why() == "the gate is closed (Regime is not High)"
    too_big = two_percent_gate(3.0, "Low", 50.0, False, 1.0)
    assert too_big.holds_back and too_big.why() == "the method never risks more than 2 %"
    assert not two_percent_gate(0.8, "High", 90.0, True, -5.0).holds_back
    assert two_percent_gate(0.8, "High", 90.0, True, -5.0).why() == ""
    # The budget keeps the form it was given in, at the allowed share of notional.
    in_pct = closed.budget(RiskBudget(notional=200_000, risk_pct=1.8))
    in_dollars = closed.budget(RiskBudget(notional=200_000, risk_pct=None, dollars=3_600))
    assert (in_pct.risk_pct, in_pct.dollars, in_pct.amount) == (1.0, None, 2_000)
    assert (in_dollars.risk_pct, in_dollars.dollars, in_dollars.amount) == (None, 2_000, 2_000)


def test_trade_smaller_gives_up_the_premium_in_credit_in_tenths_of_a_condor():
    assert smaller_fraction(250.0, 1_000.0) == pytest.approx(0.75)
    assert smaller_fraction(2_000.0, 1_000.0) == 0.0 and smaller_fraction(0.0, 1_000.0) == 1.0
    assert smaller_fraction(50.0, 0.0) == 1.0
    # 7 SPX condors at 0.75: 5.25 SPX-sized -> 5.2 (52 XSP, counted in SPX); 3 XSP at 0.5 -> 1.5 -> 1 XSP.
    assert smaller_contracts(7, 1.0, 0.75) == pytest.approx(5.2)
    assert smaller_contracts(3, 0.1, 0.5) == pytest.approx(1.0)
    assert smaller_contracts(4, 1.0, 1.0) == 4.0
