"""``subledger invoice write-off``, ``debit-memo write-off``, ``credit-memo write-off`` and ``write-off --from``.

The request is the reference product's body (``--body FILE.json``) or the same fields as flags; a flag given with
``--body`` overrides that field of the file. ``--item ID=AMOUNT`` and ``--tax-item ID=AMOUNT`` make a line-level
write-off (a taxation item is filed under the item it belongs to); ``--non-revenue CODE`` makes it non-revenue.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from subledger.cli.common import (
    ActorName,
    Db,
    IdempotencyKey,
    Json,
    app,
    books,
    console,
    credit_memo_app,
    debit_memo_app,
    invoice_app,
    journal_table,
    print_json,
)
from subledger.errors import InvalidInput, NotFound
from subledger.models.jsonio import read_object
from subledger.models.writeoff import BulkWriteOffResult, WriteOffResult

Body = Annotated[
    Path | None,
    typer.Option(
        "--body",
        help="Request body (JSON: memoDate, reasonCode, comment, revenueImpacting, "
        "nonRevenueWriteOffAccountingCode, amount, items).",
    ),
]
MemoDate = Annotated[
    str | None, typer.Option("--memo-date", help="Date of the generated memo, YYYY-MM-DD (default today).")
]
ReasonCode = Annotated[str | None, typer.Option("--reason-code", help="Reason code (default Write-off).")]
Comment = Annotated[str | None, typer.Option("--comment", help="Comment of the generated memo (255 characters).")]
NonRevenue = Annotated[
    str | None,
    typer.Option("--non-revenue", help="Non-revenue write-off to this BadDebt or OtherExpenses accounting code."),
]
Items = Annotated[
    list[str] | None, typer.Option("--item", help="Write off AMOUNT of item ID (line level; repeatable): ID=AMOUNT.")
]
TaxItems = Annotated[
    list[str] | None,
    typer.Option("--tax-item", help="Write off AMOUNT of taxation item ID (line level; repeatable): ID=AMOUNT."),
]


def _pairs(values: list[str] | None, option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values or []:
        line_id, sep, amount = value.partition("=")
        if not sep or not line_id or not amount:
            raise InvalidInput(f"{option} takes ID=AMOUNT, got {value!r}", field=option)
        pairs.append((line_id, amount))
    return pairs


def _read_body(body: Path, number: str | None = None) -> dict[str, Any]:
    return read_object(body, what="request body", document=number)


def _line_items(
    db: str | None, kind: str, number: str, items: list[tuple[str, str]], taxes: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """The ``items`` of a line-level request from ``--item`` and ``--tax-item`` (each tax under its own item)."""
    key = "invoiceItemId" if kind == "invoice" else "debitMemoItemId"
    listed: dict[str, dict[str, Any]] = {}
    for item_id, amount in items:
        listed[item_id] = {key: item_id, "amountWithoutTax": amount, "taxationItems": []}
    if taxes:
        owner = {
            tax["id"]: item["id"]
            for item in books(db).show(kind, number).get("items", [])
            for tax in item.get("taxationItems", [])
        }
        for tax_id, amount in taxes:
            if tax_id not in owner:
                raise NotFound(
                    f"taxation item {tax_id} is not a taxation item of {kind.replace('-', ' ')} {number}",
                    document=number,
                    field="--tax-item",
                )
            entry = listed.setdefault(owner[tax_id], {key: owner[tax_id], "amountWithoutTax": "0", "taxationItems": []})
            entry["taxationItems"].append({"taxationItemId": tax_id, "amount": amount})
    return list(listed.values())


def request(
    db: str | None,
    kind: str,
    number: str,
    body: Path | None,
    *,
    memo_date: str | None,
    reason_code: str | None,
    comment: str | None,
    non_revenue: str | None = None,
    items: list[str] | None = None,
    tax_items: list[str] | None = None,
) -> dict[str, Any] | Path:
    """The request body: the ``--body`` file, with the flags given on the command line taking precedence."""
    flags = {
        "memoDate": memo_date,
        "reasonCode": reason_code,
        "comment": comment,
        "nonRevenueWriteOffAccountingCode": non_revenue,
    }
    given: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}
    if given.get("nonRevenueWriteOffAccountingCode") is not None:
        given["revenueImpacting"] = "No"
    item_pairs, tax_pairs = _pairs(items, "--item"), _pairs(tax_items, "--tax-item")
    if item_pairs or tax_pairs:
        given["items"] = _line_items(db, kind, number, item_pairs, tax_pairs)
    if body is not None and not given:
        return body  # parsed by the model, so a bad file is reported field by field
    return {**(_read_body(body, number) if body is not None else {}), **given}


def report(result: WriteOffResult, json_out: bool) -> None:
    if json_out:
        print_json(result)
        return
    memo = result.credit_memo or result.debit_memo
    assert memo is not None
    kind = result.document_kind.replace("Memo", " memo").lower()
    memo_kind = "credit memo" if result.credit_memo else "debit memo"
    console.print(
        f"Wrote off {kind} {result.document}: {memo_kind} {memo.number} for {result.amount} {result.currency}, "
        f"{result.memo_date} (period {result.period})."
    )
    console.print(journal_table(result.journal_entries))


@invoice_app.command("write-off")
def invoice_write_off(
    number: Annotated[str, typer.Argument(help="Invoice number.")],
    body: Body = None,
    memo_date: MemoDate = None,
    reason_code: ReasonCode = None,
    comment: Comment = None,
    non_revenue: NonRevenue = None,
    item: Items = None,
    tax_item: TaxItems = None,
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Write off an invoice: its whole open balance, or the lines given, with a credit memo applied to it."""
    data = request(
        db,
        "invoice",
        number,
        body,
        memo_date=memo_date,
        reason_code=reason_code,
        comment=comment,
        non_revenue=non_revenue,
        items=item,
        tax_items=tax_item,
    )
    report(books(db, actor).write_off_invoice(number, data, idempotency_key=idempotency_key), json_out)


