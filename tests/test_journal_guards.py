"""The database itself refuses an unbalanced entry and any change to a posted one (both engines)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, text, update
from sqlalchemy.exc import DBAPIError

from subledger.api import Books
from subledger.errors import UnbalancedEntry
from subledger.journal import Entry, Tag
from subledger.posting import Line, TransactionType
from subledger.storage.schema import journal_entries, journal_lines


def test_unbalanced_entry_is_refused_when_built() -> None:
    with pytest.raises(UnbalancedEntry, match="debits 10 and credits 9 USD"):
        Entry.build(
            account_number="A1",
            date=dt.date(2026, 10, 1),
            transaction_type=TransactionType.INVOICE_ITEM,
            currency="USD",
            document_number="INV1",
            tag=Tag.INVOICE,
            description="x",
            lines=[Line("Cash", Decimal(10), Decimal(0)), Line("Sales Revenue", Decimal(0), Decimal(9))],
        )


def test_posted_line_cannot_be_updated_or_deleted(seed003: Books) -> None:
    with pytest.raises(DBAPIError, match="never updated or deleted"), seed003.engine.begin() as conn:
        conn.execute(update(journal_lines).values(debit=Decimal("1.00")).where(journal_lines.c.line_no == 1))
    with pytest.raises(DBAPIError, match="never updated or deleted"), seed003.engine.begin() as conn:
        conn.execute(delete(journal_entries))
    with pytest.raises(DBAPIError, match="never updated or deleted"), seed003.engine.begin() as conn:
        conn.execute(text("UPDATE journal_entries SET description = 'edited'"))


def _raw_entry(conn: Connection, seq: int, debit: str, credit: str) -> None:
    line = {"account_number": "A00000001", "entry_seq": seq, "currency": "USD", "item_id": None}
    conn.execute(
        insert(journal_lines),
        [
            {**line, "line_no": 1, "accounting_code": "Cash", "debit": Decimal(debit), "credit": Decimal(0)},
            {
                **line,
                "line_no": 2,
                "accounting_code": "Sales Revenue",
                "debit": Decimal(0),
                "credit": Decimal(credit),
            },
        ],
    )
    conn.execute(
        insert(journal_entries).values(
            account_number="A00000001",
            seq=seq,
            entry_date=dt.date(2026, 10, 9),
            period="2026-10",
            transaction_type="External Payment",
            currency="USD",
            document_number="X",
            tag="payment",
            description="hand-written",
            operation_id=1,
            prev_hash="",
            hash="",
        )
    )


def test_database_refuses_an_unbalanced_entry(seed003: Books) -> None:
    with pytest.raises(DBAPIError, match="not balanced"), seed003.engine.begin() as conn:
        _raw_entry(conn, 99, "10.00", "9.99")


def test_database_accepts_a_balanced_entry_and_then_seals_it(seed003: Books) -> None:
    with seed003.engine.begin() as conn:
        _raw_entry(conn, 99, "10.00", "10.00")
    with pytest.raises(DBAPIError, match="lines cannot be added"), seed003.engine.begin() as conn:
        conn.execute(
            insert(journal_lines).values(
                account_number="A00000001",
                entry_seq=99,
                line_no=3,
                accounting_code="Cash",
                debit=Decimal(1),
                credit=Decimal(0),
                currency="USD",
            )
        )


def test_a_line_is_a_debit_or_a_credit_never_both(seed003: Books) -> None:
    with pytest.raises(DBAPIError), seed003.engine.begin() as conn:
        _raw_entry(conn, 98, "-10.00", "-10.00")


def _row(conn: Connection, sql: str) -> tuple[Any, ...]:
    return tuple(conn.execute(text(sql)).one())


ENTRY = "SELECT * FROM journal_entries WHERE account_number = 'A00000001' AND seq = 1"
LINE = "SELECT * FROM journal_lines WHERE account_number = 'A00000001' AND entry_seq = 1 AND line_no = 1"
ENTRY_COLUMNS = (
    "account_number, seq, entry_date, period, transaction_type, currency, document_number, related_number, tag, "
    "description, operation_id, prev_hash, hash"
)
REWRITTEN = ENTRY_COLUMNS.replace("description", "'rewritten'")
#: An upsert of a posted entry and of one of its lines, changing what they say, per engine.
REWRITES = {
    "sqlite": [
        f"{verb} INTO journal_entries ({ENTRY_COLUMNS}) SELECT {REWRITTEN} "
        "FROM journal_entries WHERE account_number = 'A00000001' AND seq = 1"
        for verb in ("REPLACE", "INSERT OR REPLACE")
    ]
    + [
        f"{verb} INTO journal_lines SELECT account_number, entry_seq, line_no, 'Cash', debit, credit, currency, "
        "item_id FROM journal_lines WHERE account_number = 'A00000001' AND entry_seq = 1 AND line_no = 1"
        for verb in ("REPLACE", "INSERT OR REPLACE")
    ],
    "postgresql": [
        "INSERT INTO journal_entries SELECT * FROM journal_entries WHERE account_number = 'A00000001' AND seq = 1 "
        "ON CONFLICT (account_number, seq) DO UPDATE SET description = 'rewritten'",
        "INSERT INTO journal_lines SELECT * FROM journal_lines WHERE account_number = 'A00000001' AND entry_seq = 1 "
        "AND line_no = 1 ON CONFLICT (account_number, entry_seq, line_no) DO UPDATE SET accounting_code = 'Cash'",
    ],
}


def test_a_posted_entry_or_line_cannot_be_replaced(seed003: Books) -> None:
    """SQLite's REPLACE deletes the old row without its delete triggers unless recursive triggers are on; PostgreSQL's
    upsert updates it. Neither may rewrite a posted row."""
    engine = seed003.engine
    with engine.connect() as conn:
        before = _row(conn, ENTRY), _row(conn, LINE)
    for sql in REWRITES[engine.dialect.name]:
        with (
            pytest.raises(DBAPIError, match=r"cannot be replaced|cannot be added|never updated"),
            engine.begin() as conn,
        ):
            conn.execute(text(sql))
    with engine.connect() as conn:
        assert (_row(conn, ENTRY), _row(conn, LINE)) == before
        assert _row(conn, ENTRY)[9] != "rewritten"


def test_replace_is_refused_on_sqlite_even_without_recursive_triggers(seed003: Books) -> None:
    """The guard does not depend on the connection: a plain sqlite3 connection (recursive triggers off, as every
    other tool opens the file) is refused too, and so is one with the pragma on but the insert guard dropped."""
    if seed003.engine.dialect.name != "sqlite":
        pytest.skip("REPLACE is SQLite's")
    database = seed003.engine.url.database
    assert database is not None
    seed003.engine.dispose()
    plain = sqlite3.connect(database)
    try:
        assert plain.execute("PRAGMA recursive_triggers").fetchone() == (0,)
        before = plain.execute(ENTRY).fetchone(), plain.execute(LINE).fetchone()
        for sql in REWRITES["sqlite"]:
            with pytest.raises(sqlite3.IntegrityError, match=r"cannot be replaced|cannot be added"):
                plain.execute(sql)
            plain.rollback()
        for table, key in [
            ("operations", "id"),
            ("audit_refusals", "id"),
            ("period_events", "id"),
        ]:
            columns = [r[1] for r in plain.execute(f"PRAGMA table_info({table})")]
            if not plain.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:
                continue
            with pytest.raises(sqlite3.IntegrityError, match="cannot be replaced"):
                plain.execute(f"REPLACE INTO {table} SELECT {', '.join(columns)} FROM {table} ORDER BY {key} LIMIT 1")
            plain.rollback()
        # The pragma alone (the insert guard dropped) refuses it through the delete trigger.
        plain.execute("PRAGMA recursive_triggers = ON")
        plain.execute("DROP TRIGGER journal_entries_no_replace")
        with pytest.raises(sqlite3.IntegrityError, match="never updated or deleted"):
            plain.execute(REWRITES["sqlite"][0])
        plain.rollback()
        assert (plain.execute(ENTRY).fetchone(), plain.execute(LINE).fetchone()) == before
    finally:
        plain.close()


def test_an_operation_with_a_recorded_idempotency_key_cannot_replace_it(seed003: Books) -> None:
    if seed003.engine.dialect.name != "sqlite":
        pytest.skip("REPLACE is SQLite's")
    with seed003.engine.begin() as conn:
        conn.execute(text("UPDATE operations SET idempotency_key = 'k1' WHERE id = 1"))
    with pytest.raises(DBAPIError, match="operation is recorded"), seed003.engine.begin() as conn:
        conn.execute(
            text(
                "REPLACE INTO operations (kind, actor, idempotency_key, request_hash, request, status, at) "
                "VALUES ('x', 'x', 'k1', 'x', '{}', 'accepted', '2026-10-01')"
            )
        )
    with seed003.engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM operations WHERE idempotency_key = 'k1'")).scalar_one() == 1
