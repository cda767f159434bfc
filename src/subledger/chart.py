"""The chart of accounts: accounting codes read from Beancount ``open`` directives in ``chart_of_accounts/``.

An accounting code has a name (what documents refer to), a GL number (what the ERP knows), a type from the
reference product's list, and the Beancount account the ledger posts to. A ``close`` directive deactivates a code.
The book's currencies are ``option "operating_currency" "USD"`` lines; an ``open`` that lists no currencies accepts
all of them, so a currency is added to the book with one line (and ``subledger init``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from beancount import loader
from beancount.core import data
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from subledger.errors import Problem, Problems

CodeType = Literal[
    "AccountsReceivable",
    "On-Account Receivable",
    "Cash",
    "OtherAssets",
    "CustomerCashOnAccount",
    "DeferredRevenue",
    "SalesTaxPayable",
    "OtherLiabilities",
    "SalesRevenue",
    "SalesDiscounts",
    "OtherRevenue",
    "OtherEquity",
    "BadDebt",
    "OtherExpenses",
]

#: The expense code types: what a non-revenue write-off debits (its code must be one), and why a write-off by
#: adjustment to one of them is not revenue impacting.
EXPENSE_TYPES: tuple[CodeType, ...] = ("BadDebt", "OtherExpenses")
#: The Beancount root each type must live under, so the ledger's sign conventions hold.
ROOTS: dict[str, str] = {
    "AccountsReceivable": "Assets",
    "On-Account Receivable": "Assets",
    "Cash": "Assets",
    "OtherAssets": "Assets",
    "CustomerCashOnAccount": "Liabilities",
    "DeferredRevenue": "Liabilities",
    "SalesTaxPayable": "Liabilities",
    "OtherLiabilities": "Liabilities",
    "SalesRevenue": "Income",
    "SalesDiscounts": "Income",
    "OtherRevenue": "Income",
    "OtherEquity": "Equity",
    "BadDebt": "Expenses",
    "OtherExpenses": "Expenses",
}


class AccountingCode(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    number: str = Field(min_length=1, max_length=255)
    type: CodeType
    account: str
    currencies: tuple[str, ...]
    active: bool = True
    default: bool = False


class Chart:
    """The accounting codes of a book, by name, with the default code of each control type."""

    def __init__(self, codes: list[AccountingCode]) -> None:
        self.codes = {code.name: code for code in codes}
        self.by_account = {code.account: code for code in codes}

    def __iter__(self) -> object:
        return iter(self.codes.values())

    def get(self, name: str) -> AccountingCode | None:
        return self.codes.get(name)

    def default(self, type_: str) -> AccountingCode:
        candidates = [c for c in self.codes.values() if c.type == type_ and c.active]
        for code in candidates:
            if code.default:
                return code
        if not candidates:
            raise Problems([Problem("chart of accounts", "type", f"no active accounting code of type {type_}")])
        return candidates[0]

    @property
    def currencies(self) -> frozenset[str]:
        return frozenset(cur for code in self.codes.values() for cur in code.currencies)


def load_chart(path: Path) -> Chart:
    """Read every ``*.beancount`` file under ``path`` (or the one file); report every problem together."""
    files = sorted(path.glob("*.beancount")) if path.is_dir() else [path]
    if not files:
        raise Problems([Problem(str(path), None, "no chart of accounts (*.beancount) found")])
    problems: list[Problem] = []
    codes: dict[str, AccountingCode] = {}
    closed: set[str] = set()
    loaded = []
    book_currencies: list[str] = []
    for file in files:
        entries, errors, options = loader.load_file(str(file))
        problems.extend(Problem(str(file), None, str(err.message)) for err in errors)
        loaded.append((file, entries))
        book_currencies += [c for c in options.get("operating_currency") or () if c not in book_currencies]
    for file, entries in loaded:
        for entry in entries:
            if isinstance(entry, data.Close):
                closed.add(entry.account)
            if not isinstance(entry, data.Open):
                continue
            meta = {k: v for k, v in entry.meta.items() if k not in ("filename", "lineno")}
            where = f"{file.name}:{entry.meta.get('lineno')} {entry.account}"
            try:
                code = AccountingCode(
                    account=entry.account,
                    # An open listing no currency takes the book's (one `option "operating_currency"` line each):
                    # a currency is added to every such code with one line.
                    currencies=tuple(entry.currencies or book_currencies),
                    **{k: (str(v) if k != "default" else bool(v)) for k, v in meta.items()},
                )
            except ValidationError as exc:
                problems.extend(Problem(where, ".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors())
                continue
            if entry.account.split(":")[0] != ROOTS[code.type]:
                problems.append(Problem(where, "type", f"a {code.type} code belongs under {ROOTS[code.type]}"))
            if code.name in codes:
                problems.append(Problem(where, "name", f"accounting code name {code.name!r} is used twice"))
            codes[code.name] = code
    numbers: dict[str, str] = {}
    for code in codes.values():
        if code.number in numbers:
            problems.append(Problem(code.name, "number", f"GL number {code.number} is also {numbers[code.number]}"))
        numbers[code.number] = code.name
    if problems:
        raise Problems(problems)
    return Chart([c.model_copy(update={"active": c.account not in closed}) for c in codes.values()])
