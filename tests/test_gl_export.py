"""GL export: each format's columns and balance, golden files, transfers marked once, failures marking nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from conftest import ROOT, assert_snapshot, db_url, dump, example
from subledger.api import Books
from subledger.errors import ExportFailed, PermissionDenied, SubledgerError
from subledger.export.gl import FORMATS, LAYOUTS, XERO_MAX_LINES, GLEntry, GLLine, _Files, part_path

GOLDEN = ROOT / "tests" / "snapshots" / "gl"
SUFFIX = {
    "csv": ".csv",
    "netsuite": ".netsuite.csv",
    "xero": ".xero.csv",
    "quickbooks": ".quickbooks.csv",
    "jsonl": ".jsonl",
}


@pytest.fixture
def book(line_level: Books) -> Books:
    """Two customer accounts (USD and EUR) with invoices, debit and credit memos, payments, discounts and tax."""
    line_level.load(example("seed-003-books.json"))
    line_level.load(example("demo-books.json"))
    return line_level


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def balances(path: Path, fmt: str) -> dict[str, tuple[Decimal, Decimal]]:
    """Debits and credits per exported GL entry, read back from the file."""
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])

    def add(key: str, debit: str, credit: str) -> None:
        sums[key][0] += Decimal(debit or "0")
        sums[key][1] += Decimal(credit or "0")

    if fmt == "jsonl":
        for line in path.read_text().splitlines():
            record = json.loads(line)
            for item in record["lines"]:
                add(record["externalId"], item["debit"], item["credit"])
    else:
        for row in read_csv(path):
            if fmt == "csv":
                add(row["external_id"], row["debit"], row["credit"])
            elif fmt == "netsuite":
                add(row["External ID"], row["Debit"], row["Credit"])
            elif fmt == "xero":
                amount = Decimal(row["*Amount"])
                key = f"{row['*Narration']}|{row['*Date']}"
                add(key, str(max(amount, Decimal(0))), str(max(-amount, Decimal(0))))
            else:
                add(row["Journal No."], row["Debits"], row["Credits"])
    return {k: (v[0], v[1]) for k, v in sums.items()}


def transferred(books: Books) -> tuple[int, list[str], list[str]]:
    with books.engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM journal_transfers")).scalar_one()
        docs = conn.execute(text("SELECT number FROM documents WHERE transferred_to_accounting ORDER BY number"))
        pays = conn.execute(text("SELECT number FROM payments WHERE transferred_to_accounting ORDER BY number"))
        return int(count), list(docs.scalars()), list(pays.scalars())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("summary", [False, True], ids=["detail", "summary"])
def test_every_format_balances_and_matches_its_golden_file(
    book: Books, tmp_path: Path, fmt: str, summary: bool
) -> None:
    name = f"2026-10-{'summary' if summary else 'detail'}{SUFFIX[fmt]}"
    out = tmp_path / name
    result = book.export_gl("2026-10", out, format=fmt, summary=summary, dry_run=True)
    assert result.journal_entries == 17
    assert result.totals == {"EUR": "1887.70", "USD": "1972.25"}
    sums = balances(out, fmt)
    assert sums
    assert all(debit == credit for debit, credit in sums.values())
    assert len(sums) == result.gl_entries
    if summary:
        # one GL entry per transaction type and currency
        assert result.gl_entries == 12
    assert_snapshot(GOLDEN / name, out.read_bytes())


def test_columns_of_each_layout(book: Books, tmp_path: Path) -> None:
    headers = {}
    for fmt in ("csv", "netsuite", "xero", "quickbooks"):
        out = tmp_path / f"x{SUFFIX[fmt]}"
        book.export_gl("2026-10", out, format=fmt, dry_run=True)
        headers[fmt] = out.read_text().splitlines()[0]
    assert headers == {
        "csv": "external_id,date,period,transaction_type,account_number,account_name,debit,credit,currency,memo,"
        "source_document,related_document,customer_account,item_id",
        "netsuite": "External ID,Date,Posting Period,Currency,Memo,Account,Debit,Credit,Line Memo",
        "xero": "*Narration,*Date,Description,*AccountCode,*TaxRate,*Amount",
        "quickbooks": "Journal No.,Journal Date,Account Name,Debits,Credits,Description,Name,Currency",
    }
    rows = read_csv(tmp_path / "x.quickbooks.csv")
    assert all(not r["Debits"].startswith("-") and not r["Credits"].startswith("-") for r in rows)
    assert all(bool(r["Debits"]) != bool(r["Credits"]) for r in rows)
    first = read_csv(tmp_path / "x.netsuite.csv")[0]
    assert (first["External ID"], first["Date"], first["Posting Period"]) == ("A00000003-1", "10/01/2026", "Oct 2026")


def test_export_marks_entries_and_documents_transferred_once(book: Books, tmp_path: Path) -> None:
    assert transferred(book) == (0, [], [])
    result = book.export_gl("2026-10", tmp_path / "gl.csv")
    assert (result.run_id, result.journal_entries, result.files) == (1, 17, [str(tmp_path / "gl.csv")])
    count, docs, pays = transferred(book)
    assert count == 17
    # documents and payments posted in October; the November ones (INV00000021, CM00000020...) wait their period
    assert docs == [
        "CM00000001",
        "DM00000001",
        "DM00000002",
        "INV00000001",
        "INV00000002",
        "INV00000010",
        "INV00000020",
    ]
    assert pays == ["P00000001", "P00000010", "P00000020"]
    before = dump(book.engine)
    again = book.export_gl("2026-10", tmp_path / "again.csv")
    assert (again.run_id, again.journal_entries, again.files) == (None, 0, [])
    assert not (tmp_path / "again.csv").exists()
    after = dump(book.engine)
    assert len(after.pop("operations")) == len(before.pop("operations")) + 1  # the request is on record, nothing else
    assert after == before
    runs = book.export_runs()
    assert [(r.id, r.period, r.format, r.mode, r.entry_count, r.actor) for r in runs] == [
        (1, "2026-10", "csv", "detail", 17, "admin")
    ]
    # entries posted later in the period go out in the next run, as batch 2
    book.load(
        {
            "payments": [
                {
                    "number": "P00000099",
                    "accountNumber": "A00000001",
                    "effectiveDate": "2026-10-30",
                    "currency": "USD",
                    "amount": "10.00",
                }
            ]
        }
    )
    late = book.export_gl("2026-10", tmp_path / "late.csv", summary=True)
    assert (late.run_id, late.journal_entries, late.gl_entries) == (2, 1, 1)
    assert read_csv(tmp_path / "late.csv")[0]["external_id"] == "2026-10-S2-001"


def test_failed_write_marks_nothing(book: Books, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    before = dump(book.engine)
    with pytest.raises(ExportFailed, match="could not write"):
        book.export_gl("2026-10", blocker / "gl.csv")
    assert dump(book.engine) == before
    assert transferred(book) == (0, [], [])


def test_failure_after_writing_started_leaves_no_file_and_marks_nothing(
    book: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from subledger.export import gl

    calls = 0
    real = gl._csv_rows

    def flaky(entry: Any) -> list[list[str]]:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise OSError(28, "No space left on device")
        return real(entry)

    monkeypatch.setitem(gl.LAYOUTS, "csv", gl.Layout(gl.LAYOUTS["csv"].header, flaky))
    before = dump(book.engine)
    with pytest.raises(ExportFailed, match="No space left on device"):
        book.export_gl("2026-10", tmp_path / "gl" / "gl.csv")
    assert dump(book.engine) == before
    assert list((tmp_path / "gl").iterdir()) == []


def test_transfer_needs_the_permission(book: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    actors = tmp_path / "actors.toml"
    actors.write_text('[actors.clerk]\npermissions = ["Manage Close Process"]\n')
    monkeypatch.setenv("SUBLEDGER_ACTORS", str(actors))
    before = dump(book.engine)
    with pytest.raises(PermissionDenied, match="Transfer to Accounting"):
        book.as_actor("clerk").export_gl("2026-10", tmp_path / "gl.csv")
    assert dump(book.engine) == before
    assert not (tmp_path / "gl.csv").exists()


def test_transferred_credit_memo_cannot_be_reversed(book: Books, tmp_path: Path) -> None:
    with book.engine.begin() as conn:  # an unapplied credit memo, as a bill run would leave it
        conn.execute(text("DELETE FROM applications WHERE source_number = 'CM00000001'"))
        conn.execute(text("UPDATE document_items SET balance = amount WHERE document_number = 'CM00000001'"))
        conn.execute(text("UPDATE taxation_items SET balance = tax_amount WHERE document_number = 'CM00000001'"))
    book.export_gl("2026-10", tmp_path / "gl.csv")
    before = dump(book.engine)
    with pytest.raises(SubledgerError, match="transferred to accounting"):
        book.reverse_credit_memo("CM00000001", {"memoDate": "2026-11-02", "applyEffectiveDate": "2026-11-02"})
    assert dump(book.engine) == before


def test_xero_files_hold_at_most_300_lines_and_never_split_an_entry(books: Books, tmp_path: Path) -> None:
    invoices = [
        {
            "invoiceNumber": f"INV{n:08d}",
            "accountNumber": "A00000001",
            "invoiceDate": "2026-10-05",
            "currency": "USD",
            "items": [
                {
                    "id": f"II-{n}",
                    "processingType": "Charge",
                    "chargeAmount": "10.00",
                    "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
                    "taxationItems": [],
                },
            ],
        }
        for n in range(1, 161)
    ]
    books.load({"accounts": [{"accountNumber": "A00000001", "name": "Acme", "currency": "USD"}], "invoices": invoices})
    out = tmp_path / "gl.csv"
    result = books.export_gl("2026-10", out, format="xero")
    assert result.files == [str(out), str(part_path(out, 2))]
    assert part_path(out, 2).name == "gl-2.csv"
    first, second = read_csv(out), read_csv(part_path(out, 2))
    assert (len(first), len(second)) == (XERO_MAX_LINES, 20)
    narrations = [{r["*Narration"] for r in rows} for rows in (first, second)]
    assert not narrations[0] & narrations[1]
    assert len(narrations[0] | narrations[1]) == 160


def test_export_cli_and_list(book: Books, tmp_path: Path, cli: Any) -> None:
    url = db_url(book)
    out = tmp_path / "gl.jsonl"
    dry = cli("export", "gl", "--period", "2026-10", "--format", "jsonl", "--out", str(out), "--dry-run", db=url)
    assert dry.code == 0
    assert dry.out.startswith("Dry run, nothing marked transferred: 17 journal entries as 17 detail GL entries")
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
    assert done.code == 0
    assert done.out.startswith("Export run 1: 17 journal entries as 12 summary GL entries")
    nothing = cli("export", "gl", "--period", "2026-10", "--out", str(tmp_path / "x.csv"), db=url)
    assert nothing.out.strip() == "Nothing to export: every journal entry of 2026-10 is already transferred."
    listed = cli("export", "gl", "--list", "--json", db=url).json()
    assert [(r["id"], r["format"], r["mode"], r["entryCount"]) for r in listed] == [(1, "netsuite", "summary", 17)]
    bad = cli("export", "gl", "--period", "2026-10", "--format", "sap", "--out", str(out), db=url)
    assert bad.code != 0


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "jsonl"])
def test_rows_are_written_as_the_csv_module_writes_them(fmt: str, tmp_path: Path) -> None:
    """Rows with nothing to quote are joined by hand (the csv writer costs ~3.5 s per million lines); every field a
    CSV reader could misread still goes through the writer, so the file is the writer's, byte for byte."""
    tricky = ["plain", "a, comma", 'a "quote"', "a\nnewline", "a\rreturn", "", " spaced ", "é ünïcode"]
    entries = [
        GLEntry(
            external_id=f"A-{n}",
            date=dt.date(2026, 10, 31),
            period="2026-10",
            currency="USD",
            transaction_type="Invoice Item",
            memo=memo,
            source_document=memo or None,
            customer_name=memo,
            lines=[
                GLLine("Accounts Receivable", "1200", Decimal("10.00"), Decimal(0), memo or None),
                GLLine("Sales Revenue", "4000", Decimal(0), Decimal("10.00")),
            ],
        )
        for n, memo in enumerate(tricky)
    ]
    layout = LAYOUTS[fmt]
    assert layout.rows is not None
    files = _Files(tmp_path / "out.csv", layout)
    for entry in entries:
        files.write(entry)
    (written,) = files.commit()
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    if layout.header:
        writer.writerow(layout.header)
    for entry in entries:
        writer.writerows(layout.rows(entry))
    assert written.read_bytes() == expected.getvalue().encode()
