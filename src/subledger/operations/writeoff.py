"""Write-offs: every rule of writing off an invoice, a debit memo or a credit memo, one document or thousands.

Writing off an invoice or a debit memo generates a credit memo (``WO-<document>-<n>``, source ``WriteOff``) that
mirrors the lines written off (``mirror.mirrored_lines``: the whole open balance at header level, the amounts
given at line level), posts it and applies it back line by line, all on the memo date: the memo's unapplied amount
ends at zero and each written-off line's balance falls by exactly its amount. Writing off a credit memo generates
a debit memo mirroring it and applies the credit memo to it.

The rules, each of which refuses the whole write-off and writes nothing:
- the document exists, is posted and not reversed; a credit memo is fully unapplied and did not come from a
  non-revenue write-off;
- the memo date is not before the document's date and falls in an open period (the document's own period may be
  closed);
- line-level amounts, a header ``amount``, ``revenueImpacting`` No, a non-revenue code, and any debit memo
  write-off need the Enhanced Write-off permission;
- the reason code exists and is active (credit memo reason codes; debit memo ones for a credit memo write-off);
- a non-revenue write-off names a code of type BadDebt or OtherExpenses, and only a non-revenue one names a code;
- each listed item and taxation item belongs to the document (a taxation item to the item it is listed under),
  appears once, and its amount has the sign of the line's open balance and does not exceed it;
- a header ``amount`` equals the sum of the items (line level) or the open balance (header level);
- there is something left to write off, and the mirroring rule allows the memo (``mirrored_lines``).

One write-off is one operation (``write_off``). A bulk write-off (``write_off_bulk``) plans a batch of documents in
Python, each with its own operation record, writes the planned ones together with bulk inserts, and reports each
refusal on its own; should the database refuse a batch, the batch is run again one document per transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.exc import DBAPIError

from subledger import queries
from subledger.audit import record_refusal
from subledger.context import Context
from subledger.errors import (
    AlreadyReversed,
    DocumentNotPosted,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuleViolation,
    SubledgerError,
)
from subledger.journal import Entry, chain_rows, read_heads, write_chained
from subledger.models.writeoff import (
    BulkFailure,
    BulkFilter,
    BulkWriteOff,
    BulkWriteOffResult,
    BulkWrittenOff,
    CreditMemoWriteOffRequest,
    MemoReference,
    WriteOffRequest,
    WriteOffResult,
)
from subledger.money import fmt, is_exact_for
from subledger.operations.adjustments import require_invoice_settlement
from subledger.operations.base import _hold_periods, canonical_json, derived_key, run_operation
from subledger.operations.documents import posting_entries
from subledger.operations.mirror import (
    GeneratedMemo,
    MemoHeader,
    apply_generated,
    generate_memo,
    mirrored_lines,
    next_numbers,
)
from subledger.operations.settlement import Applications, Line, check_toward_zero
from subledger.operations.state import DocumentState, document_rows, fetch_documents, write_balances
from subledger.permissions import Actor
from subledger.posting import DocumentKind
from subledger.storage.bulk import gc_paused, insert_rows
from subledger.storage.db import ANALYZE_FROM, refresh_statistics, write_transaction
from subledger.storage.schema import (
    BULK_TABLES,
    applications,
    document_items,
    documents,
    operations,
    taxation_items,
)

#: Accounting code types a non-revenue write-off may debit.
NON_REVENUE_TYPES = ("BadDebt", "OtherExpenses")
OPERATION_KIND = {
    DocumentKind.INVOICE: "write-off-invoice",
    DocumentKind.DEBIT_MEMO: "write-off-debit-memo",
    DocumentKind.CREDIT_MEMO: "write-off-credit-memo",
}
#: Documents planned and written per transaction by a bulk write-off.
BATCH = 1000


@dataclass
class WriteOffPlan:
    """A write-off worked out in memory: the memo, its journal entries and applications, the lines it moved."""

    document: DocumentState
    memo: GeneratedMemo
    date: dt.date
    period: str
    entries: list[Entry]
    applications: Applications
    touched: list[Line]
    operation_id: int

    def result(self, journal: Sequence[Any] = ()) -> WriteOffResult:
        reference = MemoReference(id=self.memo.content_hash, number=self.memo.number)
        return WriteOffResult(
            document=self.document.number,
            document_kind=self.document.kind,
            credit_memo=reference if self.memo.kind == DocumentKind.CREDIT_MEMO else None,
            debit_memo=reference if self.memo.kind == DocumentKind.DEBIT_MEMO else None,
            amount=fmt(self.memo.amount, self.memo.currency),
            currency=self.memo.currency,
            memo_date=self.date,
            period=self.period,
            operation_id=self.operation_id,
            journal_entries=list(journal),
        )


# --- rules ------------------------------------------------------------------------------------------------------


def check_permission(
    actor: Actor, kind: DocumentKind, request: WriteOffRequest | CreditMemoWriteOffRequest, number: str
) -> None:
    """Enhanced Write-off: any debit memo write-off, line-level amounts, a header amount, a non-revenue choice."""
    if actor.has("Enhanced Write-off"):
        return
    field: str | None = None
    if kind == DocumentKind.DEBIT_MEMO:
        what = "writing off a debit memo"
    elif isinstance(request, WriteOffRequest) and request.enhanced:
        if request.items is not None:
            what, field = "a line-level write-off", "items"
        elif request.amount is not None:
            what, field = "a write-off amount", "amount"
        elif request.revenue_impacting == "No":
            what, field = "a non-revenue write-off", "revenueImpacting"
        else:
            what, field = "a non-revenue write-off code", "nonRevenueWriteOffAccountingCode"
    else:
        return
    raise PermissionDenied(
        f"{what} needs the Enhanced Write-off permission, which actor {actor.name!r} lacks",
        document=number,
        field=field,
    )


def check_writable(doc: DocumentState) -> None:
    label = doc.kind.label
    if doc.status != "Posted":
        raise DocumentNotPosted(
            f"{label} {doc.number} is {doc.status}: only a posted {label} can be written off", document=doc.number
        )
    if doc.reversed:
        raise AlreadyReversed(f"{label} {doc.number} was reversed: it cannot be written off", document=doc.number)


def memo_date(ctx: Context, doc: DocumentState, requested: dt.date | None, today: dt.date) -> tuple[dt.date, str]:
    """The memo date (default today) and its open period; not before the document's own date."""
    date = requested or today
    if date < doc.document_date:
        raise RuleViolation(
            f"memo date {date} is before the {doc.kind.label} date {doc.document_date}",
            document=doc.number,
            field="memoDate",
        )
    return date, ctx.open_period(date, document=doc.number, field="memoDate")


