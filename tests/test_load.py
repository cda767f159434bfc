"""Loading documents: exact postings, idempotence, conflicts and refusals that write nothing (both engines)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import dump, example, failing, set_period_status
from subledger.api import Books
from subledger.errors import Problems, SubledgerError
from subledger.storage.db import make_engine


def lines(books: Books, document: str, ttype: str) -> list[tuple[str, str, str, str | None]]:
    return [
        (ln.accounting_code, ln.debit, ln.credit, ln.item_id)
        for e in books.journal(document=document)
        if e.transaction_type == ttype and e.documents[0] == document
        for ln in e.lines
    ]


def test_invoice_items_post_ar_against_deferred_revenue(seed003: Books) -> None:
    assert lines(seed003, "INV00000001", "Invoice Item") == [
        ("Accounts Receivable", "330.00", "0.00", "II-0001"),
        ("Deferred Revenue", "0.00", "330.00", "II-0001"),
        ("Accounts Receivable", "100.00", "0.00", "II-0002"),
        ("Deferred Revenue", "0.00", "100.00", "II-0002"),
    ]


def test_payment_posts_cash_then_applies_item_by_item(seed003: Books) -> None:
    assert lines(seed003, "P00000001", "External Payment") == [
        ("Cash", "150.00", "0.00", None),
        ("Unapplied Payments", "0.00", "150.00", None),
    ]
    assert lines(seed003, "P00000001", "External Payment Application Item") == [
        ("Unapplied Payments", "100.00", "0.00", "II-0003"),
        ("Accounts Receivable", "0.00", "100.00", "II-0003"),
        ("Unapplied Payments", "50.00", "0.00", "II-0004"),
        ("Accounts Receivable", "0.00", "50.00", "II-0004"),
    ]
    invoice = seed003.show("invoice", "INV00000002")
    assert [i["balance"] for i in invoice["items"]] == ["230.00", "50.00"]
    assert invoice["balance"] == "280.00"


def test_json_numbers_are_read_as_their_decimal_text(seed003: Books) -> None:
    """A client that sends amounts as JSON numbers (the reference product's own samples do) gets them exactly, read
    from their text (10.05 as a float is 10.050000000000000710...); one beyond the cent is refused (bad_inputs)."""
    text = (
        '{"payments": [{"number": "P00000909", "accountNumber": "A00000001", "effectiveDate": "2026-10-20", '
        '"currency": "USD", "amount": 10.05}]}'
    )
    seed003.load(text)
    assert lines(seed003, "P00000909", "External Payment") == [
        ("Cash", "10.05", "0.00", None),
        ("Unapplied Payments", "0.00", "10.05", None),
    ]


def test_taxes_discounts_and_negative_lines(line_level: Books) -> None:
    assert lines(line_level, "INV00000010", "Taxation Item") == [
        ("Accounts Receivable", "17.50", "0.00", "TI-0101"),
        ("Sales Tax Payable", "0.00", "17.50", "TI-0101"),
        ("Accounts Receivable", "17.50", "0.00", "TI-0102"),
        ("Sales Tax Payable", "0.00", "17.50", "TI-0102"),
        # The discount's tax is negative: debit and credit flip.
        ("Sales Tax Payable", "1.75", "0.00", "TI-0103"),
        ("Accounts Receivable", "0.00", "1.75", "TI-0103"),
    ]
    assert lines(line_level, "INV00000010", "Invoice Item")[-2:] == [
        ("Deferred Revenue", "20.00", "0.00", "II-0103"),
        ("Accounts Receivable", "0.00", "20.00", "II-0103"),
    ]


def test_debit_and_credit_memo_postings(line_level: Books) -> None:
    assert lines(line_level, "DM00000002", "Debit Memo Item (Charge)") == [
        ("Accounts Receivable", "25.00", "0.00", "DMI-0003"),
        ("Deferred Revenue", "0.00", "25.00", "DMI-0003"),
    ]
    # A zero tax line posts nothing.
    assert lines(line_level, "DM00000002", "Debit Memo Item (Tax)") == []
    assert lines(line_level, "CM00000001", "Credit Memo Item (Charge)") == [
        ("Deferred Revenue", "40.00", "0.00", "CMI-0001"),
        ("Credit Memo On-Account", "0.00", "40.00", "CMI-0001"),
    ]
    assert lines(line_level, "CM00000001", "Credit Memo Item (Tax)") == [
        ("Sales Tax Payable", "3.50", "0.00", "CTI-0001"),
        ("Credit Memo On-Account", "0.00", "3.50", "CTI-0001"),
    ]
    memo = line_level.show("credit-memo", "CM00000001")
    assert (memo["appliedAmount"], memo["unappliedAmount"]) == ("0.00", "43.50")


def test_every_entry_balances(line_level: Books) -> None:
    for entry in line_level.journal():
        assert sum(Decimal(x.debit) for x in entry.lines) == sum(Decimal(x.credit) for x in entry.lines)


def test_loading_twice_changes_nothing(seed003: Books) -> None:
    before = dump(seed003.engine)
    result = seed003.load(example("seed-003-books.json"))
    assert result.loaded == {}
    assert result.unchanged == {"Invoice": 2, "Payment": 1, "accounts": 1}
    after = dump(seed003.engine)
    del before["operations"], after["operations"]
    assert before == after


def _edited(path: Path, edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    edit(data)
    return data


def test_same_number_different_content_is_a_conflict_that_names_the_field(seed003: Books) -> None:
    def change(data: dict) -> None:  # type: ignore[type-arg]
        data["invoices"][0]["items"][0]["chargeAmount"] = "331.00"

    before = dump(seed003.engine)
    with pytest.raises(Problems) as refused:
        seed003.load(_edited(example("seed-003-books.json"), change))
    assert str(refused.value) == (
        "INV00000001: invoice INV00000001 was already loaded with different content "
        "(items[0].chargeAmount: 330.00 in the books, 331.00 in the file)"
    )
    assert dump(seed003.engine) == before


def test_the_same_amounts_and_dates_written_otherwise_are_the_same_content(seed003: Books) -> None:
    """A billing system's extract that writes 330.00 as 330.0 or as the JSON number 330, a quantity of 10 as 10.0,
    or leaves out a field it gave as its default (status Posted), is the document already loaded: unchanged,
    nothing written; what the books keep is the first load's text."""

    def otherwise(data: dict) -> None:  # type: ignore[type-arg]
        invoice, payment = data["invoices"][0], data["payments"][0]
        invoice["items"][0]["chargeAmount"] = "330.0"
        invoice["items"][0]["quantity"] = "10.0"
        invoice["items"][1]["chargeAmount"] = 100
        del invoice["status"]
        payment["amount"] = str(Decimal(payment["amount"]).quantize(Decimal("0.0001")))

    before = dump(seed003.engine)
    result = seed003.load(_edited(example("seed-003-books.json"), otherwise))
    assert (result.loaded, result.unchanged) == ({}, {"Invoice": 2, "Payment": 1, "accounts": 1})
    after = dump(seed003.engine)
    del before["operations"], after["operations"]
    assert before == after


def test_document_in_closed_period_is_refused(books: Books) -> None:
    set_period_status(books, "2026-10", "Closed")
    before = dump(books.engine)
    with pytest.raises(Problems) as info:
        books.load(example("seed-003-books.json"))
    messages = [str(p) for p in info.value.problems]
    assert (
        "INV00000001, invoiceDate: 2026-10-05 is in accounting period 2026-10, which is Closed; "
        "the first open period is 2026-11 (2026-11-01)" in messages
    )
    assert dump(books.engine) == before


def test_unknown_accounting_code_is_refused(books: Books) -> None:
    def change(data: dict) -> None:  # type: ignore[type-arg]
        data["invoices"][1]["items"][1]["financeInformation"]["deferredRevenueAccountingCode"] = "Deferred Revenu"

    before = dump(books.engine)
    with pytest.raises(Problems) as info:
        books.load(_edited(example("seed-003-books.json"), change))
    assert str(info.value.problems[0]) == (
        "INV00000002, items[1].financeInformation.deferredRevenueAccountingCode: "
        "unknown accounting code 'Deferred Revenu'"
    )
    assert dump(books.engine) == before


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["invoices"][0].update(currency="EUR"),
            "currency EUR differs from account A00000001's currency USD",
        ),
        (lambda d: d["invoices"][0].update(accountNumber="A404"), "unknown customer account A404"),
        (
            lambda d: d["invoices"][1]["items"][1].update(id="II-0001"),
            "item id is used by more than one line",
        ),
        (
            lambda d: d["payments"][0]["applications"][0]["items"][0].update(amount="400.00"),
            "amount 150.00 is not the sum of its items",
        ),
        (lambda d: d["invoices"][0]["items"][0].update(color="red"), "unknown field"),
        (lambda d: d["invoices"][0]["items"][0].update(chargeAmount=330.5), "not the float 330.5"),
        (lambda d: d["invoices"][0].update(invoiceDate="2026-02-30"), "not a valid date"),
        (
            lambda d: d["invoices"][0].update(invoiceDate="2031-01-05"),
            "no accounting period covers 2031-01-05",
        ),
    ],
)
def test_bad_documents_are_refused_whole(books: Books, edit: Callable[[dict[str, Any]], object], message: str) -> None:
    before = dump(books.engine)
    with pytest.raises(SubledgerError, match=message):
        books.load(_edited(example("seed-003-books.json"), edit))
    assert dump(books.engine) == before


