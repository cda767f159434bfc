"""``quickbooks``: QuickBooks Online's journal entry import (Settings > Import data > Journal entries).

Account Name is the account's full name path ("Parent:Sub"); A/R lines carry the customer's Name; dates in the
company's format. Without multicurrency an entry in another currency than the base one is converted at the
profile's rates or refused; with it, each entry keeps its Currency and Exchange Rate.
"""

from __future__ import annotations

from typing import Any

from subledger.export.gl.convert import in_base, rate_cell
from subledger.export.gl.model import Account, CustomerNames, GLEntry, RunInfo, audit_memo, clip, side_text
from subledger.export.gl.profile import Profile, QuickBooks
from subledger.export.gl.validate import Column, Spec

#: QuickBooks Online's journal number holds 21 characters, a line description 4,000 (lengths of its API, not in
#: the gathered reference).
JOURNAL_NO_MAX = 21
DESCRIPTION_MAX = 4000


def journal_no(external_id: str, run: str, ordinal: int) -> str:
    """The Journal No. of the ``ordinal``-th GL entry (from 1) of journal run ``run``: its external id when that fits
    in 21 characters (``A00000001-7``, ``JR-00000001-003``), else ``RUN-EORDINAL`` (``JR-00000001-E42``: the run's
    42nd entry, in the order the run renders them, whatever the file it lands in).

    A shortened number is unique within the run (one ordinal per entry) and across runs (the run's number), and is
    never an entry's own id: a detail id is ``ACCOUNT-SEQ`` and a summary id ``RUN-NNN``, both ending in a hyphen
    and digits, where a shortened number ends in ``-E`` and digits (an account number may be ``JR-00000001``; no
    id ends in ``-E42``). It needs no digest, so no two entries can ever share one, and it is as short as the run's
    number allows (13 characters and the ordinal's digits: 99,999,999 entries per run)."""
    if len(external_id) <= JOURNAL_NO_MAX:
        return external_id
    return f"{run}-E{ordinal}"


_DATES = {
    "MM/DD/YYYY": r"(?:0[1-9]|1[0-2])/(?:0[1-9]|[12]\d|3[01])/\d{4}",
    "DD/MM/YYYY": r"(?:0[1-9]|[12]\d|3[01])/(?:0[1-9]|1[0-2])/\d{4}",
    "YYYY-MM-DD": r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])",
}


def columns(p: QuickBooks) -> tuple[Column, ...]:
    cols = [
        Column("Journal No.", required=True, max_len=JOURNAL_NO_MAX),
        Column("Journal Date", "date", required=True),
        Column("Account Name", required=True),
        Column("Debits", "amount"),
        Column("Credits", "amount"),
        Column("Description", max_len=DESCRIPTION_MAX),
        Column("Name", "lookup"),
    ]
    if p.location:
        cols.append(Column("Location"))
    if p.class_:
        cols.append(Column("Class"))
    if p.multicurrency:
        cols += [Column("Currency", required=True), Column("Exchange Rate", "rate", required=True)]
    return tuple(cols)


def account_name(p: QuickBooks, account: Account) -> str:
    return p.accounts.get(account.name, account.path)


def spec(p: QuickBooks, accounts: dict[str, Account] | None = None) -> Spec:
    names = {account_name(p, a): a for a in (accounts or {}).values()}
    return Spec(
        format="quickbooks",
        columns=columns(p),
        key=("Journal No.",),
        date=_DATES[p.date_format],
        date_hint=p.date_format,
        account="Account Name",
        debit="Debits",
        credit="Credits",
        accounts=frozenset(names) if accounts else None,
        receivable_accounts=frozenset(n for n, a in names.items() if a.receivable),
        name_column="Name",
    )


class Renderer:
    def __init__(self, profile: Profile, accounts: dict[str, Account], run: RunInfo) -> None:
        self.p = p = profile.quickbooks
        self.spec = spec(p, accounts)
        self.names = {code: account_name(p, a) for code, a in accounts.items()}
        self.tracking = [v for v in (p.location, p.class_) if v]
        self.customers = CustomerNames.of(accounts, p.customer_name, p.summary_name)
        self.run = run.number
        #: The entries rendered so far: a render is the run's entries in its order, each rendered once.
        self.ordinal = 0

    def _date(self, e: GLEntry) -> str:
        d = e.date
        if self.p.date_format == "MM/DD/YYYY":
            return f"{d.month:02d}/{d.day:02d}/{d.year}"
        if self.p.date_format == "DD/MM/YYYY":
            return f"{d.day:02d}/{d.month:02d}/{d.year}"
        return d.isoformat()

    def rows(self, e: GLEntry) -> list[list[str]]:
        p = self.p
        if p.multicurrency:
            rate = rate_cell(e, p.base_currency, p.rates, "quickbooks", "quickbooks.multicurrency is on")
            amounts = [(line.debit, line.credit) for line in e.lines]
            currency, extra = e.currency, [e.currency, rate]
        else:
            amounts = in_base(e, p, "quickbooks")
            currency, extra = p.base_currency, []
        self.ordinal += 1
        number = journal_no(e.external_id, self.run, self.ordinal)
        # A shortened Journal No. is traced back to the entry by its id, first on every line (never clipped off).
        traced = "" if number == e.external_id else f"entry: {e.external_id} | "
        head = [number, self._date(e)]
        return [
            [
                *head,
                self.names[line.code],
                side_text(debit, currency),
                side_text(credit, currency),
                clip(traced + audit_memo(e, line), DESCRIPTION_MAX),
                self.customers.cell(e, line.code),
                *self.tracking,
                *extra,
            ]
            for line, (debit, credit) in zip(e.lines, amounts, strict=True)
        ]

    def settings(self) -> dict[str, Any]:
        p = self.p
        return {
            "accounts": dict(sorted(self.names.items())),
            "customerName": p.customer_name,
            "summaryName": p.summary_name,
            "dateFormat": p.date_format,
            "location": p.location,
            "class": p.class_,
            "multicurrency": p.multicurrency,
            "baseCurrency": p.base_currency,
            "foreignCurrency": p.foreign_currency,
            "rates": {c: str(r) for c, r in sorted(p.rates.items())},
        }
