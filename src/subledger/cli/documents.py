"""Operations on one document, registered per kind: write-off, reverse, apply, unapply; and the bulk write-off.

``subledger invoice|debit-memo|credit-memo write-off NUMBER``, ``invoice|credit-memo reverse NUMBER``,
``credit-memo apply|unapply NUMBER`` and ``payment apply NUMBER``: each is one ``Books`` method, registered by one
helper per operation (``_write_off``, ``_reverse``, ``_apply``) for the kinds it applies to.

The request is the reference product's body (``--body FILE.json``) or the same fields as flags; a flag given with
``--body`` overrides that field of the file. ``--item ID=AMOUNT`` and ``--tax-item ID=AMOUNT`` make a line-level
write-off (a taxation item is filed under the item it belongs to); ``--non-revenue CODE`` makes it non-revenue.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from subledger.cli import output
from subledger.cli.common import (
    PARTLY_DONE,
    STATE,
    CommandError,
    app,
    books,
    credit_memo_app,
    debit_memo_app,
    input_file,
    invoice_app,
    out,
    payment_app,
    print_journal,
    print_json,
    print_table,
    progress,
    read_json_object,
    register,
)

T = TypeVar("T")

WRITE_OFF_FIELDS = "memoDate, reasonCode, comment, revenueImpacting, nonRevenueWriteOffAccountingCode, amount, items"
MemoDate = Annotated[
    str | None,
    typer.Option("--memo-date", metavar="DATE", help="Date of the generated memo, YYYY-MM-DD (default today)."),
]
ReasonCode = Annotated[
    str | None, typer.Option("--reason-code", metavar="CODE", help="Reason code of the generated memo.")
]
Comment = Annotated[
    str | None,
    typer.Option("--comment", metavar="TEXT", help="Comment of the generated memo (255 characters)."),
]
NonRevenue = Annotated[
    str | None,
    typer.Option(
        "--non-revenue",
        metavar="CODE",
        help="Non-revenue write-off to this BadDebt or OtherExpenses accounting code.",
    ),
]
Items = Annotated[
    list[str] | None,
    typer.Option("--item", metavar="ID=AMOUNT", help="Write off AMOUNT of item ID (line level; repeatable)."),
]
TaxItems = Annotated[
    list[str] | None,
    typer.Option(
        "--tax-item", metavar="ID=AMOUNT", help="Write off AMOUNT of taxation item ID (line level; repeatable)."
    ),
]
ApplyDate = Annotated[
    str | None,
    typer.Option(
        "--apply-effective-date", metavar="DATE", help="Date the memo is applied, YYYY-MM-DD (default the memo date)."
    ),
]


#: Each command's help, by operation: the command ``subledger KIND VERB`` runs the ``Books`` method of the same name.
DOCS = {
    "write-off-invoice": (
        "Write off an invoice: its whole open balance, or the lines given, with a credit memo applied to it."
    ),
    "write-off-credit-memo": (
        "Write off a fully unapplied credit memo: a debit memo mirroring it, with the credit memo applied to it."
    ),
    "write-off-debit-memo": (
        "Write off a debit memo (Enhanced Write-off): its open balance or the lines given, with a credit memo."
    ),
    "reverse-invoice": (
        "Reverse a posted invoice: a mirrored credit memo, applied back to it (reason code Invoice reversal)."
    ),
    "reverse-credit-memo": (
        "Reverse a posted credit memo: a mirrored debit memo it is applied to (reason code Credit memo reversal)."
    ),
    "apply-credit-memo": (
        "Apply a posted credit memo to invoices and debit memos of its account (items given, or FIFO)."
    ),
    "apply-payment": "Apply a processed payment's unapplied amount to invoices and debit memos (items given, or FIFO).",
    "unapply-credit-memo": (
        "Return applied amounts of a credit memo to unapplied (items given, or oldest applications first)."
    ),
    "unapply-payment": (
        "Return amounts a payment applied to its unapplied amount (items given, or oldest applications first)."
    ),
}


def _run(operation: str, number: str, data: Any) -> tuple[Any, output.Run]:
    """Run ``operation`` on document ``number``: the ``Books`` method of its name (``write-off-invoice``:
    ``write_off_invoice``) with the request ``data`` and the ``--idempotency-key``."""
    method = operation.replace("-", "_")
    return output.run(
        operation, number, lambda b: getattr(b, method)(number, data, idempotency_key=STATE.idempotency_key)
    )


def _body_option(fields: str) -> Any:
    return typer.Option("--body", metavar="FILE", help=f"Request body (JSON: {fields}).", show_default=False)


def _number(kind: str) -> Any:
    label = kind.replace("-", " ")
    return Annotated[str, typer.Argument(metavar="NUMBER", help=f"The {label}'s number.")]


def _pairs(values: list[str] | None, option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values or []:
        line_id, sep, amount = value.partition("=")
        if not sep or not line_id or not amount:
            raise CommandError(f"{option} takes ID=AMOUNT, got {value!r}", code="usage", field=option, exit_code=2)
        pairs.append((line_id, amount))
    return pairs


def _line_items(
    kind: str, number: str, items: list[tuple[str, str]], taxes: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """The ``items`` of a line-level request from ``--item`` and ``--tax-item`` (each tax under its own item)."""
    from subledger.errors import NotFound

    key = "invoiceItemId" if kind == "invoice" else "debitMemoItemId"
    entries: list[dict[str, Any]] = []
    listed: dict[str, dict[str, Any]] = {}
    for item_id, amount in items:
        # An item given twice stays twice, for the request's own refusal ("listed twice"), never the last one alone.
        entries.append({key: item_id, "amountWithoutTax": amount, "taxationItems": []})
        listed.setdefault(item_id, entries[-1])
    if taxes:
        owner = {
            tax["id"]: item["id"]
            for item in books().show(kind, number).get("items", [])
            for tax in item.get("taxationItems", [])
        }
        for tax_id, amount in taxes:
            if tax_id not in owner:
                raise NotFound(
                    f"taxation item {tax_id} is not a taxation item of {kind.replace('-', ' ')} {number}",
                    document=number,
                    field="--tax-item",
                )
            entry = listed.get(owner[tax_id])
            if entry is None:
                entry = listed[owner[tax_id]] = {key: owner[tax_id], "amountWithoutTax": "0", "taxationItems": []}
                entries.append(entry)
            entry["taxationItems"].append({"taxationItemId": tax_id, "amount": amount})
    return entries


def _audited(operation: str, number: str, asked: dict[str, Any], build: Callable[[], T]) -> T:
    """``build()``: a part of the request the command line works out from the book (the item each --tax-item is
    filed under). Its refusal (a taxation item of another document, or of none) is the operation's refusal, so it
    is recorded in the audit under the operation's kind, as the refusals of the operation itself are."""
    from subledger.errors import SubledgerError
    from subledger.operations.base import checked_key, describe_request, record_once
    from subledger.permissions import actor_name

    try:
        return build()
    except CommandError:
        raise  # no book at --db, an unreachable database: nothing to record it in
    except SubledgerError as exc:
        try:
            key = checked_key(STATE.idempotency_key)
        except SubledgerError:
            key = None  # the operation refuses the key itself; the refusal at hand is this one
        record_once(
            books().engine,
            kind=operation,
            actor=actor_name(STATE.actor),
            request_json=describe_request((number, {k: v for k, v in asked.items() if v is not None}), {}),
            idempotency_key=key,
            error=exc,
        )
        raise


