"""The close checks: every rule a period must satisfy before it closes, each reported as a value.

Like beancount's validation, a run never stops at the first problem: every check runs and returns its problems
(``Problem(document, field, rule)``), and the report lists them all. ``subledger check`` prints the report;
closing a period runs the same checks on that period and refuses while any fails.

The journal may hold millions of lines, so the journal is read once: ``JournalPass`` takes every entry with its
lines aggregated by the database (debits, credits, line count, lines in another currency, lines on codes that are
inactive or not allowed in that currency, the control accounts' movements, and the text of its lines as the hash
chain hashes them), and the checks on the journal (balance, trial balance, accounting codes, control accounts,
misdated entries, hash chain, the ledger's assertions) all read that pass. The subledger side is one pass of the
subledger queries grouped by day (``balances.subledger_balances_at``). Only the failing cases go back to the
database for the details of what failed.

Scope: with a period, the checks look at that period (its entries, the documents dated in it, the control
accounts at its end, its fingerprint if closed); without one, at the whole book (every entry, every closed period,
the control accounts at the end of the last period with entries). The hash chain always covers every account.

The Beancount check, without a period, proves set-based everything bean-check would reject in the exported ledger
(``export_beancount``): every posting's account is open on its date (a code of the chart, dated on or after the
accounts open), in a currency the account allows; every transaction balances; each period's balance assertions
(the subledger's control balances at the period's end) equal the journal's balances at that date; each closed
period's postings still match the fingerprint its ``closed-period`` directive carries (the plugin's check). With a
period (``subledger check --period NAME``, and every close) it does more: it writes that period's ledger
(``export_period``: the accounts, an opening-balances transaction computed from the journal, the period's
transactions, assertions and closed-period directive) and loads it with Beancount and the ``closed_periods``
plugin, reporting every error the loader reports.
"""

from __future__ import annotations

import bisect
import datetime as dt
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from beancount import loader
from sqlalchemy import ColumnElement, Connection, Select, and_, func, or_, select, true, tuple_, type_coerce
from sqlalchemy.pool import NullPool

from subledger.balances import CONTROL_SIGN, Key, journal_balances, subledger_balances_at
from subledger.chart import Chart
from subledger.context import PeriodState, read_chart, read_periods
from subledger.errors import NotFound, Problem
from subledger.export.beancount import export_period, ledger_span
from subledger.fingerprint import chart_digest, entry_mark, period_fingerprint, seal
from subledger.journal import chain_digest, line_text
from subledger.models.base import OutputModel
from subledger.money import ZERO, fmt, minor_unit, quantize
from subledger.storage import forked
from subledger.storage.cursor import driver_rows
from subledger.storage.db import make_engine
from subledger.storage.schema import (
    accounting_codes,
    applications,
    customer_accounts,
    document_items,
    documents,
    journal_entries,
    journal_lines,
    operations,
    payments,
    taxation_items,
)
from subledger.storage.types import SCALE, Money

#: How many problems a check lists; the rest are counted.
SHOWN = 20
#: Chart types whose journal balance the subledger proves (Accounts Receivable, On-Account, Unapplied Payments).
CONTROL_TYPES = frozenset({"AccountsReceivable", "On-Account Receivable", "CustomerCashOnAccount"})
#: Entries per batch of the detail queries that name the entries a pass flagged.
_CHUNK = 500


class CheckProblem(OutputModel):
    document: str | None = None
    field: str | None = None
    rule: str


class CheckResult(OutputModel):
    name: str
    title: str
    passed: bool
    problem_count: int
    problems: list[CheckProblem]


class CheckReport(OutputModel):
    """Every check's result; ``passed`` only when all passed."""

    period: str | None
    as_of: dt.date | None
    passed: bool
    checks: list[CheckResult]

    def failures(self) -> list[Problem]:
        """One problem per failing check, naming the check and its first problem (for a refused close)."""
        out: list[Problem] = []
        for check in self.checks:
            if check.passed:
                continue
            first = check.problems[0]
            where = ", ".join(p for p in (first.document, first.field) if p)
            more = f" (and {check.problem_count - 1} more)" if check.problem_count > 1 else ""
            out.append(
                Problem(self.period, check.name, f"{check.title}: {where + ': ' if where else ''}{first.rule}{more}")
            )
        return out


@dataclass(frozen=True)
class Scope:
    """What a run looks at: one period, or (``period`` None) the whole book up to ``as_of``.

    ``wanted`` names the checks of the run (the journal pass hashes the lines only when the hash chain is among
    them); what several checks share (the journal pass, the subledger balances, fingerprints) is computed once and
    kept in ``shared``."""

    period: PeriodState | None
    periods: list[PeriodState]
    as_of: dt.date | None
    wanted: frozenset[str] = frozenset()
    shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

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

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]


Check = Callable[[Connection, Scope], list[Problem]]


def _entry_id(account: str, seq: int) -> str:
    return f"{account}-{seq}"


def _entry_join() -> ColumnElement[bool]:
    return and_(
        journal_lines.c.account_number == journal_entries.c.account_number,
        journal_lines.c.entry_seq == journal_entries.c.seq,
    )


def _money(column: ColumnElement[Decimal]) -> ColumnElement[Decimal]:
    return type_coerce(func.sum(column), Money())


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(values: Iterable[str]) -> str:
    return "(" + (", ".join(_quote(v) for v in sorted(values)) or "NULL") + ")"


def _chunks(keys: Sequence[tuple[str, int]]) -> Iterable[Sequence[tuple[str, int]]]:
    for i in range(0, len(keys), _CHUNK):
        yield keys[i : i + _CHUNK]


# --- the journal pass ---------------------------------------------------------------------------------------


