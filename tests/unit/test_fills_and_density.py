"""Fills against the real chains' bid and ask; the smile's own density against a Monte Carlo;
the hedged book's short-horizon risk; hedge sizing rules; XSP."""

from __future__ import annotations

import numpy as np
import pytest
import QuantLib as ql

from alvh_core.model.distributions import smile_density
from alvh_core.model.fills import half_spread
from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.model.regime import classify_regime
from alvh_core.strategy.condor import build_condor, condor_from_strikes, condor_metrics
from alvh_core.strategy.hedge import HedgeSettings, build_hedge, whole_contract_note
from alvh_core.strategy.position import HedgeContext, Scenario, build_position
from alvh_core.strategy.sizing import RiskBudget
from alvh_core.strategy.tiers import find_tier, load_tiers

TIERS = load_tiers()


@pytest.mark.data
@pytest.mark.parametrize("day,vix", [("2022-02-04", 23.22), ("2023-02-07", 18.66)])
def test_model_fills_match_the_chains_bid_and_ask(data_dir, day, vix):
    """Selling at the bid and buying at the ask, the model's spreads give the chain's natural
    credit within a few percent on average."""
    from alvh_core.calibration.fits import chain_condor_quotes, natural_credit_check
    from alvh_core.data.chains import read_cboe_chain_file

    chain = read_cboe_chain_file(data_dir / "chains" / f"spx_quotedata_{day}.csv")
    condors = chain_condor_quotes(chain)
    assert len(condors) > 40
    market_natural, model_natural = [], []
    for _, rows in condors:
        mid = sum(-side * 0.5 * (bid + ask) for _, side, _, bid, ask, _ in rows)
        natural = sum(bid if side < 0 else -ask for _, side, _, bid, ask, _ in rows)
        spreads = half_spread([0.5 * (b + a) for _, _, _, b, a, _ in rows], [d for *_, d in rows],
                              [kind == "call" for kind, *_ in rows], vix)
        market_natural.append(natural)
        model_natural.append(mid - spreads.sum())
    market_natural, model_natural = np.array(market_natural), np.array(model_natural)
    bias = model_natural.mean() / market_natural.mean() - 1.0
    assert abs(bias) < 0.04, bias
    # What `calibrate` prints (and the docs quote).
    check = natural_credit_check(data_dir)[day]
    assert check["condors"] == len(condors) and check["model_over_market"] == pytest.approx(1.0 + bias, abs=1e-4)


def _quantlib_cdf(market, vol_model, days, strikes):
    """P(S_T < K) as the strike-derivative of QuantLib's undiscounted Black put on the model smile."""
    forward = float(market.forward(days))
    years = days / 365.0
    h = 0.05
    out = []
    for k in strikes:
        prices = []
        for kk in (k - h, k + h):
            vol = float(vol_model.implied_vol(np.array([kk]), forward, days)[0])
            prices.append(ql.BlackCalculator(ql.PlainVanillaPayoff(ql.Option.Put, kk), forward,
                                             vol * np.sqrt(years), 1.0).value())
        out.append((prices[1] - prices[0]) / (2 * h))
    return np.maximum.accumulate(np.clip(out, 0.0, 1.0))


