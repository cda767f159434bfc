"""The Beancount ledger: ``main.beancount``, ``accounts.beancount`` and one file per accounting period.

Each journal entry becomes one transaction: dated as posted, tagged by kind (``#write-off``), linked to its documents
(``^INV00000001``), with the item id on each posting and, as metadata, what explains it (``_ENTRY_META``): the entry
id and transaction type, the operation (id, kind, actor), the customer account, the document and the document it
came from, the reason code and comment, whether a write-off is revenue impacting, a document's due date, and for a
reversal made because another document was reversed, the reversal that caused it. Debits are positive and credits
negative, every amount explicit. Each period file ends with balance assertions for the control
accounts, computed from the subledger (documents and applications), not from the journal: bean-check then proves
the two agree. Each period file starts with an ``accounting-period`` directive (name, end, status). The text is
streamed period by period, and identical books give byte-identical files.

The ledger stands alone: ``main.beancount`` names the closed-period plugin ``subledger_closed_periods``, a copy of
``subledger.plugins.closed_periods`` (which needs only Beancount) written beside it and found through the
``insert_pythonpath`` option, so Beancount and Fava load it, closed periods still closed, without this package. It
also carries the Fava options an accountant reads with (income, liabilities and equity with natural signs) and, when
asked, the ``fava-extension`` line of ``subledger.fava_ext``.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from subledger.balances import CONTROL_SIGN, Key, journal_balances, subledger_balances, subledger_balances_at
from subledger.canonical import driver_amount_text
from subledger.chart import EXPENSE_TYPES
from subledger.context import PeriodState, read_chart, read_periods
from subledger.errors import BadOutput, RuleViolation
from subledger.export.gl.files import Staged, refuse_existing, sweep, sweep_folder, umask
from subledger.money import fmt
from subledger.posting import DocumentKind, Role, moves_receivable_of
from subledger.reports import WRITE_OFF_OPERATION
from subledger.storage.cursor import byte_order, driver_rows
from subledger.storage.schema import journal_entries

ACCOUNT_WIDTH = 50
AMOUNT_WIDTH = 16
#: The plugin's module name in the ledger, and its file written beside ``main.beancount``.
PLUGIN = "subledger_closed_periods"
PLUGIN_FILE = f"{PLUGIN}.py"
#: What a ledger is written as under its directory: these files, and a file per period in ``PERIODS_DIRECTORY``.
MAIN_FILE = "main.beancount"
ACCOUNTS_FILE = "accounts.beancount"
LEDGER_FILES = (MAIN_FILE, ACCOUNTS_FILE, PLUGIN_FILE)
PERIODS_DIRECTORY = "periods"
#: The Fava extension's module (``pip install subledger[fava]``).
FAVA_EXTENSION = "subledger.fava_ext"
#: Rows fetched (and text written) per round trip while streaming a period.
_BATCH = 5_000


#: Beancount strings escape a backslash, a quote, a newline, a tab and a carriage return; other control characters
#: have no escape and a raw one would be a trap in the file (NUL, form feed), so they become U+FFFD.
_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        '"': '\\"',
        "\n": "\\n",
        "\t": "\\t",
        "\r": "\\r",
        **{chr(c): "\ufffd" for c in (*range(0x20), 0x7F) if chr(c) not in "\n\t\r"},
    }
)


#: Whether a text needs ``_ESCAPES`` at all (most do not: the regular expression answers faster than translating).
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


def quote(text: str) -> str:
    """``text`` as a Beancount string that parses back to it (control characters other than newline, tab and
    carriage return replaced)."""
    if _NEEDS_ESCAPE.search(text) is None:
        return f'"{text}"'
    return '"' + text.translate(_ESCAPES) + '"'


#: The period's journal lines in ledger order, read through the driver (``storage.cursor``): no result rows, no
#: type processing. Money comes back as the driver gives it (printed by ``canonical.driver_amount_text``), dates as
#: ISO text on SQLite and as ``date`` on PostgreSQL.
_ENTRIES_SQL = """
SELECT e.account_number, e.seq, e.entry_date, e.transaction_type, e.tag, e.description, e.document_number,
       e.related_number, c.name, l.accounting_code, l.debit - l.credit, l.currency, l.item_id
