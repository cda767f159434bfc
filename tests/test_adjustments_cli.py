"""``subledger adjustment create | list`` and ``init --no-invoice-settlement`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import db_url, dump, example
from subledger.api import Books


def test_adjustments_from_the_command_line(cli: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ns.db'}"
    assert cli("init", "--no-invoice-settlement", db=url).code == 0
    refused = cli("load", str(example("line-level-books.json")), db=url)
    assert refused.code == 1
    assert "DM00000001: debit memo DM00000001 needs Invoice Settlement" in refused.err
    assert cli("load", str(example("no-settlement-books.json")), db=url).code == 0

    body = tmp_path / "adjust.json"
    charge = {
        "invoiceNumber": "INV00000102",
        "type": "Charge",
        "amount": "2.00",
        "sourceType": "InvoiceDetail",
        "sourceId": "II-1021",
        "adjustmentDate": "2026-11-20",
    }
    body.write_text(json.dumps({"adjustments": [charge]}))
    books = Books(url)
    before = dump(books.engine)
    alone = cli("adjustment", "create", "--body", str(body), db=url)
    assert alone.code == 1
    assert alone.err.strip() == (
        "error: INV00000102, adjustments: the adjustments would move invoice INV00000102's balance from 1.00 to "
        "3.00: the invoice balance can only be adjusted toward zero"
    )
    assert dump(books.engine) == before

    credit = {**charge, "type": "Credit", "amount": "2.50", "sourceId": "II-1022"}
    body.write_text(json.dumps({"adjustments": [charge, credit]}))
    together = cli("adjustment", "create", "--body", str(body), "--json", db=url)
    assert together.code == 0, together.err
    result = together.json()
    assert [a["number"] for a in result["adjustments"]] == ["IIA-INV00000102-1", "IIA-INV00000102-2"]
    assert result["invoices"] == [
        {
            "invoiceNumber": "INV00000102",
            "balance": "0.50",
            "invoiceItems": [
                {
                    "id": "II-1021",
                    "chargeName": "Migration refund",
                    "processingType": "Charge",
                    "chargeAmount": "-99.00",
                    "balance": "-97.00",
                    "taxationItems": [],
                },
                {
                    "id": "II-1022",
                    "chargeName": "Migration service",
                    "processingType": "Charge",
                    "chargeAmount": "100.00",
                    "balance": "97.50",
                    "taxationItems": [],
                },
            ],
        }
    ]
    listed = cli("adjustment", "list", "--invoice", "INV00000102", "--json", db=url).json()
    assert [(a["type"], a["amount"], a["reasonCode"]) for a in listed] == [
        ("Charge", "2.00", "Write-off"),
        ("Credit", "2.50", "Write-off"),
    ]
    table = cli("adjustment", "list", db=url)
    assert table.code == 0
    assert "2.50" in table.out
    schema = cli("schema", "adjustment").json()
    assert "adjustments" in schema["properties"]


def test_a_book_with_invoice_settlement_refuses_adjustments_on_the_command_line(
    books: Books, cli: Any, tmp_path: Path
) -> None:
    books.load(example("seed-003-books.json"))
    body = tmp_path / "adjust.json"
    adjustment = {
        "invoiceNumber": "INV00000001",
        "type": "Credit",
        "amount": "10.00",
        "sourceType": "InvoiceDetail",
        "sourceId": "II-0001",
        "adjustmentDate": "2026-11-20",
    }
    body.write_text(json.dumps({"adjustments": [adjustment]}))
    before = dump(books.engine)
    result = cli("adjustment", "create", "--body", str(body), db=db_url(books))
    assert result.code == 1
    assert result.err.strip() == (
        "error: invoiceSettlement: invoice item adjustments exist only in books without Invoice Settlement (this "
        "book uses credit and debit memos)"
    )
    assert dump(books.engine) == before
    assert cli("adjustment", "list", "--json", db=db_url(books)).json() == []
