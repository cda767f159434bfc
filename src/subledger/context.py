"""What an operation sees of the book: its chart, periods, settings, reason codes and actor, on one connection.

Every rule that depends on the book's configuration is asked here (is this date in an open period, is this an
active accounting code, may this actor do this), so that each operation reads as its own rules only.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from subledger.chart import AccountingCode, Chart
from subledger.errors import (
    NotFound,
    PeriodClosed,
    RuleViolation,
    UnknownAccountingCode,
    UnknownReasonCode,
    WrongSettlementMode,
)
from subledger.permissions import Actor
from subledger.posting import Defaults, DocumentKind
from subledger.settings import BookSettings
from subledger.storage import schema
from subledger.storage.bulk import one_of


@dataclass(frozen=True)
class PeriodState:
    name: str
    start_date: dt.date
    end_date: dt.date
    status: str
    fingerprint: str | None = None
    seal: str | None = None


def read_chart(conn: Connection) -> Chart:
    rows = conn.execute(select(schema.accounting_codes)).all()
    return Chart(
        [
            AccountingCode(
                name=r.name,
                number=r.number,
                type=r.type,
                account=r.account,
                currencies=tuple(r.currencies.split(",")) if r.currencies else (),
                active=r.active,
                default=r.is_default,
            )
            for r in rows
        ]
    )


def read_periods(conn: Connection, *, lock: bool = False) -> list[PeriodState]:
    """The periods in calendar order. ``lock`` (PostgreSQL) holds a share lock on them until the transaction ends,
    so a period cannot close under an operation that is posting into it; closing takes the exclusive lock."""
    query = select(schema.periods).order_by(schema.periods.c.start_date)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    rows = conn.execute(query).all()
    return [PeriodState(r.name, r.start_date, r.end_date, r.status, r.fingerprint, r.seal) for r in rows]


def read_settings(conn: Connection) -> BookSettings:
    return BookSettings.from_rows(dict(conn.execute(select(schema.settings.c.key, schema.settings.c.value)).all()))


def settles_by_memos(settings: BookSettings) -> bool:
    """Whether the book settles by credit and debit memos (Invoice Settlement) or by invoice item adjustments."""
    return settings.invoice_settlement


def require_settlement(settings: BookSettings, *, memos: bool, what: str = "", document: str | None = None) -> None:
    """The one check of a book's settlement mode (Part 1): with Invoice Settlement a book settles by credit and debit
    memos (``memos``: write-offs, reversals, memos loaded), without it by invoice item adjustments."""
    if memos and not settles_by_memos(settings):
        raise WrongSettlementMode(
            f"{what} needs Invoice Settlement, which this book does not have (it uses invoice item adjustments)",
            document=document,
        )
    if not memos and settles_by_memos(settings):
        raise WrongSettlementMode(
            "invoice item adjustments exist only in books without Invoice Settlement (this book uses credit and "
            "debit memos)",
            field="invoiceSettlement",
        )


@dataclass
class Context:
    conn: Connection
    actor: Actor
    operation_id: int
    chart: Chart = field(init=False)
    periods: list[PeriodState] = field(init=False)
    settings: BookSettings = field(init=False)
    #: The chart's default code of each role (``posting.resolve_codes`` asks it).
    defaults: Defaults = field(init=False)

    def __post_init__(self) -> None:
        self.chart = read_chart(self.conn)
        self.defaults = Defaults(self.chart)
        self.periods = read_periods(self.conn, lock=True)
        self.settings = read_settings(self.conn)
        self._starts = [p.start_date for p in self.periods]
        self._reason_codes: dict[tuple[str, str], bool] | None = None

    # --- periods ---------------------------------------------------------------------------------------------

    def period_of(self, date: dt.date) -> PeriodState | None:
        i = bisect.bisect_right(self._starts, date) - 1
        if i >= 0 and self.periods[i].end_date >= date:
            return self.periods[i]
        return None

    def is_open_for_actor(self, period: PeriodState) -> bool:
        if period.status == "Open":
            return True
        return period.status == "Pending Close" and self.actor.has("Manage Close Process")

    def first_open_period(self, after: dt.date | None = None) -> PeriodState | None:
        """The first period open to this actor (ending after ``after``, when given: where a date could move to)."""
        candidates = [p for p in self.periods if self.is_open_for_actor(p)]
        later = [p for p in candidates if after is None or p.end_date > after]
        chosen = later or candidates
        return chosen[0] if chosen else None

    def open_period(self, date: dt.date, *, document: str | None, field: str) -> str:
        """The name of the open period ``date`` falls in; refuses a date outside the calendar or in a closed one."""
        period = self.period_of(date)
        if period is None:
            raise NotFound(f"no accounting period covers {date} (see periods/)", document=document, field=field)
        if not self.is_open_for_actor(period):
            first = self.first_open_period(after=date)
            hint = f"; the first open period is {first.name} ({first.start_date})" if first else ""
            raise PeriodClosed(
                f"{date} is in accounting period {period.name}, which is {period.status}{hint}",
                document=document,
                field=field,
            )
        return period.name

    def open_period_from(self, date: dt.date, *, not_before: dt.date, what: str, document: str, field: str) -> str:
        """``open_period`` of ``date``, which may not be before ``not_before`` (``what``: the date it is after)."""
        if date < not_before:
            raise RuleViolation(f"{field} {date} is before the {what} {not_before}", document=document, field=field)
        return self.open_period(date, document=document, field=field)

    # --- chart -----------------------------------------------------------------------------------------------

    def code(
        self, name: str | None, *, document: str | None, field: str, types: Iterable[str] | None = None
    ) -> AccountingCode:
        """An active accounting code by name, optionally of one of ``types``."""
        if not name:
            raise UnknownAccountingCode("an accounting code is required", document=document, field=field)
        code = self.chart.get(name)
        if code is None:
            raise UnknownAccountingCode(f"unknown accounting code {name!r}", document=document, field=field)
        if not code.active:
            raise UnknownAccountingCode(f"accounting code {name!r} is inactive", document=document, field=field)
        allowed = tuple(types or ())
        if allowed and code.type not in allowed:
            raise RuleViolation(
                f"accounting code {name!r} is of type {code.type}, expected {' or '.join(allowed)}",
                document=document,
                field=field,
            )
        return code

    def check_currency(self, currency: str, *, document: str | None, field: str = "currency") -> None:
        if currency not in self.chart.currencies:
            raise RuleViolation(
                f"currency {currency} is not a currency of the books ({', '.join(sorted(self.chart.currencies))})",
                document=document,
                field=field,
            )

    # --- reason codes ----------------------------------------------------------------------------------------

    def reason_code(
        self, document_type: DocumentKind, name: str, *, document: str | None, field: str = "reasonCode"
    ) -> str:
        if self._reason_codes is None:
            rows = self.conn.execute(
                select(schema.reason_codes.c.document_type, schema.reason_codes.c.name, schema.reason_codes.c.active)
            ).all()
            self._reason_codes = {(r.document_type, r.name): r.active for r in rows}
        active = self._reason_codes.get((document_type, name))
        memo = document_type.label
        if active is None:
            raise UnknownReasonCode(f"unknown {memo} reason code {name!r}", document=document, field=field)
        if not active:
            raise UnknownReasonCode(f"{memo} reason code {name!r} is inactive", document=document, field=field)
        return name

    # --- locking ---------------------------------------------------------------------------------------------

    def lock_accounts(self, account_numbers: Iterable[str]) -> None:
        """Serialize writers per customer account (row locks in sorted order; SQLite's BEGIN IMMEDIATE already
        serializes every writer)."""
        numbers = sorted(set(account_numbers))
        if numbers and self.conn.dialect.name == "postgresql":
            self.conn.execute(
                select(schema.customer_accounts.c.account_number)
                .where(one_of(self.conn, schema.customer_accounts.c.account_number, numbers))
                .order_by(schema.customer_accounts.c.account_number)
                .with_for_update()
            ).all()
