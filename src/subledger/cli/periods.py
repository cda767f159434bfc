"""``subledger period``: the accounting periods, their status, and the close process."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from subledger.cli.common import ActorName, Db, IdempotencyKey, Json, books, console, period_app, print_json
from subledger.operations.periods import PeriodTransition

Name = Annotated[str, typer.Argument(help="Period name, e.g. 2026-10.")]


@period_app.command("list")
def list_periods(db: Db = None, json_out: Json = False) -> None:
    """List the accounting periods with their status."""
    rows = books(db).periods()
    if json_out:
        print_json(rows)
        return
    table = Table("period", "start", "end", "FY", "Q", "status", "entries", "fingerprint")
    for p in rows:
        table.add_row(
            p.name,
            str(p.start_date),
            str(p.end_date),
            str(p.fiscal_year),
            str(p.fiscal_quarter),
            p.status,
            str(p.entries),
            (p.fingerprint or "")[:12],
        )
    console.print(table)


def _report(result: PeriodTransition, json_out: bool) -> None:
    if json_out:
        print_json(result)
        return
    line = f"{result.period}: {result.from_status} -> {result.to_status}"
    if result.fingerprint:
        line += f" (fingerprint {result.fingerprint[:12]})"
    if result.reason:
        line += f" (reason: {result.reason})"
    console.print(line, markup=False)


@period_app.command("pending-close")
def pending_close(
    name: Name, db: Db = None, actor: ActorName = None, idempotency_key: IdempotencyKey = None, json_out: Json = False
) -> None:
    """Set an Open period to Pending Close: open only to actors with Manage Close Process."""
    _report(books(db, actor).pending_close(name, idempotency_key=idempotency_key), json_out)


@period_app.command("close")
def close(
    name: Name, db: Db = None, actor: ActorName = None, idempotency_key: IdempotencyKey = None, json_out: Json = False
) -> None:
    """Close a period: every earlier period Closed and every close check passing (see `subledger check`)."""
    _report(books(db, actor).close_period(name, idempotency_key=idempotency_key), json_out)


@period_app.command("reopen")
def reopen(
    name: Name,
    reason: Annotated[str, typer.Option("--reason", help="Why the period reopens (recorded).")],
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Reopen the latest closed period (Reopen Accounting Period), with a reason."""
    _report(books(db, actor).reopen_period(name, reason, idempotency_key=idempotency_key), json_out)
