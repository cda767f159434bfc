"""The close checks: every rule a period must satisfy before it closes, each reported as a value.

Like beancount's ``ops/validation``, a run never stops at the first problem: every check runs and returns its
problems (``Problem(document, field, rule)``), and the report lists them all. ``subledger check`` prints the report;
closing a period runs the same checks on that period and refuses while any fails.

The package, in the order a run goes through it:

- ``scope``: what a run looks at. With a period, that period (its entries, the documents dated in it, the control
  accounts at its end, its fingerprint if closed); without one, the whole book (every entry, every closed period,
  the control accounts at the end of the last period anything posted in, in the journal or the subledger). The
  hash chain, the stored balances, the periods' events and the operation log are always checked whole.
- ``facts``: the typed, frozen facts the checks judge; ``gather`` computes them once per run, only those the run's
  checks need (the journal pass, whose SQL, plan and sharing with a forked process live in
  ``storage.journal_pass``; the subledger pass; the details of what a pass flagged).
- ``journal``, ``subledger``: the checks, each a pure function ``(facts, scope) -> list[Problem]``;
  ``ledger``: the Beancount-level check (what bean-check would report on the exported ledger).
- ``registry``: the one list of checks (``CHECKS``: name, title, function, the facts it needs) and the run.
"""

from subledger.checks.registry import CHECKS, NAMES, SHOWN, Check, find_problems, run_checks
from subledger.checks.report import CheckProblem, CheckReport, CheckResult
from subledger.checks.scope import Scope, scope_for

__all__ = [
    "CHECKS",
    "NAMES",
    "SHOWN",
    "Check",
    "CheckProblem",
    "CheckReport",
    "CheckResult",
    "Scope",
    "find_problems",
    "run_checks",
    "scope_for",
]
