"""Applications: settling invoice and debit memo lines with payments and credit memo lines.

Each application moves two balances by the same amount toward zero (the credit memo line's unapplied amount and
the target line's open balance, or the payment's unapplied amount and the target line's balance), records one
item-level application row, and posts one journal line pair. A line can only be settled toward zero: the amount
has the sign of the target's balance and is never larger than it.

Unapplying a credit memo moves both balances back by at most what was applied between the two lines
(``applied_pairs``); it is recorded as application rows of the negative amount, dated when it happens, and posted
as the mirror of the application. Summing application rows up to a date therefore gives what was applied as of that
date, which is all the control balances (``balances.py``) need.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection, and_, func, select

from subledger.errors import AmountExceedsBalance, InvalidInput, RuleViolation, WrongSign
from subledger.journal import Entry, EntryBuilder, Tag
from subledger.models.documents import ApplicationItem
from subledger.money import ZERO, is_exact_for, quantize
from subledger.posting import DocumentKind, PaymentType, Posts, Role, TransactionType, transaction_type
from subledger.state import DocumentState, ItemLine, TaxLine, line_of_kind
from subledger.storage.bulk import insert_rows, pairs_in
from subledger.storage.schema import applications, refunds

Line = ItemLine | TaxLine


def check_toward_zero(line: Line, amount: Decimal, *, document: str, field: str) -> None:
    """Refuse an amount that would move ``line``'s balance past zero or away from it."""
    if amount == 0:
        return
    if line.balance == 0 or (amount > 0) != (line.balance > 0):
        raise WrongSign(
            f"amount {amount} does not have the sign of line {line.id}'s balance {line.balance}",
            document=document,
            field=field,
        )
    if abs(amount) > abs(line.balance):
        raise AmountExceedsBalance(
            f"amount {amount} exceeds the open balance {line.balance} of line {line.id}",
            document=document,
            field=field,
        )


def check_exact(amounts: Iterable[tuple[str, Decimal | None]], currency: str, *, document: str) -> None:
    """Refuse the first of ``amounts`` (request field, amount or None when not given) that has more decimals than
    ``currency`` allows."""
    for where, amount in amounts:
        if amount is not None and not is_exact_for(amount, currency):
            raise InvalidInput(
                f"amount {amount} has more decimals than {currency} allows", document=document, field=where
            )


@dataclass(frozen=True)
class PaymentSource:
    """A payment as its applications post: its account, number, type (External, Electronic), unapplied code and
    currency."""

    account_number: str
    number: str
    type: PaymentType
    unapplied_code: str
    currency: str


