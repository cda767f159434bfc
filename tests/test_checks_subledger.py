"""The checks compare the subledger with the journal in full and verify what the books store (issue 14 items 8
and 9), on both engines: each test tampers with the database as a hand with write access would, in a way every
check passed before, and names the check that now fails.

- cutting the journal after a date (entries deleted, chain heads moved back) or deleting it whole (periods
  reopened, their events deleted): the records that posted have no journal entries (``journal-postings``) and the
  control accounts are compared at the subledger's last date, not the journal's (``control-accounts``);
- a stored balance changed (``stored-balances``), a period reopened by a bare update (``period-events``), a row of
  ``operations`` deleted (``operation-log``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from conftest import EARLIER, cut_journal_after, db_url, failing, journal_unguarded, money, raw
from subledger import reports
from subledger.api import Books
from subledger.errors import CloseChecksFailed
from subledger.operations import apply as apply_ops
from subledger.operations import writeoff as writeoff_ops

NOV = "2026-11-30"


def _november(books: Books) -> list[str]:
    """Two write-offs and a reversal in November; their memos' numbers."""
    results = [
        books.write_off_invoice("INV00000002", {"memoDate": "2026-11-05"}).credit_memo,
        books.write_off_invoice("INV00000010", {"memoDate": "2026-11-06"}).credit_memo,
        books.reverse_invoice(
            "INV00000001", {"memoDate": "2026-11-10", "applyEffectiveDate": "2026-11-10"}
        ).credit_memo,
    ]
    memos = [memo.number for memo in results if memo is not None]
    assert len(memos) == 3
    report = books.check()
    assert report.passed, failing(report)
    assert report.as_of == dt.date(2026, 11, 30)
    return memos


def test_cutting_the_journal_after_a_date_fails(seed003: Books, line_level: Books) -> None:
    del line_level
    memos = _november(seed003)
    with journal_unguarded(seed003) as conn:
        cut_journal_after(conn, "2026-10-31")
    report = seed003.check()
    found = failing(report)
    # The chain, the balances of what is left and the ledger of October all hold: only the comparison in full sees it.
    assert "hash-chain" not in found
    assert report.as_of == dt.date(2026, 11, 30)
    postings = found["journal-postings"]
    for memo in memos:
        assert any(p.startswith(f"{memo}|None|posted credit memo dated 2026-11-") for p in postings), postings
        assert any(p.startswith(f"{memo}|applications[") and "has no journal entry" in p for p in postings)
    assert postings[0].endswith("has no journal entry")
    assert "control-accounts" in found
    assert seed003.check("2026-11").passed is False


def test_deleting_the_whole_journal_and_reopening_every_period_fails(seed003: Books) -> None:
    for name in [*EARLIER, "2026-10"]:
        seed003.close_period(name)
    with journal_unguarded(seed003) as conn:
        cut_journal_after(conn, "1900-01-01")
        conn.execute(text("DELETE FROM period_events"))
        conn.execute(text("UPDATE periods SET status = 'Open', fingerprint = NULL, seal = NULL"))
        assert conn.execute(text("SELECT count(*) FROM journal_entries")).scalar_one() == 0
    with raw(seed003) as conn:
        first, second = conn.execute(text("SELECT id FROM applications ORDER BY id")).scalars().all()
    report = seed003.check()
    found = failing(report)
    assert report.as_of == dt.date(2026, 10, 31)  # from the subledger: the journal has no last date
    assert found["journal-postings"] == [
        "INV00000001|None|posted invoice dated 2026-10-05 (430.00 USD) has no journal entry",
        "INV00000002|None|posted invoice dated 2026-10-05 (430.00 USD) has no journal entry",
        "P00000001|None|processed payment dated 2026-10-20 (150.00 USD) has no journal entry",
        f"P00000001|applications[{first}]|the application of 100.00 USD to INV00000002 on 2026-10-20 has no "
        "journal entry",
        f"P00000001|applications[{second}]|the application of 50.00 USD to INV00000002 on 2026-10-20 has no "
        "journal entry",
    ]
    assert found["control-accounts"] == [
        "Accounts Receivable|USD|at the end of 2026-10-31 the journal shows 0.00 USD but the documents and "
        "applications give 710.00 USD (debit minus credit)"
    ]


