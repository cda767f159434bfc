"""``make demo``: a fresh book, the example data set, every operation the project has, and the ledger.

Writes ``ledgers/example/`` (the committed copy must equal what this writes: a test says so), runs bean-check on
it, and prints a summary. Each operation adds its step to ``STEPS``, in the order a month end runs them.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from beancount import loader
from rich.console import Console
from rich.table import Table

from subledger.api import ROOT, Books
from subledger.settings import BookSettings

EXAMPLES = ROOT / "examples"
DATA = ("seed-003-books.json", "line-level-books.json", "demo-books.json")

#: (what it shows, the step) run after loading, in order.
STEPS: list[tuple[str, Callable[[Books], object]]] = []

#: Write-offs, first (all on 2026-11-16): header level and revenue-impacting, line level and non-revenue, a debit
#: memo, and a credit memo (written off by a debit memo it is applied to).
WRITE_OFF_DAY = {"memoDate": "2026-11-16", "reasonCode": "Write-off"}
STEPS += [
    (
        "write off unpaid invoice INV00000001 (430.00) in full: a credit memo of 10 x 33.00 and 1 x 100.00",
        lambda b: b.write_off_invoice("INV00000001", EXAMPLES / "write-off-header.json"),
    ),
    (
        "write off the 280.00 still open on invoice INV00000002 after a 150.00 payment: a credit memo of 230.00 and "
        "50.00, quantities and unit prices copied from the invoice",
        lambda b: b.write_off_invoice("INV00000002", EXAMPLES / "write-off-header.json"),
    ),
    (
        "write off 150.00 and its 13.12 tax of invoice INV00000010 line by line to Bad Debt Expense "
        "(not revenue impacting)",
        lambda b: b.write_off_invoice("INV00000010", EXAMPLES / "write-off-line-level.json"),
    ),
    (
        "write off debit memo DM00000001 (a 40.00 fee, a 40.00 waiver): a zero credit memo with both lines",
        lambda b: b.write_off_debit_memo("DM00000001", {**WRITE_OFF_DAY, "comment": "Fee and waiver cleared"}),
    ),
    (
        "write off credit memo CM00000022, which the customer never used, with debit memo WO-CM00000022-1",
        lambda b: b.write_off_credit_memo("CM00000022", {**WRITE_OFF_DAY, "comment": "Credit expired"}),
    ),
]

#: Reversals, after the write-offs (steps above) and before period close and GL export (steps below).
STEPS += [
    (
        "reverse credit memo CM00000001, issued in error: a mirrored debit memo the credit memo is applied to",
        lambda b: b.reverse_credit_memo("CM00000001", EXAMPLES / "reverse-credit-memo.json"),
    ),
    (
        "reverse invoice INV00000022, ordered in error, with a mirrored credit memo; credit memo CM00000021 of "
        "its charge is reversed with it",
        lambda b: b.reverse_invoice(
            "INV00000022",
            {"memoDate": "2026-11-20", "applyEffectiveDate": "2026-11-20", "comment": "Add-on ordered in error"},
        ),
    ),
]

#: Applications, after the reversals and before month end: cash and credit still unapplied find their invoices.
STEPS += [
    (
        "apply the 100.00 left on payment P00000020 to invoice INV00000020, first open line first (FIFO)",
        lambda b: b.apply_payment(
            "P00000020",
            {"effectiveDate": "2026-11-18", "invoices": [{"invoiceNumber": "INV00000020", "amount": "100.00"}]},
        ),
    ),
    (
        "apply the 39.50 left on credit memo CM00000020 to invoice INV00000021 item by item (charge and tax)",
        lambda b: b.apply_credit_memo(
            "CM00000020",
            {
                "effectiveDate": "2026-11-18",
                "invoices": [
                    {
                        "invoiceNumber": "INV00000021",
                        "amount": "39.50",
                        "items": [
                            {"creditMemoItemId": "CMI-0201", "invoiceItemId": "II-0211", "amount": "30.00"},
                            {"creditTaxItemId": "CTI-0201", "taxationItemId": "TI-0211", "amount": "9.50"},
                        ],
                    }
                ],
            },
        ),
    ),
    (
        "unapply 10.00 of credit memo CM00000020 from invoice INV00000021, oldest application first",
        lambda b: b.unapply_credit_memo(
            "CM00000020",
            {"effectiveDate": "2026-11-19", "invoices": [{"invoiceNumber": "INV00000021", "amount": "10.00"}]},
        ),
    ),
]

#: Month end, LAST: close January to October (the write-offs and reversals above are dated in November, and the
#: credit memo reversal of CM00000001 needed October open), then the GL export of October (in ``run``).
STEPS += [
    (
        "close periods 2026-01 to 2026-10: close checks pass, fingerprints recorded",
        lambda b: [b.close_period(f"2026-{m:02d}") for m in range(1, 11)],
    ),
]

#: The ERP profile the demo's GL files are rendered with (every target's settings; docs/gl-export.md).
ERP_PROFILE = EXAMPLES / "erp-profile.toml"
#: GL files of October written next to the ledger (``gl/``), from one journal run: every format, detail, and a
#: NetSuite summary; each file checked against its importer's rules before it is written. The run is then
#: confirmed (its documents transferred to accounting). November's run stays Processing, in the generic layout
#: (its write-offs show their reason codes and comments).
GL_RENDERS: tuple[tuple[str, str, bool], ...] = (
    ("2026-10.csv", "csv", False),
    ("2026-10.jsonl", "jsonl", False),
    ("2026-10.netsuite.csv", "netsuite", False),
    ("2026-10.netsuite-summary.csv", "netsuite", True),
    ("2026-10.xero.csv", "xero", False),
    ("2026-10.quickbooks.csv", "quickbooks", False),
    ("2026-10.intacct.csv", "intacct", False),
)


def export_gl_files(books: Books, out: Path) -> list[Path]:
    """October's journal run rendered in every format and confirmed; November's run created and rendered."""
    files: list[Path] = []
    october = books.create_journal_run("2026-10").run
    assert october is not None
    for name, fmt, summary in GL_RENDERS:
        result = books.render_gl(
            october.number, out / name, format=fmt, summary=summary, profile=ERP_PROFILE, force=True
        )
        files.extend(Path(f) for f in result.files)
    books.confirm_journal_run(october.number)
    november = books.export_gl("2026-11", out / "2026-11.csv", profile=ERP_PROFILE, force=True)
    files.extend(Path(f) for f in november.files)
    return files


#: The second book: no Invoice Settlement, so its corrections and write-offs are invoice item adjustments.
NO_SETTLEMENT_DATA = "no-settlement-books.json"
NO_SETTLEMENT_STEPS: list[tuple[str, Callable[[Books], object]]] = [
    (
        "two adjustments of invoice INV00000102 judged together (a 2.00 charge and a 2.50 credit): its balance moves "
        "from 1.00 to 0.50, never across zero",
        lambda b: b.adjust_invoice_items(
            {
                "adjustments": [
                    {
                        "invoiceNumber": "INV00000102",
                        "type": t,
                        "amount": a,
                        "sourceType": "InvoiceDetail",
                        "sourceId": i,
                        "adjustmentDate": "2026-11-16",
                        "reasonCode": "Correcting invoice error",
                    }
                    for t, a, i in (("Charge", "2.00", "II-1021"), ("Credit", "2.50", "II-1022"))
                ]
            }
        ),
    ),
    (
        "write off three invoices by invoice item adjustments, taxation items included, in one transaction",
        lambda b: b.write_off_by_adjustments(
            ["INV00000101", "INV00000102", "INV00000103"],
            {
                "adjustmentDate": "2026-11-20",
                "reasonCode": "Write-off",
                "referenceId": "WO-TASK-2026-11",
                "comment": "Uncollectible after collections",
                "customFields": {"CollectionAgency__c": "Acme Recoveries"},
                "adjustTaxationItems": True,
            },
        ),
    ),
    (
        "close periods 2026-01 to 2026-11 (the adjustments pass the close checks), then November's GL journal run",
        lambda b: [b.close_period(f"2026-{m:02d}") for m in range(1, 12)],
    ),
]


def sibling(path: Path, suffix: str = "-no-settlement") -> Path:
    """Where the second book goes: next to the first (``ledgers/example-no-settlement``, ``demo-no-settlement.db``)."""
    return path.with_name(f"{path.stem}{suffix}{path.suffix}")


def _fresh(db: Path) -> Books:
    db.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return Books(f"sqlite:///{db}")


def run_no_settlement(out: Path, db: Path) -> Books:
    books = _fresh(db)
    books.init(settings=BookSettings(invoice_settlement=False))
    books.load(EXAMPLES / NO_SETTLEMENT_DATA)
    for _, step in NO_SETTLEMENT_STEPS:
        step(books)
    books.export_beancount(out, fava_extension=True)
    books.export_gl("2026-11", out / "gl" / "2026-11.csv", force=True)
    return books


def run(out: Path, db: Path) -> Books:
    books = _fresh(db)
    books.init()
    for name in DATA:
        books.load(EXAMPLES / name)
    for _, step in STEPS:
        step(books)
    books.export_beancount(out, fava_extension=True)
    export_gl_files(books, out / "gl")
    return books


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "ledgers" / "example")
    parser.add_argument("--db", type=Path, default=Path("demo.db"))
    args = parser.parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)  # a line each, whatever the width: piped, it cut at 80
    books = run(args.out, args.db)
    _, errors, _ = loader.load_file(str(args.out / "main.beancount"))
    entries = books.journal()
    table = Table("period", "kind", "journal entries", title="subledger demo")
    for (period, tag), count in sorted(Counter((e.period, e.tag) for e in entries).items()):
        table.add_row(period, tag, str(count))
    console.print(table)
    for what, _ in STEPS:
        console.print(f"  done: {what}")
    console.print(f"Ledger: {args.out / 'main.beancount'}  (bean-check: {len(errors)} errors)")
    for error in errors:
        console.print(f"  {error.message}", markup=False)
    ns_out = sibling(args.out)
    ns_books = run_no_settlement(ns_out, sibling(args.db))
    _, ns_errors, _ = loader.load_file(str(ns_out / "main.beancount"))
    adjustments = Counter(e.period for e in ns_books.journal() if e.tag == "adjustment")
    for what, _ in NO_SETTLEMENT_STEPS:
        console.print(f"  done (book without Invoice Settlement): {what}")
    console.print(
        f"Ledger: {ns_out / 'main.beancount'}  ({sum(adjustments.values())} adjustment entries; "
        f"bean-check: {len(ns_errors)} errors)"
    )
    for error in ns_errors:
        console.print(f"  {error.message}", markup=False)
    return 1 if errors or ns_errors else 0


if __name__ == "__main__":
    sys.exit(main())
