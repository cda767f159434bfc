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
- there is something left to write off, and the mirroring rule allows the memo (``mirrored_lines``); a header-level
  write-off of a document with a credit balance (a negative invoice) is refused.

One write-off is one operation (``write_off``). A bulk write-off (``bulk_write_off``) runs each document as its own
operation through ``base.run_batch``: this module plans a batch of documents in Python and writes the planned ones
together with bulk inserts (``_bulk``); the runner records the operations, replays, audits each refusal and falls
back to one document per transaction should the database refuse a batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, and_, exists, or_, select

from subledger import queries
from subledger.chart import EXPENSE_TYPES
from subledger.context import Context, read_settings, require_settlement, settles_by_memos
from subledger.errors import (
    AlreadyReversed,
    DocumentNotPosted,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuleViolation,
    SubledgerError,
)
from subledger.journal import Entry, Tag
from subledger.models.adjustments import AdjustmentWriteOffReport, BulkAdjustmentWriteOff
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
from subledger.operations.adjustments import write_off_by_adjustments
from subledger.operations.base import (
    BATCH,
    Batch,
    Operation,
    Outcome,
    canonical_json,
    run_batch,
    run_operation,
    write_planned,
)
from subledger.operations.documents import posting_entries
from subledger.operations.mirror import (
    GeneratedMemo,
    MemoHeader,
    apply_generated,
    generate_memo,
    mirrored_lines,
    next_numbers,
)
from subledger.operations.settlement import (
    Applications,
    Line,
    check_toward_zero,
    not_before_taken_back,
    taken_back,
)
from subledger.permissions import Actor
from subledger.posting import DocumentKind
from subledger.state import DocumentState, ItemLine, TaxLine, fetch_documents
from subledger.storage.bulk import one_of
from subledger.storage.schema import (
    customer_accounts,
    document_items,
    documents,
    taxation_items,
)

OPERATION_KIND = {
    DocumentKind.INVOICE: "write-off-invoice",
    DocumentKind.DEBIT_MEMO: "write-off-debit-memo",
    DocumentKind.CREDIT_MEMO: "write-off-credit-memo",
}


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

    # What it writes (``operations.base.Planned``, for the bulk write mode).
    @property
    def new_documents(self) -> Sequence[DocumentState]:
        return [self.memo]

    @property
    def moved_lines(self) -> Sequence[tuple[str, ItemLine | TaxLine]]:
        return [(self.document.account_number, line) for line in self.touched]

    @property
    def application_rows(self) -> Sequence[dict[str, object]]:
        return self.applications.rows

    @property
    def posted(self) -> tuple[Sequence[Entry], Sequence[tuple[str, dt.date]], int]:
        return self.entries, [(self.period, self.date)] * len(self.entries), self.operation_id

    def result(self, journal: Sequence[Any] = ()) -> WriteOffResult:
        # Generated memos are known by their number everywhere (a reversal's answer too): ``id`` is that number.
        reference = MemoReference(id=self.memo.number, number=self.memo.number)
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


def memo_date(
    ctx: Context, doc: DocumentState, requested: dt.date | None, today: dt.date, taken: dict[str, dt.date]
) -> tuple[dt.date, str]:
    """The memo date (default today) and its open period; not before the document's own date, nor before the day
    its balance last grew back (``settlement.taken_back``: the memo is applied on that date)."""
    date = requested or today
    if date < doc.document_date:
        raise RuleViolation(
            f"memo date {date} is before the {doc.kind.label} date {doc.document_date}",
            document=doc.number,
            field="memoDate",
        )
    not_before_taken_back(date, doc.kind.label, doc.number, taken, owner=doc.number, field="memoDate")
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
    return ctx.code(name, document=number, field=field, types=EXPENSE_TYPES).name


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
            raise InvalidInput(
                f"{doc.kind.a_label} write-off names its items by {key}", document=doc.number, field=field
            )
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
    entries = posting_entries(memo, tag=Tag.WRITE_OFF, description=description)
    entries.extend(apply_generated(apps, doc, memo, date, tag=Tag.WRITE_OFF))
    moved = {row["target_item_id"] for row in apps.rows} | {row["source_item_id"] for row in apps.rows}
    touched = [line for line in doc.lines() if line.id in moved]
    return WriteOffPlan(doc, memo, date, period, entries, apps, touched, ctx.operation_id)