FROM journal_entries e
JOIN journal_lines l ON l.account_number = e.account_number AND l.entry_seq = e.seq
JOIN customer_accounts c ON c.account_number = e.account_number
WHERE e.period = :period
ORDER BY e.entry_date, e.account_number {collate}, e.seq, l.line_no
"""


#: What explains each of the period's entries, one row per entry in the order of ``_ENTRIES_SQL``: its operation, its
#: document (``d``) and related document (``r``), the invoice item adjustment it posts (``a``), the document the
#: operation was asked about (``od``) and, for a reversal, the reversal memo the same operation made of that
#: document (the cause of a cascaded reversal), and for a recovery's debit memo the document its write-off wrote off
#: (``w``), and for a refund's entries the refund (``rf``). The cause is looked up only for entries of a reversal memo.
_ENTRY_META_SQL = """
SELECT e.account_number, e.seq, e.operation_id, o.kind, o.actor, o.document_number, od.kind,
       d.kind, d.reason_code, d.comment, d.source, d.source_document, d.revenue_impacting, d.operation_id, d.due_date,
       r.kind, r.reason_code, r.comment, r.source, r.source_document, r.revenue_impacting, r.operation_id,
       a.invoice_number, a.reason_code, a.comment, a.reference_id, ac.type,
       CASE WHEN d.source = 'Reversal' OR r.source = 'Reversal' THEN (
           SELECT min(c.number) FROM documents c
           WHERE c.account_number = e.account_number AND c.operation_id = e.operation_id
             AND c.source = 'Reversal' AND c.source_document = o.document_number
       ) END,
       w.source_document, rf.number, rf.reason_code, rf.comment, rf.method, rf.reference_id
FROM journal_entries e
LEFT JOIN operations o ON o.id = e.operation_id
LEFT JOIN documents d ON d.account_number = e.account_number AND d.number = e.document_number
LEFT JOIN documents r ON r.account_number = e.account_number AND r.number = e.related_number
LEFT JOIN documents od ON od.account_number = e.account_number AND od.number = o.document_number
LEFT JOIN invoice_item_adjustments a ON a.account_number = e.account_number AND a.number = e.document_number
LEFT JOIN accounting_codes ac ON ac.name = a.accounting_code
LEFT JOIN documents w ON d.source = 'Recovery' AND w.account_number = e.account_number AND w.number = d.source_document
LEFT JOIN refunds rf ON e.tag = 'refund' AND rf.account_number = e.account_number AND rf.number = e.related_number
WHERE e.period = :period
ORDER BY e.entry_date, e.account_number {collate}, e.seq
"""

#: Generated memos: a write-off's or a reversal's.
_GENERATED = ("WriteOff", "Reversal")
_KINDS = frozenset(DocumentKind)


class _Explained:
    """An entry's metadata lines, the links it adds and the words added to its narration."""

    __slots__ = ("links", "meta", "narration")

    def __init__(self, meta: list[str], links: str, narration: str) -> None:
        self.meta, self.links, self.narration = meta, links, narration


