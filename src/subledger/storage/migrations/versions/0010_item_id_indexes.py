"""item ids looked up by id alone

Revision ID: 0010
Revises: 0009

Item ids are unique in the book, not only within a customer account: a load checks every id it writes against the
lines of every other account (``operations.load.item_ids_elsewhere``). The primary keys lead with the account, so
without an index on the id alone PostgreSQL scanned the item tables once per id a load wrote, and a load slowed
with the size of the book.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    with op.batch_alter_table("document_items") as batch_op:
        batch_op.create_index(batch_op.f("ix_document_items_id"), ["id"], unique=False)
    with op.batch_alter_table("taxation_items") as batch_op:
        batch_op.create_index(batch_op.f("ix_taxation_items_id"), ["id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("taxation_items") as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxation_items_id"))
    with op.batch_alter_table("document_items") as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_items_id"))
