"""The rest of a document's settlement life (issue 17): generated memos that copy every descriptive field, payment
unapply, credit memo refunds and write-off recoveries. Figures are worked by hand from the rules in each test.

Every test runs on SQLite and PostgreSQL (the ``books`` fixtures).
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from conftest import cut_journal_after, db_url, dump, example, failing, journal_unguarded, raw, set_period_status
from subledger.api import Books
from subledger.errors import (
    AmountExceedsBalance,
    InvalidInput,
    NotFound,
    NothingToWriteOff,
    NotReversible,
    PeriodClosed,
    RuleViolation,
    SubledgerError,
    UnknownReasonCode,
)
from subledger.state import fetch_document
from subledger.storage.schema import document_items

HEADER = {"memoDate": "2026-11-16", "reasonCode": "Write-off", "comment": "Uncollectible"}
NOV = {"memoDate": "2026-11-16", "applyEffectiveDate": "2026-11-16"}

#: The descriptive fields of an item, as ``show`` prints them.
DESCRIPTIVE = (
    "chargeName",
    "chargeModel",
    "chargeNumber",
    "description",
    "unitOfMeasure",
    "sku",
    "skuName",
    "serviceStartDate",
    "serviceEndDate",
    "subscriptionNumber",
    "quantity",
    "unitPrice",
)


def described(item: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(item.get(name) for name in DESCRIPTIVE)


# --- 1. generated memos copy every descriptive field ----------------------------------------------------------------


def test_seed003_write_off_memo_copies_charge_model_unit_of_measure_and_service_period(seed003: Books) -> None:
    """Seed 003 case 1: the invoice's items are (Charge 1, Per Unit Pricing, 10 x 33, UOM Each) and (Charge 2, Flat
    Fee Pricing, 1 x 100, no UOM), both for the service period 2026-10-01..2026-10-31; the generated credit memo's
    items show the same charge name, charge model, quantity, unit price and UOM."""
    result = seed003.write_off_invoice("INV00000001", HEADER)
    assert result.credit_memo is not None
    memo = seed003.show("credit-memo", result.credit_memo.number)
    invoice = seed003.show("invoice", "INV00000001")
    assert [described(i) for i in memo["items"]] == [described(i) for i in invoice["items"]]
    assert [(i["chargeModel"], i.get("unitOfMeasure"), i["quantity"], i["unitPrice"]) for i in memo["items"]] == [
        ("Per Unit Pricing", "Each", "10", "33"),
        ("Flat Fee Pricing", None, "1", "100"),
    ]
    assert {i["sourceItemType"] for i in memo["items"]} == {"InvoiceDetail"}
    assert memo["referredInvoiceNumber"] == "INV00000001"
    # The columns hold them too (what a later operation, a recovery, reads back).
    with seed003.engine.connect() as conn:
        state = fetch_document(conn, result.credit_memo.number)
        rows = conn.execute(
            select(document_items.c.charge_model, document_items.c.unit_of_measure, document_items.c.service_end_date)
            .where(document_items.c.document_number == "INV00000001")
            .order_by(document_items.c.line_no)
        ).all()
    assert [(i.charge_model, i.unit_of_measure, str(i.service_start_date)) for i in state.items] == [
        ("Per Unit Pricing", "Each", "2026-10-01"),
        ("Flat Fee Pricing", None, "2026-10-01"),
    ]
    assert [(r[0], r[1], str(r[2])) for r in rows] == [
        ("Per Unit Pricing", "Each", "2026-10-31"),
        ("Flat Fee Pricing", None, "2026-10-31"),
    ]


def test_reversal_memo_copies_every_descriptive_field(seed003: Books) -> None:
    """A reversal generates a credit memo of 330 + 100 = 430 whose items describe the invoice's items exactly."""
    result = seed003.reverse_invoice("INV00000001", NOV)
    assert result.credit_memo is not None
    memo = seed003.show("credit-memo", result.credit_memo.number)
    invoice = seed003.show("invoice", "INV00000001")
    assert [described(i) for i in memo["items"]] == [described(i) for i in invoice["items"]]
    assert memo["amount"] == "430.00"


def test_debit_memo_write_off_names_the_debit_memo(line_level: Books) -> None:
    """DM00000002 (Extra seats true-up, 5 x 5 = 25.00, UOM Seat): the generated credit memo's item says it mirrors a
    debit memo line (DebitMemoDetail), keeps the UOM, and the memo refers to the debit memo as a debit memo."""
    result = line_level.write_off_debit_memo("DM00000002", HEADER)
    assert result.credit_memo is not None
    memo = line_level.show("credit-memo", result.credit_memo.number)
    assert [
        (i["chargeName"], i["unitOfMeasure"], i["sourceItemId"], i["sourceItemType"], i["amountWithoutTax"])
        for i in memo["items"]
    ] == [("Extra seats true-up", "Seat", "DMI-0003", "DebitMemoDetail", "25.00")]
    assert "referredInvoiceNumber" not in memo
    assert memo["referredDebitMemoNumber"] == "DM00000002"
    assert memo["sourceType"] == "DebitMemo"


