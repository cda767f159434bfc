"""Credit memo refunds: the reference product's refund body (``POST /v1/credit-memos/{key}/refunds``), its
cancellation, and what a refund did.

A refund pays part of a posted credit memo's unapplied amount back to the customer: ``totalAmount`` (at most the
unapplied amount), dated ``refundDate`` (default today), External (``methodType``: Check, Wire, ...) or
Electronic, with a reason code, a comment and a reference id. Item by item (``items``: ``creditMemoItemId`` or
``creditTaxItemId`` with an amount, summing to ``totalAmount``) or, without items, taken from the memo's lines
with unapplied amount left, in line order (FIFO, as the reference product's refunds always are).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from subledger.models.base import (
    MAX_ITEMS,
    Amount,
    Code,
    Date,
    Id,
    Model,
    OneOf,
    OutputModel,
    PositiveAmount,
    Short,
    items_sum_to,
    listed_once,
)
from subledger.models.views import JournalEntryView
from subledger.posting import PaymentType


class MemoLineItem(OneOf):
    """A credit memo's line (a refund's, or a write-off memo's a recovery takes back), named by
    ``creditMemoItemId`` or ``creditTaxItemId``, with an amount."""

    ONE_OF = ("credit_memo_item_id", "credit_tax_item_id")
    credit_memo_item_id: Id | None = None
    credit_tax_item_id: Id | None = None
    amount: Amount

    @property
    def line_id(self) -> str:
        return self.given


class RefundItem(MemoLineItem):
    amount: PositiveAmount


class CreditMemoRefundRequest(Model):
    type: PaymentType = "External"
    total_amount: PositiveAmount
    #: Defaults to today.
    refund_date: Date | None = None
    method_type: Short | None = None
    reference_id: Annotated[str, StringConstraints(max_length=60)] | None = None
    reason_code: Code | None = None
    comment: str | None = Field(default=None, max_length=255)
    items: list[RefundItem] = Field(default=[], max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _amounts(self) -> CreditMemoRefundRequest:
        items_sum_to(self.total_amount, self.items, "totalAmount")
        listed_once([i.line_id for i in self.items], "a credit memo line")
        return self


class RefundCancelRequest(Model):
    """Cancel a processed refund: its mirror is posted on ``cancelDate`` (default today)."""

    cancel_date: Date | None = None


class RefundItemView(OutputModel):
    credit_memo_item_id: str | None = None
    credit_tax_item_id: str | None = None
    amount: str


class RefundResult(OutputModel):
    number: str
    credit_memo_number: str
    type: PaymentType
    status: Literal["Processed", "Canceled"]
    amount: str
    currency: str
    refund_date: dt.date
    cancel_date: dt.date | None = None
    #: The credit memo's unapplied amount and refunded amount (processed refunds) afterwards.
    unapplied_amount: str
    refund_amount: str
    items: list[RefundItemView]
    journal_entries: list[JournalEntryView]
