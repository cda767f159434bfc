"""Bulk writes through the driver's own fast path, inside the caller's transaction.

SQLAlchemy Core's ``executemany`` builds a parameter dictionary per row and runs every column's type processing
through several layers; for the tens of thousands of rows a load or a bulk write-off writes, that costs more than
the database does. Here each column's bind processor (``Money``, dates, booleans: the same processing Core applies)
is looked up once, rows become plain tuples, and the driver takes them in one call: ``executemany`` on SQLite,
``COPY ... FROM STDIN`` on PostgreSQL for inserts, ``executemany`` for updates on both. Triggers and constraints fire
as for any insert (``COPY`` fires row and statement triggers alike), so the journal guards still hold.

A bulk path also holds hundreds of thousands of young container objects (rows, lines, entries) at once, none of
them in reference cycles; Python's cyclic garbage collector would traverse them again and again while they are
built (a third of a bulk write-off's time, measured). ``gc_paused`` turns it off for the duration of one bounded
piece of bulk work (one load, one batch of write-offs); reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Connection, String, Table, any_, bindparam, func, select, tuple_


class _Collector:
    """Who holds the collector paused (nested and concurrent bulk work), and whether it ran before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.was_enabled = False

    def pause(self) -> None:
        with self.lock:
            if self.holders == 0:
                self.was_enabled = gc.isenabled()
                gc.disable()
            self.holders += 1

    def resume(self) -> None:
        with self.lock:
            self.holders -= 1
            if self.holders == 0 and self.was_enabled:
                gc.enable()


_collector = _Collector()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bounded piece of bulk work (nests; thread-safe).

    The collector runs again, if it ran before, when the last holder leaves."""
    _collector.pause()
    try:
        yield
    finally:
        _collector.resume()


def _processors(conn: Connection, table: Table, columns: Sequence[str]) -> list[tuple[int, Callable[[Any], Any]]]:
    dialect = conn.dialect
    found = [(i, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for i, name in enumerate(columns)]
    return [(i, p) for i, p in found if p is not None]


def driver_values(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, object]],
    fill: Mapping[str, object] | None = None,
) -> list[tuple[Any, ...]]:
    """Rows as the driver takes them: the ``columns`` of each row, then the ``fill`` columns (one value every row
    shares), with each column type's bind processing (``Money``, dates, booleans) applied column by column."""
    shared = dict(fill or {})
    get = itemgetter(*columns)
    extra = list(shared.values())
    if len(columns) == 1:
        values: list[list[Any]] = [[get(row), *extra] for row in rows]
    else:
        values = [[*get(row), *extra] for row in rows]
    for i, process in _processors(conn, table, [*columns, *shared]):
        for value in values:
            if (v := value[i]) is not None:
                value[i] = process(v)
    return [tuple(value) for value in values]


def _defaults(table: Table, given: Sequence[str]) -> dict[str, object]:
    """Scalar Python-side defaults (``default=False``) of the columns ``given`` leaves out, as Core would give them."""
    present = set(given)
    return {
        c.key: c.default.arg  # type: ignore[attr-defined]
        for c in table.c
        if c.key not in present and c.default is not None and c.default.is_scalar
    }


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert ``rows`` (dicts with the same keys, column names) into ``table`` in one driver call.

    Columns the rows leave out take their scalar Python-side default (``default=False``), as Core would give them.
    """
    if not rows:
        return
    given = list(rows[0])
    defaults = _defaults(table, given)
    columns = given + list(defaults)
    values = driver_values(conn, table, given, rows, defaults)
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", values)


def update_rows(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, object]], *, set_: Sequence[str], where: Sequence[str]
) -> None:
    """Set the ``set_`` columns of the rows found by the ``where`` columns, from ``rows`` (dicts holding both), in one
    driver-level ``executemany``: the balances and account heads a bulk path moves."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    if conn.dialect.name == "postgresql":
        _update_from_arrays(conn, table, rows, set_, where)
        return
    assignments = ", ".join(f"{quote(c)} = ?" for c in set_)
    conditions = " AND ".join(f"{quote(c)} = ?" for c in where)
    sql = f"UPDATE {quote(table.name)} SET {assignments} WHERE {conditions}"
    conn.exec_driver_sql(sql, driver_values(conn, table, [*set_, *where], rows))


def _update_from_arrays(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, object]], set_: Sequence[str], where: Sequence[str]
) -> None:
    """PostgreSQL: every row in one ``UPDATE ... FROM unnest(arrays)`` (one statement and one round trip, where an
    ``executemany`` of updates is a round trip per row). A row whose ``where`` key comes again is taken at its last
    occurrence, as the last of a row-by-row sequence of updates would leave it."""
    last = {tuple(row[c] for c in where): row for row in rows}
    columns = [*set_, *where]
    values = driver_values(conn, table, columns, list(last.values()))
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    arrays = ", ".join(f"%s::{table.c[c].type.dialect_impl(dialect).compile(dialect)}[]" for c in columns)
    names = ", ".join(quote(c) for c in columns)
    assignments = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in set_)
    conditions = " AND ".join(f"t.{quote(c)} = v.{quote(c)}" for c in where)
    sql = f"UPDATE {quote(table.name)} AS t SET {assignments} FROM unnest({arrays}) AS v ({names}) WHERE {conditions}"
    conn.exec_driver_sql(sql, tuple([value[i] for value in values] for i in range(len(columns))))


def one_of(conn: Connection, column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values`` for the long lists a batch looks up (a thousand numbers, five thousand item ids).

    On PostgreSQL the list is one array parameter (``column = ANY(:values)``): the statement's text is the same
    whatever the list's length, so it is compiled once and the server parses and plans one parameter instead of
    one per value (``bench/README.md`` has the measured difference). SQLite keeps its ``IN`` list (in-process, it
    costs little).
    """
    listed = list(values)
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, listed, type_=ARRAY(column.type)))
    return column.in_(listed)


def pairs_in(
    conn: Connection, columns: tuple[ColumnElement[Any], ColumnElement[Any]], pairs: Sequence[tuple[str, str]]
) -> ColumnElement[bool]:
    """``(a, b) IN pairs``: rows by two columns at once, each pair one probe of an index on both (an ``IN`` list on
    each column alone makes SQLite probe every first value with every second one).

    The pairs are one parameter whatever their number, so the statement is compiled once: two arrays zipped by
    ``unnest`` on PostgreSQL, a JSON array read by ``json_each`` on SQLite (a VALUES list of bind parameters cost
    more to compile in SQLAlchemy than the query took to run).
    """
    if conn.dialect.name == "postgresql":
        firsts = bindparam(None, [a for a, _ in pairs], type_=ARRAY(String))
        seconds = bindparam(None, [b for _, b in pairs], type_=ARRAY(String))
        listed = select(func.unnest(firsts), func.unnest(seconds))
    else:
        each = func.json_each(bindparam(None, json.dumps(list(pairs)), type_=String)).table_valued("value")
        listed = select(func.json_extract(each.c.value, "$[0]"), func.json_extract(each.c.value, "$[1]"))
    return tuple_(*columns).in_(listed)
