"""What a thing posts: its journal transaction type, the accounting code of each role, and the lines.

This is the one module that answers "what does this post". Three tables and one function:

- ``TRANSACTION_TYPE``: which transaction type each document line, application, refund and adjustment posts;
- ``RULES``: which *role* each transaction type debits and credits. A positive amount debits the first role and
  credits the second; a negative amount flips them, so a journal line is always a positive debit or credit;
- ``DEFAULT_TYPE``: the chart type whose default code fills a role a line leaves blank;
- ``resolve_codes``: the code each role of a line posts to (what the input names, the chart's default, the
  non-revenue write-off override of a credit memo's charge and, per the book's setting, tax lines). A document line
  stores these codes when it is loaded or generated; an operation posting it later reads them back.

The revenue role of a credit memo line is whatever the memo debits: the written-off item's deferred revenue code
for a revenue-impacting write-off, the chosen expense code for a non-revenue one (Part 1, Part 2 §7.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, cast, get_args

if TYPE_CHECKING:
    from subledger.chart import Chart


class DocumentKind(StrEnum):
    INVOICE = "Invoice"
    DEBIT_MEMO = "DebitMemo"
    CREDIT_MEMO = "CreditMemo"

    @property
    def label(self) -> str:
        """The kind as a sentence names it: ``invoice``, ``debit memo``, ``credit memo``."""
        return _LABEL[self]

    @property
    def a_label(self) -> str:
        """The label with its article: ``an invoice``, ``a debit memo``, ``a credit memo``."""
        return with_article(_LABEL[self])


def with_article(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


_LABEL = {
    DocumentKind.INVOICE: "invoice",
    DocumentKind.DEBIT_MEMO: "debit memo",
    DocumentKind.CREDIT_MEMO: "credit memo",
}


class Role(StrEnum):
    """The part an accounting code plays in a posting."""

    AR = "ar"
    REVENUE = "revenue"
    SALES_TAX = "sales_tax"
    ON_ACCOUNT = "on_account"
    CASH = "cash"
    UNAPPLIED = "unapplied"


#: The accounting code of each role a posting uses.
Codes = Mapping[Role, str]


class TransactionType(StrEnum):
    INVOICE_ITEM = "Invoice Item"
    TAXATION_ITEM = "Taxation Item"
    DEBIT_MEMO_CHARGE = "Debit Memo Item (Charge)"
    DEBIT_MEMO_TAX = "Debit Memo Item (Tax)"
    CREDIT_MEMO_CHARGE = "Credit Memo Item (Charge)"
    CREDIT_MEMO_TAX = "Credit Memo Item (Tax)"
    CREDIT_MEMO_APPLICATION = "Credit Memo Application Item"
    EXTERNAL_PAYMENT = "External Payment"
    ELECTRONIC_PAYMENT = "Electronic Payment"
    EXTERNAL_PAYMENT_APPLICATION = "External Payment Application Item"
    ELECTRONIC_PAYMENT_APPLICATION = "Electronic Payment Application Item"
    EXTERNAL_REFUND = "External Refund"
    ELECTRONIC_REFUND = "Electronic Refund"
    ADJUSTMENT_CHARGE = "Invoice Item Adjustment (Invoice)"
    ADJUSTMENT_TAX = "Invoice Item Adjustment (Tax)"


class Posts(StrEnum):
    """What posts: a document's charge or tax line, a payment, an application, an invoice item adjustment."""

    CHARGE = "charge"
    TAX = "tax"
    PAYMENT = "payment"
    PAYMENT_APPLICATION = "payment application"
    CREDIT_MEMO_APPLICATION = "credit memo application"
    ADJUSTMENT = "adjustment"
    REFUND = "refund"


#: A payment's type, and a credit memo refund's: External (posted by hand) or Electronic (through a gateway).
PaymentType = Literal["External", "Electronic"]
#: What an invoice item adjustment adjusts: a charge line (InvoiceDetail) or a taxation line (Tax).
AdjustedSource = Literal["InvoiceDetail", "Tax"]


def payment_type(value: str) -> PaymentType:
    """A payment or refund type as the books store it (a column of text)."""
    if value in get_args(PaymentType):
        return cast(PaymentType, value)
    raise ValueError(f"{value!r} is not a payment type (External, Electronic)")


