"""One piece of work over a book in a process of its own, as a user's command runs, so that its time and peak
memory (RSS) are its alone (not those of the benchmark process, whose heap holds the books it generated).

    python -m bench.probe WHAT URL OUT     (WHAT: export | plain | printer | check | gl-summary | gl-detail)

Prints one JSON object: ``seconds``, ``peak_rss_mb`` and ``start_rss_mb`` (after imports, before the work), and
for ``check`` whether every check ``passed``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from sqlalchemy import select

from bench import baselines
from subledger.api import Books
from subledger.storage import schema


def _rss_mb() -> float:
    """Peak RSS of this process image: VmHWM (``ru_maxrss`` would carry the parent's peak across fork and exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _periods(books: Books) -> list[str]:
    """The periods the book has entries in, in order: one journal run each, as a controller exports them."""
    with books.engine.connect() as conn:
        return sorted(conn.execute(select(schema.journal_entries.c.period).distinct()).scalars())


def main(argv: list[str]) -> int:
    what, url, out = argv
    books = Books(url)
    start_rss = _rss_mb()
    extra: dict[str, object] = {}
    start = time.perf_counter()
    if what == "check":
        extra["passed"] = books.check().passed
    elif what in ("gl-summary", "gl-detail"):
        summary = what == "gl-summary"
        if summary:  # the journal runs the detail probe created, rendered as summary entries
            for run in books.journal_runs():
                books.render_gl(run.number, Path(out) / f"{run.period}.csv", summary=True, force=True)
        else:  # a journal run per period, rendered in detail (what ``export gl --period`` does)
            for period in _periods(books):
                books.export_gl(period, Path(out) / f"{period}.csv", force=True)
    elif what == "export":
        books.export_beancount(Path(out))
    elif what == "plain":
        baselines.plain_ledger(books.engine, Path(out))
    elif what == "printer":
        baselines.printer_ledger(books.engine, Path(out))
    else:
        raise SystemExit(f"unknown probe {what!r}")
    seconds = time.perf_counter() - start
    books.engine.dispose()
    print(json.dumps({"seconds": seconds, "peak_rss_mb": _rss_mb(), "start_rss_mb": start_rss, **extra}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
