"""SQL in traces: each statement a trace point, without its parameters.

Instead of ``osprofiler.sqlalchemy.add_tracing``, which records the
parameters of every statement (an instance's agent secret when it is
registered, token hashes at every authenticated request) and the database's
error message (which quotes values). A trace point here holds the
statement as SQLAlchemy sends it, with its placeholders, and on failure the
exception's class only.
"""

import threading

from osprofiler import profiler
from sqlalchemy import Engine, event

# Statements started and not yet stopped, per thread: a failure reported by
# SQLAlchemy before its cursor ran (on connect) must not stop the caller's span.
_open = threading.local()


def trace_sql(engine: Engine, name: str = "db") -> None:
    """Make every statement that `engine` runs inside a trace a trace point."""
    if getattr(engine, "_logsvc_traced", False):
        return
    event.listen(engine, "before_cursor_execute", _before(name))
    event.listen(engine, "after_cursor_execute", _after)
    event.listen(engine, "handle_error", _error)
    engine._logsvc_traced = True  # type: ignore[attr-defined]


def _before(name: str):
    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        if profiler.get() is None:
            return
        profiler.start(name, info={"db": {"statement": statement}})
        _open.depth = getattr(_open, "depth", 0) + 1

    return before


def _stop(info: dict | None = None) -> None:
    depth = getattr(_open, "depth", 0)
    if depth <= 0:
        return
    _open.depth = depth - 1
    profiler.stop(info=info)


def _after(conn, cursor, statement, parameters, context, executemany) -> None:
    _stop()


def _error(exception_context) -> None:
    original = exception_context.original_exception
    _stop({"etype": type(original).__name__, "db": {}})
