"""Beancount plugin: nothing may be posted into a closed accounting period.

The exported ledger marks each closed period with ``custom "closed-period" NAME START "FINGERPRINT"`` (dated on the
period's last day). For each such period this plugin reports, as bean-check and Fava errors:
- every transaction dated inside the period that did not come from the books (no ``entry`` metadata);
- any change to the period's postings, when their fingerprint no longer matches the one recorded at close.

This module needs nothing but Beancount and the standard library: the Beancount export writes a copy of it beside
the ledger (``subledger_closed_periods.py``, named by the ledger's ``plugin`` line, found through the ledger's
``insert_pythonpath`` option), so the ledger loads and keeps its closed periods closed on a machine without
subledger (an auditor's laptop, a plain Fava). ``posting_line`` and ``fingerprint`` are therefore copies of
``subledger.fingerprint``'s (a test holds them equal).

Usage in a ledger: ``plugin "subledger_closed_periods"`` with the copy beside it, or
``plugin "subledger.plugins.closed_periods"`` where subledger is installed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NamedTuple

from beancount.core import data

__plugins__ = ("closed_periods",)


class ClosedPeriodError(NamedTuple):
    source: Any
    message: str
    entry: Any


def posting_line(date: dt.date, entry_id: str, account: str, amount: Decimal, currency: str) -> str:
    """One posting, canonically: the amount is debit minus credit, normalized (``100.00`` and ``100`` agree)."""
    return f"{date.isoformat()}|{entry_id}|{account}|{amount.normalize():f}|{currency}"


def fingerprint(lines: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for line in sorted(lines):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def period_lines(entries: Iterable[Any], start: dt.date, end: dt.date) -> tuple[list[str], list[Any]]:
    """The canonical posting lines of the books' transactions dated from ``start`` to ``end``, and the transactions
    in that range that did not come from the books (no ``entry`` metadata)."""
    lines: list[str] = []
    foreign: list[Any] = []
    for entry in entries:
        if not isinstance(entry, data.Transaction) or not start <= entry.date <= end:
            continue
        entry_id = entry.meta.get("entry")
        if entry_id is None:
            foreign.append(entry)
            continue
        for posting in entry.postings:
            if posting.units is None or posting.units.number is None:
                continue
            lines.append(
                posting_line(entry.date, str(entry_id), posting.account, posting.units.number, posting.units.currency)
            )
    return lines, foreign


def closed_periods(entries: list[Any], options_map: Any) -> tuple[list[Any], list[ClosedPeriodError]]:
    del options_map
    errors: list[ClosedPeriodError] = []
    periods: list[tuple[str, dt.date, dt.date, str, Any]] = []
    for entry in entries:
        if isinstance(entry, data.Custom) and entry.type == "closed-period" and len(entry.values) >= 3:
            name, start, recorded = (v.value for v in entry.values[:3])
            periods.append((str(name), start, entry.date, str(recorded), entry))
    if not periods:
        return entries, errors
    transactions = [e for e in entries if isinstance(e, data.Transaction)]
    for name, start, end, recorded, custom in periods:
        lines, foreign = period_lines(transactions, start, end)
        for entry in foreign:
            errors.append(
                ClosedPeriodError(
                    entry.meta, f"Transaction dated {entry.date} is posted into closed accounting period {name}", entry
                )
            )
        if fingerprint(lines) != recorded:
            errors.append(
                ClosedPeriodError(
                    custom.meta,
                    f"Closed accounting period {name} was altered: its postings no longer match the fingerprint "
                    "recorded at close",
                    custom,
                )
            )
    return entries, errors