def non_revenue_code(ctx: Context, request: WriteOffRequest, number: str) -> str | None:
    field = "nonRevenueWriteOffAccountingCode"
    name = request.non_revenue_write_off_accounting_code
    if request.revenue_impacting == "Yes":
        if name is not None:
            raise RuleViolation(
                "a non-revenue write-off code is used only with revenueImpacting No", document=number, field=field
            )
        return None
    if name is None:
        raise RuleViolation(
            "revenueImpacting No needs nonRevenueWriteOffAccountingCode (a BadDebt or OtherExpenses code)",
            document=number,
            field=field,
        )
    return ctx.code(name, document=number, field=field, types=NON_REVENUE_TYPES).name


def _checked_amount(doc: DocumentState, line: Line, amount: Decimal, field: str) -> Decimal:
    if not is_exact_for(amount, doc.currency):
        raise InvalidInput(f"{amount} has more decimals than {doc.currency} allows", document=doc.number, field=field)
    check_toward_zero(line, amount, document=doc.number, field=field)
    return amount


def _owner_of(conn: Connection, line_id: str, *, tax: bool) -> str | None:
    """The document (and item) a line id belongs to elsewhere in the books, to say so in the error."""
    if tax:
        row = conn.execute(
            select(taxation_items.c.document_number, taxation_items.c.item_id).where(taxation_items.c.id == line_id)
        ).first()
        return None if row is None else f"{row.document_number} (item {row.item_id})"
    found = conn.execute(select(document_items.c.document_number).where(document_items.c.id == line_id)).first()
    return None if found is None else str(found.document_number)


