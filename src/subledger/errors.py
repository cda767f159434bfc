"""One root exception, narrow subclasses per rule.

Every error carries the document, the field and the rule it broke, so that the CLI prints one line and the API
raises the same sentence. ``problems`` collects several errors as values (a rejected load file reports every bad
document together, as bean-check reports every bad entry).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule, as a value: where (document, field) and what (rule)."""

    document: str | None
    field: str | None
    rule: str

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.document, self.field) if part)
        return f"{where}: {self.rule}" if where else self.rule


class SubledgerError(Exception):
    """Root of every error the books raise on purpose. Nothing is written when one is raised."""

    code = "error"

    def __init__(self, rule: str, *, document: str | None = None, field: str | None = None) -> None:
        self.problem = Problem(document, field, rule)
        super().__init__(str(self.problem))

    @property
    def document(self) -> str | None:
        return self.problem.document

    @property
    def field(self) -> str | None:
        return self.problem.field

    @property
    def rule(self) -> str:
        return self.problem.rule


class InvalidInput(SubledgerError):
    """The request or load file does not match its model (type, shape, unknown field, precision)."""

    code = "invalid-input"


class Problems(SubledgerError):
    """Several problems found together; the message lists the first and counts the rest."""

    code = "invalid-input"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first.rule + more, document=first.document, field=first.field)


class NotFound(SubledgerError):
    """A document, item, accounting code, period or reason code that the books do not have."""

    code = "not-found"


class UnknownAccountingCode(NotFound):
    code = "unknown-accounting-code"


class UnknownReasonCode(NotFound):
    code = "unknown-reason-code"


class Conflict(SubledgerError):
    """The request contradicts what the books already hold (same number, different content)."""

    code = "conflict"


class RuleViolation(SubledgerError):
    """A business rule refuses the operation (status, sign, balance, origin of a memo)."""

    code = "rule-violation"


class AmountExceedsBalance(RuleViolation):
    code = "amount-exceeds-balance"


class WrongSign(RuleViolation):
    code = "wrong-sign"


class NothingToWriteOff(RuleViolation):
    code = "nothing-to-write-off"


class DocumentNotPosted(RuleViolation):
    code = "document-not-posted"


class AlreadyReversed(RuleViolation):
    """The document was reversed: it cannot be reversed, written off or unapplied again."""

    code = "already-reversed"


class NotReversible(RuleViolation):
    """A reversal rule refuses the document (applied, negative, not the latest, created from an invoice ...)."""

    code = "not-reversible"


class PeriodClosed(RuleViolation):
    """A date falls in a closed period (or one Pending Close for this actor)."""

    code = "period-closed"


class PeriodTransitionRefused(RuleViolation):
    code = "period-transition-refused"


class EarlierPeriodNotClosed(PeriodTransitionRefused):
    """A period transition refused because an earlier period is not Closed yet (periods close in order)."""


class CloseChecksFailed(Problems):
    """A period close refused because close checks fail: one problem per failing check."""

    code = "close-checks-failed"


class ExportFailed(SubledgerError):
    """A GL export file could not be written; nothing was marked transferred to accounting."""

    code = "export-failed"


class BadOutput(SubledgerError):
    """A place an export cannot write its files to (a file where a directory goes, a broken link, no permission);
    refused before anything is written."""

    code = "bad-output"


class PermissionDenied(SubledgerError):
    code = "permission-denied"


class AuthenticationFailed(SubledgerError):
    """A caller that proved no identity (no access token, an unknown or expired one, a wrong client secret)."""

    code = "authentication-failed"


class LimitExceeded(SubledgerError):
    """A request over a stated limit (items per request, failed sign-in attempts): refused before any work."""

    code = "limit-exceeded"


class UnbalancedEntry(SubledgerError):
    """A journal entry whose debits and credits differ in some currency: a defect, never user input."""

    code = "unbalanced-entry"


class IdempotencyConflict(Conflict):
    code = "idempotency-conflict"


class WrongSettlementMode(RuleViolation):
    """Memos in a book without Invoice Settlement, or invoice item adjustments in a book with it."""

    code = "wrong-settlement-mode"


class BalanceAwayFromZero(RuleViolation):
    """Invoice item adjustments that would move an invoice's balance away from zero or across it."""

    code = "balance-away-from-zero"


class MirroringRuleRefuses(RuleViolation):
    """The mirroring billing rule forbids the generated memo (an all-zero document under a rule other than Yes)."""

    code = "mirroring-rule-refuses"


class NotUnappliable(RuleViolation):
    """An application a write-off or reversal made: its memo must stay applied, so it cannot be unapplied."""

    code = "not-unappliable"


class Unsupported(SubledgerError):
    """What the reference product does and the books never do (delete a journal run, edit the fiscal calendar
    over the API): refused, saying what the books do instead."""

    code = "unsupported"


# --- refusals as the reference product's reasons ------------------------------------------------------------------

#: The reference product's error category (the last two digits of its 8-digit codes) of each error class; the
#: nearest class in an error's MRO decides. Problems of one field refine it (``category``).
CATEGORIES: dict[type[SubledgerError], int] = {
    PermissionDenied: 10,
    AuthenticationFailed: 11,
    LimitExceeded: 70,
    InvalidInput: 20,
    Problems: 20,
    CloseChecksFailed: 30,
    RuleViolation: 30,
    Conflict: 30,
    NotFound: 40,
    Unsupported: 45,
    UnbalancedEntry: 60,
}
#: Validation rules that the reference product files under their own categories.
_FIELD_CATEGORIES = {"unknown field": 21, "Field required": 22}
#: How the rule of a list longer than its model allows begins (``models.errors``): category 70, a limit.
TOO_MANY_ITEMS = "too many items"


def category(exc: SubledgerError, problem: Problem | None = None) -> int:
    """The reference product's category of a refusal (of one of its problems): 10 permission, 20 invalid value,
    21 unknown field, 22 missing field, 30 rule restriction, 40 not found, 45 unsupported method, 60 internal,
    70 limit."""
    if problem is not None and isinstance(exc, InvalidInput | Problems):
        if problem.rule in _FIELD_CATEGORIES:
            return _FIELD_CATEGORIES[problem.rule]
        if problem.rule.startswith(TOO_MANY_ITEMS):
            return 70
    for cls in type(exc).__mro__:
        if cls in CATEGORIES:
            return CATEGORIES[cls]
    return getattr(exc, "category", 60)


def problems_of(exc: SubledgerError) -> list[Problem]:
    return exc.problems if isinstance(exc, Problems) else [exc.problem]


def reasons(exc: SubledgerError) -> list[dict[str, object]]:
    """A refusal as the reference product's ``reasons``, one per problem: our ``code`` (a word), the ``message``
    (the API's sentence exactly) and where it happened (document, field, rule). The command line prints these under
    ``--json``; the HTTP service replaces ``code`` with the reference product's 8-digit number (``category``)."""
    out: list[dict[str, object]] = []
    for problem in problems_of(exc):
        reason: dict[str, object] = {"code": exc.code, "message": str(problem)}
        reason |= {k: v for k, v in (("document", problem.document), ("field", problem.field)) if v}
        out.append(reason | {"rule": problem.rule})
    return out
