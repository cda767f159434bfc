"""The report of a run of the close checks, as ``subledger check`` prints it and a refused close names it."""

from __future__ import annotations

import datetime as dt

from subledger.errors import Problem
from subledger.models.base import OutputModel


class CheckProblem(OutputModel):
    document: str | None = None
    field: str | None = None
    rule: str


class CheckResult(OutputModel):
    name: str
    title: str
    passed: bool
    problem_count: int
    problems: list[CheckProblem]


class CheckReport(OutputModel):
    """Every check's result; ``passed`` only when all passed."""

    period: str | None
    as_of: dt.date | None
    passed: bool
    checks: list[CheckResult]

    def failures(self) -> list[Problem]:
        """One problem per failing check, naming the check and its first problem (for a refused close)."""
        out: list[Problem] = []
        for check in self.checks:
            if check.passed:
                continue
            first = check.problems[0]
            where = ", ".join(p for p in (first.document, first.field) if p)
            more = ""
            if check.problem_count > 1:
                more = f" (and {check.problem_count - 1} more)"
                if self.period:
                    more += f", all listed by `subledger check --period {self.period}`"
            out.append(
                Problem(self.period, check.name, f"{check.title}: {where + ': ' if where else ''}{first.rule}{more}")
            )
        return out