def line_amounts(conn: Connection, doc: DocumentState, request: WriteOffRequest) -> dict[str, Decimal] | None:
    """The amount written off per line id (line level), checked; None at header level."""
    if request.items is None:
        return None
    label = doc.kind.label
    key = "invoiceItemId" if doc.kind == DocumentKind.INVOICE else "debitMemoItemId"
    items = {item.id: item for item in doc.items}
    amounts: dict[str, Decimal] = {}
    for i, listed in enumerate(request.items):
        field = f"items[{i}]"
        given = listed.invoice_item_id if doc.kind == DocumentKind.INVOICE else listed.debit_memo_item_id
        if given is None:
            raise InvalidInput(f"a {label} write-off names its items by {key}", document=doc.number, field=field)
        item = items.get(given)
        if item is None:
            owner = _owner_of(conn, given, tax=False)
            where = f"it belongs to {owner}" if owner else "no such item"
            raise NotFound(
                f"item {given} is not an item of {label} {doc.number}: {where}",
                document=doc.number,
                field=f"{field}.{key}",
            )
        if item.id in amounts:
            raise RuleViolation(f"item {item.id} is listed twice", document=doc.number, field=f"{field}.{key}")
        amounts[item.id] = _checked_amount(doc, item, listed.amount_without_tax, f"{field}.amountWithoutTax")
        taxes = {tax.id: tax for tax in item.taxes}
        for j, listed_tax in enumerate(listed.taxation_items):
            tax_field = f"{field}.taxationItems[{j}]"
            tax = taxes.get(listed_tax.taxation_item_id)
            if tax is None:
                owner = _owner_of(conn, listed_tax.taxation_item_id, tax=True)
                where = f"it belongs to {owner}" if owner else "no such taxation item"
                raise NotFound(
                    f"taxation item {listed_tax.taxation_item_id} is not a taxation item of item {item.id} of "
                    f"{label} {doc.number}: {where}",
                    document=doc.number,
                    field=f"{tax_field}.taxationItemId",
                )
            if tax.id in amounts:
                raise RuleViolation(
                    f"taxation item {tax.id} is listed twice", document=doc.number, field=f"{tax_field}.taxationItemId"
                )
            amounts[tax.id] = _checked_amount(doc, tax, listed_tax.amount, f"{tax_field}.amount")
    return amounts


def _check_header_amount(doc: DocumentState, request: WriteOffRequest, memo: GeneratedMemo) -> None:
    if request.amount is None or request.amount == memo.amount:
        return
    what = "the sum of the items written off" if request.items is not None else "the open balance written off"
    raise RuleViolation(
        f"amount {request.amount} is not {what}, {fmt(memo.amount, doc.currency)}", document=doc.number, field="amount"
    )


# --- planning -----------------------------------------------------------------------------------------------------


def _settle(
    ctx: Context, doc: DocumentState, memo: GeneratedMemo, date: dt.date, period: str, description: str
) -> WriteOffPlan:
    """Post the memo and apply it back, in memory."""
    apps = Applications(ctx.operation_id)
    entries = posting_entries(memo, tag="write-off", description=description)
    entries.extend(apply_generated(apps, doc, memo, date, tag="write-off"))
    moved = {row["target_item_id"] for row in apps.rows} | {row["source_item_id"] for row in apps.rows}
    touched = [line for line in doc.lines() if line.id in moved]
    return WriteOffPlan(doc, memo, date, period, entries, apps, touched, ctx.operation_id)


