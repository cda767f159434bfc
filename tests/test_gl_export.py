"""GL export: journal runs (create, render, confirm, cancel, error), each format against its golden file and its
importer's rules, ERP profiles, safe files, and what an auditor finds on each line."""

from __future__ import annotations

import csv
import datetime as dt
import errno
import io
import itertools
import json
import os
import re
import stat
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from conftest import ROOT, assert_snapshot, db_url, dump, example, killed_at
from subledger.api import Books
from subledger.chart import load_chart
from subledger.errors import (
    Conflict,
    IdempotencyConflict,
    InvalidInput,
    PermissionDenied,
    Problems,
    RuleViolation,
    SubledgerError,
)
from subledger.export import gl
from subledger.export.gl import FORMATS, SUFFIX, GLEntry, GLLine, RunInfo, part_path, sidecar_path
from subledger.export.gl.files import Staged, _Writer
from subledger.export.gl.profile import NetSuite, Profile, load_profile

GOLDEN = ROOT / "tests" / "snapshots" / "gl"
PROFILE = ROOT / "examples" / "erp-profile.toml"


@pytest.fixture
def book(line_level: Books) -> Books:
    """Two customer accounts (USD and EUR) with invoices, debit and credit memos, payments, discounts and tax."""
    line_level.load(example("seed-003-books.json"))
    line_level.load(example("demo-books.json"))
    return line_level


