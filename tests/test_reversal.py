"""Reversals of invoices and credit memos: seed 003 case 1, the seed 004 effects, every refusal (database
unchanged), related documents reversed together, and the zero-sum property per accounting code (both engines)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from conftest import NOV, db_url, dump, example, net_by_code, set_period_status
from subledger.api import Books, parse
from subledger.errors import (
    AlreadyReversed,
    DocumentNotPosted,
    MirroringRuleRefuses,
    NotFound,
    NotReversible,
    PeriodClosed,
    PermissionDenied,
    Problems,
    RuleViolation,
    SubledgerError,
    UnknownReasonCode,
)
from subledger.models.reversal import CreditMemoReversalRequest, InvoiceReversalRequest
from subledger.settings import BookSettings
from subledger.storage.schema import applications

# --- building documents ---------------------------------------------------------------------------------------


def tax(tid: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": tid,
        "name": "CA State Tax",
        "jurisdiction": "CALIFORNIA",
        "locationCode": "06",
        "taxCode": "SAAS",
        "taxMode": "TaxExclusive",
        "taxRate": "0.10",
        "taxRateType": "Percentage",
        "exemptAmount": "0.00",
        "taxAmount": amount,
        "taxDate": "2026-11-01",
        "financeInformation": {"salesTaxPayableAccountingCode": "Sales Tax Payable"},
        **extra,
    }


def item(
    iid: str,
    amount: str,
    *,
    memo: bool = False,
    sub: str | None = "S00000070",
    charge: str = "Seats",
    taxes: list[dict[str, Any]] | None = None,
    code: str = "Deferred Revenue",
    discount_of: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": iid,
        "chargeName": charge,
        "processingType": "Discount" if discount_of else "Charge",
        "quantity": "1",
        "unitPrice": amount,
        ("amountWithoutTax" if memo else "chargeAmount"): amount,
        "financeInformation": {"deferredRevenueAccountingCode": code},
        "taxationItems": taxes or [],
        **extra,
    }
    if sub is not None:
        out["subscriptionNumber"] = sub
    if discount_of:
        out["appliedToItemId"] = discount_of
    return out


def invoice(number: str, date: str, items: list[dict[str, Any]], *, account: str = "A00000070", **extra: Any) -> Any:
    return {
        "invoiceNumber": number,
        "accountNumber": account,
        "invoiceDate": date,
        "currency": "USD",
        "status": "Posted",
        "items": items,
        **extra,
    }


def credit_memo(
    number: str, date: str, items: list[dict[str, Any]], *, account: str = "A00000070", **extra: Any
) -> Any:
    return {
        "number": number,
        "accountNumber": account,
        "creditMemoDate": date,
        "currency": "USD",
        "status": "Posted",
        "source": "BillRun",
        "sourceType": "Subscription",
        "reasonCode": "Correcting invoice error",
        "items": items,
        **extra,
    }


def book(books: Books, *, invoices: Any = (), credit_memos: Any = (), account: str = "A00000070") -> Books:
    books.load(
        {
            "accounts": [{"accountNumber": account, "name": "Reversal Test Co", "currency": "USD"}],
            "invoices": list(invoices),
            "creditMemos": list(credit_memos),
        }
    )
    return books


# --- reading results ------------------------------------------------------------------------------------------


def assert_zero_sum(books: Books, original: str, memo: str) -> None:
    original_only = net_by_code(books, original)
    assert any(original_only.values()), "the original posts something"
    both = net_by_code(books, original, memo)
    assert set(both) >= {code for code, v in original_only.items() if v}
    assert {code: v for code, v in both.items() if v} == {}


def lines(books: Books, document: str, ttype: str) -> list[tuple[str, str, str, str | None]]:
    return [
        (ln.accounting_code, ln.debit, ln.credit, ln.item_id)
        for e in books.journal(document=document)
        if e.transaction_type == ttype and e.documents[0] == document
        for ln in e.lines
    ]


def refused(books: Books, error: type[SubledgerError], call: Any) -> SubledgerError:
    """Run ``call``; it must raise ``error`` and leave every table as it was."""
    before = dump(books.engine)
    with pytest.raises(error) as info:
        call()
    assert dump(books.engine) == before
    return info.value


def close_through(books: Books, month: int) -> None:
    """Close the periods of 2026 up to ``month``, as a month-end would."""
    for m in range(1, month + 1):
        set_period_status(books, f"2026-{m:02d}", "Closed")


@pytest.fixture
def actors(books: Books, tmp_path: Path) -> Path:
    path = tmp_path / "actors.toml"
    path.write_text(
        '[actors.clerk]\npermissions = ["Enhanced Write-off"]\n'
        '[actors.invoices]\npermissions = ["Reverse Invoice"]\n'
        '[actors.memos]\npermissions = ["Reverse Credit Memo"]\n'
    )
    books.import_actors(path)
    return path


# --- invoice reversal -----------------------------------------------------------------------------------------


def test_seed003_case1_reversal_copies_quantity_and_unit_price(seed003: Books) -> None:
    result = seed003.reverse_invoice("INV00000001", NOV)
    assert result.credit_memo is not None
    assert result.credit_memo.number == "RV-INV00000001-1"
    assert result.debit_memo is None
    memo = seed003.show("credit-memo", "RV-INV00000001-1")
    assert [
        (i["chargeName"], i["quantity"], i["unitPrice"], i["amountWithoutTax"], i["unappliedAmount"])
        for i in memo["items"]
    ] == [("Charge 1", "10", "33", "330.00", "0.00"), ("Charge 2", "1", "100", "100.00", "0.00")]
    assert [i["sourceItemId"] for i in memo["items"]] == ["II-0001", "II-0002"]
    assert (memo["source"], memo["reasonCode"], memo["creditMemoDate"]) == (
        "Reversal",
        "Invoice reversal",
        "2026-11-16",
    )
    assert (memo["amount"], memo["unappliedAmount"], memo["sourceDocumentNumber"]) == ("430.00", "0.00", "INV00000001")
    inv = seed003.show("invoice", "INV00000001")
    assert [i["balance"] for i in inv["items"]] == ["0.00", "0.00"]
    assert (inv["balance"], inv["reversed"], inv["status"]) == ("0.00", True, "Posted")


def test_invoice_reversal_journal_mirrors_the_invoice(seed003: Books) -> None:
    seed003.reverse_invoice("INV00000001", {"memoDate": "2026-11-16", "applyEffectiveDate": "2026-12-01"})
    memo = "RV-INV00000001-1"
    assert lines(seed003, memo, "Credit Memo Item (Charge)") == [
        ("Deferred Revenue", "330.00", "0.00", f"{memo}-1"),
        ("Credit Memo On-Account", "0.00", "330.00", f"{memo}-1"),
        ("Deferred Revenue", "100.00", "0.00", f"{memo}-2"),
        ("Credit Memo On-Account", "0.00", "100.00", f"{memo}-2"),
    ]
    assert lines(seed003, memo, "Credit Memo Application Item") == [
        ("Credit Memo On-Account", "330.00", "0.00", "II-0001"),
        ("Accounts Receivable", "0.00", "330.00", "II-0001"),
        ("Credit Memo On-Account", "100.00", "0.00", "II-0002"),
        ("Accounts Receivable", "0.00", "100.00", "II-0002"),
    ]
    # The memo posts on the memo date, its application on the apply effective date (a later period here).
    dated = {(e.transaction_type, str(e.date), e.period, e.tag) for e in seed003.journal(document=memo)}
    assert dated == {
        ("Credit Memo Item (Charge)", "2026-11-16", "2026-11", "reversal"),
        ("Credit Memo Application Item", "2026-12-01", "2026-12", "reversal"),
    }
    assert_zero_sum(seed003, "INV00000001", memo)


def test_invoice_with_taxes_and_discount_reverses_to_zero_per_code(line_level: Books) -> None:
    # INV00000010 is partly paid; a fresh copy of its lines on another account is not.
    data = json.loads(example("line-level-books.json").read_text())
    inv = data["invoices"][0]
    inv["invoiceNumber"], inv["accountNumber"] = "INV00000071", "A00000070"
    for it in inv["items"]:
        it["id"] = it["id"].replace("II-", "II-71-")
        it["subscriptionNumber"] = "S00000071"
        if "appliedToItemId" in it:
            it["appliedToItemId"] = it["appliedToItemId"].replace("II-", "II-71-")
        for t in it["taxationItems"]:
            t["id"] = t["id"].replace("TI-", "TI-71-")
    book(line_level, invoices=[inv])
    result = line_level.reverse_invoice("INV00000071", NOV)
    memo = line_level.show("credit-memo", "RV-INV00000071-1")
    assert [(i["processingType"], i["amountWithoutTax"]) for i in memo["items"]] == [
        ("Charge", "200.00"),
        ("Charge", "200.00"),
        ("Discount", "-20.00"),
    ]
    taxes = [t for i in memo["items"] for t in i["taxationItems"]]
    assert [t["taxAmount"] for t in taxes] == ["17.50", "17.50", "-1.75"]
    # Every descriptive tax field is copied from the invoice's taxation line.
    assert {k: taxes[0][k] for k in ("name", "jurisdiction", "locationCode", "taxCode", "taxRate", "taxRateType")} == {
        "name": "CA State Tax",
        "jurisdiction": "CALIFORNIA",
        "locationCode": "06",
        "taxCode": "SAAS",
        "taxRate": "0.0875",
        "taxRateType": "Percentage",
    }
    assert (taxes[0]["exemptAmount"], taxes[0]["taxMode"], taxes[0]["taxDate"]) == (
        "0.00",
        "TaxExclusive",
        "2026-10-10",
    )
    assert [r.number for r in result.reversed] == ["INV00000071"]
    assert line_level.show("invoice", "INV00000071")["balance"] == "0.00"
    assert_zero_sum(line_level, "INV00000071", "RV-INV00000071-1")


def test_invoice_in_a_closed_period_can_be_reversed_into_an_open_one(seed003: Books) -> None:
    close_through(seed003, 10)
    seed003.reverse_invoice("INV00000001", NOV)
    assert seed003.show("invoice", "INV00000001")["reversed"] is True


def test_partially_paid_invoice_is_refused(seed003: Books) -> None:
    err = refused(seed003, NotReversible, lambda: seed003.reverse_invoice("INV00000002", NOV))
    assert err.document == "INV00000002"
    assert "paid or credited" in err.rule


def test_reversed_invoice_cannot_be_reversed_again(seed003: Books) -> None:
    seed003.reverse_invoice("INV00000001", NOV)
    err = refused(seed003, AlreadyReversed, lambda: seed003.reverse_invoice("INV00000001", NOV))
    assert err.rule == "invoice is already reversed"


def test_invoice_reversal_needs_the_permission(seed003: Books, actors: Path) -> None:
    for actor in ("clerk", "memos"):
        err = refused(
            seed003, PermissionDenied, lambda a=actor: seed003.as_actor(a).reverse_invoice("INV00000001", NOV)
        )
        assert "Reverse Invoice" in err.rule
    seed003.as_actor("invoices").reverse_invoice("INV00000001", NOV)


def test_draft_invoice_is_refused(books: Books) -> None:
    book(books, invoices=[invoice("INV00000072", "2026-11-01", [item("II-7201", "10.00")], status="Draft")])
    refused(books, DocumentNotPosted, lambda: books.reverse_invoice("INV00000072", NOV))


def test_negative_invoice_is_refused(books: Books) -> None:
    book(books, invoices=[invoice("INV00000073", "2026-11-01", [item("II-7301", "-10.00")])])
    err = refused(books, NotReversible, lambda: books.reverse_invoice("INV00000073", NOV))
    assert err.field == "amount"


def test_only_the_most_recent_invoice_of_each_subscription(books: Books) -> None:
    book(
        books,
        invoices=[
            invoice(
                "INV00000074", "2026-11-01", [item("II-7401", "10.00", sub="S1"), item("II-7402", "5.00", sub="S2")]
            ),
            invoice("INV00000075", "2026-11-05", [item("II-7501", "10.00", sub="S2")]),
        ],
    )
    err = refused(books, NotReversible, lambda: books.reverse_invoice("INV00000074", NOV))
    assert err.rule.startswith("invoice INV00000075 is a more recent invoice of subscription S2")
    # Once the newer invoice is reversed, the older one is the most recent again.
    books.reverse_invoice("INV00000075", NOV)
    books.reverse_invoice("INV00000074", NOV)


def test_invoice_with_a_memo_created_from_it_is_refused(books: Books) -> None:
    cm = credit_memo(
        "CM00000076",
        "2026-11-02",
        [item("CMI-7601", "0.00", memo=True)],
        source="AdhocFromInvoice",
        sourceType="Invoice",
        referredInvoiceNumber="INV00000076",
    )
    book(books, invoices=[invoice("INV00000076", "2026-11-01", [item("II-7601", "0.00")])], credit_memos=[cm])
    err = refused(books, NotReversible, lambda: books.reverse_invoice("INV00000076", NOV))
    assert err.rule == "memo CM00000076 was created from this invoice; cancel it first"


@pytest.mark.parametrize(
    ("body", "error", "field", "rule"),
    [
        ({"memoDate": "2026-10-20"}, PeriodClosed, "memoDate", "first open period is 2026-11"),
        ({"memoDate": "2026-11-16", "applyEffectiveDate": "2026-11-15"}, Problems, None, "is before memoDate"),
        ({"memoDate": "2026-10-01"}, RuleViolation, "memoDate", "before the invoice date 2026-10-05"),
        ({**NOV, "reasonCode": "Nope"}, UnknownReasonCode, "reasonCode", "unknown credit memo reason code 'Nope'"),
        ({**NOV, "reasonCode": "Credit memo reversal"}, UnknownReasonCode, "reasonCode", "unknown credit memo"),
        ({**NOV, "comment": "x" * 256}, Problems, "comment", "at most 255"),
        ({**NOV, "memoDate": "2026-11-31"}, Problems, "memoDate", "not a valid date"),
        ({**NOV, "amount": "1.00"}, Problems, "amount", "unknown field"),
    ],
)
def test_bad_invoice_reversal_requests_are_refused(
    seed003: Books, body: dict[str, Any], error: type[SubledgerError], field: str | None, rule: str
) -> None:
    if error is PeriodClosed:
        close_through(seed003, 10)
    err = refused(seed003, error, lambda: seed003.reverse_invoice("INV00000001", body))
    if isinstance(err, Problems):
        err = SubledgerError(err.problems[0].rule, document=err.problems[0].document, field=err.problems[0].field)
    assert rule in err.rule
    if field is not None:
        assert err.field == field
    assert err.document == "INV00000001"


def test_inactive_reason_code_and_unknown_invoice(seed003: Books) -> None:
    with seed003.engine.begin() as conn:
        conn.execute(text("UPDATE reason_codes SET active = false WHERE name = 'Invoice reversal'"))
    err = refused(seed003, UnknownReasonCode, lambda: seed003.reverse_invoice("INV00000001", NOV))
    assert err.rule == "credit memo reason code 'Invoice reversal' is inactive"
    refused(seed003, NotFound, lambda: seed003.reverse_invoice("INV09999999", NOV))
    # A credit memo number is not an invoice.
    seed003.load(example("line-level-books.json"))
    refused(seed003, NotFound, lambda: seed003.reverse_invoice("CM00000001", NOV))


def test_apply_effective_date_in_a_closed_period_is_refused(seed003: Books) -> None:
    set_period_status(seed003, "2026-12", "Closed")
    body = {"memoDate": "2026-11-16", "applyEffectiveDate": "2026-12-02"}
    err = refused(seed003, PeriodClosed, lambda: seed003.reverse_invoice("INV00000001", body))
    assert err.field == "applyEffectiveDate"


def test_book_without_invoice_settlement_refuses_reversals(engine: Any) -> None:
    books = Books(engine=engine)
    books.init(settings=BookSettings(invoice_settlement=False))
    books.load(example("seed-003-books.json"))
    err = refused(books, RuleViolation, lambda: books.reverse_invoice("INV00000001", NOV))
    assert "Invoice Settlement" in err.rule


def test_idempotent_replay_posts_nothing_twice(seed003: Books) -> None:
    first = seed003.reverse_invoice("INV00000001", NOV, idempotency_key="rev-1")
    before = dump(seed003.engine)
    again = seed003.reverse_invoice("INV00000001", NOV, idempotency_key="rev-1")
    assert again == first
    assert dump(seed003.engine) == before


# --- credit memo reversal -------------------------------------------------------------------------------------


def test_credit_memo_reversal_of_the_example(line_level: Books) -> None:
    body = parse(CreditMemoReversalRequest, example("reverse-credit-memo.json"))
    assert body.reason_code == "Credit memo reversal"
    assert body.comment == "Credit issued in error"
    result = line_level.reverse_credit_memo("CM00000001", example("reverse-credit-memo.json"))
    assert result.debit_memo is not None
    assert result.debit_memo.id == "RV-CM00000001-1"
    assert [(r.kind, r.number, r.memo_kind, r.memo_number, r.amount) for r in result.reversed] == [
        ("CreditMemo", "CM00000001", "DebitMemo", "RV-CM00000001-1", "43.50")
    ]
    dm = line_level.show("debit-memo", "RV-CM00000001-1")
    assert (dm["debitMemoDate"], dm["reasonCode"], dm["comment"]) == (
        "2026-11-16",
        "Credit memo reversal",
        "Credit issued in error",
    )
    assert [
        (i["chargeName"], i["quantity"], i["unitPrice"], i["amountWithoutTax"], i["balance"]) for i in dm["items"]
    ] == [("Usage credit", "1", "40", "40.00", "0.00")]
    assert [(t["taxAmount"], t["balance"], t["taxRate"]) for t in dm["items"][0]["taxationItems"]] == [
        ("3.50", "0.00", "0.0875")
    ]
    cm = line_level.show("credit-memo", "CM00000001")
    assert (cm["unappliedAmount"], cm["appliedAmount"], cm["reversed"]) == ("0.00", "43.50", True)
    dm_id = "RV-CM00000001-1"
    assert lines(line_level, dm_id, "Debit Memo Item (Charge)") == [
        ("Accounts Receivable", "40.00", "0.00", f"{dm_id}-1"),
        ("Deferred Revenue", "0.00", "40.00", f"{dm_id}-1"),
    ]
    assert lines(line_level, dm_id, "Debit Memo Item (Tax)") == [
        ("Accounts Receivable", "3.50", "0.00", f"{dm_id}-1-T1"),
        ("Sales Tax Payable", "0.00", "3.50", f"{dm_id}-1-T1"),
    ]
    # The credit memo is applied to the debit memo, item by item: on-account against the debit memo's receivable.
    assert lines(line_level, "CM00000001", "Credit Memo Application Item") == [
        ("Credit Memo On-Account", "40.00", "0.00", f"{dm_id}-1"),
        ("Accounts Receivable", "0.00", "40.00", f"{dm_id}-1"),
        ("Credit Memo On-Account", "3.50", "0.00", f"{dm_id}-1-T1"),
        ("Accounts Receivable", "0.00", "3.50", f"{dm_id}-1-T1"),
    ]
    assert_zero_sum(line_level, "CM00000001", dm_id)


SEED004_CM = credit_memo(
    "CM00000080",
    "2026-11-03",
    [
        item("CMI-8001", "100.00", memo=True, taxes=[tax("CTI-8001", "10.00")], sourceItemType="SubscriptionComponent"),
        item(
            "CMI-8002",
            "-10.00",
            memo=True,
            discount_of="CMI-8001",
            charge="Seats discount",
            code="Sales Discounts",
            taxes=[tax("CTI-8002", "-1.00")],
        ),
        item("CMI-8003", "0.00", memo=True, charge="Seats (zero)", taxes=[tax("CTI-8003", "0.00")]),
    ],
    billRunId="BR-80",
)


def test_seed004_debit_memo_mirrors_items_discounts_and_taxes(books: Books) -> None:
    book(books, credit_memos=[SEED004_CM])
    books.reverse_credit_memo("CM00000080", NOV)
    dm = books.show("debit-memo", "RV-CM00000080-1")
    assert [
        (i["processingType"], i["amountWithoutTax"], i["sourceItemId"], [t["taxAmount"] for t in i["taxationItems"]])
        for i in dm["items"]
    ] == [
        ("Charge", "100.00", "CMI-8001", ["10.00"]),
        ("Discount", "-10.00", "CMI-8002", ["-1.00"]),
        ("Charge", "0.00", "CMI-8003", ["0.00"]),
    ]
    assert [t["sourceTaxItemId"] for i in dm["items"] for t in i["taxationItems"]] == [
        "CTI-8001",
        "CTI-8002",
        "CTI-8003",
    ]


def test_seed004_credit_memo_is_applied_item_by_item(books: Books) -> None:
    book(books, credit_memos=[SEED004_CM])
    books.reverse_credit_memo("CM00000080", NOV)
    app = applications.c
    with books.engine.connect() as conn:
        rows = conn.execute(
            select(app.source_item_id, app.target_item_id, app.amount, app.effective_date)
            .where(app.source_number == "CM00000080")
            .order_by(app.source_item_id)
        ).all()
    applied = [(r.source_item_id, r.target_item_id, r.amount) for r in rows if r.amount != 0]
    assert {r.effective_date for r in rows} == {dt.date(2026, 11, 16)}
    assert applied == [
        ("CMI-8001", "RV-CM00000080-1-1", Decimal("100.00")),
        ("CMI-8002", "RV-CM00000080-1-2", Decimal("-10.00")),
        ("CTI-8001", "RV-CM00000080-1-1-T1", Decimal("10.00")),
        ("CTI-8002", "RV-CM00000080-1-2-T1", Decimal("-1.00")),
    ]
    cm = books.show("credit-memo", "CM00000080")
    assert [i["unappliedAmount"] for i in cm["items"]] == ["0.00", "0.00", "0.00"]
    assert [t["unappliedAmount"] for i in cm["items"] for t in i["taxationItems"]] == ["0.00", "0.00", "0.00"]
    dm = books.show("debit-memo", "RV-CM00000080-1")
    assert dm["balance"] == "0.00"
    assert [i["balance"] for i in dm["items"]] == ["0.00", "0.00", "0.00"]
    assert_zero_sum(books, "CM00000080", "RV-CM00000080-1")


def test_seed004_related_invoice_of_the_same_bill_run_is_reversed(books: Books) -> None:
    related = invoice(
        "INV00000080", "2026-11-03", [item("II-8001", "300.00", taxes=[tax("TI-8001", "30.00")])], billRunId="BR-80"
    )
    other_run = invoice("INV00000081", "2026-11-03", [item("II-8101", "50.00", sub="S00000081")], billRunId="BR-81")
    other_charge = invoice(
        "INV00000082", "2026-11-03", [item("II-8201", "70.00", sub="S00000082", charge="Support")], billRunId="BR-80"
    )
    book(books, invoices=[related, other_run, other_charge], credit_memos=[SEED004_CM])
    result = books.reverse_credit_memo("CM00000080", NOV)
    assert [(r.number, r.memo_number) for r in result.reversed] == [
        ("CM00000080", "RV-CM00000080-1"),
        ("INV00000080", "RV-INV00000080-1"),
    ]
    assert result.debit_memo is not None
    assert result.debit_memo.number == "RV-CM00000080-1"
    assert books.show("invoice", "INV00000080")["reversed"] is True
    assert books.show("invoice", "INV00000080")["balance"] == "0.00"
    assert books.show("invoice", "INV00000081")["reversed"] is False
    assert books.show("invoice", "INV00000082")["reversed"] is False
    assert_zero_sum(books, "INV00000080", "RV-INV00000080-1")
    assert_zero_sum(books, "CM00000080", "RV-CM00000080-1")


def test_seed004_related_invoice_that_cannot_be_reversed_is_left(books: Books) -> None:
    related = invoice("INV00000083", "2026-11-03", [item("II-8301", "300.00")], billRunId="BR-80")
    newer = invoice("INV00000084", "2026-11-04", [item("II-8401", "300.00")])
    book(books, invoices=[related, newer], credit_memos=[SEED004_CM])
    result = books.reverse_credit_memo("CM00000080", NOV)
    assert [r.number for r in result.reversed] == ["CM00000080"]
    assert books.show("invoice", "INV00000083")["reversed"] is False


def test_seed004_reversed_credit_memo_is_flagged_and_cannot_be_reversed_again(line_level: Books) -> None:
    line_level.reverse_credit_memo("CM00000001", NOV)
    assert line_level.show("credit-memo", "CM00000001")["reversed"] is True
    err = refused(line_level, AlreadyReversed, lambda: line_level.reverse_credit_memo("CM00000001", NOV))
    assert err.rule == "credit memo is already reversed"


def test_seed004_only_the_latest_credit_memo_of_a_subscription(books: Books) -> None:
    older = credit_memo("CM00000085", "2026-11-02", [item("CMI-8501", "5.00", memo=True)])
    newer = credit_memo("CM00000086", "2026-11-04", [item("CMI-8601", "7.00", memo=True, charge="Other")])
    book(books, credit_memos=[older, newer])
    err = refused(books, NotReversible, lambda: books.reverse_credit_memo("CM00000085", NOV))
    assert err.rule.startswith("credit memo CM00000086 is a later credit memo of subscription S00000070")
    books.reverse_credit_memo("CM00000086", NOV)
    books.reverse_credit_memo("CM00000085", NOV)


def test_seed004_applied_or_refunded_credit_memo_is_refused(books: Books) -> None:
    books.load(example("demo-books.json"))
    err = refused(books, NotReversible, lambda: books.reverse_credit_memo("CM00000020", NOV))
    assert err.rule.startswith("line CMI-0201 has 20.00 applied or refunded")


def test_seed004_closed_period_and_transferred_memos_are_refused(line_level: Books) -> None:
    set_period_status(line_level, "2026-10", "Closed")
    err = refused(line_level, PeriodClosed, lambda: line_level.reverse_credit_memo("CM00000001", NOV))
    assert err.rule == "the credit memo's accounting period 2026-10 is Closed; it cannot be reversed"
    set_period_status(line_level, "2026-10", "Open")
    with line_level.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET transferred_to_accounting = true WHERE number = 'CM00000001'"))
    err = refused(line_level, NotReversible, lambda: line_level.reverse_credit_memo("CM00000001", NOV))
    assert err.field == "transferredToAccounting"


def test_pending_close_period_is_closed_for_actors_without_manage_close(line_level: Books, actors: Path) -> None:
    set_period_status(line_level, "2026-10", "Pending Close")
    refused(line_level, PeriodClosed, lambda: line_level.as_actor("memos").reverse_credit_memo("CM00000001", NOV))
    line_level.reverse_credit_memo("CM00000001", NOV)  # admin manages the close process


@pytest.mark.parametrize("change", ["delete", "deactivate"])
def test_seed004_missing_credit_memo_reversal_reason_code(line_level: Books, change: str) -> None:
    with line_level.engine.begin() as conn:
        where = "document_type = 'DebitMemo' AND name = 'Credit memo reversal'"
        if change == "delete":
            conn.execute(text(f"DELETE FROM reason_codes WHERE {where}"))
        else:
            conn.execute(text(f"UPDATE reason_codes SET active = false WHERE {where}"))
    for body in (NOV, {**NOV, "reasonCode": "Charge dispute"}):
        err = refused(line_level, UnknownReasonCode, lambda b=body: line_level.reverse_credit_memo("CM00000001", b))
        assert err.rule == "Unable to get the reason code by name: Credit memo reversal"
        assert (err.document, err.field) == ("CM00000001", "reasonCode")


def test_credit_memo_reversal_with_another_debit_memo_reason_code(line_level: Books) -> None:
    line_level.reverse_credit_memo("CM00000001", {**NOV, "reasonCode": "Charge dispute"})
    assert line_level.show("debit-memo", "RV-CM00000001-1")["reasonCode"] == "Charge dispute"


@pytest.mark.parametrize(
    ("extra", "item_extra", "rule"),
    [
        ({"source": "WriteOff"}, {}, "created from an invoice (source WriteOff)"),
        ({"source": "Reversal"}, {}, "created from an invoice (source Reversal)"),
        ({"source": "AdhocFromInvoice", "sourceType": "Invoice"}, {}, "created from an invoice"),
        ({"source": "API", "sourceType": "Standalone"}, {"sourceItemType": "InvoiceDetail"}, "created from an invoice"),
        ({"source": "AdhocFromPrpc", "sourceType": "Standalone"}, {}, "product rate plan charge"),
        ({"source": "API"}, {"sourceItemType": "ProductRatePlanCharge"}, "product rate plan charge"),
    ],
)
def test_credit_memo_created_from_an_invoice_or_a_charge_is_refused(
    books: Books, extra: dict[str, str], item_extra: dict[str, Any], rule: str
) -> None:
    book(
        books,
        credit_memos=[
            credit_memo("CM00000087", "2026-11-02", [item("CMI-8701", "5.00", memo=True, **item_extra)], **extra)
        ],
    )
    err = refused(books, NotReversible, lambda: books.reverse_credit_memo("CM00000087", NOV))
    assert rule in err.rule


def test_reversal_memo_of_an_invoice_cannot_be_reversed(seed003: Books) -> None:
    seed003.reverse_invoice("INV00000001", NOV)
    err = refused(seed003, NotReversible, lambda: seed003.reverse_credit_memo("RV-INV00000001-1", NOV))
    assert err.rule == "credit memo was created from an invoice (source Reversal); it cannot be reversed"


def test_credit_memo_refusals_of_status_permission_and_dates(books: Books, actors: Path) -> None:
    draft = credit_memo("CM00000088", "2026-11-02", [item("CMI-8801", "5.00", memo=True)], status="Draft")
    posted = credit_memo("CM00000089", "2026-11-02", [item("CMI-8901", "5.00", memo=True, sub="S00000089")])
    book(books, credit_memos=[draft, posted])
    refused(books, DocumentNotPosted, lambda: books.reverse_credit_memo("CM00000088", NOV))
    for actor in ("clerk", "invoices"):
        err = refused(books, PermissionDenied, lambda a=actor: books.as_actor(a).reverse_credit_memo("CM00000089", NOV))
        assert "Reverse Credit Memo" in err.rule
    err = refused(books, RuleViolation, lambda: books.reverse_credit_memo("CM00000089", {"memoDate": "2026-11-01"}))
    assert err.rule == "memoDate 2026-11-01 is before the credit memo date 2026-11-02"
    refused(books, NotFound, lambda: books.reverse_credit_memo("CM09999999", NOV))
    books.as_actor("memos").reverse_credit_memo("CM00000089", NOV)


# --- related documents reversed together ----------------------------------------------------------------------


def cascade_books(books: Books) -> Books:
    older_invoice = invoice("INV00000090", "2026-10-10", [item("II-9001", "80.00", sub="S00000069")])
    target = invoice("INV00000091", "2026-11-01", [item("II-9101", "300.00", taxes=[tax("TI-9101", "30.00")])])
    applied = credit_memo(
        "CM00000090",
        "2026-10-20",
        [item("CMI-9001", "15.00", memo=True)],
        applications=[{"invoiceNumber": "INV00000090", "amount": "5.00", "effectiveDate": "2026-10-20"}],
    )
    other_charge = credit_memo("CM00000091", "2026-11-02", [item("CMI-9101", "20.00", memo=True, charge="Support")])
    same_older = credit_memo("CM00000092", "2026-11-03", [item("CMI-9201", "10.00", memo=True)])
    same_newest = credit_memo(
        "CM00000093", "2026-11-04", [item("CMI-9301", "25.00", memo=True, taxes=[tax("CTI-9301", "2.50")])]
    )
    return book(books, invoices=[older_invoice, target], credit_memos=[applied, other_charge, same_older, same_newest])


def test_invoice_reversal_reverses_credit_memos_of_its_charges(books: Books) -> None:
    cascade_books(books)
    result = books.reverse_invoice("INV00000091", NOV)
    # Newest first: once CM00000093 is reversed, CM00000092 is the latest of the subscription. CM00000091 is another
    # charge; CM00000090 is partly applied (and older than CM00000091): both are left as they are.
    assert [(r.kind, r.number, r.memo_number) for r in result.reversed] == [
        ("Invoice", "INV00000091", "RV-INV00000091-1"),
        ("CreditMemo", "CM00000093", "RV-CM00000093-1"),
        ("CreditMemo", "CM00000092", "RV-CM00000092-1"),
    ]
    assert result.credit_memo is not None
    assert result.credit_memo.number == "RV-INV00000091-1"
    flags = {
        n: books.show("credit-memo", n)["reversed"] for n in ("CM00000090", "CM00000091", "CM00000092", "CM00000093")
    }
    assert flags == {"CM00000090": False, "CM00000091": False, "CM00000092": True, "CM00000093": True}
    assert books.show("debit-memo", "RV-CM00000093-1")["reasonCode"] == "Credit memo reversal"
    for original, memo in (
        ("INV00000091", "RV-INV00000091-1"),
        ("CM00000093", "RV-CM00000093-1"),
        ("CM00000092", "RV-CM00000092-1"),
    ):
        assert_zero_sum(books, original, memo)
    entries = {e.id for e in result.journal_entries}
    assert len(entries) == len(result.journal_entries) == 8


def test_related_credit_memos_need_the_credit_memo_permission(books: Books, actors: Path) -> None:
    cascade_books(books)
    err = refused(books, PermissionDenied, lambda: books.as_actor("invoices").reverse_invoice("INV00000091", NOV))
    assert err.document == "CM00000093"


def test_related_credit_memos_need_their_reason_code(books: Books) -> None:
    cascade_books(books)
    with books.engine.begin() as conn:
        conn.execute(text("DELETE FROM reason_codes WHERE name = 'Credit memo reversal'"))
    err = refused(books, UnknownReasonCode, lambda: books.reverse_invoice("INV00000091", NOV))
    assert err.rule == "Unable to get the reason code by name: Credit memo reversal"


# --- the command line -----------------------------------------------------------------------------------------


def test_cli_reverse_invoice_and_credit_memo(books: Books, cli: Any) -> None:
    db = db_url(books)
    assert cli("load", str(example("line-level-books.json")), db=db).code == 0
    assert cli("load", str(example("seed-003-books.json")), db=db).code == 0
    out = cli(
        "invoice", "reverse", "INV00000001", "--memo-date", "2026-11-16", "--comment", "Billed twice", "--json", db=db
    )
    assert out.code == 0, out.err
    data = out.json()
    assert data["creditMemo"] == {"id": "RV-INV00000001-1", "number": "RV-INV00000001-1"}
    assert data["success"] is True
    assert [e["transactionType"] for e in data["journalEntries"]] == [
        "Credit Memo Item (Charge)",
        "Credit Memo Application Item",
    ]
    assert books.show("credit-memo", "RV-INV00000001-1")["comment"] == "Billed twice"
    out = cli("credit-memo", "reverse", "CM00000001", "--body", str(example("reverse-credit-memo.json")), db=db)
    assert out.code == 0, out.err
    assert "Reversed credit memo CM00000001 (43.50) with debit memo RV-CM00000001-1." in out.out
    assert "3 journal entries posted." in out.out


def test_cli_flags_override_the_body(books: Books, cli: Any, tmp_path: Path) -> None:
    books.load(example("line-level-books.json"))
    out = cli(
        "credit-memo",
        "reverse",
        "CM00000001",
        "--body",
        str(example("reverse-credit-memo.json")),
        "--reason-code",
        "Charge dispute",
        "--apply-effective-date",
        "2026-11-20",
        "--json",
        db=db_url(books),
    )
    assert out.code == 0, out.err
    applied = [e for e in out.json()["journalEntries"] if e["transactionType"] == "Credit Memo Application Item"]
    assert [e["date"] for e in applied] == ["2026-11-20"]
    assert books.show("debit-memo", "RV-CM00000001-1")["reasonCode"] == "Charge dispute"


def test_cli_refusals_are_one_line_and_write_nothing(books: Books, cli: Any, tmp_path: Path) -> None:
    books.load(example("line-level-books.json"))
    db = db_url(books)
    with books.engine.begin() as conn:
        conn.execute(text("DELETE FROM reason_codes WHERE name = 'Credit memo reversal'"))
    before = dump(books.engine)
    out = cli("credit-memo", "reverse", "CM00000001", "--memo-date", "2026-11-16", db=db)
    assert out.code == 1
    assert out.err == "error: CM00000001, reasonCode: Unable to get the reason code by name: Credit memo reversal\n"
    out = cli("invoice", "reverse", "INV00000010", "--memo-date", "2026-11-16", db=db)
    assert out.code == 1
    assert out.err.startswith("error: INV00000010, items[II-0101]: line II-0101 has 82.50 paid or credited")
    bad = tmp_path / "bad.json"
    bad.write_text('{"memoDate": ')
    out = cli("invoice", "reverse", "INV00000010", "--body", str(bad), db=db)
    assert out.code == 1
    assert out.err.startswith("error: INV00000010: malformed JSON")
    assert dump(books.engine) == before


def test_schemas_of_the_reversal_bodies(cli: Any) -> None:
    for name, default in (("reverse-invoice", "Invoice reversal"), ("reverse-credit-memo", "Credit memo reversal")):
        schema = json.loads(cli("schema", name).out)
        assert set(schema["properties"]) == {"memoDate", "applyEffectiveDate", "reasonCode", "comment"}
        assert schema["properties"]["reasonCode"]["default"] == default
    memo_date, apply_date = parse(InvoiceReversalRequest, {"memoDate": "2026-11-16"}).dates(dt.date(2026, 12, 1))
    assert (memo_date, apply_date) == (dt.date(2026, 11, 16), dt.date(2026, 11, 16))


# --- the mirroring rule ---------------------------------------------------------------------------------------


def test_rule_no_folds_discounts_into_their_items(engine: Any) -> None:
    books = Books(engine=engine)
    books.init(settings=BookSettings(mirroring_rule="No"))
    shared_code = invoice(
        "INV00000095",
        "2026-11-02",
        [
            item("II-9501", "100.00", taxes=[tax("TI-9501", "10.00")]),
            item("II-9502", "-10.00", discount_of="II-9501", charge="Promo", taxes=[tax("TI-9502", "-1.00")]),
            item("II-9503", "0.00", charge="Free tier", taxes=[tax("TI-9503", "0.00")]),
        ],
    )
    own_code = invoice(
        "INV00000096",
        "2026-11-02",
        [
            item("II-9601", "100.00", sub="S00000096"),
            item("II-9602", "-10.00", sub="S00000096", discount_of="II-9601", code="Sales Discounts"),
        ],
    )
    book(books, invoices=[shared_code, own_code])
    books.reverse_invoice("INV00000095", NOV)
    memo = books.show("credit-memo", "RV-INV00000095-1")
    # Part 2 §9, rule No: the item net of its discount, and a zero Charge line carrying the discount's tax;
    # zero lines are left out.
    assert [
        (i["processingType"], i["amountWithoutTax"], [t["taxAmount"] for t in i["taxationItems"]])
        for i in memo["items"]
    ] == [("Charge", "90.00", ["10.00"]), ("Charge", "0.00", ["-1.00"])]
    shown = books.show("invoice", "INV00000095")
    assert [i["balance"] for i in shown["items"]] == ["0.00", "0.00", "0.00"]
    assert_zero_sum(books, "INV00000095", "RV-INV00000095-1")
    err = refused(books, NotReversible, lambda: books.reverse_invoice("INV00000096", NOV))
    assert err.rule.startswith("under the mirroring rule No discount II-9602 (Sales Discounts) is folded into item")
    assert err.field == "items[II-9602]"


def test_related_invoice_the_mirroring_rule_refuses_is_left(engine: Any) -> None:
    books = Books(engine=engine)
    books.init(settings=BookSettings(mirroring_rule="YesExceptZeroBalance"))
    zero = invoice("INV00000097", "2026-11-03", [item("II-9701", "0.00")], billRunId="BR-97")
    memo = credit_memo("CM00000097", "2026-11-03", [item("CMI-9701", "5.00", memo=True)], billRunId="BR-97")
    book(books, invoices=[zero], credit_memos=[memo])
    result = books.reverse_credit_memo("CM00000097", NOV)
    assert [r.number for r in result.reversed] == ["CM00000097"]
    assert books.show("invoice", "INV00000097")["reversed"] is False
    # On its own, the all-zero invoice is refused by the rule.
    refused(books, MirroringRuleRefuses, lambda: books.reverse_invoice("INV00000097", NOV))


# --- after a reversal -----------------------------------------------------------------------------------------


def test_reversed_documents_cannot_be_written_off(line_level: Books) -> None:
    write_off_credit_memo = getattr(line_level, "write_off_credit_memo", None)
    if write_off_credit_memo is None:
        pytest.skip("write-offs have not landed yet")
    line_level.reverse_credit_memo("CM00000001", NOV)
    err = refused(line_level, AlreadyReversed, lambda: write_off_credit_memo("CM00000001", {"memoDate": "2026-11-20"}))
    assert err.document == "CM00000001"
    line_level.load(example("seed-003-books.json"))
    line_level.reverse_invoice("INV00000001", NOV)
    refused(
        line_level, AlreadyReversed, lambda: line_level.write_off_invoice("INV00000001", {"memoDate": "2026-11-20"})
    )
