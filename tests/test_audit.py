"""The audit trail: accepted operations in ``operations``, refusals in the append-only ``audit_refusals``.

A refusal leaves the books exactly as they were (``dump`` leaves the audit table out) and adds one audit record
naming the actor, the time, the request and the error.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from conftest import db_url, dump, example
from subledger.api import Books
from subledger.context import Context
from subledger.errors import IdempotencyConflict, PermissionDenied, Problems, SubledgerError
from subledger.operations.base import Batch, Operation, run_batch
from subledger.operations.load import LoadResult


def refusals(books: Books) -> list[dict[str, Any]]:
    with books.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_refusals ORDER BY id")).mappings().all()
    return [dict(r) for r in rows]


def bad_code_file(tmp_path: Path) -> Path:
    data = json.loads(example("seed-003-books.json").read_text())
    data["invoices"][0]["items"][0]["financeInformation"]["deferredRevenueAccountingCode"] = "Nope"
    path = tmp_path / "bad-code.json"
    path.write_text(json.dumps(data))
    return path


def test_accepted_operation_is_recorded_with_actor_time_request_and_result(books: Books) -> None:
    before = dt.datetime.now(dt.UTC)
    books.load(example("seed-003-books.json"), idempotency_key="load-1")
    [init, record] = books.audit()
    assert (init.kind, init.actor, init.outcome) == ("init", "admin", "accepted")
    assert record.outcome == "accepted"
    assert (record.kind, record.actor, record.idempotency_key) == ("load", "admin", "load-1")
    assert record.at.replace(tzinfo=record.at.tzinfo or dt.UTC) >= before - dt.timedelta(seconds=1)
    assert [i["invoiceNumber"] for i in record.request["invoices"]] == ["INV00000001", "INV00000002"]
    assert record.result["loaded"] == {"Invoice": 2, "Payment": 1, "accounts": 1}
    assert record.result["journalEntries"] == 4
    assert refusals(books) == []


def test_refusal_writes_nothing_but_its_audit_record(books: Books, tmp_path: Path) -> None:
    before = dump(books.engine)
    with pytest.raises(Problems, match="unknown accounting code 'Nope'"):
        books.load(bad_code_file(tmp_path), idempotency_key="bad-1")
    assert dump(books.engine) == before
    [row] = refusals(books)
    assert row["kind"] == "load"
    assert row["actor"] == "admin"
    assert row["outcome"] == "refused"
    assert row["idempotency_key"] == "bad-1"
    assert row["error_code"] == "invalid-input"
    assert row["document"] == "INV00000001"
    assert row["field"] == "items[0].financeInformation.deferredRevenueAccountingCode"
    assert row["rule"] == (
        "INV00000001, items[0].financeInformation.deferredRevenueAccountingCode: unknown accounting code 'Nope'"
    )
    assert json.loads(row["request"])["invoices"][0]["invoiceNumber"] == "INV00000001"
    [_init, record] = books.audit()
    assert (record.outcome, record.error_code) == ("refused", "invalid-input")


def test_refusal_before_the_operation_starts_is_recorded(books: Books, tmp_path: Path) -> None:
    """A file that does not parse never reaches ``run_operation``; ``audited`` records it with the raw text."""
    bad = tmp_path / "broken.json"
    bad.write_text('{"invoices": [')
    before = dump(books.engine)
    with pytest.raises(SubledgerError, match="malformed JSON"):
        books.load(bad)
    assert dump(books.engine) == before
    [row] = refusals(books)
    assert row["kind"] == "load"
    assert json.loads(row["request"]) == {"args": [{"file": str(bad), "text": '{"invoices": ['}]}
    assert row["rule"].startswith("malformed JSON")


def test_unknown_actor_is_refused_and_recorded_under_that_name(
    books: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "actors.toml").write_text('[actors.clerk]\npermissions = ["Reverse Invoice"]\n')
    books.import_actors(tmp_path / "actors.toml")
    before = dump(books.engine)
    with pytest.raises(PermissionDenied, match="unknown actor 'mallory'"):
        books.as_actor("mallory").load(example("seed-003-books.json"))
    assert dump(books.engine) == before
    [row] = refusals(books)
    assert (row["actor"], row["error_code"]) == ("mallory", "permission-denied")


def test_idempotency_conflict_is_recorded(seed003: Books) -> None:
    seed003.load(example("line-level-books.json"), idempotency_key="k")
    with pytest.raises(IdempotencyConflict):
        seed003.load(example("demo-books.json"), idempotency_key="k")
    [row] = refusals(seed003)
    assert (row["error_code"], row["idempotency_key"], row["field"]) == ("idempotency-conflict", "k", "idempotencyKey")


def test_audit_records_are_append_only(books: Books, tmp_path: Path) -> None:
    with pytest.raises(Problems):
        books.load(bad_code_file(tmp_path))
    for statement in ("UPDATE audit_refusals SET actor = 'nobody'", "DELETE FROM audit_refusals"):
        with pytest.raises(DBAPIError, match="never updated or deleted"), books.engine.begin() as conn:
            conn.execute(text(statement))
    assert len(refusals(books)) == 1


def test_cli_audit_lists_accepted_and_refused(books: Books, cli: Any, tmp_path: Path) -> None:
    db = db_url(books)
    refused = cli("load", str(bad_code_file(tmp_path)), db=db, actor="admin")
    assert refused.code == 1
    assert cli("load", str(example("seed-003-books.json")), db=db).code == 0
    records = cli("audit", "--json", db=db).json()
    assert [(r["outcome"], r["kind"], r["actor"]) for r in records] == [
        ("accepted", "init", "admin"),
        ("refused", "load", "admin"),
        ("accepted", "load", "admin"),
    ]
    assert records[1]["error"].endswith("unknown accounting code 'Nope'")
    only = cli("audit", "--json", "--outcome", "refused", db=db).json()
    assert [r["outcome"] for r in only] == ["refused"]
    table = cli("audit", db=db)
    assert table.code == 0
    assert "refused" in table.out
    assert cli("audit", "--outcome", "maybe", db=db).code == 2


def test_a_batch_document_the_database_refuses_is_audited_once(books: Books) -> None:
    """One document of a batch run one by one, refused by the database itself (here a CHECK constraint):
    one audit record, not one by its operation and another by the batch for the error it is reported as."""

    def named(_: Connection, numbers: Sequence[str]) -> dict[str, Operation]:
        return {n: Operation("test-step", {"n": n}) for n in numbers}

    def refused(ctx: Context, number: str, _: Operation) -> LoadResult:
        ctx.conn.execute(
            text(
                "INSERT INTO audit_refusals (kind, actor, at, request_hash, request, outcome, error_code, rule) "
                "VALUES ('k', 'a', CURRENT_TIMESTAMP, 'h', 'r', 'not an outcome', 'e', 'r')"
            )
        )
        raise AssertionError("unreachable")

    batch = Batch("test-batch", LoadResult, named, refused)
    outcomes = run_batch(books.engine, books.actor, batch, ["X1"], list, request_json="{}")
    assert [o.error is not None and "the database refused it" in str(o.error) for o in outcomes] == [True]
    assert [(r["kind"], r["outcome"]) for r in refusals(books)] == [("test-step", "failed")]
