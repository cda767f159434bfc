"""The one place the close checks read the database: the facts of a run (``facts.Facts``), each computed once.

The journal may hold millions of lines, so it is read once (the journal pass, ``storage.journal_pass``): every
entry with its lines aggregated by the database, folded here into ``JournalFacts`` (and ``ChainFacts`` when the run
verifies the hash chain). The subledger side is one pass of the subledger queries grouped by day
(``balances.subledger_balances_at``), made by the forked process when the pass is shared. Only what a pass flags
goes back to the database for its details (the entries that do not balance per currency, the codes not usable,
the lines without their entry), so that a healthy book costs the passes alone.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    case,
    exists,
    func,
    or_,
    select,
    true,
    tuple_,
    type_coerce,
)

from subledger import canonical
from subledger.audit import recorded_charts
from subledger.balances import CONTROL_SIGN, journal_balances, out_of_range, subledger_balances_at
from subledger.chart import Chart
from subledger.checks.facts import (
    CONTROL_TYPES,
    Cause,
    ChainBreak,
    ChainFacts,
    CodeFacts,
    CodeUse,
    Empty,
    EntryKey,
    Facts,
    ForeignLine,
    GeneratedLine,
    JournalFacts,
    Key,
    Misdated,
    Need,
    OutOfRange,
    PeriodRecord,
    ReversalFacts,
    StoredBalance,
    Unbalanced,
    Unjournaled,
    UnloggedOperation,
    Unposted,
    entry_id,
)
from subledger.checks.ledger import ledger_facts
from subledger.checks.scope import Scope
from subledger.context import PeriodState, read_chart
from subledger.export.beancount import ledger_span
from subledger.fingerprint import chart_digest, entry_mark, period_fingerprint, seal
from subledger.money import ZERO
from subledger.posting import DocumentKind, line_type
from subledger.storage import journal_pass as storage
from subledger.storage.schema import (
    accounting_codes,
    applications,
    customer_accounts,
    document_items,
    documents,
    invoice_item_adjustments,
    journal_entries,
    journal_lines,
    of_entry,
    operations,
    payments,
    period_events,
    periods,
    refund_items,
    refunds,
    taxation_items,
)
from subledger.storage.types import Money, decoder, raw_zero

K = TypeVar("K")
#: Entries per batch of the detail queries that name the entries a pass flagged.
CHUNK = 500


def chunks(keys: Sequence[K]) -> Iterable[Sequence[K]]:
    for i in range(0, len(keys), CHUNK):
        yield keys[i : i + CHUNK]


def _sum(column: ColumnElement[Decimal]) -> ColumnElement[Decimal]:
    return type_coerce(func.sum(column), Money())


# --- the journal pass ---------------------------------------------------------------------------------------


@dataclass
class _Piece:
    """One piece of the pass folded (amounts and dates as the driver gives them, until ``_freeze``)."""

    lines: int = 0
    unbalanced: list[Unbalanced] = field(default_factory=list)
    empty: list[Empty] = field(default_factory=list)
    foreign: list[tuple[str, int, str]] = field(default_factory=list)
    totals: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    #: (day, control code, currency) -> debit minus credit of the control accounts' lines.
    control: dict[tuple[Any, str, str], Any] = field(default_factory=dict)
    misdated: list[Misdated] = field(default_factory=list)
    chain: list[ChainBreak] = field(default_factory=list)
    tails: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: Entries to hash in Python: (entry id, previous hash, fields, (account, seq), stored hash, hash version).
    deferred: list[tuple[str, str, tuple[str, ...], EntryKey, str, int]] = field(default_factory=list)
    marks: dict[str, list[str]] = field(default_factory=dict)

    def merge(self, later: _Piece) -> None:
        """Take in the piece over the accounts after this one's (their problems follow, in account order)."""
        self.lines += later.lines
        self.unbalanced += later.unbalanced
        self.empty += later.empty
        self.foreign += later.foreign
        self.misdated += later.misdated
        self.deferred += later.deferred
        self.chain += later.chain
        for name, marks in later.marks.items():
            self.marks.setdefault(name, []).extend(marks)
        for key, (debit, credit) in later.totals.items():
            total = self.totals.get(key)
            if total is None:
                self.totals[key] = [debit, credit]
            else:
                total[0] += debit
                total[1] += credit
        for day_code, moved in later.control.items():
            self.control[day_code] = self.control[day_code] + moved if day_code in self.control else moved
        self.tails.update(later.tails)


def _fold(
    rows: Iterable[tuple[Any, ...]], dialect: str, control: list[str], periods: Sequence[PeriodState], hashed: bool
) -> _Piece:
    """Fold the pass's rows (``storage.journal_pass.ENTRY_COLUMNS``, entries in account and sequence order)."""
    piece = _Piece()
    chain = piece.chain
    money = decoder(dialect)
    starts = [p.start_date for p in periods]
    sealed = {p.name for p in periods if p.status == "Closed" and p.seal}
    zero = raw_zero(dialect)
    n_control = len(control)
    last_account, last_seq, last_hash, last_version = "", 0, "", canonical.V1
    for row in rows:
        account, seq, day, period, ttype, currency, document, related, prev_hash, stored = row[:10]
        count, debit, credit, foreign, in_period = row[10:15]
        piece.lines += count
        if count == 0:
            piece.empty.append(Empty(entry_id(account, seq), period))
        if foreign:
            piece.foreign.append((account, seq, period))
        elif debit != credit:
            piece.unbalanced.append(Unbalanced(entry_id(account, seq), period, currency, money(debit), money(credit)))
        total = piece.totals.get((period, currency))
        if total is None:
            total = piece.totals[(period, currency)] = [zero, zero]
        total[0] += debit
        total[1] += credit
        for code, moved in zip(control, row[15 : 15 + n_control], strict=True):
            if moved:
                key = (day, code, currency)
                piece.control[key] = piece.control.get(key, zero) + moved
        dated_in = period
        if not in_period:
            date = storage.day(day)
            at = bisect.bisect_right(starts, date) - 1
            actual = periods[at] if at >= 0 and date <= periods[at].end_date else None
            dated_in = actual.name if actual else ""
            piece.misdated.append(Misdated(entry_id(account, seq), period, date, dated_in or None))
        piece.tails[account] = (seq, stored)
        if not hashed:
            continue
        if account != last_account:
            last_account, last_seq, last_hash, last_version = account, 0, "", canonical.V1
        this = entry_id(account, seq)
        if seq != last_seq + 1:
            chain.append(ChainBreak(this, "gap", before=last_seq))
        elif prev_hash != last_hash:
            chain.append(ChainBreak(this, "link"))
        last_seq, last_hash = seq, stored
        if dated_in in sealed:
            piece.marks.setdefault(dated_in, []).append(entry_mark(this, stored))
        text, tag, description, operation_id, version = row[15 + n_control :]
        if version not in canonical.VERSIONS:
            chain.append(ChainBreak(this, "unknown-version", version=version))
            continue
        if version < last_version:
            # An entry is hashed under the version current when it was posted: never an older one than the entry
            # before it (an edited entry cannot be given the older text that leaves the edited field out).
            chain.append(ChainBreak(this, "older-version", before=last_version, version=version))
        last_version = max(version, last_version)
        fields = canonical.entry_fields(
            version,
            account_number=account,
            seq=seq,
            entry_date=day,
            period=period,
            transaction_type=ttype,
            currency=currency,
            document_number=document,
            related_number=related,
            tag=tag,
            description=description,
            operation_id=operation_id,
        )
        # Entries the SQL could not format, and any whose hash does not recompute (its lines are hashed again in
        # line order, whatever order the aggregate took them in), are verified in Python.
        if text is None:
            formatted = count == 0
        elif version == canonical.V1:
            formatted = canonical.FALLBACK not in text
        else:
            formatted = canonical.plain_lines(text, count)
        if not formatted or canonical.chain_digest(prev_hash, fields, [] if text is None else [text]) != stored:
            piece.deferred.append((this, prev_hash, fields, (account, seq), stored, version))
    return piece


