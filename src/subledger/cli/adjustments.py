"""``subledger adjustment create | list``: invoice item adjustments, in books without Invoice Settlement.

``create --body FILE.json`` takes ``{"adjustments": [...]}`` (the reference product's field names: invoiceNumber,
type, amount, sourceType, sourceId, adjustmentDate, reasonCode, referenceId, comment, deferredRevenueAccount,
recognizedRevenueAccount, customFields); they are made together, in one transaction, and judged together by the
rule that an invoice balance only moves toward zero. The bulk write-off of such a book is ``subledger write-off
--from FILE`` with ``{"invoices": [...], "settings": {...}}``.
"""

from pathlib import Path
from typing import Annotated, Any

import typer

from subledger.cli import output
from subledger.cli.common import STATE, app, books, input_file, out, print_json, print_table, register

adjustment_app = typer.Typer(
    help="Invoice item adjustments (books without Invoice Settlement).", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(adjustment_app, name="adjustment")
HEADERS = ("number", "invoice", "date", "type", "line", "amount", "code", "reason", "status")


def _rows(rows: list[Any]) -> list[tuple[str, ...]]:
    return [
        (
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
        for a in rows
    ]


@register(adjustment_app, "create", writes=True, table=True)
def create(
    body: Annotated[Path, typer.Option("--body", metavar="FILE", help='Request body: {"adjustments": [...]} (JSON).')],
) -> None:
    """Create invoice item adjustments together, in one transaction."""
    input_file(body, "request body")
    result, run = output.run(
        "adjustment", None, lambda book: book.adjust_invoice_items(body, idempotency_key=STATE.idempotency_key)
    )
    if STATE.json:
        print_json(output.operation_json("adjustment", result, run=run))
        return
    print_table(HEADERS, _rows(result.adjustments), title="Invoice item adjustments created" + output.replay_note(run))
    for invoice in result.invoices:
        lines = ", ".join(
            f"{i.id} {i.balance}" + "".join(f", {t.id} {t.balance}" for t in i.taxation_items)
            for i in invoice.invoice_items
        )
        out(f"{invoice.invoice_number}: balance {invoice.balance} ({lines})")
    out(f"{len(result.journal_entries)} journal entries posted.")


@register(adjustment_app, "list", table=True)
def list_(
    invoice: Annotated[str | None, typer.Option(metavar="NUMBER", help="Only the adjustments of this invoice.")] = None,
) -> None:
    """List invoice item adjustments."""
    rows = books().adjustments(invoice=invoice)
    if STATE.json:
        print_json(rows)
        return
    print_table(HEADERS, _rows(rows), title="Invoice item adjustments")
