"""Reversals: undoing an invoice with a mirrored credit memo, or a credit memo with a mirrored debit memo.

A reversal posts the exact mirror of the original document, so that for every accounting code the original's
journal lines and the reversal's sum to zero: the generated memo is posted on the memo date and applied back to the
original, line by line, on the apply effective date. Both dates must fall in open periods; the original may sit in
a closed one (an invoice; a credit memo whose period is closed cannot be reversed).

Related documents are reversed in the same operation (Part 2 §6), and the choice is made here, precisely:
- a *subscription charge* is the pair (subscription number, charge name) of an item; items without a subscription
  number belong to no subscription charge;
- reversing an invoice also reverses every credit memo of the same customer account that has an item on one of the
  invoice's subscription charges and that the credit memo rules allow to reverse (posted, not reversed, nothing
  applied or refunded, not created from an invoice or a product rate plan charge, the latest credit memo of its
  subscriptions, its period open, not transferred to accounting, memo date not before its date). They are taken
  newest first, so that once the newest is reversed the next becomes the latest of its subscription. Credit memos
  the rules refuse are left as they are;
- reversing a credit memo also reverses the invoice of the same customer account from the same billing run (same
  ``billRunId``) that has an item on one of the credit memo's subscription charges, when the invoice rules allow it;
  otherwise the invoice is left as it is;
- a related document still needs its own permission (Reverse Credit Memo, Reverse Invoice) and reason code
  (``Credit memo reversal``, ``Invoice reversal``): when the actor or the book lacks them, the whole operation is
  refused rather than silently reversing less.

Generated lines follow the mirroring billing rule (``mirror.mirrored_lines``). Under the rule No a discount with
its own revenue code cannot be folded into its item without breaking the code-by-code mirror: such a reversal is
refused (``mirrored``).

"The latest" and "the most recent" compare (document date, number) among posted, not reversed documents of the
same customer account sharing a subscription; a reversed document no longer counts (reversing it reset the
subscription's charge-through date, Part 2 §6). Only credit memos that billing generated for the subscription
count as later credit memos: write-off and reversal memos (created from an invoice) do not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, select

from subledger import queries
from subledger.context import Context, require_settlement
from subledger.errors import (
    AlreadyReversed,
    DocumentNotPosted,
    NotReversible,
    PeriodClosed,
    RuleViolation,
    UnknownReasonCode,
)
from subledger.journal import Entry, Tag, post
from subledger.models.reversal import (
    CREDIT_MEMO_REVERSAL,
    INVOICE_REVERSAL,
    CreditMemoReversalRequest,
    InvoiceReversalRequest,
    MemoRef,
    ReversalResult,
    ReversedDocument,
)
from subledger.models.views import JournalEntryView
from subledger.money import fmt
from subledger.operations.documents import LABEL_OF, posting_entries
from subledger.operations.mirror import (
    MemoHeader,
    MirrorLine,
    apply_generated,
    generate_memo,
    mirrored_lines,
    next_number,
)
from subledger.operations.settlement import Applications, not_before_taken_back, taken_back
from subledger.permissions import Permission
from subledger.posting import DocumentKind
from subledger.state import (
    DocumentState,
    fetch_documents,
    fetch_locked_document,
    insert_documents,
    set_flags,
    update_balances,
)
from subledger.storage.schema import document_items, documents

#: Sources and item source types of credit memos created from an invoice (write-off and reversal memos included)
#: or from a product rate plan charge: these cannot be reversed.
FROM_INVOICE_SOURCES = frozenset({"WriteOff", "Reversal", "AdhocFromInvoice"})
FROM_CHARGE_SOURCES = frozenset({"AdhocFromPrpc", "ProductRatePlanCharge"})
FROM_INVOICE_ITEMS = frozenset({"InvoiceDetail"})
FROM_CHARGE_ITEMS = frozenset({"ProductRatePlanCharge"})

Charge = tuple[str, str | None]  # (subscription number, charge name)


def subscription_charges(doc: DocumentState) -> set[Charge]:
    return {(i.subscription_number, i.charge_name) for i in doc.items if i.subscription_number}


def _order(doc: DocumentState) -> tuple[dt.date, str]:
    return doc.document_date, doc.number


def created_from_invoice(doc: DocumentState) -> bool:
    return (
        doc.source in FROM_INVOICE_SOURCES
        or doc.source_type == DocumentKind.INVOICE
        or any(i.source_item_type in FROM_INVOICE_ITEMS for i in doc.items)
    )


def created_from_charge(doc: DocumentState) -> bool:
    return doc.source in FROM_CHARGE_SOURCES or any(i.source_item_type in FROM_CHARGE_ITEMS for i in doc.items)


@dataclass
class _Reversals:
    """One reversal operation: the documents it reverses, the memos it generates, the entries it posts."""

    ctx: Context
    memo_date: dt.date
    apply_date: dt.date
    comment: str | None
    applications: Applications
    entries: list[Entry] = field(default_factory=list)
    reversed: list[ReversedDocument] = field(default_factory=list)
    memos: list[DocumentState] = field(default_factory=list)
    done: set[str] = field(default_factory=set)

    # --- finding related documents ---------------------------------------------------------------------------

    def _sharing(
        self, doc: DocumentState, kind: DocumentKind, *, bill_run_id: str | None = None
    ) -> list[DocumentState]:
        """Posted, not reversed documents of ``kind`` on ``doc``'s account with an item on one of its
        subscriptions (and of billing run ``bill_run_id`` when given), ``doc`` excluded."""
        subscriptions = sorted({s for s, _ in subscription_charges(doc)})
        if not subscriptions:
            return []
        d, i = documents.c, document_items.c
        query = (
            select(d.number)
            .distinct()
            .join(document_items, and_(i.account_number == d.account_number, i.document_number == d.number))
            .where(
                d.account_number == doc.account_number,
                d.kind == kind,
                d.status == "Posted",
                d.reversed.is_(False),
                d.number != doc.number,
                i.subscription_number.in_(subscriptions),
            )
        )
        if bill_run_id is not None:
            query = query.where(d.bill_run_id == bill_run_id)
        numbers = list(self.ctx.conn.execute(query).scalars())
        return sorted(fetch_documents(self.ctx.conn, numbers, lock=True).values(), key=_order, reverse=True)

    def _later(self, doc: DocumentState, candidates: Iterable[DocumentState]) -> tuple[DocumentState, str] | None:
        """A later document on one of ``doc``'s subscriptions, with that subscription."""
        mine = {s for s, _ in subscription_charges(doc)}
        for other in candidates:
            shared = sorted(mine & {s for s, _ in subscription_charges(other)})
            if shared and _order(other) > _order(doc):
                return other, shared[0]
        return None

    # --- rules -----------------------------------------------------------------------------------------------

    def _common(self, doc: DocumentState) -> None:
        label = doc.kind.label
        if doc.status != "Posted":
            raise DocumentNotPosted(
                f"{label} is {doc.status}; only a posted {label} can be reversed", document=doc.number, field="status"
            )
        if doc.reversed:
            raise AlreadyReversed(f"{label} is already reversed", document=doc.number, field="reversed")
        if self.memo_date < doc.document_date:
            raise RuleViolation(
                f"memoDate {self.memo_date} is before the {label} date {doc.document_date}",
                document=doc.number,
                field="memoDate",
            )
        # The reversal memo settles the document on the apply date: not before its balance last grew back.
        taken = taken_back(self.ctx.conn, [(doc.account_number, doc.number)])
        not_before_taken_back(self.apply_date, label, doc.number, taken, owner=doc.number, field="applyEffectiveDate")
        for line in doc.lines():
            if line.balance != line.amount:
                applied = "applied or refunded" if doc.kind == DocumentKind.CREDIT_MEMO else "paid or credited"
                raise NotReversible(
                    f"line {line.id} has {fmt(line.amount - line.balance, doc.currency)} {applied}; "
                    f"only {doc.kind.a_label} with nothing {applied} can be reversed",
                    document=doc.number,
                    field=f"items[{line.id}]",
                )

    def check_invoice(self, invoice: DocumentState) -> None:
        """Refuse an invoice the invoice reversal rules do not allow to reverse."""
        number = invoice.number
        self._common(invoice)
        if invoice.amount < 0:
            raise NotReversible(
                f"invoice total {fmt(invoice.amount, invoice.currency)} is negative; "
                "a negative invoice cannot be reversed",
                document=number,
                field="amount",
            )
        derived = self.ctx.conn.execute(
            select(documents.c.number).where(
                documents.c.account_number == invoice.account_number,
                documents.c.source_document == number,
                documents.c.status != "Canceled",
            )
        ).first()
        if derived is not None:
            raise NotReversible(
                f"memo {derived.number} was created from this invoice; cancel it first", document=number
            )
        later = self._later(invoice, self._sharing(invoice, DocumentKind.INVOICE))
        if later is not None:
            raise NotReversible(
                f"invoice {later[0].number} is a more recent invoice of subscription {later[1]}; "
                "only the most recent invoice of each subscription can be reversed",
                document=number,
                field="subscriptionNumber",
            )

    def check_credit_memo(self, memo: DocumentState) -> None:
        """Refuse a credit memo the credit memo reversal rules do not allow to reverse."""
        number = memo.number
        if created_from_invoice(memo):
            raise NotReversible(
                f"credit memo was created from an invoice (source {memo.source}); it cannot be reversed",
                document=number,
                field="source",
            )
        if created_from_charge(memo):
            raise NotReversible(
                "credit memo was created from a product rate plan charge; it cannot be reversed",
                document=number,
                field="source",
            )
        self._common(memo)
        billed = [
            m
            for m in self._sharing(memo, DocumentKind.CREDIT_MEMO)
            if not (created_from_invoice(m) or created_from_charge(m))
        ]
        later = self._later(memo, billed)
        if later is not None:
            raise NotReversible(
                f"credit memo {later[0].number} is a later credit memo of subscription {later[1]}; "
                "only the latest credit memo of each subscription can be reversed",
                document=number,
                field="subscriptionNumber",
            )
        period = self.ctx.period_of(memo.document_date)
        if period is not None and not self.ctx.is_open_for_actor(period):
            raise PeriodClosed(
                f"the credit memo's accounting period {period.name} is {period.status}; it cannot be reversed",
                document=number,
                field="creditMemoDate",
            )
        if memo.transferred_to_accounting:
            raise NotReversible(
                "credit memo has been transferred to accounting; it cannot be reversed",
                document=number,
                field="transferredToAccounting",
            )

    def debit_memo_reason(self, name: str, *, document: str) -> str:
        """The debit memo reason code; the book must hold ``Credit memo reversal`` whatever the request names."""
        try:
            self.ctx.reason_code(DocumentKind.DEBIT_MEMO, CREDIT_MEMO_REVERSAL, document=document)
        except UnknownReasonCode:
            raise UnknownReasonCode(
                f"Unable to get the reason code by name: {CREDIT_MEMO_REVERSAL}", document=document, field="reasonCode"
            ) from None
        return self.ctx.reason_code(DocumentKind.DEBIT_MEMO, name, document=document)

    # --- reversing -------------------------------------------------------------------------------------------

    def _settle(self, original: DocumentState, lines: list[MirrorLine], reason_code: str) -> None:
        """Generate the mirror memo, post it, apply it back, and flag the original reversed."""
        ctx = self.ctx
        header = MemoHeader(
            number=next_number(ctx.conn, f"RV-{original.number}"),
            date=self.memo_date,
            reason_code=reason_code,
            comment=self.comment,
            origin="Reversal",
        )
        memo = generate_memo(original, lines, header, ctx.defaults)
        label = original.kind.label
        self.entries.extend(
            posting_entries(
                memo,
                tag=Tag.REVERSAL,
                description=f"{LABEL_OF[memo.kind]} {memo.number} reversing {label} {original.number}",
            )
        )
        self.entries.extend(apply_generated(self.applications, original, memo, self.apply_date, tag=Tag.REVERSAL))
        for doc in (original, memo):
            if doc.balance != 0:
                raise NotReversible(
                    f"the reversal would leave {doc.kind.label} {doc.number} with "
                    f"{fmt(doc.balance, doc.currency)} open",
                    document=original.number,
                )
        insert_documents(ctx.conn, [memo], ctx.operation_id)
        update_balances(ctx.conn, original.account_number, original.lines())
        set_flags(ctx.conn, original.account_number, original.number, reversed=True)
        self.done.update((original.number, memo.number))
        self.memos.append(memo)
        self.reversed.append(
            ReversedDocument(
                kind=original.kind,
                number=original.number,
                memo_kind=memo.kind,
                memo_number=memo.number,
                amount=fmt(original.amount, original.currency),
            )
        )

    def invoice_lines(self, invoice: DocumentState) -> list[MirrorLine]:
        """The lines the reversal of ``invoice`` mirrors; refuses an invoice the rules do not allow to reverse."""
        self.check_invoice(invoice)
        return mirrored(self.ctx, invoice)

    def credit_memo_lines(self, memo: DocumentState) -> list[MirrorLine]:
        """The lines the reversal of ``memo`` mirrors; refuses a credit memo the rules do not allow to reverse."""
        self.check_credit_memo(memo)
        return mirrored(self.ctx, memo)

    def invoice(self, invoice: DocumentState, lines: list[MirrorLine], reason_code: str) -> None:
        self._settle(invoice, lines, reason_code)
        self._also(
            invoice,
            self._sharing(invoice, DocumentKind.CREDIT_MEMO),
            self.credit_memo_lines,
            "Reverse Credit Memo",
            lambda n: self.debit_memo_reason(CREDIT_MEMO_REVERSAL, document=n),
            self.credit_memo,
        )

    def credit_memo(self, memo: DocumentState, lines: list[MirrorLine], reason_code: str) -> None:
        self._settle(memo, lines, reason_code)
        if memo.bill_run_id is None:
            return
        self._also(
            memo,
            self._sharing(memo, DocumentKind.INVOICE, bill_run_id=memo.bill_run_id),
            self.invoice_lines,
            "Reverse Invoice",
            lambda n: self.ctx.reason_code(DocumentKind.CREDIT_MEMO, INVOICE_REVERSAL, document=n),
            self.invoice,
        )

    def _also(
        self,
        doc: DocumentState,
        candidates: Iterable[DocumentState],
        lines_of: Callable[[DocumentState], list[MirrorLine]],
        permission: Permission,
        reason_of: Callable[[str], str],
        reverse: Callable[[DocumentState, list[MirrorLine], str], None],
    ) -> None:
        """Reverse each candidate sharing a subscription charge with ``doc`` that the rules allow to reverse, with its
        own permission and reason code (Part 2 §6)."""
        charges = subscription_charges(doc)
        for other in candidates:
            if other.number in self.done or not (subscription_charges(other) & charges):
                continue
            other_lines = self._related(lines_of, other)
            if other_lines is None:
                continue
            self.ctx.actor.require(permission, document=other.number)
            reverse(other, other_lines, reason_of(other.number))

    @staticmethod
    def _related(lines_of: Callable[[DocumentState], list[MirrorLine]], doc: DocumentState) -> list[MirrorLine] | None:
        """The mirrored lines of a related document, or None when the rules do not allow reversing it (a refusal
        only means: leave it as it is)."""
        try:
            return lines_of(doc)
        except RuleViolation:
            return None

    # --- result ----------------------------------------------------------------------------------------------

    def post(self) -> list[JournalEntryView]:
        ctx = self.ctx
        periods = [(ctx.open_period(e.date, document=e.document_number, field="date"), e.date) for e in self.entries]
        return queries.entries(ctx.conn, post(ctx.conn, self.entries, periods, ctx.operation_id))