@dataclass
class Applications:
    """The applications one operation makes, with the journal entries they post."""

    operation_id: int
    rows: list[dict[str, object]] = field(default_factory=list)
    #: Applications this operation recorded before these rows (a load writes its applications batch by batch).
    before: int = 0

    def _row(
        self,
        account_number: str,
        source_kind: str,
        source_number: str,
        source_item_id: str | None,
        target: DocumentState,
        line: Line,
        amount: Decimal,
        date: dt.date,
    ) -> None:
        self.rows.append(
            {
                "account_number": account_number,
                "id": f"APP-{self.operation_id}-{self.before + len(self.rows) + 1}",
                "operation_id": self.operation_id,
                "source_kind": source_kind,
                "source_number": source_number,
                "source_item_id": source_item_id,
                "target_number": target.number,
                "target_item_id": line.id,
                "target_is_tax": isinstance(line, TaxLine),
                "amount": amount,
                "effective_date": date,
            }
        )

    def credit_memo(
        self,
        memo: DocumentState,
        target: DocumentState,
        pairs: Sequence[tuple[Line, Line, Decimal]],
        date: dt.date,
        *,
        tag: Tag = Tag.APPLICATION,
        description: str | None = None,
    ) -> list[Entry]:
        """Apply ``memo`` lines to ``target`` lines: each pair is (memo line, target line, amount)."""
        # A memo line may settle several target lines of both signs (an item and its discount): what must move
        # toward zero, and never past it, is the memo line's net; each target line is checked on its own.
        nets: dict[str, tuple[Line, Decimal]] = {}
        for memo_line, _, amount in pairs:
            net = nets.get(memo_line.id, (memo_line, ZERO))[1] + amount
            nets[memo_line.id] = (memo_line, net)
        for memo_line, net in nets.values():
            check_toward_zero(memo_line, net, document=memo.number, field=f"items[{memo_line.id}]")
        for _, target_line, amount in pairs:
            check_toward_zero(target_line, amount, document=target.number, field=f"items[{target_line.id}]")
            target_line.balance -= amount
        for memo_line, _, amount in pairs:
            memo_line.balance -= amount
        return self._credit_memo_moves(
            memo,
            target,
            pairs,
            date,
            tag=tag,
            description=description or f"Credit memo {memo.number} applied to {target.kind.label} {target.number}",
        )

    def unapply_credit_memo(
        self,
        memo: DocumentState,
        target: DocumentState,
        pairs: Sequence[tuple[Line, Line, Decimal]],
        date: dt.date,
    ) -> list[Entry]:
        """Return applied amounts: each pair (memo line, target line, amount applied between them) gives ``amount``
        back to the memo line's unapplied amount and to the target line's open balance.

        The caller checks each amount against what is applied between the two lines (``applied_pairs``). The
        unapplication is recorded as application rows of ``-amount`` on ``date`` (so that sums of applications
        stay the amounts applied, as of any date) and posted as the application's mirror, a new entry.
        """
        for memo_line, target_line, amount in pairs:
            memo_line.balance += amount
            target_line.balance += amount
        return self._credit_memo_moves(
            memo,
            target,
            [(memo_line, target_line, -amount) for memo_line, target_line, amount in pairs],
            date,
            tag=Tag.APPLICATION,
            description=f"Credit memo {memo.number} unapplied from {target.kind.label} {target.number}",
        )

    def _credit_memo_moves(
        self,
        memo: DocumentState,
        target: DocumentState,
        pairs: Sequence[tuple[Line, Line, Decimal]],
        date: dt.date,
        *,
        tag: Tag,
        description: str,
    ) -> list[Entry]:
        """The application rows and the Credit Memo Application Item entry of signed amounts (negative: undone)."""
        builder = EntryBuilder.of(memo, date, target.number, tag=tag, description=description)
        for memo_line, target_line, amount in pairs:
            self._row(
                memo.account_number,
                DocumentKind.CREDIT_MEMO,
                memo.number,
                memo_line.id,
                target,
                target_line,
                amount,
                date,
            )
            on_account = memo_line.on_account_code
            assert on_account is not None, "credit memo lines carry their on-account code"
            builder.add(
                TransactionType.CREDIT_MEMO_APPLICATION,
                amount,
                {Role.ON_ACCOUNT: on_account, Role.AR: target_line.ar_code},
                target_line.id,
            )
        return builder.entries()

    def payment(
        self, payment: PaymentSource, target: DocumentState, parts: Sequence[tuple[Line, Decimal]], date: dt.date
    ) -> list[Entry]:
        """Apply the payment to ``target``: each part (target line, amount) settles the line toward zero."""
        return self._payment_moves(payment, target, parts, date, 1)

    def unapply_payment(
        self, payment: PaymentSource, target: DocumentState, parts: Sequence[tuple[Line, Decimal]], date: dt.date
    ) -> list[Entry]:
        """Return applied amounts to the payment: each part (target line, amount applied from the payment) goes
        back to the line's open balance, recorded as an application row of ``-amount`` on ``date`` and posted as
        the application's mirror (Dr Accounts Receivable, Cr Unapplied Payments), a new entry. The caller checks
        each amount against what the payment has applied to the line (``payment_applied``)."""
        return self._payment_moves(payment, target, parts, date, -1)

    def _payment_moves(
        self,
        payment: PaymentSource,
        target: DocumentState,
        parts: Sequence[tuple[Line, Decimal]],
        date: dt.date,
        sign: int,
    ) -> list[Entry]:
        """The application rows and the Payment Application Item entry of ``sign`` times each part."""
        moved = "applied to" if sign > 0 else "unapplied from"
        description = f"Payment {payment.number} {moved} {target.kind.label} {target.number}"
        builder = EntryBuilder.of(payment, date, target.number, tag=Tag.APPLICATION, description=description)
        posts = transaction_type(Posts.PAYMENT_APPLICATION, payment.type)
        for line, amount in parts:
            if sign > 0:
                check_toward_zero(line, amount, document=target.number, field=f"items[{line.id}]")
            line.balance -= sign * amount
            self._row(payment.account_number, "Payment", payment.number, None, target, line, sign * amount, date)
            builder.add(posts, sign * amount, {Role.UNAPPLIED: payment.unapplied_code, Role.AR: line.ar_code}, line.id)
        return builder.entries()

    def insert(self, conn: Connection) -> None:
        insert_rows(conn, applications, self.rows)


