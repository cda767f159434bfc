"""Finding things: lists of documents and payments, the receivable aging, the write-off and reversal registers.

Read-only and set-based; every amount is a decimal string in the document's currency, every key the reference
product's spelling (camelCase), so that ``--json`` prints these dicts as they are. Each report carries the figures
it ties to: the aging's total per currency against the receivable control balance (the subledger's and the
journal's), the write-off register's totals against the journal lines the write-offs posted (their memos, or in a
book without Invoice Settlement their invoice item adjustments).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any, Literal, TypedDict, Unpack

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Table, and_, false, func, select

from subledger.balances import journal_balances, subledger_balances
from subledger.chart import EXPENSE_TYPES
from subledger.errors import NotFound
from subledger.money import ZERO, fmt
from subledger.posting import Role
from subledger.storage.schema import (
    accounting_codes,
    applications,
    customer_accounts,
    document_items,
    documents,
    invoice_item_adjustments,
    journal_entries,
    journal_lines,
    operations,
    payments,
    periods,
    taxation_items,
)

KINDS = {"invoices": "Invoice", "debit-memos": "DebitMemo", "credit-memos": "CreditMemo"}
#: Aging buckets: days past due (the due date, else the document date) as of the report's date.
BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("current", None, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("over 90", 91, None),
)
CONTROL_TYPES = ("AccountsReceivable", "On-Account Receivable")
#: An operation wrote something off when its kind begins with this (``write-off-invoice``, ...,
#: ``write-off-adjustments``): how the register tells a write-off's invoice item adjustments from corrections, and
#: how the Beancount export marks their entries as a write-off's for the Fava register.
WRITE_OFF_OPERATION = "write-off"


def known_account(conn: Connection, number: str, field: str = "--account") -> str:
    """``number`` if the book has that customer account; a list filtered by a mistyped one would be empty."""
    found = conn.execute(
        select(customer_accounts.c.account_number).where(customer_accounts.c.account_number == number)
    ).first()
    if found is None:
        raise NotFound(f"no customer account {number}", field=field)
    return number


def period_range(conn: Connection, name: str, field: str = "--period") -> tuple[dt.date, dt.date]:
    row = conn.execute(select(periods.c.start_date, periods.c.end_date).where(periods.c.name == name)).first()
    if row is None:
        raise NotFound(f"no accounting period {name}", field=field)
    return row.start_date, row.end_date


def _document_totals(conn: Connection, where: list[Any]) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(account, number) -> (amount, open balance) over the document's items and taxation items."""
    totals: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for table, amount in ((document_items, document_items.c.amount), (taxation_items, taxation_items.c.tax_amount)):
        query = (
            select(table.c.account_number, table.c.document_number, func.sum(amount), func.sum(table.c.balance))
            .join(
                documents,
                and_(
                    documents.c.account_number == table.c.account_number, documents.c.number == table.c.document_number
                ),
            )
            .where(*where)
            .group_by(table.c.account_number, table.c.document_number)
        )
        for account, number, total, balance in conn.execute(query):
            totals[(account, number)][0] += total or ZERO
            totals[(account, number)][1] += balance or ZERO
    return {key: (pair[0], pair[1]) for key, pair in totals.items()}


class ListFilters(TypedDict, total=False):
    """What every list filters by: the customer account, the status, an open balance (unapplied amount) only, an
    age in days as of ``as_of`` (default today), the accounting period dated in."""

    account: str | None
    status: str | None
    open_only: bool
    older_than: int | None
    as_of: dt.date | None
    period: str | None


