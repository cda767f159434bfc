"""Invoice item adjustments in a book without Invoice Settlement (Part 2 §8, seed 002).

The book is ``examples/no-settlement-books.json``:
- INV00000101: II-1011 120.00 (tax TI-1011 12.00) and II-1012 -20.00 (tax TI-1012 -2.00); balance 110.00.
- INV00000102: the example of Part 2 §8.1, II-1021 -99.00 and II-1022 100.00; balance 1.00.
- INV00000103: II-1031 300.00 (tax TI-1031 30.00), discount II-1032 -30.00 (tax TI-1032 -3.00), a payment of 100.00
  applied to II-1031; balance 197.00.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from sqlalchemy import Engine

from conftest import dump, example, set_period_status
from subledger.api import Books
from subledger.balances import journal_balances, subledger_balances
from subledger.errors import (
    AmountExceedsBalance,
    BalanceAwayFromZero,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    PeriodClosed,
    Problems,
    RuleViolation,
    SubledgerError,
    UnknownReasonCode,
    WrongSettlementMode,
    WrongSign,
)
from subledger.models.base import COUNTER_ROOM, fitted, is_identifier
from subledger.posting import Role
from subledger.settings import BookSettings

DATE = "2026-11-20"


@pytest.fixture
def ns(engine: Engine) -> Books:
    """A book without Invoice Settlement, loaded with the three example invoices."""
    books = Books(engine=engine)
    books.init(settings=BookSettings(invoice_settlement=False))
    books.load(example("no-settlement-books.json"))
    return books


def adjustment(
    source_id: str, type_: str, amount: str, *, invoice: str, tax: bool = False, **extra: Any
) -> dict[str, Any]:
    return {
        "invoiceNumber": invoice,
        "type": type_,
        "amount": amount,
        "sourceType": "Tax" if tax else "InvoiceDetail",
        "sourceId": source_id,
        "adjustmentDate": DATE,
        **extra,
    }


def balances(books: Books, number: str) -> dict[str, str]:
    doc = books.show("invoice", number)
    out = {"total": doc["balance"]}
    for item in doc["items"]:
        out[item["id"]] = item["balance"]
        for tax in item.get("taxationItems", []):
            out[tax["id"]] = tax["balance"]
    return out


def adjustment_lines(books: Books, invoice: str) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    return [
        (e.transaction_type, e.documents[0], [(ln.accounting_code, ln.debit, ln.credit) for ln in e.lines])
        for e in books.journal(document=invoice)
        if e.tag == "adjustment"
    ]


def refused(books: Books, error: type[SubledgerError], call: Any) -> SubledgerError:
    before = dump(books.engine)
    with pytest.raises(error) as info:
        call()
    assert dump(books.engine) == before
    return info.value


def receivable_agrees(books: Books, as_of: str = "2026-12-31") -> Decimal:
    import datetime as dt

    day = dt.date.fromisoformat(as_of)
    with books.engine.connect() as conn:
        sub = subledger_balances(conn, day)[Role.AR][("Accounts Receivable", "USD")]
        journal = journal_balances(conn, day)[("Accounts Receivable", "USD")]
    assert sub == journal
    return sub


# --- the mode ---------------------------------------------------------------------------------------------------


def test_a_book_without_invoice_settlement_refuses_memos_in_load(engine: Engine) -> None:
    books = Books(engine=engine)
    books.init(settings=BookSettings(invoice_settlement=False))
    error = refused(books, Problems, lambda: books.load(example("line-level-books.json")))
    assert isinstance(error, Problems)
    refusals = [p for p in error.problems if "needs Invoice Settlement" in p.rule]
    assert {p.document for p in refusals} >= {"DM00000001"}
    assert str(refusals[0]).endswith(
        "needs Invoice Settlement, which this book does not have (it uses invoice item adjustments)"
    )


def test_a_book_with_invoice_settlement_refuses_adjustments(seed003: Books) -> None:
    request = {"adjustments": [adjustment("II-0001", "Credit", "10.00", invoice="INV00000001")]}
    refused(seed003, WrongSettlementMode, lambda: seed003.adjust_invoice_items(request))
    report = seed003.write_off_by_adjustments(["INV00000001"], {"adjustmentDate": DATE})
    assert report.failed == 1
    assert "exist only in books without Invoice Settlement" in report.invoices[0].errors[0]


# --- the invoice-balance rule (Part 2 §8.1) ------------------------------------------------------------------------


def test_toward_zero_fails_one_at_a_time_and_passes_together(ns: Books) -> None:
    charge = adjustment("II-1021", "Charge", "2", invoice="INV00000102")
    credit = adjustment("II-1022", "Credit", "2.5", invoice="INV00000102")
    away = refused(ns, BalanceAwayFromZero, lambda: ns.adjust_invoice_items({"adjustments": [charge]}))
    assert "from 1.00 to 3.00" in str(away)
    assert "only be adjusted toward zero" in str(away)
    across = refused(ns, BalanceAwayFromZero, lambda: ns.adjust_invoice_items({"adjustments": [credit]}))
    assert "from 1.00 to -1.50" in str(across)
    assert "from positive to negative" in str(across)

    result = ns.adjust_invoice_items({"adjustments": [charge, credit]})
    assert [a.number for a in result.adjustments] == ["IIA-INV00000102-1", "IIA-INV00000102-2"]
    assert balances(ns, "INV00000102") == {"total": "0.50", "II-1021": "-97.00", "II-1022": "97.50"}
    assert result.invoices[0].balance == "0.50"
    assert adjustment_lines(ns, "INV00000102") == [
        (
            "Invoice Item Adjustment (Invoice)",
            "IIA-INV00000102-1",
            [("Accounts Receivable", "2.00", "0.00"), ("Other Revenue", "0.00", "2.00")],
        ),
        (
            "Invoice Item Adjustment (Invoice)",
            "IIA-INV00000102-2",
            [("Other Revenue", "2.50", "0.00"), ("Accounts Receivable", "0.00", "2.50")],
        ),
    ]
    assert receivable_agrees(ns) == Decimal("110.00") + Decimal("0.50") + Decimal("197.00")


def test_each_adjustment_moves_its_line_toward_zero(ns: Books) -> None:
    def one(*args: Any, **kwargs: Any) -> Any:
        return lambda: ns.adjust_invoice_items({"adjustments": [adjustment(*args, **kwargs)]})

    wrong = refused(ns, WrongSign, one("II-1012", "Credit", "5.00", invoice="INV00000101"))
    assert "only a Charge moves it toward zero" in str(wrong)
    refused(ns, AmountExceedsBalance, one("II-1031", "Credit", "200.01", invoice="INV00000103"))
    refused(ns, NotFound, one("II-9999", "Credit", "1.00", invoice="INV00000101"))
    refused(ns, NotFound, one("II-1011", "Credit", "1.00", invoice="INV00000101", tax=True))
    refused(ns, NotFound, one("II-1011", "Credit", "1.00", invoice="INV00099999"))
    # Several adjustments of one line, each toward zero.
    ns.adjust_invoice_items({"adjustments": [adjustment("II-1031", "Credit", "50.00", invoice="INV00000103")]})
    ns.adjust_invoice_items({"adjustments": [adjustment("II-1031", "Credit", "100.00", invoice="INV00000103")]})
    assert balances(ns, "INV00000103")["II-1031"] == "50.00"
    assert [a.number for a in ns.adjustments(invoice="INV00000103")] == ["IIA-INV00000103-1", "IIA-INV00000103-2"]


def test_dates_reason_codes_and_fields_are_checked(ns: Books) -> None:
    def one(**extra: Any) -> Any:
        return lambda: ns.adjust_invoice_items(
            {"adjustments": [{**adjustment("II-1011", "Credit", "10.00", invoice="INV00000101"), **extra}]}
        )

    early = refused(ns, RuleViolation, one(adjustmentDate="2026-10-04"))
    assert "before the invoice date 2026-10-05" in str(early)
    for month in range(1, 11):
        set_period_status(ns, f"2026-{month:02d}", "Closed")
    closed = refused(ns, PeriodClosed, one(adjustmentDate="2026-10-30"))
    assert "the first open period is 2026-11" in str(closed)
    unknown = refused(ns, UnknownReasonCode, one(reasonCode="Bad luck"))
    assert "credit memo reason codes" in str(unknown)
    refused(ns, Problems, one(referenceId="R" * 61))
    refused(ns, Problems, one(comment="c" * 256))
    negative = refused(ns, Problems, one(amount="-1.00"))
    assert str(negative) == (  # the field was missing: 'INV00000101: amount must be positive ...'
        "INV00000101, amount: must be positive (type Credit lowers the item's charge, Charge raises it)"
    )
    refused(ns, InvalidInput, one(amount="1.005"))
    refused(ns, Problems, one(customFields={"NotCustom": "x"}))
    wrong_type = refused(ns, RuleViolation, one(deferredRevenueAccount="Bad Debt Expense"))
    assert wrong_type.field == "adjustments[0].deferredRevenueAccount"
    # The invoice sits in a closed period; the adjustment date does not: allowed.
    result = ns.adjust_invoice_items(
        {
            "adjustments": [
                adjustment(
                    "II-1011",
                    "Credit",
                    "10.00",
                    invoice="INV00000101",
                    reasonCode="Goodwill",
                    referenceId="CASE-42",
                    comment="Outage in October",
                    customFields={"Ticket__c": "T-9", "Escalated__c": True},
                )
            ]
        }
    )
    view = ns.adjustments(invoice="INV00000101")[0]
    assert view == result.adjustments[0]
    assert view.model_dump(by_alias=True, mode="json") == {
        "number": "IIA-INV00000101-1",
        "accountNumber": "A00000101",
        "invoiceNumber": "INV00000101",
        "type": "Credit",
        "amount": "10.00",
        "currency": "USD",
        "sourceType": "InvoiceDetail",
        "sourceId": "II-1011",
        "adjustmentDate": DATE,
        "reasonCode": "Goodwill",
        "referenceId": "CASE-42",
        "comment": "Outage in October",
        "accountingCode": "Deferred Revenue",
        "accountsReceivableAccountingCode": "Accounts Receivable",
        "deferredRevenueAccount": "Deferred Revenue",
        "recognizedRevenueAccount": "Sales Revenue",
        "status": "Processed",
        "transferredToAccounting": "No",
        "customFields": {"Escalated__c": True, "Ticket__c": "T-9"},
    }


# --- the write-off task (seed 002) ---------------------------------------------------------------------------------


def test_write_off_with_taxation_items_in_one_transaction(ns: Books, tmp_path: Path) -> None:
    report = ns.write_off_by_adjustments(
        ["INV00000101", "INV00000102", "INV00000103"],
        {"adjustmentDate": DATE, "adjustTaxationItems": True, "referenceId": "WO-TASK-7", "comment": "uncollectible"},
    )
    assert (report.processed, report.failed, report.partial) == (3, 0, 0)
    first = report.invoices[0]
    assert first.adjustments == [f"IIA-INV00000101-{n}" for n in (1, 2, 3, 4)]
    assert first.balance == "0.00"
    assert [
        (i.id, i.charge_amount, i.balance, [(t.id, t.balance) for t in i.taxation_items]) for i in first.invoice_items
    ] == [
        ("II-1011", "120.00", "0.00", [("TI-1011", "0.00")]),
        ("II-1012", "-20.00", "0.00", [("TI-1012", "0.00")]),
    ]
    assert [
        (a.type, a.amount, a.source_type, a.source_id, a.reason_code, a.reference_id)
        for a in ns.adjustments(invoice="INV00000101")
    ] == [
        ("Credit", "120.00", "InvoiceDetail", "II-1011", "Write-off", "WO-TASK-7"),
        ("Credit", "12.00", "Tax", "TI-1011", "Write-off", "WO-TASK-7"),
        ("Charge", "20.00", "InvoiceDetail", "II-1012", "Write-off", "WO-TASK-7"),
        ("Charge", "2.00", "Tax", "TI-1012", "Write-off", "WO-TASK-7"),
    ]
    assert adjustment_lines(ns, "INV00000101") == [
        (
            "Invoice Item Adjustment (Invoice)",
            "IIA-INV00000101-1",
            [("Deferred Revenue", "120.00", "0.00"), ("Accounts Receivable", "0.00", "120.00")],
        ),
        (
            "Invoice Item Adjustment (Tax)",
            "IIA-INV00000101-2",
            [("Sales Tax Payable", "12.00", "0.00"), ("Accounts Receivable", "0.00", "12.00")],
        ),
        (
            "Invoice Item Adjustment (Invoice)",
            "IIA-INV00000101-3",
            [("Accounts Receivable", "20.00", "0.00"), ("Sales Revenue", "0.00", "20.00")],
        ),
        (
            "Invoice Item Adjustment (Tax)",
            "IIA-INV00000101-4",
            [("Accounts Receivable", "2.00", "0.00"), ("Sales Tax Payable", "0.00", "2.00")],
        ),
    ]
    # The discount posts against the code of the item it discounts, as it did on the invoice.
    assert adjustment_lines(ns, "INV00000103")[2] == (
        "Invoice Item Adjustment (Invoice)",
        "IIA-INV00000103-3",
        [("Accounts Receivable", "30.00", "0.00"), ("Deferred Revenue - Services", "0.00", "30.00")],
    )
    assert balances(ns, "INV00000103") == {
        "total": "0.00",
        "II-1031": "0.00",
        "TI-1031": "0.00",
        "II-1032": "0.00",
        "TI-1032": "0.00",
    }
    assert receivable_agrees(ns) == 0
    # The ledger shows the adjustments and its receivable assertion (from the subledger) holds.
    ns.export_beancount(tmp_path / "ledger")
    text = (tmp_path / "ledger" / "periods" / "2026-11.beancount").read_text()
    assert "#adjustment ^IIA-INV00000101-1 ^INV00000101" in text
    assert 'transaction-type: "Invoice Item Adjustment (Tax)"' in text
    assert "2026-12-01 balance Assets:AccountsReceivable" in text
    _, errors, _ = loader.load_file(str(tmp_path / "ledger" / "main.beancount"))
    assert errors == []


def test_write_off_without_taxation_items_leaves_tax(ns: Books) -> None:
    report = ns.write_off_by_adjustments(["INV00000101"], {"adjustmentDate": DATE})
    assert report.invoices[0].balance == "10.00"
    assert balances(ns, "INV00000101") == {
        "total": "10.00",
        "II-1011": "0.00",
        "TI-1011": "12.00",
        "II-1012": "0.00",
        "TI-1012": "-2.00",
    }
    assert [i.taxation_items for i in report.invoices[0].invoice_items] == [[], []]


def test_single_transaction_off_fails_adjustment_by_adjustment(ns: Books) -> None:
    settings = {"adjustmentDate": DATE, "adjustTaxationItems": True, "singleTransaction": False}
    report = ns.write_off_by_adjustments(["INV00000101", "INV00000102"], settings)
    first, second = report.invoices
    # 110.00: Credit 120 on II-1011 would cross zero; Credit 12 on TI-1011 passes (98.00); the two Charges on the
    # negative lines then move the balance away from zero.
    assert first.status == "Partial"
    assert first.adjustments == ["IIA-INV00000101-1"]
    assert first.balance == "98.00"
    assert [(i.id, i.balance, [(t.id, t.balance) for t in i.taxation_items]) for i in first.invoice_items] == [
        ("II-1011", "120.00", [("TI-1011", "0.00")])
    ]
    assert len(first.errors) == 3
    assert "from 110.00 to -10.00" in first.errors[0]
    assert "from 98.00 to 118.00" in first.errors[1]
    # The §8.1 invoice written off line by line: both adjustments fail alone.
    assert second.status == "Failed"
    assert second.adjustments == []
    assert "from 1.00 to 100.00" in second.errors[0]
    assert "from 1.00 to -99.00" in second.errors[1]
    assert balances(ns, "INV00000102")["total"] == "1.00"
    assert (report.processed, report.failed, report.partial) == (0, 1, 1)
    # The same invoice in one transaction passes.
    assert ns.write_off_by_adjustments(["INV00000102"], {"adjustmentDate": DATE}).invoices[0].balance == "0.00"
    receivable_agrees(ns)


def test_positive_charges_only_leaves_negative_lines(ns: Books) -> None:
    settings = {"adjustmentDate": DATE, "adjustTaxationItems": True, "writeOffPositiveChargesOnly": True}
    report = ns.write_off_by_adjustments(["INV00000101", "INV00000103", "INV00000102"], settings)
    # INV00000101 owes 110.00: a Credit of 110.00 on the first positive line brings it to zero; the negative lines
    # (and the part of the positive ones they offset) stay.
    assert balances(ns, "INV00000101") == {
        "total": "0.00",
        "II-1011": "10.00",
        "TI-1011": "12.00",
        "II-1012": "-20.00",
        "TI-1012": "-2.00",
    }
    assert balances(ns, "INV00000103") == {
        "total": "0.00",
        "II-1031": "3.00",
        "TI-1031": "30.00",
        "II-1032": "-30.00",
        "TI-1032": "-3.00",
    }
    assert {a.type for a in ns.adjustments()} == {"Credit"}
    assert [(a.source_id, a.amount) for a in ns.adjustments()] == [
        ("II-1011", "110.00"),
        ("II-1022", "1.00"),
        ("II-1031", "197.00"),
    ]
    assert [o.status for o in report.invoices] == ["Processed", "Processed", "Processed"]
    again = ns.write_off_by_adjustments(["INV00000101"], settings)
    assert again.invoices[0].status == "Failed"
    assert "no open balance these settings write off" in again.invoices[0].errors[0]
    receivable_agrees(ns)


def test_revenue_accounts_for_items_and_tax_items(ns: Books) -> None:
    settings = {
        "adjustmentDate": DATE,
        "adjustTaxationItems": True,
        "deferredRevenueAccountForInvoiceItem": "Deferred Revenue - Services",
        "recognizedRevenueAccountForInvoiceItem": "Other Revenue",
        "recognizedRevenueAccountForTaxItem": "Other Revenue",
    }
    ns.write_off_by_adjustments(["INV00000101"], settings)
    assert [
        (a.accounting_code, a.deferred_revenue_account, a.recognized_revenue_account) for a in ns.adjustments()
    ] == [
        ("Deferred Revenue - Services", "Deferred Revenue - Services", "Other Revenue"),
        ("Other Revenue", None, "Other Revenue"),
        ("Deferred Revenue - Services", "Deferred Revenue - Services", "Other Revenue"),
        ("Other Revenue", None, "Other Revenue"),
    ]
    assert [lines[0] for _, _, lines in adjustment_lines(ns, "INV00000101")] == [
        ("Deferred Revenue - Services", "120.00", "0.00"),
        ("Other Revenue", "12.00", "0.00"),
        ("Accounts Receivable", "20.00", "0.00"),
        ("Accounts Receivable", "2.00", "0.00"),
    ]
    with pytest.raises(Problems, match="only with adjustTaxationItems"):
        ns.write_off_by_adjustments(
            ["INV00000102"], {"adjustmentDate": DATE, "deferredRevenueAccountForTaxItem": "Other Revenue"}
        )
    bad = ns.write_off_by_adjustments(
        ["INV00000102"], {"adjustmentDate": DATE, "deferredRevenueAccountForInvoiceItem": "Cash"}
    )
    assert "expected DeferredRevenue" in bad.invoices[0].errors[0]


def test_bulk_failures_do_not_stop_the_rest_and_replays_post_nothing(ns: Books) -> None:
    settings = {"adjustmentDate": DATE, "adjustTaxationItems": True}
    seen: list[tuple[int, int]] = []
    report = ns.write_off_by_adjustments(
        ["INV00000102", "INV00099999", "INV00000101"],
        settings,
        idempotency_key="run-1",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [o.status for o in report.invoices] == ["Processed", "Failed", "Processed"]
    assert report.invoices[1].errors == ["INV00099999: no invoice INV00099999"]
    before = dump(ns.engine)
    replay = ns.write_off_by_adjustments(["INV00000102", "INV00000101"], settings, idempotency_key="run-1")
    assert [o.adjustments for o in replay.invoices] == [report.invoices[0].adjustments, report.invoices[2].adjustments]
    assert dump(ns.engine) == before
    nothing = ns.write_off_by_adjustments(["INV00000101"], settings)
    assert nothing.invoices[0].status == "Failed"
    assert nothing.invoices[0].errors == [
        "INV00000101: invoice INV00000101 has no open balance these settings write off"
    ]


def test_adjustments_in_close_checks_period_close_and_gl_export(ns: Books, tmp_path: Path) -> None:
    ns.write_off_by_adjustments(["INV00000101", "INV00000102", "INV00000103"], {"adjustmentDate": DATE})
    assert ns.check().passed
    for month in range(1, 12):
        ns.close_period(f"2026-{month:02d}")
    export = ns.export_gl("2026-11", tmp_path / "gl-2026-11.csv")
    rows = (tmp_path / "gl-2026-11.csv").read_text().splitlines()
    adjusted = [r for r in rows if ",Invoice Item Adjustment (Invoice)," in r]
    assert len(adjusted) == 2 * 6
    assert export.model_dump(by_alias=True)
    assert {a.transferred_to_accounting for a in ns.adjustments()} == {"No"}  # until the ERP accepts the run
    assert export.run is not None
    ns.confirm_journal_run(export.run)
    assert {a.transferred_to_accounting for a in ns.adjustments()} == {"Yes"}
    closed = refused(
        ns,
        PeriodClosed,
        lambda: ns.adjust_invoice_items(
            {"adjustments": [adjustment("TI-1011", "Credit", "1.00", invoice="INV00000101", tax=True)]}
        ),
    )
    assert "the first open period is 2026-12" in str(closed)


def test_a_memo_write_off_is_refused_without_invoice_settlement(ns: Books) -> None:
    error = refused(ns, WrongSettlementMode, lambda: ns.write_off_invoice("INV00000101", {"memoDate": DATE}))
    assert str(error) == (
        "INV00000101: writing off invoice INV00000101 needs Invoice Settlement, which this book does not have (it "
        "uses invoice item adjustments)"
    )


def test_a_reversal_is_refused_without_invoice_settlement_as_a_write_off_is(ns: Books) -> None:
    """One settlement-mode rule (``context.require_settlement``): a reversal is refused in the same terms."""
    error = refused(ns, WrongSettlementMode, lambda: ns.reverse_invoice("INV00000101", {"memoDate": DATE}))
    assert str(error) == (
        "INV00000101: reversing invoice INV00000101 needs Invoice Settlement, which this book does not have (it "
        "uses invoice item adjustments)"
    )


def test_single_transaction_off_replays_with_its_key(ns: Books) -> None:
    """A retry with the same key (the integrator's answer to a timeout) replays the plan the first run made: the
    adjustments it wrote are its again and nothing posts. It used to plan again from the balances the first run left
    and refuse the whole retry (IdempotencyConflict on the first step's key). The steps the first run refused are
    judged again, as a bulk write-off's refused documents are: against today's balance, so still refused."""
    settings = {"adjustmentDate": DATE, "adjustTaxationItems": True, "singleTransaction": False}
    report = ns.write_off_by_adjustments(["INV00000103", "INV00000101"], settings, idempotency_key="run-2")
    assert [(o.status, o.adjustments, o.balance) for o in report.invoices] == [
        ("Partial", ["IIA-INV00000103-1"], "167.00"),
        ("Partial", ["IIA-INV00000101-1"], "98.00"),
    ]
    before = dump(ns.engine)
    replay = ns.write_off_by_adjustments(["INV00000103", "INV00000101"], settings, idempotency_key="run-2")
    assert [o.model_dump(exclude={"errors"}) for o in replay.invoices] == [
        o.model_dump(exclude={"errors"}) for o in report.invoices
    ]
    assert [len(o.errors) for o in replay.invoices] == [3, 3]
    assert "from 167.00 to -33.00" in replay.invoices[0].errors[0]
    assert dump(ns.engine) == before
    other = {**settings, "adjustTaxationItems": False}
    with pytest.raises(IdempotencyConflict, match="used for a different request"):
        ns.write_off_by_adjustments(["INV00000103"], other, idempotency_key="run-2")


def test_an_invoice_with_the_longest_number_is_adjusted_and_its_adjustments_fit_the_books(ns: Books) -> None:
    """An invoice number of 64 characters (the identifier rule's most) loads; its adjustments were numbered
    IIA-NUMBER-N, 70 characters: PostgreSQL refused the adjustment ('value too long for type character
    varying(64)', no field), SQLite stored a number no request can name. It is now numbered under the prefix made
    to fit, the same on both engines, and the book still checks."""
    number = "INV" + "X" * 61
    item = {
        "id": "II-LONG-1",
        "chargeAmount": "50.00",
        "financeInformation": {"recognizedRevenueAccountingCode": "Sales Revenue"},
    }
    invoice = {"invoiceNumber": number, "accountNumber": "A00000101", "invoiceDate": "2026-10-05",
               "currency": "USD", "items": [item]}  # fmt: skip
    ns.load({"invoices": [invoice]})
    for amount in ("10.00", "15.00"):
        ns.adjust_invoice_items({"adjustments": [adjustment("II-LONG-1", "Credit", amount, invoice=number)]})
    numbers = [a.number for a in ns.adjustments(invoice=number)]
    prefix = fitted(f"IIA-{number}", room=COUNTER_ROOM)
    assert numbers == [f"{prefix}-1", f"{prefix}-2"]
    assert all(len(n) <= 64 and is_identifier(n) for n in numbers)
    assert balances(ns, number)["II-LONG-1"] == "25.00"
    assert ns.check().passed
