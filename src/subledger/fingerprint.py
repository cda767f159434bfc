"""The fingerprint of a closed period: a hash over its journal entries, recorded when the period closes.

The same function runs over the database (at close, and in ``subledger check``) and over a Beancount ledger (in
the ``closed_periods`` plugin), on the same canonical text per posting (``canonical.posting_text``), so a hand edit
to either is caught: a transaction added to, removed from or changed in a closed period changes its fingerprint.

Recomputing a fingerprint reads and formats every line of the period, which over a book of millions of lines and a
year of closed periods is most of a check's time. So the close records a *seal* beside it: a hash over the chain
hash of every entry dated in the period, over the chart's code-to-account map (what the posting lines are made of
besides the journal) and over the fingerprint itself. ``subledger check`` reads every entry's chain hash in its
journal pass anyway; when the chain verifies (each hash recomputes from its entry's content and lines) and every
line is in its entry's currency (the one field of a posting line that version 1 of the chain did not cover,
``canonical``), a seal that still matches proves the period's postings, and so its fingerprint, unchanged. Anything
else (no seal, a broken chain, another chart) recomputes the fingerprint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from subledger.audit import recorded_charts
from subledger.canonical import postings_sql
from subledger.storage.cursor import driver_rows
from subledger.storage.schema import accounting_codes, journal_entries, periods


def period_fingerprint(conn: Connection, start: dt.date, end: dt.date) -> str:
    """The fingerprint of the journal dated from ``start`` to ``end`` (an accounting period), from the database: the
    plugin's ``fingerprint`` (``plugins.closed_periods``) over the ``canonical.posting_text`` of every journal line,
    built and sorted by SQL."""
    digest = hashlib.sha256()
    params = {"start": start.isoformat(), "end": end.isoformat()}
    for (line,) in driver_rows(conn, postings_sql(conn.dialect.name), params):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def entry_mark(entry_id: str, chain_hash: str) -> str:
    """An entry as a seal covers it: its id (``ACCOUNT-SEQ``) and its chain hash."""
    return f"{entry_id}|{chain_hash}"


def _digest(accounts: Iterable[tuple[str, str]]) -> str:
    return hashlib.sha256("\n".join(sorted(f"{name}|{account}" for name, account in accounts)).encode()).hexdigest()


def chart_digest(conn: Connection) -> str:
    """The chart's code-to-account map (``accounting_codes.name`` -> Beancount account), hashed."""
    return _digest(tuple(r) for r in conn.execute(select(accounting_codes.c.name, accounting_codes.c.account)))


def recorded_chart_digests(conn: Connection) -> list[str]:
    """The ``chart_digest`` the book had after each ``init``, oldest first, rebuilt from the chart each init
    recorded in its request (a code left out of a later chart stays in the book, as ``init`` keeps it): a seal
    recorded before a later init added or edited a code is proved over the chart of its day."""
    accounts: dict[str, str] = {}
    found: list[str] = []
    for _, chart in recorded_charts(conn):
        accounts.update({code.name: code.account for code in chart})
        digest = _digest(accounts.items())
        if digest not in found:
            found.append(digest)
    return found


def seal(chart: str, fingerprint: str, marks: Iterable[str]) -> str:
    """The seal over a period's ``entry_mark``s (in any order), the ``chart_digest`` and the fingerprint recorded
    with it (so that an edited fingerprint breaks the seal too)."""
    # The bytes: the chart digest, then the fingerprint, then each mark in order, every one after a newline.
    text = "".join(f"\n{mark}" for mark in sorted(marks))
    return hashlib.sha256(f"{chart}\n{fingerprint}{text}".encode()).hexdigest()


def period_seal(conn: Connection, start: dt.date, end: dt.date, fingerprint: str) -> str:
    """The seal of the journal dated from ``start`` to ``end`` and its ``fingerprint``, from the database (at
    close)."""
    return seal(chart_digest(conn), fingerprint, _marks(conn, start, end))


def _marks(conn: Connection, start: dt.date, end: dt.date) -> list[str]:
    e = journal_entries
    rows = conn.execute(
        select(e.c.account_number, e.c.seq, e.c.hash).where(e.c.entry_date >= start, e.c.entry_date <= end)
    )
    return [entry_mark(f"{account}-{seq}", digest) for account, seq, digest in rows]


def close_marks(conn: Connection, start: dt.date, end: dt.date) -> tuple[str, str]:
    """What closing the period from ``start`` to ``end`` records: its fingerprint and the seal over it."""
    fingerprint = period_fingerprint(conn, start, end)
    return fingerprint, period_seal(conn, start, end, fingerprint)


@dataclass(frozen=True)
class Anchor:
    """What a period's close recorded (``fingerprint``, ``seal``: None while it was never closed) beside what the
    journal gives now (``journal_fingerprint``, and ``journal_seal`` over the recorded fingerprint, or over the
    journal's own for a period without one). Kept outside the database (printed at close, filed with the GL files),
    the recorded pair is what proves the books the ERP received unchanged later: see ``subledger period show``."""

    period: str
    start: dt.date
    end: dt.date
    status: str
    fingerprint: str | None
    seal: str | None
    journal_fingerprint: str
    journal_seal: str

    @property
    def holds(self) -> bool:
        """The journal still gives what was recorded (trivially so for a period never closed)."""
        return self.fingerprint in (None, self.journal_fingerprint) and self.seal in (None, self.journal_seal)


def anchor(conn: Connection, name: str) -> Anchor | None:
    """The ``Anchor`` of period ``name``, or None when the book has no such period."""
    p = periods.c
    row = conn.execute(
        select(p.start_date, p.end_date, p.status, p.fingerprint, p.seal).where(p.name == name)
    ).one_or_none()
    if row is None:
        return None
    start, end, status, recorded, sealed = row
    now = period_fingerprint(conn, start, end)
    journal_seal = period_seal(conn, start, end, recorded or now)
    if sealed is not None and sealed != journal_seal:
        # The chart changed since the close (a code added, say): the seal is the journal's over the chart of then.
        marks = _marks(conn, start, end)
        if any(seal(chart, recorded or now, marks) == sealed for chart in recorded_chart_digests(conn)):
            journal_seal = sealed
    return Anchor(name, start, end, status, recorded, sealed, now, journal_seal)