def test_a_stored_balance_changed_by_hand_fails(seed003: Books, line_level: Books) -> None:
    del line_level
    with raw(seed003) as conn:
        conn.execute(
            text("UPDATE document_items SET balance = balance - :d WHERE id = 'II-0002'"),
            {"d": money(conn, Decimal("1.00"))},
        )
        conn.execute(
            text("UPDATE payments SET unapplied = unapplied + :d WHERE number = 'P00000010'"),
            {"d": money(conn, Decimal("0.50"))},
        )
        conn.execute(
            text("UPDATE taxation_items SET balance = 0 WHERE document_number = 'CM00000001'"),
        )
    found = failing(seed003.check())
    assert sorted(found) == ["stored-balances"]
    problems = found["stored-balances"]
    assert (
        "INV00000001|items[II-0002]|stored balance 99.00 USD but its amount less its applications and "
        "adjustments give 100.00 USD" in problems
    )
    assert any(p.startswith("CM00000001|taxationItems[") and "stored balance 0.00 USD" in p for p in problems)
    assert problems[-1].startswith("P00000010|unapplied|stored unapplied amount ")
    assert "but its amount less its applications give" in problems[-1]


def test_a_period_reopened_by_a_bare_update_fails(seed003: Books) -> None:
    for name in [*EARLIER, "2026-10"]:
        seed003.close_period(name)
    assert seed003.check().passed
    with raw(seed003) as conn:
        conn.execute(text("UPDATE periods SET status = 'Open' WHERE name = '2026-10'"))
        conn.execute(text("UPDATE periods SET status = 'Closed' WHERE name = '2026-12'"))
    found = failing(seed003.check())
    assert found["period-events"] == [
        "2026-10|status|is Open but its last recorded transition made it Closed",
        "2026-12|status|is Closed but no transition of it is recorded",
    ]


@contextmanager
def foreign_keys_off(books: Books) -> Iterator[Connection]:
    """A transaction in which the database does not enforce foreign keys (as a hand that switched them off)."""
    with books.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            dbapi.execute("PRAGMA foreign_keys = OFF")
            try:
                with conn.begin():
                    yield conn
            finally:
                dbapi.execute("PRAGMA foreign_keys = ON")
        else:
            with conn.begin():
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                yield conn


def test_a_deleted_operation_record_fails(seed003: Books) -> None:
    seed003.write_off_invoice("INV00000002", {"memoDate": "2026-11-05"})
    with raw(seed003) as conn:
        op = int(conn.execute(text("SELECT max(id) FROM operations WHERE kind LIKE 'write-off%'")).scalar_one())
        entries = conn.execute(text("SELECT count(*) FROM journal_entries WHERE operation_id = :o"), {"o": op})
        count = int(entries.scalar_one())
    assert count > 0
    with foreign_keys_off(seed003) as conn:
        conn.execute(text("DELETE FROM operations WHERE id = :o"), {"o": op})
    found = failing(seed003.check())
    assert list(found) == ["operation-log"]
    assert found["operation-log"][0] == (
        f"operation {op}|journal_entries|journal entries ({count}) name operation {op}, which the operation log does "
        "not have"
    )
    assert (
        f"operation {op}|documents|documents (1) name operation {op}, which the operation log does not have"
        in (found["operation-log"])
    )


def test_a_deleted_period_is_reported_not_an_internal_error(seed003: Books, cli: Any, tmp_path: Path) -> None:
    """A period row deleted under entries posted in it (foreign keys off): every check runs and the closed-periods
    check names the entries; the Beancount check and export do not fail with an internal error (exit 4)."""
    with foreign_keys_off(seed003) as conn:
        conn.execute(text("DELETE FROM periods WHERE name = '2026-10'"))
    found = failing(seed003.check())
    assert list(found) == ["closed-periods"]
    assert (
        found["closed-periods"][0] == "A00000001-1|period|dated 2026-10-05 (no accounting period) but posted in 2026-10"
    )
    assert len(found["closed-periods"]) == 4
    url = db_url(seed003)
    checked = cli("check", db=url)
    assert checked.code == 1
    exported = cli("export", "beancount", "--out", str(tmp_path / "ledger"), db=url)
    assert (exported.code, exported.err.strip()) == (
        1,
        "error: 2026-10, period: journal entries are posted in period 2026-10, which the calendar does not have; "
        "the ledger would leave them out (see `subledger check`)",
    )
    assert not (tmp_path / "ledger").exists()


