"""The database itself refuses an unbalanced entry and any change to a posted one (both engines)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Connection, delete, insert, text, update
from sqlalchemy.exc import DBAPIError

from subledger.api import Books
from subledger.errors import UnbalancedEntry
from subledger.journal import Entry
from subledger.posting import Line
from subledger.storage.schema import journal_entries, journal_lines


def test_unbalanced_entry_is_refused_when_built() -> None:
    with pytest.raises(UnbalancedEntry, match="debits 10 and credits 9 USD"):
        Entry.build(
            account_number="A1",
            date=dt.date(2026, 10, 1),
            transaction_type="Invoice Item",
            currency="USD",
            document_number="INV1",
            tag="invoice",
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