def _amount_sql(column: str, currency: str, currencies: Iterable[str], dialect: str) -> str:
    """SQL giving a stored amount as the hash chain hashes it (``_amount_texts``): quantized to the currency, zero a
    bare ``0``, more precision than the currency as stored. A currency it does not know, or (SQLite) a negative
    amount, gives the character 0x1E, and that entry is then hashed in Python instead."""
    by_digits: dict[int, list[str]] = defaultdict(list)
    for code in currencies:
        by_digits[minor_unit(code)].append(code)
    if dialect != "sqlite":
        digits = " ".join(f"WHEN {_quote(c)} THEN {d}" for d, codes in by_digits.items() for c in codes)
        places = f"(CASE {currency} {digits} END)" if digits else "NULL"
        return (
            f"(CASE WHEN {column} = 0 THEN '0' WHEN {places} IS NULL THEN chr(30) "
            f"WHEN {column} = round({column}, {places}) THEN round({column}, {places})::text ELSE {column}::text END)"
        )
    # SQLite: integer ten-thousandths, formatted without a round trip through floating point.
    whens = [f"WHEN {column} = 0 THEN '0'", f"WHEN {column} < 0 THEN char(30)"]
    for d, codes in sorted(by_digits.items()):
        step = 10 ** (SCALE - d)
        text = (
            f"printf('%d', {column} / 10000)"
            if d == 0
            else f"printf('%d.%0{d}d', {column} / 10000, {column} / {step} % {10**d})"
        )
        whens.append(f"WHEN {currency} IN {_in(codes)} AND {column} % {step} = 0 THEN {text}")
    known = [c for codes in by_digits.values() for c in codes]
    whens.append(f"WHEN {currency} IN {_in(known)} THEN printf('%d.%04d', {column} / 10000, {column} % 10000)")
    return f"(CASE {' '.join(whens)} ELSE char(30) END)"


@dataclass
class JournalPass:
    """What one read of every journal entry, its lines aggregated by the database, tells the checks.

    Amounts are kept as the driver returns them (``raw``: integer ten-thousandths on SQLite) and turned into
    ``Decimal`` by ``money``; dates likewise (``day``)."""

    dialect: str
    lines: int = 0
    #: (period, problem) of every entry whose debits and credits differ (entries with lines in one currency).
    unbalanced: list[tuple[str, Problem]] = field(default_factory=list)
    #: (period, problem) of every entry without lines.
    empty: list[tuple[str, Problem]] = field(default_factory=list)
    #: (account, seq, period) of entries with a line in another currency than the entry's.
    foreign: list[tuple[str, int, str]] = field(default_factory=list)
    #: Every (accounting code, currency) the journal's lines carry (``_code_currencies``: set after the pieces).
    code_currencies: set[tuple[str, str]] = field(default_factory=set)
    #: (period, currency) -> [debits, credits] over the period's entries.
    totals: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    #: (day, control code, currency) -> debit minus credit of the control accounts' lines.
    control: dict[tuple[Any, str, str], Any] = field(default_factory=dict)
    #: (period, problem) of entries dated outside the period they are posted in.
    misdated: list[tuple[str, Problem]] = field(default_factory=list)
    #: The hash chain's problems (None when the run does not check it).
    chain: list[Problem] | None = None
    #: Each account's last (seq, hash) in the journal.
    tails: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: Entries to hash in Python: (entry id, previous hash, fields, (account, seq), stored hash).
    deferred: list[tuple[str, str, tuple[str, ...], tuple[str, int], str]] = field(default_factory=list)
    #: Sealed closed period -> the ``entry_mark`` of each entry dated in it (hashed passes only).
    marks: dict[str, list[str]] = field(default_factory=dict)

    def merge(self, later: JournalPass) -> None:
        """Take in the pass over the accounts after this one's (their problems follow, in account order)."""
        self.lines += later.lines
        self.unbalanced += later.unbalanced
        self.empty += later.empty
        self.foreign += later.foreign
        self.misdated += later.misdated
        self.deferred += later.deferred
        for name, marks in later.marks.items():
            self.marks.setdefault(name, []).extend(marks)
        if self.chain is not None and later.chain is not None:
            self.chain += later.chain
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

    def money(self, raw: Any) -> Decimal:
        if self.dialect == "sqlite":
            return Decimal(int(raw)).scaleb(-SCALE)
        return Decimal(raw)

    def day(self, raw: Any) -> dt.date:
        return dt.date.fromisoformat(raw) if isinstance(raw, str) else raw

    def control_at(self, as_of: dt.date) -> dict[Key, Decimal]:
        """The control accounts' journal balances at the end of ``as_of``."""
        out: dict[Key, Decimal] = defaultdict(lambda: ZERO)
        for (day, code, currency), raw in self.control.items():
            if self.day(day) <= as_of:
                out[(code, currency)] += self.money(raw)
        return dict(out)


def _journal_sql(
    dialect: str,
    currencies: Iterable[str],
    control: list[str],
    periods: Sequence[PeriodState],
    hashed: bool,
    accounts: str = "",
) -> str:
    """Every journal entry (in account and sequence order) with its lines aggregated; ``accounts``, a condition on
    ``{t}.account_number``, keeps one range of accounts (it is put on both tables, so that each is read in its
    range).

    The lines' text is aggregated in the order the join gives them, which is line order (SQLite's LEFT JOIN reads
    each entry's lines by primary key; PostgreSQL's merge join, ``_PASS_PLAN``, reads the lines' primary key in
    order), without asking for it: an ordered aggregate sorts every entry's lines again. Any entry whose hash does not
    recompute is verified again in Python from its lines in line order before it is reported (``_consume``)."""
    dated = " ".join(
        f"WHEN {_quote(p.name)} THEN e.entry_date >= {_quote(p.start_date.isoformat())} "
        f"AND e.entry_date <= {_quote(p.end_date.isoformat())}"
        for p in periods
    )
    flag = "CASE WHEN {} THEN 1 ELSE 0 END".format
    # Which codes and currencies the lines carry is not asked here, per line (a CASE over the chart for each of a
    # million lines: a fifth of the pass), but by one DISTINCT over the lines (``_code_currencies``).
    columns = [
        "count(l.line_no)",
        "coalesce(sum(l.debit), 0)",
        "coalesce(sum(l.credit), 0)",
        f"sum({flag('l.currency <> e.currency')})",
        flag(f"(CASE e.period {dated} ELSE false END)" if dated else "false"),
        *(f"sum(CASE WHEN l.accounting_code = {_quote(code)} THEN l.debit - l.credit ELSE 0 END)" for code in control),
    ]
    if hashed:
        debit = _amount_sql("l.debit", "l.currency", currencies, dialect)
        credit = _amount_sql("l.credit", "l.currency", currencies, dialect)
        text = f"l.accounting_code || '|' || {debit} || '|' || {credit} || '|' || coalesce(l.item_id, '')"
        cents = [c for c in currencies if minor_unit(c) == 2]
        if dialect == "sqlite" and cents:
            # The common line (one side, a whole number of cents) in one printf: a fifth of the pass's time.
            one_side = "CASE WHEN l.currency IN {} AND l.{} = 0 AND l.{} > 0 AND l.{} % 100 = 0 THEN printf('{}', "
            text = (
                one_side.format(_in(cents), "credit", "debit", "debit", "%s|%d.%02d|0|%s")
                + "l.accounting_code, l.debit / 10000, l.debit / 100 % 100, coalesce(l.item_id, '')) "
                + one_side.format(_in(cents), "debit", "credit", "credit", "%s|0|%d.%02d|%s").removeprefix("CASE ")
                + f"l.accounting_code, l.credit / 10000, l.credit / 100 % 100, coalesce(l.item_id, '')) ELSE {text} END"
            )
        columns.append(f"group_concat({text}, char(31))" if dialect == "sqlite" else f"string_agg({text}, chr(31))")
    return (
        "SELECT e.account_number, e.seq, e.entry_date, e.period, e.transaction_type, e.currency, e.document_number, "
        f"e.related_number, e.prev_hash, e.hash, {', '.join(columns)} "
        "FROM journal_entries e LEFT JOIN journal_lines l ON l.account_number = e.account_number AND "
        f"l.entry_seq = e.seq {'AND ' + accounts.format(t='l') if accounts else ''} "
        f"{'WHERE ' + accounts.format(t='e') if accounts else ''} "
        "GROUP BY e.account_number, e.seq ORDER BY e.account_number, e.seq"
    )


