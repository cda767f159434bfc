"""Commands over the whole book: init, load, schema, show, journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from subledger.api import DEFAULT_CHART, DEFAULT_PERIODS
from subledger.cli.common import ActorName, Db, IdempotencyKey, Json, app, books, console, journal_table, print_json
from subledger.models.adjustments import AdjustmentRequest, BulkAdjustmentWriteOff
from subledger.models.apply import CreditMemoApplyRequest, CreditMemoUnapplyRequest, PaymentApplyRequest
from subledger.models.documents import LoadFile
from subledger.models.reversal import CreditMemoReversalRequest, InvoiceReversalRequest
from subledger.models.writeoff import BulkWriteOff, CreditMemoWriteOffRequest, WriteOffRequest
from subledger.settings import BookSettings, MirroringRule

#: Models whose JSON Schema ``subledger schema NAME`` prints; operations add theirs.
SCHEMAS: dict[str, type] = {"load": LoadFile}
SCHEMAS["reverse-invoice"] = InvoiceReversalRequest
SCHEMAS["reverse-credit-memo"] = CreditMemoReversalRequest
SCHEMAS["apply-credit-memo"] = CreditMemoApplyRequest
SCHEMAS["unapply-credit-memo"] = CreditMemoUnapplyRequest
SCHEMAS["apply-payment"] = PaymentApplyRequest
SCHEMAS["write-off"] = WriteOffRequest
SCHEMAS["write-off-credit-memo"] = CreditMemoWriteOffRequest
SCHEMAS["write-off-bulk"] = BulkWriteOff
SCHEMAS["adjustment"] = AdjustmentRequest
SCHEMAS["write-off-adjustments"] = BulkAdjustmentWriteOff


@app.command()
def init(
    db: Db = None,
    chart: Annotated[Path, typer.Option(help="Chart of accounts directory.")] = DEFAULT_CHART,
    periods: Annotated[Path, typer.Option(help="Fiscal calendar directory.")] = DEFAULT_PERIODS,
    invoice_settlement: Annotated[
        bool, typer.Option(help="Invoice Settlement (credit and debit memos); off: invoice item adjustments.")
    ] = True,
    mirroring_rule: Annotated[
        str,
        typer.Option(help="Create credit memos mirroring invoice items: Yes, YesExceptZeroBalance or No."),
    ] = "Yes",
    non_revenue_tax_to_write_off_code: Annotated[
        bool, typer.Option(help="Tax lines of non-revenue write-offs debit the write-off code.")
    ] = False,
    json_out: Json = False,
) -> None:
    """Create or refresh the book: schema, chart of accounts, calendar, reason codes, settings."""
    rule: MirroringRule = mirroring_rule  # type: ignore[assignment]
    settings = BookSettings(
        invoice_settlement=invoice_settlement,
        mirroring_rule=rule,
        non_revenue_tax_to_write_off_code=non_revenue_tax_to_write_off_code,
    )
    result = books(db).init(chart=chart, periods=periods, settings=settings)
    if json_out:
        print_json(result)
    else:
        console.print(
            f"Book ready: {result.accounting_codes} accounting codes, {result.periods} periods, "
            f"{result.reason_codes} reason codes."
        )


@app.command()
def load(
    file: Annotated[Path, typer.Argument(help="Load file (accounts, invoices, debitMemos, creditMemos, payments).")],
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Load documents from the billing system and post them to the journal."""
    result = books(db, actor).load(file, idempotency_key=idempotency_key)
    if json_out:
        print_json(result)
        return
    table = Table("document", "loaded", "unchanged", title=f"Loaded {file.name}")
    for kind in sorted(set(result.loaded) | set(result.unchanged)):
        table.add_row(kind, str(result.loaded.get(kind, 0)), str(result.unchanged.get(kind, 0)))
    console.print(table)
    console.print(f"{result.journal_entries} journal entries posted.")


@app.command()
def schema(
    name: Annotated[str, typer.Argument(help="Which input: " + ", ".join(SCHEMAS))] = "load",
) -> None:
    """Print the JSON Schema of an input, generated from its pydantic model."""
    if name not in SCHEMAS:
        raise typer.BadParameter(f"unknown schema {name!r}; choose from {', '.join(sorted(SCHEMAS))}")
    model = SCHEMAS[name]
    typer.echo(json.dumps(model.model_json_schema(by_alias=True), indent=2))  # type: ignore[attr-defined]


@app.command()
def show(
    kind: Annotated[str, typer.Argument(help="invoice, debit-memo or credit-memo")],
    number: Annotated[str, typer.Argument(help="Document number.")],
    db: Db = None,
    json_out: Json = False,
) -> None:
    """Show a document with its current balances."""
    if kind not in ("invoice", "debit-memo", "credit-memo"):
        raise typer.BadParameter("kind must be invoice, debit-memo or credit-memo")
    doc = books(db).show(kind, number)
    if json_out:
        print_json(doc)
        return
    state = "unappliedAmount" if kind == "credit-memo" else "balance"
    table = Table("line", "kind", "name", "amount", state, title=f"{kind} {number} ({doc['status']})")
    for item in doc.get("items", []):
        amount = item.get("chargeAmount", item.get("amountWithoutTax"))
        table.add_row(item["id"], item.get("processingType", ""), item.get("chargeName") or "", amount, item[state])
        for tax in item.get("taxationItems", []):
            table.add_row(tax["id"], "Tax", tax.get("name") or "", tax["taxAmount"], tax[state])
    table.add_section()
    table.add_row("total", "", "", doc["amount"], doc[state])
    console.print(table)


@app.command()
def journal(
    db: Db = None,
    document: Annotated[str | None, typer.Option(help="Only entries of this document.")] = None,
    period: Annotated[str | None, typer.Option(help="Only entries of this period.")] = None,
    json_out: Json = False,
) -> None:
    """Print journal entries with their lines."""
    entries = books(db).journal(document=document, period=period)
    if json_out:
        print_json(entries)
        return
    console.print(journal_table(entries))
