"""Reversal requests and results: the reference product's reverse bodies, and what a reversal made.

An invoice reversal generates a credit memo (reason code ``Invoice reversal`` by default) and a credit memo
reversal a debit memo (``Credit memo reversal``). The generated memo is dated ``memoDate`` and applied on
``applyEffectiveDate``, which cannot come before it. Both default to today; the apply effective date defaults to the
memo date, so that a memo date alone is never refused for an earlier, defaulted apply date.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, ValidationInfo, field_validator

from subledger.models.base import Date, Model, OutputModel
from subledger.models.views import JournalEntryView

INVOICE_REVERSAL = "Invoice reversal"
CREDIT_MEMO_REVERSAL = "Credit memo reversal"


class _ReversalRequest(Model):
    memo_date: Date | None = None
    apply_effective_date: Date | None = None
    reason_code: str = Field(min_length=1, max_length=100)
    comment: str | None = Field(default=None, max_length=255)

    @field_validator("apply_effective_date")
    @classmethod
    def _apply_not_before_memo(cls, apply_date: dt.date | None, info: ValidationInfo) -> dt.date | None:
        # On the field (memoDate, declared before it, is validated first), so that the refusal names it.
        memo_date = info.data.get("memo_date")
        if memo_date is not None and apply_date is not None and apply_date < memo_date:
            raise ValueError(f"applyEffectiveDate {apply_date} is before memoDate {memo_date}")
        return apply_date

    def dates(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """The memo date and apply effective date, defaults filled in."""
        memo_date = self.memo_date or today
        return memo_date, self.apply_effective_date or memo_date


class InvoiceReversalRequest(_ReversalRequest):
    """``PUT /v1/invoices/{invoiceKey}/reverse``: the generated credit memo's date, apply date, reason, comment."""

    reason_code: str = Field(default=INVOICE_REVERSAL, min_length=1, max_length=100)


class CreditMemoReversalRequest(_ReversalRequest):
    """``PUT /v1/credit-memos/{creditMemoKey}/reverse``: the generated debit memo's date, apply date, reason."""

    reason_code: str = Field(default=CREDIT_MEMO_REVERSAL, min_length=1, max_length=100)


class MemoRef(OutputModel):
    #: Generated memos are known by their number; ``id`` is kept for the reference product's response shape.
    id: str
    number: str


class ReversedDocument(OutputModel):
    """One document reversed by the operation (the one asked for, or a related one reversed with it)."""

    kind: str
    number: str
    memo_kind: str
    memo_number: str
    amount: str


class ReversalResult(OutputModel):
    credit_memo: MemoRef | None = None
    debit_memo: MemoRef | None = None
    success: bool = True
    reversed: list[ReversedDocument]
    journal_entries: list[JournalEntryView]
