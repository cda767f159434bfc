"""The Fava extension (subledger.fava_ext) on the demo ledger, through Fava's own application and test client, and in a
real headless browser where Debian's chromium is installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from conftest import ROOT, db_url
from subledger.api import Books

fava_application = pytest.importorskip("fava.application")

DEMO = (ROOT / "ledgers" / "example" / "main.beancount").resolve()
SLUG = "subledger-books"
PAGES = ("PeriodClose", "WriteOffRegister", "Reversals", "ReceivablesAging")


def client(ledger: Path) -> FlaskClient:
    app = fava_application.create_app([str(ledger.resolve())], load=True, read_only=True)
    app.testing = True
    test_client: FlaskClient = app.test_client()
    return test_client


@pytest.fixture(scope="module")
def demo() -> FlaskClient:
    return client(DEMO)


def data(c: FlaskClient, page: str, query: str = "") -> Any:
    response = c.get(f"/{SLUG}/extension/{page}/data{query}")
    assert response.status_code == 200, response.data[:500]
    return response.get_json()


def html(c: FlaskClient, page: str, query: str = "") -> str:
    response = c.get(f"/{SLUG}/extension/{page}/{query}")
    assert response.status_code == 200, response.data[:500]
    return response.get_data(as_text=True)


def test_demo_ledger_loads_in_fava_with_the_extension_and_no_errors(demo: FlaskClient) -> None:
    errors = demo.get(f"/{SLUG}/api/errors").get_json()["data"]
    assert errors == []
    ledger = demo.application.config["LEDGERS"][SLUG]
    details = ledger.extensions.extension_details
    assert sorted(d.name for d in details) == sorted(PAGES)
    assert {d.report_title for d in details} == {"Period close", "Write-off register", "Reversals", "Receivables aging"}
    assert ledger.fava_options.invert_income_liabilities_equity is True
    assert ledger.options["operating_currency"] == ["EUR", "GBP", "USD"]
    # Read-only: Fava refuses any change through the browser.
    assert demo.put(f"/{SLUG}/api/source", json={"file_path": str(DEMO), "source": ""}).status_code == 401


def test_period_close_page(demo: FlaskClient) -> None:
    periods = {p["period"]["name"]: p for p in data(demo, "PeriodClose")["periods"]}
    assert list(periods) == [f"2026-{m:02d}" for m in range(1, 12)]
    october, november = periods["2026-10"], periods["2026-11"]
    assert (october["period"]["status"], october["entries"], october["postings"]) == ("Closed", 17, 62)
    assert october["fingerprint_ok"] is True
    assert october["fingerprint"] == october["period"]["fingerprint"]
    assert october["fingerprint"].startswith("3154b7e9002d")
    assert (october["assertions"], october["assertions_failed"]) == (5, [])
    assert (november["period"]["status"], november["entries"], november["fingerprint_ok"]) == ("Open", 36, None)
    assert (november["assertions"], november["assertions_failed"]) == (6, [])
    assert all(p["passed"] for p in periods.values())
    page = html(demo, "PeriodClose")
    assert '<tr data-period="2026-10">' in page
    assert "3154b7e900" in page
    assert "matches" in page
    assert "not closed" in page


def test_period_close_page_reports_a_tampered_closed_period(seed003: Books, tmp_path: Path) -> None:
    for month in range(1, 11):
        seed003.close_period(f"2026-{month:02d}")
    seed003.export_beancount(tmp_path, fava_extension=True)
    period = tmp_path / "periods" / "2026-10.beancount"
    period.write_text(
        period.read_text().replace(" 100.00 USD", "  90.00 USD", 1).replace("-100.00 USD", " -90.00 USD", 1)
    )
    with period.open("a") as handle:
        handle.write(
            '\n2026-10-20 * "Acme Corp" "late fix"\n  Assets:Cash  5.00 USD\n  Income:OtherRevenue  -5.00 USD\n'
        )
    october = next(
        p
        for p in data(client(tmp_path / "main.beancount"), "PeriodClose")["periods"]
        if p["period"]["name"] == "2026-10"
    )
    assert october["fingerprint_ok"] is False
    assert october["outside"] == 1
    assert october["unexplained"] == []
    assert october["passed"] is False
    assert any("posted into closed accounting period 2026-10" in e for e in october["errors"])


def test_write_off_register_page(demo: FlaskClient) -> None:
    (november,) = data(demo, "WriteOffRegister")["periods"]
    assert november["period"] == "2026-11"
    memos = {m["documents"][0]: m for m in november["memos"]}
    assert sorted(memos) == [
        "WO-CM00000022-1",
        "WO-DM00000001-1",
        "WO-INV00000001-1",
        "WO-INV00000002-1",
        "WO-INV00000010-1",
    ]
    bad_debt = memos["WO-INV00000010-1"]
    assert (bad_debt["source"], bad_debt["reason_code"], bad_debt["comment"], bad_debt["revenue_impacting"]) == (
        "INV00000010",
        "Write-off",
        "Onboarding hours disputed; balance uncollectible",
        "No",
    )
    assert bad_debt["amount"] == {"USD": "163.12"}
    assert bad_debt["by_code"] == {
        "Expenses:BadDebt": {"USD": "150.00"},
        "Liabilities:SalesTaxPayable": {"USD": "13.12"},
    }
    assert bad_debt["filter"] == "^WO-INV00000010-1"
    assert memos["WO-INV00000001-1"]["amount"] == {"USD": "430.00"}
    assert memos["WO-INV00000002-1"]["amount"] == {"USD": "280.00"}
    assert memos["WO-CM00000022-1"]["amount"] == {"EUR": "-35.70"}
    revenue = {g["key"]: g["amount"] for g in november["by_revenue"]}
    assert revenue == {"No": {"USD": "163.12"}, "Yes": {"EUR": "-35.70", "USD": "710.00"}}
    assert [(g["key"], g["count"]) for g in november["by_reason"]] == [("Write-off", 5)]
    assert {g["label"]: g["amount"] for g in november["by_code"]} == {
        "6100 Bad Debt Expense": {"USD": "150.00"},
        "2400 Deferred Revenue": {"EUR": "-30.00", "USD": "710.00"},
        "2200 Sales Tax Payable": {"EUR": "-5.70", "USD": "13.12"},
    }
    assert {g["key"]: g["amount"] for g in november["by_customer"]} == {
        "A00000001": {"USD": "710.00"},
        "A00000002": {"USD": "163.12"},
        "A00000003": {"EUR": "-35.70"},
    }
    assert november["total"] == {"EUR": "-35.70", "USD": "873.12"}
    # Totals tie to the accounts: every code's register total equals its #write-off postings; Bad Debt Expense moved
    # only by the write-off.
    ties = {t["account"]: t for t in november["ties"]}
    assert all(t["ties"] for t in ties.values())
    assert ties["Expenses:BadDebt"]["movement"] == {"USD": "150.00"}
    page = html(demo, "WriteOffRegister")
    assert "journal/?filter=%5EWO-INV00000010-1" in page
    assert "Onboarding hours disputed; balance uncollectible" in page
    # The rows' links filter Fava's journal to the entries they add up: Fava's own filter language parses each.
    counts = {}
    for group in ("memos", "by_revenue", "by_reason", "by_code", "by_customer"):
        for row in november[group]:
            journal = demo.get(f"/{SLUG}/api/journal", query_string={"filter": row["filter"]})
            assert journal.status_code == 200, row["filter"]
            counts[row["filter"]] = len(journal.get_json()["data"])
    assert counts["^WO-INV00000010-1"] == 3
    assert counts['operation-kind:"^write-off" reason-code:"^Write-off$"'] == 13
    assert counts['operation-kind:"^write-off" revenue-impacting:"^No$"'] == 3
    assert counts['operation-kind:"^write-off" any(account:"^Expenses:BadDebt$")'] == 1
    assert counts['operation-kind:"^write-off" customer-account:"^A00000001$"'] == 4


def test_write_off_register_of_one_period_and_of_a_period_without_write_offs(demo: FlaskClient) -> None:
    assert len(data(demo, "WriteOffRegister", "?period=2026-11")["periods"]) == 1
    assert data(demo, "WriteOffRegister", "?period=2026-10")["periods"] == []
    assert "No write-offs in 2026-10." in html(demo, "WriteOffRegister", "?period=2026-10")


def test_reversals_page(demo: FlaskClient) -> None:
    (november,) = data(demo, "Reversals")["periods"]
    reversals = {r["documents"][0]: r for r in november["reversals"]}
    assert sorted(reversals) == ["RV-CM00000001-1", "RV-CM00000021-1", "RV-INV00000022-1"]
    cascaded = reversals["RV-CM00000021-1"]
    assert (cascaded["source"], cascaded["caused_by"], cascaded["amount"]) == (
        "CM00000021",
        "RV-INV00000022-1",
        {"EUR": "-59.50"},
    )
    assert reversals["RV-INV00000022-1"]["caused_by"] == ""
    assert reversals["RV-INV00000022-1"]["amount"] == {"EUR": "297.50"}
    assert reversals["RV-CM00000001-1"]["comment"] == "Credit issued in error"
    page = html(demo, "Reversals")
    assert "Reversed with" in page
    assert "RV-INV00000022-1" in page


def test_receivables_aging_page(demo: FlaskClient) -> None:
    aging = data(demo, "ReceivablesAging")
    assert aging["as_of"] == "2026-11-20"
    items = {i["document"]: i for c in aging["customers"] for i in c["items"]}
    assert {d: (i["balance"], i["currency"], i["bucket"], i["candidate"]) for d, i in items.items()} == {
        "INV00000010": ("150.13", "USD", "1-30", True),
        "DM00000002": ("25.00", "USD", "1-30", False),
        "INV00000020": ("416.30", "EUR", "1-30", True),
        "INV00000021": ("307.50", "EUR", "Current", False),
    }
    assert items["INV00000020"]["days_past_due"] == 20
    # The aging ties to the receivable account's balance on the date.
    assert aging["total"] == {"EUR": "723.80", "USD": "175.13"}
    assert aging["receivable_accounts"] == {"Assets:AccountsReceivable": {"EUR": "723.80", "USD": "175.13"}}
    assert aging["ties"] is True
    # Before the write-offs: INV00000001 and INV00000002 were open, and 120 days on everything is past 90 days.
    earlier = data(demo, "ReceivablesAging", "?as_of=2026-11-15")
    assert {i["document"] for c in earlier["customers"] for i in c["items"]} >= {"INV00000001", "INV00000002"}
    later = data(demo, "ReceivablesAging", "?as_of=2027-03-31")
    assert all(i["candidate"] for c in later["customers"] for i in c["items"] if i["bucket"] == "Over 90")
    page = html(demo, "ReceivablesAging")
    assert 'class="candidate"' in page
    assert "416.30 EUR" in page


# --- screenshots in a real browser ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fava_server() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from fava.cli import main; main()",
            "--read-only",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            str(DEMO),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/{SLUG}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/extension/PeriodClose/", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("fava did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed (apt-get install chromium)")
def test_screenshots_of_each_page(fava_server: str, tmp_path: Path) -> None:
    """Each page rendered by Fava's own frontend in headless chromium. SUBLEDGER_SCREENSHOTS=DIR keeps the PNGs."""
    out = Path(os.environ.get("SUBLEDGER_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    expected = {
        "PeriodClose": "3154b7e900",
        "WriteOffRegister": "Onboarding hours disputed",
        "Reversals": "RV-INV00000022-1",
        "ReceivablesAging": "416.30 EUR",
    }
    for page, figure in expected.items():
        url = f"{fava_server}/extension/{page}/"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert figure in response.read().decode()
        png = out / f"{page}.png"
        subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--virtual-time-budget=5000",
                f"--screenshot={png}",
                "--window-size=1400,1000",
                url,
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
        content = png.read_bytes()
        assert content.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(content) > 30_000, f"{page}: {len(content)} bytes, a blank page?"


def test_write_offs_by_invoice_item_adjustments_are_in_the_register() -> None:
    """The book without Invoice Settlement writes off with invoice item adjustments (tagged #adjustment): one register
    row per invoice written off, its adjustments' filter the invoice."""
    books = client(ROOT / "ledgers" / "example-no-settlement" / "main.beancount")
    (november,) = data(books, "WriteOffRegister")["periods"]
    rows = {m["source"]: m for m in november["memos"]}
    assert {s: (m["amount"], m["reason_code"], m["revenue_impacting"], m["filter"]) for s, m in rows.items()} == {
        "INV00000101": ({"USD": "110.00"}, "Write-off", "Yes", "^INV00000101"),
        "INV00000102": ({"USD": "0.50"}, "Write-off", "Yes", "^INV00000102"),
        "INV00000103": ({"USD": "197.00"}, "Write-off", "Yes", "^INV00000103"),
    }
    assert rows["INV00000102"]["documents"] == ["IIA-INV00000102-3", "IIA-INV00000102-4"]  # not the corrections
    assert november["total"] == {"USD": "307.50"}
    assert all(t["ties"] for t in november["ties"])
    assert data(books, "ReceivablesAging")["customers"] == []


def test_register_links_match_a_reason_code_written_with_regex_characters(
    cli: Any, seed003: Books, tmp_path: Path
) -> None:
    """A reason code is the administrator's own text: ``Bankruptcy (Ch. 7)`` has parentheses and a dot, which Fava's
    filter reads as a regular expression. The register's row for it opened an empty journal (the pattern matched
    ``Bankruptcy Ch. 7``, not the reason code); it now opens the write-off's two entries."""
    url = db_url(seed003)
    assert cli("reason-code", "add", "Bankruptcy (Ch. 7)", "--for", "credit-memo", db=url).code == 0
    wrote = cli(
        "invoice",
        "write-off",
        "INV00000001",
        "--reason-code",
        "Bankruptcy (Ch. 7)",
        "--memo-date",
        "2026-11-16",
        db=url,
    )
    assert wrote.code == 0, wrote.err
    seed003.export_beancount(tmp_path, fava_extension=True)
    books = client(tmp_path / "main.beancount")
    (november,) = data(books, "WriteOffRegister")["periods"]
    counts = {}
    for group in ("by_revenue", "by_reason", "by_customer"):
        for row in november[group]:
            journal = books.get(f"/{SLUG}/api/journal", query_string={"filter": row["filter"]})
            assert journal.status_code == 200, row["filter"]
            counts[(group, row["label"])] = len(journal.get_json()["data"])
    assert counts == {
        ("by_revenue", "Revenue impacting"): 2,
        ("by_reason", "Bankruptcy (Ch. 7)"): 2,
        ("by_customer", "A00000001 Acme Corp"): 2,
    }


def fiscal_ledger(engine: Engine, tmp_path: Path) -> FlaskClient:
    """A book whose calendar names its periods FY26-P01 ... FY27-P12 (the months of 2026 and 2027), INV00000001
    written off on 2026-11-16 (in FY26-P11), exported with the extension."""
    calendar = tmp_path / "calendar"
    calendar.mkdir()
    for year in ("2026", "2027"):
        text = (ROOT / "periods" / f"{year}.csv").read_text()
        renamed = re.sub(r"^(\d\d)(\d\d)-(\d\d),", r"FY\2-P\3,", text, flags=re.MULTILINE)
        (calendar / f"{year}.csv").write_text(renamed)
    books = Books(engine=engine)
    books.init(periods=calendar)
    books.load(ROOT / "examples" / "seed-003-books.json")
    books.write_off_invoice("INV00000001", ROOT / "examples" / "write-off-header.json")
    books.export_beancount(tmp_path / "ledger", fava_extension=True)
    return client(tmp_path / "ledger" / "main.beancount")


def test_register_links_cover_the_period_of_a_calendar_not_named_by_month(engine: Engine, tmp_path: Path) -> None:
    """A fiscal calendar may name its periods as it likes (``periods/README.md``): ``FY26-P11`` for November 2026.
    The register's links passed the period's name to Fava's time filter, which answered 'Failed to parse date:
    FY26-P11' for every row but the memos; they now pass the period's first and last days."""
    fava = fiscal_ledger(engine, tmp_path)
    (register,) = data(fava, "WriteOffRegister")["periods"]
    assert (register["period"], register["time"]) == ("FY26-P11", "2026-11-01 - 2026-11-30")
    page = html(fava, "WriteOffRegister")
    links = re.findall(r'href="/subledger-books/journal/\?([^"]*)"', page)
    timed = [link.replace("&amp;", "&") for link in links if "time=" in link]
    counts = []
    for query in timed:  # by revenue impact, reason code, accounting code and customer
        journal = fava.get(f"/{SLUG}/api/journal?{query}")
        assert journal.status_code == 200, (query, journal.get_data(as_text=True))
        counts.append(len(journal.get_json()["data"]))
    assert counts == [2, 2, 1, 2]  # the code (Deferred Revenue): the memo's entry only, not its application


def test_period_close_links_cover_the_period_of_a_calendar_not_named_by_month(engine: Engine, tmp_path: Path) -> None:
    """Period close linked each period to Fava's journal with its name as the time filter: 'Failed to parse date:
    FY26-P11'. The link now passes the period's first and last days."""
    fava = fiscal_ledger(engine, tmp_path)
    page = html(fava, "PeriodClose")
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="/subledger-books/journal/\?([^"]*)"', page)]
    assert links == ["time=2026-10-01+-+2026-10-31", "time=2026-11-01+-+2026-11-30"]
    for query, month in zip(links, ("2026-10", "2026-11"), strict=True):
        journal = fava.get(f"/{SLUG}/api/journal?{query}")
        assert journal.status_code == 200, (query, journal.get_data(as_text=True))
        # The period's entries: those of its month (the calendar's periods are the months).
        assert journal.get_json()["data"] == fava.get(f"/{SLUG}/api/journal?time={month}").get_json()["data"]


