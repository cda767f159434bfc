"""The closed-period Beancount plugin: the exported ledger of a closed period passes bean-check, hand edits do not.

The close records a fingerprint computed from the database; the plugin recomputes it from the ledger text. The two
agree on an untouched export, so any added, removed or changed posting in a closed period is an error.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from beancount import loader
from beancount.parser import parser

from subledger.api import Books
from subledger.plugins.closed_periods import closed_periods

CLOSE = [f"2026-{m:02d}" for m in range(1, 11)]


def closed_ledger(books: Books, out: Path) -> Path:
    for name in CLOSE:
        books.close_period(name)
    books.export_beancount(out)
    return out / "periods" / "2026-10.beancount"


def messages(out: Path) -> list[str]:
    _, errors, _ = loader.load_file(str(out / "main.beancount"))
    return [e.message for e in errors]


def test_exported_closed_period_passes_bean_check_with_the_recorded_fingerprint(seed003: Books, tmp_path: Path) -> None:
    period = closed_ledger(seed003, tmp_path)
    recorded = next(p for p in seed003.periods() if p.name == "2026-10").fingerprint
    assert period.read_text().endswith(f'2026-10-31 custom "closed-period" "2026-10" 2026-10-01 "{recorded}"\n')
    assert messages(tmp_path) == []
    assert 'plugin "subledger_closed_periods"' in (tmp_path / "main.beancount").read_text()


def test_added_transaction_in_a_closed_period_is_reported(seed003: Books, tmp_path: Path) -> None:
    period = closed_ledger(seed003, tmp_path)
    with period.open("a") as handle:
        handle.write(
            '\n2026-10-20 * "Acme Corp" "late fix"\n  Assets:Cash  5.00 USD\n  Income:OtherRevenue  -5.00 USD\n'
        )
    assert messages(tmp_path) == ["Transaction dated 2026-10-20 is posted into closed accounting period 2026-10"]


def test_changed_amount_in_a_closed_period_is_reported(seed003: Books, tmp_path: Path) -> None:
    period = closed_ledger(seed003, tmp_path)
    text = period.read_text()
    edited = text.replace(" 100.00 USD", "  90.00 USD", 1).replace("-100.00 USD", " -90.00 USD", 1)
    assert edited != text
    period.write_text(edited)
    found = messages(tmp_path)
    assert (
        "Closed accounting period 2026-10 was altered: its postings no longer match the fingerprint recorded at close"
        in found
    )


def test_copied_entry_id_cannot_hide_an_addition(seed003: Books, tmp_path: Path) -> None:
    period = closed_ledger(seed003, tmp_path)
    with period.open("a") as handle:
        handle.write(
            '\n2026-10-20 * "Acme Corp" "looks posted"\n  entry: "A00000001-1"\n'
            "  Assets:Cash  5.00 USD\n  Income:OtherRevenue  -5.00 USD\n"
        )
    assert messages(tmp_path) == [
        "Closed accounting period 2026-10 was altered: its postings no longer match the fingerprint recorded at close"
    ]


def test_edits_in_open_periods_are_not_the_plugins_business(seed003: Books, tmp_path: Path) -> None:
    seed003.export_beancount(tmp_path)  # nothing closed
    with (tmp_path / "periods" / "2026-10.beancount").open("a") as handle:
        handle.write('\n2026-10-20 * "x" "y"\n  Assets:Cash  5.00 USD\n  Income:OtherRevenue  -5.00 USD\n')
    assert messages(tmp_path) == []


def test_plugin_function_on_a_ledger_text() -> None:
    """The plugin alone, as beancount's plugins are tested: entries in, errors out."""
    nothing = hashlib.sha256(b"").hexdigest()  # the fingerprint of a period closed with no entries
    entries, errors, options = parser.parse_string(
        f"""
        2026-01-01 open Assets:Cash
        2026-01-01 open Income:Other
        2026-01-15 * "posted by hand"
          Assets:Cash   1.00 USD
          Income:Other -1.00 USD
        2026-01-31 custom "closed-period" "2026-01" 2026-01-01 "{nothing}"
        """,
        dedent=True,
    )
    assert errors == []
    kept, found = closed_periods(entries, options)
    assert kept == entries
    assert [e.message for e in found] == [
        "Transaction dated 2026-01-15 is posted into closed accounting period 2026-01"
    ]
