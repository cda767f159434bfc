"""Invoice item adjustments: how a book without Invoice Settlement corrects and writes off invoices.

Such a book has no credit or debit memos (Part 1); an adjustment changes one invoice item or taxation item directly
(Part 2 §8). The rules this module protects:

- An adjustment is ``Credit`` (lowers the line's charge) or ``Charge`` (raises it) for a positive amount, against a
  posted invoice, dated on or after the invoice date and in an open period (the invoice itself may sit in a closed
  one). It moves its line's balance toward zero and never past it: a Credit on a positive balance, a Charge on a
  negative one, never more than the balance. Several adjustments of one line are allowed while each does so.
- **Toward zero, judged together.** The invoice balance may only move toward zero, never across it ("You cannot
  create an Adjustment that changes the invoice balance from positive to negative"). Every adjustment of one request
  is one transaction and is judged by its net effect on each invoice: with lines -99 and +100 (balance 1), a Charge
  of 2 on the -99 line alone fails (balance 3), a Credit of 2.5 on the +100 line alone fails (-1.5), both together
  pass (0.5). That is what the write-off task's Single Transaction setting is for.
- **Codes.** An item adjustment inherits its item's deferred and recognized revenue codes; either may be overridden
  (revenue-type codes). It posts against the deferred revenue code when it has one, else the recognized one: with no
  override, exactly the code the invoice item posted to. A tax adjustment posts against the taxation line's
  sales-tax-payable code unless the deferred (else recognized) override for tax items names another.
- **Reason codes.** Adjustments use the book's credit memo reason codes (default ``Write-off``): in this mode an
  adjustment takes the credit memo's place, so the administrator keeps one list, adds to it and deactivates codes
  there; an unknown or inactive code is refused.
- **Journal** (Part 2 §7.2, tag ``adjustment``, on the adjustment date): Invoice Item Adjustment (Invoice) Credit:
  Dr the item's revenue code, Cr its receivable code; (Tax) Credit: Dr sales tax payable, Cr receivable; a Charge
  flips both. The subledger's receivable (``balances.py``) subtracts processed Credit adjustments and adds Charge
  ones, so the ledger's balance assertions hold.
- **Write-off** (seed 002, ``write_off_by_adjustments``): a Credit on every positive open line and a Charge on every
  negative one (taxation lines too with Adjust Taxation Items, off by default as in the task), all in one
  transaction per invoice by default (Single Transaction); with Single Transaction off, one transaction per
  adjustment, in line order, and an adjustment the invoice-balance rule refuses on its own fails while the others
  stand. Write-off Positive Charges Only adjusts positive lines only, in line order, for at most the invoice's open
  balance (the rule forbids crossing zero), and leaves negative lines as they are. Adjustments are never canceled
  here (status ``Canceled`` is reserved): a correction is a new, opposite adjustment, judged by the same rules.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from subledger.context import Context, read_settings, require_settlement
from subledger.errors import (
    AmountExceedsBalance,
    BalanceAwayFromZero,
    DocumentNotPosted,
    InvalidInput,
    NotFound,
    NothingToWriteOff,
    Problem,
    Problems,
    RuleViolation,
    SubledgerError,
    UnknownReasonCode,
    WrongSign,
)
from subledger.journal import EntryBuilder, Tag, post
from subledger.models.adjustments import (
    DEFAULT_REASON_CODE,
    AdjustedInvoiceItem,
    AdjustedTaxationItem,
    AdjustmentRequest,
    AdjustmentResult,
    AdjustmentView,
    AdjustmentWriteOffReport,
    InvoiceAdjusted,
    InvoiceItemAdjustment,
    InvoiceWriteOffOutcome,
    WriteOffByAdjustments,
)
from subledger.models.base import counted
from subledger.money import fmt, is_exact_for
from subledger.operations.base import (
    Batch,
    Operation,
    Outcome,
    canonical_json,
    derived_key,
    recorded_request,
    run_batch,
)
from subledger.permissions import Actor
from subledger.posting import RULES, DocumentKind, Posts, Role, TransactionType, resolve_codes, transaction_type
from subledger.state import DocumentState, ItemLine, TaxLine, fetch_documents, update_balances
from subledger.storage.schema import documents, invoice_item_adjustments

#: The operation kind of a write-off by adjustments, whether Single Transaction makes it one operation per invoice
#: or one per adjustment: the write-off register and the ledger know a write-off by it (``reports``).
WRITE_OFF_BY_ADJUSTMENTS = "write-off-adjustments"
#: Codes an item adjustment may post against (those an invoice item may carry).
REVENUE_TYPES = ("DeferredRevenue", "SalesRevenue", "SalesDiscounts", "OtherRevenue", "OtherLiabilities")
#: Codes a tax adjustment may post against: the sales-tax codes, or a revenue code the tax override names.
TAX_TYPES = ("SalesTaxPayable", *REVENUE_TYPES)

Line = ItemLine | TaxLine


# --- creating adjustments ---------------------------------------------------------------------------------------


@dataclass
class _Planned:
    """One accepted adjustment, before it is written."""

    request: InvoiceItemAdjustment
    invoice: DocumentState
    line: Line
    posts: TransactionType
    codes: dict[Role, str]
    deferred: str | None
    recognized: str | None
    reason_code: str

    @property
    def accounting_code(self) -> str:
        """The revenue (or sales tax) code the adjustment posts against."""
        return self.codes[RULES[self.posts].debit]


def _inherited_codes(doc: DocumentState) -> dict[str, tuple[str | None, str | None]]:
    """Each item's (deferred, recognized) revenue codes as the invoice gave them; a discount without codes of its
    own takes those of the item it discounts, as it did when loaded."""
    finance: dict[str, dict[str, Any]] = {
        item["id"]: item.get("financeInformation") or {} for item in json.loads(doc.payload).get("items", [])
    }
    codes: dict[str, tuple[str | None, str | None]] = {}
    for item in doc.items:
        info = finance.get(item.id, {})
        deferred = info.get("deferredRevenueAccountingCode")
        recognized = info.get("recognizedRevenueAccountingCode")
        if not deferred and not recognized and item.applied_to_item_id in finance:
            info = finance[item.applied_to_item_id]
            deferred = info.get("deferredRevenueAccountingCode")
            recognized = info.get("recognizedRevenueAccountingCode")
        codes[item.id] = (deferred, recognized)
    return codes


class _Adjuster:
    """Checks every adjustment of a request (collecting every problem), then writes them together."""

    def __init__(self, ctx: Context, requests: Sequence[InvoiceItemAdjustment]) -> None:
        self.ctx = ctx
        self.requests = requests
        self.problems: list[SubledgerError] = []
        self.planned: list[_Planned] = []
        self.invoices: dict[str, DocumentState] = {}
        self.before: dict[str, Decimal] = {}

    def load(self) -> None:
        conn, numbers = self.ctx.conn, sorted({r.invoice_number for r in self.requests})
        found = select(documents.c.number, documents.c.account_number).where(
            documents.c.number.in_(numbers), documents.c.kind == DocumentKind.INVOICE
        )
        accounts: dict[str, str] = {row.number: row.account_number for row in conn.execute(found)}
        if len(set(accounts.values())) > 1:
            raise RuleViolation(
                "adjustments made together must belong to one customer account "
                f"(these invoices belong to {', '.join(sorted(set(accounts.values())))})",
                field="adjustments",
            )
        self.ctx.lock_accounts(accounts.values())
        self.invoices = fetch_documents(conn, numbers, kind=DocumentKind.INVOICE, lock=True)
        self.before = {n: doc.balance for n, doc in self.invoices.items()}

    def check_all(self) -> None:
        codes = {n: _inherited_codes(doc) for n, doc in self.invoices.items()}
        for i, request in enumerate(self.requests):
            try:
                self.planned.append(self.check(i, request, codes))
            except SubledgerError as exc:
                self.problems.append(exc)
        if not self.problems:
            self.check_invoice_balances()

    def check(
        self, i: int, request: InvoiceItemAdjustment, codes: dict[str, dict[str, tuple[str | None, str | None]]]
    ) -> _Planned:
        ctx, at, number = self.ctx, f"adjustments[{i}]", request.invoice_number
        invoice = self.invoices.get(number)
        if invoice is None:
            raise NotFound(f"no invoice {number}", document=number, field=f"{at}.invoiceNumber")
        if invoice.status != "Posted":
            raise DocumentNotPosted(
                f"invoice {number} is {invoice.status}: only a posted invoice can be adjusted", document=number
            )
        if not is_exact_for(request.amount, invoice.currency):
            raise InvalidInput(
                f"amount {request.amount} has more decimals than {invoice.currency} allows",
                document=number,
                field=f"{at}.amount",
            )
        line = self._line(invoice, request, at)
        if request.adjustment_date < invoice.document_date:
            raise RuleViolation(
                f"adjustment date {request.adjustment_date} is before the invoice date {invoice.document_date}",
                document=number,
                field=f"{at}.adjustmentDate",
            )
        ctx.open_period(request.adjustment_date, document=number, field=f"{at}.adjustmentDate")
        reason = self._reason_code(request.reason_code or DEFAULT_REASON_CODE, number, f"{at}.reasonCode")
        if isinstance(line, ItemLine):
            deferred, recognized = codes[number][line.id]
            types: tuple[str, ...] = REVENUE_TYPES
            inherited = line.revenue_code
        else:
            deferred = recognized = None
            types, inherited = TAX_TYPES, line.sales_tax_code
        if request.deferred_revenue_account:
            deferred = ctx.code(
                request.deferred_revenue_account, document=number, field=f"{at}.deferredRevenueAccount", types=types
            ).name
        if request.recognized_revenue_account:
            recognized = ctx.code(
                request.recognized_revenue_account,
                document=number,
                field=f"{at}.recognizedRevenueAccount",
                types=types,
            ).name
        posts = transaction_type(Posts.ADJUSTMENT, request.source_type)
        posted_to = resolve_codes(
            posts, ctx.defaults, deferred=deferred, recognized=recognized, code=inherited, ar=line.ar_code
        )
        self._move(line, request, number, f"{at}.amount")
        return _Planned(request, invoice, line, posts, posted_to, deferred, recognized, reason)

    @staticmethod
    def _line(invoice: DocumentState, request: InvoiceItemAdjustment, at: str) -> Line:
        is_tax = request.source_type == "Tax"
        for line in invoice.lines():
            if line.id == request.source_id and isinstance(line, TaxLine) == is_tax:
                return line
        label = "taxation item" if is_tax else "invoice item"
        raise NotFound(
            f"invoice {invoice.number} has no {label} {request.source_id}",
            document=invoice.number,
            field=f"{at}.sourceId",
        )

    def _reason_code(self, name: str, number: str, field: str) -> str:
        try:
            return self.ctx.reason_code(DocumentKind.CREDIT_MEMO, name, document=number, field=field)
        except UnknownReasonCode as exc:
            raise UnknownReasonCode(
                f"{exc.rule} (invoice item adjustments use the book's credit memo reason codes)",
                document=number,
                field=field,
            ) from None

    @staticmethod
    def _move(line: Line, request: InvoiceItemAdjustment, number: str, field: str) -> None:
        """Move the line's balance by the adjustment: toward zero, never past it."""
        balance, amount = line.balance, request.amount
        if balance == 0 or (request.type == "Credit") != (balance > 0):
            needed = "a Credit" if balance > 0 else "a Charge"
            reason = "is settled" if balance == 0 else f"has balance {balance}, so only {needed} moves it toward zero"
            raise WrongSign(
                f"a {request.type} adjustment of {amount} would move line {line.id} away from zero: it {reason}",
                document=number,
                field=field,
            )
        if amount > abs(balance):
            raise AmountExceedsBalance(
                f"a {request.type} adjustment of {amount} exceeds the balance {balance} of line {line.id}",
                document=number,
                field=field,
            )
        line.balance = balance - amount if request.type == "Credit" else balance + amount

    def check_invoice_balances(self) -> None:
        for number in sorted({p.invoice.number for p in self.planned}):
            before, after = self.before[number], self.invoices[number].balance
            if (before > 0 > after) or (before < 0 < after):
                self.problems.append(
                    BalanceAwayFromZero(
                        f"the adjustments would change invoice {number}'s balance from {before} to {after}: an "
                        "adjustment cannot change the invoice balance from positive to negative (or back)",
                        document=number,
                        field="adjustments",
                    )
                )
            elif abs(after) > abs(before):
                self.problems.append(
                    BalanceAwayFromZero(
                        f"the adjustments would move invoice {number}'s balance from {before} to {after}: the "
                        "invoice balance can only be adjusted toward zero",
                        document=number,
                        field="adjustments",
                    )
                )

    def write(self) -> AdjustmentResult:
        ctx, conn = self.ctx, self.ctx.conn
        taken: dict[str, int] = dict(
            conn.execute(
                select(invoice_item_adjustments.c.invoice_number, func.count())
                .where(invoice_item_adjustments.c.invoice_number.in_(sorted(self.invoices)))
                .group_by(invoice_item_adjustments.c.invoice_number)
            ).all()
        )
        rows: list[dict[str, object]] = []
        views: list[AdjustmentView] = []
        entries = []
        for p in self.planned:
            r, invoice = p.request, p.invoice
            taken[invoice.number] = taken.get(invoice.number, 0) + 1
            number = counted(f"IIA-{invoice.number}", taken[invoice.number])
            row: dict[str, object] = {
                "account_number": invoice.account_number,
                "number": number,
                "invoice_number": invoice.number,
                "type": r.type,
                "amount": r.amount,
                "currency": invoice.currency,
                "source_type": r.source_type,
                "source_id": r.source_id,
                "adjustment_date": r.adjustment_date,
                "reason_code": p.reason_code,
                "reference_id": r.reference_id,
                "comment": r.comment,
                "accounting_code": p.accounting_code,
                "deferred_revenue_account": p.deferred,
                "recognized_revenue_account": p.recognized,
                "ar_code": p.line.ar_code,
                "status": "Processed",
                "transferred_to_accounting": False,
                "custom_fields": json.dumps(r.custom_fields, sort_keys=True),
                "operation_id": ctx.operation_id,
            }
            rows.append(row)
            views.append(_view(row))
            builder = EntryBuilder(
                account_number=invoice.account_number,
                date=r.adjustment_date,
                currency=invoice.currency,
                document_number=number,
                related_number=invoice.number,
                tag=Tag.ADJUSTMENT,
                description=f"{r.type} adjustment {number} of invoice {invoice.number} line {p.line.id}",
            )
            signed = r.amount if r.type == "Credit" else -r.amount
            builder.add(p.posts, signed, p.codes, p.line.id)
            entries.extend(builder.entries())
        periods = [
            (ctx.open_period(e.date, document=e.related_number, field="adjustmentDate"), e.date) for e in entries
        ]
        conn.execute(invoice_item_adjustments.insert(), rows)
        moved: dict[str, list[Line]] = defaultdict(list)
        for p in self.planned:
            moved[p.invoice.account_number].append(p.line)
        for account, lines in moved.items():
            update_balances(conn, account, lines)
        keys = post(conn, entries, periods, ctx.operation_id)
        return AdjustmentResult(
            adjustments=views,
            invoices=[
                adjusted_items(doc, [p.line.id for p in self.planned if p.invoice is doc])
                for doc in self.invoices.values()
                if any(p.invoice is doc for p in self.planned)
            ],
            journal_entries=[f"{account}-{seq}" for account, seq in keys],
        )


