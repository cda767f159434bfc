"""What the Fava extension's pages show, computed from the ledger's entries alone (no database, no Fava).

Everything here reads what the Beancount export writes: the ``accounting-period`` and ``closed-period`` directives,
the chart's ``open`` directives (``name``, ``number``, ``type``), and each transaction's metadata (``document``,
``source-document``, ``receivable-document``, ``reason-code``, ``comment``, ``revenue-impacting``, ``caused-by``,
``due-date``, ``customer-account``, ...). Amounts are ``Decimal`` per currency, never summed across currencies.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from beancount.core import data

from subledger.plugins.closed_periods import fingerprint, period_lines

#: Chart types of the control accounts (receivable, credit memos on account, unapplied cash): the other side of a
#: write-off or reversal is the accounting code it hits.
CONTROL_TYPES = frozenset({"AccountsReceivable", "On-Account Receivable", "CustomerCashOnAccount"})
RECEIVABLE_TYPE = "AccountsReceivable"
#: Aging buckets: (label, first day past due, last day past due or None).
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("Current", -(10**6), 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("Over 90", 91, None),
)
#: Fava's journal filter for every write-off's entries: made by a write-off operation (an invoice, debit memo or
#: credit memo write-off, tagged ``#write-off``, or a write-off by invoice item adjustments, tagged ``#adjustment``).
WRITE_OFFS = 'operation-kind:"^write-off"'
#: A balance this many days past due is a write-off candidate whether or not it is its customer's oldest.
CANDIDATE_DAYS = 90

Totals = dict[str, Decimal]


#: What a regular expression reads as other than itself, and the quote ending Fava's quoted filter value.
_REGEX_SPECIAL = re.compile(r'[\\.^$*+?{}\[\]|()"]')


def exactly(value: str) -> str:
    """Fava's filter pattern matching ``value`` and nothing else: Fava reads a metadata value as a regular expression
    (a reason code such as ``Bankruptcy (Ch. 7)`` is the administrator's own text), and a ``"`` would end the quoted
    value."""
    return "^" + _REGEX_SPECIAL.sub(lambda m: "\\x22" if m.group() == '"' else "\\" + m.group(), value) + "$"


def add(totals: Totals, currency: str, amount: Decimal) -> None:
    totals[currency] = totals.get(currency, Decimal(0)) + amount


def money(totals: Totals) -> str:
    """``430.00 USD, 35.70 EUR``, currencies in order, each amount with the decimals the ledger gives it (its
    currency's: 1,000 JPY, 430.005 BHD); empty totals are ``-``."""
    shown = [f"{amount:,f} {currency}" for currency, amount in sorted(totals.items()) if amount]
    return ", ".join(shown) if shown else "-"


def _sum(rows: Iterable[Totals]) -> Totals:
    out: Totals = {}
    for row in rows:
        for currency, amount in row.items():
            add(out, currency, amount)
    return out


@dataclass(frozen=True)
class Period:
    name: str
    start: dt.date
    end: dt.date
    status: str
    fingerprint: str | None

    @property
    def time(self) -> str:
        """Fava's time filter for the period: its first to its last day, whatever it is called (``FY26-P11`` is no
        date to Fava, and a 4-4-5 calendar's ``2026-11`` is not the calendar month)."""
        return f"{self.start} - {self.end}"


@dataclass(frozen=True)
class Account:
    name: str
    code: str
    number: str
    type: str


def transactions(entries: Sequence[Any]) -> list[data.Transaction]:
    return [e for e in entries if isinstance(e, data.Transaction)]


def accounts(entries: Sequence[Any]) -> dict[str, Account]:
    """The chart as the ledger's ``open`` directives carry it."""
    return {
        e.account: Account(
            e.account, str(e.meta.get("name", "")), str(e.meta.get("number", "")), str(e.meta.get("type", ""))
        )
        for e in entries
        if isinstance(e, data.Open)
    }


def periods(entries: Sequence[Any]) -> list[Period]:
    """The ledger's accounting periods, with the fingerprint recorded at close for the closed ones."""
    recorded: dict[str, str] = {}
    found: dict[str, tuple[dt.date, dt.date, str]] = {}
    for e in entries:
        if not isinstance(e, data.Custom) or not e.values:
            continue
        values = [v.value for v in e.values]
        if e.type == "accounting-period" and len(values) >= 3:
            found[str(values[0])] = (e.date, values[1], str(values[2]))
        elif e.type == "closed-period" and len(values) >= 3:
            recorded[str(values[0])] = str(values[2])
            found.setdefault(str(values[0]), (values[1], e.date, "Closed"))
    return sorted(
        (Period(name, start, end, status, recorded.get(name)) for name, (start, end, status) in found.items()),
        key=lambda p: p.start,
    )


def period_of(day: dt.date, known: Sequence[Period]) -> str:
    for period in known:
        if period.start <= day <= period.end:
            return period.name
    return f"{day:%Y-%m}"


def amounts(entry: data.Transaction) -> Iterator[tuple[str, str, Decimal]]:
    """Each posting of ``entry`` that has an amount: (account, currency, number)."""
    for posting in entry.postings:
        if posting.units is not None and posting.units.number is not None:
            yield posting.account, posting.units.currency, posting.units.number


def _code_postings(entry: data.Transaction, chart: dict[str, Account]) -> Iterator[tuple[str, str, Decimal]]:
    for account, currency, number in amounts(entry):
        if chart.get(account, _NO_ACCOUNT).type not in CONTROL_TYPES:
            yield account, currency, number


_NO_ACCOUNT = Account("", "", "", "")


# --- period close ------------------------------------------------------------------------------------------------


@dataclass
class CloseRow:
    period: Period
    entries: int
    postings: int
    fingerprint: str  # recomputed from the ledger's postings
    fingerprint_ok: bool | None  # None: open period, nothing recorded
    unbalanced: list[str]  # entry ids
    assertions: int
    assertions_failed: list[str]
    outside: int  # transactions without ``entry`` metadata (not from the books)
    unexplained: list[str]  # entries without operation, actor or customer account
    errors: list[str]

    @property
    def passed(self) -> bool:
        return (
            self.fingerprint_ok is not False
            and not self.unbalanced
            and not self.assertions_failed
            and not self.outside
            and not self.unexplained
            and not self.errors
        )


def period_close(entries: Sequence[Any], errors: Sequence[Any] = ()) -> list[CloseRow]:
    """Per period: its status, its postings' fingerprint recomputed and compared with the one recorded at close, and
    the close checks the ledger alone can make (every transaction balanced, the control-account assertions at the
    period end, nothing posted from outside the books, every entry explained, no loading error in the period)."""
    txns = transactions(entries)
    balances = sorted((e for e in entries if isinstance(e, data.Balance)), key=lambda b: b.date)
    # Every asserted account's running balance, from one pass over the postings in date order.
    asserted = {(b.account, b.amount.currency) for b in balances}
    moves = sorted(
        (t.date, account, currency, number)
        for t in txns
        for account, currency, number in amounts(t)
        if (account, currency) in asserted
    )
    running: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    at = 0
    rows = []
    for period in periods(entries):
        inside = [t for t in txns if period.start <= t.date <= period.end]
        lines, outside = period_lines(inside, period.start, period.end)
        recomputed = fingerprint(lines)
        unbalanced = []
        for t in inside:
            sums: Totals = {}
            for _, currency, number in amounts(t):
                add(sums, currency, number)
            if any(sums.values()):
                unbalanced.append(str(t.meta.get("entry", t.date)))
        explained_keys = ("operation", "actor", "customer-account", "document")
        unexplained = [
            str(t.meta["entry"]) for t in inside if "entry" in t.meta and not all(k in t.meta for k in explained_keys)
        ]
        day_after = period.end + dt.timedelta(days=1)
        while at < len(moves) and moves[at][0] < day_after:  # a balance assertion counts what is dated before it
            running[(moves[at][1], moves[at][2])] += moves[at][3]
            at += 1
        checked = [b for b in balances if b.date == day_after]
        failed = [
            f"{b.account} {b.amount.number} {b.amount.currency} (ledger {running[(b.account, b.amount.currency)]})"
            for b in checked
            if running[(b.account, b.amount.currency)] != b.amount.number
        ]
        in_period = [
            error.message.splitlines()[0]
            for error in errors
            if getattr(error, "entry", None) is not None and _error_in(error.entry, period.start, period.end)
        ]
        rows.append(
            CloseRow(
                period=period,
                entries=len(inside),
                postings=len(lines),
                fingerprint=recomputed,
                fingerprint_ok=None if period.fingerprint is None else recomputed == period.fingerprint,
                unbalanced=unbalanced,
                assertions=len(checked),
                assertions_failed=failed,
                outside=len(outside),
                unexplained=unexplained,
                errors=in_period,
            )
        )
    return rows


def _error_in(entry: Any, start: dt.date, end: dt.date) -> bool:
    """Whether an error on ``entry`` is the period's: an entry dated in it, or a balance assertion closing it (dated
    the day after its end; one dated its first day closes the period before)."""
    day = getattr(entry, "date", dt.date.min)
    if isinstance(entry, data.Balance):
        return start < day <= end + dt.timedelta(days=1)
    return start <= day <= end


# --- write-offs and reversals ---------------------------------------------------------------------------------------


@dataclass
class Memo:
    """A write-off or reversal as the register shows it: the entries of one operation on one document."""

    period: str
    date: dt.date
    documents: list[str]
    source: str
    customer: str
    customer_name: str
    reason_code: str
    comment: str
    revenue_impacting: str
    caused_by: str
    operation: str
    actor: str
    amount: Totals = field(default_factory=dict)  # debit (credit) to the accounting codes, not the control accounts
    by_code: dict[str, Totals] = field(default_factory=dict)  # account -> debit (credit)
    codes: list[str] = field(default_factory=list)  # the accounting codes' numbers, in posting order

    @property
    def filter(self) -> str:
        """Fava's journal filter showing this write-off's or reversal's entries."""
        return f"^{self.documents[0]}" if len(self.documents) == 1 else f"^{self.source}"


def _memos(entries: Sequence[Any], pick: str) -> list[Memo]:
    chart = accounts(entries)
    known = periods(entries)
    found: dict[tuple[str, str], Memo] = {}
    for t in transactions(entries):
        kind = str(t.meta.get("operation-kind", ""))
        if pick == "write-off" and not ("write-off" in t.tags or kind.startswith("write-off")):
            continue
        if pick == "reversal" and "reversal" not in t.tags:
            continue
        document = str(t.meta.get("document", ""))
        source = str(t.meta.get("source-document", document))
        operation = str(t.meta.get("operation", ""))
        key = (operation, source) if pick == "write-off" else (operation, document)
        memo = found.get(key)
        if memo is None:
            memo = found[key] = Memo(
                period=period_of(t.date, known),
                date=t.date,
                documents=[],
                source=source,
                customer=str(t.meta.get("customer-account", "")),
                customer_name=str(t.meta.get("customer-name", t.payee or "")),
                reason_code=str(t.meta.get("reason-code", "")),
                comment=str(t.meta.get("comment", "")),
                revenue_impacting=str(t.meta.get("revenue-impacting", "")),
                caused_by=str(t.meta.get("caused-by", "")),
                operation=operation,
                actor=str(t.meta.get("actor", "")),
            )
        if document not in memo.documents:
            memo.documents.append(document)
        for account, currency, number in _code_postings(t, chart):
            add(memo.amount, currency, number)
            add(memo.by_code.setdefault(account, {}), currency, number)
            number_of = chart.get(account, _NO_ACCOUNT).number or account
            if number_of not in memo.codes:
                memo.codes.append(number_of)
    return sorted(found.values(), key=lambda m: (m.date, m.customer, m.documents))


def write_offs(entries: Sequence[Any]) -> list[Memo]:
    """Every write-off (entries tagged ``#write-off``, or made by a write-off operation such as a write-off by
    invoice item adjustments): one per operation and document written off."""
    return _memos(entries, "write-off")


def reversals(entries: Sequence[Any]) -> list[Memo]:
    """Every reversal memo, with ``caused_by`` set when it was reversed because another document was."""
    return _memos(entries, "reversal")


@dataclass
class Group:
    key: str
    label: str
    filter: str
    count: int
    amount: Totals


@dataclass
class Register:
    period: str
    memos: list[Memo]
    by_revenue: list[Group]
    by_reason: list[Group]
    by_code: list[Group]
    by_customer: list[Group]
    total: Totals
    ties: list[Tie]
    time: str = ""  # Fava's time filter for the period: its first and last days (a period's name need not be a date)


@dataclass
class Tie:
    """An accounting code's write-off total in the register beside the same account in the ledger."""

    account: str
    label: str
    register: Totals
    ledger: Totals  # postings to the account in the period's #write-off transactions
    movement: Totals  # every posting to the account in the period

    @property
    def ties(self) -> bool:
        return {c: a for c, a in self.register.items() if a} == {c: a for c, a in self.ledger.items() if a}


def _groups(memos: list[Memo], key: Any, label: Any, filt: Any) -> list[Group]:
    grouped: dict[str, list[Memo]] = defaultdict(list)
    for memo in memos:
        grouped[key(memo)].append(memo)
    return [
        Group(k, label(ms[0]), filt(ms[0]), len(ms), _sum(m.amount for m in ms)) for k, ms in sorted(grouped.items())
    ]


def registers(entries: Sequence[Any], period: str | None = None) -> list[Register]:
    """The write-off register of each period that has write-offs (or of ``period``)."""
    chart = accounts(entries)
    memos = write_offs(entries)
    known = periods(entries)
    txns = transactions(entries)
    out = []
    for name in sorted({m.period for m in memos}):
        if period is not None and name != period:
            continue
        mine = [m for m in memos if m.period == name]
        by_code: dict[str, list[Memo]] = defaultdict(list)
        code_totals: dict[str, Totals] = defaultdict(dict)
        for memo in mine:
            for account, totals in memo.by_code.items():
                by_code[account].append(memo)
                for currency, amount in totals.items():
                    add(code_totals[account], currency, amount)
        in_period = [t for t in txns if period_of(t.date, known) == name]
        ties = []
        for account in sorted(code_totals):
            ledger: Totals = {}
            movement: Totals = {}
            for t in in_period:
                tagged = "write-off" in t.tags or str(t.meta.get("operation-kind", "")).startswith("write-off")
                for posted, currency, number in amounts(t):
                    if posted == account:
                        add(movement, currency, number)
                        if tagged:
                            add(ledger, currency, number)
            ties.append(Tie(account, _label(chart, account), code_totals[account], ledger, movement))
        out.append(
            Register(
                period=name,
                memos=mine,
                by_revenue=_groups(
                    mine,
                    lambda m: m.revenue_impacting or "Yes",
                    lambda m: "Revenue impacting" if (m.revenue_impacting or "Yes") == "Yes" else "Non-revenue",
                    lambda m: f'{WRITE_OFFS} revenue-impacting:"{exactly(m.revenue_impacting or "Yes")}"',
                ),
                by_reason=_groups(
                    mine,
                    lambda m: m.reason_code,
                    lambda m: m.reason_code or "(none)",
                    lambda m: f'{WRITE_OFFS} reason-code:"{exactly(m.reason_code)}"',
                ),
                by_code=[
                    Group(a, _label(chart, a), f'{WRITE_OFFS} any(account:"^{a}$")', len(by_code[a]), code_totals[a])
                    for a in sorted(code_totals)
                ],
                by_customer=_groups(
                    mine,
                    lambda m: m.customer,
                    lambda m: f"{m.customer} {m.customer_name}",
                    lambda m: f'{WRITE_OFFS} customer-account:"{exactly(m.customer)}"',
                ),
                total=_sum(m.amount for m in mine),
                ties=ties,
                time=_time(name, known),
            )
        )
    return out


def _time(name: str, known: Sequence[Period]) -> str:
    """``Period.time`` of the period ``name``; the name itself for a period the ledger does not declare."""
    return next((period.time for period in known if period.name == name), name)


def _label(chart: dict[str, Account], account: str) -> str:
    found = chart.get(account)
    return f"{found.number} {found.code}" if found and found.code else account


# --- receivables aging -------------------------------------------------------------------------------------------


@dataclass
class OpenItem:
    document: str
    customer: str
    customer_name: str
    currency: str
    first_posted: dt.date
    due: dt.date
    days_past_due: int
    bucket: str
    balance: Decimal
    candidate: bool = False


@dataclass
class CustomerAging:
    customer: str
    name: str
    items: list[OpenItem]
    buckets: dict[str, Totals]
    total: Totals


def bucket_of(days_past_due: int) -> str:
    for label, first, last in BUCKETS:
        if days_past_due >= first and (last is None or days_past_due <= last):
            return label
    return BUCKETS[-1][0]


def last_date(entries: Sequence[Any]) -> dt.date:
    dates = [t.date for t in transactions(entries)]
    return max(dates) if dates else dt.date.today()


def aging(entries: Sequence[Any], as_of: dt.date) -> list[CustomerAging]:
    """Open receivable balances by customer and document as of ``as_of`` (every transaction dated on or before it),
    aged by days past the document's due date (its first posting date when it has none). Write-off candidates: a
    customer's oldest past-due balance, and any balance more than ``CANDIDATE_DAYS`` days past due."""
    chart = accounts(entries)
    receivable = {a for a, acc in chart.items() if acc.type == RECEIVABLE_TYPE}
    balance: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    customer: dict[str, tuple[str, str]] = {}
    first: dict[str, dt.date] = {}
    due: dict[str, dt.date] = {}
    for t in transactions(entries):
        if t.date > as_of:
            continue
        document = t.meta.get("receivable-document")
        if "due-date" in t.meta and "document" in t.meta:
            due.setdefault(str(t.meta["document"]), t.meta["due-date"])
        if document is None:
            continue
        for account, currency, number in amounts(t):
            if account in receivable:
                balance[(str(document), currency)] += number
                first[str(document)] = min(first.get(str(document), t.date), t.date)
                customer.setdefault(str(document), (str(t.meta.get("customer-account", "")), str(t.payee or "")))
    items: dict[str, list[OpenItem]] = defaultdict(list)
    for (document, currency), amount in sorted(balance.items()):
        if not amount:
            continue
        account, name = customer[document]
        due_day = due.get(document, first[document])
        days = (as_of - due_day).days
        items[account].append(
            OpenItem(document, account, name, currency, first[document], due_day, days, bucket_of(days), amount)
        )
    out = []
    for account in sorted(items):
        mine = sorted(items[account], key=lambda i: (i.due, i.document))
        past_due = [i for i in mine if i.days_past_due > 0 and i.balance > 0]
        if past_due:
            oldest = max(i.days_past_due for i in past_due)
            for item in past_due:
                item.candidate = item.days_past_due == oldest or item.days_past_due > CANDIDATE_DAYS
        buckets: dict[str, Totals] = {label: {} for label, _, _ in BUCKETS}
        for item in mine:
            add(buckets[item.bucket], item.currency, item.balance)
        out.append(CustomerAging(account, mine[0].customer_name, mine, buckets, _sum(b for b in buckets.values())))
    return out


def receivable_balance(entries: Sequence[Any], as_of: dt.date) -> dict[str, Totals]:
    """The receivable accounts' balances as of ``as_of`` (every posting dated on or before it): what the aging's
    total must equal."""
    chart = accounts(entries)
    out: dict[str, Totals] = {}
    for t in transactions(entries):
        if t.date <= as_of:
            for account, currency, number in amounts(t):
                if chart.get(account, _NO_ACCOUNT).type == RECEIVABLE_TYPE:
                    add(out.setdefault(account, {}), currency, number)
    return out
