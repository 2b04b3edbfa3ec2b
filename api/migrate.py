"""Alembic driven from code: upgrade, downgrade and inspect the API's schema."""

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's configuration: the `migrations` package, and our engine's connection."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("migrations")))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def _run(engine: Engine, fn, *args) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        fn(config, *args)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema up to `revision`."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the schema down to `revision` ("base": no table at all)."""
    _run(engine, command.downgrade, revision)


def current(engine: Engine) -> str | None:
    """The schema's revision in the database (None: not created)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
