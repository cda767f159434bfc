"""Idempotency keys: the same key and request answer the recorded result and post nothing; another request is refused.

Every write operation takes the key (API parameter, CLI ``--idempotency-key``). Concurrent callers with one key
(PostgreSQL) end with one operation, all answered with its result.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from conftest import db_url, dump, example
from subledger.api import Books
from subledger.errors import IdempotencyConflict
from subledger.operations.base import derived_key
from subledger.storage.schema import journal_entries, operations


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_same_key_same_request_replays_and_posts_nothing(books: Books) -> None:
    first = books.load(example("seed-003-books.json"), idempotency_key="load-seed-003")
    assert first.journal_entries == 4
    before = dump(books.engine)
    again = books.load(example("seed-003-books.json"), idempotency_key="load-seed-003")
    assert again == first  # the recorded result, not "unchanged": the operation did not run again
    assert dump(books.engine) == before


def test_same_key_as_bytes_dict_or_path_is_the_same_request(books: Books) -> None:
    """The key covers the parsed request, not its spelling: a path, its bytes and its dict are one request."""
    path = example("seed-003-books.json")
    first = books.load(path, idempotency_key="k")
    before = dump(books.engine)
    assert books.load(path.read_bytes(), idempotency_key="k") == first
    assert books.load(json.loads(path.read_text()), idempotency_key="k") == first
    assert dump(books.engine) == before


def test_same_key_other_request_is_refused_and_writes_nothing(seed003: Books) -> None:
    seed003.load(example("line-level-books.json"), idempotency_key="k")
    before = dump(seed003.engine)
    with pytest.raises(IdempotencyConflict, match="idempotency key 'k' was used for a different request"):
        seed003.load(example("demo-books.json"), idempotency_key="k")
    assert dump(seed003.engine) == before


def test_without_a_key_a_repeat_is_recognised_by_content(seed003: Books) -> None:
    before_entries = count(seed003.engine, journal_entries)
    again = seed003.load(example("seed-003-books.json"))
    assert again.journal_entries == 0
    assert again.unchanged == {"Invoice": 2, "Payment": 1, "accounts": 1}
    assert count(seed003.engine, journal_entries) == before_entries


def test_cli_idempotency_key(books: Books, cli: Any, tmp_path: Path) -> None:
    db = db_url(books)
    path = str(example("seed-003-books.json"))
    first = cli("load", path, "--idempotency-key", "cli-1", "--json", db=db)
    assert first.code == 0, first.err
    before = dump(books.engine)
    again = cli("load", path, "--idempotency-key", "cli-1", "--json", db=db)
    assert (again.code, again.json()) == (0, first.json() | {"replayed": True})
    assert first.json()["replayed"] is False
    text = cli("load", path, "--idempotency-key", "cli-1", db=db)
    # operation 1 is the book's init
    assert "(a replay of operation 2 with idempotency key cli-1: its recorded result, nothing posted again)" in text.out
    assert dump(books.engine) == before
    other = cli("load", str(example("line-level-books.json")), "--idempotency-key", "cli-1", db=db)
    assert other.code == 1
    assert other.err == ("error: idempotencyKey: idempotency key 'cli-1' was used for a different request (load)\n")
    assert dump(books.engine) == before


def test_derived_keys_name_each_part_of_a_fanned_out_request() -> None:
    assert derived_key("batch-7", "INV00000001") == "batch-7:INV00000001"
    assert derived_key(None, "INV00000001") is None


def test_concurrent_callers_with_one_key_get_one_operation(books: Books) -> None:
    if books.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    data = example("seed-003-books.json").read_bytes()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: books.load(data, idempotency_key="race"), range(16)))
    assert all(r == results[0] for r in results)
    assert results[0].journal_entries == 4
    assert count(books.engine, operations) == 2  # the book's init, then the one load
    assert count(books.engine, journal_entries) == 4
