"""Print smsbridge's module graph: each module and the package modules it imports.

    python3 tools/module_graph.py            the graph of ./smsbridge
    python3 tools/module_graph.py DIR        of another checkout's package

Imports under ``if TYPE_CHECKING:`` are left out (they cost nothing at run time and
may point anywhere). A line ends with ``UP!`` when it imports a layer above its own,
as tests/test_architecture.py forbids.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

# Lower number, lower layer: a module may import its own layer or a lower one.
LAYERS = {
    # 0: facts and plumbing nothing else stands on
    "smsbridge": 0, "errors": 0, "models": 0, "sms": 0, "clock": 0, "retry": 0,
    "identity": 0, "triage.keywords": 0,
    # 1: pure knowledge of the line: numbers, tickets, places, the config's shape
    "numbers": 1, "privacy": 1, "tickets": 1, "config": 1, "triage": 1, "pool.routing": 1,
    # 2: what the line says
    "replies": 2, "fieldwork.answers": 2, "fieldwork.texts": 2,
    # 3: decisions, and the outside things: modems, the database, systemd
    "intake": 3, "modem": 3, "store": 3, "emulator": 3, "sdnotify": 3,
    # 4: carrying decisions out
    "bridge": 4, "hooks": 4, "pool.sending": 4, "fieldwork.bridge": 4,
    # 5: the process
    "pool.stick": 4, "pool.worker": 5, "daemon": 5,
    # a package's map (its __init__) imports nothing, so stands anywhere
    "pool": 0, "fieldwork": 0,
    # 6: people
    "cli": 6, "__main__": 7,
}


def _known(module: str) -> int | None:
    """The layer of the longest prefix of ``module`` that LAYERS names."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        found = LAYERS.get(".".join(parts[:n]))
        if found is not None:
            return found
    return None


def layer(module: str) -> int:
    """The layer of ``module`` (a name inside the package, "store.cases")."""
    found = _known(module)
    if found is None:
        raise KeyError(module)
    return found


def _runtime_imports(tree: ast.Module) -> list[ast.AST]:
    nodes: list[ast.AST] = []
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            nodes.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return nodes


def graph(package: Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports (at run time)."""
    base = package.parent
    modules = {".".join(p.relative_to(base).with_suffix("").parts).removesuffix(".__init__"): p
               for p in package.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in sorted(modules.items()):
        deps: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                         else node.module for a in node.names]
            elif isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            else:
                continue
            deps |= {d for d in found if d in modules and d != name}
        edges[name] = deps
    return edges


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports that point to a higher layer than the importer's own (modules without a
    layer, as in an older checkout, are left out)."""
    def known(module: str) -> int | None:
        return _known(module.removeprefix("smsbridge."))

    return [(m, d) for m, deps in edges.items() for d in sorted(deps)
            if (lm := known(m)) is not None and (ld := known(d)) is not None and ld > lm]


def main() -> int:
    package = Path(sys.argv[1] if len(sys.argv) > 1 else "smsbridge").resolve()
    edges = graph(package)
    bad = set(upward(edges))
    for module, deps in edges.items():
        if not deps:
            continue
        shown = [d.removeprefix("smsbridge.") + (" UP!" if (module, d) in bad else "")
                 for d in sorted(deps)]
        print(f"{module.removeprefix('smsbridge.')} -> {', '.join(shown)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