def request(body: Path | None, given: dict[str, Any]) -> dict[str, Any] | Path:
    """The request body: the ``--body`` file, with the flags given on the command line taking precedence."""
    given = {k: v for k, v in given.items() if v is not None}
    if body is not None and not given:
        return input_file(body, "request body")  # parsed by the model, so a bad file is reported field by field
    return {**(read_json_object(body) if body is not None else {}), **given}


def _label(kind: str) -> str:
    return kind.replace("Memo", " memo").lower()


# --- write-offs -----------------------------------------------------------------------------------------------


def _report_write_off(result: Any, run: output.Run) -> None:
    if STATE.json:
        print_json(output.operation_json(run.kind, result, run=run))
        return
    memo = result.credit_memo or result.debit_memo
    memo_kind = "credit memo" if result.credit_memo else "debit memo"
    out(
        f"Wrote off {_label(result.document_kind)} {result.document}: {memo_kind} {memo.number} for {result.amount} "
        f"{result.currency}, {result.memo_date} (period {result.period}){output.replay_note(run)}."
    )
    print_journal(result.journal_entries)


def _write_off(group: typer.Typer, kind: str) -> None:
    number_type = _number(kind)
    operation = f"write-off-{kind}"

    if kind == "credit-memo":

        def write_off_memo(
            number: number_type,  # type: ignore[valid-type]
            body: Annotated[Path | None, _body_option("memoDate, reasonCode, comment")] = None,
            memo_date: MemoDate = None,
            reason_code: ReasonCode = None,
            comment: Comment = None,
        ) -> None:
            data = request(body, {"memoDate": memo_date, "reasonCode": reason_code, "comment": comment})
            result, run = _run(operation, number, data)
            _report_write_off(result, run)

        write_off_memo.__doc__ = DOCS[operation]
        register(group, "write-off", writes=True)(write_off_memo)
        return

    def write_off(
        number: number_type,  # type: ignore[valid-type]
        body: Annotated[Path | None, _body_option(WRITE_OFF_FIELDS)] = None,
        memo_date: MemoDate = None,
        reason_code: ReasonCode = None,
        comment: Comment = None,
        non_revenue: NonRevenue = None,
        item: Items = None,
        tax_item: TaxItems = None,
    ) -> None:
        given: dict[str, Any] = {
            "memoDate": memo_date,
            "reasonCode": reason_code,
            "comment": comment,
            "nonRevenueWriteOffAccountingCode": non_revenue,
        }
        if non_revenue is not None:
            given["revenueImpacting"] = "No"
        item_pairs, tax_pairs = _pairs(item, "--item"), _pairs(tax_item, "--tax-item")
        if item_pairs or tax_pairs:
            asked = {**given, "--item": item, "--tax-item": tax_item}
            given["items"] = _audited(
                operation, number, asked, lambda: _line_items(kind, number, item_pairs, tax_pairs)
            )
        data = request(body, given)
        result, run = _run(operation, number, data)
        _report_write_off(result, run)

    write_off.__doc__ = DOCS[operation]
    register(group, "write-off", writes=True)(write_off)