def test_payment_beyond_the_balance_is_refused(seed003: Books) -> None:
    extra = {
        "payments": [
            {
                "number": "P2",
                "accountNumber": "A00000001",
                "effectiveDate": "2026-10-21",
                "currency": "USD",
                "amount": "300.00",
                "applications": [
                    {
                        "invoiceNumber": "INV00000002",
                        "amount": "300.00",
                        "items": [{"invoiceItemId": "II-0003", "amount": "300.00"}],
                    }
                ],
            }
        ]
    }
    before = dump(seed003.engine)
    with pytest.raises(Problems, match=r"amount 300.00 exceeds the open balance 230.0+ of line II-0003"):
        seed003.load(extra)
    assert dump(seed003.engine) == before


def test_unitemised_payment_applies_first_in_first_out(seed003: Books) -> None:
    seed003.load(
        {
            "payments": [
                {
                    "number": "P2",
                    "accountNumber": "A00000001",
                    "effectiveDate": "2026-10-21",
                    "currency": "USD",
                    "amount": "335.00",
                    "applications": [{"invoiceNumber": "INV00000001", "amount": "335.00"}],
                }
            ]
        }
    )
    assert [i["balance"] for i in seed003.show("invoice", "INV00000001")["items"]] == ["0.00", "95.00"]


