"""Each canonical text equals its SQL twin (and the driver's printed amount equals ``money.fmt``), on both engines.

Hypothesis writes journal lines and entries of any shape the columns hold (codes, accounts, item ids of any
characters, amounts of every precision up to the stored one, currencies of 0 to 4 decimals) in a transaction that
is rolled back, asks the database for each text, and compares it with the Python function's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, insert, text

from subledger.api import DEFAULT_CHART, Books
from subledger.canonical import (
    SEPARATOR,
    V1,
    V2,
    amount_text,
    driver_amount_text,
    line_sql,
    line_text,
    plain_lines,
    posting_text,
    postings_sql,
)
from subledger.chart import load_chart
from subledger.money import quantize
from subledger.plugins import closed_periods as plugin
from subledger.storage.cursor import driver_rows
from subledger.storage.schema import accounting_codes, journal_entries, journal_lines, operations

#: Minor units 2, 0, 3, 4 and 2.
CURRENCIES = ("USD", "JPY", "BHD", "CLF", "EUR")
PROPERTY = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

#: Any text a column can hold on both engines (PostgreSQL refuses NUL; surrogates are not text).
TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=24)
NAME = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=24)
#: Texts often made of what the chain's plain lines are made of.
TEXT = TEXT | st.text(st.sampled_from("ab|\x1f/-#:1"), max_size=6)
NAME = NAME | st.text(st.sampled_from("ab|\x1f/-#:1"), min_size=1, max_size=6)


@st.composite
def amounts(draw: st.DrawFn, currency: str) -> Decimal:
    """A stored amount: usually a whole number of the currency's minor units, sometimes any ten-thousandth."""
    value = Decimal(draw(st.integers(min_value=1, max_value=10**15))).scaleb(-4)
    return quantize(value, currency) if draw(st.booleans()) and value >= 1 else value


@dataclass(frozen=True)
class Posted:
    account: str
    seq: int
    day: dt.date
    currency: str
    amount: Decimal
    debit_code: str
    credit_code: str
    debit_item: str | None
    credit_item: str | None


#: The code names and accounts of the book under test (the default chart), unique in ``accounting_codes``: a drawn
#: code may not repeat one (hypothesis draws literals it finds in the code, "Deferred Revenue" among them).
_CHARTED = {text for code in load_chart(DEFAULT_CHART).codes.values() for text in (code.name, code.account)}
_NEW_NAME = NAME.filter(lambda name: name not in _CHARTED)


@st.composite
def journals(draw: st.DrawFn) -> tuple[dict[str, str], list[Posted]]:
    """Accounting codes (name -> Beancount account), none of the book's, and balanced two-line entries using them."""
    names = draw(st.lists(_NEW_NAME, min_size=2, max_size=4, unique=True))
    accounts = draw(st.lists(_NEW_NAME, min_size=len(names), max_size=len(names), unique=True))
    codes = dict(zip(names, accounts, strict=True))
    keys = draw(
        st.lists(st.tuples(NAME, st.integers(min_value=1, max_value=2**31 - 1)), min_size=1, max_size=6, unique=True)
    )
    posted = []
    for account, seq in keys:
        currency = draw(st.sampled_from(CURRENCIES))
        debit_code, credit_code = draw(st.permutations(names))[:2]
        posted.append(
            Posted(
                account,
                seq,
                draw(st.dates(min_value=dt.date(1000, 1, 1))),
                currency,
                draw(amounts(currency)),
                debit_code,
                credit_code,
                draw(st.none() | TEXT),
                draw(st.none() | TEXT),
            )
        )
    return codes, posted


def _write(conn: Connection, codes: dict[str, str], posted: list[Posted]) -> None:
    conn.execute(
        insert(accounting_codes),
        [
            {
                "name": name,
                "number": f"T{n}",
                "type": "Revenue",
                "account": account,
                "currencies": ",".join(CURRENCIES),
                "active": True,
                "is_default": False,
            }
            for n, (name, account) in enumerate(codes.items())
        ],
    )
    operation = conn.execute(
        insert(operations)
        .values(kind="test", actor="test", request_hash="", request="{}", status="accepted", at=dt.datetime.now(dt.UTC))
        .returning(operations.c.id)
    ).scalar_one()
    for p in posted:
        line = {"account_number": p.account, "entry_seq": p.seq, "currency": p.currency}
        conn.execute(
            insert(journal_lines),
            [
                {**line, "line_no": 1, "accounting_code": p.debit_code, "debit": p.amount, "credit": Decimal(0)}
                | {"item_id": p.debit_item},
                {**line, "line_no": 2, "accounting_code": p.credit_code, "debit": Decimal(0), "credit": p.amount}
                | {"item_id": p.credit_item},
            ],
        )
        conn.execute(
            insert(journal_entries).values(
                account_number=p.account,
                seq=p.seq,
                entry_date=p.day,
                period="2026-10",
                transaction_type="t",
                currency=p.currency,
                document_number="d",
                tag="t",
                description="d",
                operation_id=operation,
                prev_hash="",
                hash="",
            )
        )