for group, kind in ((invoice_app, "invoice"), (credit_memo_app, "credit-memo"), (debit_memo_app, "debit-memo")):
    _write_off(group, kind)


@register(app, "write-off", writes=True)
def bulk_write_off(
    source: Annotated[
        Path,
        typer.Option(
            "--from",
            metavar="FILE",
            help='JSON: {"documents": [NUMBER, ...]} or {"filter": {"kind", "accountNumber", "olderThan"}}, with '
            '"settings" (the write-off body, header level).',
        ),
    ],
) -> None:
    """Write off many documents with one settings body; each is its own operation, refusals are reported.

    Exit status 3 when some documents were refused (the rest are written off), 1 when all were."""
    input_file(source, "write-off file")
    book = books()
    bar = progress("writing off")
    if bar is None:
        result = book.write_off_bulk(source, idempotency_key=STATE.idempotency_key)
    else:
        with bar:
            result = book.write_off_bulk(source, idempotency_key=STATE.idempotency_key, progress=bar)
    done, refused = _bulk_counts(result)
    if STATE.json:
        data = output.operation_json("write-off-bulk", result) | {"success": not refused}
        # Each row in the common vocabulary too: the document written off (or refused) and the memo made.
        for row in data.get("writtenOff", []):
            row |= {"documentNumber": row.get("document"), "memoNumber": row.get("memo")}
        for row in data.get("failed", []):
            row |= {"documentNumber": row.get("document")}
        print_json(data)
    elif hasattr(result, "written_off"):
        out(f"{len(result.written_off)} of {result.requested} documents written off, {len(result.failed)} refused.")
        for failure in result.failed:
            out(f"  {failure.document}: {failure.rule}")
    else:
        print_json(result)
    if refused:
        raise typer.Exit(PARTLY_DONE if done else 1)