def test_credit_memo_write_off_debit_memo_copies_the_fields(line_level: Books) -> None:
    """CM00000001 (Usage credit 40.00 + tax 3.50): the generated debit memo's item names a credit memo line."""
    result = line_level.write_off_credit_memo("CM00000001", {"memoDate": "2026-11-16"})
    assert result.debit_memo is not None
    memo = line_level.show("debit-memo", result.debit_memo.number)
    original = line_level.show("credit-memo", "CM00000001")
    assert [described(i) for i in memo["items"]] == [described(i) for i in original["items"]]
    assert [i["sourceItemType"] for i in memo["items"]] == ["CreditMemoDetail"]


# --- 2. payment unapply ---------------------------------------------------------------------------------------------


def journal_lines(books: Books, document: str, ttype: str) -> list[tuple[str, str, str, str, str | None]]:
    return [
        (str(e.date), ln.accounting_code, ln.debit, ln.credit, ln.item_id)
        for e in books.journal(document=document)
        if e.transaction_type == ttype
        for ln in e.lines
    ]


def line_balances(books: Books, kind: str, number: str) -> dict[str, str]:
    doc = books.show(kind, number)
    out: dict[str, str] = {}
    for item in doc["items"]:
        out[item["id"]] = item["balance"]
        for tax in item.get("taxationItems", []):
            out[tax["id"]] = tax["balance"]
    return out


def unapply_body(amount: str, *, date: str = "2026-11-05", items: list[dict[str, str]] | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"invoiceNumber": "INV00000010", "amount": amount}
    if items is not None:
        part["items"] = items
    return {"effectiveDate": date, "invoices": [part]}


def test_payment_unapply_returns_the_oldest_application_first(line_level: Books) -> None:
    """P00000010 (100.00, 2026-10-25) settled INV00000010's II-0101 by 82.50 (200.00 -> 117.50) and TI-0101 by
    17.50 (-> 0.00); the invoice owes 200 + 17.50 + 200 + 17.50 - 20 - 1.75 - 100 = 313.25. Unapplying 30.00 without
    items takes the oldest application first, in line order: 30.00 of II-0101 (117.50 -> 147.50); the payment's
    unapplied amount goes 0.00 -> 30.00 and the invoice's balance 313.25 -> 343.25. Posted on 2026-11-05 as the
    mirror of the application: Dr Accounts Receivable 30.00, Cr Unapplied Payments 30.00."""
    before = line_balances(line_level, "invoice", "INV00000010")
    invoice_before = line_level.show("invoice", "INV00000010")["balance"]
    assert (before["II-0101"], before["TI-0101"]) == ("117.50", "0.00")
    result = line_level.unapply_payment("P00000010", unapply_body("30.00"))
    assert (result.amount, result.unapplied_amount, str(result.effective_date)) == ("30.00", "30.00", "2026-11-05")
    assert [(a.target_item_id, a.amount) for a in result.applications] == [("II-0101", "-30.00")]
    after = line_balances(line_level, "invoice", "INV00000010")
    assert after == {**before, "II-0101": "147.50"}
    assert (invoice_before, line_level.show("invoice", "INV00000010")["balance"]) == ("313.25", "343.25")
    assert [
        ln
        for ln in journal_lines(line_level, "P00000010", "External Payment Application Item")
        if ln[0] == "2026-11-05"
    ] == [
        ("2026-11-05", "Accounts Receivable", "30.00", "0.00", "II-0101"),
        ("2026-11-05", "Unapplied Payments", "0.00", "30.00", "II-0101"),
    ]
    # The payment applies again as usual, and the books still tie.
    line_level.apply_payment(
        "P00000010",
        {"effectiveDate": "2026-11-06", "debitMemos": [{"debitMemoNumber": "DM00000002", "amount": "25.00"}]},
    )
    assert line_balances(line_level, "debit-memo", "DM00000002")["DMI-0003"] == "0.00"
    assert line_level.check().passed


def test_payment_unapply_itemised_tax_line(line_level: Books) -> None:
    """Unapplying TI-0101's 17.50 by item: the taxation item is owed again (0.00 -> 17.50), II-0101 untouched;
    the payment's unapplied amount 0.00 -> 17.50. Unapplying the remaining 82.50 then leaves it at 100.00."""
    result = line_level.unapply_payment(
        "P00000010", unapply_body("17.50", items=[{"taxationItemId": "TI-0101", "amount": "17.50"}])
    )
    assert result.unapplied_amount == "17.50"
    assert line_balances(line_level, "invoice", "INV00000010")["TI-0101"] == "17.50"
    assert line_balances(line_level, "invoice", "INV00000010")["II-0101"] == "117.50"
    result = line_level.unapply_payment("P00000010", unapply_body("82.50", date="2026-11-07"))
    assert result.unapplied_amount == "100.00"
    assert line_balances(line_level, "invoice", "INV00000010")["II-0101"] == "200.00"
    assert line_level.check().passed


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        (unapply_body("100.01"), AmountExceedsBalance, "100.00 can be unapplied"),
        (
            unapply_body("17.51", items=[{"taxationItemId": "TI-0101", "amount": "17.51"}]),
            AmountExceedsBalance,
            "17.50 can be unapplied",
        ),
        (
            {"effectiveDate": "2026-11-05", "debitMemos": [{"debitMemoNumber": "DM00000002", "amount": "1.00"}]},
            RuleViolation,
            "payment is not applied to debit memo DM00000002",
        ),
        (unapply_body("10.00", date="2026-10-20"), RuleViolation, "before the payment date"),
        (unapply_body("10.00", date="2026-12-05"), PeriodClosed, "2026-12"),
    ],
)
def test_payment_unapply_refusals_write_nothing(
    line_level: Books, body: dict[str, Any], error: type[Exception], words: str
) -> None:
    set_period_status(line_level, "2026-12", "Closed")
    before = dump(line_level.engine)
    with pytest.raises(error, match=words):
        line_level.unapply_payment("P00000010", body)
    assert dump(line_level.engine) == before


