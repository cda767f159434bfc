"""Fixtures: a fresh book on SQLite and, when ``SUBLEDGER_TEST_PG`` is set, on PostgreSQL.

Each PostgreSQL test gets its own schema (``search_path``), so test runs, helpers and CI never see each other's rows.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, MetaData, select, text

from subledger.api import Books
from subledger.checks import CheckReport
from subledger.journal import Entry, Tag, post
from subledger.posting import Line, TransactionType
from subledger.storage.db import make_engine
from subledger.storage.types import Money

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED_EXAMPLES = ROOT.parent / "shared" / "examples"
PG_URL = os.environ.get("SUBLEDGER_TEST_PG")


#: Set to 1 to rewrite snapshot files from what the code produces now (review the diff before committing).
UPDATE_SNAPSHOTS = os.environ.get("SUBLEDGER_UPDATE_SNAPSHOTS") == "1"


def assert_snapshot(expected: Path, actual: bytes) -> None:
    """``actual`` equals the committed snapshot ``expected`` byte for byte.

    Snapshots are written only when asked (``SUBLEDGER_UPDATE_SNAPSHOTS=1``), never because one is missing: a missing
    snapshot fails, so a renamed or forgotten file cannot pass by writing its own expectation."""
    if UPDATE_SNAPSHOTS:
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_bytes(actual)
    assert expected.exists(), f"missing snapshot {expected} (SUBLEDGER_UPDATE_SNAPSHOTS=1 writes it)"
    assert actual == expected.read_bytes(), f"{expected} differs (SUBLEDGER_UPDATE_SNAPSHOTS=1 rewrites it)"


def assert_snapshot_tree(expected: Path, actual: dict[str, bytes]) -> None:
    """Every file of ``actual`` (relative path -> bytes) equals its snapshot under ``expected``, and no other exists."""
    if UPDATE_SNAPSHOTS and expected.exists():
        for old in expected.rglob("*"):
            if old.is_file() and str(old.relative_to(expected)) not in actual:
                old.unlink()
    for name, content in actual.items():
        assert_snapshot(expected / name, content)
    committed = {str(p.relative_to(expected)) for p in expected.rglob("*") if p.is_file()}
    assert committed == set(actual), f"snapshot files under {expected} differ from the output"


def killed_at(marker: Path, script: str, *args: str) -> None:
    """Run ``script`` (Python source) in a process of its own with ``args`` and ``kill -9`` it once it has made
    ``marker``: the point of its work a test holds it at. Fails if it never gets there."""
    command = subprocess.Popen([sys.executable, "-c", script, *args])
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and command.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), f"the process never reached {marker.name}"
    finally:
        command.kill()
        command.wait()


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file and directory under ``root`` with its bytes: compare before and after to prove nothing was made."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


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


#: Memo date and apply effective date of the reversals the tests make (November 2026 is open in every book).
NOV = {"memoDate": "2026-11-16", "applyEffectiveDate": "2026-11-16"}
#: The periods before October 2026, closed in order by tests that close October.
EARLIER = [f"2026-{m:02d}" for m in range(1, 10)]


def net_by_code(books: Books, *documents: str) -> dict[str, Decimal]:
    """Debit minus credit per accounting code over the entries ``documents`` post (each entry once)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    seen: set[str] = set()
    for number in documents:
        for entry in books.journal(document=number):
            if entry.id in seen or entry.documents[0] not in documents:
                continue
            seen.add(entry.id)
            for line in entry.lines:
                totals[line.accounting_code] += Decimal(line.debit) - Decimal(line.credit)
    return dict(totals)


def failing(report: CheckReport) -> dict[str, list[str]]:
    """The failing checks of ``report``: check name -> ``document|field|rule`` of each problem."""
    return {c.name: [f"{p.document}|{p.field}|{p.rule}" for p in c.problems] for c in report.checks if not c.passed}


# Tampering: what a hand with write access to the database (or a defect) could do, for the checks to catch.


@contextmanager
def raw(books: Books) -> Iterator[Connection]:
    """A connection to the book's database in one transaction, for writes no operation would make."""
    with books.engine.begin() as conn:
        yield conn


def money(conn: Connection, amount: Decimal) -> Any:
    """``amount`` as the engine stores money, to bind in raw SQL: the storage encoding stays in ``storage.types``."""
    return Money().process_bind_param(amount, conn.dialect)


def stored_money(conn: Connection, value: Any) -> Decimal:
    """A money column read by raw SQL, as the ``Decimal`` it encodes."""
    amount = Money().process_result_value(value, conn.dialect)
    assert amount is not None
    return amount


def operation_id(conn: Connection) -> int:
    return int(conn.execute(text("SELECT max(id) FROM operations")).scalar_one())


