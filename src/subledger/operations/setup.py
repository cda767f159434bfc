"""Creating and refreshing a book: schema (Alembic), chart of accounts, fiscal calendar, reason codes, settings.

The first set-up of an empty book makes whoever runs it the administrator; setting up an existing book again
changes the chart and calendar every operation relies on, so it needs Set Up Books and is recorded like any
other operation (a refusal in the audit trail).

Running it again is safe: new accounting codes and periods are added, edited codes are updated, a code removed from
the chart stays (inactive) because journal lines refer to it, and period statuses are never reset.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from subledger.calendar import PeriodDefinition, load_calendar
from subledger.chart import Chart, load_chart
from subledger.context import Context
from subledger.errors import Conflict, Problem, Problems
from subledger.models.base import OutputModel
from subledger.operations.actors import bootstrap, resolve_actor
from subledger.operations.base import run_operation
from subledger.permissions import ALL_PERMISSIONS, Actor, actor_name, require_name
from subledger.settings import DEFAULT_REASON_CODES, BookSettings
from subledger.storage import migrate, schema
from subledger.storage.db import write_transaction


class InitResult(OutputModel):
    accounting_codes: int
    periods: int
    reason_codes: int
    settings: dict[str, str]


def init_books(
    engine: Engine, actor: str | None, chart_dir: Path, periods_dir: Path, settings: BookSettings | None
) -> InitResult:
    """Create the book, or refresh it (Set Up Books): one operation, recorded like any other.

    The schema is brought up to date first, in a transaction of its own (the operation is recorded in it). The
    first set-up of an empty book needs no permission: it makes the actor running it the administrator."""
    chart = load_chart(chart_dir)
    calendar = load_calendar(periods_dir)
    name = require_name(actor_name(actor))
    with write_transaction(engine) as conn:
        migrate.upgrade(conn)
    with engine.connect() as conn:
        runner = Actor(name, ALL_PERMISSIONS) if _empty(conn) else resolve_actor(conn, name)
    request = {
        "chart": [code.model_dump(mode="json") for code in chart.codes.values()],
        "periods": [p.model_dump(mode="json") for p in calendar],
        "settings": None if settings is None else settings.to_rows(),
    }
    return run_operation(
        engine,
        kind="init",
        actor=runner,
        request=request,
        result_type=InitResult,
        body=lambda ctx: _set_up(ctx, chart, calendar, settings),
    )


def _empty(conn: Connection) -> bool:
    """A book never set up: no settings yet (they are written by the first set-up, and never removed)."""
    return conn.execute(select(schema.settings.c.key).limit(1)).first() is None


def _set_up(ctx: Context, chart: Chart, calendar: list[PeriodDefinition], settings: BookSettings | None) -> InitResult:
    conn = ctx.conn
    if _empty(conn):
        bootstrap(conn, ctx.actor.name)
    else:
        # Read again under the operation's locks: another first set-up may have committed since.
        resolve_actor(conn, ctx.actor.name).require("Set Up Books")
    _chart(conn, chart)
    _calendar(conn, calendar)
    _reason_codes(conn)
    stored = _settings(conn, settings)
    return InitResult(
        accounting_codes=len(conn.execute(select(schema.accounting_codes.c.name)).all()),
        periods=len(conn.execute(select(schema.periods.c.name)).all()),
        reason_codes=len(conn.execute(select(schema.reason_codes.c.name)).all()),
        settings=stored.to_rows(),
    )


def _chart(conn: Connection, chart: Chart) -> None:
    table = schema.accounting_codes
    existing = {r.name: r for r in conn.execute(select(table))}
    _keeps_posted_currencies(conn, chart, existing)
    _keeps_closed_accounts(conn, chart, existing)
    defaults = {code.type: chart.default(code.type).name for code in chart.codes.values() if code.active}
    for code in chart.codes.values():
        values = {
            "number": code.number,
            "type": code.type,
            "account": code.account,
            "currencies": ",".join(code.currencies),
            "active": code.active,
            "is_default": defaults.get(code.type) == code.name,
        }
        if code.name in existing:
            conn.execute(update(table).where(table.c.name == code.name).values(**values))
        else:
            conn.execute(table.insert().values(name=code.name, **values))
    for name in set(existing) - set(chart.codes):
        conn.execute(update(table).where(table.c.name == name).values(active=False, is_default=False))


def _keeps_posted_currencies(conn: Connection, chart: Chart, existing: dict[str, Any]) -> None:
    """A code keeps every currency the journal posts to it in: its ledger account would otherwise refuse those
    postings (bean-check, and the close checks of every period holding one, for good)."""
    dropped = {
        name
        for name, row in existing.items()
        if name in chart.codes and set(row.currencies.split(",")) - set(chart.codes[name].currencies)
    }
    if not dropped:
        return
    lines = schema.journal_lines
    query = (
        select(lines.c.accounting_code, lines.c.currency, func.count())
        .where(lines.c.accounting_code.in_(sorted(dropped)))
        .group_by(lines.c.accounting_code, lines.c.currency)
        .order_by(lines.c.accounting_code, lines.c.currency)
    )
    problems = [
        Problem(
            code,
            "currencies",
            f"{count} journal {'lines post' if count != 1 else 'line posts'} {currency} to it; the chart must keep "
            f"{currency} in its currencies",
        )
        for code, currency, count in conn.execute(query)
        if currency not in chart.codes[code].currencies
    ]
    if problems:
        raise Problems(problems)


def _keeps_closed_accounts(conn: Connection, chart: Chart, existing: dict[str, Any]) -> None:
    """A code keeps its ledger account while a closed period posts to it: the period's fingerprint covers the
    accounts its lines post to, so a rename would read as the closed books altered."""
    renamed = {
        name: row.account
        for name, row in existing.items()
        if name in chart.codes and chart.codes[name].account != row.account
    }
    if not renamed:
        return
    lines, entries = schema.journal_lines, schema.journal_entries
    query = (
        select(lines.c.accounting_code, func.min(entries.c.period))
        .join(entries, schema.of_entry(lines))
        .join(schema.periods, schema.periods.c.name == entries.c.period)
        .where(lines.c.accounting_code.in_(sorted(renamed)), schema.periods.c.status == "Closed")
        .group_by(lines.c.accounting_code)
        .order_by(lines.c.accounting_code)
    )
    problems = [
        Problem(
            code,
            "account",
            f"the chart renames its account {renamed[code]} to {chart.codes[code].account}, but closed period "
            f"{period} posts to it (a closed period's fingerprint covers its accounts); keep the account's name",
        )
        for code, period in conn.execute(query)
    ]
    if problems:
        raise Problems(problems)


def _calendar(conn: Connection, calendar: list[PeriodDefinition]) -> None:
    table = schema.periods
    existing = {r.name: r for r in conn.execute(select(table))}
    problems: list[Problem] = []
    for p in calendar:
        row = existing.get(p.name)
        if row is None:
            other = next(
                (r for r in existing.values() if r.start_date <= p.end_date and p.start_date <= r.end_date), None
            )
            if other is None:
                conn.execute(table.insert().values(**p.model_dump(), status="Open"))
            elif (other.start_date, other.end_date) == (p.start_date, p.end_date):
                problems.append(
                    Problem(
                        p.name,
                        "name",
                        f"the calendar renames period {other.name} ({other.start_date} to {other.end_date}): a "
                        "period the book has keeps its name",
                    )
                )
            else:
                problems.append(
                    Problem(
                        p.name,
                        "start_date",
                        f"the calendar's period {p.start_date} to {p.end_date} overlaps period {other.name} "
                        f"({other.start_date} to {other.end_date}), which the book already has",
                    )
                )
        elif (row.start_date, row.end_date) != (p.start_date, p.end_date):
            problems.append(
                Problem(p.name, "start_date", "the calendar changes the dates of a period the book already has")
            )
    if not problems:
        problems = _joined(conn, {p.name for p in calendar} - set(existing))
    if problems:
        raise Problems(problems)


def _joined(conn: Connection, added: set[str]) -> list[Problem]:
    """Each period added next to the one before it: a calendar file is contiguous on its own, but a year added
    with one missing between it and the book's periods would leave a gap no document could be dated in."""
    table = schema.periods
    rows = conn.execute(select(table.c.name, table.c.start_date, table.c.end_date).order_by(table.c.start_date)).all()
    return [
        Problem(cur.name, "start_date", f"periods must be contiguous: {prev.name} ends {prev.end_date}")
        for prev, cur in itertools.pairwise(rows)
        if (prev.name in added or cur.name in added) and cur.start_date != prev.end_date + dt.timedelta(days=1)
    ]


def _reason_codes(conn: Connection) -> None:
    table = schema.reason_codes
    existing = {(r.document_type, r.name) for r in conn.execute(select(table.c.document_type, table.c.name))}
    for document_type, names in DEFAULT_REASON_CODES.items():
        for name in names:
            if (document_type, name) not in existing:
                conn.execute(table.insert().values(document_type=document_type, name=name, active=True))


def _settings(conn: Connection, settings: BookSettings | None) -> BookSettings:
    table = schema.settings
    rows = dict(conn.execute(select(table.c.key, table.c.value)).all())
    if rows:
        stored = BookSettings.from_rows(rows)
        if settings is not None and settings != stored:
            raise Conflict(
                f"the book was created with settings {stored.to_rows()}; they cannot be changed",
                field="settings",
            )
        return stored
    chosen = settings or BookSettings()
    conn.execute(table.insert(), [{"key": k, "value": v} for k, v in chosen.to_rows().items()])
    return chosen
