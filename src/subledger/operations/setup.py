"""Creating and refreshing a book: schema (Alembic), chart of accounts, fiscal calendar, reason codes, settings.

Running it again is safe: new accounting codes and periods are added, edited codes are updated, a code removed from
the chart stays (inactive) because journal lines refer to it, and period statuses are never reset.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, select, update

from subledger.calendar import PeriodDefinition, load_calendar
from subledger.chart import Chart, load_chart
from subledger.errors import Conflict, Problem, Problems
from subledger.models.base import OutputModel
from subledger.settings import DEFAULT_REASON_CODES, BookSettings
from subledger.storage import migrate, schema
from subledger.storage.db import write_transaction


class InitResult(OutputModel):
    accounting_codes: int
    periods: int
    reason_codes: int
    settings: dict[str, str]


def init_books(engine: Engine, chart_dir: Path, periods_dir: Path, settings: BookSettings | None) -> InitResult:
    chart = load_chart(chart_dir)
    calendar = load_calendar(periods_dir)
    with write_transaction(engine) as conn:
        migrate.upgrade(conn)
        _chart(conn, chart)
        _calendar(conn, calendar)
        _reason_codes(conn)
        stored = _settings(conn, settings)
        count_codes = len(conn.execute(select(schema.accounting_codes.c.name)).all())
        count_periods = len(conn.execute(select(schema.periods.c.name)).all())
        count_reasons = len(conn.execute(select(schema.reason_codes.c.name)).all())
    return InitResult(
        accounting_codes=count_codes,
        periods=count_periods,
        reason_codes=count_reasons,
        settings=stored.to_rows(),
    )


def _chart(conn: Connection, chart: Chart) -> None:
    table = schema.accounting_codes
    existing = {r.name: r for r in conn.execute(select(table))}
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


def _calendar(conn: Connection, calendar: list[PeriodDefinition]) -> None:
    table = schema.periods
    existing = {r.name: r for r in conn.execute(select(table))}
    problems: list[Problem] = []
    for p in calendar:
        row = existing.get(p.name)
        if row is None:
            conn.execute(table.insert().values(**p.model_dump(), status="Open"))
        elif (row.start_date, row.end_date) != (p.start_date, p.end_date):
            problems.append(
                Problem(p.name, "start_date", "the calendar changes the dates of a period the book already has")
            )
    if problems:
        raise Problems(problems)


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
