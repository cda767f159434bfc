"""Commands over the whole book: init, load, schema, show, journal.

Read commands (show, journal) go to ``subledger.queries`` directly rather than through ``subledger.api``, which
imports every operation: a look at one document should not pay for the whole package.
"""

import json
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from subledger.cli import output
from subledger.cli.common import (
    STATE,
    CommandError,
    app,
    books,
    busy,
    engine,
    input_file,
    out,
    print_journal,
    print_json,
    print_table,
    register,
)

#: ``subledger schema NAME``: the JSON Schema of each input, as "module:Model" (imported only when asked for).
SCHEMAS: dict[str, str] = {
    "load": "subledger.models.documents:LoadFile",
    "write-off": "subledger.models.writeoff:WriteOffRequest",
    "write-off-credit-memo": "subledger.models.writeoff:CreditMemoWriteOffRequest",
    "write-off-bulk": "subledger.models.writeoff:BulkWriteOff",
    "reverse-invoice": "subledger.models.reversal:InvoiceReversalRequest",
    "reverse-credit-memo": "subledger.models.reversal:CreditMemoReversalRequest",
    "apply-credit-memo": "subledger.models.apply:CreditMemoApplyRequest",
    "unapply-credit-memo": "subledger.models.apply:CreditMemoUnapplyRequest",
    "apply-payment": "subledger.models.apply:PaymentApplyRequest",
    "unapply-payment": "subledger.models.apply:PaymentUnapplyRequest",
    "refund-credit-memo": "subledger.models.refund:CreditMemoRefundRequest",
    "cancel-refund": "subledger.models.refund:RefundCancelRequest",
    "recover-write-off": "subledger.models.recovery:WriteOffRecoveryRequest",
    "adjustment": "subledger.models.adjustments:AdjustmentRequest",
    "write-off-adjustments": "subledger.models.adjustments:BulkAdjustmentWriteOff",
}
#: ``subledger schema --output NAME``: the JSON Schema of what ``--json`` prints, per result.
OUTPUT_SCHEMAS: dict[str, str] = {
    "init": "subledger.operations.setup:InitResult",
    "load": "subledger.operations.load:LoadResult",
    "write-off": "subledger.models.writeoff:WriteOffResult",
    "write-off-bulk": "subledger.models.writeoff:BulkWriteOffResult",
    "reversal": "subledger.models.reversal:ReversalResult",
    "apply": "subledger.models.apply:ApplyResult",
    "refund": "subledger.models.refund:RefundResult",
    "recovery": "subledger.models.recovery:RecoveryResult",
    "adjustment": "subledger.models.adjustments:AdjustmentResult",
    "journal-entry": "subledger.models.views:JournalEntryView",
    "period": "subledger.models.views:PeriodView",
    "period-transition": "subledger.operations.periods:PeriodTransition",
    "check-report": "subledger.checks:CheckReport",
    "audit-record": "subledger.audit:AuditRecord",
    "list-documents": "subledger.reports:DocumentListRow",
    "list-payments": "subledger.reports:PaymentListRow",
    "aging": "subledger.reports:AgingReport",
    "write-offs": "subledger.reports:WriteOffReport",
    "reversals": "subledger.reports:ReversalReport",
    "error": "subledger.cli.output_models:ErrorOutput",
    "operation": "subledger.cli.output_models:OperationOutput",
}


def _model(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(import_module(module), name)


@register(app, "init", writes=True)
def init(
    chart: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Chart of accounts directory (default: chart_of_accounts/ of the package).",
            show_default=False,
        ),
    ] = None,
    periods: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="Fiscal calendar directory (default: periods/ of the package).", show_default=False
        ),
    ] = None,
    invoice_settlement: Annotated[
        bool, typer.Option(help="Invoice Settlement (credit and debit memos); off: invoice item adjustments.")
    ] = True,
    mirroring_rule: Annotated[
        Literal["Yes", "YesExceptZeroBalance", "No"],
        typer.Option(help="Create credit memos mirroring invoice items."),
    ] = "Yes",
    non_revenue_tax_to_write_off_code: Annotated[
        bool, typer.Option(help="Tax lines of non-revenue write-offs debit the write-off code.")
    ] = False,
) -> None:
    """Create or refresh the book: schema, chart of accounts, calendar, reason codes, settings."""
    for directory, what in ((chart, "chart of accounts directory"), (periods, "calendar directory")):
        if directory is not None and not directory.is_dir():
            raise CommandError(f"{what} {directory} is not a directory: check the path", code="file-not-found")
    from subledger.cli.common import database_url
    from subledger.cli.preflight import discard_if_bookless, new_sqlite_file

    made = new_sqlite_file(database_url())
    book = books(creating=True)
    from subledger.api import DEFAULT_CHART, DEFAULT_PERIODS
    from subledger.settings import BookSettings

    settings = BookSettings(
        invoice_settlement=invoice_settlement,
        mirroring_rule=mirroring_rule,
        non_revenue_tax_to_write_off_code=non_revenue_tax_to_write_off_code,
    )
    try:
        result = book.init(chart=chart or DEFAULT_CHART, periods=periods or DEFAULT_PERIODS, settings=settings)
    except BaseException:
        if made is not None:
            # A refused first init (a calendar without periods, a chart that does not parse) opened the file to
            # audit the refusal, which made it: nothing is written, so nothing is left behind either.
            book.engine.dispose()
            discard_if_bookless(made)
        raise
    if STATE.json:
        print_json(result)
        return
    out(
        f"Book ready: {result.accounting_codes} accounting codes, {result.periods} periods, "
        f"{result.reason_codes} reason codes."
    )