def test_cli_payment_unapply_is_idempotent_audited_and_has_a_schema(
    line_level: Books, cli: Any, tmp_path: Path
) -> None:
    """``subledger payment unapply P00000010 --body`` 30.00 from INV00000010: unapplied amount 0.00 -> 30.00; the
    same idempotency key replays the result and posts nothing more; a second 30.00 leaves 100 - 60 = 40.00 applied,
    so 40.01 is refused in one line and recorded in the audit trail."""
    url = db_url(line_level)
    body = tmp_path / "unapply.json"
    body.write_text(json.dumps(unapply_body("30.00")))
    out = cli("payment", "unapply", "P00000010", "--body", str(body), "--json", "--idempotency-key", "u1", db=url)
    assert out.code == 0, out.err
    assert (out.json()["sourceKind"], out.json()["amount"], out.json()["unappliedAmount"]) == (
        "Payment",
        "30.00",
        "30.00",
    )
    entries = len(line_level.journal())
    again = cli("payment", "unapply", "P00000010", "--body", str(body), "--json", "--idempotency-key", "u1", db=url)
    assert again.json() == out.json() | {"replayed": True}
    assert len(line_level.journal()) == entries
    text = cli("payment", "unapply", "P00000010", "--body", str(body), db=url)
    assert "Payment P00000010: 30.00 USD unapplied on 2026-11-05; unapplied amount now 60.00" in text.out
    body.write_text(json.dumps(unapply_body("40.01")))
    refused = cli("payment", "unapply", "P00000010", "--body", str(body), db=url)
    assert (refused.code, refused.err.strip()) == (
        1,
        "error: P00000010, invoices[0].amount: amount 40.01 exceeds what the payment has applied to INV00000010 "
        "(40.00 can be unapplied)",
    )
    assert [(r.kind, r.outcome) for r in line_level.audit()][-1] == ("unapply-payment", "refused")
    schema = cli("schema", "unapply-payment")
    assert {"effectiveDate", "invoices", "debitMemos"} <= set(schema.json()["properties"])


# --- 3. credit memo refunds -----------------------------------------------------------------------------------------

CM = "CM00000001"  # line-level books: Usage credit CMI-0001 40.00 + tax CTI-0001 3.50 = 43.50, dated 2026-10-15


def memo_state(books: Books) -> tuple[str, str, str]:
    memo = books.show("credit-memo", CM)
    return memo["appliedAmount"], memo["unappliedAmount"], memo["refundAmount"]


def refund_lines(books: Books, ttype: str) -> list[tuple[str, str, str, str, str | None]]:
    return journal_lines(books, CM, ttype)


def test_refund_fifo_blocks_the_reversal_until_it_is_cancelled(line_level: Books) -> None:
    """Refunding 20.00 (External, Check) on 2026-11-10 without items takes CMI-0001 first: its unapplied amount
    40.00 -> 20.00, the tax line keeps 3.50; the memo is applied 0.00, unapplied 23.50, refunded 20.00 (0 + 23.50 +
    20.00 = 43.50). External Refund on 2026-11-10: Dr Credit Memo On-Account 20.00, Cr Cash 20.00. The memo is
    partially refunded, so it cannot be reversed (seed 004); cancelling the refund on 2026-11-12 posts the mirror
    (Dr Cash 20.00, Cr Credit Memo On-Account 20.00) and gives back 43.50 unapplied: now it can be reversed."""
    result = line_level.refund_credit_memo(
        CM,
        {
            "totalAmount": "20.00",
            "refundDate": "2026-11-10",
            "methodType": "Check",
            "reasonCode": "Customer request",
            "comment": "Refund by check",
        },
    )
    assert (result.number, result.status, result.unapplied_amount, result.refund_amount) == (
        "RF-CM00000001-1",
        "Processed",
        "23.50",
        "20.00",
    )
    assert [(i.credit_memo_item_id, i.amount) for i in result.items] == [("CMI-0001", "20.00")]
    assert memo_state(line_level) == ("0.00", "23.50", "20.00")
    memo = line_level.show("credit-memo", CM)
    assert (memo["items"][0]["unappliedAmount"], memo["items"][0]["taxationItems"][0]["unappliedAmount"]) == (
        "20.00",
        "3.50",
    )
    assert refund_lines(line_level, "External Refund") == [
        ("2026-11-10", "Credit Memo On-Account", "20.00", "0.00", "CMI-0001"),
        ("2026-11-10", "Cash", "0.00", "20.00", "CMI-0001"),
    ]
    assert line_level.check().passed
    before = dump(line_level.engine)
    with pytest.raises(NotReversible, match="applied or refunded"):
        line_level.reverse_credit_memo(CM, NOV)
    assert dump(line_level.engine) == before
    cancelled = line_level.cancel_refund("RF-CM00000001-1", {"cancelDate": "2026-11-12"})
    assert (cancelled.status, str(cancelled.cancel_date), cancelled.unapplied_amount, cancelled.refund_amount) == (
        "Canceled",
        "2026-11-12",
        "43.50",
        "0.00",
    )
    assert memo_state(line_level) == ("0.00", "43.50", "0.00")
    assert refund_lines(line_level, "External Refund")[2:] == [
        ("2026-11-12", "Cash", "20.00", "0.00", "CMI-0001"),
        ("2026-11-12", "Credit Memo On-Account", "0.00", "20.00", "CMI-0001"),
    ]
    assert line_level.check().passed
    reversal = line_level.reverse_credit_memo(CM, NOV)
    assert reversal.debit_memo is not None
    assert line_level.check().passed


