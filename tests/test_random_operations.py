"""Random sequences of operations, valid and invalid (hypothesis), with every invariant checked after each step.

Each example is a fresh book of four invoices (two charge lines, one with tax) and a sequence of payments, credit
memos, line-level and header write-offs and reversals with random (often impossible) amounts. After every step:
the invariants of ``invariants`` (entries balance, AR equals the subledger, chains verify, no balance crosses zero,
every balance moved is an application, nothing reversed twice); a refused step changed nothing (same journal, same
balances); an accepted write-off moved exactly the amounts it was asked to; a reversed or fully written-off
invoice has nothing open.

``SUBLEDGER_HYPOTHESIS_PROFILE=thorough`` runs many more, longer sequences (for the issue's figures).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from invariants import assert_invariants
from subledger.api import Books
from subledger.errors import SubledgerError
from subledger.storage.db import make_engine
from subledger.storage.schema import document_items, journal_entries, payments, taxation_items

settings.register_profile(
    "default", max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
settings.register_profile(
    "thorough", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
PROFILE = os.environ.get("SUBLEDGER_HYPOTHESIS_PROFILE", "default")
INVOICES = [f"RINV{n}" for n in range(4)]
MEMO_DATE = "2026-10-28"


def book_file() -> dict[str, Any]:
    def invoice(number: str) -> dict[str, Any]:
        return {
            "invoiceNumber": number,
            "accountNumber": "R00000001",
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
                    "chargeAmount": "40.00",
                    "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
                },
            ],
        }

    return {
        "accounts": [{"accountNumber": "R00000001", "name": "Random Co", "currency": "USD"}],
        "invoices": [invoice(n) for n in INVOICES],
    }


def cents(n: int) -> str:
    return str(Decimal(n).scaleb(-2))


invoice = st.sampled_from(INVOICES)
line = st.sampled_from(["-1", "-2", "-T"])
amount = st.integers(min_value=-2000, max_value=16000)
step = st.one_of(
    st.tuples(st.just("pay"), invoice, amount, st.booleans()),
    st.tuples(st.just("credit-memo"), invoice, amount),
    st.tuples(st.just("write-off"), invoice),
    st.tuples(st.just("write-off-line"), invoice, line, amount),
    st.tuples(st.just("reverse"), invoice),
)


def snapshot(books: Books) -> tuple[Any, ...]:
    with books.engine.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()
        items = sorted(conn.execute(select(document_items.c.id, document_items.c.balance)).all())
        taxes = sorted(conn.execute(select(taxation_items.c.id, taxation_items.c.balance)).all())
        paid = sorted(conn.execute(select(payments.c.number, payments.c.unapplied)).all())
    return entries, items, taxes, paid


def balances(books: Books, number: str) -> dict[str, Decimal]:
    doc = books.show("invoice", number)
    out = {}
    for item in doc["items"]:
        out[item["id"]] = Decimal(item["balance"])
        for tax in item.get("taxationItems", []):
            out[tax["id"]] = Decimal(tax["balance"])
    return out


class Run:
    def __init__(self, books: Books) -> None:
        self.books = books
        self.counter = 0

    def apply(self, op: tuple[Any, ...]) -> None:
        kind, number = op[0], op[1]
        self.counter += 1
        before = balances(self.books, number)
        if kind == "pay":
            money = cents(op[2])
            app: dict[str, Any] = {"invoiceNumber": number, "amount": money}
            if op[3]:
                app["items"] = [{"invoiceItemId": f"{number}-1", "amount": money}]
            self.books.load(
                {
                    "payments": [
                        {
                            "number": f"RP{self.counter}",
                            "accountNumber": "R00000001",
                            "effectiveDate": "2026-10-20",
                            "currency": "USD",
                            "amount": money,
                            "applications": [app],
                        }
                    ]
                }
            )
            assert sum(before.values()) - sum(balances(self.books, number).values()) == Decimal(money)
        elif kind == "credit-memo":
            money = cents(op[2])
            self.books.load(
                {
                    "creditMemos": [
                        {
                            "number": f"RCM{self.counter}",
                            "accountNumber": "R00000001",
                            "creditMemoDate": "2026-10-15",
                            "currency": "USD",
                            "items": [
                                {
                                    "id": f"RCM{self.counter}-1",
                                    "amountWithoutTax": money,
                                    "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
                                }
                            ],
                            "applications": [
                                {
                                    "invoiceNumber": number,
                                    "amount": money,
                                    "items": [{"invoiceItemId": f"{number}-2", "amount": money}],
                                }
                            ],
                        }
                    ]
                }
            )
            assert before[f"{number}-2"] - balances(self.books, number)[f"{number}-2"] == Decimal(money)
        elif kind == "write-off":
            self.books.write_off_invoice(number, {"memoDate": MEMO_DATE})
            assert set(balances(self.books, number).values()) == {Decimal(0)}
        elif kind == "write-off-line":
            suffix, money = op[2], cents(op[3])
            item_id = f"{number}-1" if suffix == "-T" else f"{number}-{suffix[-1]}"
            part: dict[str, Any] = {"invoiceItemId": item_id, "amountWithoutTax": "0.00"}
            if suffix == "-T":
                part["taxationItems"] = [{"taxationItemId": f"{number}-T", "amount": money}]
            else:
                part["amountWithoutTax"] = money
            self.books.write_off_invoice(number, {"memoDate": MEMO_DATE, "items": [part]})
            after = balances(self.books, number)
            assert before[f"{number}{suffix}"] - after[f"{number}{suffix}"] == Decimal(money)
            assert {k: v for k, v in after.items() if k != f"{number}{suffix}"} == {
                k: v for k, v in before.items() if k != f"{number}{suffix}"
            }
        else:
            self.books.reverse_invoice(number, {"memoDate": MEMO_DATE})
            assert set(balances(self.books, number).values()) == {Decimal(0)}
            assert self.books.show("invoice", number)["reversed"] is True


#: What the examples did (printed with ``-s``: the figures of the issue note).
OUTCOMES: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    if OUTCOMES:
        print(f"\nrandom sequences ({PROFILE}): {dict(sorted(OUTCOMES.items()))}")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A loaded book on SQLite, copied for each example (init and load once, not per example)."""
    path = tmp_path_factory.mktemp("random") / "template.db"
    books = Books(f"sqlite:///{path}")
    books.init()
    books.load(json.dumps(book_file()))
    books.engine.dispose()
    return path


@settings(settings.get_profile(PROFILE))
@given(steps=st.lists(step, min_size=1, max_size=int(os.environ.get("SUBLEDGER_RANDOM_STEPS", "10"))))
def test_random_sequences_keep_every_invariant(
    template: Path, tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[Any, ...]]
) -> None:
    if not hasattr(Books, "write_off_invoice"):
        pytest.skip("write-offs have not landed yet")
    path = tmp_path_factory.mktemp("example") / "books.db"
    path.write_bytes(template.read_bytes())
    engine = make_engine(f"sqlite:///{path}")
    books = Books(engine=engine)
    run = Run(books)
    try:
        for op in steps:
            before = snapshot(books)
            try:
                run.apply(op)
                OUTCOMES[f"{op[0]} accepted"] += 1
            except SubledgerError:
                OUTCOMES[f"{op[0]} refused"] += 1
                assert snapshot(books) == before, f"refused {op} changed the books"
            assert_invariants(books)
        OUTCOMES["sequences"] += 1
    finally:
        engine.dispose()
