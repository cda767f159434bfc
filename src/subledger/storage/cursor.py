"""Rows straight from the database driver, for the reads that go over every journal line.

SQLAlchemy's result rows cost a Python object and type processing per row; over a million journal lines that
dominates the close checks. These reads run plain SQL on the connection's own driver connection (inside its
transaction, so they see what it sees), fetch in batches, and on PostgreSQL use a server-side cursor so memory does
not grow with the book. Values come back as the driver gives them: money as integer ten-thousandths on SQLite and
as ``Decimal`` on PostgreSQL, dates as ISO text on SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from itertools import count
from typing import Any

from sqlalchemy import Connection

_NAMED = re.compile(r"(?<![:\w]):(\w+)")
_cursor_ids = count()


def byte_order(dialect: str) -> str:
    """What follows a text column in ``ORDER BY`` to sort it by its bytes, as SQLite does: a PostgreSQL database's
    collation (en_US.UTF-8, most installs) puts ``a1`` before ``B1``, so the same book would come out in another
    order on the two engines."""
    return 'COLLATE "C"' if dialect == "postgresql" else ""


def driver_rows(
    conn: Connection,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    batch: int = 50_000,
    settings: Mapping[str, str] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql`` (``:name`` placeholders, bound from ``params``) in batches of ``batch``. On PostgreSQL,
    ``settings`` (planner settings) hold while the query is planned, and are put back as they were once its cursor
    is open (the plan is made when it is declared)."""
    dbapi: Any = conn.connection.dbapi_connection
    postgres = conn.dialect.name == "postgresql"
    if postgres and params is not None:
        sql = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
    cursor = dbapi.cursor(name=f"subledger_read_{next(_cursor_ids)}") if postgres else dbapi.cursor()
    try:
        before: list[tuple[str, str]] = []
        if postgres and settings:
            with dbapi.cursor() as setter:
                for name, value in settings.items():
                    setter.execute("SELECT current_setting(%s), set_config(%s, %s, true)", (name, name, value))
                    before.append((name, setter.fetchone()[0]))
        if params is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, dict(params))
        if before:
            with dbapi.cursor() as setter:
                for name, value in before:
                    setter.execute("SELECT set_config(%s, %s, true)", (name, value))
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()
