"""Applying and unapplying credit memos, applying payments: exact figures of the line-level example book (journal
lines, line balances, unapplied amounts), every refusal with the database unchanged, idempotent replays, the
reversed credit memo that can no longer be unapplied, and the ledger's balance assertions after an unapply (both
engines).

The book (``examples/line-level-books.json``, account A00000002): invoice INV00000010 owes 313.25 (II-0101 117.50,
TI-0101 0.00, II-0102 200.00, TI-0102 17.50, discount II-0103 -20.00 with tax TI-0103 -1.75); debit memo
DM00000001 nets to zero (DMI-0001 40.00 + DTI-0001 3.50, DMI-0002 -40.00 + DTI-0002 -3.50); DM00000002 owes 25.00
(DMI-0003, zero tax DTI-0003); credit memo CM00000001 of 2026-10-15 has 43.50 unapplied (CMI-0001 40.00, tax
CTI-0001 3.50).
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from sqlalchemy import select

from conftest import db_url, dump, set_period_status
from subledger import reports
from subledger.api import Books
from subledger.errors import (
    AlreadyReversed,
    AmountExceedsBalance,
    DocumentNotPosted,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    NotUnappliable,
    PeriodClosed,
    Problems,
    RuleViolation,
    SubledgerError,
    WrongSign,
)
from subledger.models.apply import ApplyResult
from subledger.models.writeoff import BulkWriteOffResult
from subledger.storage.schema import applications, payments

CM = "CM00000001"
DEFERRED = {"deferredRevenueAccountingCode": "Deferred Revenue"}
INV = "INV00000010"


def lines(books: Books, kind: str, number: str) -> dict[str, str]:
    """Open balance (invoices, debit memos) or unapplied amount (credit memos) of each line."""
    doc = books.show(kind, number)
    key = "unappliedAmount" if kind == "credit-memo" else "balance"
    out = {}
    for item in doc["items"]:
        out[item["id"]] = item[key]
        for tax in item.get("taxationItems", []):
            out[tax["id"]] = tax[key]
    out["total"] = doc[key]
    return out


def journal_lines(result: ApplyResult) -> list[tuple[str, str, str, str | None]]:
    return [
        (line.accounting_code, line.debit, line.credit, line.item_id)
        for entry in result.journal_entries
        for line in entry.lines
    ]


def refused(
    books: Books, error: type[SubledgerError], call: Any, *args: Any, match: str | None = None
) -> SubledgerError:
    """The call is refused with ``error`` and writes nothing."""
    before = dump(books.engine)
    with pytest.raises(error, match=match) as info:
        call(*args)
    assert dump(books.engine) == before
    return info.value


def apply_body(date: str, *, invoices: Any = (), debit_memos: Any = ()) -> dict[str, Any]:
    return {"effectiveDate": date, "invoices": list(invoices), "debitMemos": list(debit_memos)}


def bean_check(books: Books, out: Path) -> None:
    books.export_beancount(out)
    _, errors, _ = loader.load_file(str(out / "main.beancount"))
    assert errors == []


# --- applying credit memos ----------------------------------------------------------------------------------------


def test_apply_without_items_spreads_fifo_charge_to_charge_and_tax_to_tax(line_level: Books) -> None:
    result = line_level.apply_credit_memo(
        CM, apply_body("2026-11-02", invoices=[{"invoiceNumber": INV, "amount": "43.50"}])
    )
    assert (result.amount, result.unapplied_amount, result.currency) == ("43.50", "0.00", "USD")
    # II-0101 is the first open charge line, TI-0101 has nothing open, TI-0102 is the first open tax line.
    assert [(a.target_item_id, a.source_item_id, a.amount) for a in result.applications] == [
        ("II-0101", "CMI-0001", "40.00"),
        ("TI-0102", "CTI-0001", "3.50"),
    ]
    [entry] = result.journal_entries
    assert (entry.transaction_type, entry.tag, str(entry.date), entry.period) == (
        "Credit Memo Application Item",
        "application",
        "2026-11-02",
        "2026-11",
    )
    assert entry.documents == [CM, INV]
    assert journal_lines(result) == [
        ("Credit Memo On-Account", "40.00", "0.00", "II-0101"),
        ("Accounts Receivable", "0.00", "40.00", "II-0101"),
        ("Credit Memo On-Account", "3.50", "0.00", "TI-0102"),
        ("Accounts Receivable", "0.00", "3.50", "TI-0102"),
    ]
    assert lines(line_level, "invoice", INV) == {
        "II-0101": "77.50",
        "TI-0101": "0.00",
        "II-0102": "200.00",
        "TI-0102": "14.00",
        "II-0103": "-20.00",
        "TI-0103": "-1.75",
        "total": "269.75",
    }
    assert lines(line_level, "credit-memo", CM) == {"CMI-0001": "0.00", "CTI-0001": "0.00", "total": "0.00"}
    assert line_level.check().passed


def test_apply_item_by_item_to_an_invoice_and_a_debit_memo(line_level: Books) -> None:
    result = line_level.apply_credit_memo(
        CM,
        apply_body(
            "2026-10-15",
            invoices=[
                {
                    "invoiceNumber": INV,
                    "amount": "23.50",
                    "items": [
                        {"creditMemoItemId": "CMI-0001", "invoiceItemId": "II-0102", "amount": "20.00"},
                        {"creditTaxItemId": "CTI-0001", "taxationItemId": "TI-0102", "amount": "3.50"},
                    ],
                }
            ],
            # Without creditMemoItemId the part is settled from the memo's charge lines in line order.
            debit_memos=[
                {
                    "debitMemoNumber": "DM00000002",
                    "amount": "20.00",
                    "items": [{"debitMemoItemId": "DMI-0003", "amount": "20.00"}],
                }
            ],
        ),
    )
    assert result.unapplied_amount == "0.00"
    assert [(a.target_number, a.target_item_id, a.source_item_id, a.amount) for a in result.applications] == [
        (INV, "II-0102", "CMI-0001", "20.00"),
        (INV, "TI-0102", "CTI-0001", "3.50"),
        ("DM00000002", "DMI-0003", "CMI-0001", "20.00"),
    ]
    assert [(e.documents, e.period) for e in result.journal_entries] == [
        ([CM, INV], "2026-10"),
        ([CM, "DM00000002"], "2026-10"),
    ]
    assert lines(line_level, "invoice", INV)["II-0102"] == "180.00"
    assert lines(line_level, "invoice", INV)["total"] == "289.75"
    assert lines(line_level, "debit-memo", "DM00000002") == {"DMI-0003": "5.00", "DTI-0003": "0.00", "total": "5.00"}
    assert line_level.check().passed


def test_zero_amount_application_settles_positive_and_negative_lines(line_level: Books) -> None:
    """Part 2 §10 (S44): explicit +40 / -40 parts zero both lines of DM00000001; the memo line's net is zero."""
    result = line_level.apply_credit_memo(
        CM,
        apply_body(
            "2026-11-02",
            debit_memos=[
                {
                    "debitMemoNumber": "DM00000001",
                    "amount": "0.00",
                    "items": [
                        {"creditMemoItemId": "CMI-0001", "debitMemoItemId": "DMI-0001", "amount": "40.00"},
                        {"creditMemoItemId": "CMI-0001", "debitMemoItemId": "DMI-0002", "amount": "-40.00"},
                        {"creditTaxItemId": "CTI-0001", "taxationItemId": "DTI-0001", "amount": "3.50"},
                        {"creditTaxItemId": "CTI-0001", "taxationItemId": "DTI-0002", "amount": "-3.50"},
                    ],
                }
            ],
        ),
    )
    assert (result.amount, result.unapplied_amount) == ("0.00", "43.50")
    assert journal_lines(result) == [
        ("Credit Memo On-Account", "40.00", "0.00", "DMI-0001"),
        ("Accounts Receivable", "0.00", "40.00", "DMI-0001"),
        ("Accounts Receivable", "40.00", "0.00", "DMI-0002"),
        ("Credit Memo On-Account", "0.00", "40.00", "DMI-0002"),
        ("Credit Memo On-Account", "3.50", "0.00", "DTI-0001"),
        ("Accounts Receivable", "0.00", "3.50", "DTI-0001"),
        ("Accounts Receivable", "3.50", "0.00", "DTI-0002"),
        ("Credit Memo On-Account", "0.00", "3.50", "DTI-0002"),
    ]
    assert set(lines(line_level, "debit-memo", "DM00000001").values()) == {"0.00"}
    assert line_level.check().passed


