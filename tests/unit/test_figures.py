"""Figure builders: valid Plotly (validated here, since the builders skip
validation for speed), labeled axes with units, finite data, house colors."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alvh_core.data.events import load_events
from alvh_core.model.market import DEFAULT_MARKET
from alvh_core.present import figures
from alvh_core.strategy.condor import build_condor, condor_metrics
from alvh_core.strategy.position import HedgeContext, Scenario, build_position
from alvh_core.strategy.signals import regime_report
from alvh_core.strategy.sizing import RiskBudget, scale_table
from alvh_core.strategy.tiers import find_tier, load_tiers


@pytest.fixture(scope="module")
def position():
    scenario = Scenario(tier=find_tier(load_tiers(), "Moderate"), budget=RiskBudget(risk_pct=5.0), horizon_days=3)
    return build_position(DEFAULT_MARKET, scenario, HedgeContext.from_vix(DEFAULT_MARKET.vix, 0.3, 6))


def _validated(fig: go.Figure) -> go.Figure:
    """Plotly's full validation of what the builder produced (raises if invalid)."""
    return go.Figure(fig.to_dict())


def _all_figures(position):
    condor, metrics = position.condor, position.plan.metrics
    view = position.view
    levels = {"spx": 7482.71, "vix": 16.9, "vix9d": 14.41, "vix3m": 19.46, "vix6m": 21.56}
    report = regime_report(None, "2026-07-08", levels, "default", load_events())
    import pandas as pd

    panel = pd.DataFrame({"vix": np.linspace(12, 30, 300)}, index=pd.bdate_range("2025-01-01", periods=300))
    return {
        "condor": figures.condor_payoff_figure(condor, metrics, 2, np.zeros(241), "now"),
        "combined": figures.combined_payoff_figure(position.at_expiry, condor, metrics, "t", view.curves),
        "heat": figures.heat_map_figure(view.heat),
        "surface": figures.surface_figure(view.heat),
        "layers": figures.layers_vs_vix_figure(view.layer_vix_levels, view.layer_pnl, 16.9, view.days),
        "scale": figures.scale_figure(scale_table(metrics, 18.0)),
        "history": figures.vix_history_figure(panel, panel.index[0], 15, 25),
        "term": figures.term_structure_figure(levels, [(10, 18.0), (40, 19.5)]),
        "stress": figures.stress_contributions_figure(report),
        "tiers": figures.tier_contracts_figure({"Conservative": [9, 69, 9], "Aggressive": [23, 81, 23]},
                                               ["max loss", "expected loss", "CVaR 95 %"]),
    }


def _numbers(values) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=object).ravel()
    kept = [v for v in array if v is not None and not isinstance(v, str)]
    try:
        return np.asarray(kept, float)
    except (TypeError, ValueError):  # dates
        return None


def test_every_figure_is_valid_plotly_with_labeled_axes(position):
    for name, fig in _all_figures(position).items():
        valid = _validated(fig)  # raises on any invalid property
        if name != "surface":
            assert valid.layout.xaxis.title.text, name
        for trace in fig.data:
            for attr in ("x", "y", "z"):
                numbers = _numbers(getattr(trace, attr, None))
                if numbers is not None:
                    assert np.all(np.isfinite(numbers)), (name, attr)