def test_itemised_electronic_refund_of_the_whole_memo(line_level: Books) -> None:
    """Refunding 40.00 of CMI-0001 and 3.50 of CTI-0001 (Electronic) empties the memo: applied 0.00, unapplied
    0.00, refunded 43.50. Electronic Refund: Dr Credit Memo On-Account 40.00 and 3.50, Cr Cash 40.00 and 3.50. It can
    then be neither applied nor refunded again."""
    result = line_level.refund_credit_memo(
        CM,
        {
            "type": "Electronic",
            "totalAmount": "43.50",
            "refundDate": "2026-11-10",
            "items": [
                {"creditMemoItemId": "CMI-0001", "amount": "40.00"},
                {"creditTaxItemId": "CTI-0001", "amount": "3.50"},
            ],
        },
    )
    assert (result.unapplied_amount, result.refund_amount) == ("0.00", "43.50")
    assert memo_state(line_level) == ("0.00", "0.00", "43.50")
    assert refund_lines(line_level, "Electronic Refund") == [
        ("2026-11-10", "Credit Memo On-Account", "40.00", "0.00", "CMI-0001"),
        ("2026-11-10", "Cash", "0.00", "40.00", "CMI-0001"),
        ("2026-11-10", "Credit Memo On-Account", "3.50", "0.00", "CTI-0001"),
        ("2026-11-10", "Cash", "0.00", "3.50", "CTI-0001"),
    ]
    assert line_level.check().passed
    with pytest.raises(AmountExceedsBalance, match=r"unapplied amount 0\.00"):
        line_level.refund_credit_memo(CM, {"totalAmount": "0.01", "refundDate": "2026-11-11"})
    with pytest.raises(AmountExceedsBalance):
        line_level.apply_credit_memo(
            CM, {"effectiveDate": "2026-11-11", "invoices": [{"invoiceNumber": "INV00000010", "amount": "1.00"}]}
        )


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        ({"totalAmount": "43.51", "refundDate": "2026-11-10"}, AmountExceedsBalance, "unapplied amount 43.50"),
        (
            {
                "totalAmount": "40.01",
                "refundDate": "2026-11-10",
                "items": [{"creditMemoItemId": "CMI-0001", "amount": "40.01"}],
            },
            AmountExceedsBalance,
            "unapplied amount 40.00 of line CMI-0001",
        ),
        (
            {
                "totalAmount": "1.00",
                "refundDate": "2026-11-10",
                "items": [{"creditTaxItemId": "CMI-0001", "amount": "1.00"}],
            },
            NotFound,
            "no taxation item CMI-0001",
        ),
        ({"totalAmount": "1.00", "refundDate": "2026-10-14"}, RuleViolation, "before the credit memo date"),
        ({"totalAmount": "1.00", "refundDate": "2026-12-02"}, PeriodClosed, "2026-12"),
        ({"totalAmount": "1.001", "refundDate": "2026-11-10"}, InvalidInput, "more decimals"),
    ],
)
def test_refund_refusals_write_nothing(
    line_level: Books, body: dict[str, Any], error: type[Exception], words: str
) -> None:
    set_period_status(line_level, "2026-12", "Closed")
    before = dump(line_level.engine)
    with pytest.raises(error, match=words):
        line_level.refund_credit_memo(CM, body)
    assert dump(line_level.engine) == before


def test_a_refund_amount_that_is_not_positive_is_refused_naming_its_field(line_level: Books) -> None:
    """'CM00000001: totalAmount 0 must be positive' named no field (``"field": null`` in JSON): the check ran on
    the whole body, so the refusal lost its place."""
    refunds = (
        ({"totalAmount": "0", "refundDate": "2026-11-10"}, "CM00000001, totalAmount: must be positive, not 0"),
        (
            {
                "totalAmount": "1.00",
                "refundDate": "2026-11-10",
                "items": [{"creditMemoItemId": "CMI-0001", "amount": "-1"}],
            },
            "CM00000001, items[0].amount: must be positive, not -1",
        ),
    )
    for body, message in refunds:
        with pytest.raises(SubledgerError) as refused:
            line_level.refund_credit_memo(CM, body)
        assert str(refused.value) == message


