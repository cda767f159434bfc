"""Engines and transactions.

One business operation is one transaction (``write_transaction``). On SQLite a write transaction starts with
``BEGIN IMMEDIATE``, so two writers queue instead of failing half-way, while reads start a plain deferred
transaction and never wait behind a bulk write-off (WAL mode). Foreign keys and recursive triggers are switched on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

DEFAULT_URL = "sqlite:///subledger.db"
WRITE_OPTION = "subledger_write"
#: Seconds a PostgreSQL connection may take to open. libpq waits forever by default, so a server that accepts and
#: never answers, or an address that drops packets, hung a command for minutes; a ``connect_timeout`` in the URL's
#: query (or libpq's ``PGCONNECT_TIMEOUT``) is the user's own choice and wins.
CONNECT_TIMEOUT = 10


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("SUBLEDGER_DB") or DEFAULT_URL


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = database_url(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)
        _sqlite_setup(engine)
        return engine
    if "connect_timeout" not in make_url(url).query and not os.environ.get("PGCONNECT_TIMEOUT"):
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT, **kwargs.get("connect_args", {})}
    return create_engine(url, **kwargs)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of pysqlite's deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # REPLACE deletes the row it replaces without firing delete triggers unless this is on: with it, the
        # journal's "never deleted" triggers refuse a REPLACE of a posted row (``storage.guards``).
        cursor.execute("PRAGMA recursive_triggers = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def forget_inherited(conn: Connection) -> None:
    """In a forked child: let go of the parent's connections without touching them. The engine's pool is dropped
    without closing what it holds (closing would end the parent's sessions: the server sees one connection, not
    two processes), and the socket of ``conn`` (the parent's connection, in its transaction) is closed in this
    process only, so that the server sees the connection end when the parent does. The child opens its own."""
    conn.engine.dispose(close=False)
    if conn.dialect.name == "postgresql":
        fileno = getattr(conn.connection.dbapi_connection, "fileno", None)
        if fileno is not None:
            with suppress(OSError):  # already closed
                os.close(fileno())


#: SQLite page cache of a bulk transaction (KiB). A load or a batch of write-offs dirties more pages than the
#: default 2 MB hold; SQLite then spills them to the WAL mid-transaction and writes many again later (the cost is
#: in ``bench/README.md``). The cache grows only as pages are used, up to this, and is
#: given back when the transaction ends, so memory stays bounded whatever the size of the work.
BULK_CACHE_KIB = 131_072


@contextmanager
def write_transaction(engine: Engine, *, bulk: bool = False) -> Iterator[Connection]:
    """A transaction that will write: committed on success, rolled back on any error. ``bulk`` (a load, a batch of
    a bulk task) gives it a larger SQLite page cache for its duration (``BULK_CACHE_KIB``)."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        if not (bulk and conn.dialect.name == "sqlite"):
            with conn.begin():
                yield conn
            return
        # On the driver's connection: through SQLAlchemy the pragma would begin the transaction before ``begin``.
        driver = conn.connection.driver_connection
        assert driver is not None
        (before,) = driver.execute("PRAGMA cache_size").fetchone()
        driver.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            with conn.begin():
                yield conn
        finally:
            # Ctrl-C during the commit makes SQLAlchemy invalidate (close) the connection: there is no cache to give
            # back then, and a ProgrammingError here would replace the interrupt (a committed load told as refused).
            if not conn.invalidated:
                driver.execute(f"PRAGMA cache_size = {int(before)}")


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only connection that sees one snapshot of the book for as long as it is open: PostgreSQL's REPEATABLE
    READ (SQLite's read transaction is one already)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        yield conn


#: Records a bulk task (a load, a bulk write-off) writes from which it refreshes PostgreSQL's planner statistics.
ANALYZE_FROM = 1_000


def refresh_statistics(engine: Engine, tables: Iterable[Table]) -> bool:
    """PostgreSQL: ``ANALYZE`` the ``tables`` a large bulk task wrote, once it has committed; returns whether it
    did. Until autovacuum gets to them (and never where it is off) the planner plans the next queries on the old
    statistics, or none: the close checks' subledger pass took twice as long on a book just loaded. SQLite plans
    without them.

    The task's work is committed by then and statistics are only a hint to the planner: a failure here (a lock
    wait, a lost connection) is not the task's failure, and is not raised."""
    if engine.dialect.name != "postgresql":
        return False
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ANALYZE {', '.join(sorted(table.name for table in tables))}")
    except DBAPIError:
        return False
    return True
