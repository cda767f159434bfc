"""Reading the books: documents with their current state, journal entries, periods.

Read-only, set-based queries; nothing here writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from subledger.errors import NotFound
from subledger.models.views import JournalEntryView, JournalLineView, PeriodView
from subledger.money import ZERO, fmt
from subledger.posting import DocumentKind
from subledger.state import fetch_document
from subledger.storage import schema

KINDS = {
    "invoice": DocumentKind.INVOICE,
    "debit-memo": DocumentKind.DEBIT_MEMO,
    "credit-memo": DocumentKind.CREDIT_MEMO,
}


def last_operation(
    conn: Connection, *, kind: str, document: str | None = None, idempotency_key: str | None = None
) -> int | None:
    """The id of the operation recorded under ``idempotency_key`` or, without one, of the last operation of ``kind``
    (on ``document``), if any: what a command reports as the operation it ran or replayed."""
    o = schema.operations.c
    query = select(o.id).order_by(o.id.desc()).limit(1)
    if idempotency_key is not None:
        query = query.where(o.idempotency_key == idempotency_key)
    else:
        query = query.where(o.kind == kind)
        if document is not None:
            query = query.where(o.document_number == document)
    found: int | None = conn.execute(query).scalar()
    return found


def show_document(conn: Connection, kind: str, number: str) -> dict[str, Any]:
    """The document in its load-file shape, with its current state added."""
    label = kind.replace("-", " ")
    doc = fetch_document(conn, number, kind=KINDS[kind], label=label)
    out: dict[str, Any] = json.loads(doc.payload)
    cur = doc.currency
    lines = {line.id: line for line in doc.lines()}
    is_memo = doc.kind == DocumentKind.CREDIT_MEMO

    refunded: dict[str, Any] = {}
    if is_memo:
        # Processed refunds paid part of the memo's lines out: applied + unapplied + refunded = amount.
        r, ri = schema.refunds.c, schema.refund_items.c
        refunded = dict(
            conn.execute(
                select(ri.memo_item_id, func.sum(ri.amount))
                .join(schema.refunds, (r.account_number == ri.account_number) & (r.number == ri.refund_number))
                .where(r.account_number == doc.account_number, r.credit_memo_number == number, r.status == "Processed")
                .group_by(ri.memo_item_id)
            ).all()
        )

    def state(target: dict[str, Any], amount: Any, balance: Any, refund: Any) -> None:
        if is_memo:
            target["appliedAmount"] = fmt(amount - balance - refund, cur)
            target["unappliedAmount"] = fmt(balance, cur)
            target["refundAmount"] = fmt(refund, cur)
        else:
            target["balance"] = fmt(balance, cur)

    for item in out.get("items", []):
        line = lines[item["id"]]
        state(item, line.amount, line.balance, refunded.get(line.id, ZERO))
        for tax in item.get("taxationItems", []):
            tline = lines[tax["id"]]
            state(tax, tline.amount, tline.balance, refunded.get(tline.id, ZERO))
    out["amount"] = fmt(doc.amount, cur)
    state(out, doc.amount, doc.balance, sum(refunded.values(), ZERO))
    out["status"] = doc.status
    out["reversed"] = doc.reversed
    out["transferredToAccounting"] = "Yes" if doc.transferred_to_accounting else "No"
    if doc.source is not None:
        out["source"] = doc.source
    if doc.reason_code is not None:
        out["reasonCode"] = doc.reason_code
    if doc.revenue_impacting is not None:
        out["revenueImpacting"] = "Yes" if doc.revenue_impacting else "No"
    if doc.non_revenue_code is not None:
        out["nonRevenueWriteOffAccountingCode"] = doc.non_revenue_code
    if doc.source_document is not None and doc.source in ("WriteOff", "Reversal", "Recovery"):
        out["sourceDocumentNumber"] = doc.source_document
    return out


def journal(conn: Connection, *, document: str | None = None, period: str | None = None) -> Iterator[JournalEntryView]:
    """Journal entries in ledger order (date, account, sequence), with their lines."""
    query = select(schema.journal_entries).order_by(
        schema.journal_entries.c.entry_date, schema.journal_entries.c.account_number, schema.journal_entries.c.seq
    )
    if document is not None:
        query = query.where(
            (schema.journal_entries.c.document_number == document)
            | (schema.journal_entries.c.related_number == document)
        )
    if period is not None:
        if conn.execute(select(schema.periods.c.name).where(schema.periods.c.name == period)).first() is None:
            raise NotFound(f"no accounting period {period}", field="period")
        query = query.where(schema.journal_entries.c.period == period)
    rows = conn.execute(query).all()
    if document is not None and not rows and not _is_document(conn, document):
        # A mistyped number is named, as `show` names it, rather than answered with an empty journal (a Draft
        # document or a period without its entries is a real empty answer).
        raise NotFound(
            f"no document {document} (invoice, debit memo, credit memo, payment, refund or adjustment)",
            document=document,
        )
    yield from _views(conn, rows)


def _is_document(conn: Connection, number: str) -> bool:
    """Whether ``number`` names something that posts journal entries: a document or payment (every one is in
    ``document_numbers``, by trigger), a refund or an invoice item adjustment."""
    for column in (
        schema.document_numbers.c.number,
        schema.refunds.c.number,
        schema.invoice_item_adjustments.c.number,
    ):
        if conn.execute(select(column).where(column == number).limit(1)).first() is not None:
            return True
    return False


def entries(conn: Connection, keys: Sequence[tuple[str, int]]) -> list[JournalEntryView]:
    """The entries ``keys`` name ((account, sequence number), as ``journal.post`` returns them), in that order."""
    e = schema.journal_entries.c
    rows: list[Any] = []
    for account in sorted({account for account, _ in keys}):
        seqs = [seq for a, seq in keys if a == account]
        rows += conn.execute(select(schema.journal_entries).where(e.account_number == account, e.seq.in_(seqs))).all()
    views = {(row.account_number, row.seq): view for row, view in zip(rows, _views(conn, rows), strict=True)}
    return [views[key] for key in keys]


def _views(conn: Connection, entries: Sequence[Any]) -> Iterator[JournalEntryView]:
    numbers = dict(conn.execute(select(schema.accounting_codes.c.name, schema.accounting_codes.c.number)).all())
    for e in entries:
        lines = conn.execute(
            select(schema.journal_lines)
            .where(schema.journal_lines.c.account_number == e.account_number, schema.journal_lines.c.entry_seq == e.seq)
            .order_by(schema.journal_lines.c.line_no)
        ).all()
        yield JournalEntryView(
            id=f"{e.account_number}-{e.seq}",
            account_number=e.account_number,
            date=e.entry_date,
            period=e.period,
            transaction_type=e.transaction_type,
            tag=e.tag,
            description=e.description,
            documents=[n for n in (e.document_number, e.related_number) if n],
            currency=e.currency,
            lines=[
                JournalLineView(
                    line_no=ln.line_no,
                    accounting_code=ln.accounting_code,
                    account_number_gl=numbers[ln.accounting_code],
                    debit=fmt(ln.debit, e.currency),
                    credit=fmt(ln.credit, e.currency),
                    currency=ln.currency,
                    item_id=ln.item_id,
                )
                for ln in lines
            ],
        )


def periods(conn: Connection) -> list[PeriodView]:
    counts: dict[str, int] = dict(
        conn.execute(
            select(schema.journal_entries.c.period, func.count()).group_by(schema.journal_entries.c.period)
        ).all()
    )
    rows = conn.execute(select(schema.periods).order_by(schema.periods.c.start_date)).all()
    return [
        PeriodView(
            name=r.name,
            start_date=r.start_date,
            end_date=r.end_date,
            fiscal_year=r.fiscal_year,
            fiscal_quarter=r.fiscal_quarter,
            status=r.status,
            entries=counts.get(r.name, 0),
            fingerprint=r.fingerprint,
        )
        for r in rows
    ]