def test_payoff_figure_lines_and_marks(position):
    condor, metrics = position.condor, position.plan.metrics
    fig = figures.combined_payoff_figure(position.at_expiry, condor, metrics, "t", position.view.curves)
    _validated(fig)
    names = [t.name for t in fig.data]
    assert {"Condor", "Hedge", "Combined", figures.HORIZON_NAME} <= set(names)
    colors = {t.name: t.line.color for t in fig.data if t.name in ("Condor", "Hedge", "Combined")}
    assert colors == {"Condor": figures.CONDOR_COLOR, "Hedge": figures.HEDGE_COLOR, "Combined": figures.COMBINED_COLOR}
    # Key levels: a line at each, labeled on the top axis by a tick on it (or between two close ones).
    top = fig.layout.xaxis2
    assert top.overlaying == "x" and top.matches == "x" and top.side == "top"
    levels = sorted([*metrics.breakevens, condor.short_put.strike, condor.short_call.strike, condor.spot])
    width = position.at_expiry.spx[-1] - position.at_expiry.spx[0]
    for level in levels:
        i = int(np.argmin(np.abs(np.asarray(top.tickvals) - level)))
        assert abs(top.tickvals[i] - level) < 0.06 * width and f"{level:,.0f}" in top.ticktext[i]
    assert np.all(np.diff(top.tickvals) >= 0.06 * width)  # labels never crowd each other
    labels = " ".join(top.ticktext)
    assert labels.count("BE") == 2 and "put " in labels and "call " in labels and "spot" in labels
    assert f"{condor.short_put.strike:,.0f}" in labels
    line_xs = sorted(sh.x0 for sh in fig.layout.shapes if sh.type == "line")
    np.testing.assert_allclose(line_xs, levels)
    assert any(t.xaxis == "x2" for t in fig.data)  # the top axis needs a trace to be drawn
    # The VIX-response band: one closed path between the p10 and p90 combined P/L.
    band = next(sh for sh in fig.layout.shapes if sh.type == "path")
    assert band.path.startswith("M") and band.path.endswith("Z") and band.layer == "below"
    curves = position.at_expiry
    lo = curves.condor + np.minimum(curves.hedge_p10, curves.hedge_p90)
    first = band.path[1:].split("L")[0].split(",")
    hi0 = (curves.condor + np.maximum(curves.hedge_p10, curves.hedge_p90))[0]
    assert float(first[0]) == pytest.approx(curves.spx[0], abs=0.01) and float(first[1]) == pytest.approx(hi0, abs=0.01)
    assert lo[0] <= hi0
    assert "index points" in fig.layout.xaxis.title.text and "dollars" in fig.layout.yaxis.title.text


def test_condor_only_figure_bounds_and_zero_contracts():
    condor = build_condor(DEFAULT_MARKET, find_tier(load_tiers(), "Moderate"))
    metrics = condor_metrics(condor)
    fig = figures.condor_payoff_figure(condor, metrics, 3)
    _validated(fig)
    y = np.asarray(next(t for t in fig.data if t.name == "Condor at expiry").y, float)
    assert abs(y.max() - 3 * metrics.max_profit) < 1e-6 and abs(y.min() + 3 * metrics.max_loss) < 1e-6
    assert "budget allows none" in figures.condor_payoff_figure(condor, metrics, 0).layout.title.text


def test_heat_map_is_centered_on_zero(position):
    fig = figures.heat_map_figure(position.view.heat)
    _validated(fig)
    heat = fig.data[0]
    assert heat.zmid == 0 and heat.zmin == -heat.zmax
    from alvh_core.strategy.position import FRAME_MOVES, FRAME_VIX

    assert np.asarray(heat.z).shape == (len(FRAME_VIX), len(FRAME_MOVES)) == (33, 51)   # VIX rows, SPX columns
    assert np.asarray(heat.x)[[0, -1]].tolist() == [-20.0, 10.0] and np.asarray(heat.y)[[0, -1]].tolist() == [9, 89]


def test_heat_map_colours_are_on_the_condors_scale(position):
    """A hedge worth many times the condor washed the condor out (the scale ran to the hedge's ±$10k): the
    colours now end at the condor's own largest P/L, which an iron condor bounds by its widest wing (plus
    what closing it costs)."""
    heat = position.view.heat
    fig = figures.heat_map_figure(heat)
    z = np.abs(np.asarray(fig.data[0].z))
    strikes = sorted(leg.strike for leg in position.condor.legs)
    widest = max(strikes[1] - strikes[0], strikes[3] - strikes[2]) * position.contracts * 100
    assert 0 < heat.condor_scale <= widest * 1.1   # (closing a leg costs its half spread on top)
    assert heat.condor_scale < z.max()              # this book's hedge is worth more than its condor
    assert fig.data[0].zmax == pytest.approx(min(z.max(), heat.condor_scale)) and fig.data[0].zmin == -fig.data[0].zmax


