"""The posting rules: which accounting codes each journal transaction type debits and credits.

This is the one place that says it. Each rule names two *roles*; every document line carries the accounting code
it plays in each role (``ar``, ``revenue``, ``sales_tax``, ``on_account``, ``cash``, ``unapplied``), resolved when
the line was loaded or generated. A positive amount debits the first role and credits the second; a negative amount
flips them, so a journal line is always a positive debit or a positive credit.

The revenue role of a credit memo line is whatever the memo debits: the written-off item's deferred revenue code
for a revenue-impacting write-off, the chosen expense code for a non-revenue one (Part 1, Part 2 §7.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Role = Literal["ar", "revenue", "sales_tax", "on_account", "cash", "unapplied"]


@dataclass(frozen=True)
class Rule:
    debit: Role
    credit: Role


RULES: dict[str, Rule] = {
    # Invoices and debit memos: the customer owes the charge and its tax.
    "Invoice Item": Rule(debit="ar", credit="revenue"),
    "Taxation Item": Rule(debit="ar", credit="sales_tax"),
    "Debit Memo Item (Charge)": Rule(debit="ar", credit="revenue"),
    "Debit Memo Item (Tax)": Rule(debit="ar", credit="sales_tax"),
    # Credit memos: revenue (or the write-off expense) and tax are given back, on account.
    "Credit Memo Item (Charge)": Rule(debit="revenue", credit="on_account"),
    "Credit Memo Item (Tax)": Rule(debit="sales_tax", credit="on_account"),
    # Applying a credit memo to an invoice or debit memo line settles receivable from the on-account credit.
    "Credit Memo Application Item": Rule(debit="on_account", credit="ar"),
    # Payments: cash arrives unapplied, then settles receivable line by line.
    "External Payment": Rule(debit="cash", credit="unapplied"),
    "Electronic Payment": Rule(debit="cash", credit="unapplied"),
    "External Payment Application Item": Rule(debit="unapplied", credit="ar"),
    "Electronic Payment Application Item": Rule(debit="unapplied", credit="ar"),
    # Books without Invoice Settlement: adjustments move the item's revenue (or tax) and receivable directly.
    "Invoice Item Adjustment (Invoice)": Rule(debit="revenue", credit="ar"),
    "Invoice Item Adjustment (Tax)": Rule(debit="sales_tax", credit="ar"),
}


@dataclass(frozen=True)
class Line:
    """One journal line: a positive debit or a positive credit on one accounting code."""

    code: str
    debit: Decimal
    credit: Decimal
    item_id: str | None = None


def lines_for(
    transaction_type: str, amount: Decimal, codes: Mapping[str, str], item_id: str | None = None
) -> list[Line]:
    """The two lines a line of ``amount`` posts under ``transaction_type``; none for a zero amount."""
    if amount == 0:
        return []
    rule = RULES[transaction_type]
    debit_code, credit_code = codes[rule.debit], codes[rule.credit]
    if amount < 0:
        debit_code, credit_code, amount = credit_code, debit_code, -amount
    zero = Decimal(0)
    return [Line(debit_code, amount, zero, item_id), Line(credit_code, zero, amount, item_id)]
