"""ALVH Studio's server: ``streamlit run serve.py`` serves ``app.py`` with one addition to Streamlit's page.

Streamlit's browser code finds its server by trying the page's own path first (``/builder/_stcore/health``)
and then the root, so every page but ``/`` began with two 404s in the browser's console.  The page this
server sends tells the browser where the server is (``window.__streamlit.BACKEND_BASE_URL``, read by
Streamlit's own code), so it asks once, at the right place.  Everything else is Streamlit's.
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from streamlit import config

#: Paths Streamlit serves itself; any other single-segment path is a page (its index.html).
RESERVED = {"_stcore", "static", "media", "component", "app", "favicon.png", "manifest.json"}
PAGE_PATH = re.compile(r"/(?:[A-Za-z0-9_-]+)?")


def _base_path() -> str:
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/" if base else "/"


def _page_html(base: str) -> bytes:
    index = Path(st.__file__).parent / "static" / "index.html"
    text = index.read_text(encoding="utf-8")
    hint = ("<script>window.__streamlit = {BACKEND_BASE_URL: window.location.origin + "
            f"{base!r}}};</script>")
    return text.replace("<head>", "<head>" + hint, 1).encode("utf-8")


class ServerWhereItIs:
    """ASGI middleware: a page request gets Streamlit's index.html with the server's address in it."""

    def __init__(self, app) -> None:
        self.app = app
        self.base = _base_path()
        self.body = _page_html(self.base)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path = scope.get("path", "")
            inner = "/" + path[len(self.base):] if path.startswith(self.base) else None
            if inner is not None and PAGE_PATH.fullmatch(inner) and inner.strip("/") not in RESERVED:
                headers = [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-cache"),
                           (b"content-length", str(len(self.body)).encode())]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": self.body if scope["method"] == "GET" else b""})
                return
        await self.app(scope, receive, send)


app = st.App(str(Path(__file__).with_name("app.py")), middleware=[Middleware(ServerWhereItIs)])
