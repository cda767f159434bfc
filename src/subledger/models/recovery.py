"""Recovering a written-off receivable: the request and what a recovery did.

``memoDate`` is the recovery date (default today); ``amount`` recovers that much of what the write-off wrote off
and is not yet recovered, taken from the write-off memo's lines in line order (each item, then its taxation
items); ``items`` names the write-off memo's lines (``creditMemoItemId`` or ``creditTaxItemId``) with an amount
each; neither recovers everything still written off. The reason code is a debit memo reason code (default
``Write-off``).
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from subledger.models.base import MAX_ITEMS, Code, Date, Model, OutputModel, PositiveAmount, items_sum_to, listed_once
from subledger.models.refund import MemoLineItem
from subledger.models.views import JournalEntryView


# A write-off memo's line and the amount of it to recover (no docstring: it would become the schema's description).
class RecoveryItem(MemoLineItem):
    pass


class WriteOffRecoveryRequest(Model):
    memo_date: Date | None = None
    amount: PositiveAmount | None = None
    items: list[RecoveryItem] | None = Field(default=None, max_length=MAX_ITEMS)
    reason_code: Code = "Write-off"
    comment: str | None = Field(default=None, max_length=255)

    @model_validator(mode="after")
    def _amounts(self) -> WriteOffRecoveryRequest:
        if self.items is not None:
            if not self.items:
                raise ValueError("items is empty: name the write-off memo's lines to recover, or leave items out")
            if self.amount is not None:
                items_sum_to(self.amount, self.items)
            listed_once([i.line_id for i in self.items], "a write-off memo line")
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
