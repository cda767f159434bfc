"""The invariants of the books, checked after concurrent writers, a killed process, or any random step.

- the close checks that must hold at every moment: every entry balances, the trial balance nets to zero, the
  control accounts in the journal equal the subledger (AR = subledger), write-off memos are applied exactly,
  reversals mirror their originals, every account's hash chain verifies (gap-free, each hash over the previous);
- no line's balance crosses zero or grows past its amount (invoice, debit and credit memo lines; payments);
- every balance moved is accounted for by application rows (nothing lost, nothing applied twice);
- a document is reversed at most once, and flagged reversed exactly when it has its reversal memo.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import Connection, select

from subledger.api import Books
from subledger.checks import find_problems
from subledger.storage.schema import applications, document_items, documents, payments, taxation_items

ALWAYS = ("entries-balanced", "trial-balance", "control-accounts", "write-offs", "reversals", "hash-chain")


def violations(conn: Connection) -> list[str]:
    found: list[str] = []
    _, checked = find_problems(conn, only=ALWAYS)
    for check, problems in checked:
        found.extend(f"{check.title}: {problem}" for problem in problems)

    applied_to: dict[str, Decimal] = defaultdict(Decimal)
    applied_from_line: dict[str, Decimal] = defaultdict(Decimal)
    applied_from_payment: dict[str, Decimal] = defaultdict(Decimal)
    for app in conn.execute(select(applications)):
        applied_to[app.target_item_id] += app.amount
        if app.source_kind == "CreditMemo":
            applied_from_line[app.source_item_id] += app.amount
        else:
            applied_from_payment[app.source_number] += app.amount

    kinds = {r.number: r.kind for r in conn.execute(select(documents.c.number, documents.c.kind))}
    lines = [
        (r.document_number, r.id, r.amount, r.balance)
        for r in conn.execute(
            select(
                document_items.c.document_number, document_items.c.id, document_items.c.amount, document_items.c.balance
            )
        )
    ] + [
        (r.document_number, r.id, r.tax_amount, r.balance)
        for r in conn.execute(
            select(
                taxation_items.c.document_number,
                taxation_items.c.id,
                taxation_items.c.tax_amount,
                taxation_items.c.balance,
            )
        )
    ]
    for number, line_id, amount, balance in lines:
        low, high = sorted((Decimal(0), amount))
        if not low <= balance <= high:
            found.append(f"{number} line {line_id}: balance {balance} outside 0..{amount}")
        moved = applied_from_line[line_id] if kinds[number] == "CreditMemo" else applied_to[line_id]
        if amount - balance != moved:
            found.append(f"{number} line {line_id}: moved {amount - balance} but applications say {moved}")

    for p in conn.execute(select(payments)):
        if not 0 <= p.unapplied <= p.amount:
            found.append(f"payment {p.number}: unapplied {p.unapplied} outside 0..{p.amount}")
        if p.amount - p.unapplied != applied_from_payment[p.number]:
            found.append(f"payment {p.number}: applied {p.amount - p.unapplied}, rows {applied_from_payment[p.number]}")

    reversal_memos: dict[str, int] = defaultdict(int)
    for r in conn.execute(
        select(documents.c.source, documents.c.source_document).where(documents.c.source == "Reversal")
    ):
        reversal_memos[r.source_document] += 1
    for r in conn.execute(select(documents.c.number, documents.c.reversed)):
        count = reversal_memos.get(r.number, 0)
        if count > 1:
            found.append(f"{r.number} reversed {count} times")
        if bool(r.reversed) != (count == 1):
            found.append(f"{r.number}: reversed flag {r.reversed} with {count} reversal memos")
    return found


def assert_invariants(books: Books) -> None:
    with books.engine.connect() as conn:
        problems = violations(conn)
    assert problems == [], "\n".join(problems[:20])
