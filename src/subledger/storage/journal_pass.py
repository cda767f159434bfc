"""The journal pass's storage side: one read of every journal entry with its lines aggregated by the database, in
each engine's SQL, planned as the read needs, and shared with a forked process over a large book.

The close checks (``subledger.checks.facts``) fold these rows into typed facts; this module knows only the tables,
the engines and the processes. A row (``ENTRY_COLUMNS``) is one entry in account and sequence order: its stored
columns, then its lines aggregated (count, debits, credits, lines in another currency, whether its date is in the
period it is posted in), the movement of each control code, and (hashed passes) the text of its lines as the hash
chain hashes them (``canonical.line_sql``) and the entry's other hashed fields. Values are as the driver gives
them (``storage.cursor``): money as integer ten-thousandths and dates as ISO text on SQLite.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select
from sqlalchemy.pool import NullPool

from subledger import canonical
from subledger.storage import cursor, forked
from subledger.storage.db import forget_inherited, make_engine
from subledger.storage.schema import customer_accounts, operations

T = TypeVar("T")
A = TypeVar("A")

#: The columns of a pass row, in order; after them one column per control code, then (hashed) the lines' text and
#: ``HASHED_COLUMNS``.
ENTRY_COLUMNS = (
    "account_number",
    "seq",
    "entry_date",
    "period",
    "transaction_type",
    "currency",
    "document_number",
    "related_number",
    "prev_hash",
    "hash",
    "line_count",
    "debits",
    "credits",
    "foreign_lines",
    "in_period",
)
#: What a hashed pass adds after the lines' text: the rest of the entry's stored fields.
HASHED_COLUMNS = ("tag", "description", "operation_id", "hash_version")
#: Journal entries from which the pass is shared with a forked process (forking costs tens of milliseconds). The
#: environment variable ``SUBLEDGER_SPLIT_FROM`` lowers it (tests run a forked pass on small books).
SPLIT_FROM = int(os.environ.get("SUBLEDGER_SPLIT_FROM", "50000"))
#: Pieces (ranges of accounts, of about equal entries) the pass is cut into for the two processes to share.
PIECES = 12
#: PostgreSQL's plan for the pass: both primary keys read in order, merged and grouped as they come (no nested loop
#: of a million index probes, no hash of the lines, no sort). Without statistics (a book bulk-loaded and not yet
#: analyzed) the planner chose a nested loop with a memoize cache that never hit.
PASS_PLAN = {"enable_nestloop": "off", "enable_hashjoin": "off", "enable_hashagg": "off"}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def day(raw: Any) -> dt.date:
    """The driver's date (ISO text on SQLite) as a date."""
    return dt.date.fromisoformat(raw) if isinstance(raw, str) else raw


@dataclass(frozen=True)
class PeriodBounds:
    name: str
    start: dt.date
    end: dt.date


def journal_sql(
    dialect: str,
    currencies: Iterable[str],
    control: Sequence[str],
    periods: Sequence[PeriodBounds],
    hashed: bool,
    accounts: str = "",
) -> str:
    """Every journal entry (in account and sequence order) with its lines aggregated (``ENTRY_COLUMNS``);
    ``accounts``, a condition on ``{t}.account_number``, keeps one range of accounts (it is put on both tables, so
    that each is read in its range).

    The lines' text is aggregated in the order the join gives them, which is line order (SQLite's LEFT JOIN reads
    each entry's lines by primary key; PostgreSQL's merge join, ``PASS_PLAN``, reads the lines' primary key in
    order), without asking for it: an ordered aggregate sorts every entry's lines again. Any entry whose hash does not
    recompute is verified again in Python from its lines in line order before it is reported."""
    dated = " ".join(
        f"WHEN {_quote(p.name)} THEN e.entry_date >= {_quote(p.start.isoformat())} "
        f"AND e.entry_date <= {_quote(p.end.isoformat())}"
        for p in periods
    )
    flag = "CASE WHEN {} THEN 1 ELSE 0 END".format
    # Which codes and currencies the lines carry is not asked here, per line (a CASE over the chart for each of a
    # million lines, a large part of the pass: bench/README.md), but by one DISTINCT over the lines
    # (``code_currencies``).
    columns = [
        "count(l.line_no)",
        "coalesce(sum(l.debit), 0)",
        "coalesce(sum(l.credit), 0)",
        f"sum({flag('l.currency <> e.currency')})",
        flag(f"(CASE e.period {dated} ELSE false END)" if dated else "false"),
        *(f"sum(CASE WHEN l.accounting_code = {_quote(code)} THEN l.debit - l.credit ELSE 0 END)" for code in control),
    ]
    if hashed:
        # Each line as its entry's version of the chain hashes it (``canonical.line_sql``).
        v1, v2 = (canonical.line_sql(version, dialect, currencies) for version in (canonical.V1, canonical.V2))
        text = f"CASE WHEN e.hash_version = {canonical.V1} THEN {v1} ELSE {v2} END"
        columns.append(f"group_concat({text}, char(31))" if dialect == "sqlite" else f"string_agg({text}, chr(31))")
        columns.extend(f"e.{column}" for column in HASHED_COLUMNS)
    return (
        "SELECT e.account_number, e.seq, e.entry_date, e.period, e.transaction_type, e.currency, e.document_number, "
        f"e.related_number, e.prev_hash, e.hash, {', '.join(columns)} "
        "FROM journal_entries e LEFT JOIN journal_lines l ON l.account_number = e.account_number AND "
        f"l.entry_seq = e.seq {'AND ' + accounts.format(t='l') if accounts else ''} "
        f"{'WHERE ' + accounts.format(t='e') if accounts else ''} "
        "GROUP BY e.account_number, e.seq ORDER BY e.account_number, e.seq"
    )


