"""A document number is unique in the book, whichever account carries it and however many loads race for it.

The database holds the rule (the ``document_numbers`` register, filled by trigger as documents and payments are
inserted): a load that loses the race reruns and is refused in the user's terms. The race itself is PostgreSQL's
(SQLite runs one writer at a time); ``SUBLEDGER_RACE_ROUNDS`` and ``SUBLEDGER_RACE_LOADERS`` run it longer.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError

from conftest import dump
from subledger.api import Books
from subledger.errors import SubledgerError
from subledger.storage.db import write_transaction
from subledger.storage.schema import document_numbers, documents, payments

ROUNDS = int(os.environ.get("SUBLEDGER_RACE_ROUNDS", "3"))
LOADERS = int(os.environ.get("SUBLEDGER_RACE_LOADERS", "4"))


def load_file(account: str, invoice: str, payment: str) -> dict[str, Any]:
    """A new account with one invoice and one payment applied to it: numbers chosen by the caller."""
    return {
        "accounts": [{"accountNumber": account, "name": f"Customer {account}", "currency": "USD"}],
        "invoices": [
            {
                "invoiceNumber": invoice,
                "accountNumber": account,
                "invoiceDate": "2026-10-05",
                "currency": "USD",
                "items": [
                    {
                        "id": f"{invoice}-{account}",
                        "subscriptionNumber": f"S-{account}",
                        "chargeAmount": "100.00",
                        "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
                    }
                ],
            }
        ],
        "payments": [
            {
                "number": payment,
                "accountNumber": account,
                "effectiveDate": "2026-10-20",
                "currency": "USD",
                "amount": "40.00",
                "applications": [{"invoiceNumber": invoice, "amount": "40.00"}],
            }
        ],
    }


def holders(engine: Engine, number: str) -> list[str]:
    """The accounts holding ``number`` as a document or a payment."""
    with engine.connect() as conn:
        found = conn.execute(select(documents.c.account_number).where(documents.c.number == number)).scalars()
        paid = conn.execute(select(payments.c.account_number).where(payments.c.number == number)).scalars()
        return sorted([*found, *paid])


def registered(engine: Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(document_numbers)).all()
    return {r.number: (r.kind, r.account_number) for r in rows}


def test_a_number_loaded_under_another_account_is_refused(books: Books) -> None:
    books.load(load_file("A1", "DUP-1", "PDUP-1"))
    before = dump(books.engine)
    with pytest.raises(SubledgerError, match="DUP-1 was already loaded with different content"):
        books.load(load_file("A2", "DUP-1", "PDUP-2"))
    with pytest.raises(SubledgerError, match="PDUP-1 was already loaded with different content"):
        books.load(load_file("A2", "DUP-2", "PDUP-1"))
    assert dump(books.engine) == before
    assert registered(books.engine) == {"DUP-1": ("Invoice", "A1"), "PDUP-1": ("Payment", "A1")}


def test_every_number_is_registered_including_generated_memos(seed003: Books) -> None:
    seed003.write_off_invoice("INV00000002", {"memoDate": "2026-10-28"})
    with seed003.engine.connect() as conn:
        held = {(r.number, r.kind, r.account_number) for r in conn.execute(select(documents))}
        held |= {(r.number, "Payment", r.account_number) for r in conn.execute(select(payments))}
    assert {(n, k, a) for n, (k, a) in registered(seed003.engine).items()} == held
    assert any(kind == "CreditMemo" for _, kind, _ in held)  # the write-off's memo


def test_the_database_refuses_a_second_holder_of_a_number(seed003: Books) -> None:
    """Not only the load's own check: a document inserted by any path under another account is refused."""
    with write_transaction(seed003.engine) as conn:
        conn.execute(
            text(
                "INSERT INTO customer_accounts (account_number, name, currency, content_hash, last_entry_seq,"
                " last_entry_hash) VALUES ('B1', 'Other', 'USD', '', 0, '')"
            )
        )
    with pytest.raises(IntegrityError), write_transaction(seed003.engine) as conn:
        conn.execute(
            text(
                "INSERT INTO documents (account_number, number, kind, status, document_date, currency, reversed,"
                " transferred_to_accounting, content_hash, payload, operation_id)"
                " SELECT 'B1', number, kind, status, document_date, currency, reversed, transferred_to_accounting,"
                " content_hash, payload, operation_id FROM documents WHERE number = 'INV00000001'"
            )
        )
    assert holders(seed003.engine, "INV00000001") == ["A00000001"]


@pytest.mark.pg
def test_concurrent_loads_of_one_number_post_it_once(books: Books) -> None:
    """Loaders each bring a new account carrying the same invoice and payment numbers, all released at once."""
    if books.engine.dialect.name != "postgresql":
        pytest.skip("the race is PostgreSQL's (SQLite runs one writer at a time)")
    outcomes: Counter[str] = Counter()
    for r in range(ROUNDS):
        invoice, payment = f"DUP-{r}", f"PDUP-{r}"
        start = threading.Barrier(LOADERS)

        def loader(i: int, r: int = r, invoice: str = invoice, payment: str = payment, start: Any = start) -> str:
            book = Books(engine=books.engine)
            start.wait()
            try:
                book.load(load_file(f"R{r}-A{i}", invoice, payment))
            except SubledgerError as exc:
                return "refused" if "already loaded" in str(exc) else str(exc)
            return "loaded"

        with ThreadPoolExecutor(max_workers=LOADERS) as pool:
            round_outcomes = Counter(pool.map(loader, range(LOADERS)))
        outcomes.update(round_outcomes)
        assert round_outcomes == {"loaded": 1, "refused": LOADERS - 1}
        [winner] = holders(books.engine, invoice)
        assert holders(books.engine, payment) == [winner]
        assert registered(books.engine)[invoice] == ("Invoice", winner)
    print(f"\nnumber race: {ROUNDS} rounds of {LOADERS} loaders: {dict(outcomes)}")