def _where(conn: Connection, filters: ListFilters, table: Table, date: str, as_of: dt.date) -> list[Any]:
    """The conditions of ``filters`` but ``open_only`` on ``table`` (its ``date`` column the one ages count from)."""
    where: list[Any] = []
    if (account := filters.get("account")) is not None:
        where.append(table.c.account_number == account)
    if (status := filters.get("status")) is not None:
        where.append(table.c.status == status)
    if (older_than := filters.get("older_than")) is not None:
        try:
            where.append(table.c[date] < as_of - dt.timedelta(days=older_than))
        except OverflowError:  # before the first day of the calendar: nothing is that old
            where.append(false())
    if (period := filters.get("period")) is not None:
        start, end = period_range(conn, period)
        where.append(table.c[date].between(start, end))
    return where


def list_documents(
    conn: Connection, which: str, *, source: str | None = None, **filters: Unpack[ListFilters]
) -> list[dict[str, Any]]:
    """Invoices, debit memos or credit memos (``which``: invoices, debit-memos, credit-memos), oldest first."""
    as_of = filters.get("as_of") or dt.date.today()
    open_only = filters.get("open_only", False)
    kind = KINDS[which]
    d = documents.c
    where: list[Any] = [d.kind == kind, *_where(conn, filters, documents, "document_date", as_of)]
    if source is not None:
        where.append(d.source == source)
    rows = conn.execute(
        select(
            d.account_number,
            d.number,
            d.document_date,
            d.due_date,
            d.status,
            d.currency,
            d.source,
            d.source_document,
            d.reason_code,
            d.reversed,
            customer_accounts.c.name,
        )
        .join(customer_accounts, customer_accounts.c.account_number == d.account_number)
        .where(*where)
        .order_by(d.document_date, d.number)
    ).all()
    totals = _document_totals(conn, where)
    balance_key = "unappliedAmount" if kind == "CreditMemo" else "balance"
    out = []
    for r in rows:
        amount, balance = totals.get((r.account_number, r.number), (ZERO, ZERO))
        if open_only and balance == 0:
            continue
        row: dict[str, Any] = {
            "number": r.number,
            "kind": kind,
            "accountNumber": r.account_number,
            "accountName": r.name,
            "date": r.document_date.isoformat(),
            "dueDate": r.due_date.isoformat() if r.due_date else None,
            "status": r.status,
            "currency": r.currency,
            "amount": fmt(amount, r.currency),
            balance_key: fmt(balance, r.currency),
            "ageDays": (as_of - r.document_date).days,
            "source": r.source,
            "sourceDocumentNumber": r.source_document,
            "reasonCode": r.reason_code,
            "reversed": bool(r.reversed),
        }
        out.append({k: v for k, v in row.items() if v is not None})
    return out


def list_payments(
    conn: Connection, *, offset: int = 0, limit: int | None = None, **filters: Unpack[ListFilters]
) -> list[dict[str, Any]]:
    """Payments by date, then number (unique in the book: a stable order to page through, ``offset`` and
    ``limit``)."""
    as_of = filters.get("as_of") or dt.date.today()
    p = payments.c
    where = _where(conn, filters, payments, "effective_date", as_of)
    if filters.get("open_only", False):
        where.append(p.unapplied != 0)
    rows = conn.execute(
        select(p.account_number, p.number, p.type, p.status, p.effective_date, p.currency, p.amount, p.unapplied)
        .where(*where)
        .order_by(p.effective_date, p.number)
        .offset(offset)
        .limit(limit)
    ).all()
    return [
        {
            "number": r.number,
            "kind": "Payment",
            "accountNumber": r.account_number,
            "type": r.type,
            "date": r.effective_date.isoformat(),
            "status": r.status,
            "currency": r.currency,
            "amount": fmt(r.amount, r.currency),
            "unappliedAmount": fmt(r.unapplied, r.currency),
            "ageDays": (as_of - r.effective_date).days,
        }
        for r in rows
    ]


def payment(conn: Connection, number: str) -> dict[str, Any] | None:
    """One payment as ``list_payments`` lists it (payment numbers are unique in the book), or None."""
    p = payments.c
    account = conn.execute(select(p.account_number).where(p.number == number).limit(1)).scalar()
    if account is None:
        return None
    return next((row for row in list_payments(conn, account=account) if row["number"] == number), None)