def check_owed(doc: DocumentState, request: WriteOffRequest) -> None:
    """A header-level write-off credits what the customer owes: a document with a credit balance (a negative
    invoice) owes nothing, and a credit memo for a negative amount is not one."""
    if request.items is None and doc.balance < 0:
        raise RuleViolation(
            f"{doc.kind.label} {doc.number} has a credit balance of {fmt(doc.balance, doc.currency)} {doc.currency}: "
            "a write-off credits what the customer owes, and a credit memo for a negative amount is none",
            document=doc.number,
        )


def plan_write_off(
    ctx: Context,
    doc: DocumentState,
    request: WriteOffRequest,
    memo_number: str,
    *,
    today: dt.date,
    taken: dict[str, dt.date],
) -> WriteOffPlan:
    """Write off an invoice or a debit memo: a credit memo mirroring what is written off, applied back to it."""
    check_writable(doc)
    check_owed(doc, request)
    date, period = memo_date(ctx, doc, request.memo_date, today, taken)
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
    ctx: Context,
    doc: DocumentState,
    request: CreditMemoWriteOffRequest,
    memo_number: str,
    *,
    today: dt.date,
    taken: dict[str, dt.date],
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
    date, period = memo_date(ctx, doc, request.memo_date, today, taken)
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
    taken: dict[str, dt.date],
) -> WriteOffPlan:
    # A book without Invoice Settlement has no memos: its write-offs are invoice item adjustments.
    require_settlement(ctx.settings, memos=True, what=f"writing off {doc.kind.label} {doc.number}", document=doc.number)
    if doc.kind == DocumentKind.CREDIT_MEMO:
        assert isinstance(request, CreditMemoWriteOffRequest)
        return plan_credit_memo_write_off(ctx, doc, request, memo_number, today=today, taken=taken)
    assert isinstance(request, WriteOffRequest)
    return plan_write_off(ctx, doc, request, memo_number, today=today, taken=taken)


# --- one document -------------------------------------------------------------------------------------------------


