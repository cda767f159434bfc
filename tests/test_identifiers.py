"""The identifier rule (``models.base.Id``) and free text in the ledger (issue 14, item 4).

Document numbers, account numbers, payment numbers and item ids become Beancount links and metadata and GL file
cells: a number with a quote, a space, a newline or a ``^`` once loaded and wrote off, after which the period's
ledger no longer parsed and the period could never be closed. Each such identifier is now refused when it comes in,
in one line naming the document, the field and the rule, and nothing is written. Free text (a customer's name, a
comment) is not restricted: the ledger escapes it, and a hostile one parses back to the same text.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from beancount import loader

from conftest import dump
from subledger.api import Books
from subledger.errors import SubledgerError
from subledger.models.base import IDENTIFIER_RULE, fitted, is_identifier

#: Identifiers a careless or hostile billing system could send: each must be refused wherever an identifier goes.
HOSTILE = [
    "INV'1",
    'INV"1',
    "INV 1",
    " INV1",
    "INV1 ",
    "INV\n2026-01-01 open Assets:Stolen USD",
    "INV1\n",  # a regular expression's "$" matches before a final newline: the rule is a full match
    "INV\r1",
    "INV\t1",
    "INV\\1",
    "INV\u200f1",  # right-to-left mark
    "INV\u202e1",  # right-to-left override
    "INV\x00",
    "INV\x07",
    "INV^X #Y",
    "INV#1",
    "INV;1",
    "INV,1",
    "INV:1",
    "INVÉ1",
    '=HYPERLINK("http://x")',
    "+1",
    "-1",
    "@SUM(A1)",
    ".hidden",
    "_x",
    "/etc",
]

#: The refusal: the identifier rule, or (NUL, refused in any text first) the NUL rule.
REFUSED = re.compile(f"{re.escape(IDENTIFIER_RULE)}|contains a NUL character$")

INVOICE: dict[str, Any] = {
    "invoiceNumber": "INV00000901",
    "accountNumber": "A00000901",
    "invoiceDate": "2026-10-10",
    "currency": "USD",
    "items": [
        {
            "id": "II-0901",
            "chargeAmount": "100.00",
            "taxationItems": [{"id": "TX-0901", "taxAmount": "5.00"}],
            "financeInformation": {
                "deferredRevenueAccountingCode": "Deferred Revenue",
                "recognizedRevenueAccountingCode": "Sales Revenue",
            },
        }
    ],
}
PAYMENT: dict[str, Any] = {
    "number": "P00000901",
    "accountNumber": "A00000901",
    "effectiveDate": "2026-10-12",
    "currency": "USD",
    "amount": "10.00",
    "applications": [{"invoiceNumber": "INV00000901", "amount": "10.00"}],
}
ACCOUNT = {"accountNumber": "A00000901", "name": "Hostile Test", "currency": "USD"}


def load_file(where: str, value: str) -> dict[str, Any]:
    """A valid load file with ``value`` put in one identifier field (``where``)."""
    invoice, payment, account = copy.deepcopy(INVOICE), copy.deepcopy(PAYMENT), dict(ACCOUNT)
    if where == "invoiceNumber":
        invoice["invoiceNumber"] = value
    elif where == "accountNumber":
        account["accountNumber"] = value
    elif where == "items[0].id":
        invoice["items"][0]["id"] = value
    elif where == "taxationItems[0].id":
        invoice["items"][0]["taxationItems"][0]["id"] = value
    elif where == "payment number":
        payment["number"] = value
    elif where == "applications[0].invoiceNumber":
        payment["applications"][0]["invoiceNumber"] = value
    elif where == "subscriptionNumber":
        invoice["items"][0]["subscriptionNumber"] = value
    return {"accounts": [account], "invoices": [invoice], "payments": [payment]}


FIELDS = [
    "invoiceNumber",
    "accountNumber",
    "items[0].id",
    "taxationItems[0].id",
    "payment number",
    "applications[0].invoiceNumber",
    "subscriptionNumber",
]


def test_the_valid_file_loads(books: Books) -> None:
    """The file the hostile cases start from is good: what refuses them is the identifier alone."""
    result = books.load(load_file("none", ""))
    assert result.loaded == {"Invoice": 1, "Payment": 1, "accounts": 1}


def test_hostile_identifiers_are_refused_at_load_and_write_nothing(books: Books) -> None:
    books.load({"accounts": [ACCOUNT]})
    before = dump(books.engine)
    tried = 0
    for where in FIELDS:
        for value in HOSTILE:
            with pytest.raises(SubledgerError) as refused:
                books.load(load_file(where, value))
            message = str(refused.value)
            assert REFUSED.search(message), (where, value, message)
            assert "\n" not in message, (where, value, message)
            assert "\r" not in message, (where, value, message)
            assert repr(value) in message or "\x00" in value
            tried += 1
    assert tried == len(FIELDS) * len(HOSTILE)
    assert dump(books.engine) == before


def test_the_refusal_names_document_field_and_rule(books: Books) -> None:
    with pytest.raises(SubledgerError) as refused:
        books.load(load_file("items[0].id", "II 1"))
    assert str(refused.value) == f"INV00000901, items[0].id: 'II 1' {IDENTIFIER_RULE}"
    with pytest.raises(SubledgerError) as refused:
        books.load(load_file("invoiceNumber", "INV^X #Y"))
    # A hostile number is not used to name the document: its place in the file is.
    assert str(refused.value) == f"invoices[0], invoiceNumber: 'INV^X #Y' {IDENTIFIER_RULE}"


def test_hostile_identifiers_are_refused_in_requests(seed003: Books) -> None:
    before = dump(seed003.engine)
    for value in HOSTILE:
        with pytest.raises(SubledgerError, match=REFUSED):
            seed003.write_off_invoice(
                "INV00000001",
                {"memoDate": "2026-10-28", "items": [{"invoiceItemId": value, "amountWithoutTax": "1.00"}]},
            )
        with pytest.raises(SubledgerError, match=REFUSED):
            seed003.write_off_bulk({"documents": [value]})
    assert dump(seed003.engine) == before


HOSTILE_TEXT = 'Evil "Corp" \\ ^INV1 #tag\n2026-01-01 open Assets:Stolen USD\r\n\u200f=HYPERLINK("x") é'
#: With control characters, which the ledger replaces (``export.beancount.quote``): it must still parse.
CONTROL_TEXT = HOSTILE_TEXT + "\x07\x1b[31m"


def test_hostile_free_text_round_trips_through_the_ledger(books: Books, tmp_path: Path) -> None:
    """A customer name and comments with quotes, backslashes, newlines, a ledger directive and control characters:
    the exported ledger parses without an error, the name comes back exactly, and the period's check passes."""
    account = {**ACCOUNT, "name": HOSTILE_TEXT}
    invoice = {**copy.deepcopy(INVOICE), "comment": CONTROL_TEXT}
    books.load({"accounts": [account], "invoices": [invoice]})
    books.write_off_invoice("INV00000901", {"memoDate": "2026-10-28", "comment": CONTROL_TEXT})
    books.export_beancount(tmp_path)
    entries, errors, _ = loader.load_file(str(tmp_path / "main.beancount"))
    assert errors == []
    payees = {getattr(e, "payee", None) for e in entries if getattr(e, "date", None) == dt.date(2026, 10, 10)}
    assert payees == {HOSTILE_TEXT}
    comments = {e.meta.get("comment") for e in entries if "comment" in getattr(e, "meta", {})}
    assert comments == {HOSTILE_TEXT + "\ufffd\ufffd[31m"}