def mirrored(ctx: Context, doc: DocumentState) -> list[MirrorLine]:
    """The lines a reversal's memo mirrors: every line for its whole amount (nothing is applied to the original),
    shaped by the mirroring billing rule for an invoice; a credit memo is mirrored line for line.

    Under the rule No a discount is folded into the item it discounts, and the generated line posts to the item's
    revenue code only. When the discount posted to a code of its own (discount-specific accounting codes), that
    memo could not mirror the invoice code by code, so the reversal is refused rather than posted lopsided.
    """
    lines = mirrored_lines(doc, ctx.settings.mirroring_rule)
    for line in lines:
        for original, amount in line.settlements():
            if amount != 0 and original.revenue_code != line.source.revenue_code:
                raise NotReversible(
                    f"under the mirroring rule {ctx.settings.mirroring_rule} discount {original.id} "
                    f"({original.revenue_code}) is folded into item {line.source.id} ({line.source.revenue_code}); "
                    "the reversal could not mirror the invoice's postings per accounting code",
                    document=doc.number,
                    field=f"items[{original.id}]",
                )
    return lines


def _begin(
    ctx: Context, number: str, kind: DocumentKind, request: InvoiceReversalRequest | CreditMemoReversalRequest
) -> tuple[_Reversals, DocumentState]:
    label = kind.label
    require_settlement(ctx.settings, memos=True, what=f"reversing {label} {number}", document=number)
    memo_date, apply_date = request.dates(dt.date.today())
    if apply_date < memo_date:
        raise RuleViolation(
            f"applyEffectiveDate {apply_date} is before memoDate {memo_date}",
            document=number,
            field="applyEffectiveDate",
        )
    doc = fetch_locked_document(ctx, number, kind=kind, label=label)
    run = _Reversals(ctx, memo_date, apply_date, request.comment, Applications(ctx.operation_id))
    return run, doc


