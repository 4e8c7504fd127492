"""A hostile visitor in Chromium against ``streamlit run`` (short in CI; ``ALVH_HOSTILE_LONG=1`` runs every
payload and link): an uploaded chain that names a server file is parsed as text and the server's memory stays
flat; no folder field; a link over the Hedge Lab's joint limit gets a notice; and an unexpected error shows one
line, never the server's code or paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT, start_streamlit
from tests.unit.test_hostile_files import PATH_PAYLOADS

pytestmark = pytest.mark.e2e
LONG = bool(os.environ.get("ALVH_HOSTILE_LONG"))
PAYLOADS = PATH_PAYLOADS if LONG else ["/dev/zero", "/proc/self/environ"]
LINKS = (["/hedge-lab?lmp=50000&lhz=101", "/hedge-lab?lmp=20000&lhz=251", "/learn?ad=1990-01-02",
          "/builder?hz=1e308&sd=-1&t=%00", "/backtest?bs=NaT&be=&bst=nope"] if LONG
         else ["/hedge-lab?lmp=50000&lhz=101"])
#: What a traceback would show a visitor: the server's file paths and Python's own words.
INTERNALS = ("Traceback", "File \"/", str(ROOT), "site-packages", "ValueError", "KeyError")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@pytest.fixture(scope="module")
def hostile_server():
    """The app as hosted: errors shown as one line (not raised for the test suite), the operator's folder
    empty, its own cache folder."""
    proc, url = start_streamlit(ROOT / "serve.py", {"ALVH_DATA_DIR": "", "ALVH_RAISE_ERRORS": ""})
    yield proc, url
    proc.terminate()
    proc.wait(timeout=10)


def _settled(page) -> None:
    page.wait_for_selector("[data-testid='stSidebar']", timeout=120_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    page.wait_for_timeout(1500)   # the first paint's tick, then the rest of the page


def _opened(browser, address: str):
    """(context, page) of a fresh visitor on ``address``, the page drawn in full."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(address, wait_until="domcontentloaded")
    _settled(page)
    return context, page


def test_a_chain_upload_naming_a_server_file_in_chromium(browser, hostile_server, tmp_path):
    proc, url = hostile_server
    context, page = _opened(browser, f"{url}/builder?qs=auto")
    assert page.locator("input[aria-label^='Folder']").count() == 0   # a visitor names no server folder
    before = _rss_mb(proc.pid)
    for payload in PAYLOADS:
        file = tmp_path / "spx_quotedata.csv"
        file.write_text(payload)
        uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="Cboe chain")
        uploader.locator("input[type='file']").set_input_files(str(file))
        page.get_by_text("not a Cboe chain").first.wait_for(timeout=60_000)
        text = page.inner_text("body")
        assert "The uploaded chain could not be read" in text and "priced at your chain" not in text
    page.get_by_text("not a Cboe chain").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "hostile_chain_upload.png"), full_page=False)
    assert _rss_mb(proc.pid) - before < 100   # /dev/zero took the server from 248 MB to 2.8 GB
    context.close()


@pytest.mark.parametrize("link", LINKS)
def test_hostile_links_show_a_notice_and_no_internals(browser, hostile_server, link):
    _, url = hostile_server
    context, page = _opened(browser, f"{url}{link}")
    if "lmp=" in link:
        page.get_by_text("path-days one simulation may take").first.wait_for(timeout=180_000)
    text = page.inner_text("body")
    for word in INTERNALS:
        assert word not in text, (link, word)
    assert page.locator("[data-testid='stException']").count() == 0
    context.close()


def test_uploads_over_a_sessions_share_leave_the_servers_memory(browser, tmp_path):
    """Eight 19.9 MB uploads in one session added 216 MB to the server; past the session's share (here
    5 MB) they are dropped from the server's upload store and the session's uploaders start empty (their
    widget state held the files too), with a notice."""
    proc, url = start_streamlit(ROOT / "serve.py", {"ALVH_DATA_DIR": "", "ALVH_SESSION_UPLOAD_MB": "5"})
    try:
        context, page = _opened(browser, url)
        files = []
        for i in range(4):
            path = tmp_path / f"panel{i}.csv"
            path.write_bytes(b"date,spx,vix\n" + b"2024-01-02,5000,18\n" * 800_000)   # 15 MB each
            files.append(str(path))
        page.get_by_text("Data files").first.click()
        page.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(files)
        page.get_by_text("Not kept").first.wait_for(timeout=60_000)
        notice = page.get_by_text("Not kept").first.inner_text()
        assert notice.count("MB)") >= 3 and "at most 5 MB" in notice, notice   # three or four of them dropped
        page.wait_for_timeout(1500)
        body = page.inner_text("body")
        assert "800,001 lines" not in body and "panel0.csv\n" not in body   # the uploader starts empty: not parsed
        page.screenshot(path=str(ARTIFACTS / "hostile_uploads.png"))
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
