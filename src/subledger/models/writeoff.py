"""Write-off requests and results, with the reference product's field names.

``WriteOffRequest`` is the body of an invoice or debit memo write-off (``memoDate``, ``reasonCode``, ``comment``,
``revenueImpacting``, ``nonRevenueWriteOffAccountingCode``, ``amount``, ``items``); without ``items`` it writes off
every open balance, with them only the amounts given. ``CreditMemoWriteOffRequest`` is the smaller body of a credit
memo write-off. ``BulkWriteOff`` is the ``--from`` file of a bulk write-off: which documents (a list, or a filter)
and the one settings body applied to each.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from subledger.models.base import MAX_ITEMS, Amount, Date, Id, Model, OneOf, OutputModel
from subledger.models.views import JournalEntryView


class WriteOffTaxationItem(Model):
    taxation_item_id: Id
    #: The tax amount written off (at most the taxation line's open balance, with its sign).
    amount: Amount


class WriteOffItem(OneOf):
    ONE_OF = ("invoice_item_id", "debit_memo_item_id")
    invoice_item_id: Id | None = None
    debit_memo_item_id: Id | None = None
    #: The charge amount written off (at most the item's open balance, with its sign); its taxation lines are
    #: listed apart, and only those listed are written off.
    amount_without_tax: Amount
    taxation_items: list[WriteOffTaxationItem] = Field(default=[], max_length=MAX_ITEMS)

    @property
    def item_id(self) -> str:
        return self.given


class WriteOffRequest(Model):
    """Write off an invoice or a debit memo: a credit memo is generated, posted and applied to it."""

    #: The generated credit memo's date, and the date it is applied; default today.
    memo_date: Date | None = None
    reason_code: str = Field(default="Write-off", min_length=1, max_length=100)
    comment: str | None = Field(default=None, max_length=255)
    revenue_impacting: Literal["Yes", "No"] = "Yes"
    non_revenue_write_off_accounting_code: str | None = Field(default=None, min_length=1, max_length=100)
    #: The total written off; with ``items`` it must equal their sum, without them the open balance.
    amount: Amount | None = None
    #: Line level: only these items and taxation items, each with its amount. Omitted: every open balance.
    items: list[WriteOffItem] | None = Field(default=None, min_length=1, max_length=MAX_ITEMS)

    @property
    def enhanced(self) -> bool:
        """Whether the request uses what only Enhanced Write-off allows."""
        return (
            self.items is not None
            or self.amount is not None
            or self.revenue_impacting == "No"
            or self.non_revenue_write_off_accounting_code is not None
        )


class CreditMemoWriteOffRequest(Model):
    """Write off a credit memo: a debit memo is generated, posted, and the credit memo applied to it."""

    memo_date: Date | None = None
    reason_code: str = Field(default="Write-off", min_length=1, max_length=100)
    comment: str | None = Field(default=None, max_length=255)


class BulkFilter(Model):
    """Which open documents to write off: of one customer account, dated before a date, or both."""

    kind: Literal["Invoice", "DebitMemo"] = "Invoice"
    account_number: Id | None = None
    #: Documents dated strictly before this date.
    older_than: Date | None = None


class BulkWriteOff(Model):
    """``subledger write-off --from FILE``: documents by number, or a filter; one settings body for all."""

    documents: list[Id] | None = Field(default=None, min_length=1)
    filter: BulkFilter | None = None
    settings: WriteOffRequest = WriteOffRequest()

    @model_validator(mode="after")
    def _one_selection(self) -> BulkWriteOff:
        if (self.documents is None) == (self.filter is None):
            raise ValueError("give exactly one of documents and filter")
        if self.settings.items is not None or self.settings.amount is not None:
            raise ValueError("a bulk write-off writes off whole open balances: settings take no items or amount")
        return self


class MemoReference(OutputModel):
    id: str
    number: str


class WriteOffResult(OutputModel):
    """What a write-off did: the generated memo, what it wrote off, and the journal entries it posted."""

    document: str
    document_kind: Literal["Invoice", "DebitMemo", "CreditMemo"]
    credit_memo: MemoReference | None = None
    debit_memo: MemoReference | None = None
    amount: str
    currency: str
    memo_date: dt.date
    period: str
    operation_id: int
    journal_entries: list[JournalEntryView] = []


class BulkFailure(OutputModel):
    document: str
    error: str
    rule: str
    field: str | None = None


class BulkWrittenOff(OutputModel):
    document: str
    memo: str
    amount: str
    currency: str


class BulkWriteOffResult(OutputModel):
    """The report of a bulk write-off: every document written off and every one refused, with the reason."""

    requested: int
    written_off: list[BulkWrittenOff]
    failed: list[BulkFailure]