def _bulk_counts(result: Any) -> tuple[int, int]:
    """How many documents were written off and how many refused (either book's report)."""
    if hasattr(result, "written_off"):
        return len(result.written_off), len(result.failed)
    return int(result.processed), int(result.failed)  # written off by invoice item adjustments


# --- reversals ------------------------------------------------------------------------------------------------


def _reverse(group: typer.Typer, kind: str) -> None:
    number_type = _number(kind)
    operation = f"reverse-{kind}"

    def reverse(
        number: number_type,  # type: ignore[valid-type]
        body: Annotated[Path | None, _body_option("memoDate, applyEffectiveDate, reasonCode, comment")] = None,
        memo_date: MemoDate = None,
        apply_effective_date: ApplyDate = None,
        reason_code: ReasonCode = None,
        comment: Comment = None,
    ) -> None:
        data = request(
            body,
            {
                "memoDate": memo_date,
                "applyEffectiveDate": apply_effective_date,
                "reasonCode": reason_code,
                "comment": comment,
            },
        )
        result, run = _run(operation, number, data)
        if STATE.json:
            print_json(output.operation_json(operation, result, run=run))
            return
        for reversed_doc in result.reversed:
            out(
                f"Reversed {_label(reversed_doc.kind)} {reversed_doc.number} ({reversed_doc.amount}) with "
                f"{_label(reversed_doc.memo_kind)} {reversed_doc.memo_number}{output.replay_note(run)}."
            )
        print_journal(result.journal_entries)
        out(f"{len(result.journal_entries)} journal entries posted.")

    reverse.__doc__ = DOCS[operation]
    register(group, "reverse", writes=True)(reverse)


for group, kind in ((invoice_app, "invoice"), (credit_memo_app, "credit-memo")):
    _reverse(group, kind)


# --- applications ---------------------------------------------------------------------------------------------


PAST = {"apply": "applied", "unapply": "unapplied"}


def _apply(group: typer.Typer, verb: str, kind: str) -> None:
    number_type = _number(kind)
    operation = f"{verb}-{kind}"

    def apply(
        number: number_type,  # type: ignore[valid-type]
        body: Annotated[
            Path,
            typer.Option(
                "--body",
                metavar="FILE",
                help="Request body (JSON: effectiveDate, invoices[], debitMemos[] with amount and items[]).",
            ),
        ],
    ) -> None:
        input_file(body, "request body")
        result, run = _run(operation, number, body)
        if STATE.json:
            print_json(output.operation_json(operation, result, run=run))
            return
        label = "Credit memo" if result.source_kind == "CreditMemo" else "Payment"
        out(
            f"{label} {result.number}: {result.amount} {result.currency} {PAST[verb]} on {result.effective_date}; "
            f"unapplied amount now {result.unapplied_amount}{output.replay_note(run)}."
        )
        print_table(
            ("target", "item", "from", "amount", "date"),
            [
                (a.target_number, a.target_item_id, a.source_item_id or "", a.amount, str(a.effective_date))
                for a in result.applications
            ],
        )
        for entry in result.journal_entries:
            out(f"{entry.id} {entry.date} {entry.transaction_type}: {entry.description}")

    apply.__doc__ = DOCS[operation]
    register(group, verb, writes=True)(apply)


for group, kind in ((credit_memo_app, "credit-memo"), (payment_app, "payment")):
    _apply(group, "apply", kind)
for group, kind in ((credit_memo_app, "credit-memo"), (payment_app, "payment")):
    _apply(group, "unapply", kind)