def _line_texts(conn: Connection, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], list[str]]:
    """The lines of the entries ``keys`` as the chain hashes them, in line order, formatted in Python; a batch of
    entries per query."""
    amount = _amount_texts(conn.dialect.name)
    ln = journal_lines
    texts: dict[tuple[str, int], list[str]] = {key: [] for key in keys}
    for chunk in _chunks(keys):
        rows = conn.execute(
            select(
                ln.c.account_number,
                ln.c.entry_seq,
                ln.c.accounting_code,
                ln.c.debit,
                ln.c.credit,
                ln.c.item_id,
                ln.c.currency,
            )
            .where(tuple_(ln.c.account_number, ln.c.entry_seq).in_(chunk))
            .order_by(ln.c.account_number, ln.c.entry_seq, ln.c.line_no)
        )
        for account, seq, code, debit, credit, item, currency in rows:
            debit_text, credit_text = amount(_raw(conn, debit), currency), amount(_raw(conn, credit), currency)
            texts[(account, seq)].append(line_text(code, debit_text, credit_text, item))
    return texts


def _raw(conn: Connection, value: Decimal) -> Any:
    """A ``Money`` value back as the driver stores it (what ``_amount_texts`` formats)."""
    return int(value.scaleb(SCALE)) if conn.dialect.name == "sqlite" else value


def _journal(conn: Connection, scope: Scope) -> JournalPass:
    return scope.once("journal", lambda: _read_journal(conn, scope, hashed="hash-chain" in scope.wanted))  # type: ignore[no-any-return]


def _read_journal(conn: Connection, scope: Scope, hashed: bool) -> JournalPass:
    """The journal pass. Over a large book it is cut into pieces (``_ranges``: ranges of accounts) shared with a
    forked process (``storage.forked``): this one takes pieces from the first up, the other makes the subledger pass
    (``_subledger_days``) and then takes pieces from the last down, until they meet; the pieces are merged in order.

    The other process reads in a snapshot of its own. It reads there too what every committed write moves: the
    number of operations and every account's journal head (the journal is append-only and its heads move in the
    transaction that appends). When these equal what this connection sees, it read the same books; otherwise (a
    write landed in between) its pieces are read again here and the subledger pass is made here when asked for."""
    dialect = conn.dialect.name
    chart: Chart = scope.once("chart", lambda: read_chart(conn))
    control = sorted(code.name for code in chart.codes.values() if code.type in CONTROL_TYPES)
    currencies = {c for code in chart.codes.values() for c in code.currencies}
    currencies |= set(conn.execute(select(customer_accounts.c.currency).distinct()).scalars())

    def sql(accounts: str = "") -> str:
        return _journal_sql(dialect, currencies, control, scope.periods, hashed, accounts)

    subledger = bool({"control-accounts", "beancount"} & scope.wanted) and "subledger" not in scope.shared
    codes = bool({"accounting-codes", "beancount"} & scope.wanted)
    bounds = _ranges(conn)
    pairs: set[tuple[str, str]] | None = None
    if not bounds:
        jp = _read_piece(conn, sql(), None, control, scope, hashed)
    else:
        ranges = [_range_sql(sql, i, len(bounds) + 1) for i in range(len(bounds) + 1)]
        params = {f"b{i}": bound for i, bound in enumerate(bounds)}
        claims = forked.Claims(len(ranges))
        url = conn.engine.url.render_as_string(hide_password=False)
        theirs = forked.start(_pass_elsewhere, url, ranges, params, claims, control, scope, hashed, subledger, codes)
        parts: dict[int, JournalPass] = {}
        while (i := claims.first()) is not None:
            parts[i] = _read_piece(conn, ranges[i], params, control, scope, hashed)
        their_parts, days, their_pairs, their_state = theirs()
        if their_state == _state(conn):
            parts.update(their_parts)
            pairs = their_pairs
            if days is not None:
                scope.shared["subledger"] = days
        else:
            for i in their_parts:
                parts[i] = _read_piece(conn, ranges[i], params, control, scope, hashed)
        jp = parts[0]
        for i in range(1, len(ranges)):
            jp.merge(parts[i])
    if codes:
        jp.code_currencies = _code_currencies(conn) if pairs is None else pairs
    if jp.deferred:  # entries the SQL could not format or whose hash did not recompute: hashed here, in line order
        assert jp.chain is not None
        texts = _line_texts(conn, [key for *_, key, _ in jp.deferred])
        altered = [
            Problem(entry_id, "hash", "its content no longer matches its hash (altered)")
            for entry_id, prev_hash, fields, key, stored in jp.deferred
            if chain_digest(prev_hash, fields, texts[key]) != stored
        ]
        if altered:  # in entry order among the others, after an entry's own sequence or link problem
            jp.chain = sorted([*jp.chain, *altered], key=_chain_order)
        jp.deferred = []
    return jp


def _chain_order(problem: Problem) -> tuple[str, int, bool]:
    account, _, seq = (problem.document or "").rpartition("-")
    return account, int(seq) if seq.isdigit() else 0, problem.field == "hash"


#: Journal entries from which the pass is shared with a forked process (forking costs tens of milliseconds).
SPLIT_FROM = 50_000
#: Pieces (ranges of accounts, of about equal entries) the pass is cut into for the two processes to share.
PIECES = 12


