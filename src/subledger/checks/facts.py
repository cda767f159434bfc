"""The facts the close checks judge, computed once per run (``checks.gather``) and frozen: each check is a pure
function of these facts and the run's scope.

Facts are computed only when a check of the run needs them (``Need``); a check reads the ones its registry entry
names, through ``need``, which fails loudly on a fact the entry forgot to ask for. Money is ``Decimal``, dates are
dates: the storage encoding stops at the gathering.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal, NamedTuple, TypeVar

from subledger.chart import Chart
from subledger.context import PeriodState
from subledger.errors import Problem

T = TypeVar("T")
#: (accounting code, currency)
Key = tuple[str, str]
#: (customer account, entry sequence)
EntryKey = tuple[str, int]
#: Chart types whose journal balance the subledger proves (Accounts Receivable, On-Account, Unapplied Payments).
CONTROL_TYPES = frozenset({"AccountsReceivable", "On-Account Receivable", "CustomerCashOnAccount"})


class Need(StrEnum):
    """A group of facts a check may need; the run gathers the union of what its checks need."""

    JOURNAL = "journal"  #: the journal pass (``JournalFacts``), lines not hashed
    CHAIN = "chain"  #: the pass hashing every entry's lines, and the chain heads (``ChainFacts``)
    CODES = "codes"  #: the (code, currency) pairs the journal's lines carry, and the codes in scope not usable
    SUBLEDGER = "subledger"  #: the subledger's control balances at every period end and the run's date
    JOURNAL_AT = "journal_at"  #: the journal's balances of the codes the subledger names, at the same days
    DRAFTS = "drafts"  #: documents and payments not yet posted or processed, dated in scope
    GENERATED = "generated"  #: the lines of write-off and reversal memos with what they applied
    REVERSALS = "reversals"  #: reversal memos and their originals per accounting code
    FINGERPRINTS = "fingerprints"  #: closed periods' journal fingerprints
    LEDGER = "ledger"  #: what the Beancount ledger's loader would see (``LedgerFacts``)
    POSTINGS = "postings"  #: subledger records dated in scope whose journal entries are missing (``Unjournaled``)
    STORED = "stored"  #: stored balances that do not recompute from amounts, applications and adjustments
    PERIOD_EVENTS = "period_events"  #: each period's status and fingerprint beside its last recorded event
    OPERATIONS = "operations"  #: operations the books name that the operation log does not have
    #: documents and payments whose balance at a period end was past zero or beyond their amount (``OutOfRange``)
    DATED_BALANCES = "dated_balances"


def need(fact: T | None) -> T:
    """A fact the run gathered (a check reading one its registry entry does not name is a defect)."""
    if fact is None:
        raise RuntimeError("a close check read a fact its registry entry does not ask for")
    return fact


def entry_id(account: str, seq: int) -> str:
    return f"{account}-{seq}"


class Unbalanced(NamedTuple):
    """An entry whose lines in ``currency`` debit and credit different amounts."""

    entry: str
    period: str
    currency: str
    debit: Decimal
    credit: Decimal


class Empty(NamedTuple):
    """An entry without lines."""

    entry: str
    period: str


class ForeignLine(NamedTuple):
    """An entry with a line in another currency than its own."""

    entry: str
    line_currency: str
    currency: str


class Misdated(NamedTuple):
    """An entry posted in ``period`` but dated outside it: in ``dated_in``, or in no accounting period (None)."""

    entry: str
    period: str
    date: dt.date
    dated_in: str | None


class ChainBreak(NamedTuple):
    """Where an account's hash chain breaks, at ``entry``: a ``gap`` (entries missing after ``before``), a
    ``link`` not to the previous entry's hash, an ``unknown-version`` of the hashed text (``version``), an
    ``older-version`` than the entry before it hashed under (``before``), or an ``altered`` entry (its content no
    longer recomputes its hash)."""

    entry: str
    kind: Literal["gap", "link", "unknown-version", "older-version", "altered"]
    before: int = 0
    version: int = 0


@dataclass(frozen=True)
class JournalFacts:
    """What one read of every journal entry, its lines aggregated by the database, tells the checks."""

    #: Journal lines read through their entries.
    lines: int
    #: Every entry (lines in its own currency) whose debits and credits differ.
    unbalanced: tuple[Unbalanced, ...]
    #: Every entry without lines.
    empty: tuple[Empty, ...]
    #: (account, seq, period) of entries with a line in another currency than the entry's.
    foreign: tuple[tuple[str, int, str], ...]
    #: Per such entry: the currencies in which its lines do not balance, then the lines in another currency.
    foreign_unbalanced: Mapping[EntryKey, tuple[Unbalanced, ...]]
    foreign_lines: Mapping[EntryKey, tuple[ForeignLine, ...]]
    #: (period, the lines' currency) -> (debits, credits).
    totals: Mapping[tuple[str, str], tuple[Decimal, Decimal]]
    #: Entries dated outside the period they are posted in.
    misdated: tuple[Misdated, ...]
    #: Each account's last (seq, hash) in the journal.
    tails: Mapping[str, tuple[int, str]]
    #: The chart's control codes (``CONTROL_TYPES``).
    control_codes: frozenset[str]


@dataclass(frozen=True)
class ChainFacts:
    #: Where the hash chain breaks over the entries read (gaps, links, versions, hashes that do not recompute), in
    #: entry order.
    breaks: tuple[ChainBreak, ...]
    #: Lines whose entry is missing: (account, seq), in order.
    orphans: tuple[EntryKey, ...]
    #: Each account's recorded chain head (seq, hash).
    heads: Mapping[str, tuple[int, str]]
    #: Sealed closed period -> the ``entry_mark`` of each entry dated in it.
    marks: Mapping[str, tuple[str, ...]]


class CodeUse(NamedTuple):
    """An accounting code the lines in scope carry that is not in the chart (``known`` False) or is inactive."""

    code: str
    known: bool
    lines: int
    first: EntryKey


@dataclass(frozen=True)
class CodeFacts:
    pairs: frozenset[Key]
    unusable: tuple[CodeUse, ...]


class Unposted(NamedTuple):
    """A document or payment dated in scope that is still a draft (or a payment still processing)."""

    number: str
    kind: str  #: Invoice, DebitMemo, CreditMemo or Payment
    status: str
    date: dt.date


class GeneratedLine(NamedTuple):
    """A line of a write-off or reversal memo that is not exactly applied: its balance, or what was applied between
    it and the line it mirrors."""

    kind: str  #: item or tax
    memo: str
    line: str
    original: str | None
    amount: Decimal
    balance: Decimal
    applied: Decimal
    currency: str


@dataclass(frozen=True)
class ReversalFacts:
    #: (reversal memo, role, accounting code) -> amount, of the memo's lines and of the reversed document's.
    mirrored: Mapping[tuple[str, str, str], Decimal]
    originals: Mapping[tuple[str, str, str], Decimal]
    sources: Mapping[str, str]
    currencies: Mapping[str, str]


@dataclass(frozen=True)
class LedgerFacts:
    """What the Beancount ledger's loader would see (``checks.ledger``)."""

    #: (code, currency, postings, first account) for every pair the lines carry, when one is not in the chart.
    postings: tuple[tuple[str, str, int, str], ...]
    #: Entries dated before the first period (the ledger opens its accounts then), and that day.
    early: int
    opens: dt.date | None
    #: The periods the ledger holds.
    span: tuple[PeriodState, ...]
    #: With a period: what Beancount reported loading that period's ledger.
    loaded: tuple[Problem, ...] | None


