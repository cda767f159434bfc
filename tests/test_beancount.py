"""The Beancount ledger: loads with zero errors, asserts the control accounts, re-exports byte-identically."""

from __future__ import annotations

from pathlib import Path

from beancount import loader
from beancount.core import data

from conftest import ROOT, assert_snapshot_tree
from subledger.api import Books

SNAPSHOTS = ROOT / "tests" / "snapshots"


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.beancount"))}


def test_ledger_loads_without_errors_and_reexports_identically(line_level: Books, tmp_path: Path) -> None:
    line_level.load(ROOT / "examples" / "seed-003-books.json")
    first, second = tmp_path / "a", tmp_path / "b"
    line_level.export_beancount(first)
    line_level.export_beancount(second)
    assert files(first) == files(second)
    entries, errors, _ = loader.load_file(str(first / "main.beancount"))
    assert errors == []
    balances = [e for e in entries if isinstance(e, data.Balance)]
    assert {(str(b.account), str(b.amount)) for b in balances} == {
        ("Assets:AccountsReceivable", "1048.25 USD"),
        ("Assets:CreditMemoOnAccount", "-43.50 USD"),
        ("Liabilities:UnappliedPayments", "0.00 USD"),
    }


def test_ledger_snapshot(seed003: Books, tmp_path: Path) -> None:
    """The seed 003 books as an accountant reads them (tests/snapshots/seed003)."""
    seed003.export_beancount(tmp_path)
    assert_snapshot_tree(SNAPSHOTS / "seed003", files(tmp_path))


def test_edited_ledger_amount_breaks_a_balance_assertion(seed003: Books, tmp_path: Path) -> None:
    seed003.export_beancount(tmp_path)
    period = tmp_path / "periods" / "2026-10.beancount"
    text = period.read_text()
    period.write_text(text.replace("-330.00 USD", "-320.00 USD", 1).replace(" 330.00 USD", " 320.00 USD", 1))
    _, errors, _ = loader.load_file(str(tmp_path / "main.beancount"))
    assert any("Balance failed" in e.message for e in errors)


def test_reexport_after_a_reopen_leaves_no_stale_period_file(seed003: Books, tmp_path: Path) -> None:
    """Reopening the last closed period, which has no entries, ends the ledger a period earlier: exporting again to
    the same directory removes that period's old file (it said Closed, with a fingerprint), so the directory is
    what a fresh export writes."""
    seed003.close_periods_through("2026-12")
    seed003.export_beancount(tmp_path / "again")
    assert 'custom "closed-period" "2026-12"' in (tmp_path / "again" / "periods" / "2026-12.beancount").read_text()
    seed003.reopen_period("2026-12", "late invoice")
    seed003.export_beancount(tmp_path / "again")
    seed003.export_beancount(tmp_path / "fresh")
    assert not (tmp_path / "again" / "periods" / "2026-12.beancount").exists()
    assert files(tmp_path / "again") == files(tmp_path / "fresh")
    assert sorted(files(tmp_path / "fresh"))[-1] == "periods/2026-11.beancount"
