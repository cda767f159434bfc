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

EXAMPLES = ROOT / "examples"
DATA = ("seed-003-books.json", "line-level-books.json", "demo-books.json")

#: (what it shows, the step) run after loading, in order.
STEPS: list[tuple[str, Callable[[Books], object]]] = []


def run(out: Path, db: Path) -> Books:
    db.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    books = Books(f"sqlite:///{db}")
    books.init()
    for name in DATA:
        books.load(EXAMPLES / name)
    for _, step in STEPS:
        step(books)
    books.export_beancount(out)
    return books


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "ledgers" / "example")
    parser.add_argument("--db", type=Path, default=Path("demo.db"))
    args = parser.parse_args(argv)
    console = Console(highlight=False)
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
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
