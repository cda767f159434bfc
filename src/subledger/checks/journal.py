"""Checks on the journal: entries balance, the trial balance nets to zero, codes are usable, entries sit in their
periods and closed periods are unchanged, and every account's hash chain verifies."""

from __future__ import annotations

from decimal import Decimal

from subledger.checks.facts import ChainBreak, Facts, Unbalanced, need
from subledger.checks.scope import Scope
from subledger.errors import Problem
from subledger.money import ZERO, fmt

#: Entries per batch in which problems of entries with lines in another currency are listed (as they were read).
_BATCH = 500


def unbalanced_rule(found: Unbalanced) -> str:
    """What is wrong with an unbalanced entry (the ledger check says it in Beancount's words around it)."""
    currency = found.currency
    return f"debits {fmt(found.debit, currency)} and credits {fmt(found.credit, currency)} {currency}"


def _unbalanced(found: Unbalanced) -> Problem:
    return Problem(found.entry, found.currency, unbalanced_rule(found))


def entries_balanced(facts: Facts, scope: Scope) -> list[Problem]:
    """Every journal entry has lines, in its own currency, with debits equal to credits per currency."""
    journal = need(facts.journal)
    problems = [_unbalanced(u) for u in journal.unbalanced if scope.has(u.period)]
    foreign = [(account, seq) for account, seq, period in journal.foreign if scope.has(period)]
    for i in range(0, len(foreign), _BATCH):
        batch = foreign[i : i + _BATCH]
        problems.extend(_unbalanced(u) for key in batch for u in journal.foreign_unbalanced.get(key, ()))
        problems.extend(
            Problem(f.entry, "currency", f"a line is in {f.line_currency}, the entry in {f.currency}")
            for key in batch
            for f in journal.foreign_lines.get(key, ())
        )
    problems.extend(Problem(e.entry, None, "the entry has no lines") for e in journal.empty if scope.has(e.period))
    return problems


def trial_balance(facts: Facts, scope: Scope) -> list[Problem]:
    """Total debits equal total credits per currency over the entries in scope."""
    totals: dict[str, list[Decimal]] = {}
    for (period, currency), (debit, credit) in need(facts.journal).totals.items():
        if scope.has(period):
            total = totals.setdefault(currency, [ZERO, ZERO])
            total[0] += debit
            total[1] += credit
    where = scope.period.name if scope.period else "the books"
    return [
        Problem(
            where,
            currency,
            f"the trial balance does not net to zero: debits {fmt(debit, currency)}, credits "
            f"{fmt(credit, currency)} {currency}",
        )
        for currency, (debit, credit) in sorted(totals.items())
        if debit != credit
    ]


def accounting_codes_active(facts: Facts, scope: Scope) -> list[Problem]:
    """Every journal line's accounting code is in the chart, and was active when the line was posted (a code the
    chart deactivated later leaves its earlier lines good: ``gather`` counts only lines posted since)."""
    del scope  # the codes were gathered over the entries in scope
    return [
        Problem(
            f"{use.first[0]}-{use.first[1]}",
            "accountingCode",
            f"accounting code {use.code!r} {'is inactive' if use.known else 'is not in the chart of accounts'} "
            f"({use.lines} journal line{'s' if use.lines != 1 else ''})",
        )
        for use in need(facts.codes).unusable
    ]


def closed_periods(facts: Facts, scope: Scope) -> list[Problem]:
    """Periods close in order, every entry sits in the period of its date, and closed periods are unchanged.

    A period run judges the order of that period only: a Closed period after an Open one is the later period's
    problem, which closing the earlier periods in order mends (their closes must not be refused for it)."""
    problems: list[Problem] = []
    seen_open = None
    for period in scope.periods:
        if period.status != "Closed":
            seen_open = seen_open or period
        elif seen_open is not None and scope.has(period.name):
            problems.append(
                Problem(
                    period.name, "status", f"is Closed but the earlier period {seen_open.name} is {seen_open.status}"
                )
            )
    problems.extend(
        Problem(
            m.entry,
            "period",
            f"dated {m.date} ({f'period {m.dated_in}' if m.dated_in else 'no accounting period'}) but posted in "
            f"{m.period}",
        )
        for m in need(facts.journal).misdated
        if scope.has(m.period)
    )
    fingerprints = need(facts.fingerprints)
    for period in scope.periods:
        if period.status != "Closed" or not scope.has(period.name):
            continue
        if not period.fingerprint:
            problems.append(Problem(period.name, "fingerprint", "closed without a recorded fingerprint"))
        elif fingerprints[period.name] != period.fingerprint:
            problems.append(
                Problem(
                    period.name,
                    "fingerprint",
                    "the journal of this closed period changed since it closed (fingerprint mismatch)",
                )
            )
    return problems


def hash_chain(facts: Facts, scope: Scope) -> list[Problem]:
    """Each account's journal is gap-free from 1, every entry's hash recomputes from its content and the previous
    hash, and the account's recorded head is its last entry."""
    del scope  # a chain is verified whole: any period's entries depend on every earlier one
    chain, tails = need(facts.chain), need(facts.journal).tails
    problems = [_chain_break(b) for b in chain.breaks]
    problems.extend(
        Problem(f"{account}-{seq}", None, "a journal line without its entry") for account, seq in chain.orphans
    )
    for account in sorted(set(chain.heads) | set(tails)):
        recorded = chain.heads.get(account)
        actual = tails.get(account, (0, ""))
        if recorded is None:
            problems.append(Problem(account, None, "journal entries for an account the books do not have"))
        elif recorded != actual:
            problems.append(
                Problem(
                    account,
                    "lastEntryHash",
                    f"the account's chain head is entry {recorded[0]} but its journal ends at entry {actual[0]} "
                    "or with another hash",
                )
            )
    return problems


def _chain_break(found: ChainBreak) -> Problem:
    if found.kind == "gap":
        return Problem(found.entry, "seq", f"follows entry {found.before}: entries are missing")
    if found.kind == "link":
        return Problem(found.entry, "prevHash", "does not chain to the previous entry's hash")
    if found.kind == "unknown-version":
        return Problem(found.entry, "hashVersion", f"hashed under version {found.version}, which does not exist")
    if found.kind == "older-version":
        return Problem(found.entry, "hashVersion", f"hashed under version {found.version} after version {found.before}")
    return Problem(found.entry, "hash", "its content no longer matches its hash (altered)")


def period_events(facts: Facts, scope: Scope) -> list[Problem]:
    """Every period's status is the one its last recorded event moved it to (a period without events is Open),
    and a closed period's fingerprint is the one its close recorded."""
    del scope  # every period: a status changed by hand anywhere changes what may be posted
    problems: list[Problem] = []
    for p in need(facts.periods):
        if p.event_status is None:
            if p.status != "Open":
                problems.append(Problem(p.name, "status", f"is {p.status} but no transition of it is recorded"))
        elif p.status != p.event_status:
            problems.append(
                Problem(p.name, "status", f"is {p.status} but its last recorded transition made it {p.event_status}")
            )
        elif p.status == "Closed" and p.fingerprint != p.event_fingerprint:
            problems.append(Problem(p.name, "fingerprint", "is not the fingerprint its close recorded"))
    return problems


def operation_log(facts: Facts, scope: Scope) -> list[Problem]:
    """Every operation the journal and the subledger name is in the operation log."""
    del scope  # the log is whole
    return [
        Problem(
            f"operation {u.operation}",
            u.table,
            f"{u.table.replace('_', ' ')} ({u.rows}) name operation {u.operation}, which the operation log does not "
            "have",
        )
        for u in need(facts.unlogged)
    ]
