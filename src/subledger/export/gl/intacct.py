"""``intacct``: Sage Intacct's general ledger journal entry import (CSV template).

Lines with the same JOURNAL, DATE and REFERENCE_NO form one entry, LINE_NO numbered from 1 within it;
DESCRIPTION holds at most 30 characters (the full audit text goes to MEMO); dimensions are extra columns. Files
hold at most 5,000 lines (Sage's guidance), an entry never split.
"""

from __future__ import annotations

from typing import Any

from subledger.export.gl.model import Account, GLEntry, RunInfo, audit_memo, clip, side_text
from subledger.export.gl.profile import Intacct, Profile
from subledger.export.gl.validate import Column, Spec

DESCRIPTION_MAX = 30
#: MEMO kept within 1,000 characters (a length not in the gathered reference).
MEMO_MAX = 1000
MAX_LINES_PER_FILE = 5000
DATE = r"(?:0[1-9]|1[0-2])/(?:0[1-9]|[12]\d|3[01])/\d{4}"


def columns(p: Intacct) -> tuple[Column, ...]:
    return (
        Column("JOURNAL", required=True),
        Column("DATE", "date", required=True),
        Column("DESCRIPTION", required=True, max_len=DESCRIPTION_MAX),
        Column("REFERENCE_NO", required=True),
        Column("LINE_NO", "line-no", required=True),
        Column("ACCT_NO", required=True),
        Column("LOCATION_ID"),
        Column("DEPT_ID"),
        Column("DOCUMENT"),
        Column("MEMO", max_len=MEMO_MAX),
        Column("DEBIT", "amount"),
        Column("CREDIT", "amount"),
        Column("CURRENCY", required=True),
        Column("EXCH_RATE_DATE", "date"),
        Column("EXCH_RATE_TYPE_ID"),
        *(Column(name) for name in sorted(p.dimensions)),
    )


def spec(p: Intacct, accounts: dict[str, Account] | None = None) -> Spec:
    return Spec(
        format="intacct",
        columns=columns(p),
        key=("JOURNAL", "DATE", "REFERENCE_NO"),
        date=DATE,
        date_hint="MM/DD/YYYY",
        account="ACCT_NO",
        debit="DEBIT",
        credit="CREDIT",
        max_lines_per_file=MAX_LINES_PER_FILE,
        accounts=frozenset(p.accounts.get(a.name, a.number) for a in accounts.values()) if accounts else None,
        line_no="LINE_NO",
    )


class Renderer:
    def __init__(self, profile: Profile, accounts: dict[str, Account], run: RunInfo) -> None:
        self.p = p = profile.intacct
        self.spec = spec(p, accounts)
        self.numbers = {code: p.accounts.get(code, a.number) for code, a in accounts.items()}
        self.journal = p.journal
        self.where = [p.location_id, p.department_id]
        self.dims = [p.dimensions[k] for k in sorted(p.dimensions)]

    def rows(self, e: GLEntry) -> list[list[str]]:
        date = f"{e.date.month:02d}/{e.date.day:02d}/{e.date.year}"
        foreign = e.currency != self.p.base_currency
        tail = [e.currency, date if foreign else "", self.p.exchange_rate_type if foreign else ""]
        head = [
            self.journal,
            date,
            clip(e.memo or e.transaction_type, DESCRIPTION_MAX),
            e.external_id,
        ]
        document = e.source_document or ""
        return [
            [
                *head,
                str(n),
                self.numbers[line.code],
                *self.where,
                document,
                clip(audit_memo(e, line), MEMO_MAX),
                side_text(line.debit, e.currency),
                side_text(line.credit, e.currency),
                *tail,
                *self.dims,
            ]
            for n, line in enumerate(e.lines, start=1)
        ]

    def settings(self) -> dict[str, Any]:
        p = self.p
        return {
            "journal": p.journal,
            "accounts": dict(sorted(self.numbers.items())),
            "locationId": p.location_id,
            "departmentId": p.department_id,
            "dimensions": dict(sorted(p.dimensions.items())),
            "baseCurrency": p.base_currency,
            "exchangeRateType": p.exchange_rate_type,
        }