def _one_invoice(amount: str, **item: str) -> dict[str, Any]:
    part: dict[str, Any] = {"invoiceNumber": INV, "amount": amount}
    if item:
        part["items"] = [{"amount": amount, **item}]
    return apply_body("2026-11-02", invoices=[part])


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        (_one_invoice("43.51"), AmountExceedsBalance, "exceeds the credit memo's unapplied amount 43.50"),
        (_one_invoice("1.00", taxationItemId="TI-0101"), WrongSign, "balance 0.00"),
        (_one_invoice("41.00", invoiceItemId="II-0101"), AmountExceedsBalance, "not enough unapplied charge"),
        (
            apply_body(
                "2026-11-02",
                debit_memos=[
                    {
                        "debitMemoNumber": "DM00000002",
                        "amount": "30.00",
                        "items": [{"creditMemoItemId": "CMI-0001", "debitMemoItemId": "DMI-0003", "amount": "30.00"}],
                    }
                ],
            ),
            AmountExceedsBalance,
            "amount 30.00 exceeds the open balance 25.00 of line DMI-0003",
        ),
        (_one_invoice("4.00", taxationItemId="TI-0102"), AmountExceedsBalance, "not enough unapplied tax amount"),
        (_one_invoice("-5.00", invoiceItemId="II-0103"), Problems, "must not be negative"),
        (_one_invoice("1.00", invoiceItemId="II-9999"), NotFound, "has no item II-9999"),
        (_one_invoice("1.00", debitMemoItemId="II-0101"), NotFound, "has no item II-0101"),
        (_one_invoice("1.00", invoiceItemId="II-0101", creditMemoItemId="CTI-0001"), NotFound, "no item CTI-0001"),
        (_one_invoice("1.005"), InvalidInput, "more decimals than USD"),
        (_one_invoice("0.00"), Problems, "nothing to apply"),
        (apply_body("2026-11-02"), Problems, "at least one invoice or debit memo"),
        (
            apply_body("2026-10-14", invoices=[{"invoiceNumber": INV, "amount": "1.00"}]),
            RuleViolation,
            "before the credit memo date",
        ),
        (
            apply_body("2028-01-01", invoices=[{"invoiceNumber": INV, "amount": "1.00"}]),
            NotFound,
            "no accounting period",
        ),
        (
            apply_body("2026-11-02", invoices=[{"invoiceNumber": "INV00000001", "amount": "1.00"}]),
            NotFound,
            "no invoice",
        ),
        (apply_body("2026-11-02", debit_memos=[{"debitMemoNumber": INV, "amount": "1.00"}]), NotFound, "no debit memo"),
        (
            apply_body(
                "2026-11-02",
                invoices=[{"invoiceNumber": INV, "amount": "1.00"}, {"invoiceNumber": INV, "amount": "1.00"}],
            ),
            Problems,
            "listed more than once",
        ),
        (
            apply_body(
                "2026-11-02",
                invoices=[
                    {"invoiceNumber": INV, "amount": "9.00", "items": [{"invoiceItemId": "II-0101", "amount": "8.00"}]}
                ],
            ),
            Problems,
            "not the sum of its items",
        ),
        (
            apply_body(
                "2026-11-02",
                debit_memos=[
                    {
                        "debitMemoNumber": "DM00000001",
                        "amount": "0.00",
                        "items": [
                            {"debitMemoItemId": "DMI-0001", "amount": "40.00"},
                            {"debitMemoItemId": "DMI-0002", "amount": "-40.00"},
                        ],
                    }
                ],
            ),
            RuleViolation,
            "needs the credit memo line it comes from",
        ),
        (
            {
                **_one_invoice("1.00", invoiceItemId="II-0101"),
                "invoices": [
                    {
                        "invoiceNumber": INV,
                        "amount": "1.00",
                        "items": [{"invoiceItemId": "II-0101", "creditTaxItemId": "CTI-0001", "amount": "1.00"}],
                    }
                ],
            },
            Problems,
            "creditTaxItemId settles a taxationItemId",
        ),
        ({**_one_invoice("1.00"), "amount": "1.00"}, Problems, "amount"),
    ],
)
def test_apply_refusals_write_nothing(
    line_level: Books, body: dict[str, Any], error: type[SubledgerError], match: str
) -> None:
    refused(line_level, error, line_level.apply_credit_memo, CM, body, match=match)


