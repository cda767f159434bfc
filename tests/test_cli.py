"""The ``subledger`` command: output, one-line errors, exit codes, nothing written on refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import db_url, dump, example
from subledger.api import Books


def test_load_show_journal(books: Books, cli: object) -> None:
    db = db_url(books)
    result = cli("load", str(example("seed-003-books.json")), "--json", db=db)  # type: ignore[operator]
    assert result.code == 0, result.err
    assert result.json()["loaded"] == {"Invoice": 2, "Payment": 1, "accounts": 1}
    shown = cli("show", "invoice", "INV00000002", "--json", db=db).json()  # type: ignore[operator]
    assert [(i["id"], i["balance"]) for i in shown["items"]] == [("II-0003", "230.00"), ("II-0004", "50.00")]
    entries = cli("journal", "--document", "P00000001", "--json", db=db).json()  # type: ignore[operator]
    assert [e["transactionType"] for e in entries] == [
        "External Payment",
        "External Payment Application Item",
    ]
    assert entries[0]["lines"][0] == {
        "lineNo": 1,
        "accountingCode": "Cash",
        "accountNumberGl": "1000",
        "debit": "150.00",
        "credit": "0.00",
        "currency": "USD",
    }


def test_bad_input_is_one_line_non_zero_and_writes_nothing(books: Books, cli: object, tmp_path: object) -> None:
    db = db_url(books)
    data = json.loads(example("seed-003-books.json").read_text())
    data["invoices"][0]["items"][0]["financeInformation"]["deferredRevenueAccountingCode"] = "Nope"
    bad = tmp_path / "bad.json"  # type: ignore[operator]
    bad.write_text(json.dumps(data))
    before = dump(books.engine)
    result = cli("load", str(bad), db=db)  # type: ignore[operator]
    assert result.code == 1
    assert result.err == (
        "error: INV00000001, items[0].financeInformation.deferredRevenueAccountingCode: "
        "unknown accounting code 'Nope'\n"
    )
    assert "Traceback" not in result.err
    assert dump(books.engine) == before


def test_malformed_json(books: Books, cli: object, tmp_path: object) -> None:
    bad = tmp_path / "bad.json"  # type: ignore[operator]
    bad.write_text('{"invoices": [')
    result = cli("load", str(bad), db=db_url(books))  # type: ignore[operator]
    assert result.code == 1
    assert result.err.startswith("error: malformed JSON")


def test_schema_is_generated_from_the_models(cli: object) -> None:
    result = cli("schema", "load")  # type: ignore[operator]
    schema = json.loads(result.out)
    assert set(schema["properties"]) == {"accounts", "invoices", "debitMemos", "creditMemos", "payments"}
    assert schema["additionalProperties"] is False
    assert "chargeAmount" in schema["$defs"]["InvoiceItem"]["properties"]


def test_period_list(books: Books, cli: object) -> None:
    rows = cli("period", "list", "--json", db=db_url(books)).json()  # type: ignore[operator]
    assert rows[0]["name"] == "2026-01"
    assert {r["status"] for r in rows} == {"Open"}


def test_journal_of_an_unknown_document_names_it(books: Books, cli: Any, tmp_path: Path) -> None:
    """A mistyped number gets one line and exit 1, as `show` gives it; a document that exists but has posted
    nothing (a Draft) is a real empty journal."""
    db = db_url(books)
    data = json.loads(example("seed-003-books.json").read_text())
    draft = {**data["invoices"][0], "invoiceNumber": "INV00000099", "status": "Draft"}
    draft["items"] = [{**item, "id": f"{item['id']}-D"} for item in draft["items"]]
    book = tmp_path / "books.json"
    book.write_text(json.dumps({**data, "invoices": [*data["invoices"], draft]}))
    assert cli("load", str(book), db=db).code == 0
    before = dump(books.engine)
    shown = cli("show", "invoice", "NOPE", db=db)
    assert (shown.code, shown.out, shown.err) == (1, "", "error: NOPE: no invoice NOPE\n")
    unknown = cli("journal", "--document", "NOPE", db=db)
    assert (unknown.code, unknown.out) == (1, "")
    assert unknown.err == (
        "error: NOPE: no document NOPE (invoice, debit memo, credit memo, payment, refund or adjustment)\n"
    )
    as_json = cli("journal", "--document", "NOPE", "--json", db=db)
    assert as_json.code == 1
    assert as_json.json()["reasons"][0]["code"] == "not-found"
    assert cli("journal", "--document", "INV00000099", "--json", db=db).json() == []
    assert cli("journal", "--document", "P00000001", "--period", "2026-12", "--json", db=db).json() == []
    assert dump(books.engine) == before
