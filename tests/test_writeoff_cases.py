"""Cases I-VII of Part 2 §3.4 written off for real under each mirroring rule, on SQLite and PostgreSQL.

Each case is an invoice stated as data (items with their tax, a discount, a payment on some lines); the write-off's
credit memo must have the lines the rule says, end fully applied, and leave every line it settled at zero.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from conftest import dump
from subledger.api import Books
from subledger.errors import MirroringRuleRefuses, SubledgerError
from subledger.settings import BookSettings, MirroringRule

WRITE_OFF = {"memoDate": "2026-11-16"}
# (item id, amount, tax amount or None, discount of item id or None)
Item = tuple[str, str, str | None, str | None]


def book(engine: Engine, rule: MirroringRule, items: list[Item], paid: dict[str, str] | None = None) -> Books:
    books = Books(engine=engine)
    books.init(settings=BookSettings(mirroring_rule=rule))
    invoice_items: list[dict[str, Any]] = []
    for item_id, amount, tax, discounts in items:
        entry: dict[str, Any] = {
            "id": item_id,
            "chargeName": item_id,
            "processingType": "Discount" if discounts else "Charge",
            "quantity": "1",
            "unitPrice": amount,
            "chargeAmount": amount,
            "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
        }
        if discounts:
            entry["appliedToItemId"] = discounts
        if tax is not None:
            entry["taxationItems"] = [{"id": f"T-{item_id}", "name": "Tax", "taxRate": "0.20", "taxAmount": tax}]
        invoice_items.append(entry)
    data: dict[str, Any] = {
        "accounts": [{"accountNumber": "A1", "name": "Case Co", "currency": "USD"}],
        "invoices": [
            {"invoiceNumber": "INV1", "accountNumber": "A1", "invoiceDate": "2026-10-05", "currency": "USD",
             "items": invoice_items}
        ],
    }  # fmt: skip
    if paid:
        total = sum(float(a) for a in paid.values())
        data["payments"] = [
            {"number": "P1", "accountNumber": "A1", "effectiveDate": "2026-10-20", "currency": "USD",
             "amount": f"{total:.2f}", "applications": [{"invoiceNumber": "INV1", "amount": f"{total:.2f}", "items": [
                 {("taxationItemId" if line.startswith("T-") else "invoiceItemId"): line, "amount": amount}
                 for line, amount in paid.items()]}]}
        ]  # fmt: skip
    books.load(data)
    return books


def memo_lines(books: Books, number: str) -> list[tuple[str, str, list[str]]]:
    memo = books.show("credit-memo", number)
    assert memo["unappliedAmount"] == "0.00"
    return [
        (i["processingType"], i["amountWithoutTax"], [t["taxAmount"] for t in i.get("taxationItems", [])])
        for i in memo["items"]
    ]


def balances(books: Books) -> dict[str, str]:
    out = {}
    for item in books.show("invoice", "INV1")["items"]:
        out[item["id"]] = item["balance"]
        for tax in item.get("taxationItems", []):
            out[tax["id"]] = tax["balance"]
    return out


def alike(rules: tuple[MirroringRule, ...], lines: Any) -> dict[str, Any]:
    """The same expected memo under each of ``rules`` (None: the rule refuses the write-off)."""
    return dict.fromkeys(rules, lines)


RULES: tuple[MirroringRule, ...] = ("Yes", "YesExceptZeroBalance", "No")
OTHERS: tuple[MirroringRule, ...] = ("YesExceptZeroBalance", "No")
CASES: list[tuple[str, list[Item], dict[str, str] | None, dict[str, Any]]] = [
    ("I", [("A", "100.00", "20.00", None), ("B", "10.00", "2.00", None)], None,
     alike(RULES, [("Charge", "100.00", ["20.00"]), ("Charge", "10.00", ["2.00"])])),
    ("II", [("A", "100.00", "20.00", None), ("B", "-10.00", "-2.00", None)], None,
     alike(RULES, [("Charge", "100.00", ["20.00"]), ("Charge", "-10.00", ["-2.00"])])),
    ("III", [("A", "100.00", "20.00", None), ("D", "-10.00", "-2.00", "A")], None,
     {**alike(("Yes", "YesExceptZeroBalance"), [("Charge", "100.00", ["20.00"]),
                                                        ("Discount", "-10.00", ["-2.00"])]),
      "No": [("Charge", "90.00", ["20.00"]), ("Charge", "0.00", ["-2.00"])]}),
    ("IV", [("A", "100.00", "0.00", None), ("B", "10.00", "0.00", None)], None,
     {"Yes": [("Charge", "100.00", ["0.00"]), ("Charge", "10.00", ["0.00"])],
      **alike(OTHERS, [("Charge", "100.00", []), ("Charge", "10.00", [])])}),
    ("V", [("A", "0.00", "0.00", None), ("B", "0.00", "0.00", None)], None,
     {"Yes": [("Charge", "0.00", ["0.00"]), ("Charge", "0.00", ["0.00"])], **alike(OTHERS, None)}),
    ("VI", [("A", "100.00", "20.00", None), ("B", "10.00", "2.00", None)], {"B": "10.00", "T-B": "2.00"},
     {"Yes": [("Charge", "100.00", ["20.00"]), ("Charge", "0.00", ["0.00"])],
      **alike(OTHERS, [("Charge", "100.00", ["20.00"])])}),
    ("VII", [("A", "10.00", "2.00", None), ("B", "-10.00", "-2.00", None)], None,
     alike(RULES, [("Charge", "10.00", ["2.00"]), ("Charge", "-10.00", ["-2.00"])])),
]  # fmt: skip


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize(("case", "items", "paid", "expected"), CASES, ids=[c[0] for c in CASES])
def test_case_under_rule(
    engine: Engine,
    rule: MirroringRule,
    case: str,
    items: list[Item],
    paid: dict[str, str] | None,
    expected: dict[str, Any],
) -> None:
    books = book(engine, rule, items, paid)
    if expected[rule] is None:
        before = dump(engine)
        with pytest.raises(MirroringRuleRefuses):
            books.write_off_invoice("INV1", WRITE_OFF)
        assert dump(engine) == before
        return
    try:
        result = books.write_off_invoice("INV1", WRITE_OFF)
    except SubledgerError as exc:  # pragma: no cover - the message says which case broke
        pytest.fail(f"case {case} under {rule}: {exc}")
    assert result.credit_memo is not None
    assert memo_lines(books, result.credit_memo.number) == expected[rule]
    # Every line ends at zero: written off, or (case VI) paid before.
    assert set(balances(books).values()) == {"0.00"}