def test_apply_refuses_other_accounts_closed_periods_and_unknown_memos(line_level: Books, seed003: Books) -> None:
    # Both fixtures are the same book: A00000001 (seed 003) and A00000002 (line-level).
    other = apply_body("2026-11-02", invoices=[{"invoiceNumber": "INV00000001", "amount": "1.00"}])
    refused(line_level, RuleViolation, line_level.apply_credit_memo, CM, other, match="another customer account")
    refused(
        line_level, NotFound, line_level.apply_credit_memo, "CM09999999", _one_invoice("1.00"), match="no credit memo"
    )
    set_period_status(line_level, "2026-11", "Closed")
    error = refused(line_level, PeriodClosed, line_level.apply_credit_memo, CM, _one_invoice("1.00"))
    assert (error.document, error.field) == (CM, "effectiveDate")
    assert "first open period is 2026-12" in error.rule


def test_draft_credit_memo_and_draft_invoice_are_refused(line_level: Books) -> None:
    line_level.load(
        {
            "invoices": [
                {
                    "invoiceNumber": "INV00000011",
                    "accountNumber": "A00000002",
                    "invoiceDate": "2026-10-20",
                    "currency": "USD",
                    "status": "Draft",
                    "items": [{"id": "II-0111", "chargeAmount": "10.00", "financeInformation": DEFERRED}],
                }
            ],
            "creditMemos": [
                {
                    "number": "CM00000002",
                    "accountNumber": "A00000002",
                    "creditMemoDate": "2026-10-20",
                    "currency": "USD",
                    "status": "Draft",
                    "items": [{"id": "CMI-0002", "amountWithoutTax": "10.00", "financeInformation": DEFERRED}],
                }
            ],
        }
    )
    refused(line_level, DocumentNotPosted, line_level.apply_credit_memo, "CM00000002", _one_invoice("1.00"))
    draft = apply_body("2026-11-02", invoices=[{"invoiceNumber": "INV00000011", "amount": "1.00"}])
    refused(line_level, DocumentNotPosted, line_level.apply_credit_memo, CM, draft, match="Draft, not posted")


def test_applied_credit_memo_cannot_be_reversed_until_unapplied(line_level: Books) -> None:
    body = _one_invoice("43.50")
    line_level.apply_credit_memo(CM, body)
    reverse = {"memoDate": "2026-11-16", "applyEffectiveDate": "2026-11-16"}
    refused(line_level, RuleViolation, line_level.reverse_credit_memo, CM, reverse, match="applied or refunded")
    line_level.unapply_credit_memo(CM, {**body, "effectiveDate": "2026-11-03"})
    result = line_level.reverse_credit_memo(CM, reverse)
    assert result.debit_memo is not None
    assert line_level.check().passed


# --- unapplying credit memos --------------------------------------------------------------------------------------


def _applied(books: Books) -> None:
    items = [{"invoiceItemId": "II-0101", "amount": "30.00"}, {"taxationItemId": "TI-0102", "amount": "3.50"}]
    books.apply_credit_memo(
        CM,
        apply_body(
            "2026-10-20",
            invoices=[{"invoiceNumber": INV, "amount": "33.50", "items": items}],
            debit_memos=[{"debitMemoNumber": "DM00000002", "amount": "10.00"}],
        ),
    )
    # INV00000010: II-0101 30.00 from CMI-0001, TI-0102 3.50 from CTI-0001; DM00000002: DMI-0003 10.00.


def test_unapply_without_items_takes_back_the_oldest_applications_first(line_level: Books, tmp_path: Path) -> None:
    _applied(line_level)
    result = line_level.unapply_credit_memo(
        CM, apply_body("2026-11-05", invoices=[{"invoiceNumber": INV, "amount": "31.00"}])
    )
    assert (result.amount, result.unapplied_amount) == ("31.00", "31.00")
    assert [(a.target_item_id, a.source_item_id, a.amount, str(a.effective_date)) for a in result.applications] == [
        ("II-0101", "CMI-0001", "-30.00", "2026-11-05"),
        ("TI-0102", "CTI-0001", "-1.00", "2026-11-05"),
    ]
    [entry] = result.journal_entries
    assert (entry.transaction_type, str(entry.date), entry.period, entry.description) == (
        "Credit Memo Application Item",
        "2026-11-05",
        "2026-11",
        f"Credit memo {CM} unapplied from invoice {INV}",
    )
    # The mirror of the application: receivable debited back, on-account credited back.
    assert journal_lines(result) == [
        ("Accounts Receivable", "30.00", "0.00", "II-0101"),
        ("Credit Memo On-Account", "0.00", "30.00", "II-0101"),
        ("Accounts Receivable", "1.00", "0.00", "TI-0102"),
        ("Credit Memo On-Account", "0.00", "1.00", "TI-0102"),
    ]
    assert lines(line_level, "credit-memo", CM) == {"CMI-0001": "30.00", "CTI-0001": "1.00", "total": "31.00"}
    invoice = lines(line_level, "invoice", INV)
    assert (invoice["II-0101"], invoice["TI-0102"], invoice["total"]) == ("117.50", "15.00", "310.75")
    # The application entry of October stays as it was; the unapplication is a new entry.
    assert [e.period for e in line_level.journal(document=CM) if e.tag == "application"] == [
        "2026-10",
        "2026-10",
        "2026-11",
    ]
    # Control balances from documents and applications (negative rows included) match the journal, and the
    # exported ledger's balance assertions hold at the end of October and of November.
    assert line_level.check().passed
    bean_check(line_level, tmp_path / "ledger")


