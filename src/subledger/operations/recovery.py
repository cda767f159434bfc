"""Recovering a written-off receivable: the customer pays after all, or the write-off was premature.

A write-off cannot be reversed or unapplied (its memo must stay applied). A recovery instead generates a debit memo
that mirrors the written-off lines of the write-off's credit memo with the same accounting codes: each line credits
what the write-off debited (each item's deferred revenue for a revenue-impacting write-off, the bad-debt or other
expense code for a non-revenue one; the taxation lines' sales tax or write-off code) and debits the receivable code
of the line written off, so the write-off is undone line by line and the receivable is open again, on the recovery
date. The debit memo is left open: a payment (or credit memo) then settles it as any debit memo.

The debit memo (``RC-<write-off memo>-n``) has source ``Recovery`` and the write-off memo as its source document;
its entries are tagged ``recovery``, link the debit memo and the write-off memo, and name the original document.

What can be recovered is what the write-off memo's lines wrote off less what earlier recoveries of the same write-off
recovered (``recovered``), line by line. Refusals, each writing nothing: the number is not a write-off memo of an
invoice (``invoice recover``) or a debit memo (``debit-memo recover``); nothing is left to recover; an amount more
than what is left (of the whole, or of a line named); a line that is not the write-off memo's; the recovery date
before the write-off or in a period not open to the actor; an unknown or inactive debit memo reason code. Needs the
Recover Write-off permission.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Connection, and_, func, select

from subledger import queries
from subledger.context import Context
from subledger.errors import AmountExceedsBalance, NotFound, NothingToWriteOff, RuleViolation
from subledger.journal import Tag, post
from subledger.models.recovery import RecoveryResult, WriteOffRecoveryRequest
from subledger.money import ZERO, fmt, quantize
from subledger.operations.documents import posting_entries
from subledger.operations.mirror import MemoHeader, MirrorLine, generate_memo, next_number
from subledger.operations.settlement import check_exact
from subledger.permissions import Permission
from subledger.posting import DocumentKind
from subledger.state import (
    DocumentState,
    ItemLine,
    TaxLine,
    fetch_document,
    fetch_locked_document,
    insert_documents,
    line_of_kind,
)
from subledger.storage.schema import document_items, documents, taxation_items

PERMISSION: Permission = "Recover Write-off"
ORIGIN = "Recovery"
Line = ItemLine | TaxLine


def recovered(conn: Connection, write_off: DocumentState) -> dict[str, Decimal]:
    """What earlier recoveries of ``write_off`` recovered, by write-off memo line (item or taxation item)."""
    d = documents.c
    out: dict[str, Decimal] = {}
    for table, amount, source in (
        (document_items, document_items.c.amount, document_items.c.source_item_id),
        (taxation_items, taxation_items.c.tax_amount, taxation_items.c.source_tax_item_id),
    ):
        rows = conn.execute(
            select(source, func.sum(amount))
            .join(
                documents,
                and_(d.account_number == table.c.account_number, d.number == table.c.document_number),
            )
            .where(
                d.account_number == write_off.account_number,
                d.source == ORIGIN,
                d.source_document == write_off.number,
            )
            .group_by(source)
        )
        for line_id, total in rows:
            out[line_id] = out.get(line_id, ZERO) + quantize(total or ZERO, write_off.currency)
    return out


def _amounts(
    write_off: DocumentState, left: dict[str, Decimal], request: WriteOffRecoveryRequest
) -> dict[str, Decimal]:
    """The amount to recover of each write-off memo line."""
    number, currency = write_off.number, write_off.currency
    total_left = sum(left.values(), ZERO)
    if all(amount == 0 for amount in left.values()):
        raise NothingToWriteOff(
            f"nothing is left to recover of write-off {number}: it is fully recovered", document=number
        )
    if request.items is not None:
        lines = {line.id: line for line in write_off.lines()}
        wanted: dict[str, Decimal] = {}
        for k, item in enumerate(request.items):
            is_tax = item.credit_tax_item_id is not None
            line = line_of_kind(
                lines.get(item.line_id),
                item.line_id,
                is_tax,
                owner="write-off memo",
                document=number,
                field=f"items[{k}].{'creditTaxItemId' if is_tax else 'creditMemoItemId'}",
            )
            has = left[line.id]
            if item.amount != 0 and ((item.amount > 0) != (has > 0) or abs(item.amount) > abs(has)):
                raise AmountExceedsBalance(
                    f"amount {fmt(item.amount, currency)} exceeds what is left to recover of line {line.id} "
                    f"({fmt(has, currency)})",
                    document=number,
                    field=f"items[{k}].amount",
                )
            wanted[line.id] = item.amount
        return wanted
    if request.amount is None:
        return dict(left)
    if request.amount > total_left:
        raise AmountExceedsBalance(
            f"amount {fmt(request.amount, currency)} exceeds what is left to recover of write-off {number} "
            f"({fmt(total_left, currency)})",
            document=number,
            field="amount",
        )
    # Header level: the write-off memo's positive lines in line order (each item, then its taxation items).
    wanted = {}
    remaining = request.amount
    for line in write_off.lines():
        if remaining == 0:
            break
        if left[line.id] > 0:
            take = min(left[line.id], remaining)
            wanted[line.id] = take
            remaining -= take
    if remaining:
        raise AmountExceedsBalance(
            f"amount {fmt(request.amount, currency)} exceeds what the write-off's positive lines have left to "
            f"recover ({fmt(request.amount - remaining, currency)})",
            document=number,
            field="amount",
        )
    return wanted


def recover_write_off(
    ctx: Context, kind: DocumentKind, number: str, request: WriteOffRecoveryRequest, *, today: dt.date | None = None
) -> RecoveryResult:
    """Recover (part of) what the write-off memo ``number`` of an invoice or debit memo (``kind``) wrote off."""
    ctx.actor.require(PERMISSION, document=number)
    found = fetch_locked_document(ctx, number, kind=DocumentKind.CREDIT_MEMO, label="write-off memo")
    if found.source == "WriteOff" and found.source_document is not None and found.source_type in set(DocumentKind):
        other = DocumentKind(found.source_type)
        if other != kind:  # the write-off of the other kind: it does write something off, just not one of these
            raise NotFound(
                f"{number} wrote off {other.label} {found.source_document}, not {kind.a_label}: recover it as "
                f"{other.a_label}'s write-off",
                document=number,
            )
    if found.source != "WriteOff" or found.source_type != kind or found.source_document is None:
        raise NotFound(
            f"{number} is not the credit memo of a write-off of {kind.label} (nothing is written off by it)",
            document=number,
        )
    write_off, original_number = found, found.source_document
    currency = write_off.currency
    check_exact(
        [("amount", request.amount)] + [(f"items[{k}].amount", i.amount) for k, i in enumerate(request.items or [])],
        currency,
        document=number,
    )
    date = request.memo_date or today or dt.date.today()
    period = ctx.open_period_from(
        date, not_before=write_off.document_date, what="write-off's memo date", document=number, field="memoDate"
    )
    reason = ctx.reason_code(DocumentKind.DEBIT_MEMO, request.reason_code, document=number)
    already = recovered(ctx.conn, write_off)
    left = {line.id: line.amount - already.get(line.id, ZERO) for line in write_off.lines()}
    wanted = _amounts(write_off, left, request)
    lines: list[MirrorLine] = []
    zero = quantize(ZERO, currency)
    for item in write_off.items:
        taxes = [(tax, wanted[tax.id]) for tax in item.taxes if wanted.get(tax.id, ZERO) != 0]
        amount = wanted.get(item.id, zero)
        if amount != 0 or taxes:
            lines.append(MirrorLine(item, amount, taxes))
    if not lines:
        raise RuleViolation("every amount given is zero: nothing to recover", document=number)
    original = fetch_document(ctx.conn, original_number)
    memo_number = next_number(ctx.conn, f"RC-{number}")
    header = MemoHeader(number=memo_number, date=date, reason_code=reason, comment=request.comment, origin=ORIGIN)
    memo = generate_memo(write_off, lines, header, ctx.defaults)
    # The receivable opened again is the one the write-off settled: the code of the line written off.
    ar_of = {line.id: line.ar_code for line in original.lines()}
    written = {line.id: line for line in write_off.lines()}
    for generated in memo.lines():
        source_id = generated.source_tax_item_id if isinstance(generated, TaxLine) else generated.source_item_id
        source = written.get(source_id or "")
        if source is not None:
            mirrored = source.source_tax_item_id if isinstance(source, TaxLine) else source.source_item_id
            generated.ar_code = ar_of.get(mirrored or "", generated.ar_code)
    insert_documents(ctx.conn, [memo], ctx.operation_id)
    entries = posting_entries(
        memo,
        tag=Tag.RECOVERY,
        description=f"Recovery of write-off {number} of {original.kind.label} {original.number}",
    )
    keys = post(ctx.conn, entries, [(period, date)] * len(entries), ctx.operation_id)
    recovered_now = sum(already.values(), ZERO) + memo.amount
    written_off = write_off.amount
    return RecoveryResult(
        write_off=number,
        document=original.number,
        document_kind=original.kind,
        debit_memo=memo_number,
        amount=fmt(memo.amount, currency),
        written_off_amount=fmt(written_off, currency),
        recovered_amount=fmt(recovered_now, currency),
        remaining_amount=fmt(written_off - recovered_now, currency),
        currency=currency,
        memo_date=date,
        period=period,
        journal_entries=queries.entries(ctx.conn, keys),
    )