def create_adjustments(ctx: Context, requests: Sequence[InvoiceItemAdjustment]) -> AdjustmentResult:
    """Create the adjustments in one transaction; every problem is reported together and nothing is written."""
    require_settlement(ctx.settings, memos=False)
    adjuster = _Adjuster(ctx, requests)
    adjuster.load()
    adjuster.check_all()
    if len(adjuster.problems) == 1:
        raise adjuster.problems[0]
    if adjuster.problems:
        raise Problems([p for exc in adjuster.problems for p in _problems(exc)])
    return adjuster.write()


def adjusted_items(doc: DocumentState, line_ids: Iterable[str]) -> InvoiceAdjusted:
    """The invoice's adjusted items with their new balances (an item appears when it or its tax was adjusted)."""
    ids, cur = set(line_ids), doc.currency
    items: list[AdjustedInvoiceItem] = []
    for item in doc.items:
        taxes = [t for t in item.taxes if t.id in ids]
        if item.id not in ids and not taxes:
            continue
        items.append(
            AdjustedInvoiceItem(
                id=item.id,
                charge_name=item.charge_name,
                processing_type=item.processing_type,
                charge_amount=fmt(item.amount, cur),
                balance=fmt(item.balance, cur),
                taxation_items=[
                    AdjustedTaxationItem(
                        id=t.id, name=t.name, tax_amount=fmt(t.tax_amount, cur), balance=fmt(t.balance, cur)
                    )
                    for t in taxes
                ],
            )
        )
    return InvoiceAdjusted(invoice_number=doc.number, balance=fmt(doc.balance, cur), invoice_items=items)