def test_pages_show_a_three_decimal_currency_exactly(tmp_path: Path, cli: Any) -> None:
    """A book in Bahraini dinars (three decimals; the chart takes a currency with one line): INV00000001 of 430.005
    BHD (330.000 and 100.005) written off on 2026-11-16. The register and the aging printed every amount with two
    decimals, 430.00 BHD, though the ledger, its data endpoint and the command line's register say 430.005; the pages
    now print each amount as the ledger has it."""
    chart = tmp_path / "chart"
    shutil.copytree(ROOT / "chart_of_accounts", chart)
    main = chart / "chart.beancount"
    main.write_text(main.read_text().replace('"GBP"\n', '"GBP"\noption "operating_currency" "BHD"\n', 1))
    seed = json.loads((ROOT / "examples" / "seed-003-books.json").read_text().replace('"USD"', '"BHD"'))
    seed["invoices"][0]["items"][1] |= {"unitPrice": "100.005", "chargeAmount": "100.005"}
    (tmp_path / "books.json").write_text(json.dumps(seed))
    url = f"sqlite:///{tmp_path / 'bhd.db'}"
    assert cli("init", "--chart", str(chart), db=url).code == 0
    assert cli("load", str(tmp_path / "books.json"), db=url).code == 0
    assert cli("invoice", "write-off", "INV00000001", "--memo-date", "2026-11-16", db=url).code == 0
    assert cli("export", "beancount", "--out", str(tmp_path / "ledger"), "--fava-extension", db=url).code == 0
    fava = client(tmp_path / "ledger" / "main.beancount")
    assert data(fava, "WriteOffRegister")["periods"][0]["total"] == {"BHD": "430.005"}
    shown = re.findall(r"[\d,]+\.\d+ BHD", html(fava, "WriteOffRegister"))
    assert set(shown) == {"430.005 BHD"}
    aging = re.findall(r"[\d,]+\.\d+ BHD", html(fava, "ReceivablesAging", "?as_of=2026-11-15"))
    assert set(aging) == {"430.005 BHD", "280.000 BHD", "710.005 BHD"}  # INV00000002: 430.000 less 150.000 paid


