"""The engine's layers (STYLE.md): data -> model -> strategy -> history -> present -> calibration -> cli.
A module imports only from its own layer and the layers before it; no import circle; Streamlit nowhere in
the engine; the network only in data/; Plotly only in present/.  Read from the source (every import,
module-level or inside a function), so a lazy import cannot hide a violation."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "alvh_core"
LAYERS = ("data", "model", "strategy", "history", "present", "calibration", "cli")
NETWORK = {"yfinance", "requests", "urllib", "http", "socket", "curl_cffi", "aiohttp", "httpx"}


def _modules() -> dict[str, Path]:
    return {".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in ENGINE.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute names (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{alias.name}" for alias in node.names}
    return out


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "alvh_core" and parts[1] in LAYERS else None


def test_every_engine_module_sits_in_a_layer():
    loose = [m for m in _modules() if _layer(m) is None and m not in ("alvh_core.__init__", "alvh_core.__main__")
             and not (m.endswith(".__init__") and m.split(".")[1] in LAYERS)]
    assert loose == []


def test_no_module_imports_a_later_layer():
    modules = _modules()
    upward = []
    for name, path in modules.items():
        own = _layer(name)
        for target in _imports(path):
            layer = _layer(target)
            if own and layer and LAYERS.index(layer) > LAYERS.index(own):
                upward.append(f"{name} -> {target}")
    assert upward == []


def test_no_import_circle():
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        key = name.removesuffix(".__init__")
        graph[key] = {t.removesuffix(".__init__") for t in _imports(path)} & {m.removesuffix(".__init__") for m in modules}
        graph[key].discard(key)
    state, circles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                circles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert circles == []


def test_streamlit_nowhere_the_network_in_data_plotly_in_present():
    found = []
    for name, path in _modules().items():
        tops = {t.split(".")[0] for t in _imports(path)}
        if "streamlit" in tops:
            found.append(f"{name} imports streamlit")
        if tops & NETWORK and _layer(name) != "data":
            found.append(f"{name} imports {sorted(tops & NETWORK)}")
        if "plotly" in tops and _layer(name) != "present":
            found.append(f"{name} imports plotly")
    assert found == []


def test_the_command_line_loads_neither_plotly_nor_streamlit():
    code = ("import sys; from alvh_core.cli.commands import main; "
            "main(['plan', '--tier', 'moderate', '--spx', '5000', '--vix', '18', '--json']); "
            "print(sorted(m for m in ('plotly', 'streamlit') if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={"YF_DISABLE_CURL_CFFI": "1", "ALVH_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"