@given(low=st.floats(1.0, 1e7), span=st.floats(1.01, 1e6))
def test_log_axis_labels_never_crowd_and_cover_the_data(low, span):
    from alvh_core.present.figures import log_ticks

    ticks = log_ticks([low, low * span])
    ratios = [b / a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert all(r >= 2.0 - 1e-9 for r in ratios)            # at least a factor of two apart: never overlapping
    assert ticks == sorted(ticks) and all(low / 1.5 <= t <= low * span * 1.5 for t in ticks)
    if span >= 10:
        assert len(ticks) >= 2


def test_date_frames_are_each_days_numbers(position):
    """The frames a date slider moves through: valid Plotly, one per whole day, each the engine's own
    numbers for that day (computed here separately, by the single-day functions)."""
    from alvh_core.strategy.payoff import heat_map, payoff_curves
    from alvh_core.strategy.position import FRAME_MOVES, FRAME_VIX, date_views

    plan, hedge, condor, market = position.plan, position.hedge, position.condor, DEFAULT_MARKET
    vol_model = market.vol_model()
    top = int(condor.days)
    views = date_views(plan, hedge, market, vol_model, top, position.at_expiry.spx)
    assert [v.days for v in views] == [float(d) for d in range(top + 1)]
    n = max(plan.chosen.contracts, 1)
    marks = [[(7000.0 + d, figures.LOSS_COLOR, "dot", "stop")] for d in range(top + 1)]
    base = figures.combined_payoff_figure(position.at_expiry, condor, plan.metrics, "t", views[2].curves, (), marks[2])
    payoff = figures.with_day_frames(base, figures.payoff_day_frames(base, condor, plan.metrics, [v.days for v in views],
                                                                      [v.curves.combined for v in views], marks))
    horizon = next(i for i, t in enumerate(payoff.data) if t.uid == "horizon")
    payoff = _validated(payoff)          # the figure as sent, frames and all, through Plotly's full checks
    assert len(payoff.frames) == top + 1
    for day in (0, 5, top):
        frame = payoff.frames[day]
        assert frame.name == str(day) and list(frame.traces) == [horizon]
        own = payoff_curves(condor, n, hedge, market, vol_model, position.at_expiry.spx, float(day)).combined
        assert np.abs(np.asarray(frame.data[0].y) - own).max() <= 0.5          # whole dollars
        assert ("<extra>today</extra>" if day == 0 else f"<extra>day {day}</extra>") in frame.data[0].hovertemplate
        assert frame.data[0].uid is None          # a uid in a frame would make the browser draw a second line
        assert any(s.x0 == 7000.0 + day for s in frame.layout.shapes)            # that day's rule mark
        assert any(s.type == "path" for s in frame.layout.shapes)                # the VIX band stays
    heats = [v.heat for v in views]
    scale = figures.heat_scale(heats)
    heat = _validated(figures.with_day_frames(figures.heat_map_figure(heats[0], scale),
                                              figures.heat_day_frames(heats, scale)))
    assert len(heat.frames) == top + 1
    own = heat_map(condor, n, hedge, market, vol_model, 5.0, FRAME_MOVES, FRAME_VIX).combined
    assert np.abs(np.asarray(heat.frames[5].data[0].z) - own).max() <= 0.5
    assert heat.frames[5].layout.title.text.startswith("Combined P/L by SPX move and VIX, day 5")
    assert scale[0] >= max(h.condor_scale for h in heats) * (1 - 1e-12) or not scale[1]
    surface = _validated(figures.with_day_frames(figures.surface_figure(heats[0]), figures.heat_day_frames(heats, scale)))
    assert surface.frames[3].data[0].type == "surface" and len(surface.frames) == top + 1
    layers = _validated(figures.with_day_frames(figures.layers_vs_vix_figure(
        views[0].layer_vix_levels, views[0].layer_pnl, 16.9, 0.0), figures.layers_day_frames(views)))
    assert len(layers.frames) == top + 1
    # A frame does not rescale the axis: the fixed range holds every day's lines.
    for fig in (payoff, layers):
        low, high = fig.layout.yaxis.range
        ys = np.concatenate([np.asarray(e.y, float) for f in fig.frames for e in f.data])
        assert low <= ys.min() and ys.max() <= high
    first = next(iter(views[4].layer_pnl))
    assert np.abs(np.asarray(layers.frames[4].data[0].y) - views[4].layer_pnl[first]).max() <= 0.5
    # The browser's Plotly builds CSS selectors from trace uids ("Base", "Single call" are layer names).
    uids = [t.uid for fig in (payoff, heat, surface, layers) for t in fig.data if t.uid]
    assert len(uids) >= 5 and all(uid.isalnum() and uid.isascii() for uid in uids), uids
