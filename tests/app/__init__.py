"""Page tests through Streamlit's AppTest."""

from pathlib import Path

#: Pages st.navigation registers under an address other than their file's name.
_RENAMED = {"hedge_lab"}


def switch_to(at, page_path: str):
    """``at.switch_page(page_path)``; for a page whose address differs from its file's name (the Hedge
    Lab: hedge_lab.py at /hedge-lab) after a first run, since AppTest knows st.navigation's addresses
    only once the app has run."""
    if Path(page_path).stem in _RENAMED:
        at.run()
    return at.switch_page(page_path)
