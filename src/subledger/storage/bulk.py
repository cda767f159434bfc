"""Bulk inserts through the driver's own fast path, inside the caller's transaction.

SQLAlchemy Core's ``executemany`` builds a parameter dictionary per row and runs every column's type processing
through several layers; for the tens of thousands of rows a load or a bulk write-off writes, that costs more than
the database does. Here each column's bind processor (``Money``, dates, booleans: the same processing Core applies)
is looked up once, rows become plain tuples, and the driver takes them in one call: ``executemany`` on SQLite,
``COPY ... FROM STDIN`` on PostgreSQL. Triggers and constraints fire as for any insert (``COPY`` fires row and
statement triggers alike), so the journal guards still hold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table

Processor = Callable[[Any], Any] | None


def _processors(conn: Connection, table: Table, columns: Sequence[str]) -> list[Processor]:
    dialect = conn.dialect
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert ``rows`` (dicts with the same keys, column names) into ``table`` in one driver call.

    Columns the rows leave out take their scalar Python-side default (``default=False``), as Core would give them.
    """
    if not rows:
        return
    given = list(rows[0])
    defaults = {
        c.key: c.default.arg  # type: ignore[attr-defined]
        for c in table.c
        if c.key not in rows[0] and c.default is not None and c.default.is_scalar
    }
    columns = given + list(defaults)
    processors = _processors(conn, table, columns)
    typed = [(i, p) for i, p in enumerate(processors) if p is not None]
    fill = list(defaults.values())
    values: list[list[Any]] = []
    for row in rows:
        raw = [row[name] for name in given] + fill
        for i, processor in typed:
            if raw[i] is not None:
                raw[i] = processor(raw[i])
        values.append(raw)
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", [tuple(v) for v in values])
