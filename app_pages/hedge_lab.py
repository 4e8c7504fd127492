"""Hedge Lab: the hedge schemes side by side on stress scenarios, real replays and Monte Carlo.

Every input lives in the URL, so the page's address is a share link.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import streamlit as st

from alvh_core.data.closes import HistoryFormatError
from alvh_core.history import backtest as bt
from alvh_core.history import studies
from alvh_core.model import simulator as simulate
from alvh_core.present.figures import (
    CONDOR_COLOR,
    HEDGE_COLOR,
    LAYER_STYLES,
    SCHEME_COLORS,
    cost_protection_figure,
    futures_figure,
    mc_figure,
    replay_figure,
    stress_bars_figure,
)
from alvh_core.present.links import ALL_KEYS
from alvh_core.strategy.hedge import RESULT_LABELS
from alvh_core.strategy.monte_carlo import book_monte_carlo
from alvh_core.strategy.position import Scenario, build_position
from alvh_core.strategy.sizing import smaller_contracts, smaller_fraction
from alvh_core.strategy.stress import EPISODES_BY_KEY, stress_outcome
from alvh_core.strategy.tiers import find_tier, load_tiers
from app_pages.common import (
    DOLLARS,
    account_hedge,
    account_inputs,
    bounds,
    choice,
    current_market,
    current_snapshot,
    data_folder,
    done,
    hedge_context,
    keep_in_link,
    linked,
    money,
    plain,
    setting_choice,
    setting_value,
)
from app_pages.history_data import data_range, history_arrays, kept, window_of

st.title("Hedge Lab")
st.caption("The hedge schemes on one condor, side by side: after SPX falls, through real episodes, and over "
           "simulated markets, with the premium each costs and the bar every hedge has to beat: trading the "
           "condor smaller by the same money. Every number is model-based; the Monte Carlo is on the simulated "
           "market. The page's address is a share link.")

LABELS = RESULT_LABELS
MOVES = (-0.02, -0.05, -0.10, -0.20)
verdict_slot = st.container()   # the answer in words, above the inputs


market = current_market()
snapshot = current_snapshot()
tiers = load_tiers()

with st.container(border=True):
    c1, c2, c3, c4, c5 = st.columns(5)
    tier_name = choice(c1.selectbox, "Tier", "lt")
    budget = account_inputs(c2, c3, c4)
    setting_choice(c5.selectbox, "Hedge sized", "hsz", help="The session's hedge sizing (the same on every page)")
    notional, risk_pct = budget.notional, budget.pct_of_notional
    st.session_state.setdefault("lh", list(ALL_KEYS["lh"].default))
    schemes = linked(st.multiselect, "Hedge schemes", list(ALL_KEYS["lh"].choices), key="lh",
                     format_func=ALL_KEYS["lh"].label_of, help="Each protects the same condor; compared with no "
                                                               "hedge and with trading smaller")
if not schemes:
    st.info("Pick at least one hedge scheme.")
    done()

tier = find_tier(tiers, tier_name)
context, _ = hedge_context(market, snapshot)
sizing = setting_value("hsz")
positions = {}
try:
    for scheme in ("none", *schemes):
        scenario = Scenario(tier=tier, budget=budget, selection="delta", hedge=account_hedge(scheme))
        positions[scheme] = build_position(market, scenario, context, None, with_heat_map=False, with_view=False)
except ValueError as exc:
    st.error(f"No position for these inputs: {exc}")
    done()
base = positions["none"]
condor, n = base.condor, base.contracts
credit_total = base.plan.metrics.credit * n
vol_model = market.vol_model()
first_hedged = schemes[0]


premium_first = positions[first_hedged].hedge.premium_over(condor.days)
# In tenths of the condor: the same condor on XSP (one tenth of SPX) when the cut is not whole.
size = condor.size
smaller_n = smaller_contracts(n, size, smaller_fraction(premium_first, credit_total))
smaller_text = (f"{smaller_n:g} {condor.underlying}" if float(smaller_n).is_integer() else
                f"{smaller_n * size * 10:.0f} XSP ({smaller_n * size:g} SPX-sized)")
expiry_label = condor.expiry.label if condor.expiry else f"{condor.days:.3g} days"
cols = st.columns(5)
cols[0].metric(f"Condors ({condor.underlying})", f"{n:,}", help=f"The {tier.name} tier's condor, {expiry_label}, "
                                                             f"sized to {risk_pct:.3g} % of the notional (delta strikes)")
cols[1].metric("Credit", money(credit_total), help="All contracts, at the default fill (model-based)")
cols[2].metric("Max loss", money(base.plan.metrics.max_loss * n))
cols[3].metric("Regime budget", f"{context.budget_pct:.1f} %", help=f"{context.regime.name} regime, % of notional")
cols[4].metric("Trade smaller", smaller_text.split(" (")[0], help="The condor alone, cut by the first hedge's premium "
                                                                   "over the condor's life")
st.caption(f"{n} {condor.underlying} condor{'s' if n != 1 else ''} of the {tier.name} tier ({expiry_label}), "
           f"credit {money(credit_total)}, max loss {money(base.plan.metrics.max_loss * n)}; market: SPX "
           f"{market.spot:,.2f}, VIX {market.vix:.2f} ({market.source}{' ' + market.asof if market.asof else ''}), "
           f"regime {context.regime.name}, budget {context.budget_pct:.1f} % of notional. **Trade smaller**: no hedge, "
           f"{smaller_text} contracts instead of {n} {condor.underlying}, giving up credit equal to "
           f"{LABELS[first_hedged]}'s premium over the condor's {condor.days:.0f} days ({money(premium_first)}: "
           "each layer's cost × the share of its life the condor lasts).")

short = {LABELS[s]: p.metrics.contracts_note for s, p in positions.items() if p.metrics.contracts_note}
if short:
    st.info("Whole VIX contracts cannot build every hedge at this size: "
            + " ".join(f"**{name}**: {plain(note)}" for name, note in short.items()), icon=":material/pie_chart:")

# --- stress scenarios ---------------------------------------------------------------------------
st.subheader("After an SPX fall")
rows = []
for scheme, position in positions.items():
    row = {"scheme": scheme, "Scheme": LABELS[scheme], "Premium now ($)": position.hedge.total_cost}
    for i, move in enumerate(MOVES):
        outcome = stress_outcome(position.condor, n, position.hedge, market, vol_model, move, 5.0)
        row[f"m{i}"] = outcome.bands["median"].combined
        if move == -0.10:
            row["−10 %, VIX at p90 ($)"] = outcome.bands["p90"].combined
            row["_condor10"] = outcome.bands["median"].condor
    rows.append(row)
condor_per_contract = {i: stress_outcome(condor, 1, positions["none"].hedge, market, vol_model, mv, 5.0)
                       .bands["median"].condor for i, mv in enumerate(MOVES)}
rows.append({"scheme": "smaller", "Scheme": LABELS["smaller"], "Premium now ($)": 0.0,
             **{f"m{i}": condor_per_contract[i] * smaller_n for i in range(len(MOVES))},
             "−10 %, VIX at p90 ($)": stress_outcome(condor, 1, positions["none"].hedge, market, vol_model,
                                                     -0.10, 5.0).bands["p90"].combined * smaller_n,
             "_condor10": condor_per_contract[2] * smaller_n})
table = pd.DataFrame(rows)


def verdict(table: pd.DataFrame) -> str:
    """After a 10 % and a 20 % fall: the scheme that leaves the book best off, against no hedge and trading
    smaller, with what it costs today."""
    by = table.set_index("scheme")
    hedged = [s for s in by.index if s not in ("none", "smaller")]
    best = max(hedged, key=lambda s: by.loc[s, "m2"])
    words = []
    for col, fall in (("m2", "10 %"), ("m3", "20 %")):
        words.append(f"after a {fall} fall {money(by.loc[best, col])} against {money(by.loc['none', col])} "
                     f"unhedged and {money(by.loc['smaller', col])} trading smaller")
    better = by.loc[best, "m2"] > max(by.loc["none", "m2"], by.loc["smaller", "m2"])
    return (f"**{LABELS[best]}** protects this book best of the schemes chosen: {words[0]}; {words[1]} "
            f"(5 days later, VIX at the spot–vol link's median). It costs {money(by.loc[best, 'Premium now ($)'])} "
            f"today against a credit of {money(credit_total)}. "
            + ("It beats trading smaller on the 10 % fall." if better else
               "On the 10 % fall it does no better than trading smaller or no hedge."))


with verdict_slot:
    st.info(verdict(table) + " Model-based.", icon=":material/gavel:")
move_labels = [f"SPX {100 * m:+.0f} %" for m in MOVES]
st.plotly_chart(stress_bars_figure(table, move_labels, LABELS), key="l_stress_chart")
shown = table.drop(columns=["scheme", "_condor10"]).rename(columns={f"m{i}": f"{label} ($)"
                                                                   for i, label in enumerate(move_labels)})
dollars = DOLLARS
st.dataframe(shown, hide_index=True, key="l_stress_table",
             column_config={c: dollars for c in shown.columns if c.endswith("($)")})
st.caption("Whole book (condor + hedge) marked 5 trading days after the fall, VIX at the fitted spot–vol link's "
           "median for that fall from today's level (the p90 column: VIX at the link's 90th percentile). Model-based.")

points = []
none10 = float(table.loc[table.scheme == "none", "m2"].iloc[0])
for row in table.itertuples():
    if row.scheme == "none":
        continue
    cost = float(table.loc[table.scheme == row.scheme, "Premium now ($)"].iloc[0])
    if row.scheme == "smaller":
        cost = premium_first   # the credit it gives up
    points.append({"scheme": row.scheme, "label": LABELS[row.scheme], "cost": cost, "saved": float(row.m2) - none10})
st.plotly_chart(cost_protection_figure(points), key="l_cost_chart")
st.caption("Up and to the left is better: less premium, more of the −10 % loss saved. “Trade smaller” costs the "
           "credit it does not collect.")

# --- replays ------------------------------------------------------------------------------------
st.subheader("Through a real episode")
m_all, data_key, why = history_arrays()
c1, c2, c3 = st.columns(3)
episode_key = choice(c1.selectbox, "Replay", "lep",
                     format_func=lambda k: "Your own window" if k == "custom" else EPISODES_BY_KEY[k].label)
if m_all is None:
    st.info(f"{why} Replays need the real history.", icon=":material/info:")
else:
    first_day, last_day = data_range(m_all)
    if episode_key == "custom":
        for key in ("lrs", "lre"):
            value = st.session_state.get(key)
            if value is not None and not first_day <= value <= last_day:
                st.session_state.pop(key)
        default_end = last_day
        default_start = max(first_day, last_day - timedelta(days=60))
        start = c2.date_input("From", value=default_start, min_value=first_day, max_value=last_day, key="lrs")
        end = c3.date_input("To", value=default_end, min_value=first_day, max_value=last_day, key="lre")
        keep_in_link("lrs", start)
        keep_in_link("lre", end)
    else:
        episode = EPISODES_BY_KEY[episode_key]
        start, end = date.fromisoformat(episode.start), date.fromisoformat(episode.end)
        # A little after the fall too: what the hedge gave back.
        end = min(end + timedelta(days=21), last_day)
        c2.caption(f"SPX {episode.spx_start:,.0f} → {episode.spx_end:,.0f}, VIX {episode.vix_start:.1f} → "
                   f"{episode.vix_end:.1f} ({episode.start} to {episode.end}); shown to {end}.")
    lead = timedelta(days=tier.days + 10)   # the book already in place on the first day
    if not (first_day < start < end <= last_day):
        st.warning(f"The replay window must lie inside the history ({first_day} to {last_day}).")
    else:
        window = window_of(m_all, data_key, max(first_day, start - lead), end)
        # Weekly condors of the tier, each risking the page's budget (whole SPX contracts), hedged by each scheme.
        config = bt.BacktestConfig(strategy="weekly", tier=tier, capital=float(notional), risk_pct=float(risk_pct),
                                   hedge=account_hedge())
        run_schemes = ("none", *schemes)
        result = kept(("run", data_key, window.day(0), end, config, run_schemes, False),
                      lambda progress: bt.run_backtest(window, config, run_schemes, smaller=False, progress=progress),
                      "Replaying")
        path = studies.replay(result, start, end)
        colors = {"Condors": CONDOR_COLOR}
        columns = ["Condors"]
        for scheme in schemes:
            label = f"{LABELS[scheme]}: condors + hedge"
            colors[label] = SCHEME_COLORS[scheme]
            columns.append(label)
        st.plotly_chart(replay_figure(path, columns, colors, "Weekly condors of the tier through the episode: "
                                      "P/L since its first day (model-priced)"), key="l_replay_chart")
        open_contracts = result.condor.open_contracts[np.searchsorted(result.market.dates, np.datetime64(start))]
        st.caption(f"The book on {start}: {int(open_contracts)} SPX condor contract{'s' if open_contracts != 1 else ''} "
                   f"open, entered weekly, each entry risking {risk_pct:.3g} % of {money(notional)}; hedges by each "
                   "scheme's rules from the days before. Priced with the model at the real closes.")
        if open_contracts == 0:
            st.warning("No condor was open on the first day: one SPX condor of this tier risks more than the budget "
                       "then. Raise the notional or the risk budget to see the condors' side.")
        if "alvh" in schemes:
            layer_cols = [c for c in path.columns if c.startswith(f"{LABELS['alvh']}: ") and
                          c.split(": ")[1] in ("Base", "Adaptive", "Tail")]
            layer_colors = {c: LAYER_STYLES[c.split(": ")[1]][0] for c in layer_cols}
            layer_colors[f"{LABELS['alvh']}: hedge"] = HEDGE_COLOR
            st.plotly_chart(replay_figure(path, [f"{LABELS['alvh']}: hedge", *layer_cols], layer_colors,
                                          "ALVH layer by layer through the episode"), key="l_layers_chart")
        folder = data_folder()
        try:
            futures = studies.futures_beside_model(folder, m_all, start, end) if folder else None
        except HistoryFormatError as exc:
            futures = None
            st.warning(f"The VIX futures files of the data folder could not be used: {plain(exc)}")
        if futures is not None:
            st.plotly_chart(futures_figure(futures), key="l_futures_chart")
            both = futures.dropna()
            if len(both):
                error = (both["VX1 model"] / both["VX1 settled"] - 1).abs().median()
                st.caption(f"CFE's own VX1/VX2 settlements beside the proxy the hedge is marked on: median miss "
                           f"{error:.1%} on VX1 over these days.")
        else:
            st.caption("VIX futures: the CFE files (VX1_continuous.csv, VX2_continuous.csv, 2005–2020) do not cover "
                       "this window, so only the model's proxy is used.")
        end_row = path.iloc[-1]
        worst_row = path.loc[path["Condors"].idxmin()]
        cols = st.columns(len(columns))
        for col, name in zip(cols, columns, strict=True):
            col.metric(name.replace(": condors + hedge", ""), money(end_row[name]),
                       help=f"at its worst day ({worst_row.name.date()}): {money(worst_row[name])}")

# --- Monte Carlo --------------------------------------------------------------------------------
st.subheader("Over simulated markets")
c1, c2, c3 = st.columns(3)
horizon = linked(c1.number_input, "Horizon (trading days)", *bounds("lhz"), 60, 5, key="lhz")
paths = linked(c2.number_input, "Paths", *bounds("lmp"), 10_000, 1_000, key="lmp")
seed = linked(c3.number_input, "Seed", *bounds("lsd"), 1, key="lsd")
if int(paths) * int(horizon) > simulate.MAX_PATH_DAYS:
    fitted_paths = max(1_000, simulate.MAX_PATH_DAYS // int(horizon) // 1_000 * 1_000)
    st.info(f"{int(paths):,} paths × {int(horizon)} days is over the {simulate.MAX_PATH_DAYS:,} path-days one "
            f"simulation may take on this server: simulating {fitted_paths:,} paths.", icon=":material/tune:")
    paths = fitted_paths
mc_key = ("mc", market, tier, float(notional), float(risk_pct), sizing, tuple(schemes), int(horizon), int(paths),
          int(seed))


def _monte_carlo(progress):
    sim = simulate.simulate_paths(market.spot, market.vix, int(horizon), int(paths), int(seed))
    out = {}
    for i, (scheme, position) in enumerate(positions.items()):
        progress((i + 1) / (len(positions) + 1), LABELS[scheme])
        out[scheme] = book_monte_carlo(position.condor, n, position.hedge, market, vol_model, int(horizon),
                                       int(paths), int(seed), sim=sim)
    return out


results = kept(mc_key, _monte_carlo, "Simulating")
results = {**results, "smaller": results["none"].condor_only(smaller_n / n if n else 0.0)}
values = {scheme: r.combined for scheme, r in results.items()}
st.plotly_chart(mc_figure(values, LABELS), key="l_mc_chart")
rows = []
for scheme, r in results.items():
    row = r.table().set_index("book").loc["Combined"]
    worst = r.table().set_index("book").loc["Worst point, combined"]
    rows.append({"Scheme": LABELS[scheme], "Mean ($)": row["mean"], "5th pct ($)": row["p5"],
                 "Median ($)": row["median"], "Chance of a loss": row["chance_of_loss"], "CVaR 95 % ($)": row["cvar95"],
                 "Worst point, CVaR 95 % ($)": worst["cvar95"]})
mc_table = pd.DataFrame(rows)
st.dataframe(mc_table, hide_index=True, key="l_mc_table",
             column_config={c: dollars for c in mc_table.columns if c.endswith("($)")}
             | {"Chance of a loss": st.column_config.NumberColumn(format="percent")})
st.caption(f"Simulated: {int(paths):,} paths of {int(horizon)} trading days from today's SPX and VIX (seed "
           f"{int(seed)}), SPX moves in units of VIX with a fitted fat left tail and VIX following the fitted "
           "spot–vol link. The condor settles on each path at its expiry; the hedge is marked at the horizon "
           "(legs that expire first are paid and rolled). The same paths for every scheme.")

with st.expander("The simulator beside the history", expanded=False):
    if m_all is None:
        st.caption("Load the history (sidebar) to compare the simulator with it.")
    else:
        def _compare(progress):
            full = m_all
            sim = simulate.simulate_paths(float(full.spx[0]), float(full.vix[0]), full.size - 1, 10, seed=7)
            return simulate.compare_with_history(full.spx, full.vix, sim)
        comparison = kept(("simcompare", data_key), _compare, "Simulating the history's length")
        st.dataframe(comparison, hide_index=True, key="l_sim_compare",
                     column_config={"history": st.column_config.NumberColumn(format="%.4f"),
                                    "simulated": st.column_config.NumberColumn(format="%.4f")})
        st.caption(f"History: {data_range(m_all)[0]} to {data_range(m_all)[1]}. Simulated: ten paths of the same "
                   "length from the same start (seed 7). Fitted constants: `python -m alvh_core calibrate "
                   "--data-dir DIR --json` (key `simulator`).")
