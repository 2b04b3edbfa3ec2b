"""Alembic's environment, driven from code (api.migrate): no alembic.ini.

The caller puts an open SQLAlchemy connection in ``config.attributes["connection"]``.
"""

from alembic import context

from api.models import Base


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported")
run_migrations()