T = TransactionType
#: (what posts, of which kind) -> the transaction type it posts. The kind is the document's kind for its lines, the
#: payment's type (External, Electronic) for a payment and its applications, the refund's type for a credit memo
#: refund, the adjusted line's source type (InvoiceDetail, Tax) for an adjustment.
TRANSACTION_TYPE: dict[tuple[Posts, DocumentKind | PaymentType | AdjustedSource], TransactionType] = {
    (Posts.CHARGE, DocumentKind.INVOICE): T.INVOICE_ITEM,
    (Posts.TAX, DocumentKind.INVOICE): T.TAXATION_ITEM,
    (Posts.CHARGE, DocumentKind.DEBIT_MEMO): T.DEBIT_MEMO_CHARGE,
    (Posts.TAX, DocumentKind.DEBIT_MEMO): T.DEBIT_MEMO_TAX,
    (Posts.CHARGE, DocumentKind.CREDIT_MEMO): T.CREDIT_MEMO_CHARGE,
    (Posts.TAX, DocumentKind.CREDIT_MEMO): T.CREDIT_MEMO_TAX,
    (Posts.CREDIT_MEMO_APPLICATION, DocumentKind.CREDIT_MEMO): T.CREDIT_MEMO_APPLICATION,
    (Posts.PAYMENT, "External"): T.EXTERNAL_PAYMENT,
    (Posts.PAYMENT, "Electronic"): T.ELECTRONIC_PAYMENT,
    (Posts.PAYMENT_APPLICATION, "External"): T.EXTERNAL_PAYMENT_APPLICATION,
    (Posts.PAYMENT_APPLICATION, "Electronic"): T.ELECTRONIC_PAYMENT_APPLICATION,
    (Posts.REFUND, "External"): T.EXTERNAL_REFUND,
    (Posts.REFUND, "Electronic"): T.ELECTRONIC_REFUND,
    (Posts.ADJUSTMENT, "InvoiceDetail"): T.ADJUSTMENT_CHARGE,
    (Posts.ADJUSTMENT, "Tax"): T.ADJUSTMENT_TAX,
}


def transaction_type(what: Posts, kind: DocumentKind | PaymentType | AdjustedSource) -> TransactionType:
    """The transaction type ``what`` of ``kind`` posts (``TRANSACTION_TYPE``)."""
    return TRANSACTION_TYPE[(what, kind)]


def line_type(kind: DocumentKind, *, tax: bool) -> TransactionType:
    """The transaction type a document line posts: its charge or its tax."""
    return TRANSACTION_TYPE[(Posts.TAX if tax else Posts.CHARGE, kind)]


@dataclass(frozen=True)
class Rule:
    debit: Role
    credit: Role


RULES: dict[TransactionType, Rule] = {
    # Invoices and debit memos: the customer owes the charge and its tax.
    T.INVOICE_ITEM: Rule(debit=Role.AR, credit=Role.REVENUE),
    T.TAXATION_ITEM: Rule(debit=Role.AR, credit=Role.SALES_TAX),
    T.DEBIT_MEMO_CHARGE: Rule(debit=Role.AR, credit=Role.REVENUE),
    T.DEBIT_MEMO_TAX: Rule(debit=Role.AR, credit=Role.SALES_TAX),
    # Credit memos: revenue (or the write-off expense) and tax are given back, on account.
    T.CREDIT_MEMO_CHARGE: Rule(debit=Role.REVENUE, credit=Role.ON_ACCOUNT),
    T.CREDIT_MEMO_TAX: Rule(debit=Role.SALES_TAX, credit=Role.ON_ACCOUNT),
    # Applying a credit memo to an invoice or debit memo line settles receivable from the on-account credit.
    T.CREDIT_MEMO_APPLICATION: Rule(debit=Role.ON_ACCOUNT, credit=Role.AR),
    # Payments: cash arrives unapplied, then settles receivable line by line.
    T.EXTERNAL_PAYMENT: Rule(debit=Role.CASH, credit=Role.UNAPPLIED),
    T.ELECTRONIC_PAYMENT: Rule(debit=Role.CASH, credit=Role.UNAPPLIED),
    T.EXTERNAL_PAYMENT_APPLICATION: Rule(debit=Role.UNAPPLIED, credit=Role.AR),
    T.ELECTRONIC_PAYMENT_APPLICATION: Rule(debit=Role.UNAPPLIED, credit=Role.AR),
    # Refunding a credit memo pays its unapplied amount out: the on-account credit leaves, cash goes to the
    # customer (domain.md §7.2 "Refund Application on CM"), one line pair per credit memo line refunded.
    T.EXTERNAL_REFUND: Rule(debit=Role.ON_ACCOUNT, credit=Role.CASH),
    T.ELECTRONIC_REFUND: Rule(debit=Role.ON_ACCOUNT, credit=Role.CASH),
    # Books without Invoice Settlement: adjustments move the item's revenue (or tax) and receivable directly.
    T.ADJUSTMENT_CHARGE: Rule(debit=Role.REVENUE, credit=Role.AR),
    T.ADJUSTMENT_TAX: Rule(debit=Role.SALES_TAX, credit=Role.AR),
}

# --- accounting codes -------------------------------------------------------------------------------------------

#: The chart type whose default code fills a role a line leaves blank (revenue has no default: a line names it).
DEFAULT_TYPE: dict[Role, str] = {
    Role.AR: "AccountsReceivable",
    Role.ON_ACCOUNT: "On-Account Receivable",
    Role.SALES_TAX: "SalesTaxPayable",
    Role.CASH: "Cash",
    Role.UNAPPLIED: "CustomerCashOnAccount",
}


class Defaults:
    """The chart's default code of each role, looked up once per operation (a bulk write-off asks per line)."""

    def __init__(self, chart: Chart) -> None:
        self._chart = chart
        self._found: dict[Role, str] = {}

    def __getitem__(self, role: Role) -> str:
        found = self._found.get(role)
        if found is None:
            found = self._found[role] = self._chart.default(DEFAULT_TYPE[role]).name
        return found