def code_currencies(conn: Connection) -> frozenset[Key]:
    """Every (accounting code, currency) pair on the journal's lines."""
    ln = journal_lines
    rows = conn.execute(select(ln.c.accounting_code, ln.c.currency).distinct())
    return frozenset((code, currency) for code, currency in rows)


def subledger_days(conn: Connection, scope: Scope, watch: set[str] | None = None) -> dict[dt.date, dict[Key, Decimal]]:
    """The subledger's control balances (debit minus credit) at every period end and the run's ``as_of``
    (``watch``: what the same pass flags for the dated-balances check, ``balances.subledger_balances_at``)."""
    every = {p.end_date for p in scope.periods} | ({scope.as_of} if scope.as_of else set())
    out: dict[dt.date, dict[Key, Decimal]] = {}
    for day, balances in subledger_balances_at(conn, every, watch).items():
        signed: dict[Key, Decimal] = defaultdict(lambda: ZERO)
        for control, amounts in balances.items():
            for key, amount in amounts.items():
                signed[key] += CONTROL_SIGN[control] * amount
        out[day] = dict(signed)
    return out


def _line_texts(conn: Connection, keys: Sequence[tuple[EntryKey, int]]) -> dict[EntryKey, list[str]]:
    """The lines of the entries ``keys`` (with the hash version of each) as the chain hashes them, in line order,
    formatted in Python from the stored values; a batch of entries per query."""
    ln = journal_lines
    versions = dict(keys)
    texts: dict[EntryKey, list[str]] = {key: [] for key in versions}
    for chunk in chunks(list(versions)):
        rows = conn.execute(
            select(ln.c.account_number, ln.c.entry_seq, *(ln.c[column] for column in canonical.LINE_COLUMNS))
            .where(tuple_(ln.c.account_number, ln.c.entry_seq).in_(chunk))
            .order_by(ln.c.account_number, ln.c.entry_seq, ln.c.line_no)
        )
        for row in rows:
            key = (row.account_number, row.entry_seq)
            texts[key].append(canonical.stored_line_text(versions[key], row._mapping))
    return texts


def _chain_order(found: ChainBreak) -> tuple[str, int, bool]:
    account, _, seq = found.entry.rpartition("-")
    return account, int(seq) if seq.isdigit() else 0, found.kind == "altered"


@dataclass(frozen=True)
class _Side:
    """What the forked process computes while this one reads the journal (when the pass is shared): the
    subledger's own passes, in the other process's snapshot."""

    subledger: dict[dt.date, dict[Key, Decimal]] | None = None
    pairs: frozenset[Key] | None = None
    unjournaled: tuple[Unjournaled, ...] | None = None
    stored: tuple[StoredBalance, ...] | None = None
    unlogged: tuple[UnloggedOperation, ...] | None = None
    #: What the subledger pass flagged that may have put a balance out of range on some day.
    watched: frozenset[str] = frozenset()


def _side(conn: Connection, scope: Scope, needs: frozenset[Need]) -> _Side:
    watch: set[str] | None = set() if Need.DATED_BALANCES in needs else None
    subledger = subledger_days(conn, scope, watch) if Need.SUBLEDGER in needs else None
    return _Side(
        subledger=subledger,
        watched=frozenset(watch or ()),
        pairs=code_currencies(conn) if Need.CODES in needs else None,
        unjournaled=_unjournaled(conn, scope) if Need.POSTINGS in needs else None,
        stored=_stored_balances(conn) if Need.STORED in needs else None,
        unlogged=_unlogged(conn) if Need.OPERATIONS in needs else None,
    )


def _read_journal(conn: Connection, scope: Scope, chart: Chart, needs: frozenset[Need]) -> tuple[_Piece, _Side]:
    """The journal pass, shared with a forked process over a large book (``storage.journal_pass.read_pass``),
    which makes the subledger's passes (``_side``) meanwhile, when the run needs them."""
    dialect = conn.dialect.name
    hashed = Need.CHAIN in needs
    control = sorted(code.name for code in chart.codes.values() if code.type in CONTROL_TYPES)
    currencies = {c for code in chart.codes.values() for c in code.currencies}
    currencies |= set(conn.execute(select(customer_accounts.c.currency).distinct()).scalars())
    bounds = [storage.PeriodBounds(p.name, p.start_date, p.end_date) for p in scope.periods]
    periods = list(scope.periods)

    def sql(accounts: str) -> str:
        return storage.journal_sql(dialect, currencies, control, bounds, hashed, accounts)

    def fold(rows: Iterable[tuple[Any, ...]]) -> _Piece:
        return _fold(rows, dialect, control, periods, hashed)

    parts, theirs = storage.read_pass(conn, sql, fold, lambda other: _side(other, scope, needs))
    piece = parts[0]
    for later in parts[1:]:
        piece.merge(later)
    side = theirs if theirs is not None else _side(conn, scope, needs)
    if piece.deferred:  # entries the SQL could not format or whose hash did not recompute: hashed here
        texts = _line_texts(conn, [(key, version) for *_, key, _, version in piece.deferred])
        altered = [
            ChainBreak(this, "altered")
            for this, prev_hash, fields, key, stored, _ in piece.deferred
            if canonical.chain_digest(prev_hash, fields, texts[key]) != stored
        ]
        if altered:  # in entry order among the others, after an entry's own sequence or link problem
            piece.chain = sorted([*piece.chain, *altered], key=_chain_order)
        piece.deferred = []
    return piece, side


