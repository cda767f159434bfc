"""Credit memo refunds: ``subledger credit-memo refund NUMBER --body FILE`` and ``subledger refund cancel NUMBER``.

A refund pays part of a credit memo's unapplied amount back to the customer (``subledger schema refund-credit-memo``
gives the body); cancelling it gives the amount back to the credit memo and posts the refund's mirror on the
cancel date (``--cancel-date``, or ``cancelDate`` in ``--body``, default today).
"""

from pathlib import Path
from typing import Annotated, Any

import typer

from subledger.cli import output
from subledger.cli.common import (
    STATE,
    _group,
    credit_memo_app,
    input_file,
    out,
    print_json,
    print_table,
    read_json_object,
    register,
)

refund_app = _group("refund", "Credit memo refunds: cancel.")


def _report(operation: str, result: Any, run: Any, verb: str) -> None:
    if STATE.json:
        print_json(output.operation_json(operation, result, run=run))
        return
    when = result.cancel_date if result.cancel_date is not None else result.refund_date
    out(
        f"Refund {result.number} of credit memo {result.credit_memo_number}: {result.amount} {result.currency} "
        f"{verb} on {when}; unapplied amount now {result.unapplied_amount}, refunded {result.refund_amount}"
        f"{output.replay_note(run)}."
    )
    print_table(
        ("credit memo line", "amount"),
        [(i.credit_memo_item_id or i.credit_tax_item_id or "", i.amount) for i in result.items],
    )
    for entry in result.journal_entries:
        out(f"{entry.id} {entry.date} {entry.transaction_type}: {entry.description}")


@register(credit_memo_app, "refund", writes=True)
def refund(
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="The credit memo's number.")],
    body: Annotated[
        Path,
        typer.Option(
            "--body",
            metavar="FILE",
            help="Request body (JSON: type, totalAmount, refundDate, methodType, referenceId, reasonCode, comment, "
            "items[] with creditMemoItemId or creditTaxItemId and amount).",
        ),
    ],
) -> None:
    """Refund part of a credit memo's unapplied amount to the customer (items given, or its lines in order)."""
    input_file(body, "request body")
    result, run = output.run(
        "refund-credit-memo",
        number,
        lambda b: b.refund_credit_memo(number, body, idempotency_key=STATE.idempotency_key),
    )
    _report("refund-credit-memo", result, run, "refunded")


@register(refund_app, "cancel", writes=True)
def cancel(
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="The refund's number (RF-...).")],
    body: Annotated[
        Path | None, typer.Option("--body", metavar="FILE", help="Request body (JSON: cancelDate).")
    ] = None,
    cancel_date: Annotated[
        str | None, typer.Option("--cancel-date", metavar="DATE", help="Date of the cancellation (default today).")
    ] = None,
) -> None:
    """Cancel a processed refund: the amount returns to the credit memo; the mirror posts on the cancel date."""
    request: dict[str, Any] = {}
    if body is not None:
        request = read_json_object(body)
    if cancel_date is not None:
        request["cancelDate"] = cancel_date
    result, run = output.run(
        "cancel-refund", number, lambda b: b.cancel_refund(number, request, idempotency_key=STATE.idempotency_key)
    )
    _report("cancel-refund", result, run, "cancelled")
