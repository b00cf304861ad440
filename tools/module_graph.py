"""Print smsbridge's module graph: each module and the package modules it imports.

    python3 tools/module_graph.py            the graph of ./smsbridge
    python3 tools/module_graph.py DIR        of another checkout's package

Imports under ``if TYPE_CHECKING:`` are left out of the layers (they cost nothing at
run time) but not out of the cycles: a circle of imports is a circle of knowledge,
whether Python runs it or only mypy reads it. A line ends with ``UP!`` when it imports a
layer above its own, as tests/test_architecture.py forbids; ``python3
tools/module_graph.py --cycles`` prints the circles, if any.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

# Lower number, lower layer: a module may import its own layer or a lower one.
LAYERS = {
    # 0: facts and plumbing nothing else stands on
    "smsbridge": 0, "errors": 0, "models": 0, "sms": 0, "clock": 0, "retry": 0,
    "identity": 0, "i18n": 0, "triage.keywords": 0,
    # 1: pure knowledge of the line: numbers, tickets, places, the config's shape
    "numbers": 1, "privacy": 1, "sealing.keys": 1, "tickets": 1, "config": 1, "triage": 1,
    "pool.routing": 1,
    # 2: what the line says
    "replies": 2, "sealing.door": 2, "fieldwork.answers": 2, "fieldwork.texts": 2,
    "fieldwork.scrub": 2,
    # 3: decisions, and the outside things: modems, the database, systemd
    "intake": 3, "modem": 3, "store": 3, "emulator": 3, "sdnotify": 3,
    # 4: carrying decisions out
    "bridge": 4, "hooks": 4, "pool.sending": 4, "fieldwork.bridge": 4, "retention": 4,
    "sealing.server": 4, "sealing.run": 4,
    # 5: the process
    "pool.stick": 4, "pool.worker": 5, "daemon": 5,
    # a package's map (its __init__) imports nothing, so stands anywhere
    "pool": 0, "fieldwork": 0, "sealing": 0,
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


def _imports(tree: ast.Module, *, type_checking: bool) -> list[ast.AST]:
    """Every import statement of the module, those inside functions included; those under
    ``if TYPE_CHECKING:`` only when ``type_checking``."""
    nodes: list[ast.AST] = []
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if (not type_checking and isinstance(node, ast.If)
                and "TYPE_CHECKING" in ast.unparse(node.test)):
            todo.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            nodes.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return nodes


def graph(package: Path, *, type_checking: bool = False) -> dict[str, set[str]]:
    """module -> the package's modules it imports (at run time, and for the type checker
    too when ``type_checking``)."""
    base = package.parent
    modules = {".".join(p.relative_to(base).with_suffix("").parts).removesuffix(".__init__"): p
               for p in package.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in sorted(modules.items()):
        deps: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _imports(tree, type_checking=type_checking):
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


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The circles of imports: each strongly connected group of two or more modules
    (Tarjan's algorithm, iterative so that a deep package cannot hit the recursion
    limit), each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, deps = work[-1]
            for dep in deps:
                if dep not in index:
                    index[dep] = low[dep] = len(index)
                    stack.append(dep)
                    on_stack.add(dep)
                    work.append((dep, iter(sorted(edges.get(dep, ())))))
                    break
                if dep in on_stack:
                    low[node] = min(low[node], index[dep])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return sorted(found)


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--cycles"]
    package = Path(args[0] if args else "smsbridge").resolve()
    if "--cycles" in sys.argv[1:]:
        circles = cycles(graph(package, type_checking=True))
        for circle in circles:
            print(" <-> ".join(m.removeprefix("smsbridge.") for m in circle))
        return 1 if circles else 0
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
