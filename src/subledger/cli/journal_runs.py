"""``subledger journal-run``: create, list, show, confirm, cancel, and mark Error the journal runs that take
journal entries to the ERP (``export gl --run`` renders their files)."""

from pathlib import Path
from typing import Annotated, Any

import typer

from subledger.cli.common import app, books, print_json, print_table, register

journal_run_app = typer.Typer(
    help="Journal runs: which journal entries go to the ERP, and when they are transferred to accounting.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(journal_run_app, name="journal-run")

Profile = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        metavar="FILE",
        envvar="SUBLEDGER_ERP_PROFILE",
        help="ERP profile (TOML; see examples/erp-profile.toml).",
        show_default=False,
    ),
]
Number = Annotated[str, typer.Argument(metavar="JR-N", help="Journal run number (JR-00000001).")]
RUN_HEADERS = ("run", "period", "status", "entries", "lines", "debits", "created by", "created at", "status by", "note")


def debits(totals: dict[str, Any]) -> str:
    """A run's debit totals by currency, as the CLI prints them: ``330.00 USD, 120.00 EUR``."""
    return ", ".join(f"{amount} {cur}" for cur, amount in totals.items())


def _row(r: Any) -> list[Any]:
    return [
        r.number,
        r.period,
        r.status,
        r.entry_count,
        r.line_count,
        debits(r.totals),
        r.created_by,
        f"{r.created_at:%Y-%m-%d %H:%M}",
        r.status_by or "",
        r.status_note or "",
    ]


def print_runs(runs: list[Any], json_out: bool) -> None:
    if json_out:
        print_json(runs)
        return
    print_table(RUN_HEADERS, [_row(r) for r in runs])


def _said(run: Any) -> None:
    from subledger.cli.common import STATE, out

    if STATE.json:
        print_json(run)
        return
    note = f" ({run.status_note})" if run.status_note else ""
    out(f"Journal run {run.number} of {run.period}: {run.status}{note}.")


def nothing_left(book: Any, verb: str, period: str) -> str:
    """Why a run of ``period`` took nothing: the period has no journal entries at all, or every one is in a run.
    Saying the second of a period with none (a mistyped or future period) sent the reader looking for its run."""
    entries = next((p.entries for p in book.periods() if p.name == period), 0)
    if not entries:
        return f"Nothing to {verb}: {period} has no journal entries."
    return f"Nothing to {verb}: every journal entry of {period} is in a journal run already."


@register(journal_run_app, "create", writes=True)
def create(
    period: Annotated[str, typer.Option("--period", help="Accounting period whose entries the run takes.")],
) -> None:
    """Take the period's journal entries that are in no run yet into a new run (Processing)."""
    from subledger.cli.common import STATE, out

    book = books()
    result = book.create_journal_run(period, idempotency_key=STATE.idempotency_key)
    if STATE.json:
        print_json(result)
        return
    run = result.run
    if run is None:
        out(nothing_left(book, "take", period))
        return
    out(
        f"Journal run {run.number} of {run.period} (Processing): {run.entry_count} journal entries, "
        f"{run.line_count} lines, {len(run.summary or [])} summary entries (debits {debits(run.totals)})."
    )


@register(journal_run_app, "list", table=True)
def list_(period: Annotated[str | None, typer.Option("--period", help="Only this period's runs.")] = None) -> None:
    """Journal runs, oldest first."""
    from subledger.cli.common import STATE

    print_runs(books().journal_runs(period), STATE.json)


@register(journal_run_app, "show", table=True)
def show(number: Number) -> None:
    """A journal run and its summary journal entries."""
    from subledger.cli.common import STATE

    run = books().journal_run(number)
    if STATE.json:
        print_json(run)
        return
    print_table(RUN_HEADERS, [_row(run)])
    rows = [
        [
            entry.number if i == 0 else "",
            entry.transaction_type if i == 0 else "",
            entry.currency if i == 0 else "",
            line.accounting_code,
            line.debit,
            line.credit,
        ]
        for entry in run.summary or []
        for i, line in enumerate(entry.lines)
    ]
    print_table(("summary entry", "transaction type", "cur", "accounting code", "debit", "credit"), rows)


@register(journal_run_app, "confirm", writes=True)
def confirm(number: Number) -> None:
    """The ERP accepted the run: Completed, its documents transferred to accounting."""
    from subledger.cli.common import STATE

    _said(books().confirm_journal_run(number, idempotency_key=STATE.idempotency_key))


@register(journal_run_app, "cancel", writes=True)
def cancel(
    number: Number,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept with the run).")] = None,
) -> None:
    """Cancel a run that is not confirmed: its entries go to the next run."""
    from subledger.cli.common import STATE

    _said(books().cancel_journal_run(number, reason, idempotency_key=STATE.idempotency_key))


@register(journal_run_app, "error", writes=True)
def error(
    number: Number,
    reason: Annotated[str, typer.Option("--reason", help="What the ERP said.")],
) -> None:
    """The ERP rejected the run: Error (confirm it later, or cancel it)."""
    from subledger.cli.common import STATE

    _said(books().fail_journal_run(number, reason, idempotency_key=STATE.idempotency_key))
