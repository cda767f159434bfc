"""Each importer's documented rules as a check over a file's rows: required columns, date format, amounts, each
journal balanced and whole, every account mapped, line and file limits, text lengths, and no cell a spreadsheet
would run as a formula. An export feeds its rows here as it renders them (so a file breaking a rule is never put in
place); ``subledger export gl --check`` feeds an existing file's.

A row is first matched against one regular expression built from the columns' rules (the whole row at once, in C);
only a row that fails is checked cell by cell to name the column and the rule.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

from subledger.errors import Problem, Problems
from subledger.export.gl.model import FORMULA_LEADS

Kind = Literal["text", "date", "amount", "signed", "line-no", "rate"]

#: Problems reported per file before the check stops (a broken file usually breaks one rule on every row).
MAX_PROBLEMS = 20
_SEP = "\x1f"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    #: Every row has a value.
    required: bool = False
    max_len: int | None = None


@dataclass(frozen=True)
class Spec:
    """One importer's rules for one file."""

    format: str
    columns: tuple[Column, ...]
    #: Columns whose values together name the journal a row belongs to.
    key: tuple[str, ...]
    #: Regular expression a date cell matches, and how it reads to a person.
    date: str
    date_hint: str
    account: str
    debit: str | None = None
    credit: str | None = None
    #: One signed amount column instead (Xero: debit positive, credit negative).
    signed: str | None = None
    #: Decimals and digits an amount may have.
    max_digits: int = 20
    max_decimals: int = 3
    min_lines_per_entry: int = 2
    max_lines_per_entry: int | None = None
    max_lines_per_file: int | None = None
    #: Account values the file may use (the profile's mapping); None: any non-empty value.
    accounts: frozenset[str] | None = None
    #: Accounts a line must not post to (Xero's Accounts Receivable system account).
    forbidden_accounts: frozenset[str] = frozenset()
    #: Accounts whose lines need ``name_column`` filled (NetSuite, QuickBooks: the customer on A/R lines).
    receivable_accounts: frozenset[str] = frozenset()
    name_column: str | None = None
    #: A column numbered 1, 2, ... within each journal (Intacct's LINE_NO).
    line_no: str | None = None

    def index(self, name: str | None) -> int:
        return -1 if name is None else [c.name for c in self.columns].index(name)


def _cell_pattern(column: Column, spec: Spec) -> str:
    digits = f"\\d{{1,{spec.max_digits}}}(?:\\.\\d{{1,{spec.max_decimals}}})?"
    if column.kind == "date":
        body = spec.date
    elif column.kind == "amount":
        body = digits
    elif column.kind == "signed":
        body = "-?" + digits
    elif column.kind == "rate":
        body = r"\d{1,12}(?:\.\d{1,10})?"
    elif column.kind == "line-no":
        body = r"[1-9]\d{0,5}"
    else:
        rest = "*" if column.max_len is None else f"{{0,{column.max_len - 1}}}"
        body = f"[^=+\\-@\\t\\r{_SEP}][^\\t\\r{_SEP}]{rest}"
    return f"(?:{body})" if column.required else f"(?:{body})?"


