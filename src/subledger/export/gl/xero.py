"""``xero``: the manual journal import (Accounting > Advanced > Manual journals > Import).

Rows with the same Narration and Date form one journal, so the narration starts with the GL entry's id. Manual
journals are in the organisation's base currency only: entries in others are converted at the profile's rates or
refused. Receivable lines post to a clearing account, never to Xero's Accounts Receivable system account. At most
300 lines per file, a journal never split across files.
"""

from __future__ import annotations

from typing import Any

from subledger.errors import RuleViolation
from subledger.export.gl.convert import in_base
from subledger.export.gl.model import Account, GLEntry, RunInfo, amount_text, audit_memo, clip
from subledger.export.gl.profile import Profile, Xero
from subledger.export.gl.validate import Column, Spec

MAX_LINES_PER_FILE = 300
#: Narration and Description kept within 255 characters (a length not in the gathered reference).
TEXT_MAX = 255
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

COLUMNS = (
    Column("*Narration", required=True, max_len=TEXT_MAX),
    Column("*Date", "date", required=True),
    Column("Description", max_len=TEXT_MAX),
    Column("*AccountCode", required=True),
    Column("*TaxRate", required=True),
    Column("*Amount", "signed", required=True),
)


def account_code(p: Xero, account: Account) -> str:
    if account.receivable:
        return p.receivable_clearing_account
    return p.accounts.get(account.name, account.number)


def spec(p: Xero, accounts: dict[str, Account] | None = None) -> Spec:
    clearing = p.receivable_clearing_account
    if p.date_format == "dd/mm/yyyy":
        date, hint = r"(?:0[1-9]|[12]\d|3[01])/(?:0[1-9]|1[0-2])/\d{4}", "DD/MM/YYYY"
    else:
        date, hint = rf"(?:0[1-9]|[12]\d|3[01]) (?:{'|'.join(_MONTHS)}) \d{{4}}", "DD Mon YYYY"
    mapped = frozenset(account_code(p, a) for a in (accounts or {}).values())
    shared = sorted(a.name for a in (accounts or {}).values() if not a.receivable and account_code(p, a) == clearing)
    if shared:  # receivables would be posted to, and netted with, another account's balance
        raise RuleViolation(
            f"xero.receivable_clearing_account {clearing!r} is also the Xero account of {shared[0]}: receivable "
            "lines need an account of their own",
            field="xero.receivable_clearing_account",
        )
    # Xero's system account is Accounts Receivable itself (the on-account code is an account like any other).
    system = frozenset(a.number for a in (accounts or {}).values() if a.type == "AccountsReceivable")
    return Spec(
        format="xero",
        columns=COLUMNS,
        key=("*Narration", "*Date"),
        date=date,
        date_hint=hint,
        account="*AccountCode",
        signed="*Amount",
        max_lines_per_file=MAX_LINES_PER_FILE,
        accounts=mapped if accounts else None,
        forbidden_accounts=system,
    )


class Renderer:
    def __init__(self, profile: Profile, accounts: dict[str, Account], run: RunInfo) -> None:
        self.p = p = profile.xero
        self.spec = spec(p, accounts)
        self.codes = {code: account_code(p, a) for code, a in accounts.items()}
        self.tax = {code: p.tax_rates.get(code, p.default_tax_rate) for code in accounts}

    def _date(self, e: GLEntry) -> str:
        d = e.date
        if self.p.date_format == "dd/mm/yyyy":
            return f"{d.day:02d}/{d.month:02d}/{d.year}"
        return f"{d.day:02d} {_MONTHS[d.month - 1]} {d.year}"

    def rows(self, e: GLEntry) -> list[list[str]]:
        amounts = in_base(e, self.p, "xero")
        narration = f"{e.external_id} {e.memo}"
        if e.currency != self.p.base_currency:
            narration += f" ({e.currency} at {self.p.rates[e.currency]})"
        narration = clip(narration, TEXT_MAX)
        date = self._date(e)
        base = self.p.base_currency
        return [
            [
                narration,
                date,
                clip(audit_memo(e, line, with_memo=False) or e.transaction_type, TEXT_MAX),
                self.codes[line.code],
                self.tax[line.code],
                amount_text(debit - credit, base),
            ]
            for line, (debit, credit) in zip(e.lines, amounts, strict=True)
        ]

    def settings(self) -> dict[str, Any]:
        p = self.p
        return {
            "baseCurrency": p.base_currency,
            "foreignCurrency": p.foreign_currency,
            "rates": {c: str(r) for c, r in sorted(p.rates.items())},
            "accounts": dict(sorted(self.codes.items())),
            "receivableClearingAccount": p.receivable_clearing_account,
            "taxRates": dict(sorted(self.tax.items())),
            "dateFormat": p.date_format,
        }