def _text(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _receivable(ttype: str, document: str, related: str | None) -> str | None:
    """The document whose receivable an entry of ``ttype`` moves (``posting.moves_receivable_of``)."""
    whose = moves_receivable_of(ttype)
    return document if whose == "document" else related if whose == "related" else None


def _explain(
    row: tuple[Any, ...],
    name: str,
    document: str,
    related: str | None,
    ttype: str,
    heads: dict[tuple[Any, str], str],
) -> _Explained:
    """Metadata of one entry from its ``_ENTRY_META_SQL`` row.

    The reason code, comment, source document and revenue impacting come from the memo the entry's operation
    generated (a write-off's or reversal's, which may be the entry's document or its related one), else from the
    entry's own document when the same operation posted it (a loaded invoice or memo), else from the invoice item
    adjustment it posts.
    """
    (
        account,
        _seq,
        operation,
        kind,
        actor,
        asked,
        asked_kind,
        d_kind,
        d_reason,
        d_comment,
        d_source,
        d_source_doc,
        d_revenue,
        d_operation,
        d_due,
        _r_kind,
        r_reason,
        r_comment,
        r_source,
        r_source_doc,
        r_revenue,
        r_operation,
        a_invoice,
        a_reason,
        a_comment,
        a_reference,
        a_code_type,
        cause,
        recovered,
        refund,
        refund_reason,
        refund_comment,
        refund_method,
        refund_reference,
    ) = row
    journal_document = document
    source = source_doc = reason = comment = None
    revenue: Any = None
    if d_source in _GENERATED and d_operation == operation:
        source, source_doc, reason, comment, revenue = d_source, d_source_doc, d_reason, d_comment, d_revenue
    elif r_source in _GENERATED and r_operation == operation:
        # The memo written off or reversed applied to the generated memo: the entry is the generated memo's.
        source, source_doc, reason, comment, revenue = r_source, r_source_doc, r_reason, r_comment, r_revenue
        document = related or document
    elif refund is not None:
        # A refund (or its cancellation): the refund's own reason code and comment, not its credit memo's.
        reason, comment = refund_reason, refund_comment
    elif d_source == "Recovery" and d_operation == operation:
        # A recovery's debit memo: linked to the write-off memo (its source document) and the document written off.
        source, source_doc, reason, comment = d_source, d_source_doc, d_reason, d_comment
    elif a_invoice is not None:
        source_doc, reason, comment = a_invoice, a_reason, a_comment
        if kind and kind.startswith(WRITE_OFF_OPERATION):
            source, revenue = "WriteOff", a_code_type not in EXPENSE_TYPES
    elif d_kind is not None and d_operation == operation:
        reason, comment = d_reason, d_comment
    head_key = (operation, account)
    head = heads.get(head_key)
    if head is None:  # the lines every entry of one operation on one account shares, built once
        head = heads[head_key] = (
            f'  operation: "{operation}"\n'
            f"  operation-kind: {quote(kind or '')}\n"
            f"  actor: {quote(actor or '')}\n"
            f'  customer-account: "{account}"\n'
            f"  customer-name: {quote(name)}"
        )
    meta = [head, f'  document: "{document}"']
    if source_doc:
        meta.append(f'  source-document: "{source_doc}"')
    receivable = _receivable(ttype, journal_document, related)
    if receivable:
        meta.append(f'  receivable-document: "{receivable}"')
    if reason:
        meta.append(f"  reason-code: {quote(reason)}")
    if comment:
        meta.append(f"  comment: {quote(comment)}")
    if a_reference or refund_reference:
        meta.append(f"  reference-id: {quote(a_reference or refund_reference)}")
    if refund_method:
        meta.append(f"  refund-method: {quote(refund_method)}")
    if source == "WriteOff":
        # A credit memo's write-off (a debit memo) posts back to the memo's own revenue codes: revenue impacting.
        meta.append(f'  revenue-impacting: "{"No" if revenue in (False, 0) else "Yes"}"')
    if d_due is not None and d_operation == operation and d_kind in ("Invoice", "DebitMemo"):
        meta.append(f"  due-date: {_text(d_due)}")
    links = narration = ""
    if source == "Recovery" and recovered:
        meta.append(f'  recovered-document: "{recovered}"')
        links = f" ^{recovered}"
    if source == "Reversal" and cause and source_doc != asked:
        meta.append(f'  caused-by: "{cause}"')
        links = f" ^{cause} ^{asked}"
        label = DocumentKind(asked_kind).label if asked_kind in _KINDS else "document"
        narration = f", reversed together with {label} {asked}"
    return _Explained(meta, links, narration)


def _entries(conn: Connection, period: str, accounts: dict[str, str]) -> Iterator[str]:
    """The period's transactions as text, in ledger order, streamed from the database.

    This is the hot loop of the export (one iteration per journal line): rows come straight from the driver and are
    unpacked by position, the debit-minus-credit amount comes from SQL as one column, and text that repeats
    (customer names, dates, transaction types, account columns, amount formats) is built once and looked up. Each
    entry's metadata comes from a second query in the same order (``_ENTRY_META_SQL``), read in step.
    """
    dialect = conn.dialect.name
    names: dict[str, str] = {}
    days: dict[Any, str] = {}
    types: dict[str, str] = {}
    columns = {code: f"  {account:<{ACCOUNT_WIDTH}} " for code, account in accounts.items()}
    amounts: dict[str, Callable[[Any], str]] = {}
    current_account, current_seq = "", -1
    chunk: list[str] = []
    out: list[str] = []
    written = 0
    heads: dict[tuple[Any, str], str] = {}
    collate = byte_order(dialect)
    explained = driver_rows(conn, _ENTRY_META_SQL.format(collate=collate), {"period": period}, batch=_BATCH)
    rows = driver_rows(conn, _ENTRIES_SQL.format(collate=collate), {"period": period}, batch=_BATCH)
    for account, seq, date, ttype, tag, description, document, related, name, code, amount, currency, item in rows:
        if seq != current_seq or account != current_account:
            if chunk:
                out.append("\n".join(chunk))
                if written >= _BATCH:  # text of about one fetch of lines at a time: memory stays flat
                    yield "\n\n".join(out) + "\n\n"
                    out, written = [], 0
            current_account, current_seq = account, seq
            # Both queries read the period's entries in the same order (an entry without lines has no line row).
            meta_row = next(explained)
            while (meta_row[0], meta_row[1]) != (account, seq):
                meta_row = next(explained)
            quoted = names.get(name)
            if quoted is None:
                quoted = names[name] = quote(name)
            day = days.get(date)
            if day is None:
                day = days[date] = date if isinstance(date, str) else date.isoformat()
            kind = types.get(ttype)
            if kind is None:
                kind = types[ttype] = f"  transaction-type: {quote(ttype)}"
            why = _explain(meta_row, name, document, related, ttype, heads)
            links = f"^{document} ^{related}" if related else f"^{document}"
            chunk = [
                f"{day} * {quoted} {quote(description + why.narration)} #{tag} {links}{why.links}",
                f'  entry: "{account}-{seq}"',
                kind,
                *why.meta,
            ]
        written += 1
        text = amounts.get(currency)
        if text is None:
            text = amounts[currency] = driver_amount_text(dialect, currency)
        chunk.append(f"{columns[code]}{text(amount):>{AMOUNT_WIDTH}} {currency}")
        if item:
            chunk.append(f"    item: {quote(item)}")
    if chunk:
        out.append("\n".join(chunk))
    if out:
        yield "\n\n".join(out) + "\n\n"


Balances = dict[Role, dict[Key, Decimal]]


def _assertions(period: PeriodState, accounts: dict[str, str], balances: Balances) -> Iterator[str]:
    """Balance assertions for the control accounts on the day after the period ends (Beancount's convention), from
    the subledger's ``balances`` at the end of the period."""
    day_after = period.end_date + dt.timedelta(days=1)
    lines: list[tuple[str, str, str]] = []
    for control, sign in CONTROL_SIGN.items():
        for (code, currency), amount in balances[control].items():
            lines.append((accounts[code], currency, fmt(sign * amount, currency)))
    if lines:
        yield f"; Control accounts as the subledger proves them at the end of {period.name}\n"
    for account, currency, text in sorted(lines):
        yield f"{day_after.isoformat()} balance {account:<{ACCOUNT_WIDTH - 8}} {text:>{AMOUNT_WIDTH}} {currency}\n"


def _accounts_file(conn: Connection, opened: dt.date) -> str:
    chart = read_chart(conn)
    out = ["; Accounting codes of the book (from chart_of_accounts/), one open directive each.\n"]
    for code in sorted(chart.codes.values(), key=lambda c: c.account):
        out.append(f"{opened.isoformat()} open {code.account} {','.join(code.currencies)}\n")
        out.append(f"  name: {quote(code.name)}\n  number: {quote(code.number)}\n  type: {quote(code.type)}\n")
        if not code.active:
            out.append("  active: FALSE\n")
        out.append("\n")
    return "".join(out)


def _closed(period: PeriodState) -> str:
    return (
        f'{period.end_date.isoformat()} custom "closed-period" {quote(period.name)} '
        f"{period.start_date.isoformat()} {quote(period.fingerprint or '')}\n"
    )


class _Files:
    """The files of one export, each written into a temporary file beside its place (``export.gl.files.Staged``:
    unnamed where the file system allows, so a killed export leaves nothing; otherwise named by the process, and
    swept by the next export), synced, and put in place together once every one is written: a failed or killed
    export leaves the previous ledger whole, never some of its files replaced."""

    def __init__(self) -> None:
        self.staged: list[Staged] = []

    def write(self, path: Path, chunks: Iterator[str] | list[str]) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Refused here, before any file of the export is put in place, not at its own commit after others were.
        refuse_existing(path, force=True)
        sweep(path)
        staged = Staged(path, force=True)
        self.staged.append(staged)
        fd = staged.temporary(0o666 & ~umask())
        staged.finals.append(path)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        return path


@contextmanager
def _files() -> Iterator[_Files]:
    """A ``_Files`` whose files are put in place when the block ends without an error, and discarded otherwise."""
    files = _Files()
    try:
        yield files
        for staged in files.staged:
            staged.commit()
    finally:
        for staged in files.staged:
            staged.discard()


def _journal_periods(conn: Connection) -> set[str]:
    return {p for (p,) in conn.execute(select(journal_entries.c.period).distinct())}


def ledger_span(conn: Connection, periods: list[PeriodState]) -> list[PeriodState]:
    """The periods the ledger holds: every period from the first with entries to the last with entries or the last
    closed, so that each period's balance assertions follow on from the previous one's. Entries posted in a period
    the calendar does not have (only a tampered database holds them) are left out: the closed-periods check names
    each of them, and ``export_beancount`` refuses to write a ledger without them."""
    used = _journal_periods(conn)
    closed = [p for p in periods if p.status == "Closed"]
    names = [p.name for p in periods]
    marks = [names.index(p) for p in used if p in names] + [names.index(p.name) for p in closed]
    return periods[min(marks) : max(marks) + 1] if marks else []


def _period_file(
    conn: Connection, period: PeriodState, accounts: dict[str, str], balances: Balances | None = None
) -> Iterator[str]:
    """A period's file; ``balances`` are the subledger's at its end when the caller has them (else read here)."""
    yield f"; Accounting period {period.name}: {period.start_date} to {period.end_date}, {period.status}\n"
    yield (
        f'{period.start_date.isoformat()} custom "accounting-period" {quote(period.name)} '
        f"{period.end_date.isoformat()} {quote(period.status)}\n\n"
    )
    yield from _entries(conn, period.name, accounts)
    if balances is None:
        balances = subledger_balances(conn, period.end_date)
    yield from _assertions(period, accounts, balances)
    if period.status == "Closed":
        yield "\n" + _closed(period)


def _main_file(
    title: str, operating: list[str], includes: list[str], opened: dt.date, *, fava_extension: bool = False
) -> list[str]:
    day = opened.isoformat()
    return [
        f'option "title" {quote(title)}\n',
        *(f'option "operating_currency" "{c}"\n' for c in operating),
        # The plugin's copy beside this file is imported from this file's directory.
        'option "insert_pythonpath" "TRUE"\n',
        "\n",
        f'plugin "{PLUGIN}"\n\n',
        # Income, liabilities and equity read with natural signs in Fava (revenue and payables positive).
        f'{day} custom "fava-option" "invert-income-liabilities-equity" "true"\n',
        *([f'{day} custom "fava-extension" "{FAVA_EXTENSION}"\n'] if fava_extension else []),
        "\n",
        # A period file is named after the calendar's period, free text: quoted so that any name parses back.
        *(f"include {quote(name)}\n" for name in includes),
    ]


def plugin_source() -> str:
    """The closed-period plugin's source, written beside every exported ledger."""
    return importlib.resources.files("subledger.plugins").joinpath("closed_periods.py").read_text(encoding="utf-8")


def check_out(out: Path) -> None:
    """Refuse ``out`` unless the ledger can be written there; checked before anything is created, so a bad one
    leaves nothing behind (the export creates the missing directories)."""
    if out.exists() and not out.is_dir():
        raise BadOutput(f"--out {out} is a file: give a directory to write the ledger to")
    existing = out
    while not existing.exists():
        if existing.is_symlink():
            raise BadOutput(f"--out {out}: {existing} is a broken symbolic link")
        existing = existing.parent
    if not existing.is_dir():
        raise BadOutput(f"--out {out}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BadOutput(f"--out {out}: cannot write in {existing}: check its permissions")
    periods = out / PERIODS_DIRECTORY
    if periods.is_symlink() and not periods.exists():
        raise BadOutput(f"--out {out}: {periods} is a broken symbolic link")
    if periods.exists() and not periods.is_dir():
        raise BadOutput(
            f"--out {out}: {periods} is a file where the ledger writes a directory: move it away or give another "
            "directory"
        )
    written = [out / name for name in LEDGER_FILES]
    if periods.is_dir():
        written += sorted(periods.glob("*.beancount"))
    for path in written:
        if path.is_dir():
            raise BadOutput(
                f"--out {out}: {path} is a directory where the ledger writes a file: move it away or give another "
                "directory"
            )


def export_beancount(
    conn: Connection, out: Path, *, title: str = "subledger books", fava_extension: bool = False
) -> list[Path]:
    """Write the ledger under ``out``; returns the files written, ``main.beancount`` first. ``fava_extension`` adds
    the line that loads ``subledger.fava_ext`` in Fava (period close, write-off register, reversals, aging). A file
    an earlier export left for a period the ledger no longer holds is removed."""
    check_out(out)
    periods = read_periods(conn)
    stray = sorted(_journal_periods(conn) - {p.name for p in periods})
    if stray:
        raise RuleViolation(
            f"journal entries are posted in period {', '.join(stray)}, which the calendar does not have; the ledger "
            "would leave them out (see `subledger check`)",
            document=stray[0],
            field="period",
        )
    chart = read_chart(conn)
    accounts = {code.name: code.account for code in chart.codes.values()}
    span = ledger_span(conn, periods)
    opened = periods[0].start_date if periods else dt.date(1970, 1, 1)
    operating = sorted({c for code in chart.codes.values() for c in code.currencies})
    # Every period's assertions from one pass over the subledger (its movements by day, carried forward), rather
    # than the subledger summed from the start once per period.
    balances = subledger_balances_at(conn, [p.end_date for p in span])
    includes = [ACCOUNTS_FILE, *(f"{PERIODS_DIRECTORY}/{p.name}.beancount" for p in span)]
    with _files() as files:
        written = [
            files.write(out / ACCOUNTS_FILE, [_accounts_file(conn, opened)]),
            files.write(out / PLUGIN_FILE, [plugin_source()]),
        ]
        for period in span:
            file = _period_file(conn, period, accounts, balances[period.end_date])
            written.append(files.write(out / PERIODS_DIRECTORY / f"{period.name}.beancount", file))
        # main.beancount last: it is put in place last too.
        main = _main_file(title, operating, includes, opened, fava_extension=fava_extension)
        written.insert(0, files.write(out / MAIN_FILE, main))
    # A period the ledger no longer holds (the last closed one reopened, with no entries) keeps no file from an
    # earlier export to this directory: it would still say Closed. Only the calendar's period files are touched.
    kept = {p.name for p in span}
    folder = (out / PERIODS_DIRECTORY).resolve()
    for period in periods:
        if period.name not in kept:
            stale = out / PERIODS_DIRECTORY / f"{period.name}.beancount"
            # Never a file outside periods/ (a period's name is free text: '../main' would name main.beancount).
            if stale.is_file() and not stale.is_symlink() and stale.resolve().is_relative_to(folder):
                stale.unlink()
    # A killed export's temporary files (named where the file system has no unnamed files) of a period it no longer
    # writes: no write of that period's file sweeps them.
    if folder.is_dir():
        sweep_folder(folder)
    return written


def _opening(conn: Connection, period: PeriodState, accounts: dict[str, str]) -> Iterator[str]:
    """One transaction on the day before ``period`` starts carrying every account's balance from the journal (debit
    minus credit of every entry dated earlier), so that the period's own assertions can be checked on their own."""
    day_before = period.start_date - dt.timedelta(days=1)
    balances = journal_balances(conn, day_before)
    postings = sorted((accounts[code], currency, amount) for (code, currency), amount in balances.items() if amount)
    yield f"; Journal balances carried into {period.name} (every entry dated before {period.start_date})\n\n"
    if not postings:
        return
    yield f'{day_before.isoformat()} * "Opening balances" {quote(f"Journal balances at the start of {period.name}")}\n'
    for account, currency, amount in postings:
        text = fmt(amount, currency)
        yield f"  {account:<{ACCOUNT_WIDTH}} {text:>{AMOUNT_WIDTH}} {currency}\n"


def _period_ledger(conn: Connection, name: str) -> tuple[list[str], dt.date, list[tuple[str, list[str]]]]:
    """One period's ledger: the operating currencies, the day its accounts open, and its included files (relative
    name, text): the accounts, an opening-balances transaction computed from the journal, and the period's file
    exactly as ``export_beancount`` writes it (its transactions, its balance assertions, its closed-period
    directive)."""
    periods = read_periods(conn)
    period = next(p for p in periods if p.name == name)
    chart = read_chart(conn)
    accounts = {code.name: code.account for code in chart.codes.values()}
    # Accounts open before the opening transaction (the day before the period) even when it is the first period.
    opened = min(periods[0].start_date, period.start_date - dt.timedelta(days=1))
    operating = sorted({c for code in chart.codes.values() for c in code.currencies})
    files = [
        (ACCOUNTS_FILE, [_accounts_file(conn, opened)]),
        ("opening.beancount", list(_opening(conn, period, accounts))),
        (f"{PERIODS_DIRECTORY}/{name}.beancount", list(_period_file(conn, period, accounts))),
    ]
    return operating, opened, files


def export_period(conn: Connection, out: Path, name: str, *, title: str = "subledger books") -> list[Path]:
    """Write the ledger of one period under ``out`` (``_period_ledger``, with the plugin's copy beside it). Returns the
    files written, ``main.beancount`` first."""
    operating, opened, files = _period_ledger(conn, name)
    with _files() as staged:
        written = [staged.write(out / PLUGIN_FILE, [plugin_source()])]
        written += [staged.write(out / relative, chunks) for relative, chunks in files]
        main = _main_file(f"{title}: {name}", operating, [relative for relative, _ in files], opened)
        return [staged.write(out / MAIN_FILE, main), *written]


def period_ledger_text(conn: Connection, name: str) -> tuple[str, list[tuple[int, str]]]:
    """The ledger of one period as one text, for Beancount to load from memory: what ``export_period`` writes, its
    files inlined where ``main.beancount`` includes them, and the plugin by its module in this package (the close
    checks run where the package is installed). Nothing touches the disk, so a killed check leaves nothing behind.
    Also returns where each inlined file starts (first line, name), to name a problem's file and line."""
    operating, opened, files = _period_ledger(conn, name)
    main = "".join(_main_file(f"subledger books: {name}", operating, [], opened))
    main = main.replace('option "insert_pythonpath" "TRUE"\n', "").replace(
        f'plugin "{PLUGIN}"', 'plugin "subledger.plugins.closed_periods"'
    )
    parts, starts, line = [main], [(1, MAIN_FILE)], main.count("\n") + 1
    for relative, chunks in files:
        text = "".join(chunks)
        if text and not text.endswith("\n"):
            text += "\n"
        starts.append((line, relative))
        parts.append(text)
        line += text.count("\n")
    return "".join(parts), starts
