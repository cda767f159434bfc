"""Shared options, output helpers and the command groups other modules add commands to."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from subledger.api import Books
from subledger.models.views import JournalEntryView

app = typer.Typer(
    name="subledger",
    help="Billing settlement as double-entry accounting: load, write off, reverse, close, export.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
invoice_app = typer.Typer(help="Invoices: write off, reverse.", no_args_is_help=True)
debit_memo_app = typer.Typer(help="Debit memos: write off.", no_args_is_help=True)
credit_memo_app = typer.Typer(help="Credit memos: write off, reverse.", no_args_is_help=True)
period_app = typer.Typer(help="Accounting periods.", no_args_is_help=True)
export_app = typer.Typer(help="Export the books: Beancount ledger, GL files.", no_args_is_help=True)
app.add_typer(invoice_app, name="invoice")
app.add_typer(debit_memo_app, name="debit-memo")
app.add_typer(credit_memo_app, name="credit-memo")
app.add_typer(period_app, name="period")
app.add_typer(export_app, name="export")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

Db = Annotated[
    str | None,
    typer.Option("--db", envvar="SUBLEDGER_DB", help="Database URL (default sqlite:///subledger.db)."),
]
ActorName = Annotated[
    str | None,
    typer.Option("--actor", envvar="SUBLEDGER_ACTOR", help="Who runs the command (default admin)."),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
IdempotencyKey = Annotated[
    str | None,
    typer.Option("--idempotency-key", help="Replaying the same key and request posts nothing twice."),
]


def books(db: str | None, actor: str | None = None) -> Books:
    return Books(db, actor=actor)


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    typer.echo(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False))


def journal_table(entries: list[JournalEntryView]) -> Table:
    """Journal entries as an accountant reads them: one row per line, the entry's date, id and type once."""
    table = Table("date", "entry", "type", "code", "debit", "credit", "cur", "item", "documents")
    for entry in entries:
        for i, line in enumerate(entry.lines):
            first = i == 0
            table.add_row(
                str(entry.date) if first else "",
                entry.id if first else "",
                entry.transaction_type if first else "",
                line.accounting_code,
                line.debit if line.debit != "0.00" else "",
                line.credit if line.credit != "0.00" else "",
                line.currency,
                line.item_id or "",
                " ".join(entry.documents) if first else "",
            )
    return table
