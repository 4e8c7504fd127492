"""A date slider that moves its charts in the browser.

The Builder's horizon and scenario-date sliders choose one whole day from
today to the condor's expiry.  Every day's lines, heat map and stress table
are computed once per position and sent with the charts as Plotly frames;
moving the slider (drag, click or arrow keys) shows the day's frame at
once, with no server round trip.  The day still travels in the link: after
each move the slider tells the server (a trigger value that reruns only the
slider's own small fragment), which keeps it in the session, writes it into
the address and redraws the share box.  The charts are not sent again.

The component's HTML, CSS and JavaScript are constants of this module; the
data it receives is written into the page as text (``textContent``), never
as markup, so nothing a link carries can become part of the page.
"""

from __future__ import annotations

import math
from functools import partial

import streamlit as st

from app_pages.common import keep_in_link, redraw_share_box

HTML = """
<div class="ds">
  <div class="head"><span class="label"></span><span class="value"></span></div>
  <input type="range" min="0" step="1">
  <div class="ends"><span class="lo"></span><span class="hi"></span></div>
  <div class="caption"></div>
  <table class="table"><thead></thead><tbody></tbody></table>
</div>
"""

CSS = """
.ds { font-family: var(--st-font); color: var(--st-text-color); font-size: 14px; }
.head { display: flex; flex-wrap: wrap; gap: 0.5rem; justify-content: space-between; margin-bottom: 0.1rem; }
.value { font-weight: 600; color: var(--st-primary-color); white-space: nowrap; }
input { -webkit-appearance: none; appearance: none; width: 100%; height: 4px; margin: 0.9rem 0 0.5rem;
        border-radius: 2px; cursor: pointer; outline: none;
        background: linear-gradient(to right, var(--st-primary-color) var(--fill, 0%),
                                    var(--st-secondary-background-color) var(--fill, 0%)); }
input::-webkit-slider-thumb { -webkit-appearance: none; width: 16px; height: 16px; border-radius: 50%; border: none;
                              background: var(--st-primary-color); }
input::-moz-range-thumb { width: 16px; height: 16px; border-radius: 50%; border: none;
                          background: var(--st-primary-color); }
input:focus-visible::-webkit-slider-thumb {
  box-shadow: 0 0 0 4px color-mix(in srgb, var(--st-primary-color) 35%, transparent); }
input:focus-visible::-moz-range-thumb {
  box-shadow: 0 0 0 4px color-mix(in srgb, var(--st-primary-color) 35%, transparent); }
.ends { display: flex; justify-content: space-between; font-size: 12px; opacity: 0.7; }
.caption { font-size: 13px; opacity: 0.75; margin-top: 0.6rem; }
.caption:empty { display: none; }
table { border-collapse: collapse; width: 100%; margin-top: 0.75rem; font-size: 14px; }
table:not(:has(td)) { display: none; }
th, td { border-bottom: 1px solid var(--st-border-color); padding: 0.35rem 0.5rem; text-align: right;
         white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { font-weight: 600; opacity: 0.8; }
tbody th { opacity: 1; }
"""

JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement;
  const input = root.querySelector("input");
  const text = (selector, value) => { root.querySelector(selector).textContent = value || ""; };

  function plots() {
    return (root.__data.figures || []).map(
      (key) => document.querySelector(".st-key-" + key + " .js-plotly-plot")).filter(Boolean);
  }

  function row(cells, head) {
    const tr = document.createElement("tr");
    cells.forEach((cell, i) => {
      const td = document.createElement(head || i === 0 ? "th" : "td");
      td.textContent = cell;
      tr.appendChild(td);
    });
    return tr;
  }

  function show(day, move) {
    const d = root.__data;
    text(".value", d.ticks[day]);
    input.style.setProperty("--fill", (100 * day / Math.max(d.ticks.length - 1, 1)) + "%");
    input.setAttribute("aria-valuetext", d.ticks[day]);
    text(".caption", d.captions ? d.captions[day] : "");
    if (d.rows) {
      root.querySelector("tbody").replaceChildren(...d.rows[day].map((cells) => row(cells, false)));
    }
    if (move && window.Plotly) {
      for (const plot of plots()) {
        window.Plotly.animate(plot, [String(day)], {
          mode: "immediate", transition: { duration: 0 }, frame: { duration: 0, redraw: d.redraw } });
      }
    }
  }

  root.__data = data;
  if (!root.__ready) {
    root.__ready = true;
    input.addEventListener("input", () => {
      const day = Number(input.value);
      show(day, true);
      setTriggerValue("day", day);
    });
  }
  text(".label", data.label);
  text(".lo", data.ticks[0]);
  text(".hi", data.ticks[data.ticks.length - 1]);
  input.setAttribute("aria-label", data.label);
  input.max = String(data.ticks.length - 1);
  const head = root.querySelector("thead");
  head.replaceChildren(...(data.columns ? [row(data.columns, true)] : []));
  if (!data.rows) root.querySelector("tbody").replaceChildren();
  // A new day from the server (a link, back or forward, a rerun) or new ticks: show it.  The charts were
  // drawn on that day, so they are not moved.
  if (root.__drawn !== data.value || root.__ticks !== data.ticks.length) {
    root.__drawn = data.value;
    root.__ticks = data.ticks.length;
    input.value = String(data.value);
  }
  show(Number(input.value), false);
}
"""

_component = st.components.v2.component("alvh_date_slider", html=HTML, css=CSS, js=JS)


def day_value(key: str, top: int) -> int:
    """The day the slider ``key`` holds (0 to ``top``)."""
    value = st.session_state.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return int(min(max(value, 0), top))


def _take(key: str, top: int) -> None:
    """The browser's slider moved: keep its day (a visitor's browser can send anything: whole days only)."""
    result = st.session_state.get(f"{key}_slider")
    day = getattr(result, "day", None) if result is not None else None
    if isinstance(day, int | float) and not isinstance(day, bool) and math.isfinite(day):
        st.session_state[key] = int(min(max(round(day), 0), top))


@st.fragment
def _slider(key: str, data: dict) -> None:
    _component(key=f"{key}_slider", data=data, on_day_change=partial(_take, key, len(data["ticks"]) - 1))
    keep_in_link(key, day_value(key, len(data["ticks"]) - 1))
    redraw_share_box()


def date_slider(key: str, label: str, ticks: list[str], figures: list[str], columns: list[str] | None = None,
                rows: list | None = None, captions: list[str] | None = None, redraw: bool = True) -> int:
    """A slider over ``ticks`` (one label per whole day from today) that moves the Plotly charts with
    element keys ``figures`` to the frame of the chosen day, in the browser.  ``columns`` and ``rows``
    (per day: a list of rows of cells, the first the row's name): a table the slider redraws too;
    ``captions``: a line per day under the slider.  ``redraw=False``: the frames change only line data
    (no layout, no heat map), which Plotly moves without redrawing the chart.  Returns the day the page
    draws the charts on."""
    day = day_value(key, len(ticks) - 1)
    _slider(key, {"label": label, "ticks": ticks, "figures": figures, "value": day, "columns": columns,
                  "rows": rows, "captions": captions, "redraw": redraw})
    return day
