"""GL export: the journal of a period, as files an ERP imports, each journal entry transferred exactly once.

An export is a journal run: it takes the period's journal entries not yet transferred to accounting, writes them
(``detail``: one GL entry per journal entry; ``summary``: one GL entry per transaction type and currency, one line
per accounting code and side, as the reference product's summary journal entries), and only once every file is
completely written (temporary file, then rename) does it record, in the same single transaction, the export run,
each journal entry's transfer, and the transferred-to-accounting flag of the documents and payments the entries
post. A failure anywhere leaves nothing marked, so running again exports the same entries under the same external
ids; a successful run leaves nothing for the next one.

Every GL entry balances (checked as it is written) and carries a stable external id: the journal entry's id
(``A00000001-7``) in detail, ``PERIOD-S<batch>-<n>`` in summary, where the batch counts the period's earlier runs.
The layouts of the formats are documented in ``docs/gl-export.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

from sqlalchemy import Connection, func, insert, select

from subledger.context import Context, PeriodState, read_periods
from subledger.errors import ExportFailed, NotFound, RuleViolation, UnbalancedEntry
from subledger.models.base import OutputModel
from subledger.money import ZERO, fmt
from subledger.storage.bulk import insert_rows
from subledger.storage.cursor import driver_rows
from subledger.storage.schema import (
    documents,
    export_runs,
    invoice_item_adjustments,
    journal_transfers,
    payments,
)
from subledger.storage.types import SCALE

Format = Literal["csv", "netsuite", "xero", "quickbooks", "jsonl"]
Mode = Literal["detail", "summary"]
FORMATS: tuple[str, ...] = ("csv", "netsuite", "xero", "quickbooks", "jsonl")
#: Xero imports at most this many lines per manual journal file.
XERO_MAX_LINES = 300
#: The Xero tax rate every line carries: journal lines from the subledger already hold their tax.
XERO_TAX_RATE = "Tax Exempt"


class GLLine(NamedTuple):
    """One line of a GL entry (a tuple: a detail export builds one per journal line, a million in a large book)."""

    code: str
    number: str
    debit: Decimal
    credit: Decimal
    item_id: str | None = None


@dataclass
class GLEntry:
    external_id: str
    date: dt.date
    period: str
    currency: str
    transaction_type: str
    memo: str
    source_document: str | None = None
    related_document: str | None = None
    customer_account: str | None = None
    customer_name: str | None = None
    lines: list[GLLine] = field(default_factory=list)

    def check_balanced(self) -> Decimal:
        """Refuse an entry whose debits and credits differ; returns its debits."""
        debit = sum((line.debit for line in self.lines), ZERO)
        credit = sum((line.credit for line in self.lines), ZERO)
        if debit != credit:
            raise UnbalancedEntry(
                f"GL entry {self.external_id} debits {debit} and credits {credit} {self.currency}",
                document=self.source_document,
            )
        return debit


class ExportResult(OutputModel):
    run_id: int | None
    period: str
    format: str
    mode: str
    dry_run: bool
    files: list[str]
    journal_entries: int
    gl_entries: int
    lines: int
    totals: dict[str, str]


class ExportRunView(OutputModel):
    id: int
    period: str
    format: str
    mode: str
    files: list[str]
    entry_count: int
    file_sha256: str
    actor: str
    at: dt.datetime


# --- reading the journal --------------------------------------------------------------------------------------


@dataclass
class _Collected:
    """What a run read: the journal entries it takes (to mark them), the documents they post, the totals written."""

    keys: list[tuple[str, int]] = field(default_factory=list)
    #: (account, document number) of every document, payment or adjustment the taken entries post.
    sources: set[tuple[str, str]] = field(default_factory=set)
    totals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    gl_entries: int = 0
    lines: int = 0


class _Taken(NamedTuple):
    """A journal entry the run takes (its lines come with it, as ``GLLine``s)."""

    account_number: str
    seq: int
    entry_date: dt.date
    transaction_type: str
    currency: str
    document_number: str
    related_number: str | None
    description: str
    customer_name: str


#: PostgreSQL's amounts are read as text: each distinct text is made a ``Decimal`` once, where a ``Decimal`` per
#: amount from the driver would be hashed per amount (the formatted text is looked up by value).
_PENDING_SQL = """
SELECT e.account_number, e.seq, e.entry_date, e.transaction_type, e.currency, e.document_number,
       e.related_number, e.description, c.name, l.accounting_code, a.number, {debit}, {credit}, l.item_id
