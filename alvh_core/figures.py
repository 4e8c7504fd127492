"""Plotly figure builders: result objects in, ``go.Figure`` out.

Pure functions (no Streamlit), so they can be tested without a browser.
Colors are the same everywhere: condor blue, hedge orange, combined green.
Figures use transparent backgrounds so they read on dark and light themes.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .condor import CondorMetrics, IronCondor
from .legs import MULTIPLIER
from .sizing import ScaleTable

CONDOR_COLOR = "#3B82F6"
HEDGE_COLOR = "#F59E0B"
COMBINED_COLOR = "#10B981"
LOSS_COLOR = "#EF4444"
NEUTRAL_COLOR = "#9CA3AF"


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left"),
        xaxis_title=x_title, yaxis_title=y_title,
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        margin=dict(l=60, r=20, t=60, b=40), hovermode="x unified",
        legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0.0),
    )
    fig.update_xaxes(showgrid=True, gridcolor="rgba(128,128,128,0.2)", zeroline=False)
    fig.update_yaxes(showgrid=True, gridcolor="rgba(128,128,128,0.2)", zeroline=True,
                     zerolinecolor="rgba(128,128,128,0.6)", tickformat="$,.0f")
    return fig


def payoff_grid(condor: IronCondor, metrics: CondorMetrics, points: int = 401) -> np.ndarray:
    """SPX levels for the payoff chart: the wings plus 2.5σ either side."""
    low = min(condor.long_put.strike, condor.spot - 2.5 * metrics.expected_move_1sd)
    high = max(condor.long_call.strike, condor.spot + 2.5 * metrics.expected_move_1sd)
    pad = 0.15 * (high - low)
    return np.linspace(max(low - pad, 1.0), high + pad, points)


def condor_payoff_figure(condor: IronCondor, metrics: CondorMetrics, contracts: int,
                         horizon_values: np.ndarray | None = None, horizon_label: str = "",
                         spx_grid: np.ndarray | None = None) -> go.Figure:
    """Position P/L ($) against SPX: at expiry, and at a horizon if given.

    Breakevens, short strikes, spot and the ±1σ/±2σ expected moves are marked.
    """
    n = max(contracts, 1)
    x = payoff_grid(condor, metrics) if spx_grid is None else np.asarray(spx_grid, float)
    at_expiry = condor.pnl_at_expiry(x) * MULTIPLIER * n
    fig = go.Figure()
    one, two = metrics.expected_move_1sd, metrics.expected_move_2sd
    for width, alpha, label in ((two, 0.10, "±2σ"), (one, 0.18, "±1σ")):
        fig.add_vrect(x0=condor.spot - width, x1=condor.spot + width, fillcolor=NEUTRAL_COLOR,
                      opacity=alpha, line_width=0)
        # The shaded ranges are named in the legend, where no label can collide.
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"{label} expected move ({width:,.0f} pts)",
                                 marker=dict(symbol="square", size=12, color=NEUTRAL_COLOR, opacity=alpha * 3),
                                 hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=at_expiry, name="Condor at expiry", line=dict(color=CONDOR_COLOR, width=3),
                             hovertemplate="SPX %{x:,.0f}<br>P/L %{y:$,.0f}<extra>at expiry</extra>"))
    if horizon_values is not None:
        fig.add_trace(go.Scatter(x=x, y=np.asarray(horizon_values, float) * MULTIPLIER * n,
                                 name=f"Condor {horizon_label} (model)",
                                 line=dict(color=CONDOR_COLOR, width=2, dash="dot"),
                                 hovertemplate="SPX %{x:,.0f}<br>P/L %{y:$,.0f}<extra>" + horizon_label + "</extra>"))
    for be, side in zip(metrics.breakevens, ("bottom left", "bottom right"), strict=True):
        fig.add_vline(x=be, line=dict(color=LOSS_COLOR, dash="dash", width=1),
                      annotation_text=f"BE {be:,.0f}", annotation_position=side)
    for leg in (condor.short_put, condor.short_call):
        fig.add_vline(x=leg.strike, line=dict(color=CONDOR_COLOR, dash="dot", width=1),
                      annotation_text=f"short {leg.kind} {leg.strike:,.0f}",
                      annotation_position="top right" if leg.kind == "call" else "top left")
    fig.add_vline(x=condor.spot, line=dict(color=NEUTRAL_COLOR, width=1),
                  annotation_text=f"spot {condor.spot:,.0f}", annotation_position="top")
    if contracts <= 0:
        title = f"Iron condor P/L per contract: the budget allows none ({condor.days:g} days to expiry)"
    else:
        title = f"Iron condor P/L, {n} contract{'s' if n != 1 else ''} ({condor.days:g} days to expiry)"
    return _layout(fig, title, "SPX at expiry (index points)", "P/L (dollars)")


def scale_figure(table: ScaleTable) -> go.Figure:
    """Net credit after slippage and worst-case drawdown, 1 to N contracts."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=table.contracts, y=table.net_credit, name="Net credit after entry slippage",
                             line=dict(color=CONDOR_COLOR, width=2)))
    fig.add_trace(go.Scatter(x=table.contracts, y=-table.drawdown, name="Worst case (max loss + slippage)",
                             line=dict(color=LOSS_COLOR, width=2)))
    return _layout(fig, "Scale: credit and drawdown by position size (model-based)", "Contracts", "Dollars")


