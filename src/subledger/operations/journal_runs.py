"""Journal runs, as in the reference product: which journal entries go to the ERP, and when they count as
transferred to accounting.

- **create** takes a period's journal entries that are in no run yet (cancelled runs' entries included) and records
  the run (``JR-00000001``, dated on the period's last day) with its summary journal entries: per transaction type
  and currency, each accounting code's debits and credits. The run is **Processing**: its files can be rendered in
  any format, any number of times (``export.gl``), and rendering writes nothing to the books.
- **confirm** (the ERP accepted the files) makes it **Completed** and marks the documents, payments and invoice item
  adjustments its entries post as transferred to accounting (what blocks a credit memo reversal).
- **error** records that the ERP rejected it (**Error**, with the reason); it can then be confirmed (imported after
  all) or cancelled.
- **cancel** (from Processing or Error; never once Completed) releases its entries to the next run.

Each is one operation needing the Transfer to Accounting permission. Only one run is created at a time
(PostgreSQL: a lock on the run entries; SQLite: its single writer), so an entry is never in two live runs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, literal, select, text, update

from subledger.context import Context, read_chart, read_periods
from subledger.errors import NotFound, RuleViolation
from subledger.export import gl
from subledger.export.gl.model import Account, GLEntry, GLLine, RunInfo, accounts_of
from subledger.models.base import OutputModel
from subledger.models.journal_run import JournalEntryBasicInformation
from subledger.money import ZERO, fmt
from subledger.permissions import Permission
from subledger.storage.cursor import byte_order, driver_rows
from subledger.storage.schema import (
    documents,
    invoice_item_adjustments,
    journal_entries,
    journal_run_entries,
    journal_run_totals,
    journal_runs,
    of_entry,
    payments,
)
from subledger.storage.types import decoder, raw_money_sql

PERMISSION: Permission = "Transfer to Accounting"


class SummaryLine(OutputModel):
    accounting_code: str
    debit: str
    credit: str


class SummaryEntry(OutputModel):
    """A summary journal entry of a run: one transaction type in one currency."""

    number: str
    transaction_type: str
    currency: str
    lines: list[SummaryLine]


class JournalRunView(OutputModel):
    number: str
    period: str
    entry_date: dt.date
    status: str
    entry_count: int
    line_count: int
    created_by: str
    created_at: dt.datetime
    status_by: str | None = None
    status_at: dt.datetime | None = None
    status_note: str | None = None
    #: Debits per currency.
    totals: dict[str, str] = {}
    summary: list[SummaryEntry] | None = None


#: The reference product's ``transferredToAccounting`` of a summary journal entry, from its run's status: the book
#: transfers a run as a whole (one run is one ERP file), so every entry of a run says the same.
TRANSFERRED = {"Processing": "Processing", "Completed": "Yes", "Error": "Error", "Cancelled": "No"}


class SummaryEntryView(SummaryEntry):
    """A summary journal entry with what the reference product shows beside it (``GET /v1/journal-entries/{je}``):
    its run, date and period, Created or Cancelled (with its run), and ``transferredToAccounting``."""

    journal_run_number: str
    journal_entry_date: dt.date
    accounting_period_name: str
    status: str
    transferred_to_accounting: str
    #: The run's summary entries, all transferred (or not) together with this one.
    entries_in_run: int


class JournalRunResult(OutputModel):
    """What ``create`` did: the run, or none when every entry of the period is in a run already."""

    period: str
    run: JournalRunView | None


def run_number(run_id: int) -> str:
    return f"JR-{run_id:08d}"


# --- operations ---------------------------------------------------------------------------------------------------


def create(ctx: Context, period_name: str) -> JournalRunResult:
    taken = take(ctx, period_name)
    if taken is None:
        return JournalRunResult(period=period_name, run=None)
    run_id, count = taken
    _sql_totals(ctx.conn, run_id, count)
    return JournalRunResult(period=period_name, run=view(ctx.conn, run_number(run_id)))


def _sql_totals(conn: Connection, run_id: int, count: int) -> None:
    conn.execute(text(_TOTALS_SQL), {"run_id": run_id})
    lines = conn.execute(
        text(
            "SELECT count(*) FROM journal_run_entries r JOIN journal_lines l ON l.account_number = r.account_number "
            "AND l.entry_seq = r.entry_seq WHERE r.run_id = :run_id"
        ),
        {"run_id": run_id},
    ).scalar_one()
    _counts(conn, run_id, count, int(lines))


def take(ctx: Context, period_name: str) -> tuple[int, int] | None:
    """Record a run taking the period's journal entries that are in no live run: its id and entry count (its
    totals and line count are the caller's to record, ``create`` by SQL, ``export gl --period`` from the lines it
    renders). None, and nothing written, when there is nothing to take."""
    ctx.actor.require(PERMISSION, document=period_name)
    conn = ctx.conn
    period = next((p for p in read_periods(conn) if p.name == period_name), None)
    if period is None:
        raise NotFound(f"no accounting period {period_name}", document=period_name, field="period")
    if conn.dialect.name == "postgresql":
        # One run created at a time: two must not both take the same entries.
        conn.exec_driver_sql("LOCK TABLE journal_run_entries IN EXCLUSIVE MODE")
    free = ~exists().where(of_entry(journal_run_entries))
    run_id = int(conn.execute(select(func.coalesce(func.max(journal_runs.c.id), 0))).scalar_one()) + 1
    conn.execute(
        insert(journal_runs).values(
            id=run_id,
            number=run_number(run_id),
            period=period.name,
            entry_date=period.end_date,
            status="Processing",
            entry_count=0,
            line_count=0,
            created_by=ctx.actor.name,
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    conn.execute(
        insert(journal_run_entries).from_select(
            ["account_number", "entry_seq", "run_id"],
            select(journal_entries.c.account_number, journal_entries.c.seq, literal(run_id)).where(
                journal_entries.c.period == period.name, free
            ),
        )
    )
    count = int(
        conn.execute(
            select(func.count()).select_from(journal_run_entries).where(journal_run_entries.c.run_id == run_id)
        ).scalar_one()
    )
    if count == 0:
        # Nothing to take: the run row written a moment ago in this transaction goes (no run records nothing).
        conn.execute(delete(journal_runs).where(journal_runs.c.id == run_id))
        return None
    return run_id, count


def _counts(conn: Connection, run_id: int, entries: int, lines: int) -> None:
    conn.execute(update(journal_runs).where(journal_runs.c.id == run_id).values(entry_count=entries, line_count=lines))


@dataclass
class Totals:
    """A run's summary journal entries added up from its lines: per (transaction type, currency), each
    accounting code's [debits, credits]; and its line count."""

    sums: dict[tuple[str, str], dict[str, list[Decimal]]] = field(default_factory=dict)
    lines: int = 0