def _locate(conn: Connection, numbers: Sequence[str]) -> dict[str, tuple[str, DocumentKind]]:
    """Document number -> (account, kind), without locks (to know which accounts to lock first)."""
    found: dict[str, tuple[str, DocumentKind]] = {}
    for i in range(0, len(numbers), BATCH):
        rows = conn.execute(
            select(documents.c.number, documents.c.account_number, documents.c.kind).where(
                one_of(conn, documents.c.number, numbers[i : i + BATCH])
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
    taken = taken_back(ctx.conn, [(doc.account_number, number)])
    p = plan(ctx, doc, request, memo_number, today=today, taken=taken)
    write_planned(ctx.conn, [p])
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
        # A mistyped account would select nothing and answer "0 of 0 written off" as if its books were clean.
        known = select(customer_accounts.c.account_number).where(
            customer_accounts.c.account_number == selection.account_number
        )
        if conn.execute(known).first() is None:
            raise NotFound(f"no customer account {selection.account_number}", field="filter.accountNumber")
        conditions.append(documents.c.account_number == selection.account_number)
    if selection.older_than is not None:
        conditions.append(documents.c.document_date < selection.older_than)
    query = select(documents.c.number).where(and_(*conditions)).order_by(documents.c.document_date, documents.c.number)
    return list(conn.execute(query).scalars())


def _bulk(request: WriteOffRequest, today: dt.date) -> Batch[WriteOffResult]:
    """A bulk write-off's documents, each its own operation (``base.run_batch``)."""

    def named(conn: Connection, numbers: Sequence[str]) -> dict[str, Operation]:
        where = _locate(conn, numbers)
        out: dict[str, Operation] = {}
        for n in numbers:
            account, kind = where.get(n, (None, DocumentKind.INVOICE))
            # A credit memo takes no header-level body: it is refused as no invoice or debit memo.
            kind = DocumentKind.INVOICE if kind == DocumentKind.CREDIT_MEMO else kind
            out[n] = Operation(OPERATION_KIND[kind], operation_request(kind, n, request), account, kind)
        return out

    def one(ctx: Context, number: str, operation: Operation) -> WriteOffResult:
        return write_off(
            ctx, DocumentKind(operation.document_kind or DocumentKind.INVOICE), number, request, today=today
        )

    def together(ctx: Context, todo: Sequence[tuple[str, int, Operation]]) -> list[Outcome[WriteOffResult]]:
        ctx.lock_accounts({op.account_number for _, _, op in todo if op.account_number is not None})
        docs = fetch_documents(ctx.conn, [n for n, _, op in todo if op.account_number is not None], lock=True)
        memo_numbers = next_numbers(ctx.conn, [f"WO-{n}" for n in docs])
        taken = taken_back(ctx.conn, [(doc.account_number, n) for n, doc in docs.items()])
        plans: list[WriteOffPlan] = []
        outcomes: list[Outcome[WriteOffResult]] = []
        for n, operation_id, _ in todo:
            ctx.operation_id = operation_id
            try:
                doc = docs.get(n)
                if doc is None or doc.kind == DocumentKind.CREDIT_MEMO:
                    raise NotFound(f"no invoice or debit memo {n}", document=n)
                check_permission(ctx.actor, doc.kind, request, n)
                p = plan_write_off(ctx, doc, request, memo_numbers[f"WO-{n}"], today=today, taken=taken)
            except SubledgerError as exc:
                outcomes.append(Outcome(n, error=exc))
                continue
            plans.append(p)
            outcomes.append(Outcome(n, result=p.result()))
        write_planned(ctx.conn, plans)
        return outcomes

    return Batch("write-off-bulk", WriteOffResult, named, one, together)


def _by_memos(
    engine: Engine, actor: Actor, file: BulkWriteOff, key: str | None, progress: Progress | None, today: dt.date
) -> BulkWriteOffResult:
    """Each document its own operation, all or nothing; one document's refusal is reported and the others go on."""
    request = file.settings
    with engine.connect() as conn:
        numbers = list(dict.fromkeys(file.documents)) if file.documents is not None else None
        if numbers is None:
            assert file.filter is not None
            numbers = select_documents(conn, file.filter)
    # The permission does not depend on the document: refuse the whole run at once rather than each document.
    if request.enhanced:
        check_permission(actor, DocumentKind.INVOICE, request, "write-off")

    def report(outcomes: list[Outcome[WriteOffResult]]) -> BulkWriteOffResult:
        return BulkWriteOffResult(
            requested=len(numbers),
            written_off=[_written(o.number, o.result) for o in outcomes if o.result is not None],
            failed=[_failure(o.number, o.error) for o in outcomes if o.error is not None],
        )

    batch = _bulk(request, today)
    return run_batch(
        engine,
        actor,
        batch,
        numbers,
        report,
        request_json=canonical_json(request),
        idempotency_key=key,
        progress=progress,
    )


#: What the bulk write-off task reports: per document written off by a memo, or per invoice by adjustments.
BulkReport = BulkWriteOffResult | AdjustmentWriteOffReport
M = TypeVar("M", BulkWriteOff, BulkAdjustmentWriteOff)
Progress = Callable[[int, int], None]


class TaskReader(Protocol):
    """Reads the bulk write-off task as ``model``; ``listed`` names its list when the caller gave a bare list."""

    def __call__(self, model: type[M], listed: str) -> M: ...


def bulk_write_off(
    engine: Engine,
    actor: Actor,
    read: TaskReader,
    *,
    idempotency_key: str | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> BulkReport:
    """The bulk write-off task in either settlement mode: ``read(model, listed)`` reads the task as ``model``
    (``listed`` names its list of documents when the caller gave a bare list): a ``BulkWriteOff`` written off by
    memos with Invoice Settlement, else a ``BulkAdjustmentWriteOff`` written off by invoice item adjustments.

    ``progress(done, total)`` is called as documents are done. With an idempotency key, each document's operation
    gets ``KEY:<number>``, so running the same task again skips what was already written off."""
    with engine.connect() as conn:
        memos = settles_by_memos(read_settings(conn))
    if memos:
        file = read(BulkWriteOff, "documents")
        return _by_memos(engine, actor, file, idempotency_key, progress, today or dt.date.today())
    task = read(BulkAdjustmentWriteOff, "invoices")
    return write_off_by_adjustments(
        engine, actor, task.invoices, task.settings, idempotency_key=idempotency_key, progress=progress
    )


def _failure(number: str, error: SubledgerError) -> BulkFailure:
    return BulkFailure(document=number, error=error.code, rule=error.rule, field=error.field)


def _written(number: str, result: WriteOffResult) -> BulkWrittenOff:
    memo = result.credit_memo or result.debit_memo
    assert memo is not None
    return BulkWrittenOff(document=number, memo=memo.number, amount=result.amount, currency=result.currency)
