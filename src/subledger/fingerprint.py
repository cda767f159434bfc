"""The fingerprint of a closed period: a hash over its journal entries, recorded when the period closes.

The same function runs over the database (at close, and in ``subledger check``) and over a Beancount ledger (in
the ``closed_periods`` plugin), on the same canonical text per posting, so a hand edit to either is caught: a
transaction added to, removed from or changed in a closed period changes its fingerprint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from decimal import Decimal

from sqlalchemy import Connection, and_, select

from subledger.storage.schema import accounting_codes, journal_entries, journal_lines


def posting_line(date: dt.date, entry_id: str, account: str, amount: Decimal, currency: str) -> str:
    """One posting, canonically: the amount is debit minus credit, normalized (``100.00`` and ``100`` agree)."""
    return f"{date.isoformat()}|{entry_id}|{account}|{amount.normalize():f}|{currency}"


def fingerprint(lines: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for line in sorted(lines):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _postings(conn: Connection, start: dt.date, end: dt.date) -> Iterator[str]:
    """The canonical posting lines of every journal line dated from ``start`` to ``end``, as the ledger shows them
    (entry id ``ACCOUNT-SEQ``, the accounting code's Beancount account, debit positive and credit negative)."""
    e, ln = journal_entries, journal_lines
    query = (
        select(
            e.c.entry_date,
            e.c.account_number,
            e.c.seq,
            accounting_codes.c.account,
            ln.c.debit,
            ln.c.credit,
            ln.c.currency,
        )
        .join(ln, and_(ln.c.account_number == e.c.account_number, ln.c.entry_seq == e.c.seq))
        .join(accounting_codes, accounting_codes.c.name == ln.c.accounting_code)
        .where(e.c.entry_date >= start, e.c.entry_date <= end)
    )
    for row in conn.execute(query.execution_options(yield_per=10_000)):
        yield posting_line(
            row.entry_date, f"{row.account_number}-{row.seq}", row.account, row.debit - row.credit, row.currency
        )


def period_fingerprint(conn: Connection, start: dt.date, end: dt.date) -> str:
    """The fingerprint of the journal dated from ``start`` to ``end`` (an accounting period), from the database."""
    return fingerprint(_postings(conn, start, end))
