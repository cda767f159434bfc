"""Every stored field of a journal entry and its lines is under the hash chain (version 2), and books hashed under
version 1 keep verifying (both engines).

The edits are made with the journal's update guard switched off, as only a tampered database could hold them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from conftest import ENTRY_UPDATES, LINE_UPDATES, failing, post_entry, raw, rechain, unguarded
from subledger import canonical
from subledger.api import Books
from subledger.posting import Line

ALTERED = "A00000001-1|hash|its content no longer matches its hash (altered)"
FIRST = "account_number = 'A00000001' AND seq = 1"
FIRST_LINE = "account_number = 'A00000001' AND entry_seq = 1 AND line_no = 1"

#: Edits of the first entry of A00000001 (or of its first line) that version 1 of the chain did not see.
EDITS = {
    "description": f"UPDATE journal_entries SET description = 'rewritten' WHERE {FIRST}",
    "tag": f"UPDATE journal_entries SET tag = 'payment' WHERE {FIRST}",
    "operation": f"UPDATE journal_entries SET operation_id = (SELECT max(id) FROM operations) WHERE {FIRST}",
    "no related document -> empty": f"UPDATE journal_entries SET related_number = '' WHERE {FIRST}",
    "line number": f"UPDATE journal_lines SET line_no = 9 WHERE {FIRST_LINE}",
    "line currency": f"UPDATE journal_lines SET currency = 'EUR' WHERE {FIRST_LINE}",
    "no item -> empty": "UPDATE journal_lines SET item_id = '' WHERE account_number = 'A00000001' AND item_id IS NULL "
    "AND entry_seq = (SELECT min(entry_seq) FROM journal_lines WHERE account_number = 'A00000001' AND item_id IS NULL)",
}


def _edit(books: Books, sql: str) -> None:
    with raw(books) as conn, unguarded(conn, LINE_UPDATES), unguarded(conn, ENTRY_UPDATES):
        assert conn.execute(text(sql)).rowcount >= 1


@pytest.mark.parametrize("edit", list(EDITS))
def test_editing_any_stored_field_of_a_posted_entry_breaks_the_chain(seed003: Books, edit: str) -> None:
    seed003.write_off_invoice("INV00000002", {"memoDate": "2026-10-25"})  # a second operation to point at
    with seed003.engine.connect() as conn:
        assert conn.execute(text(f"SELECT hash_version FROM journal_entries WHERE {FIRST}")).scalar_one() == 2
        assert (
            conn.execute(text("SELECT max(id) FROM operations")).scalar_one()
            != conn.execute(text(f"SELECT operation_id FROM journal_entries WHERE {FIRST}")).scalar_one()
        )
    assert seed003.check().passed
    with seed003.engine.connect() as conn:
        seq = conn.execute(
            text("SELECT min(entry_seq) FROM journal_lines WHERE account_number = 'A00000001' AND item_id IS NULL")
        ).scalar_one()
    _edit(seed003, EDITS[edit])
    altered = f"A00000001-{seq if 'item' in edit else 1}|hash|its content no longer matches its hash (altered)"
    assert altered in failing(seed003.check())["hash-chain"]


@pytest.fixture
def old_book(seed003: Books) -> Books:
    """seed003 as a book posted before every field was hashed: each entry hashed under version 1."""
    with raw(seed003) as conn, unguarded(conn, ENTRY_UPDATES):
        rechain(conn, canonical.V1)
    return seed003


def _versions(books: Books) -> list[Any]:
    with books.engine.connect() as conn:
        return list(conn.execute(text("SELECT DISTINCT hash_version FROM journal_entries ORDER BY 1")).scalars())


def test_a_book_hashed_under_version_1_verifies_and_new_entries_chain_on_under_version_2(old_book: Books) -> None:
    assert _versions(old_book) == [1]
    report = old_book.check()
    assert report.passed, failing(report)
    # What version 1 covered is still covered.
    with raw(old_book) as conn, unguarded(conn, LINE_UPDATES):
        item = conn.execute(text(f"SELECT item_id FROM journal_lines WHERE {FIRST_LINE}")).scalar_one()
        conn.execute(text(f"UPDATE journal_lines SET item_id = 'x' WHERE {FIRST_LINE}"))
    assert ALTERED in failing(old_book.check())["hash-chain"]
    with raw(old_book) as conn, unguarded(conn, LINE_UPDATES):
        conn.execute(text(f"UPDATE journal_lines SET item_id = :item WHERE {FIRST_LINE}"), {"item": item})
    assert old_book.check().passed
    # A new operation chains its entries on, under the current version.
    old_book.write_off_invoice("INV00000002", {"memoDate": "2026-10-25"})
    assert _versions(old_book) == [1, 2]
    report = old_book.check()
    assert report.passed, failing(report)
    with old_book.engine.connect() as conn:
        last = conn.execute(
            text("SELECT seq FROM journal_entries WHERE hash_version = 2 AND account_number = 'A00000001'")
        ).scalars()
        seq = max(last)
    _edit(old_book, f"UPDATE journal_entries SET description = 'x' WHERE account_number = 'A00000001' AND seq = {seq}")
    assert (
        f"A00000001-{seq}|hash|its content no longer matches its hash (altered)"
        in (failing(old_book.check())["hash-chain"])
    )


def test_an_entry_cannot_be_given_back_the_older_text(seed003: Books) -> None:
    """Version 1 leaves the description out: an entry posted after one of version 2 cannot be of version 1."""
    _edit(seed003, "UPDATE journal_entries SET hash_version = 1 WHERE account_number = 'A00000001' AND seq = 2")
    found = failing(seed003.check())["hash-chain"]
    assert found[:2] == [
        "A00000001-2|hashVersion|hashed under version 1 after version 2",
        "A00000001-2|hash|its content no longer matches its hash (altered)",
    ]
    _edit(seed003, f"UPDATE journal_entries SET hash_version = 7 WHERE {FIRST}")
    assert (
        "A00000001-1|hashVersion|hashed under version 7, which does not exist"
        in (failing(seed003.check())["hash-chain"])
    )


LINE_DELETES = ("journal_lines", "journal_lines_immutable", "journal_lines_no_delete")


def test_a_line_folded_into_the_one_before_is_caught(seed003: Books) -> None:
    """The database writes each line's plain text; a field holding a whole line after the separator would give the
    same joined text with one line fewer. The pass takes the database's text only when it is plain lines, one per
    line counted, so the entry is hashed from its stored values and reported."""
    with seed003.engine.connect() as conn:
        sql = canonical.line_sql(canonical.V2, conn.dialect.name, ())
        found = conn.execute(
            text(
                f"SELECT a.entry_seq, a.item_id, (SELECT {sql} FROM journal_lines l WHERE l.account_number = "
                "a.account_number AND l.entry_seq = a.entry_seq AND l.line_no = 2) FROM journal_lines a "
                "WHERE a.account_number = 'A00000001' AND a.line_no = 1 AND a.item_id IS NOT NULL AND EXISTS "
                "(SELECT 1 FROM journal_lines b WHERE b.account_number = a.account_number AND "
                "b.entry_seq = a.entry_seq AND b.line_no = 2) ORDER BY a.entry_seq"
            )
        ).first()
    assert found is not None
    seq, item, second = found
    where = f"account_number = 'A00000001' AND entry_seq = {seq}"
    with raw(seed003) as conn, unguarded(conn, LINE_DELETES), unguarded(conn, LINE_UPDATES):
        conn.execute(text(f"DELETE FROM journal_lines WHERE {where} AND line_no = 2"))
        conn.execute(
            text(f"UPDATE journal_lines SET item_id = :item WHERE {where} AND line_no = 1"),
            {"item": f"{item}{canonical.SEPARATOR}{second}"},
        )
    assert (
        f"A00000001-{seq}|hash|its content no longer matches its hash (altered)"
        in (failing(seed003.check())["hash-chain"])
    )


def test_an_entry_whose_fields_hold_the_separators_verifies(seed003: Books) -> None:
    """Such an entry (an item id or description holding ``|`` or the separator) is hashed in its other form, from
    its stored values, and still verifies; edited, it is reported."""
    with raw(seed003) as conn:
        post_entry(
            conn,
            "2026-10-31",
            "2026-10",
            [
                Line("Cash", Decimal("5.00"), Decimal(0), "a|b"),
                Line("Other Revenue", Decimal(0), Decimal("5.00"), "c\x1fd"),
            ],
        )
    report = seed003.check()
    assert report.passed, failing(report)
    with seed003.engine.connect() as conn:
        seq = conn.execute(text("SELECT max(seq) FROM journal_entries WHERE account_number = 'A00000001'")).scalar_one()
    _edit(
        seed003,
        f"UPDATE journal_lines SET item_id = 'a|c' WHERE account_number = 'A00000001' AND entry_seq = {seq} "
        "AND line_no = 1",
    )
    assert (
        f"A00000001-{seq}|hash|its content no longer matches its hash (altered)"
        in (failing(seed003.check())["hash-chain"])
    )


def test_a_book_of_migration_0004_upgrades_to_hash_version_1_and_verifies(seed003: Books) -> None:
    """A book posted before migration 0006 (its entries hashed under version 1, no hash_version column) upgrades:
    every entry reads as version 1, the chain verifies, and the REPLACE guard is in place."""
    from alembic import command

    from subledger.storage.migrate import config, upgrade

    with raw(seed003) as conn, unguarded(conn, ENTRY_UPDATES):
        rechain(conn, canonical.V1)
    with seed003.engine.begin() as conn:
        command.downgrade(config(conn), "0004")
    with seed003.engine.connect() as conn:
        assert "hash_version" not in {c["name"] for c in inspect(conn).get_columns("journal_entries")}
    with seed003.engine.begin() as conn:
        upgrade(conn)
    assert _versions(seed003) == [1]
    report = seed003.check()
    assert report.passed, failing(report)
    with pytest.raises(DBAPIError, match="never updated or deleted"), seed003.engine.begin() as conn:
        conn.execute(text(f"UPDATE journal_entries SET description = 'x' WHERE {FIRST}"))
    if seed003.engine.dialect.name == "sqlite":
        with pytest.raises(DBAPIError, match="cannot be replaced"), seed003.engine.begin() as conn:
            conn.execute(text(f"REPLACE INTO journal_entries SELECT * FROM journal_entries WHERE {FIRST}"))
