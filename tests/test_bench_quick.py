"""The benchmarks at their ``--quick`` size: they must run end to end (their timings are not asserted here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ("write-off", "load", "export", "check", "gl", "http", "startup")


def test_bench_quick_runs_every_benchmark() -> None:
    engines = ["--engine", "sqlite"]
    env = dict(os.environ)
    if os.environ.get("SUBLEDGER_TEST_PG"):
        engines += ["--engine", "postgresql"]
        env.setdefault("SUBLEDGER_BENCH_PG", os.environ["SUBLEDGER_TEST_PG"])
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", *engines],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for engine in engines[1::2]:
        for name in BENCHMARKS:
            figures = [line for line in lines if line.split()[:2] == [name, engine]]
            assert figures, f"no figure for {name} on {engine}:\n{done.stdout}"
            assert not any("SKIP" in line for line in figures), "\n".join(figures)
            assert all(" ours " in line for line in figures), "\n".join(figures)