def run_of(books: Books, period: str = "2026-10") -> str:
    created = books.create_journal_run(period).run
    assert created is not None
    return created.number


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def balances(path: Path, fmt: str) -> dict[str, Decimal]:
    """Debits minus credits per GL entry, read back from the file."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    if fmt == "jsonl":
        for line in path.read_text().splitlines():
            record = json.loads(line)
            for item in record["lines"]:
                sums[record["externalId"]] += Decimal(item["debit"]) - Decimal(item["credit"])
        return sums
    columns = {
        "csv": ("external_id", "debit", "credit"),
        "netsuite": ("External ID", "Debit", "Credit"),
        "quickbooks": ("Journal No.", "Debits", "Credits"),
        "intacct": ("REFERENCE_NO", "DEBIT", "CREDIT"),
    }
    for row in read_csv(path):
        if fmt == "xero":
            sums[row["*Narration"]] += Decimal(row["*Amount"])
        else:
            key, debit, credit = columns[fmt]
            sums[row[key]] += Decimal(row[debit] or "0") - Decimal(row[credit] or "0")
    return sums


def transferred(books: Books) -> tuple[list[str], list[str]]:
    with books.engine.connect() as conn:
        docs = conn.execute(text("SELECT number FROM documents WHERE transferred_to_accounting ORDER BY number"))
        pays = conn.execute(text("SELECT number FROM payments WHERE transferred_to_accounting ORDER BY number"))
        return list(docs.scalars()), list(pays.scalars())


def _entry(n: int, memo: str, name: str = "x", *, source: str | None = None, item: str | None = None) -> GLEntry:
    """A receivable debited (``item`` its line's item id) and revenue credited, with ``memo``, the customer's
    ``name`` and the ``source`` document."""
    return GLEntry(
        external_id=f"A-{n}",
        date=dt.date(2026, 10, 31),
        period="2026-10",
        currency="USD",
        transaction_type="Invoice Item",
        memo=memo,
        source_document=source,
        customer_name=name,
        lines=[
            GLLine("Accounts Receivable", "1200", Decimal("10.00"), Decimal(0), item),
            GLLine("Sales Revenue", "4000", Decimal(0), Decimal("10.00")),
        ],
    )


_ACCOUNTS = {
    "Accounts Receivable": gl.Account("Accounts Receivable", "1200", "AccountsReceivable", "Accounts Receivable"),
    "Sales Revenue": gl.Account("Sales Revenue", "4000", "SalesRevenue", "Sales Revenue"),
}
_RUN = RunInfo("JR-00000001", "2026-10", dt.date(2026, 10, 31), "Processing", "detail")


# --- the journal run, end to end --------------------------------------------------------------------------------


def test_run_renders_every_format_checks_confirms_and_rerenders_identically(book: Books, tmp_path: Path) -> None:
    created = book.create_journal_run("2026-10").run
    assert created is not None
    assert (created.number, created.status, created.entry_count) == ("JR-00000001", "Processing", 17)
    assert created.totals == {"EUR": "1887.70", "USD": "1972.25"}
    assert created.summary is not None
    assert len(created.summary) == 12
    files: dict[str, bytes] = {}
    for fmt in FORMATS:
        out = tmp_path / f"gl{SUFFIX[fmt]}"
        result = book.render_gl(created.number, out, format=fmt, profile=PROFILE)
        assert (result.run, result.journal_entries, result.gl_entries) == ("JR-00000001", 17, 17)
        assert result.files == [str(out), str(sidecar_path(out))]
        checked = book.check_gl(out, format=fmt, profile=PROFILE)
        assert checked.problems == []
        assert checked.journals == 17
        assert all(v == 0 for v in balances(out, fmt).values())
        assert len(balances(out, fmt)) == 17
        files[fmt] = out.read_bytes() + sidecar_path(out).read_bytes()
    # rendering records nothing; the run is still Processing and nothing is transferred
    assert book.journal_run(created.number).status == "Processing"
    assert transferred(book) == ([], [])
    confirmed = book.confirm_journal_run(created.number)
    assert (confirmed.status, confirmed.status_by) == ("Completed", "admin")
    assert transferred(book) == (
        ["CM00000001", "DM00000001", "DM00000002", "INV00000001", "INV00000002", "INV00000010", "INV00000020"],
        ["P00000001", "P00000010", "P00000020"],
    )
    assert book.create_journal_run("2026-10").run is None
    for fmt in FORMATS:
        again = tmp_path / "again" / f"gl{SUFFIX[fmt]}"
        book.render_gl(created.number, again, format=fmt, profile=PROFILE)
        assert again.read_bytes() + sidecar_path(again).read_bytes() == files[fmt]


def test_rendering_has_no_side_effect_and_one_format_does_not_block_another(book: Books, tmp_path: Path) -> None:
    number = run_of(book)
    before = dump(book.engine)
    netsuite = book.render_gl(number, tmp_path / "n.csv", format="netsuite", profile=PROFILE)
    xero = book.render_gl(number, tmp_path / "x.csv", format="xero", profile=PROFILE)
    assert netsuite.journal_entries == xero.journal_entries == 17
    assert (netsuite.gl_entries, xero.gl_entries) == (17, 17)
    assert dump(book.engine) == before


def test_cancel_releases_entries_to_the_next_run_and_is_refused_once_confirmed(book: Books, tmp_path: Path) -> None:
    first = run_of(book)
    cancelled = book.cancel_journal_run(first, "wrong subsidiary")
    assert (cancelled.status, cancelled.status_note) == ("Cancelled", "wrong subsidiary")
    with pytest.raises(RuleViolation, match="cancelled"):
        book.render_gl(first, tmp_path / "gl.csv")
    second = book.create_journal_run("2026-10").run
    assert second is not None
    assert (second.number, second.entry_count) == ("JR-00000002", 17)
    book.confirm_journal_run(second.number)
    before = dump(book.engine)
    with pytest.raises(RuleViolation, match="confirmed: its entries are transferred to accounting"):
        book.cancel_journal_run(second.number)
    with pytest.raises(RuleViolation, match="already cancelled"):
        book.cancel_journal_run(first)
    assert dump(book.engine) == before
    assert [(r.number, r.status) for r in book.journal_runs()] == [
        ("JR-00000001", "Cancelled"),
        ("JR-00000002", "Completed"),
    ]


def test_error_state_then_confirm_or_cancel(book: Books) -> None:
    number = run_of(book)
    failed = book.fail_journal_run(number, "NetSuite: invalid account reference key 1210")
    assert (failed.status, failed.status_note) == ("Error", "NetSuite: invalid account reference key 1210")
    with pytest.raises(RuleViolation, match="only a Processing run can be marked Error"):
        book.fail_journal_run(number, "again")
    assert transferred(book) == ([], [])
    assert book.confirm_journal_run(number).status == "Completed"
    with pytest.raises(RuleViolation, match="only a Processing or Error run can be confirmed"):
        book.confirm_journal_run(number)


def test_entries_posted_later_go_in_the_next_run(book: Books, tmp_path: Path) -> None:
    run_of(book)
    payment = {"number": "P00000099", "accountNumber": "A00000001", "effectiveDate": "2026-10-30"}
    book.load({"payments": [{**payment, "currency": "USD", "amount": "10.00"}]})
    late = book.create_journal_run("2026-10").run
    assert late is not None
    assert (late.number, late.entry_count) == ("JR-00000002", 1)
    result = book.render_gl(late.number, tmp_path / "late.csv", summary=True)
    assert result.gl_entries == 1
    assert read_csv(tmp_path / "late.csv")[0]["external_id"] == "JR-00000002-001"


def test_credit_memo_reversal_is_blocked_by_the_confirmed_run_only(book: Books) -> None:
    with book.engine.begin() as conn:  # an unapplied credit memo, as a bill run would leave it
        conn.execute(text("DELETE FROM applications WHERE source_number = 'CM00000001'"))
        conn.execute(text("UPDATE document_items SET balance = amount WHERE document_number = 'CM00000001'"))
        conn.execute(text("UPDATE taxation_items SET balance = tax_amount WHERE document_number = 'CM00000001'"))
    number = run_of(book)
    book.confirm_journal_run(number)
    before = dump(book.engine)
    with pytest.raises(SubledgerError, match="transferred to accounting"):
        book.reverse_credit_memo("CM00000001", {"memoDate": "2026-11-02", "applyEffectiveDate": "2026-11-02"})
    assert dump(book.engine) == before


def test_a_processing_run_does_not_block_a_credit_memo_reversal(book: Books) -> None:
    with book.engine.begin() as conn:
        conn.execute(text("DELETE FROM applications WHERE source_number = 'CM00000001'"))
        conn.execute(text("UPDATE document_items SET balance = amount WHERE document_number = 'CM00000001'"))
        conn.execute(text("UPDATE taxation_items SET balance = tax_amount WHERE document_number = 'CM00000001'"))
    run_of(book)
    result = book.reverse_credit_memo("CM00000001", {"memoDate": "2026-11-02", "applyEffectiveDate": "2026-11-02"})
    assert result.model_dump()


def test_journal_runs_need_the_permission(book: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    actors = tmp_path / "actors.toml"
    actors.write_text('[actors.clerk]\npermissions = ["Manage Close Process"]\n')
    book.import_actors(actors)
    before = dump(book.engine)
    with pytest.raises(PermissionDenied, match="Transfer to Accounting"):
        book.as_actor("clerk").create_journal_run("2026-10")
    with pytest.raises(PermissionDenied, match="Transfer to Accounting"):
        book.as_actor("clerk").export_gl("2026-10", tmp_path / "gl.csv")
    assert dump(book.engine) == before
    assert not (tmp_path / "gl.csv").exists()


# --- golden files -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("summary", [False, True], ids=["detail", "summary"])
@pytest.mark.parametrize("profile", ["default", "example"])
def test_every_format_matches_its_golden_file(
    book: Books, tmp_path: Path, fmt: str, summary: bool, profile: str
) -> None:
    name = f"2026-10-{'summary' if summary else 'detail'}-{profile}{SUFFIX[fmt]}"
    out = tmp_path / "out" / name
    number = run_of(book)
    chosen = PROFILE if profile == "example" else None
    if fmt in ("xero", "quickbooks") and profile == "default":
        # Xero, and QuickBooks without multicurrency, take the base currency only: without a profile's rates the
        # EUR entries are refused, naming the key to set, and nothing is written.
        with pytest.raises(RuleViolation, match=rf"{fmt}\.foreign_currency"):
            book.render_gl(number, out, format=fmt, summary=summary, profile=chosen)
        assert list((tmp_path / "out").iterdir()) == []
        return
    book.render_gl(number, out, format=fmt, summary=summary, profile=chosen)
    assert_snapshot(GOLDEN / name, out.read_bytes())
    assert all(v == 0 for v in balances(out, fmt).values())


def test_columns_of_each_layout() -> None:
    profile = load_profile(PROFILE)
    assert {fmt: ",".join(gl.header_of(fmt, profile)) for fmt in FORMATS if fmt != "jsonl"} == {
        "csv": "external_id,date,period,transaction_type,account_number,account_name,debit,credit,currency,memo,"
        "source_document,related_document,customer_account,item_id,reason_code,comment,journal_run",
        "netsuite": "External ID,Date,Posting Period,Subsidiary,Currency,Exchange Rate,Memo,Account,Debit,Credit,"
        "Line Memo,Name",
        "xero": "*Narration,*Date,Description,*AccountCode,*TaxRate,*Amount",
        "quickbooks": "Journal No.,Journal Date,Account Name,Debits,Credits,Description,Name",
        "intacct": "JOURNAL,DATE,DESCRIPTION,REFERENCE_NO,LINE_NO,ACCT_NO,LOCATION_ID,DEPT_ID,DOCUMENT,MEMO,DEBIT,"
        "CREDIT,CURRENCY,EXCH_RATE_DATE,EXCH_RATE_TYPE_ID,GLDIMPROJECT",
    }
    assert gl.header_of("netsuite")[3] == "Currency"  # no Subsidiary column unless the profile names one


# --- what each ERP gets from the profile ------------------------------------------------------------------------


def test_profiles_shape_each_erp_file(book: Books, tmp_path: Path) -> None:
    number = run_of(book)
    for fmt in ("netsuite", "xero", "quickbooks", "intacct"):
        book.render_gl(number, tmp_path / f"gl{SUFFIX[fmt]}", format=fmt, profile=PROFILE)
    netsuite = read_csv(tmp_path / "gl.netsuite.csv")
    assert {r["Subsidiary"] for r in netsuite} == {"Parent Company"}
    receivable = [r for r in netsuite if r["Account"] in ("1200 Accounts Receivable", "1250 Credit Memo On-Account")]
    assert receivable
    assert all(r["Name"] in ("Acme Corp", "Globex Ltd", "Initech GmbH") for r in receivable)
    assert {r["Exchange Rate"] for r in netsuite if r["Currency"] == "EUR"} == {"1.0850"}
    assert {r["Exchange Rate"] for r in netsuite if r["Currency"] == "USD"} == {"1"}
    xero = read_csv(tmp_path / "gl.xero.csv")
    assert "1200" not in {r["*AccountCode"] for r in xero}
    assert "1210" in {r["*AccountCode"] for r in xero}
    eur = [r for r in xero if r["*Narration"].startswith("A00000003-1 ")]
    assert eur[0]["*Amount"] == "325.50"  # 300.00 EUR at 1.0850
    assert sum(Decimal(r["*Amount"]) for r in eur) == 0
    quickbooks = read_csv(tmp_path / "gl.quickbooks.csv")
    assert "Deferred Revenue:Deferred Revenue - Services" in {r["Account Name"] for r in quickbooks}
    assert all(r["Name"] for r in quickbooks if r["Account Name"] == "Accounts Receivable")
    assert "Currency" not in quickbooks[0]
    intacct = read_csv(tmp_path / "gl.intacct.csv")
    assert all(len(r["DESCRIPTION"]) <= 30 for r in intacct)
    first = [r["LINE_NO"] for r in intacct if r["REFERENCE_NO"] == "A00000003-1"]
    assert first == [str(n) for n in range(1, len(first) + 1)]
    assert {r["GLDIMPROJECT"] for r in intacct} == {"SUBLEDGER"}
    manifest = json.loads(sidecar_path(tmp_path / "gl.xero.csv").read_text())
    assert manifest["profile"]["settings"]["rates"] == {"EUR": "1.0850"}
    assert manifest["profile"]["sha256"] == load_profile(PROFILE).digest


def test_a_foreign_currency_without_a_rate_is_refused(book: Books, tmp_path: Path) -> None:
    number = run_of(book)
    profile = tmp_path / "p.toml"
    profile.write_text('[xero]\nforeign_currency = "convert"\n')
    with pytest.raises(RuleViolation, match="no xero rate for EUR") as caught:
        book.render_gl(number, tmp_path / "out" / "x.csv", format="xero", profile=profile)
    assert caught.value.field == "xero.rates.EUR"
    assert list((tmp_path / "out").iterdir()) == []


def test_a_profiles_rates_may_be_toml_numbers(tmp_path: Path) -> None:
    """``EUR = 1.085`` and ``EUR = "1.085"`` are the same rate, read exactly (no float on the way)."""
    path = tmp_path / "p.toml"
    path.write_text("[xero]\nrates = { EUR = 1.085, GBP = 1.2649999999999999 }\n")
    rates = load_profile(path).xero.rates
    assert rates == {"EUR": Decimal("1.085"), "GBP": Decimal("1.2649999999999999")}


@pytest.mark.parametrize(
    ("content", "field", "rule"),
    [
        ("[xero]\nbase_curency = 'USD'\n", "xero.base_curency", "unknown key"),
        ("[netsuite]\naccount_style = 'id'\n", "netsuite.account_style", "Input should be"),
        ("[xero]\nrates = { EUR = nan }\n", "xero.rates.EUR", "not a finite number"),
        ("[xero]\nrates = { EUR = 0 }\n", "xero.rates.EUR", "must be positive, not 0"),
        ("[quickbooks]\nrates = { EUR = -1.085 }\n", "quickbooks.rates.EUR", "must be positive, not -1.085"),
        ("[netsuite]\nrates = { EUR = '0.00' }\n", "netsuite.rates.EUR", "must be positive, not 0.00"),
        ("[intacct]\njournal = ''\n", "intacct.journal", "at least 1 character"),
        ("[netsuite.posting_periods]\nFY26-P03 = ''\n", "netsuite.posting_periods.FY26-P03", "at least 1 character"),
        ("[sap]\n", "sap", "unknown key"),
        ("[xero\n", None, "not valid TOML"),
    ],
)
def test_a_bad_profile_is_one_clear_line(tmp_path: Path, content: str, field: str | None, rule: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(content)
    with pytest.raises(InvalidInput) as caught:
        load_profile(path)
    assert caught.value.field == field
    assert rule in caught.value.rule
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("rate", ["0", "-1.085"])
def test_a_rate_that_is_not_positive_is_refused_before_any_file(
    book: Books, tmp_path: Path, cli: Any, rate: str
) -> None:
    """A rate of 0 wrote every EUR line to Xero as 0.00, and a negative one swapped each line's debit and credit
    (the clearing account credited for an invoice); both files balanced and passed the check. Refused, naming the
    key."""
    number = run_of(book)
    profile = tmp_path / "p.toml"
    profile.write_text(f'[xero]\nforeign_currency = "convert"\nrates = {{ EUR = {rate} }}\n')
    out = tmp_path / "gl" / "x.csv"
    done = cli(
        "export",
        "gl",
        "--run",
        number,
        "--format",
        "xero",
        "--profile",
        str(profile),
        "--out",
        str(out),
        db=db_url(book),
    )
    assert (done.code, done.out) == (1, "")
    assert done.err == f"error: {profile}, xero.rates.EUR: Value error, must be positive, not {rate}\n"
    assert not out.parent.exists()


def _four_four_five(tmp_path: Path) -> Path:
    """A 2026 calendar of 4-4-5 periods named FY26-P01...: FY26-P03 runs from February 26th to April 1st."""
    folder = tmp_path / "periods"
    folder.mkdir()
    rows, start = ["name,start_date,end_date,fiscal_year,fiscal_quarter"], dt.date(2026, 1, 1)
    for n in range(1, 13):
        end = start + dt.timedelta(weeks=5 if n % 3 == 0 else 4, days=-1) if n < 12 else dt.date(2026, 12, 31)
        rows.append(f"FY26-P{n:02d},{start},{end},2026,{(n - 1) // 3 + 1}")
        start = end + dt.timedelta(days=1)
    (folder / "2026.csv").write_text("\n".join(rows) + "\n")
    return folder


def _ten_dollar_invoice(n: int, account: str, date: str, *, prefix: str = "") -> dict[str, Any]:
    """Invoice ``PREFIX`` INV number ``n`` of ``account``: one 10.00 USD charge (item PREFIX II-n), no tax."""
    return {
        "invoiceNumber": f"{prefix}INV{n:0{8 - len(prefix)}d}",
        "accountNumber": account,
        "invoiceDate": date,
        "currency": "USD",
        "items": [
            {
                "id": f"{prefix}II-{n}",
                "processingType": "Charge",
                "chargeAmount": "10.00",
                "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
                "taxationItems": [],
            }
        ],
    }


def test_netsuites_posting_period_is_the_books_period_not_the_dates_month(engine: Any, tmp_path: Path) -> None:
    books = Books(engine=engine)
    books.init(periods=_four_four_five(tmp_path))
    assert [(p.name, p.start_date, p.end_date) for p in books.periods()][2] == (
        "FY26-P03",
        dt.date(2026, 2, 26),
        dt.date(2026, 4, 1),
    )
    dates = ["2026-02-26", "2026-03-15", "2026-04-01"]  # one book period, three calendar months
    books.load(
        {
            "accounts": [{"accountNumber": "A00000001", "name": "Acme", "currency": "USD"}],
            "invoices": [_ten_dollar_invoice(n, "A00000001", date) for n, date in enumerate(dates, start=1)],
        }
    )
    number = run_of(books, "FY26-P03")
    mapped = tmp_path / "p.toml"
    mapped.write_text('[netsuite.posting_periods]\n"FY26-P03" = "Mar 2026"\n"2026-10" = "Oct FY26"\n')
    for summary in (False, True):
        out = tmp_path / f"{summary}" / "gl.netsuite.csv"
        books.render_gl(number, out, format="netsuite", summary=summary, profile=PROFILE)
        rows = read_csv(out)
        assert {r["Date"] for r in rows} == (
            {"02/26/2026", "03/15/2026", "04/01/2026"} if not summary else {"04/01/2026"}
        )
        assert {r["Posting Period"] for r in rows} == {"FY26-P03"}
        assert books.check_gl(out, format="netsuite", profile=PROFILE).problems == []
        books.render_gl(number, out.with_name("mapped.csv"), format="netsuite", summary=summary, profile=mapped)
        assert {r["Posting Period"] for r in read_csv(out.with_name("mapped.csv"))} == {"Mar 2026"}
    manifest = json.loads(sidecar_path(tmp_path / "True" / "mapped.csv").read_text())
    assert manifest["profile"]["settings"]["postingPeriods"] == {"2026-10": "Oct FY26", "FY26-P03": "Mar 2026"}


def test_a_calendar_month_period_is_posted_to_netsuites_month(tmp_path: Path) -> None:
    entries = [_entry(1, "m")]
    entries[0].period = "2026-02"  # the period's name, not the entry's date (October), says the month
    out = tmp_path / "gl.csv"
    gl.render("netsuite", entries, out, run=_RUN, accounts=_ACCOUNTS).commit()
    assert {r["Posting Period"] for r in read_csv(out)} == {"Feb 2026"}


# --- validators -------------------------------------------------------------------------------------------------


#: The default chart as the ERP formats see it (a check with the books maps accounts through it).
CHART = gl.accounts_of(load_chart(ROOT / "chart_of_accounts").codes.values())


def _check(tmp_path: Path, fmt: str, body: str, *, chart: bool = True) -> list[str]:
    path = tmp_path / f"check{SUFFIX[fmt]}"
    path.write_text(body)
    found = gl.check_file(path, fmt, accounts=CHART if chart else None)
    return [str(p) for p in found.problems]


NS = "External ID,Date,Posting Period,Currency,Exchange Rate,Memo,Account,Debit,Credit,Line Memo,Name\n"


@pytest.mark.parametrize(
    ("fmt", "body", "expected"),
    [
        (
            "netsuite",
            NS + "E1,10/05/2026,Oct 2026,USD,,m,1200,10.00,,x,Acme\nE1,10/05/2026,Oct 2026,USD,,m,4000,,9.00,x,\n",
            "row 2: journal E1 does not balance (debits - credits = 1.00)",
        ),
        (
            "netsuite",
            NS + "E1,2026-10-05,Oct 2026,USD,,m,1200,10.00,,x,Acme\nE1,10/05/2026,Oct 2026,USD,,m,4000,,10.00,x,\n",
            "row 2, Date: '2026-10-05' is not a date as MM/DD/YYYY",
        ),
        (
            "netsuite",
            NS + 'E1,10/05/2026,Oct 2026,USD,,=HYPERLINK("x"),1200,10.00,,x,Acme\nE1,10/05/2026,Oct 2026,'
            "USD,,m,4000,,10.00,x,\n",
            "row 2, Memo: a spreadsheet would run this cell as a formula",
        ),
        ("netsuite", NS + "E1,10/05/2026,Oct 2026,USD,,m,1200,10.00,,x,Acme\n", "a journal has at least 2"),
        (
            "netsuite",
            NS + "E1,10/05/2026,Oct 2026,USD,,m,1200,10.00,,x,Acme\nE1,10/05/2026,Oct 2026,EUR,,m,4000,,10.00,x,\n",
            "row 3, Currency: a header field of journal E1: the same on every line; its first line has 'USD'",
        ),
        (
            "netsuite",
            NS + "E1,02/30/2026,Feb 2026,USD,,m,1200,10.00,,x,Acme\nE1,02/30/2026,Feb 2026,USD,,m,4000,,10.00,x,\n",
            "row 2, Date: '02/30/2026' is not a day of the calendar",
        ),
        (
            "xero",
            "*Narration,*Date,Description,*AccountCode,*TaxRate,*Amount\nJ1,31/02/2026,d,1210,Tax Exempt,10.00\n"
            "J1,31/02/2026,d,4000,Tax Exempt,-10.00\n",
            "row 2, *Date: '31/02/2026' is not a day of the calendar",
        ),
        (
            "netsuite",
            NS + "E1,10/05/2026,Oct 2026,USD,,m,1200,12345678901.00,,x,Acme\nE1,10/05/2026,Oct 2026,USD,,m,"
            "4000,,12345678901.00,x,\n",
            "row 2, Debit: '12345678901.00' is not a positive amount (at most 10 digits",
        ),
        ("netsuite", "External ID,Date\nE1,10/05/2026\n", "row 1: netsuite header: missing column 'Posting Period'"),
        (
            "xero",
            "*Narration,*Date,Description,*AccountCode,*TaxRate,*Amount\nJ1,05/10/2026,d,1200,Tax Exempt,10.00\n"
            "J1,05/10/2026,d,4000,Tax Exempt,-10.00\n",
            "row 2, *AccountCode: account '1200' is a system account",
        ),
        (
            "xero",
            "*Narration,*Date,Description,*AccountCode,*TaxRate,*Amount\nJ1,05/10/2026,d,1210,,10.00\n"
            "J1,05/10/2026,d,4000,Tax Exempt,-10.00\n",
            "row 2, *TaxRate: is required",
        ),
        (
            "quickbooks",
            "Journal No.,Journal Date,Account Name,Debits,Credits,Description,Name\n"
            "J1,10/05/2026,Accounts Receivable,10.00,,d,\nJ1,10/05/2026,Sales Revenue,,10.00,d,\n",
            "row 2, Name: a receivable line needs the customer's name",
        ),
        (
            "quickbooks",
            "Journal No.,Journal Date,Account Name,Debits,Credits,Description,Name\n"
            "J1,10/05/2026,Deferred Revenue - Services,10.00,,d,\nJ1,10/05/2026,Sales Revenue,,10.00,d,\n",
            "row 2, Account Name: account 'Deferred Revenue - Services' is not mapped in the ERP profile",
        ),
        (
            "intacct",
            "JOURNAL,DATE,DESCRIPTION,REFERENCE_NO,LINE_NO,ACCT_NO,LOCATION_ID,DEPT_ID,DOCUMENT,MEMO,DEBIT,"
            "CREDIT,CURRENCY,EXCH_RATE_DATE,EXCH_RATE_TYPE_ID\n"
            "GJ,10/05/2026,A description longer than thirty,R1,1,1200,,,,m,10.00,,USD,,\n"
            "GJ,10/05/2026,d,R1,3,4000,,,,m,,10.00,USD,,\n",
            "row 2, DESCRIPTION: is 32 characters; at most 30",
        ),
        (
            "intacct",
            "JOURNAL,DATE,DESCRIPTION,REFERENCE_NO,LINE_NO,ACCT_NO,LOCATION_ID,DEPT_ID,DOCUMENT,MEMO,DEBIT,"
            "CREDIT,CURRENCY,EXCH_RATE_DATE,EXCH_RATE_TYPE_ID\nGJ,10/05/2026,d,R1,1,1200,,,,m,10.00,,USD,,\n"
            "GJ,10/05/2026,d,R1,3,4000,,,,m,,10.00,USD,,\n",
            "row 3, LINE_NO: lines are numbered from 1 within each entry; expected 2",
        ),
        ("csv", "external_id,date\n", "csv header: missing column 'period'"),
    ],
)
def test_each_validator_names_the_rule_and_row(tmp_path: Path, fmt: str, body: str, expected: str) -> None:
    problems = _check(tmp_path, fmt, body)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(f"check{SUFFIX[fmt]}, ") for p in problems)


def test_check_with_the_books_maps_accounts_through_the_profile(book: Books, tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        "Journal No.,Journal Date,Account Name,Debits,Credits,Description,Name\n"
        "J1,10/05/2026,Deferred Revenue - Services,10.00,,d,\nJ1,10/05/2026,Sales Revenue,,10.00,d,\n"
    )
    problems = [str(p) for p in book.check_gl(path, format="quickbooks").problems]
    assert problems == [
        "q.csv, row 2, Account Name: account 'Deferred Revenue - Services' is not mapped in the ERP profile"
    ]


def test_an_amount_over_netsuites_ten_digits_goes_in_as_lines_of_the_same_account(tmp_path: Path) -> None:
    """NetSuite takes at most 9,999,999,999.99 a line, the book 999,999,999,999.99 a document: an invoice of
    123,456,789,012.34 USD is twelve lines of the most and one of 3,456,789,012.46 on each side, in the one entry."""
    entry = _entry(1, "m", "Acme", source="INV00000001", item="II-1")
    big = Decimal("123456789012.34")
    entry.lines = [
        GLLine(line.code, line.number, line.debit and big, line.credit and big, line.item_id) for line in entry.lines
    ]
    out = tmp_path / "gl.csv"
    gl.render("netsuite", [entry], out, run=_RUN, accounts=_ACCOUNTS).commit()
    rows = read_csv(out)
    most, rest = "9999999999.99", "3456789012.46"
    assert [(r["Account"], r["Debit"], r["Credit"], r["Name"]) for r in rows] == [
        *[("1200 Accounts Receivable", most, "", "Acme")] * 12,
        ("1200 Accounts Receivable", rest, "", "Acme"),
        *[("4000 Sales Revenue", "", most, "")] * 12,
        ("4000 Sales Revenue", "", rest, ""),
    ]
    assert {r["External ID"] for r in rows} == {"A-1"}
    assert balances(out, "netsuite") == {"A-1": Decimal(0)}
    assert _check(tmp_path, "netsuite", out.read_text(), chart=False) == []


def test_the_manifest_counts_the_lines_the_file_holds_not_the_journal_lines(tmp_path: Path) -> None:
    """An amount over NetSuite's ten digits is 13 lines of the file a side: the sidecar's ``lines`` (and the render's,
    which the command prints) is what the file holds, as its per-file count says; it said 4 (the journal lines)."""
    entry = _entry(1, "m", "Acme", source="INV00000001", item="II-1")
    big = Decimal("123456789012.34")
    entry.lines = [
        GLLine(line.code, line.number, line.debit and big, line.credit and big, line.item_id) for line in entry.lines
    ]
    out = tmp_path / "gl.csv"
    staged = gl.render("netsuite", [entry, _entry(2, "small", "Acme")], out, run=_RUN, accounts=_ACCOUNTS)
    staged.commit()
    manifest = json.loads(sidecar_path(out).read_text())
    held = len(read_csv(out))
    assert held == 28
    assert (staged.lines, manifest["lines"], manifest["glEntries"]) == (held, held, 2)
    assert [(f["name"], f["lines"], f["journals"]) for f in manifest["files"]] == [("gl.csv", held, 2)]


def _big_invoices(books: Books, tmp_path: Path, count: int, amount: str) -> None:
    """``count`` invoices of ``amount`` USD each (one item) on one customer account, dated in October 2026."""
    item = {
        "chargeName": "Big",
        "chargeModel": "Flat Fee Pricing",
        "subscriptionNumber": "S00000001",
        "processingType": "Charge",
        "quantity": "1",
        "unitPrice": amount,
        "chargeAmount": amount,
        "serviceStartDate": "2026-10-01",
        "serviceEndDate": "2026-10-31",
        "financeInformation": {
            "deferredRevenueAccountingCode": "Deferred Revenue",
            "recognizedRevenueAccountingCode": "Sales Revenue",
        },
        "taxationItems": [],
    }
    invoices = [
        {
            "invoiceNumber": f"INV{n:08d}",
            "accountNumber": "A00000001",
            "invoiceDate": "2026-10-05",
            "dueDate": "2026-11-04",
            "currency": "USD",
            "status": "Posted",
            "items": [{"id": f"II-{n:04d}", **item}],
        }
        for n in range(1, count + 1)
    ]
    body = {"accounts": [{"accountNumber": "A00000001", "name": "Acme Corp", "currency": "USD"}], "invoices": invoices}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(body))
    books.load(path)


def test_a_run_of_amounts_over_ten_digits_says_the_lines_its_netsuite_file_holds(
    books: Books, tmp_path: Path, cli: Any
) -> None:
    """Two invoices of 123,456,789,012.34: 4 journal lines, 52 lines of the NetSuite file. The command and the
    sidecar say 52 (they said 4); the run keeps counting the book's journal lines."""
    _big_invoices(books, tmp_path, 2, "123456789012.34")
    out = tmp_path / "gl" / "n.csv"
    done = cli("export", "gl", "--period", "2026-10", "--format", "netsuite", "--out", str(out), db=db_url(books))
    assert done.code == 0, done.err
    held = len(read_csv(out))
    assert held == 52
    assert f"2 detail GL entries, {held} lines (debits 246913578024.68 USD)" in done.out
    assert json.loads(sidecar_path(out).read_text())["lines"] == held
    assert books.journal_runs()[-1].line_count == 4


def test_netsuite_refuses_an_entry_over_its_line_limit(tmp_path: Path) -> None:
    rows = "".join("E1,10/05/2026,Oct 2026,USD,,m,4000,,1.00,x,\n" for _ in range(1000))
    body = NS + "E1,10/05/2026,Oct 2026,USD,,m,1200,1000.00,,x,Acme\n" + rows
    assert any(
        "has 1001 lines; netsuite takes at most 1000 per entry" in p
        for p in _check(tmp_path, "netsuite", body, chart=False)
    )


def test_an_export_that_would_break_a_rule_writes_no_file(book: Books, tmp_path: Path) -> None:
    number = run_of(book)
    profile = tmp_path / "p.toml"
    profile.write_text('[intacct]\ndimensions = { GLDIMPROJECT = "=cmd|calc" }\n[quickbooks]\nsummary_name = ""\n')
    # a profile value becomes a safe cell (the apostrophe), so it passes...
    book.render_gl(number, tmp_path / "ok" / "i.csv", format="intacct", profile=profile)
    assert {r["GLDIMPROJECT"] for r in read_csv(tmp_path / "ok" / "i.csv")} == {"'=cmd|calc"}
    # ...but a summary receivable line with no Name breaks QuickBooks' rule: refused, nothing in place
    with pytest.raises(Problems, match="a receivable line needs the customer's name") as caught:
        book.render_gl(number, tmp_path / "out" / "q.csv", format="quickbooks", summary=True, profile=profile)
    assert "q.csv, row 2, Name" in str(caught.value)
    assert list((tmp_path / "out").iterdir()) == []


XERO = '[xero]\nforeign_currency = "convert"\nrates = { EUR = "1.0850" }\n'


def test_a_profile_that_would_misplace_receivables_is_refused(book: Books, tmp_path: Path) -> None:
    """NetSuite without the customer's Name on A/R lines ("No Customer" on its aging), Xero posting receivables to
    its Accounts Receivable system account or to another account's code: each refused, no file written."""
    number = run_of(book)
    cases = [
        ("netsuite", "[netsuite]\ncustomer_name = false\n", "Name: a receivable line needs the customer's name"),
        ("xero", f'{XERO}receivable_clearing_account = "1200"\n', "account '1200' is a system account"),
        (
            "xero",
            f'{XERO}receivable_clearing_account = "2400"\n',
            "xero.receivable_clearing_account '2400' is also the Xero account of Deferred Revenue: receivable lines "
            "need an account of their own",
        ),
    ]
    for i, (fmt, toml, expected) in enumerate(cases):
        profile = tmp_path / f"p{i}.toml"
        profile.write_text(toml)
        out = tmp_path / f"out{i}" / f"gl{SUFFIX[fmt]}"
        with pytest.raises(SubledgerError, match=re.escape(expected)):
            book.render_gl(number, out, format=fmt, profile=profile)
        assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_xero_files_hold_at_most_300_lines_and_never_split_an_entry(books: Books, tmp_path: Path) -> None:
    invoices = [_ten_dollar_invoice(n, "A00000001", "2026-10-05") for n in range(1, 161)]
    books.load({"accounts": [{"accountNumber": "A00000001", "name": "Acme", "currency": "USD"}], "invoices": invoices})
    out = tmp_path / "gl.csv"
    result = books.export_gl("2026-10", out, format="xero")
    assert result.files == [str(out), str(part_path(out, 2)), str(sidecar_path(out))]
    first, second = read_csv(out), read_csv(part_path(out, 2))
    assert (len(first), len(second)) == (300, 20)
    narrations = [{r["*Narration"] for r in rows} for rows in (first, second)]
    assert not narrations[0] & narrations[1]
    assert len(narrations[0] | narrations[1]) == 160
    for path in (out, part_path(out, 2)):
        assert books.check_gl(path, format="xero").problems == []


def _long_account_book(books: Books) -> tuple[str, str]:
    """seed-003 under a 21-character account number (its ids are 23 characters), and an 18-character one with 100
    invoices (ids of 20 and 21 characters up to its 99th entry, 22 from its 100th)."""
    long, eighteen = "ACCT-0000000000000001", "B-0000000000000002"
    assert (len(long), len(eighteen)) == (21, 18)
    books.load(json.loads(example("seed-003-books.json").read_text().replace("A00000001", long)))
    invoices = [_ten_dollar_invoice(n, eighteen, "2026-10-06", prefix="B") for n in range(1, 101)]
    books.load({"accounts": [{"accountNumber": eighteen, "name": "Beta", "currency": "USD"}], "invoices": invoices})
    return long, eighteen


def test_quickbooks_journal_no_is_the_id_when_it_fits_else_the_runs_number_and_the_entrys_ordinal() -> None:
    from subledger.export.gl.quickbooks import JOURNAL_NO_MAX, journal_no

    fits = "B-0000000000000002-99"
    assert (len(fits), journal_no(fits, "JR-00000001", 7)) == (JOURNAL_NO_MAX, fits)
    assert journal_no("B-0000000000000002-100", "JR-00000001", 7) == "JR-00000001-E7"
    assert journal_no("JR-00000001-001", "JR-00000001", 1) == "JR-00000001-001"
    # an account may be numbered like a run, but its ids end in a hyphen and digits; a shortened number never does
    assert journal_no("JR-00000001-0123456789", "JR-00000001", 7) == "JR-00000001-E7"
    assert len(journal_no("X" * 64 + "-1", "JR-99999999", 99_999_999)) == JOURNAL_NO_MAX


def test_a_long_account_number_renders_for_quickbooks_with_short_unique_journal_nos(
    books: Books, tmp_path: Path
) -> None:
    long, eighteen = _long_account_book(books)
    number = run_of(books)
    # the run's entries, in the order every format renders them, by their full ids
    books.render_gl(number, tmp_path / "gl.csv")
    ids = list(dict.fromkeys(r["external_id"] for r in read_csv(tmp_path / "gl.csv")))
    assert len(ids) == 104
    assert max(len(i) for i in ids) == 23
    assert f"{eighteen}-99" in ids
    assert f"{eighteen}-100" in ids
    out = tmp_path / "gl.quickbooks.csv"
    result = books.render_gl(number, out, format="quickbooks")
    assert result.gl_entries == 104
    rows = read_csv(out)
    by_no: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_no[row["Journal No."]].append(row)
    # one Journal No. per entry, in the run's order; an id that fits is kept, a longer one is RUN-EORDINAL
    expected = [i if len(i) <= 21 else f"{number}-E{n}" for n, i in enumerate(ids, start=1)]
    assert list(by_no) == expected
    assert expected[ids.index(f"{eighteen}-99")] == f"{eighteen}-99"
    # by date: the long account's invoices (5th), the 18-character account's (6th), the long account's payment (20th)
    assert expected[ids.index(f"{long}-1")] == "JR-00000001-E1"
    assert expected[ids.index(f"{eighteen}-100")] == "JR-00000001-E102"
    assert expected[ids.index(f"{long}-4")] == "JR-00000001-E104"
    assert all(len(n) <= 21 for n in by_no)
    assert not set(by_no) & (set(ids) - set(expected))  # no shortened number is another entry's id
    # every line of a shortened entry names the entry's id first; an entry that kept its id is as before
    for journal, full in zip(expected, ids, strict=True):
        for row in by_no[journal]:
            if journal == full:
                assert not row["Description"].startswith("entry: ")
            else:
                assert row["Description"].startswith(f"entry: {full} | ")
    assert by_no["JR-00000001-E1"][0]["Description"] == f"entry: {long}-1 | Invoice INV00000001 | II-0001"
    assert books.check_gl(out, format="quickbooks").problems == []
    assert all(v == 0 for v in balances(out, "quickbooks").values())
    # the same run renders the same bytes, and its summary too
    first = out.read_bytes() + sidecar_path(out).read_bytes()
    books.render_gl(number, out, format="quickbooks", force=True)
    assert out.read_bytes() + sidecar_path(out).read_bytes() == first
    summary = tmp_path / "gl.summary.quickbooks.csv"
    books.render_gl(number, summary, format="quickbooks", summary=True)
    assert {r["Journal No."] for r in read_csv(summary)} == {"JR-00000001-001", "JR-00000001-002", "JR-00000001-003"}
    assert books.check_gl(summary, format="quickbooks").problems == []


def test_a_64_character_account_number_renders_in_every_format(books: Books, tmp_path: Path) -> None:
    account = "B" + "0" * 63
    books.load(json.loads(example("seed-003-books.json").read_text().replace("A00000001", account)))
    number = run_of(books)
    for fmt in FORMATS:
        out = tmp_path / f"gl{SUFFIX[fmt]}"
        books.render_gl(number, out, format=fmt)
        assert books.check_gl(out, format=fmt).problems == []
        assert len(balances(out, fmt)) == 4
    narrations = {r["*Narration"] for r in read_csv(tmp_path / "gl.xero.csv")}
    assert sorted(n.split(" ", 1)[0] for n in narrations) == [f"{account}-{seq}" for seq in (1, 2, 3, 4)]
    assert {r["REFERENCE_NO"] for r in read_csv(tmp_path / "gl.intacct.csv")} == {f"{account}-{s}" for s in range(1, 5)}
    assert {r["External ID"] for r in read_csv(tmp_path / "gl.netsuite.csv")} == {f"{account}-{s}" for s in range(1, 5)}
    assert {r["Journal No."] for r in read_csv(tmp_path / "gl.quickbooks.csv")} == {
        f"{number}-E{n}" for n in range(1, 5)
    }


# --- what an auditor needs ----------------------------------------------------------------------------------------


def test_each_line_carries_documents_reason_code_and_comment(book: Books, tmp_path: Path) -> None:
    book.write_off_invoice(
        "INV00000010",
        {"memoDate": "2026-10-20", "reasonCode": "Write-off", "comment": "Customer in liquidation; =SUM(A1)"},
    )
    number = run_of(book)
    for fmt in FORMATS:
        book.render_gl(number, tmp_path / f"gl{SUFFIX[fmt]}", format=fmt, profile=PROFILE)
    csv_rows = [
        r
        for r in read_csv(tmp_path / "gl.csv")
        if r["transaction_type"].startswith("Credit Memo") and r["related_document"] == "INV00000010"
    ]
    assert csv_rows
    assert {(r["reason_code"], r["comment"]) for r in csv_rows} == {("Write-off", "Customer in liquidation; =SUM(A1)")}
    memo = next(r for r in read_csv(tmp_path / "gl.netsuite.csv") if "reason: Write-off" in r["Memo"])
    assert "Customer in liquidation" in memo["Memo"]
    assert "INV00000010" in memo["Memo"]
    assert any("reason: Write-off" in r["Line Memo"] for r in read_csv(tmp_path / "gl.netsuite.csv"))
    assert any("reason: Write-off" in r["Description"] for r in read_csv(tmp_path / "gl.xero.csv"))
    assert any("reason: Write-off" in r["Description"] for r in read_csv(tmp_path / "gl.quickbooks.csv"))
    assert any("reason: Write-off" in r["MEMO"] for r in read_csv(tmp_path / "gl.intacct.csv"))
    assert '"reasonCode": "Write-off"' in (tmp_path / "gl.jsonl").read_text()


def test_a_jsonl_record_is_one_line_for_every_reader(book: Books, tmp_path: Path) -> None:
    """U+2028, U+2029 and U+0085 in a comment: JSON leaves them unescaped, and a reader splitting on every line
    boundary (the package's own check did) cut the record in two. They are escaped, and the text round-trips."""
    comment = "Disputed\u2028since March\x85see ticket\u2029 42"
    book.write_off_invoice("INV00000010", {"memoDate": "2026-10-20", "reasonCode": "Write-off", "comment": comment})
    out = tmp_path / "gl.jsonl"
    book.render_gl(run_of(book), out, format="jsonl", profile=PROFILE)
    content = out.read_text(encoding="utf-8")
    assert content.count("\n") == len(content.splitlines()) == 20
    assert {json.loads(line).get("comment") for line in content.splitlines()} == {None, comment}
    assert "Disputed\\u2028since March\\u0085see ticket\\u2029 42" in content
    assert book.check_gl(out, format="jsonl", profile=PROFILE).problems == []


def test_a_cell_starting_like_a_formula_is_written_as_text(books: Books, tmp_path: Path) -> None:
    """Document numbers are refused at load unless plain (issue 14); customer names and comments are free text."""
    books.load(
        {
            "accounts": [{"accountNumber": "A00000001", "name": "@SUM(1+1)*cmd|' /C calc'!A0", "currency": "USD"}],
            "invoices": [
                {
                    "invoiceNumber": "INV00000001",
                    "accountNumber": "A00000001",
                    "invoiceDate": "2026-10-05",
                    "currency": "USD",
                    "items": [
                        {
                            "id": "II-1",
                            "processingType": "Charge",
                            "chargeAmount": "10.00",
                            "financeInformation": {
                                "deferredRevenueAccountingCode": "Deferred Revenue",
                                "recognizedRevenueAccountingCode": "Sales Revenue",
                            },
                            "taxationItems": [],
                        }
                    ],
                }
            ],
        }
    )
    books.write_off_invoice(
        "INV00000001",
        {"memoDate": "2026-10-20", "reasonCode": "Write-off", "comment": '=HYPERLINK("http://x","y")\tdone'},
    )
    number = run_of(books)
    for fmt in ("csv", "netsuite", "xero", "quickbooks", "intacct"):
        out = tmp_path / f"gl{SUFFIX[fmt]}"
        books.render_gl(number, out, format=fmt, profile=PROFILE)
        # the customer Name is the importer's lookup key: matched exactly, so it is the one cell left as it is
        cells = [cell for row in read_csv(out) for column, cell in row.items() if column != "Name"]
        assert not [c for c in cells if c[:1] in ("=", "@", "+") or (c[:1] == "-" and not c[1:2].isdigit())], fmt
        assert not [c for c in cells if "\t" in c], fmt
        assert books.check_gl(out, format=fmt, profile=PROFILE).problems == []
    text = (tmp_path / "gl.csv").read_text()
    assert "'=HYPERLINK" in text
    assert "'@SUM" not in text  # the customer's name is not in the generic layout
    for fmt in ("netsuite", "quickbooks"):
        names = {r["Name"] for r in read_csv(tmp_path / f"gl{SUFFIX[fmt]}")} - {""}
        assert names == {"@SUM(1+1)*cmd|' /C calc'!A0"}, fmt


@pytest.mark.parametrize("fmt", ["netsuite", "quickbooks"])
def test_the_customer_name_is_written_exactly_as_the_book_has_it(fmt: str, tmp_path: Path) -> None:
    """The importer matches Name exactly to an existing customer: ``'@Home Networks`` would match none ("No
    Customer" on the A/R aging). Every other text cell keeps the formula guard; a line break or tab in a name (the
    ERP's name is one line) becomes a space."""
    cases = [
        ("@Home Networks", "=SUM(A1)", "@Home Networks"),
        ("=X", "+1 555 0100", "=X"),
        ("-Minus Ltd", "-x", "-Minus Ltd"),
        ("Two\r\nLines\tCo", "@memo", "Two Lines Co"),
    ]
    entries = [_entry(n, memo, name) for n, (name, memo, _) in enumerate(cases)]
    out = tmp_path / "gl.csv"
    gl.render(fmt, entries, out, run=_RUN, accounts=_ACCOUNTS, profile=load_profile(PROFILE)).commit()
    rows = read_csv(out)
    assert [r["Name"] for r in rows] == [name for _, _, name in cases for name in (name, "")]
    memos = ["Memo", "Line Memo"] if fmt == "netsuite" else ["Description"]
    assert {column: [r[column] for r in rows][::2] for column in memos} == {
        column: [f"'{memo}" for _, memo, _ in cases] for column in memos
    }
    assert gl.check_file(out, fmt, profile=load_profile(PROFILE), accounts=_ACCOUNTS).problems == []


@pytest.mark.parametrize("fmt", ["csv", "netsuite", "xero", "quickbooks", "intacct"])
def test_control_characters_never_reach_an_erp_file(fmt: str, tmp_path: Path) -> None:
    """A name or comment holding an escape sequence, a bell, a form feed or a C1 control (NEL) was written as loaded:
    an importer built on XML refuses the whole file, and the escape drives the terminal of whoever views it. Each
    becomes U+FFFD, as in the ledger (a tab a space, a line break kept where the cell may hold one), and the check
    refuses a file that holds one."""
    entry = _entry(1, "Paid\x1b[2K in\x07 full\x0c\x85done", "Acme\x1b[31m Corp")
    out = tmp_path / f"gl{SUFFIX[fmt]}"
    gl.render(fmt, [entry], out, run=_RUN, accounts=_ACCOUNTS, profile=load_profile(PROFILE)).commit()
    text = out.read_text(encoding="utf-8")
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text), fmt
    assert "Paid\ufffd[2K in\ufffd full\ufffd\ufffddone" in text, fmt
    if fmt in ("netsuite", "quickbooks"):
        assert {r["Name"] for r in read_csv(out)} - {""} == {"Acme\ufffd[31m Corp"}
    assert gl.check_file(out, fmt, profile=load_profile(PROFILE), accounts=_ACCOUNTS).problems == []


