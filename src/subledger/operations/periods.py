"""Accounting period transitions: Open -> Pending Close -> Closed, and reopening the latest closed period.

The rules are Part 1's: periods close in calendar order (every earlier period Closed first); Pending Close is set
only by an actor with Manage Close Process, and behaves as Open for such actors and as Closed for everyone else;
closing runs the close checks on the period and refuses, naming every failing check, while any fails, then records
the period's fingerprint so that any later change to its journal is caught (by ``subledger check`` and by the
Beancount plugin); only the latest Closed period reopens, with a reason and Reopen Accounting Period. Every
transition is one operation and one ``period_events`` row.

Under load (PostgreSQL) a transition locks the periods table before anything else (``exclusive_periods``): the
operations in flight finish, those that come after wait behind it and then see the new status (a write into a
period just closed is refused), and a second closer reads the period Closed and is told so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update

from subledger.checks import run_checks
from subledger.context import Context, PeriodState
from subledger.errors import (
    CloseChecksFailed,
    EarlierPeriodNotClosed,
    NotFound,
    PeriodTransitionRefused,
    RuleViolation,
    SubledgerError,
)
from subledger.fingerprint import close_marks
from subledger.models.base import OutputModel
from subledger.operations.base import derived_key
from subledger.storage.schema import period_events, periods


class PeriodTransition(OutputModel):
    period: str
    from_status: str
    to_status: str
    fingerprint: str | None = None
    reason: str | None = None


def _locked(ctx: Context, name: str) -> tuple[PeriodState, list[PeriodState]]:
    """The period and every period before it, with the period rows locked against concurrent transitions (under
    the table lock the operation took first, these row locks are granted at once)."""
    query = select(periods.c.name).order_by(periods.c.start_date)
    if ctx.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    ctx.conn.execute(query).all()
    found = next((p for p in ctx.periods if p.name == name), None)
    if found is None:
        raise NotFound(f"no accounting period {name} (see periods/)", document=name, field="period")
    return found, [p for p in ctx.periods if p.start_date < found.start_date]


def _record(
    ctx: Context,
    period: PeriodState,
    to_status: str,
    *,
    fingerprint: str | None,
    seal: str | None = None,
    reason: str | None = None,
) -> PeriodTransition:
    ctx.conn.execute(
        update(periods)
        .where(periods.c.name == period.name)
        .values(status=to_status, fingerprint=fingerprint, seal=seal)
    )
    ctx.conn.execute(
        insert(period_events).values(
            period=period.name,
            from_status=period.status,
            to_status=to_status,
            actor=ctx.actor.name,
            reason=reason,
            fingerprint=fingerprint,
            at=dt.datetime.now(dt.UTC),
        )
    )
    return PeriodTransition(
        period=period.name, from_status=period.status, to_status=to_status, fingerprint=fingerprint, reason=reason
    )


def _earlier_closed(period: PeriodState, earlier: list[PeriodState], action: str) -> None:
    waiting = [p for p in earlier if p.status != "Closed"]
    if waiting:
        first = waiting[0]
        raise EarlierPeriodNotClosed(
            f"cannot {action} {period.name}: the earlier period {first.name} is {first.status} "
            "(periods close in calendar order)",
            document=period.name,
            field="status",
        )


def pending_close(ctx: Context, name: str) -> PeriodTransition:
    ctx.actor.require("Manage Close Process", document=name)
    period, earlier = _locked(ctx, name)
    if period.status != "Open":
        raise PeriodTransitionRefused(
            f"only an Open period can be set to Pending Close; {period.name} is {period.status}",
            document=period.name,
            field="status",
        )
    _earlier_closed(period, earlier, "set Pending Close on")
    return _record(ctx, period, "Pending Close", fingerprint=None)


def close(ctx: Context, name: str) -> PeriodTransition:
    ctx.actor.require("Manage Close Process", document=name)
    period, earlier = _locked(ctx, name)
    if period.status == "Closed":
        raise PeriodTransitionRefused(f"{period.name} is already Closed", document=period.name, field="status")
    _earlier_closed(period, earlier, "close")
    report = run_checks(ctx.conn, period.name)
    if not report.passed:
        raise CloseChecksFailed(report.failures())
    fingerprint, seal = close_marks(ctx.conn, period.start_date, period.end_date)
    return _record(ctx, period, "Closed", fingerprint=fingerprint, seal=seal)


def reopen(ctx: Context, name: str, reason: str) -> PeriodTransition:
    ctx.actor.require("Reopen Accounting Period", document=name)
    if not reason.strip():
        raise RuleViolation("a reason is required to reopen a period", document=name, field="reason")
    if "\x00" in reason:  # PostgreSQL cannot store it
        raise RuleViolation("the reason contains a NUL character", document=name, field="reason")
    period, _ = _locked(ctx, name)
    if period.status == "Open":
        raise PeriodTransitionRefused(f"{period.name} is already Open", document=period.name, field="status")
    later = [p for p in ctx.periods if p.start_date > period.start_date and p.status != "Open"]
    if later:
        raise PeriodTransitionRefused(
            f"only the latest closed period can be reopened; {later[-1].name} is {later[-1].status}",
            document=period.name,
            field="status",
        )
    return _record(ctx, period, "Open", fingerprint=None, reason=reason.strip())


@dataclass
class ClosedThrough:
    """What closing every period up to one did: the periods it had to close, those it closed, and the first
    refusal (the periods after it were not tried)."""

    todo: list[str]
    closed: list[PeriodTransition] = field(default_factory=list)
    refused: str | None = None
    refusal: SubledgerError | None = None


def close_through(
    names: Sequence[tuple[str, str]],
    last: str,
    close: Callable[[str, str | None], PeriodTransition],
    *,
    idempotency_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ClosedThrough:
    """Close every period up to and including ``last`` that is not Closed (``names``: every period's name and
    status, in calendar order), in order, each its own close (``close(name, key)``, checked) under the key
    ``KEY:<period>``; stop at the first refusal. The first period's refusal is raised: nothing was done."""
    order = [name for name, _ in names]
    if last not in order:
        raise NotFound(f"no accounting period {last}", field="--through")
    done = ClosedThrough([name for name, status in names[: order.index(last) + 1] if status != "Closed"])
    for name in done.todo:
        if progress is not None:
            progress(len(done.closed), len(done.todo))
        try:
            done.closed.append(close(name, derived_key(idempotency_key, name)))
        except SubledgerError as exc:
            if not done.closed:
                raise
            done.refused, done.refusal = name, exc
            break
    return done