def _ranges(conn: Connection) -> list[str]:
    """The accounts at which the pieces of the pass begin (after the first), about equal entries in each; empty
    when the book is small, there is one core, or the database cannot be opened twice (SQLite in memory)."""
    database = conn.engine.url.database
    if not forked.can_fork() or (conn.dialect.name == "sqlite" and database in (None, "", ":memory:")):
        return []
    ca = customer_accounts
    heads = conn.execute(select(ca.c.account_number, ca.c.last_entry_seq).order_by(ca.c.account_number)).all()
    total = sum(seq for _, seq in heads)
    if total < SPLIT_FROM or len(heads) < 2:
        return []
    bounds: list[str] = []
    running = heads[0][1]
    for account, seq in heads[1:]:
        if running >= total * (len(bounds) + 1) / PIECES:
            bounds.append(str(account))
        running += seq
    return bounds


def _range_sql(sql: Callable[[str], str], i: int, pieces: int) -> str:
    """The pass over piece ``i``: accounts from bound ``b{i-1}`` up to (not including) ``b{i}``."""
    lower = f"{{t}}.account_number >= :b{i - 1}" if i > 0 else ""
    upper = f"{{t}}.account_number < :b{i}" if i < pieces - 1 else ""
    return sql(" AND ".join(part for part in (lower, upper) if part))


def _state(conn: Connection) -> tuple[int, int, dict[str, tuple[int, str]]]:
    """What every committed write moves: the operations recorded (count and last id) and each journal head."""
    ca, op = customer_accounts, operations
    count, last = conn.execute(select(func.count(), func.max(op.c.id)).select_from(op)).one()
    rows = conn.execute(select(ca.c.account_number, ca.c.last_entry_seq, ca.c.last_entry_hash))
    return int(count), int(last or 0), {account: (seq, digest) for account, seq, digest in rows}


def _pass_elsewhere(
    url: str,
    ranges: list[str],
    params: dict[str, Any],
    claims: forked.Claims,
    control: list[str],
    scope: Scope,
    hashed: bool,
    subledger: bool,
    codes: bool,
) -> tuple[
    dict[int, JournalPass],
    dict[dt.date, dict[Key, Decimal]] | None,
    set[tuple[str, str]] | None,
    tuple[int, int, dict[str, Any]],
]:
    """The forked process's side of the pass: the subledger pass and the lines' codes and currencies when asked,
    then pieces of the journal from the last down, with its own connection; with the ``_state`` of the books it
    read, all in one snapshot."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            state = _state(conn)
            days = _subledger_days(conn, scope) if subledger else None
            pairs = _code_currencies(conn) if codes else None
            parts: dict[int, JournalPass] = {}
            while (i := claims.last()) is not None:
                parts[i] = _read_piece(conn, ranges[i], params, control, scope, hashed)
            return parts, days, pairs, state
    finally:
        engine.dispose()


def _code_currencies(conn: Connection) -> set[tuple[str, str]]:
    """Every (accounting code, currency) pair on the journal's lines."""
    ln = journal_lines
    return {(code, currency) for code, currency in conn.execute(select(ln.c.accounting_code, ln.c.currency).distinct())}


def _read_piece(
    conn: Connection, sql: str, params: dict[str, Any] | None, control: list[str], scope: Scope, hashed: bool
) -> JournalPass:
    """The journal pass's ``sql`` (the whole journal or one piece of it) read through the driver and folded."""
    rows = driver_rows(conn, sql, params, batch=20_000, settings=_PASS_PLAN)
    return _consume(rows, conn.dialect.name, control, scope, hashed)


#: PostgreSQL's plan for the pass: both primary keys read in order, merged and grouped as they come (no nested loop
#: of a million index probes, no hash of the lines, no sort). Without statistics (a book bulk-loaded and not yet
#: analyzed) the planner chose a nested loop with a memoize cache that never hit: 3.3 s instead of 2.2 s.
_PASS_PLAN = {"enable_nestloop": "off", "enable_hashjoin": "off", "enable_hashagg": "off"}


def _consume(
    rows: Iterable[tuple[Any, ...]], dialect: str, control: list[str], scope: Scope, hashed: bool
) -> JournalPass:
    """Fold the pass's rows (entries in account and sequence order) into what the checks read."""
    jp = JournalPass(dialect, chain=[] if hashed else None)
    chain = jp.chain if jp.chain is not None else []
    starts = [p.start_date for p in scope.periods]
    sealed = {p.name for p in scope.periods if p.status == "Closed" and p.seal}
    zero = 0 if dialect == "sqlite" else ZERO
    n_control = len(control)
    last_account, last_seq, last_hash = "", 0, ""
    for row in rows:
        account, seq, day, period, ttype, currency, document, related, prev_hash, stored = row[:10]
        count, debit, credit, foreign, in_period = row[10:15]
        jp.lines += count
        if count == 0:
            jp.empty.append((period, Problem(_entry_id(account, seq), None, "the entry has no lines")))
        if foreign:
            jp.foreign.append((account, seq, period))
        elif debit != credit:
            d, c = jp.money(debit), jp.money(credit)
            rule = f"debits {fmt(d, currency)} and credits {fmt(c, currency)} {currency}"
            jp.unbalanced.append((period, Problem(_entry_id(account, seq), currency, rule)))
        total = jp.totals.get((period, currency))
        if total is None:
            total = jp.totals[(period, currency)] = [zero, zero]
        total[0] += debit
        total[1] += credit
        for code, moved in zip(control, row[15 : 15 + n_control], strict=True):
            if moved:
                key = (day, code, currency)
                jp.control[key] = jp.control.get(key, zero) + moved
        dated_in = period
        if not in_period:
            date = jp.day(day)
            at = bisect.bisect_right(starts, date) - 1
            actual = scope.periods[at] if at >= 0 and date <= scope.periods[at].end_date else None
            dated_in = actual.name if actual else ""
            where = f"period {actual.name}" if actual else "no accounting period"
            problem = Problem(_entry_id(account, seq), "period", f"dated {date} ({where}) but posted in {period}")
            jp.misdated.append((period, problem))
        jp.tails[account] = (seq, stored)
        if not hashed:
            continue
        if account != last_account:
            last_account, last_seq, last_hash = account, 0, ""
        entry_id = _entry_id(account, seq)
        if seq != last_seq + 1:
            chain.append(Problem(entry_id, "seq", f"follows entry {last_seq}: entries are missing"))
        elif prev_hash != last_hash:
            chain.append(Problem(entry_id, "prevHash", "does not chain to the previous entry's hash"))
        last_seq, last_hash = seq, stored
        if dated_in in sealed:
            jp.marks.setdefault(dated_in, []).append(entry_mark(entry_id, stored))
        text = row[15 + n_control]
        day_text = day if isinstance(day, str) else day.isoformat()
        fields = (account, str(seq), day_text, period, ttype, currency, document, related or "")
        # Entries the SQL could not format, and any whose hash does not recompute (its lines are hashed again in
        # line order, whatever order the aggregate took them in), are verified in Python.
        if (text is not None and "\x1e" in text) or chain_digest(
            prev_hash, fields, [] if text is None else [text]
        ) != stored:
            jp.deferred.append((entry_id, prev_hash, fields, (account, seq), stored))
    return jp