@register(app, "load", writes=True, table=True)
def load(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="Load file (JSON: accounts, invoices, debitMemos, creditMemos, payments)."),
    ],
) -> None:
    """Load documents from the billing system and post them to the journal."""
    input_file(file, "load file")
    with busy(f"loading {file.name}"):
        result, run = output.run("load", None, lambda book: book.load(file, idempotency_key=STATE.idempotency_key))
    if STATE.json:
        print_json(output.operation_json("load", result, run=run))
        return
    print_table(
        ("document", "loaded", "updated", "unchanged"),
        [
            (kind, result.loaded.get(kind, 0), result.updated.get(kind, 0), result.unchanged.get(kind, 0))
            for kind in sorted(set(result.loaded) | set(result.updated) | set(result.unchanged))
        ],
        title=f"Loaded {file.name}{output.replay_note(run)}",
    )
    out(f"{result.journal_entries} journal entries posted.")


@app.command("schema")
def schema(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Which input: " + ", ".join(SCHEMAS) + ".")] = "load",
    output_name: Annotated[
        str | None,
        typer.Option(
            "--output", metavar="NAME", help="The schema of a --json output instead: " + ", ".join(OUTPUT_SCHEMAS) + "."
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of an input (or, with --output, of an output), generated from its model."""
    if output_name is not None:
        if output_name not in OUTPUT_SCHEMAS:
            raise CommandError(
                f"unknown output schema {output_name!r}: choose from {', '.join(sorted(OUTPUT_SCHEMAS))}",
                code="usage",
                exit_code=2,
            )
        spec = OUTPUT_SCHEMAS[output_name]
    else:
        if name not in SCHEMAS:
            raise CommandError(
                f"unknown schema {name!r}: choose from {', '.join(sorted(SCHEMAS))}", code="usage", exit_code=2
            )
        spec = SCHEMAS[name]
    out(json.dumps(_model(spec).model_json_schema(by_alias=True), indent=2))


@register(app, "show", table=True)
def show(
    kind: Annotated[
        Literal["invoice", "debit-memo", "credit-memo"],
        typer.Argument(metavar="KIND", help="invoice, debit-memo or credit-memo."),
    ],
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="Document number.")],
) -> None:
    """Show a document with its current balances."""
    from subledger import queries

    with engine().connect() as conn:
        doc = queries.show_document(conn, kind, number)
    if STATE.json:
        print_json(doc)
        return
    state = "unappliedAmount" if kind == "credit-memo" else "balance"
    rows = []
    for item in doc.get("items", []):
        amount = item.get("chargeAmount", item.get("amountWithoutTax"))
        rows.append((item["id"], item.get("processingType", ""), item.get("chargeName") or "", amount, item[state]))
        for tax in item.get("taxationItems", []):
            rows.append((tax["id"], "Tax", tax.get("name") or "", tax["taxAmount"], tax[state]))
    rows.append(("total", "", "", doc["amount"], doc[state]))
    print_table(("line", "kind", "name", "amount", state), rows, title=f"{kind} {number} ({doc['status']})")


@register(app, "journal", table=True)
def journal(
    document: Annotated[str | None, typer.Option(metavar="NUMBER", help="Only entries of this document.")] = None,
    period: Annotated[str | None, typer.Option(metavar="PERIOD", help="Only entries of this period.")] = None,
    tag: Annotated[
        str | None,
        typer.Option(metavar="TAG", help="Only entries with this tag (write-off, reversal, recovery, refund, ...)."),
    ] = None,
) -> None:
    """Print journal entries with their lines and descriptions."""
    from subledger import queries

    wanted = None if tag is None else _tag(tag)
    with engine().connect() as conn:
        entries = list(queries.journal(conn, document=document, period=period))
    if wanted is not None:
        entries = [e for e in entries if e.tag == wanted]
    if STATE.json:
        print_json(entries)
        return
    print_journal(entries)


def _tag(given: str) -> str:
    """The tag ``given`` names, as the ledger spells it (write-off, #write-off) or without its hyphens (writeoff); a
    tag no entry can carry is a mistake on the command line (exit 2), naming the tags, not an empty journal."""
    from subledger.journal import Tag

    wanted = given.removeprefix("#").replace("-", "").lower()
    for known in Tag:
        if known.replace("-", "") == wanted:
            return known.value
    raise typer.BadParameter(f"no tag {given!r}; choose from {', '.join(Tag)}", param_hint="'--tag'")
