"""``subledger export``: the Beancount ledger, and GL files for the ERP (journal runs)."""

import os
from pathlib import Path
from typing import Annotated

import typer

from subledger.cli.common import (
    ActorName,
    CommandError,
    Db,
    IdempotencyKey,
    Json,
    books,
    console,
    export_app,
    print_json,
    print_table,
    register,
)


def output_directory(out: Path) -> Path:
    """``out`` if a ledger can be written there; checked before anything is created, so a bad ``--out`` leaves
    nothing behind (the export creates the missing directories)."""
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} is a file: give a directory to write the ledger to", code="bad-output")
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise CommandError(f"--out {out}: {existing} is not a directory", code="bad-output")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CommandError(f"--out {out}: cannot write in {existing}: check its permissions", code="bad-output")
    return out


@register(export_app, "beancount")
def beancount(
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Directory to write main.beancount and its includes to.")
    ],
    fava_extension: Annotated[
        bool,
        typer.Option("--fava-extension", help="Load subledger's Fava extension (pip install 'subledger[fava]')."),
    ] = False,
) -> None:
    """Write the journal as a Beancount ledger that bean-check and Fava open."""
    book = books()
    files = book.export_beancount(output_directory(out), fava_extension=fava_extension)
    from subledger.cli.common import STATE
    from subledger.cli.common import out as say

    if STATE.json:
        print_json({"success": True, "operation": "export-beancount", "files": [str(f) for f in files]})
        return
    say(f"Wrote {len(files)} files under {out} (open {files[0]}).")


@export_app.command("gl")
def gl(
    period: Annotated[str | None, typer.Option("--period", help="Accounting period to export.")] = None,
    format: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help="csv, netsuite, xero, quickbooks or jsonl.")
    ] = "csv",
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
    from subledger.cli.common import STATE

    json_out = json_out or STATE.json
    if list_runs:
        runs = books(db).export_runs()
        if json_out:
            print_json(runs)
            return
        print_table(
            ("run", "period", "format", "mode", "entries", "actor", "at", "files"),
            [
                (r.id, r.period, r.format, r.mode, r.entry_count, r.actor, f"{r.at:%Y-%m-%d %H:%M}", "\n".join(r.files))
                for r in runs
            ],
        )
        return
    from subledger.export.gl import FORMATS

    if period is None or out is None:
        raise typer.BadParameter("--period and --out are required (or --list)")
    if format not in FORMATS:
        raise typer.BadParameter(f"unknown format {format!r}; choose from {', '.join(FORMATS)}")
    result = books(db, actor).export_gl(
        period,
        out,
        format=format,
        summary=summary,
        dry_run=dry_run,
        idempotency_key=idempotency_key or STATE.idempotency_key,
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