@pytest.mark.parametrize("tier_name", ["Conservative", "Moderate", "Aggressive"])
def test_smile_density_pop_and_expected_pl_match_a_monte_carlo_under_the_same_smile(tier_name):
    market, vm = DEFAULT_MARKET, DEFAULT_MARKET.vol_model()
    condor = build_condor(market, find_tier(TIERS, tier_name), fill_share=0.0)
    metrics = condor_metrics(condor, smile_density(market, vm, condor.days))
    # Monte Carlo: random uniforms through QuantLib's CDF of the same smile.
    atm = float(vm.atm_vol(condor.days))
    sd = atm * np.sqrt(condor.days / 365.0)
    forward = float(market.forward(condor.days))
    grid = forward * np.exp(np.linspace(-10 * sd, 7 * sd, 1200))
    cdf = _quantlib_cdf(market, vm, condor.days, grid)
    rising = np.concatenate([[True], np.diff(cdf) > 0])
    u = np.random.default_rng(5).random(400_000)
    sample = np.interp(u, cdf[rising], grid[rising])
    pnl = condor.pnl_at_expiry(sample) * 100
    se = pnl.std() / np.sqrt(pnl.size)
    assert metrics.expected_pl == pytest.approx(pnl.mean(), abs=4 * se + 1.0)
    low, high = metrics.breakevens
    assert metrics.pop == pytest.approx(np.mean((sample > low) & (sample < high)), abs=0.004)
    # A condor at the model's mids is fairly priced: before costs it expects to lose only the interest
    # on its credit (under the risk-neutral measure the payout grows at the rate).
    interest = metrics.credit * (np.exp(market.rate * condor.days / 365.0) - 1.0)
    assert metrics.expected_pl == pytest.approx(-interest, abs=2.0)


def _position(measure="max_loss", hedge=None, budget=None, tier="Moderate", market=DEFAULT_MARKET):
    scenario = Scenario(find_tier(TIERS, tier), budget or RiskBudget(), measure=measure, hedge=hedge or HedgeSettings())
    return build_position(market, scenario, HedgeContext.from_vix(market.vix, 0.3, 30), with_view=False)


def test_book_risk_sees_the_hedge_and_sizes_within_the_budget():
    hedged = _position(budget=RiskBudget(dollars=20_000.0))
    bare = _position(budget=RiskBudget(dollars=20_000.0), hedge=HedgeSettings(scheme="none"))
    for days in (1, 5):
        assert hedged.book_risk[days].condor_cvar95 == pytest.approx(bare.book_risk[days].cvar95, rel=1e-9)
        # Where SPX falls most, the hedge pays: the hedged book loses less there.
        assert hedged.book_risk[days].worst_down_pl > bare.book_risk[days].worst_down_pl
    sized = _position("book_cvar_5d", budget=RiskBudget(dollars=5_000.0))
    n = sized.contracts
    assert n > 0 and sized.book_risk[5].cvar95 <= 5_000.0
    from alvh_core.strategy.book_risk import book_scenarios

    sc = book_scenarios(sized.condor, sized.hedge, DEFAULT_MARKET, DEFAULT_MARKET.vol_model(), 5)
    assert sc.measures(n + 1).cvar95 > 5_000.0  # one more contract would not fit
    bigger = _position("book_cvar_5d", budget=RiskBudget(dollars=10_000.0))
    assert bigger.contracts * bigger.condor.size > n * sized.condor.size     # in SPX condors (XSP is a tenth)


def test_hedge_sized_to_the_position_and_held_inside_the_band():
    market = DEFAULT_MARKET
    regime = classify_regime(market.vix)
    per_contract = build_hedge(market, regime, 14.0, 100_000.0, HedgeSettings(sizing="contract", per_contract=4_000.0),
                               spx_contracts=3.0)
    assert per_contract.target_vix_notional == pytest.approx(4_000.0 * 3 * 14.0 / 7.0)
    # The default: the band's % of 20 × the max loss (seed 001: $100,000 of notional for $5,000 of risk), so the
    # bands read 1.2–1.6× the max loss (Low), 2.4–3.6× (Moderate), 5–7× (High).
    for band_pct, ratio in ((6.0, 1.2), (8.0, 1.6), (12.0, 2.4), (18.0, 3.6), (25.0, 5.0), (35.0, 7.0)):
        plan = build_hedge(market, regime, band_pct, 100_000.0, HedgeSettings(), position_max_loss=5_000.0)
        assert plan.sizing == "max_loss" and plan.sized_on == pytest.approx(100_000.0)
        assert plan.target_vix_notional == pytest.approx(ratio * 5_000.0)
    one = build_hedge(market, regime, 14.0, 100_000.0, HedgeSettings(sizing="notional"), spx_contracts=1.0,
                      position_max_loss=500.0)
    five = build_hedge(market, regime, 14.0, 100_000.0, HedgeSettings(sizing="notional"), spx_contracts=5.0,
                       position_max_loss=2_500.0)
    assert one.total_cost == five.total_cost  # the seed's rule: notional, not the position
    # Near an event the adaptive layer grows, but the total stays inside the band's top (18 %).
    settings = {"sizing": "notional", "event_multiplier": 3.0}
    near = build_hedge(market, regime, 14.0, 100_000.0, HedgeSettings(**settings), next_event_days=2,
                       band_high_pct=18.0)
    targets = sum(layer.target_vix_notional for layer in near.layers)
    assert targets == pytest.approx(18_000.0) and any("held at" in note for note in near.notes)
    above = build_hedge(market, regime, 14.0, 100_000.0, HedgeSettings(**settings, allow_above_band=True),
                        next_event_days=2, band_high_pct=18.0)
    assert sum(layer.target_vix_notional for layer in above.layers) > 18_000.0
    assert any("above" in note for note in above.notes)


