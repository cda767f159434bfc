"""``subledger adjustment create | list``: invoice item adjustments, in books without Invoice Settlement.

``create --body FILE.json`` takes ``{"adjustments": [...]}`` (the reference product's field names: invoiceNumber,
type, amount, sourceType, sourceId, adjustmentDate, reasonCode, referenceId, comment, deferredRevenueAccount,
recognizedRevenueAccount, customFields); they are made together, in one transaction, and judged together by the
rule that an invoice balance only moves toward zero. The bulk write-off of such a book is ``subledger write-off
--from FILE`` with ``{"invoices": [...], "settings": {...}}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from subledger.cli.common import ActorName, Db, IdempotencyKey, Json, app, books, console, print_json
from subledger.models.adjustments import AdjustmentView

adjustment_app = typer.Typer(help="Invoice item adjustments (books without Invoice Settlement).", no_args_is_help=True)
app.add_typer(adjustment_app, name="adjustment")


def _table(rows: list[AdjustmentView], title: str) -> Table:
    table = Table("number", "invoice", "date", "type", "line", "amount", "code", "reason", "status", title=title)
    for a in rows:
        table.add_row(
            a.number,
            a.invoice_number,
            str(a.adjustment_date),
            a.type,
            f"{a.source_id} ({a.source_type})",
            a.amount,
            a.accounting_code,
            a.reason_code,
            a.status,
        )
    return table


@adjustment_app.command("create")
def create(
    body: Annotated[Path, typer.Option("--body", help='Request body: {"adjustments": [...]} (JSON).')],
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Create invoice item adjustments together, in one transaction."""
    result = books(db, actor).adjust_invoice_items(body, idempotency_key=idempotency_key)
    if json_out:
        print_json(result)
        return
    console.print(_table(result.adjustments, "Invoice item adjustments created"))
    for invoice in result.invoices:
        lines = ", ".join(
            f"{i.id} {i.balance}" + "".join(f", {t.id} {t.balance}" for t in i.taxation_items)
            for i in invoice.invoice_items
        )
        console.print(f"{invoice.invoice_number}: balance {invoice.balance} ({lines})", markup=False)
    console.print(f"{len(result.journal_entries)} journal entries posted.")


@adjustment_app.command("list")
def list_(
    db: Db = None,
    invoice: Annotated[str | None, typer.Option(help="Only the adjustments of this invoice.")] = None,
    json_out: Json = False,
) -> None:
    """List invoice item adjustments."""
    rows = books(db).adjustments(invoice=invoice)
    if json_out:
        print_json(rows)
        return
    console.print(_table(rows, "Invoice item adjustments"))