def _foreign_details(
    conn: Connection, foreign: Sequence[tuple[str, int, str]]
) -> tuple[dict[EntryKey, tuple[Unbalanced, ...]], dict[EntryKey, tuple[ForeignLine, ...]]]:
    """Per entry with a line in another currency than its own: the currencies its lines do not balance in, and
    its lines' other currencies."""
    unbalanced: dict[EntryKey, list[Unbalanced]] = defaultdict(list)
    others: dict[EntryKey, list[ForeignLine]] = defaultdict(list)
    period_of = {(account, seq): period for account, seq, period in foreign}
    e, ln = journal_entries, journal_lines
    for keys in chunks([(account, seq) for account, seq, _ in foreign]):
        chosen = tuple_(e.c.account_number, e.c.seq).in_(keys)
        query = (
            select(ln.c.account_number, ln.c.entry_seq, ln.c.currency, _sum(ln.c.debit), _sum(ln.c.credit))
            .join(e, of_entry(journal_lines))
            .where(chosen)
            .group_by(ln.c.account_number, ln.c.entry_seq, ln.c.currency)
            .having(func.sum(ln.c.debit) != func.sum(ln.c.credit))
            .order_by(ln.c.account_number, ln.c.entry_seq, ln.c.currency)
        )
        for account, seq, currency, debit, credit in conn.execute(query):
            key = (account, seq)
            unbalanced[key].append(Unbalanced(entry_id(account, seq), period_of[key], currency, debit, credit))
        query = (
            select(e.c.account_number, e.c.seq, e.c.currency, ln.c.currency)
            .join(ln, of_entry(journal_lines))
            .where(chosen, ln.c.currency != e.c.currency)
            .distinct()
            .order_by(e.c.account_number, e.c.seq, ln.c.currency)
        )
        for account, seq, currency, line_currency in conn.execute(query):
            others[(account, seq)].append(ForeignLine(entry_id(account, seq), line_currency, currency))
    return (
        {key: tuple(found) for key, found in unbalanced.items()},
        {key: tuple(found) for key, found in others.items()},
    )


def _journal_facts(conn: Connection, piece: _Piece, control: frozenset[str], dialect: str) -> JournalFacts:
    money = decoder(dialect)
    totals: dict[tuple[str, str], tuple[Decimal, Decimal]]
    foreign_unbalanced: dict[EntryKey, tuple[Unbalanced, ...]] = {}
    foreign_lines: dict[EntryKey, tuple[ForeignLine, ...]] = {}
    if piece.foreign:
        foreign_unbalanced, foreign_lines = _foreign_details(conn, piece.foreign)
        # A line in another currency than its entry's: the totals go by the lines' own currencies.
        ln, e = journal_lines, journal_entries
        query = (
            select(e.c.period, ln.c.currency, _sum(ln.c.debit), _sum(ln.c.credit))
            .join(e, of_entry(journal_lines))
            .group_by(e.c.period, ln.c.currency)
        )
        totals = {(period, currency): (debit, credit) for period, currency, debit, credit in conn.execute(query)}
    else:
        totals = {key: (money(debit), money(credit)) for key, (debit, credit) in piece.totals.items()}
    return JournalFacts(
        lines=piece.lines,
        unbalanced=tuple(piece.unbalanced),
        empty=tuple(piece.empty),
        foreign=tuple(piece.foreign),
        foreign_unbalanced=foreign_unbalanced,
        foreign_lines=foreign_lines,
        totals=totals,
        misdated=tuple(piece.misdated),
        tails=dict(piece.tails),
        control_codes=control,
    )


def _chain_facts(conn: Connection, piece: _Piece) -> ChainFacts:
    orphans: list[EntryKey] = []
    stored_lines = conn.execute(select(func.count()).select_from(journal_lines)).scalar_one()
    if stored_lines != piece.lines:  # lines whose entry is missing (the pass reads lines through their entries)
        e, ln = journal_entries, journal_lines
        query = (
            select(ln.c.account_number, ln.c.entry_seq)
            .where(~select(e.c.seq).where(of_entry(journal_lines)).exists())
            .distinct()
            .order_by(ln.c.account_number, ln.c.entry_seq)
        )
        orphans = [(account, seq) for account, seq in conn.execute(query)]
    ca = customer_accounts
    heads = {
        account: (seq, digest)
        for account, seq, digest in conn.execute(select(ca.c.account_number, ca.c.last_entry_seq, ca.c.last_entry_hash))
    }
    return ChainFacts(
        breaks=tuple(piece.chain),
        orphans=tuple(orphans),
        heads=heads,
        marks={name: tuple(marks) for name, marks in piece.marks.items()},
    )


def _deactivated_by(conn: Connection, inactive: set[str]) -> dict[str, int]:
    """For each inactive code, the ``init`` that deactivated it (each init's request records the chart it installed,
    every code with ``active``; a code left out of the chart is deactivated too): every line an earlier operation
    posted was posted while the code was active. A code no recorded init deactivated (its flag changed by hand) has
    none here, and every line naming it is unusable."""
    since: dict[str, int] = {}
    seen: set[str] = set()
    for op, chart in recorded_charts(conn) if inactive else ():
        listed = {code.name: code.active for code in chart}
        for name in inactive:
            if listed.get(name, False):
                seen.add(name)
                since.pop(name, None)
            elif name in seen:
                since.setdefault(name, op)
    return since


def _unusable_codes(conn: Connection, scope: Scope, chart: Chart, pairs: frozenset[Key]) -> tuple[CodeUse, ...]:
    """Lines naming a code the chart does not have, or an inactive code and posted since it was deactivated."""
    active = {code.name for code in chart.codes.values() if code.active}
    if all(code in active for code, _ in pairs):
        return ()
    ln, codes = journal_lines, accounting_codes
    since = _deactivated_by(conn, {code for code, _ in pairs if code in chart.codes and code not in active})
    after = or_(
        ln.c.accounting_code.not_in(sorted(since)),
        *(and_(ln.c.accounting_code == code, journal_entries.c.operation_id >= op) for code, op in since.items()),
    )
    query = (
        select(ln.c.accounting_code, codes.c.name, func.count())
        .join(journal_entries, of_entry(journal_lines))
        .outerjoin(codes, codes.c.name == ln.c.accounting_code)
        .where(scope.entries(), or_(codes.c.name.is_(None), and_(codes.c.active.is_(False), after)))
        .group_by(ln.c.accounting_code, codes.c.name)
        .order_by(ln.c.accounting_code)
    )
    found: list[CodeUse] = []
    for code, known, count in conn.execute(query).all():
        # The first entry with such a line names the problem (the least account and, in it, the least sequence).
        first = (
            select(ln.c.account_number, ln.c.entry_seq)
            .join(journal_entries, of_entry(journal_lines))
            .where(scope.entries(), ln.c.accounting_code == code, after if known is not None else true())
            .order_by(ln.c.account_number, ln.c.entry_seq)
            .limit(1)
        )
        account, seq = conn.execute(first).one()
        found.append(CodeUse(code, known is not None, count, (account, seq)))
    return tuple(found)


