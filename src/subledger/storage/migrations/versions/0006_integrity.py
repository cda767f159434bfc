"""integrity: no REPLACE of a posted row; the hash version of each journal entry

Revision ID: 0006
Revises: 0004

SQLite's REPLACE deletes the row it replaces without firing delete triggers (unless the connection set
``recursive_triggers``), which rewrote a posted journal entry past every guard: each append-only table now refuses
an insert whose key already exists (``guards.SQLITE_V2``; nothing on PostgreSQL, whose upsert fires the update
triggers).

``journal_entries.hash_version`` says which text of the entry its chain hash covers (``canonical``): entries
posted before this revision are version 1 (the column's default), and keep verifying as they were hashed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subledger.storage import guards

revision = "0006"
down_revision = "0004"


def upgrade() -> None:
    # A plain ADD COLUMN with a constant default: no table rebuild (which the journal's triggers would refuse on
    # PostgreSQL and which SQLite's batch mode would do by copying and dropping the posted rows).
    op.add_column("journal_entries", sa.Column("hash_version", sa.Integer(), server_default="1", nullable=False))
    for statement in guards.statements_v2(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for table in ("journal_entries", "audit_refusals", "period_events", "operations"):
            op.execute(f"DROP TRIGGER {table}_no_replace")
    # Not a batch (SQLite's copy of the table would leave the journal's triggers behind): both engines drop a column
    # in place.
    op.execute("ALTER TABLE journal_entries DROP COLUMN hash_version")