class Validator:
    """Rows of one file, fed in order; ``problems`` once ``end`` is called."""

    def __init__(self, spec: Spec, label: str) -> None:
        self.spec, self.label = spec, label
        self.problems: list[Problem] = []
        self._row = re.compile(_SEP.join(_cell_pattern(c, spec) for c in spec.columns))
        self._width = len(spec.columns)
        self._key = [spec.index(k) for k in spec.key]
        self._account = spec.index(spec.account)
        self._debit, self._credit, self._signed = (
            spec.index(spec.debit),
            spec.index(spec.credit),
            spec.index(spec.signed),
        )
        self._name = spec.index(spec.name_column)
        self._line_no = spec.index(spec.line_no)
        self._amounts: dict[str, Decimal] = {"": Decimal(0)}
        self._seen: set[tuple[str, ...]] = set()
        self._current: tuple[str, ...] | None = None
        self._first_row = 0
        self._lines = 0
        self._balance = Decimal(0)
        self._rows = 0

    # -- reporting ---------------------------------------------------------------------------------------------

    def _problem(self, row: int | None, column: str | None, rule: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            where = f"row {row}" if row is not None else None
            self.problems.append(Problem(self.label, ", ".join(p for p in (where, column) if p) or None, rule))

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    # -- the file ----------------------------------------------------------------------------------------------

    def header(self, cells: list[str]) -> None:
        expected = [c.name for c in self.spec.columns]
        if cells != expected:
            missing = [c for c in expected if c not in cells]
            what = f"missing column {missing[0]!r}" if missing else "columns out of order or unknown"
            self._problem(1, None, f"{self.spec.format} header: {what}; expected {', '.join(expected)}")

    def row(self, cells: list[str], row: int) -> None:
        """One data row; ``row`` is its line in the file as a spreadsheet numbers it (the header is row 1)."""
        spec = self.spec
        self._rows += 1
        if spec.max_lines_per_file is not None and self._rows == spec.max_lines_per_file + 1:
            self._problem(row, None, f"{spec.format} files hold at most {spec.max_lines_per_file} lines")
        if len(cells) != self._width or not self._row.fullmatch(_SEP.join(cells)):
            self._cells(cells, row)
            if len(cells) != self._width:
                return
        key = tuple(cells[i] for i in self._key)
        if key != self._current:
            self._close()
            if key in self._seen:
                self._problem(row, None, f"journal {' '.join(key)} is split: its lines must be together, in one file")
            self._seen.add(key)
            self._current, self._first_row, self._lines, self._balance = key, row, 0, Decimal(0)
        self._lines += 1
        if self._signed >= 0:
            self._balance += self._decimal(cells[self._signed])
        else:
            debit, credit = cells[self._debit], cells[self._credit]
            if bool(debit and self._decimal(debit)) == bool(credit and self._decimal(credit)):
                self._problem(row, None, "a line has a debit or a credit, not both or neither")
            self._balance += self._decimal(debit) - self._decimal(credit)
        account = cells[self._account]
        if spec.accounts is not None and account and account not in spec.accounts:
            self._problem(row, spec.account, f"account {account!r} is not mapped in the ERP profile")
        if account in spec.forbidden_accounts:
            self._problem(row, spec.account, f"account {account!r} is a system account manual journals must not use")
        if self._name >= 0 and account in spec.receivable_accounts and not cells[self._name]:
            self._problem(row, spec.name_column, "a receivable line needs the customer's name")
        if self._line_no >= 0 and cells[self._line_no] != str(self._lines):
            self._problem(row, spec.line_no, f"lines are numbered from 1 within each entry; expected {self._lines}")

    def end(self) -> list[Problem]:
        self._close()
        return self.problems

    def _decimal(self, text: str) -> Decimal:
        found = self._amounts.get(text)
        if found is None:
            try:
                found = Decimal(text)
            except InvalidOperation:
                found = Decimal(0)  # the row's own check names the cell
            if len(self._amounts) < 100_000:
                self._amounts[text] = found
        return found

    def _close(self) -> None:
        if self._current is None:
            return
        spec, key, row = self.spec, " ".join(self._current), self._first_row
        if self._balance:
            self._problem(row, None, f"journal {key} does not balance (debits - credits = {self._balance})")
        if self._lines < spec.min_lines_per_entry:
            self._problem(row, None, f"journal {key} has {self._lines} line; a journal has at least 2")
        if spec.max_lines_per_entry is not None and self._lines > spec.max_lines_per_entry:
            self._problem(
                row,
                None,
                f"journal {key} has {self._lines} lines; {spec.format} takes at most "
                f"{spec.max_lines_per_entry} per entry",
            )
        self._current = None

    def _cells(self, cells: list[str], row: int) -> None:
        """Name the cell and rule a row breaks (the row's pattern did not match)."""
        spec = self.spec
        if len(cells) != self._width:
            self._problem(row, None, f"has {len(cells)} cells; the header has {self._width}")
            return
        for column, value in zip(spec.columns, cells, strict=True):
            if not value:
                if column.required:
                    self._problem(row, column.name, "is required")
                continue
            if column.kind == "date":
                if not re.fullmatch(spec.date, value):
                    self._problem(row, column.name, f"{value!r} is not a date as {spec.date_hint}")
            elif column.kind == "text":
                if value.startswith(FORMULA_LEADS) or "\t" in value or "\r" in value:
                    self._problem(row, column.name, "a spreadsheet would run this cell as a formula (= + - @, tab, CR)")
                elif column.max_len is not None and len(value) > column.max_len:
                    self._problem(row, column.name, f"is {len(value)} characters; at most {column.max_len}")
                elif _SEP in value:
                    self._problem(row, column.name, "holds a control character (unit separator)")
            elif not re.fullmatch(_cell_pattern(Column(column.name, column.kind, True), spec), value):
                what = {
                    "amount": f"a positive amount (at most {spec.max_digits} digits, {spec.max_decimals} decimals)",
                    "signed": f"an amount (at most {spec.max_digits} digits, {spec.max_decimals} decimals)",
                    "rate": "an exchange rate",
                    "line-no": "a line number",
                }[column.kind]
                self._problem(row, column.name, f"{value!r} is not {what}")


@dataclass
class Checked:
    """What a check of one file found."""

    rows: int = 0
    journals: int = 0
    problems: list[Problem] = field(default_factory=list)


def check_csv(spec: Spec, text: str, label: str) -> Checked:
    """Check a CSV file's text against ``spec``."""
    validator = Validator(spec, label)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        validator._problem(None, None, "the file is empty")
        return Checked(problems=validator.problems)
    validator.header(header)
    rows = 0
    for rows, cells in enumerate(reader, start=1):
        validator.row(cells, rows + 1)
        if validator.full:
            break
    problems = validator.end()
    if rows == 0 and not problems:
        validator._problem(None, None, "the file has no lines")
    return Checked(rows, len(validator._seen), validator.problems)


def check_jsonl(lines: Iterable[str], label: str, max_decimals: int = 3) -> Checked:
    """The JSONL layout: one balanced GL entry per line, every line with an account, a debit and a credit."""
    amount = re.compile(rf"\d{{1,20}}(?:\.\d{{1,{max_decimals}}})?")
    checked = Checked()
    seen: set[str] = set()

    def problem(row: int, field: str | None, rule: str) -> None:
        if len(checked.problems) < MAX_PROBLEMS:
            checked.problems.append(Problem(label, ", ".join(p for p in (f"line {row}", field) if p), rule))

    for row, text in enumerate(lines, start=1):
        checked.rows += 1
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            problem(row, None, f"not JSON: {exc.msg}")
            continue
        if not isinstance(record, dict):
            problem(row, None, "not a JSON object")
            continue
        for key in ("externalId", "date", "currency", "lines"):
            if not record.get(key):
                problem(row, key, "is required")
        ident = str(record.get("externalId"))
        if ident in seen:
            problem(row, "externalId", f"GL entry {ident} appears twice")
        seen.add(ident)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(record.get("date", ""))):
            problem(row, "date", "is not a date as YYYY-MM-DD")
        lines_ = record.get("lines") or []
        total = Decimal(0)
        for n, line in enumerate(lines_ if isinstance(lines_, list) else [], start=1):
            if not isinstance(line, dict) or not line.get("accountNumber"):
                problem(row, f"lines[{n}].accountNumber", "is required")
                continue
            for side in ("debit", "credit"):
                if not amount.fullmatch(str(line.get(side, ""))):
                    problem(row, f"lines[{n}].{side}", "is not a positive amount")
            with contextlib.suppress(InvalidOperation):
                total += Decimal(str(line.get("debit"))) - Decimal(str(line.get("credit")))
        if len(lines_) < 2:
            problem(row, "lines", "a GL entry has at least 2 lines")
        if total:
            problem(row, "lines", f"GL entry {ident} does not balance (debits - credits = {total})")
        checked.journals += 1
    if checked.rows == 0:
        checked.problems.append(Problem(label, None, "the file has no lines"))
    return checked


def raise_problems(problems: list[Problem]) -> None:
    if problems:
        raise Problems(problems)


def chunks(items: Iterable[str]) -> Iterator[str]:
    yield from items