def _journal_at(
    conn: Connection,
    piece: _Piece,
    dialect: str,
    days: Iterable[dt.date],
    control: frozenset[str],
    codes: set[str],
) -> dict[dt.date, dict[Key, Decimal]]:
    """The journal's balances at the end of each of ``days`` of the control codes and ``codes``: the control
    codes from the pass, the others (codes the subledger names that are not control accounts in the chart, which
    the pass does not total) from the database."""
    money = decoder(dialect)
    moves = [(storage.day(day), code, currency, money(raw)) for (day, code, currency), raw in piece.control.items()]
    out: dict[dt.date, dict[Key, Decimal]] = {}
    for as_of in sorted(set(days)):
        if piece.foreign:  # lines in another currency than their entry's: the pass totals by entry currency
            out[as_of] = journal_balances(conn, as_of, sorted(control | codes))
            continue
        balances: dict[Key, Decimal] = defaultdict(lambda: ZERO)
        for moved_on, code, currency, amount in moves:
            if moved_on <= as_of:
                balances[(code, currency)] += amount
        others = sorted(codes - control)
        if others:
            balances.update(journal_balances(conn, as_of, others))
        out[as_of] = dict(balances)
    return out


# --- the subledger ------------------------------------------------------------------------------------------


def _unposted(conn: Connection, scope: Scope) -> tuple[Unposted, ...]:
    """Drafts and unprocessed payments dated in the period; for the whole book, every one whatever its date: a
    draft posts nothing, so it never moves ``as_of`` (the last posting's period) out to its own date."""

    def dated(column: ColumnElement[dt.date]) -> ColumnElement[bool]:
        return scope.dated(column) if scope.period is not None else true()

    docs = (
        select(documents.c.number, documents.c.kind, documents.c.status, documents.c.document_date)
        .where(documents.c.status == "Draft", dated(documents.c.document_date))
        .order_by(documents.c.document_date, documents.c.number)
    )
    pays = (
        select(payments.c.number, payments.c.status, payments.c.effective_date)
        .where(payments.c.status.in_(("Draft", "Processing")), dated(payments.c.effective_date))
        .order_by(payments.c.effective_date, payments.c.number)
    )
    found = [Unposted(number, kind, status, date) for number, kind, status, date in conn.execute(docs)]
    found += [Unposted(number, "Payment", status, date) for number, status, date in conn.execute(pays)]
    return tuple(found)


def _generated_lines(source: str, scope: Scope) -> list[tuple[str, Select[Any]]]:
    """(kind, query) pairs selecting every line of the memos generated by ``source`` (WriteOff, Reversal) in scope
    that is not exactly applied, with the amount applied between the generated line and the line it mirrors (in
    either direction)."""
    queries: list[tuple[str, Select[Any]]] = []
    for kind, table, amount, original in (
        ("item", document_items, document_items.c.amount, document_items.c.source_item_id),
        ("tax", taxation_items, taxation_items.c.tax_amount, taxation_items.c.source_tax_item_id),
    ):
        app = applications
        # A generated line settles the line it mirrors (and, under the rule No, the discount folded into it): the
        # applications between it and the document it came from, in either direction, must add up to its amount.
        pairs = or_(
            and_(app.c.source_item_id == table.c.id, app.c.target_number == documents.c.source_document),
            and_(app.c.target_item_id == table.c.id, app.c.source_number == documents.c.source_document),
        )
        query = (
            select(
                documents.c.number,
                table.c.id,
                original,
                type_coerce(amount, Money()),
                type_coerce(table.c.balance, Money()),
                type_coerce(func.coalesce(func.sum(app.c.amount), 0), Money()),
                documents.c.currency,
            )
            .join(
                table,
                and_(
                    table.c.account_number == documents.c.account_number, table.c.document_number == documents.c.number
                ),
            )
            .outerjoin(app, and_(app.c.account_number == table.c.account_number, pairs))
            .where(documents.c.source == source, scope.dated(documents.c.document_date))
            .group_by(documents.c.number, table.c.id, original, amount, table.c.balance, documents.c.currency)
            .having(
                or_(
                    table.c.balance != 0,
                    func.coalesce(func.sum(app.c.amount), 0) != amount,
                    original.is_(None),
                )
            )
            .order_by(documents.c.number, table.c.id)
        )
        queries.append((kind, query))
    return queries


def _generated(conn: Connection, scope: Scope) -> dict[str, tuple[GeneratedLine, ...]]:
    out: dict[str, tuple[GeneratedLine, ...]] = {}
    for source in ("WriteOff", "Reversal"):
        out[source] = tuple(
            GeneratedLine(kind, *row) for kind, query in _generated_lines(source, scope) for row in conn.execute(query)
        )
    return out


def _per_code(conn: Connection, scope: Scope, original: bool) -> dict[tuple[str, str, str], Decimal]:
    """Amounts by (reversal memo, code role, accounting code): of the reversal memo's own lines, or (``original``)
    of the lines of the document it reverses."""
    out: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
    memo = documents
    for role, table, code, amount in (
        ("revenue", document_items, document_items.c.revenue_code, document_items.c.amount),
        ("tax", taxation_items, taxation_items.c.sales_tax_code, taxation_items.c.tax_amount),
    ):
        number = memo.c.source_document if original else memo.c.number
        query = (
            select(memo.c.number, code, _sum(amount))
            .join(
                table,
                and_(table.c.account_number == memo.c.account_number, table.c.document_number == number),
            )
            .where(memo.c.source == "Reversal", scope.dated(memo.c.document_date))
            .group_by(memo.c.number, code)
        )
        for doc, name, total in conn.execute(query):
            out[(doc, role, name)] += total
    return dict(out)


def _reversals(conn: Connection, scope: Scope) -> ReversalFacts:
    sources = dict(
        conn.execute(
            select(documents.c.number, documents.c.source_document).where(
                documents.c.source == "Reversal", scope.dated(documents.c.document_date)
            )
        ).all()
    )
    currencies = dict(conn.execute(select(documents.c.number, documents.c.currency)).all()) if sources else {}
    return ReversalFacts(
        mirrored=_per_code(conn, scope, original=False),
        originals=_per_code(conn, scope, original=True),
        sources=sources,
        currencies=currencies,
    )


def _fingerprints(
    conn: Connection, closed: Sequence[PeriodState], chain: ChainFacts | None, journal: JournalFacts | None
) -> dict[str, str]:
    """The journal's fingerprint of each of the ``closed`` periods: the recorded one where the period's seal
    proves it (``fingerprint``'s docstring), else recomputed from the period's lines."""
    out: dict[str, str] = {}
    # The seal stands for the lines only when the chain verified and no line left its entry's currency.
    proof = (
        chain is not None
        and journal is not None
        and chain.breaks == ()
        and not journal.foreign
        and any(p.seal and p.fingerprint for p in closed)
    )
    chart = chart_digest(conn) if proof else ""
    for period in closed:
        if period.name in out:
            continue
        if proof and period.seal and period.fingerprint:
            assert chain is not None
            if seal(chart, period.fingerprint, chain.marks.get(period.name, ())) == period.seal:
                out[period.name] = period.fingerprint
                continue
        out[period.name] = period_fingerprint(conn, period.start_date, period.end_date)
    return out


# --- the subledger against the journal, stored balances, periods, the operation log ----------------------------


def _posted_by(
    record_account: ColumnElement[str],
    number: ColumnElement[str],
    date: ColumnElement[dt.date],
    *conditions: ColumnElement[bool],
) -> ColumnElement[bool]:
    """A journal entry of the record's account that posts it: its number, on its date (through the entries'
    (account, document) index)."""
    e = journal_entries
    return exists().where(
        e.c.account_number == record_account, e.c.document_number == number, e.c.entry_date == date, *conditions
    )