# --- the checks ---------------------------------------------------------------------------------------------


def entries_balanced(conn: Connection, scope: Scope) -> list[Problem]:
    """Every journal entry has lines, in its own currency, with debits equal to credits per currency."""
    jp = _journal(conn, scope)
    problems = [p for period, p in jp.unbalanced if scope.has(period)]
    foreign = [(account, seq) for account, seq, period in jp.foreign if scope.has(period)]
    e, ln = journal_entries, journal_lines
    for keys in _chunks(foreign):
        chosen = tuple_(e.c.account_number, e.c.seq).in_(keys)
        unbalanced = (
            select(ln.c.account_number, ln.c.entry_seq, ln.c.currency, _money(ln.c.debit), _money(ln.c.credit))
            .join(e, _entry_join())
            .where(chosen)
            .group_by(ln.c.account_number, ln.c.entry_seq, ln.c.currency)
            .having(func.sum(ln.c.debit) != func.sum(ln.c.credit))
            .order_by(ln.c.account_number, ln.c.entry_seq, ln.c.currency)
        )
        for account, seq, currency, debit, credit in conn.execute(unbalanced):
            rule = f"debits {fmt(debit, currency)} and credits {fmt(credit, currency)} {currency}"
            problems.append(Problem(_entry_id(account, seq), currency, rule))
        others = (
            select(e.c.account_number, e.c.seq, e.c.currency, ln.c.currency)
            .join(ln, _entry_join())
            .where(chosen, ln.c.currency != e.c.currency)
            .distinct()
            .order_by(e.c.account_number, e.c.seq, ln.c.currency)
        )
        for account, seq, currency, line_currency in conn.execute(others):
            problems.append(
                Problem(_entry_id(account, seq), "currency", f"a line is in {line_currency}, the entry in {currency}")
            )
    problems.extend(p for period, p in jp.empty if scope.has(period))
    return problems


def trial_balance(conn: Connection, scope: Scope) -> list[Problem]:
    """Total debits equal total credits per currency over the entries in scope."""
    jp = _journal(conn, scope)
    totals: dict[str, list[Decimal]] = {}
    if jp.foreign:  # a line in another currency than its entry's: total by the lines' own currencies
        ln = journal_lines
        query = (
            select(ln.c.currency, _money(ln.c.debit), _money(ln.c.credit))
            .join(journal_entries, _entry_join())
            .where(scope.entries())
            .group_by(ln.c.currency)
        )
        totals = {currency: [debit, credit] for currency, debit, credit in conn.execute(query)}
    else:
        for (period, currency), (debit, credit) in jp.totals.items():
            if scope.has(period):
                total = totals.setdefault(currency, [ZERO, ZERO])
                total[0] += jp.money(debit)
                total[1] += jp.money(credit)
    where = scope.period.name if scope.period else "the books"
    return [
        Problem(
            where,
            currency,
            f"the trial balance does not net to zero: debits {fmt(debit, currency)}, credits "
            f"{fmt(credit, currency)} {currency}",
        )
        for currency, (debit, credit) in sorted(totals.items())
        if debit != credit
    ]


def accounting_codes_active(conn: Connection, scope: Scope) -> list[Problem]:
    """Every journal line's accounting code is in the chart and active."""
    jp = _journal(conn, scope)
    chart: Chart = scope.once("chart", lambda: read_chart(conn))
    active = {code.name for code in chart.codes.values() if code.active}
    if all(code in active for code, _ in jp.code_currencies):
        return []
    ln, codes = journal_lines, accounting_codes
    query = (
        select(ln.c.accounting_code, codes.c.name, func.count())
        .join(journal_entries, _entry_join())
        .outerjoin(codes, codes.c.name == ln.c.accounting_code)
        .where(scope.entries(), or_(codes.c.name.is_(None), codes.c.active.is_(False)))
        .group_by(ln.c.accounting_code, codes.c.name)
        .order_by(ln.c.accounting_code)
    )
    problems: list[Problem] = []
    for code, known, count in conn.execute(query).all():
        # The first entry with such a line names the problem (the least account and, in it, the least sequence).
        first = (
            select(ln.c.account_number, ln.c.entry_seq)
            .join(journal_entries, _entry_join())
            .where(scope.entries(), ln.c.accounting_code == code)
            .order_by(ln.c.account_number, ln.c.entry_seq)
            .limit(1)
        )
        account, seq = conn.execute(first).one()
        state = "is inactive" if known else "is not in the chart of accounts"
        problems.append(
            Problem(
                _entry_id(account, seq),
                "accountingCode",
                f"accounting code {code!r} {state} ({count} journal line{'s' if count != 1 else ''})",
            )
        )
    return problems


def no_drafts(conn: Connection, scope: Scope) -> list[Problem]:
    """No draft invoice, debit memo or credit memo, and no draft or processing payment, dated in scope."""
    label = {"Invoice": "invoice", "DebitMemo": "debit memo", "CreditMemo": "credit memo"}
    docs = (
        select(documents.c.number, documents.c.kind, documents.c.document_date)
        .where(documents.c.status == "Draft", scope.dated(documents.c.document_date))
        .order_by(documents.c.document_date, documents.c.number)
    )
    problems = [
        Problem(number, "status", f"draft {label[kind]} dated {date} must be posted or canceled before close")
        for number, kind, date in conn.execute(docs)
    ]
    pays = (
        select(payments.c.number, payments.c.status, payments.c.effective_date)
        .where(payments.c.status.in_(("Draft", "Processing")), scope.dated(payments.c.effective_date))
        .order_by(payments.c.effective_date, payments.c.number)
    )
    problems.extend(
        Problem(number, "status", f"{status.lower()} payment dated {date} must be processed or canceled before close")
        for number, status, date in conn.execute(pays)
    )
    return problems