def plan_write_off(
    ctx: Context, doc: DocumentState, request: WriteOffRequest, memo_number: str, *, today: dt.date
) -> WriteOffPlan:
    """Write off an invoice or a debit memo: a credit memo mirroring what is written off, applied back to it."""
    check_writable(doc)
    date, period = memo_date(ctx, doc, request.memo_date, today)
    reason = ctx.reason_code(DocumentKind.CREDIT_MEMO, request.reason_code, document=doc.number)
    code = non_revenue_code(ctx, request, doc.number)
    lines = mirrored_lines(doc, ctx.settings.mirroring_rule, line_amounts(ctx.conn, doc, request))
    header = MemoHeader(
        number=memo_number,
        date=date,
        reason_code=reason,
        comment=request.comment,
        origin="WriteOff",
        revenue_impacting=code is None,
        non_revenue_code=code,
        tax_to_non_revenue_code=ctx.settings.non_revenue_tax_to_write_off_code,
    )
    memo = generate_memo(doc, lines, header, ctx.defaults)
    _check_header_amount(doc, request, memo)
    impact = "revenue-impacting" if code is None else f"non-revenue ({code})"
    return _settle(ctx, doc, memo, date, period, f"Write-off of {doc.kind.label} {doc.number}, {impact}")


def plan_credit_memo_write_off(
    ctx: Context, doc: DocumentState, request: CreditMemoWriteOffRequest, memo_number: str, *, today: dt.date
) -> WriteOffPlan:
    """Write off a credit memo: a debit memo mirroring it, and the credit memo applied to that debit memo."""
    check_writable(doc)
    if doc.source == "WriteOff" and doc.revenue_impacting is False:
        raise RuleViolation(
            f"credit memo {doc.number} comes from a non-revenue write-off: it cannot be written off",
            document=doc.number,
        )
    applied = doc.amount - doc.balance
    if any(line.balance != line.amount for line in doc.lines()):
        raise RuleViolation(
            f"credit memo {doc.number} has {fmt(applied, doc.currency)} applied: only a fully unapplied credit memo "
            "can be written off",
            document=doc.number,
        )
    date, period = memo_date(ctx, doc, request.memo_date, today)
    reason = ctx.reason_code(DocumentKind.DEBIT_MEMO, request.reason_code, document=doc.number)
    header = MemoHeader(number=memo_number, date=date, reason_code=reason, comment=request.comment, origin="WriteOff")
    memo = generate_memo(doc, mirrored_lines(doc, "Yes"), header, ctx.defaults)
    return _settle(ctx, doc, memo, date, period, f"Write-off of credit memo {doc.number}")


def plan(
    ctx: Context,
    doc: DocumentState,
    request: WriteOffRequest | CreditMemoWriteOffRequest,
    memo_number: str,
    *,
    today: dt.date,
) -> WriteOffPlan:
    # A book without Invoice Settlement has no memos: its write-offs are invoice item adjustments.
    require_invoice_settlement(ctx, f"writing off {doc.kind.label} {doc.number}", document=doc.number)
    if doc.kind == DocumentKind.CREDIT_MEMO:
        assert isinstance(request, CreditMemoWriteOffRequest)
        return plan_credit_memo_write_off(ctx, doc, request, memo_number, today=today)
    assert isinstance(request, WriteOffRequest)
    return plan_write_off(ctx, doc, request, memo_number, today=today)


# --- writing ------------------------------------------------------------------------------------------------------


def write_plans(ctx: Context, plans: Sequence[WriteOffPlan]) -> None:
    """Write planned write-offs with one bulk insert per table, each row under its own document's operation."""
    if not plans:
        return
    conn = ctx.conn
    doc_rows: list[dict[str, object]] = []
    item_rows: list[dict[str, object]] = []
    tax_rows: list[dict[str, object]] = []
    for p in plans:
        d, i, t = document_rows([p.memo], p.operation_id)
        doc_rows += d
        item_rows += i
        tax_rows += t
    insert_rows(conn, documents, doc_rows)
    insert_rows(conn, document_items, item_rows)
    insert_rows(conn, taxation_items, tax_rows)
    write_balances(conn, ((p.document.account_number, line) for p in plans for line in p.touched))
    insert_rows(conn, applications, [row for p in plans for row in p.applications.rows])
    _post(conn, plans)


def _post(conn: Connection, plans: Sequence[WriteOffPlan]) -> None:
    """Journal entries of many operations: chained per account from the heads read once, inserted together."""
    heads = read_heads(conn, {p.document.account_number for p in plans})
    entry_rows: list[dict[str, object]] = []
    line_rows: list[dict[str, object]] = []
    for p in plans:
        e, ln, _ = chain_rows(p.entries, [(p.period, p.date)] * len(p.entries), heads, p.operation_id)
        entry_rows += e
        line_rows += ln
    write_chained(conn, entry_rows, line_rows, heads)