def test_refund_cancel_refusals_write_nothing(line_level: Books) -> None:
    """A refund of 10.00 on 2026-11-10: cancelling it before that date, in a closed period, or twice is refused."""
    line_level.refund_credit_memo(CM, {"totalAmount": "10.00", "refundDate": "2026-11-10"})
    set_period_status(line_level, "2026-12", "Closed")
    before = dump(line_level.engine)
    for request, error, words in (
        ({"cancelDate": "2026-11-09"}, RuleViolation, "before the refund date"),
        ({"cancelDate": "2026-12-02"}, PeriodClosed, "2026-12"),
    ):
        with pytest.raises(error, match=words):
            line_level.cancel_refund("RF-CM00000001-1", request)
        assert dump(line_level.engine) == before
    with pytest.raises(NotFound, match="no refund RF-CM00000001-2"):
        line_level.cancel_refund("RF-CM00000001-2", {"cancelDate": "2026-11-11"})
    line_level.cancel_refund("RF-CM00000001-1", {"cancelDate": "2026-11-11"})
    with pytest.raises(RuleViolation, match="refund is Canceled"):
        line_level.cancel_refund("RF-CM00000001-1", {"cancelDate": "2026-11-11"})


def test_refund_in_the_ledger_and_the_cli(line_level: Books, cli: Any, tmp_path: Path) -> None:
    """The refund's entries carry #refund and link the credit memo and the refund; the ledger's control balances
    (Credit Memo On-Account 43.50 - 20.00) still hold: the exported period checks. CLI: refund with --json and an
    idempotency key replays; ``refund cancel`` prints the mirror."""
    url = db_url(line_level)
    body = tmp_path / "refund.json"
    body.write_text(json.dumps({"totalAmount": "20.00", "refundDate": "2026-11-10", "methodType": "Check"}))
    out = cli("credit-memo", "refund", CM, "--body", str(body), "--json", "--idempotency-key", "r1", db=url)
    assert out.code == 0, out.err
    assert (out.json()["number"], out.json()["unappliedAmount"], out.json()["refundAmount"]) == (
        "RF-CM00000001-1",
        "23.50",
        "20.00",
    )
    again = cli("credit-memo", "refund", CM, "--body", str(body), "--json", "--idempotency-key", "r1", db=url)
    assert again.json() == out.json() | {"replayed": True}
    ledger = "".join(
        p.read_text() for p in line_level.export_beancount(tmp_path / "ledger") if p.suffix == ".beancount"
    )
    assert "#refund ^CM00000001 ^RF-CM00000001-1" in ledger
    assert '  refund-method: "Check"\n' in ledger
    assert "Correcting invoice error" not in ledger.split("#refund", 1)[1].split("\n\n", 1)[0]
    assert line_level.check("2026-11").passed
    text = cli("refund", "cancel", "RF-CM00000001-1", "--cancel-date", "2026-11-12", db=url)
    assert text.code == 0, text.err
    assert "Refund RF-CM00000001-1 of credit memo CM00000001: 20.00 USD cancelled on 2026-11-12" in text.out
    for name in ("refund-credit-memo", "cancel-refund"):
        assert cli("schema", name).code == 0


def test_refund_in_the_gl_export(line_level: Books, tmp_path: Path) -> None:
    """November's GL file has the External Refund lines: Dr Credit Memo On-Account 20.00 and Cr Cash 20.00 on
    2026-11-10, and the cancellation's mirror on 2026-11-12; the period's debits equal its credits."""
    line_level.refund_credit_memo(
        CM, {"totalAmount": "20.00", "refundDate": "2026-11-10", "reasonCode": "Overpaid", "comment": "By wire"}
    )
    line_level.cancel_refund("RF-CM00000001-1", {"cancelDate": "2026-11-12"})
    out = tmp_path / "gl.csv"
    line_level.export_gl("2026-11", out)
    rows = list(csv.DictReader(out.open()))
    assert [
        (r["date"], r["account_name"], r["debit"], r["credit"], r["source_document"], r["related_document"])
        for r in rows
        if r["transaction_type"] == "External Refund"
    ] == [
        ("2026-11-10", "Credit Memo On-Account", "20.00", "0.00", CM, "RF-CM00000001-1"),
        ("2026-11-10", "Cash", "0.00", "20.00", CM, "RF-CM00000001-1"),
        ("2026-11-12", "Cash", "20.00", "0.00", CM, "RF-CM00000001-1"),
        ("2026-11-12", "Credit Memo On-Account", "0.00", "20.00", CM, "RF-CM00000001-1"),
    ]
    assert {(r["reason_code"], r["comment"]) for r in rows if r["transaction_type"] == "External Refund"} == {
        ("Overpaid", "By wire")
    }
    assert sum(Decimal(r["debit"]) for r in rows) == sum(Decimal(r["credit"]) for r in rows)


# --- 4. write-off recovery ------------------------------------------------------------------------------------------

WO = "WO-INV00000001-1"  # seed 003: INV00000001 (II-0001 330.00 + II-0002 100.00, Deferred Revenue) written off


