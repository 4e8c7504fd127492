"""Listed structures: exchange days, SPX/SPXW expiries, the strike grid and VIX expiries,
checked against the real closes, the real chains and the CFE roll days."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from alvh_core.data.listings import (
    WEEKLY_ERAS,
    is_business_day,
    on_grid,
    spx_expiries,
    strike_step,
    vix_expiry,
)


@pytest.mark.data
def test_business_days_are_the_days_spx_closed(data_dir):
    """Every weekday 1990-2026 is a business day exactly when SPX has a close that day."""
    spx = pd.read_csv(data_dir / "SPX_History.csv")
    traded = set(pd.to_datetime(spx["DATE"], format="%m/%d/%Y").dt.date)
    day, last = date(1990, 1, 2), date(2026, 7, 8)
    wrong = []
    while day <= last:
        if day.weekday() < 5 and is_business_day(day) != (day in traded):
            wrong.append(day)
        day += timedelta(days=1)
    assert wrong == []


def _cboe_style_naive_vix_expiry(year: int, month: int) -> date:
    """The rule without holidays: the Wednesday 30 days before next month's third Friday."""
    y, m = (year + 1, 1) if month == 12 else (year, month + 1)
    first = date(y, m, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14) - timedelta(days=30)


@pytest.mark.data
def test_vix_expiries_are_the_cfe_roll_days(data_dir):
    """Final-settlement days read off the VX1 file: a zero-volume settlement print, else the
    day the front month's open interest jumps (the series has moved to the next contract)."""
    from alvh_core.calibration.fits import cfe_roll_days, vix_expiry_check

    rolls, (first, last) = cfe_roll_days(data_dir)
    ours = {vix_expiry(y, m) for y in range(2008, 2021) for m in range(1, 13)}
    ours = {d for d in ours if first < d <= last}
    assert len(ours) == 141
    assert len(ours & rolls) >= 137  # 2011-12, 2014-11, 2018-04 (a gap in the file) read ambiguously
    # What `calibrate` prints (and the docs quote) is this count.
    assert vix_expiry_check(data_dir) == {"expiries": 141, "matching_roll_days": len(ours & rolls),
                                          "first": str(min(ours)), "last": str(max(ours))}
    shifted = {date(2014, 3, 18), date(2019, 3, 19)}  # Good Friday in the settlement month
    assert shifted <= ours & rolls
    naive = {_cboe_style_naive_vix_expiry(y, m) for y, m in ((2014, 3), (2019, 3))}
    assert not naive & rolls
    assert vix_expiry(2024, 6) == date(2024, 6, 18)  # the Wednesday was Juneteenth
    assert vix_expiry(2020, 3) == date(2020, 3, 18) and vix_expiry(2018, 2) == date(2018, 2, 14)


@pytest.mark.data
@pytest.mark.parametrize("day", ["2022-02-04", "2023-02-07"])
def test_listed_expiries_are_the_chain_expiries(data_dir, day):
    from alvh_core.data.chains import read_cboe_chain_file

    chain = read_cboe_chain_file(data_dir / "chains" / f"spx_quotedata_{day}.csv")
    quotes = chain.quotes
    listed = {pd.Timestamp(e).date() for e in quotes["expiration"].unique()}
    ours = spx_expiries(chain.quote_date)
    assert {e.day for e in ours} <= listed  # never an expiry that was not listed
    near = {d for d in listed if 0 < (d - chain.quote_date).days <= 31}
    assert len(near - {e.day for e in ours}) <= 1  # and nearly every one within a month
    roots = quotes.assign(root=quotes["call_symbol"].str.extract(r"^([A-Z]+)\d")[0])
    am = {pd.Timestamp(e).date() for e in roots.loc[roots["root"] == "SPX", "expiration"].unique()}
    for e in ours:
        assert (e.settlement == "AM") == (e.day in am and e.cycle in ("monthly", "leaps"))


