"""Credit memo refunds and their cancellation.

A refund pays part of a posted credit memo's unapplied amount back to the customer (Part 2 §10: only the unapplied
part; unapply first if needed). Each refunded credit memo line (item or taxation item) gives up that much of its
unapplied amount, and the refund posts, on the refund date, ``External Refund`` or ``Electronic Refund``: Dr the
line's On-Account code, Cr Cash (``posting.RULES``), one line pair per credit memo line, tagged ``refund``, with
the credit memo as the entry's document and the refund as its related one (so the ledger links both).

Cancelling a refund gives the amounts back to the credit memo lines and posts the refund's mirror (Dr Cash, Cr
On-Account) as a new entry on its own cancel date; the posted refund entry is never changed. The refund's row
keeps its amounts and becomes Canceled.

A credit memo with a processed refund is not fully unapplied, so it cannot be reversed (seed 004's rule, enforced
by ``reversal`` through the lines' unapplied amounts); once the refund is cancelled it can.

Refusals, each writing nothing: the credit memo is missing, not posted or reversed; the amount is more than the
unapplied amount (of the memo, or of a line named); a line named is not the memo's (or not of the kind named);
amounts have more decimals than the currency; the refund date is before the credit memo date or in a period not
open to the actor; the refund to cancel is missing or already cancelled, or the cancel date is before the refund
date or in a closed period. Both need the Refund Credit Memo permission.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from subledger import queries
from subledger.context import Context
from subledger.errors import (
    AlreadyReversed,
    AmountExceedsBalance,
    DocumentNotPosted,
    NotFound,
    RuleViolation,
)
from subledger.journal import Entry, EntryBuilder, Tag, post
from subledger.models.base import counted, fitted
from subledger.models.refund import (
    CreditMemoRefundRequest,
    RefundCancelRequest,
    RefundItemView,
    RefundResult,
)
from subledger.money import ZERO, fmt, quantize
from subledger.operations.settlement import check_exact
from subledger.permissions import Permission
from subledger.posting import DocumentKind, PaymentType, Posts, Role, payment_type, resolve_codes, transaction_type
from subledger.state import (
    DocumentState,
    ItemLine,
    TaxLine,
    fetch_document,
    fetch_locked_document,
    line_of_kind,
    update_balances,
)
from subledger.storage.schema import applications, refund_items, refunds

PERMISSION: Permission = "Refund Credit Memo"
Line = ItemLine | TaxLine


def refunded_amount(conn: Connection, memo: DocumentState) -> Decimal:
    """What processed refunds of ``memo`` paid out."""
    total = conn.execute(
        select(func.sum(refunds.c.amount)).where(
            refunds.c.account_number == memo.account_number,
            refunds.c.credit_memo_number == memo.number,
            refunds.c.status == "Processed",
        )
    ).scalar()
    return quantize(total or ZERO, memo.currency)


def _parts(memo: DocumentState, request: CreditMemoRefundRequest) -> list[tuple[Line, Decimal]]:
    number = memo.number
    if request.total_amount > memo.balance:
        raise AmountExceedsBalance(
            f"totalAmount {fmt(request.total_amount, memo.currency)} exceeds the credit memo's unapplied amount "
            f"{fmt(memo.balance, memo.currency)}",
            document=number,
            field="totalAmount",
        )
    if not request.items:
        parts: list[tuple[Line, Decimal]] = []
        remaining = request.total_amount
        for line in memo.lines():
            if remaining == 0:
                break
            if line.balance > 0:
                take = min(line.balance, remaining)
                parts.append((line, take))
                remaining -= take
        if remaining:  # negative lines hold back part of the total: the positive lines have less to give
            raise AmountExceedsBalance(
                f"totalAmount {fmt(request.total_amount, memo.currency)} exceeds what the credit memo's lines have "
                f"unapplied ({fmt(request.total_amount - remaining, memo.currency)})",
                document=number,
                field="totalAmount",
            )
        return parts
    lines = {line.id: line for line in memo.lines()}
    parts = []
    for k, item in enumerate(request.items):
        is_tax = item.credit_tax_item_id is not None
        where = f"items[{k}].{'creditTaxItemId' if is_tax else 'creditMemoItemId'}"
        found = line_of_kind(
            lines.get(item.line_id), item.line_id, is_tax, owner="credit memo", document=number, field=where
        )
        if item.amount > found.balance:
            raise AmountExceedsBalance(
                f"amount {fmt(item.amount, memo.currency)} exceeds the unapplied amount "
                f"{fmt(found.balance, memo.currency)} of line {found.id}",
                document=number,
                field=f"items[{k}].amount",
            )
        parts.append((found, item.amount))
    return parts


def _last_movement(conn: Connection, memo: DocumentState) -> tuple[dt.date, str]:
    """The date a refund may not be before, and what it is: the memo's date, its last application or
    unapplication (the reference product's rule), or the cancel of an earlier refund, whichever is latest.

    The refund is checked against the memo's unapplied amount now, but posts on its own date: dated before an
    unapplication or a cancel that gave the amount back, it would pay out what the memo did not hold on that date
    (its unapplied amount, and the on-account code, the wrong side of zero until then)."""
    applied = conn.execute(
        select(func.max(applications.c.effective_date)).where(
            applications.c.account_number == memo.account_number,
            applications.c.source_kind == "CreditMemo",
            applications.c.source_number == memo.number,
        )
    ).scalar_one()
    cancelled = conn.execute(
        select(func.max(refunds.c.cancel_date)).where(
            refunds.c.account_number == memo.account_number, refunds.c.credit_memo_number == memo.number
        )
    ).scalar_one()
    dates = [(memo.document_date, "credit memo date")]
    dates += [(applied, "credit memo's last application or unapplication on")] if applied else []
    dates += [(cancelled, "cancel of a refund of the credit memo on")] if cancelled else []
    return max(dates, key=lambda dated: dated[0])


def _next_number(ctx: Context, memo: DocumentState) -> str:
    count = ctx.conn.execute(
        select(func.count()).where(
            refunds.c.account_number == memo.account_number, refunds.c.credit_memo_number == memo.number
        )
    ).scalar_one()
    return counted(f"RF-{memo.number}", count + 1)


def _entries(
    memo: DocumentState,
    refund_number: str,
    refund_type: PaymentType,
    cash_code: str,
    parts: Sequence[tuple[Line, Decimal]],
    date: dt.date,
    *,
    cancel: bool,
) -> list[Entry]:
    description = (
        f"Refund {refund_number} of credit memo {memo.number} cancelled"
        if cancel
        else f"Refund {refund_number} of credit memo {memo.number} ({refund_type})"
    )
    builder = EntryBuilder.of(memo, date, refund_number, tag=Tag.REFUND, description=description)
    posts = transaction_type(Posts.REFUND, refund_type)
    for line, amount in parts:
        assert line.on_account_code is not None, "credit memo lines carry their on-account code"
        codes = {Role.ON_ACCOUNT: line.on_account_code, Role.CASH: cash_code}
        builder.add(posts, -amount if cancel else amount, codes, line.id)
    return builder.entries()


def _result(
    conn: Connection, memo: DocumentState, row: Row[Any], parts: Sequence[tuple[Line, Decimal]], entries: list[Any]
) -> RefundResult:
    currency = memo.currency
    return RefundResult(
        number=row.number,
        credit_memo_number=memo.number,
        type=row.type,
        status=row.status,
        amount=fmt(row.amount, currency),
        currency=currency,
        refund_date=row.refund_date,
        cancel_date=row.cancel_date,
        unapplied_amount=fmt(memo.balance, currency),
        refund_amount=fmt(refunded_amount(conn, memo), currency),
        items=[
            RefundItemView(
                credit_tax_item_id=line.id if isinstance(line, TaxLine) else None,
                credit_memo_item_id=None if isinstance(line, TaxLine) else line.id,
                amount=fmt(amount, currency),
            )
            for line, amount in parts
        ],
        journal_entries=entries,
    )


def _refunded_parts(conn: Connection, memo: DocumentState, number: str) -> list[tuple[Line, Decimal]]:
    """The credit memo lines refund ``number`` paid out, and how much of each, in the refund's order."""
    lines = {line.id: line for line in memo.lines()}
    items = conn.execute(
        select(refund_items.c.memo_item_id, refund_items.c.amount)
        .where(refund_items.c.account_number == memo.account_number, refund_items.c.refund_number == number)
        .order_by(refund_items.c.id)
    ).all()
    return [(lines[item_id], quantize(amount, memo.currency)) for item_id, amount in items]


def _refund_row(ctx: Context, account: str, number: str) -> Row[Any]:
    query = select(refunds).where(refunds.c.account_number == account, refunds.c.number == number)
    if ctx.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return ctx.conn.execute(query).one()


def refund_credit_memo(ctx: Context, number: str, request: CreditMemoRefundRequest) -> RefundResult:
    """Refund part of a posted credit memo's unapplied amount to the customer."""
    ctx.actor.require(PERMISSION, document=number)
    memo = fetch_locked_document(ctx, number, kind=DocumentKind.CREDIT_MEMO, label="credit memo")
    if memo.status != "Posted":
        raise DocumentNotPosted(
            f"credit memo is {memo.status}; only a posted credit memo can be refunded", document=number, field="status"
        )
    if memo.reversed:
        raise AlreadyReversed(
            "credit memo is reversed; it can no longer be refunded", document=number, field="reversed"
        )
    amounts = [("totalAmount", request.total_amount)]
    amounts += [(f"items[{k}].amount", item.amount) for k, item in enumerate(request.items)]
    check_exact(amounts, memo.currency, document=number)
    date = request.refund_date or dt.date.today()
    not_before, what = _last_movement(ctx.conn, memo)
    period = ctx.open_period_from(date, not_before=not_before, what=what, document=number, field="refundDate")
    parts = _parts(memo, request)
    posts = transaction_type(Posts.REFUND, request.type)
    cash_code = resolve_codes(posts, ctx.defaults)[Role.CASH]
    refund_number = _next_number(ctx, memo)
    for line, amount in parts:
        line.balance -= amount
    update_balances(ctx.conn, memo.account_number, [line for line, _ in parts])
    ctx.conn.execute(
        insert(refunds).values(
            account_number=memo.account_number,
            number=refund_number,
            credit_memo_number=number,
            type=request.type,
            status="Processed",
            refund_date=date,
            currency=memo.currency,
            amount=request.total_amount,
            method=request.method_type,
            reference_id=request.reference_id,
            reason_code=request.reason_code,
            comment=request.comment,
            cash_code=cash_code,
            operation_id=ctx.operation_id,
        )
    )
    ctx.conn.execute(
        insert(refund_items),
        [
            {
                "account_number": memo.account_number,
                "id": fitted(f"{refund_number}-{k}"),
                "refund_number": refund_number,
                "memo_item_id": line.id,
                "is_tax": isinstance(line, TaxLine),
                "amount": amount,
            }
            for k, (line, amount) in enumerate(parts, start=1)
        ],
    )
    entries = _entries(memo, refund_number, request.type, cash_code, parts, date, cancel=False)
    keys = post(ctx.conn, entries, [(period, date)] * len(entries), ctx.operation_id)
    row = _refund_row(ctx, memo.account_number, refund_number)
    return _result(ctx.conn, memo, row, parts, queries.entries(ctx.conn, keys))


def cancel_refund(ctx: Context, number: str, request: RefundCancelRequest) -> RefundResult:
    """Cancel a processed refund: its amounts return to the credit memo's lines, its mirror posts on the cancel date."""
    ctx.actor.require(PERMISSION, document=number)
    found = ctx.conn.execute(
        select(refunds.c.account_number, refunds.c.credit_memo_number).where(refunds.c.number == number)
    ).first()
    if found is None:
        raise NotFound(f"no refund {number}", document=number)
    memo = fetch_locked_document(ctx, found.credit_memo_number, kind=DocumentKind.CREDIT_MEMO, label="credit memo")
    row = _refund_row(ctx, found.account_number, number)
    if row.status != "Processed":
        raise RuleViolation(f"refund is {row.status}; only a processed refund can be cancelled", document=number)
    date = request.cancel_date or dt.date.today()
    period = ctx.open_period_from(
        date, not_before=row.refund_date, what="refund date", document=number, field="cancelDate"
    )
    parts = _refunded_parts(ctx.conn, memo, number)
    for line, amount in parts:
        line.balance += amount
    update_balances(ctx.conn, memo.account_number, [line for line, _ in parts])
    ctx.conn.execute(
        update(refunds)
        .where(refunds.c.account_number == row.account_number, refunds.c.number == number)
        .values(status="Canceled", cancel_date=date, cancel_operation_id=ctx.operation_id)
    )
    entries = _entries(memo, number, payment_type(row.type), row.cash_code, parts, date, cancel=True)
    keys = post(ctx.conn, entries, [(period, date)] * len(entries), ctx.operation_id)
    row = _refund_row(ctx, row.account_number, number)
    return _result(ctx.conn, memo, row, parts, queries.entries(ctx.conn, keys))


def view(conn: Connection, number: str) -> RefundResult:
    """A refund as it stands: its credit memo's amounts now, and its journal entries (the refund's, and its
    mirror's once cancelled)."""
    row = conn.execute(select(refunds).where(refunds.c.number == number)).first()
    if row is None:
        raise NotFound(f"no refund {number}", document=number)
    memo = fetch_document(conn, row.credit_memo_number, kind=DocumentKind.CREDIT_MEMO, label="credit memo")
    parts = _refunded_parts(conn, memo, number)
    return _result(conn, memo, row, parts, list(queries.journal(conn, document=number)))