def test_revenue_write_off_recovered_in_two_parts_across_periods_then_paid(seed003: Books) -> None:
    """Seed 003's INV00000001 (430.00) is written off revenue-impacting on 2026-11-16: WO-INV00000001-1 debits
    Deferred Revenue 330.00 + 100.00. The customer pays 200.00 after all: recovering 200.00 on 2026-11-20 takes the
    write-off memo's lines in order, 200.00 of its first line (330.00): debit memo RC-WO-INV00000001-1-1 with one
    item of 200.00 (Charge 1, Per Unit Pricing, Each), Dr Accounts Receivable 200.00, Cr Deferred Revenue 200.00;
    recovered 200.00 of 430.00, 230.00 left. The payment (200.00) settles the debit memo to 0.00. In December
    (2026-12-05, a later period) the rest is recovered: 130.00 of the first line and 100.00 of the second, Dr AR
    230.00, Cr Deferred Revenue 130.00 + 100.00; nothing is left, and a third recovery is refused."""
    seed003.write_off_invoice("INV00000001", HEADER)
    first = seed003.recover_invoice_write_off(
        WO, {"memoDate": "2026-11-20", "amount": "200.00", "reasonCode": "Write-off", "comment": "Paid after all"}
    )
    dm = "RC-WO-INV00000001-1-1"
    assert (first.debit_memo, first.amount, first.recovered_amount, first.remaining_amount, first.period) == (
        dm,
        "200.00",
        "200.00",
        "230.00",
        "2026-11",
    )
    memo = seed003.show("debit-memo", dm)
    assert (memo["source"], memo["sourceDocumentNumber"], memo["balance"], memo["comment"]) == (
        "Recovery",
        WO,
        "200.00",
        "Paid after all",
    )
    assert [
        (i["chargeName"], i["chargeModel"], i["unitOfMeasure"], i["amountWithoutTax"], i["sourceItemId"], i["balance"])
        for i in memo["items"]
    ] == [("Charge 1", "Per Unit Pricing", "Each", "200.00", "WO-INV00000001-1-1", "200.00")]
    assert journal_lines(seed003, dm, "Debit Memo Item (Charge)") == [
        ("2026-11-20", "Accounts Receivable", "200.00", "0.00", f"{dm}-1"),
        ("2026-11-20", "Deferred Revenue", "0.00", "200.00", f"{dm}-1"),
    ]
    assert {e.tag for e in seed003.journal(document=dm)} == {"recovery"}
    assert {tuple(e.documents) for e in seed003.journal(document=dm)} == {(dm, WO)}
    seed003.load(
        {
            "payments": [
                {
                    "number": "P00000002",
                    "accountNumber": "A00000001",
                    "effectiveDate": "2026-11-21",
                    "currency": "USD",
                    "amount": "200.00",
                }
            ]
        }
    )
    paid = seed003.apply_payment(
        "P00000002", {"effectiveDate": "2026-11-21", "debitMemos": [{"debitMemoNumber": dm, "amount": "200.00"}]}
    )
    assert paid.unapplied_amount == "0.00"
    assert seed003.show("debit-memo", dm)["balance"] == "0.00"
    assert seed003.check().passed
    second = seed003.recover_invoice_write_off(WO, {"memoDate": "2026-12-05"})
    assert (second.amount, second.recovered_amount, second.remaining_amount, second.period) == (
        "230.00",
        "430.00",
        "0.00",
        "2026-12",
    )
    dm2 = "RC-WO-INV00000001-1-2"
    assert journal_lines(seed003, dm2, "Debit Memo Item (Charge)") == [
        ("2026-12-05", "Accounts Receivable", "130.00", "0.00", f"{dm2}-1"),
        ("2026-12-05", "Deferred Revenue", "0.00", "130.00", f"{dm2}-1"),
        ("2026-12-05", "Accounts Receivable", "100.00", "0.00", f"{dm2}-2"),
        ("2026-12-05", "Deferred Revenue", "0.00", "100.00", f"{dm2}-2"),
    ]
    assert seed003.check().passed
    before = dump(seed003.engine)
    with pytest.raises(NothingToWriteOff, match="fully recovered"):
        seed003.recover_invoice_write_off(WO, {"memoDate": "2026-12-06"})
    assert dump(seed003.engine) == before


