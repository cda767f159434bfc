"""``subledger check``: every close check, reported together; exit status 1 when any fails."""

from collections.abc import Sequence
from typing import Annotated

import typer

from subledger.cli.common import STATE, app, books, busy, note, out, print_json, print_table, register


@register(app, "check", table=True)
def check(
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            metavar="PERIOD",
            help="Check one period (default: the whole book); also builds that period's ledger in memory (nothing "
            "is written) and loads it with Beancount.",
        ),
    ] = None,
    skip: Annotated[
        list[str] | None, typer.Option("--skip", metavar="CHECK", help="Leave out a check by name (repeatable).")
    ] = None,
) -> None:
    """Run every close check and report them all (a table for accountants, --json for machines).

    Without --period the Beancount check is set-based (what bean-check would reject in the exported ledger, proven
    from the database); with --period it also loads that period's ledger with Beancount and the closed-period
    plugin. subledger.checks says exactly what each proves."""
    _known_checks(skip or ())
    book = books()
    with busy("checking"):
        report = book.check(period, skip=skip or ())
    if STATE.json:
        print_json(report)
    else:
        scope = f"period {report.period}" if report.period else "the whole book"
        as_of = f", control accounts at {report.as_of}" if report.as_of else ""
        rows = []
        for result in report.checks:
            shown = "; ".join(
                ", ".join(part for part in (p.document, p.field) if part) + f": {p.rule}" for p in result.problems[:5]
            )
            rows.append(("ok" if result.passed else "FAIL", result.title, result.problem_count, shown))
        print_table(("", "check", "problems", "first problems"), rows, title=f"Close checks: {scope}{as_of}")
        failed = sum(not r.passed for r in report.checks)
        summary = "All checks pass." if not failed else f"{failed} of {len(report.checks)} checks fail."
        # csv and tsv are for scripts: stdout is the table alone, the summary goes to the terminal.
        (out if STATE.format == "table" else note)(summary)
    if not report.passed:
        raise typer.Exit(1)


def _known_checks(names: Sequence[str]) -> None:
    """A check name that is not one is a mistake on the command line, refused before the book is opened, like any
    bad option value (exit 2), naming the checks there are."""
    from subledger.checks.registry import CHECKS, NAMES

    unknown = [name for name in names if name not in NAMES]
    if unknown:
        known = ", ".join(check.name for check in CHECKS)
        shown = ", ".join(repr(name) for name in unknown)
        raise typer.BadParameter(f"no close check {shown}; choose from {known}", param_hint="'--skip'")