def summing(entries: Iterator[GLEntry], totals: Totals) -> Generator[GLEntry, None, None]:
    """``entries`` passed through, each line added to ``totals``: the run's summary journal entries, from the lines
    a detail render reads anyway (``export gl --period`` records them so, ``create`` by SQL)."""
    sums = totals.sums
    for entry in entries:
        key = (entry.transaction_type, entry.currency)
        by_code = sums.get(key)
        if by_code is None:
            by_code = sums[key] = {}
        for line in entry.lines:
            pair = by_code.get(line.code)
            if pair is None:
                by_code[line.code] = [line.debit, line.credit]
            else:
                pair[0] += line.debit
                pair[1] += line.credit
        totals.lines += len(entry.lines)
        yield entry


def record_totals(conn: Connection, run_id: int, entries: int, totals: Totals) -> None:
    """Record what ``summing`` added up (what ``_TOTALS_SQL`` computes) and the run's counts."""
    rows = [
        {"run_id": run_id, "transaction_type": t, "currency": c, "accounting_code": code, "debit": d, "credit": k}
        for (t, c), by_code in sorted(totals.sums.items())
        for code, (d, k) in sorted(by_code.items())
    ]
    if rows:
        conn.execute(insert(journal_run_totals), rows)
    _counts(conn, run_id, entries, totals.lines)


#: The run's summary journal entries: per transaction type and currency, each accounting code's debits and credits.
_TOTALS_SQL = """
INSERT INTO journal_run_totals (run_id, transaction_type, currency, accounting_code, debit, credit)
SELECT r.run_id, e.transaction_type, e.currency, l.accounting_code, SUM(l.debit), SUM(l.credit)
FROM journal_run_entries r
JOIN journal_entries e ON e.account_number = r.account_number AND e.seq = r.entry_seq
JOIN journal_lines l ON l.account_number = r.account_number AND l.entry_seq = r.entry_seq
WHERE r.run_id = :run_id
GROUP BY r.run_id, e.transaction_type, e.currency, l.accounting_code
"""