def post_entry(conn: Connection, date: str, period: str, lines: list[Line], account: str = "A00000001") -> None:
    """A balanced, correctly chained entry posted without the period rules (as a defect would)."""
    entry = Entry(
        account,
        dt.date.fromisoformat(date),
        TransactionType.EXTERNAL_PAYMENT,
        "USD",
        "HAND-1",
        Tag.PAYMENT,
        "by hand",
        tuple(lines),
    )
    post(conn, [entry], [(period, entry.date)], operation_id(conn))


#: Journal guards a test may lift: (table, PostgreSQL trigger, SQLite trigger).
BALANCE = ("journal_entries", "journal_entries_balanced", "journal_entries_balanced")
LINE_UPDATES = ("journal_lines", "journal_lines_immutable", "journal_lines_no_update")


@contextmanager
def unguarded(conn: Connection, guard: tuple[str, str, str] = BALANCE) -> Iterator[None]:
    """Switch off a journal guard (by default the balance trigger), to write what only a tampered database could
    hold."""
    table, pg_trigger, sqlite_trigger = guard
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {pg_trigger}"))
        yield
        conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {pg_trigger}"))
    else:
        sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": sqlite_trigger}).scalar_one()
        conn.execute(text(f"DROP TRIGGER {sqlite_trigger}"))
        yield
        conn.execute(text(sql))


ENTRY_UPDATES = ("journal_entries", "journal_entries_immutable", "journal_entries_no_update")


def rechain(conn: Connection, version: int, descriptions: dict[tuple[str, int], str] | None = None) -> None:
    """Rewrite every entry's hash chain consistently under hash ``version`` (with ``ENTRY_UPDATES`` lifted), the
    ``descriptions`` given replaced: what a book posted before that version holds, or a forgery by a hand that can
    write the database and knows the chain."""
    from subledger import canonical
    from subledger.storage.schema import customer_accounts, journal_entries, journal_lines

    e, ln, ca = journal_entries, journal_lines, customer_accounts
    lines: dict[tuple[str, int], list[str]] = {}
    for row in conn.execute(select(ln).order_by(ln.c.account_number, ln.c.entry_seq, ln.c.line_no)):
        lines.setdefault((row.account_number, row.entry_seq), []).append(
            canonical.stored_line_text(version, row._mapping)
        )
    heads: dict[str, tuple[int, str]] = {}
    for row in conn.execute(select(e).order_by(e.c.account_number, e.c.seq)).all():
        key = (row.account_number, row.seq)
        description = (descriptions or {}).get(key, row.description)
        prev = heads.get(row.account_number, (0, ""))[1]
        fields = canonical.stored_entry_fields(version, {**row._mapping, "description": description})
        digest = canonical.chain_digest(prev, fields, lines.get(key, []))
        conn.execute(
            e.update()
            .where(e.c.account_number == row.account_number, e.c.seq == row.seq)
            .values(prev_hash=prev, hash=digest, hash_version=version, description=description)
        )
        heads[row.account_number] = (row.seq, digest)
    for account, (seq, digest) in heads.items():
        conn.execute(
            ca.update().where(ca.c.account_number == account).values(last_entry_seq=seq, last_entry_hash=digest)
        )


#: The guards against deleting posted journal rows: (table, PostgreSQL trigger, SQLite trigger).
DELETES = (
    ("journal_lines", "journal_lines_immutable", "journal_lines_no_delete"),
    ("journal_entries", "journal_entries_immutable", "journal_entries_no_delete"),
)


@contextmanager
def journal_unguarded(books: Books) -> Iterator[Connection]:
    with raw(books) as conn, ExitStack() as guards:
        for guard in DELETES:
            guards.enter_context(unguarded(conn, guard))
        yield conn


def cut_journal_after(conn: Connection, day: str) -> None:
    """Delete every entry dated after ``day`` and move each account's chain head back to its last remaining entry,
    so that the hash chain still verifies."""
    after = (
        "(SELECT seq FROM journal_entries e WHERE e.account_number = journal_lines.account_number "
        "AND e.entry_date > :d)"
    )
    conn.execute(text(f"DELETE FROM journal_lines WHERE entry_seq IN {after}"), {"d": day})
    conn.execute(text("DELETE FROM journal_entries WHERE entry_date > :d"), {"d": day})
    conn.execute(
        text(
            "UPDATE customer_accounts SET "
            "last_entry_seq = coalesce((SELECT max(seq) FROM journal_entries e "
            "WHERE e.account_number = customer_accounts.account_number), 0), "
            "last_entry_hash = coalesce((SELECT e.hash FROM journal_entries e "
            "WHERE e.account_number = customer_accounts.account_number ORDER BY e.seq DESC LIMIT 1), '')"
        )
    )
    if conn.dialect.name == "postgresql":  # the deferred checks run now, before the guards are put back
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def command_paths() -> set[tuple[str, ...]]:
    """Every leaf command of ``subledger``, as the words that name it."""
    from typer.main import get_command

    from subledger.cli import app

    found: set[tuple[str, ...]] = set()

    def walk(command: Any, path: tuple[str, ...]) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, (*path, name))
        else:
            found.add(path)

    walk(get_command(app), ())
    return found
