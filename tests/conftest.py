"""Fixtures: a fresh book on SQLite and, when ``SUBLEDGER_TEST_PG`` is set, on PostgreSQL.

Each PostgreSQL test gets its own schema (``search_path``), so test runs, helpers and CI never see each other's rows.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select, text

from subledger.api import Books
from subledger.storage.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED_EXAMPLES = ROOT.parent / "shared" / "examples"
PG_URL = os.environ.get("SUBLEDGER_TEST_PG")


def example(name: str) -> Path:
    """An input file of ``examples/`` (the repository's copy of ``../shared/examples`` and the demo data)."""
    return EXAMPLES / name


def pg_engine() -> Iterator[Engine]:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (set SUBLEDGER_TEST_PG)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    engine = make_engine(f"{PG_URL}{separator}options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database on each engine."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'books.db'}")
        yield eng
        eng.dispose()
    else:
        yield from pg_engine()


@pytest.fixture
def books(engine: Engine) -> Books:
    """A new book (default chart, calendar, reason codes and settings) on each engine."""
    b = Books(engine=engine)
    b.init()
    return b


@pytest.fixture
def seed003(books: Books) -> Books:
    books.load(example("seed-003-books.json"))
    return books


@pytest.fixture
def line_level(books: Books) -> Books:
    books.load(example("line-level-books.json"))
    return books


#: Tables a refusal writes to (after its rollback, on purpose): left out of ``dump`` so that "the refusal wrote
#: nothing" compares the books; tests of the audit trail read these tables themselves.
AUDIT_ONLY = frozenset({"audit_refusals"})


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: compare before and after to prove nothing was written."""
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name in AUDIT_ONLY:
                continue
            out[name] = sorted((tuple(map(repr, row)) for row in conn.execute(select(table))), key=repr)
    return out


def set_period_status(books: Books, name: str, status: str) -> None:
    with books.engine.begin() as conn:
        conn.execute(text("UPDATE periods SET status = :s WHERE name = :n"), {"s": status, "n": name})


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the ``subledger`` command in-process: ``cli("load", path, db=url)`` -> exit code, stdout, stderr."""
    from subledger.cli import main

    def run(*args: str, db: str | None = None, actor: str | None = None) -> CliResult:
        argv = ["subledger", *args]
        if db is not None:
            monkeypatch.setenv("SUBLEDGER_DB", db)
        if actor is not None:
            monkeypatch.setenv("SUBLEDGER_ACTOR", actor)
        monkeypatch.setattr(sys, "argv", argv)
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def db_url(books: Books) -> str:
    """A URL the CLI can open for the same database the fixture made (PostgreSQL: with its schema)."""
    return books.engine.url.render_as_string(hide_password=False)
