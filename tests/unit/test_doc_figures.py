"""The figures the docs quote are what the command line prints now on the real data: a change to the
engine that moves one fails here until ``python -m bench.doc_figures --write`` rewrites the docs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _doc_figures():
    from bench import doc_figures

    return doc_figures


@pytest.mark.skipif(not os.environ.get("ALVH_DATA_DIR"), reason="needs the real data folder (ALVH_DATA_DIR)")
def test_every_figures_block_in_the_docs_is_what_the_engine_prints_now():
    module = _doc_figures()
    blocks = [(doc.name, name) for doc in module.documents()
              for name in module.BLOCK.findall(doc.read_text(encoding="utf-8"))]
    assert any(doc == "README.md" for doc, _ in blocks)   # the README's verdict tables too
    assert {name[1] for _, name in blocks} == set(module.BLOCKS)     # every block is used, none unknown
    assert module.check() == [], "run: python -m bench.doc_figures --write"


def test_a_stale_block_is_named(tmp_path, monkeypatch):
    module = _doc_figures()
    (tmp_path / "x.md").write_text("a\n<!-- figures:episodes -->\n| old |\n<!-- /figures -->\nb\n", encoding="utf-8")
    monkeypatch.setattr(module, "DOCS", tmp_path)
    monkeypatch.setattr(module, "README", tmp_path / "no-readme.md")
    monkeypatch.setitem(module.BLOCKS, "episodes", lambda: "| new |\n")
    assert module.check() == ["x.md: episodes"]
    module.check(write=True)
    assert (tmp_path / "x.md").read_text(encoding="utf-8") == "a\n<!-- figures:episodes -->\n| new |\n<!-- /figures -->\nb\n"
    assert module.check() == []