def fifo(target: DocumentState, amount: Decimal) -> list[tuple[Line, Decimal]]:
    """Spread an un-itemised positive amount over the target's positive open lines, in line order."""
    parts: list[tuple[Line, Decimal]] = []
    remaining = amount
    for line in target.lines():
        if remaining <= 0:
            break
        if line.balance > 0:
            take = min(line.balance, remaining)
            parts.append((line, take))
            remaining -= take
    if remaining > 0:
        raise AmountExceedsBalance(
            f"amount {amount} exceeds the open balance {target.balance - ZERO} of {target.number}",
            document=target.number,
            field="amount",
        )
    return parts


def itemised(
    target: DocumentState, items: Sequence[ApplicationItem], *, document: str, field: str, by_kind: bool = True
) -> list[tuple[Line, Decimal]]:
    """The target line each item of an itemised application names, with its amount: one per item, in order.

    ``by_kind``: an ``invoiceItemId`` names an invoice's line and a ``debitMemoItemId`` a debit memo's."""
    lines = {line.id: line for line in target.lines()}
    parts: list[tuple[Line, Decimal]] = []
    for k, part in enumerate(items):
        line_id = part.invoice_item_id or part.debit_memo_item_id or part.taxation_item_id or ""
        is_tax = part.taxation_item_id is not None
        wrong_kind = by_kind and (
            (part.invoice_item_id is not None and target.kind != DocumentKind.INVOICE)
            or (part.debit_memo_item_id is not None and target.kind != DocumentKind.DEBIT_MEMO)
        )
        found = None if wrong_kind else lines.get(line_id)
        line = line_of_kind(found, line_id, is_tax, owner=target.number, document=document, field=f"{field}.items[{k}]")
        parts.append((line, part.amount))
    return parts


def _same_kind(a: Line, b: Line) -> bool:
    """Charge settles charge and tax settles tax (creditMemoItemId -> item, creditTaxItemId -> taxation item)."""
    return isinstance(a, TaxLine) == isinstance(b, TaxLine)


def _label(line: Line) -> str:
    return "tax" if isinstance(line, TaxLine) else "charge"


def pair_memo_lines(
    memo: DocumentState, parts: Sequence[tuple[Line | None, Line, Decimal]], *, field: str
) -> list[tuple[Line, Line, Decimal]]:
    """Give each target part the credit memo line it is applied from: the line named, or else the memo's lines of
    the same kind (charge or tax) with unapplied amount left, in line order (FIFO). A negative part (settling a
    negative line) must name its memo line. Amounts are checked when applied (``Applications.credit_memo``)."""
    left = {line.id: line.balance for line in memo.lines()}
    for named, _, amount in parts:
        if named is not None:
            left[named.id] -= amount
    pairs: list[tuple[Line, Line, Decimal]] = []
    for named, target_line, amount in parts:
        if named is not None:
            pairs.append((named, target_line, amount))
            continue
        if amount < 0:
            raise RuleViolation(
                f"the negative amount {amount} on line {target_line.id} needs the credit memo line it comes from "
                "(creditMemoItemId or creditTaxItemId)",
                document=memo.number,
                field=field,
            )
        remaining = amount
        for memo_line in memo.lines():
            if remaining == 0:
                break
            if _same_kind(memo_line, target_line) and left[memo_line.id] > 0:
                take = min(left[memo_line.id], remaining)
                pairs.append((memo_line, target_line, take))
                left[memo_line.id] -= take
                remaining -= take
        if remaining:
            raise AmountExceedsBalance(
                f"credit memo has not enough unapplied {_label(target_line)} amount for {amount} "
                f"on line {target_line.id}",
                document=memo.number,
                field=field,
            )
    return pairs


