"""Credit memo refunds (``subledger credit-memo refund NUMBER --body FILE``, ``subledger refund cancel NUMBER``) and
write-off recoveries (``subledger invoice|debit-memo recover WO-...``).

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
    command_group,
    credit_memo_app,
    debit_memo_app,
    input_file,
    invoice_app,
    out,
    print_json,
    print_table,
    read_json_object,
    register,
)
from subledger.posting import with_article

refund_app = command_group("refund", "Credit memo refunds: cancel.")


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


# --- write-off recoveries -------------------------------------------------------------------------------------------


def _recover(group: typer.Typer, kind: str, method: str) -> None:
    label = kind.replace("-", " ")

    def recover(
        number: Annotated[str, typer.Argument(metavar="WRITE_OFF", help="The write-off's credit memo (WO-...).")],
        body: Annotated[
            Path | None,
            typer.Option(
                "--body",
                metavar="FILE",
                help="Request body (JSON: memoDate, amount, items[] with creditMemoItemId or creditTaxItemId and "
                "amount, reasonCode, comment).",
            ),
        ] = None,
        memo_date: Annotated[
            str | None, typer.Option("--memo-date", metavar="DATE", help="Recovery date (default today).")
        ] = None,
        amount: Annotated[
            str | None, typer.Option("--amount", metavar="AMOUNT", help="Recover this much (default all that is left).")
        ] = None,
        reason_code: Annotated[
            str | None,
            typer.Option("--reason-code", metavar="CODE", help="Debit memo reason code (default Write-off)."),
        ] = None,
        comment: Annotated[str | None, typer.Option("--comment", metavar="TEXT", help="Comment.")] = None,
    ) -> None:
        request: dict[str, Any] = read_json_object(body) if body is not None else {}
        for key, value in (
            ("memoDate", memo_date),
            ("amount", amount),
            ("reasonCode", reason_code),
            ("comment", comment),
        ):
            if value is not None:
                request[key] = value
        operation = f"recover-{kind}-write-off"
        result, run = output.run(
            operation, number, lambda b: getattr(b, method)(number, request, idempotency_key=STATE.idempotency_key)
        )
        if STATE.json:
            print_json(output.operation_json(operation, result, run=run))
            return
        out(
            f"Recovered {result.amount} {result.currency} of write-off {result.write_off} ({label} "
            f"{result.document}) with debit memo {result.debit_memo} on {result.memo_date}; recovered "
            f"{result.recovered_amount} of {result.written_off_amount}, {result.remaining_amount} left"
            f"{output.replay_note(run)}."
        )
        for entry in result.journal_entries:
            out(f"{entry.id} {entry.date} {entry.transaction_type}: {entry.description}")

    recover.__doc__ = (
        f"Recover {with_article(label)}'s write-off: a debit memo with the write-off's codes, open for the customer's "
        "payment."
    )
    register(group, "recover", writes=True)(recover)


_recover(invoice_app, "invoice", "recover_invoice_write_off")
_recover(debit_memo_app, "debit-memo", "recover_debit_memo_write_off")
