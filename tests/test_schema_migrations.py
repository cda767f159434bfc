"""``storage/schema.py`` says what the migrations build: a book made by ``init`` (the migrations, in order) has exactly
the tables, columns, keys and indexes the schema module declares, on each engine."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from subledger.api import Books
from subledger.storage.schema import Base

#: SQLite-only: the guard table of the SQLite money bound, made by migration 0005 and read by raw SQL.
SQLITE_ONLY = {"money_bound"}


def _differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        found = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    sqlite = engine.dialect.name == "sqlite"
    kept = []
    for diff in found:
        first = diff[0] if isinstance(diff, list) else diff
        # SQLite's INTEGER is 64-bit: a BigInteger column reads back as INTEGER and is the same column.
        if sqlite and first[0] == "modify_type" and str(first[-2]) == "INTEGER" and str(first[-1]) == "BIGINT":
            continue
        if sqlite and first[0] == "remove_table" and first[1].name in SQLITE_ONLY:
            continue
        kept.append(diff)
    return kept


def test_the_migrations_build_what_the_schema_declares(engine: Engine) -> None:
    Books(engine=engine).init()
    assert _differences(engine) == []
