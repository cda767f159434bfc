"""``csv``: the generic layout, one row per line with every field the subledger knows (no ERP's conventions)."""

from __future__ import annotations

from typing import Any

from subledger.export.gl.model import Account, GLEntry, RunInfo, amount_text, safe_text
from subledger.export.gl.profile import Profile
from subledger.export.gl.validate import Column, Spec

COLUMNS = (
    Column("external_id", required=True),
    Column("date", "date", required=True),
    Column("period", required=True),
    Column("transaction_type", required=True),
    Column("account_number", required=True),
    Column("account_name", required=True),
    Column("debit", "amount", required=True),
    Column("credit", "amount", required=True),
    Column("currency", required=True),
    Column("memo"),
    Column("source_document"),
    Column("related_document"),
    Column("customer_account"),
    Column("item_id"),
    Column("reason_code"),
    Column("comment"),
    Column("journal_run", required=True),
)


def spec(accounts: frozenset[str] | None = None) -> Spec:
    return Spec(
        format="csv",
        columns=COLUMNS,
        key=("external_id",),
        date=r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])",
        date_hint="YYYY-MM-DD",
        account="account_number",
        debit="debit",
        credit="credit",
        accounts=accounts,
    )


class Renderer:
    def __init__(self, profile: Profile, accounts: dict[str, Account], run: RunInfo) -> None:
        self.spec = spec(frozenset(a.number for a in accounts.values()))
        self.run = safe_text(run.number)
        self.names = {code: safe_text(code) for code in accounts}
        self.numbers = {code: safe_text(a.number) for code, a in accounts.items()}

    def rows(self, e: GLEntry) -> list[list[str]]:
        head = [safe_text(e.external_id), e.date.isoformat(), safe_text(e.period), safe_text(e.transaction_type)]
        tail = [
            safe_text(e.currency),
            safe_text(e.memo),
            safe_text(e.source_document or ""),
            safe_text(e.related_document or ""),
            safe_text(e.customer_account or ""),
        ]
        end = [safe_text(e.reason_code or ""), safe_text(e.comment or ""), self.run]
        currency = e.currency
        return [
            [
                *head,
                self.numbers[line.code],
                self.names[line.code],
                amount_text(line.debit, currency),
                amount_text(line.credit, currency),
                *tail,
                safe_text(line.item_id or ""),
                *end,
            ]
            for line in e.lines
        ]

    def settings(self) -> dict[str, Any]:
        return {}
