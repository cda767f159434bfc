"""Control-account balances two ways: from the subledger (documents and applications) and from the journal.

The subledger side never reads the journal: Accounts Receivable is what posted invoices and debit memos still owe,
Credit Memo On-Account is what posted credit memos have neither applied nor refunded, Unapplied Payments is what
processed payments have not yet applied, each as of a date. The Beancount export asserts these figures and the
close checks compare them with the journal; when the two disagree, one of them is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select, true, type_coerce

from subledger.money import ZERO
from subledger.posting import DocumentKind, Role
from subledger.storage.schema import (
    applications,
    document_items,
    documents,
    invoice_item_adjustments,
    journal_entries,
    journal_lines,
    of_entry,
    payments,
    refund_items,
    refunds,
    taxation_items,
)
from subledger.storage.types import Money

Key = tuple[str, str]  # (accounting code, currency)
#: The control accounts, and the sign of their subledger balance as a debit-minus-credit journal balance.
CONTROL_SIGN: dict[Role, int] = {Role.AR: 1, Role.ON_ACCOUNT: -1, Role.UNAPPLIED: -1}


Day = dt.date | None
#: Subledger movements: (day or None, control account, accounting code, currency) -> amount.
Movements = dict[tuple[Day, Role, str, str], Decimal]


def _lines_total(
    conn: Connection,
    kinds: tuple[str, ...],
    code_column: str,
    as_of: dt.date | None,
    by_day: bool,
    watch: set[str] | None = None,
) -> dict[tuple[Day, str, str], Decimal]:
    totals: dict[tuple[Day, str, str], Decimal] = defaultdict(lambda: ZERO)
    for table, amount in (
        (document_items, document_items.c.amount),
        (taxation_items, taxation_items.c.tax_amount),
    ):
        code = table.c[code_column]
        keys = [documents.c.document_date] if by_day else []
        flags = [_flag(out_of_range(table.c.balance, amount))] if watch is not None else []
        query = (
            select(*keys, code, documents.c.currency, func.sum(amount), *flags)
            .join(
                documents,
                and_(
                    documents.c.account_number == table.c.account_number,
                    documents.c.number == table.c.document_number,
                ),
            )
            .where(documents.c.kind.in_(kinds), documents.c.status == "Posted", _upto(documents.c.document_date, as_of))
            .group_by(*keys, code, documents.c.currency)
        )
        for row in _watched(conn.execute(query).all(), watch, "lines"):
            day, (name, currency, total) = (row[0] if by_day else None), row[-3:]
            if name is not None:
                totals[(day, name, currency)] += total or ZERO
    return totals


def out_of_range(balance: ColumnElement[Decimal], amount: ColumnElement[Decimal]) -> ColumnElement[bool]:
    """A balance past zero, or beyond ``amount``, either way (a negative line's balance runs from it up to zero)."""
    return or_(
        and_(amount >= 0, or_(balance < 0, balance > amount)),
        and_(amount < 0, or_(balance > 0, balance < amount)),
    )


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.max(case((condition, 1), else_=0))


def _watched(rows: Sequence[Any], watch: set[str] | None, name: str) -> Sequence[Sequence[Any]]:
    """The rows of a grouped query, less the flag ``watch`` asked for as its last column (``name`` is added to
    ``watch`` when a row raised it)."""
    if watch is None:
        return rows
    if any(row[-1] for row in rows):
        watch.add(name)
    return [tuple(row)[:-1] for row in rows]


def _upto(column: ColumnElement[dt.date], as_of: dt.date | None) -> ColumnElement[bool]:
    return column <= as_of if as_of is not None else true()


def _applied(
    conn: Connection,
    source_kind: str,
    side: str,
    code_column: str,
    as_of: dt.date | None,
    by_day: bool,
    watch: set[str] | None = None,
) -> dict[tuple[Day, str, str], Decimal]:
    """Applications up to ``as_of``, by the code of the target line (``side='target'``) or source memo line.

    ``watch`` (a set) asks whether any application is dated before the document it joins, or (target side) takes
    back rather than settles (its sign is not its target line's): only then can a balance have been past zero or
    beyond its amount on some day, which ``checks`` then looks for."""
    totals: dict[tuple[Day, str, str], Decimal] = defaultdict(lambda: ZERO)
    a = applications.c
    number = a.target_number if side == "target" else a.source_number
    item_id = a.target_item_id if side == "target" else a.source_item_id
    keys = [a.effective_date] if by_day else []
    for table, amount in (
        (document_items, document_items.c.amount),
        (taxation_items, taxation_items.c.tax_amount),
    ):
        flags: list[ColumnElement[int]] = []
        if watch is not None:
            early = a.effective_date < documents.c.document_date
            back = or_(and_(a.amount < 0, amount >= 0), and_(a.amount > 0, amount <= 0))
            flags = [_flag(or_(early, back) if side == "target" else early)]
        query = (
            select(*keys, table.c[code_column], documents.c.currency, func.sum(a.amount), *flags)
            .join(table, and_(table.c.account_number == a.account_number, table.c.id == item_id))
            .join(
                documents,
                and_(documents.c.account_number == a.account_number, documents.c.number == number),
            )
            .where(a.source_kind == source_kind, _upto(a.effective_date, as_of))
            .group_by(*keys, table.c[code_column], documents.c.currency)
        )
        for row in _watched(conn.execute(query).all(), watch, "applications"):
            day, (name, currency, total) = (row[0] if by_day else None), row[-3:]
            totals[(day, name, currency)] += total or ZERO
    return totals


def _refunded(conn: Connection, as_of: dt.date | None, by_day: bool) -> dict[tuple[Day, str, str], Decimal]:
    """What refunds paid out of credit memo lines up to ``as_of``, by the line's on-account code: each refund on its
    refund date, less each cancelled refund on its cancel date."""
    totals: dict[tuple[Day, str, str], Decimal] = defaultdict(lambda: ZERO)
    r, ri = refunds.c, refund_items.c
    for table in (document_items, taxation_items):
        for day, sign, condition in (
            (r.refund_date, 1, true()),
            (r.cancel_date, -1, r.status == "Canceled"),
        ):
            keys = [day] if by_day else []
            query = (
                select(*keys, table.c.on_account_code, r.currency, func.sum(ri.amount))
                .join(refunds, and_(r.account_number == ri.account_number, r.number == ri.refund_number))
                .join(table, and_(table.c.account_number == ri.account_number, table.c.id == ri.memo_item_id))
                .where(condition, ri.is_tax == (table is taxation_items), _upto(day, as_of))
                .group_by(*keys, table.c.on_account_code, r.currency)
            )
            for row in conn.execute(query):
                at, (name, currency, total) = (row[0] if by_day else None), row[-3:]
                totals[(at, name, currency)] += sign * (total or ZERO)
    return totals


def _subledger(conn: Connection, as_of: dt.date | None, by_day: bool, watch: set[str] | None = None) -> Movements:
    """The subledger's control-account amounts, up to ``as_of`` (None: all), per day or (``by_day`` False) in one;
    ``watch``: see ``subledger_balances_at``."""
    out: Movements = defaultdict(lambda: ZERO)

    def add(control: Role, totals: dict[tuple[Day, str, str], Decimal], sign: int = 1) -> None:
        for (day, code, currency), amount in totals.items():
            out[(day, control, code, currency)] += sign * amount

    billed = (DocumentKind.INVOICE, DocumentKind.DEBIT_MEMO)
    add(Role.AR, _lines_total(conn, billed, "ar_code", as_of, by_day, watch))
    for source_kind in ("Payment", DocumentKind.CREDIT_MEMO):
        add(Role.AR, _applied(conn, source_kind, "target", "ar_code", as_of, by_day, watch), -1)
    add(Role.ON_ACCOUNT, _lines_total(conn, (DocumentKind.CREDIT_MEMO,), "on_account_code", as_of, by_day, watch))
    applied = _applied(conn, DocumentKind.CREDIT_MEMO, "source", "on_account_code", as_of, by_day, watch)
    add(Role.ON_ACCOUNT, applied, -1)
    add(Role.ON_ACCOUNT, _refunded(conn, as_of, by_day), -1)
    p, a = payments.c, applications.c
    keys = [p.effective_date] if by_day else []
    watching = watch is not None
    paid = (
        select(*keys, p.unapplied_code, p.currency, func.sum(p.amount))
        .add_columns(*([_flag(out_of_range(p.unapplied, p.amount))] if watching else []))
        .where(p.status == "Processed", _upto(p.effective_date, as_of))
        .group_by(*keys, p.unapplied_code, p.currency)
    )
    keys = [a.effective_date] if by_day else []
    taken = (
        select(*keys, p.unapplied_code, p.currency, func.sum(a.amount))
        .add_columns(*([_flag(a.effective_date < p.effective_date)] if watching else []))
        .join(payments, and_(p.account_number == a.account_number, p.number == a.source_number))
        .where(a.source_kind == "Payment", _upto(a.effective_date, as_of))
        .group_by(*keys, p.unapplied_code, p.currency)
    )
    for query, sign in ((paid, 1), (taken, -1)):
        for row in _watched(conn.execute(query).all(), watch, "payments"):
            day, (code, currency, total) = (row[0] if by_day else None), row[-3:]
            out[(day, Role.UNAPPLIED, code, currency)] += sign * total
    return out


def receivable_adjustments(conn: Connection, as_of: dt.date) -> dict[tuple[str, str], Decimal]:
    """What processed adjustments took off receivable up to ``as_of`` (Credits less Charges), by (AR code, currency).

    ``subledger_balances`` subtracts it from what invoices still owe."""
    t = invoice_item_adjustments
    totals: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    query = (
        select(t.c.ar_code, t.c.currency, t.c.type, func.sum(t.c.amount))
        .where(and_(t.c.status == "Processed", t.c.adjustment_date <= as_of))
        .group_by(t.c.ar_code, t.c.currency, t.c.type)
    )
    for code, currency, type_, total in conn.execute(query):
        totals[(code, currency)] += total if type_ == "Credit" else -total
    return dict(totals)


def _with_adjustments(conn: Connection, totals: dict[Key, Decimal], as_of: dt.date) -> dict[Key, Decimal]:
    # Books without Invoice Settlement: processed Credit adjustments lower receivable, Charge ones raise it.
    for key, amount in receivable_adjustments(conn, as_of).items():
        totals[key] = totals.get(key, ZERO) - amount
    return totals


def subledger_balances(conn: Connection, as_of: dt.date) -> dict[Role, dict[Key, Decimal]]:
    """Open balances by control account as of the end of ``as_of``, from documents and applications only."""
    balances: dict[Role, dict[Key, Decimal]] = {control: {} for control in CONTROL_SIGN}
    for (_, control, code, currency), amount in _subledger(conn, as_of, by_day=False).items():
        balances[control][(code, currency)] = amount
    _with_adjustments(conn, balances[Role.AR], as_of)
    return balances


def subledger_balances_at(
    conn: Connection, days: Iterable[dt.date], watch: set[str] | None = None
) -> dict[dt.date, dict[Role, dict[Key, Decimal]]]:
    """``subledger_balances`` at the end of each of ``days``, from one pass of the subledger queries grouped by day
    (running sums), rather than one pass per day.

    With ``watch`` (a set), the same pass also says whether a document's or payment's balance may have been past
    zero or beyond its amount on some day: it adds ``lines`` or ``payments`` when a stored balance is, and
    ``applications`` or ``payments`` when an application is dated before its target or source, or takes back
    (``checks`` then finds the documents; a book where none is raised has no such day)."""
    moves = sorted(
        (
            (day, control, code, currency, amount)
            for (day, control, code, currency), amount in _subledger(conn, None, by_day=True, watch=watch).items()
            if day is not None
        ),
        key=lambda move: move[0],
    )
    running: dict[Role, dict[Key, Decimal]] = {control: defaultdict(lambda: ZERO) for control in CONTROL_SIGN}
    out: dict[dt.date, dict[Role, dict[Key, Decimal]]] = {}
    i = 0
    for as_of in sorted(set(days)):
        while i < len(moves) and moves[i][0] <= as_of:
            _, control, code, currency, amount = moves[i]
            running[control][(code, currency)] += amount
            i += 1
        balances = {control: dict(totals) for control, totals in running.items()}
        _with_adjustments(conn, balances[Role.AR], as_of)
        out[as_of] = balances
    return out


def journal_balances(conn: Connection, as_of: dt.date, codes: Collection[str] | None = None) -> dict[Key, Decimal]:
    """Debit minus credit by accounting code and currency, over every entry dated on or before ``as_of`` (only the
    accounting codes in ``codes`` when given)."""
    query = (
        select(
            journal_lines.c.accounting_code,
            journal_lines.c.currency,
            type_coerce(func.sum(journal_lines.c.debit) - func.sum(journal_lines.c.credit), Money()),
        )
        .join(journal_entries, of_entry(journal_lines))
        .where(
            journal_entries.c.entry_date <= as_of,
            journal_lines.c.accounting_code.in_(codes) if codes is not None else true(),
        )
        .group_by(journal_lines.c.accounting_code, journal_lines.c.currency)
    )
    return {(code, currency): total for code, currency, total in conn.execute(query)}