def _bucket(days_past_due: int) -> str:
    for name, low, high in BUCKETS:
        if (low is None or days_past_due >= low) and (high is None or days_past_due <= high):
            return name
    raise AssertionError(days_past_due)  # pragma: no cover


def _codes_of_type(conn: Connection, types: tuple[str, ...]) -> list[str]:
    return list(conn.execute(select(accounting_codes.c.name).where(accounting_codes.c.type.in_(types))).scalars())


def aging(conn: Connection, as_of: dt.date) -> dict[str, Any]:
    """What posted invoices and debit memos still owed at the end of ``as_of``, by customer account and bucket of
    days past due, with the total per currency beside the receivable control balance it must equal."""
    d = documents.c
    where = [d.kind.in_(("Invoice", "DebitMemo")), d.status == "Posted", d.document_date <= as_of]
    totals = _document_totals(conn, where)
    applied: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    query = (
        select(applications.c.account_number, applications.c.target_number, func.sum(applications.c.amount))
        .where(applications.c.effective_date <= as_of)
        .group_by(applications.c.account_number, applications.c.target_number)
    )
    for account, number, amount in conn.execute(query):
        applied[(account, number)] += amount or ZERO
    # Books without Invoice Settlement: a processed Credit adjustment lowers what the invoice owes, a Charge one
    # raises it (as ``balances.receivable_adjustments`` counts them in the receivable control balance).
    a = invoice_item_adjustments.c
    adjusted = (
        select(a.account_number, a.invoice_number, a.type, func.sum(a.amount))
        .where(a.status == "Processed", a.adjustment_date <= as_of)
        .group_by(a.account_number, a.invoice_number, a.type)
    )
    for account, number, type_, amount in conn.execute(adjusted):
        applied[(account, number)] += (amount or ZERO) if type_ == "Credit" else -(amount or ZERO)
    docs = conn.execute(
        select(d.account_number, d.number, d.document_date, d.due_date, d.currency, customer_accounts.c.name)
        .join(customer_accounts, customer_accounts.c.account_number == d.account_number)
        .where(*where)
    ).all()
    names = [b[0] for b in BUCKETS]
    by_account: dict[tuple[str, str], dict[str, Decimal]] = {}
    account_names: dict[str, str] = {}
    by_currency: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for doc in docs:
        amount, _ = totals.get((doc.account_number, doc.number), (ZERO, ZERO))
        owed = amount - applied.get((doc.account_number, doc.number), ZERO)
        if owed == 0:
            continue
        due = doc.due_date or doc.document_date
        buckets = by_account.setdefault((doc.account_number, doc.currency), dict.fromkeys(names, ZERO))
        buckets[_bucket((as_of - due).days)] += owed
        account_names[doc.account_number] = doc.name
        by_currency[doc.currency] += owed
    subledger: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (_, currency), amount in subledger_balances(conn, as_of)[Role.AR].items():
        subledger[currency] += amount
    journal: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (_, currency), amount in journal_balances(conn, as_of, _codes_of_type(conn, ("AccountsReceivable",))).items():
        journal[currency] += amount
    currencies = sorted(
        set(by_currency) | {c for c, a in subledger.items() if a} | {c for c, a in journal.items() if a}
    )
    return {
        "asOf": as_of.isoformat(),
        "buckets": names,
        "accounts": [
            {
                "accountNumber": account,
                "accountName": account_names[account],
                "currency": currency,
                **{name: fmt(amount, currency) for name, amount in buckets.items()},
                "total": fmt(sum(buckets.values(), ZERO), currency),
            }
            for (account, currency), buckets in sorted(by_account.items())
        ],
        "totals": [
            {
                "currency": currency,
                "aging": fmt(by_currency[currency], currency),
                "receivableSubledger": fmt(subledger[currency], currency),
                "receivableJournal": fmt(journal[currency], currency),
                "ties": by_currency[currency] == subledger[currency] == journal[currency],
            }
            for currency in currencies
        ],
    }


