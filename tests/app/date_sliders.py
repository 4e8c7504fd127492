"""The Builder's date sliders (browser components) seen from AppTest: what the page sent them, and a
move as the browser reports it (the day lands in the session state before the rerun)."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

KEYS = ("hz", "sd")


def slider_data(at: AppTest, key: str) -> dict:
    """The data the page gave the date slider ``key`` (its day is ``value``, its days ``ticks``)."""
    for element in at.get("bidi_component"):
        if element.key == f"{key}_slider":
            return json.loads(element.proto.json)
    raise AssertionError(f"no date slider {key!r} on the page")


def move(at: AppTest, key: str, day: int) -> None:
    """The slider ``key`` moved to ``day`` in the browser, then the page reruns."""
    at.session_state[key] = day
    at.run()
