"""Versioned schema changes (Alembic), run programmatically by ``subledger init``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).with_name("migrations")


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


#: The PostgreSQL advisory lock key that serialises schema upgrades of one database (any constant will do).
UPGRADE_LOCK = 0x5B1ED6E5


def upgrade(connection: Connection) -> None:
    """Bring the schema to head in the caller's transaction. On PostgreSQL two upgrades at once (two ``init`` of an
    empty database) would both create the tables, and the second fail on the first's: a transaction-level advisory
    lock queues the second until the first commits, then it finds the schema at head. The lock goes with the
    transaction (a killed process's included). SQLite's write transaction is one at a time already."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({UPGRADE_LOCK})")
    command.upgrade(config(connection), "head")