@pytest.mark.data
@pytest.mark.parametrize("day", ["2022-02-04", "2023-02-07"])
def test_grid_strikes_are_listed_on_the_standard_expiries(data_dir, day):
    """Monthly and month-end expiries up to 200 days: every grid strike within 10 % of spot
    (5 points) and to 25 % (25 points) is in the chain."""
    from alvh_core.data.chains import read_cboe_chain_file

    chain = read_cboe_chain_file(data_dir / "chains" / f"spx_quotedata_{day}.csv")
    quotes = chain.quotes
    checked = 0
    for e in spx_expiries(chain.quote_date):
        days = (e.day - chain.quote_date).days
        if e.cycle not in ("monthly", "month-end", "quarter-end") or days > 200:
            continue
        strikes = set(quotes.loc[pd.to_datetime(quotes["expiration"]).dt.date == e.day, "strike"])
        grid = [k for k in np.arange(chain.spot * 0.75 // 5 * 5, chain.spot * 1.1, 5.0)
                if on_grid(chain.spot, k, days, cycle=e.cycle) and abs(k / chain.spot - 1) < (0.06 if days > 100 else 0.10)]
        missing = [k for k in grid if k not in strikes]
        assert not missing, (e, missing[:5])
        checked += len(grid)
    assert checked > 500


def test_weekdays_by_era_and_holidays():
    def weekdays(asof):
        return {e.day.weekday() for e in spx_expiries(asof) if e.cycle == "weekly"}

    assert weekdays(date(2003, 5, 1)) == set()
    assert weekdays(date(2010, 5, 3)) <= {3, 4}  # Fridays (Thursday when Friday is a holiday)
    assert weekdays(date(2019, 5, 1)) <= {0, 1, 2, 3, 4} and 0 in weekdays(date(2019, 5, 1))
    assert weekdays(date(2024, 5, 1)) == {0, 1, 2, 3, 4}
    assert WEEKLY_ERAS[0][0] == date(2005, 10, 28)
    good_friday = {e.day for e in spx_expiries(date(2014, 4, 1))}
    assert date(2014, 4, 18) not in good_friday and date(2014, 4, 17) in good_friday


def test_strike_step_by_tenor_and_distance():
    steps = [strike_step(6000, k, 21) for k in (6050, 5500, 5300, 5000, 4000)]
    assert steps == [5, 10, 25, 50, 200]
    assert strike_step(6000, 6000, 30, cycle="weekly") == 10  # new dailies a month out list no 5s
    assert strike_step(6000, 6000, 300) == 25 and strike_step(600, 605, 21, "XSP") == 1
    # The third-Friday monthlies list finer far out than the other standard expiries (the chains).
    assert strike_step(6000, 5400, 21, cycle="monthly") == 10 and strike_step(6000, 4900, 21, cycle="monthly") == 25
    assert strike_step(6000, 4900, 21) == 50


def test_the_grid_reaches_farther_on_a_high_vix_day():
    """Cboe adds strikes as the index and its expected moves go there: at VIX 45 the 14-delta put about 15 %
    below spot sits on the 10-point grid, not the 25-point one."""
    from alvh_core.data.listings import GRID_REFERENCE_VIX, reach_scale

    assert reach_scale(None) == reach_scale(12.0) == reach_scale(GRID_REFERENCE_VIX) == 1.0
    assert reach_scale(2 * GRID_REFERENCE_VIX) == pytest.approx(2.0)
    assert strike_step(4164, 3530, 30, cycle="monthly") == 25            # the chains' reach at their VIX
    assert strike_step(4164, 3530, 30, cycle="monthly", vix=45.0) == 10
    assert strike_step(4164, 3530, 30, cycle="weekly") == 200 and strike_step(4164, 3530, 30, cycle="weekly", vix=45.0) == 100


def test_the_grid_shrinks_with_the_index_level():
    """Below the chains' spot the steps scale with the index, so the grid keeps its shape as a share of spot:
    SPX 1,150 (2010) lists 25-point steps where the chains had 100, SPX 330 (1990) 5-point ones."""
    from alvh_core.data.listings import level_step

    assert [level_step(s, 1150.0) for s in (5, 10, 25, 50, 100, 200)] == [5, 5, 5, 10, 25, 50]
    assert [level_step(s, 330.0) for s in (5, 25, 100, 200)] == [5, 5, 5, 10]
    assert [level_step(s, 7400.0) for s in (5, 25, 100, 200)] == [5, 25, 100, 200]     # never coarser
    assert strike_step(1150, 1050, 21, cycle="weekly") == 25 and strike_step(4164, 3800, 21, cycle="weekly") == 100


@pytest.mark.data
def test_grid_constants_are_re_derived_from_the_chains(data_dir):
    from alvh_core.calibration.fits import fit_strike_grid
    from alvh_core.data.listings import SPX_STRIKE_GRID

    fitted = fit_strike_grid(data_dir)
    for kind, rows in SPX_STRIKE_GRID.items():
        assert [(limit, [tuple(x) for x in steps]) for limit, steps in fitted[kind]] == \
            [(limit, list(steps)) for limit, steps in rows]


def test_a_thousand_random_plans_use_only_listed_expiries_and_strikes():
    from alvh_core.model.market import MarketState
    from alvh_core.model.regime import classify_regime
    from alvh_core.strategy.condor import build_condor
    from alvh_core.strategy.hedge import HedgeSettings, build_hedge
    from alvh_core.strategy.tiers import load_tiers

    rng = np.random.default_rng(11)
    tiers = load_tiers()
    vix_expiries = {vix_expiry(y, m) for y in range(1994, 2029) for m in range(1, 13)}
    start = date(1996, 1, 2).toordinal()
    for i in range(1000):
        asof = date.fromordinal(int(rng.integers(start, date(2026, 7, 8).toordinal())))
        while not is_business_day(asof):
            asof += timedelta(days=1)
        vix = float(rng.uniform(9, 70))
        market = MarketState(spot=float(rng.uniform(600, 8000)), vix=vix, vix3m=vix * float(rng.uniform(0.8, 1.25)),
                             asof=asof.isoformat())
        tier = tiers[int(rng.integers(0, len(tiers)))]
        days = int(rng.integers(1, 120)) if rng.random() < 0.5 else None
        condor = build_condor(market, tier, "pop" if rng.random() < 0.5 else "delta", days=days)
        listed = spx_expiries(asof)
        assert condor.expiry in listed, (asof, condor.expiry)
        assert is_business_day(condor.expiry.day)
        if condor.expiry.cycle == "weekly":
            weekdays = next(w for s, w in reversed(WEEKLY_ERAS) if asof >= s)
            day = condor.expiry.day
            shifted = not (is_business_day(day + timedelta(days=1)) and is_business_day(day - timedelta(days=1)))
            assert day.weekday() in weekdays or shifted, (asof, day)  # off its weekday only beside a holiday
        for leg in condor.legs:
            assert on_grid(market.spot, leg.strike, condor.days, cycle=condor.expiry.cycle, vix=vix), (asof, leg.strike)
        if i % 10 == 0:
            tail = "spx_put_fly" if i % 20 == 0 else "vix_calls"
            hedge = build_hedge(market, classify_regime(vix), 10.0, 100_000.0, HedgeSettings(tail_instrument=tail))
            for layer in hedge.layers:
                for leg in layer.legs:
                    if leg.underlying == "VIX":
                        assert date.fromisoformat(leg.expiry) in vix_expiries
                    else:
                        assert date.fromisoformat(leg.expiry) in {e.day for e in listed}


def test_vix_strikes_by_era():
    """Cboe's VIX strike grid: 2.5 points at the listing; by February 2012 1-point from 15 to 30 (only 10 below);
    1-point down to 10 from January 2013; half points 10.5-14.5 in the front month from 2014-05-29."""
    from alvh_core.data.listings import vix_strikes_listed

    def near(day, front=True):
        return [float(k) for k in vix_strikes_listed(day, front) if k <= 35]

    assert near(date(2008, 10, 1)) == [10, 12.5, 15, 17.5, 20, 22.5, 25, 27.5, 30, 32.5, 35]
    assert near(date(2012, 2, 15)) == [10, *range(15, 31), 32.5, 35]
    assert near(date(2013, 6, 3)) == [*range(10, 31), 32.5, 35]
    assert near(date(2014, 5, 28)) == near(date(2013, 6, 3))
    assert {10.5, 11.5, 12.5, 13.5, 14.5} <= set(near(date(2014, 5, 29)))
    assert not {10.5, 14.5} & set(near(date(2014, 5, 29), front=False))    # the front month only
    assert list(vix_strikes_listed(date(2020, 3, 16))[-3:]) == [490.0, 495.0, 500.0]
    assert set(vix_strikes_listed(date(2020, 3, 16))) >= {50.0, 55.0, 60.0} and 52.5 not in vix_strikes_listed()