def _finish(run: _Reversals) -> ReversalResult:
    run.applications.insert(run.ctx.conn)
    entries = run.post()
    first = run.memos[0]
    ref = MemoRef(id=first.number, number=first.number)
    return ReversalResult(
        credit_memo=ref if first.kind == DocumentKind.CREDIT_MEMO else None,
        debit_memo=ref if first.kind == DocumentKind.DEBIT_MEMO else None,
        reversed=run.reversed,
        journal_entries=entries,
    )


def reverse_invoice(ctx: Context, number: str, request: InvoiceReversalRequest) -> ReversalResult:
    """Reverse a posted invoice, and the credit memos of its subscription charges that can be reversed."""
    ctx.actor.require("Reverse Invoice", document=number)
    run, invoice = _begin(ctx, number, DocumentKind.INVOICE, request)
    lines = run.invoice_lines(invoice)
    reason = ctx.reason_code(DocumentKind.CREDIT_MEMO, request.reason_code, document=number)
    ctx.open_period(run.memo_date, document=number, field="memoDate")
    ctx.open_period(run.apply_date, document=number, field="applyEffectiveDate")
    run.invoice(invoice, lines, reason)
    return _finish(run)


def reverse_credit_memo(ctx: Context, number: str, request: CreditMemoReversalRequest) -> ReversalResult:
    """Reverse a posted credit memo, and the invoice of the same billing run and charges if it can be reversed."""
    ctx.actor.require("Reverse Credit Memo", document=number)
    run, memo = _begin(ctx, number, DocumentKind.CREDIT_MEMO, request)
    lines = run.credit_memo_lines(memo)
    reason = run.debit_memo_reason(request.reason_code, document=number)
    ctx.open_period(run.memo_date, document=number, field="memoDate")
    ctx.open_period(run.apply_date, document=number, field="applyEffectiveDate")
    run.credit_memo(memo, lines, reason)
    return _finish(run)