def test_a_nul_character_is_refused_in_any_text(books: Books) -> None:
    """PostgreSQL cannot store NUL in text (the load ended on a driver traceback there): refused on both engines,
    from a dict and from JSON text alike."""
    before = dump(books.engine)
    account = {**ACCOUNT, "name": "Nul\x00Corp"}
    expected = "text in load file at $.accounts[0].name contains a NUL character"
    with pytest.raises(SubledgerError, match=re.escape(expected)):
        books.load({"accounts": [account]})
    with pytest.raises(SubledgerError, match=re.escape(expected)):
        books.load(json.dumps({"accounts": [account]}).encode())
    assert dump(books.engine) == before
    assert books.check("2026-10").passed


def _longest(prefix: str) -> str:
    """An identifier of the longest length the books take (64 characters)."""
    return prefix + "X" * (64 - len(prefix))


SHOWN_AS = {"Invoice": "invoice", "DebitMemo": "debit-memo", "CreditMemo": "credit-memo"}


def test_operations_on_documents_with_the_longest_numbers_keep_every_identifier_within_the_books(
    books: Books, tmp_path: Path
) -> None:
    """Numbers of 64 characters load; the memos, refunds and lines a write-off, reversal, refund and recovery
    generate from them (``WO-NUMBER-1``, its ``-1`` and ``-1-T1`` lines, ``RC-WO-...``) would be longer. PostgreSQL
    refused each such operation as 'value too long for type character varying(64)', naming no field; SQLite stored
    identifiers no request can name (every identifier field takes at most 64). Each generated identifier now fits,
    the same on both engines, and the book still shows, checks, closes and exports."""
    account, inv, other, dm, cm, cm2 = (_longest(p) for p in ("ACC", "INV", "INW", "DMM", "CMM", "CMN"))
    fin = {"deferredRevenueAccountingCode": "Deferred Revenue", "recognizedRevenueAccountingCode": "Sales Revenue"}
    tax = {"salesTaxPayableAccountingCode": "Sales Tax Payable"}

    def document(number_field: str, number: str, date_field: str, amount_field: str) -> dict[str, Any]:
        item = _longest(f"I{number[:3]}")
        taxes = [{"id": _longest(f"T{number[:3]}"), "taxAmount": "1.00", "financeInformation": tax}]
        items = [{"id": item, amount_field: "10.00", "financeInformation": fin, "taxationItems": taxes}]
        return {
            number_field: number,
            "accountNumber": account,
            date_field: "2026-10-05",
            "currency": "USD",
            "items": items,
        }

    books.load(
        {
            "accounts": [{"accountNumber": account, "name": "Long numbers", "currency": "USD"}],
            "invoices": [document("invoiceNumber", n, "invoiceDate", "chargeAmount") for n in (inv, other)],
            "debitMemos": [document("number", dm, "debitMemoDate", "amountWithoutTax")],
            "creditMemos": [document("number", n, "creditMemoDate", "amountWithoutTax") for n in (cm, cm2)],
        }
    )
    item = _longest("IINV")
    books.write_off_invoice(
        inv, {"memoDate": "2026-10-20", "items": [{"invoiceItemId": item, "amountWithoutTax": "4.00"}]}
    )
    written_off = books.write_off_invoice(inv, {"memoDate": "2026-10-20"})  # the second: its memo is numbered -2
    assert written_off.credit_memo is not None
    recovery = books.recover_invoice_write_off(
        written_off.credit_memo.number, {"amount": "5.00", "memoDate": "2026-10-21"}
    )
    books.write_off_debit_memo(recovery.debit_memo, {"memoDate": "2026-10-22"})  # WO-RC-WO-INV...-2-1-1
    books.reverse_invoice(other, {"memoDate": "2026-10-20"})
    books.write_off_debit_memo(dm, {"memoDate": "2026-10-20"})
    books.write_off_credit_memo(cm2, {"memoDate": "2026-10-20"})
    refund = books.refund_credit_memo(
        cm, {"type": "External", "totalAmount": "4.00", "refundDate": "2026-10-20", "methodType": "Check"}
    )
    with books.engine.connect() as conn:
        kinds = {str(n): str(k) for n, k in conn.exec_driver_sql("SELECT number, kind FROM documents")}
        items = [
            i for (i,) in conn.exec_driver_sql("SELECT id FROM document_items UNION ALL SELECT id FROM taxation_items")
        ]
        refunds = [
            n for (n,) in conn.exec_driver_sql("SELECT number FROM refunds UNION ALL SELECT id FROM refund_items")
        ]
    generated = [n for n in kinds if n.startswith(("WO-", "RV-", "RC-"))]
    assert len(generated) == 7, kinds
    assert refund.number in refunds
    assert len(refunds) == 2
    for identifier in [*kinds, *items, *refunds]:
        assert len(identifier) <= 64, identifier
        assert is_identifier(identifier), identifier
    # Shortened under a digest of the whole prefix, with the counter after it, as a short number's would be.
    assert fitted(f"WO-{inv}", room=7) + "-2" in kinds
    assert written_off.credit_memo.number == fitted(f"WO-{inv}", room=7) + "-2"
    assert len(set(items)) == len(items)
    for number in generated:
        assert books.show(SHOWN_AS[kinds[number]], number)
    assert books.check().passed
    books.close_periods_through("2026-10")
    books.export_beancount(tmp_path)
    _, errors, _ = loader.load_file(str(tmp_path / "main.beancount"))
    assert errors == []
