"""The fast paths of issue 8 give exactly what the plain paths give: money text, stored amounts, bulk updates, GC."""

from __future__ import annotations

import gc
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import func, select

from conftest import example
from subledger.api import Books
from subledger.canonical import driver_amount_text
from subledger.models.documents import LoadFile
from subledger.models.loadstream import load_source
from subledger.money import fmt
from subledger.operations import base as operation_base
from subledger.operations.base import canonical_json
from subledger.operations.load import read_load
from subledger.storage import db
from subledger.storage.bulk import gc_paused, update_rows
from subledger.storage.db import BULK_CACHE_KIB, make_engine, refresh_statistics, write_transaction
from subledger.storage.schema import audit_refusals, document_items, taxation_items
from subledger.storage.types import from_scaled, to_scaled

AMOUNTS = ["0", "-0", "0.01", "-0.01", "0.5", "-0.5", "1", "-1", "12.34", "-12.34", "1000000.07", "-99999999.99"]


@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY", "BHD", "CLF"])
def test_export_prints_stored_integers_as_fmt_does(currency: str) -> None:
    scaled, decimal = driver_amount_text("sqlite", currency), driver_amount_text("postgresql", currency)
    for text in [*AMOUNTS, "0.0001", "-0.0049", "2.5", "3.5", "123.4567"]:
        amount = Decimal(text)
        stored = to_scaled(amount)
        assert scaled(stored) == fmt(amount, currency), (text, currency)
        assert decimal(amount) == fmt(amount, currency), (text, currency)


def test_stored_amounts_round_trip_and_refuse_extra_decimals() -> None:
    for text in [*AMOUNTS, "123456789012345678901234.5678"]:
        assert from_scaled(to_scaled(Decimal(text))) == Decimal(text)
    assert to_scaled(7) == 70_000
    with pytest.raises(ValueError, match="more than 4 decimals"):
        to_scaled(Decimal("0.00001"))
    with pytest.raises(TypeError, match="money must be Decimal or int"):
        to_scaled(1.5)
    with pytest.raises(TypeError):
        to_scaled(True)


def test_gc_paused_nests_across_threads_and_restores_the_collector() -> None:
    assert gc.isenabled()
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gc_paused():
            entered.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    with gc_paused():
        worker.start()
        entered.wait(5)
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread still holds it
    release.set()
    worker.join()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_update_rows_sets_each_line_found_by_its_key(line_level: Books) -> None:
    with line_level.engine.begin() as conn:
        for table in (document_items, taxation_items):
            lines = conn.execute(select(table.c.account_number, table.c.id).order_by(table.c.id)).all()
            moved = [
                {"balance": Decimal(n) / 100 - 1, "account_number": account, "id": line_id}
                for n, (account, line_id) in enumerate(lines)
            ]
            update_rows(conn, table, moved, set_=("balance",), where=("account_number", "id"))
    with line_level.engine.connect() as conn:
        items = conn.execute(select(document_items.c.id, document_items.c.balance).order_by("id")).all()
        taxes = conn.execute(select(taxation_items.c.id, taxation_items.c.balance).order_by("id")).all()
    # Each line got its own figure, found by (account, id) alone: sorted by id they count up from -1.00.
    for lines in (items, taxes):
        assert [b for _, b in lines] == [Decimal(n) / 100 - 1 for n in range(len(lines))]
    assert ("II-0101", Decimal("-0.96")) in items
    assert len(items) == 7
    assert len(taxes) == 7


@pytest.mark.parametrize("name", ["seed-003-books.json", "demo-books.json", "line-level-books.json"])
def test_load_request_text_is_canonical_json_of_the_file(name: str) -> None:
    """The recorded request (and so its hash, which idempotency compares) of a file read record by record is what
    it was when the file was read whole: the canonical JSON of the file (under ``MAX_RAW_REQUEST``)."""
    file = LoadFile.model_validate_json(example(name).read_bytes())
    digest = read_load(load_source(example(name)))
    assert digest.request_json == canonical_json(file)
    assert read_load(load_source(file)).request_json == canonical_json(file)


