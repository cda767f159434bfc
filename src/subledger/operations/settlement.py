"""Applications: settling invoice and debit memo lines with payments and credit memo lines.

Each application moves two balances by the same amount toward zero (the credit memo line's unapplied amount and
the target line's open balance, or the payment's unapplied amount and the target line's balance), records one
item-level application row, and posts one journal line pair. A line can only be settled toward zero: the amount
has the sign of the target's balance and is never larger than it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection

from subledger.errors import AmountExceedsBalance, WrongSign
from subledger.journal import Entry, EntryBuilder
from subledger.money import ZERO
from subledger.operations.state import DocumentState, ItemLine, TaxLine
from subledger.storage.schema import applications

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


def ar_codes(line: Line) -> dict[str, str]:
    return {"ar": line.ar_code}


@dataclass
class Applications:
    """The applications one operation makes, with the journal entries they post."""

    operation_id: int
    rows: list[dict[str, object]] = field(default_factory=list)

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
                "id": f"APP-{self.operation_id}-{len(self.rows) + 1}",
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
        tag: str = "application",
        description: str | None = None,
    ) -> list[Entry]:
        """Apply ``memo`` lines to ``target`` lines: each pair is (memo line, target line, amount)."""
        kind = "invoice" if target.kind == "Invoice" else "debit memo"
        builder = EntryBuilder(
            account_number=memo.account_number,
            date=date,
            currency=memo.currency,
            document_number=memo.number,
            related_number=target.number,
            tag=tag,
            description=description or f"Credit memo {memo.number} applied to {kind} {target.number}",
        )
        # A memo line may settle several target lines of both signs (an item and its discount): what must move
        # toward zero, and never past it, is the memo line's net; each target line is checked on its own.
        nets: dict[str, tuple[Line, Decimal]] = {}
        for memo_line, _, amount in pairs:
            net = nets.get(memo_line.id, (memo_line, ZERO))[1] + amount
            nets[memo_line.id] = (memo_line, net)
        for memo_line, net in nets.values():
            check_toward_zero(memo_line, net, document=memo.number, field=f"items[{memo_line.id}]")
        for memo_line, target_line, amount in pairs:
            check_toward_zero(target_line, amount, document=target.number, field=f"items[{target_line.id}]")
            memo_line.balance -= amount
            target_line.balance -= amount
            self._row(
                memo.account_number,
                "CreditMemo",
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
                "Credit Memo Application Item",
                amount,
                {"on_account": on_account, "ar": target_line.ar_code},
                target_line.id,
            )
        return builder.entries()

    def payment(
        self,
        *,
        account_number: str,
        payment_number: str,
        payment_type: str,
        unapplied_code: str,
        currency: str,
        target: DocumentState,
        parts: Sequence[tuple[Line, Decimal]],
        date: dt.date,
    ) -> list[Entry]:
        kind = "invoice" if target.kind == "Invoice" else "debit memo"
        builder = EntryBuilder(
            account_number=account_number,
            date=date,
            currency=currency,
            document_number=payment_number,
            related_number=target.number,
            tag="application",
            description=f"Payment {payment_number} applied to {kind} {target.number}",
        )
        for line, amount in parts:
            check_toward_zero(line, amount, document=target.number, field=f"items[{line.id}]")
            line.balance -= amount
            self._row(account_number, "Payment", payment_number, None, target, line, amount, date)
            builder.add(
                f"{payment_type} Payment Application Item",
                amount,
                {"unapplied": unapplied_code, "ar": line.ar_code},
                line.id,
            )
        return builder.entries()

    def insert(self, conn: Connection) -> None:
        if self.rows:
            conn.execute(applications.insert(), self.rows)


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
