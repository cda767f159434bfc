"""``netsuite``: the CSV Import Assistant's journal entry import (Make Journal Entries > Import).

Rows sharing an External ID form one entry; header fields (date, posting period, subsidiary, currency, exchange
rate, memo) repeat on each of its lines. Columns ``docs/gl-export.md`` lists, and the rule each satisfies.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from subledger.export.gl.convert import rate_cell
from subledger.export.gl.model import (
    Account,
    CustomerNames,
    GLEntry,
    RunInfo,
    audit_memo,
    clip,
    in_parts,
    side_text,
)
from subledger.export.gl.profile import NetSuite, Profile
from subledger.export.gl.validate import Column, Spec
from subledger.money import quantum

#: NetSuite's memo fields hold 999 characters (a length not in the gathered reference: kept within it).
MEMO_MAX = 999
#: One CSV import job takes at most 25,000 records or 50 MB; the export counts every line as one record, and a MB
#: as 1,000,000 bytes (the smaller reading, so the file is within the limit whichever NetSuite means).
MAX_RECORDS_PER_FILE = 25_000
MAX_BYTES_PER_FILE = 50_000_000
#: Digits of a Debit or Credit before the decimal point; a larger amount goes in as several lines (``in_parts``).
MAX_DIGITS = 10
DATE = r"(?:0[1-9]|1[0-2])/(?:0[1-9]|[12]\d|3[01])/\d{4}"
#: A calendar month of the book (the default calendar's names), which NetSuite names ``Oct 2026``.
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def columns(p: NetSuite) -> tuple[Column, ...]:
    cols = [Column("External ID", required=True), Column("Date", "date", required=True)]
    cols.append(Column("Posting Period", required=True))
    if p.subsidiary is not None:
        cols.append(Column("Subsidiary", required=True))
    cols += [
        Column("Currency", required=True),
        Column("Exchange Rate", "rate", required=p.exchange_rate == "profile"),
        Column("Memo", max_len=MEMO_MAX),
        Column("Account", required=True),
        Column("Debit", "amount"),
        Column("Credit", "amount"),
        Column("Line Memo", max_len=MEMO_MAX),
        Column("Name", "lookup"),
    ]
    cols += [Column(name) for name, value in _dimensions(p) if value]
    return tuple(cols)


#: The entry's header fields, repeated on each of its lines (the rest are line fields).
_HEADER = frozenset({"Date", "Posting Period", "Subsidiary", "Currency", "Exchange Rate", "Memo"})


def _dimensions(p: NetSuite) -> list[tuple[str, str]]:
    return [("Department", p.department), ("Class", p.class_), ("Location", p.location)]


def account_cell(p: NetSuite, account: Account) -> str:
    mapped = p.accounts.get(account.name)
    if mapped is not None:
        return mapped
    if p.account_style == "number":
        return account.number
    if p.account_style == "name":
        return account.path.replace(":", " : ")
    return f"{account.number} {account.name}"


def posting_period(p: NetSuite, period: str) -> str:
    """The NetSuite posting period of the book's ``period``: the profile's name for it, else ``Mon YYYY`` for a
    month named ``YYYY-MM``, else the period's own name (a 4-4-5 period spans parts of two or three months, so the
    entry date's month would scatter one book period over several NetSuite periods)."""
    mapped = p.posting_periods.get(period)
    if mapped is not None:
        return mapped
    month = _MONTH.fullmatch(period)
    if month is None:
        return period
    return dt.date(int(month[1]), int(month[2]), 1).strftime("%b %Y")


def _most(currency: str) -> Decimal:
    """The largest amount one line takes: ten digits before the point, the currency's decimals after it."""
    return Decimal(10**MAX_DIGITS) - quantum(currency)


def spec(p: NetSuite, accounts: dict[str, Account] | None = None) -> Spec:
    cells = {account_cell(p, a): a for a in (accounts or {}).values()}
    return Spec(
        format="netsuite",
        columns=columns(p),
        key=("External ID",),
        date=DATE,
        date_hint="MM/DD/YYYY",
        account="Account",
        debit="Debit",
        credit="Credit",
        max_digits=MAX_DIGITS,
        max_decimals=2,
        max_lines_per_entry=p.max_lines_per_entry,
        max_lines_per_file=MAX_RECORDS_PER_FILE,
        max_bytes_per_file=MAX_BYTES_PER_FILE,
        accounts=frozenset(cells) if accounts else None,
        receivable_accounts=frozenset(c for c, a in cells.items() if a.receivable),
        name_column="Name",
        header=tuple(c.name for c in columns(p) if c.name in _HEADER),
    )


class Renderer:
    def __init__(self, profile: Profile, accounts: dict[str, Account], run: RunInfo) -> None:
        self.p = p = profile.netsuite
        self.spec = spec(p, accounts)
        self.accounts = {code: account_cell(p, a) for code, a in accounts.items()}
        self.dims = [v for _, v in _dimensions(p) if v]
        self.subsidiary = [p.subsidiary] if p.subsidiary is not None else []
        self.customers = CustomerNames.of(accounts, p.customer_name, p.summary_name)
        self.periods: dict[str, str] = {}

    def _rate(self, e: GLEntry) -> str:
        p = self.p
        if p.exchange_rate == "netsuite":
            return ""
        return rate_cell(e, p.base_currency, p.rates, "netsuite", 'netsuite.exchange_rate is "profile"')

    def rows(self, e: GLEntry) -> list[list[str]]:
        period = self.periods.get(e.period)
        if period is None:
            period = self.periods[e.period] = posting_period(self.p, e.period)
        head = [
            e.external_id,
            f"{e.date.month:02d}/{e.date.day:02d}/{e.date.year}",
            period,
            *self.subsidiary,
            e.currency,
            self._rate(e),
            clip(audit_memo(e, None), MEMO_MAX),
        ]
        return [
            [
                *head,
                self.accounts[line.code],
                side_text(line.debit, e.currency),
                side_text(line.credit, e.currency),
                clip(audit_memo(e, line, with_memo=False) or e.memo, MEMO_MAX),
                self.customers.cell(e, line.code),
                *self.dims,
            ]
            for line in in_parts(e.lines, _most(e.currency))
        ]

    def settings(self) -> dict[str, Any]:
        p = self.p
        return {
            "subsidiary": p.subsidiary,
            "accountStyle": p.account_style,
            "accounts": dict(sorted(self.accounts.items())),
            "customerName": p.customer_name,
            "summaryName": p.summary_name,
            "department": p.department,
            "class": p.class_,
            "location": p.location,
            "exchangeRate": p.exchange_rate,
            "baseCurrency": p.base_currency,
            "rates": {c: str(r) for c, r in sorted(p.rates.items())},
            "postingPeriods": dict(sorted(p.posting_periods.items())),
        }
