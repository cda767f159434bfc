"""``posting``: which transaction type each thing posts, and which accounting code fills each role (the table)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from subledger.chart import AccountingCode, Chart
from subledger.errors import Problems
from subledger.posting import (
    RULES,
    TRANSACTION_TYPE,
    Defaults,
    DocumentKind,
    Posts,
    Role,
    TransactionType,
    line_type,
    lines_for,
    moves_receivable_of,
    resolve_codes,
    transaction_type,
)

T = TransactionType


def _code(name: str, type_: str, *, default: bool = False, active: bool = True) -> AccountingCode:
    return AccountingCode(
        name=name, number=name, type=type_, account=f"Assets:{name}", currencies=(), active=active, default=default
    )


CHART = Chart(
    [
        _code("AR", "AccountsReceivable", default=True),
        _code("AR-2", "AccountsReceivable"),
        _code("OnAccount", "On-Account Receivable", default=True),
        _code("Tax", "SalesTaxPayable", default=True),
        _code("Bank", "Cash", default=True),
        _code("Unapplied", "CustomerCashOnAccount", default=True),
    ]
)

R = Role
#: (what posts, what the line names, expected codes): every rule of ``resolve_codes``, one row each.
TABLE: list[tuple[TransactionType, dict[str, Any], dict[Role, str]]] = [
    # Loaded invoice and debit memo lines: the receivable named or the default; revenue deferred, else recognized.
    (T.INVOICE_ITEM, {"deferred": "Def", "recognized": "Rec"}, {R.AR: "AR", R.REVENUE: "Def"}),
    (T.INVOICE_ITEM, {"recognized": "Rec", "ar": "AR-2"}, {R.AR: "AR-2", R.REVENUE: "Rec"}),
    (T.DEBIT_MEMO_CHARGE, {"deferred": "Def"}, {R.AR: "AR", R.REVENUE: "Def"}),
    (T.TAXATION_ITEM, {}, {R.AR: "AR", R.SALES_TAX: "Tax"}),
    (T.DEBIT_MEMO_TAX, {"code": "VAT", "ar": "AR-2"}, {R.AR: "AR-2", R.SALES_TAX: "VAT"}),
    # Loaded credit memo lines also carry the on-account code: named or the default.
    (T.CREDIT_MEMO_CHARGE, {"deferred": "Def"}, {R.AR: "AR", R.ON_ACCOUNT: "OnAccount", R.REVENUE: "Def"}),
    (T.CREDIT_MEMO_TAX, {"on_account": "OA-2"}, {R.AR: "AR", R.ON_ACCOUNT: "OA-2", R.SALES_TAX: "Tax"}),
    # A write-off's credit memo: the item's revenue code and receivable, the default on-account code.
    (
        T.CREDIT_MEMO_CHARGE,
        {"code": "Def", "ar": "AR-2", "on_account": "OA-2", "generated": True},
        {R.AR: "AR-2", R.ON_ACCOUNT: "OnAccount", R.REVENUE: "Def"},
    ),
    # Non-revenue write-off: the charge debits the chosen code; tax too only when the book sends it there.
    (
        T.CREDIT_MEMO_CHARGE,
        {"code": "Def", "ar": "AR", "non_revenue": "BadDebt", "generated": True},
        {R.AR: "AR", R.ON_ACCOUNT: "OnAccount", R.REVENUE: "BadDebt"},
    ),
    (
        T.CREDIT_MEMO_TAX,
        {"code": "VAT", "ar": "AR", "non_revenue": "BadDebt", "generated": True},
        {R.AR: "AR", R.ON_ACCOUNT: "OnAccount", R.SALES_TAX: "VAT"},
    ),
    (
        T.CREDIT_MEMO_TAX,
        {"code": "VAT", "ar": "AR", "non_revenue": "BadDebt", "tax_to_non_revenue": True, "generated": True},
        {R.AR: "AR", R.ON_ACCOUNT: "OnAccount", R.SALES_TAX: "BadDebt"},
    ),
    # A debit memo mirroring a credit memo owes to the default receivable, whatever the credit memo line carried.
    (T.DEBIT_MEMO_CHARGE, {"code": "Def", "ar": "AR-2", "generated": True}, {R.AR: "AR", R.REVENUE: "Def"}),
    (T.DEBIT_MEMO_TAX, {"code": "VAT", "ar": "AR-2", "generated": True}, {R.AR: "AR", R.SALES_TAX: "VAT"}),
    # Payments: the bank code named or the default; unapplied is always the default.
    (T.EXTERNAL_PAYMENT, {}, {R.CASH: "Bank", R.UNAPPLIED: "Unapplied"}),
    (T.ELECTRONIC_PAYMENT, {"code": "Bank-2"}, {R.CASH: "Bank-2", R.UNAPPLIED: "Unapplied"}),
    # Adjustments: the deferred override, else the recognized one, else the adjusted line's own code.
    (T.ADJUSTMENT_CHARGE, {"code": "Def", "ar": "AR-2"}, {R.REVENUE: "Def", R.AR: "AR-2"}),
    (T.ADJUSTMENT_CHARGE, {"code": "Def", "ar": "AR", "recognized": "Rec"}, {R.REVENUE: "Rec", R.AR: "AR"}),
    (
        T.ADJUSTMENT_TAX,
        {"code": "VAT", "ar": "AR", "deferred": "Def", "recognized": "Rec"},
        {R.SALES_TAX: "Def", R.AR: "AR"},
    ),
]


@pytest.mark.parametrize(("posts", "given", "expected"), TABLE)
def test_resolve_codes(posts: TransactionType, given: dict[str, Any], expected: dict[Role, str]) -> None:
    assert resolve_codes(posts, Defaults(CHART), **given) == expected


def test_every_code_a_rule_needs_is_resolved() -> None:
    """Whatever a transaction type debits and credits, ``resolve_codes`` fills: no posting can miss a role."""
    for posts in T:
        if posts is T.CREDIT_MEMO_APPLICATION or posts in (
            T.EXTERNAL_PAYMENT_APPLICATION,
            T.ELECTRONIC_PAYMENT_APPLICATION,
        ):
            continue  # applications post the codes their two lines already carry
        extra: dict[str, Any] = {"ar": "AR", "code": "X"}
        codes = resolve_codes(posts, Defaults(CHART), **extra)
        rule = RULES[posts]
        assert {rule.debit, rule.credit} <= set(codes), posts


def test_a_missing_default_is_refused_even_when_the_line_names_its_code() -> None:
    """As before the table existed: a chart without an active default receivable cannot post a document line."""
    chart = Chart([_code("AR", "AccountsReceivable", active=False), _code("Tax", "SalesTaxPayable", default=True)])
    with pytest.raises(Problems, match="no active accounting code of type AccountsReceivable"):
        resolve_codes(T.INVOICE_ITEM, Defaults(chart), deferred="Def", ar="AR-2")


def test_transaction_types() -> None:
    assert line_type(DocumentKind.INVOICE, tax=False) == "Invoice Item"
    assert line_type(DocumentKind.INVOICE, tax=True) == "Taxation Item"
    assert line_type(DocumentKind.DEBIT_MEMO, tax=True) == "Debit Memo Item (Tax)"
    assert line_type(DocumentKind.CREDIT_MEMO, tax=False) == "Credit Memo Item (Charge)"
    assert transaction_type(Posts.PAYMENT_APPLICATION, "External") == "External Payment Application Item"
    assert transaction_type(Posts.ADJUSTMENT, "Tax") == "Invoice Item Adjustment (Tax)"
    # Every transaction type is posted by something and has a rule.
    assert set(TRANSACTION_TYPE.values()) == set(T) == set(RULES)


def test_lines_for_flips_a_negative_amount() -> None:
    codes = {R.AR: "AR", R.REVENUE: "Rev"}
    debit, credit = lines_for(T.INVOICE_ITEM, Decimal("-10.00"), codes, "i1")
    assert (debit.code, debit.debit, credit.code, credit.credit) == ("Rev", Decimal("10.00"), "AR", Decimal("10.00"))
    assert lines_for(T.INVOICE_ITEM, Decimal(0), codes) == []


def test_whose_receivable_each_transaction_type_moves() -> None:
    """Receivables aging reads this from the ledger: a document's own lines move its receivable, applications and
    adjustments their target's, credit memo lines, payments and refunds none."""
    whose = {t.value: moves_receivable_of(t) for t in T}
    assert whose == {
        "Invoice Item": "document",
        "Taxation Item": "document",
        "Debit Memo Item (Charge)": "document",
        "Debit Memo Item (Tax)": "document",
        "Credit Memo Item (Charge)": None,
        "Credit Memo Item (Tax)": None,
        "Credit Memo Application Item": "related",
        "External Payment": None,
        "Electronic Payment": None,
        "External Payment Application Item": "related",
        "Electronic Payment Application Item": "related",
        "External Refund": None,
        "Electronic Refund": None,
        "Invoice Item Adjustment (Invoice)": "related",
        "Invoice Item Adjustment (Tax)": "related",
    }
    assert moves_receivable_of("Revenue Event Item") is None
