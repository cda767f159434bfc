"""``subledger period``: the accounting periods, their status, and the close process."""

import contextlib
from typing import Annotated, Any

import typer

from subledger.cli import output
from subledger.cli.common import (
    PARTLY_DONE,
    STATE,
    CommandError,
    books,
    engine,
    out,
    period_app,
    print_json,
    print_table,
    progress,
    register,
)

Name = Annotated[str, typer.Argument(metavar="PERIOD", help="Period name, e.g. 2026-10.")]


@register(period_app, "list", table=True)
def list_periods() -> None:
    """List the accounting periods with their status (the table shortens fingerprints; csv and tsv keep them)."""
    from subledger import queries

    with engine().connect() as conn:
        rows = queries.periods(conn)
    if STATE.json:
        print_json(rows)
        return
    print_table(
        ("period", "start", "end", "FY", "Q", "status", "entries", "fingerprint"),
        [
            (
                p.name,
                p.start_date,
                p.end_date,
                p.fiscal_year,
                p.fiscal_quarter,
                p.status,
                p.entries,
                (p.fingerprint or "") if STATE.format != "table" else (p.fingerprint or "")[:12],
            )
            for p in rows
        ],
    )


@register(period_app, "show")
def show(name: Name) -> None:
    """Print a period's fingerprint and seal as recorded at close, and whether the journal still gives them.

    Keep the two values outside the database (they are the anchor of the closed books): the hash chain proves each
    entry consistent with the ones before it, but whoever can write the database could rewrite a whole chain
    consistently; only a copy kept elsewhere shows that. Exit status 1 when the journal no longer gives them."""
    from subledger.fingerprint import anchor

    with engine().connect() as conn:
        found = anchor(conn, name)
    if found is None:
        raise CommandError(f"no accounting period {name}", field="period")
    if STATE.json:
        dates = {"start": found.start.isoformat(), "end": found.end.isoformat()}
        print_json({**found.__dict__, **dates, "holds": found.holds})
        if not found.holds:
            # The answer says so ("holds": false), as `check --json` reports a failing check: a second JSON
            # object after it would make stdout unreadable to the script that needs it most.
            raise typer.Exit(1)
    else:
        out(f"{found.period}: {found.start} to {found.end}, {found.status}")
        for what, recorded, now in (
            ("fingerprint", found.fingerprint, found.journal_fingerprint),
            ("seal", found.seal, found.journal_seal),
        ):
            if recorded is None:
                out(f"{what + ':':<13}{now} (not recorded: the journal's now)")
            else:
                state = "the journal gives it" if recorded == now else f"the journal now gives {now}"
                out(f"{what + ':':<13}{recorded} ({state})")
    if not found.holds:
        raise CommandError(
            f"period {name}: the journal no longer gives the fingerprint and seal recorded at close", field="period"
        )


def _line(result: Any, run: output.Run) -> str:
    line = f"{result.period}: {result.from_status} -> {result.to_status}"
    if result.fingerprint:
        line += f" (fingerprint {result.fingerprint[:12]})"
    if result.reason:
        line += f" (reason: {result.reason})"
    return line + output.replay_note(run)


def _transition(kind: str, name: str, method: str, *args: Any) -> None:
    result, run = output.run(
        kind, name, lambda book: getattr(book, method)(name, *args, idempotency_key=STATE.idempotency_key)
    )
    if STATE.json:
        print_json(output.operation_json(kind, result, run=run))
    else:
        out(_line(result, run))


@register(period_app, "pending-close", writes=True)
def pending_close(name: Name) -> None:
    """Set an Open period to Pending Close: open only to actors with Manage Close Process."""
    _transition("period-pending-close", name, "pending_close")


@register(period_app, "close", writes=True)
def close(
    name: Annotated[str | None, typer.Argument(metavar="PERIOD", help="Period name, e.g. 2026-01.")] = None,
    through: Annotated[
        str | None,
        typer.Option(
            "--through",
            metavar="PERIOD",
            help="Close every open period up to and including PERIOD, in order, each checked; stops at the first "
            "refusal.",
        ),
    ] = None,
) -> None:
    """Close a period: every earlier period Closed and every close check passing (see `subledger check`)."""
    from subledger.cli.common import USAGE, CommandError

    if (name is None) == (through is None):
        raise CommandError("give a PERIOD or --through PERIOD (not both)", code="usage", exit_code=USAGE)
    if name is not None:
        from subledger.errors import EarlierPeriodNotClosed

        try:
            _transition("period-close", name, "close_period")
        except EarlierPeriodNotClosed as exc:
            hint = f"{exc.rule}; `subledger period close --through {name}` closes each in order"
            raise EarlierPeriodNotClosed(hint, document=exc.document, field=exc.field) from None
        return
    _close_through(str(through))


def _close_through(last: str) -> None:
    bar = progress("closing")
    with bar if bar is not None else contextlib.nullcontext():
        done = books().close_periods_through(last, idempotency_key=STATE.idempotency_key, progress=bar)
    results = done.closed
    if done.refusal is not None and STATE.json:
        # Partly done: one JSON document, the periods closed and the refusal (exit 3), as the text below says it.
        from subledger.errors import reasons

        print_json(
            {
                "success": False,
                "operation": "period-close",
                "closed": output.to_list(results),
                "reasons": reasons(done.refusal),
            }
        )
        raise typer.Exit(PARTLY_DONE)
    if done.refusal is not None:
        # Some closed before this one refused: say what was done, then the refusal (exit 3, partly done).
        for closed in results:
            out(f"{closed.period}: {closed.from_status} -> {closed.to_status}")
        raise CommandError(
            f"closed {results[0].period} to {results[-1].period}; {done.refused} refused: {done.refusal}",
            code=done.refusal.code,
            exit_code=PARTLY_DONE,
            document=done.refused,
        )
    if STATE.json:
        print_json({"success": True, "operation": "period-close", "closed": output.to_list(results)})
        return
    if not done.todo:
        out(f"Every period through {last} is already closed.")
    for closed in results:
        fingerprint = (closed.fingerprint or "")[:12]
        out(f"{closed.period}: {closed.from_status} -> {closed.to_status} (fingerprint {fingerprint})")


@register(period_app, "reopen", writes=True)
def reopen(
    name: Name,
    reason: Annotated[str, typer.Option("--reason", metavar="TEXT", help="Why the period reopens (recorded).")],
) -> None:
    """Reopen the latest closed period (Reopen Accounting Period), with a reason."""
    _transition("period-reopen", name, "reopen_period", reason)