_CHARGES = {T.INVOICE_ITEM, T.DEBIT_MEMO_CHARGE, T.CREDIT_MEMO_CHARGE}
_TAXES = {T.TAXATION_ITEM, T.DEBIT_MEMO_TAX, T.CREDIT_MEMO_TAX}
_PAYMENTS = {T.EXTERNAL_PAYMENT, T.ELECTRONIC_PAYMENT}
_ADJUSTMENTS = {T.ADJUSTMENT_CHARGE, T.ADJUSTMENT_TAX}
_REFUNDS = {T.EXTERNAL_REFUND, T.ELECTRONIC_REFUND}


def resolve_codes(
    posts: TransactionType,
    defaults: Defaults,
    *,
    code: str | None = None,
    ar: str | None = None,
    on_account: str | None = None,
    deferred: str | None = None,
    recognized: str | None = None,
    non_revenue: str | None = None,
    tax_to_non_revenue: bool = False,
    generated: bool = False,
) -> dict[Role, str]:
    """The accounting code of each role of a line that posts ``posts``, from what the line names.

    ``code`` is the code the line names for its own role (revenue, sales tax, cash), ``deferred`` and
    ``recognized`` the revenue codes an invoice item or an adjustment names, ``ar``/``on_account`` its receivable
    codes; ``generated`` says the line is a write-off's or reversal's memo mirroring the line that named them.

    - document charge line: revenue = the non-revenue write-off code, else deferred, else recognized, else ``code``;
    - document tax line: sales tax = the non-revenue write-off code when the book sends tax there
      (``tax_to_non_revenue``), else ``code``, else the default;
    - receivable: ``ar``, else the default; a debit memo generated from a credit memo owes to the default;
    - on account (credit memo lines only): ``on_account``, else the default; a generated credit memo the default;
    - payment: cash = ``code``, else the default; unapplied = the default;
    - credit memo refund: cash = ``code``, else the default; on account = the refunded memo line's ``on_account``;
    - adjustment: revenue (or sales tax) = deferred, else recognized, else ``code`` (the adjusted line's own);
      receivable = the line's ``ar``.
    """
    if posts in _PAYMENTS:
        return {Role.CASH: code or defaults[Role.CASH], Role.UNAPPLIED: defaults[Role.UNAPPLIED]}
    if posts in _REFUNDS:
        return {Role.CASH: code or defaults[Role.CASH], Role.ON_ACCOUNT: on_account or defaults[Role.ON_ACCOUNT]}
    if posts in _ADJUSTMENTS:
        own = Role.REVENUE if posts is T.ADJUSTMENT_CHARGE else Role.SALES_TAX
        assert ar is not None, "an adjusted line carries its receivable code"
        return {own: deferred or recognized or code or "", Role.AR: ar}
    if posts not in _CHARGES and posts not in _TAXES:
        raise ValueError(f"{posts} is not a document line's transaction type")
    # The defaults are looked up even when the line names its own codes: a chart without one is refused alike.
    ar_default = defaults[Role.AR]
    memo = posts in (T.CREDIT_MEMO_CHARGE, T.CREDIT_MEMO_TAX)
    debit_memo = posts in (T.DEBIT_MEMO_CHARGE, T.DEBIT_MEMO_TAX)
    codes: dict[Role, str] = {Role.AR: ar_default if (generated and debit_memo) else (ar or ar_default)}
    if memo:
        on_account_default = defaults[Role.ON_ACCOUNT]
        codes[Role.ON_ACCOUNT] = on_account_default if generated else (on_account or on_account_default)
    if posts in _CHARGES:
        codes[Role.REVENUE] = non_revenue or deferred or recognized or code or ""
        return codes
    # A generated tax line mirrors one that has its code; a loaded one may leave it to the default.
    tax_default = "" if generated else defaults[Role.SALES_TAX]
    codes[Role.SALES_TAX] = non_revenue if (non_revenue and tax_to_non_revenue) else (code or tax_default)
    return codes


# --- journal lines ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One journal line: a positive debit or a positive credit on one accounting code."""

    code: str
    debit: Decimal
    credit: Decimal
    item_id: str | None = None


def _receivable_of(posts: TransactionType) -> str | None:
    if Role.AR not in (RULES[posts].debit, RULES[posts].credit):
        return None
    return "document" if posts in _CHARGES or posts in _TAXES else "related"


_RECEIVABLE_OF = {posts.value: _receivable_of(posts) for posts in TransactionType}


def moves_receivable_of(transaction_type: str) -> str | None:
    """Whose receivable an entry of ``transaction_type`` moves (what receivables aging needs from the ledger):
    ``"document"`` for an invoice's or debit memo's own lines, ``"related"`` for an application or an invoice item
    adjustment (its target's), None for what posts no receivable (credit memo lines, payments, refunds, and a
    type the book does not know). From ``RULES``, worked out once per type: the ledger export asks per entry."""
    return _RECEIVABLE_OF.get(transaction_type)


def lines_for(
    transaction_type: TransactionType, amount: Decimal, codes: Codes, item_id: str | None = None
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
