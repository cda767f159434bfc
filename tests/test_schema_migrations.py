"""``storage/schema.py`` says what the migrations build: a book made by ``init`` (the migrations, in order) has exactly
the tables, columns, keys and indexes the schema module declares, on each engine."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select

from subledger.api import Books
from subledger.storage.schema import Base, audit_refusals, operations

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


def test_concurrent_inits_of_an_empty_database_make_one_book(engine: Engine) -> None:
    """Several ``subledger init`` at once on an empty database: the schema is created once (on PostgreSQL the others
    failed creating its tables and types a second time: 'cannot open the database ... duplicate key'), and each
    set-up runs on it."""
    url = engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-c", "from subledger.cli import main; main()", "init", "--db", url]
    inits = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    done = [(p.wait(timeout=120), *p.communicate()) for p in inits]
    assert [(code, err) for code, _, err in done] == [(0, "")] * 4
    with engine.connect() as conn:
        kinds = conn.execute(select(operations.c.kind, operations.c.status)).all()
        refused = conn.execute(select(func.count()).select_from(audit_refusals)).scalar_one()
    assert [tuple(k) for k in kinds] == [("init", "accepted")] * 4
    assert refused == 0
