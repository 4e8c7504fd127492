"""Every page in extreme markets from a link (AppTest): VIX at 9 and 90, SPX a quarter lower or higher than
its history, zero and negative rates.  No exception, no error box, no NaN or infinity on screen.  And the
security basics the server is configured with."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app import switch_to

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = {"regime": None, "builder": "app_pages/builder.py", "tiers": "app_pages/tiers.py",
         "hedge-lab": "app_pages/hedge_lab.py", "learn": "app_pages/learn.py"}
PAGE_PARAMS = {"hedge-lab": {"lmp": "1000", "lhz": "20"}, "builder": {"hz": "200", "sd": "200"}}
MARKETS = {
    "VIX 9, negative rate": {"pin": "true", "vix": "9", "v9": "9", "v3": "9.5", "v6": "10", "rate": "-1"},
    "VIX 90, zero rate": {"pin": "true", "vix": "90", "v9": "120", "v3": "60", "v6": "45", "vv": "250", "rate": "0"},
    "SPX a quarter lower": {"pin": "true", "spx": "5200", "vix": "60", "v9": "80", "v3": "45"},
    "SPX a quarter higher": {"pin": "true", "spx": "8700", "vix": "11", "v9": "10", "v3": "13"},
}
NOT_FINITE = re.compile(r"\b(nan|NaN|inf|-inf|Infinity)\b")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("ALVH_OFFLINE", "1")
    monkeypatch.setenv("ALVH_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ALVH_DATA_DIR", raising=False)


@pytest.mark.parametrize("market", list(MARKETS))
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_in_an_extreme_market(page, market):
    at = AppTest.from_file(APP, default_timeout=120)
    if PAGES[page]:
        switch_to(at, PAGES[page])
    at.query_params.update(MARKETS[market] | PAGE_PARAMS.get(page, {}))
    at.run()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    shown = [f"{m.label}: {m.value}" for m in at.metric]
    assert shown and not any(NOT_FINITE.search(text) for text in shown), shown
    for frame in at.dataframe:
        text = frame.value.to_string()
        assert not NOT_FINITE.search(text), text[:500]
    assert not any("could not use" in w.value for w in at.warning), [w.value for w in at.warning]


def test_the_server_is_configured_safe():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert 1 <= config["server"]["maxUploadSize"] <= 50                 # MB: uploads are capped
    code = "\n".join(p.read_text() for p in [ROOT / "app.py", *(ROOT / "app_pages").glob("*.py")])
    assert "unsafe_allow_html" not in code   # no user text rendered as HTML
    # st.html only with the app's own constants (the phone layout's CSS, the first-visit hint): plain string
    # literals, never formatted, so no visitor's text can reach them.
    calls = re.findall(r"st\.html\(([^,)]*)", code)
    assert calls and all(re.fullmatch(r"[A-Z_]+", arg.strip()) for arg in calls), calls
    for name in {arg.strip() for arg in calls}:
        assert re.search(rf'^{name} = """', code, re.M), f"{name} is not a plain string constant"
    # The one browser component (the date sliders) is made of constants too, and writes what it is sent as
    # text, never as markup.
    components = re.findall(r"st\.components\.v2\.component\(([^)]*)\)", code)
    assert components == ['"alvh_date_slider", html=HTML, css=CSS, js=JS'], components
    slider = (ROOT / "app_pages" / "date_slider.py").read_text()
    for name in ("HTML", "CSS", "JS"):
        assert re.search(rf'^{name} = """', slider, re.M), f"{name} is not a plain string constant"
    assert "innerHTML" not in slider and "insertAdjacentHTML" not in slider and "textContent" in slider
    assert "st.secrets" not in code                                    # no secrets needed