def _view(row: Mapping[Any, Any]) -> AdjustmentView:
    plain = {k: row[k] for k in _VIEW_FIELDS}
    return AdjustmentView(
        **plain,
        amount=fmt(row["amount"], row["currency"]),
        accounts_receivable_accounting_code=row["ar_code"],
        transferred_to_accounting="Yes" if row["transferred_to_accounting"] else "No",
        custom_fields=json.loads(row["custom_fields"]),
    )


_VIEW_FIELDS = (
    "number",
    "account_number",
    "invoice_number",
    "type",
    "currency",
    "source_type",
    "source_id",
    "adjustment_date",
    "reason_code",
    "reference_id",
    "comment",
    "accounting_code",
    "deferred_revenue_account",
    "recognized_revenue_account",
    "status",
)


# --- the write-off task ---------------------------------------------------------------------------------------


def plan_write_off(invoice: DocumentState, settings: WriteOffByAdjustments) -> list[InvoiceItemAdjustment]:
    """The adjustments that write an invoice off under the task settings, in line order (seed 002)."""
    if invoice.status != "Posted":
        raise DocumentNotPosted(
            f"invoice {invoice.number} is {invoice.status}: only a posted invoice can be written off",
            document=invoice.number,
        )
    lines: list[Line] = []
    for item in invoice.items:
        lines.append(item)
        if settings.adjust_taxation_items:
            lines.extend(item.taxes)
    parts: list[tuple[Line, str, Decimal]] = []
    if settings.write_off_positive_charges_only:
        # Only Credits on positive lines, for at most what the invoice owes: crossing zero is refused.
        remaining = invoice.balance
        for line in lines:
            if remaining <= 0:
                break
            if line.balance > 0:
                take = min(line.balance, remaining)
                parts.append((line, "Credit", take))
                remaining -= take
    else:
        parts = [
            (line, "Credit" if line.balance > 0 else "Charge", abs(line.balance)) for line in lines if line.balance
        ]
    if not parts:
        raise NothingToWriteOff(
            f"invoice {invoice.number} has no open balance these settings write off", document=invoice.number
        )
    common = settings.model_dump(include={"reason_code", "reference_id", "comment", "custom_fields"})
    planned: list[InvoiceItemAdjustment] = []
    for line, type_, amount in parts:
        is_tax = isinstance(line, TaxLine)
        deferred = (
            settings.deferred_revenue_account_for_tax_item
            if is_tax
            else settings.deferred_revenue_account_for_invoice_item
        )
        recognized = (
            settings.recognized_revenue_account_for_tax_item
            if is_tax
            else settings.recognized_revenue_account_for_invoice_item
        )
        planned.append(
            InvoiceItemAdjustment(
                **common,
                invoice_number=invoice.number,
                type=type_,
                amount=amount,
                source_type="Tax" if is_tax else "InvoiceDetail",
                source_id=line.id,
                adjustment_date=settings.adjustment_date,
                deferred_revenue_account=deferred,
                recognized_revenue_account=recognized,
            )
        )
    return planned


