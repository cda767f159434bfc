"""Write-offs of invoices, debit memos and credit memos: the seeds' exact figures, journal lines, every refusal.

Every test runs on SQLite and PostgreSQL; every refusal leaves the database exactly as it was (``dump``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from conftest import db_url, dump, example, set_period_status
from subledger.api import Books
from subledger.errors import (
    AlreadyReversed,
    AmountExceedsBalance,
    DocumentNotPosted,
    InvalidInput,
    NotFound,
    NothingToWriteOff,
    PeriodClosed,
    PermissionDenied,
    Problems,
    RuleViolation,
    SubledgerError,
    UnknownAccountingCode,
    UnknownReasonCode,
    WrongSign,
)
from subledger.models.writeoff import BulkWriteOffResult
from subledger.settings import BookSettings

HEADER = {"memoDate": "2026-11-16", "reasonCode": "Write-off", "comment": "Uncollectible"}


def lines(books: Books, document: str, ttype: str) -> list[tuple[str, str, str, str | None]]:
    return [
        (ln.accounting_code, ln.debit, ln.credit, ln.item_id)
        for e in books.journal(document=document)
        if e.transaction_type == ttype
        for ln in e.lines
    ]


def memo_items(books: Books, kind: str, number: str) -> list[tuple[Any, ...]]:
    memo = books.show(kind, number)
    state = "unappliedAmount" if kind == "credit-memo" else "balance"
    return [
        (i["processingType"], i.get("quantity"), i.get("unitPrice"), i["amountWithoutTax"], i[state])
        for i in memo["items"]
    ]


def balances(books: Books, kind: str, number: str) -> dict[str, str]:
    doc = books.show(kind, number)
    out = {}
    for item in doc["items"]:
        out[item["id"]] = item["balance"]
        for tax in item.get("taxationItems", []):
            out[tax["id"]] = tax["balance"]
    return out


# --- seed 003: quantity and unit price copied -------------------------------------------------------------------


def test_seed_003_case_1_full_write_off_of_the_unpaid_430_invoice(seed003: Books) -> None:
    result = seed003.write_off_invoice("INV00000001", example("write-off-header.json"))
    assert result.credit_memo is not None
    number = result.credit_memo.number
    assert number == "WO-INV00000001-1"
    assert result.amount == "430.00"
    assert memo_items(seed003, "credit-memo", number) == [
        ("Charge", "10", "33", "330.00", "0.00"),
        ("Charge", "1", "100", "100.00", "0.00"),
    ]
    memo = seed003.show("credit-memo", number)
    assert (memo["source"], memo["reasonCode"], memo["revenueImpacting"]) == ("WriteOff", "Write-off", "Yes")
    assert memo["comment"] == "Full write-off of the open balance"
    assert memo["sourceDocumentNumber"] == "INV00000001"
    assert (memo["creditMemoDate"], memo["amount"], memo["unappliedAmount"]) == ("2026-11-16", "430.00", "0.00")
    assert [i["sourceItemId"] for i in memo["items"]] == ["II-0001", "II-0002"]
    assert seed003.show("invoice", "INV00000001")["balance"] == "0.00"
    # Revenue-impacting: the memo debits each item's deferred revenue code; the application clears receivable.
    assert lines(seed003, number, "Credit Memo Item (Charge)") == [
        ("Deferred Revenue", "330.00", "0.00", f"{number}-1"),
        ("Credit Memo On-Account", "0.00", "330.00", f"{number}-1"),
        ("Deferred Revenue", "100.00", "0.00", f"{number}-2"),
        ("Credit Memo On-Account", "0.00", "100.00", f"{number}-2"),
    ]
    assert lines(seed003, number, "Credit Memo Application Item") == [
        ("Credit Memo On-Account", "330.00", "0.00", "II-0001"),
        ("Accounts Receivable", "0.00", "330.00", "II-0001"),
        ("Credit Memo On-Account", "100.00", "0.00", "II-0002"),
        ("Accounts Receivable", "0.00", "100.00", "II-0002"),
    ]
    entries = seed003.journal(document=number)
    assert {(e.date.isoformat(), e.period, e.tag) for e in entries} == {("2026-11-16", "2026-11", "write-off")}


def test_seed_003_case_2_partially_paid_invoice_writes_off_only_the_open_balance(seed003: Books) -> None:
    result = seed003.write_off_invoice("INV00000002", example("write-off-header.json"))
    assert result.credit_memo is not None
    assert result.amount == "280.00"
    # Quantity and unit price copied, so quantity x unit price is not the amount (seed 003, case 2).
    assert memo_items(seed003, "credit-memo", result.credit_memo.number) == [
        ("Charge", "10", "33", "230.00", "0.00"),
        ("Charge", "1", "100", "50.00", "0.00"),
    ]
    assert balances(seed003, "invoice", "INV00000002") == {"II-0003": "0.00", "II-0004": "0.00"}


# --- line level: partial amounts, tax, discounts ------------------------------------------------------------------


def test_line_level_non_revenue_write_off_of_the_example(line_level: Books) -> None:
    result = line_level.write_off_invoice("INV00000010", example("write-off-line-level.json"))
    assert result.credit_memo is not None
    number = result.credit_memo.number
    assert result.amount == "163.12"
    memo = line_level.show("credit-memo", number)
    assert memo["revenueImpacting"] == "No"
    assert memo["nonRevenueWriteOffAccountingCode"] == "Bad Debt Expense"
    (item,) = memo["items"]
    assert (item["quantity"], item["unitPrice"], item["amountWithoutTax"], item["unappliedAmount"]) == (
        "4",
        "50",
        "150.00",
        "0.00",
    )
    (tax,) = item["taxationItems"]
    copied = ("name", "jurisdiction", "locationCode", "taxCode", "taxMode", "taxRate", "taxRateType", "taxDate")
    assert {k: tax[k] for k in copied} == {
        "name": "CA State Tax",
        "jurisdiction": "CALIFORNIA",
        "locationCode": "06",
        "taxCode": "SERVICES",
        "taxMode": "TaxExclusive",
        "taxRate": "0.0875",
        "taxRateType": "Percentage",
        "taxDate": "2026-10-10",
    }
    assert (tax["taxAmount"], tax["exemptAmount"], tax["sourceTaxItemId"]) == ("13.12", "0.00", "TI-0102")
    # Only the lines given moved, each by exactly its amount.
    assert balances(line_level, "invoice", "INV00000010") == {
        "II-0101": "117.50",
        "TI-0101": "0.00",
        "II-0102": "50.00",
        "TI-0102": "4.38",
        "II-0103": "-20.00",
        "TI-0103": "-1.75",
    }
    # Non-revenue: the chosen expense code, the tax line's sales-tax-payable code (tax relief on bad debt).
    assert lines(line_level, number, "Credit Memo Item (Charge)") == [
        ("Bad Debt Expense", "150.00", "0.00", f"{number}-1"),
        ("Credit Memo On-Account", "0.00", "150.00", f"{number}-1"),
    ]
    assert lines(line_level, number, "Credit Memo Item (Tax)") == [
        ("Sales Tax Payable", "13.12", "0.00", f"{number}-1-T1"),
        ("Credit Memo On-Account", "0.00", "13.12", f"{number}-1-T1"),
    ]
    assert lines(line_level, number, "Credit Memo Application Item") == [
        ("Credit Memo On-Account", "150.00", "0.00", "II-0102"),
        ("Accounts Receivable", "0.00", "150.00", "II-0102"),
        ("Credit Memo On-Account", "13.12", "0.00", "TI-0102"),
        ("Accounts Receivable", "0.00", "13.12", "TI-0102"),
    ]


def test_non_revenue_tax_can_go_to_the_write_off_code(engine: Any) -> None:
    books = Books(engine=engine)
    books.init(settings=BookSettings(non_revenue_tax_to_write_off_code=True))
    books.load(example("line-level-books.json"))
    result = books.write_off_invoice("INV00000010", example("write-off-line-level.json"))
    assert result.credit_memo is not None
    number = result.credit_memo.number
    assert lines(books, number, "Credit Memo Item (Tax)") == [
        ("Bad Debt Expense", "13.12", "0.00", f"{number}-1-T1"),
        ("Credit Memo On-Account", "0.00", "13.12", f"{number}-1-T1"),
    ]


PARTIAL_WITH_DISCOUNT = {
    **HEADER,
    "items": [
        {"invoiceItemId": "II-0101", "amountWithoutTax": "60.00"},
        {
            "invoiceItemId": "II-0103",
            "amountWithoutTax": "-20.00",
            "taxationItems": [{"taxationItemId": "TI-0103", "amount": "-1.75"}],
        },
    ],
    "amount": "38.25",
}


def test_line_level_partial_write_off_with_a_discount_and_its_tax(line_level: Books) -> None:
    result = line_level.write_off_invoice("INV00000010", PARTIAL_WITH_DISCOUNT)
    assert result.credit_memo is not None
    number = result.credit_memo.number
    memo = line_level.show("credit-memo", number)
    assert [(i["processingType"], i["amountWithoutTax"], i["unappliedAmount"]) for i in memo["items"]] == [
        ("Charge", "60.00", "0.00"),
        ("Discount", "-20.00", "0.00"),
    ]
    assert memo["items"][1]["taxationItems"][0]["taxAmount"] == "-1.75"
    assert balances(line_level, "invoice", "INV00000010") == {
        "II-0101": "57.50",
        "TI-0101": "0.00",
        "II-0102": "200.00",
        "TI-0102": "17.50",
        "II-0103": "0.00",
        "TI-0103": "0.00",
    }
    # The negative discount line flips debit and credit, in the memo posting and in its application.
    assert lines(line_level, number, "Credit Memo Item (Charge)")[2:] == [
        ("Credit Memo On-Account", "20.00", "0.00", f"{number}-2"),
        ("Deferred Revenue", "0.00", "20.00", f"{number}-2"),
    ]
    assert lines(line_level, number, "Credit Memo Application Item")[2:] == [
        ("Accounts Receivable", "20.00", "0.00", "II-0103"),
        ("Credit Memo On-Account", "0.00", "20.00", "II-0103"),
        ("Accounts Receivable", "1.75", "0.00", "TI-0103"),
        ("Credit Memo On-Account", "0.00", "1.75", "TI-0103"),
    ]


def test_line_level_discount_folds_into_its_item_under_rule_no(engine: Any) -> None:
    books = Books(engine=engine)
    books.init(settings=BookSettings(mirroring_rule="No"))
    books.load(example("line-level-books.json"))
    result = books.write_off_invoice("INV00000010", PARTIAL_WITH_DISCOUNT)
    assert result.credit_memo is not None
    number = result.credit_memo.number
    memo = books.show("credit-memo", number)
    assert [(i["processingType"], i["amountWithoutTax"], i["unappliedAmount"]) for i in memo["items"]] == [
        ("Charge", "40.00", "0.00"),
        ("Charge", "0.00", "0.00"),
    ]
    assert [t["taxAmount"] for t in memo["items"][1]["taxationItems"]] == ["-1.75"]
    # The 40.00 line settles the item by 60.00 and its discount by -20.00; both land where the rule Yes put them.
    assert balances(books, "invoice", "INV00000010")["II-0101"] == "57.50"
    assert balances(books, "invoice", "INV00000010")["II-0103"] == "0.00"
    assert lines(books, number, "Credit Memo Application Item")[:4] == [
        ("Credit Memo On-Account", "60.00", "0.00", "II-0101"),
        ("Accounts Receivable", "0.00", "60.00", "II-0101"),
        ("Accounts Receivable", "20.00", "0.00", "II-0103"),
        ("Credit Memo On-Account", "0.00", "20.00", "II-0103"),
    ]


def test_write_off_of_a_document_in_a_closed_period_dates_the_memo_in_an_open_one(seed003: Books) -> None:
    set_period_status(seed003, "2026-10", "Closed")
    result = seed003.write_off_invoice("INV00000001", HEADER)
    assert result.period == "2026-11"
    assert seed003.show("invoice", "INV00000001")["balance"] == "0.00"


def test_repeated_write_offs_number_their_memos(line_level: Books) -> None:
    first = {**HEADER, "items": [{"invoiceItemId": "II-0102", "amountWithoutTax": "50.00"}]}
    assert line_level.write_off_invoice("INV00000010", first).credit_memo.number == "WO-INV00000010-1"  # type: ignore[union-attr]
    assert line_level.write_off_invoice("INV00000010", HEADER).credit_memo.number == "WO-INV00000010-2"  # type: ignore[union-attr]
    assert set(balances(line_level, "invoice", "INV00000010").values()) == {"0.00"}


def test_idempotent_replay_posts_nothing_twice(seed003: Books) -> None:
    first = seed003.write_off_invoice("INV00000001", HEADER, idempotency_key="wo-1")
    before = dump(seed003.engine)
    again = seed003.write_off_invoice("INV00000001", HEADER, idempotency_key="wo-1")
    assert again == first
    assert dump(seed003.engine) == before


# --- debit memos and credit memos -----------------------------------------------------------------------------------


def test_debit_memo_write_off_mirrors_zero_tax_lines_under_yes(line_level: Books) -> None:
    result = line_level.write_off_debit_memo("DM00000002", HEADER)
    assert result.credit_memo is not None
    number = result.credit_memo.number
    assert memo_items(line_level, "credit-memo", number) == [("Charge", "5", "5", "25.00", "0.00")]
    assert line_level.show("credit-memo", number)["items"][0]["taxationItems"][0]["taxAmount"] == "0.00"
    assert balances(line_level, "debit-memo", "DM00000002") == {"DMI-0003": "0.00", "DTI-0003": "0.00"}
    assert lines(line_level, number, "Credit Memo Application Item") == [
        ("Credit Memo On-Account", "25.00", "0.00", "DMI-0003"),
        ("Accounts Receivable", "0.00", "25.00", "DMI-0003"),
    ]


def test_zero_balance_debit_memo_with_non_zero_lines_is_written_off_to_zero(line_level: Books) -> None:
    result = line_level.write_off_debit_memo("DM00000001", HEADER)
    assert result.credit_memo is not None
    assert result.amount == "0.00"
    assert memo_items(line_level, "credit-memo", result.credit_memo.number) == [
        ("Charge", "1", "40", "40.00", "0.00"),
        ("Charge", "1", "-40", "-40.00", "0.00"),
    ]
    assert set(balances(line_level, "debit-memo", "DM00000001").values()) == {"0.00"}


def test_credit_memo_write_off_creates_a_debit_memo_and_applies_the_credit_memo_to_it(line_level: Books) -> None:
    result = line_level.write_off_credit_memo("CM00000001", {"memoDate": "2026-11-16"})
    assert result.debit_memo is not None
    number = result.debit_memo.number
    assert number == "WO-CM00000001-1"
    assert result.amount == "43.50"
    assert memo_items(line_level, "debit-memo", number) == [("Charge", "1", "40", "40.00", "0.00")]
    debit_memo = line_level.show("debit-memo", number)
    assert (debit_memo["reasonCode"], debit_memo["source"], debit_memo["balance"]) == ("Write-off", "WriteOff", "0.00")
    credit_memo = line_level.show("credit-memo", "CM00000001")
    assert (credit_memo["appliedAmount"], credit_memo["unappliedAmount"]) == ("43.50", "0.00")
    # The debit memo credits what the credit memo debited; the application takes the credit off account.
    assert lines(line_level, number, "Debit Memo Item (Charge)") == [
        ("Accounts Receivable", "40.00", "0.00", f"{number}-1"),
        ("Deferred Revenue", "0.00", "40.00", f"{number}-1"),
    ]
    assert lines(line_level, number, "Debit Memo Item (Tax)") == [
        ("Accounts Receivable", "3.50", "0.00", f"{number}-1-T1"),
        ("Sales Tax Payable", "0.00", "3.50", f"{number}-1-T1"),
    ]
    assert lines(line_level, number, "Credit Memo Application Item") == [
        ("Credit Memo On-Account", "40.00", "0.00", f"{number}-1"),
        ("Accounts Receivable", "0.00", "40.00", f"{number}-1"),
        ("Credit Memo On-Account", "3.50", "0.00", f"{number}-1-T1"),
        ("Accounts Receivable", "0.00", "3.50", f"{number}-1-T1"),
    ]


# --- refusals: each writes nothing ------------------------------------------------------------------------------------


def refused(books: Books, call: Any, error: type[SubledgerError], match: str) -> SubledgerError:
    before = dump(books.engine)
    with pytest.raises(error, match=match) as info:
        call()
    assert dump(books.engine) == before
    return info.value


def items(*entries: dict[str, Any], **header: Any) -> dict[str, Any]:
    return {**HEADER, **header, "items": list(entries)}


@pytest.mark.parametrize(
    ("request_body", "error", "match", "field"),
    [
        ({**HEADER, "memoDate": "2026-10-01"}, RuleViolation, "before the invoice date 2026-10-10", "memoDate"),
        (items({"invoiceItemId": "II-0102", "amountWithoutTax": "200.01"}), AmountExceedsBalance, "exceeds", None),
        (items({"invoiceItemId": "II-0102", "amountWithoutTax": "-1.00"}), WrongSign, "sign", None),
        (items({"invoiceItemId": "II-0101", "amountWithoutTax": "117.50",
                "taxationItems": [{"taxationItemId": "TI-0101", "amount": "0.01"}]}), WrongSign, "sign", None),
        (items({"invoiceItemId": "II-9999", "amountWithoutTax": "1.00"}), NotFound, "no such item", None),
        (items({"invoiceItemId": "DMI-0001", "amountWithoutTax": "1.00"}), NotFound, "belongs to DM00000001", None),
        (items({"invoiceItemId": "II-0102", "amountWithoutTax": "1.00",
                "taxationItems": [{"taxationItemId": "TI-9999", "amount": "1.00"}]}), NotFound, "no such tax", None),
        (items({"invoiceItemId": "II-0102", "amountWithoutTax": "1.00",
                "taxationItems": [{"taxationItemId": "TI-0101", "amount": "1.00"}]}),
         NotFound, "belongs to INV00000010 \\(item II-0101\\)", None),
        (items({"invoiceItemId": "II-0102", "amountWithoutTax": "1.00"},
               {"invoiceItemId": "II-0102", "amountWithoutTax": "1.00"}), RuleViolation, "listed twice", None),
        (items({"debitMemoItemId": "II-0102", "amountWithoutTax": "1.00"}), InvalidInput, "invoiceItemId", None),
        (items({"invoiceItemId": "II-0102", "amountWithoutTax": "1.005"}), InvalidInput, "decimals", None),
        (items({"invoiceItemId": "II-0102", "amountWithoutTax": "10.00"}, amount="11.00"),
         RuleViolation, "not the sum of the items written off, 10.00", "amount"),
        ({**HEADER, "amount": "1.00"}, RuleViolation, "not the open balance written off", "amount"),
        ({**HEADER, "reasonCode": "No such reason"}, UnknownReasonCode, "unknown credit memo reason code", None),
        ({**HEADER, "revenueImpacting": "No"}, RuleViolation, "needs nonRevenueWriteOffAccountingCode", None),
        ({**HEADER, "revenueImpacting": "No", "nonRevenueWriteOffAccountingCode": "Sales Revenue"},
         RuleViolation, "type SalesRevenue, expected BadDebt or OtherExpenses", None),
        ({**HEADER, "revenueImpacting": "No", "nonRevenueWriteOffAccountingCode": "Nope"},
         UnknownAccountingCode, "unknown accounting code", None),
        ({**HEADER, "nonRevenueWriteOffAccountingCode": "Bad Debt Expense"}, RuleViolation, "only with", None),
        (items({"invoiceItemId": "II-0101", "amountWithoutTax": "0.00"}), NothingToWriteOff, "nothing left", None),
    ],
)  # fmt: skip
def test_refusals_write_nothing(
    line_level: Books, request_body: dict[str, Any], error: type[SubledgerError], match: str, field: str | None
) -> None:
    exc = refused(line_level, lambda: line_level.write_off_invoice("INV00000010", request_body), error, match)
    assert exc.document == "INV00000010"
    if field is not None:
        assert exc.field == field


def test_refused_memo_date_in_a_closed_period_names_the_first_open_one(seed003: Books) -> None:
    with seed003.engine.begin() as conn:
        conn.execute(text("UPDATE periods SET status = 'Closed' WHERE start_date <= :d"), {"d": dt.date(2026, 11, 1)})
    call = lambda: seed003.write_off_invoice("INV00000001", HEADER)  # noqa: E731
    exc = refused(seed003, call, PeriodClosed, "first open period is 2026-12")
    assert exc.field == "memoDate"


def test_refused_unknown_document_and_wrong_kind(line_level: Books) -> None:
    refused(line_level, lambda: line_level.write_off_invoice("INV-NOPE", HEADER), NotFound, "no invoice INV-NOPE")
    refused(line_level, lambda: line_level.write_off_invoice("DM00000001", HEADER), NotFound, "no invoice DM00000001")


def test_refused_not_posted(books: Books) -> None:
    books.load(
        {
            "accounts": [{"accountNumber": "A9", "name": "Draft Co", "currency": "USD"}],
            "invoices": [
                {
                    "invoiceNumber": "INV-DRAFT",
                    "accountNumber": "A9",
                    "invoiceDate": "2026-10-10",
                    "currency": "USD",
                    "status": "Draft",
                    "items": [{"id": "II-D1", "chargeAmount": "10.00", "financeInformation": {
                        "deferredRevenueAccountingCode": "Deferred Revenue"}}],
                }
            ],
        }
    )  # fmt: skip
    refused(books, lambda: books.write_off_invoice("INV-DRAFT", HEADER), DocumentNotPosted, "only a posted invoice")


def test_refused_reversed_document(seed003: Books) -> None:
    with seed003.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET reversed = :t WHERE number = 'INV00000001'"), {"t": True})
    refused(seed003, lambda: seed003.write_off_invoice("INV00000001", HEADER), AlreadyReversed, "was reversed")


def test_refused_nothing_left_to_write_off(seed003: Books) -> None:
    seed003.write_off_invoice("INV00000001", HEADER)
    refused(seed003, lambda: seed003.write_off_invoice("INV00000001", HEADER), NothingToWriteOff, "nothing left")


def test_refused_credit_memo_from_a_non_revenue_write_off(line_level: Books) -> None:
    result = line_level.write_off_invoice("INV00000010", example("write-off-line-level.json"))
    assert result.credit_memo is not None
    number = result.credit_memo.number
    call = lambda: line_level.write_off_credit_memo(number, {"memoDate": "2026-11-16"})  # noqa: E731
    refused(line_level, call, RuleViolation, "comes from a non-revenue write-off")


def test_refused_credit_memo_not_fully_unapplied(books: Books) -> None:
    books.load(example("demo-books.json"))
    call = lambda: books.write_off_credit_memo("CM00000020", {"memoDate": "2026-11-16"})  # noqa: E731
    refused(books, call, RuleViolation, "has 20.00 applied")


def test_refused_credit_memo_write_off_without_the_debit_memo_reason_code(line_level: Books) -> None:
    with line_level.engine.begin() as conn:
        conn.execute(text("DELETE FROM reason_codes WHERE document_type = 'DebitMemo' AND name = 'Write-off'"))
    call = lambda: line_level.write_off_credit_memo("CM00000001", {"memoDate": "2026-11-16"})  # noqa: E731
    refused(line_level, call, UnknownReasonCode, "unknown debit memo reason code 'Write-off'")


def test_refused_bad_request_body(line_level: Books) -> None:
    call = lambda: line_level.write_off_invoice("INV00000010", {**HEADER, "comment": "x" * 256})  # noqa: E731
    refused(line_level, call, Problems, "at most 255")
    call = lambda: line_level.write_off_invoice("INV00000010", {**HEADER, "items": [{"amountWithoutTax": "1"}]})  # noqa: E731
    refused(line_level, call, Problems, "exactly one of invoiceItemId and debitMemoItemId")


@pytest.fixture
def clerk(line_level: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Books:
    """An actor with every permission but Enhanced Write-off."""
    actors = tmp_path / "actors.toml"
    actors.write_text('[actors.clerk]\npermissions = ["Reverse Invoice", "Reverse Credit Memo"]\n')
    line_level.import_actors(actors)
    return line_level.as_actor("clerk")


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        (items({"invoiceItemId": "II-0102", "amountWithoutTax": "1.00"}), "items"),
        ({**HEADER, "amount": "1.00"}, "amount"),
        ({**HEADER, "revenueImpacting": "No", "nonRevenueWriteOffAccountingCode": "Bad Debt Expense"},
         "revenueImpacting"),
        ({**HEADER, "nonRevenueWriteOffAccountingCode": "Bad Debt Expense"}, "nonRevenueWriteOffAccountingCode"),
    ],
)  # fmt: skip
def test_enhanced_write_off_permission_is_needed(clerk: Books, request_body: dict[str, Any], field: str) -> None:
    call = lambda: clerk.write_off_invoice("INV00000010", request_body)  # noqa: E731
    exc = refused(clerk, call, PermissionDenied, "needs the Enhanced Write-off permission")
    assert exc.field == field


def test_any_debit_memo_write_off_needs_enhanced_write_off(clerk: Books) -> None:
    call = lambda: clerk.write_off_debit_memo("DM00000002", HEADER)  # noqa: E731
    refused(clerk, call, PermissionDenied, "writing off a debit memo needs the Enhanced Write-off")


def test_header_level_revenue_impacting_write_off_needs_no_special_permission(clerk: Books) -> None:
    assert clerk.write_off_invoice("INV00000010", HEADER).amount == "313.25"
    assert clerk.write_off_credit_memo("CM00000001", HEADER).amount == "43.50"


# --- the command line -------------------------------------------------------------------------------------------------


def test_cli_line_level_write_off_with_flags(line_level: Books, cli: Any) -> None:
    out = cli(
        "invoice", "write-off", "INV00000010", "--memo-date", "2026-11-16", "--non-revenue", "Bad Debt Expense",
        "--item", "II-0102=150.00", "--tax-item", "TI-0102=13.12", "--json", db=db_url(line_level),
    )  # fmt: skip
    assert out.code == 0, out.err
    result = out.json()
    assert (result["creditMemo"]["number"], result["amount"]) == ("WO-INV00000010-1", "163.12")
    assert [e["transactionType"] for e in result["journalEntries"]] == [
        "Credit Memo Item (Charge)",
        "Credit Memo Item (Tax)",
        "Credit Memo Application Item",
    ]
    assert balances(line_level, "invoice", "INV00000010")["TI-0102"] == "4.38"


def test_cli_tax_item_alone_is_filed_under_its_item(line_level: Books, cli: Any) -> None:
    out = cli(
        "invoice", "write-off", "INV00000010", "--memo-date", "2026-11-16", "--tax-item", "TI-0103=-1.75",
        db=db_url(line_level),
    )  # fmt: skip
    assert out.code == 0, out.err
    assert "WO-INV00000010-1" in out.out
    assert balances(line_level, "invoice", "INV00000010")["TI-0103"] == "0.00"
    assert balances(line_level, "invoice", "INV00000010")["II-0103"] == "-20.00"


def test_cli_body_file_and_other_documents(line_level: Books, cli: Any) -> None:
    url = db_url(line_level)
    out = cli("debit-memo", "write-off", "DM00000002", "--body", str(example("write-off-header.json")), db=url)
    assert out.code == 0, out.err
    out = cli("credit-memo", "write-off", "CM00000001", "--memo-date", "2026-11-16", "--json", db=url)
    assert out.code == 0, out.err
    assert out.json()["debitMemo"]["number"] == "WO-CM00000001-1"


def test_cli_refusal_is_one_line_and_writes_nothing(line_level: Books, cli: Any) -> None:
    before = dump(line_level.engine)
    out = cli(
        "invoice", "write-off", "INV00000010", "--memo-date", "2026-11-16", "--item", "II-0102=500",
        db=db_url(line_level),
    )  # fmt: skip
    assert out.code == 1
    assert out.err.strip().splitlines() == [
        "error: INV00000010, items[0].amountWithoutTax: amount 500 exceeds the open balance 200.00 of line II-0102"
    ]
    assert dump(line_level.engine) == before
    out = cli("invoice", "write-off", "INV00000010", "--item", "II-0102", db=db_url(line_level))
    assert out.code == 2  # usage
    assert "--item takes ID=AMOUNT" in out.err


def test_cli_item_given_twice_is_refused_not_overwritten(line_level: Books, cli: Any) -> None:
    """``--item II-0102=5 --item II-0102=6`` wrote off 6.00 (the last one won, the first was dropped without a
    word); the same item listed twice in a body is refused, and so it is on the command line."""
    before = dump(line_level.engine)
    out = cli(
        "invoice", "write-off", "INV00000010", "--memo-date", "2026-11-16", "--item", "II-0102=5.00",
        "--item", "II-0102=6.00", db=db_url(line_level),
    )  # fmt: skip
    assert (out.code, out.err.splitlines()) == (
        1,
        ["error: INV00000010, items[1].invoiceItemId: item II-0102 is listed twice"],
    )
    assert dump(line_level.engine) == before


def test_cli_bad_tax_item_refusals_are_audited_like_the_others(line_level: Books, cli: Any) -> None:
    """A --tax-item the command line files under its item was refused before the operation, so the audit of
    refusals missed it (an unknown --item, refused by the operation, was there); every one is there now."""
    url = db_url(line_level)
    before = dump(line_level.engine)
    flags = ("--memo-date", "2026-11-16", "--idempotency-key", "wo-1")
    cases = [
        (("INV00000010", "--item", "II-0102=1.00", "--tax-item", "TI-9999=1.00"), "taxation item TI-9999 is not a"),
        (("INV00000010", "--tax-item", "DTI-0001=1.00"), "taxation item DTI-0001 is not a"),
        (("INV00000010", "--tax-item", "TI-0102=100.00"), "exceeds the open balance 17.50 of line TI-0102"),
        (("INV00000010", "--item", "II-9999=1.00"), "item II-9999 is not an item of invoice INV00000010"),
        (("INV00000099", "--tax-item", "TI-0102=1.00"), "no invoice INV00000099"),
    ]
    lines = []
    for args, says in cases:
        out = cli("invoice", "write-off", *args, *flags, db=url)
        assert (out.code, out.out) == (1, ""), out.err
        assert says in out.err
        lines.append(out.err.removeprefix("error: ").rstrip("\n"))
    assert lines[0] == "INV00000010, --tax-item: taxation item TI-9999 is not a taxation item of invoice INV00000010"
    assert dump(line_level.engine) == before
    with line_level.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_refusals ORDER BY id")).mappings().all()
    assert [(r["kind"], r["actor"], r["idempotency_key"], r["rule"]) for r in rows] == [
        ("write-off-invoice", "admin", "wo-1", line) for line in lines
    ]
    assert json.loads(rows[0]["request"]) == {
        "args": [
            "INV00000010",
            {"memoDate": "2026-11-16", "--item": ["II-0102=1.00"], "--tax-item": ["TI-9999=1.00"]},
        ]
    }


def test_cli_item_amount_that_is_not_a_number_names_the_document(line_level: Books, cli: Any) -> None:
    """A bad amount in an item was named by its place alone (``items[0], amountWithoutTax``, and ``"document":
    "items[0]"`` in JSON), as if the item were a document of a load file."""
    out = cli(
        "invoice", "write-off", "INV00000010", "--memo-date", "2026-11-16", "--item", "II-0102=1,000.00", "--json",
        db=db_url(line_level),
    )  # fmt: skip
    assert out.code == 1
    assert out.json()["reasons"] == [
        {
            "code": "invalid-input",
            "message": "INV00000010, items[0].amountWithoutTax: '1,000.00' is not a decimal number",
            "document": "INV00000010",
            "field": "items[0].amountWithoutTax",
            "rule": "'1,000.00' is not a decimal number",
        }
    ]


def test_cli_recover_help_says_an_invoice(cli: Any) -> None:
    out = cli("invoice", "recover", "--help")
    assert out.code == 0
    assert "Recover an invoice's write-off" in out.out  # was "Recover a invoice's write-off"


def test_cli_schema_of_the_write_off_bodies(cli: Any) -> None:
    out = cli("schema", "write-off")
    assert out.code == 0
    assert "nonRevenueWriteOffAccountingCode" in out.json()["properties"]


def test_an_invoice_with_a_credit_balance_is_not_written_off(books: Books) -> None:
    """A negative invoice (-430.00: two credit lines) is accepted at load; its header-level write-off made a credit
    memo for -430.00 USD, a memo the reference product cannot have. Refused, nothing written; bulk the same."""
    data = json.loads(example("seed-003-books.json").read_text())
    data["payments"] = []
    (invoice,) = [i for i in data["invoices"] if i["invoiceNumber"] == "INV00000001"]
    for item in invoice["items"]:
        item["chargeAmount"] = "-" + item["chargeAmount"]
    data["invoices"] = [invoice]
    books.load(data)
    before = dump(books.engine)
    with pytest.raises(RuleViolation) as refused:
        books.write_off_invoice("INV00000001", {"memoDate": "2026-11-10"})
    assert str(refused.value) == (
        "INV00000001: invoice INV00000001 has a credit balance of -430.00 USD: a write-off credits what the customer "
        "owes, and a credit memo for a negative amount is none"
    )
    bulk = books.write_off_bulk(documents=["INV00000001"], settings={"memoDate": "2026-11-10"})
    assert isinstance(bulk, BulkWriteOffResult)
    assert [(f.document, f.error, f.rule) for f in bulk.failed] == [
        ("INV00000001", "rule-violation", refused.value.problem.rule)
    ]
    assert dump(books.engine) == before
