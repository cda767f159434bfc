"""``subledger export``: the Beancount ledger, and GL files for the ERP (journal runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from subledger.cli.common import ActorName, Db, IdempotencyKey, Json, books, console, export_app, print_json
from subledger.export.gl import FORMATS


@export_app.command("beancount")
def beancount(
    out: Annotated[Path, typer.Option("--out", help="Directory to write main.beancount and its includes to.")],
    fava_extension: Annotated[
        bool,
        typer.Option("--fava-extension", help="Load subledger's Fava extension (pip install 'subledger[fava]')."),
    ] = False,
    db: Db = None,
) -> None:
    """Write the journal as a Beancount ledger that bean-check and Fava open."""
    files = books(db).export_beancount(out, fava_extension=fava_extension)
    console.print(f"Wrote {len(files)} files under {out} (open {files[0]}).")


@export_app.command("gl")
def gl(
    period: Annotated[str | None, typer.Option("--period", help="Accounting period to export.")] = None,
    format: Annotated[str, typer.Option("--format", help="One of: " + ", ".join(FORMATS) + ".")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (Xero: more files beside it).")] = None,
    summary: Annotated[
        bool, typer.Option("--summary/--detail", help="Summary entries per transaction type, or every entry.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write the file but mark nothing transferred.")] = False,
    list_runs: Annotated[bool, typer.Option("--list", help="List past export runs and exit.")] = False,
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Export a period's journal entries not yet transferred to accounting, then mark them transferred."""
    if list_runs:
        runs = books(db).export_runs()
        if json_out:
            print_json(runs)
            return
        table = Table("run", "period", "format", "mode", "entries", "actor", "at", "files")
        for r in runs:
            table.add_row(
                str(r.id),
                r.period,
                r.format,
                r.mode,
                str(r.entry_count),
                r.actor,
                f"{r.at:%Y-%m-%d %H:%M}",
                "\n".join(r.files),
            )
        console.print(table)
        return
    if period is None or out is None:
        raise typer.BadParameter("--period and --out are required (or --list)")
    if format not in FORMATS:
        raise typer.BadParameter(f"unknown format {format!r}; choose from {', '.join(FORMATS)}")
    result = books(db, actor).export_gl(
        period, out, format=format, summary=summary, dry_run=dry_run, idempotency_key=idempotency_key
    )
    if json_out:
        print_json(result)
        return
    if not result.journal_entries:
        console.print(f"Nothing to export: every journal entry of {period} is already transferred.")
        return
    totals = ", ".join(f"{amount} {cur}" for cur, amount in result.totals.items())
    what = "Dry run, nothing marked transferred" if result.dry_run else f"Export run {result.run_id}"
    console.print(
        f"{what}: {result.journal_entries} journal entries as {result.gl_entries} {result.mode} GL entries, "
        f"{result.lines} lines (debits {totals}) -> {', '.join(result.files)}",
        markup=False,
    )