def test_the_check_refuses_a_control_character_in_a_cell(tmp_path: Path) -> None:
    lines = "E1,10/05/2026,Oct 2026,USD,,{},1200,10.00,,x,Acme\nE1,10/05/2026,Oct 2026,USD,,{},4000,,10.00,x,\n"
    assert _check(tmp_path, "netsuite", NS + lines.format("m", "m"), chart=False) == []
    assert _check(tmp_path, "netsuite", NS + lines.format("m\x1b[2K", "m\x1b[2K"), chart=False) == [
        f"check.netsuite.csv, row {row}, Memo: holds a control character (an importer on XML refuses the file)"
        for row in (2, 3)
    ]


def test_a_book_customer_named_like_a_formula_is_found_by_the_erp(books: Books, tmp_path: Path) -> None:
    names = {"A00000001": "@Home Networks", "A00000002": "=X", "A00000003": "-Minus Ltd"}
    books.load(
        {
            "accounts": [{"accountNumber": a, "name": n, "currency": "USD"} for a, n in names.items()],
            "invoices": [_ten_dollar_invoice(n, account, "2026-10-05") for n, account in enumerate(names, start=1)],
        }
    )
    number = run_of(books)
    for fmt in ("netsuite", "quickbooks"):
        out = tmp_path / f"gl{SUFFIX[fmt]}"
        books.render_gl(number, out, format=fmt, profile=PROFILE)
        rows = read_csv(out)
        key = "External ID" if fmt == "netsuite" else "Journal No."
        assert {r[key].split("-")[0]: r["Name"] for r in rows if r["Name"]} == names
        assert books.check_gl(out, format=fmt, profile=PROFILE).problems == []


