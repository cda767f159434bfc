"""What every benchmark needs: a throw-away book on each engine, the driver's own bulk insert, and the report line.

Baselines are measured in the same run as our figures, on the same machine and engine, so the ratios hold even
while other work shares the machine. The driver baseline writes rows with no logic at all: ``executemany`` on a raw
sqlite3 connection, ``COPY ... FROM STDIN`` on PostgreSQL, into the same schema (same indexes and journal triggers,
which are part of what storing a journal costs).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, text

from subledger.api import Books
from subledger.storage import schema
from subledger.storage.db import make_engine

PG_URL = (
    os.environ.get("SUBLEDGER_BENCH_PG")
    or os.environ.get("SUBLEDGER_TEST_PG")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ENGINES = ("sqlite", "postgresql")

#: Tables in the order a bulk copy must fill them (lines before the entries that seal them).
TABLES: tuple[Table, ...] = (
    schema.operations,
    schema.customer_accounts,
    schema.documents,
    schema.document_items,
    schema.taxation_items,
    schema.payments,
    schema.applications,
    schema.journal_lines,
    schema.journal_entries,
)


@dataclass
class Scratch:
    """A place for one benchmark's books: a directory, and databases in it (SQLite) or schemas (PostgreSQL)."""

    engine_kind: str
    directory: Path
    _schemas: list[str]
    _engines: list[Engine]

    def book(self, name: str) -> Books:
        """A new, initialised book."""
        if self.engine_kind == "sqlite":
            engine = make_engine(f"sqlite:///{self.directory / name}.db")
        else:
            schema_name = f"bench_{name}_{uuid.uuid4().hex[:8]}"
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema_name}"))
            admin.dispose()
            self._schemas.append(schema_name)
            separator = "&" if "?" in PG_URL else "?"
            engine = make_engine(f"{PG_URL}{separator}options=-csearch_path%3D{schema_name}")
        self._engines.append(engine)
        books = Books(engine=engine)
        books.init()
        return books

    def copy(self, books: Books, name: str) -> Books:
        """A new book holding what ``books`` holds now (the state a baseline starts from), copied by the database
        itself: SQLite's backup of the file, or PostgreSQL ``INSERT ... SELECT`` from one schema into another."""
        if self.engine_kind == "sqlite":
            target = self.directory / f"{name}.db"
            source_db = sqlite3.connect(str(books.engine.url.database))
            target_db = sqlite3.connect(target)
            try:
                source_db.backup(target_db)
            finally:
                target_db.close()
                source_db.close()
            engine = make_engine(f"sqlite:///{target}")
            self._engines.append(engine)
            return Books(engine=engine)
        copied = self.book(name)
        source_schema, target_schema = _search_path(books.engine), _search_path(copied.engine)
        with copied.engine.begin() as conn:
            for table in TABLES:
                # The new book has its own init operation (operation 1, as in the source): not copied twice.
                skip = " WHERE id NOT IN (SELECT id FROM operations)" if table.name == "operations" else ""
                conn.execute(
                    text(f"INSERT INTO {target_schema}.{table.name} SELECT * FROM {source_schema}.{table.name}{skip}")
                )
        return copied


def _search_path(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())


@contextmanager
def scratch(engine_kind: str, keep: bool = False) -> Iterator[Scratch]:
    directory = Path(tempfile.mkdtemp(prefix="subledger-bench-"))
    place = Scratch(engine_kind, directory, [], [])
    try:
        yield place
    finally:
        for engine in place._engines:
            engine.dispose()
        if place._schemas:
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                for name in place._schemas:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            admin.dispose()
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)


def pg_available() -> bool:
    try:
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception:
        return False
    return True


# --- rows as the driver sees them -----------------------------------------------------------------------------


Rows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def driver_rows(
    engine: Engine, table: Table, rows: Iterable[dict[str, object]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Row dicts as the driver takes them (column types' bind processing applied: Money, dates, booleans)."""
    columns = [c.key for c in table.c]
    processors = [table.c[k].type.bind_processor(engine.dialect) for k in columns]
    out: list[tuple[Any, ...]] = []
    for row in rows:
        values = [row.get(k, _default(table, k)) for k in columns]
        out.append(
            tuple(p(v) if p is not None and v is not None else v for p, v in zip(processors, values, strict=True))
        )
    return columns, out


def _default(table: Table, column: str) -> object:
    default = table.c[column].default
    return (
        getattr(default, "arg", None) if default is not None and not callable(getattr(default, "arg", None)) else None
    )


def capture(engine: Engine, where: dict[str, str]) -> Rows:
    """Raw rows (as stored, no type processing) of each table, selected by a SQL condition per table name, read
    through the driver's own cursor."""
    out: Rows = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table in TABLES:
            if table.name not in where:
                continue
            columns = [c.name for c in table.c]
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table.name} WHERE {where[table.name]}")
            out[table.name] = (columns, [tuple(r) for r in cursor.fetchall()])
        raw.rollback()
    finally:
        raw.close()
    return out


def bulk_insert(engine: Engine, rows: Rows) -> None:
    """Insert raw rows with the driver's own bulk path, in one transaction, in ``TABLES`` order."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        for table in TABLES:
            if table.name not in rows:
                continue
            columns, values = rows[table.name]
            if not values:
                continue
            if engine.dialect.name == "sqlite":
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", values)
            else:
                with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
        raw.commit()
    finally:
        raw.close()


def row_count(rows: Rows) -> int:
    return sum(len(values) for _, values in rows.values())


# --- timing and reporting -------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


@dataclass
class Figure:
    """One line of the report: a piece of work, our time, a baseline's time, and the target on the ratio."""

    benchmark: str
    engine: str
    work: str
    ours: float
    baseline_name: str
    baseline: float
    target: str
    passed: bool | None
    note: str = ""

    @classmethod
    def skip(cls, benchmark: str, engine: str, why: str) -> Figure:
        return cls(benchmark, engine, "-", 0.0, "-", 0.0, "-", None, note=f"SKIP: {why}")

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")

    def line(self) -> str:
        if self.note:
            return f"{self.benchmark:<10} {self.engine:<10} {self.note}"
        if self.baseline_name == "-":
            verdict = "" if self.passed is None else ("PASS" if self.passed else "MISS")
            blank = ""
            return (
                f"{self.benchmark:<10} {self.engine:<10} {self.work:<34} ours {self.ours:9.2f}s  {blank:<47}  "
                f"{self.target:<24} {verdict}"
            )
        verdict = "" if self.passed is None else ("PASS" if self.passed else "MISS")
        return (
            f"{self.benchmark:<10} {self.engine:<10} {self.work:<34} ours {self.ours:9.2f}s  "
            f"{self.baseline_name:<22} {self.baseline:9.2f}s  ratio {self.ratio:7.2f}  {self.target:<24} {verdict}"
        )


def ratio_target(limit: float) -> Callable[[float, float], tuple[str, bool]]:
    def check(ours: float, baseline: float) -> tuple[str, bool]:
        return f"target <= {limit:g}x", ours <= limit * baseline

    return check


def report(figures: Sequence[Figure]) -> str:
    return "\n".join(f.line() for f in figures)