# --- one document -------------------------------------------------------------------------------------------------


def _locate(conn: Connection, numbers: Sequence[str]) -> dict[str, tuple[str, DocumentKind]]:
    """Document number -> (account, kind), without locks (to know which accounts to lock first)."""
    found: dict[str, tuple[str, DocumentKind]] = {}
    for i in range(0, len(numbers), BATCH):
        rows = conn.execute(
            select(documents.c.number, documents.c.account_number, documents.c.kind).where(
                documents.c.number.in_(numbers[i : i + BATCH])
            )
        )
        found.update((r.number, (r.account_number, DocumentKind(r.kind))) for r in rows)
    return found


def _not_found(number: str, kind: DocumentKind) -> NotFound:
    return NotFound(f"no {kind.label} {number}", document=number)


def write_off(
    ctx: Context,
    kind: DocumentKind,
    number: str,
    request: WriteOffRequest | CreditMemoWriteOffRequest,
    *,
    today: dt.date,
) -> WriteOffResult:
    """One write-off, the body of its operation: lock the account, plan, write, and report the entries posted."""
    check_permission(ctx.actor, kind, request, number)
    where = _locate(ctx.conn, [number]).get(number)
    if where is None or where[1] != kind:
        raise _not_found(number, kind)
    ctx.lock_accounts([where[0]])
    doc = fetch_documents(ctx.conn, [number], kind=kind, lock=True)[number]
    memo_number = next_numbers(ctx.conn, [f"WO-{number}"])[f"WO-{number}"]
    p = plan(ctx, doc, request, memo_number, today=today)
    write_plans(ctx, [p])
    return p.result(list(queries.journal(ctx.conn, document=p.memo.number)))


def operation_request(
    kind: DocumentKind, number: str, request: WriteOffRequest | CreditMemoWriteOffRequest
) -> dict[str, Any]:
    """What the operation record keeps as the request: the document's number and the body."""
    key = {
        DocumentKind.INVOICE: "invoiceNumber",
        DocumentKind.DEBIT_MEMO: "debitMemoNumber",
        DocumentKind.CREDIT_MEMO: "creditMemoNumber",
    }[kind]
    return {key: number, **request.wire()}


def run_write_off(
    engine: Engine,
    actor: Actor,
    kind: DocumentKind,
    number: str,
    request: WriteOffRequest | CreditMemoWriteOffRequest,
    *,
    idempotency_key: str | None = None,
    today: dt.date | None = None,
) -> WriteOffResult:
    day = today or dt.date.today()
    return run_operation(
        engine,
        kind=OPERATION_KIND[kind],
        actor=actor,
        request=operation_request(kind, number, request),
        result_type=WriteOffResult,
        body=lambda ctx: write_off(ctx, kind, number, request, today=day),
        document_number=number,
        idempotency_key=idempotency_key,
    )


# --- bulk ---------------------------------------------------------------------------------------------------------


def select_documents(conn: Connection, selection: BulkFilter) -> list[str]:
    """Open documents (posted, not reversed, some line with an open balance) matching the filter, oldest first."""
    open_item = exists().where(
        document_items.c.account_number == documents.c.account_number,
        document_items.c.document_number == documents.c.number,
        document_items.c.balance != 0,
    )
    open_tax = exists().where(
        taxation_items.c.account_number == documents.c.account_number,
        taxation_items.c.document_number == documents.c.number,
        taxation_items.c.balance != 0,
    )
    conditions = [
        documents.c.kind == selection.kind,
        documents.c.status == "Posted",
        documents.c.reversed.is_(False),
        or_(open_item, open_tax),
    ]
    if selection.account_number is not None:
        conditions.append(documents.c.account_number == selection.account_number)
    if selection.older_than is not None:
        conditions.append(documents.c.document_date < selection.older_than)
    query = select(documents.c.number).where(and_(*conditions)).order_by(documents.c.document_date, documents.c.number)
    return list(conn.execute(query).scalars())