@debit_memo_app.command("write-off")
def debit_memo_write_off(
    number: Annotated[str, typer.Argument(help="Debit memo number.")],
    body: Body = None,
    memo_date: MemoDate = None,
    reason_code: ReasonCode = None,
    comment: Comment = None,
    non_revenue: NonRevenue = None,
    item: Items = None,
    tax_item: TaxItems = None,
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Write off a debit memo (Enhanced Write-off): its open balance or the lines given, with a credit memo."""
    data = request(
        db,
        "debit-memo",
        number,
        body,
        memo_date=memo_date,
        reason_code=reason_code,
        comment=comment,
        non_revenue=non_revenue,
        items=item,
        tax_items=tax_item,
    )
    report(books(db, actor).write_off_debit_memo(number, data, idempotency_key=idempotency_key), json_out)


@credit_memo_app.command("write-off")
def credit_memo_write_off(
    number: Annotated[str, typer.Argument(help="Credit memo number.")],
    body: Annotated[
        Path | None, typer.Option("--body", help="Request body (JSON: memoDate, reasonCode, comment).")
    ] = None,
    memo_date: MemoDate = None,
    reason_code: ReasonCode = None,
    comment: Comment = None,
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Write off a fully unapplied credit memo: a debit memo mirroring it, with the credit memo applied to it."""
    data = request(db, "credit-memo", number, body, memo_date=memo_date, reason_code=reason_code, comment=comment)
    report(books(db, actor).write_off_credit_memo(number, data, idempotency_key=idempotency_key), json_out)


@app.command("write-off")
def bulk_write_off(
    source: Annotated[
        Path,
        typer.Option(
            "--from",
            help="JSON: {documents: [numbers]} or {filter: {kind, accountNumber, olderThan}}, and settings "
            "(the write-off body, header level).",
        ),
    ],
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Write off many documents with one settings body; each is its own operation, refusals are reported."""
    book = books(db, actor)
    if sys.stdout.isatty() and not json_out:
        with Progress(
            TextColumn("writing off"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
        ) as bar:
            task = bar.add_task("write-off", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = book.write_off_bulk(source, idempotency_key=idempotency_key, progress=progress)
    else:
        result = book.write_off_bulk(source, idempotency_key=idempotency_key)
    if json_out or not isinstance(result, BulkWriteOffResult):
        print_json(result)
        return
    console.print(
        f"{len(result.written_off)} of {result.requested} documents written off, {len(result.failed)} refused."
    )
    for failure in result.failed:
        console.print(f"  {failure.document}: {failure.rule}", markup=False)