def _lines(p: Posted) -> list[dict[str, Any]]:
    return [
        {
            "line_no": 1,
            "accounting_code": p.debit_code,
            "debit": p.amount,
            "credit": Decimal(0),
            "item_id": p.debit_item,
        },
        {
            "line_no": 2,
            "accounting_code": p.credit_code,
            "debit": Decimal(0),
            "credit": p.amount,
            "item_id": p.credit_item,
        },
    ]


@contextmanager
def written(books: Books, journal: tuple[dict[str, str], list[Posted]]) -> Iterator[Connection]:
    """A connection seeing ``journal`` written, in a transaction rolled back after."""
    with books.engine.connect() as conn:
        conn.begin()
        try:
            _write(conn, *journal)
            yield conn
        finally:
            conn.rollback()


@PROPERTY
@given(journals())
def test_each_chain_line_text_equals_its_sql(books: Books, journal: tuple[dict[str, str], list[Posted]]) -> None:
    with written(books, journal) as conn:
        for version in (V1, V2):
            sql = line_sql(version, conn.dialect.name, CURRENCIES)
            got = {
                (account, seq, line_no): line
                for account, seq, line_no, line in conn.execute(
                    text(f"SELECT l.account_number, l.entry_seq, l.line_no, {sql} FROM journal_lines l")
                )
            }
            expected = {
                (p.account, p.seq, line["line_no"]): line_text(version, currency=p.currency, **line)
                for p in journal[1]
                for line in _lines(p)
            }
            assert got.keys() == expected.keys()
            for key, line in got.items():
                if version == V1 or plain_lines(expected[key], 1):
                    assert line == expected[key]
                else:  # a field holds a "|" or the separator: the database's text says it is not the canonical one
                    assert expected[key].startswith("#")
                    assert not plain_lines(line, 1)


@PROPERTY
@given(journals())
def test_the_database_lines_of_an_entry_are_plain_exactly_when_python_writes_them_plain(
    books: Books, journal: tuple[dict[str, str], list[Posted]]
) -> None:
    """Over an entry's lines joined as the journal pass joins them: ``plain_lines`` accepts the database's text
    exactly when it is the canonical one."""
    with written(books, journal) as conn:
        sql = line_sql(V2, conn.dialect.name, CURRENCIES)
        rows = conn.execute(
            text(f"SELECT l.account_number, l.entry_seq, {sql} FROM journal_lines l ORDER BY 1, 2, l.line_no")
        ).all()
    for p in journal[1]:
        database = SEPARATOR.join(line for account, seq, line in rows if (account, seq) == (p.account, p.seq))
        canonical = SEPARATOR.join(line_text(V2, currency=p.currency, **line) for line in _lines(p))
        assert plain_lines(database, 2) == (database == canonical)


@PROPERTY
@given(journals())
def test_the_fingerprint_posting_text_equals_its_sql(
    books: Books, journal: tuple[dict[str, str], list[Posted]]
) -> None:
    codes, posted = journal
    with written(books, journal) as conn:
        params = {"start": "0001-01-01", "end": "9999-12-31"}
        got = [line for (line,) in driver_rows(conn, postings_sql(conn.dialect.name), params)]
    postings = [
        (p.day, f"{p.account}-{p.seq}", codes[code], sign * p.amount, p.currency)
        for p in posted
        for code, sign in ((p.debit_code, 1), (p.credit_code, -1))
    ]
    assert got == sorted(posting_text(*posting) for posting in postings)
    # The plugin's copy, which a ledger carries to machines without subledger, says the same.
    assert [plugin.posting_line(*posting) for posting in postings] == [posting_text(*p) for p in postings]


@PROPERTY
@given(journals())
def test_the_printed_amount_from_the_driver_equals_money_fmt(
    books: Books, journal: tuple[dict[str, str], list[Posted]]
) -> None:
    """What the ledger export prints from the driver's value of debit minus credit, without a Decimal."""
    sql = "SELECT account_number, entry_seq, line_no, debit - credit, currency FROM journal_lines"
    with written(books, journal) as conn:
        dialect = conn.dialect.name
        rows = list(driver_rows(conn, sql, None))
    amounts = {(p.account, p.seq, n): sign * p.amount for p in journal[1] for n, sign in ((1, 1), (2, -1))}
    assert len(rows) == len(amounts)
    for account, seq, line_no, raw, currency in rows:
        amount = amounts[(account, seq, line_no)]
        assert driver_amount_text(dialect, currency)(raw) == amount_text(amount, currency)