@dataclass
class _Outcome:
    number: str
    result: WriteOffResult | None = None
    error: SubledgerError | None = None


def _failure(number: str, error: BaseException) -> BulkFailure:
    if isinstance(error, SubledgerError):
        return BulkFailure(document=number, error=error.code, rule=error.rule, field=error.field)
    return BulkFailure(document=number, error=type(error).__name__, rule=str(error).splitlines()[0])


def _write_batch(
    engine: Engine,
    actor: Actor,
    numbers: Sequence[str],
    request: WriteOffRequest,
    keys: Mapping[str, str | None],
    today: dt.date,
) -> list[_Outcome]:
    """Plan every document of the batch, then write the planned ones together, in one transaction."""
    outcomes: list[_Outcome] = []
    with write_transaction(engine) as conn:
        _hold_periods(conn)
        where = _locate(conn, numbers)
        now = dt.datetime.now(dt.UTC)
        op_rows = []
        for n in numbers:
            kind = where[n][1] if n in where and where[n][1] != DocumentKind.CREDIT_MEMO else DocumentKind.INVOICE
            request_json = canonical_json(operation_request(kind, n, request))
            op_rows.append(
                {
                    "kind": OPERATION_KIND[kind],
                    "actor": actor.name,
                    "account_number": where[n][0] if n in where else None,
                    "document_number": n,
                    "idempotency_key": keys.get(n),
                    "request_hash": hashlib.sha256(request_json.encode()).hexdigest(),
                    "request": request_json,
                    "status": "accepted",
                    "at": now,
                }
            )
        op_ids = list(
            conn.execute(insert(operations).returning(operations.c.id, sort_by_parameter_order=True), op_rows).scalars()
        )
        ctx = Context(conn, actor, op_ids[0])
        ctx.lock_accounts({account for account, _ in where.values()})
        docs = fetch_documents(conn, [n for n in numbers if n in where], lock=True)
        memo_numbers = next_numbers(conn, [f"WO-{n}" for n in docs])
        plans: list[WriteOffPlan] = []
        refused: list[int] = []
        for n, op_id in zip(numbers, op_ids, strict=True):
            ctx.operation_id = op_id
            try:
                doc = docs.get(n)
                if doc is None or doc.kind not in (DocumentKind.INVOICE, DocumentKind.DEBIT_MEMO):
                    raise NotFound(f"no invoice or debit memo {n}", document=n)
                check_permission(actor, doc.kind, request, n)
                p = plan_write_off(ctx, doc, request, memo_numbers[f"WO-{n}"], today=today)
            except SubledgerError as exc:
                refused.append(op_id)
                outcomes.append(_Outcome(n, error=exc))
                continue
            plans.append(p)
            outcomes.append(_Outcome(n, result=p.result()))
        write_plans(ctx, plans)
        done = [
            {"i": o.result.operation_id, "r": o.result.model_dump_json(by_alias=True)}
            for o in outcomes
            if o.result is not None
        ]
        if done:
            conn.execute(
                update(operations).where(operations.c.id == bindparam("i")).values(result=bindparam("r")), done
            )
        if refused:
            conn.execute(delete(operations).where(operations.c.id.in_(refused)))
    return outcomes


def _write_one_by_one(
    engine: Engine,
    actor: Actor,
    numbers: Sequence[str],
    request: WriteOffRequest,
    keys: Mapping[str, str | None],
    today: dt.date,
) -> list[_Outcome]:
    """The batch again, one document per transaction, after the database refused it as a whole."""
    outcomes: list[_Outcome] = []
    kinds = {}
    with engine.connect() as conn:
        kinds = {n: kind for n, (_, kind) in _locate(conn, numbers).items()}
    for n in numbers:
        kind = kinds.get(n, DocumentKind.INVOICE)
        try:
            result = run_write_off(engine, actor, kind, n, request, idempotency_key=keys.get(n), today=today)
        except SubledgerError as exc:
            outcomes.append(_Outcome(n, error=exc))
            continue
        except DBAPIError as exc:
            outcomes.append(_Outcome(n, error=RuleViolation(f"the database refused it: {exc.orig}", document=n)))
            continue
        outcomes.append(_Outcome(n, result=result))
    return outcomes


