"""The Beancount-level check: the ledger ``export_beancount`` writes loads without errors.

Without a period this is proven set-based from the facts, in the words bean-check uses: every posting's account is
open on its date (a code of the chart, dated on or after the accounts open), in a currency the account allows;
every transaction balances; each period's balance assertions (the subledger's control balances at the period's end)
equal the journal's balances at that date; each closed period's postings still match the fingerprint its
``closed-period`` directive carries (the plugin's check). With a period (``subledger check --period NAME``, and
every close) it does more: that period's ledger (``export_period``'s files: the accounts, an opening-balances
transaction computed from the journal, the period's transactions, assertions and closed-period directive, inlined
in memory by ``period_ledger_text``) is loaded with Beancount and the ``closed_periods`` plugin, and every error the
loader reports is a problem, named by the file and line ``export_period`` would have written it at.
"""

from __future__ import annotations

import datetime as dt

from beancount import loader
from sqlalchemy import Connection, func, select, true

from subledger.chart import Chart
from subledger.checks.facts import CodeFacts, Facts, LedgerFacts, need
from subledger.checks.journal import unbalanced_rule
from subledger.checks.scope import Scope
from subledger.context import PeriodState
from subledger.errors import Problem
from subledger.export.beancount import period_ledger_text
from subledger.money import ZERO, fmt
from subledger.storage.schema import journal_entries, journal_lines


def ledger_facts(
    conn: Connection, scope: Scope, span: list[PeriodState], codes: CodeFacts | None, chart: Chart
) -> LedgerFacts:
    """What the loader would see: with a period, what it reports loading that period's ledger; without, what the
    set-based rules need beyond the journal pass."""
    if scope.period is not None:
        return LedgerFacts((), 0, None, tuple(span), load_period(conn, scope.period))
    accounts = {code.name: code for code in chart.codes.values()}
    postings: list[tuple[str, str, int, str]] = []
    pairs = need(codes).pairs
    if any(code not in accounts or currency not in accounts[code].currencies for code, currency in pairs):
        ln = journal_lines
        query = (
            select(ln.c.accounting_code, ln.c.currency, func.count(), func.min(ln.c.account_number))
            .group_by(ln.c.accounting_code, ln.c.currency)
            .order_by(ln.c.accounting_code, ln.c.currency)
        )
        postings = [(code, currency, count, account) for code, currency, count, account in conn.execute(query)]
    opens = scope.periods[0].start_date if scope.periods else None
    e = journal_entries
    early = conn.execute(
        select(func.count()).select_from(e).where(e.c.entry_date < opens if opens else true())
    ).scalar_one()
    return LedgerFacts(tuple(postings), int(early), opens, tuple(span), None)


def _where(starts: list[tuple[int, str]], lineno: object) -> str:
    """``file:line`` of a line of the inlined period ledger (``period_ledger_text``), as the written files number it."""
    if not isinstance(lineno, int):
        return f"main.beancount:{lineno}"
    first, name = max((s for s in starts if s[0] <= lineno), default=starts[0])
    return f"{name}:{lineno - first + 1}"


def load_period(conn: Connection, period: PeriodState) -> tuple[Problem, ...]:
    """Load ``period``'s ledger (``export_period``'s files, inlined in memory) with Beancount and the closed-period
    plugin. Nothing is written to disk: a check killed here leaves no file behind."""
    try:
        text, starts = period_ledger_text(conn, period.name)
    except KeyError as missing:  # a journal line whose accounting code has no account: nothing to load
        return (Problem(period.name, None, f"accounting code {missing} has no account in the ledger"),)
    _, errors, _ = loader.load_string(text)
    problems: list[Problem] = []
    for error in errors:
        source = error.source or {}
        problems.append(Problem(_where(starts, source.get("lineno")), None, " ".join(str(error.message).split())))
    return tuple(problems)


def beancount_ledger(facts: Facts, scope: Scope) -> list[Problem]:
    """The Beancount ledger loads without errors: accounts open, currencies allowed, transactions balanced, balance
    assertions (the subledger's control balances) holding, closed periods unchanged (the closed-period plugin)."""
    ledger = need(facts.ledger)
    if ledger.loaded is not None:
        return list(ledger.loaded)
    journal = need(facts.journal)
    accounts = {code.name: code for code in facts.chart.codes.values()}
    problems: list[Problem] = []
    # Open directives: every code of the chart, opened on the first period's first day, with its currencies.
    for code, currency, count, account in ledger.postings:
        known = accounts.get(code)
        if known is None:
            problems.append(
                Problem(account, code, f"accounting code {code!r} has no account in the ledger ({count} postings)")
            )
        elif currency not in known.currencies:
            problems.append(
                Problem(account, code, f"Invalid currency {currency} for account '{known.account}' ({count} postings)")
            )
    if ledger.early:
        problems.append(
            Problem(
                None,
                "entryDate",
                f"{ledger.early} transactions are dated before the ledger opens its accounts "
                f"({ledger.opens or 'no periods'})",
            )
        )
    # Transactions balance (Beancount checks each transaction per currency; an entry without lines is no error).
    foreign = (u for account, seq, _ in journal.foreign for u in journal.foreign_unbalanced.get((account, seq), ()))
    problems.extend(
        Problem(u.entry, None, f"Transaction does not balance: {unbalanced_rule(u)}")
        for u in (*journal.unbalanced, *foreign)
    )
    # Each period's balance assertions: the subledger at the period's end against the journal on the day after.
    subledger, journal_at, fingerprints = need(facts.subledger), need(facts.journal_at), need(facts.fingerprints)
    for period in ledger.span:
        expected, balances = subledger[period.end_date], journal_at[period.end_date]
        for (code, currency), want in sorted(expected.items()):
            have = balances.get((code, currency), ZERO)
            known = accounts.get(code)
            where = f"periods/{period.name}.beancount"
            if known is None:
                problems.append(Problem(where, code, f"accounting code {code!r} has no account in the ledger"))
            elif currency not in known.currencies:
                problems.append(Problem(where, code, f"Invalid currency {currency} for account '{known.account}'"))
            elif want != have:
                gap = fmt(abs(want - have), currency)
                day = period.end_date + dt.timedelta(days=1)
                problems.append(
                    Problem(
                        where,
                        code,
                        f"Balance failed for '{known.account}': expected {fmt(want, currency)} {currency} != "
                        f"accumulated {fmt(have, currency)} {currency} "
                        f"({gap} too {'much' if have > want else 'little'}) on {day}",
                    )
                )
    # The closed_periods plugin: a closed period's postings must match the fingerprint of its directive.
    for period in ledger.span:
        if period.status == "Closed" and fingerprints[period.name] != (period.fingerprint or ""):
            problems.append(
                Problem(
                    f"periods/{period.name}.beancount",
                    None,
                    f"Closed accounting period {period.name} was altered: its postings no longer match the "
                    "fingerprint recorded at close",
                )
            )
    return problems
