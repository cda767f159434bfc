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
from subledger.storage.schema import audit_refusals, journal_entries, operations


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


def test_cli_says_replayed_when_a_concurrent_caller_recorded_the_key_first(
    books: Books, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another caller with the same key commits after the command has looked for the key and before its operation
    runs: the command answers the recorded result, and says so (it posted nothing)."""
    from subledger.cli import output

    db = db_url(books)
    path = example("seed-003-books.json")
    looked = output.before

    def then_another_caller(engine: Any, kind: str, document: str | None = None) -> output.Run:
        run = looked(engine, kind, document)
        books.load(path, idempotency_key="race")
        return run

    monkeypatch.setattr(output, "before", then_another_caller)
    result = cli("load", str(path), "--idempotency-key", "race", "--json", db=db)
    assert result.code == 0, result.err
    assert (result.json()["replayed"], result.json()["operationId"]) == (True, 2)
    assert count(books.engine, operations) == 2  # the book's init, then the one load
    assert count(books.engine, journal_entries) == 4


def test_derived_keys_name_each_part_of_a_fanned_out_request() -> None:
    assert derived_key("batch-7", "INV00000001") == "batch-7:INV00000001"
    assert derived_key(None, "INV00000001") is None
    # Wider than the books record: by its digest, the same every time (a retry finds its parts).
    wide = derived_key("k" * 250, "INV00000001", "3")
    assert wide == derived_key("k" * 250, "INV00000001", "3")
    assert wide is not None
    assert (wide[:7], len(wide)) == ("sha256:", 71)


def test_an_empty_or_too_long_key_is_refused_in_one_line(books: Books, cli: Any) -> None:
    """An unset shell variable (``--idempotency-key "$KEY"``) was a key like any other, refusing every later write
    as a different request; a 256-character one fit SQLite and failed PostgreSQL's column without naming the key.
    Both are refused on either engine, nothing written, each refusal audited without the key."""
    db = db_url(books)
    path = str(example("seed-003-books.json"))
    before = dump(books.engine)
    for key in ("", "k" * 256):
        result = cli("load", path, "--idempotency-key", key, db=db)
        assert (result.code, result.err) == (1, "error: idempotencyKey: an idempotency key is 1 to 255 characters\n")
    assert dump(books.engine) == before
    with books.engine.connect() as conn:
        audited = conn.execute(select(audit_refusals.c.kind, audit_refusals.c.idempotency_key)).all()
    assert [tuple(r) for r in audited] == [("load", None), ("load", None)]
    assert cli("load", path, "--idempotency-key", "k" * 255, db=db).code == 0


def test_concurrent_callers_with_one_key_get_one_operation(books: Books) -> None:
    # SQLite runs one writer at a time, but each caller looks for the key before it waits for the write lock: a
    # caller that waited behind the first must replay it, not fail on the key the first recorded.
    data = example("seed-003-books.json").read_bytes()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: books.load(data, idempotency_key="race"), range(16)))
    assert all(r == results[0] for r in results)
    assert results[0].journal_entries == 4
    assert count(books.engine, operations) == 2  # the book's init, then the one load
    assert count(books.engine, journal_entries) == 4