FROM journal_entries e
JOIN journal_lines l ON l.account_number = e.account_number AND l.entry_seq = e.seq
JOIN accounting_codes a ON a.name = l.accounting_code
JOIN customer_accounts c ON c.account_number = e.account_number
WHERE e.period = :period
  AND NOT EXISTS (SELECT 1 FROM journal_transfers t WHERE t.account_number = e.account_number AND t.entry_seq = e.seq)
ORDER BY e.entry_date, e.account_number, e.seq, l.line_no
"""


def _pending(conn: Connection, period: str) -> Iterator[tuple[_Taken, list[GLLine]]]:
    """The period's journal entries not yet transferred, each with its lines, in ledger order, streamed.

    Read through the driver (no SQLAlchemy row or type processing per line): money arrives as integer
    ten-thousandths on SQLite (``storage.types.Money``) and as text on PostgreSQL, dates on SQLite as ISO text, each
    converted here once per distinct value (a period's lines repeat a few thousand amounts, every other side zero).
    """
    sqlite = conn.dialect.name == "sqlite"
    scale = -SCALE
    dates: dict[Any, dt.date] = {}
    amounts: dict[Any, Decimal] = {}

    def money(raw: Any) -> Decimal:
        value = amounts.get(raw)
        if value is None:
            if len(amounts) > _TEXTS_KEPT:
                amounts.clear()
            value = amounts[raw] = Decimal(raw).scaleb(scale) if sqlite else Decimal(raw)
        return value

    taken: _Taken | None = None
    lines: list[GLLine] = []
    last_account, last_seq = None, None
    sql = _PENDING_SQL.format(
        debit="l.debit" if sqlite else "l.debit::text", credit="l.credit" if sqlite else "l.credit::text"
    )
    for row in driver_rows(conn, sql, {"period": period}, batch=10_000):
        account, seq = row[0], row[1]
        if seq != last_seq or account != last_account:
            if taken is not None:
                yield taken, lines
            last_account, last_seq, date = account, seq, row[2]
            if sqlite:
                parsed = dates.get(date)
                if parsed is None:
                    parsed = dates[date] = dt.date.fromisoformat(date)
                date = parsed
            taken = _Taken(account, seq, date, row[3], row[4], row[5], row[6], row[7], row[8])
            lines = []
        lines.append(GLLine(row[9], row[10], money(row[11]), money(row[12]), row[13]))
    if taken is not None:
        yield taken, lines


def _detail(entries: Iterator[tuple[_Taken, list[GLLine]]], period: str, got: _Collected) -> Iterator[GLEntry]:
    for taken, lines in entries:
        got.keys.append((taken.account_number, taken.seq))
        got.sources.add((taken.account_number, taken.document_number))
        yield GLEntry(
            external_id=f"{taken.account_number}-{taken.seq}",
            date=taken.entry_date,
            period=period,
            currency=taken.currency,
            transaction_type=taken.transaction_type,
            memo=taken.description,
            source_document=taken.document_number,
            related_document=taken.related_number,
            customer_account=taken.account_number,
            customer_name=taken.customer_name,
            lines=lines,
        )


def _summary(
    entries: Iterator[tuple[_Taken, list[GLLine]]], period: PeriodState, batch: int, got: _Collected
) -> Iterator[GLEntry]:
    """One GL entry per (transaction type, currency): per accounting code, its debits and its credits."""
    sums: dict[tuple[str, str], dict[tuple[str, str], list[Decimal]]] = defaultdict(dict)
    for taken, lines in entries:
        got.keys.append((taken.account_number, taken.seq))
        got.sources.add((taken.account_number, taken.document_number))
        by_code = sums[(taken.transaction_type, taken.currency)]
        for line in lines:
            pair = by_code.setdefault((line.number, line.code), [ZERO, ZERO])
            pair[0] += line.debit
            pair[1] += line.credit
    for n, ((ttype, currency), by_code) in enumerate(sorted(sums.items()), start=1):
        entry = GLEntry(
            external_id=f"{period.name}-S{batch}-{n:03d}",
            date=period.end_date,
            period=period.name,
            currency=currency,
            transaction_type=ttype,
            memo=f"Summary of {ttype} in {currency} for {period.name}",
        )
        for (number, code), (debit, credit) in sorted(by_code.items()):
            if debit:
                entry.lines.append(GLLine(code, number, debit, ZERO))
            if credit:
                entry.lines.append(GLLine(code, number, ZERO, credit))
        yield entry


# --- the formats ----------------------------------------------------------------------------------------------


#: ``money.fmt`` of the amounts printed lately, per currency: a period's lines repeat a few thousand amounts (half
#: of their sides are zero), and formatting a ``Decimal`` costs more than looking its text up.
_TEXTS: dict[tuple[Decimal, str], str] = {}
_TEXTS_KEPT = 100_000


def _text(value: Decimal, currency: str) -> str:
    """``money.fmt(value, currency)``, remembered."""
    key = (value, currency)
    found = _TEXTS.get(key)
    if found is None:
        if len(_TEXTS) >= _TEXTS_KEPT:
            _TEXTS.clear()
        found = _TEXTS[key] = fmt(value, currency)
    return found


def _amount(value: Decimal, currency: str) -> str:
    return _text(value, currency) if value else ""


def _us_date(date: dt.date) -> str:
    return f"{date.month:02d}/{date.day:02d}/{date.year}"


def _csv_rows(e: GLEntry) -> list[list[str]]:
    head = [e.external_id, e.date.isoformat(), e.period, e.transaction_type]
    tail = [e.currency, e.memo, e.source_document or "", e.related_document or "", e.customer_account or ""]
    currency = e.currency
    return [
        [
            *head,
            line.number,
            line.code,
            _text(line.debit, currency),
            _text(line.credit, currency),
            *tail,
            line.item_id or "",
        ]
        for line in e.lines
    ]


def _netsuite_rows(e: GLEntry) -> list[list[str]]:
    posting_period = dt.date(e.date.year, e.date.month, 1).strftime("%b %Y")
    return [
        [
            e.external_id,
            _us_date(e.date),
            posting_period,
            e.currency,
            e.memo,
            line.number,
            _amount(line.debit, e.currency),
            _amount(line.credit, e.currency),
            " ".join(part for part in (e.source_document, line.item_id) if part),
        ]
        for line in e.lines
    ]


def _xero_rows(e: GLEntry) -> list[list[str]]:
    # Xero groups lines into one journal by narration and date, so the narration carries the external id.
    return [
        [
            f"{e.external_id} {e.memo}",
            f"{e.date.day:02d}/{e.date.month:02d}/{e.date.year}",
            " ".join(part for part in (e.source_document, line.item_id) if part) or e.transaction_type,
            line.number,
            XERO_TAX_RATE,
            _text(line.debit - line.credit, e.currency),
        ]
        for line in e.lines
    ]


def _quickbooks_rows(e: GLEntry) -> list[list[str]]:
    # Journal lines hold a positive debit or a positive credit, so no amount is ever negative here.
    return [
        [
            e.external_id,
            _us_date(e.date),
            line.code,
            _amount(line.debit, e.currency),
            _amount(line.credit, e.currency),
            e.memo,
            e.customer_name or "",
            e.currency,
        ]
        for line in e.lines
    ]


def _jsonl(e: GLEntry) -> str:
    record = {
        "externalId": e.external_id,
        "date": e.date.isoformat(),
        "period": e.period,
        "transactionType": e.transaction_type,
        "currency": e.currency,
        "memo": e.memo,
        "sourceDocument": e.source_document,
        "relatedDocument": e.related_document,
        "customerAccount": e.customer_account,
        "lines": [
            {
                "accountNumber": line.number,
                "accountingCode": line.code,
                "debit": _text(line.debit, e.currency),
                "credit": _text(line.credit, e.currency),
                "itemId": line.item_id,
            }
            for line in e.lines
        ],
    }
    return json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Layout:
    header: tuple[str, ...] | None
    rows: Callable[[GLEntry], list[list[str]]] | None
    max_lines: int | None = None


LAYOUTS: dict[str, Layout] = {
    "csv": Layout(
        (
            "external_id",
            "date",
            "period",
            "transaction_type",
            "account_number",
            "account_name",
            "debit",
            "credit",
            "currency",
            "memo",
            "source_document",
            "related_document",
            "customer_account",
            "item_id",
        ),
        _csv_rows,
    ),
    "netsuite": Layout(
        ("External ID", "Date", "Posting Period", "Currency", "Memo", "Account", "Debit", "Credit", "Line Memo"),
        _netsuite_rows,
    ),
    "xero": Layout(
        ("*Narration", "*Date", "Description", "*AccountCode", "*TaxRate", "*Amount"), _xero_rows, XERO_MAX_LINES
    ),
    "quickbooks": Layout(
        (
            "Journal No.",
            "Journal Date",
            "Account Name",
            "Debits",
            "Credits",
            "Description",
            "Name",
            "Currency",
        ),
        _quickbooks_rows,
    ),
    "jsonl": Layout(None, None),
}


def part_path(out: Path, k: int) -> Path:
    """The k-th file of a split export: the first is ``out`` itself, then ``stem-2.suffix``, ``stem-3.suffix``..."""
    return out if k == 1 else out.with_name(f"{out.stem}-{k}{out.suffix}")


class _Files:
    """Temporary files beside ``out``, moved into place only when every one is complete."""

    def __init__(self, out: Path, layout: Layout) -> None:
        self.out, self.layout = out, layout
        self.temps: list[Path] = []
        self.handle: IO[str] | None = None
        self.writer: Any = None
        self.count = 0

    def open_next(self) -> None:
        self.close()
        self.out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.out.parent, prefix=f".{self.out.name}.")
        self.temps.append(Path(tmp))
        self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle, lineterminator="\n")
        if self.layout.header:
            self.writer.writerow(self.layout.header)
        self.count = 0

    def write(self, entry: GLEntry) -> None:
        if self.layout.rows is None:
            if self.handle is None:
                self.open_next()
            assert self.handle is not None
            self.handle.write(_jsonl(entry))
            return
        rows = self.layout.rows(entry)
        limit = self.layout.max_lines
        if limit is not None and len(rows) > limit:
            raise RuleViolation(
                f"GL entry {entry.external_id} has {len(rows)} lines; the format takes at most {limit} per file",
                document=entry.source_document,
            )
        if self.handle is None or (limit is not None and self.count + len(rows) > limit):
            self.open_next()
        assert self.handle is not None
        for row in rows:
            # What the csv module writes for a row with nothing to quote, without its per-field machinery; any
            # comma, quote or line break in a field goes through the writer.
            line = ",".join(row)
            if line.count(",") == len(row) - 1 and '"' not in line and "\n" not in line and "\r" not in line:
                self.handle.write(line + "\n")
            else:
                self.writer.writerow(row)
        self.count += len(rows)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def commit(self) -> list[Path]:
        """Move every complete file into place; returns the final paths."""
        self.close()
        finals = [part_path(self.out, k) for k in range(1, len(self.temps) + 1)]
        for tmp, final in zip(self.temps, finals, strict=True):
            os.replace(tmp, final)
        self.temps = []
        return finals

    def discard(self) -> None:
        self.close()
        for tmp in self.temps:
            tmp.unlink(missing_ok=True)


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):  # type: ignore[misc]
                digest.update(block)
    return digest.hexdigest()


def _period(conn: Connection, name: str) -> PeriodState:
    found = next((p for p in read_periods(conn) if p.name == name), None)
    if found is None:
        raise NotFound(f"no accounting period {name}", document=name, field="period")
    return found


def write_gl(
    conn: Connection, period_name: str, fmt_name: str, mode: str, out: Path
) -> tuple[list[Path], _Collected, int]:
    """Write the period's untransferred entries to ``out`` (and its parts); returns the files, what was taken, and
    the batch number. Writes nothing when there is nothing to export."""
    if fmt_name not in LAYOUTS:
        raise RuleViolation(f"unknown GL format {fmt_name!r}; choose from {', '.join(FORMATS)}", field="format")
    if mode not in ("detail", "summary"):
        raise RuleViolation(f"unknown mode {mode!r}: detail or summary", field="mode")
    period = _period(conn, period_name)
    earlier = conn.execute(
        select(func.count()).where(export_runs.c.period == period.name, export_runs.c.entry_count > 0)
    ).scalar_one()
    batch = int(earlier) + 1
    got = _Collected()
    rows = _pending(conn, period.name)
    entries = _summary(rows, period, batch, got) if mode == "summary" else _detail(rows, period.name, got)
    files = _Files(out, LAYOUTS[fmt_name])
    try:
        for entry in entries:
            debits = entry.check_balanced()
            files.write(entry)
            got.gl_entries += 1
            got.lines += len(entry.lines)
            got.totals[entry.currency] += debits
        written = files.commit() if got.keys else []
    except OSError as exc:
        raise ExportFailed(f"could not write {out}: {exc.strerror or exc}", field="out") from exc
    finally:
        files.discard()
    return written, got, batch


def _result(
    run_id: int | None, period: str, fmt_name: str, mode: str, dry_run: bool, files: list[Path], got: _Collected
) -> ExportResult:
    return ExportResult(
        run_id=run_id,
        period=period,
        format=fmt_name,
        mode=mode,
        dry_run=dry_run,
        files=[str(p) for p in files],
        journal_entries=len(got.keys),
        gl_entries=got.gl_entries,
        lines=got.lines,
        totals={cur: fmt(total, cur) for cur, total in sorted(got.totals.items())},
    )


def preview_gl(conn: Connection, period: str, fmt_name: str, mode: str, out: Path) -> ExportResult:
    """A dry run: the files are written for review, nothing is recorded or marked transferred."""
    files, got, _ = write_gl(conn, period, fmt_name, mode, out)
    return _result(None, period, fmt_name, mode, True, files, got)


def export_gl(ctx: Context, period: str, fmt_name: str, mode: str, out: Path) -> ExportResult:
    """A journal run: write the files, then record the run and mark its entries and documents transferred."""
    ctx.actor.require("Transfer to Accounting", document=period)
    conn = ctx.conn
    if conn.dialect.name == "postgresql":
        # One export at a time: two concurrent runs must not both take the same entries.
        conn.exec_driver_sql("LOCK TABLE journal_transfers IN EXCLUSIVE MODE")
    files, got, _ = write_gl(conn, period, fmt_name, mode, out)
    if not got.keys:
        return _result(None, period, fmt_name, mode, False, files, got)
    run_id = conn.execute(
        insert(export_runs)
        .values(
            period=period,
            format=fmt_name,
            mode=mode,
            path="\n".join(str(p) for p in files),
            entry_count=len(got.keys),
            file_sha256=_sha256(files),
            actor=ctx.actor.name,
            at=dt.datetime.now(dt.UTC),
        )
        .returning(export_runs.c.id)
    ).scalar_one()
    insert_rows(
        conn, journal_transfers, [{"account_number": a, "entry_seq": s, "export_run_id": run_id} for a, s in got.keys]
    )
    _mark_sources(conn, got.sources)
    return _result(run_id, period, fmt_name, mode, False, files, got)


def _mark_sources(conn: Connection, sources: set[tuple[str, str]]) -> None:
    """Flag the documents, payments and invoice item adjustments whose journal entries this run transferred, each
    found by its key (an entry's document number names a document, a payment or an adjustment of its account).
    Rows flagged by an earlier run are left as they are (a document's row, payload and all, is not rewritten)."""
    ordered = sorted(sources)
    for table in (documents, payments, invoice_item_adjustments):
        if conn.dialect.name == "postgresql":
            # One statement per table: the keys travel as two arrays rather than as thousands of statements.
            conn.exec_driver_sql(
                f"UPDATE {table.name} AS t SET transferred_to_accounting = true "
                "FROM unnest(%s::text[], %s::text[]) AS k(account_number, number) "
                "WHERE t.account_number = k.account_number AND t.number = k.number "
                "AND NOT t.transferred_to_accounting",
                ([a for a, _ in ordered], [n for _, n in ordered]),
            )
        else:
            conn.exec_driver_sql(
                f"UPDATE {table.name} SET transferred_to_accounting = 1 WHERE account_number = ? AND number = ? "
                "AND transferred_to_accounting = 0",
                ordered,
            )


def export_runs_list(conn: Connection) -> list[ExportRunView]:
    rows = conn.execute(select(export_runs).order_by(export_runs.c.id)).all()
    return [
        ExportRunView(
            id=r.id,
            period=r.period,
            format=r.format,
            mode=r.mode,
            files=r.path.split("\n"),
            entry_count=r.entry_count,
            file_sha256=r.file_sha256,
            actor=r.actor,
            at=r.at,
        )
        for r in rows
    ]