def test_the_check_takes_an_exact_name_and_refuses_a_name_on_two_lines(tmp_path: Path) -> None:
    lines = "E1,10/05/2026,Oct 2026,USD,,m,1200,10.00,,x,{}\nE1,10/05/2026,Oct 2026,USD,,m,4000,,10.00,x,\n"
    assert _check(tmp_path, "netsuite", NS + lines.format("@Home Networks"), chart=False) == []
    assert _check(tmp_path, "netsuite", NS + lines.format('"Two\nLines"'), chart=False) == [
        "check.netsuite.csv, row 2, Name: is matched to the ERP's record: one line, no tab or line break"
    ]
    assert _check(tmp_path, "netsuite", NS + lines.format("x").replace(",m,", ",@m,"), chart=False) == [
        f"check.netsuite.csv, row {row}, Memo: a spreadsheet would run this cell as a formula (= + - @, tab, CR)"
        for row in (2, 3)
    ]


# --- safe files -------------------------------------------------------------------------------------------------


def test_an_existing_output_is_refused_unless_forced(book: Books, tmp_path: Path) -> None:
    number = run_of(book)
    out = tmp_path / "out" / "gl.csv"
    out.parent.mkdir()
    out.write_text("a previous run's file\n")
    with pytest.raises(Conflict, match="exists; give --force to replace it"):
        book.render_gl(number, out)
    assert out.read_text() == "a previous run's file\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["gl.csv"]
    book.render_gl(number, out, force=True)
    assert out.read_text().startswith("external_id,")


