"""Output models: what ``show``, ``journal`` and ``period list`` print (money as decimal strings)."""

from __future__ import annotations

import datetime as dt

from subledger.models.base import OutputModel


class JournalLineView(OutputModel):
    line_no: int
    accounting_code: str
    account_number_gl: str
    debit: str
    credit: str
    currency: str
    item_id: str | None = None


class JournalEntryView(OutputModel):
    id: str
    account_number: str
    date: dt.date
    period: str
    transaction_type: str
    tag: str
    description: str
    documents: list[str]
    currency: str
    lines: list[JournalLineView]


class PeriodView(OutputModel):
    name: str
    start_date: dt.date
    end_date: dt.date
    fiscal_year: int
    fiscal_quarter: int
    status: str
    entries: int
    fingerprint: str | None = None
