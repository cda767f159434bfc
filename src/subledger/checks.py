"""The close checks: every rule a period must satisfy before it closes, each reported as a value.

Like beancount's validation, a run never stops at the first problem: every check runs and returns its problems
(``Problem(document, field, rule)``), and the report lists them all. ``subledger check`` prints the report;
closing a period runs the same checks on that period and refuses while any fails.

Each check is a few set-based queries (the journal may hold millions of lines); only the hash chain, the
fingerprints and the Beancount load read the journal line by line, because they recompute hashes or parse text.

Scope: with a period, the checks look at that period (its entries, the documents dated in it, the control
accounts at its end, its fingerprint if closed); without one, at the whole book (every entry, every closed period,
the control accounts at the end of the last period with entries). The hash chain always covers every account.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from beancount import loader
from sqlalchemy import ColumnElement, Connection, Select, and_, func, or_, select, true, type_coerce

from subledger.balances import CONTROL_SIGN, journal_balances, subledger_balances
from subledger.context import PeriodState, read_periods
from subledger.errors import NotFound, Problem
from subledger.export.beancount import export_beancount
from subledger.fingerprint import period_fingerprint
from subledger.journal import chain_digest, line_text
from subledger.models.base import OutputModel
from subledger.money import ZERO, fmt, minor_unit, quantize
from subledger.storage.schema import (
    accounting_codes,
    applications,
    customer_accounts,
    document_items,
    documents,
    journal_entries,
    journal_lines,
    payments,
    periods,
    taxation_items,
)
from subledger.storage.types import SCALE, Money

#: How many problems a check lists; the rest are counted.
SHOWN = 20
#: Chart types whose journal balance the subledger proves (Accounts Receivable, On-Account, Unapplied Payments).
CONTROL_TYPES = frozenset({"AccountsReceivable", "On-Account Receivable", "CustomerCashOnAccount"})


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
    """What a run looks at: one period, or (``period`` None) the whole book up to ``as_of``."""

    period: PeriodState | None
    periods: list[PeriodState]
    as_of: dt.date | None

    def entries(self) -> ColumnElement[bool]:
        """The journal entries in scope."""
        return journal_entries.c.period == self.period.name if self.period else true()

    def dated(self, column: ColumnElement[dt.date]) -> ColumnElement[bool]:
        """Rows whose ``column`` date is in scope (the period, or anything up to ``as_of``)."""
        if self.period is not None:
            return and_(column >= self.period.start_date, column <= self.period.end_date)
        return column <= self.as_of if self.as_of else true()


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


# --- the checks ---------------------------------------------------------------------------------------------


def entries_balanced(conn: Connection, scope: Scope) -> list[Problem]:
    """Every journal entry has lines, in its own currency, with debits equal to credits per currency."""
    e, ln = journal_entries, journal_lines
    problems: list[Problem] = []
    unbalanced = (
        select(ln.c.account_number, ln.c.entry_seq, ln.c.currency, _money(ln.c.debit), _money(ln.c.credit))
        .join(e, _entry_join())
        .where(scope.entries())
        .group_by(ln.c.account_number, ln.c.entry_seq, ln.c.currency)
        .having(func.sum(ln.c.debit) != func.sum(ln.c.credit))
        .order_by(ln.c.account_number, ln.c.entry_seq)
    )
    for account, seq, currency, debit, credit in conn.execute(unbalanced):
        problems.append(
            Problem(
                _entry_id(account, seq),
                currency,
                f"debits {fmt(debit, currency)} and credits {fmt(credit, currency)} {currency}",
            )
        )
    foreign = (
        select(e.c.account_number, e.c.seq, e.c.currency, ln.c.currency)
        .join(ln, _entry_join())
        .where(scope.entries(), ln.c.currency != e.c.currency)
        .distinct()
    )
    for account, seq, currency, line_currency in conn.execute(foreign):
        problems.append(
            Problem(_entry_id(account, seq), "currency", f"a line is in {line_currency}, the entry in {currency}")
        )
    empty = select(e.c.account_number, e.c.seq).where(
        scope.entries(),
        ~select(ln.c.line_no).where(_entry_join()).exists(),
    )
    for account, seq in conn.execute(empty):
        problems.append(Problem(_entry_id(account, seq), None, "the entry has no lines"))
    return problems


def trial_balance(conn: Connection, scope: Scope) -> list[Problem]:
    """Total debits equal total credits per currency over the entries in scope."""
    ln = journal_lines
    query = (
        select(ln.c.currency, _money(ln.c.debit), _money(ln.c.credit))
        .join(journal_entries, _entry_join())
        .where(scope.entries())
        .group_by(ln.c.currency)
        .having(func.sum(ln.c.debit) != func.sum(ln.c.credit))
    )
    where = scope.period.name if scope.period else "the books"
    return [
        Problem(
            where,
            currency,
            f"the trial balance does not net to zero: debits {fmt(debit, currency)}, credits "
            f"{fmt(credit, currency)} {currency}",
        )
        for currency, debit, credit in conn.execute(query)
    ]


def accounting_codes_active(conn: Connection, scope: Scope) -> list[Problem]:
    """Every journal line's accounting code is in the chart and active."""
    ln, codes = journal_lines, accounting_codes
    query = (
        select(
            ln.c.accounting_code, codes.c.name, func.count(), func.min(ln.c.account_number), func.min(ln.c.entry_seq)
        )
        .join(journal_entries, _entry_join())
        .outerjoin(codes, codes.c.name == ln.c.accounting_code)
        .where(scope.entries(), or_(codes.c.name.is_(None), codes.c.active.is_(False)))
        .group_by(ln.c.accounting_code, codes.c.name)
    )
    problems: list[Problem] = []
    for code, known, count, account, seq in conn.execute(query):
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


