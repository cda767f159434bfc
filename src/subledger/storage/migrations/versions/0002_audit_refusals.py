"""audit of refused operations

Revision ID: 0002
Revises: 0001

Refused operations write nothing to the books, so they cannot be recorded in ``operations`` (that row is rolled
back with everything else). They are recorded here, in a separate transaction after the rollback. The table is
append-only: the database refuses updates and deletes, as it does for the journal. The trigger statements are
frozen here; a change adds a new migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subledger.storage.migrations import frozen

revision = "0002"
down_revision = "0001"

SQLITE = tuple(
    f"""
    CREATE TRIGGER audit_refusals_no_{action.lower()} BEFORE {action} ON audit_refusals
    BEGIN SELECT RAISE(ABORT, 'audit records are never updated or deleted'); END
    """
    for action in ("UPDATE", "DELETE")
)
POSTGRESQL = (
    """
    CREATE FUNCTION subledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% records are never updated or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
    """
    CREATE TRIGGER audit_refusals_append_only BEFORE UPDATE OR DELETE ON audit_refusals
    FOR EACH ROW EXECUTE FUNCTION subledger_append_only()
    """,
)


def upgrade() -> None:
    op.create_table(
        "audit_refusals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=False),
        sa.Column("document", sa.String(length=64), nullable=True),
        sa.Column("field", sa.String(length=255), nullable=True),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.CheckConstraint("outcome in ('refused', 'failed')", name=op.f("ck_audit_refusals_outcome")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_refusals")),
    )
    frozen.create_indexes("audit_refusals", ["at"])
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_refusals_append_only ON audit_refusals")
        op.execute("DROP FUNCTION subledger_append_only()")
    frozen.drop_indexes("audit_refusals", ["at"])
    op.drop_table("audit_refusals")
