"""The committed demo ledger is exactly what ``make demo`` writes, and bean-check accepts it."""

from __future__ import annotations

from pathlib import Path

import pytest
from beancount import loader

from conftest import ROOT, SHARED_EXAMPLES
from subledger import demo


def test_committed_ledger_equals_demo_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--out", str(tmp_path / "ledger"), "--db", str(tmp_path / "demo.db")]) == 0
    # What it did, a step a line, however the output is read: piped (a CI log), rich cut each line at 80 columns.
    said = capsys.readouterr().out.splitlines()
    for what, _ in demo.STEPS:
        assert f"  done: {what}" in said, what
    for what, _ in demo.NO_SETTLEMENT_STEPS:
        assert f"  done (book without Invoice Settlement): {what}" in said, what
    written = {p.relative_to(tmp_path / "ledger"): p.read_bytes() for p in (tmp_path / "ledger").rglob("*.beancount")}
    committed = {
        p.relative_to(ROOT / "ledgers" / "example"): p.read_bytes()
        for p in (ROOT / "ledgers" / "example").rglob("*.beancount")
    }
    assert written == committed
    # October is closed; its journal run's GL files sit next to the ledger, in every format (each with its sidecar),
    # and November's run in the generic layout.
    gl_written = {p.name: p.read_bytes() for p in (tmp_path / "ledger" / "gl").iterdir()}
    assert sorted(n for n in gl_written if not n.endswith(".manifest.json")) == [
        "2026-10.csv",
        "2026-10.intacct.csv",
        "2026-10.jsonl",
        "2026-10.netsuite-summary.csv",
        "2026-10.netsuite.csv",
        "2026-10.quickbooks.csv",
        "2026-10.xero.csv",
        "2026-11.csv",
    ]
    assert gl_written == {p.name: p.read_bytes() for p in (ROOT / "ledgers" / "example" / "gl").iterdir()}
    # each one passes its importer's rules, as the export checked before writing it
    from subledger.chart import load_chart
    from subledger.export import gl

    profile = gl.load_profile(demo.ERP_PROFILE)
    chart = gl.accounts_of(load_chart(ROOT / "chart_of_accounts").codes.values())
    for name, fmt, _ in demo.GL_RENDERS:
        checked = gl.check_file(ROOT / "ledgers" / "example" / "gl" / name, fmt, profile=profile, accounts=chart)
        assert checked.problems == [], name
    _, errors, _ = loader.load_file(str(ROOT / "ledgers" / "example" / "main.beancount"))
    assert errors == []
    # The second book, without Invoice Settlement (written off by invoice item adjustments), next to the first.
    ns_written = tmp_path / "ledger-no-settlement"
    ns_committed = ROOT / "ledgers" / "example-no-settlement"
    assert {p.relative_to(ns_written): p.read_bytes() for p in ns_written.rglob("*") if p.is_file()} == {
        p.relative_to(ns_committed): p.read_bytes() for p in ns_committed.rglob("*") if p.is_file()
    }
    assert "#adjustment" in (ns_committed / "periods" / "2026-11.beancount").read_text()
    assert "Invoice Item Adjustment (Tax)" in (ns_committed / "gl" / "2026-11.csv").read_text()
    _, errors, _ = loader.load_file(str(ns_committed / "main.beancount"))
    assert errors == []


def test_examples_are_the_shared_ones() -> None:
    if not SHARED_EXAMPLES.exists():
        return
    for shared in SHARED_EXAMPLES.glob("*.json"):
        assert (ROOT / "examples" / shared.name).read_bytes() == shared.read_bytes()
