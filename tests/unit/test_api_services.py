"""The API's service modules take a session and plain arguments and never touch Flask.

Reading the request, the caller, the request's database session and the
application's state is the views' part (api/views/), with the factory
(api/app.py) and the few modules that hold that glue: the request-scoped
session (api/db.py), the application's extension (api/state.py), the
reading of request bodies (api/bodies.py) and the arming of a worker's
application after the fork (api/instrument.py).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GLUE = {"api/app.py", "api/db.py", "api/state.py", "api/bodies.py", "api/instrument.py"}
SERVICES = sorted(
    str(p.relative_to(ROOT))
    for p in (ROOT / "api").glob("*.py")
    if str(p.relative_to(ROOT)) not in GLUE
)


def _runtime_imports(tree: ast.Module) -> list[tuple[str, str | None]]:
    """(module, name) of every import outside ``if TYPE_CHECKING:``, functions included."""
    found: list[tuple[str, str | None]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.extend((node.module, alias.name) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _reaches_the_request(module: str, name: str | None) -> bool:
    if module.split(".")[0] in ("flask", "werkzeug") or module.startswith("api.views"):
        return True
    if module == "api" and name == "views":
        return True
    # The application's state and the request's session: views fetch them, services get them.
    return (module, name) in (("api.state", "app_state"), ("api.db", "session"))


@pytest.mark.parametrize("path", SERVICES)
def test_a_service_module_does_not_touch_flask(path):
    tree = ast.parse((ROOT / path).read_text(), path)
    offending = [
        f"{module}{'.' + name if name else ''}"
        for module, name in _runtime_imports(tree)
        if _reaches_the_request(module, name)
    ]
    assert not offending, f"{path} reaches Flask's request state: {', '.join(offending)}"


def test_the_services_are_found():
    assert {"api/logs.py", "api/instances.py", "api/auth.py", "api/policies.py"} <= set(SERVICES)
