"""``subledger list`` and ``subledger report``: what they find, and that their totals tie to the books."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import pytest
from beancount import loader
from sqlalchemy import Engine

from conftest import db_url, example
from subledger import reports
from subledger.api import Books
from subledger.fava_ext import review
from subledger.models.documents import DocumentStatus, PaymentStatus
from subledger.settings import BookSettings

DAY = {"memoDate": "2026-11-16", "reasonCode": "Write-off"}


@pytest.fixture
def story(books: Books) -> Books:
    for name in ("seed-003-books.json", "line-level-books.json", "demo-books.json"):
        books.load(example(name))
    books.write_off_invoice("INV00000002", example("write-off-header.json"))
    books.write_off_invoice("INV00000010", example("write-off-line-level.json"))
    books.write_off_credit_memo("CM00000022", DAY)
    books.reverse_invoice("INV00000022", {"memoDate": "2026-11-20", "applyEffectiveDate": "2026-11-20"})
    return books


def test_list_with_filters(cli: Any, story: Books) -> None:
    url = db_url(story)
    invoices = cli("list", "invoices", "--json", db=url).json()
    assert [i["number"] for i in invoices] == [
        "INV00000020", "INV00000001", "INV00000002", "INV00000010", "INV00000021", "INV00000022",
    ]  # fmt: skip
    assert {i["number"]: i["balance"] for i in invoices}["INV00000002"] == "0.00"
    open_ = cli("list", "invoices", "--open", "--account", "A00000001", "--json", db=url).json()
    assert [(i["number"], i["balance"]) for i in open_] == [("INV00000001", "430.00")]
    old = cli("list", "invoices", "--older-than", "45", "--as-of", "2026-11-20", "--json", db=url).json()
    assert [i["number"] for i in old] == ["INV00000020", "INV00000001", "INV00000002"]
    # An age before the calendar's first day (it was an internal error, exit 4): nothing is that old.
    for days, as_of in (("99999999999", "2026-11-20"), ("1000000", "2026-11-20"), ("5", "0001-01-01")):
        result = cli("list", "invoices", "--older-than", days, "--as-of", as_of, "--json", db=url)
        assert (result.code, result.json()) == (0, [])
    november = cli("list", "invoices", "--period", "2026-11", "--json", db=url).json()
    assert [i["number"] for i in november] == ["INV00000021", "INV00000022"]
    memos = cli("list", "credit-memos", "--source", "WriteOff", "--json", db=url).json()
    assert [(m["number"], m["sourceDocumentNumber"]) for m in memos] == [
        ("WO-INV00000002-1", "INV00000002"),
        ("WO-INV00000010-1", "INV00000010"),
    ]
    debit = cli("list", "debit-memos", "--source", "WriteOff", "--json", db=url).json()
    assert [m["number"] for m in debit] == ["WO-CM00000022-1"]
    payments = cli("list", "payments", "--account", "A00000003", "--json", db=url).json()
    assert [(p["number"], p["unappliedAmount"]) for p in payments] == [("P00000020", "100.00")]
    assert cli("list", "payments", "--open", "--account", "A00000001", "--json", db=url).json() == []
    for row in invoices + memos + debit:
        reports.DocumentListRow.model_validate(row)  # the shape `schema --output list-documents` prints
    for row in payments:
        reports.PaymentListRow.model_validate(row)
    table = cli("list", "invoices", "--open", db=url).out.splitlines()
    assert table[0].split()[:3] == ["number", "account", "date"]
    assert cli("list", "invoices", "--period", "1999-01", db=url).code == 1
    assert cli("list", "invoices", "--as-of", "yesterday", db=url).code == 2


def test_a_filter_no_row_can_match_is_named_not_an_empty_list(cli: Any, seed003: Books) -> None:
    """``--status posted`` (the case) and a mistyped ``--account`` listed nothing and exited 0, so a newcomer read
    that the book had no such invoices; a --period the calendar lacks was refused already."""
    url = db_url(seed003)
    cases = [
        (
            ("invoices", "--status", "posted"),
            2,
            "error: Invalid value for '--status': no invoice has status 'posted'; choose from Draft, Posted, Canceled "
            "(see --help)",
        ),
        (
            ("payments", "--status", "Posted"),
            2,
            "error: Invalid value for '--status': no payment has status 'Posted'; choose from Draft, Processing, "
            "Processed, Canceled (see --help)",
        ),
        (("invoices", "--account", "A0000001"), 1, "error: --account: no customer account A0000001"),
        (("payments", "--account", "A0000001"), 1, "error: --account: no customer account A0000001"),
    ]
    for args, code, line in cases:
        said = cli("list", *args, db=url)
        assert (said.code, said.out, said.err) == (code, "", line + "\n")
    assert len(cli("list", "invoices", "--status", "Posted", "--account", "A00000001", "--json", db=url).json()) == 2
    assert cli("list", "debit-memos", "--account", "A00000001", "--json", db=url).json() == []


def test_each_lists_status_help_names_the_statuses_it_takes(cli: Any) -> None:
    """``list payments --help`` offered ``Posted`` as a status, which it then refused (payments are Processed)."""
    for which, statuses in (
        ("invoices", DocumentStatus),
        ("credit-memos", DocumentStatus),
        ("payments", PaymentStatus),
    ):
        said = " ".join(cli("list", which, "--help").out.split())
        named = re.search(r"--status STATUS Only this status \(([^)]*)\)", said)
        assert named is not None, said
        assert named.group(1).split(", ") == list(get_args(statuses)), which


def test_aging_ties_to_the_receivable_control_balance(cli: Any, story: Books) -> None:
    url = db_url(story)
    for day in ("2026-10-31", "2026-11-16", "2026-11-30"):
        report = cli("report", "aging", "--as-of", day, "--json", db=url).json()
        assert report["totals"], day
        assert all(t["ties"] for t in report["totals"]), report["totals"]
    report = cli("report", "aging", "--as-of", "2026-11-30", "--json", db=url).json()
    reports.AgingReport.model_validate(report)
    rows = {(a["accountNumber"], a["currency"]): a for a in report["accounts"]}
    assert ("A00000001", "USD") in rows
    acme = rows[("A00000001", "USD")]
    # INV00000001, due 2026-11-04, unpaid: 26 days past due; INV00000002 written off.
    assert (acme["1-30"], acme["total"]) == ("430.00", "430.00")
    october = cli("report", "aging", "--as-of", "2026-10-31", "--json", db=url).json()
    acme_october = next(a for a in october["accounts"] if a["accountNumber"] == "A00000001")
    assert (acme_october["current"], acme_october["total"]) == ("710.00", "710.00")  # 860 billed - 150 paid
    text = cli("report", "aging", "--as-of", "2026-11-30", db=url).out
    assert "ties" in text
    assert "NO" not in text


def test_aging_counts_invoice_item_adjustments(engine: Engine) -> None:
    """A book without Invoice Settlement (``examples/no-settlement-books.json``): account A00000101 was billed 110.00
    (INV00000101, tax included), 1.00 (INV00000102) and 297.00 (INV00000103), and paid 100.00 of INV00000103: it owes
    308.00. A Credit adjustment of 100.00 on INV00000103's 300.00 charge line on 2026-11-20 leaves 208.00, and the
    aging still ties to the receivable control balance (which counts the adjustment)."""
    books = Books(engine=engine)
    books.init(settings=BookSettings(invoice_settlement=False))
    books.load(example("no-settlement-books.json"))
    with books.engine.connect() as conn:
        before = reports.aging(conn, dt.date(2026, 11, 30))
    assert [(a["accountNumber"], a["total"]) for a in before["accounts"]] == [("A00000101", "308.00")]
    books.adjust_invoice_items(
        {
            "adjustments": [
                {
                    "invoiceNumber": "INV00000103",
                    "type": "Credit",
                    "amount": "100.00",
                    "sourceType": "InvoiceDetail",
                    "sourceId": "II-1031",
                    "adjustmentDate": "2026-11-20",
                }
            ]
        }
    )
    with books.engine.connect() as conn:
        after = reports.aging(conn, dt.date(2026, 11, 30))
    assert all(t["ties"] for t in after["totals"]), after["totals"]
    assert [(a["accountNumber"], a["total"]) for a in after["accounts"]] == [("A00000101", "208.00")]


def test_write_off_register_ties_to_the_journal(cli: Any, story: Books) -> None:
    url = db_url(story)
    report = cli("report", "write-offs", "--period", "2026-11", "--json", db=url).json()
    reports.WriteOffReport.model_validate(report)
    assert [(w["memoNumber"], w["amount"], w["revenueImpacting"]) for w in report["writeOffs"]] == [
        ("WO-CM00000022-1", "-35.70", "credit memo written off"),
        ("WO-INV00000002-1", "280.00", "revenue impacting"),
        ("WO-INV00000010-1", "163.12", "non-revenue"),
    ]
    assert {(r["revenueImpacting"], r["currency"]): r["amount"] for r in report["byRevenueImpact"]} == {
        ("credit memo written off", "EUR"): "-35.70",
        ("non-revenue", "USD"): "163.12",
        ("revenue impacting", "USD"): "280.00",
    }
    assert {(r["accountingCode"], r["currency"]): r["amount"] for r in report["byAccountingCode"]} == {
        ("Bad Debt Expense", "USD"): "150.00",
        ("Sales Tax Payable", "USD"): "13.12",
        ("Deferred Revenue", "USD"): "280.00",
        ("Deferred Revenue", "EUR"): "-30.00",
        ("Sales Tax Payable", "EUR"): "-5.70",
    }
    assert [(t["currency"], t["amount"], t["ties"]) for t in report["totals"]] == [
        ("EUR", "-35.70", True),
        ("USD", "443.12", True),
    ]
    assert cli("report", "write-offs", "--period", "2026-10", "--json", db=url).json()["writeOffs"] == []


def test_reversal_register(cli: Any, story: Books) -> None:
    report = cli("report", "reversals", "--period", "2026-11", "--json", db=db_url(story)).json()
    reports.ReversalReport.model_validate(report)
    assert [(r["memoNumber"], r["documentNumber"], r["documentKind"], r["amount"]) for r in report["reversals"]] == [
        ("RV-CM00000021-1", "CM00000021", "CreditMemo", "59.50"),
        ("RV-INV00000022-1", "INV00000022", "Invoice", "297.50"),
    ]
    assert report["totals"] == [
        {"documentKind": "CreditMemo", "currency": "EUR", "count": 1, "amount": "59.50"},
        {"documentKind": "Invoice", "currency": "EUR", "count": 1, "amount": "297.50"},
    ]


def test_write_off_register_has_write_offs_by_invoice_item_adjustments(
    cli: Any, engine: Engine, tmp_path: Path
) -> None:
    """The demo's book without Invoice Settlement (``examples/no-settlement-books.json``): INV00000102 corrected by
    two adjustments on 2026-11-16 (balance 1.00 to 0.50), then INV00000101 (110.00), INV00000102 (0.50) and
    INV00000103 (197.00) written off by adjustments, taxation items included, on 2026-11-20. The register has one
    row per invoice written off, not the corrections, with the figures the Fava register reads from the ledger,
    and ties to the journal."""
    books = Books(engine=engine)
    books.init(settings=BookSettings(invoice_settlement=False))
    books.load(example("no-settlement-books.json"))
    books.adjust_invoice_items(
        {
            "adjustments": [
                {
                    "invoiceNumber": "INV00000102",
                    "type": type_,
                    "amount": amount,
                    "sourceType": "InvoiceDetail",
                    "sourceId": item,
                    "adjustmentDate": "2026-11-16",
                    "reasonCode": "Correcting invoice error",
                }
                for type_, amount, item in (("Charge", "2.00", "II-1021"), ("Credit", "2.50", "II-1022"))
            ]
        }
    )
    books.write_off_by_adjustments(
        ["INV00000101", "INV00000102", "INV00000103"],
        {
            "adjustmentDate": "2026-11-20",
            "reasonCode": "Write-off",
            "comment": "Uncollectible after collections",
            "adjustTaxationItems": True,
        },
    )
    url = db_url(books)
    result = cli("report", "write-offs", "--period", "2026-11", "--json", db=url)
    assert result.code == 0, result.err
    report = result.json()
    reports.WriteOffReport.model_validate(report)
    common = {
        "accountNumber": "A00000101",
        "date": "2026-11-20",
        "currency": "USD",
        "revenueImpacting": "revenue impacting",
        "reasonCode": "Write-off",
        "comment": "Uncollectible after collections",
    }
    assert report["writeOffs"] == [
        {"adjustmentNumbers": [f"IIA-INV00000101-{n}" for n in (1, 2, 3, 4)], "documentNumber": "INV00000101"}
        | common
        | {"amount": "110.00"},
        {"adjustmentNumbers": ["IIA-INV00000102-3", "IIA-INV00000102-4"], "documentNumber": "INV00000102"}
        | common
        | {"amount": "0.50"},
        {"adjustmentNumbers": [f"IIA-INV00000103-{n}" for n in (1, 2, 3, 4)], "documentNumber": "INV00000103"}
        | common
        | {"amount": "197.00"},
    ]
    assert report["byRevenueImpact"] == [
        {"revenueImpacting": "revenue impacting", "currency": "USD", "amount": "307.50"}
    ]
    assert report["byReasonCode"] == [{"reasonCode": "Write-off", "currency": "USD", "amount": "307.50"}]
    by_code = {r["accountingCode"]: r["amount"] for r in report["byAccountingCode"]}
    assert by_code == {
        "Deferred Revenue": "120.00",
        "Deferred Revenue - Services": "170.00",
        "Other Revenue": "0.50",
        "Sales Revenue": "-20.00",
        "Sales Tax Payable": "37.00",
    }
    assert report["totals"] == [{"currency": "USD", "amount": "307.50", "journal": "307.50", "ties": True}]
    # The Fava register, from the exported ledger alone, shows the same write-offs.
    books.export_beancount(tmp_path / "ledger")
    entries, errors, _ = loader.load_file(str(tmp_path / "ledger" / "main.beancount"))
    assert errors == []
    (register,) = review.registers(entries, "2026-11")
    assert [
        (m.source, m.customer, m.reason_code, m.comment, m.revenue_impacting, m.amount) for m in register.memos
    ] == [
        (w["documentNumber"], w["accountNumber"], w["reasonCode"], w["comment"], "Yes", {"USD": Decimal(w["amount"])})
        for w in report["writeOffs"]
    ]
    chart = review.accounts(entries)
    assert {chart[g.key].code: g.amount for g in register.by_code} == {
        code: {"USD": Decimal(amount)} for code, amount in by_code.items()
    }
    table = cli("report", "write-offs", "--period", "2026-11", db=url).out
    rows = [re.split(r"\s{2,}", line) for line in table.splitlines() if line.startswith("IIA-")]
    assert [(row[0], row[1], row[2], row[5]) for row in rows] == [
        (", ".join(w["adjustmentNumbers"]), "InvoiceItemAdjustment", w["documentNumber"], w["amount"])
        for w in report["writeOffs"]
    ]
    assert "USD      307.50   307.50  yes" in table
    assert cli("report", "write-offs", "--period", "2026-10", "--json", db=url).json()["writeOffs"] == []


def test_a_write_off_by_adjustments_one_at_a_time_is_in_the_register(cli: Any, engine: Engine, tmp_path: Path) -> None:
    """Single Transaction off: each adjustment of the write-off is an operation of its own, judged alone against
    the balance the ones before it left (here one of INV00000101's, 12.00, and one of INV00000103's, 30.00, go
    through; the others are refused). They were recorded as plain adjustments (corrections), so neither register
    showed the write-off; each is a row now, with its one adjustment, and the register ties to the journal."""
    books = Books(engine=engine)
    books.init(settings=BookSettings(invoice_settlement=False))
    books.load(example("no-settlement-books.json"))
    settings = {"adjustmentDate": "2026-11-20", "reasonCode": "Write-off", "adjustTaxationItems": True}
    invoices = ["INV00000101", "INV00000102", "INV00000103"]
    result = books.write_off_by_adjustments(invoices, settings | {"singleTransaction": False})
    assert [(i.status, i.adjustments) for i in result.invoices] == [
        ("Partial", ["IIA-INV00000101-1"]),
        ("Failed", []),
        ("Partial", ["IIA-INV00000103-1"]),
    ]
    report = cli("report", "write-offs", "--period", "2026-11", "--json", db=db_url(books)).json()
    assert [(w["documentNumber"], w["adjustmentNumbers"], w["amount"]) for w in report["writeOffs"]] == [
        ("INV00000101", ["IIA-INV00000101-1"], "12.00"),
        ("INV00000103", ["IIA-INV00000103-1"], "30.00"),
    ]
    assert report["totals"] == [{"currency": "USD", "amount": "42.00", "journal": "42.00", "ties": True}]
    books.export_beancount(tmp_path / "ledger")
    entries, errors, _ = loader.load_file(str(tmp_path / "ledger" / "main.beancount"))
    assert errors == []
    (register,) = review.registers(entries, "2026-11")
    assert [(m.source, m.amount) for m in register.memos] == [
        ("INV00000101", {"USD": Decimal("12.00")}),
        ("INV00000103", {"USD": Decimal("30.00")}),
    ]


def test_registers_carry_each_memos_comment(cli: Any, story: Books) -> None:
    """The write-off and reversal registers gave a memo's reason code but not its comment (only a write-off by
    invoice item adjustments had one), though the comment is why the write-off or reversal was made and the Fava
    register, the ledger and the GL export all show it; each row now has it, in JSON and in the table."""
    url = db_url(story)
    write_offs = cli("report", "write-offs", "--period", "2026-11", "--json", db=url).json()
    reports.WriteOffReport.model_validate(write_offs)
    assert [(w["memoNumber"], w.get("comment")) for w in write_offs["writeOffs"]] == [
        ("WO-CM00000022-1", None),
        ("WO-INV00000002-1", "Full write-off of the open balance"),
        ("WO-INV00000010-1", "Onboarding hours disputed; balance uncollectible"),
    ]
    story.reverse_credit_memo("CM00000001", example("reverse-credit-memo.json"))
    reversals = cli("report", "reversals", "--period", "2026-11", "--json", db=url).json()
    reports.ReversalReport.model_validate(reversals)
    assert [(r["memoNumber"], r.get("comment")) for r in reversals["reversals"]] == [
        ("RV-CM00000001-1", "Credit issued in error"),
        ("RV-CM00000021-1", None),
        ("RV-INV00000022-1", None),
    ]
    table = cli("report", "write-offs", "--period", "2026-11", db=url).out
    assert "comment" in table.splitlines()[1]
    assert "Onboarding hours disputed; balance uncollectible" in table
    assert "Credit issued in error" in cli("report", "reversals", "--period", "2026-11", db=url).out
