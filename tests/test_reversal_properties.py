"""The zero-sum property under random invoices: for every accounting code, an invoice's journal lines plus its
reversal's sum to zero, whatever its items, taxes, discounts and zero lines, under each mirroring rule (both
engines). The refusals the rules call for (an all-zero invoice under a rule other than Yes; under No, a discount
with a code of its own folded into its item) are the only outcomes besides an exact mirror."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from conftest import NOV, net_by_code
from subledger.api import Books
from subledger.errors import MirroringRuleRefuses, NotReversible
from subledger.settings import BookSettings, MirroringRule

REVENUE = ["Deferred Revenue", "Deferred Revenue - Services", "Sales Revenue", "Other Revenue"]
DISCOUNT = [*REVENUE, "Sales Discounts"]
_numbers = itertools.count(1)


def money(cents: int) -> str:
    return str(Decimal(cents) / 100)


@dataclass
class Line:
    cents: int
    code: str
    taxes: list[int]
    discount: bool


lines_strategy = st.lists(
    st.tuples(
        st.booleans(),  # a discount (of the first item) rather than a charge
        st.integers(min_value=-3000, max_value=60000),
        st.sampled_from([None, None, *DISCOUNT]),  # None: the code of the first item
        st.lists(st.sampled_from([0, 0, 150, 2500, -75, 999]), max_size=2),
    ),
    min_size=1,
    max_size=5,
)


def build(raw: list[tuple[bool, int, str | None, list[int]]]) -> list[Line]:
    lines: list[Line] = []
    for k, (discount, raw_cents, raw_code, taxes) in enumerate(raw):
        # Only later lines discount (the first item); discounts are negative and may carry their own code.
        if discount and k > 0:
            code = raw_code or lines[0].code
            lines.append(Line(-(abs(raw_cents) % 5000), code, [-abs(t) for t in taxes], True))
        else:
            code = REVENUE[0] if raw_code in (None, "Sales Discounts") else raw_code
            lines.append(Line(raw_cents, code, taxes, False))
    return lines


def invoice_of(number: str, account: str, lines: list[Line]) -> dict[str, Any]:
    items = []
    for k, line in enumerate(lines):
        iid = f"{number}-I{k}"
        item: dict[str, Any] = {
            "id": iid,
            "chargeName": f"Charge {k}",
            "subscriptionNumber": f"S-{number}",
            "processingType": "Discount" if line.discount else "Charge",
            "quantity": "3",
            "unitPrice": "7",
            "chargeAmount": money(line.cents),
            "financeInformation": {"deferredRevenueAccountingCode": line.code},
            "taxationItems": [
                {
                    "id": f"{iid}-T{j}",
                    "name": "VAT",
                    "taxRate": "0.20",
                    "taxRateType": "Percentage",
                    "taxAmount": money(t),
                    "financeInformation": {"salesTaxPayableAccountingCode": "Sales Tax Payable"},
                }
                for j, t in enumerate(line.taxes)
            ],
        }
        if line.discount:
            item["appliedToItemId"] = f"{number}-I0"
        items.append(item)
    return {
        "invoiceNumber": number,
        "accountNumber": account,
        "invoiceDate": "2026-11-02",
        "currency": "USD",
        "status": "Posted",
        "items": items,
    }


@pytest.mark.parametrize("rule", ["Yes", "YesExceptZeroBalance", "No"])
def test_original_plus_reversal_is_zero_per_accounting_code(engine: Engine, rule: MirroringRule) -> None:
    books = Books(engine=engine)
    books.init(settings=BookSettings(mirroring_rule=rule))

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(raw=lines_strategy)
    def check(raw: list[tuple[bool, int, str | None, list[int]]]) -> None:
        lines = build(raw)
        total = sum(line.cents + sum(line.taxes) for line in lines)
        assume(total >= 0)
        n = next(_numbers)
        number, account = f"INV-H{n:05d}", f"A-H{n:05d}"
        books.load(
            {
                "accounts": [{"accountNumber": account, "name": "Hypothesis", "currency": "USD"}],
                "invoices": [invoice_of(number, account, lines)],
            }
        )
        all_zero = all(line.cents == 0 and not any(line.taxes) for line in lines)
        folded_elsewhere = rule == "No" and any(
            line.discount and line.cents != 0 and line.code != lines[0].code for line in lines
        )
        if all_zero and rule != "Yes":
            with pytest.raises(MirroringRuleRefuses):
                books.reverse_invoice(number, NOV)
            assert books.show("invoice", number)["reversed"] is False
            return
        if folded_elsewhere:
            with pytest.raises(NotReversible, match="folded into item"):
                books.reverse_invoice(number, NOV)
            assert books.show("invoice", number)["reversed"] is False
            return
        result = books.reverse_invoice(number, NOV)
        memo = f"RV-{number}-1"
        assert [r.memo_number for r in result.reversed] == [memo]
        both = net_by_code(books, number, memo)
        assert {code: v for code, v in both.items() if v} == {}
        shown = books.show("invoice", number)
        assert shown["balance"] == "0.00"
        assert shown["reversed"] is True
        assert {i["balance"] for i in shown["items"]} <= {"0.00"}
        assert {t["balance"] for i in shown["items"] for t in i["taxationItems"]} <= {"0.00"}
        generated = books.show("credit-memo", memo)
        assert generated["unappliedAmount"] == "0.00"
        assert Decimal(generated["amount"]) == Decimal(total) / 100
        if rule == "Yes":
            # Every line is mirrored, zero lines included, with quantity and unit price copied.
            assert [i["sourceItemId"] for i in generated["items"]] == [i["id"] for i in shown["items"]]
            assert {(i["quantity"], i["unitPrice"]) for i in generated["items"]} == {("3", "7")}
            assert [len(i["taxationItems"]) for i in generated["items"]] == [len(line.taxes) for line in lines]

    check()
