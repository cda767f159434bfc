"""The journal pass split between two processes (large books), the other also making the subledger pass: the same
report as one pass, and a write that lands between the two reads is not mixed into the report (both engines).

``storage.journal_pass.SPLIT_FROM`` is lowered so the two-account example books are shared: two pieces of one
account each, taken by whichever process comes first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from conftest import failing, money, raw, unguarded
from subledger.api import Books
from subledger.checks import gather
from subledger.journal import Entry, Tag, post
from subledger.posting import Line, TransactionType
from subledger.storage import forked, journal_pass
from subledger.storage.db import make_engine

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="needs fork and a second core")


@pytest.fixture
def two_accounts(seed003: Books, line_level: Books) -> Books:
    del line_level
    return seed003


def _split(monkeypatch: pytest.MonkeyPatch, on: bool) -> list[list[str]]:
    """Share every pass (or none); returns the list the pieces' bounds are recorded in."""
    monkeypatch.setattr(journal_pass, "SPLIT_FROM", 0 if on else 10**12)
    points: list[list[str]] = []
    find = journal_pass.ranges

    def recorded(conn: Any) -> list[str]:
        bounds = find(conn)
        if bounds:
            points.append(bounds)
        return bounds

    monkeypatch.setattr(journal_pass, "ranges", recorded)
    return points


def _unbalanced(conn: Any, account: str, seq: int) -> None:
    conn.execute(
        text(
            "INSERT INTO journal_lines (account_number, entry_seq, line_no, accounting_code, debit, credit, currency) "
            "VALUES (:a, :s, 1, 'Cash', :d, 0, 'USD'), (:a, :s, 2, 'Other Revenue', 0, :c, 'USD')"
        ),
        {"a": account, "s": seq, "d": money(conn, Decimal("10.00")), "c": money(conn, Decimal(9))},
    )
    conn.execute(
        text(
            "INSERT INTO journal_entries (account_number, seq, entry_date, period, transaction_type, currency, "
            "document_number, tag, description, operation_id, prev_hash, hash) VALUES (:a, :s, '2026-10-30', "
            "'2026-10', 'External Payment', 'USD', 'HAND-1', 'payment', 'by hand', "
            "(SELECT max(id) FROM operations), 'x', 'y')"
        ),
        {"a": account, "s": seq},
    )


def test_split_pass_reports_what_one_pass_reports(two_accounts: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    with raw(two_accounts) as conn, unguarded(conn):
        _unbalanced(conn, "A00000001", 99)
        _unbalanced(conn, "A00000002", 98)
        conn.execute(text("UPDATE customer_accounts SET last_entry_seq = 3 WHERE account_number = 'A00000002'"))
        # The forked process also reads which codes the lines carry: one of them made inactive must show.
        conn.execute(text("UPDATE accounting_codes SET active = false WHERE name = 'Other Revenue'"))
    _split(monkeypatch, on=False)
    whole = two_accounts.check()
    points = _split(monkeypatch, on=True)
    halves = two_accounts.check()
    assert points == [["A00000002"]]
    assert halves.model_dump() == whole.model_dump()
    found = failing(halves)
    # Problems of both halves, in account order.
    assert found["entries-balanced"] == [
        "A00000001-99|USD|debits 10.00 and credits 9.00 USD",
        "A00000002-98|USD|debits 10.00 and credits 9.00 USD",
    ]
    assert [p.split("|")[0] for p in found["hash-chain"] if "|seq|" in p] == ["A00000001-99", "A00000002-98"]
    assert any(p.startswith("A00000002|lastEntryHash|") for p in found["hash-chain"])
    assert found["accounting-codes"] == [
        "A00000001-99|accountingCode|accounting code 'Other Revenue' is inactive (2 journal lines)"
    ]


def _write_first(monkeypatch: pytest.MonkeyPatch, books: Books, write: Callable[[Any], None]) -> Any:
    """Make the forked process commit ``write`` before it reads (as a writer landing between the two processes'
    reads would); returns the unpatched ``pass_elsewhere``."""
    _split(monkeypatch, on=True)
    elsewhere = journal_pass.pass_elsewhere
    url = books.engine.url.render_as_string(hide_password=False)

    def after_a_write(*args: Any) -> Any:
        engine = make_engine(url)
        with engine.begin() as conn:
            write(conn)
        engine.dispose()
        return elsewhere(*args)

    monkeypatch.setattr(journal_pass, "pass_elsewhere", after_a_write)
    return elsewhere


def _post_one(conn: Any) -> None:
    five, zero = Decimal("5.00"), Decimal(0)
    entry = Entry(
        "A00000002",
        dt.date(2026, 10, 30),
        TransactionType.EXTERNAL_PAYMENT,
        "USD",
        "HAND-2",
        Tag.PAYMENT,
        "landed between the reads",
        (Line("Cash", five, zero), Line("Other Revenue", zero, five)),
    )
    operation = conn.execute(text("SELECT max(id) FROM operations")).scalar_one()
    post(conn, [entry], [("2026-10", entry.date)], operation)


def _double_an_item(conn: Any) -> None:
    conn.execute(
        text(
            "INSERT INTO operations (kind, actor, request_hash, request, status, at) "
            "VALUES ('defect', 'test', '0', '{}', 'accepted', CURRENT_TIMESTAMP)"
        )
    )
    conn.execute(text("UPDATE document_items SET amount = amount * 2 WHERE id = 'II-0001'"))


def test_a_write_between_the_two_reads_is_not_mixed_in(two_accounts: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked process posts an entry before it reads (as a writer landing between the two reads would): its
    half no longer matches what this connection sees, and the report is that of one snapshot."""
    elsewhere = _write_first(monkeypatch, two_accounts, _post_one)
    passes: list[int] = []
    consume = gather._fold

    def counted(*args: Any) -> Any:
        passes.append(1)
        return consume(*args)

    monkeypatch.setattr(gather, "_fold", counted)
    report = two_accounts.check()
    assert report.passed, failing(report)
    if two_accounts.engine.dialect.name == "sqlite":
        # This connection's snapshot predates the write: the other half was read again here.
        assert len(passes) == 2
    # The write itself landed (outside the report's snapshot on SQLite) and the books still check.
    monkeypatch.setattr(journal_pass, "pass_elsewhere", elsewhere)
    again = two_accounts.check()
    assert again.passed, failing(again)
    with raw(two_accounts) as conn:
        landed = conn.execute(
            text("SELECT count(*) FROM journal_entries WHERE description = 'landed between the reads'")
        ).scalar_one()
    assert landed == 1


def test_a_subledger_write_between_the_reads_is_not_mixed_in(
    two_accounts: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operation that moves the subledger and not the journal (here an item amount edited under an
    operation record, as only a defect would) lands before the forked process reads: the operations it counts differ
    from this connection's, so its subledger pass is not taken. On SQLite this connection's snapshot predates the
    write and the report passes; a report built from the other process's subledger would not."""
    elsewhere = _write_first(monkeypatch, two_accounts, _double_an_item)
    report = two_accounts.check()
    if two_accounts.engine.dialect.name == "sqlite":
        assert report.passed, failing(report)
    monkeypatch.setattr(journal_pass, "pass_elsewhere", elsewhere)
    assert "control-accounts" in failing(two_accounts.check())
