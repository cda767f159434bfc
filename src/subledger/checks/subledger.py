"""Checks on the subledger: nothing left unposted, the control accounts agree with the journal, write-off and
reversal memos are applied exactly and reversals mirror their originals."""

from __future__ import annotations

from subledger.checks.facts import Facts, need
from subledger.checks.scope import Scope
from subledger.errors import Problem
from subledger.money import ZERO, fmt
from subledger.posting import DocumentKind


def no_drafts(facts: Facts, scope: Scope) -> list[Problem]:
    """No draft invoice, debit memo or credit memo, and no draft or processing payment, dated in the period (the
    whole book: any date)."""
    del scope  # gathered in scope
    return [
        Problem(
            u.number,
            "status",
            f"draft {DocumentKind(u.kind).label} dated {u.date} must be posted or canceled before close",
        )
        if u.kind != "Payment"
        else Problem(
            u.number, "status", f"{u.status.lower()} payment dated {u.date} must be processed or canceled before close"
        )
        for u in need(facts.unposted)
    ]


def control_accounts(facts: Facts, scope: Scope) -> list[Problem]:
    """Accounts Receivable, Credit Memo On-Account and Unapplied Payments in the journal equal the subledger."""
    if scope.as_of is None:
        return []
    expected = need(facts.subledger)[scope.as_of]
    named = {code for code, _ in expected} | need(facts.journal).control_codes
    journal = {key: amount for key, amount in need(facts.journal_at)[scope.as_of].items() if key[0] in named}
    problems: list[Problem] = []
    for code, currency in sorted(set(expected) | set(journal)):
        want, have = expected.get((code, currency), ZERO), journal.get((code, currency), ZERO)
        if want != have:
            problems.append(
                Problem(
                    code,
                    currency,
                    f"at the end of {scope.as_of} the journal shows {fmt(have, currency)} {currency} but the "
                    f"documents and applications give {fmt(want, currency)} {currency} (debit minus credit)",
                )
            )
    return problems


_RECORD = {
    "Invoice": "posted invoice",
    "DebitMemo": "posted debit memo",
    "CreditMemo": "posted credit memo",
    "Payment": "processed payment",
    "Adjustment": "processed adjustment",
    "Refund": "refund",
    "RefundCancel": "cancellation of refund",
}


def journal_postings(facts: Facts, scope: Scope) -> list[Problem]:
    """Every posted document, processed payment, application and processed adjustment dated in scope has the
    journal entry that posts it (its number, on its date), whatever the journal's last date."""
    del scope  # gathered in scope
    problems: list[Problem] = []
    for r in need(facts.unjournaled):
        money = f"{fmt(r.amount, r.currency)} {r.currency}"
        if r.kind == "Application":
            problems.append(
                Problem(
                    r.number,
                    f"applications[{r.ref}]",
                    f"the application of {money} to {r.related} on {r.date} has no journal entry",
                )
            )
        else:
            what = "credit memo" if r.kind.startswith("Refund") else "invoice"
            of = f" of {what} {r.related}" if r.related else ""
            problems.append(
                Problem(r.number, None, f"{_RECORD[r.kind]}{of} dated {r.date} ({money}) has no journal entry")
            )
    return problems


def stored_balances(facts: Facts, scope: Scope) -> list[Problem]:
    """Every line's stored balance (open balance of invoices and debit memos, unapplied amount of credit memos)
    and every payment's unapplied amount equals its amount less its applications and adjustments."""
    del scope  # balances are the books' current state, whatever the scope
    problems: list[Problem] = []
    for b in need(facts.stored):
        what = {"item": "balance", "tax": "balance", "payment": "unapplied amount"}[b.kind]
        where = {"item": f"items[{b.line}]", "tax": f"taxationItems[{b.line}]", "payment": "unapplied"}[b.kind]
        source = "its amount less its applications" + ("" if b.kind == "payment" else " and adjustments")
        problems.append(
            Problem(
                b.number,
                where,
                f"stored {what} {fmt(b.stored, b.currency)} {b.currency} but {source} give "
                f"{fmt(b.computed, b.currency)} {b.currency}",
            )
        )
    return problems


