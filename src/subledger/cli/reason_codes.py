"""``subledger reason-code list | add | deactivate``: the book's credit and debit memo reason codes."""

from typing import Annotated, Literal

import typer

from subledger.cli import output
from subledger.cli.common import STATE, app, engine, out, print_json, print_table, register

reason_code_app = typer.Typer(
    help="Reason codes of credit and debit memos: list, add, deactivate.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(reason_code_app, name="reason-code")

KIND = {"credit-memo": "CreditMemo", "debit-memo": "DebitMemo"}
For = Annotated[
    Literal["credit-memo", "debit-memo"],
    typer.Option("--for", metavar="credit-memo|debit-memo", help="Which memos the code is for."),
]
Name = Annotated[str, typer.Argument(metavar="NAME", help="The reason code, e.g. 'Bankruptcy'.")]


@register(reason_code_app, "list", table=True)
def list_codes(
    for_: Annotated[
        Literal["credit-memo", "debit-memo"] | None,
        typer.Option("--for", metavar="credit-memo|debit-memo", help="Only the codes of these memos."),
    ] = None,
) -> None:
    """List the reason codes, active and inactive."""
    from subledger.operations.reason_codes import list_reason_codes

    with engine().connect() as conn:
        rows = list_reason_codes(conn, KIND[for_] if for_ else None)  # type: ignore[arg-type]
    if STATE.json:
        print_json(rows)
        return
    print_table(
        ("memo", "reason code", "status"),
        [(r.document_type, r.name, "Active" if r.active else "Inactive") for r in rows],
    )


def _change(verb: str, for_: str, name: str) -> None:
    from subledger.operations import reason_codes
    from subledger.operations.base import run_operation

    kind = KIND[for_]
    operation = f"reason-code-{verb}"

    def call(book: object) -> object:
        engine_ = book.engine  # type: ignore[attr-defined]
        return run_operation(
            engine_,
            kind=operation,
            actor=book.actor,  # type: ignore[attr-defined]
            request={"documentType": kind, "name": name},
            result_type=reason_codes.ReasonCodeChange,
            body=lambda ctx: getattr(reason_codes, verb)(ctx, kind, name),
            document_number=name,
            idempotency_key=STATE.idempotency_key,
        )

    result, run = output.run(operation, name, call)
    if STATE.json:
        print_json(output.operation_json(operation, result, run=run))
        return
    out(f"{kind} reason code {name!r}: {result.from_status} -> {result.to_status}{output.replay_note(run)}")


@register(reason_code_app, "add", writes=True)
def add(name: Name, for_: For) -> None:
    """Add a reason code (or make an inactive one active again)."""
    _change("add", for_, name)


@register(reason_code_app, "deactivate", writes=True)
def deactivate(name: Name, for_: For) -> None:
    """Deactivate a reason code: requests naming it are refused from now on; memos keep it."""
    _change("deactivate", for_, name)
