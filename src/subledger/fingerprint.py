"""The fingerprint of a closed period: a hash over its journal entries, recorded when the period closes.

The same function runs over the database (at close, and in ``subledger check``) and over a Beancount ledger (in
the ``closed_periods`` plugin), on the same canonical text per posting, so a hand edit to either is caught.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import Decimal


def posting_line(date: dt.date, entry_id: str, account: str, amount: Decimal, currency: str) -> str:
    """One posting, canonically: the amount is debit minus credit, normalized (``100.00`` and ``100`` agree)."""
    return f"{date.isoformat()}|{entry_id}|{account}|{amount.normalize():f}|{currency}"


def fingerprint(lines: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for line in sorted(lines):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()
