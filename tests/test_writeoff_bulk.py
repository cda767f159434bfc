"""Bulk write-off: one settings body over many documents, each its own operation; refusals reported, not fatal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from conftest import db_url, dump, example
from subledger.api import Books
from subledger.errors import IdempotencyConflict, PermissionDenied, Problems
from subledger.models.adjustments import AdjustmentWriteOffReport
from subledger.models.documents import CreditMemo, DebitMemo
from subledger.models.writeoff import BulkWriteOffResult
from subledger.operations import base
from subledger.operations.base import canonical_json
from subledger.settings import BookSettings
from subledger.storage.schema import documents, operations

SETTINGS = {"memoDate": "2026-11-16", "reasonCode": "Write-off", "comment": "Month-end"}
NON_REVENUE = {**SETTINGS, "revenueImpacting": "No", "nonRevenueWriteOffAccountingCode": "Bad Debt Expense"}


@pytest.fixture
def both(seed003: Books) -> Books:
    seed003.load(example("line-level-books.json"))
    return seed003


def report(result: Any) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    assert isinstance(result, BulkWriteOffResult)
    return (
        [(w.document, w.memo, w.amount) for w in result.written_off],
        [(f.document, f.rule) for f in result.failed],
    )


def test_bulk_writes_off_each_document_and_reports_each_refusal(both: Books) -> None:
    seen: list[tuple[int, int]] = []
    result = both.write_off_bulk(
        {"documents": ["INV00000001", "NOPE", "INV00000002", "CM00000001", "INV00000010", "DM00000002"],
         "settings": NON_REVENUE},
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    written, failed = report(result)
    assert written == [
        ("INV00000001", "WO-INV00000001-1", "430.00"),
        ("INV00000002", "WO-INV00000002-1", "280.00"),
        ("INV00000010", "WO-INV00000010-1", "313.25"),
        ("DM00000002", "WO-DM00000002-1", "25.00"),
    ]
    assert failed == [("NOPE", "no invoice or debit memo NOPE"), ("CM00000001", "no invoice or debit memo CM00000001")]
    assert seen[-1] == (6, 6)
    # Each document written off is its own operation, and its memo posts like a single write-off's.
    with both.engine.connect() as conn:
        kinds = conn.execute(
            select(operations.c.document_number, operations.c.kind).where(operations.c.kind.like("write-off-%"))
        ).all()
    assert sorted(kinds) == [
        ("DM00000002", "write-off-debit-memo"),
        ("INV00000001", "write-off-invoice"),
        ("INV00000002", "write-off-invoice"),
        ("INV00000010", "write-off-invoice"),
    ]
    assert both.show("invoice", "INV00000002")["balance"] == "0.00"
    memo = both.show("credit-memo", "WO-INV00000010-1")
    assert (memo["revenueImpacting"], memo["nonRevenueWriteOffAccountingCode"]) == ("No", "Bad Debt Expense")
    charge = [e for e in both.journal(document="WO-INV00000001-1") if e.transaction_type.endswith("(Charge)")]
    assert [(ln.accounting_code, ln.debit, ln.credit) for ln in charge[0].lines] == [
        ("Bad Debt Expense", "330.00", "0.00"),
        ("Credit Memo On-Account", "0.00", "330.00"),
        ("Bad Debt Expense", "100.00", "0.00"),
        ("Credit Memo On-Account", "0.00", "100.00"),
    ]


def test_bulk_matches_single_write_offs_row_for_row(engine: Any, tmp_path: Path) -> None:
    """The batched path writes what one write-off at a time writes (operation ids aside)."""
    single = Books(engine=engine)
    single.init()
    single.load(example("line-level-books.json"))
    single.write_off_invoice("INV00000010", NON_REVENUE)
    bulk_engine = Books(f"sqlite:///{tmp_path / 'bulk.db'}")
    bulk_engine.init()
    bulk_engine.load(example("line-level-books.json"))
    bulk_engine.write_off_bulk(documents=["INV00000010"], settings=NON_REVENUE)
    for book in (single, bulk_engine):
        assert book.show("credit-memo", "WO-INV00000010-1")["amount"] == "313.25"

    def strip(b: Books) -> list[tuple[object, ...]]:
        return [
            (e.date, e.transaction_type, [(ln.accounting_code, ln.debit, ln.credit, ln.item_id) for ln in e.lines])
            for e in b.journal(document="WO-INV00000010-1")
        ]

    assert strip(single) == strip(bulk_engine)
    assert single.show("credit-memo", "WO-INV00000010-1") == bulk_engine.show("credit-memo", "WO-INV00000010-1")


def test_bulk_filter_open_invoices_of_an_account_and_older_than(both: Books) -> None:
    both.write_off_invoice("INV00000001", SETTINGS)
    result = both.write_off_bulk({"filter": {"accountNumber": "A00000001"}, "settings": SETTINGS})
    assert report(result) == ([("INV00000002", "WO-INV00000002-1", "280.00")], [])
    result = both.write_off_bulk({"filter": {"olderThan": "2026-10-11"}, "settings": SETTINGS})
    assert report(result) == ([("INV00000010", "WO-INV00000010-1", "313.25")], [])
    result = both.write_off_bulk({"filter": {"kind": "DebitMemo"}, "settings": SETTINGS})
    assert [w[0] for w in report(result)[0]] == ["DM00000001", "DM00000002"]


def test_bulk_refusal_writes_nothing_for_that_document(both: Books) -> None:
    body = {**SETTINGS, "memoDate": "2026-10-06"}  # after INV00000001 (10-05), before INV00000010 (10-10)
    result = both.write_off_bulk(documents=["INV00000010", "INV00000001"], settings=body)
    written, failed = report(result)
    assert written == [("INV00000001", "WO-INV00000001-1", "430.00")]
    assert failed == [("INV00000010", "memo date 2026-10-06 is before the invoice date 2026-10-10")]
    assert both.show("invoice", "INV00000010")["balance"] == "313.25"
    with both.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(documents.c.number.like("WO-INV00000010%"))).scalar() == 0
        assert conn.execute(select(func.count()).where(operations.c.document_number == "INV00000010")).scalar() == 0


def test_bulk_retries_one_document_per_transaction_when_the_database_refuses_a_batch(
    both: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    original = base._write_together
    monkeypatch.setattr(base, "_write_together", refuse)
    result = both.write_off_bulk(documents=["INV00000001", "NOPE", "INV00000002"], settings=SETTINGS)
    monkeypatch.setattr(base, "_write_together", original)
    written, failed = report(result)
    assert [w[:2] for w in written] == [("INV00000001", "WO-INV00000001-1"), ("INV00000002", "WO-INV00000002-1")]
    assert failed == [("NOPE", "no invoice NOPE")]


def test_bulk_audits_each_refusal_once_on_either_path(both: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal of the batch's planning is audited under the bulk task; one of the one-by-one fallback by its own
    operation; neither twice (``base.audit_scope``)."""
    both.write_off_bulk(documents=["NOPE", "INV00000001"], settings=SETTINGS)
    assert [(r.kind, r.error_code) for r in both.audit(outcome="refused")] == [("write-off-bulk", "not-found")]

    def refuse(*_: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(base, "_write_together", refuse)
    both.write_off_bulk(documents=["NOPE-2", "INV00000002"], settings=SETTINGS)
    assert [(r.kind, r.error_code) for r in both.audit(outcome="refused")] == [
        ("write-off-bulk", "not-found"),
        ("write-off-invoice", "not-found"),
    ]


def test_bulk_with_an_idempotency_key_skips_what_a_previous_run_wrote_off(both: Books) -> None:
    first = both.write_off_bulk(documents=["INV00000001", "INV00000002"], settings=SETTINGS, idempotency_key="run-1")
    before = dump(both.engine)
    again = both.write_off_bulk(documents=["INV00000001", "INV00000002"], settings=SETTINGS, idempotency_key="run-1")
    assert report(again) == report(first)
    assert dump(both.engine) == before


def test_bulk_reusing_a_key_for_another_request_is_refused_and_writes_nothing(both: Books) -> None:
    """Issue 14 item 3: a document an earlier run wrote off under the key was written off with other settings, so
    the whole run is refused, as a single write-off's is; the documents not yet done are not written off either."""
    first = both.write_off_bulk(documents=["INV00000001"], settings=SETTINGS, idempotency_key="run-1")
    before = dump(both.engine)
    with pytest.raises(IdempotencyConflict, match=r"idempotency key 'run-1:INV00000001' was used for a different "
                       r"request \(write-off-invoice\)"):  # fmt: skip
        both.write_off_bulk(documents=["INV00000001", "INV00000002"], settings=NON_REVENUE, idempotency_key="run-1")
    assert dump(both.engine) == before
    assert both.show("invoice", "INV00000002")["balance"] != "0.00"
    [refusal] = both.audit(outcome="refused")
    assert (refusal.kind, refusal.error_code) == ("write-off-bulk", "idempotency-conflict")
    # The same request again is a replay; a new document under the same key and settings is written off.
    again = both.write_off_bulk(documents=["INV00000001", "INV00000002"], settings=SETTINGS, idempotency_key="run-1")
    assert report(again)[0][0] == report(first)[0][0]
    assert [w[0] for w in report(again)[0]] == ["INV00000001", "INV00000002"]


def test_bulk_by_adjustments_reusing_a_key_for_another_request_is_refused(engine: Any) -> None:
    """The same rule in a book without Invoice Settlement (each invoice one operation under ``KEY:INVOICE``)."""
    books = Books(engine=engine)
    books.init(settings=BookSettings(invoice_settlement=False))
    books.load(example("seed-003-books.json"))
    task = {"invoices": ["INV00000001"], "settings": {"adjustmentDate": "2026-11-16", "comment": "Month-end"}}
    books.write_off_bulk(task, idempotency_key="run-1")
    before = dump(books.engine)
    other = {"invoices": ["INV00000001", "INV00000002"], "settings": {"adjustmentDate": "2026-11-17"}}
    with pytest.raises(IdempotencyConflict, match="idempotency key 'run-1:INV00000001' was used for a different"):
        books.write_off_bulk(other, idempotency_key="run-1")
    assert dump(books.engine) == before


def test_bulk_needs_enhanced_write_off_for_non_revenue_settings(
    both: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    actors = tmp_path / "actors.toml"
    actors.write_text("[actors.clerk]\npermissions = []\n")
    both.import_actors(actors)
    clerk = both.as_actor("clerk")
    before = dump(both.engine)
    with pytest.raises(PermissionDenied, match="Enhanced Write-off"):
        clerk.write_off_bulk(documents=["INV00000001"], settings=NON_REVENUE)
    assert dump(both.engine) == before
    # Debit memos in a header-level revenue-impacting run still need it: refused one by one.
    written, failed = report(clerk.write_off_bulk(documents=["INV00000001", "DM00000002"], settings=SETTINGS))
    assert [w[0] for w in written] == ["INV00000001"]
    assert failed == [("DM00000002", "writing off a debit memo needs the Enhanced Write-off permission, which actor "
                                     "'clerk' lacks")]  # fmt: skip


def test_bulk_file_is_validated(both: Books) -> None:
    with pytest.raises(Problems, match="exactly one of documents and filter"):
        both.write_off_bulk({"settings": SETTINGS})
    with pytest.raises(Problems, match="take no items"):
        both.write_off_bulk({"documents": ["INV00000001"], "settings": {**SETTINGS, "amount": "1.00"}})


def test_bulk_in_a_book_without_invoice_settlement_writes_off_by_adjustments(engine: Any) -> None:
    books = Books(engine=engine)
    books.init(settings=BookSettings(invoice_settlement=False))
    books.load(example("seed-003-books.json"))
    result = books.write_off_bulk(
        {"invoices": ["INV00000001"], "settings": {"adjustmentDate": "2026-11-16", "comment": "Month-end"}}
    )
    assert isinstance(result, AdjustmentWriteOffReport)
    assert books.show("invoice", "INV00000001")["balance"] == "0.00"


def test_cli_bulk_write_off_from_a_file(both: Books, cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "bulk.json"
    source.write_text(json.dumps({"documents": ["INV00000001", "NOPE"], "settings": SETTINGS}))
    out = cli("write-off", "--from", str(source), "--json", db=db_url(both))
    assert out.code == 3, out.err  # partly done
    data = out.json()
    assert [w["memo"] for w in data["writtenOff"]] == ["WO-INV00000001-1"]
    assert data["failed"] == [
        {"document": "NOPE", "documentNumber": "NOPE", "error": "not-found", "rule": "no invoice or debit memo NOPE"}
    ]
    assert [(w["documentNumber"], w["memoNumber"]) for w in data["writtenOff"]] == [("INV00000001", "WO-INV00000001-1")]
    out = cli("write-off", "--from", str(source), db=db_url(both))
    assert out.code == 1  # every document refused
    assert "0 of 2 documents written off, 2 refused." in out.out


def test_cli_bulk_filter_naming_an_account_the_book_does_not_have(both: Books, cli: Any, tmp_path: Path) -> None:
    """A mistyped account number in the filter answered '0 of 0 documents written off, 0 refused.' and exit 0, as
    if that account had nothing open; it is refused in one line, and recorded as refused."""
    source = tmp_path / "bulk.json"
    source.write_text(json.dumps({"filter": {"kind": "Invoice", "accountNumber": "A0000001"}, "settings": SETTINGS}))
    before = dump(both.engine)
    out = cli("write-off", "--from", str(source), db=db_url(both))
    assert (out.code, out.out, out.err.splitlines()) == (
        1,
        "",
        ["error: filter.accountNumber: no customer account A0000001"],
    )
    assert dump(both.engine) == before
    assert [(r.kind, r.outcome, r.error) for r in both.audit()][-1:] == [
        ("write-off-bulk", "refused", "filter.accountNumber: no customer account A0000001")
    ]


def test_generated_memo_records_read_back_unchanged_through_the_models(both: Books) -> None:
    """Generated memos build their record as wire JSON directly; the load models must read it back as written."""
    both.write_off_invoice("INV00000010", {**SETTINGS, "items": [
        {"invoiceItemId": "II-0102", "amountWithoutTax": "150.00",
         "taxationItems": [{"taxationItemId": "TI-0102", "amount": "13.12"}]}]})  # fmt: skip
    both.write_off_invoice("INV00000001", NON_REVENUE)
    both.write_off_debit_memo("DM00000002", SETTINGS)
    both.write_off_credit_memo("CM00000001", SETTINGS)
    with both.engine.connect() as conn:
        rows = conn.execute(select(documents.c.kind, documents.c.payload).where(documents.c.number.like("WO-%"))).all()
    assert len(rows) == 4
    for kind, payload in rows:
        model = (CreditMemo if kind == "CreditMemo" else DebitMemo).model_validate_json(payload)
        assert canonical_json(model) == payload


def test_a_large_bulk_write_off_refreshes_statistics_once_and_not_on_replay(
    both: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ``ANALYZE_FROM`` documents written off, the planner statistics are refreshed after the task; a replay
    of the same task (same idempotency key) wrote nothing and refreshes nothing."""
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(base, "ANALYZE_FROM", 2)
    monkeypatch.setattr(base, "refresh_statistics", lambda _, tables: calls.append(tuple(t.name for t in tables)))
    task = {"documents": ["INV00000001", "INV00000002"], "settings": NON_REVENUE}
    assert len(report(both.write_off_bulk(task, idempotency_key="month-end"))[0]) == 2
    assert len(calls) == 1
    assert {"journal_lines", "journal_entries", "applications", "documents"} <= set(calls[0])
    assert len(report(both.write_off_bulk(task, idempotency_key="month-end"))[0]) == 2
    assert len(calls) == 1
    both.write_off_bulk({"documents": ["INV00000010"], "settings": NON_REVENUE})  # one: below the threshold
    assert len(calls) == 1
