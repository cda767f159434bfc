"""``subledger audit``: every operation, accepted or refused, with actor, time, request and result."""

from typing import Annotated, Literal

import typer

from subledger.cli.common import STATE, app, books, print_json, print_table, register


@register(app, "audit", table=True)
def audit(
    outcome: Annotated[
        Literal["accepted", "refused", "failed"] | None,
        typer.Option(help="Only accepted, refused or failed operations.", show_default=False),
    ] = None,
    by: Annotated[str | None, typer.Option("--by", metavar="ACTOR", help="Only operations run by this actor.")] = None,
    limit: Annotated[int | None, typer.Option(metavar="N", help="Only the last N records.", min=1)] = None,
) -> None:
    """Print the audit trail, oldest first."""
    records = books().audit(outcome=outcome, actor=by, limit=limit)
    if STATE.json:
        print_json(records)
        return
    print_table(
        ("at", "outcome", "kind", "actor", "key", "error"),
        [
            (r.at.strftime("%Y-%m-%d %H:%M:%S"), r.outcome, r.kind, r.actor, r.idempotency_key or "", r.error or "")
            for r in records
        ],
    )
