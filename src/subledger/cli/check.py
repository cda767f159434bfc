"""``subledger check``: every close check, reported together; exit status 1 when any fails."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from subledger.checks import CheckReport
from subledger.cli.books import SCHEMAS
from subledger.cli.common import Db, Json, app, books, console, print_json

#: ``subledger schema check-report``: the shape of ``subledger check --json``.
SCHEMAS["check-report"] = CheckReport


@app.command()
def check(
    db: Db = None,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="Check one period (default: the whole book); also writes that period's ledger and loads it with "
            "Beancount.",
        ),
    ] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="Leave out a check by name (repeatable).")] = None,
    json_out: Json = False,
) -> None:
    """Run every close check and report them all (a table for accountants, --json for machines).

    Without --period the Beancount check is set-based (what bean-check would reject in the exported ledger, proven
    from the database); with --period it also loads that period's ledger with Beancount and the closed-period
    plugin. ``subledger.checks`` says exactly what each proves."""
    report = books(db).check(period, skip=skip or ())
    if json_out:
        print_json(report)
    else:
        scope = f"period {report.period}" if report.period else "the whole book"
        as_of = f", control accounts at {report.as_of}" if report.as_of else ""
        table = Table("", "check", "problems", "first problems", title=f"Close checks: {scope}{as_of}")
        for result in report.checks:
            mark = "[green]ok[/green]" if result.passed else "[red]FAIL[/red]"
            shown = "\n".join(
                ", ".join(part for part in (p.document, p.field) if part) + f": {p.rule}" for p in result.problems[:5]
            )
            table.add_row(mark, result.title, str(result.problem_count), shown)
        console.print(table)
        failed = sum(not r.passed for r in report.checks)
        console.print("All checks pass." if not failed else f"{failed} of {len(report.checks)} checks fail.")
    if not report.passed:
        raise typer.Exit(1)