def test_whole_contracts_stay_under_the_band_top_and_the_note_names_the_book_that_builds_them():
    market = DEFAULT_MARKET
    regime = classify_regime(market.vix)
    # A small book: each layer is a fraction of one VIX contract (about $1,800 of notional).
    small = build_hedge(market, regime, 14.0, 100_000.0, HedgeSettings(), position_max_loss=900.0, band_high_pct=18.0)
    cap = 20 * 900.0 * 0.18
    assert small.total_vix_notional <= cap + 1e-6
    for layer in small.layers:   # rounded to the nearest whole contract, or down to stay under the cap
        assert layer.contracts in (np.floor(layer.exact_contracts), np.floor(layer.exact_contracts + 0.5))
    short = small.short_of_contracts()
    assert short, "a $900 book holds less than a contract in some layer"
    note = whole_contract_note(small, 900.0, 300.0, "XSP")
    # The book the note names builds every layer: sized again at that max loss, no layer is short.
    need = float(note.split("from a condor max loss of $")[1].split(" ")[0].replace(",", ""))
    assert need == pytest.approx(900.0 * max(short.values()), abs=1.0)
    rebuilt = build_hedge(market, regime, 14.0, 100_000.0, HedgeSettings(), position_max_loss=need * 1.0001,
                          band_high_pct=18.0)
    assert all(layer.contracts >= 1 for layer in rebuilt.layers), rebuilt.layers
    big = build_hedge(market, regime, 14.0, 100_000.0, HedgeSettings(), position_max_loss=20_000.0, band_high_pct=18.0)
    assert whole_contract_note(big, 20_000.0, 300.0) == ""


def test_xsp_is_a_tenth_of_spx_on_its_own_grid():
    market, tier = DEFAULT_MARKET, find_tier(TIERS, "Moderate")
    spx = build_condor(market, tier, underlying="SPX", fill_share=0.0)
    same = condor_from_strikes(market, spx.days, *(leg.strike for leg in spx.legs), fill_share=0.0)
    xsp = type(same)(legs=same.legs, spot=same.spot, days=same.days, rate=same.rate, div=same.div, atm_vol=same.atm_vol,
                     underlying="XSP")
    assert condor_metrics(xsp).max_loss == pytest.approx(condor_metrics(same).max_loss / 10)
    built = build_condor(market, tier, underlying="XSP")
    assert built.expiry.root == "XSP" and built.expiry.settlement == "PM"
    near = [leg.strike for leg in built.legs if abs(leg.strike / market.spot - 1) < 0.02]
    assert all(k % 10 == 0 for k in near)  # 1-point XSP strikes: 10 SPX points
    # Auto: the default budget ($1,000) holds no SPX condor of any tier, and at least one XSP condor of each.
    for t in TIERS:
        position = _position(tier=t.name)
        assert position.condor.underlying == "XSP" and position.contracts > 0
    assert _position(budget=RiskBudget(dollars=50_000.0)).condor.underlying == "SPX"
