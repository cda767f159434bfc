"""The rest of a document's settlement life (issue 17): generated memos that copy every descriptive field, payment
unapply, credit memo refunds and write-off recoveries. Figures are worked by hand from the rules in each test.

Every test runs on SQLite and PostgreSQL (the ``books`` fixtures).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from subledger.api import Books
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
