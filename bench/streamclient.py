"""A Streamlit session without a browser: the app's own websocket protocol, spoken from Python.

The load test uses it to time what the server does (each script run, from the
request to the server's "finished") apart from what a browser does with the
result.  A session opens a page by its address, sets widgets by their keys and
follows the app's first-paint tick (a fragment that reruns the page a second
after its headline numbers), the way the browser does.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

FINISHED = ForwardMsg.ScriptFinishedStatus
#: Element types that are widgets carrying an ``id`` (the ones the load test sets).
WIDGETS = ("selectbox", "slider", "number_input", "radio", "checkbox", "toggle", "text_input", "multiselect",
           "segmented_control", "button", "date_input", "file_uploader", "bidi_component")


@dataclass
class Run:
    """One script run as the session saw it."""

    seconds: float                      # request sent → the server's "script finished"
    exceptions: list = field(default_factory=list)
    errors: list = field(default_factory=list)   # st.error boxes
    elements: int = 0
    texts: list = field(default_factory=list)    # markdown and captions, as sent


@dataclass
class PageLoad:
    """A page opened or changed: every run it took (the first-paint tick included)."""

    runs: list
    seconds: float                      # first request → the last run finished (what a user waits for)

    @property
    def exceptions(self) -> list:
        return [e for r in self.runs for e in r.exceptions]

    @property
    def errors(self) -> list:
        return [e for r in self.runs for e in r.errors]


class StreamSession:
    """One websocket session on ``base_url`` (http://host:port)."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        parts = urlparse(base_url)
        self.timeout = timeout
        self.ws = connect(f"ws://{parts.netloc}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                          open_timeout=timeout, close_timeout=2).__enter__()   # closed in close()
        self.widget_ids: dict[str, str] = {}     # user key -> widget id
        self.options: dict[str, list[str]] = {}  # user key -> a selectbox's or radio's option labels
        self.states: dict[str, object] = {}      # widget id -> (kind, value) sent with every rerun
        self.fragments: dict[str, str] = {}      # user key -> the fragment the widget lives in ("" = none)
        self.page = ""
        self.query = ""
        self.base_url = base_url.rstrip("/")
        self.session_id = ""                     # the server's id of this session (uploads are filed under it)
        self._file_urls = None

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # closing a dead socket is not the test's business
            pass

    # --- protocol ----------------------------------------------------------------------------
    def _send(self, fragment_id: str = "", auto: bool = False) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_name = self.page
        state.is_auto_rerun = auto
        if fragment_id:
            state.fragment_id = fragment_id
        for wid, (kind, value) in self.states.items():
            w = state.widget_states.widgets.add()
            w.id = wid
            if kind == "string":
                w.string_value = value
            elif kind == "double":
                w.double_value = value
            elif kind == "int":
                w.int_value = value
            elif kind == "doubles":
                w.double_array_value.data.extend(value)
            elif kind == "bool":
                w.bool_value = value
            elif kind == "json_trigger":
                w.json_trigger_value = value
            elif kind == "files":
                for info in value:
                    w.file_uploader_state_value.uploaded_file_info.append(info)
        self.ws.send(msg.SerializeToString())

    def _read_run(self, started: float) -> tuple[Run, list[tuple[float, str]], bool]:
        """Messages until this run finishes: (the run, auto-rerun requests seen, whether it ended for a rerun)."""
        run = Run(0.0)
        ticks: list[tuple[float, str]] = []
        while True:
            data = self.ws.recv(timeout=self.timeout)
            if isinstance(data, str):
                continue
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element, run, msg.delta.fragment_id)
            elif kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id
            elif kind == "file_urls_response":
                self._file_urls = msg.file_urls_response
            elif kind == "auto_rerun":
                ticks.append((msg.auto_rerun.interval, msg.auto_rerun.fragment_id))
            elif kind == "script_finished":
                run.seconds = time.perf_counter() - started
                status = msg.script_finished
                if status == FINISHED.FINISHED_WITH_COMPILE_ERROR:
                    run.exceptions.append("compile error")
                return run, ticks, status == FINISHED.FINISHED_EARLY_FOR_RERUN

    def _element(self, element, run: Run, fragment_id: str = "") -> None:
        run.elements += 1
        kind = element.WhichOneof("type")
        if kind == "exception":
            run.exceptions.append(f"{element.exception.type}: {element.exception.message[:200]}")
        elif kind == "alert" and element.alert.format == element.alert.ERROR:
            run.errors.append(element.alert.body[:200])
        elif kind == "markdown":
            run.texts.append(element.markdown.body[:500])
        elif kind in WIDGETS:
            widget = getattr(element, kind)
            wid = str(widget.id)
            key = wid.rsplit("-", 1)[-1] if wid.startswith("$$ID-") else wid
            self.widget_ids[key] = wid
            self.fragments[key] = fragment_id
            if kind in ("selectbox", "radio"):
                self.options[key] = list(widget.options)

    def _until_done(self, fragment_id: str = "", auto: bool = False) -> PageLoad:
        """Send one rerun request and follow it (reruns the server starts, the first-paint tick) to the end."""
        started = time.perf_counter()
        runs = []
        self._send(fragment_id, auto)
        t0 = started
        while True:
            run, ticks, again = self._read_run(t0)
            runs.append(run)
            if again:              # st.rerun() on the server: it starts the next run by itself
                t0 = time.perf_counter()
                continue
            tick = next((t for t in ticks if t[0] <= 1.5), None)
            if tick is not None and len(runs) == 1:
                time.sleep(tick[0])        # the browser's next tick after the headline numbers
                t0 = time.perf_counter()
                self._send(tick[1], auto=True)
                continue
            return PageLoad(runs, time.perf_counter() - started)

    # --- what a user does ---------------------------------------------------------------------
    def open(self, address: str) -> PageLoad:
        """Open ``/page?query`` as a fresh visit of that page would."""
        parts = urlparse(address)
        self.page = parts.path.strip("/")
        self.query = parts.query
        self.states = {}
        return self._until_done()

    def set(self, key: str, kind: str, value) -> PageLoad:
        """Set the widget with ``key`` (``kind``: string, double, int, doubles, bool) and rerun."""
        if key not in self.widget_ids:
            raise KeyError(f"no widget {key!r} on the page {self.page!r}")
        self.states[self.widget_ids[key]] = (kind, value)
        return self._until_done(self.fragments.get(key, ""))   # a widget in a fragment reruns only that

    def trigger(self, key: str, event: str, value) -> PageLoad:
        """Send the browser component with ``key`` firing ``event`` with ``value`` (once, as a browser
        does: a trigger lasts one run), and rerun its fragment."""
        if key not in self.widget_ids:
            raise KeyError(f"no component {key!r} on the page {self.page!r}")
        from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

        wid = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{self.widget_ids[key]}__events"
        self.states[wid] = ("json_trigger", json.dumps([{"event": event, "value": value}]))
        try:
            return self._until_done(self.fragments.get(key, ""))
        finally:
            self.states.pop(wid, None)

    def upload(self, key: str, name: str, data: bytes) -> PageLoad:
        """Upload ``data`` as file ``name`` into the file uploader with ``key``, as a browser does: ask the
        server for an upload address over the websocket, PUT the file there (with the XSRF cookie and
        header), then rerun with the widget holding it."""
        import urllib.request
        import uuid

        from streamlit.proto.Common_pb2 import UploadedFileInfo

        if key not in self.widget_ids:
            raise KeyError(f"no file uploader {key!r} on the page {self.page!r}")
        msg = BackMsg()
        msg.file_urls_request.request_id = uuid.uuid4().hex
        msg.file_urls_request.file_names.append(name)
        msg.file_urls_request.session_id = self.session_id
        self._file_urls = None
        self.ws.send(msg.SerializeToString())
        deadline = time.perf_counter() + self.timeout
        while self._file_urls is None and time.perf_counter() < deadline:
            data_in = self.ws.recv(timeout=self.timeout)
            if isinstance(data_in, str):
                continue
            reply = ForwardMsg()
            reply.ParseFromString(data_in)
            if reply.WhichOneof("type") == "file_urls_response":
                self._file_urls = reply.file_urls_response
        urls = self._file_urls.file_urls[0]
        with urllib.request.urlopen(f"{self.base_url}/_stcore/health", timeout=self.timeout) as page:   # XSRF cookie
            cookie = next((c.split(";")[0] for c in page.headers.get_all("Set-Cookie") or []
                           if c.startswith("_streamlit_xsrf=")), "")
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        upload_url = urls.upload_url if urls.upload_url.startswith("http") else f"{self.base_url}{urls.upload_url}"
        request = urllib.request.Request(upload_url, data=body, method="PUT", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": cookie,
            "X-Xsrftoken": cookie.split("=", 1)[1] if cookie else ""})
        urllib.request.urlopen(request, timeout=self.timeout).read()
        info = UploadedFileInfo(file_id=urls.file_id, name=name, size=len(data))
        info.file_urls.CopyFrom(urls)
        self.states[self.widget_ids[key]] = ("files", [info])
        return self._until_done(self.fragments.get(key, ""))
