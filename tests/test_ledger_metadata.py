"""The exported ledger explains itself: metadata on every entry (reason code, comment, actor, operation, customer,
documents, revenue impacting), cascaded reversals linked to their cause, free text that always parses, and a ledger
that loads and keeps its closed periods closed where subledger is not installed."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import beanquery
from beancount import loader
from beancount.core import data

from conftest import ROOT, example
from subledger.api import Books
from subledger.canonical import posting_text
from subledger.export.beancount import PLUGIN_FILE, plugin_source, quote
from subledger.plugins import closed_periods as plugin

DEMO = ROOT / "ledgers" / "example" / "main.beancount"


def query(ledger: Path, bql: str) -> list[tuple[Any, ...]]:
    return list(beanquery.connect(f"beancount:{ledger}").execute(bql).fetchall())


def transactions(ledger: Path) -> list[data.Transaction]:
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == []
    return [e for e in entries if isinstance(e, data.Transaction)]


def test_bean_query_finds_every_demo_write_off_reason_code_and_comment() -> None:
    rows = query(
        DEMO,
        "SELECT DISTINCT entry_meta('document') AS doc, entry_meta('source-document') AS src, "
        "entry_meta('reason-code') AS reason, entry_meta('comment') AS comment, "
        "entry_meta('revenue-impacting') AS revenue WHERE 'write-off' IN tags ORDER BY doc",
    )
    assert rows == [
        ("WO-CM00000022-1", "CM00000022", "Write-off", "Credit expired", "Yes"),
        ("WO-DM00000001-1", "DM00000001", "Write-off", "Fee and waiver cleared", "Yes"),
        ("WO-INV00000001-1", "INV00000001", "Write-off", "Full write-off of the open balance", "Yes"),
        ("WO-INV00000002-1", "INV00000002", "Write-off", "Full write-off of the open balance", "Yes"),
        ("WO-INV00000010-1", "INV00000010", "Write-off", "Onboarding hours disputed; balance uncollectible", "No"),
    ]


def test_every_entry_names_its_operation_actor_customer_and_document() -> None:
    keys = ("entry", "transaction-type", "operation", "operation-kind", "actor", "customer-account", "document")
    entries = transactions(DEMO)
    assert len(entries) > 50
    for entry in entries:
        assert all(key in entry.meta for key in keys), entry.meta
        assert entry.meta["customer-name"] == entry.payee
        assert entry.meta["customer-account"] == entry.meta["entry"].rsplit("-", 1)[0]
    by_id = {e.meta["entry"]: e for e in entries}
    invoice = by_id["A00000003-3"]
    assert (invoice.meta["document"], invoice.meta["operation-kind"], str(invoice.meta["due-date"])) == (
        "INV00000021",
        "load",
        "2026-11-30",
    )
    assert by_id["A00000003-7"].meta["reason-code"] == "Service outage"


def test_cascaded_reversal_is_linked_to_the_reversal_that_caused_it() -> None:
    entries = [e for e in transactions(DEMO) if "reversal" in e.tags]
    cascaded = [e for e in entries if e.meta["document"] == "RV-CM00000021-1"]
    assert len(cascaded) == 3
    for entry in cascaded:
        assert entry.meta["caused-by"] == "RV-INV00000022-1"
        assert entry.meta["source-document"] == "CM00000021"
        assert {"RV-INV00000022-1", "INV00000022", "RV-CM00000021-1", "CM00000021"} <= entry.links
        assert "reversed together with invoice INV00000022" in (entry.narration or "")
    # The reversal asked for, and one of a credit memo on its own, have no cause but themselves.
    assert all("caused-by" not in e.meta for e in entries if e.meta["document"] != "RV-CM00000021-1")


#: PostgreSQL refuses NUL in text, so the escape character stands for the control characters Beancount cannot escape.
HOSTILE = 'He said "write it off" \\ then\nleft; tab\there, cr\r, esc\x1b, end\\'


def test_hostile_free_text_is_escaped_and_the_ledger_still_parses(books: Books, tmp_path: Path) -> None:
    books.load(example("seed-003-books.json"))
    books.write_off_invoice("INV00000001", {"memoDate": "2026-11-16", "reasonCode": "Write-off", "comment": HOSTILE})
    books.export_beancount(tmp_path)
    entries = [e for e in transactions(tmp_path / "main.beancount") if "write-off" in e.tags]
    assert entries
    # Newline, tab, carriage return, quote and backslash come back as written; ESC has no escape in Beancount.
    assert {e.meta["comment"] for e in entries} == {HOSTILE.replace("\x1b", "\ufffd")}
    assert query(tmp_path / "main.beancount", "SELECT DISTINCT entry_meta('comment') WHERE 'write-off' IN tags") == [
        (HOSTILE.replace("\x1b", "\ufffd"),)
    ]


def test_quote_round_trips_through_the_beancount_parser() -> None:
    from beancount.parser import parser

    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    for text in (HOSTILE, "nul\x00 del\x7f ff\x0c", "\\", '"', '\\"', "trailing \\", "\u2028 é"):
        entries, errors, _ = parser.parse_string(f"2026-01-01 open Assets:Cash\n  comment: {quote(text)}\n")
        assert errors == []
        expected = "".join("\ufffd" if (ord(c) < 32 and c not in "\n\t\r") or c == "\x7f" else c for c in text)
        assert entries[0].meta["comment"] == expected


def test_ledger_reads_with_natural_signs_and_its_plugin_beside_it(seed003: Books, tmp_path: Path) -> None:
    seed003.export_beancount(tmp_path)
    main = (tmp_path / "main.beancount").read_text()
    assert 'custom "fava-option" "invert-income-liabilities-equity" "true"' in main
    assert 'option "insert_pythonpath" "TRUE"' in main
    assert 'plugin "subledger_closed_periods"' in main
    assert "fava-extension" not in main
    assert (tmp_path / PLUGIN_FILE).read_text() == plugin_source() == Path(plugin.__file__).read_text()
    seed003.export_beancount(tmp_path / "fava", fava_extension=True)
    assert 'custom "fava-extension" "subledger.fava_ext"' in (tmp_path / "fava" / "main.beancount").read_text()


def test_the_plugins_posting_line_and_fingerprint() -> None:
    import datetime as dt
    from decimal import Decimal

    args = (dt.date(2026, 10, 5), "A00000001-1", "Assets:AccountsReceivable", Decimal("-330.00"), "USD")
    assert plugin.posting_line(*args) == posting_text(*args)
    lines = ["b|1", "a|2", "c|3"]
    # Sorted, each line followed by a newline.
    assert plugin.fingerprint(lines) == hashlib.sha256(b"a|2\nb|1\nc|3\n").hexdigest()


#: Run in a fresh interpreter in which ``subledger`` cannot be imported: loads the ledger with Beancount, then with
#: Fava's ledger class when Fava is there, and prints what each reported.
STANDALONE = textwrap.dedent(
    """
    import importlib.abc, sys

    class NoSubledger(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "subledger" or name.startswith("subledger."):
                raise ModuleNotFoundError(f"No module named {name!r} (blocked)")
            return None

    sys.meta_path.insert(0, NoSubledger())
    try:
        import subledger
    except ModuleNotFoundError:
        print("subledger: unimportable")
    from beancount import loader
    _, errors, _ = loader.load_file(sys.argv[1])
    for error in errors:
        print("beancount:", error.message.splitlines()[0])
    try:
        from fava.core import FavaLedger
    except ModuleNotFoundError:
        print("fava: absent")
    else:
        for error in FavaLedger(sys.argv[1]).errors:
            print("fava:", error.message.splitlines()[0])
    print("subledger imported:", any(m == "subledger" or m.startswith("subledger.") for m in sys.modules))
    """
)


def load_standalone(main: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", STANDALONE, str(main)], capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout.splitlines()


def test_ledger_loads_and_refuses_closed_period_postings_without_subledger(seed003: Books, tmp_path: Path) -> None:
    for month in range(1, 11):
        seed003.close_period(f"2026-{month:02d}")
    seed003.export_beancount(tmp_path, fava_extension=True)
    out = load_standalone(tmp_path / "main.beancount")
    assert out[0] == "subledger: unimportable"
    assert out[-1] == "subledger imported: False"
    # Clean in Beancount; Fava loads it too and only says it cannot import the optional extension.
    assert [line for line in out if line.startswith("beancount:")] == []
    fava = [line for line in out if line.startswith("fava:")]
    assert fava == ['fava: Importing module "subledger.fava_ext" failed.']
    with (tmp_path / "periods" / "2026-10.beancount").open("a") as handle:
        handle.write(
            '\n2026-10-20 * "Acme Corp" "late fix"\n  Assets:Cash  5.00 USD\n  Income:OtherRevenue  -5.00 USD\n'
        )
    out = load_standalone(tmp_path / "main.beancount")
    assert "beancount: Transaction dated 2026-10-20 is posted into closed accounting period 2026-10" in out
    assert out[-1] == "subledger imported: False"
