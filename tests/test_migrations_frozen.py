"""The migrations are frozen: every statement the chain sends to the database (up to head, down one revision at a time
to base, up to head again) equals a committed snapshot, on each engine. A book's schema is what its revisions made,
so a change to what a migration sends (a column's length, a constraint's name, a trigger's text) is a new revision,
never an edit; refactoring the migrations' code must leave this snapshot as it is.

The constraint lines of a ``CREATE TABLE`` are sorted: SQLite's batch mode copies a table with its constraints in an
order that changes from run to run. PostgreSQL runs in the test's own schema, which no statement names
(``search_path``)."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event

from conftest import ROOT, assert_snapshot
from subledger.storage.migrate import config

SNAPSHOTS = ROOT / "tests" / "snapshots" / "migrations"


def _normalised(statement: str, parameters: Any) -> str:
    """The statement as sent, but for the constraints of a table: each run of ``CONSTRAINT`` lines is sorted."""
    lines = [line.rstrip() for line in statement.strip().splitlines() if line.strip()]
    out: list[str] = []
    constraints: list[str] = []
    for line in [*lines, ""]:
        if line.lstrip().startswith("CONSTRAINT "):
            constraints.append(line.rstrip(","))
            continue
        out += sorted(constraints)
        constraints = []
        out.append(line)
    return "\n".join([*out[:-1], f"    -- {parameters!r}"])


def _trace(engine: Engine) -> str:
    """Every statement the chain sends, normalised, with a line naming each step."""
    script = ScriptDirectory.from_config(config())
    # head first: downgrading to each revision's predecessor in turn steps down one revision at a time
    steps = [f"downgrade {r.down_revision or 'base'}" for r in script.walk_revisions()]
    log: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        log.append(_normalised(statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with engine.begin() as conn:
            for step in ["upgrade head", *steps, "upgrade head"]:
                log.append(f"== {step}")
                action, target = step.split()
                getattr(command, action)(config(conn), target)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return "\n".join(log) + "\n"


def test_the_migrations_send_the_statements_they_always_sent(engine: Engine) -> None:
    assert_snapshot(SNAPSHOTS / f"{engine.dialect.name}.trace", _trace(engine).encode())
