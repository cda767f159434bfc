"""Concurrent writers on the same documents (PostgreSQL): write-offs, payments, reversals and bulk write-offs at once.

The mechanism (``operations.base``): a share lock on the periods, then the customer account row (``FOR UPDATE``)
before any balance is read, then the documents; transient conflicts rerun. Here many threads hammer a few
accounts' invoices in a random order; afterwards every invariant holds (``invariants``), each invoice was written
off or reversed at most once and then has nothing open, and every accepted operation left exactly its rows.
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from invariants import assert_invariants
from subledger.api import Books
from subledger.errors import SubledgerError
from subledger.storage.schema import documents, operations, payments

ACCOUNTS = ("C00000001", "C00000002", "C00000003")
PER_ACCOUNT = int(os.environ.get("SUBLEDGER_CONCURRENCY_INVOICES", "12"))
WRITERS = int(os.environ.get("SUBLEDGER_CONCURRENCY_WRITERS", "12"))
MEMO_DATE = "2026-10-28"


def invoice_number(account: int, n: int) -> str:
    return f"CINV{account}{n:04d}"


def book_file() -> dict[str, Any]:
    invoices = []
    for a, account in enumerate(ACCOUNTS):
        for n in range(PER_ACCOUNT):
            number = invoice_number(a, n)
            invoices.append(
                {
                    "invoiceNumber": number,
                    "accountNumber": account,
                    "invoiceDate": "2026-10-05",
                    "currency": "USD",
                    "items": [
                        {
                            "id": f"{number}-1",
                            "subscriptionNumber": f"S-{number}",
                            "chargeAmount": "100.00",
                            "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
                            "taxationItems": [{"id": f"{number}-T", "taxAmount": "10.00"}],
                        },
                        {
                            "id": f"{number}-2",
                            "subscriptionNumber": f"S-{number}",
                            "chargeAmount": "50.00",
                            "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
                        },
                    ],
                }
            )
    accounts = [{"accountNumber": a, "name": f"Customer {a}", "currency": "USD"} for a in ACCOUNTS]
    return {"accounts": accounts, "invoices": invoices}


def payment(number: str, account: str, invoice: str, amount: str) -> dict[str, Any]:
    return {
        "payments": [
            {
                "number": number,
                "accountNumber": account,
                "effectiveDate": "2026-10-20",
                "currency": "USD",
                "amount": amount,
                "applications": [{"invoiceNumber": invoice, "amount": amount}],
            }
        ]
    }


def plan(rng: random.Random) -> list[tuple[str, Any]]:
    """Every invoice gets a write-off, a reversal and one or two payments, plus duplicates and bulk runs."""
    ops: list[tuple[str, Any]] = []
    numbers = [(a, invoice_number(a, n)) for a in range(len(ACCOUNTS)) for n in range(PER_ACCOUNT)]
    for i, (a, number) in enumerate(numbers):
        ops.append(("write-off", number))
        ops.append(("reverse", number))
        for k in range(rng.choice((1, 2))):
            ops.append(("pay", (f"CP{i:04d}{k}", ACCOUNTS[a], number, rng.choice(("10.00", "60.00", "160.00")))))
        if rng.random() < 0.3:
            ops.append(("write-off", number))  # a second writer on the same invoice
    for _ in range(max(2, len(numbers) // 6)):
        ops.append(("bulk", [n for _, n in rng.sample(numbers, 5)]))
    rng.shuffle(ops)
    return ops


def run(books: Books, op: tuple[str, Any]) -> str:
    kind, arg = op
    try:
        if kind == "write-off":
            books.write_off_invoice(arg, {"memoDate": MEMO_DATE})
        elif kind == "reverse":
            books.reverse_invoice(arg, {"memoDate": MEMO_DATE})
        elif kind == "pay":
            books.load(payment(*arg), idempotency_key=f"pay-{arg[0]}")
        else:
            result = books.write_off_bulk(documents=arg, settings={"memoDate": MEMO_DATE})
            return f"bulk:{len(result.written_off)}"  # type: ignore[union-attr]
    except SubledgerError:
        return f"{kind}:refused"
    return f"{kind}:accepted"


@pytest.mark.pg
def test_concurrent_writers_keep_every_invariant(books: Books) -> None:
    if not hasattr(Books, "write_off_bulk"):
        pytest.skip("write-offs have not landed yet")
    if books.engine.dialect.name != "postgresql":
        pytest.skip("concurrency is PostgreSQL's (SQLite runs one writer at a time)")
    books.load(json.dumps(book_file()))
    rng = random.Random(int(os.environ.get("SUBLEDGER_CONCURRENCY_SEED", "6")))
    ops = plan(rng)
    # Every payment twice, concurrently, with one idempotency key: one of them runs, the other replays.
    ops += [op for op in ops if op[0] == "pay"]
    rng.shuffle(ops)
    start = threading.Barrier(WRITERS)

    def worker(chunk: list[tuple[str, Any]]) -> list[str]:
        start.wait()
        return [run(books, op) for op in chunk]

    chunks = [ops[i::WRITERS] for i in range(WRITERS)]
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        outcomes = Counter(o for chunk in pool.map(worker, chunks) for o in chunk)

    assert_invariants(books)
    with books.engine.connect() as conn:
        memos = Counter(
            (r.source, r.source_document)
            for r in conn.execute(select(documents.c.source, documents.c.source_document))
            if r.source in ("WriteOff", "Reversal")
        )
        per_invoice = Counter(doc for (_, doc) in memos.elements())
        assert max(per_invoice.values()) == 1, "an invoice was written off or reversed twice"
        open_after = {
            r.number
            for r in conn.execute(select(documents.c.number).where(documents.c.number.in_(list(per_invoice))))
            if Books(engine=books.engine).show("invoice", r.number)["balance"] != "0.00"
        }
        assert open_after == set(), "a written-off or reversed invoice still has an open balance"
        paid = {r.number for r in conn.execute(select(payments.c.number))}
        accepted_ops = conn.execute(
            select(func.count()).select_from(operations).where(operations.c.kind != "init")
        ).scalar_one()
    # Each payment was sent twice with one key: both answers are the one payment's (balances only fall, so a
    # payment refused once is refused again).
    assert outcomes["pay:accepted"] == 2 * len(paid)
    # Nothing lost or double-posted: one operation per accepted write-off, reversal and payment (replays record
    # nothing), one per document a bulk run wrote off, plus the initial load.
    written_by_bulk = sum(int(k.split(":")[1]) * n for k, n in outcomes.items() if k.startswith("bulk:"))
    assert accepted_ops == (
        1 + outcomes["write-off:accepted"] + outcomes["reverse:accepted"] + len(paid) + written_by_bulk
    )
    assert sum(memos.values()) == outcomes["write-off:accepted"] + outcomes["reverse:accepted"] + written_by_bulk
    print(f"\nconcurrency: {WRITERS} writers, {len(ops)} operations: {dict(sorted(outcomes.items()))}")
