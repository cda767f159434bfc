"""The fiscal calendar: accounting periods read from ``periods/*.csv``.

The calendar says when periods start and end; their status (Open, Pending Close, Closed) lives in the database.
Periods must be contiguous: each starts the day after the previous one ends.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from subledger.errors import Problem, Problems
from subledger.models.base import Date

#: A period's name names its ledger file (``periods/NAME.beancount``) and is typed on the command line: the
#: identifier rule of documents, without ``/`` (no folder, no way out of the ledger's own).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
NAME_RULE = (
    "must be letters, digits and . _ - only, starting with a letter or digit (it names the period's ledger file)"
)
_NAME = re.compile(NAME_PATTERN).fullmatch


class PeriodDefinition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: At most 64 characters, as every identifier the books record (the operations log names the period closed).
    name: str = Field(min_length=1, max_length=64)
    start_date: Date
    end_date: Date
    fiscal_year: int = Field(ge=1900, le=9999)
    fiscal_quarter: int = Field(ge=1, le=4)

    @field_validator("name")
    @classmethod
    def _file_name(cls, name: str) -> str:
        if _NAME(name) is None:
            raise ValueError(f"{name!r} {NAME_RULE}")
        return name

    @model_validator(mode="after")
    def _ordered(self) -> PeriodDefinition:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


def load_calendar(path: Path) -> list[PeriodDefinition]:
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    problems: list[Problem] = []
    periods: list[PeriodDefinition] = []
    for file in files:
        try:
            # UTF-8 whatever the locale: the file is named when it is not (the reader's error named no file).
            with file.open(newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
        except UnicodeDecodeError as exc:
            problems.append(
                Problem(file.name, None, f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}): save it as UTF-8")
            )
            continue
        for lineno, row in enumerate(rows, start=2):
            try:
                periods.append(PeriodDefinition.model_validate(row))
            except ValidationError as exc:
                problems.extend(
                    Problem(
                        f"{file.name}:{lineno}", ".".join(map(str, e["loc"])), e["msg"].removeprefix("Value error, ")
                    )
                    for e in exc.errors()
                )
    periods.sort(key=lambda p: p.start_date)
    if not periods and not problems:
        problems.append(Problem(str(path), None, "no accounting periods found"))
    names: set[str] = set()
    for prev, cur in itertools.pairwise(periods):
        if cur.start_date != prev.end_date + dt.timedelta(days=1):
            problems.append(
                Problem(cur.name, "start_date", f"periods must be contiguous: {prev.name} ends {prev.end_date}")
            )
    for p in periods:
        if p.name in names:
            problems.append(Problem(p.name, "name", "period name is used twice"))
        names.add(p.name)
    if problems:
        raise Problems(problems)
    return periods
