"""Alembic migrations of the API's database, run by ``logsvc-manage db upgrade``."""