def _subledger_at(conn: Connection, scope: Scope, days: Iterable[dt.date]) -> dict[dt.date, dict[Key, Decimal]]:
    """The subledger's control balances (as debit minus credit) at the end of each of ``days``."""
    wanted = sorted(set(days))
    cached: dict[dt.date, dict[Key, Decimal]] = scope.shared.setdefault("subledger", {})
    if any(day not in cached for day in wanted):
        cached.update(_subledger_days(conn, scope, wanted))
    return {day: cached[day] for day in wanted}


def _subledger_days(conn: Connection, scope: Scope, days: Iterable[dt.date] = ()) -> dict[dt.date, dict[Key, Decimal]]:
    """The subledger's control balances at every period end, the run's ``as_of`` and ``days``, from one pass."""
    every = {p.end_date for p in scope.periods} | set(days) | ({scope.as_of} if scope.as_of else set())
    out: dict[dt.date, dict[Key, Decimal]] = {}
    for day, balances in subledger_balances_at(conn, every).items():
        signed: dict[Key, Decimal] = defaultdict(lambda: ZERO)
        for control, amounts in balances.items():
            for key, amount in amounts.items():
                signed[key] += CONTROL_SIGN[control] * amount
        out[day] = dict(signed)
    return out


def _journal_at(conn: Connection, scope: Scope, as_of: dt.date, codes: Iterable[str]) -> dict[Key, Decimal]:
    """The journal's balances at the end of ``as_of`` of the control accounts, and of ``codes`` (codes the
    subledger names that are not control accounts in the chart, which the pass does not total)."""
    jp = _journal(conn, scope)
    chart = scope.once("chart", lambda: read_chart(conn))
    control = {code.name for code in chart.codes.values() if code.type in CONTROL_TYPES}
    if jp.foreign:  # lines in another currency than their entry's: the pass totals by entry currency
        return journal_balances(conn, as_of, sorted(control | set(codes)))
    balances = jp.control_at(as_of)
    others = sorted(set(codes) - control)
    if others:
        balances.update(journal_balances(conn, as_of, others))
    return balances


def control_accounts(conn: Connection, scope: Scope) -> list[Problem]:
    """Accounts Receivable, Credit Memo On-Account and Unapplied Payments in the journal equal the subledger."""
    if scope.as_of is None:
        return []
    expected = _subledger_at(conn, scope, [scope.as_of])[scope.as_of]
    journal = _journal_at(conn, scope, scope.as_of, {code for code, _ in expected})
    problems: list[Problem] = []
    for code, currency in sorted(set(expected) | set(journal)):
        want, have = expected.get((code, currency), ZERO), journal.get((code, currency), ZERO)
        if want != have:
            problems.append(
                Problem(
                    code,
                    currency,
                    f"at the end of {scope.as_of} the journal shows {fmt(have, currency)} {currency} but the "
                    f"documents and applications give {fmt(want, currency)} {currency} (debit minus credit)",
                )
            )
    return problems


def _generated_lines(source: str, scope: Scope) -> list[tuple[str, Select[Any]]]:
    """(kind, query) pairs selecting every line of the memos generated by ``source`` (WriteOff, Reversal) in scope,
    with the amount applied between the generated line and the line it mirrors (in either direction)."""
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


def _applied_exactly(conn: Connection, source: str, scope: Scope, what: str) -> list[Problem]:
    problems: list[Problem] = []
    for kind, query in _generated_lines(source, scope):
        for number, line, original, amount, balance, applied, currency in conn.execute(query):
            field = f"items[{line}]" if kind == "item" else f"taxationItems[{line}]"
            if original is None:
                problems.append(Problem(number, field, f"the {what} line does not name the line it mirrors"))
                continue
            if balance != 0:
                problems.append(
                    Problem(
                        number,
                        field,
                        f"the {what} line still has {fmt(balance, currency)} {currency} unapplied (not fully applied)",
                    )
                )
            if applied != amount:
                problems.append(
                    Problem(
                        number,
                        field,
                        f"applied {fmt(applied, currency)} {currency} to the lines it mirrors ({original}), but the "
                        f"{what} line is {fmt(amount, currency)} {currency}",
                    )
                )
    return problems


def write_offs(conn: Connection, scope: Scope) -> list[Problem]:
    """Every write-off memo is fully applied, and each line it mirrors was reduced by exactly its amount."""
    return _applied_exactly(conn, "WriteOff", scope, "write-off")


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
            select(memo.c.number, code, _money(amount))
            .join(
                table,
                and_(table.c.account_number == memo.c.account_number, table.c.document_number == number),
            )
            .where(memo.c.source == "Reversal", scope.dated(memo.c.document_date))
            .group_by(memo.c.number, code)
        )
        for doc, name, total in conn.execute(query):
            out[(doc, role, name)] += total
    return out


def reversals(conn: Connection, scope: Scope) -> list[Problem]:
    """Every reversal memo mirrors the document it reverses exactly, per accounting code, and is fully applied."""
    mirrored, originals = _per_code(conn, scope, original=False), _per_code(conn, scope, original=True)
    sources = dict(
        conn.execute(
            select(documents.c.number, documents.c.source_document).where(
                documents.c.source == "Reversal", scope.dated(documents.c.document_date)
            )
        ).all()
    )
    currencies = dict(conn.execute(select(documents.c.number, documents.c.currency)).all()) if sources else {}
    problems: list[Problem] = []
    for key in sorted(set(mirrored) | set(originals)):
        number, role, code = key
        got, want = mirrored.get(key, ZERO), originals.get(key, ZERO)
        if got != want:
            cur = currencies[number]
            problems.append(
                Problem(
                    number,
                    code,
                    f"the reversal carries {fmt(got, cur)} {cur} on {role} code {code!r}, the reversed document "
                    f"{sources[number]} {fmt(want, cur)} {cur}",
                )
            )
    problems.extend(_applied_exactly(conn, "Reversal", scope, "reversal"))
    return problems