def test_unapply_item_by_item_and_then_everything(line_level: Books) -> None:
    _applied(line_level)
    result = line_level.unapply_credit_memo(
        CM,
        apply_body(
            "2026-11-05",
            debit_memos=[
                {
                    "debitMemoNumber": "DM00000002",
                    "amount": "4.00",
                    "items": [{"creditMemoItemId": "CMI-0001", "debitMemoItemId": "DMI-0003", "amount": "4.00"}],
                }
            ],
        ),
    )
    assert [(a.target_item_id, a.amount) for a in result.applications] == [("DMI-0003", "-4.00")]
    assert lines(line_level, "debit-memo", "DM00000002")["DMI-0003"] == "19.00"
    line_level.unapply_credit_memo(
        CM,
        apply_body(
            "2026-11-06",
            invoices=[{"invoiceNumber": INV, "amount": "33.50"}],
            debit_memos=[{"debitMemoNumber": "DM00000002", "amount": "6.00"}],
        ),
    )
    assert lines(line_level, "credit-memo", CM)["total"] == "43.50"
    assert lines(line_level, "invoice", INV)["total"] == "313.25"
    assert lines(line_level, "debit-memo", "DM00000002")["total"] == "25.00"
    with line_level.engine.connect() as conn:
        amounts = conn.execute(select(applications.c.amount).where(applications.c.source_number == CM)).scalars()
        assert sum(amounts, Decimal(0)) == 0
    assert line_level.check().passed


def test_unapply_of_a_negative_application_needs_its_sign(line_level: Books) -> None:
    test_zero_amount_application_settles_positive_and_negative_lines(line_level)
    part = {"creditMemoItemId": "CMI-0001", "debitMemoItemId": "DMI-0002"}
    body = apply_body(
        "2026-11-03",
        debit_memos=[
            {
                "debitMemoNumber": "DM00000001",
                "amount": "0.00",
                "items": [
                    {**part, "amount": "-40.00"},
                    {"creditMemoItemId": "CMI-0001", "debitMemoItemId": "DMI-0001", "amount": "40.00"},
                ],
            }
        ],
    )
    result = line_level.unapply_credit_memo(CM, body)
    assert [(a.target_item_id, a.amount) for a in result.applications] == [
        ("DMI-0002", "40.00"),
        ("DMI-0001", "-40.00"),
    ]
    assert lines(line_level, "debit-memo", "DM00000001")["DMI-0002"] == "-40.00"
    assert line_level.check().passed


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        (
            apply_body("2026-11-05", invoices=[{"invoiceNumber": INV, "amount": "33.51"}]),
            AmountExceedsBalance,
            r"\(33.50 can be unapplied\)",
        ),
        (
            apply_body(
                "2026-11-05",
                invoices=[
                    {
                        "invoiceNumber": INV,
                        "amount": "31.00",
                        "items": [{"invoiceItemId": "II-0101", "amount": "31.00"}],
                    }
                ],
            ),
            AmountExceedsBalance,
            "line II-0101",
        ),
        (
            apply_body(
                "2026-11-05",
                invoices=[
                    {"invoiceNumber": INV, "amount": "1.00", "items": [{"invoiceItemId": "II-0102", "amount": "1.00"}]}
                ],
            ),
            AmountExceedsBalance,
            r"\(0.00 can be unapplied\)",
        ),
        (
            apply_body(
                "2026-11-05",
                invoices=[
                    {
                        "invoiceNumber": INV,
                        "amount": "1.00",
                        "items": [{"invoiceItemId": "II-0101", "creditMemoItemId": "CMI-9", "amount": "1.00"}],
                    }
                ],
            ),
            NotFound,
            "credit memo has no item CMI-9",
        ),
        (
            apply_body("2026-11-05", debit_memos=[{"debitMemoNumber": "DM00000001", "amount": "1.00"}]),
            RuleViolation,
            "not applied to debit memo DM00000001",
        ),
        (
            apply_body("2026-10-19", invoices=[{"invoiceNumber": INV, "amount": "1.00"}]),
            RuleViolation,
            "before the application it undoes",
        ),
        (
            apply_body("2026-10-14", invoices=[{"invoiceNumber": INV, "amount": "1.00"}]),
            RuleViolation,
            "before the credit memo date",
        ),
    ],
)
def test_unapply_refusals_write_nothing(
    line_level: Books, body: dict[str, Any], error: type[SubledgerError], match: str
) -> None:
    _applied(line_level)
    refused(line_level, error, line_level.unapply_credit_memo, CM, body, match=match)


def test_unapply_in_a_closed_period_is_refused(line_level: Books) -> None:
    _applied(line_level)
    set_period_status(line_level, "2026-11", "Closed")
    body = apply_body("2026-11-05", invoices=[{"invoiceNumber": INV, "amount": "1.00"}])
    refused(line_level, PeriodClosed, line_level.unapply_credit_memo, CM, body, match="2026-11, which is Closed")


def test_reversed_credit_memo_can_no_longer_be_unapplied(line_level: Books) -> None:
    result = line_level.reverse_credit_memo(CM, {"memoDate": "2026-11-16", "applyEffectiveDate": "2026-11-16"})
    assert result.debit_memo is not None
    generated = result.debit_memo.number
    for body in (
        apply_body("2026-11-20", debit_memos=[{"debitMemoNumber": generated, "amount": "43.50"}]),
        apply_body("2026-11-20", invoices=[{"invoiceNumber": INV, "amount": "1.00"}]),
    ):
        error = refused(line_level, AlreadyReversed, line_level.unapply_credit_memo, CM, body)
        assert (error.document, error.field) == (CM, "reversed")
        assert "a reversed credit memo can no longer be unapplied" in error.rule
    refused(line_level, AlreadyReversed, line_level.apply_credit_memo, CM, body, match="can no longer be applied")


