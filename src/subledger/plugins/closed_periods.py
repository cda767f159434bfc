"""Beancount plugin: nothing may be posted into a closed accounting period.

The exported ledger marks each closed period with ``custom "closed-period" NAME START "FINGERPRINT"`` (dated on the
period's last day). For each such period this plugin reports, as bean-check and Fava errors:
- every transaction dated inside the period that did not come from the books (no ``entry`` metadata);
- any change to the period's postings, when their fingerprint no longer matches the one recorded at close.

Usage in a ledger: ``plugin "subledger.plugins.closed_periods"``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from beancount.core import data

from subledger.fingerprint import fingerprint, posting_line

__plugins__ = ("closed_periods",)


class ClosedPeriodError(NamedTuple):
    source: Any
    message: str
    entry: Any


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
    lines: dict[str, list[str]] = {name: [] for name, *_ in periods}
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        for name, start, end, _, _ in periods:
            if not start <= entry.date <= end:
                continue
            entry_id = entry.meta.get("entry")
            if entry_id is None:
                errors.append(
                    ClosedPeriodError(
                        entry.meta,
                        f"Transaction dated {entry.date} is posted into closed accounting period {name}",
                        entry,
                    )
                )
                continue
            for posting in entry.postings:
                if posting.units is None or posting.units.number is None:
                    continue
                lines[name].append(
                    posting_line(
                        entry.date,
                        str(entry_id),
                        posting.account,
                        posting.units.number,
                        posting.units.currency,
                    )
                )
    for name, _, _, recorded, custom in periods:
        if fingerprint(lines[name]) != recorded:
            errors.append(
                ClosedPeriodError(
                    custom.meta,
                    f"Closed accounting period {name} was altered: its postings no longer match the fingerprint "
                    "recorded at close",
                    custom,
                )
            )
    return entries, errors
