"""Apply and unapply requests: the reference product's bodies for credit memos and payments, and their result.

A credit memo apply (or unapply) body names the effective date and, per invoice or debit memo, the amount and
optionally the item-level parts: ``{amount, creditMemoItemId, invoiceItemId | debitMemoItemId}`` for a charge,
``{amount, creditTaxItemId, taxationItemId}`` for tax. The credit memo side of a part may be left out; the
operation then takes the memo's lines of the same kind in line order (``operations/apply.py`` says how). A payment
apply body has the same shape without the credit memo side (the load file's application items).

Amounts are decimal strings or JSON numbers; a document's ``amount`` is the sum of its items when items are given.
Only itemised parts may be negative (settling a negative line, Part 2 §10); a document's amount never is.
Each invoice or debit memo is listed once, and each of its lines once within it (a credit memo may settle one
line from several of its own lines, each named).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from decimal import Decimal

from pydantic import AliasChoices, Field, model_validator

from subledger.models.base import MAX_ITEMS, Amount, Date, Id, Model, OutputModel, items_sum_to
from subledger.models.documents import ApplicationItem
from subledger.models.views import JournalEntryView


class CreditMemoApplicationItem(ApplicationItem):
    """One item-level part: which credit memo line (optional) settles which invoice or debit memo line."""

    credit_memo_item_id: Id | None = None
    credit_tax_item_id: Id | None = None

    @model_validator(mode="after")
    def _memo_side_matches(self) -> CreditMemoApplicationItem:
        if self.credit_memo_item_id is not None and self.credit_tax_item_id is not None:
            raise ValueError("give at most one of creditMemoItemId and creditTaxItemId")
        if self.credit_tax_item_id is not None and self.taxation_item_id is None:
            raise ValueError("creditTaxItemId settles a taxationItemId")
        if self.credit_memo_item_id is not None and self.taxation_item_id is not None:
            raise ValueError("creditMemoItemId settles an invoiceItemId or debitMemoItemId; tax needs creditTaxItemId")
        return self

    @property
    def memo_line_id(self) -> str | None:
        return self.credit_memo_item_id or self.credit_tax_item_id


class ApplyPart(Model):
    """One invoice or debit memo of an apply or unapply request: how much, and optionally item by item."""

    amount: Amount
    items: Sequence[ApplicationItem] = []

    @property
    def number(self) -> str:
        raise NotImplementedError

    @model_validator(mode="after")
    def _amount(self) -> ApplyPart:
        if self.amount < 0:
            raise ValueError(f"amount {self.amount} must not be negative")
        items_sum_to(self.amount, self.items)
        _each_line_once(self.items)
        if not self.items and self.amount == 0:
            raise ValueError("amount is zero and no items are given: nothing to apply")
        return self


def _each_line_once(items: Sequence[ApplicationItem]) -> None:
    """Refuse a part listing one line twice, as a write-off refuses an item given twice: the second was a slip (a
    pasted line), and applying both would settle the line twice over. A credit memo may settle one line from
    several of its own lines, each named; a line listed again without its memo line may be paired with the same
    memo line (``settlement.pair_memo_lines``), so it is a repeat too."""
    seen: dict[str, list[str | None]] = {}
    for item in items:
        memo_line = item.memo_line_id if isinstance(item, CreditMemoApplicationItem) else None
        before = seen.setdefault(item.given, [])
        if before and (memo_line is None or None in before or memo_line in before):
            if memo_line is not None and memo_line in before:
                raise ValueError(f"item {item.given} from {memo_line} is listed more than once in items")
            hint = (
                ": name the credit memo line each settles it from"
                if isinstance(item, CreditMemoApplicationItem)
                else ""
            )
            raise ValueError(f"item {item.given} is listed more than once in items{hint}")
        before.append(memo_line)


#: A document's id in the book is its number: the reference product's ``invoiceId`` and ``debitMemoId`` (its
#: documented request samples use them) name the same document as ``invoiceNumber`` and ``debitMemoNumber``.
_BY_ID = "the number, or the reference product's {}: the book's id of a document is its number"


class _InvoicePart(ApplyPart):
    invoice_number: Id = Field(
        validation_alias=AliasChoices("invoiceNumber", "invoiceId"), description=_BY_ID.format("invoiceId")
    )

    @property
    def number(self) -> str:
        return self.invoice_number


class _DebitMemoPart(ApplyPart):
    debit_memo_number: Id = Field(
        validation_alias=AliasChoices("debitMemoNumber", "debitMemoId"), description=_BY_ID.format("debitMemoId")
    )

    @property
    def number(self) -> str:
        return self.debit_memo_number


class CreditMemoInvoicePart(_InvoicePart):
    items: list[CreditMemoApplicationItem] = Field(default=[], max_length=MAX_ITEMS)


class CreditMemoDebitMemoPart(_DebitMemoPart):
    items: list[CreditMemoApplicationItem] = Field(default=[], max_length=MAX_ITEMS)


class PaymentInvoicePart(_InvoicePart):
    items: list[ApplicationItem] = Field(default=[], max_length=MAX_ITEMS)


class PaymentDebitMemoPart(_DebitMemoPart):
    items: list[ApplicationItem] = Field(default=[], max_length=MAX_ITEMS)


class ApplyRequest(Model):
    """What the apply and unapply requests of credit memos and payments share: the date and the parts."""

    #: Defaults to today.
    effective_date: Date | None = None
    invoices: Sequence[_InvoicePart] = []
    debit_memos: Sequence[_DebitMemoPart] = []

    @model_validator(mode="after")
    def _targets(self) -> ApplyRequest:
        if not self.invoices and not self.debit_memos:
            raise ValueError("give at least one invoice or debit memo")
        for number, count in Counter(p.number for p in self.parts()).items():
            if count > 1:
                raise ValueError(f"{number} is listed more than once")
        return self

    def parts(self) -> Iterator[ApplyPart]:
        yield from self.invoices
        yield from self.debit_memos

    def fields(self) -> Iterator[tuple[str, str, ApplyPart]]:
        """(request field, document kind, part) for every invoice and debit memo, in request order."""
        for i, invoice in enumerate(self.invoices):
            yield f"invoices[{i}]", "Invoice", invoice
        for i, memo in enumerate(self.debit_memos):
            yield f"debitMemos[{i}]", "DebitMemo", memo

    @property
    def total(self) -> Decimal:
        return sum((p.amount for p in self.parts()), Decimal(0))

    def date(self) -> dt.date:
        return self.effective_date or dt.date.today()


class CreditMemoApplyRequest(ApplyRequest):
    """``PUT /v1/credit-memos/{creditMemoKey}/apply``: the credit memo's unapplied amount to invoices/debit memos."""

    invoices: list[CreditMemoInvoicePart] = Field(default=[], max_length=MAX_ITEMS)
    debit_memos: list[CreditMemoDebitMemoPart] = Field(default=[], max_length=MAX_ITEMS)


