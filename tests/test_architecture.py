"""The shape STYLE.md draws stays true: imports point down, protocol code does no I/O,
no module grows past what a newcomer can read."""

from __future__ import annotations

import ast
import importlib.util
import re
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


def test_no_module_is_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert long == {}


def test_no_import_cycle_of_any_kind():
    """Deferred imports inside functions and those only the type checker reads count:
    a circle there is still two modules that must change together."""
    tool = _graph_tool()
    assert tool.cycles(tool.graph(PACKAGE, type_checking=True)) == []


def test_package_maps_import_nothing():
    """A domain package's __init__ is its map for a reader: a docstring, no code that
    runs on import and ties the package's modules together."""
    for name in ("config", "pool", "fieldwork", "triage"):
        tree = ast.parse((PACKAGE / name / "__init__.py").read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), name
        assert [type(n).__name__ for n in tree.body[1:]
                if not (isinstance(n, ast.ImportFrom) and n.module == "__future__")] == [], name


def _readme_map() -> tuple[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## How it is built", 1)[1]
    return section.split("```", 2)[1], section.split("```", 1)[0]


def test_readme_map_names_every_module_and_only_real_ones():
    block, _ = _readme_map()
    named: set[str] = {"__init__.py"}  # the map's first line, "smsbridge/"
    package = ""
    for line in block.splitlines()[2:]:  # after "smsbridge/"
        indent = len(line) - len(line.lstrip())
        head = re.match(r"  (\w+)/", line)
        if indent == 2:
            package = head.group(1) if head else ""
        if head:
            named.add(f"{package}/__init__.py")
        for stem in re.findall(r"(?<![\w/.-])(\w+)\.py\b", line):
            named.add(f"{package}/{stem}.py" if package else f"{stem}.py")
    actual = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")}
    assert sorted(actual - named) == [], "modules the README's map does not name"
    assert sorted(named - actual) == [], "names in the README's map that are no module"


def test_readme_arrows_are_the_import_graph():
    """The chain in the README ("cli -> daemon -> ... -> sms, models, errors"): no group
    imports one written before it, and nothing outside the CLI imports cli or daemon."""
    _, prose = _readme_map()
    chain = " ".join(re.search(r"`(cli ->[^`]+)`", prose).group(1).split())
    groups = [[n.strip(" {}") for n in part.split(",")] for part in chain.split("->")]
    tool = _graph_tool()
    edges = tool.graph(PACKAGE)

    def rank(module: str) -> int | None:
        """The group of the longest name in the chain that is ``module`` or holds it."""
        short = module.removeprefix("smsbridge.")
        found = [(len(g), i) for i, group in enumerate(groups) for g in group
                 if short == g or short.startswith(g + ".")]
        return max(found)[1] if found else None

    upward = [(m, d) for m, deps in edges.items() for d in deps
              if (rm := rank(m)) is not None and (rd := rank(d)) is not None and rd < rm]
    assert upward == []
    outside = [(m, d) for m, deps in edges.items() for d in deps
               if d.startswith(("smsbridge.cli", "smsbridge.daemon"))
               and not m.startswith(("smsbridge.cli", "smsbridge.__main__", "smsbridge.daemon"))]
    assert outside == []
