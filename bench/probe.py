"""One ledger writer in a process of its own, so that its time and peak memory (RSS) are its alone.

    python -m bench.probe WHAT URL OUT     (WHAT: export | plain | printer)

Prints one JSON object: ``seconds``, ``peak_rss_mb`` and ``start_rss_mb`` (after imports, before the work).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from bench import baselines
from subledger.api import Books


def _rss_mb() -> float:
    """Peak RSS of this process image: VmHWM (``ru_maxrss`` would carry the parent's peak across fork and exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    what, url, out = argv
    books = Books(url)
    start_rss = _rss_mb()
    start = time.perf_counter()
    if what == "export":
        books.export_beancount(Path(out))
    elif what == "plain":
        baselines.plain_ledger(books.engine, Path(out))
    elif what == "printer":
        baselines.printer_ledger(books.engine, Path(out))
    else:
        raise SystemExit(f"unknown probe {what!r}")
    seconds = time.perf_counter() - start
    books.engine.dispose()
    print(json.dumps({"seconds": seconds, "peak_rss_mb": _rss_mb(), "start_rss_mb": start_rss}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