class CreditMemoUnapplyRequest(CreditMemoApplyRequest):
    """``PUT /v1/credit-memos/{creditMemoKey}/unapply``: the same shape; the amounts return to unapplied."""


class PaymentApplyRequest(ApplyRequest):
    """``PUT /v1/payments/{paymentKey}/apply``: a processed payment's unapplied amount to invoices/debit memos."""

    invoices: list[PaymentInvoicePart] = Field(default=[], max_length=MAX_ITEMS)
    debit_memos: list[PaymentDebitMemoPart] = Field(default=[], max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _positive_items(self) -> PaymentApplyRequest:
        # A payment only settles what is owed: it never reaches a negative line (Part 2 §10).
        for part in self.parts():
            for item in part.items:
                if item.amount < 0:
                    raise ValueError(f"{part.number}: item amount {item.amount} must not be negative")
        return self


class PaymentUnapplyRequest(PaymentApplyRequest):
    """``PUT /v1/payments/{paymentKey}/unapply``: the same shape; the amounts return to the payment's unapplied
    amount (items given, or the oldest applications first)."""


class ApplicationView(OutputModel):
    """One item-level application row the operation recorded (negative when unapplied)."""

    id: str
    target_number: str
    target_item_id: str
    source_item_id: str | None = None
    amount: str
    effective_date: dt.date


class ApplyResult(OutputModel):
    source_kind: str
    number: str
    effective_date: dt.date
    #: What the operation applied (or, for an unapply, returned to unapplied).
    amount: str
    #: The credit memo's or payment's unapplied amount afterwards.
    unapplied_amount: str
    currency: str
    applications: list[ApplicationView]
    journal_entries: list[JournalEntryView]