def control_accounts(conn: Connection, scope: Scope) -> list[Problem]:
    """Accounts Receivable, Credit Memo On-Account and Unapplied Payments in the journal equal the subledger."""
    if scope.as_of is None:
        return []
    expected: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for control, balances in subledger_balances(conn, scope.as_of).items():
        for key, amount in balances.items():
            expected[key] += CONTROL_SIGN[control] * amount
    journal = journal_balances(conn, scope.as_of)
    types = dict(conn.execute(select(accounting_codes.c.name, accounting_codes.c.type)).all())
    keys = set(expected) | {key for key in journal if types.get(key[0]) in CONTROL_TYPES}
    problems: list[Problem] = []
    for code, currency in sorted(keys):
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
    e, p = journal_entries, periods
    misplaced = (
        select(e.c.account_number, e.c.seq, e.c.entry_date, e.c.period, p.c.name)
        .outerjoin(p, and_(e.c.entry_date >= p.c.start_date, e.c.entry_date <= p.c.end_date))
        .where(scope.entries(), or_(p.c.name.is_(None), p.c.name != e.c.period))
        .order_by(e.c.account_number, e.c.seq)
    )
    for account, seq, date, recorded, actual in conn.execute(misplaced):
        where = f"period {actual}" if actual else "no accounting period"
        problems.append(Problem(_entry_id(account, seq), "period", f"dated {date} ({where}) but posted in {recorded}"))
    closed = [p for p in scope.periods if p.status == "Closed"]
    if scope.period is not None:
        closed = [p for p in closed if p.name == scope.period.name]
    for period in closed:
        if not period.fingerprint:
            problems.append(Problem(period.name, "fingerprint", "closed without a recorded fingerprint"))
        elif period_fingerprint(conn, period.start_date, period.end_date) != period.fingerprint:
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


