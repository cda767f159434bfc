"""What a run of the close checks looks at: one period, or the whole book up to a date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, func, select, true

from subledger.context import PeriodState, read_periods
from subledger.errors import NotFound
from subledger.storage.schema import (
    applications,
    documents,
    invoice_item_adjustments,
    journal_entries,
    payments,
    refunds,
)


@dataclass(frozen=True)
class Scope:
    """One period, or (``period`` None) the whole book up to ``as_of``; ``wanted`` names the checks of the run."""

    period: PeriodState | None
    periods: list[PeriodState]
    as_of: dt.date | None
    wanted: frozenset[str] = frozenset()

    def entries(self) -> ColumnElement[bool]:
        """The journal entries in scope."""
        return journal_entries.c.period == self.period.name if self.period else true()

    def has(self, period: str) -> bool:
        """Whether entries posted in ``period`` are in scope."""
        return self.period is None or self.period.name == period

    def dated(self, column: ColumnElement[dt.date]) -> ColumnElement[bool]:
        """Rows whose ``column`` date is in scope (the period, or anything up to ``as_of``)."""
        if self.period is not None:
            return and_(column >= self.period.start_date, column <= self.period.end_date)
        return column <= self.as_of if self.as_of else true()


def last_posting(conn: Connection) -> dt.date | None:
    """The last day anything posted on: the journal's last entry, or a later posted document, processed payment,
    application or processed adjustment (whose entries would then be missing: the comparison of the subledger with
    the journal must reach it, whatever the journal's last date)."""
    d, p, app, adj = documents, payments, applications, invoice_item_adjustments
    days = [
        conn.execute(select(func.max(journal_entries.c.entry_date))).scalar_one(),
        conn.execute(select(func.max(d.c.document_date)).where(d.c.status == "Posted")).scalar_one(),
        conn.execute(select(func.max(p.c.effective_date)).where(p.c.status == "Processed")).scalar_one(),
        conn.execute(select(func.max(app.c.effective_date))).scalar_one(),
        conn.execute(select(func.max(adj.c.adjustment_date)).where(adj.c.status == "Processed")).scalar_one(),
        conn.execute(select(func.max(refunds.c.refund_date))).scalar_one(),
        conn.execute(select(func.max(refunds.c.cancel_date))).scalar_one(),
    ]
    known = [dt.date.fromisoformat(day) if isinstance(day, str) else day for day in days if day is not None]
    return max(known) if known else None


def scope_for(conn: Connection, period: str | None, wanted: Iterable[str]) -> Scope:
    """The scope of a run: ``period`` (refused when the book has no such period), or the whole book up to the end
    of the period of the last thing posted (``last_posting``)."""
    all_periods = read_periods(conn)
    if period is not None:
        found = next((p for p in all_periods if p.name == period), None)
        if found is None:
            raise NotFound(f"no accounting period {period}", field="period")
        return Scope(found, all_periods, found.end_date, frozenset(wanted))
    last = last_posting(conn)
    as_of = next((p.end_date for p in all_periods if last is not None and p.start_date <= last <= p.end_date), last)
    return Scope(None, all_periods, as_of, frozenset(wanted))