def _unjournaled(conn: Connection, scope: Scope) -> tuple[Unjournaled, ...]:
    """Every subledger record dated in scope that posts (a posted document with a line not zero, a processed
    payment, an application, a processed adjustment) and has no journal entry posting it: whatever the journal's
    last date, the subledger is compared with it in full."""
    d, it, tx, p, app, adj = documents, document_items, taxation_items, payments, applications, invoice_item_adjustments
    e = journal_entries
    found: list[Unjournaled] = []
    posting_types = sorted({line_type(kind, tax=tax).value for kind in DocumentKind for tax in (False, True)})
    # Asked only of the documents without their entry (rare): a document whose lines are all zero posts nothing.
    lines_not_zero = (
        select(func.count())
        .where(it.c.account_number == d.c.account_number, it.c.document_number == d.c.number, it.c.amount != 0)
        .scalar_subquery()
    )
    taxes_not_zero = (
        select(func.count())
        .where(tx.c.account_number == d.c.account_number, tx.c.document_number == d.c.number, tx.c.tax_amount != 0)
        .scalar_subquery()
    )
    items = (
        select(func.coalesce(func.sum(it.c.amount), 0))
        .where(it.c.account_number == d.c.account_number, it.c.document_number == d.c.number)
        .scalar_subquery()
    )
    taxes = (
        select(func.coalesce(func.sum(tx.c.tax_amount), 0))
        .where(tx.c.account_number == d.c.account_number, tx.c.document_number == d.c.number)
        .scalar_subquery()
    )
    docs = (
        select(
            d.c.kind,
            d.c.number,
            d.c.document_date,
            type_coerce(items + taxes, Money()),
            d.c.currency,
            lines_not_zero + taxes_not_zero,
        )
        .where(
            d.c.status == "Posted",
            scope.dated(d.c.document_date),
            ~_posted_by(d.c.account_number, d.c.number, d.c.document_date, e.c.transaction_type.in_(posting_types)),
        )
        .order_by(d.c.document_date, d.c.number)
    )
    found += [
        Unjournaled(kind, number, None, None, day, amount, cur)
        for kind, number, day, amount, cur, not_zero in conn.execute(docs)
        if not_zero
    ]
    pays = (
        select(p.c.number, p.c.effective_date, type_coerce(p.c.amount, Money()), p.c.currency)
        .where(
            p.c.status == "Processed",
            p.c.amount != 0,
            scope.dated(p.c.effective_date),
            ~_posted_by(p.c.account_number, p.c.number, p.c.effective_date, e.c.related_number.is_(None)),
        )
        .order_by(p.c.effective_date, p.c.number)
    )
    found += [
        Unjournaled("Payment", number, None, None, day, amount, cur) for number, day, amount, cur in conn.execute(pays)
    ]
    apps = (
        select(
            app.c.source_number,
            app.c.id,
            app.c.target_number,
            app.c.effective_date,
            type_coerce(app.c.amount, Money()),
            func.coalesce(p.c.currency, d.c.currency),
        )
        .outerjoin(p, and_(p.c.account_number == app.c.account_number, p.c.number == app.c.source_number))
        .outerjoin(d, and_(d.c.account_number == app.c.account_number, d.c.number == app.c.source_number))
        .where(
            app.c.amount != 0,
            scope.dated(app.c.effective_date),
            ~_posted_by(
                app.c.account_number,
                app.c.source_number,
                app.c.effective_date,
                e.c.related_number == app.c.target_number,
            ),
        )
        .order_by(app.c.effective_date, app.c.source_number, app.c.id)
    )
    found += [
        Unjournaled("Application", source, ref, target, day, amount, cur)
        for source, ref, target, day, amount, cur in conn.execute(apps)
    ]
    adjusted = (
        select(
            adj.c.number,
            adj.c.invoice_number,
            adj.c.adjustment_date,
            type_coerce(adj.c.amount, Money()),
            adj.c.currency,
        )
        .where(
            adj.c.status == "Processed",
            adj.c.amount != 0,
            scope.dated(adj.c.adjustment_date),
            ~_posted_by(adj.c.account_number, adj.c.number, adj.c.adjustment_date),
        )
        .order_by(adj.c.adjustment_date, adj.c.number)
    )
    found += [
        Unjournaled("Adjustment", number, None, invoice, day, amount, cur)
        for number, invoice, day, amount, cur in conn.execute(adjusted)
    ]
    # A refund posts on its refund date, its cancellation (the mirror) on its cancel date: each an entry of the
    # credit memo related to the refund.
    rf = refunds.c
    for kind, day, condition in (
        ("Refund", rf.refund_date, true()),
        ("RefundCancel", rf.cancel_date, rf.status == "Canceled"),
    ):
        refunded = (
            select(rf.number, rf.credit_memo_number, day, type_coerce(rf.amount, Money()), rf.currency)
            .where(
                condition,
                scope.dated(day),
                ~_posted_by(rf.account_number, rf.credit_memo_number, day, e.c.related_number == rf.number),
            )
            .order_by(day, rf.number)
        )
        found += [
            Unjournaled(kind, number, None, memo, on, amount, cur)
            for number, memo, on, amount, cur in conn.execute(refunded)
        ]
    return tuple(found)


