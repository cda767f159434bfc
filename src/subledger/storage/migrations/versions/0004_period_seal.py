"""period seal

Revision ID: 0004
Revises: 0003

A closed period's seal (``fingerprint.period_seal``), recorded with its fingerprint at close. Periods closed before
this revision have none, and ``subledger check`` verifies them the long way, from every journal line, until they
are reopened and closed again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column("periods", sa.Column("seal", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("periods") as batch:
        batch.drop_column("seal")