def _memos(conn: Connection, source: str, start: dt.date, end: dt.date) -> list[Any]:
    d = documents.c
    where = [d.source == source, d.document_date.between(start, end)]
    totals = _document_totals(conn, where)
    rows = conn.execute(
        select(
            d.account_number,
            d.number,
            d.kind,
            d.document_date,
            d.currency,
            d.source_document,
            d.reason_code,
            d.comment,
            d.revenue_impacting,
            d.non_revenue_code,
        )
        .where(*where)
        .order_by(d.document_date, d.number)
    ).all()
    return [(r, totals.get((r.account_number, r.number), (ZERO, ZERO))[0]) for r in rows]


def _adjustment_write_offs(conn: Connection, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The invoices written off by invoice item adjustments between ``start`` and ``end`` (books without Invoice
    Settlement), one per write-off operation and invoice, as the Fava register groups their entries: the
    adjustments in posting order, Credits less Charges (what they debited to the revenue and tax codes), and
    non-revenue when one of them posts against an expense code (as the export says of each entry)."""
    a, o, e = invoice_item_adjustments.c, operations.c, journal_entries.c
    rows = conn.execute(
        select(
            a.account_number,
            a.operation_id,
            a.invoice_number,
            a.number,
            a.type,
            a.amount,
            a.currency,
            a.adjustment_date,
            a.reason_code,
            a.comment,
            accounting_codes.c.type.label("code_type"),
        )
        .join(operations, o.id == a.operation_id)
        .join(accounting_codes, accounting_codes.c.name == a.accounting_code)
        .join(journal_entries, and_(e.account_number == a.account_number, e.document_number == a.number))
        .where(
            a.status == "Processed",
            a.adjustment_date.between(start, end),
            o.kind.startswith(WRITE_OFF_OPERATION),
        )
        .order_by(a.adjustment_date, a.account_number, a.operation_id, a.invoice_number, e.seq)
    ).all()
    found: dict[tuple[str, int, str], dict[str, Any]] = {}
    for r in rows:
        write_off = found.setdefault(
            (r.account_number, r.operation_id, r.invoice_number),
            {"row": r, "numbers": [], "amount": ZERO, "revenue": True},
        )
        write_off["numbers"].append(r.number)
        write_off["amount"] += r.amount if r.type == "Credit" else -r.amount
        write_off["revenue"] = write_off["revenue"] and r.code_type not in EXPENSE_TYPES
    return list(found.values())


def _posted_by_code(conn: Connection, numbers: list[str]) -> dict[tuple[str, str], Decimal]:
    """Debit minus credit per (accounting code, currency) of the entries posting the write-off memos themselves
    (not their applications) or the write-off adjustments (``numbers``), control codes left out: what the
    write-offs moved into revenue, tax and expense codes."""
    control = set(_codes_of_type(conn, CONTROL_TYPES))
    out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    if not numbers:
        return out
    e, line = journal_entries.c, journal_lines.c
    query = (
        select(line.accounting_code, line.currency, func.sum(line.debit), func.sum(line.credit))
        .join(journal_entries, and_(e.account_number == line.account_number, e.seq == line.entry_seq))
        .where(e.document_number.in_(numbers), e.transaction_type.not_like("%Application%"))
        .group_by(line.accounting_code, line.currency)
    )
    for code, currency, debit, credit in conn.execute(query):
        if code not in control:
            out[(code, currency)] += (debit or ZERO) - (credit or ZERO)
    return out


def write_offs(conn: Connection, period: str) -> dict[str, Any]:
    """The write-off register of a period: each write-off memo, or each invoice written off by invoice item
    adjustments, and totals by revenue impact, reason code and accounting code; a credit memo write-off counts
    positive, a debit memo one (of a credit memo) negative."""
    start, end = period_range(conn, period)
    memos = _memos(conn, "WriteOff", start, end)
    adjusted = _adjustment_write_offs(conn, start, end)
    by_impact: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    by_reason: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    total: dict[str, Decimal] = defaultdict(lambda: ZERO)
    rows = []
    for memo, amount in memos:
        signed = amount if memo.kind == "CreditMemo" else -amount
        impact = "revenue impacting" if memo.revenue_impacting is not False else "non-revenue"
        if memo.kind == "DebitMemo":
            impact = "credit memo written off"
        by_impact[(impact, memo.currency)] += signed
        by_reason[(memo.reason_code or "", memo.currency)] += signed
        total[memo.currency] += signed
        rows.append(
            {
                "memoNumber": memo.number,
                "memoKind": memo.kind,
                "documentNumber": memo.source_document,
                "accountNumber": memo.account_number,
                "date": memo.document_date.isoformat(),
                "currency": memo.currency,
                "amount": fmt(signed, memo.currency),
                "revenueImpacting": impact,
                "reasonCode": memo.reason_code,
                "comment": memo.comment,
                "nonRevenueWriteOffAccountingCode": memo.non_revenue_code,
            }
        )
    for write_off in adjusted:
        first, amount = write_off["row"], write_off["amount"]
        impact = "revenue impacting" if write_off["revenue"] else "non-revenue"
        by_impact[(impact, first.currency)] += amount
        by_reason[(first.reason_code, first.currency)] += amount
        total[first.currency] += amount
        rows.append(
            {
                "adjustmentNumbers": write_off["numbers"],
                "documentNumber": first.invoice_number,
                "accountNumber": first.account_number,
                "date": first.adjustment_date.isoformat(),
                "currency": first.currency,
                "amount": fmt(amount, first.currency),
                "revenueImpacting": impact,
                "reasonCode": first.reason_code,
                "comment": first.comment,
            }
        )
    rows.sort(key=lambda row: (row["date"], row.get("memoNumber") or row["adjustmentNumbers"][0]))
    numbers = [memo.number for memo, _ in memos] + [n for w in adjusted for n in w["numbers"]]
    posted = _posted_by_code(conn, numbers)
    journal_total: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (_, currency), amount in posted.items():
        journal_total[currency] += amount

    def grouped(values: dict[tuple[str, str], Decimal], key: str) -> list[dict[str, Any]]:
        return [{key: k, "currency": c, "amount": fmt(v, c)} for (k, c), v in sorted(values.items()) if v]

    return {
        "period": period,
        "writeOffs": [{k: v for k, v in row.items() if v is not None} for row in rows],
        "byRevenueImpact": grouped(by_impact, "revenueImpacting"),
        "byReasonCode": grouped(by_reason, "reasonCode"),
        "byAccountingCode": grouped(posted, "accountingCode"),
        "totals": [
            {
                "currency": c,
                "amount": fmt(total[c], c),
                "journal": fmt(journal_total[c], c),
                "ties": total[c] == journal_total[c],
            }
            for c in sorted(set(total) | set(journal_total))
        ],
    }


def reversals(conn: Connection, period: str) -> dict[str, Any]:
    """The reversal register of a period: each reversal memo and what it reversed, totals by kind and currency."""
    start, end = period_range(conn, period)
    memos = _memos(conn, "Reversal", start, end)
    totals: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    rows = []
    for memo, amount in memos:
        reversed_kind = "Invoice" if memo.kind == "CreditMemo" else "CreditMemo"
        totals[(reversed_kind, memo.currency)] += amount
        rows.append(
            {
                "memoNumber": memo.number,
                "memoKind": memo.kind,
                "documentNumber": memo.source_document,
                "documentKind": reversed_kind,
                "accountNumber": memo.account_number,
                "date": memo.document_date.isoformat(),
                "currency": memo.currency,
                "amount": fmt(amount, memo.currency),
                "reasonCode": memo.reason_code,
                "comment": memo.comment,
            }
        )
    return {
        "period": period,
        "reversals": [{k: v for k, v in row.items() if v is not None} for row in rows],
        "totals": [
            {
                "documentKind": kind,
                "currency": c,
                "count": sum(1 for r in rows if (r["documentKind"], r["currency"]) == (kind, c)),
                "amount": fmt(v, c),
            }
            for (kind, c), v in sorted(totals.items())
        ],
    }


# --- the shapes ``--json`` prints (``subledger schema --output NAME``) ----------------------------------------


class _Shape(BaseModel):
    """The reports build plain dicts (they are printed as they are); these models only describe them, field names
    as the wire spells them. tests/test_reports.py validates real output against them."""

    model_config = ConfigDict(extra="forbid")


class DocumentListRow(_Shape):
    number: str
    kind: str
    accountNumber: str
    accountName: str
    date: str
    dueDate: str | None = None
    status: str
    currency: str
    amount: str
    balance: str | None = Field(None, description="Invoices and debit memos: the open balance.")
    unappliedAmount: str | None = Field(None, description="Credit memos: what is not applied yet.")
    ageDays: int
    source: str | None = None
    sourceDocumentNumber: str | None = None
    reasonCode: str | None = None
    reversed: bool


class PaymentListRow(_Shape):
    number: str
    kind: Literal["Payment"]
    accountNumber: str
    type: str
    date: str
    status: str
    currency: str
    amount: str
    unappliedAmount: str
    ageDays: int


class AgingAccount(BaseModel):
    """Per account and currency: one key per bucket (``buckets``) with the amount owed, and ``total``."""

    model_config = ConfigDict(extra="allow")
    accountNumber: str
    accountName: str
    currency: str
    total: str


class AgingTotal(_Shape):
    currency: str
    aging: str
    receivableSubledger: str
    receivableJournal: str
    ties: bool


class AgingReport(_Shape):
    asOf: str
    buckets: list[str]
    accounts: list[AgingAccount]
    totals: list[AgingTotal]


class WriteOffRow(_Shape):
    """A write-off made with a memo (``memoNumber``), or, in a book without Invoice Settlement, with invoice item
    adjustments (``adjustmentNumbers``)."""

    memoNumber: str | None = Field(None, description="The write-off memo; absent for a write-off by adjustments.")
    memoKind: str | None = None
    adjustmentNumbers: list[str] | None = Field(
        None,
        description="The invoice item adjustments that wrote the invoice off, in posting order (a book without "
        "Invoice Settlement); absent for a memo write-off.",
    )
    documentNumber: str
    accountNumber: str
    date: str
    currency: str
    amount: str = Field(
        description="Positive for a credit memo write-off, negative for a debit memo one; for a write-off by "
        "adjustments, its Credits less its Charges."
    )
    revenueImpacting: str
    reasonCode: str | None = None
    comment: str | None = Field(None, description="The memo's comment; a write-off by adjustments: theirs.")
    nonRevenueWriteOffAccountingCode: str | None = None


class WriteOffTotal(_Shape):
    currency: str
    amount: str
    journal: str
    ties: bool


class WriteOffReport(_Shape):
    period: str
    writeOffs: list[WriteOffRow]
    byRevenueImpact: list[dict[str, str]]
    byReasonCode: list[dict[str, str]]
    byAccountingCode: list[dict[str, str]]
    totals: list[WriteOffTotal]


class ReversalRow(_Shape):
    memoNumber: str
    memoKind: str
    documentNumber: str
    documentKind: str
    accountNumber: str
    date: str
    currency: str
    amount: str
    reasonCode: str | None = None
    comment: str | None = None


class ReversalTotal(_Shape):
    documentKind: str
    currency: str
    count: int
    amount: str


class ReversalReport(_Shape):
    period: str
    reversals: list[ReversalRow]
    totals: list[ReversalTotal]
