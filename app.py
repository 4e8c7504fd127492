"""ALVH Studio: the router. Page config, navigation, the link check and the shared sidebar."""

import logging
import os
from pathlib import Path

import streamlit as st

from alvh_core.model.runtime import freeze_startup_objects
from app_pages.common import (
    DISCLAIMER,
    FirstPaintDone,
    PageDone,
    enforce_upload_limits,
    link_notices,
    market_sidebar,
    read_page_link,
    share_box,
    share_slot,
)
from app_pages.position_editor import editors_finished

freeze_startup_objects()  # once per process: the imports above live as long as the server

# A file, not a Material icon: Streamlit would fetch that favicon from a font server.
st.set_page_config(page_title="ALVH Studio", page_icon=str(Path(__file__).parent / "app_pages" / "icon.png"),
                   layout="wide")

regime = st.Page("app_pages/regime.py", title="Regime", icon=":material/monitoring:", url_path="home", default=True)


def _to_regime() -> None:
    st.switch_page(regime, query_params=st.query_params.to_dict())


page = st.navigation([
    regime,
    st.Page("app_pages/builder.py", title="Builder", icon=":material/construction:", url_path="builder"),
    st.Page("app_pages/tiers.py", title="Tiers", icon=":material/stacked_bar_chart:", url_path="tiers"),
    st.Page("app_pages/hedge_lab.py", title="Hedge Lab", icon=":material/science:", url_path="hedge-lab"),
    st.Page("app_pages/backtest.py", title="Backtest", icon=":material/history:", url_path="backtest"),
    st.Page("app_pages/learn.py", title="Learn", icon=":material/school:", url_path="learn"),
    # The default page is served at "/"; links to /regime land there, parameters and all.
    st.Page(_to_regime, title="Regime", url_path="regime", visibility="hidden"),
])
if page.url_path == "regime":
    _to_regime()
enforce_upload_limits()
notices = read_page_link(page.url_path)
share = share_slot(page.url_path)
market_sidebar()
st.caption(DISCLAIMER)
link_notices(notices)
try:
    page.run()
    share_box(share, page.url_path)
except FirstPaintDone:  # the share link comes with the rest of the page, a second later
    pass
except PageDone:  # a page that has shown all it can still gets its share link
    share_box(share, page.url_path)
except Exception:  # noqa: BLE001 - a visitor sees one line; the server's log keeps the details
    if os.environ.get("ALVH_RAISE_ERRORS"):  # the test suite wants to see every error as it is
        raise
    logging.getLogger("alvh_studio").exception("page %s failed", page.url_path)
    st.error("This page could not finish for these inputs; the server logged the details. Change an input, "
             "or open the page without its link parameters.", icon=":material/error:")
    share_box(share, page.url_path)
editors_finished()   # this run was not cut short: the position editors it drew are the user's
