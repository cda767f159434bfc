"""Recovering a written-off receivable: the request and what a recovery did.

``memoDate`` is the recovery date (default today); ``amount`` recovers that much of what the write-off wrote off
and is not yet recovered, taken from the write-off memo's lines in line order (each item, then its taxation
items); ``items`` names the write-off memo's lines (``creditMemoItemId`` or ``creditTaxItemId``) with an amount
each; neither recovers everything still written off. The reason code is a debit memo reason code (default
``Write-off``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field, model_validator

from subledger.models.base import MAX_ITEMS, Amount, Code, Date, Id, Model, OutputModel
from subledger.models.views import JournalEntryView


class RecoveryItem(Model):
    credit_memo_item_id: Id | None = None
    credit_tax_item_id: Id | None = None
    amount: Amount

    @model_validator(mode="after")
    def _one_line(self) -> RecoveryItem:
        if (self.credit_memo_item_id is None) == (self.credit_tax_item_id is None):
            raise ValueError("give exactly one of creditMemoItemId and creditTaxItemId")
        return self

    @property
    def line_id(self) -> str:
        return self.credit_memo_item_id or self.credit_tax_item_id or ""


class WriteOffRecoveryRequest(Model):
    memo_date: Date | None = None
    amount: Amount | None = None
    items: list[RecoveryItem] | None = Field(default=None, max_length=MAX_ITEMS)
    reason_code: Code = "Write-off"
    comment: str | None = Field(default=None, max_length=255)

    @model_validator(mode="after")
    def _amounts(self) -> WriteOffRecoveryRequest:
        if self.amount is not None and self.amount <= 0:
            raise ValueError(f"amount {self.amount} must be positive")
        if self.items is not None:
            if not self.items:
                raise ValueError("items is empty: name the write-off memo's lines to recover, or leave items out")
            if self.amount is not None and sum((i.amount for i in self.items), Decimal(0)) != self.amount:
                raise ValueError(f"amount {self.amount} is not the sum of its items")
            ids = [i.line_id for i in self.items]
            if len(set(ids)) != len(ids):
                raise ValueError("a write-off memo line is listed more than once in items")
        return self


class RecoveryResult(OutputModel):
    """What a recovery did: the debit memo it generated (open, for the customer's payment) and what is left."""

    write_off: str
    document: str
    document_kind: str
    debit_memo: str
    amount: str
    #: What the write-off wrote off, what all its recoveries recovered so far (this one included), and the rest.
    written_off_amount: str
    recovered_amount: str
    remaining_amount: str
    currency: str
    memo_date: dt.date
    period: str
    journal_entries: list[JournalEntryView]
