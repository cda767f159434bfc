"""Journal entries: built in memory, checked balanced, then posted in one go.

An entry is checked when it is built (``Entry.build`` refuses an unbalanced one) and again by the database when
it is inserted (``storage.guards``). Posting assigns each entry the next number in its customer account's journal
and chains it to the previous entry by a hash over every field it is stored with (``canonical``), so that
``subledger check`` can prove nothing was altered or removed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Connection, select

from subledger import canonical
from subledger.errors import UnbalancedEntry
from subledger.money import ZERO
from subledger.posting import Codes, Line, TransactionType, lines_for
from subledger.storage.bulk import insert_rows, one_of, update_rows
from subledger.storage.schema import customer_accounts, journal_entries, journal_lines

#: Bound parameters per ``IN (...)`` list: SQLite allows at most 32,766 variables in one statement.
_IN_CHUNK = 10_000


class Tag(StrEnum):
    """What kind of business event a journal entry records: stored with it, hashed, and written as its tag in the
    Beancount ledger (``#write-off``)."""

    INVOICE = "invoice"
    DEBIT_MEMO = "debit-memo"
    CREDIT_MEMO = "credit-memo"
    PAYMENT = "payment"
    APPLICATION = "application"
    WRITE_OFF = "write-off"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"
    REFUND = "refund"
    RECOVERY = "recovery"


@dataclass(frozen=True)
class Entry:
    account_number: str
    date: dt.date
    transaction_type: TransactionType
    currency: str
    document_number: str
    tag: Tag
    description: str
    lines: tuple[Line, ...]
    related_number: str | None = None

    @classmethod
    def build(
        cls,
        *,
        account_number: str,
        date: dt.date,
        transaction_type: TransactionType,
        currency: str,
        document_number: str,
        tag: Tag,
        description: str,
        lines: Iterable[Line],
        related_number: str | None = None,
    ) -> Entry | None:
        """A balanced entry from ``lines``, or None when every line is zero (nothing to post)."""
        kept = tuple(line for line in lines if line.debit or line.credit)
        if not kept:
            return None
        debit = sum((line.debit for line in kept), ZERO)
        credit = sum((line.credit for line in kept), ZERO)
        if debit != credit:
            raise UnbalancedEntry(
                f"{transaction_type} entry debits {debit} and credits {credit} {currency}",
                document=document_number,
            )
        return cls(
            account_number,
            date,
            transaction_type,
            currency,
            document_number,
            tag,
            description,
            kept,
            related_number,
        )


class Posting(Protocol):
    """What posts: a document or a payment."""

    @property
    def account_number(self) -> str: ...

    @property
    def number(self) -> str: ...

    @property
    def currency(self) -> str: ...


@dataclass
class EntryBuilder:
    """Collects the lines of one document's postings, one entry per transaction type."""

    account_number: str
    date: dt.date
    currency: str
    document_number: str
    tag: Tag
    description: str
    related_number: str | None = None
    _lines: dict[TransactionType, list[Line]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(
        cls, source: Posting, date: dt.date, related_number: str | None, *, tag: Tag, description: str
    ) -> EntryBuilder:
        """A builder for what ``source`` (a document or payment) posts on ``date``: its account, number and currency."""
        return cls(source.account_number, date, source.currency, source.number, tag, description, related_number)

    def add(self, transaction_type: TransactionType, amount: Decimal, codes: Codes, item_id: str | None) -> None:
        self._lines[transaction_type].extend(lines_for(transaction_type, amount, codes, item_id))

    def entries(self) -> list[Entry]:
        built = (
            Entry.build(
                account_number=self.account_number,
                date=self.date,
                transaction_type=ttype,
                currency=self.currency,
                document_number=self.document_number,
                tag=self.tag,
                description=self.description,
                lines=lines,
                related_number=self.related_number,
            )
            for ttype, lines in self._lines.items()
        )
        return [entry for entry in built if entry is not None]


def chain_rows(
    entries: Sequence[Entry],
    periods: Sequence[tuple[str, dt.date]],
    heads: dict[str, tuple[int, str]],
    operation_id: int,
) -> tuple[list[dict[str, object]], list[dict[str, object]], list[tuple[str, int]]]:
    """The entry and line rows of ``entries``, numbered and hash-chained from ``heads`` (advanced in place).

    ``heads`` maps each account to its last (sequence number, hash). Returns (entry rows, line rows, the
    (account, sequence number) of each entry).
    """
    entry_rows: list[dict[str, object]] = []
    line_rows: list[dict[str, object]] = []
    keys: list[tuple[str, int]] = []
    for entry, (period, _) in zip(entries, periods, strict=True):
        account = entry.account_number
        seq, prev = heads[account]
        seq += 1
        # What the entry and its lines are stored with, and what the chain hash covers (``canonical``).
        row: dict[str, object] = {
            "account_number": account,
            "seq": seq,
            "entry_date": entry.date,
            "period": period,
            "transaction_type": entry.transaction_type,
            "currency": entry.currency,
            "document_number": entry.document_number,
            "related_number": entry.related_number,
            "tag": entry.tag,
            "description": entry.description,
            "operation_id": operation_id,
        }
        lines: list[dict[str, object]] = [
            {
                "account_number": account,
                "entry_seq": seq,
                "line_no": n,
                "accounting_code": line.code,
                "debit": line.debit,
                "credit": line.credit,
                "currency": entry.currency,
                "item_id": line.item_id,
            }
            for n, line in enumerate(entry.lines, start=1)
        ]
        fields = canonical.stored_entry_fields(canonical.CURRENT, row)
        digest = canonical.chain_digest(
            prev, fields, (canonical.stored_line_text(canonical.CURRENT, ln) for ln in lines)
        )
        row.update(prev_hash=prev, hash=digest, hash_version=canonical.CURRENT)
        heads[account] = (seq, digest)
        keys.append((account, seq))
        entry_rows.append(row)
        line_rows.extend(lines)
    return entry_rows, line_rows, keys


def read_heads(conn: Connection, accounts: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Each account's chain head: its last (sequence number, hash)."""
    wanted = sorted(set(accounts))
    heads: dict[str, tuple[int, str]] = {}
    head = customer_accounts.c
    for i in range(0, len(wanted), _IN_CHUNK):
        for row in conn.execute(
            select(head.account_number, head.last_entry_seq, head.last_entry_hash).where(
                one_of(conn, head.account_number, wanted[i : i + _IN_CHUNK])
            )
        ):
            heads[row.account_number] = (row.last_entry_seq, row.last_entry_hash)
    return heads


def write_chained(
    conn: Connection,
    entry_rows: Sequence[dict[str, object]],
    line_rows: Sequence[dict[str, object]],
    heads: dict[str, tuple[int, str]],
) -> None:
    """Insert ``chain_rows`` output (lines first: inserting an entry seals its lines, ``storage.guards``) and move
    each account's chain head, in one driver-level statement per table."""
    insert_rows(conn, journal_lines, line_rows)
    insert_rows(conn, journal_entries, entry_rows)
    moved = [{"last_entry_seq": s, "last_entry_hash": h, "account_number": a} for a, (s, h) in heads.items()]
    update_rows(conn, customer_accounts, moved, set_=("last_entry_seq", "last_entry_hash"), where=("account_number",))


def post_together(
    conn: Connection, posted: Sequence[tuple[Sequence[Entry], Sequence[tuple[str, dt.date]], int]]
) -> list[tuple[str, int]]:
    """The entries of many operations (each: its entries, their periods, its operation id), chained per account
    from the heads read once and inserted together (lines first, then the entry that seals them): one operation's
    (``post``), or a batch of a bulk task's. Returns the (account, sequence number) of each entry."""
    heads = read_heads(conn, (e.account_number for entries, _, _ in posted for e in entries))
    entry_rows: list[dict[str, object]] = []
    line_rows: list[dict[str, object]] = []
    keys: list[tuple[str, int]] = []
    for entries, periods, operation_id in posted:
        e, ln, k = chain_rows(entries, periods, heads, operation_id)
        entry_rows += e
        line_rows += ln
        keys += k
    write_chained(conn, entry_rows, line_rows, heads)
    return keys


def post(
    conn: Connection, entries: Sequence[Entry], periods: Sequence[tuple[str, dt.date]], operation_id: int
) -> list[tuple[str, int]]:
    """Insert ``entries`` (lines first, then the entry that seals them) and advance each account's chain.

    ``periods`` maps each entry to its period name, in the same order; the caller has already checked that the
    periods are open. Returns the (account, sequence number) of each entry.
    """
    if not entries:
        return []
    return post_together(conn, [(entries, periods, operation_id)])