def fifo_from_memo(
    memo: DocumentState, target: DocumentState, amount: Decimal, *, field: str
) -> list[tuple[Line, Line, Decimal]]:
    """An un-itemised credit memo application, first in first out: the target's positive open lines in line order,
    each taking what the memo still has unapplied of the same kind (charge or tax), until ``amount`` is spread."""
    left = dict.fromkeys((False, True), ZERO)
    for line in memo.lines():
        if line.balance > 0:
            left[isinstance(line, TaxLine)] += line.balance
    open_lines = [line for line in target.lines() if line.balance > 0]
    owed = sum((line.balance for line in open_lines), ZERO)
    if amount > owed:
        raise AmountExceedsBalance(
            f"amount {amount} exceeds the open balance {owed} of {target.number}",
            document=memo.number,
            field=f"{field}.amount",
        )
    parts: list[tuple[Line | None, Line, Decimal]] = []
    remaining = amount
    for line in open_lines:
        if remaining == 0:
            break
        kind = isinstance(line, TaxLine)
        take = min(line.balance, remaining, left[kind])
        if take > 0:
            parts.append((None, line, take))
            left[kind] -= take
            remaining -= take
    if remaining:
        raise AmountExceedsBalance(
            f"amount {amount} is more than the credit memo can settle on {target.number} ({amount - remaining} at "
            "most: its charge lines settle charge lines and its tax lines tax lines)",
            document=memo.number,
            field=f"{field}.amount",
        )
    return pair_memo_lines(memo, parts, field=field)


@dataclass(frozen=True)
class Applied:
    """What is applied, net of unapplications, between one credit memo line and one target line."""

    memo_line: Line
    target_line: Line
    amount: Decimal
    #: The latest effective date among the rows (an unapplication cannot be dated before what it undoes).
    last_date: dt.date


def applied_pairs(conn: Connection, memo: DocumentState, target: DocumentState) -> list[Applied]:
    """The (memo line, target line) pairs with something applied, oldest application first (FIFO)."""
    a = applications.c
    rows = conn.execute(
        select(
            a.source_item_id,
            a.target_item_id,
            func.sum(a.amount),
            func.min(a.effective_date),
            func.max(a.effective_date),
            func.min(a.operation_id),
        )
        .where(
            and_(
                a.account_number == memo.account_number,
                a.source_kind == DocumentKind.CREDIT_MEMO,
                a.source_number == memo.number,
                a.target_number == target.number,
            )
        )
        .group_by(a.source_item_id, a.target_item_id)
    ).all()
    memo_lines = {line.id: (n, line) for n, line in enumerate(memo.lines())}
    target_lines = {line.id: (n, line) for n, line in enumerate(target.lines())}
    found: list[tuple[tuple[dt.date, int, int, int], Applied]] = []
    for memo_id, target_id, total, first, last, operation in rows:
        net = quantize(total or ZERO, memo.currency)
        if net == 0 or memo_id not in memo_lines or target_id not in target_lines:
            continue
        (m, memo_line), (t, target_line) = memo_lines[memo_id], target_lines[target_id]
        found.append(((first, operation, t, m), Applied(memo_line, target_line, net, last)))
    return [applied for _, applied in sorted(found, key=lambda pair: pair[0])]


