"""Migration 0007: export runs become Completed journal runs (their entries were marked transferred when written),
and back; a book's runs and summary entries survive a downgrade and upgrade."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, text

from conftest import example
from subledger.api import Books
from subledger.storage.migrate import MIGRATIONS


def _revision() -> ModuleType:
    """Migration 0007 itself (later revisions are not stepped through: it is run alone, down then up)."""
    spec = importlib.util.spec_from_file_location("journal_runs_0007", MIGRATIONS / "versions" / "0007_journal_runs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(conn: Connection, step: str) -> None:
    with Operations.context(MigrationContext.configure(conn)):
        getattr(_revision(), step)()


def test_export_runs_become_completed_journal_runs_and_back(line_level: Books) -> None:
    line_level.load(example("seed-003-books.json"))
    line_level.load(example("demo-books.json"))
    confirmed = line_level.create_journal_run("2026-10").run
    assert confirmed is not None
    line_level.confirm_journal_run(confirmed.number)
    processing = line_level.create_journal_run("2026-11").run
    assert processing is not None
    before = line_level.journal_run(confirmed.number)
    with line_level.engine.begin() as conn:
        _run(conn, "downgrade")
        runs = conn.execute(text("SELECT id, period, entry_count FROM export_runs")).all()
        transfers = conn.execute(text("SELECT count(*) FROM journal_transfers")).scalar_one()
    # only the confirmed run was transferred; the Processing run's entries go out again
    assert [tuple(r) for r in runs] == [(1, "2026-10", 17)]
    assert transfers == 17
    with line_level.engine.begin() as conn:
        _run(conn, "upgrade")
    after = line_level.journal_run(confirmed.number)
    assert (after.status, after.entry_count, after.line_count) == ("Completed", 17, before.line_count)
    assert after.totals == before.totals == {"EUR": "1887.70", "USD": "1972.25"}
    assert after.summary == before.summary
    again = line_level.create_journal_run("2026-11").run
    assert again is not None
    assert (again.number, again.entry_count) == ("JR-00000002", processing.entry_count)
