"""clients of the HTTP service and their access tokens

Revision ID: 0009
Revises: 0005

``api_clients``: OAuth 2.0 client credentials (the secret only as a salted scrypt hash) mapped to an actor;
``api_tokens``: the access tokens issued, as SHA-256 hashes, with their expiry.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subledger.storage.migrations import frozen

revision = "0009"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_api_clients")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.Integer(), nullable=False),
        frozen.foreign_key("api_tokens", ["client_id"], "api_clients", ["client_id"]),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_api_tokens")),
    )
    op.create_index(op.f("ix_api_tokens_client_id"), "api_tokens", ["client_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_api_tokens_client_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("api_clients")
