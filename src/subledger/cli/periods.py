"""``subledger period``: the accounting periods and their status."""

from __future__ import annotations

from rich.table import Table

from subledger.cli.common import Db, Json, books, console, period_app, print_json


@period_app.command("list")
def list_periods(db: Db = None, json_out: Json = False) -> None:
    """List the accounting periods with their status."""
    rows = books(db).periods()
    if json_out:
        print_json(rows)
        return
    table = Table("period", "start", "end", "FY", "Q", "status", "entries")
    for p in rows:
        table.add_row(
            p.name,
            str(p.start_date),
            str(p.end_date),
            str(p.fiscal_year),
            str(p.fiscal_quarter),
            p.status,
            str(p.entries),
        )
    console.print(table)
