"""Each importer's documented rules as a check over a file's rows: required columns, date format, amounts, each
journal balanced and whole, every account mapped, line and file limits, text lengths, and no cell a spreadsheet
would run as a formula but the customer name the importer looks up. An export feeds its rows here as it renders
them (so a file breaking a rule is never put in place); ``subledger export gl --check`` feeds an existing file's.

A row is first matched against one regular expression built from the columns' rules (the whole row at once, in C);
only a row that fails is checked cell by cell to name the column and the rule.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

from subledger.errors import Problem
from subledger.export.gl.model import FORMULA_LEADS, lookup_text, safe_text, without_controls
from subledger.text import CONTROLS

#: ``text`` cells never start like a formula; a ``lookup`` cell is matched by the importer to a record the ERP holds
#: (the customer Name), so it carries the book's text as is, on one line.
Kind = Literal["text", "lookup", "date", "amount", "signed", "line-no", "rate"]
#: What makes a text cell meet its kind's rule (the writer applies it to a row that fails).
_CLEAN: dict[str, Callable[[str], str]] = {"text": safe_text, "lookup": lookup_text}

#: Problems reported per file before the check stops (a broken file usually breaks one rule on every row).
MAX_PROBLEMS = 20
#: Cells of a row and rows of a journal are joined with these (no cell that passes holds one) for the fast path.
_SEP = "\x1f"
_RS = "\x1e"
_ZERO = Decimal(0)
_LINE_NOS = [str(n) for n in range(1, 1_001)]


class _Amounts(dict[str, Decimal]):
    """Amount texts read as ``Decimal``s, each distinct text once (a bad one reads as zero: its cell is named)."""

    def __missing__(self, text: str) -> Decimal:
        try:
            value = Decimal(text) if text else _ZERO
        except InvalidOperation:
            value = _ZERO
        if len(self) < 100_000:
            self[text] = value
        return value


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
    #: The file's size in bytes as written (UTF-8, the header included).
    max_bytes_per_file: int | None = None
    #: Account values the file may use (the profile's mapping); None: any non-empty value.
    accounts: frozenset[str] | None = None
    #: Accounts a line must not post to (Xero's Accounts Receivable system account).
    forbidden_accounts: frozenset[str] = frozenset()
    #: Accounts whose lines need ``name_column`` filled (NetSuite, QuickBooks: the customer on A/R lines).
    receivable_accounts: frozenset[str] = frozenset()
    name_column: str | None = None
    #: A column numbered 1, 2, ... within each journal (Intacct's LINE_NO).
    line_no: str | None = None
    #: Header fields: the same on every line of one journal (NetSuite repeats them on each line of an entry).
    header: tuple[str, ...] = ()

    def index(self, name: str | None) -> int:
        return -1 if name is None else [c.name for c in self.columns].index(name)


#: How each date hint reads a date, to tell a date on the calendar from one that only has its shape (31/02/2026).
_DATE_FORMATS = {
    "MM/DD/YYYY": "%m/%d/%Y",
    "DD/MM/YYYY": "%d/%m/%Y",
    "YYYY-MM-DD": "%Y-%m-%d",
    "DD Mon YYYY": "%d %b %Y",
}


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
    elif column.kind == "lookup":
        rest = "+" if column.max_len is None else f"{{1,{column.max_len}}}"
        body = f"[^\\t\\r\\n{CONTROLS}]{rest}"
    else:
        rest = "*" if column.max_len is None else f"{{0,{column.max_len - 1}}}"
        body = f"[^=+\\-@\\t\\r{CONTROLS}][^\\t\\r{CONTROLS}]{rest}"
    return f"(?:{body})" if column.required else f"(?:{body})?"


class Validator:
    """Rows of one file, fed in order; ``problems`` once ``end`` is called."""

    def __init__(self, spec: Spec, label: str) -> None:
        self.spec, self.label = spec, label
        self.problems: list[Problem] = []
        row_pattern = _SEP.join(_cell_pattern(c, spec) for c in spec.columns)
        self._row = re.compile(row_pattern)
        self._journal = re.compile(f"{row_pattern}(?:{_RS}{row_pattern})*")
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
        self._date = next((i for i, c in enumerate(spec.columns) if c.kind == "date"), -1)
        self._date_format = _DATE_FORMATS[spec.date_hint]
        self._dates: set[str] = set()  # cells already found on the calendar (a file has few distinct dates)
        self._header = [spec.index(name) for name in spec.header]
        self._header_cells: list[str] = []
        self._amounts = _Amounts()
        self._seen: set[str] = set()
        self._current: str | None = None
        self._over = -1 if spec.max_lines_per_file is None else spec.max_lines_per_file + 1
        self._mapped, self._forbidden, self._receivable = (
            spec.accounts,
            spec.forbidden_accounts,
            spec.receivable_accounts,
        )
        #: Per cell, what makes a text cell meet its rule (a failing row gets it, then is checked again).
        self.clean = [_CLEAN.get(c.kind) for c in spec.columns]
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

    def joined(self, rows: list[list[str]]) -> str | None:
        """A journal's rows joined (cells by ``_SEP``, rows by ``_RS``) when every cell meets its rule, checked by
        one regular expression over the whole journal; None when a cell breaks one (``entry`` then names it)."""
        width = self._width
        if any(len(r) != width for r in rows):
            return None
        text = _RS.join([_SEP.join(r) for r in rows])
        return text if self._journal.fullmatch(text) else None

    def entry(self, rows: list[list[str]], first: int, text: str | None) -> None:
        """One journal's rows, the first being row ``first`` of the file; ``text`` is what ``joined`` returned.
        A journal meeting every rule is checked as a whole; one breaking any goes row by row to name the row."""
        spec, n = self.spec, len(rows)
        before, self._rows = self._rows, self._rows + n
        limit = spec.max_lines_per_file
        if text is not None and (limit is None or self._rows <= limit):
            k = self._key
            key = rows[0][k[0]] if len(k) == 1 else _SEP.join([rows[0][i] for i in k])
            amounts = self._amounts
            ok = key not in self._seen and self._current is None
            ok = ok and n >= spec.min_lines_per_entry
            ok = ok and (spec.max_lines_per_entry is None or n <= spec.max_lines_per_entry)
            if ok and len(k) == 1:
                i = k[0]
                ok = all(r[i] == key for r in rows)
            elif ok:
                ok = all(_SEP.join([r[i] for i in k]) == key for r in rows)
            if ok and self._signed >= 0:
                s_ = self._signed
                ok = sum([amounts[r[s_]] for r in rows], _ZERO) == 0
            elif ok:
                d, c = self._debit, self._credit
                debits = [amounts[r[d]] for r in rows]
                credits = [amounts[r[c]] for r in rows]
                ok = sum(debits, _ZERO) == sum(credits, _ZERO) and all(
                    bool(x) != bool(y) for x, y in zip(debits, credits, strict=True)
                )
            a = self._account
            if ok and self._mapped is not None:
                ok = all(r[a] in self._mapped for r in rows)
            if ok and self._forbidden:
                ok = not any(r[a] in self._forbidden for r in rows)
            if ok and self._name >= 0 and self._receivable:
                m = self._name
                ok = all(r[m] or r[a] not in self._receivable for r in rows)
            if ok and self._line_no >= 0:
                ln = self._line_no
                ok = [r[ln] for r in rows] == _LINE_NOS[:n]
            if ok and self._date >= 0:
                ok = all(self.on_calendar(r[self._date]) for r in rows)
            if ok and self._header:
                first_row = rows[0]
                ok = all(r[i] == first_row[i] for i in self._header for r in rows)
            if ok:
                self._seen.add(key)
                return
        self._rows = before
        for i, row in enumerate(rows):
            self.row(row, first + i, matched=text is not None)
        self._close()

    def on_calendar(self, cell: str) -> bool:
        """Whether a date cell (of the date's shape, or empty) names a day of the calendar."""
        if not cell or cell in self._dates:
            return True
        try:
            dt.datetime.strptime(cell, self._date_format)
        except ValueError:
            return False
        self._dates.add(cell)
        return True

    def matches(self, cells: list[str]) -> str | None:
        """The row's cells joined, when they meet every cell rule at once (one regular expression over the whole
        row); None when a cell breaks one (``row`` then names it)."""
        if len(cells) != self._width:
            return None
        joined = _SEP.join(cells)
        return joined if self._row.fullmatch(joined) else None

    def row(self, cells: list[str], row: int, *, matched: bool = False) -> None:
        """One data row; ``row`` is its line in the file as a spreadsheet numbers it (the header is row 1).
        ``matched``: the caller had ``matches`` accept it already."""
        spec = self.spec
        self._rows += 1
        if self._rows == self._over:
            self._problem(row, None, f"{spec.format} files hold at most {spec.max_lines_per_file} lines")
        if not matched and self.matches(cells) is None:
            self._cells(cells, row)
            if len(cells) != self._width:
                return
        elif self._date >= 0 and not self.on_calendar(cells[self._date]):
            self._problem(row, spec.columns[self._date].name, f"{cells[self._date]!r} is not a day of the calendar")
        key = cells[self._key[0]] if len(self._key) == 1 else _SEP.join([cells[i] for i in self._key])
        if key != self._current:
            self._close()
            if key in self._seen:
                shown = key.replace(_SEP, " ")
                self._problem(row, None, f"journal {shown} is split: its lines must be together, in one file")
            self._seen.add(key)
            self._current, self._first_row, self._lines, self._balance = key, row, 0, _ZERO
            self._header_cells = [cells[i] for i in self._header]
        else:
            for i, first in zip(self._header, self._header_cells, strict=True):
                if cells[i] != first:
                    name, shown = spec.columns[i].name, key.replace(_SEP, " ")
                    rule = f"a header field of journal {shown}: the same on every line; its first line has {first!r}"
                    self._problem(row, name, rule)
        self._lines += 1
        amounts = self._amounts
        if self._signed >= 0:
            self._balance += amounts[cells[self._signed]]
        else:
            debit, credit = amounts[cells[self._debit]], amounts[cells[self._credit]]
            if bool(debit) == bool(credit):
                self._problem(row, None, "a line has a debit or a credit, not both or neither")
            self._balance += debit - credit
        account = cells[self._account]
        if self._mapped is not None and account and account not in self._mapped:
            self._problem(row, spec.account, f"account {account!r} is not mapped in the ERP profile")
        if account in self._forbidden:
            self._problem(row, spec.account, f"account {account!r} is a system account manual journals must not use")
        if self._name >= 0 and account in self._receivable and not cells[self._name]:
            self._problem(row, spec.name_column, "a receivable line needs the customer's name")
        if self._line_no >= 0 and cells[self._line_no] != str(self._lines):
            self._problem(row, spec.line_no, f"lines are numbered from 1 within each entry; expected {self._lines}")

    def size(self, written: int) -> None:
        """The file's size in bytes, as written (UTF-8)."""
        limit = self.spec.max_bytes_per_file
        if limit is not None and written > limit:
            self._problem(None, None, f"{self.spec.format} files hold at most {limit} bytes; this one has {written}")

    def end(self) -> list[Problem]:
        self._close()
        return self.problems

    def _close(self) -> None:
        if self._current is None:
            return
        spec, key, row = self.spec, self._current.replace(_SEP, " "), self._first_row
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
                elif not self.on_calendar(value):
                    self._problem(row, column.name, f"{value!r} is not a day of the calendar")
            elif column.kind in ("text", "lookup"):
                if column.kind == "text" and (value.startswith(FORMULA_LEADS) or "\t" in value or "\r" in value):
                    self._problem(row, column.name, "a spreadsheet would run this cell as a formula (= + - @, tab, CR)")
                elif column.kind == "lookup" and ("\t" in value or "\r" in value or "\n" in value):
                    self._problem(row, column.name, "is matched to the ERP's record: one line, no tab or line break")
                elif column.max_len is not None and len(value) > column.max_len:
                    self._problem(row, column.name, f"is {len(value)} characters; at most {column.max_len}")
                elif without_controls(value) != value:
                    self._problem(row, column.name, "holds a control character (an importer on XML refuses the file)")
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


def check_csv(spec: Spec, text: str, label: str, size: int | None = None) -> Checked:
    """Check a CSV file's text against ``spec``: rows are taken a journal at a time (consecutive rows of one key).
    ``size``: the file's bytes (default: the text's, in UTF-8)."""
    validator = Validator(spec, label)
    if spec.max_bytes_per_file is not None:
        validator.size(len(text.encode("utf-8")) if size is None else size)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        validator._problem(None, None, "the file is empty")
        return Checked(problems=validator.problems)
    validator.header(header)
    width, keys = len(spec.columns), validator._key
    group: list[list[str]] = []
    group_key: list[str] = []
    first = rows = 0

    def flush() -> None:
        if group:
            validator.entry(group, first, validator.joined(group))
            group.clear()

    for rows, cells in enumerate(reader, start=1):
        if len(cells) != width:
            flush()
            validator.row(cells, rows + 1)
            continue
        key = [cells[i] for i in keys]
        if not group or key != group_key:
            flush()
            group_key, first = key, rows + 1
        group.append(cells)
        if validator.full:
            break
    flush()
    validator.end()
    if rows == 0 and not validator.problems:
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
