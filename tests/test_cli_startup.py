"""Start-up: ``subledger --help`` and ``--version`` import only the command line, never the books.

The timings are the benchmark's (``python -m bench --only startup``, figures in bench/README.md); what a test can
assert without a clock is what got imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

BOOKS = (
    "sqlalchemy",
    "beancount",
    "beanquery",
    "alembic",
    "psycopg",
    "rich",
    "babel",
    "subledger.api",
    "subledger.models",
    "fastapi",
    "uvicorn",
    "starlette",
)
#: typer itself imports pydantic to coerce a subcommand's parameters; the top level needs none of it.
TOP = (*BOOKS, "pydantic")

PROBE = """
import json, sys
from subledger.cli import run
status = run(sys.argv[1:])
sys.stdout.flush()
print(json.dumps({"status": status, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def imported(*args: str) -> tuple[int, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["status"], report["modules"]


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("-h",)])
def test_help_and_version_import_only_the_command_line(args: tuple[str, ...]) -> None:
    status, modules = imported(*args)
    assert status == 0
    assert sorted(m for m in modules if m.startswith(TOP)) == []


@pytest.mark.parametrize(
    "args", [("invoice", "write-off", "--help"), ("period", "close", "--help"), ("journal", "-h"), ("schema", "-h")]
)
def test_a_commands_help_imports_none_of_the_books(args: tuple[str, ...]) -> None:
    status, modules = imported(*args)
    assert status == 0
    assert sorted(m for m in modules if m.startswith(BOOKS)) == []


def test_a_command_imports_what_it_needs_when_it_runs(tmp_path: object) -> None:
    """The lazy imports are real: a command that reads the book does import SQLAlchemy (the probe can fail)."""
    status, modules = imported("--db", f"sqlite:///{tmp_path}/none.db", "period", "list")
    assert status == 1  # no book there
    assert "sqlalchemy" in modules