def _line_moves(
    conn: Connection, table: Table, is_tax: bool
) -> tuple[ColumnElement[Decimal], list[tuple[Any, ColumnElement[bool]]]]:
    """What moved a line of ``table`` away from its amount (the line's stored balance is its amount less this):
    applications to it (from it, for a credit memo's line), processed adjustments (Credits down, Charges up) and
    processed refunds of it; with the outer joins it needs. SQLite looks each line's up through the indexes by
    document (a grouped pass joined to the lines is one SQLite builds and indexes first, which costs more);
    PostgreSQL groups each source once and joins by hash (a lookup per line is a sub-plan per row there). The
    measured difference is in ``bench/README.md``."""
    app, adj, r, ri, d = applications, invoice_item_adjustments, refunds, refund_items, documents
    credit_memo = d.c.kind == DocumentKind.CREDIT_MEMO.value
    source_type = "Tax" if is_tax else "InvoiceDetail"
    net = case((adj.c.type == "Credit", adj.c.amount), else_=-adj.c.amount)
    if conn.dialect.name == "postgresql":
        grouped = {
            name: query.subquery()
            for name, query in (
                (
                    "to",
                    select(
                        app.c.account_number, app.c.target_item_id.label("line"), func.sum(app.c.amount).label("v")
                    ).group_by(app.c.account_number, app.c.target_item_id),
                ),
                (
                    "from",
                    select(app.c.account_number, app.c.source_item_id.label("line"), func.sum(app.c.amount).label("v"))
                    .where(app.c.source_kind == DocumentKind.CREDIT_MEMO.value, app.c.source_item_id.is_not(None))
                    .group_by(app.c.account_number, app.c.source_item_id),
                ),
                (
                    "adjusted",
                    select(adj.c.account_number, adj.c.source_id.label("line"), func.sum(net).label("v"))
                    .where(adj.c.status == "Processed", adj.c.source_type == source_type)
                    .group_by(adj.c.account_number, adj.c.source_id),
                ),
                (
                    "refunded",
                    select(ri.c.account_number, ri.c.memo_item_id.label("line"), func.sum(ri.c.amount).label("v"))
                    .join(r, and_(r.c.account_number == ri.c.account_number, r.c.number == ri.c.refund_number))
                    .where(r.c.status == "Processed", ri.c.is_tax.is_(is_tax))
                    .group_by(ri.c.account_number, ri.c.memo_item_id),
                ),
            )
        }
        moved: dict[str, ColumnElement[Any]] = {name: func.coalesce(sub.c.v, 0) for name, sub in grouped.items()}
        joins = [
            (sub, and_(sub.c.account_number == table.c.account_number, sub.c.line == table.c.id))
            for sub in grouped.values()
        ]
    else:
        same = app.c.account_number == table.c.account_number
        refunds_of_memo = (
            select(r.c.number)
            .where(
                r.c.account_number == table.c.account_number,
                r.c.credit_memo_number == table.c.document_number,
                r.c.status == "Processed",
            )
            .correlate(table)
        )
        moved = {
            "to": select(func.coalesce(func.sum(app.c.amount), 0))
            .where(same, app.c.target_number == table.c.document_number, app.c.target_item_id == table.c.id)
            .scalar_subquery(),
            "from": select(func.coalesce(func.sum(app.c.amount), 0))
            .where(
                same,
                app.c.source_number == table.c.document_number,
                app.c.source_kind == DocumentKind.CREDIT_MEMO.value,
                app.c.source_item_id == table.c.id,
            )
            .scalar_subquery(),
            "adjusted": select(func.coalesce(func.sum(net), 0))
            .where(
                adj.c.account_number == table.c.account_number,
                adj.c.invoice_number == table.c.document_number,
                adj.c.status == "Processed",
                adj.c.source_type == source_type,
                adj.c.source_id == table.c.id,
            )
            .scalar_subquery(),
            "refunded": select(func.coalesce(func.sum(ri.c.amount), 0))
            .where(
                ri.c.account_number == table.c.account_number,
                ri.c.refund_number.in_(refunds_of_memo),
                ri.c.memo_item_id == table.c.id,
                ri.c.is_tax.is_(is_tax),
            )
            .scalar_subquery(),
        }
        joins = []
    return case((credit_memo, moved["from"] + moved["refunded"]), else_=moved["to"] + moved["adjusted"]), joins


def _stored_balances(conn: Connection) -> tuple[StoredBalance, ...]:
    """Every stored balance that does not recompute: a line's is its amount less what moved it (``_line_moves``);
    a payment's unapplied amount is its amount less what it applied."""
    app, d, p = applications, documents, payments
    found: list[StoredBalance] = []
    for kind, table, amount, is_tax in (
        ("item", document_items, document_items.c.amount, False),
        ("tax", taxation_items, taxation_items.c.tax_amount, True),
    ):
        moves, joins = _line_moves(conn, table, is_tax)
        computed = amount - moves
        query = (
            select(
                table.c.document_number,
                table.c.id,
                type_coerce(table.c.balance, Money()),
                type_coerce(computed, Money()),
                d.c.currency,
            )
            .join(d, and_(d.c.account_number == table.c.account_number, d.c.number == table.c.document_number))
            .where(table.c.balance != computed)
            .order_by(table.c.document_number, table.c.id)
        )
        for sub, on in joins:
            query = query.outerjoin(sub, on)
        found += [StoredBalance(kind, *row) for row in conn.execute(query)]
    paid = (
        select(func.coalesce(func.sum(app.c.amount), 0))
        .where(
            app.c.account_number == p.c.account_number,
            app.c.source_number == p.c.number,
            app.c.source_kind == "Payment",
        )
        .scalar_subquery()
    )
    computed = p.c.amount - paid
    query = (
        select(p.c.number, type_coerce(p.c.unapplied, Money()), type_coerce(computed, Money()), p.c.currency)
        .where(p.c.unapplied != computed)
        .order_by(p.c.number)
    )
    found += [
        StoredBalance("payment", number, None, stored, amount, cur)
        for number, stored, amount, cur in conn.execute(query)
    ]
    return tuple(found)


def _period_records(conn: Connection) -> tuple[PeriodRecord, ...]:
    """Each period (in calendar order) with the status and fingerprint of the last event recorded for it."""
    pe = period_events
    last = select(pe.c.period, func.max(pe.c.id).label("id")).group_by(pe.c.period).subquery()
    query = (
        select(periods.c.name, periods.c.status, periods.c.fingerprint, pe.c.to_status, pe.c.fingerprint)
        .outerjoin(last, last.c.period == periods.c.name)
        .outerjoin(pe, pe.c.id == last.c.id)
        .order_by(periods.c.start_date)
    )
    return tuple(PeriodRecord(*row) for row in conn.execute(query))


#: Tables whose rows name the operation that wrote them.
_LOGGED: tuple[Table, ...] = (journal_entries, documents, payments, applications, invoice_item_adjustments, refunds)


def _unlogged(conn: Connection) -> tuple[UnloggedOperation, ...]:
    """Operation ids the books' rows carry that the operation log does not have (a deleted ``operations`` row)."""
    found: list[UnloggedOperation] = []
    for table in _LOGGED:
        query = (
            select(table.c.operation_id, func.count())
            .where(~exists().where(operations.c.id == table.c.operation_id))
            .group_by(table.c.operation_id)
            .order_by(table.c.operation_id)
        )
        found += [UnloggedOperation(int(op), table.name, int(n)) for op, n in conn.execute(query)]
    return tuple(found)


# --- balances at each period end, per document ----------------------------------------------------------------

#: (holder side, account, key): "T" an invoice or debit memo line (settled), "S" a credit memo line (settling),
#: "P" a payment (key: its number); a line's key is its id (unique in the book, as ``_line_moves`` matches them).
Holder = tuple[str, str, str]


@dataclass
class _Move:
    date: dt.date
    #: What it took off the balance (an unapplication gives back: negative), and what it added to what the line
    #: may hold (a Charge adjustment).
    takes: Decimal
    raises: Decimal
    operation: int
    what: str


@dataclass
class _Held:
    number: str
    kind: str
    dated: dt.date
    currency: str
    amount: Decimal
    path: str  #: the field a problem names: items[id], taxationItems[id], unapplied
    order: tuple[int, int]
    moves: list[_Move] = field(default_factory=list)