def _applied_exactly(facts: Facts, source: str, what: str) -> list[Problem]:
    problems: list[Problem] = []
    for kind, number, line, original, amount, balance, applied, currency in need(facts.generated)[source]:
        field = f"items[{line}]" if kind == "item" else f"taxationItems[{line}]"
        if original is None:
            problems.append(Problem(number, field, f"the {what} line does not name the line it mirrors"))
            continue
        if balance != 0:
            problems.append(
                Problem(
                    number,
                    field,
                    f"the {what} line still has {fmt(balance, currency)} {currency} unapplied (not fully applied)",
                )
            )
        if applied != amount:
            problems.append(
                Problem(
                    number,
                    field,
                    f"applied {fmt(applied, currency)} {currency} to the lines it mirrors ({original}), but the "
                    f"{what} line is {fmt(amount, currency)} {currency}",
                )
            )
    return problems


def write_offs(facts: Facts, scope: Scope) -> list[Problem]:
    """Every write-off memo is fully applied, and each line it mirrors was reduced by exactly its amount."""
    del scope
    return _applied_exactly(facts, "WriteOff", "write-off")


def reversals(facts: Facts, scope: Scope) -> list[Problem]:
    """Every reversal memo mirrors the document it reverses exactly, per accounting code, and is fully applied."""
    del scope
    found = need(facts.reversals)
    problems: list[Problem] = []
    for key in sorted(set(found.mirrored) | set(found.originals)):
        number, role, code = key
        got, want = found.mirrored.get(key, ZERO), found.originals.get(key, ZERO)
        if got != want:
            cur = found.currencies[number]
            problems.append(
                Problem(
                    number,
                    code,
                    f"the reversal carries {fmt(got, cur)} {cur} on {role} code {code!r}, the reversed document "
                    f"{found.sources[number]} {fmt(want, cur)} {cur}",
                )
            )
    problems.extend(_applied_exactly(facts, "Reversal", "reversal"))
    return problems


def dated_balances(facts: Facts, scope: Scope) -> list[Problem]:
    """At each period end in scope (and the run's ``as_of``), no invoice or debit memo line has an open balance,
    and no credit memo line or payment an unapplied amount, past zero or beyond its amount, taking every
    application, unapplication, adjustment, refund and cancellation dated on or before that day. Operations check a
    balance as it is now but post on their own dates: one dated before what it depended on (the document's date,
    a balance given back later) leaves the period end wrong while the journal and the subledger still agree."""
    del scope  # gathered at the period ends in scope
    problems: list[Problem] = []
    for o in need(facts.out_of_range):
        cur = o.currency
        label = "payment" if o.kind == "Payment" else DocumentKind(o.kind).label
        what = "open balance" if o.kind in ("Invoice", "DebitMemo") else "unapplied amount"
        field, balance, held = o.lines[0]
        beyond = o.dated <= o.day and (1 if held >= 0 else -1) * balance >= 0
        if o.dated > o.day:
            why = f"before the {label}'s date {o.dated}"
        else:
            why = "beyond its amount" if beyond else "past zero"
        # Beyond: each line beside what it may hold (its amount, and any Charge adjustment by then).
        shown = "; ".join(
            ("" if o.kind == "Payment" else f"{f} ")
            + f"{fmt(b, cur)} {cur}"
            + (f", amount {fmt(h, cur)} {cur}" if beyond else "")
            for f, b, h in o.lines
        )
        if o.causes:
            c = o.causes[0]
            more = f" (and {len(o.causes) - 1} more)" if len(o.causes) > 1 else ""
            cause = (
                f"the {c.what} dated {c.date} is before {c.before_day}{c.before}{more}: date it on or after "
                f"{c.before_day} (take it back and make it again then)"
            )
        else:
            cause = "its applications, adjustments and refunds dated by then take more than it held"
        problems.append(Problem(o.number, field, f"{what} at the end of {o.day} {why} ({shown}): {cause}"))
    return problems
