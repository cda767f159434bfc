"""The bound that keeps every sum of money exact on SQLite.

SQLite stores money as a 64-bit count of ten-thousandths (``storage.types``), and its ``sum()`` fails with
"integer overflow" beyond 9.2e18, that is 922 trillion units of currency. A single amount is bounded at input
(``money.MAX_INTEGER_DIGITS``); what remains is the size of the whole book: every sum a command computes (a
document's lines, an account's receivable, a code's balance over all time) is a sum of amounts that were posted,
so it is bounded by the total of every journal debit the book holds, and debits equal credits. SQLite keeps that
total (``money_bound``, approximate in a REAL: it is a bound, not an amount) and refuses the entry that would take
it past ``money.SQLITE_BOOK_LIMIT``, which leaves room for a sum of debits and credits together. PostgreSQL stores
NUMERIC and sums without bound, so it has neither the table nor the limit.

The table and its trigger are installed, frozen, by migration 0005; a change of the bound adds a migration.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from subledger.money import SQLITE_BOOK_LIMIT

#: Prefix of the message SQLite raises, so the operation can report it in the user's terms.
MARK = "subledger-limit: "
MESSAGE = (
    "the book would hold more than {limit} in journal debits, the most SQLite can sum exactly "
    "(a book this size belongs on PostgreSQL)"
)


def over_limit(exc: BaseException) -> str | None:
    """The user's message when ``exc`` is SQLite refusing an entry past the book's limit, else None.

    One entry alone can be past it (a thousand lines at the largest amount): SQLite's own ``sum()`` in the journal
    guards then fails with "integer overflow" before the bound is looked at; that is the same refusal."""
    text = str(exc.orig if isinstance(exc, DBAPIError) else exc)
    start = text.find(MARK)
    if start >= 0:
        return text[start + len(MARK) :].splitlines()[0]
    if text.startswith("integer overflow"):
        return MESSAGE.format(limit=f"{SQLITE_BOOK_LIMIT:,}")
    return None
