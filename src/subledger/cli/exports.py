"""``subledger export``: the Beancount ledger, and a journal run's GL files for the ERP."""

import os
from pathlib import Path
from typing import Annotated

import typer

from subledger.cli import journal_runs as _journal_runs  # noqa: F401  (registers the journal-run commands)
from subledger.cli.common import (
    ActorName,
    CommandError,
    Db,
    IdempotencyKey,
    Json,
    books,
    busy,
    export_app,
    print_json,
    register,
)
from subledger.cli.journal_runs import Profile, debits, print_runs

#: The GL formats (``subledger.export.gl.FORMATS``, named here so that help needs no import of the export).
GL_FORMATS = ("csv", "jsonl", "netsuite", "xero", "quickbooks", "intacct")


#: What ``export.beancount.export_beancount`` writes under ``--out`` (named here: the command line imports no export
#: at start-up): these files, and the period files in the ``periods`` directory.
LEDGER_FILES = ("main.beancount", "accounts.beancount", "subledger_closed_periods.py")
LEDGER_DIRECTORY = "periods"


def output_directory(given: str) -> Path:
    """``--out`` if a ledger can be written there; checked before anything is created, so a bad ``--out`` leaves
    nothing behind (the export creates the missing directories). An empty one (an unset shell variable) is refused
    rather than taken for the current directory."""
    if not given:
        raise CommandError("--out is empty: give the directory to write the ledger to", code="bad-output")
    out = Path(given)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} is a file: give a directory to write the ledger to", code="bad-output")
    existing = out
    while not existing.exists():
        if existing.is_symlink():
            raise CommandError(f"--out {out}: {existing} is a broken symbolic link", code="bad-output")
        existing = existing.parent
    if not existing.is_dir():
        raise CommandError(f"--out {out}: {existing} is not a directory", code="bad-output")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CommandError(f"--out {out}: cannot write in {existing}: check its permissions", code="bad-output")
    periods = out / LEDGER_DIRECTORY
    if periods.is_symlink() and not periods.exists():
        raise CommandError(f"--out {out}: {periods} is a broken symbolic link", code="bad-output")
    if periods.exists() and not periods.is_dir():
        raise CommandError(
            f"--out {out}: {periods} is a file where the ledger writes a directory: move it away or give another "
            "directory",
            code="bad-output",
        )
    written = [out / name for name in LEDGER_FILES]
    if periods.is_dir():
        written += sorted(periods.glob("*.beancount"))
    for path in written:
        if path.is_dir():
            raise CommandError(
                f"--out {out}: {path} is a directory where the ledger writes a file: move it away or give another "
                "directory",
                code="bad-output",
            )
    return out


@register(export_app, "beancount")
def beancount(
    out: Annotated[
        str, typer.Option("--out", metavar="DIR", help="Directory to write main.beancount and its includes to.")
    ],
    fava_extension: Annotated[
        bool,
        typer.Option("--fava-extension", help="Load subledger's Fava extension (pip install 'subledger[fava]')."),
    ] = False,
) -> None:
    """Write the journal as a Beancount ledger that bean-check and Fava open."""
    book = books()
    with busy("exporting"):
        files = book.export_beancount(output_directory(out), fava_extension=fava_extension)
    from subledger.cli.common import STATE
    from subledger.cli.common import out as say

    if STATE.json:
        print_json({"success": True, "operation": "export-beancount", "files": [str(f) for f in files]})
        return
    say(f"Wrote {len(files)} files under {out} (open {files[0]}).")


@export_app.command("gl")
def gl(
    run: Annotated[str | None, typer.Option("--run", metavar="JR-N", help="Journal run to render.")] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Create a journal run of this period, then render it.")
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option("--check", metavar="FILE", help="Check an existing file against the format's import rules."),
    ] = None,
    format: Annotated[str, typer.Option("--format", metavar="FORMAT", help=", ".join(GL_FORMATS) + ".")] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="File to write (split formats: more beside it).")
    ] = None,
    summary: Annotated[
        bool, typer.Option("--summary/--detail", help="Summary entries per transaction type, or every entry.")
    ] = False,
    profile: Profile = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing output files (regular files only).")] = False,
    list_runs: Annotated[bool, typer.Option("--list", help="List journal runs and exit.")] = False,
    db: Db = None,
    actor: ActorName = None,
    idempotency_key: IdempotencyKey = None,
    json_out: Json = False,
) -> None:
    """Render a journal run's GL files (--run), create a run and render it (--period), or check a file (--check).

    Rendering records nothing: a run renders the same bytes any number of times, in any format. Each file is
    checked against its importer's rules before it is written; an existing file is kept unless --force."""
    from subledger.cli.common import STATE, note
    from subledger.cli.common import out as say

    json_out = json_out or STATE.json
    if format not in GL_FORMATS:
        raise typer.BadParameter(f"unknown format {format!r}; choose from {', '.join(GL_FORMATS)}")
    if list_runs:
        print_runs(books(db).journal_runs(), json_out)
        return
    if check is not None:
        checked = books(db).check_gl(check, format=format, profile=profile)
        problems = [str(p) for p in checked.problems]
        if json_out:
            print_json(
                {
                    "success": not problems,
                    "file": str(check),
                    "format": format,
                    "lines": checked.rows,
                    "journals": checked.journals,
                    "problems": problems,
                }
            )
        else:
            for problem in problems:
                note(f"error: {problem}")
        if problems:
            raise typer.Exit(1)
        if not json_out:
            unit = "records" if format == "jsonl" else "lines"
            say(f"{check}: meets the {format} import rules ({checked.rows} {unit}, {checked.journals} journals).")
        return
    if out is None or (run is None) == (period is None):
        raise typer.BadParameter("give --out and one of --run or --period (or --check FILE, or --list)")
    if run is not None:
        result = books(db).render_gl(run, out, format=format, summary=summary, profile=profile, force=force)
    else:
        assert period is not None
        result = books(db, actor).export_gl(
            period,
            out,
            format=format,
            summary=summary,
            profile=profile,
            force=force,
            idempotency_key=idempotency_key or STATE.idempotency_key,
        )
    if json_out:
        print_json(result)
        return
    if result.run is None:
        say(f"Nothing to export: every journal entry of {period} is in a journal run already.")
        return
    say(
        f"Journal run {result.run}: {result.journal_entries} journal entries as {result.gl_entries} {result.mode} "
        f"GL entries, {result.lines} lines (debits {debits(result.totals)}) -> {', '.join(result.files)}"
    )