def _locked_run(ctx: Context, number: str) -> Any:
    query = select(journal_runs).where(journal_runs.c.number == number)
    if ctx.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = ctx.conn.execute(query).first()
    if row is None:
        raise NotFound(f"no journal run {number}", document=number, field="run")
    return row


def _set_status(ctx: Context, run_id: int, status: str, note: str | None) -> None:
    ctx.conn.execute(
        update(journal_runs)
        .where(journal_runs.c.id == run_id)
        .values(status=status, status_by=ctx.actor.name, status_at=dt.datetime.now(dt.UTC), status_note=note)
    )


def confirm(ctx: Context, number: str) -> JournalRunView:
    """The ERP accepted the run: Completed, and its entries' documents transferred to accounting."""
    ctx.actor.require(PERMISSION, document=number)
    run = _locked_run(ctx, number)
    if run.status not in ("Processing", "Error"):
        raise RuleViolation(
            f"journal run {number} is {run.status}; only a Processing or Error run can be confirmed",
            document=number,
            field="status",
        )
    _set_status(ctx, run.id, "Completed", None)
    _mark_transferred(ctx.conn, run.id)
    return view(ctx.conn, number)


def fail(ctx: Context, number: str, note: str) -> JournalRunView:
    """The ERP rejected the run: Error, with why; it can be confirmed later or cancelled."""
    ctx.actor.require(PERMISSION, document=number)
    if not note.strip():
        raise RuleViolation("say why the ERP rejected the run", document=number, field="reason")
    run = _locked_run(ctx, number)
    if run.status != "Processing":
        raise RuleViolation(
            f"journal run {number} is {run.status}; only a Processing run can be marked Error",
            document=number,
            field="status",
        )
    _set_status(ctx, run.id, "Error", note)
    return view(ctx.conn, number)


def transfer_entry(ctx: Context, number: str, request: JournalEntryBasicInformation) -> JournalRunView:
    """A summary journal entry's ``transferredToAccounting``, as the transfer of its whole run (one run is one ERP
    file): Yes confirms the run, Error fails it (``notes`` the reason), Processing is what a Processing run already
    says; No and Ignore have no counterpart (a transfer is never undone, and no entry is left out of its run's file).
    The vocabulary is the reference product's REST API's (its summary journal entries), and so is the way back it
    names. Processing writes nothing (``still_processing``, a read)."""
    run = summary_entry(ctx.conn, number).journal_run_number
    value = request.transferred_to_accounting
    if value == "Yes":
        return confirm(ctx, run)
    if value == "Error":
        return fail(ctx, run, request.notes or f"the ERP rejected summary journal entry {number}")
    if value == "Processing":
        return still_processing(ctx.conn, number)
    raise RuleViolation(
        f"the book does not set transferredToAccounting to {value}: it transfers journal run {run} as a whole (Yes "
        f"confirms it, Error marks it rejected); to take its entries back, PUT /v1/journal-runs/{run}/cancel",
        document=number,
        field="transferredToAccounting",
    )


def still_processing(conn: Connection, number: str) -> JournalRunView:
    """``transferredToAccounting`` Processing for a summary entry: what its run says while its files are out for the
    ERP, refused otherwise (the book does not move a run back to Processing)."""
    run = summary_entry(conn, number).journal_run_number
    current = view(conn, run)
    if current.status != "Processing":
        raise RuleViolation(
            f"journal run {run} is {current.status}; Processing is the status of a run whose files are out for the "
            "ERP, and the book does not move a run back to it",
            document=number,
            field="transferredToAccounting",
        )
    return current


def cancel(ctx: Context, number: str, note: str | None = None) -> JournalRunView:
    """Release the run's entries to the next run; refused once confirmed (its entries are transferred)."""
    ctx.actor.require(PERMISSION, document=number)
    run = _locked_run(ctx, number)
    if run.status == "Completed":
        raise RuleViolation(
            f"journal run {number} is confirmed: its entries are transferred to accounting; it cannot be cancelled",
            document=number,
            field="status",
        )
    if run.status == "Cancelled":
        raise RuleViolation(f"journal run {number} is already cancelled", document=number, field="status")
    ctx.conn.execute(delete(journal_run_entries).where(journal_run_entries.c.run_id == run.id))
    _set_status(ctx, run.id, "Cancelled", note)
    return view(ctx.conn, number)