def test_applications_of_a_reversal_memo_cannot_be_unapplied(seed003: Books) -> None:
    result = seed003.reverse_invoice("INV00000001", {"memoDate": "2026-11-16", "applyEffectiveDate": "2026-11-16"})
    assert result.credit_memo is not None
    memo = result.credit_memo.number
    body = apply_body("2026-11-20", invoices=[{"invoiceNumber": "INV00000001", "amount": "430.00"}])
    error = refused(seed003, NotUnappliable, seed003.unapply_credit_memo, memo, body)
    assert error.rule == (
        "credit memo was generated by the reversal of INV00000001 and must stay applied to it; it cannot be unapplied"
    )


def test_a_reversed_invoice_takes_no_application(line_level: Books) -> None:
    line_level.load(
        {
            "invoices": [
                {
                    "invoiceNumber": "INV00000012",
                    "accountNumber": "A00000002",
                    "invoiceDate": "2026-10-20",
                    "currency": "USD",
                    "items": [
                        {
                            "id": "II-0121",
                            "subscriptionNumber": "S00000099",
                            "chargeAmount": "10.00",
                            "financeInformation": DEFERRED,
                        }
                    ],
                }
            ]
        }
    )
    line_level.reverse_invoice("INV00000012", {"memoDate": "2026-11-16"})
    body = apply_body("2026-11-20", invoices=[{"invoiceNumber": "INV00000012", "amount": "1.00"}])
    error = refused(line_level, AlreadyReversed, line_level.apply_credit_memo, CM, body)
    assert (error.document, error.field, error.rule) == (CM, "invoices[0]", "invoice INV00000012 is reversed")


@pytest.mark.skipif(not hasattr(Books, "write_off_credit_memo"), reason="write-offs not in this checkout")
def test_applications_of_write_offs_cannot_be_unapplied(line_level: Books) -> None:
    written = line_level.write_off_invoice(INV, {"memoDate": "2026-11-16"})
    assert written.credit_memo is not None
    memo = written.credit_memo.number
    body = apply_body("2026-11-20", invoices=[{"invoiceNumber": INV, "amount": "1.00"}])
    refused(line_level, NotUnappliable, line_level.unapply_credit_memo, memo, body, match="write-off of INV00000010")
    # A credit memo written off is applied to the debit memo the write-off generated: that must stay too.
    memo_written = line_level.write_off_credit_memo(CM, {"memoDate": "2026-11-16"})
    assert memo_written.debit_memo is not None
    debit_memo = memo_written.debit_memo.number
    body = apply_body("2026-11-20", debit_memos=[{"debitMemoNumber": debit_memo, "amount": "43.50"}])
    error = refused(line_level, NotUnappliable, line_level.unapply_credit_memo, CM, body)
    assert error.rule.startswith(f"debit memo {debit_memo} was generated by the write-off of this credit memo")


# --- idempotency ------------------------------------------------------------------------------------------------


def test_idempotent_replay_posts_nothing_twice(line_level: Books) -> None:
    body = _one_invoice("10.00")
    first = line_level.apply_credit_memo(CM, body, idempotency_key="apply-1")
    before = dump(line_level.engine)
    again = line_level.apply_credit_memo(CM, body, idempotency_key="apply-1")
    assert again == first
    assert dump(line_level.engine) == before
    other = _one_invoice("11.00")
    refused(line_level, IdempotencyConflict, lambda: line_level.apply_credit_memo(CM, other, idempotency_key="apply-1"))
    unapply = {**body, "effectiveDate": "2026-11-03"}
    undone = line_level.unapply_credit_memo(CM, unapply, idempotency_key="unapply-1")
    before = dump(line_level.engine)
    assert line_level.unapply_credit_memo(CM, unapply, idempotency_key="unapply-1") == undone
    assert dump(line_level.engine) == before
    assert lines(line_level, "credit-memo", CM)["total"] == "43.50"


# --- payments -----------------------------------------------------------------------------------------------------


def _payment(books: Books, status: str = "Processed", amount: str = "200.00") -> None:
    books.load(
        {
            "payments": [
                {
                    "number": "P00000011",
                    "accountNumber": "A00000002",
                    "type": "Electronic",
                    "status": status,
                    "effectiveDate": "2026-10-26",
                    "currency": "USD",
                    "amount": amount,
                }
            ]
        }
    )


def _unapplied(books: Books) -> Decimal:
    with books.engine.connect() as conn:
        return Decimal(conn.execute(select(payments.c.unapplied).where(payments.c.number == "P00000011")).scalar_one())