def test_a_processed_refund_moves_a_credit_memo_line_like_an_application(line_level: Books) -> None:
    """A refund pays out part of a credit memo line: the line's stored balance is its amount less its applications
    and processed refunds (a canceled refund gave its amount back)."""
    with raw(line_level) as conn:
        line = conn.execute(
            text("SELECT id FROM document_items WHERE document_number = 'CM00000001' ORDER BY line_no LIMIT 1")
        ).scalar_one()
        op = conn.execute(text("SELECT max(id) FROM operations")).scalar_one()
        for number, status in (("R-1", "Processed"), ("R-2", "Canceled")):
            conn.execute(
                text(
                    "INSERT INTO refunds (account_number, number, credit_memo_number, type, status, refund_date, "
                    "currency, amount, cash_code, operation_id) VALUES ('A00000002', :n, 'CM00000001', 'External', "
                    ":s, '2026-10-20', 'USD', :a, 'Cash', :o)"
                ),
                {"n": number, "s": status, "a": money(conn, Decimal("1.00")), "o": op},
            )
            conn.execute(
                text(
                    "INSERT INTO refund_items (account_number, id, refund_number, memo_item_id, is_tax, amount) "
                    "VALUES ('A00000002', :i, :n, :m, false, :a)"
                ),
                {"i": f"RI-{number}", "n": number, "m": line, "a": money(conn, Decimal("1.00"))},
            )
    assert "stored-balances" in failing(line_level.check())  # the line still shows what the refund paid out
    with raw(line_level) as conn:
        conn.execute(
            text("UPDATE document_items SET balance = balance - :d WHERE id = :i"),
            {"d": money(conn, Decimal("1.00")), "i": line},
        )
    assert "stored-balances" not in failing(line_level.check())