def _replayed(engine: Engine, keys: Mapping[str, str | None]) -> dict[str, WriteOffResult]:
    """Documents an earlier run with the same idempotency key already wrote off (their recorded results)."""
    wanted = {key: n for n, key in keys.items() if key is not None}
    if not wanted:
        return {}
    found: dict[str, WriteOffResult] = {}
    with engine.connect() as conn:
        keys_list = list(wanted)
        for i in range(0, len(keys_list), BATCH):
            rows = conn.execute(
                select(operations.c.idempotency_key, operations.c.result).where(
                    operations.c.idempotency_key.in_(keys_list[i : i + BATCH])
                )
            )
            for key, result in rows:
                if result is not None:
                    found[wanted[key]] = WriteOffResult.model_validate_json(result)
    return found


def write_off_bulk(
    engine: Engine,
    actor: Actor,
    file: BulkWriteOff,
    *,
    idempotency_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    today: dt.date | None = None,
) -> BulkWriteOffResult:
    """Write off many documents with one settings body: each document is its own operation, all or nothing;
    one document's refusal is reported and the others go on.

    ``progress(done, total)`` is called after each batch. With an idempotency key, each document's operation gets
    ``KEY:<number>``, so running the same file again skips what was already written off.
    """
    # The rows of a whole batch are alive at once and hold no reference cycles: see ``storage.bulk.gc_paused``.
    with gc_paused():
        return _write_off_bulk(engine, actor, file, idempotency_key=idempotency_key, progress=progress, today=today)


def _write_off_bulk(
    engine: Engine,
    actor: Actor,
    file: BulkWriteOff,
    *,
    idempotency_key: str | None,
    progress: Callable[[int, int], None] | None,
    today: dt.date | None,
) -> BulkWriteOffResult:
    day = today or dt.date.today()
    request = file.settings
    with engine.connect() as conn:
        numbers = list(dict.fromkeys(file.documents)) if file.documents is not None else None
        if numbers is None:
            assert file.filter is not None
            numbers = select_documents(conn, file.filter)
    # The permission does not depend on the document: refuse the whole run at once rather than each document.
    if request.enhanced:
        check_permission(actor, DocumentKind.INVOICE, request, "write-off")
    keys = {n: derived_key(idempotency_key, n) for n in numbers}
    request_json = canonical_json(request)
    replayed = _replayed(engine, keys)
    written: list[BulkWrittenOff] = []
    failed: list[BulkFailure] = []
    total = len(numbers)
    pending = [n for n in numbers if n not in replayed]
    for n, result in replayed.items():
        written.append(_written(n, result))
    done = len(replayed)
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        try:
            outcomes = _write_batch(engine, actor, batch, request, keys, day)
        except DBAPIError:
            outcomes = _write_one_by_one(engine, actor, batch, request, keys, day)
        for outcome in outcomes:
            if outcome.result is not None:
                written.append(_written(outcome.number, outcome.result))
            else:
                assert outcome.error is not None
                failed.append(_failure(outcome.number, outcome.error))
                _audit(engine, actor, outcome, request_json, keys)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    if len(written) - len(replayed) >= ANALYZE_FROM:  # what this run wrote, not what earlier runs did
        refresh_statistics(engine, BULK_TABLES)
    return BulkWriteOffResult(requested=total, written_off=written, failed=failed)


def _audit(engine: Engine, actor: Actor, outcome: _Outcome, request_json: str, keys: Mapping[str, str | None]) -> None:
    assert outcome.error is not None
    if getattr(outcome.error, "subledger_audited", False):
        return
    record_refusal(
        engine,
        kind="write-off-bulk",
        actor=actor.name,
        request_json=request_json,
        idempotency_key=keys.get(outcome.number),
        error=outcome.error,
    )


def _written(number: str, result: WriteOffResult) -> BulkWrittenOff:
    memo = result.credit_memo or result.debit_memo
    assert memo is not None
    return BulkWrittenOff(document=number, memo=memo.number, amount=result.amount, currency=result.currency)