def test_period_close_puts_an_error_in_the_period_of_its_entry(seed003: Books, tmp_path: Path) -> None:
    """A ledger error belonged to every period whose first day after it the entry was dated on (the day a period's
    balance assertions are dated), so an unbalanced transaction of 2026-11-01 failed October's close row too, though
    October's entries, fingerprint and balances are all right; it now fails November's only, and an assertion's
    error stays with the period it closes."""
    for month in range(1, 11):
        seed003.close_period(f"2026-{month:02d}")
    seed003.write_off_invoice("INV00000001", ROOT / "examples" / "write-off-header.json")  # November has entries
    seed003.export_beancount(tmp_path, fava_extension=True)
    with (tmp_path / "main.beancount").open("a") as handle:
        handle.write(
            '\n2026-11-01 * "Acme Corp" "unbalanced"\n  Assets:Cash  5.00 USD\n  Income:OtherRevenue  -4.00 USD\n'
            "\n2026-11-01 balance Assets:Cash  1.00 USD\n"
        )
    periods = {p["period"]["name"]: p for p in data(client(tmp_path / "main.beancount"), "PeriodClose")["periods"]}
    october, november = periods["2026-10"], periods["2026-11"]
    assert october["errors"] == [
        "Balance failed for 'Assets:Cash': expected 1.00 USD != accumulated 150.00 USD (149.00 too much)"
    ]
    assert november["errors"] == ["Transaction does not balance: (1.00 USD)"]
