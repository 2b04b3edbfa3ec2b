"""The imports of the product packages run one way, with no circle.

Read from the source with `ast`, not by importing: every ``import`` and
``from ... import`` of every module of logsvc/, api/, guestagent/ and
migrations/ counts, at the top of the module or inside a function (an import
inside a function to dodge a circle is still a circle), except those under
``if TYPE_CHECKING:``, which never run. Importing ``a.b.c`` also runs the
packages ``a`` and ``a.b``, so it counts as importing them too (but a
module's own enclosing packages are already being imported when it runs).

The layering: logsvc/ imports neither api/ nor guestagent/, and those two
never import each other.
"""

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("logsvc", "api", "guestagent", "migrations")
#: (importer's top package, imported top package) that must never occur.
FORBIDDEN = {
    ("logsvc", "api"),
    ("logsvc", "guestagent"),
    ("api", "guestagent"),
    ("guestagent", "api"),
}

Graph = Mapping[str, Iterable[str]]


def modules(root: Path = ROOT) -> dict[str, tuple[Path, bool]]:
    """Every module of the product packages: dotted name -> (file, is a package)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join(parts)] = (path, is_package)
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(tree: ast.AST, package: str) -> set[str]:
    """The dotted names a module's code imports (`package`: where relative imports start).

    For ``from a import b`` both ``a.b`` and ``a`` are given: ``b`` may be a
    module or a name defined in ``a``, and the caller knows which exist.
    """
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:  # the else branch does run
                    visit_statement(other)
                continue
            visit_statement(child)

    def visit_statement(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                if node.level > 1:
                    anchor = anchor[: -(node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        if isinstance(node, ast.If) and _type_checking(node):
            for other in node.orelse:
                visit_statement(other)
            return
        visit(node)

    visit(tree)
    return names


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the product modules it imports (itself and libraries left out)."""
    known = modules(root)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in known.items():
        package = name if is_package else name.rpartition(".")[0]
        targets: set[str] = set()
        for imported in imported_names(ast.parse(path.read_text(), str(path)), package):
            while imported and imported not in known:
                imported = imported.rpartition(".")[0]
            if imported:
                targets.add(imported)
        own = {name.rsplit(".", k)[0] for k in range(name.count(".") + 1)}
        for target in list(targets):
            parts = target.split(".")
            for depth in range(1, len(parts)):
                parent = ".".join(parts[:depth])
                if parent in known:
                    targets.add(parent)
        graph[name] = targets - own
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The import circles of `graph`: each strongly connected set of modules, as one cycle.

    Tarjan's algorithm, without recursion; each circle is given as a path
    through its modules that ends where it starts, so that it reads as the
    chain of imports to break.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph.get(node, ()):
                        components.append(component)
    return [_cycle_through(graph, component) for component in components]


def _cycle_through(graph: Graph, component: set[str]) -> list[str]:
    """A closed path of imports inside `component`, from its first module back to it."""
    first = min(component)
    paths = {first: [first]}
    frontier = [first]
    while frontier:  # breadth first: the shortest way back
        nxt = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child == first:
                    return [*paths[node], first]
                if child in component and child not in paths:
                    paths[child] = [*paths[node], child]
                    nxt.append(child)
        frontier = nxt
    raise AssertionError(f"{sorted(component)} is not a cycle")  # pragma: no cover


def forbidden_arrows(graph: Graph) -> list[tuple[str, str]]:
    """The imports that cross the layering (logsvc -> api/guestagent, api <-> guestagent)."""
    return sorted(
        (importer, imported)
        for importer, targets in graph.items()
        for imported in targets
        if (importer.split(".")[0], imported.split(".")[0]) in FORBIDDEN
    )


def test_no_import_circle_in_the_product_packages():
    found = cycles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_layers_import_one_way():
    found = forbidden_arrows(import_graph())
    assert not found, "imports across the layers:\n" + "\n".join(f"{a} -> {b}" for a, b in found)


def test_the_graph_holds_the_imports_that_matter():
    """The reader sees what runs: top-level, in a function, relative; not TYPE_CHECKING."""
    graph = import_graph()
    assert "logsvc.exceptions" in graph["api.app"]
    assert "api.state" not in graph["api.state"]
    # api.state imports api.auth only for annotations
    assert "api.auth" not in graph["api.state"]
    # importing api.conf.database runs api/conf/__init__.py (its package) too
    assert {"api.conf.database", "api.conf"} <= graph["api.manage"]
    assert set(graph) >= {"migrations.env", "api.conf", "guestagent.conf", "logsvc.conf"}


def test_reading_a_module_counts_every_import_that_runs():
    tree = ast.parse(
        "import os\n"
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "from ..up import thing\n"
        "if TYPE_CHECKING:\n"
        "    from pkg.typing_only import T\n"
        "else:\n"
        "    import pkg.runtime\n"
        "def late():\n"
        "    from pkg.late import f\n"
        "class K:\n"
        "    def m(self):\n"
        "        import pkg.deeper\n"
    )
    names = imported_names(tree, "pkg.sub")
    assert {"os", "pkg.sub.sibling", "pkg.up.thing", "pkg.runtime", "pkg.late"} <= names
    assert "pkg.deeper" in names
    assert not any("typing_only" in n for n in names)


def test_a_circle_is_found_and_named():
    graph = {
        "api.a": {"api.b"},
        "api.b": {"api.c"},
        "api.c": {"api.a", "logsvc.x"},
        "logsvc.x": set(),
        "api.self": {"api.self"},
        "api.leaf": {"api.a"},
    }
    assert sorted(cycles(graph)) == [["api.a", "api.b", "api.c", "api.a"], ["api.self", "api.self"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_a_two_module_circle_like_the_old_agent_options_is_found():
    # guestagent/opts.py gathered service.py's options; service.py imported opts
    graph = {"guestagent.opts": {"guestagent.service"}, "guestagent.service": {"guestagent.opts"}}
    assert cycles(graph) == [["guestagent.opts", "guestagent.service", "guestagent.opts"]]


def test_a_forbidden_arrow_is_found_and_named():
    graph = {
        "logsvc.status.service": {"api.models", "logsvc.status.cache"},
        "api.logs": {"guestagent.manager", "logsvc.exceptions"},
        "guestagent.service": {"api.dispatch"},
        "guestagent.manager": {"logsvc.layout"},
    }
    assert forbidden_arrows(graph) == [
        ("api.logs", "guestagent.manager"),
        ("guestagent.service", "api.dispatch"),
        ("logsvc.status.service", "api.models"),
    ]