def test_non_revenue_line_level_write_off_recovered_line_by_line(line_level: Books) -> None:
    """The line-level example writes off II-0102 150.00 and TI-0102 13.12 of INV00000010 to Bad Debt Expense
    (WO-INV00000010-1: Dr Bad Debt Expense 150.00, Dr Sales Tax Payable 13.12). Recovering 50.00 of the item and
    the whole 13.12 of tax, by line, on 2026-11-25 credits the same codes: Cr Bad Debt Expense 50.00, Cr Sales Tax
    Payable 13.12, Dr Accounts Receivable 63.12; 100.00 is left (163.12 - 63.12), 100.01 more is refused."""
    line_level.write_off_invoice("INV00000010", example("write-off-line-level.json"))
    wo = "WO-INV00000010-1"
    result = line_level.recover_invoice_write_off(
        wo,
        {
            "memoDate": "2026-11-25",
            "items": [
                {"creditMemoItemId": f"{wo}-1", "amount": "50.00"},
                {"creditTaxItemId": f"{wo}-1-T1", "amount": "13.12"},
            ],
        },
    )
    dm = f"RC-{wo}-1"
    assert (result.amount, result.written_off_amount, result.remaining_amount) == ("63.12", "163.12", "100.00")
    assert journal_lines(line_level, dm, "Debit Memo Item (Charge)") == [
        ("2026-11-25", "Accounts Receivable", "50.00", "0.00", f"{dm}-1"),
        ("2026-11-25", "Bad Debt Expense", "0.00", "50.00", f"{dm}-1"),
    ]
    assert journal_lines(line_level, dm, "Debit Memo Item (Tax)") == [
        ("2026-11-25", "Accounts Receivable", "13.12", "0.00", f"{dm}-1-T1"),
        ("2026-11-25", "Sales Tax Payable", "0.00", "13.12", f"{dm}-1-T1"),
    ]
    tax = line_level.show("debit-memo", dm)["items"][0]["taxationItems"][0]
    assert (tax["sourceTaxItemId"], tax["taxAmount"], tax["balance"]) == (f"{wo}-1-T1", "13.12", "13.12")
    assert line_level.check().passed
    before = dump(line_level.engine)
    with pytest.raises(AmountExceedsBalance, match=r"\(100\.00\)"):
        line_level.recover_invoice_write_off(wo, {"memoDate": "2026-11-26", "amount": "100.01"})
    with pytest.raises(AmountExceedsBalance, match="left to recover of line"):
        line_level.recover_invoice_write_off(
            wo, {"memoDate": "2026-11-26", "items": [{"creditTaxItemId": f"{wo}-1-T1", "amount": "0.01"}]}
        )
    assert dump(line_level.engine) == before


def test_debit_memo_write_off_recovery(line_level: Books) -> None:
    """DM00000002 (Extra seats true-up 25.00, tax 0.00) written off on 2026-11-16; recovered in full on 2026-11-30 by
    ``debit-memo recover``: Dr Accounts Receivable 25.00, Cr Deferred Revenue 25.00 (the write-off's code)."""
    line_level.write_off_debit_memo("DM00000002", HEADER)
    result = line_level.recover_debit_memo_write_off("WO-DM00000002-1", {"memoDate": "2026-11-30"})
    assert (result.document, result.document_kind, result.amount, result.remaining_amount) == (
        "DM00000002",
        "DebitMemo",
        "25.00",
        "0.00",
    )
    assert journal_lines(line_level, result.debit_memo, "Debit Memo Item (Charge)") == [
        ("2026-11-30", "Accounts Receivable", "25.00", "0.00", f"{result.debit_memo}-1"),
        ("2026-11-30", "Deferred Revenue", "0.00", "25.00", f"{result.debit_memo}-1"),
    ]
    # An invoice's recover command does not take a debit memo's write-off, and says whose it is (it said "nothing is
    # written off by it"), as a debit memo's does not take an invoice's.
    with pytest.raises(NotFound) as refused:
        line_level.recover_invoice_write_off("WO-DM00000002-1", {"memoDate": "2026-11-30"})
    assert str(refused.value) == (
        "WO-DM00000002-1: WO-DM00000002-1 wrote off debit memo DM00000002, not an invoice: recover it as a debit "
        "memo's write-off"
    )
    line_level.write_off_invoice("INV00000010", {"memoDate": "2026-11-30"})
    with pytest.raises(NotFound) as refused:
        line_level.recover_debit_memo_write_off("WO-INV00000010-1", {"memoDate": "2026-11-30"})
    assert "WO-INV00000010-1 wrote off invoice INV00000010, not a debit memo: recover it as an invoice's" in str(
        refused.value
    )
    assert line_level.check().passed


@pytest.mark.parametrize(
    ("number", "body", "error", "words"),
    [
        ("INV00000002", {"memoDate": "2026-11-20"}, NotFound, "no write-off memo INV00000002"),
        (WO, {"memoDate": "2026-11-15"}, RuleViolation, "before the write-off's memo date"),
        (WO, {"memoDate": "2026-12-02"}, PeriodClosed, "2026-12"),
        (WO, {"memoDate": "2026-11-20", "amount": "430.01"}, AmountExceedsBalance, "430.00"),
        (WO, {"memoDate": "2026-11-20", "reasonCode": "Nope"}, UnknownReasonCode, "Nope"),
    ],
)
def test_recovery_refusals_write_nothing(
    seed003: Books, number: str, body: dict[str, Any], error: type[Exception], words: str
) -> None:
    seed003.write_off_invoice("INV00000001", HEADER)
    set_period_status(seed003, "2026-12", "Closed")
    before = dump(seed003.engine)
    with pytest.raises(error, match=words):
        seed003.recover_invoice_write_off(number, body)
    assert dump(seed003.engine) == before


def test_a_recovery_amount_that_is_not_positive_is_refused_naming_its_field(seed003: Books) -> None:
    seed003.write_off_invoice("INV00000001", HEADER)
    with pytest.raises(SubledgerError) as refused:
        seed003.recover_invoice_write_off(WO, {"memoDate": "2026-11-20", "amount": "-1"})
    assert str(refused.value) == f"{WO}, amount: must be positive, not -1"