def _mark_transferred(conn: Connection, run_id: int) -> None:
    """Flag the documents, payments and invoice item adjustments that the run's entries post (an entry's document
    number names one of them in its account). Rows flagged already are left as they are."""
    for table in (documents, payments, invoice_item_adjustments):
        taken = (
            select(journal_entries.c.seq)
            .join(journal_run_entries, of_entry(journal_run_entries))
            .where(
                journal_run_entries.c.run_id == run_id,
                journal_entries.c.account_number == table.c.account_number,
                journal_entries.c.document_number == table.c.number,
            )
        )
        conn.execute(
            update(table)
            .where(table.c.transferred_to_accounting.is_(False), taken.exists())
            .values(transferred_to_accounting=True)
        )


# --- reads --------------------------------------------------------------------------------------------------------


def _row_view(conn: Connection, r: Any, *, summary: bool) -> JournalRunView:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    entries: dict[tuple[str, str], list[SummaryLine]] = {}
    for t in conn.execute(
        select(journal_run_totals)
        .where(journal_run_totals.c.run_id == r.id)
        .order_by(
            journal_run_totals.c.transaction_type, journal_run_totals.c.currency, journal_run_totals.c.accounting_code
        )
    ):
        totals[t.currency] += t.debit
        if summary:
            entries.setdefault((t.transaction_type, t.currency), []).append(
                SummaryLine(
                    accounting_code=t.accounting_code, debit=fmt(t.debit, t.currency), credit=fmt(t.credit, t.currency)
                )
            )
    return JournalRunView(
        number=r.number,
        period=r.period,
        entry_date=r.entry_date,
        status=r.status,
        entry_count=r.entry_count,
        line_count=r.line_count,
        created_by=r.created_by,
        created_at=r.created_at,
        status_by=r.status_by,
        status_at=r.status_at,
        status_note=r.status_note,
        totals={cur: fmt(total, cur) for cur, total in sorted(totals.items())},
        summary=[
            SummaryEntry(number=f"{r.number}-{n:03d}", transaction_type=ttype, currency=cur, lines=lines)
            for n, ((ttype, cur), lines) in enumerate(entries.items(), start=1)
        ]
        if summary
        else None,
    )


def view(conn: Connection, number: str) -> JournalRunView:
    r = conn.execute(select(journal_runs).where(journal_runs.c.number == number)).first()
    if r is None:
        raise NotFound(f"no journal run {number}", document=number, field="run")
    return _row_view(conn, r, summary=True)


def summary_entry(conn: Connection, number: str) -> SummaryEntryView:
    """A run's summary journal entry by its number (``JR-00000001-001``: the run's number, then its place)."""
    run_number = number.rpartition("-")[0]
    r = conn.execute(select(journal_runs).where(journal_runs.c.number == run_number)).first()
    run = _row_view(conn, r, summary=True) if r is not None else None
    found = next((e for e in (run.summary or []) if e.number == number), None) if run is not None else None
    if run is None or found is None:
        raise NotFound(f"no summary journal entry {number}", document=number)
    return SummaryEntryView(
        **dict(found),
        journal_run_number=run.number,
        journal_entry_date=run.entry_date,
        accounting_period_name=run.period,
        status="Cancelled" if run.status == "Cancelled" else "Created",
        transferred_to_accounting=TRANSFERRED[run.status],
        entries_in_run=len(run.summary or []),
    )


def list_runs(conn: Connection, period: str | None = None) -> list[JournalRunView]:
    query = select(journal_runs).order_by(journal_runs.c.id)
    if period is not None:
        query = query.where(journal_runs.c.period == period)
    return [_row_view(conn, r, summary=False) for r in conn.execute(query).all()]


def chart_accounts(conn: Connection) -> dict[str, Account]:
    return accounts_of(read_chart(conn).codes.values())


def run_info(conn: Connection, number: str, mode: str) -> tuple[int, RunInfo]:
    r = conn.execute(select(journal_runs).where(journal_runs.c.number == number)).first()
    if r is None:
        raise NotFound(f"no journal run {number}", document=number, field="run")
    if r.status == "Cancelled":
        raise RuleViolation(
            f"journal run {number} is cancelled; its entries go out in the next run", document=number, field="run"
        )
    return r.id, RunInfo(r.number, r.period, r.entry_date, r.status, mode)