def _candidates(conn: Connection, watched: frozenset[str]) -> set[Holder]:
    """The lines and payments whose balance may have been out of range on some day: one set-based query per source
    the subledger pass flagged (``watched``), and the small tables (adjustments, refunds) always. Every other
    line's moves are all dated on or after its date and all settle it, so its balance ran from its amount toward
    its stored one, in range all along."""
    app, d, p, adj, r, ri = applications, documents, payments, invoice_item_adjustments, refunds, refund_items
    found: set[Holder] = set()
    if watched & {"applications", "payments"}:
        t, s, ti, tt = d.alias("t"), d.alias("s"), document_items.alias("ti"), taxation_items.alias("tt")
        line_amount = func.coalesce(ti.c.amount, tt.c.tax_amount)
        query = (
            select(app.c.account_number, app.c.source_kind, app.c.source_number, app.c.source_item_id)
            .add_columns(app.c.target_item_id)
            .join(t, and_(t.c.account_number == app.c.account_number, t.c.number == app.c.target_number))
            .outerjoin(
                ti,
                and_(
                    ~app.c.target_is_tax, ti.c.account_number == app.c.account_number, ti.c.id == app.c.target_item_id
                ),
            )
            .outerjoin(
                tt,
                and_(app.c.target_is_tax, tt.c.account_number == app.c.account_number, tt.c.id == app.c.target_item_id),
            )
            .outerjoin(
                s,
                and_(
                    app.c.source_kind == DocumentKind.CREDIT_MEMO.value,
                    s.c.account_number == app.c.account_number,
                    s.c.number == app.c.source_number,
                ),
            )
            .outerjoin(
                p,
                and_(
                    app.c.source_kind == "Payment",
                    p.c.account_number == app.c.account_number,
                    p.c.number == app.c.source_number,
                ),
            )
            .where(
                or_(
                    app.c.effective_date < t.c.document_date,
                    app.c.effective_date < func.coalesce(s.c.document_date, p.c.effective_date),
                    and_(app.c.amount < 0, line_amount >= 0),
                    and_(app.c.amount > 0, line_amount <= 0),
                )
            )
        )
        for account, kind, source, source_item, target_item in conn.execute(query):
            found.add(("T", account, target_item))
            found.add(("P", account, source) if kind == "Payment" else ("S", account, source_item))
    if "lines" in watched:
        for table, amount in ((document_items, document_items.c.amount), (taxation_items, taxation_items.c.tax_amount)):
            query = (
                select(table.c.account_number, table.c.id, d.c.kind)
                .join(d, and_(d.c.account_number == table.c.account_number, d.c.number == table.c.document_number))
                .where(d.c.status == "Posted", out_of_range(table.c.balance, amount))
            )
            found |= {("S" if kind == "CreditMemo" else "T", a, line) for a, line, kind in conn.execute(query)}
    if "payments" in watched:
        query = select(p.c.account_number, p.c.number).where(
            p.c.status == "Processed", out_of_range(p.c.unapplied, p.c.amount)
        )
        found |= {("P", a, number) for a, number in conn.execute(query)}
    query = (
        select(adj.c.account_number, adj.c.source_id)
        .join(d, and_(d.c.account_number == adj.c.account_number, d.c.number == adj.c.invoice_number))
        .where(adj.c.status == "Processed", or_(adj.c.type == "Charge", adj.c.adjustment_date < d.c.document_date))
    )
    found |= {("T", a, line) for a, line in conn.execute(query)}
    query = (
        select(ri.c.account_number, ri.c.memo_item_id)
        .join(r, and_(r.c.account_number == ri.c.account_number, r.c.number == ri.c.refund_number))
        .join(d, and_(d.c.account_number == r.c.account_number, d.c.number == r.c.credit_memo_number))
        .where(or_(r.c.cancel_date.is_not(None), r.c.refund_date < d.c.document_date))
    )
    found |= {("S", a, line) for a, line in conn.execute(query)}
    return found


def _held(conn: Connection, candidates: set[Holder]) -> dict[Holder, _Held]:
    """The candidates with their amounts, dates and every move, a batch of keys per query."""
    d, p, app = documents, payments, applications
    held: dict[Holder, _Held] = {}
    lines = sorted((a, key) for side, a, key in candidates if side != "P")
    for keys in chunks(lines):
        for table, amount, name in (
            (document_items, document_items.c.amount, "items"),
            (taxation_items, taxation_items.c.tax_amount, "taxationItems"),
        ):
            query = (
                select(table.c.account_number, table.c.id, d.c.number, d.c.kind, d.c.document_date, d.c.currency)
                .add_columns(type_coerce(amount, Money()), table.c.line_no)
                .join(d, and_(d.c.account_number == table.c.account_number, d.c.number == table.c.document_number))
                .where(tuple_(table.c.account_number, table.c.id).in_(keys), d.c.status == "Posted")
            )
            for a, line, number, kind, day, currency, value, line_no in conn.execute(query):
                side = "S" if kind == "CreditMemo" else "T"
                order = (0 if name == "items" else 1, line_no)
                held[(side, a, line)] = _Held(number, kind, day, currency, value, f"{name}[{line}]", order)
    pays = sorted((a, key) for side, a, key in candidates if side == "P")
    for keys in chunks(pays):
        query = select(
            p.c.account_number, p.c.number, p.c.effective_date, p.c.currency, type_coerce(p.c.amount, Money())
        ).where(tuple_(p.c.account_number, p.c.number).in_(keys), p.c.status == "Processed")
        for a, number, day, currency, value in conn.execute(query):
            held[("P", a, number)] = _Held(number, "Payment", day, currency, value, "unapplied", (0, 0))
    money = type_coerce(app.c.amount, Money())
    columns = (app.c.id, app.c.source_kind, app.c.source_number, app.c.target_number, money, app.c.effective_date)
    for side, key, condition in (
        ("T", app.c.target_item_id, true()),
        ("S", app.c.source_item_id, app.c.source_kind == DocumentKind.CREDIT_MEMO.value),
        ("P", app.c.source_number, app.c.source_kind == "Payment"),
    ):
        keys_of = sorted((a, k) for s, a, k in held if s == side)
        for keys in chunks(keys_of):
            query = select(app.c.account_number, key, *columns, app.c.operation_id).where(
                tuple_(app.c.account_number, key).in_(keys), condition
            )
            for a, k, ref, kind, source, target, value, day, op in conn.execute(query):
                if side == "T":
                    source_label = "payment" if kind == "Payment" else "credit memo"
                    what = f"application {ref} of {source_label} {source}"
                else:
                    what = f"application {ref} to {target}"
                if (value < 0) != (held[(side, a, k)].amount < 0) and value != 0:
                    what = f"unapplication {ref} {'of ' + source if side == 'T' else 'from ' + target}"
                held[(side, a, k)].moves.append(_Move(day, value, ZERO, op, what))
    adj, r, ri = invoice_item_adjustments, refunds, refund_items
    for keys in chunks(sorted((a, k) for s, a, k in held if s == "T")):
        query = select(
            adj.c.account_number,
            adj.c.source_id,
            adj.c.number,
            adj.c.type,
            type_coerce(adj.c.amount, Money()),
            adj.c.adjustment_date,
            adj.c.operation_id,
        ).where(tuple_(adj.c.account_number, adj.c.source_id).in_(keys), adj.c.status == "Processed")
        for a, k, number, type_, value, day, op in conn.execute(query):
            charge = type_ != "Credit"
            move = _Move(
                day, -value if charge else value, value if charge else ZERO, op, f"{type_} adjustment {number}"
            )
            held[("T", a, k)].moves.append(move)
    for keys in chunks(sorted((a, k) for s, a, k in held if s == "S")):
        query = (
            select(ri.c.account_number, ri.c.memo_item_id, r.c.number, type_coerce(ri.c.amount, Money()))
            .add_columns(r.c.refund_date, r.c.cancel_date, r.c.operation_id, r.c.cancel_operation_id)
            .join(r, and_(r.c.account_number == ri.c.account_number, r.c.number == ri.c.refund_number))
            .where(tuple_(ri.c.account_number, ri.c.memo_item_id).in_(keys))
        )
        for a, k, number, value, day, cancelled, op, cancel_op in conn.execute(query):
            held[("S", a, k)].moves.append(_Move(day, value, ZERO, op, f"refund {number}"))
            if cancelled is not None:
                undo = _Move(cancelled, -value, ZERO, cancel_op or op, f"the cancellation of refund {number}")
                held[("S", a, k)].moves.append(undo)
    return held


