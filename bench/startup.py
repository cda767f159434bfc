"""``startup``: the CPU a ``subledger`` command costs before and including its work, beside two baselines.

Each command runs as a process of its own (as a person or a script runs it), ``runs`` times; the figure is the
median CPU time (user + system, from ``wait4``), which a busy machine disturbs far less than wall time. The
baselines, measured in the same run: ``python -c pass`` (the interpreter alone) and ``bean-check --help`` (a
command line of the same family). Targets are absolute: ``--help`` and ``--version`` within 0.3 s of CPU, ``show``
of one invoice of a small book within 0.6 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.harness import Figure, Scratch

BIN = Path(sys.executable).parent
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def cpu_seconds(command: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    """Median CPU seconds (user + system) of ``command`` run ``runs`` times, its output discarded."""
    times = []
    for _ in range(runs):
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {child.returncode}")
        times.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(times)


def startup(place: Scratch, runs: int) -> list[Figure]:
    engine = place.engine_kind
    book = place.book("startup")
    book.load(EXAMPLES / "seed-003-books.json")
    url = book.engine.url.render_as_string(hide_password=False)
    book.engine.dispose()
    env = {**os.environ, "SUBLEDGER_DB": url}
    python = cpu_seconds([sys.executable, "-c", "pass"], runs)
    bean_check = cpu_seconds([str(BIN / "bean-check"), "--help"], runs)
    subledger = str(BIN / "subledger")
    figures = []
    for work, args, limit in (
        ("subledger --help", ["--help"], 0.3),
        ("subledger --version", ["--version"], 0.3),
        ("subledger show invoice", ["show", "invoice", "INV00000002"], 0.6),
    ):
        ours = cpu_seconds([subledger, *args], runs, env)
        target = f"<= {limit:g} s CPU"
        for name, base in (("python -c pass", python), ("bean-check --help", bean_check)):
            figures.append(Figure("startup", engine, work, ours, name, base, target, ours <= limit))
    # Month end on a new book: ten periods closed with one command (each checked), once (it changes the book).
    ours = cpu_seconds([subledger, "period", "close", "--through", "2026-10"], 1, env)
    figures.append(Figure("startup", engine, "close --through (10 periods)", ours, "-", 0.0, "(was 2 minutes)", None))
    return figures
