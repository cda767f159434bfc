"""The seal a close records beside the fingerprint: ``subledger check`` takes a closed period's fingerprint as proven
when the seal still matches, and recomputes it from the period's lines whenever the seal cannot vouch for them
(both engines).

Every test counts the recomputations (``checks.gather.period_fingerprint``): none on a healthy sealed book, and the
tampering the seal must not hide is reported exactly as a recomputation reports it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, text

from conftest import EARLIER, LINE_UPDATES, failing, post_entry, raw, unguarded
from subledger.api import Books
from subledger.checks import gather
from subledger.fingerprint import period_fingerprint, period_seal
from subledger.posting import Line

MISMATCH = "2026-10|fingerprint|the journal of this closed period changed since it closed (fingerprint mismatch)"
ALTERED = (
    "periods/2026-10.beancount|None|Closed accounting period 2026-10 was altered: its postings no longer match the "
    "fingerprint recorded at close"
)


@pytest.fixture
def closed(seed003: Books) -> Books:
    for name in [*EARLIER, "2026-10"]:
        seed003.close_period(name)
    return seed003


@pytest.fixture
def recomputed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The periods whose fingerprint a check recomputed from their lines."""
    periods: list[str] = []

    def counted(conn: Connection, start: dt.date, end: dt.date) -> str:
        periods.append(start.strftime("%Y-%m"))
        return period_fingerprint(conn, start, end)

    monkeypatch.setattr(gather, "period_fingerprint", counted)
    return periods


def _period(conn: Connection, name: str) -> Any:
    return conn.execute(text("SELECT status, fingerprint, seal FROM periods WHERE name = :n"), {"n": name}).one()


def test_close_records_the_seal_and_reopen_clears_it(closed: Books) -> None:
    with closed.engine.connect() as conn:
        status, fingerprint, seal = _period(conn, "2026-10")
        assert (status, fingerprint) == (
            "Closed",
            period_fingerprint(conn, dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        )
        assert seal == period_seal(conn, dt.date(2026, 10, 1), dt.date(2026, 10, 31), fingerprint)
        assert len(seal) == 64
        assert seal != _period(conn, "2026-09").seal
    closed.reopen_period("2026-10", "a late invoice")
    with closed.engine.connect() as conn:
        assert tuple(_period(conn, "2026-10")) == ("Open", None, None)


def test_a_sealed_book_checks_without_recomputing_fingerprints(closed: Books, recomputed: list[str]) -> None:
    report = closed.check()
    assert report.passed, failing(report)
    assert recomputed == []
    # Without the hash chain the seal proves nothing: every closed period is recomputed.
    assert closed.check(skip=["hash-chain"]).passed
    assert recomputed == [*EARLIER, "2026-10"]


def test_an_entry_posted_into_a_closed_period_breaks_its_seal(closed: Books, recomputed: list[str]) -> None:
    five = Decimal("5.00")
    with raw(closed) as conn:
        post_entry(
            conn, "2026-10-30", "2026-10", [Line("Cash", five, Decimal(0)), Line("Other Revenue", Decimal(0), five)]
        )
    found = failing(closed.check())
    assert recomputed == ["2026-10"]
    assert MISMATCH in found["closed-periods"]
    assert ALTERED in found["beancount"]
    assert "hash-chain" not in found


def test_a_renamed_account_breaks_every_seal(closed: Books, recomputed: list[str]) -> None:
    """The posting lines name Beancount accounts, which the chain does not cover: the chart is part of the seal."""
    with raw(closed) as conn:
        conn.execute(
            text("UPDATE accounting_codes SET account = 'Assets:Receivable' WHERE name = 'Accounts Receivable'")
        )
    found = failing(closed.check())
    assert recomputed == [*EARLIER, "2026-10"]
    assert MISMATCH in found["closed-periods"]


def test_a_line_moved_to_another_currency_is_recomputed(closed: Books, recomputed: list[str]) -> None:
    """A line's currency is in its posting line, and in the chain since hash version 2."""
    with raw(closed) as conn, unguarded(conn, LINE_UPDATES):
        conn.execute(
            text("UPDATE journal_lines SET currency = 'EUR' WHERE account_number = 'A00000001' AND entry_seq = 1")
        )
    found = failing(closed.check())
    assert "2026-10" in recomputed
    assert MISMATCH in found["closed-periods"]
    assert found["hash-chain"] == ["A00000001-1|hash|its content no longer matches its hash (altered)"]


def test_an_altered_amount_breaks_the_chain_and_is_recomputed(closed: Books, recomputed: list[str]) -> None:
    with raw(closed) as conn, unguarded(conn, LINE_UPDATES):
        conn.execute(
            text(
                "UPDATE journal_lines SET debit = debit * 2 WHERE account_number = 'A00000001' AND entry_seq = 1 "
                "AND debit > 0"
            )
        )
    found = failing(closed.check())
    assert recomputed == [*EARLIER, "2026-10"]
    assert MISMATCH in found["closed-periods"]
    assert "A00000001-1|hash|its content no longer matches its hash (altered)" in found["hash-chain"]


def test_a_period_closed_without_a_seal_is_verified_from_its_lines(closed: Books, recomputed: list[str]) -> None:
    """Periods closed before the seal existed (migration 0004) keep being checked, the long way."""
    with raw(closed) as conn:
        conn.execute(text("UPDATE periods SET seal = NULL WHERE name = '2026-10'"))
    assert closed.check().passed
    assert recomputed == ["2026-10"]
    with raw(closed) as conn:
        conn.execute(text("UPDATE periods SET fingerprint = 'x' WHERE name = '2026-10'"))
    assert MISMATCH in failing(closed.check())["closed-periods"]


def test_an_edited_fingerprint_breaks_the_seal(closed: Books, recomputed: list[str]) -> None:
    with raw(closed) as conn:
        conn.execute(text("UPDATE periods SET fingerprint = 'x' WHERE name = '2026-10'"))
    found = failing(closed.check())
    assert recomputed == ["2026-10"]
    assert MISMATCH in found["closed-periods"]
