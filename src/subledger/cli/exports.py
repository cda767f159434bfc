"""``subledger export``: the Beancount ledger, and a journal run's GL files for the ERP."""

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
from subledger.cli.journal_runs import Profile, debits, nothing_left, print_runs

#: The GL formats (``subledger.export.gl.FORMATS``, named here so that help needs no import of the export).
GL_FORMATS = ("csv", "jsonl", "netsuite", "xero", "quickbooks", "intacct")


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
        # An empty --out is an unset shell variable, not the current directory; the rest of what --out must be is
        # the export's to check (``export.beancount.check_out``).
        if not out:
            raise CommandError("--out is empty: give the directory to write the ledger to", code="bad-output")
        files = book.export_beancount(Path(out), fava_extension=fava_extension)
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
        assert period is not None
        say(nothing_left(books(db), "export", period))
        return
    say(
        f"Journal run {result.run}: {result.journal_entries} journal entries as {result.gl_entries} {result.mode} "
        f"GL entries, {result.lines} lines (debits {debits(result.totals)}) -> {', '.join(result.files)}"
    )