# --- the billing system's lifecycle: a Draft (a Processing payment) loaded, then reloaded moved on ----------------


def _postings(books: Books) -> list[tuple[str, ...]]:
    """Every posting of the book, without what says when it was posted (entry numbers, hashes): sorted."""
    return sorted(
        (str(e.date), e.transaction_type, *e.documents, ln.accounting_code, ln.debit, ln.credit, str(ln.item_id))
        for e in books.journal()
        for ln in e.lines
    )


def _posted_load(tmp_path: Path, name: str) -> Books:
    """The example loaded as it is (every document Posted, the payment Processed), in a book of its own."""
    reference = Books(engine=make_engine(f"sqlite:///{tmp_path / 'reference.db'}"))
    reference.init()
    reference.load(example(name))
    return reference


def _closed_through(books: Books, last: str) -> bool:
    done = books.close_periods_through(last)
    return done.refusal is None and [p.period for p in done.closed] == done.todo and last in done.todo


def _no_drafts(books: Books) -> list[str]:
    return failing(books.check()).get("no-drafts", [])


def test_a_draft_reloaded_posted_posts_what_a_posted_load_posts_and_its_period_closes(
    books: Books, tmp_path: Path
) -> None:
    def draft(data: dict) -> None:  # type: ignore[type-arg]
        data["invoices"][0]["status"] = "Draft"

    first = books.load(_edited(example("seed-003-books.json"), draft))
    assert (first.loaded["Invoice"], first.journal_entries) == (2, 3)  # the draft posts nothing
    assert lines(books, "INV00000001", "Invoice Item") == []
    assert _no_drafts(books) == [
        "INV00000001|status|draft invoice dated 2026-10-05 must be posted or canceled before close"
    ]
    refused = books.close_periods_through("2026-10")
    assert refused.refused == "2026-10"
    assert "draft invoice dated 2026-10-05 must be posted or canceled" in str(refused.refusal)

    moved = books.load(example("seed-003-books.json"))
    assert (moved.loaded, moved.updated, moved.journal_entries) == ({}, {"Invoice": 1}, 1)
    assert moved.unchanged == {"Invoice": 1, "Payment": 1, "accounts": 1}
    assert lines(books, "INV00000001", "Invoice Item") == [
        ("Accounts Receivable", "330.00", "0.00", "II-0001"),
        ("Deferred Revenue", "0.00", "330.00", "II-0001"),
        ("Accounts Receivable", "100.00", "0.00", "II-0002"),
        ("Deferred Revenue", "0.00", "100.00", "II-0002"),
    ]
    assert _postings(books) == _postings(_posted_load(tmp_path, "seed-003-books.json"))
    shown = books.show("invoice", "INV00000001")
    assert (shown["status"], shown["balance"]) == ("Posted", "430.00")
    assert _no_drafts(books) == []
    assert _closed_through(books, "2026-10")
    assert books.load(example("seed-003-books.json")).unchanged == {"Invoice": 2, "Payment": 1, "accounts": 1}