def _fingerprints(conn: Connection, scope: Scope, closed: Iterable[PeriodState]) -> dict[str, str]:
    """The journal's fingerprint of each of the ``closed`` periods (once per run): the recorded one where the
    period's seal proves it (``fingerprint``'s docstring), else recomputed from the period's lines."""
    cached: dict[str, str] = scope.shared.setdefault("fingerprints", {})
    todo = [p for p in closed if p.name not in cached]
    jp: JournalPass | None = scope.shared.get("journal")
    # The seal stands for the lines only when the chain verified and no line left its entry's currency.
    proof = jp is not None and jp.chain == [] and not jp.foreign and any(p.seal and p.fingerprint for p in todo)
    chart = chart_digest(conn) if proof else ""
    for period in todo:
        if proof and period.seal and period.fingerprint:
            assert jp is not None
            if seal(chart, period.fingerprint, jp.marks.get(period.name, ())) == period.seal:
                cached[period.name] = period.fingerprint
                continue
        cached[period.name] = period_fingerprint(conn, period.start_date, period.end_date)
    return cached


def closed_periods(conn: Connection, scope: Scope) -> list[Problem]:
    """Periods close in order, every entry sits in the period of its date, and closed periods are unchanged."""
    problems: list[Problem] = []
    seen_open: PeriodState | None = None
    for period in scope.periods:
        if period.status != "Closed":
            seen_open = seen_open or period
        elif seen_open is not None:
            problems.append(
                Problem(
                    period.name, "status", f"is Closed but the earlier period {seen_open.name} is {seen_open.status}"
                )
            )
    problems.extend(p for period, p in _journal(conn, scope).misdated if scope.has(period))
    closed = [p for p in scope.periods if p.status == "Closed" and scope.has(p.name)]
    fingerprints = _fingerprints(conn, scope, [p for p in closed if p.fingerprint])
    for period in closed:
        if not period.fingerprint:
            problems.append(Problem(period.name, "fingerprint", "closed without a recorded fingerprint"))
        elif fingerprints[period.name] != period.fingerprint:
            problems.append(
                Problem(
                    period.name,
                    "fingerprint",
                    "the journal of this closed period changed since it closed (fingerprint mismatch)",
                )
            )
    return problems


def _amount_texts(dialect: str) -> Callable[[Any, str], str]:
    """Stored money as the chain hashed it: quantized to the currency, zero as a bare ``0``. SQLite stores
    ten-thousandths as integers, formatted here without building a Decimal per line (a million lines)."""
    if dialect != "sqlite":
        return lambda value, currency: f"{quantize(value, currency):f}" if value else "0"
    cache: dict[str, tuple[int, int]] = {}

    def text(value: Any, currency: str) -> str:
        if not value:
            return "0"
        if currency not in cache:
            digits = minor_unit(currency)
            cache[currency] = (digits, 10 ** (SCALE - digits))
        digits, step = cache[currency]
        units, rest = divmod(int(value), step)
        if rest:  # more precision than the currency: hash it as it is, so a tampered amount shows
            return f"{Decimal(int(value)).scaleb(-SCALE):f}"
        if not digits:
            return str(units)
        whole, cents = divmod(units, 10**digits)
        return f"{whole}.{cents:0{digits}d}"

    return text


def hash_chain(conn: Connection, scope: Scope) -> list[Problem]:
    """Each account's journal is gap-free from 1, every entry's hash recomputes from its content and the previous
    hash, and the account's recorded head is its last entry."""
    # A chain is verified whole: any period's entries depend on every earlier one.
    jp = _journal(conn, scope)
    if jp.chain is None:  # the run was not asked for the chain, but a caller is: read the journal again, hashing
        jp = scope.shared["journal"] = _read_journal(conn, scope, hashed=True)
    assert jp.chain is not None
    problems = list(jp.chain)
    stored_lines = conn.execute(select(func.count()).select_from(journal_lines)).scalar_one()
    if stored_lines != jp.lines:  # lines whose entry is missing (the pass reads lines through their entries)
        e, ln = journal_entries, journal_lines
        orphans = (
            select(ln.c.account_number, ln.c.entry_seq)
            .where(~select(e.c.seq).where(_entry_join()).exists())
            .distinct()
            .order_by(ln.c.account_number, ln.c.entry_seq)
        )
        problems.extend(
            Problem(_entry_id(account, seq), None, "a journal line without its entry")
            for account, seq in conn.execute(orphans)
        )
    heads = {
        row.account_number: (row.last_entry_seq, row.last_entry_hash)
        for row in conn.execute(
            select(
                customer_accounts.c.account_number,
                customer_accounts.c.last_entry_seq,
                customer_accounts.c.last_entry_hash,
            )
        )
    }
    for account in sorted(set(heads) | set(jp.tails)):
        recorded = heads.get(account)
        actual = jp.tails.get(account, (0, ""))
        if recorded is None:
            problems.append(Problem(account, None, "journal entries for an account the books do not have"))
        elif recorded != actual:
            problems.append(
                Problem(
                    account,
                    "lastEntryHash",
                    f"the account's chain head is entry {recorded[0]} but its journal ends at entry {actual[0]} "
                    "or with another hash",
                )
            )
    return problems


def beancount_ledger(conn: Connection, scope: Scope) -> list[Problem]:
    """The Beancount ledger loads without errors: accounts open, currencies allowed, transactions balanced, balance
    assertions (the subledger's control balances) holding, closed periods unchanged (the closed-period plugin).

    Without a period this is proven set-based over the whole ledger (``_ledger_rules``); with one, that period's
    ledger is written and loaded with Beancount (``_load_period``)."""
    if scope.period is not None:
        return _load_period(conn, scope.period)
    return _ledger_rules(conn, scope)