REGIME_COLORS = {"Low": "#10B981", "Moderate": "#F59E0B", "High": "#EF4444"}


def vix_history_figure(panel, start, low_max: float, high_min: float) -> go.Figure:
    """VIX closes since ``start`` over the three regime bands."""
    vix = panel["vix"].dropna().loc[start:]
    fig = go.Figure()
    top = max(float(vix.max()) * 1.1 if len(vix) else 40.0, high_min + 10)
    for name, (y0, y1) in {"Low": (0, low_max), "Moderate": (low_max, high_min), "High": (high_min, top)}.items():
        fig.add_hrect(y0=y0, y1=y1, fillcolor=REGIME_COLORS[name], opacity=0.10, line_width=0,
                      annotation_text=name, annotation_position="top left")
    fig.add_trace(go.Scatter(x=vix.index, y=vix.to_numpy(), name="VIX", line=dict(color=CONDOR_COLOR, width=1.8),
                             hovertemplate="%{x|%Y-%m-%d}<br>VIX %{y:.2f}<extra></extra>"))
    fig = _layout(fig, "VIX with the regime bands", "Date", "VIX (vol points)")
    fig.update_yaxes(tickformat=".0f", range=[0, top])
    return fig


def term_structure_figure(levels: dict, futures: list[tuple[float, float]] | None = None) -> go.Figure:
    """VIX9D → VIX6M against tenor, with the futures proxy if given."""
    tenors = {"vix9d": 9, "vix": 30, "vix3m": 93, "vix6m": 183}
    points = [(tenors[k], levels[k], k.upper()) for k in tenors if levels.get(k)]
    fig = go.Figure()
    if points:
        fig.add_trace(go.Scatter(x=np.array([p[0] for p in points], float), y=np.array([p[1] for p in points], float),
                                 text=[p[2] for p in points], mode="lines+markers+text", textposition="top center",
                                 name="Cboe vol indexes", line=dict(color=CONDOR_COLOR, width=2),
                                 hovertemplate="%{text}: %{y:.2f} (%{x} days)<extra></extra>"))
    if futures:
        fig.add_trace(go.Scatter(x=np.array([f[0] for f in futures], float), y=np.array([f[1] for f in futures], float),
                                 mode="lines+markers", name="VIX futures (model proxy)",
                                 line=dict(color=HEDGE_COLOR, width=2, dash="dot"),
                                 hovertemplate="future expiring in %{x:.0f} days: %{y:.2f}<extra>model</extra>"))
    fig = _layout(fig, "Term structure", "Days to expiry", "Vol points")
    fig.update_yaxes(tickformat=".1f")
    return fig


def stress_contributions_figure(report) -> go.Figure:
    """Each signal's share of the stress score (grey: not available)."""
    labels = [s.label for s in report.signals]
    values = np.array([s.contribution for s in report.signals], float)
    colors = [HEDGE_COLOR if s.stress is not None else NEUTRAL_COLOR for s in report.signals]
    texts = [f"{s.stress:.2f} × w {s.weight:.2f}" if s.stress is not None else "n/a" for s in report.signals]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color=colors, text=texts,
                           textposition="outside", hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig = _layout(fig, f"Stress score {report.stress_score:.2f}: what each signal adds", "Contribution to the score (0–1)", "")
    fig.update_yaxes(tickformat=None, tickprefix="", autorange="reversed")
    fig.update_xaxes(range=[0, max(0.3, float(values.max()) * 1.3 if values.size else 0.3)])
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def combined_payoff_figure(curves, condor: IronCondor, metrics: CondorMetrics, title: str,
                           horizon_curves=None) -> go.Figure:
    """Condor, hedge and combined P/L against SPX, with the hedge's VIX band.

    The band is the hedge (and so the combined line) at the 10th and 90th
    percentile of the VIX response to each SPX level.
    """
    x = curves.spx
    fig = go.Figure()
    one, two = metrics.expected_move_1sd, metrics.expected_move_2sd
    for width, alpha, label in ((two, 0.10, "±2σ"), (one, 0.18, "±1σ")):
        fig.add_vrect(x0=condor.spot - width, x1=condor.spot + width, fillcolor=NEUTRAL_COLOR, opacity=alpha, line_width=0)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"{label} expected move ({width:,.0f} pts)",
                                 marker=dict(symbol="square", size=12, color=NEUTRAL_COLOR, opacity=alpha * 3),
                                 hoverinfo="skip"))
    low = curves.condor + np.minimum(curves.hedge_p10, curves.hedge_p90)
    high = curves.condor + np.maximum(curves.hedge_p10, curves.hedge_p90)
    fig.add_trace(go.Scatter(x=x, y=high, line=dict(width=0), hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=x, y=low, line=dict(width=0), fill="tonexty", fillcolor="rgba(16,185,129,0.18)",
                             name="Combined, VIX response 10th–90th pct", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=curves.condor, name="Condor", line=dict(color=CONDOR_COLOR, width=2),
                             hovertemplate="SPX %{x:,.0f}<br>condor %{y:$,.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=curves.hedge, name="Hedge", line=dict(color=HEDGE_COLOR, width=2),
                             customdata=curves.vix_median,
                             hovertemplate="SPX %{x:,.0f} (VIX %{customdata:.1f})<br>hedge %{y:$,.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=curves.combined, name="Combined", line=dict(color=COMBINED_COLOR, width=3),
                             hovertemplate="SPX %{x:,.0f}<br>combined %{y:$,.0f}<extra></extra>"))
    if horizon_curves is not None:
        fig.add_trace(go.Scatter(x=x, y=horizon_curves.combined, name=f"Combined after {horizon_curves.days_elapsed:g} d",
                                 line=dict(color=COMBINED_COLOR, width=2, dash="dot"),
                                 hovertemplate="SPX %{x:,.0f}<br>%{y:$,.0f}<extra>horizon</extra>"))
    for be, side in zip(metrics.breakevens, ("bottom left", "bottom right"), strict=True):
        fig.add_vline(x=be, line=dict(color=LOSS_COLOR, dash="dash", width=1), annotation_text=f"BE {be:,.0f}",
                      annotation_position=side)
    for leg in (condor.short_put, condor.short_call):
        fig.add_vline(x=leg.strike, line=dict(color=CONDOR_COLOR, dash="dot", width=1),
                      annotation_text=f"short {leg.kind} {leg.strike:,.0f}",
                      annotation_position="top right" if leg.kind == "call" else "top left")
    fig.add_vline(x=condor.spot, line=dict(color=NEUTRAL_COLOR, width=1), annotation_text=f"spot {condor.spot:,.0f}",
                  annotation_position="top")
    return _layout(fig, title, "SPX (index points)", "P/L (dollars)")