@pytest.mark.parametrize("kind", ["fifo", "directory", "symlink"])
def test_a_non_regular_output_is_refused_even_with_force(book: Books, tmp_path: Path, kind: str) -> None:
    number = run_of(book)
    out = tmp_path / "gl.csv"
    if kind == "fifo":
        os.mkfifo(out)
    elif kind == "directory":
        out.mkdir()
    else:
        (tmp_path / "target").write_text("keep\n")
        out.symlink_to(tmp_path / "target")
    with pytest.raises(Conflict, match="not a regular file; it is never replaced"):
        book.render_gl(number, out, force=True)
    assert not stat.S_ISREG(os.lstat(out).st_mode)
    assert (tmp_path / "target").read_text() == "keep\n" if kind == "symlink" else True
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_files_get_the_users_umask(book: Books, tmp_path: Path) -> None:
    number = run_of(book)
    old = os.umask(0o027)
    try:
        book.render_gl(number, tmp_path / "gl.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "gl.csv").stat().st_mode) == 0o640
    assert stat.S_IMODE(sidecar_path(tmp_path / "gl.csv").stat().st_mode) == 0o640


def test_files_are_put_in_place_only_after_the_run_committed(
    book: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = Staged.commit

    def commit(self: Staged) -> list[Path]:
        with book.engine.connect() as other:  # another connection sees the run already
            seen.append(other.execute(text("SELECT count(*) FROM journal_runs")).scalar_one())
        assert not self.out.exists()
        return real(self)

    monkeypatch.setattr(Staged, "commit", commit)
    result = book.export_gl("2026-10", tmp_path / "gl.csv")
    assert seen == [1]
    assert result.run == "JR-00000001"
    assert (tmp_path / "gl.csv").exists()


def test_a_failure_while_writing_records_nothing_and_leaves_no_file(
    book: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real = _Writer.write

    def flaky(self: _Writer, entry: GLEntry) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise OSError(28, "No space left on device")
        real(self, entry)

    monkeypatch.setattr(_Writer, "write", flaky)
    before = dump(book.engine)
    with pytest.raises(SubledgerError, match="No space left on device"):
        book.export_gl("2026-10", tmp_path / "gl" / "gl.csv")
    assert dump(book.engine) == before
    assert list((tmp_path / "gl").iterdir()) == []


def test_a_killed_renders_temporary_file_is_swept(book: Books, tmp_path: Path) -> None:
    number = run_of(book)
    stale = tmp_path / ".gl.csv.subledger-999999999.abc.tmp"  # no such process
    stale.write_text("half a file")
    live = tmp_path / f".gl.csv.subledger-{os.getpid()}.abc.tmp"
    live.write_text("being written")
    book.render_gl(number, tmp_path / "gl.csv")
    assert not stale.exists()
    assert live.exists()


def test_a_failed_write_marks_nothing(book: Books, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    before = dump(book.engine)
    with pytest.raises(SubledgerError, match="could not write"):
        book.export_gl("2026-10", blocker / "gl.csv")
    assert dump(book.engine) == before


# --- the command line -------------------------------------------------------------------------------------------


def test_journal_run_cli(book: Books, tmp_path: Path, cli: Any) -> None:
    url = db_url(book)
    created = cli("journal-run", "create", "--period", "2026-10", db=url)
    assert created.code == 0, created.err
    assert created.out.startswith("Journal run JR-00000001 of 2026-10 (Processing): 17 journal entries")
    out = tmp_path / "gl.xero.csv"
    rendered = cli(
        "export", "gl", "--run", "JR-00000001", "--format", "xero", "--profile", str(PROFILE), "--out", str(out), db=url
    )
    assert rendered.code == 0, rendered.err
    assert rendered.out.startswith("Journal run JR-00000001: 17 journal entries as 17 detail GL entries")
    checked = cli("export", "gl", "--check", str(out), "--format", "xero", "--profile", str(PROFILE), db=url)
    assert (checked.code, checked.out.split(": ", 1)[1].strip()) == (
        0,
        "meets the xero import rules (62 lines, 17 journals).",
    )
    again = cli("export", "gl", "--run", "JR-00000001", "--format", "xero", "--out", str(out), db=url)
    assert again.code == 1
    assert "exists; give --force to replace it" in again.err
    shown = cli("journal-run", "show", "JR-00000001", "--json", db=url).json()
    assert (shown["status"], len(shown["summary"])) == ("Processing", 12)
    assert cli("journal-run", "error", "JR-00000001", "--reason", "rejected", db=url).code == 0
    confirmed = cli("journal-run", "confirm", "JR-00000001", db=url)
    assert confirmed.out.strip() == "Journal run JR-00000001 of 2026-10: Completed."
    refused = cli("journal-run", "cancel", "JR-00000001", db=url)
    assert refused.code == 1
    assert "cannot be cancelled" in refused.err
    assert "Traceback" not in refused.err
    nothing = cli("journal-run", "create", "--period", "2026-10", db=url)
    assert nothing.out.strip() == "Nothing to take: every journal entry of 2026-10 is in a journal run already."
    listed = cli("journal-run", "list", "--json", db=url).json()
    assert [(r["number"], r["status"], r["entryCount"]) for r in listed] == [("JR-00000001", "Completed", 17)]
    out.write_text(out.read_text().replace("01/10/2026", "2026-10-01", 1))
    broken = cli("export", "gl", "--check", str(out), "--format", "xero", db=url)
    assert broken.code == 1
    assert "gl.xero.csv, row 2, *Date: '2026-10-01' is not a date as DD/MM/YYYY" in broken.err
    bad = cli("export", "gl", "--run", "JR-00000001", "--format", "sap", "--out", str(out), db=url)
    assert bad.code != 0


def test_export_gl_period_creates_and_renders(book: Books, tmp_path: Path, cli: Any) -> None:
    url = db_url(book)
    done = cli(
        "export",
        "gl",
        "--period",
        "2026-10",
        "--format",
        "netsuite",
        "--summary",
        "--out",
        str(tmp_path / "n.csv"),
        db=url,
    )
    assert done.code == 0, done.err
    assert done.out.startswith("Journal run JR-00000001: 17 journal entries as 12 summary GL entries")
    nothing = cli("export", "gl", "--period", "2026-10", "--out", str(tmp_path / "x.csv"), db=url)
    assert nothing.out.strip() == "Nothing to export: every journal entry of 2026-10 is in a journal run already."
    assert not (tmp_path / "x.csv").exists()


def test_a_period_without_entries_is_not_said_to_be_in_a_run(book: Books, tmp_path: Path, cli: Any) -> None:
    """``export gl --period`` (and ``journal-run create``) of a period with no journal entry at all said "every
    journal entry of 2027-05 is in a journal run already", sending the reader to look for a run that is not there."""
    url = db_url(book)
    empty = cli("export", "gl", "--period", "2027-05", "--out", str(tmp_path / "e.csv"), db=url)
    assert (empty.code, empty.out, empty.err) == (0, "Nothing to export: 2027-05 has no journal entries.\n", "")
    taken = cli("journal-run", "create", "--period", "2027-05", db=url)
    assert (taken.code, taken.out.strip()) == (0, "Nothing to take: 2027-05 has no journal entries.")
    assert not (tmp_path / "e.csv").exists()
    assert cli("journal-run", "create", "--period", "2026-10", db=url).code == 0
    again = cli("journal-run", "create", "--period", "2026-10", db=url)
    assert again.out.strip() == "Nothing to take: every journal entry of 2026-10 is in a journal run already."


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "jsonl"])
def test_rows_are_written_as_the_csv_module_writes_them(fmt: str, tmp_path: Path) -> None:
    """Rows with nothing to quote are joined by hand (the csv writer costs ~3.5 s per million lines); every field a
    CSV reader could misread still goes through the writer, so the file is the writer's, byte for byte."""
    tricky = ["plain", "a, comma", 'a "quote"', "a\nnewline", "", " spaced ", "é ünïcode"]
    # A Name, the ERP's lookup key, is one line.
    name = {memo: memo.replace("\n", " ") or "x" for memo in tricky}
    entries = [_entry(n, memo, name[memo], source=memo or None, item=memo or None) for n, memo in enumerate(tricky)]
    accounts, run = _ACCOUNTS, _RUN
    profile = load_profile(PROFILE)
    staged = gl.render(fmt, entries, tmp_path / "out.csv", run=run, accounts=accounts, profile=profile)
    written = staged.commit()[0]
    renderer = gl.RENDERERS[fmt](profile, accounts, run)
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(gl.header_of(fmt, profile))
    for entry in entries:
        writer.writerows(renderer.rows(entry))
    assert written.read_bytes() == expected.getvalue().encode()


def test_xero_tax_rate_per_account_and_quickbooks_multicurrency(book: Books, tmp_path: Path) -> None:
    number = run_of(book)
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[xero]\nforeign_currency = "convert"\nrates = { EUR = "1.10" }\ndefault_tax_rate = "No VAT"\n'
        '[xero.tax_rates]\n"Sales Tax Payable" = "Tax on Sales"\n'
        '[quickbooks]\nmulticurrency = true\nrates = { EUR = "1.10" }\n'
    )
    book.render_gl(number, tmp_path / "x.csv", format="xero", profile=profile)
    rates = {(r["*AccountCode"], r["*TaxRate"]) for r in read_csv(tmp_path / "x.csv")}
    assert ("2200", "Tax on Sales") in rates
    assert {t for a, t in rates if a != "2200"} == {"No VAT"}
    book.render_gl(number, tmp_path / "q.csv", format="quickbooks", profile=profile)
    rows = read_csv(tmp_path / "q.csv")
    assert {(r["Currency"], r["Exchange Rate"]) for r in rows} == {("USD", "1"), ("EUR", "1.10")}
    eur = [r for r in rows if r["Journal No."] == "A00000003-1"]
    assert eur[0]["Debits"] == "300.00"  # kept in its currency, not converted
    assert book.check_gl(tmp_path / "q.csv", format="quickbooks", profile=profile).problems == []


def test_export_gl_records_the_same_summary_entries_as_create(book: Books, tmp_path: Path) -> None:
    """``export gl --period`` adds the run's summary entries up from the lines it renders; ``create`` in SQL."""
    rendered = book.export_gl("2026-10", tmp_path / "gl.csv")
    assert rendered.run == "JR-00000001"
    by_render = book.journal_run("JR-00000001")
    book.cancel_journal_run("JR-00000001")
    by_sql = book.journal_run(run_of(book))
    assert by_render.summary == [
        s.model_copy(update={"number": s.number.replace("JR-00000002", "JR-00000001")}) for s in by_sql.summary or []
    ]
    assert (by_render.entry_count, by_render.line_count, by_render.totals) == (
        by_sql.entry_count,
        by_sql.line_count,
        by_sql.totals,
    )
    assert by_render.line_count == 62


def test_two_runs_created_at_once_never_take_an_entry_twice(book: Books) -> None:
    start = threading.Barrier(2)

    def create() -> str | None:
        start.wait()
        created = book.create_journal_run("2026-10").run
        return None if created is None else created.number

    with ThreadPoolExecutor(max_workers=2) as pool:
        numbers = sorted(pool.map(lambda _: create(), range(2)), key=str)
    taken = [n for n in numbers if n is not None]
    assert len(taken) == 1
    assert book.journal_run(taken[0]).entry_count == 17
    with book.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM journal_run_entries")).scalar_one() == 17


@pytest.mark.parametrize(("fmt", "constant"), [("netsuite", "MAX_RECORDS_PER_FILE"), ("intacct", "MAX_LINES_PER_FILE")])
def test_files_split_at_the_importers_limit_an_entry_never_split(
    book: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, constant: str
) -> None:
    from subledger.export.gl import intacct, netsuite

    monkeypatch.setattr(netsuite if fmt == "netsuite" else intacct, constant, 20)
    number = run_of(book)
    out = tmp_path / f"gl{SUFFIX[fmt]}"
    result = book.render_gl(number, out, format=fmt, profile=PROFILE)
    parts = [Path(f) for f in result.files if not f.endswith(".manifest.json")]
    assert len(parts) > 2
    key = "External ID" if fmt == "netsuite" else "REFERENCE_NO"
    seen: set[str] = set()
    for part in parts:
        rows = read_csv(part)
        assert 0 < len(rows) <= 20
        ids = {r[key] for r in rows}
        assert not ids & seen
        seen |= ids
        assert book.check_gl(part, format=fmt, profile=PROFILE).problems == []
    assert len(seen) == 17


def test_netsuite_files_split_before_their_byte_limit_an_entry_never_split(
    book: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One NetSuite import job takes at most 50 MB: a new part starts before a file would cross it."""
    from subledger.export.gl import netsuite

    number = run_of(book)
    whole = tmp_path / "whole" / "gl.netsuite.csv"
    book.render_gl(number, whole, format="netsuite", profile=PROFILE)
    monkeypatch.setattr(netsuite, "MAX_BYTES_PER_FILE", 2000)
    out = tmp_path / "split" / "gl.netsuite.csv"
    result = book.render_gl(number, out, format="netsuite", profile=PROFILE)
    parts = [Path(f) for f in result.files if not f.endswith(".manifest.json")]
    assert len(parts) > 3
    header, *lines = whole.read_bytes().splitlines(keepends=True)
    bodies = [part.read_bytes().splitlines(keepends=True) for part in parts]
    assert all(body[0] == header for body in bodies)
    # the same lines in the same order, each part within the limit, no entry in two parts
    assert [line for body in bodies for line in body[1:]] == lines
    assert all(len(b"".join(body)) <= 2000 for body in bodies)
    ids = [{line.split(b",", 1)[0] for line in body[1:]} for body in bodies]
    assert sum(len(i) for i in ids) == len(set().union(*ids)) == 17
    # a part ends only where the next entry would have crossed the limit
    for body, following in itertools.pairwise(bodies):
        first = following[1].split(b",", 1)[0] + b","
        assert len(b"".join(body)) + sum(len(x) for x in following[1:] if x.startswith(first)) > 2000
    for part in parts:
        assert book.check_gl(part, format="netsuite", profile=PROFILE).problems == []


def test_netsuites_byte_limit_counts_utf8_bytes_and_refuses_an_entry_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from subledger.export.gl import netsuite

    # 255-character Japanese names and memos: three bytes a character, so counting characters would undercount
    name, memo = "株式会社" * 63 + "東京", "請求書の備考" * 42 + "です"
    entries = [_entry(n, memo, name) for n in range(6)]
    whole = gl.render("netsuite", entries, tmp_path / "whole.csv", run=_RUN, accounts=_ACCOUNTS).commit()[0]
    header, *lines = whole.read_bytes().splitlines(keepends=True)
    entry = len(b"".join(lines[:2]))
    assert len(b"".join(lines)) == 6 * entry
    # counted in characters, three entries would fit in the limit below
    assert len(header.decode() + "".join(x.decode() for x in lines[:6])) < len(header) + 2 * entry
    monkeypatch.setattr(netsuite, "MAX_BYTES_PER_FILE", len(header) + 2 * entry)
    out = tmp_path / "split" / "gl.csv"
    parts = gl.render("netsuite", entries, out, run=_RUN, accounts=_ACCOUNTS).commit()[:-1]
    assert parts == [out, part_path(out, 2), part_path(out, 3)]
    assert [p.read_bytes() for p in parts] == [header + b"".join(lines[k : k + 4]) for k in (0, 4, 8)]
    monkeypatch.setattr(netsuite, "MAX_BYTES_PER_FILE", len(header) + entry - 1)
    with pytest.raises(RuleViolation, match=f"GL entry A-0 takes {entry} bytes; netsuite takes at most"):
        gl.render("netsuite", entries, tmp_path / "refused" / "gl.csv", run=_RUN, accounts=_ACCOUNTS)
    assert list((tmp_path / "refused").iterdir()) == []


def test_the_netsuite_check_refuses_a_file_over_50_mb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from subledger.export.gl import netsuite

    body = NS + "E1,10/05/2026,Oct 2026,USD,,m,1200,10.00,,x,Acme\nE1,10/05/2026,Oct 2026,USD,,m,4000,,10.00,x,\n"
    size = len(body.encode())
    assert _check(tmp_path, "netsuite", body, chart=False) == []
    monkeypatch.setattr(netsuite, "MAX_BYTES_PER_FILE", size - 1)
    assert _check(tmp_path, "netsuite", body, chart=False) == [
        f"check.netsuite.csv: netsuite files hold at most {size - 1} bytes; this one has {size}"
    ]


def test_a_file_system_without_hard_links_still_gets_the_file(
    book: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = run_of(book)

    def no_links(src: Any, dst: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    result = book.render_gl(number, tmp_path / "out" / "gl.csv")
    assert [Path(f).name for f in result.files] == ["gl.csv", "gl.csv.manifest.json"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["gl.csv", "gl.csv.manifest.json"]


#: Renders a journal run in a process of its own and holds it once every file is staged, before any is in place.
_HELD_RENDER = """
import sys, time
from pathlib import Path
from subledger.api import Books
from subledger.export.gl import files

url, number, out, marker = sys.argv[1:5]

def held(self, *args, **kwargs):
    Path(marker).write_text("staged")
    time.sleep(600)

files.Staged.commit = held
Books(url).render_gl(number, Path(out), format="netsuite")
"""


def test_a_killed_render_leaves_nothing_in_the_folder(book: Books, tmp_path: Path) -> None:
    """``kill -9`` once the files are written and synced, before they are put in place: the target folder holds
    nothing (the temporary files have no name; they go with the process)."""
    number = run_of(book)
    folder, marker = tmp_path / "out", tmp_path / "staged"
    folder.mkdir()
    killed_at(marker, _HELD_RENDER, db_url(book), number, str(folder / "gl.csv"), str(marker))
    assert sorted(p.name for p in folder.iterdir()) == []
    # The run renders in full afterwards, as if nothing had happened.
    result = book.render_gl(number, folder / "gl.csv", format="netsuite")
    assert sorted(p.name for p in folder.iterdir()) == sorted(Path(f).name for f in result.files)


def test_the_command_line_offers_every_gl_format_in_order() -> None:
    """The CLI names the formats itself (its help imports no export); a format added to the package shows in it."""
    from subledger.cli.exports import GL_FORMATS

    assert GL_FORMATS == FORMATS
    assert tuple(SUFFIX) == FORMATS


def test_a_summary_entrys_transfer_is_its_runs(seed003: Books) -> None:
    """``transferredToAccounting`` of one summary entry is the book's operation on its whole run (the REST API's
    basic-information): Processing is a read, Yes confirms the run, No is refused with the way back."""
    made = seed003.create_journal_run("2026-10").run
    assert made is not None
    entry = f"{made.number}-001"
    operations = len(seed003.audit())
    assert seed003.transfer_journal_entry(entry, {"transferredToAccounting": "Processing"}).status == "Processing"
    assert len(seed003.audit()) == operations  # nothing recorded: nothing changed
    with pytest.raises(RuleViolation, match=f"PUT /v1/journal-runs/{made.number}/cancel"):
        seed003.transfer_journal_entry(entry, {"transferredToAccounting": "No"})
    done = seed003.transfer_journal_entry(entry, {"transferredToAccounting": "Yes"}, idempotency_key="t-1")
    assert done.status == "Completed"
    assert seed003.transfer_journal_entry(entry, {"transferredToAccounting": "Yes"}, idempotency_key="t-1") == done
    with pytest.raises(RuleViolation, match="Completed"):
        seed003.transfer_journal_entry(entry, {"transferredToAccounting": "Processing"})


def test_files_refused_their_place_after_the_run_committed(
    book: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run commits, then its files cannot be put in place (here the disk fills): the error names the recorded
    run and how to write its files, and the same idempotency key again writes them instead of answering that they
    were written."""
    folder = tmp_path / "gl"
    folder.mkdir()
    out = folder / "gl.csv"

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "link", full)
    with pytest.raises(SubledgerError) as refused:
        book.export_gl("2026-10", out, idempotency_key="gl-1")
    monkeypatch.undo()
    number = book.journal_runs()[-1].number
    assert str(refused.value) == (
        f"{out}, out: journal run {number} is recorded but its files could not be put in place (could not write "
        f"{out}: No space left on device); write them with --run {number} (or the same idempotency key again)"
    )
    assert sorted(folder.iterdir()) == []
    again = book.export_gl("2026-10", out, idempotency_key="gl-1")
    assert again.run == number
    assert sorted(p.name for p in folder.iterdir()) == ["gl.csv", "gl.csv.manifest.json"]
    assert again.files == [str(out), str(sidecar_path(out))]
    assert len(read_csv(out)) == again.lines