def _ledger_rules(conn: Connection, scope: Scope) -> list[Problem]:
    """What bean-check would report on ``export_beancount``'s ledger, from the database: each rule it applies to
    that ledger, in the words it uses."""
    jp = _journal(conn, scope)
    chart: Chart = scope.once("chart", lambda: read_chart(conn))
    accounts = {code.name: code for code in chart.codes.values()}
    problems: list[Problem] = []
    # Open directives: every code of the chart, opened on the first period's first day, with its currencies.
    if any(code not in accounts or currency not in accounts[code].currencies for code, currency in jp.code_currencies):
        ln = journal_lines
        query = (
            select(ln.c.accounting_code, ln.c.currency, func.count(), func.min(ln.c.account_number))
            .group_by(ln.c.accounting_code, ln.c.currency)
            .order_by(ln.c.accounting_code, ln.c.currency)
        )
        for code, currency, count, account in conn.execute(query):
            known = accounts.get(code)
            if known is None:
                problems.append(
                    Problem(account, code, f"accounting code {code!r} has no account in the ledger ({count} postings)")
                )
            elif currency not in known.currencies:
                problems.append(
                    Problem(
                        account, code, f"Invalid currency {currency} for account '{known.account}' ({count} postings)"
                    )
                )
    first = scope.periods[0].start_date if scope.periods else None
    e = journal_entries
    early = conn.execute(
        select(func.count()).select_from(e).where(e.c.entry_date < first if first else true())
    ).scalar_one()
    if early:
        problems.append(
            Problem(
                None,
                "entryDate",
                f"{early} transactions are dated before the ledger opens its accounts ({first or 'no periods'})",
            )
        )
    # Transactions balance (Beancount checks each transaction per currency; an entry without lines is no error).
    problems.extend(Problem(p.document, None, f"Transaction does not balance: {p.rule}") for _, p in jp.unbalanced)
    if jp.foreign:
        problems.extend(
            Problem(p.document, None, f"Transaction does not balance: {p.rule}")
            for p in entries_balanced(conn, Scope(None, scope.periods, scope.as_of, scope.wanted, scope.shared))
            if p.field != "currency"
            and p.rule.startswith("debits")
            and p.document not in {q.document for _, q in jp.unbalanced}
        )
    # Each period's balance assertions: the subledger at the period's end against the journal on the day after.
    span = ledger_span(conn, scope.periods)
    expected = _subledger_at(conn, scope, [p.end_date for p in span])
    asserted_codes = {code for balances in expected.values() for code, _ in balances}
    for period in span:
        journal = _journal_at(conn, scope, period.end_date, asserted_codes)
        for (code, currency), want in sorted(expected[period.end_date].items()):
            have = journal.get((code, currency), ZERO)
            known = accounts.get(code)
            where = f"periods/{period.name}.beancount"
            if known is None:
                problems.append(Problem(where, code, f"accounting code {code!r} has no account in the ledger"))
            elif currency not in known.currencies:
                problems.append(Problem(where, code, f"Invalid currency {currency} for account '{known.account}'"))
            elif want != have:
                gap = fmt(abs(want - have), currency)
                day = period.end_date + dt.timedelta(days=1)
                problems.append(
                    Problem(
                        where,
                        code,
                        f"Balance failed for '{known.account}': expected {fmt(want, currency)} {currency} != "
                        f"accumulated {fmt(have, currency)} {currency} "
                        f"({gap} too {'much' if have > want else 'little'}) on {day}",
                    )
                )
    # The closed_periods plugin: a closed period's postings must match the fingerprint of its directive.
    closed = [p for p in span if p.status == "Closed"]
    fingerprints = _fingerprints(conn, scope, closed)
    for period in closed:
        if fingerprints[period.name] != (period.fingerprint or ""):
            problems.append(
                Problem(
                    f"periods/{period.name}.beancount",
                    None,
                    f"Closed accounting period {period.name} was altered: its postings no longer match the "
                    "fingerprint recorded at close",
                )
            )
    return problems


def _load_period(conn: Connection, period: PeriodState) -> list[Problem]:
    """Write ``period``'s ledger (``export_period``) and load it with Beancount and the closed-period plugin."""
    with tempfile.TemporaryDirectory(prefix="subledger-check-") as tmp:
        try:
            main = export_period(conn, Path(tmp), period.name)[0]
        except KeyError as missing:  # a journal line whose accounting code has no account: nothing to write
            return [Problem(period.name, None, f"accounting code {missing} has no account in the ledger")]
        _, errors, _ = loader.load_file(str(main))
        problems: list[Problem] = []
        for error in errors:
            source = error.source or {}
            filename = str(source.get("filename", ""))
            where = (
                f"{Path(filename).relative_to(tmp) if filename.startswith(tmp) else filename}:{source.get('lineno')}"
            )
            problems.append(Problem(where, None, " ".join(str(error.message).split())))
        return problems


#: Every check: (name, what it proves, the check). The order is the order of the report.
CHECKS: tuple[tuple[str, str, Check], ...] = (
    ("entries-balanced", "Every journal entry balances per currency", entries_balanced),
    ("trial-balance", "The trial balance nets to zero", trial_balance),
    ("accounting-codes", "Every line's accounting code is in the chart and active", accounting_codes_active),
    ("no-drafts", "No draft documents or unprocessed payments", no_drafts),
    ("control-accounts", "Control accounts in the journal equal the subledger", control_accounts),
    ("write-offs", "Write-off memos fully applied, lines reduced exactly", write_offs),
    ("reversals", "Reversals mirror their originals per accounting code", reversals),
    ("closed-periods", "Nothing dated in a closed period; fingerprints match", closed_periods),
    ("hash-chain", "Every account's journal hash chain verifies", hash_chain),
    ("beancount", "The Beancount ledger loads; its balance assertions hold", beancount_ledger),
)
NAMES = frozenset(name for name, _, _ in CHECKS)


def scope_for(conn: Connection, period: str | None, wanted: Iterable[str] = NAMES) -> Scope:
    all_periods = read_periods(conn)
    if period is not None:
        found = next((p for p in all_periods if p.name == period), None)
        if found is None:
            raise NotFound(f"no accounting period {period}", field="period")
        return Scope(found, all_periods, found.end_date, frozenset(wanted))
    last = conn.execute(select(func.max(journal_entries.c.entry_date))).scalar_one()
    as_of = next((p.end_date for p in all_periods if last is not None and p.start_date <= last <= p.end_date), last)
    return Scope(None, all_periods, as_of, frozenset(wanted))


def run_checks(conn: Connection, period: str | None = None, *, skip: Iterable[str] = ()) -> CheckReport:
    """Run every check but those named in ``skip`` and report them all."""
    skip = set(skip)
    unknown = skip - NAMES
    if unknown:
        raise NotFound(f"no close check {', '.join(sorted(unknown))}", field="skip")
    scope = scope_for(conn, period, NAMES - skip)
    results: list[CheckResult] = []
    for name, title, check in CHECKS:
        if name in skip:
            continue
        found = check(conn, scope)
        results.append(
            CheckResult(
                name=name,
                title=title,
                passed=not found,
                problem_count=len(found),
                problems=[CheckProblem(document=p.document, field=p.field, rule=p.rule) for p in found[:SHOWN]],
            )
        )
    return CheckReport(period=period, as_of=scope.as_of, passed=all(r.passed for r in results), checks=results)