def heat_map_figure(heat) -> go.Figure:
    """Combined P/L over SPX move (x) and VIX level (y), zero in white."""
    z = heat.combined
    bound = float(np.max(np.abs(z))) or 1.0
    fig = go.Figure(go.Heatmap(
        x=100 * heat.spx_moves, y=heat.vix_levels, z=z, zmid=0.0, zmin=-bound, zmax=bound,
        colorscale=[[0.0, LOSS_COLOR], [0.5, "#F8FAFC"], [1.0, COMBINED_COLOR]],
        colorbar=dict(title="P/L ($)", tickformat="$,.0f"),
        hovertemplate="SPX %{x:+.1f} %<br>VIX %{y:.1f}<br>combined %{z:$,.0f}<extra></extra>"))
    fig = _layout(fig, f"Combined P/L by SPX move and VIX level, after {heat.days_elapsed:g} days (model)",
                  "SPX move (%)", "VIX (vol points)")
    fig.update_yaxes(tickprefix="", tickformat=".0f", zeroline=False)
    fig.update_xaxes(ticksuffix=" %")
    fig.update_layout(hovermode="closest")
    return fig


def surface_figure(heat) -> go.Figure:
    """The heat map as a 3-D surface (drawn only on request: it is heavy)."""
    fig = go.Figure(go.Surface(x=100 * heat.spx_moves, y=heat.vix_levels, z=heat.combined,
                               colorscale=[[0.0, LOSS_COLOR], [0.5, "#F8FAFC"], [1.0, COMBINED_COLOR]], cmid=0.0))
    fig.update_layout(title="Combined P/L surface (model)", paper_bgcolor="rgba(0,0,0,0)",
                      scene=dict(xaxis_title="SPX move (%)", yaxis_title="VIX", zaxis_title="P/L ($)"),
                      margin=dict(l=0, r=0, t=40, b=0))
    return fig


LAYER_COLORS = {"Base": "#F59E0B", "Adaptive": "#D97706", "Tail": "#B45309", "Single call": "#F59E0B",
                "VXTH": "#F59E0B"}


def layers_vs_vix_figure(levels: np.ndarray, layer_pnl: dict, vix_now: float, days: float) -> go.Figure:
    """Each layer's P/L against spot VIX at the horizon."""
    fig = go.Figure()
    total = np.zeros_like(levels)
    for name, pnl in layer_pnl.items():
        total = total + pnl
        fig.add_trace(go.Scatter(x=levels, y=pnl, name=name, line=dict(color=LAYER_COLORS.get(name, HEDGE_COLOR), width=2),
                                 hovertemplate="VIX %{x:.1f}<br>%{y:$,.0f}<extra>" + name + "</extra>"))
    if len(layer_pnl) > 1:
        fig.add_trace(go.Scatter(x=levels, y=total, name="All layers", line=dict(color=HEDGE_COLOR, width=3, dash="dot")))
    fig.add_vline(x=vix_now, line=dict(color=NEUTRAL_COLOR, width=1), annotation_text=f"VIX {vix_now:.1f}",
                  annotation_position="top")
    return _layout(fig, f"Hedge layers' P/L against VIX, after {days:g} days (model)", "Spot VIX (vol points)",
                   "P/L (dollars)")