class Unjournaled(NamedTuple):
    """A subledger record that should have posted and has no journal entry that posts it."""

    kind: str  #: Invoice, DebitMemo, CreditMemo, Payment, Application, Adjustment, Refund or RefundCancel
    number: str  #: the document, payment, adjustment or refund; for an application, its source
    ref: str | None  #: an application's id
    related: str | None  #: what an application or adjustment settles, the credit memo a refund pays out of
    date: dt.date
    amount: Decimal
    currency: str


class StoredBalance(NamedTuple):
    """A stored balance (a line's, a payment's unapplied amount) that its amount, applications and adjustments do
    not give."""

    kind: str  #: item, tax or payment
    number: str  #: the document or payment
    line: str | None
    stored: Decimal
    computed: Decimal
    currency: str


class PeriodRecord(NamedTuple):
    """A period's status and fingerprint beside the last event recorded for it (None: no event)."""

    name: str
    status: str
    fingerprint: str | None
    event_status: str | None
    event_fingerprint: str | None


class UnloggedOperation(NamedTuple):
    """An operation id rows of ``table`` carry that the operation log does not have."""

    operation: int
    table: str
    rows: int


class Cause(NamedTuple):
    """What put a balance out of range on a day: ``what`` (an application, adjustment or refund, described) dated
    ``date``, before ``before_day`` (the document's own date, or the day of what it depended on: a balance given
    back later), which ``before`` says (", the invoice's date")."""

    what: str
    date: dt.date
    before: str
    before_day: dt.date


class OutOfRange(NamedTuple):
    """A document or payment whose balance at the end of ``day`` was past zero or beyond its amount: each line
    out that day (field, balance, what it held: its amount, nothing before the document's date), and the causes
    (application or operation dated before what it depended on)."""

    number: str
    kind: str  #: Invoice, DebitMemo, CreditMemo or Payment
    day: dt.date
    dated: dt.date
    currency: str
    lines: tuple[tuple[str, Decimal, Decimal], ...]
    causes: tuple[Cause, ...]


@dataclass(frozen=True)
class Facts:
    chart: Chart
    journal: JournalFacts | None = None
    chain: ChainFacts | None = None
    codes: CodeFacts | None = None
    #: day -> (code, currency) -> the subledger's control balance as debit minus credit.
    subledger: Mapping[dt.date, Mapping[Key, Decimal]] | None = None
    #: day -> (code, currency) -> the journal's balance (debit minus credit) of the control codes and of every
    #: code the subledger names.
    journal_at: Mapping[dt.date, Mapping[Key, Decimal]] | None = None
    unposted: tuple[Unposted, ...] | None = None
    #: WriteOff / Reversal -> their lines not exactly applied.
    generated: Mapping[str, tuple[GeneratedLine, ...]] | None = None
    reversals: ReversalFacts | None = None
    fingerprints: Mapping[str, str] | None = None
    ledger: LedgerFacts | None = None
    unjournaled: tuple[Unjournaled, ...] | None = None
    stored: tuple[StoredBalance, ...] | None = None
    periods: tuple[PeriodRecord, ...] | None = None
    unlogged: tuple[UnloggedOperation, ...] | None = None
    out_of_range: tuple[OutOfRange, ...] | None = None
