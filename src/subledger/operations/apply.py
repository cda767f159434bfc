"""Applying and unapplying credit memos, and applying payments, once the documents are in the books.

The request is the reference product's (``models/apply.py``): an effective date and, per invoice or debit memo, an
amount with optional item-level parts. Each operation touches one customer account: it locks the account, then the
documents (and the payment) it changes, before reading a balance.

Rules, each refusing the whole request with nothing written:
- the credit memo is posted and not reversed (a reversed one can be neither applied nor unapplied, Part 2 §10);
  the payment is processed;
- every invoice and debit memo named exists, is posted, belongs to the same customer account and currency, and
  (to apply) is not reversed; each is named once;
- the effective date is not before the credit memo's (or payment's) date and falls in a period open to the actor;
- amounts fit the currency; the total is at most the credit memo's (payment's) unapplied amount;
- each applied line moves toward zero and never past it, on both sides (``settlement.check_toward_zero``);
  a credit memo's charge lines settle charge lines and its tax lines taxation lines.
- unapplying returns at most what is applied between each credit memo line and target line, dated not before the
  application it undoes; applications made by a write-off or a reversal (the memo it generated, or the debit memo
  a credit memo was applied to when written off or reversed) are refused: those memos must stay applied.

Without items, an amount is spread first in first out: applying takes the target's open lines in line order
(``settlement.fifo_from_memo``, ``settlement.fifo`` for payments), unapplying takes back the oldest applications
first (``settlement.applied_pairs``). Without ``creditMemoItemId``/``creditTaxItemId`` an item-level part is
settled from the memo's lines of the same kind in line order (``settlement.pair_memo_lines``).

Journal: a credit memo application posts Credit Memo Application Item (Dr On-Account, Cr Accounts Receivable), a
payment application ``<type> Payment Application Item`` (Dr Unapplied Payments, Cr Accounts Receivable), both on
the effective date and tagged ``application``. An unapplication posts a new entry, the mirror of the application
(Dr Accounts Receivable, Cr On-Account), on its own effective date; posted entries are never changed. It is
recorded as application rows of the negative amount, so ``balances.py`` needs no special case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select, update

from subledger import queries
from subledger.context import Context
from subledger.errors import (
    AlreadyReversed,
    AmountExceedsBalance,
    DocumentNotPosted,
    NotFound,
    NotUnappliable,
    RuleViolation,
)
from subledger.journal import Entry, post
from subledger.models.apply import (
    ApplicationView,
    ApplyPart,
    ApplyRequest,
    ApplyResult,
    CreditMemoApplicationItem,
    CreditMemoApplyRequest,
    CreditMemoUnapplyRequest,
    PaymentApplyRequest,
    PaymentUnapplyRequest,
)
from subledger.money import ZERO, fmt, quantize
from subledger.operations.settlement import (
    Applications,
    Applied,
    Line,
    PaymentSource,
    applied_pairs,
    check_exact,
    fifo,
    fifo_from_memo,
    itemised,
    not_before_billed,
    not_before_taken_back,
    pair_memo_lines,
    payment_applied,
    taken_back,
)
from subledger.posting import DocumentKind, payment_type
from subledger.state import DocumentState, TaxLine, fetch_documents, fetch_locked_document, update_balances
from subledger.storage.schema import payments

#: Sources of the memos write-offs and reversals generate (``mirror.MemoHeader.origin``): their applications stay.
_ORIGIN = {"WriteOff": "write-off", "Reversal": "reversal"}
GENERATED_SOURCES = frozenset(_ORIGIN)

Target = tuple[str, ApplyPart, DocumentState]  # (request field, requested part, the invoice or debit memo)


# --- shared checks ----------------------------------------------------------------------------------------------


def _check_amounts(request: ApplyRequest, currency: str, number: str) -> None:
    for field, _, part in request.fields():
        amounts = [(f"{field}.amount", part.amount)]
        amounts += [(f"{field}.items[{k}].amount", item.amount) for k, item in enumerate(part.items)]
        check_exact(amounts, currency, document=number)


def _effective_date(ctx: Context, request: ApplyRequest, not_before: dt.date, what: str, number: str) -> dt.date:
    date = request.date()
    ctx.open_period_from(date, not_before=not_before, what=f"{what} date", document=number, field="effectiveDate")
    return date


def _targets(
    ctx: Context, request: ApplyRequest, account: str, currency: str, number: str, *, applying: bool
) -> list[Target]:
    """The invoices and debit memos the request names, locked, each checked against the source document."""
    found = fetch_documents(ctx.conn, [p.number for p in request.parts()], lock=True)
    targets: list[Target] = []
    for field, name, part in request.fields():
        kind = DocumentKind(name)
        label = kind.label
        doc = found.get(part.number)
        if doc is None or doc.kind != kind:
            raise NotFound(f"no {label} {part.number}", document=number, field=field)
        if doc.account_number != account:
            raise RuleViolation(
                f"{label} {part.number} belongs to another customer account", document=number, field=field
            )
        if doc.currency != currency:
            raise RuleViolation(
                f"{label} {part.number} is in {doc.currency}, not {currency}", document=number, field=field
            )
        if doc.status != "Posted":
            raise DocumentNotPosted(f"{label} {part.number} is {doc.status}, not posted", document=number, field=field)
        if applying and doc.reversed:
            raise AlreadyReversed(f"{label} {part.number} is reversed", document=number, field=field)
        targets.append((field, part, doc))
    return targets


def _applying(
    ctx: Context,
    request: ApplyRequest,
    number: str,
    account: str,
    currency: str,
    dated: dt.date,
    unapplied: Decimal,
    what: str,
) -> tuple[dt.date, list[Target], Applications]:
    """What applying a credit memo or a payment checks first: the amounts, the effective date (not before the
    source's ``dated``), the total against its ``unapplied`` amount; then its targets, locked and checked, and the
    applications it will make."""
    _check_amounts(request, currency, number)
    date = _effective_date(ctx, request, dated, what, number)
    _not_more_than(request.total, unapplied, currency, what, number)
    targets = _targets(ctx, request, account, currency, number, applying=True)
    taken = taken_back(ctx.conn, [(account, number), *((account, t.number) for _, _, t in targets)])
    not_before_taken_back(date, what, number, taken, owner=number, field="effectiveDate")
    for _, _, target in targets:
        not_before_taken_back(date, target.kind.label, target.number, taken, owner=number, field="effectiveDate")
        not_before_billed(date, target, named="effectiveDate", owner=number, field="effectiveDate")
    return date, targets, Applications(ctx.operation_id)


def _not_more_than(total: Decimal, unapplied: Decimal, currency: str, what: str, number: str) -> None:
    if total > unapplied:
        raise AmountExceedsBalance(
            f"amount {fmt(total, currency)} exceeds the {what}'s unapplied amount {fmt(unapplied, currency)}",
            document=number,
        )


def _nothing(number: str) -> RuleViolation:
    return RuleViolation("every amount given is zero: nothing to apply", document=number)


def _memo_line(memo: DocumentState, item: CreditMemoApplicationItem, field: str) -> Line | None:
    """The credit memo line an item-level part names, if it names one."""
    line_id = item.memo_line_id
    if line_id is None:
        return None
    line = next((line for line in memo.lines() if line.id == line_id), None)
    is_tax = item.credit_tax_item_id is not None
    if line is None or isinstance(line, TaxLine) != is_tax:
        raise NotFound(
            f"credit memo has no {'taxation item' if is_tax else 'item'} {line_id}",
            document=memo.number,
            field=f"{field}.{'creditTaxItemId' if is_tax else 'creditMemoItemId'}",
        )
    return line


def _finish(
    ctx: Context,
    *,
    source_kind: str,
    number: str,
    account: str,
    currency: str,
    date: dt.date,
    amount: Decimal,
    unapplied: Decimal,
    run: Applications,
    entries: Sequence[Entry],
) -> ApplyResult:
    """Record the application rows, post the entries, and report both."""
    run.insert(ctx.conn)
    period = ctx.open_period(date, document=number, field="effectiveDate")
    keys = post(ctx.conn, entries, [(period, date)] * len(entries), ctx.operation_id)
    ids = {f"{a}-{seq}" for a, seq in keys}
    return ApplyResult(
        source_kind=source_kind,
        number=number,
        effective_date=date,
        amount=fmt(amount, currency),
        unapplied_amount=fmt(unapplied, currency),
        currency=currency,
        applications=[
            ApplicationView(
                id=str(row["id"]),
                target_number=str(row["target_number"]),
                target_item_id=str(row["target_item_id"]),
                source_item_id=None if row["source_item_id"] is None else str(row["source_item_id"]),
                amount=fmt(row["amount"], currency),  # type: ignore[arg-type]
                effective_date=date,
            )
            for row in run.rows
        ],
        journal_entries=[
            e for e in queries.journal(ctx.conn, document=number) if e.id in ids and e.account_number == account
        ],
    )


# --- credit memos -------------------------------------------------------------------------------------------------


def apply_credit_memo(ctx: Context, number: str, request: CreditMemoApplyRequest) -> ApplyResult:
    """Apply a posted credit memo's unapplied amount to invoices and debit memos of its customer account."""
    memo = fetch_locked_document(ctx, number, kind=DocumentKind.CREDIT_MEMO, label="credit memo")
    if memo.status != "Posted":
        raise DocumentNotPosted(
            f"credit memo is {memo.status}; only a posted credit memo can be applied", document=number, field="status"
        )
    if memo.reversed:
        raise AlreadyReversed("credit memo is reversed; it can no longer be applied", document=number, field="reversed")
    date, targets, run = _applying(
        ctx, request, number, memo.account_number, memo.currency, memo.document_date, memo.balance, "credit memo"
    )
    entries: list[Entry] = []
    touched: list[Line] = []
    for field, part, target in targets:
        if part.items:
            lines = itemised(target, part.items, document=number, field=field)
            parts: list[tuple[Line | None, Line, Decimal]] = []
            for k, (item, (target_line, amount)) in enumerate(zip(part.items, lines, strict=True)):
                assert isinstance(item, CreditMemoApplicationItem)
                if amount != 0:
                    parts.append((_memo_line(memo, item, f"{field}.items[{k}]"), target_line, amount))
            pairs = pair_memo_lines(memo, parts, field=field)
        else:
            pairs = fifo_from_memo(memo, target, part.amount, field=field)
        entries += run.credit_memo(memo, target, pairs, date)
        touched += [target_line for _, target_line, _ in pairs]
    return _finish_memo(ctx, memo, touched, date, request.total, run, entries)


def _finish_memo(
    ctx: Context,
    memo: DocumentState,
    touched: list[Line],
    date: dt.date,
    total: Decimal,
    run: Applications,
    entries: list[Entry],
) -> ApplyResult:
    """Write the balances a credit memo application or unapplication moved, and report it."""
    if not run.rows:
        raise _nothing(memo.number)
    update_balances(ctx.conn, memo.account_number, [*memo.lines(), *touched])
    return _finish(
        ctx,
        source_kind=DocumentKind.CREDIT_MEMO,
        number=memo.number,
        account=memo.account_number,
        currency=memo.currency,
        date=date,
        amount=total,
        unapplied=memo.balance,
        run=run,
        entries=entries,
    )


def _take_back(
    memo: DocumentState, target: DocumentState, part: ApplyPart, applied: list[Applied], field: str
) -> list[tuple[Applied, Decimal]]:
    """What to unapply from each applied pair: oldest first, from the lines named or from any."""
    left = {(a.memo_line.id, a.target_line.id): a.amount for a in applied}
    wanted: list[tuple[Line | None, Line | None, Decimal, str]] = []
    if part.items:
        lines = itemised(target, part.items, document=memo.number, field=field)
        for k, (item, (target_line, amount)) in enumerate(zip(part.items, lines, strict=True)):
            assert isinstance(item, CreditMemoApplicationItem)
            where = f"{field}.items[{k}]"
            if amount != 0:
                wanted.append((_memo_line(memo, item, where), target_line, amount, where))
    else:
        wanted.append((None, None, part.amount, f"{field}.amount"))
    taken: list[tuple[Applied, Decimal]] = []
    for named, line, amount, where in wanted:
        candidates = [
            a for a in applied if (line is None or a.target_line is line) and (named is None or a.memo_line is named)
        ]
        remaining = amount
        for a in candidates:
            key = (a.memo_line.id, a.target_line.id)
            if remaining == 0:
                break
            if left[key] == 0 or (left[key] > 0) != (remaining > 0):
                continue
            take = min(left[key], remaining) if remaining > 0 else max(left[key], remaining)
            taken.append((a, take))
            left[key] -= take
            remaining -= take
        if remaining:
            has = sum((a.amount for a in candidates if (a.amount > 0) == (amount > 0)), ZERO)
            on = f"line {line.id} of {target.number}" if line is not None else target.number
            raise AmountExceedsBalance(
                f"amount {amount} exceeds what the credit memo has applied to {on} "
                f"({fmt(has, memo.currency)} can be unapplied)",
                document=memo.number,
                field=where,
            )
    return taken


def unapply_credit_memo(ctx: Context, number: str, request: CreditMemoUnapplyRequest) -> ApplyResult:
    """Return applied amounts of a credit memo to its unapplied amount (not a reversed one, not a write-off's)."""
    memo = fetch_locked_document(ctx, number, kind=DocumentKind.CREDIT_MEMO, label="credit memo")
    if memo.reversed:
        raise AlreadyReversed(
            "credit memo is reversed; a reversed credit memo can no longer be unapplied",
            document=number,
            field="reversed",
        )
    if memo.status != "Posted":
        raise DocumentNotPosted(
            f"credit memo is {memo.status}; only a posted credit memo can be unapplied", document=number, field="status"
        )
    if memo.source in GENERATED_SOURCES:
        raise NotUnappliable(
            f"credit memo was generated by the {_ORIGIN[memo.source]} of {memo.source_document} and must stay "
            "applied to it; it cannot be unapplied",
            document=number,
            field="source",
        )
    _check_amounts(request, memo.currency, number)
    date = _effective_date(ctx, request, memo.document_date, "credit memo", number)
    targets = _targets(ctx, request, memo.account_number, memo.currency, number, applying=False)
    run = Applications(ctx.operation_id)
    entries: list[Entry] = []
    touched: list[Line] = []
    for field, part, target in targets:
        label = target.kind.label
        if target.source in GENERATED_SOURCES:
            raise NotUnappliable(
                f"{label} {target.number} was generated by the {_ORIGIN[target.source]} of this credit memo, which "
                "must stay applied to it; it cannot be unapplied",
                document=number,
                field=field,
            )
        applied = applied_pairs(ctx.conn, memo, target)
        if not applied:
            raise RuleViolation(f"credit memo is not applied to {label} {target.number}", document=number, field=field)
        taken = _take_back(memo, target, part, applied, field)
        for a, _ in taken:
            if date < a.last_date:
                raise RuleViolation(
                    f"effectiveDate {date} is before the application it undoes ({a.last_date}, line "
                    f"{a.target_line.id} of {target.number})",
                    document=number,
                    field="effectiveDate",
                )
        entries += run.unapply_credit_memo(memo, target, [(a.memo_line, a.target_line, t) for a, t in taken], date)
        touched += [a.target_line for a, _ in taken]
    return _finish_memo(ctx, memo, touched, date, request.total, run, entries)


# --- payments -----------------------------------------------------------------------------------------------------


def _locked_payment(ctx: Context, number: str, verb: str) -> Row[Any]:
    """The payment, its account locked first; only a processed payment can be applied or unapplied."""
    p = payments.c
    account = ctx.conn.execute(select(p.account_number).where(p.number == number)).scalar()
    if account is None:
        raise NotFound(f"no payment {number}", document=number)
    ctx.lock_accounts([account])
    query = select(payments).where(p.account_number == account, p.number == number)
    if ctx.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    payment = ctx.conn.execute(query).one()
    if payment.status != "Processed":
        raise DocumentNotPosted(
            f"payment is {payment.status}; only a processed payment can be {verb}", document=number, field="status"
        )
    return payment


def apply_payment(ctx: Context, number: str, request: PaymentApplyRequest) -> ApplyResult:
    """Apply a processed payment's unapplied amount to invoices and debit memos of its customer account."""
    payment = _locked_payment(ctx, number, "applied")
    account: str = payment.account_number
    currency: str = payment.currency
    source = PaymentSource(account, number, payment_type(payment.type), payment.unapplied_code, currency)
    unapplied = quantize(payment.unapplied, currency)
    date, targets, run = _applying(
        ctx, request, number, account, currency, payment.effective_date, unapplied, "payment"
    )
    entries: list[Entry] = []
    touched: list[Line] = []
    for field, part, target in targets:
        if part.items:
            lines = itemised(target, part.items, document=number, field=field)
            parts = [(line, amount) for line, amount in lines if amount != 0]
        else:
            parts = fifo(target, part.amount)
        entries += run.payment(source, target, parts, date)
        touched += [line for line, _ in parts]
    if not run.rows:
        raise _nothing(number)
    return _finish_payment(ctx, source, touched, date, request.total, unapplied - request.total, run, entries)


def unapply_payment(ctx: Context, number: str, request: PaymentUnapplyRequest) -> ApplyResult:
    """Return amounts a payment applied to invoices and debit memos to the payment's unapplied amount.

    The mirror of ``apply_payment``: each amount is at most what the payment has applied (net of earlier
    unapplications) to the line, dated not before the application it undoes, in a period open to the actor; the
    target lines' open balances grow back by it and the payment's unapplied amount grows by the total.
    """
    ctx.actor.require("Unapply Payment", document=number)
    payment = _locked_payment(ctx, number, "unapplied")
    account: str = payment.account_number
    currency: str = payment.currency
    source = PaymentSource(account, number, payment_type(payment.type), payment.unapplied_code, currency)
    _check_amounts(request, currency, number)
    date = _effective_date(ctx, request, payment.effective_date, "payment", number)
    targets = _targets(ctx, request, account, currency, number, applying=False)
    run = Applications(ctx.operation_id)
    entries: list[Entry] = []
    touched: list[Line] = []
    for field, part, target in targets:
        label = target.kind.label
        applied = payment_applied(ctx.conn, account, number, target)
        if not applied:
            raise RuleViolation(f"payment is not applied to {label} {target.number}", document=number, field=field)
        left = {a.line.id: a.amount for a in applied}
        wanted: list[tuple[Line | None, Decimal, str]]
        if part.items:
            lines = itemised(target, part.items, document=number, field=field)
            wanted = [(line, amount, f"{field}.items[{k}]") for k, (line, amount) in enumerate(lines) if amount != 0]
        else:
            wanted = [(None, part.amount, f"{field}.amount")]
        parts: list[tuple[Line, Decimal]] = []
        for named, amount, where in wanted:
            remaining = amount
            for a in applied:
                if remaining == 0:
                    break
                if (named is not None and a.line is not named) or left[a.line.id] <= 0:
                    continue
                if date < a.last_date:
                    raise RuleViolation(
                        f"effectiveDate {date} is before the application it undoes ({a.last_date}, line "
                        f"{a.line.id} of {target.number})",
                        document=number,
                        field="effectiveDate",
                    )
                take = min(left[a.line.id], remaining)
                parts.append((a.line, take))
                left[a.line.id] -= take
                remaining -= take
            if remaining:
                has = sum((a.amount for a in applied if named is None or a.line is named), ZERO)
                on = f"line {named.id} of {target.number}" if named is not None else target.number
                raise AmountExceedsBalance(
                    f"amount {fmt(amount, currency)} exceeds what the payment has applied to {on} "
                    f"({fmt(has, currency)} can be unapplied)",
                    document=number,
                    field=where,
                )
        entries += run.unapply_payment(source, target, parts, date)
        touched += [line for line, _ in parts]
    if not run.rows:
        raise RuleViolation("every amount given is zero: nothing to unapply", document=number)
    after = quantize(payment.unapplied, currency) + request.total
    return _finish_payment(ctx, source, touched, date, request.total, after, run, entries)


def _finish_payment(
    ctx: Context,
    payment: PaymentSource,
    touched: list[Line],
    date: dt.date,
    total: Decimal,
    left: Decimal,
    run: Applications,
    entries: list[Entry],
) -> ApplyResult:
    """Write the balances a payment application or unapplication moved and the payment's unapplied amount ``left``,
    and report it."""
    account, number = payment.account_number, payment.number
    update_balances(ctx.conn, account, touched)
    p = payments.c
    ctx.conn.execute(update(payments).where(p.account_number == account, p.number == number).values(unapplied=left))
    return _finish(
        ctx,
        source_kind="Payment",
        number=number,
        account=account,
        currency=payment.currency,
        date=date,
        amount=total,
        unapplied=left,
        run=run,
        entries=entries,
    )