def test_apply_payment_fifo_and_item_by_item(line_level: Books) -> None:
    _payment(line_level)
    result = line_level.apply_payment(
        "P00000011",
        apply_body(
            "2026-10-28",
            invoices=[{"invoiceNumber": INV, "amount": "150.00"}],
            debit_memos=[
                {
                    "debitMemoNumber": "DM00000002",
                    "amount": "25.00",
                    "items": [{"debitMemoItemId": "DMI-0003", "amount": "25.00"}],
                }
            ],
        ),
    )
    assert (result.source_kind, result.amount, result.unapplied_amount) == ("Payment", "175.00", "25.00")
    assert _unapplied(line_level) == Decimal("25.00")
    assert [(a.target_item_id, a.source_item_id, a.amount) for a in result.applications] == [
        ("II-0101", None, "117.50"),
        ("II-0102", None, "32.50"),
        ("DMI-0003", None, "25.00"),
    ]
    assert [(e.transaction_type, e.documents, str(e.date)) for e in result.journal_entries] == [
        ("Electronic Payment Application Item", ["P00000011", INV], "2026-10-28"),
        ("Electronic Payment Application Item", ["P00000011", "DM00000002"], "2026-10-28"),
    ]
    assert journal_lines(result) == [
        ("Unapplied Payments", "117.50", "0.00", "II-0101"),
        ("Accounts Receivable", "0.00", "117.50", "II-0101"),
        ("Unapplied Payments", "32.50", "0.00", "II-0102"),
        ("Accounts Receivable", "0.00", "32.50", "II-0102"),
        ("Unapplied Payments", "25.00", "0.00", "DMI-0003"),
        ("Accounts Receivable", "0.00", "25.00", "DMI-0003"),
    ]
    invoice = lines(line_level, "invoice", INV)
    assert (invoice["II-0101"], invoice["II-0102"], invoice["total"]) == ("0.00", "167.50", "163.25")
    assert lines(line_level, "debit-memo", "DM00000002")["total"] == "0.00"
    assert line_level.check().passed


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        (_one_invoice("200.01"), AmountExceedsBalance, "exceeds the payment's unapplied amount 200.00"),
        (
            apply_body("2026-10-25", invoices=[{"invoiceNumber": INV, "amount": "1.00"}]),
            RuleViolation,
            "before the payment date",
        ),
        (_one_invoice("18.00", taxationItemId="TI-0102"), AmountExceedsBalance, "exceeds the open balance 17.50"),
        (_one_invoice("-20.00", invoiceItemId="II-0103"), Problems, "must not be negative"),
        (
            apply_body("2026-11-02", invoices=[{"invoiceNumber": INV, "amount": "-20.00", "items": []}]),
            Problems,
            "must not be negative",
        ),
        (
            apply_body(
                "2026-11-02",
                invoices=[
                    {
                        "invoiceNumber": INV,
                        "amount": "1.00",
                        "items": [{"invoiceItemId": "II-0101", "creditMemoItemId": "CMI-0001", "amount": "1.00"}],
                    }
                ],
            ),
            Problems,
            "creditMemoItemId",
        ),
        (
            apply_body("2026-11-02", debit_memos=[{"debitMemoNumber": "DM00000002", "amount": "26.00"}]),
            AmountExceedsBalance,
            "open balance 25.00",
        ),
    ],
)
def test_payment_refusals_write_nothing(
    line_level: Books, body: dict[str, Any], error: type[SubledgerError], match: str
) -> None:
    _payment(line_level)
    refused(line_level, error, line_level.apply_payment, "P00000011", body, match=match)
    assert _unapplied(line_level) == Decimal("200.00")


def test_fully_applied_draft_and_unknown_payments_are_refused(line_level: Books) -> None:
    refused(
        line_level,
        AmountExceedsBalance,
        line_level.apply_payment,
        "P00000010",
        _one_invoice("1.00"),
        match="unapplied amount 0.00",
    )
    refused(line_level, NotFound, line_level.apply_payment, "P09999999", _one_invoice("1.00"), match="no payment")
    _payment(line_level, status="Draft")
    refused(line_level, DocumentNotPosted, line_level.apply_payment, "P00000011", _one_invoice("1.00"), match="Draft")


def test_payment_replay(line_level: Books) -> None:
    _payment(line_level)
    first = line_level.apply_payment("P00000011", _one_invoice("50.00"), idempotency_key="pay-1")
    before = dump(line_level.engine)
    assert line_level.apply_payment("P00000011", _one_invoice("50.00"), idempotency_key="pay-1") == first
    assert dump(line_level.engine) == before
    assert _unapplied(line_level) == Decimal("150.00")


# --- command line -------------------------------------------------------------------------------------------------


def test_cli_apply_unapply_and_payment_apply(line_level: Books, cli: Any, tmp_path: Path) -> None:
    url = db_url(line_level)
    _payment(line_level)
    body = tmp_path / "apply.json"
    body.write_text(
        '{"effectiveDate": "2026-11-02", "invoices": [{"invoiceNumber": "INV00000010", "amount": "43.50"}]}'
    )
    out = cli("credit-memo", "apply", CM, "--body", str(body), "--json", "--idempotency-key", "k1", db=url)
    assert out.code == 0, out.err
    assert out.json()["unappliedAmount"] == "0.00"
    assert out.json()["journalEntries"][0]["transactionType"] == "Credit Memo Application Item"
    again = cli("credit-memo", "apply", CM, "--body", str(body), "--json", "--idempotency-key", "k1", db=url)
    assert (out.json()["replayed"], again.json()["replayed"]) == (False, True)
    assert again.json() == out.json() | {"replayed": True}
    text = cli("credit-memo", "unapply", CM, "--body", str(body), db=url)
    assert text.code == 0, text.err
    assert "Credit memo CM00000001: 43.50 USD unapplied on 2026-11-02" in text.out
    pay = cli("payment", "apply", "P00000011", "--body", str(body), "--json", "--actor", "admin", db=url)
    assert pay.code == 0, pay.err
    assert (pay.json()["sourceKind"], pay.json()["unappliedAmount"]) == ("Payment", "156.50")


def test_cli_refusal_is_one_line_and_writes_nothing(line_level: Books, cli: Any, tmp_path: Path) -> None:
    url = db_url(line_level)
    body = tmp_path / "apply.json"
    body.write_text(
        '{"effectiveDate": "2026-11-02", "invoices": [{"invoiceNumber": "INV00000010", "amount": "50.00"}]}'
    )
    before = dump(line_level.engine)
    out = cli("credit-memo", "apply", CM, "--body", str(body), db=url)
    assert out.code == 1
    assert out.err.strip() == "error: CM00000001: amount 50.00 exceeds the credit memo's unapplied amount 43.50"
    out = cli("credit-memo", "unapply", CM, "--body", str(body), db=url)
    assert (out.code, out.err.strip()) == (
        1,
        "error: CM00000001, invoices[0]: credit memo is not applied to invoice INV00000010",
    )
    assert dump(line_level.engine) == before