def _analyzed(books: Books) -> bool:
    """Whether PostgreSQL's planner has statistics of the journal lines."""
    with books.engine.connect() as conn:
        tuples = conn.execute(
            sqlalchemy.text(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(current_schema() || '.journal_lines')"
            )
        ).scalar_one()
    return bool(tuples >= 0)  # -1: never analyzed


@pytest.mark.parametrize("threshold", [1, 10**9])
def test_a_large_load_refreshes_the_planner_statistics(
    books: Books, monkeypatch: pytest.MonkeyPatch, threshold: int
) -> None:
    """A load of at least ``ANALYZE_FROM`` records analyzes the tables it wrote, a smaller one does not (autovacuum
    would not either: the example's few dozen lines are below its threshold of 50 changed rows)."""
    if books.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's planner keeps no statistics")
    monkeypatch.setattr(operation_base, "ANALYZE_FROM", threshold)  # where run_bulk reads it
    result = books.load(example("seed-003-books.json"))
    assert sum(result.loaded.values()) > 1
    assert _analyzed(books) is (threshold == 1)
    assert books.check().passed


def test_statistics_that_cannot_be_refreshed_do_not_fail_the_task(books: Books) -> None:
    """The task has committed when its statistics are refreshed: a failure there is not raised."""
    missing = sqlalchemy.Table("no_such_table", sqlalchemy.MetaData())
    assert refresh_statistics(books.engine, [missing]) is False
    assert refresh_statistics(books.engine, [document_items]) is (books.engine.dialect.name == "postgresql")


def test_bulk_transaction_page_cache_is_given_back(tmp_path: Path) -> None:
    """A bulk transaction runs with SQLite's larger page cache and leaves the connection with the one it had."""
    books = Books(engine=make_engine(f"sqlite:///{tmp_path / 'cache.db'}"))
    books.init()
    seen: list[int] = []

    def body(conn: sqlalchemy.Connection) -> None:
        seen.append(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())

    with books.engine.connect() as conn:
        before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    with write_transaction(books.engine, bulk=True) as conn:
        body(conn)
    with write_transaction(books.engine) as conn:
        body(conn)
    assert seen == [-BULK_CACHE_KIB, before]
    result = books.load(example("seed-003-books.json"))
    assert result.loaded
    with books.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == before


def interrupt_first_commit(engine: sqlalchemy.Engine) -> sqlalchemy.Engine:
    """Ctrl-C pressed while the engine's next commit runs: the commit is done, the interrupt raised as it returns."""
    real = engine.dialect.do_commit
    pending = [True]

    def commit(connection: Any) -> None:
        real(connection)
        if pending:
            pending.clear()
            raise KeyboardInterrupt

    engine.dialect.do_commit = commit  # type: ignore[method-assign,assignment]
    return engine


def test_ctrl_c_as_a_bulk_load_commits_is_not_told_as_a_refusal(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C landing while SQLite commits a load makes SQLAlchemy invalidate the connection. Giving the page cache
    back on that closed connection raised ``ProgrammingError`` in place of the interrupt: the load, committed, was
    recorded as a refusal and the user told ``cannot open the database``, exit 1 (refused, nothing written). The
    interrupt is what goes on: exit 130, and a second run finds the load done."""
    url = f"sqlite:///{tmp_path / 'interrupted.db'}"
    books = Books(engine=make_engine(url))
    books.init()
    interrupt_first_commit(books.engine)
    with pytest.raises(KeyboardInterrupt):
        books.load(example("seed-003-books.json"))
    with books.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_refusals)).scalar_one() == 0
    books.engine.dispose()

    made = db.make_engine
    monkeypatch.setattr(db, "make_engine", lambda *args, **kwargs: interrupt_first_commit(made(*args, **kwargs)))
    interrupted = cli("load", str(example("line-level-books.json")), db=url)
    assert (interrupted.code, interrupted.err) == (130, "")
    monkeypatch.setattr(db, "make_engine", made)
    again = cli("load", str(example("line-level-books.json")), db=url)
    assert again.code == 0, again.err
    assert "0 journal entries posted." in again.out
    assert "failed" not in cli("audit", db=url).out