@dataclass(frozen=True)
class PaymentApplied:
    """What a payment has applied, net of unapplications, to one target line."""

    line: Line
    amount: Decimal
    #: The latest effective date among the rows (an unapplication cannot be dated before what it undoes).
    last_date: dt.date


def payment_applied(conn: Connection, account_number: str, payment: str, target: DocumentState) -> list[PaymentApplied]:
    """The target lines ``payment`` has something applied to, oldest application first (FIFO)."""
    a = applications.c
    rows = conn.execute(
        select(a.target_item_id, func.sum(a.amount), func.min(a.effective_date), func.max(a.effective_date))
        .add_columns(func.min(a.operation_id))
        .where(
            and_(
                a.account_number == account_number,
                a.source_kind == "Payment",
                a.source_number == payment,
                a.target_number == target.number,
            )
        )
        .group_by(a.target_item_id)
    ).all()
    lines = {line.id: (n, line) for n, line in enumerate(target.lines())}
    found: list[tuple[tuple[dt.date, int, int], PaymentApplied]] = []
    for target_id, total, first, last, operation in rows:
        net = quantize(total or ZERO, target.currency)
        if net == 0 or target_id not in lines:
            continue
        n, line = lines[target_id]
        found.append(((first, operation, n), PaymentApplied(line, net, last)))
    return [applied for _, applied in sorted(found, key=lambda pair: pair[0])]


def taken_back(conn: Connection, documents: Iterable[tuple[str, str]]) -> dict[str, dt.date]:
    """For each of ``documents`` (account number, number: a payment or any document), the latest day its open or
    unapplied balance grew back: an application from it or to it taken back (the unapplication's effective date),
    or, for a credit memo, a refund of it cancelled. Absent when it never did.

    An operation checks the balance as it is now but posts on its own date: dated before that day, it would settle
    or pay out what the document did not hold then (a write-off of 11-16 taking what an unapply of 11-20 gave back
    left the invoice below zero between the two dates, and a period could close on it). Whatever takes that
    balance again is therefore dated no earlier."""
    pairs = sorted(set(documents))
    if not pairs:
        return {}
    a = applications.c
    found: dict[str, dt.date] = {}
    # By (account, number) pairs: an IN list on each column alone made SQLite probe every account with every number.
    queries = [
        select(column, func.max(a.effective_date))
        .where(pairs_in(conn, (a.account_number, column), pairs), a.amount < 0)
        .group_by(column)
        for column in (a.source_number, a.target_number)
    ]
    r = refunds.c
    queries.append(
        select(r.credit_memo_number, func.max(r.cancel_date))
        .where(pairs_in(conn, (r.account_number, r.credit_memo_number), pairs), r.cancel_date.is_not(None))
        .group_by(r.credit_memo_number)
    )
    for query in queries:
        for number, day in conn.execute(query):
            if day is not None and (number not in found or day > found[number]):
                found[number] = day
    return found


def not_before_billed(date: dt.date, target: DocumentState, *, named: str, owner: str, field: str) -> None:
    """Refuse an application dated ``date`` (``named`` so in the refusal) before the invoice or debit memo it settles:
    settled before it was billed, the receivable would be negative until the target's date (an aging between the two
    dates no longer ties, and a period could close on it)."""
    if date < target.document_date:
        raise RuleViolation(
            f"{named} {date} is before the date of {target.kind.label} {target.number}, {target.document_date}",
            document=owner,
            field=field,
        )


def not_before_taken_back(
    date: dt.date, label: str, number: str, taken: dict[str, dt.date], *, owner: str, field: str
) -> None:
    """Refuse ``date`` when it is before the day document ``number``'s balance last grew back (``taken_back``)."""
    day = taken.get(number)
    if day is not None and date < day:
        raise RuleViolation(
            f"{field} {date} is before {day}, when an application of {label} {number} was taken back or a refund "
            "of it cancelled: it did not hold that balance before",
            document=owner,
            field=field,
        )
