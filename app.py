"""ALVH Studio: the router. Page config, navigation and the shared sidebar."""

import streamlit as st

from alvh_core.runtime import freeze_startup_objects
from pages.common import DISCLAIMER, ensure_router, market_sidebar

ensure_router()
freeze_startup_objects()  # once per process: the imports above live as long as the server

st.set_page_config(page_title="ALVH Studio", page_icon=":material/shield:", layout="wide")

pages = [
    st.Page("pages/regime.py", title="Regime", icon=":material/monitoring:", url_path="regime", default=True),
    st.Page("pages/builder.py", title="Builder", icon=":material/construction:", url_path="builder"),
]
page = st.navigation(pages)
market_sidebar()
st.caption(DISCLAIMER)
page.run()