def test_a_draft_reloaded_canceled_posts_nothing_and_its_period_closes(books: Books) -> None:
    def draft(data: dict) -> None:  # type: ignore[type-arg]
        data["invoices"][0]["status"] = "Draft"

    def canceled(data: dict) -> None:  # type: ignore[type-arg]
        data["invoices"][0]["status"] = "Canceled"

    books.load(_edited(example("seed-003-books.json"), draft))
    journal = _postings(books)
    moved = books.load(_edited(example("seed-003-books.json"), canceled))
    assert (moved.updated, moved.journal_entries) == ({"Invoice": 1}, 0)
    assert _postings(books) == journal
    assert books.show("invoice", "INV00000001")["status"] == "Canceled"
    assert _no_drafts(books) == []
    assert _closed_through(books, "2026-10")


def test_a_processing_payment_reloaded_processed_posts_and_applies_as_a_processed_load(
    books: Books, tmp_path: Path
) -> None:
    def processing(data: dict) -> None:  # type: ignore[type-arg]
        data["payments"][0]["status"] = "Processing"
        data["payments"][0]["applications"] = []  # a payment not processed cannot be applied

    books.load(_edited(example("seed-003-books.json"), processing))
    assert lines(books, "P00000001", "External Payment") == []
    assert _no_drafts(books) == [
        "P00000001|status|processing payment dated 2026-10-20 must be processed or canceled before close"
    ]

    moved = books.load(example("seed-003-books.json"))
    assert (moved.updated, moved.journal_entries) == ({"Payment": 1}, 2)
    assert lines(books, "P00000001", "External Payment") == [
        ("Cash", "150.00", "0.00", None),
        ("Unapplied Payments", "0.00", "150.00", None),
    ]
    assert lines(books, "P00000001", "External Payment Application Item") == [
        ("Unapplied Payments", "100.00", "0.00", "II-0003"),
        ("Accounts Receivable", "0.00", "100.00", "II-0003"),
        ("Unapplied Payments", "50.00", "0.00", "II-0004"),
        ("Accounts Receivable", "0.00", "50.00", "II-0004"),
    ]
    assert books.show("invoice", "INV00000002")["balance"] == "280.00"
    assert _postings(books) == _postings(_posted_load(tmp_path, "seed-003-books.json"))
    assert _closed_through(books, "2026-10")


def test_a_draft_credit_memo_reloaded_posted_posts_as_a_posted_load(books: Books, tmp_path: Path) -> None:
    def draft(data: dict) -> None:  # type: ignore[type-arg]
        data["creditMemos"][0]["status"] = "Draft"

    books.load(_edited(example("line-level-books.json"), draft))
    assert [c.split("|")[0] for c in _no_drafts(books)] == ["CM00000001"]
    moved = books.load(example("line-level-books.json"))
    assert moved.updated == {"CreditMemo": 1}
    assert _postings(books) == _postings(_posted_load(tmp_path, "line-level-books.json"))
    assert _no_drafts(books) == []


def test_a_posted_document_cannot_go_back_to_draft(seed003: Books) -> None:
    def draft(data: dict) -> None:  # type: ignore[type-arg]
        data["invoices"][0]["status"] = "Draft"

    before = dump(seed003.engine)
    with pytest.raises(Problems) as info:
        seed003.load(_edited(example("seed-003-books.json"), draft))
    assert [str(p) for p in info.value.problems] == [
        "INV00000001, status: invoice INV00000001 is Posted in the books: a load cannot move it to Draft"
    ]
    assert dump(seed003.engine) == before


def test_a_draft_that_comes_back_otherwise_changed_is_still_a_conflict(books: Books) -> None:
    def draft(data: dict) -> None:  # type: ignore[type-arg]
        data["invoices"][0]["status"] = "Draft"

    def changed(data: dict) -> None:  # type: ignore[type-arg]
        data["invoices"][0]["items"][0]["chargeAmount"] = "331.00"

    books.load(_edited(example("seed-003-books.json"), draft))
    before = dump(books.engine)
    conflict = "INV00000001: invoice INV00000001 was already loaded with different content"

    def still_draft_changed(data: dict) -> None:  # type: ignore[type-arg]
        draft(data)
        changed(data)

    for edit in (changed, still_draft_changed):  # Posted (the example's status) and changed; Draft and changed
        with pytest.raises(Problems, match=conflict):
            books.load(_edited(example("seed-003-books.json"), edit))
        assert dump(books.engine) == before
