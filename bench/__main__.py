"""``python -m bench [--quick] [--only NAME] [--engine sqlite|postgresql]``: run the benchmarks, print the figures.

One line per figure: the benchmark, the engine, the work, our time, the baseline measured in the same run, the
ratio and the target with PASS or MISS. ``--quick`` runs every benchmark at a tiny size in seconds (the test suite
does, so the benchmarks cannot rot); its timings mean nothing. Exit status 1 only when a benchmark fails to run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable

from sqlalchemy import text

from bench import benchmarks, startup
from bench.harness import ENGINES, PG_URL, Figure, Scratch, pg_available, scratch
from bench.http import http_write_off
from subledger.storage.db import make_engine

BENCHMARKS: dict[str, Callable[[Scratch, benchmarks.Sizes], list[Figure]]] = {
    "write-off": benchmarks.write_off,
    "load": benchmarks.load,
    "export": benchmarks.export,
    "check": benchmarks.check,
    "gl": benchmarks.gl,
    "http": lambda place, sizes: http_write_off(place, sizes.write_off, benchmarks._load_json),
    "startup": lambda place, sizes: startup.startup(place, 3 if sizes == benchmarks.QUICK else 9),
}
#: The benchmarks that share one directly generated book of ``ledger_lines`` journal lines.
LEDGER = ("export", "check", "gl")


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def pg_version() -> str:
    engine = make_engine(PG_URL)
    with engine.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar_one())
    engine.dispose()
    return version


def run(names: list[str], engines: list[str], sizes: benchmarks.Sizes) -> tuple[list[Figure], int]:
    figures: list[Figure] = []
    failures = 0
    for engine in engines:
        with scratch(engine) as place:
            ledger = None
            for name in names:
                try:
                    if name in LEDGER:
                        if ledger is None:
                            start = time.perf_counter()
                            ledger = benchmarks.build_ledger_book(place, "ledger", sizes.ledger_lines)
                            print(f"# {engine}: generated the ledger book in {time.perf_counter() - start:.1f}s")
                        got = getattr(benchmarks, name)(place, sizes, ledger)
                    else:
                        got = BENCHMARKS[name](place, sizes)
                except Exception:
                    traceback.print_exc()
                    got = [Figure.skip(name, engine, "FAILED (traceback above)")]
                    failures += 1
                for figure in got:
                    print(figure.line(), flush=True)
                figures.extend(got)
    return figures, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run in seconds")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only this (repeatable)")
    parser.add_argument("--engine", choices=ENGINES, action="append", help="only this engine (repeatable)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the full sizes (e.g. 0.1 on a busy machine)")
    args = parser.parse_args(argv)
    sizes = benchmarks.QUICK if args.quick else benchmarks.FULL.scaled(args.scale)
    engines = list(args.engine or ENGINES)
    print(f"# machine: {machine()}")
    if "postgresql" in engines:
        if pg_available():
            print(f"# PostgreSQL {pg_version()} at {make_engine(PG_URL).url.render_as_string(hide_password=True)}")
        else:
            print(f"# PostgreSQL not reachable at {PG_URL}: skipped (set SUBLEDGER_BENCH_PG)")
            engines.remove("postgresql")
    print(f"# sizes: {sizes}")
    names = [n for n in BENCHMARKS if not args.only or n in args.only]
    _, failures = run(names, engines, sizes)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
