"""``subledger audit``: every operation, accepted or refused, with actor, time, request and result."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from subledger.audit import Outcome
from subledger.cli.common import Db, Json, app, books, console, print_json


@app.command()
def audit(
    db: Db = None,
    outcome: Annotated[
        str | None, typer.Option(help="Only accepted, refused or failed operations.", show_default=False)
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Only operations run by this actor.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the last N records.", min=1)] = None,
    json_out: Json = False,
) -> None:
    """Print the audit trail, oldest first."""
    if outcome not in (None, "accepted", "refused", "failed"):
        raise typer.BadParameter("outcome must be accepted, refused or failed")
    chosen: Outcome | None = outcome  # type: ignore[assignment]
    records = books(db).audit(outcome=chosen, actor=by, limit=limit)
    if json_out:
        print_json(records)
        return
    table = Table("at", "outcome", "kind", "actor", "key", "error")
    for r in records:
        table.add_row(
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            r.outcome,
            r.kind,
            r.actor,
            r.idempotency_key or "",
            r.error or "",
        )
    console.print(table)
