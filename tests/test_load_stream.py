"""A load file read record by record, loaded in batches, in bounded memory (issue 14, item 12).

A load used to read the whole file, build every model and hold every row and entry until the end: about 46 KB per
invoice (4.65 GB for 100,000). It now reads the file a chunk at a time (``models.loadstream``), validates and hashes
every record first, then loads the sections in batches inside its one transaction. These tests shrink the chunk and
the batch so that small files cross every boundary: the books come out exactly as a whole-file load wrote them, a
number repeated in another batch is still refused, and the memory a load holds does not grow with the file.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from conftest import dump, example, pg_engine
from subledger.api import Books
from subledger.errors import Problems, SubledgerError
from subledger.models import loadstream
from subledger.operations import load as load_module
from subledger.storage.db import make_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the generator of the benchmarks' books
load_file: Callable[..., dict[str, Any]] = importlib.import_module("bench.book").load_file


def small_pieces(monkeypatch: pytest.MonkeyPatch, chunk: int = 7, batch: int = 3) -> None:
    """Read 7 characters at a time and load 3 records per batch: every token and record crosses a boundary."""
    monkeypatch.setattr(loadstream, "CHUNK", chunk)
    monkeypatch.setattr(load_module, "BATCH", batch)


def book_data() -> dict[str, Any]:
    """Accounts, invoices, credit memos applied to invoices, and payments, with sections out of load order."""
    demo = json.loads(example("demo-books.json").read_text())
    generated = load_file(25, first=901)
    return {
        "payments": generated["payments"] + demo["payments"],
        "creditMemos": demo["creditMemos"],
        "invoices": generated["invoices"] + demo["invoices"],
        "accounts": generated["accounts"] + demo["accounts"],
    }


def books_tables(engine: Engine) -> dict[str, Any]:
    """Every table but the operation log (which records the time)."""
    tables = dump(engine)
    tables.pop("operations")
    return tables


@pytest.fixture
def whole(books: Books, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The books the file makes when loaded in one batch and one chunk (a second book on the same engine)."""
    path = tmp_path / "whole.json"
    path.write_text(json.dumps(book_data(), indent=1))
    if books.engine.dialect.name == "postgresql":
        engines = pg_engine()
    else:
        engines = iter([make_engine(f"sqlite:///{tmp_path / 'whole.db'}")])
    other = Books(engine=next(engines))
    other.init()
    other.load(path)
    yield books_tables(other.engine)
    other.engine.dispose()
    for _ in engines:  # PostgreSQL: drop the schema
        pass


