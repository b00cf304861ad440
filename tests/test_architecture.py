"""The shape STYLE.md draws stays true: imports point down, protocol code does no I/O,
no module grows past what a newcomer can read."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "smsbridge"


def _graph_tool():
    path = ROOT / "tools" / "module_graph.py"
    spec = importlib.util.spec_from_file_location("module_graph", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["module_graph"] = module
    spec.loader.exec_module(module)
    return module


def test_imports_point_down_the_layers():
    tool = _graph_tool()
    assert tool.upward(tool.graph(PACKAGE)) == []


def test_every_module_has_a_layer():
    tool = _graph_tool()
    for module in tool.graph(PACKAGE):
        tool.layer(module.removeprefix("smsbridge."))  # KeyError for a new top-level module


def test_pure_code_imports_nothing_that_does_io():
    tool = _graph_tool()
    edges = tool.graph(PACKAGE)
    pure = ["smsbridge.sms", "smsbridge.modem.at", "smsbridge.modem.sim", "smsbridge.intake",
            "smsbridge.tickets", "smsbridge.replies", "smsbridge.privacy",
            "smsbridge.fieldwork.answers", "smsbridge.fieldwork.texts",
            "smsbridge.fieldwork.scrub", "smsbridge.config",
            "smsbridge.pool.routing", "smsbridge.triage"]
    io = ("smsbridge.store", "smsbridge.modem.port", "smsbridge.modem.atmodem",
          "smsbridge.modem.gammu", "smsbridge.daemon", "smsbridge.bridge", "smsbridge.cli")
    for module, deps in edges.items():
        if any(module == p or module.startswith(p + ".") for p in pure):
            assert not [d for d in deps if d.startswith(io)], module


def test_no_module_is_over_about_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 520}
    assert long == {}
