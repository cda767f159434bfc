"""``subledger invoice reverse`` and ``subledger credit-memo reverse``.

The request is the reference product's body (``--body FILE.json``) or the same fields as flags; a flag given with
``--body`` overrides that field of the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from subledger.cli.common import (
    ActorName,
    Db,
    IdempotencyKey,
    Json,
    books,
    console,
    credit_memo_app,
    invoice_app,
    journal_table,
    print_json,
)
from subledger.models.jsonio import read_object
from subledger.models.reversal import ReversalResult

Body = Annotated[
    Path | None,
    typer.Option("--body", help="Request body (JSON: memoDate, applyEffectiveDate, reasonCode, comment)."),
]
MemoDate = Annotated[
    str | None, typer.Option("--memo-date", help="Date of the generated memo, YYYY-MM-DD (default today).")
]
ApplyDate = Annotated[
    str | None,
    typer.Option("--apply-effective-date", help="Date the memo is applied, YYYY-MM-DD (default the memo date)."),
]
ReasonCode = Annotated[str | None, typer.Option("--reason-code", help="Reason code of the generated memo.")]
Comment = Annotated[str | None, typer.Option("--comment", help="Comment of the generated memo (255 characters).")]


def request(
    body: Path | None, memo_date: str | None, apply_date: str | None, reason_code: str | None, comment: str | None
) -> dict[str, Any] | Path:
    flags = {
        "memoDate": memo_date,
        "applyEffectiveDate": apply_date,
        "reasonCode": reason_code,
        "comment": comment,
    }
    given = {k: v for k, v in flags.items() if v is not None}
    if body is not None and not given:
        return body  # parsed by the model, so a bad file is reported field by field
    data: dict[str, Any] = {}
    if body is not None:
        data = read_object(body, what="request body")
    return {**data, **given}


def report(result: ReversalResult, json_out: bool) -> None:
    if json_out:
        print_json(result)
        return
    for doc in result.reversed:
        kind = doc.kind.replace("Memo", " memo").lower()
        memo = doc.memo_kind.replace("Memo", " memo").lower()
        console.print(f"Reversed {kind} {doc.number} ({doc.amount}) with {memo} {doc.memo_number}.")
    console.print(journal_table(result.journal_entries))
    console.print(f"{len(result.journal_entries)} journal entries posted.")


@invoice_app.command("reverse")
def reverse_invoice(
    number: Annotated[str, typer.Argument(help="Invoice number.")],
    body: Body = None,
    memo_date: MemoDate = None,
    apply_effective_date: ApplyDate = None,
    reason_code: ReasonCode = None,
    comment: Comment = None,
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Reverse a posted invoice: a mirrored credit memo, applied back to it (reason code Invoice reversal)."""
    data = request(body, memo_date, apply_effective_date, reason_code, comment)
    report(books(db, actor).reverse_invoice(number, data, idempotency_key=idempotency_key), json_out)


@credit_memo_app.command("reverse")
def reverse_credit_memo(
    number: Annotated[str, typer.Argument(help="Credit memo number.")],
    body: Body = None,
    memo_date: MemoDate = None,
    apply_effective_date: ApplyDate = None,
    reason_code: ReasonCode = None,
    comment: Comment = None,
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Reverse a posted credit memo: a mirrored debit memo it is applied to (reason code Credit memo reversal)."""
    data = request(body, memo_date, apply_effective_date, reason_code, comment)
    report(books(db, actor).reverse_credit_memo(number, data, idempotency_key=idempotency_key), json_out)
