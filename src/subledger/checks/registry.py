"""The one list of close checks, and the run: gather the facts the checks of the run need, then run each.

Adding a check is one pure function ``(facts, scope) -> list[Problem]`` (in ``journal``, ``subledger`` or
``ledger``), one entry below naming the facts it reads, and one test that breaks the books the way it catches."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from subledger.checks import journal, ledger, subledger
from subledger.checks.facts import Facts, Need
from subledger.checks.gather import gather
from subledger.checks.report import CheckProblem, CheckReport, CheckResult
from subledger.checks.scope import Scope, scope_for
from subledger.errors import NotFound, Problem

#: How many problems a check lists; the rest are counted.
SHOWN = 20


@dataclass(frozen=True)
class Check:
    name: str
    #: What it proves, as the report titles it.
    title: str
    run: Callable[[Facts, Scope], list[Problem]]
    needs: frozenset[Need]


def _check(name: str, title: str, run: Callable[[Facts, Scope], list[Problem]], *needs: Need) -> Check:
    return Check(name, title, run, frozenset(needs))


#: Every check, in the order of the report.
CHECKS: tuple[Check, ...] = (
    _check("entries-balanced", "Every journal entry balances per currency", journal.entries_balanced, Need.JOURNAL),
    _check("trial-balance", "The trial balance nets to zero", journal.trial_balance, Need.JOURNAL),
    _check(
        "accounting-codes",
        "Every line's accounting code is in the chart and active",
        journal.accounting_codes_active,
        Need.CODES,
    ),
    _check("no-drafts", "No draft documents or unprocessed payments", subledger.no_drafts, Need.DRAFTS),
    _check(
        "control-accounts",
        "Control accounts in the journal equal the subledger",
        subledger.control_accounts,
        Need.SUBLEDGER,
        Need.JOURNAL_AT,
    ),
    _check(
        "journal-postings",
        "Every posted document, payment, application and adjustment has its journal entry",
        subledger.journal_postings,
        Need.POSTINGS,
    ),
    _check(
        "stored-balances",
        "Stored balances recompute from amounts, applications and adjustments",
        subledger.stored_balances,
        Need.STORED,
    ),
    _check(
        "dated-balances",
        "No balance past zero or beyond its amount at a period end",
        subledger.dated_balances,
        Need.DATED_BALANCES,
    ),
    _check("write-offs", "Write-off memos fully applied, lines reduced exactly", subledger.write_offs, Need.GENERATED),
    _check(
        "reversals",
        "Reversals mirror their originals per accounting code",
        subledger.reversals,
        Need.REVERSALS,
        Need.GENERATED,
    ),
    _check(
        "closed-periods",
        "Nothing dated in a closed period; fingerprints match",
        journal.closed_periods,
        Need.JOURNAL,
        Need.FINGERPRINTS,
    ),
    _check(
        "period-events",
        "Every period's status is the one its recorded events give",
        journal.period_events,
        Need.PERIOD_EVENTS,
    ),
    _check(
        "operation-log",
        "Every operation the books name is in the operation log",
        journal.operation_log,
        Need.OPERATIONS,
    ),
    _check("hash-chain", "Every account's journal hash chain verifies", journal.hash_chain, Need.CHAIN),
    _check(
        "beancount",
        "The Beancount ledger loads; its balance assertions hold",
        ledger.beancount_ledger,
        Need.CODES,
        Need.SUBLEDGER,
        Need.LEDGER,
    ),
)
NAMES = frozenset(check.name for check in CHECKS)


def find_problems(
    conn: Connection, period: str | None = None, *, only: Iterable[str] = NAMES
) -> tuple[Scope, list[tuple[Check, list[Problem]]]]:
    """Every problem of the checks named in ``only`` (all by default), check by check in report order."""
    wanted = set(only)
    unknown = wanted - NAMES
    if unknown:
        raise NotFound(f"no close check {', '.join(sorted(unknown))}", field="skip")
    chosen = [check for check in CHECKS if check.name in wanted]
    scope = scope_for(conn, period, wanted)
    needs = frozenset(need for check in chosen for need in check.needs)
    facts = gather(conn, scope, needs)
    return scope, [(check, check.run(facts, scope)) for check in chosen]


def run_checks(conn: Connection, period: str | None = None, *, skip: Iterable[str] = ()) -> CheckReport:
    """Run every check but those named in ``skip`` and report them all."""
    skip = set(skip)
    unknown = skip - NAMES
    if unknown:
        raise NotFound(f"no close check {', '.join(sorted(unknown))}", field="skip")
    scope, found = find_problems(conn, period, only=NAMES - skip)
    results = [
        CheckResult(
            name=check.name,
            title=check.title,
            passed=not problems,
            problem_count=len(problems),
            problems=[CheckProblem(document=p.document, field=p.field, rule=p.rule) for p in problems[:SHOWN]],
        )
        for check, problems in found
    ]
    return CheckReport(period=period, as_of=scope.as_of, passed=all(r.passed for r in results), checks=results)