def _driver_rows(conn: Connection, sql: str, batch: int = 50_000) -> Iterator[tuple[Any, ...]]:
    """Rows straight from the database driver, in batches (a server-side cursor on PostgreSQL), inside the
    connection's transaction: the hash chain reads every journal line, and per-row objects would dominate."""
    dbapi: Any = conn.connection.dbapi_connection
    named = conn.dialect.name == "postgresql"
    cursor = dbapi.cursor(name=f"subledger_check_{id(sql)}") if named else dbapi.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def hash_chain(conn: Connection, scope: Scope) -> list[Problem]:
    """Each account's journal is gap-free from 1, every entry's hash recomputes from its content and the previous
    hash, and the account's recorded head is its last entry."""
    del scope  # a chain is verified whole: any period's entries depend on every earlier one
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
    amount = _amount_texts(conn.dialect.name)
    texts: dict[tuple[Any, str], str] = {}
    problems: list[Problem] = []
    tails: dict[str, tuple[int, str]] = {}
    lines = _driver_rows(
        conn,
        "SELECT account_number, entry_seq, accounting_code, debit, credit, item_id, currency FROM journal_lines "
        "ORDER BY account_number, entry_seq, line_no",
    )
    line = next(lines, None)
    for head in _driver_rows(
        conn,
        "SELECT account_number, seq, entry_date, period, transaction_type, currency, document_number, "
        "related_number, prev_hash, hash FROM journal_entries ORDER BY account_number, seq",
    ):
        account, seq, date, period, ttype, currency, document, related, prev_hash, stored = head
        key = (account, seq)
        own: list[str] = []
        while line is not None and (line[0], line[1]) <= key:
            if (line[0], line[1]) == key:
                debit, credit = (line[3], line[6]), (line[4], line[6])
                d = texts.get(debit) or texts.setdefault(debit, amount(*debit))
                c = texts.get(credit) or texts.setdefault(credit, amount(*credit))
                own.append(line_text(line[2], d, c, line[5]))
            else:
                problems.append(Problem(_entry_id(line[0], line[1]), None, "a journal line without its entry"))
            line = next(lines, None)
        last_seq, last_hash = tails.get(account, (0, ""))
        entry_id = _entry_id(account, seq)
        if seq != last_seq + 1:
            problems.append(Problem(entry_id, "seq", f"follows entry {last_seq}: entries are missing"))
        elif prev_hash != last_hash:
            problems.append(Problem(entry_id, "prevHash", "does not chain to the previous entry's hash"))
        day = date if isinstance(date, str) else date.isoformat()
        fields = (account, str(seq), day, period, ttype, currency, document, related or "")
        if chain_digest(prev_hash, fields, own) != stored:
            problems.append(Problem(entry_id, "hash", "its content no longer matches its hash (altered)"))
        tails[account] = (seq, stored)
    for account in sorted(set(heads) | set(tails)):
        recorded = heads.get(account)
        actual = tails.get(account, (0, ""))
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
    """The Beancount export loads without errors: its balance assertions (the subledger's control balances) hold,
    and the closed-period plugin finds nothing posted into or changed in a closed period."""
    del scope  # assertions carry forward from period to period, so the whole ledger is loaded
    with tempfile.TemporaryDirectory(prefix="subledger-check-") as tmp:
        main = export_beancount(conn, Path(tmp))[0]
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


def scope_for(conn: Connection, period: str | None) -> Scope:
    all_periods = read_periods(conn)
    if period is not None:
        found = next((p for p in all_periods if p.name == period), None)
        if found is None:
            raise NotFound(f"no accounting period {period}", field="period")
        return Scope(found, all_periods, found.end_date)
    last = conn.execute(select(func.max(journal_entries.c.entry_date))).scalar_one()
    as_of = next((p.end_date for p in all_periods if last is not None and p.start_date <= last <= p.end_date), last)
    return Scope(None, all_periods, as_of)


def run_checks(conn: Connection, period: str | None = None, *, skip: Iterable[str] = ()) -> CheckReport:
    """Run every check but those named in ``skip`` and report them all."""
    unknown = set(skip) - {name for name, _, _ in CHECKS}
    if unknown:
        raise NotFound(f"no close check {', '.join(sorted(unknown))}", field="skip")
    scope = scope_for(conn, period)
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
