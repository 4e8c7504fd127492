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