def test_recovery_in_the_ledger_and_the_cli(seed003: Books, cli: Any, tmp_path: Path) -> None:
    """``subledger invoice recover WO-INV00000001-1 --amount 100.00 --memo-date 2026-11-20``: 100.00 recovered,
    330.00 left; the ledger entry is tagged #recovery and links the debit memo and the write-off; replays by key."""
    seed003.write_off_invoice("INV00000001", HEADER)
    url = db_url(seed003)
    args = ("invoice", "recover", WO, "--amount", "100.00", "--memo-date", "2026-11-20")
    out = cli(*args, "--json", "--idempotency-key", "rc1", db=url)
    assert out.code == 0, out.err
    assert (out.json()["debitMemo"], out.json()["remainingAmount"]) == ("RC-WO-INV00000001-1-1", "330.00")
    again = cli(*args, "--json", "--idempotency-key", "rc1", db=url)
    assert again.json() == out.json() | {"replayed": True}
    ledger = "".join(p.read_text() for p in seed003.export_beancount(tmp_path / "ledger") if p.suffix == ".beancount")
    assert f"#recovery ^RC-WO-INV00000001-1-1 ^{WO} ^INV00000001" in ledger
    assert 'recovered-document: "INV00000001"' in ledger
    assert f'source-document: "{WO}"' in ledger
    assert "Recovery of write-off WO-INV00000001-1 of invoice INV00000001" in ledger
    assert cli("schema", "recover-write-off").code == 0


def test_checks_see_a_refund_without_its_entries_and_a_tampered_refund(line_level: Books) -> None:
    """A refund of 20.00 on 2026-11-10 and its cancellation on 2026-11-12 check clean. With the journal cut after
    2026-11-11 the cancellation has no entry (journal-postings names it); with the refund marked Processed again by
    hand, CMI-0001's stored unapplied amount 40.00 no longer recomputes: 40.00 - 20.00 refunded = 20.00
    (stored-balances)."""
    line_level.refund_credit_memo(CM, {"totalAmount": "20.00", "refundDate": "2026-11-10"})
    line_level.cancel_refund("RF-CM00000001-1", {"cancelDate": "2026-11-12"})
    assert line_level.check().passed
    with journal_unguarded(line_level) as conn:
        cut_journal_after(conn, "2026-11-11")
    found = failing(line_level.check())
    assert (
        "RF-CM00000001-1|None|cancellation of refund of credit memo CM00000001 dated 2026-11-12 (20.00 USD) has no "
        "journal entry"
    ) in found["journal-postings"]
    with raw(line_level) as conn:
        conn.execute(text("UPDATE refunds SET status = 'Processed'"))
    assert failing(line_level.check())["stored-balances"] == [
        "CM00000001|items[CMI-0001]|stored balance 40.00 USD but its amount less its applications and adjustments "
        "give 20.00 USD"
    ]


def test_a_refund_is_not_dated_before_the_memos_last_application_unapplication_or_refund_cancel(
    line_level: Books,
) -> None:
    """The refund was checked against the memo's unapplied amount now, but posts on its own date: CM00000001 applied
    whole on 2026-10-20 and unapplied on 2026-11-20 took a refund of 43.50 dated 2026-10-25, so that all October
    the memo had refunded what was applied (unapplied -43.50, the on-account code the wrong side of zero) and
    October closed on it. The refund date is now not before the memo's last application or unapplication (the
    reference product's rule), nor before the cancel of an earlier refund, which gives an amount back too."""
    whole = {"invoices": [{"invoiceNumber": "INV00000010", "amount": "43.50"}]}
    line_level.apply_credit_memo(CM, {"effectiveDate": "2026-10-20", **whole})
    line_level.unapply_credit_memo(CM, {"effectiveDate": "2026-11-20", **whole})
    cases = (
        ("2026-10-25", "credit memo's last application or unapplication on 2026-11-20"),
        ("2026-11-19", "credit memo's last application or unapplication on 2026-11-20"),
    )
    for day, what in cases:
        before = dump(line_level.engine)
        with pytest.raises(RuleViolation) as refused:
            line_level.refund_credit_memo(CM, {"totalAmount": "43.50", "refundDate": day})
        assert str(refused.value) == f"CM00000001, refundDate: refundDate {day} is before the {what}"
        assert dump(line_level.engine) == before
    line_level.refund_credit_memo(CM, {"totalAmount": "43.50", "refundDate": "2026-11-20"})
    line_level.cancel_refund("RF-CM00000001-1", {"cancelDate": "2026-11-25"})
    before = dump(line_level.engine)
    with pytest.raises(RuleViolation) as refused:
        line_level.refund_credit_memo(CM, {"totalAmount": "43.50", "refundDate": "2026-11-24"})
    assert str(refused.value) == (
        "CM00000001, refundDate: refundDate 2026-11-24 is before the cancel of a refund of the credit memo on "
        "2026-11-25"
    )
    assert dump(line_level.engine) == before
    line_level.refund_credit_memo(CM, {"totalAmount": "43.50", "refundDate": "2026-11-25"})
    assert memo_state(line_level) == ("0.00", "0.00", "43.50")
    assert line_level.check().passed