def pass_rows(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> Iterator[tuple[Any, ...]]:
    """The rows of the pass's ``sql`` (the whole journal or one piece of it), through the driver, planned as
    ``PASS_PLAN`` says."""
    return cursor.driver_rows(conn, sql, params, batch=20_000, settings=PASS_PLAN)


def ranges(conn: Connection) -> list[str]:
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


def range_sql(sql: Callable[[str], str], i: int, pieces: int) -> str:
    """The pass over piece ``i``: accounts from bound ``b{i-1}`` up to (not including) ``b{i}``."""
    lower = f"{{t}}.account_number >= :b{i - 1}" if i > 0 else ""
    upper = f"{{t}}.account_number < :b{i}" if i < pieces - 1 else ""
    return sql(" AND ".join(part for part in (lower, upper) if part))


def state(conn: Connection) -> tuple[int, int, dict[str, tuple[int, str]]]:
    """What every committed write moves: the operations recorded (count and last id) and each journal head."""
    ca, op = customer_accounts, operations
    count, last = conn.execute(select(func.count(), func.max(op.c.id)).select_from(op)).one()
    rows = conn.execute(select(ca.c.account_number, ca.c.last_entry_seq, ca.c.last_entry_hash))
    return int(count), int(last or 0), {account: (seq, digest) for account, seq, digest in rows}


Fold = Callable[[Iterable[tuple[Any, ...]]], T]


def read_pass(
    conn: Connection,
    sql: Callable[[str], str],
    fold: Fold[T],
    alongside: Callable[[Connection], A],
) -> tuple[list[T], A | None]:
    """The pass of ``sql(accounts)`` folded by ``fold``: the folded pieces in account order, and what
    ``alongside`` computed in the forked process (None when it did not run there, or read other books).

    Over a large book the pass is cut into pieces (``ranges``) shared with a forked process (``storage.forked``):
    this one takes pieces from the first up, the other runs ``alongside`` and then takes pieces from the last down,
    until they meet. The other process reads in a snapshot of its own. It reads there too what every committed write
    moves (``state``): when that equals what this connection sees, it read the same books; otherwise (a write
    landed in between) its pieces are read again here and its ``alongside`` is not taken."""
    bounds = ranges(conn)
    if not bounds:
        return [fold(pass_rows(conn, sql("")))], None
    pieces = [range_sql(sql, i, len(bounds) + 1) for i in range(len(bounds) + 1)]
    params = {f"b{i}": bound for i, bound in enumerate(bounds)}
    claims = forked.Claims(len(pieces))
    url = conn.engine.url.render_as_string(hide_password=False)
    theirs = forked.start(
        pass_elsewhere, url, pieces, params, claims, fold, alongside, forget=lambda: forget_inherited(conn)
    )
    parts: dict[int, T] = {}
    while (i := claims.first()) is not None:
        parts[i] = fold(pass_rows(conn, pieces[i], params))
    their_parts, extra, their_state = theirs()
    taken: A | None = None
    if their_state == state(conn):
        parts.update(their_parts)
        taken = extra
    else:
        for i in their_parts:
            parts[i] = fold(pass_rows(conn, pieces[i], params))
    return [parts[i] for i in range(len(pieces))], taken


def pass_elsewhere(
    url: str,
    pieces: list[str],
    params: dict[str, Any],
    claims: forked.Claims,
    fold: Fold[T],
    alongside: Callable[[Connection], A],
) -> tuple[dict[int, T], A, tuple[int, int, dict[str, tuple[int, str]]]]:
    """The forked process's side of the pass: ``alongside``, then pieces of the journal from the last down, with
    its own connection; with the ``state`` of the books it read, all in one snapshot."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            books = state(conn)
            extra = alongside(conn)
            parts: dict[int, T] = {}
            while (i := claims.last()) is not None:
                parts[i] = fold(pass_rows(conn, pieces[i], params))
            return parts, extra, books
    finally:
        engine.dispose()