def test_a_file_read_in_small_pieces_makes_the_same_books(
    books: Books, whole: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_pieces(monkeypatch)
    path = tmp_path / "books.json"
    path.write_text(json.dumps(book_data(), indent=1))
    result = books.load(path)
    assert result.loaded["Invoice"] == 28
    assert result.loaded["CreditMemo"] == 3
    assert books_tables(books.engine) == whole
    assert books.check().passed
    # Loaded again: every record unchanged, nothing written.
    before = dump(books.engine)
    again = books.load(path)
    assert again.loaded == {}
    assert sum(again.unchanged.values()) == sum(result.loaded.values())
    before.pop("operations")
    assert books_tables(books.engine) == before


def test_a_number_repeated_in_another_batch_is_refused(books: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    small_pieces(monkeypatch)
    data = load_file(9, first=901)
    repeat = copy.deepcopy(data["invoices"][0])
    for item in repeat["items"]:  # other item ids: only the number repeats
        item["id"] += "R"
        for tax in item.get("taxationItems", []):
            tax["id"] += "R"
    data["invoices"].append(repeat)
    before = dump(books.engine)
    with pytest.raises(Problems) as refused:
        books.load(data)
    assert [str(p) for p in refused.value.problems] == [
        f"{repeat['invoiceNumber']}, number: document number appears more than once in the file"
    ]
    assert dump(books.engine) == before


def test_an_account_repeated_in_another_batch_is_refused(books: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    small_pieces(monkeypatch)
    data = load_file(40, first=901)
    data["accounts"].append(dict(data["accounts"][0]))
    with pytest.raises(Problems, match="customer account appears twice in the file"):
        books.load(data)


def test_an_item_id_reused_in_another_batch_is_refused(books: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    small_pieces(monkeypatch)
    data = load_file(9, first=901)
    first_item = data["invoices"][0]["items"][0]["id"]
    data["invoices"][-1]["items"][0]["id"] = first_item
    with pytest.raises(Problems, match=f"item id is already used by document {data['invoices'][0]['invoiceNumber']}"):
        books.load(data)


def test_an_item_id_of_another_account_is_refused(books: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    """Item ids are unique in the book, not only in their customer account: in the same file (another batch) and
    against what an earlier load wrote."""
    small_pieces(monkeypatch)
    data = load_file(30, first=901)  # accounts of 10 invoices each
    taken = data["invoices"][0]["items"][0]["id"]
    other = data["invoices"][-1]
    assert other["accountNumber"] != data["invoices"][0]["accountNumber"]
    other["items"][0]["id"] = taken
    before = dump(books.engine)
    with pytest.raises(Problems) as refused:
        books.load(data)
    assert [str(p) for p in refused.value.problems] == [
        f"{taken}, id: item id is already used by document {data['invoices'][0]['invoiceNumber']}"
    ]
    assert dump(books.engine) == before
    books.load(load_file(10, first=901))
    later = load_file(10, first=2001)
    later["invoices"][0]["items"][0]["id"] = taken
    with pytest.raises(Problems, match=f"item id is already used by document {data['invoices'][0]['invoiceNumber']}"):
        books.load(later)


def test_a_file_changed_after_its_reading_is_loaded_as_it_was_read(
    books: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is read once: the load writes the records that were validated and hashed (spooled), not what the
    file holds by the time the transaction runs."""
    path = tmp_path / "books.json"
    data = load_file(5, first=901)
    original = copy.deepcopy(data)
    path.write_text(json.dumps(data))
    read_load = load_module.read_load

    def read_then_change(source: loadstream.LoadSource) -> load_module.LoadDigest:
        digest = read_load(source)
        data["invoices"][0]["items"][0]["chargeAmount"] = "1.00"
        path.write_text(json.dumps(data))
        return digest

    monkeypatch.setattr("subledger.api.read_load", read_then_change)
    result = books.load(path)
    assert result.loaded["Invoice"] == 5
    monkeypatch.undo()
    # What was written is the original content: loaded again it is unchanged; the changed file is a conflict.
    again = books.load(original)
    assert again.loaded == {}
    assert again.unchanged["Invoice"] == 5
    number = original["invoices"][0]["invoiceNumber"]
    with pytest.raises(SubledgerError, match=f"invoice {number} was already loaded with different content"):
        books.load(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"invoices": [], "accounts": [{}] , }', "malformed JSON: Expecting property name enclosed in double quotes"),
        ('{"invoices": [] "accounts": []}', "malformed JSON: Expecting ',' delimiter at line 1 column 17"),
        ('{"invoices" []}', "malformed JSON: Expecting ':' delimiter at line 1 column 13"),
        ('{"invoices": [1 2]}', "malformed JSON: Expecting ',' delimiter at line 1 column 17"),
        ('{"invoices": []} x', "malformed JSON: Extra data at line 1 column 18"),
        ('{"invoices": [{"a": "xyz', "malformed JSON: Unterminated string starting at line 1 column 21"),
        ('{"invoices": [\n\n  {"a": tru}]}', "malformed JSON: Expecting value at line 3 column 9"),
        ('{"accounts": [], "accounts": []}', "duplicate key 'accounts' in load file at $.accounts"),
        ('{"accounts": [], "debit_memos": [], "debitMemos": []}', "duplicate key 'debitMemos' in load file"),
        ('{"invoices": [{"x": 1, "x": 2}]}', "duplicate key 'x' in load file at $.invoices[0].x"),
        ('{"invoices": [' + "[" * 5000 + "]" * 5000 + "]}", "malformed JSON: nested too deeply"),
        ('{"accounts": [{"name": "\\u0000"}]}', "text in load file at $.accounts[0].name contains a NUL character"),
        ("[]", "the load file must be a JSON object"),
        ("  ", "malformed JSON: the input is empty"),
    ],
)
def test_the_reader_refuses_in_one_line(
    books: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    """Each refusal the same whatever the chunk size (every token split across chunks at 3 characters)."""
    path = tmp_path / "bad.json"
    path.write_text(text)
    for chunk in (3, 1 << 20):
        monkeypatch.setattr(loadstream, "CHUNK", chunk)
        with pytest.raises(SubledgerError) as refused:
            books.load(path)
        assert str(refused.value).startswith(expected), (chunk, str(refused.value))


def test_non_utf8_is_found_where_it_is(books: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loadstream, "CHUNK", 5)
    path = tmp_path / "latin1.json"
    text = '{"accounts": [{"accountNumber": "A1", "name": "Caf\u00e9 \u20ac", "currency": "USD"}]}'
    path.write_bytes(text.replace("\u00e9", "\u00e9").encode().replace("\u00e9".encode(), b"\xe9"))
    offset = path.read_bytes().index(b"\xe9")
    with pytest.raises(SubledgerError, match=f"not UTF-8 text: byte 0xe9 at offset {offset}$"):
        books.load(path)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # a byte-order mark is allowed, even cut by a chunk
    monkeypatch.setattr(loadstream, "CHUNK", 1)
    assert books.load(path).loaded == {"accounts": 1}


def test_a_record_larger_than_the_limit_is_refused(
    books: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loadstream, "CHUNK", 1024)
    monkeypatch.setattr(loadstream, "MAX_RECORD", 4096)
    path = tmp_path / "big.json"
    path.write_text('{"accounts": [{"name": "' + "x" * 100_000 + '"}]}')
    with pytest.raises(SubledgerError, match="a record of the load file is larger than"):
        books.load(path)


def _peak(books: Books, path: Path) -> int:
    tracemalloc.start()
    try:
        books.load(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The peak of Python memory loading 320 invoices is about that of 80 (it was four times as much: every
    record, row and entry of the file was held to the end)."""
    small_pieces(monkeypatch, chunk=16_384, batch=40)
    peaks = []
    for n in (80, 320):
        path = tmp_path / f"load-{n}.json"
        path.write_text(json.dumps(load_file(n, first=1), indent=1))
        books = Books(engine=make_engine(f"sqlite:///{tmp_path / f'{n}.db'}"))
        books.init()
        peaks.append(_peak(books, path))
        books.engine.dispose()
    assert peaks[1] < 1.5 * peaks[0], peaks