def test_the_same_key_with_another_profile_is_another_request(book: Books, tmp_path: Path, cli: Any) -> None:
    """The profile shapes the files, so it is part of the request: the same idempotency key with another profile
    (none, then one; or two of different settings) is refused as a reused key, writing nothing, where it replayed the
    first render (its files in the first profile) or, those files gone, rendered the run again in the other one."""
    url = db_url(book)
    netsuite = tmp_path / "netsuite.toml"
    netsuite.write_text('[netsuite]\naccount_style = "number"\n')
    named = tmp_path / "named.toml"
    named.write_text('[netsuite]\naccount_style = "name"\n')
    out = tmp_path / "gl" / "n.csv"
    export = ("export", "gl", "--period", "2026-10", "--format", "netsuite", "--out", str(out))
    first = cli(*export, "--idempotency-key", "k1", db=url)
    assert first.code == 0, first.err
    written = {p.name: p.read_bytes() for p in out.parent.iterdir()}
    before = dump(book.engine)
    for profile in (netsuite, named):
        again = cli(*export, "--profile", str(profile), "--idempotency-key", "k1", db=url)
        assert (again.code, again.out) == (1, "")
        assert again.err == "error: idempotencyKey: idempotency key 'k1' was used for a different request (export-gl)\n"
        assert {p.name: p.read_bytes() for p in out.parent.iterdir()} == written
        assert dump(book.engine) == before
    # The files gone, the same key with another profile still writes nothing of the other profile...
    for path in out.parent.iterdir():
        path.unlink()
    again = cli(*export, "--profile", str(netsuite), "--idempotency-key", "k1", db=url)
    assert again.code == 1
    assert list(out.parent.iterdir()) == []
    # ...while the same request again writes the run's files as the first render wrote them.
    replay = cli(*export, "--idempotency-key", "k1", db=url)
    assert replay.code == 0, replay.err
    assert {p.name: p.read_bytes() for p in out.parent.iterdir()} == written
    # The same profile under its key is the same request: replayed.
    later = tmp_path / "later" / "n.csv"
    args = ("export", "gl", "--period", "2026-11", "--format", "netsuite", "--profile", str(named), "--out", str(later))
    answered = cli(*args, "--idempotency-key", "k2", db=url)
    assert answered.code == 0, answered.err
    assert cli(*args, "--idempotency-key", "k2", db=url) == answered


def test_a_profile_built_in_code_is_part_of_the_request_by_its_settings(book: Books, tmp_path: Path) -> None:
    numbered = Profile(netsuite=NetSuite(account_style="number"))
    book.export_gl("2026-10", tmp_path / "a.csv", format="netsuite", profile=numbered, idempotency_key="k1")
    before = dump(book.engine)
    named = Profile(netsuite=NetSuite(account_style="name"))
    with pytest.raises(IdempotencyConflict, match="was used for a different request"):
        book.export_gl("2026-10", tmp_path / "a.csv", format="netsuite", profile=named, idempotency_key="k1")
    assert dump(book.engine) == before
    again = Profile(netsuite=NetSuite(account_style="number"))
    assert book.export_gl("2026-10", tmp_path / "a.csv", format="netsuite", profile=again, idempotency_key="k1")
    assert Profile().identity is None  # the defaults: a request without a profile reads as before
