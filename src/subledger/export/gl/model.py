"""What every GL format renders: GL entries (a journal entry, or a summary journal entry of a journal run), the
chart as the ERP sees it, and the texts each line carries for an auditor. Nothing here reads or writes a database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from subledger.chart import AccountingCode
from subledger.errors import UnbalancedEntry
from subledger.money import ZERO, fmt
from subledger.text import CONTROLS

#: Chart types whose lines are receivables: NetSuite and QuickBooks want the customer's Name on them, Xero keeps
#: manual journals off its Accounts Receivable system account.
RECEIVABLE_TYPES = frozenset({"AccountsReceivable", "On-Account Receivable"})


class GLLine(NamedTuple):
    """One line of a GL entry (a tuple: a detail export builds one per journal line, a million in a large book)."""

    code: str
    number: str
    debit: Decimal
    credit: Decimal
    item_id: str | None = None


@dataclass
class GLEntry:
    """A GL entry: one journal entry (detail) or one summary journal entry of a run (summary)."""

    external_id: str
    date: dt.date
    period: str
    currency: str
    transaction_type: str
    memo: str
    source_document: str | None = None
    related_document: str | None = None
    customer_account: str | None = None
    customer_name: str | None = None
    #: The reason code and comment of the operation that posted the entry (write-off, reversal, adjustment).
    reason_code: str | None = None
    comment: str | None = None
    lines: list[GLLine] = field(default_factory=list)

    def check_balanced(self) -> Decimal:
        """Refuse an entry whose debits and credits differ; returns its debits."""
        debit = sum((line.debit for line in self.lines), ZERO)
        credit = sum((line.credit for line in self.lines), ZERO)
        if debit != credit:
            raise UnbalancedEntry(
                f"GL entry {self.external_id} debits {debit} and credits {credit} {self.currency}",
                document=self.source_document,
            )
        return debit


@dataclass(frozen=True)
class RunInfo:
    """The journal run a render comes from (the formats print its number; the sidecar names it)."""

    number: str
    period: str
    entry_date: dt.date
    status: str
    mode: str


@dataclass(frozen=True)
class Account:
    """An accounting code as the ERP formats need it: its GL number, its type, and its name path in the chart
    (``Deferred Revenue:Deferred Revenue - Services`` when its Beancount account sits under another code's)."""

    name: str
    number: str
    type: str
    path: str

    @property
    def receivable(self) -> bool:
        return self.type in RECEIVABLE_TYPES


@dataclass(frozen=True)
class CustomerNames:
    """The Name cell of a target that names the customer on receivable lines (NetSuite, QuickBooks): the entry's
    customer, or on a summary entry (it spans customers) ``summary_name``; empty on every other line, and on all
    when the profile's ``customer_name`` is off."""

    receivable: frozenset[str]
    summary_name: str

    @classmethod
    def of(cls, accounts: dict[str, Account], customer_name: bool, summary_name: str | None) -> CustomerNames:
        receivable = frozenset(code for code, a in accounts.items() if a.receivable and customer_name)
        return cls(receivable, summary_name or "")

    def cell(self, entry: GLEntry, code: str) -> str:
        if code not in self.receivable:
            return ""
        return entry.customer_name if entry.customer_name else self.summary_name


def accounts_of(codes: Iterable[AccountingCode]) -> dict[str, Account]:
    """Each code's ``Account``; a code's parent is the code of the longest Beancount account above its own."""
    codes = list(codes)
    by_account = {c.account: c for c in codes}

    def path(code: AccountingCode) -> str:
        parts = code.account.split(":")
        for cut in range(len(parts) - 1, 0, -1):
            parent = by_account.get(":".join(parts[:cut]))
            if parent is not None:
                return f"{path(parent)}:{code.name}"
        return code.name

    return {c.name: Account(c.name, c.number, c.type, path(c)) for c in codes}


# --- texts --------------------------------------------------------------------------------------------------------


class AmountTexts(dict[Decimal, str]):
    """``money.fmt`` of one currency's amounts, each distinct amount formatted once (a period's lines repeat a few
    thousand amounts, half of their sides zero, and formatting a ``Decimal`` costs more than looking it up)."""

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency

    def __missing__(self, value: Decimal) -> str:
        if len(self) >= _TEXTS_KEPT:
            self.clear()
        text = self[value] = fmt(value, self.currency)
        return text


_TEXTS: dict[str, AmountTexts] = {}
_TEXTS_KEPT = 100_000


def texts(currency: str) -> AmountTexts:
    """The amount texts of ``currency`` (``texts("USD")[Decimal("1.5")] == "1.50"``)."""
    found = _TEXTS.get(currency)
    if found is None:
        found = _TEXTS[currency] = AmountTexts(currency)
    return found


def amount_text(value: Decimal, currency: str) -> str:
    """``money.fmt(value, currency)``, remembered."""
    return texts(currency)[value]


def side_text(value: Decimal, currency: str) -> str:
    """An amount column where the empty side of a line is blank."""
    return texts(currency)[value] if value else ""


def in_parts(lines: Iterable[GLLine], most: Decimal) -> list[GLLine]:
    """The lines, a line whose amount is over ``most`` as several lines of its code and item that add up to it:
    ``most`` each, then the rest (an importer that caps a line's amount takes the same posting in parts)."""
    out: list[GLLine] = []
    for line in lines:
        amount = line.debit or line.credit
        if amount <= most:
            out.append(line)
            continue
        whole, rest = divmod(amount, most)
        parts = [most] * int(whole) + ([rest] if rest else [])
        out += [line._replace(debit=a, credit=ZERO) if line.debit else line._replace(credit=a) for a in parts]
    return out


#: What a spreadsheet runs as a formula when a cell starts with it (OWASP "CSV injection").
FORMULA_LEADS = ("=", "+", "-", "@")
#: In a text or lookup cell each control character (``text.CONTROLS``) becomes U+FFFD, as the Beancount ledger
#: writes them: no ERP needs one in a journal, and an importer built on XML refuses the file for one.
_CONTROL = re.compile(f"[{CONTROLS}]")


def without_controls(value: str) -> str:
    return _CONTROL.sub("\ufffd", value)


def safe_text(value: str) -> str:
    """A text cell no spreadsheet runs as a formula: tab and carriage return become spaces, another control character
    U+FFFD, and a leading ``= + - @`` is preceded by an apostrophe (what a spreadsheet shows as text, as OWASP
    advises)."""
    if "\t" in value or "\r" in value:
        value = value.replace("\t", " ").replace("\r", " ")
    value = without_controls(value)
    if value.startswith(FORMULA_LEADS):
        value = "'" + value
    return value


def lookup_text(value: str) -> str:
    """A cell the importer matches exactly to a record the ERP holds (the customer Name): the book's text with no
    apostrophe, which would make ``@Home Networks`` match no customer. Only a line break (CR LF, CR or LF) and a
    tab become a space each, since the ERP's record name is one line, and another control character U+FFFD (no
    ERP record holds one)."""
    if "\t" in value or "\r" in value or "\n" in value:
        value = value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return without_controls(value)


def clip(value: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking a cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def audit_memo(entry: GLEntry, line: GLLine | None = None, *, with_memo: bool = True) -> str:
    """What an auditor needs on a line: the entry's memo, the documents (source, related, the line's item), the
    reason code and the comment of the operation, most telling first so a clipped memo keeps the documents."""
    parts: list[str] = []
    if with_memo:
        parts.append(entry.memo)
    docs = " ".join(
        d
        for d in (entry.source_document, entry.related_document, line.item_id if line else None)
        if d and (not with_memo or d not in entry.memo)
    )
    if docs:
        parts.append(docs)
    if entry.reason_code:
        parts.append(f"reason: {entry.reason_code}")
    if entry.comment:
        parts.append(entry.comment)
    return " | ".join(parts)