def _fetch_invoice(conn: Connection, number: str) -> DocumentState:
    found = fetch_documents(conn, [number], kind=DocumentKind.INVOICE)
    if number not in found:
        raise NotFound(f"no invoice {number}", document=number)
    return found[number]


def _problems(exc: SubledgerError) -> list[Problem]:
    return exc.problems if isinstance(exc, Problems) else [exc.problem]


def _messages(exc: SubledgerError) -> list[str]:
    return [str(p) for p in _problems(exc)]


def write_off_by_adjustments(
    engine: Engine,
    actor: Actor,
    invoices: Sequence[str],
    settings: WriteOffByAdjustments,
    *,
    idempotency_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AdjustmentWriteOffReport:
    """Write invoices off by adjustments, each invoice on its own: a failure is reported and the rest go on.

    Single Transaction (default): one operation per invoice, all its adjustments judged together. Off: one operation
    per adjustment, in line order, each judged alone against the balances the previous ones left. Both run as a
    batch (``base.run_batch``): with an idempotency key, each operation gets its own key derived from it
    (``KEY:INVOICE`` or ``KEY:INVOICE:N``).
    """
    numbers = list(dict.fromkeys(invoices))
    if settings.single_transaction:
        outcomes = run_batch(
            engine,
            actor,
            _by_invoice(settings),
            numbers,
            lambda done: [_invoice_outcome(o) for o in done],
            request_json=canonical_json(settings),
            idempotency_key=idempotency_key,
            progress=progress,
        )
    else:
        outcomes = []
        for number in numbers:
            outcomes.append(_by_adjustment(engine, actor, number, settings, derived_key(idempotency_key, number)))
            if progress is not None:
                progress(len(outcomes), len(numbers))
    return AdjustmentWriteOffReport(
        processed=sum(1 for o in outcomes if o.status == "Processed"),
        failed=sum(1 for o in outcomes if o.status == "Failed"),
        partial=sum(1 for o in outcomes if o.status == "Partial"),
        invoices=outcomes,
    )


def _by_invoice(settings: WriteOffByAdjustments) -> Batch[AdjustmentResult]:
    """Single Transaction: each invoice one operation, all its adjustments judged together."""
    request = settings.wire()

    def named(_: Connection, numbers: Sequence[str]) -> dict[str, Operation]:
        return {n: Operation(WRITE_OFF_BY_ADJUSTMENTS, {"invoiceNumber": n, "settings": request}) for n in numbers}

    def one(ctx: Context, number: str, _: Operation) -> AdjustmentResult:
        require_settlement(ctx.settings, memos=False)
        return create_adjustments(ctx, plan_write_off(_fetch_invoice(ctx.conn, number), settings))

    # One invoice per step, so that progress is reported per invoice.
    return Batch(WRITE_OFF_BY_ADJUSTMENTS, AdjustmentResult, named, one, size=1)


def _invoice_outcome(outcome: Outcome[AdjustmentResult]) -> InvoiceWriteOffOutcome:
    number, result = outcome.number, outcome.result
    if result is None:
        assert outcome.error is not None
        return InvoiceWriteOffOutcome(invoice_number=number, status="Failed", errors=_messages(outcome.error))
    adjusted = result.invoices[0]
    return InvoiceWriteOffOutcome(
        invoice_number=number,
        status="Processed",
        adjustments=[a.number for a in result.adjustments],
        balance=adjusted.balance,
        invoice_items=adjusted.invoice_items,
    )


def _by_adjustment(
    engine: Engine, actor: Actor, number: str, settings: WriteOffByAdjustments, key: str | None
) -> InvoiceWriteOffOutcome:
    """Single Transaction off: the invoice's adjustments planned at once, then each its own operation, in order.

    Each step's operation records the whole plan, so that a retry with the same key replays the plan the first run
    made (its steps replayed, those it did not reach or that were refused run now) instead of planning again from
    the balances the first run left."""
    try:
        with engine.connect() as conn:
            require_settlement(read_settings(conn), memos=False)
            invoice = _fetch_invoice(conn, number)
            # An invoice has at most one adjustment per line: its steps' keys are among these.
            step_keys = [derived_key(key, str(n)) for n in range(1, sum(1 for _ in invoice.lines()) + 1)]
            recorded = recorded_request(conn, WRITE_OFF_BY_ADJUSTMENTS, step_keys)
            if recorded is not None:
                plan = [InvoiceItemAdjustment.model_validate(a) for a in recorded["plan"]]
            else:
                plan = plan_write_off(invoice, settings)
    except SubledgerError as exc:
        return InvoiceWriteOffOutcome(invoice_number=number, status="Failed", errors=_messages(exc))
    requests = {str(n): AdjustmentRequest(adjustments=[adjustment]) for n, adjustment in enumerate(plan, start=1)}
    whole = {"invoiceNumber": number, "settings": settings.wire(), "plan": [a.wire() for a in plan]}

    def named(_: Connection, steps: Sequence[str]) -> dict[str, Operation]:
        return {n: Operation(WRITE_OFF_BY_ADJUSTMENTS, {**whole, "step": int(n)}, document=number) for n in steps}

    def one(ctx: Context, step: str, _: Operation) -> AdjustmentResult:
        return create_adjustments(ctx, requests[step].adjustments)

    steps = run_batch(
        engine,
        actor,
        Batch(WRITE_OFF_BY_ADJUSTMENTS, AdjustmentResult, named, one, size=max(1, len(requests))),
        list(requests),
        list,
        request_json=canonical_json(settings),
        idempotency_key=key,
    )
    made: list[str] = []
    errors: list[str] = []
    items: dict[str, AdjustedInvoiceItem] = {}
    balance: str | None = None
    for step in steps:
        if step.result is None:
            assert step.error is not None
            errors.extend(_messages(step.error))
            continue
        made.extend(a.number for a in step.result.adjustments)
        balance = step.result.invoices[0].balance
        for item in step.result.invoices[0].invoice_items:
            merged = {
                t.id: t for t in (*(items[item.id].taxation_items if item.id in items else []), *item.taxation_items)
            }
            items[item.id] = item.model_copy(update={"taxation_items": list(merged.values())})
    order = [i for i in _line_order(plan) if i in items]
    status = "Processed" if not errors else ("Partial" if made else "Failed")
    return InvoiceWriteOffOutcome(
        invoice_number=number,
        status=status,
        adjustments=made,
        balance=balance,
        invoice_items=[items[i] for i in order],
        errors=errors,
    )


def _line_order(plan: Sequence[InvoiceItemAdjustment]) -> list[str]:
    return list(dict.fromkeys(a.source_id for a in plan))


# --- reading ------------------------------------------------------------------------------------------------------


def list_adjustments(conn: Connection, *, invoice: str | None = None) -> list[AdjustmentView]:
    query = select(invoice_item_adjustments).order_by(
        invoice_item_adjustments.c.account_number,
        invoice_item_adjustments.c.invoice_number,
        invoice_item_adjustments.c.operation_id,
        invoice_item_adjustments.c.number,
    )
    if invoice is not None:
        query = query.where(invoice_item_adjustments.c.invoice_number == invoice)
    return [_view(row) for row in conn.execute(query).mappings()]