def test_a_balance_past_zero_at_a_period_end_fails_and_blocks_the_close(
    line_level: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Books written before operations were held to the day a balance last grew back (7a4b83c): CM00000001
    applied whole to INV00000010 on 10-20 and unapplied on 11-20, then applied to DM00000002 on 10-25 (the memo's
    unapplied amount -25.00 until 11-20), and INV00000010 written off on 10-28 (its open balance -43.50 until
    11-20). The journal and the subledger agree, so every other check passes; the October period end is wrong, and
    the close of October is refused naming both. November's end is right again."""
    books = line_level
    whole = {"invoices": [{"invoiceNumber": "INV00000010", "amount": "43.50"}]}
    books.apply_credit_memo("CM00000001", {"effectiveDate": "2026-10-20", **whole})
    books.unapply_credit_memo("CM00000001", {"effectiveDate": "2026-11-20", **whole})
    assert books.check().passed
    # The operations as they were: no look at the day the balance grew back.
    monkeypatch.setattr(apply_ops, "taken_back", lambda conn, documents: {})
    monkeypatch.setattr(writeoff_ops, "taken_back", lambda conn, documents: {})
    to_dm = {"debitMemos": [{"debitMemoNumber": "DM00000002", "amount": "25.00"}]}
    books.apply_credit_memo("CM00000001", {"effectiveDate": "2026-10-25", **to_dm})
    memo = books.write_off_invoice("INV00000010", {"memoDate": "2026-10-28"}).credit_memo
    assert memo is not None
    cm = (
        "CM00000001|items[CMI-0001]|unapplied amount at the end of 2026-10-31 past zero (items[CMI-0001] -25.00 USD): "
        "the application APP-5-1 to DM00000002 dated 2026-10-25 is before 2026-11-20, when the unapplication APP-4-1 "
        "from INV00000010 gave it back: date it on or after 2026-11-20 (take it back and make it again then)"
    )
    inv = (
        f"INV00000010|items[II-0101]|open balance at the end of 2026-10-31 past zero (items[II-0101] -40.00 USD; "
        f"taxationItems[TI-0102] -3.50 USD): the application APP-6-1 of credit memo {memo.number} dated 2026-10-28 "
        "is before 2026-11-20, when the unapplication APP-4-1 of CM00000001 gave it back (and 1 more): date it on "
        "or after 2026-11-20 (take it back and make it again then)"
    )
    assert failing(books.check()) == {"dated-balances": [cm, inv]}
    assert failing(books.check("2026-10")) == {"dated-balances": [cm, inv]}
    assert books.check("2026-11").passed
    for name in EARLIER:
        books.close_period(name)
    with pytest.raises(CloseChecksFailed) as refused:
        books.close_period("2026-10")
    title = "No balance past zero or beyond its amount at a period end"
    assert [str(p) for p in refused.value.problems] == [
        f"2026-10, dated-balances: {title}: CM00000001, items[CMI-0001]: {cm.split('|')[2]} (and 1 more), all "
        "listed by `subledger check --period 2026-10`"
    ]


def test_an_application_dated_before_its_target_fails(line_level: Books) -> None:
    """A payment applied on 10-25 to a debit memo whose date is (by hand) 11-05: the memo's open balance is past
    zero at the end of October (it held nothing before its date), the application named; the aging of that day does
    not tie."""
    books = line_level
    payment = {"number": "P00000020", "accountNumber": "A00000002", "effectiveDate": "2026-10-25", "currency": "USD",
               "amount": "10.00", "applications": [{"debitMemoNumber": "DM00000002", "amount": "10.00"}]}  # fmt: skip
    books.load({"payments": [payment]})
    with raw(books) as conn:
        conn.execute(text("UPDATE documents SET document_date = '2026-11-05' WHERE number = 'DM00000002'"))
    assert failing(books.check())["dated-balances"] == [
        "DM00000002|items[DMI-0003]|open balance at the end of 2026-10-31 before the debit memo's date 2026-11-05 "
        "(items[DMI-0003] -10.00 USD): the application APP-3-1 of payment P00000020 dated 2026-10-25 is before "
        "2026-11-05, the debit memo's date: date it on or after 2026-11-05 (take it back and make it again then)"
    ]
    with books.engine.connect() as conn:
        assert not all(t["ties"] for t in reports.aging(conn, dt.date(2026, 10, 31))["totals"])


def test_an_unapplication_dated_before_the_application_it_takes_back_fails(line_level: Books) -> None:
    """CM00000001 applied to INV00000010 on 11-02 and unapplied on 11-03, the unapplication then dated (by hand)
    10-28: at the end of October both the memo's unapplied amount and the invoice's open balance are beyond their
    amounts, the unapplication named."""
    books = line_level
    whole = {"invoices": [{"invoiceNumber": "INV00000010", "amount": "43.50"}]}
    books.apply_credit_memo("CM00000001", {"effectiveDate": "2026-11-02", **whole})
    books.unapply_credit_memo("CM00000001", {"effectiveDate": "2026-11-03", **whole})
    with raw(books) as conn:
        conn.execute(text("UPDATE applications SET effective_date = '2026-10-28' WHERE effective_date = '2026-11-03'"))
    again = "date it on or after 2026-11-02 (take it back and make it again then)"
    assert failing(books.check())["dated-balances"] == [
        "CM00000001|items[CMI-0001]|unapplied amount at the end of 2026-10-31 beyond its amount (items[CMI-0001] "
        "80.00 USD, amount 40.00 USD; taxationItems[CTI-0001] 7.00 USD, amount 3.50 USD): the unapplication APP-4-1 "
        "from INV00000010 dated 2026-10-28 is before 2026-11-02, the date of the application APP-3-1 to "
        f"INV00000010 it takes back (and 1 more): {again}",
        "INV00000010|taxationItems[TI-0102]|open balance at the end of 2026-10-31 beyond its amount "
        "(taxationItems[TI-0102] 21.00 USD, amount 17.50 USD): the unapplication APP-4-2 of CM00000001 dated "
        "2026-10-28 is before 2026-11-02, the date of the application APP-3-2 of credit memo CM00000001 it takes "
        f"back: {again}",
    ]


def test_a_payment_applied_before_its_unapply_fails(line_level: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    """P00000011 applied to DM00000002 on 10-20 and unapplied on 11-20, then (as before 7a4b83c) applied to
    INV00000010 on 10-25: its unapplied amount is -10.00 at the end of October."""
    books = line_level
    to_dm = [{"debitMemoNumber": "DM00000002", "amount": "10.00"}]
    payment = {"number": "P00000011", "accountNumber": "A00000002", "effectiveDate": "2026-10-20", "currency": "USD",
               "amount": "10.00", "applications": to_dm}  # fmt: skip
    books.load({"payments": [payment]})
    books.unapply_payment("P00000011", {"effectiveDate": "2026-11-20", "debitMemos": to_dm})
    monkeypatch.setattr(apply_ops, "taken_back", lambda conn, documents: {})
    to_inv = [{"invoiceNumber": "INV00000010", "amount": "10.00"}]
    books.apply_payment("P00000011", {"effectiveDate": "2026-10-25", "invoices": to_inv})
    assert failing(books.check()) == {
        "dated-balances": [
            "P00000011|unapplied|unapplied amount at the end of 2026-10-31 past zero (-10.00 USD): the application "
            "APP-5-1 to INV00000010 dated 2026-10-25 is before 2026-11-20, when the unapplication APP-4-1 from "
            "DM00000002 gave it back: date it on or after 2026-11-20 (take it back and make it again then)"
        ]
    }