def test_a_line_listed_twice_in_one_application_is_refused(line_level: Books, cli: Any, tmp_path: Path) -> None:
    """As a write-off refuses an item given twice: applying both would settle the line twice over (it was
    accepted, two application rows of one line)."""
    url = db_url(line_level)
    _payment(line_level)
    twice = {"invoiceItemId": "II-0101", "amount": "1.00"}
    from_memo_twice = {**twice, "creditMemoItemId": "CMI-0001"}
    memo = apply_body("2026-11-02", invoices=[{"invoiceNumber": INV, "amount": "2.00", "items": [from_memo_twice] * 2}])
    payment = apply_body(
        "2026-11-02", invoices=[{"invoiceNumber": INV, "amount": "3.00", "items": [twice, {**twice, "amount": "2.00"}]}]
    )
    body = tmp_path / "twice.json"
    before = dump(line_level.engine)
    for command, number, request, says in (
        ("credit-memo", CM, memo, "item II-0101 from CMI-0001 is listed more than once in items"),
        ("payment", "P00000011", payment, "item II-0101 is listed more than once in items"),
    ):
        for verb in ("apply", "unapply"):
            body.write_text(json.dumps(request))
            out = cli(command, verb, number, "--body", str(body), db=url)
            assert (out.code, out.out, out.err) == (1, "", f"error: {number}, invoices[0]: {says}\n")
    assert dump(line_level.engine) == before
    refused(line_level, Problems, line_level.apply_payment, "P00000011", payment, match="listed more than once")
    # Settled from two memo lines, each named, it is two parts (the model lets it through to the operation).
    from subledger.models.apply import CreditMemoApplyRequest

    two_memo_lines = [from_memo_twice, {**from_memo_twice, "creditMemoItemId": "CMI-0002"}]
    CreditMemoApplyRequest.model_validate(
        apply_body("2026-11-02", invoices=[{"invoiceNumber": INV, "amount": "2.00", "items": two_memo_lines}])
    )
    # Listed again without its memo line, it may be paired with the same one: a repeat too.
    unnamed = apply_body(
        "2026-11-02", invoices=[{"invoiceNumber": INV, "amount": "2.00", "items": [from_memo_twice, twice]}]
    )
    refused(
        line_level,
        Problems,
        line_level.apply_credit_memo,
        CM,
        unnamed,
        match=r"^CM00000001, invoices\[0\]: item II-0101 is listed more than once in items: name the credit memo line",
    )


def test_schemas_of_the_apply_bodies(cli: Any) -> None:
    for name in ("apply-credit-memo", "unapply-credit-memo", "apply-payment"):
        out = cli("schema", name)
        assert out.code == 0
        assert {"effectiveDate", "invoices", "debitMemos"} <= set(out.json()["properties"])


# --- concurrency (PostgreSQL) -------------------------------------------------------------------------------------


def test_concurrent_applies_and_unapplies_never_over_apply(line_level: Books) -> None:
    """Twelve threads apply 10.00 of CM00000001 (43.50) at once, twelve apply 20.00 of a 50.00 payment, and
    unapplies run among them: the locks let exactly what fits through, and the books stay consistent."""
    if line_level.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are serialized by SQLite's BEGIN IMMEDIATE; the row locks are PostgreSQL's")
    _payment(line_level, amount="50.00")
    memo_body = apply_body("2026-11-02", invoices=[{"invoiceNumber": INV, "amount": "10.00"}])
    pay_body = apply_body("2026-11-02", invoices=[{"invoiceNumber": INV, "amount": "20.00"}])
    undo_body = apply_body("2026-11-03", invoices=[{"invoiceNumber": INV, "amount": "10.00"}])
    calls = [lambda: line_level.apply_credit_memo(CM, memo_body) for _ in range(12)]
    calls += [lambda: line_level.apply_payment("P00000011", pay_body) for _ in range(12)]
    calls += [lambda: line_level.unapply_credit_memo(CM, undo_body) for _ in range(4)]

    def attempt(call: Any) -> str:
        try:
            call()
        except SubledgerError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, calls))
    assert set(outcomes) <= {"ok", "amount-exceeds-balance", "rule-violation"}
    applied = outcomes[:12].count("ok")
    undone = outcomes[24:].count("ok")
    assert outcomes[12:24].count("ok") == 2
    assert _unapplied(line_level) == Decimal("10.00")
    memo_left = Decimal("43.50") - 10 * applied + 10 * undone
    assert Decimal(0) <= memo_left < Decimal("10.00") + 10 * undone
    assert Decimal(lines(line_level, "credit-memo", CM)["total"]) == memo_left
    owed = Decimal("313.25") - Decimal("40.00") - (Decimal("43.50") - memo_left)
    assert Decimal(lines(line_level, "invoice", INV)["total"]) == owed
    assert line_level.check().passed


def test_an_application_dated_before_its_target_is_refused_in_a_request_and_in_a_load(
    line_level: Books, tmp_path: Path
) -> None:
    """Cash or credit applied to an invoice before the invoice's date settled what was not yet billed: the receivable
    was negative until the invoice's date, the aging between the two dates did not tie to it, and a period could
    close on it (a payment of October applied to a November invoice closed October at -20.00 of receivable). The
    apply request and the load file both took it; both now refuse it, naming the target, and write nothing."""
    item = {"id": "II-0111", "chargeAmount": "40.00", "financeInformation": DEFERRED}
    later = {"invoiceNumber": "INV00000011", "accountNumber": "A00000002", "invoiceDate": "2026-11-20",
             "currency": "USD", "items": [item]}  # fmt: skip
    payment = {"number": "P00000011", "accountNumber": "A00000002", "effectiveDate": "2026-10-20", "currency": "USD",
               "amount": "20.00"}  # fmt: skip
    line_level.load({"invoices": [later], "payments": [payment]})
    early = apply_body("2026-11-19", invoices=[{"invoiceNumber": "INV00000011", "amount": "20.00"}])
    for call, number in ((line_level.apply_credit_memo, CM), (line_level.apply_payment, "P00000011")):
        error = refused(line_level, RuleViolation, call, number, early)
        assert (error.document, error.field) == (number, "effectiveDate")
        assert error.rule == "effectiveDate 2026-11-19 is before the date of invoice INV00000011, 2026-11-20"
    in_the_file = {
        **payment,
        "number": "P00000012",
        "applications": [{"invoiceNumber": "INV00000011", "amount": "20.00"}],
    }
    error = refused(line_level, SubledgerError, line_level.load, {"payments": [in_the_file]})
    assert str(error) == (
        "P00000012, applications[0].effectiveDate: application effective date 2026-10-20 is before the date of "
        "invoice INV00000011, 2026-11-20"
    )
    # On the invoice's date itself it applies, and the aging ties on every day.
    line_level.apply_payment(
        "P00000011", apply_body("2026-11-20", invoices=[{"invoiceNumber": "INV00000011", "amount": "20.00"}])
    )
    on_the_day = {"invoiceNumber": "INV00000011", "amount": "20.00", "effectiveDate": "2026-11-20"}
    line_level.load({"payments": [{**in_the_file, "applications": [on_the_day]}]})
    with line_level.engine.connect() as conn:
        for day in ("2026-10-20", "2026-11-19", "2026-11-20", "2026-11-30"):
            assert all(t["ties"] for t in reports.aging(conn, dt.date.fromisoformat(day))["totals"]), day
    assert line_level.check().passed
    bean_check(line_level, tmp_path)