def _causes(h: _Held, day: dt.date, sign: int, past_zero: bool) -> tuple[Cause, ...]:
    """The moves that put ``h`` out of range at the end of ``day``: dated on or before it but before the
    document's own date; or (past zero) taking what a move recorded earlier but dated after ``day`` gave back; or
    (beyond its amount) giving back what a move recorded earlier but dated after ``day`` took."""
    by_then = [m for m in h.moves if m.date <= day and m.takes != 0]
    label = DocumentKind(h.kind).label if h.kind != "Payment" else "payment"
    if h.dated > day:
        return tuple(Cause(m.what, m.date, f", the {label}'s date", h.dated) for m in by_then)
    later = [m for m in h.moves if m.date > day and m.takes != 0]
    found: list[Cause] = []
    for m in by_then:
        taking = sign * m.takes > 0
        if taking != past_zero:
            continue
        after = [x for x in later if (sign * x.takes > 0) != taking and x.operation < m.operation]
        if after:
            x = max(after, key=lambda x: x.date)
            how = f", when the {x.what} gave it back" if past_zero else f", the date of the {x.what} it takes back"
            found.append(Cause(m.what, m.date, how, x.date))
    return tuple(sorted(found, key=lambda c: (c.date, c.what)))


def _dated_balances(conn: Connection, scope: Scope, watched: frozenset[str]) -> tuple[OutOfRange, ...]:
    """Every document and payment whose balance at a period end in scope (and ``as_of``) was past zero or beyond its
    amount, taking every move dated on or before that day."""
    if scope.as_of is None:
        return ()
    if scope.period is not None:
        days = [scope.period.end_date]
    else:
        days = sorted({p.end_date for p in scope.periods if p.end_date <= scope.as_of} | {scope.as_of})
    held = _held(conn, _candidates(conn, watched))
    out: dict[tuple[str, str, dt.date], list[tuple[_Held, Decimal, Decimal, tuple[Cause, ...]]]] = defaultdict(list)
    for h in held.values():
        h.moves.sort(key=lambda m: (m.date, m.operation))
        sign = 1 if h.amount >= 0 else -1
        for day in days:
            amount = h.amount if h.dated <= day else ZERO
            balance = amount - sum((m.takes for m in h.moves if m.date <= day), ZERO)
            cap = amount + sum((m.raises for m in h.moves if m.date <= day), ZERO)
            past_zero = sign * balance < 0
            if past_zero or sign * balance > sign * cap:
                out[(h.number, h.kind, day)].append((h, balance, cap, _causes(h, day, sign, past_zero)))
    found: list[OutOfRange] = []
    for (number, kind, day), lines in sorted(out.items(), key=lambda item: (item[0][2], item[0][0])):
        lines.sort(key=lambda line: line[0].order)
        first = lines[0][0]
        causes = tuple(dict.fromkeys(c for *_, cs in lines for c in cs))
        shown = tuple((h.path, balance, cap) for h, balance, cap, _ in lines)
        found.append(OutOfRange(number, kind, day, first.dated, first.currency, shown, causes))
    return tuple(found)


# --- the run ------------------------------------------------------------------------------------------------


def gather(conn: Connection, scope: Scope, needs: frozenset[Need]) -> Facts:
    """Every fact ``needs`` asks for, for ``scope``."""
    dialect = conn.dialect.name
    chart = read_chart(conn)
    control = frozenset(code.name for code in chart.codes.values() if code.type in CONTROL_TYPES)
    rules = Need.LEDGER in needs and scope.period is None  # the whole-book ledger rules, set-based
    if Need.JOURNAL_AT in needs or rules:
        needs = needs | {Need.JOURNAL, Need.SUBLEDGER}
    if Need.CHAIN in needs or Need.CODES in needs:
        needs = needs | {Need.JOURNAL}
    if Need.DATED_BALANCES in needs:  # flagged by the subledger pass
        needs = needs | {Need.SUBLEDGER}
    span = ledger_span(conn, scope.periods) if rules else []
    journal = chain = codes = None
    journal_at = None
    if Need.JOURNAL in needs:
        piece, side = _read_journal(conn, scope, chart, needs)
        journal = _journal_facts(conn, piece, control, dialect)
        if Need.CHAIN in needs:
            chain = _chain_facts(conn, piece)
        if side.pairs is not None:
            codes = CodeFacts(side.pairs, _unusable_codes(conn, scope, chart, side.pairs))
        if Need.JOURNAL_AT in needs or rules:
            assert side.subledger is not None
            days = ({scope.as_of} if scope.as_of and Need.JOURNAL_AT in needs else set()) | {p.end_date for p in span}
            named = {code for day in days for code, _ in side.subledger.get(day, {})}
            journal_at = _journal_at(conn, piece, dialect, days, control, named)
    else:
        side = _side(conn, scope, needs)
    fingerprints = None
    if Need.FINGERPRINTS in needs or rules:
        closed = [p for p in scope.periods if p.status == "Closed" and scope.has(p.name) and p.fingerprint]
        if Need.FINGERPRINTS not in needs:
            closed = []
        closed += [p for p in span if p.status == "Closed"]
        fingerprints = _fingerprints(conn, closed, chain, journal)
    return Facts(
        chart=chart,
        journal=journal,
        chain=chain,
        codes=codes,
        subledger=side.subledger,
        journal_at=journal_at,
        unposted=_unposted(conn, scope) if Need.DRAFTS in needs else None,
        generated=_generated(conn, scope) if Need.GENERATED in needs else None,
        reversals=_reversals(conn, scope) if Need.REVERSALS in needs else None,
        fingerprints=fingerprints,
        ledger=ledger_facts(conn, scope, span, codes, chart) if Need.LEDGER in needs else None,
        unjournaled=side.unjournaled,
        stored=side.stored,
        periods=_period_records(conn) if Need.PERIOD_EVENTS in needs else None,
        unlogged=side.unlogged,
        out_of_range=_dated_balances(conn, scope, side.watched) if Need.DATED_BALANCES in needs else None,
    )