def summary_entries(conn: Connection, run_id: int, run: RunInfo, accounts: dict[str, Account]) -> list[GLEntry]:
    """The run's summary journal entries as GL entries, one per transaction type and currency, a line per
    accounting code and side, numbered ``JR-00000001-001`` in (transaction type, currency) order."""
    sums: dict[tuple[str, str], list[tuple[str, Decimal, Decimal]]] = {}
    for t in conn.execute(select(journal_run_totals).where(journal_run_totals.c.run_id == run_id)):
        sums.setdefault((t.transaction_type, t.currency), []).append((t.accounting_code, t.debit, t.credit))
    out: list[GLEntry] = []
    for n, ((ttype, currency), codes) in enumerate(sorted(sums.items()), start=1):
        entry = GLEntry(
            external_id=f"{run.number}-{n:03d}",
            date=run.entry_date,
            period=run.period,
            currency=currency,
            transaction_type=ttype,
            memo=f"Summary of {ttype} in {currency} for {run.period}",
        )
        for code, debit, credit in sorted(codes, key=lambda c: (accounts[c[0]].number, c[0])):
            number = accounts[code].number
            if debit:
                entry.lines.append(GLLine(code, number, debit, ZERO))
            if credit:
                entry.lines.append(GLLine(code, number, ZERO, credit))
        out.append(entry)
    return out


#: A run's journal entries and lines in ledger order (a refund's entries carry the refund's reason code and comment,
#: not its credit memo's). PostgreSQL's amounts are read as text: each distinct text is
#: made a ``Decimal`` once, where a ``Decimal`` per amount from the driver would be hashed per amount.
_DETAIL_SQL = """
SELECT e.account_number, e.seq, e.entry_date, e.transaction_type, e.currency, e.document_number,
       e.related_number, e.description, c.name,
       CASE WHEN rf.number IS NULL THEN COALESCE(d.reason_code, a.reason_code) ELSE rf.reason_code END,
       CASE WHEN rf.number IS NULL THEN COALESCE(d.comment, a.comment) ELSE rf.comment END,
       l.accounting_code, {debit}, {credit}, l.item_id
FROM journal_entries e
LEFT JOIN documents d ON d.account_number = e.account_number AND d.number = e.document_number
LEFT JOIN invoice_item_adjustments a ON a.account_number = e.account_number AND a.number = e.document_number
LEFT JOIN refunds rf ON rf.account_number = e.account_number AND rf.number = e.related_number
JOIN journal_lines l ON l.account_number = e.account_number AND l.entry_seq = e.seq
JOIN customer_accounts c ON c.account_number = e.account_number
WHERE e.period = :period
  AND EXISTS (SELECT 1 FROM journal_run_entries r
              WHERE r.account_number = e.account_number AND r.entry_seq = e.seq AND r.run_id = :run_id)
ORDER BY e.entry_date, e.account_number {collate}, e.seq, l.line_no
"""

_KEPT = 100_000


class _Decoded(dict[Any, Decimal]):
    """Money as the driver returns it, made a ``Decimal`` once per distinct value."""

    def __init__(self, decode: Callable[[Any], Decimal]) -> None:
        super().__init__()
        self.decode = decode

    def __missing__(self, raw: Any) -> Decimal:
        if len(self) > _KEPT:
            self.clear()
        value = self[raw] = self.decode(raw)
        return value