def test_nothing_takes_a_balance_on_a_day_before_it_grew_back(line_level: Books, tmp_path: Path) -> None:
    """Operations check balances as they are now but post on their own dates. CM00000001 applied whole to
    INV00000010 on 2026-10-20 and unapplied on 2026-11-20 then took an application to DM00000002 dated 2026-10-25
    (the memo held nothing that day: its unapplied amount was -25.00 until 11-20), and INV00000010 took a write-off
    dated 2026-11-16 of the 43.50 only given back on 11-20 (the invoice at -43.50 for four days, the aging so);
    a reversal, a credit memo write-off and a bulk write-off the same. Each is now refused, naming the date and
    the document, writing nothing; on the day the balance grew back each is taken."""
    whole = {"invoices": [{"invoiceNumber": INV, "amount": "43.50"}]}
    line_level.apply_credit_memo(CM, {"effectiveDate": "2026-10-20", **whole})
    line_level.unapply_credit_memo(CM, {"effectiveDate": "2026-11-20", **whole})
    rule = "{field} {day} is before 2026-11-20, when an application of {label} {number} was taken back or a refund of it cancelled: it did not hold that balance before"  # noqa: E501
    to_dm = {"debitMemos": [{"debitMemoNumber": "DM00000002", "amount": "25.00"}]}
    cases: list[tuple[Any, tuple[Any, ...], str, str, str, str]] = [
        (line_level.apply_credit_memo, (CM, {"effectiveDate": "2026-10-25", **to_dm}), "effectiveDate", "2026-10-25", "credit memo", CM),  # noqa: E501
        (line_level.write_off_invoice, (INV, {"memoDate": "2026-11-16"}), "memoDate", "2026-11-16", "invoice", INV),
        (line_level.write_off_credit_memo, (CM, {"memoDate": "2026-11-16"}), "memoDate", "2026-11-16", "credit memo", CM),  # noqa: E501
        (line_level.reverse_credit_memo, (CM, {"memoDate": "2026-11-16", "applyEffectiveDate": "2026-11-19"}), "applyEffectiveDate", "2026-11-19", "credit memo", CM),  # noqa: E501
    ]  # fmt: skip
    for call, args, field, day, label, number in cases:
        error = refused(line_level, RuleViolation, call, *args)
        assert (error.document, error.field) == (number, field)
        assert error.rule == rule.format(field=field, day=day, label=label, number=number)
    before = dump(line_level.engine)
    bulk = line_level.write_off_bulk({"documents": [INV], "settings": {"memoDate": "2026-11-16"}})
    assert isinstance(bulk, BulkWriteOffResult)
    assert [f.rule for f in bulk.failed] == [
        rule.format(field="memoDate", day="2026-11-16", label="invoice", number=INV)
    ]
    after = dump(line_level.engine)
    assert {t: after[t] for t in ("documents", "applications", "journal_entries")} == {
        t: before[t] for t in ("documents", "applications", "journal_entries")
    }
    # The payment side: P00000011 applied and unapplied cannot be applied again before the unapply.
    payment = {"number": "P00000011", "accountNumber": "A00000002", "effectiveDate": "2026-10-20", "currency": "USD",
               "amount": "10.00", "applications": [{"debitMemoNumber": "DM00000002", "amount": "10.00"}]}  # fmt: skip
    line_level.load({"payments": [payment]})
    line_level.unapply_payment(
        "P00000011",
        {"effectiveDate": "2026-11-20", "debitMemos": [{"debitMemoNumber": "DM00000002", "amount": "10.00"}]},
    )
    error = refused(
        line_level,
        RuleViolation,
        line_level.apply_payment,
        "P00000011",
        apply_body("2026-11-02", invoices=[{"invoiceNumber": INV, "amount": "10.00"}]),
    )
    assert error.rule == rule.format(field="effectiveDate", day="2026-11-02", label="payment", number="P00000011")
    # A load file's payment applied to the invoice before the unapply, the same.
    early = {"number": "P00000012", "accountNumber": "A00000002", "effectiveDate": "2026-10-22", "currency": "USD",
             "amount": "5.00", "applications": [{"invoiceNumber": INV, "amount": "5.00"}]}  # fmt: skip
    error = refused(line_level, SubledgerError, line_level.load, {"payments": [early]})
    field = "applications[0].effectiveDate"
    assert str(error) == f"P00000012, {field}: " + rule.format(
        field=field, day="2026-10-22", label="invoice", number=INV
    )
    # On the day itself: taken.
    line_level.apply_credit_memo(CM, {"effectiveDate": "2026-11-20", **to_dm})
    line_level.apply_payment(
        "P00000011", apply_body("2026-11-20", invoices=[{"invoiceNumber": INV, "amount": "10.00"}])
    )
    line_level.write_off_invoice(INV, {"memoDate": "2026-11-20"})
    with line_level.engine.connect() as conn:
        for day in ("2026-10-25", "2026-11-16", "2026-11-20", "2026-11-30"):
            assert all(t["ties"] for t in reports.aging(conn, dt.date.fromisoformat(day))["totals"]), day
    assert line_level.check().passed
    bean_check(line_level, tmp_path)
