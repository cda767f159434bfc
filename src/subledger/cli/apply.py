"""``subledger credit-memo apply|unapply NUMBER`` and ``subledger payment apply NUMBER``.

The request is the reference product's body (``--body FILE.json``): ``effectiveDate``, ``invoices[]`` and
``debitMemos[]`` with ``amount`` and optional ``items[]`` (``subledger schema apply-credit-memo`` prints it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from subledger.cli.common import ActorName, Db, IdempotencyKey, Json, app, books, console, credit_memo_app, print_json
from subledger.models.apply import ApplyResult

payment_app = typer.Typer(help="Payments: apply.", no_args_is_help=True)
app.add_typer(payment_app, name="payment")

Body = Annotated[
    Path,
    typer.Option(
        "--body", help="Request body (JSON: effectiveDate, invoices[], debitMemos[] with amount and items[])."
    ),
]


def report(result: ApplyResult, json_out: bool, verb: str) -> None:
    if json_out:
        print_json(result)
        return
    kind = "Credit memo" if result.source_kind == "CreditMemo" else "Payment"
    console.print(
        f"{kind} {result.number}: {result.amount} {result.currency} {verb} on {result.effective_date}; "
        f"unapplied amount now {result.unapplied_amount}."
    )
    table = Table("target", "item", "from", "amount", "date")
    for row in result.applications:
        table.add_row(
            row.target_number, row.target_item_id, row.source_item_id or "", row.amount, str(row.effective_date)
        )
    console.print(table)
    for entry in result.journal_entries:
        console.print(f"{entry.id} {entry.date} {entry.transaction_type}: {entry.description}")


@credit_memo_app.command("apply")
def apply_credit_memo(
    number: Annotated[str, typer.Argument(help="Credit memo number.")],
    body: Body,
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Apply a posted credit memo to invoices and debit memos of its account (items given, or FIFO)."""
    report(books(db, actor).apply_credit_memo(number, body, idempotency_key=idempotency_key), json_out, "applied")


@credit_memo_app.command("unapply")
def unapply_credit_memo(
    number: Annotated[str, typer.Argument(help="Credit memo number.")],
    body: Body,
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Return applied amounts of a credit memo to unapplied (items given, or oldest applications first)."""
    report(books(db, actor).unapply_credit_memo(number, body, idempotency_key=idempotency_key), json_out, "unapplied")


@payment_app.command("apply")
def apply_payment(
    number: Annotated[str, typer.Argument(help="Payment number.")],
    body: Body,
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Apply a processed payment's unapplied amount to invoices and debit memos (items given, or FIFO)."""
    report(books(db, actor).apply_payment(number, body, idempotency_key=idempotency_key), json_out, "applied")