def detail_entries(
    conn: Connection, run_id: int, run: RunInfo, accounts: dict[str, Account]
) -> Generator[GLEntry, None, None]:
    """The run's journal entries as GL entries (external id ``ACCOUNT-SEQ``), in ledger order, streamed.

    Read through the driver (no SQLAlchemy row or type processing per line): money arrives as integer
    ten-thousandths on SQLite and as text on PostgreSQL, dates on SQLite as ISO text, each converted once per
    distinct value (a period's lines repeat a few thousand amounts, every other side zero)."""
    dialect = conn.dialect.name
    sqlite = dialect == "sqlite"  # its dates arrive as ISO text
    numbers = {code: a.number for code, a in accounts.items()}
    amounts = _Decoded(decoder(dialect))
    dates: dict[Any, dt.date] = {}

    entry: GLEntry | None = None
    last_account, last_seq = None, None
    sql = _DETAIL_SQL.format(
        debit=raw_money_sql("l.debit", dialect), credit=raw_money_sql("l.credit", dialect), collate=byte_order(dialect)
    )
    for row in driver_rows(conn, sql, {"period": run.period, "run_id": run_id}, batch=10_000):
        account, seq = row[0], row[1]
        if seq != last_seq or account != last_account:
            if entry is not None:
                yield entry
            last_account, last_seq, date = account, seq, row[2]
            if sqlite:
                parsed = dates.get(date)
                if parsed is None:
                    parsed = dates[date] = dt.date.fromisoformat(date)
                date = parsed
            entry = GLEntry(
                external_id=f"{account}-{seq}",
                date=date,
                period=run.period,
                currency=row[4],
                transaction_type=row[3],
                memo=row[7],
                source_document=row[5],
                related_document=row[6],
                customer_account=account,
                customer_name=row[8],
                reason_code=row[9],
                comment=row[10],
            )
        entry.lines.append(GLLine(row[11], numbers[row[11]], amounts[row[12]], amounts[row[13]], row[14]))  # type: ignore[union-attr]
    if entry is not None:
        yield entry


# --- files ----------------------------------------------------------------------------------------------------------


class GLFiles(OutputModel):
    """What a render wrote (``export gl``): the run, the files and what is in them."""

    run: str | None
    period: str
    format: str
    mode: str
    files: list[str]
    journal_entries: int
    gl_entries: int
    lines: int
    totals: dict[str, str]


def stage_run(
    conn: Connection,
    number: str,
    format_name: str,
    out: Path,
    *,
    summary: bool,
    profile: gl.Profile,
    force: bool,
    totals: Totals | None = None,
) -> tuple[gl.Staged, GLFiles]:
    """Render a run into checked temporary files beside ``out`` (nothing in place until ``commit``). Reads only:
    a run renders the same bytes however often, whatever its status. ``totals`` (detail): add its lines up."""
    mode = "summary" if summary else "detail"
    run_id, run = run_info(conn, number, mode)
    accounts = chart_accounts(conn)
    if summary:
        staged = gl.render(
            format_name,
            summary_entries(conn, run_id, run, accounts),
            out,
            run=run,
            accounts=accounts,
            profile=profile,
            force=force,
        )
    else:
        entries = detail_entries(conn, run_id, run, accounts)
        try:
            staged = gl.render(
                format_name,
                entries if totals is None else summing(entries, totals),
                out,
                run=run,
                accounts=accounts,
                profile=profile,
                force=force,
            )
        finally:
            entries.close()  # a refusal mid-way closes the driver's cursor while the connection is open
    count = conn.execute(select(journal_runs.c.entry_count).where(journal_runs.c.id == run_id)).scalar_one()
    return staged, GLFiles(
        run=number,
        period=run.period,
        format=format_name,
        mode=mode,
        files=[str(p) for p in staged.finals],
        journal_entries=count,
        gl_entries=staged.gl_entries,
        lines=staged.lines,
        totals={cur: fmt(total, cur) for cur, total in sorted(staged.totals.items())},
    )


def create_and_stage(
    ctx: Context,
    period: str,
    format_name: str,
    out: Path,
    *,
    summary: bool,
    profile: gl.Profile,
    force: bool,
) -> tuple[gl.Staged | None, GLFiles]:
    """``export gl --period``: create a run and render it, in the run's transaction (the files are put in place by
    the caller once it has committed). A detail render records the run's summary entries from the lines it reads."""
    taken = take(ctx, period)
    mode = "summary" if summary else "detail"
    if taken is None:
        empty = GLFiles(
            run=None,
            period=period,
            format=format_name,
            mode=mode,
            files=[],
            journal_entries=0,
            gl_entries=0,
            lines=0,
            totals={},
        )
        return None, empty
    run_id, count = taken
    number = run_number(run_id)
    if summary:
        _sql_totals(ctx.conn, run_id, count)
        staged, result = stage_run(ctx.conn, number, format_name, out, summary=True, profile=profile, force=force)
    else:
        totals = Totals()
        staged, result = stage_run(
            ctx.conn, number, format_name, out, summary=False, profile=profile, force=force, totals=totals
        )
        try:
            record_totals(ctx.conn, run_id, count, totals)
        except BaseException:
            staged.discard()
            raise
    return staged, result.model_copy(update={"journal_entries": count})
