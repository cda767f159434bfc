"""``csv``: the generic layout, one row per line with every field the subledger knows (no ERP's conventions)."""

from __future__ import annotations

from typing import Any

from subledger.export.gl.model import Account, GLEntry, RunInfo, texts
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
        self.run = run.number
        #: Each code's (number, name) cells.
        self.cells = {code: (a.number, code) for code, a in accounts.items()}

    def rows(self, e: GLEntry) -> list[list[str]]:
        head = (e.external_id, e.date.isoformat(), e.period, e.transaction_type)
        tail = (e.currency, e.memo, e.source_document or "", e.related_document or "", e.customer_account or "")
        end = (e.reason_code or "", e.comment or "", self.run)
        cells, text = self.cells, texts(e.currency)
        return [
            [
                *head,
                *cells[line.code],
                text[line.debit],
                text[line.credit],
                *tail,
                line.item_id or "",
                *end,
            ]
            for line in e.lines
        ]

    def settings(self) -> dict[str, Any]:
        return {}
