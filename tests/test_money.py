"""Money is Decimal, exact, quantized to the currency's minor unit; floats never get in."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from beancount.core import data
from hypothesis import given
from hypothesis import strategies as st

from conftest import EARLIER, dump
from subledger.api import Books
from subledger.errors import InvalidInput, Problems
from subledger.money import fmt, is_exact_for, minor_unit, parse_decimal, ratio_split


@pytest.mark.parametrize("bad", [1.5, float("nan"), "NaN", "Infinity", "-inf", "", " 1", "1e", True, None, [1]])
def test_parse_refuses_floats_and_non_finite(bad: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        parse_decimal(bad)


def test_parse_keeps_exact_decimal() -> None:
    assert parse_decimal("13.12") == Decimal("13.12")
    assert parse_decimal(430) == Decimal(430)


def test_minor_units_from_cldr() -> None:
    assert (minor_unit("USD"), minor_unit("JPY"), minor_unit("BHD")) == (2, 0, 3)
    assert is_exact_for(Decimal("13.12"), "USD")
    assert not is_exact_for(Decimal("13.125"), "USD")
    assert not is_exact_for(Decimal("1.5"), "JPY")


def test_fmt_never_prints_negative_zero() -> None:
    assert fmt(Decimal("-0.00"), "USD") == "0.00"
    assert fmt(Decimal("330"), "USD") == "330.00"


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    st.lists(st.decimals(min_value=0, max_value=10**6, places=2), min_size=1, max_size=8),
)
def test_ratio_split_adds_back_to_the_total(total: Decimal, weights: list[Decimal]) -> None:
    parts = ratio_split(total, weights, "USD")
    if sum(weights) == 0:
        assert all(p == 0 for p in parts)
    else:
        assert sum(parts) == total
        assert all(is_exact_for(p, "USD") for p in parts)


# --- the bounds that keep every stored amount and every sum exact (both engines) ------------------------------

LARGEST = "999999999999.99"


def big_invoice(number: str, items: int, amount: str = LARGEST) -> dict[str, Any]:
    return {
        "accounts": [{"accountNumber": "BIG1", "name": "Big", "currency": "USD"}],
        "invoices": [
            {
                "invoiceNumber": number,
                "accountNumber": "BIG1",
                "invoiceDate": "2026-10-05",
                "currency": "USD",
                "items": [
                    {
                        "id": f"{number}-{i}",
                        "subscriptionNumber": "S-BIG",
                        "chargeAmount": amount,
                        "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
                    }
                    for i in range(items)
                ],
            }
        ],
    }


@pytest.mark.parametrize("amount", ["1000000000000.00", "1E+15", "600000000000000.00"])
def test_an_amount_past_the_bound_is_refused_in_one_line(books: Books, amount: str) -> None:
    before = dump(books.engine)
    with pytest.raises(Problems) as refused:
        books.load(big_invoice("INV-BIG", 1, amount))
    assert str(refused.value) == (
        f"INV-BIG, items[0].chargeAmount: '{amount}' is too large (at most 12 digits before the decimal point)"
    )
    assert dump(books.engine) == before


def test_what_load_accepts_stores_sums_checks_closes_and_exports(books: Books, tmp_path: Path) -> None:
    """300 lines at the largest amount (3e14 of receivable in one account): every sum stays exact."""
    books.load(big_invoice("INV-BIG", 300))
    total = Decimal(LARGEST) * 300
    assert books.show("invoice", "INV-BIG")["balance"] == str(total)
    report = books.check()
    assert report.passed, report.failures()
    for name in [*EARLIER, "2026-10"]:
        assert books.close_period(name).to_status == "Closed"
    books.export_beancount(tmp_path / "ledger")
    entries, errors, _ = loader.load_file(str(tmp_path / "ledger" / "main.beancount"))
    assert errors == []
    postings = [p for e in entries if isinstance(e, data.Transaction) for p in e.postings]
    receivable = [p.units.number for p in postings if "Receivable" in p.account and p.units is not None]
    assert None not in receivable
    assert sum((n for n in receivable if n is not None), Decimal(0)) == total


@pytest.mark.parametrize("items", [120, 1000])
def test_a_sqlite_book_is_refused_past_what_sqlite_sums_exactly(books: Books, items: int) -> None:
    """SQLite sums 64-bit ten-thousandths: a book holds at most 4e14 in journal debits there (PostgreSQL has no
    such bound). 1,000 lines at the largest amount in one entry overflow SQLite's own sum: the same refusal."""
    books.load(big_invoice("INV-BIG", 300))
    before = dump(books.engine)
    more = big_invoice("INV-MORE", items)
    if books.engine.dialect.name == "postgresql":
        books.load(more)
        assert books.check().passed
        return
    with pytest.raises(InvalidInput) as refused:
        books.load(more)
    assert str(refused.value) == (
        "the book would hold more than 400,000,000,000,000 in journal debits, the most SQLite can sum "
        "exactly (a book this size belongs on PostgreSQL)"
    )
    assert dump(books.engine) == before
    assert books.check().passed
