"""Plotly figure builders: result objects in, ``go.Figure`` out.

Pure functions (no Streamlit), so they can be tested without a browser.
Colors are the same everywhere: condor blue, hedge orange, combined green.
Figures use transparent backgrounds so they read on dark and light themes.

Traces and layouts are written as plain dicts and the figure is created once
without Plotly's property validation: building figures through Plotly's
object model (``add_vline``, ``update_layout`` …) costs tens of milliseconds
each, which a slider cannot afford.  The unit tests validate every builder's
output fully instead.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from alvh_core.strategy.condor import CondorMetrics, IronCondor
from alvh_core.strategy.payoff import payoff_grid
from alvh_core.strategy.sizing import ScaleTable

CONDOR_COLOR = "#3B82F6"
HEDGE_COLOR = "#F59E0B"
COMBINED_COLOR = "#10B981"
LOSS_COLOR = "#EF4444"
NEUTRAL_COLOR = "#9CA3AF"
GRID_COLOR = "rgba(128,128,128,0.2)"
REGIME_COLORS = {"Low": "#10B981", "Moderate": "#F59E0B", "High": "#EF4444"}
#: One colour and dash per hedge layer, the same on every chart; "All layers" is the hedge's own colour.
LAYER_STYLES = {"Base": ("#8B5CF6", "solid"), "Adaptive": ("#EC4899", "dash"), "Tail": ("#06B6D4", "dashdot"),
                "Single call": ("#8B5CF6", "solid"), "VXTH": ("#8B5CF6", "solid")}
DOLLARS = "$,.0f"


def _figure(traces: list[dict], title: str, x_title: str, y_title: str, shapes=(), annotations=(),
            xaxis: dict | None = None, yaxis: dict | None = None, top_axis: dict | None = None, **layout) -> go.Figure:
    """One figure in the house style, created once and unvalidated (see above).

    ``top_axis``: a second x-axis along the top (the key levels of a payoff
    chart), with room made for its two-line labels under the title."""
    if top_axis is not None:
        lines = max((text.count("<br>") + 1 for text in top_axis.get("ticktext", ())), default=1)
        layout = dict(xaxis2=top_axis, margin=dict(l=60, r=20, t=48 + 13 * lines, b=40)) | layout
    base = dict(
        title=dict(text=title, x=0.0, xanchor="left") | (dict(y=0.98, yanchor="top") if top_axis is not None else {}),
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        margin=dict(l=60, r=20, t=60, b=70 if x_title == "Date" else 40), hovermode="x unified",
        # Dated axes have two-line ticks (month, then the year under the first): the legend sits lower.
        legend=dict(orientation="h", yanchor="top", y=-0.27 if x_title == "Date" else -0.18, xanchor="left", x=0.0),
        xaxis=dict(title=dict(text=x_title), showgrid=True, gridcolor=GRID_COLOR, zeroline=False) | (xaxis or {}),
        yaxis=dict(title=dict(text=y_title), showgrid=True, gridcolor=GRID_COLOR, zeroline=True,
                   zerolinecolor="rgba(128,128,128,0.6)", tickformat=DOLLARS) | (yaxis or {}),
        shapes=list(shapes), annotations=list(annotations),
    )
    return go.Figure(data=traces, layout=base | layout, _validate=False)


def _line(x, y, name: str, color: str, width: float = 2, dash: str = "solid", hover: str | None = None, **extra) -> dict:
    trace = dict(type="scatter", mode="lines", x=np.asarray(x, float), y=np.asarray(y, float), name=name,
                 line=dict(color=color, width=width, dash=dash))
    if hover is not None:
        trace["hovertemplate"] = hover
    return trace | extra


def _vline(x: float, color: str, dash: str, text: str, position: str) -> tuple[dict, dict]:
    """A vertical line across the plot and its label."""
    shape = dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, line=dict(color=color, dash=dash, width=1))
    top = position.startswith("top")
    anchor = "right" if position.endswith("left") else ("left" if position.endswith("right") else "center")
    note = dict(x=x, xref="x", yref="paper", y=1.0 if top else 0.0, yanchor="bottom", text=text, showarrow=False,
                xanchor=anchor, font=dict(size=11), yshift=0 if top else 2)
    return shape, note


def _band(x0: float, x1: float, alpha: float) -> dict:
    return dict(type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1, fillcolor=NEUTRAL_COLOR, opacity=alpha,
                line=dict(width=0), layer="below")


def _condor_marks(condor: IronCondor, metrics: CondorMetrics, extra=()) -> tuple[list, list, list]:
    """±1σ/±2σ bands, and lines at the breakevens, short strikes and spot.

    The lines are labeled on a second x-axis along the top (a tick on each
    line, or one between lines too close to label apart; the short strikes
    as "put" and "call", in the condor's colour) rather than with
    annotations: a browser draws tick labels several times faster, which
    keeps the horizon slider quick.  Returns (shapes, extra traces, the top
    axis).
    """
    one, two = metrics.expected_move_1sd, metrics.expected_move_2sd
    shapes = [_band(condor.spot - width, condor.spot + width, alpha) for width, alpha in ((two, 0.10), (one, 0.18))]
    marks = [(be, LOSS_COLOR, "dash", "BE") for be in metrics.breakevens]
    marks += [(leg.strike, CONDOR_COLOR, "dot", leg.kind) for leg in (condor.short_put, condor.short_call)]
    marks.append((condor.spot, NEUTRAL_COLOR, "solid", "spot"))
    marks += list(extra)      # (x, color, dash, name): the management rules' trigger levels
    marks.sort()
    shapes += [dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, line=dict(color=color, dash=dash, width=1))
               for x, color, dash, _ in marks]
    # Marks closer than 6 % of the chart's width (a breakeven beside its short strike) share one label.
    grid = payoff_grid(condor, metrics, 2)
    near = 0.06 * (grid[-1] - grid[0])
    groups: list[list] = []
    for mark in marks:
        if groups and mark[0] - groups[-1][-1][0] < near:
            groups[-1].append(mark)
        else:
            groups.append([mark])
    raise_by = max(len(group) for group in groups[::2])
    top_axis = dict(overlaying="x", matches="x", side="top", tickmode="array",
                    tickvals=[float(np.mean([m[0] for m in group])) for group in groups],
                    # Every other label above its neighbours' lines: they never touch, even on a phone.
                    ticktext=["<br>".join(f'<span style="color:{color}">{name} {x:,.0f}</span>'
                                          for x, color, _, name in group) + ("<br> " * raise_by if i % 2 else "")
                              for i, group in enumerate(groups)],
                    tickangle=0, showgrid=False, zeroline=False, ticks="outside", ticklen=4, tickfont=dict(size=10))
    # An overlaying axis is drawn only when a trace uses it: one invisible point.
    anchor = dict(type="scatter", x=[condor.spot], y=[None], xaxis="x2", mode="markers", showlegend=False,
                  hoverinfo="skip")
    return shapes, [anchor], top_axis


def _band_path(x: np.ndarray, low: np.ndarray, high: np.ndarray, color: str) -> dict:
    """A filled band as one path shape (lighter for the browser than a filled trace)."""
    points = np.concatenate([np.column_stack([x, high]), np.column_stack([x[::-1], low[::-1]])])
    path = "M" + "L".join(f"{px:.2f},{py:.2f}" for px, py in points) + "Z"
    return dict(type="path", path=path, xref="x", yref="y", fillcolor=color, line=dict(width=0), layer="below")


def condor_payoff_figure(condor: IronCondor, metrics: CondorMetrics, contracts: int,
                         horizon_values: np.ndarray | None = None, horizon_label: str = "",
                         spx_grid: np.ndarray | None = None) -> go.Figure:
    """Position P/L ($) against SPX: at expiry, and at a horizon if given."""
    n = max(contracts, 1)
    x = payoff_grid(condor, metrics) if spx_grid is None else np.asarray(spx_grid, float)
    shapes, traces, axes = _condor_marks(condor, metrics)
    traces.append(_line(x, condor.pnl_at_expiry(x) * condor.dollars_per_point * n, "Condor at expiry", CONDOR_COLOR, 3,
                        hover="SPX %{x:,.0f}<br>P/L %{y:$,.0f}<extra>at expiry</extra>"))
    if horizon_values is not None:
        traces.append(_line(x, np.asarray(horizon_values, float) * condor.dollars_per_point * n,
                            f"Condor {horizon_label} (model)",
                            CONDOR_COLOR, 2, "dot", hover="SPX %{x:,.0f}<br>P/L %{y:$,.0f}<extra>" + horizon_label
                            + "</extra>"))
    if contracts <= 0:
        title = f"Iron condor P/L per contract: the budget allows none ({condor.days:.3g} days to expiry)"
    else:
        title = f"Iron condor P/L, {n} contract{'s' if n != 1 else ''} ({condor.days:.3g} days to expiry)"
    return _figure(traces, title, "SPX at expiry (index points)", "P/L (dollars)", shapes, top_axis=axes)


#: Dashes and shades of the extra dated lines (T+n) on the payoff chart.
DATE_STYLES = (("#34D399", "dash"), ("#6EE7B7", "dashdot"), ("#059669", "longdash"), ("#A7F3D0", "dash"),
               ("#047857", "dashdot"), ("#10B981", "longdashdot"))


def combined_payoff_figure(curves, condor: IronCondor, metrics: CondorMetrics, title: str,
                           horizon_curves=None, dated: list | None = None, rule_marks=()) -> go.Figure:
    """Condor, hedge and combined P/L against SPX, with the hedge's VIX band.

    The band is the hedge (and so the combined line) at the 10th and 90th
    percentile of the VIX response to each SPX level.  ``rule_marks``:
    (SPX level, color, dash, label) of the management rules' triggers.
    """
    # Every other point of a finer grid is plenty for the eye (and halves what the browser draws).
    pick = slice(None, None, 2) if len(curves.spx) > 300 else slice(None)
    x = curves.spx[pick]
    shapes, traces, axes = _condor_marks(condor, metrics, rule_marks)
    low = (curves.condor + np.minimum(curves.hedge_p10, curves.hedge_p90))[pick]
    high = (curves.condor + np.maximum(curves.hedge_p10, curves.hedge_p90))[pick]
    shapes.append(_band_path(x, low, high, "rgba(16,185,129,0.18)"))
    traces += [
        _line(x, curves.condor[pick], "Condor", CONDOR_COLOR, hover="SPX %{x:,.0f}<br>condor %{y:$,.0f}<extra></extra>"),
        _line(x, curves.hedge[pick], "Hedge", HEDGE_COLOR, customdata=np.asarray(curves.vix_median, float)[pick],
              hover="SPX %{x:,.0f} (VIX %{customdata:.1f})<br>hedge %{y:$,.0f}<extra></extra>"),
        _line(x, curves.combined[pick], "Combined", COMBINED_COLOR, 3,
              hover="SPX %{x:,.0f}<br>combined %{y:$,.0f}<extra></extra>"),
    ]
    if horizon_curves is not None:
        days = horizon_curves.days_elapsed
        traces.append(_line(x, horizon_curves.combined[pick], HORIZON_NAME, COMBINED_COLOR, 2, "dot",
                            hover="SPX %{x:,.0f}<br>%{y:$,.0f}<extra>" + (f"day {days:g}" if days else "today")
                            + "</extra>",
                            uid="horizon"))
    for i, (label, extra) in enumerate(dated or ()):
        color, dash = DATE_STYLES[i % len(DATE_STYLES)]
        traces.append(_line(x, extra.combined[pick], label, color, 1.6, dash,
                            hover="SPX %{x:,.0f}<br>%{y:$,.0f}<extra>" + label + "</extra>"))
    # 390 px: the chart, its legend and the headline numbers fit one 1,000 px screen beside the inputs.
    return _figure(traces, title, "SPX (index points)", "P/L (dollars)", shapes, top_axis=axes, height=390)


#: The payoff chart's dotted line: the combined position on the horizon slider's date (the slider, under the
#: chart, names the date; a name that changed with it would make every move redraw the whole chart).
HORIZON_NAME = "Combined at the horizon"


def heat_scale(heats) -> tuple[float, bool]:
    """The heat maps' colour bound (dollars) and whether cells beyond it exist: the widest cell, capped
    at the condor's own largest P/L, over every day the date slider shows (one scale for all)."""
    widest = max((float(np.max(np.abs(h.combined))) for h in heats), default=0.0) or 1.0
    condor = max((h.condor_scale for h in heats), default=0.0)
    # Coloured on the condor's own scale: a hedge worth ten times the condor would wash the condor out; cells
    # beyond it take the end colours (the hover still gives each cell's dollars).
    bound = min(widest, condor) if condor > 0 else widest
    return bound, bound < widest


def _heat_title(days: float) -> str:
    return f"Combined P/L by SPX move and VIX, day {days:g} (model)"


def heat_map_figure(heat, scale: tuple[float, bool] | None = None) -> go.Figure:
    """Combined P/L over SPX move (x) and VIX level (y), zero in white.  ``scale``: the colour bound of
    :func:`heat_scale` (this heat map's own by default)."""
    z = np.asarray(heat.combined, float)
    bound, capped = scale or heat_scale([heat])
    trace = dict(type="heatmap", uid="heat", x=100 * np.asarray(heat.spx_moves, float),
                 y=np.asarray(heat.vix_levels, float), z=z, zmid=0.0, zmin=-bound, zmax=bound,
                 colorscale=[[0.0, LOSS_COLOR], [0.5, "#F8FAFC"], [1.0, COMBINED_COLOR]],
                 colorbar=dict(title=dict(text="P/L ($)" + (f"<br>colours end at<br>the condor's ±${bound:,.0f}"
                                                            if capped else "")), tickformat=DOLLARS),
                 hovertemplate="SPX %{x:+.1f} %<br>VIX %{y:.1f}<br>combined %{z:$,.0f}<extra></extra>")
    return _figure([trace], _heat_title(heat.days_elapsed),
                   "SPX move (%)", "VIX (vol points)", xaxis=dict(ticksuffix=" %", showgrid=False),
                   yaxis=dict(tickformat=".0f", zeroline=False, showgrid=False), hovermode="closest")


def surface_figure(heat) -> go.Figure:
    """The heat map as a 3-D surface (drawn only on request: it is heavy)."""
    trace = dict(type="surface", uid="heat", x=100 * np.asarray(heat.spx_moves, float), y=np.asarray(heat.vix_levels, float),
                 z=np.asarray(heat.combined, float), cmid=0.0,
                 colorscale=[[0.0, LOSS_COLOR], [0.5, "#F8FAFC"], [1.0, COMBINED_COLOR]])
    return go.Figure(data=[trace], layout=dict(
        title=dict(text="Combined P/L surface (model)"), paper_bgcolor="rgba(0,0,0,0)", margin=dict(l=0, r=0, t=40, b=0),
        scene=dict(xaxis=dict(title=dict(text="SPX move (%)")), yaxis=dict(title=dict(text="VIX")),
                   zaxis=dict(title=dict(text="P/L ($)")))), _validate=False)


def _layers_title(days: float) -> str:
    return f"Hedge layers' P/L against VIX, day {days:g} (model)"


def _layer_lines(layer_pnl: dict) -> list[tuple[str, str, np.ndarray]]:
    """(uid, name, P/L) of each layer's line and, with more than one layer, of their total.  A uid is a
    plain word: the browser's Plotly puts it into CSS selectors."""
    lines = [(f"layer{i}", name, np.asarray(pnl, float)) for i, (name, pnl) in enumerate(layer_pnl.items())]
    if len(lines) > 1:
        lines.append(("layers", "All layers", sum(pnl for _, _, pnl in lines)))
    return lines


def layers_vs_vix_figure(levels: np.ndarray, layer_pnl: dict, vix_now: float, days: float) -> go.Figure:
    """Each layer's P/L against spot VIX at the horizon."""
    traces = []
    for uid, name, pnl in _layer_lines(layer_pnl):
        if uid != "layers":
            color, dash = LAYER_STYLES.get(name, (HEDGE_COLOR, "solid"))
            traces.append(_line(levels, pnl, name, color, 2, dash, uid=uid,
                                hover="VIX %{x:.1f}<br>%{y:$,.0f}<extra>" + name + "</extra>"))
        else:
            traces.append(_line(levels, pnl, name, HEDGE_COLOR, 3, "dot", uid=uid))
    shape, note = _vline(vix_now, NEUTRAL_COLOR, "solid", f"VIX {vix_now:.1f}", "top")
    return _figure(traces, _layers_title(days), "Spot VIX (vol points)", "P/L (dollars)", [shape], [note])


# --- date frames: a date slider moving a chart in the browser -------------------------------------------

def _whole(values) -> list:
    """Dollars as whole numbers in plain lists: a frame's arrays travel as JSON (the browser's Plotly reads
    typed arrays in a figure's data but not in its frames), and cents are noise on a chart."""
    return np.rint(np.asarray(values, float)).astype(np.int64).tolist()


class _Framed(go.Figure):
    """A figure whose frames stay plain JSON-ready dicts, added as it is sent: Plotly's ``Frame`` objects
    would copy and check every number of every frame on each draw (tens of milliseconds for a heat map's
    month of days)."""

    def to_dict(self):
        return super().to_dict() | {"frames": self._day_frames}


def with_day_frames(figure: go.Figure, frames: list[dict], also=()) -> go.Figure:
    """``figure`` with one frame per day, named by the day ("0", "1", …), for a date slider to move
    through in the browser.  A frame's data entries name their trace by ``uid``; each frame gets the
    matching trace indexes (a frame updates only those traces) and their types (the same frames serve a
    heat map and its 3-D surface), and loses the uid.  ``figure`` itself becomes the framed one.

    When the frames move lines, the y axis is fixed to hold every day's (a frame does not rescale the
    axis): the lines, the frames and ``also`` (arrays drawn otherwise, a band's edges)."""
    index = {trace.uid: i for i, trace in enumerate(figure.data) if trace.uid}
    moved = [entry["y"] for frame in frames for entry in frame["data"] if "y" in entry]
    if moved:
        values = [np.asarray(v, dtype=float).ravel() for v in moved]
        values += [np.asarray(t.y, dtype=float).ravel() for t in figure.data if t.y is not None and t.yaxis in (None, "y")]
        values += [np.asarray(v, dtype=float).ravel() for v in also]
        every = np.concatenate(values)
        every = every[np.isfinite(every)]
        if every.size:
            low, high = float(every.min()), float(every.max())
            pad = 0.05 * (high - low or abs(high) or 1.0)
            figure.layout.yaxis.range = [low - pad, high + pad]
    kinds = {uid: figure.data[i].type for uid, i in index.items()}
    figure.__class__ = _Framed
    # The uid only finds the trace: a frame that set it would make the browser's Plotly draw the trace
    # anew beside the old one (its key changes).
    figure._day_frames = [frame | {"traces": [index[entry["uid"]] for entry in frame["data"]],
                                   "data": [{k: v for k, v in entry.items() if k != "uid"} | {"type": kinds[entry["uid"]]}
                                            for entry in frame["data"]]}
                          for frame in frames]
    return figure


def payoff_day_frames(figure: go.Figure, condor: IronCondor, metrics: CondorMetrics, days: list[float],
                      combined: list, marks_by_day: list | None = None) -> list[dict]:
    """The frames of ``figure`` (a :func:`combined_payoff_figure`): the dotted combined line on each day
    (``combined``: P/L arrays on the chart's SPX grid) and, with management rules on, their trigger
    marks (``marks_by_day``: the ``rule_marks`` of each day)."""
    pick = slice(None, None, 2) if len(combined[0]) > 300 else slice(None)
    bands = ([shape for shape in figure.layout.to_plotly_json().get("shapes", ()) if shape.get("type") == "path"]
             if marks_by_day is not None else [])
    frames = []
    for i, (day, line) in enumerate(zip(days, combined, strict=True)):
        frame = {"name": str(i), "data": [{"uid": "horizon", "y": _whole(np.asarray(line)[pick]),
                                           "hovertemplate": "SPX %{x:,.0f}<br>%{y:$,.0f}<extra>"
                                                            + (f"day {day:g}" if day else "today") + "</extra>"}]}
        if marks_by_day is not None:
            shapes, _, axis = _condor_marks(condor, metrics, marks_by_day[i])
            frame["layout"] = {"shapes": shapes + bands,
                               "xaxis2": {"tickvals": axis["tickvals"], "ticktext": axis["ticktext"]}}
        frames.append(frame)
    return frames


def heat_day_frames(heats, scale: tuple[float, bool]) -> list[dict]:
    """The heat map's (and its 3-D surface's) frames: the grid of each day, on one colour scale."""
    return [{"name": str(i), "data": [{"uid": "heat", "z": _whole(h.combined)}],
             "layout": {"title": {"text": _heat_title(h.days_elapsed)}}} for i, h in enumerate(heats)]


def layers_day_frames(views) -> list[dict]:
    """The layers-against-VIX chart's frames: each layer's line (and their total) on each day."""
    return [{"name": str(i), "data": [{"uid": uid, "y": _whole(pnl)} for uid, _, pnl in _layer_lines(v.layer_pnl)],
             "layout": {"title": {"text": _layers_title(v.days)}}} for i, v in enumerate(views)]


def scale_figure(table: ScaleTable) -> go.Figure:
    """Net credit after slippage and worst-case drawdown, 1 to N contracts."""
    traces = [_line(table.contracts, table.net_credit, "Net credit after entry slippage", CONDOR_COLOR),
              _line(table.contracts, -table.drawdown, "Worst case (max loss + slippage)", LOSS_COLOR)]
    return _figure(traces, "Scale: credit and drawdown by position size (model-based)", "Contracts", "Dollars")


def vix_history_figure(panel, start, low_max: float, high_min: float) -> go.Figure:
    """VIX closes since ``start`` over the three regime bands."""
    vix = panel["vix"].dropna().loc[start:]
    top = max(float(vix.max()) * 1.1 if len(vix) else 40.0, high_min + 10)
    shapes, notes = [], []
    for name, (y0, y1) in {"Low": (0, low_max), "Moderate": (low_max, high_min), "High": (high_min, top)}.items():
        shapes.append(dict(type="rect", xref="paper", yref="y", x0=0, x1=1, y0=y0, y1=y1,
                           fillcolor=REGIME_COLORS[name], opacity=0.10, line=dict(width=0), layer="below"))
        notes.append(dict(xref="paper", yref="y", x=0.0, y=y1, yanchor="top", xanchor="left", text=name,
                          showarrow=False, font=dict(size=11)))
    trace = dict(type="scatter", mode="lines", x=vix.index.to_numpy(), y=vix.to_numpy(float), name="VIX",
                 line=dict(color=CONDOR_COLOR, width=1.8), hovertemplate="%{x|%Y-%m-%d}<br>VIX %{y:.2f}<extra></extra>")
    return _figure([trace], "VIX with the regime bands", "Date", "VIX (vol points)", shapes, notes,
                   yaxis=dict(tickformat=".0f", range=[0, top]))


def term_structure_figure(levels: dict, futures: list[tuple[float, float]] | None = None) -> go.Figure:
    """VIX9D → VIX6M against tenor, with the futures proxy if given."""
    tenors = {"vix9d": 9, "vix": 30, "vix3m": 93, "vix6m": 183}
    points = [(tenors[k], levels[k], k.upper()) for k in tenors if levels.get(k)]
    traces = []
    if points:
        traces.append(dict(type="scatter", x=np.array([p[0] for p in points], float),
                           y=np.array([p[1] for p in points], float), text=[p[2] for p in points],
                           mode="lines+markers+text", textposition="top center", name="Cboe vol indexes",
                           line=dict(color=CONDOR_COLOR, width=2),
                           hovertemplate="%{text}: %{y:.2f} (%{x} days)<extra></extra>"))
    if futures:
        traces.append(dict(type="scatter", x=np.array([f[0] for f in futures], float),
                           y=np.array([f[1] for f in futures], float), mode="lines+markers",
                           name="VIX futures (model proxy)", line=dict(color=HEDGE_COLOR, width=2, dash="dot"),
                           hovertemplate="future expiring in %{x:.0f} days: %{y:.2f}<extra>model</extra>"))
    return _figure(traces, "Term structure", "Days to expiry", "Vol points", yaxis=dict(tickformat=".1f"))


def _wrapped(text: str, width: int) -> str:
    """Text broken into lines of about ``width`` characters (Plotly's <br>)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def stress_contributions_figure(report) -> go.Figure:
    """Each signal's share of the stress score (grey: not available)."""
    values = np.array([s.contribution for s in report.signals], float)
    # Labels wrapped at about 22 characters: the bars keep their room on a phone.
    trace = dict(type="bar", orientation="h", x=values, y=[_wrapped(s.label, 22) for s in report.signals],
                 marker=dict(color=[HEDGE_COLOR if s.stress is not None else NEUTRAL_COLOR for s in report.signals]),
                 text=[f"{s.stress:.2f}×{s.weight:.2f}" if s.stress is not None else "n/a" for s in report.signals],
                 textposition="outside", customdata=[s.label for s in report.signals],
                 hovertemplate="%{customdata}: stress × weight = %{x:.3f}<extra></extra>")
    return _figure([trace], f"Stress score {report.stress_score:.2f}: each signal's part",
                   "Adds to the score (stress × weight)", "",
                   xaxis=dict(range=[0, max(0.3, float(values.max()) * 1.5 if values.size else 0.3)]),
                   yaxis=dict(tickformat="", autorange="reversed", zeroline=False), hovermode="closest",
                   showlegend=False)


# --- history, simulation and hedge comparisons -------------------------------------------------

#: One colour per scheme on every history chart: the condor alone in the condor's blue, ALVH in the
#: combined green, the comparators in their own colours, "trade smaller" grey and dashed.
SCHEME_COLORS = {"none": CONDOR_COLOR, "alvh": COMBINED_COLOR, "single": "#8B5CF6", "static10": "#EC4899",
                 "vxth": "#06B6D4", "smaller": NEUTRAL_COLOR, "index": LOSS_COLOR}


def _dated(index, values, name: str, color: str, dash: str = "solid", fmt: str = "$,.0f", width: float = 1.8) -> dict:
    return dict(type="scatter", mode="lines", x=index, y=np.asarray(values, float), name=name,
                line=dict(color=color, width=width, dash=dash),
                hovertemplate=f"%{{x|%Y-%m-%d}}<br>{name}: %{{y:{fmt}}}<extra></extra>")


#: Above this many days a chart of a whole history draws one point a week (the screen has fewer pixels).
CHART_DAYS = 2_500


def _weekly(frame, how: str = "last"):
    """A long daily frame as one row a week (its last value, or its lowest); a short one as it is."""
    if len(frame) <= CHART_DAYS:
        return frame
    weeks = frame.resample("W-FRI")
    return (weeks.min() if how == "min" else weeks.last()).dropna(how="all")


def equity_figure(equity, labels: dict, title: str, log: bool = True) -> go.Figure:
    """Account value by scheme (dollars; log scale by default: equal moves look equal); a history longer
    than ten years is drawn at the week's last close."""
    equity = _weekly(equity)
    traces = [_dated(equity.index.to_numpy(), equity[col], labels.get(col, col), SCHEME_COLORS.get(col, NEUTRAL_COLOR),
                     "dash" if col == "smaller" else "solid") for col in equity.columns]
    yaxis = dict(type="log" if log else "linear", zeroline=False)
    if log:
        yaxis |= dict(tickmode="array", tickvals=log_ticks(equity.to_numpy()), tickformat="$,.0f")
    return _figure(traces, title, "Date", "Account value ($, log scale)" if log else "Account value ($)",
                   yaxis=yaxis)


def log_ticks(values) -> list[float]:
    """Labels of a dollar log axis that never crowd: 1, 2 and 5 times each power of ten in the data's range
    (1 and 3 when the range spans more than four decades; powers alone past eight)."""
    finite = np.asarray(values, float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size == 0:
        return []
    low, high = np.floor(np.log10(finite.min())), np.ceil(np.log10(finite.max()))
    steps = (1, 2, 5) if high - low <= 4 else (1, 3) if high - low <= 8 else (1,)
    ticks = [m * 10.0 ** p for p in range(int(low), int(high) + 1) for m in steps]
    return [t for t in ticks if finite.min() / 1.5 <= t <= finite.max() * 1.5]


def drawdown_figure(equity, labels: dict) -> go.Figure:
    """Fall from the running peak by scheme, % of the peak."""
    values = equity.clip(lower=1.0)
    falls = _weekly(-100.0 * (1.0 - values / values.cummax()), how="min")   # each week's deepest point
    traces = [_dated(falls.index.to_numpy(), falls[col], labels.get(col, col), SCHEME_COLORS.get(col, NEUTRAL_COLOR),
                     "dash" if col == "smaller" else "solid", fmt=".1f") for col in falls.columns]
    return _figure(traces, "Drawdown from the running peak", "Date", "Drawdown (% of peak)",
                   yaxis=dict(tickformat=".0f", ticksuffix=" %"))


def replay_figure(path, columns: list[str], colors: dict, title: str) -> go.Figure:
    """Cumulative P/L through an episode (dollars), with SPX on a second axis."""
    traces = [_dated(path.index, path[c], c, colors.get(c, NEUTRAL_COLOR), "dot" if "hedge" in c.lower() and
                     "condors" not in c.lower() else "solid") for c in columns]
    traces.append(_dated(path.index, path["SPX"], "SPX (right axis)", NEUTRAL_COLOR, "dot", fmt=",.0f", width=1.2)
                  | dict(yaxis="y2"))
    return _figure(traces, title, "Date", "P/L since the start ($)",
                   yaxis2=dict(title=dict(text="SPX (points)"), overlaying="y", side="right", showgrid=False,
                               tickformat=",.0f"))


def futures_figure(table) -> go.Figure:
    """VIX futures as CFE settled them beside the proxy the hedge is marked on (VIX points)."""
    traces = [_dated(table.index, table["VIX"], "VIX", NEUTRAL_COLOR, "dot", fmt=".2f"),
              _dated(table.index, table["VX1 settled"], "VX1 settled", HEDGE_COLOR, fmt=".2f"),
              _dated(table.index, table["VX1 model"], "VX1 model", HEDGE_COLOR, "dash", fmt=".2f"),
              _dated(table.index, table["VX2 settled"], "VX2 settled", CONDOR_COLOR, fmt=".2f"),
              _dated(table.index, table["VX2 model"], "VX2 model", CONDOR_COLOR, "dash", fmt=".2f")]
    return _figure(traces, "VIX futures: CFE settlements and the model's proxy", "Date", "VIX points",
                   yaxis=dict(tickformat=".0f"))


def scale_sweep_figure(table, scheme_label: str) -> go.Figure:
    """Max drawdown against contracts per entry, with and without the hedge (seed 003)."""
    x = table["contracts"].to_numpy(float)
    traces = [_line(x, 100 * table["none_max_drawdown_pct"], "No hedge", CONDOR_COLOR, mode="lines+markers"),
              _line(x, 100 * table[[c for c in table.columns if c.endswith("_max_drawdown_pct") and
                                    not c.startswith("none")][0]], scheme_label, COMBINED_COLOR, mode="lines+markers")]
    return _figure(traces, "Max drawdown against contracts per entry (seed 003)", "Contracts per entry",
                   "Max drawdown (% of the account)", xaxis=dict(type="log"), yaxis=dict(tickformat=".0f",
                                                                                       ticksuffix=" %"))


def mc_figure(results: dict, labels: dict) -> go.Figure:
    """Simulated P/L of each scheme's book at the horizon as a distribution: the chance of doing
    no better than each P/L (dollars), the tails where the schemes differ."""
    traces = []
    everything = np.concatenate([np.asarray(v, float) for v in results.values()])
    low, high = np.percentile(everything, [0.5, 99.5])
    for name, values in results.items():
        values = np.sort(np.asarray(values, float))
        share = (np.arange(values.size) + 0.5) / values.size
        keep = np.unique(np.linspace(0, values.size - 1, min(values.size, 400)).astype(int))
        traces.append(_line(values[keep], 100 * share[keep], labels.get(name, name),
                            SCHEME_COLORS.get(name, NEUTRAL_COLOR), dash="dash" if name == "smaller" else "solid",
                            hover="P/L %{x:$,.0f}: %{y:.1f} % of paths at or below<extra>" + labels.get(name, name)
                                  + "</extra>"))
    return _figure(traces, "Simulated P/L of the book at the horizon: share of paths at or below each P/L",
                   "P/L of condor + hedge at the horizon ($)", "Paths at or below (%)", hovermode="closest",
                   xaxis=dict(tickformat=DOLLARS, range=[low, high]), yaxis=dict(tickformat=".0f", ticksuffix=" %",
                                                                                 range=[0, 100]))


def cost_protection_figure(points) -> go.Figure:
    """Each scheme's premium against what it saves in a fall (dollars)."""
    traces = [dict(type="scatter", mode="markers+text", x=[p["cost"]], y=[p["saved"]], name=p["label"],
                   text=[p["label"]], textposition="top center",
                   marker=dict(size=13, color=SCHEME_COLORS.get(p["scheme"], NEUTRAL_COLOR)),
                   hovertemplate=f"{p['label']}<br>premium %{{x:$,.0f}}<br>saved %{{y:$,.0f}}<extra></extra>")
              for p in points]
    return _figure(traces, "Cost against protection: premium paid and the loss it saves at SPX −10 %",
                   "Hedge premium now ($)", "Loss saved at SPX −10 % (median VIX) ($)", hovermode="closest",
                   xaxis=dict(tickformat=DOLLARS), showlegend=False)


def replica_figure(replica, index=None, label: str = "Replica", index_label: str = "Cboe index") -> go.Figure:
    """A replica's level beside the real index, both 100 on their first common day."""
    traces = [_dated(replica.index, replica, label, COMBINED_COLOR, fmt=".1f")]
    if index is not None:
        traces.append(_dated(index.index, index, index_label, LOSS_COLOR, fmt=".1f"))
    return _figure(traces, "Model-priced replica beside the real index (100 at the start)", "Date", "Index level",
                   yaxis=dict(type="log", tickformat=".0f", zeroline=False))


def stress_bars_figure(table, moves: list[str], labels: dict) -> go.Figure:
    """Whole-book P/L at each SPX move by scheme (dollars), VIX at the link's median."""
    traces = []
    for row in table.itertuples():
        traces.append(dict(type="bar", x=moves, y=[getattr(row, f"m{i}") for i in range(len(moves))],
                           name=labels.get(row.scheme, row.scheme),
                           marker=dict(color=SCHEME_COLORS.get(row.scheme, NEUTRAL_COLOR)),
                           hovertemplate="%{x}: %{y:$,.0f}<extra>" + labels.get(row.scheme, row.scheme) + "</extra>"))
    return _figure(traces, "The book after an SPX fall over 5 trading days (VIX at the spot–vol link's median)",
                   "SPX move", "P/L of condor + hedge ($)", barmode="group", hovermode="closest")


#: One color per tier (the Tiers page), cool to warm from Conservative to Aggressive.
TIER_COLORS = ("#0EA5E9", "#8B5CF6", "#F43F5E", "#64748B", "#14B8A6", "#EAB308", "#A3A3A3", "#EC4899")


def tier_contracts_figure(counts: dict, measures: list[str]) -> go.Figure:
    """Contracts one budget buys under each risk measure, a bar per tier (``counts``: tier -> list)."""
    traces = [dict(type="bar", x=measures, y=list(values), name=name, marker=dict(color=TIER_COLORS[i % 8]),
                   hovertemplate="%{x}: %{y:,} contracts<extra>" + name + "</extra>")
              for i, (name, values) in enumerate(counts.items())]
    return _figure(traces, "Contracts the budget buys, by risk measure (model)", "Risk measure", "Contracts",
                   barmode="group", hovermode="closest", yaxis=dict(tickformat=",d"))


def spike_figure(spx: np.ndarray, calm: np.ndarray, spiked: np.ndarray, spot: float, vix: float, vix_spiked: float,
                 days: float) -> go.Figure:
    """One condor's P/L against SPX a few days out, VIX unchanged against VIX spiked (the Learn page)."""
    traces = [_line(spx, calm, f"VIX stays at {vix:.1f}", CONDOR_COLOR, 2.5,
                    hover="SPX %{x:,.0f}<br>%{y:$,.0f}<extra>VIX " + f"{vix:.1f}</extra>"),
              _line(spx, spiked, f"VIX jumps to {vix_spiked:.1f}", LOSS_COLOR, 2.5, "dash",
                    hover="SPX %{x:,.0f}<br>%{y:$,.0f}<extra>VIX " + f"{vix_spiked:.1f}</extra>")]
    shape, note = _vline(spot, NEUTRAL_COLOR, "solid", f"SPX {spot:,.0f}", "top")
    return _figure(traces, f"One condor after {days:g} days: the same prices, a higher VIX (model)", "SPX (points)",
                   "P/L per contract (dollars)", [shape], [note], height=340)


def decay_figure(days: np.ndarray, flat: np.ndarray, spiked: np.ndarray, vix: float, vix_spiked: float) -> go.Figure:
    """The hedge's P/L over the days it is held, VIX unchanged against VIX spiked (the Learn page)."""
    traces = [_line(days, flat, f"VIX stays at {vix:.1f}: time decay", HEDGE_COLOR, 2.5,
                    hover="day %{x}<br>%{y:$,.0f}<extra>VIX unchanged</extra>"),
              _line(days, spiked, f"VIX at {vix_spiked:.1f}", COMBINED_COLOR, 2.5, "dash",
                    hover="day %{x}<br>%{y:$,.0f}<extra>VIX spiked</extra>")]
    return _figure(traces, "The VIX hedge's P/L by the day it is marked (model)", "Days held", "P/L (dollars)",
                   height=340)
