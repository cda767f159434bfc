"""item ids looked up by id alone

Revision ID: 0010
Revises: 0009

Item ids are unique in the book, not only within a customer account: a load checks every id it writes against the
lines of every other account (``operations.load.item_ids_elsewhere``). The primary keys lead with the account, so
without an index on the id alone PostgreSQL scanned the item tables once per id a load wrote, and a load slowed
with the size of the book.
"""

from __future__ import annotations

from subledger.storage.migrations import frozen

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    frozen.create_indexes("document_items", ["id"])
    frozen.create_indexes("taxation_items", ["id"])


def downgrade() -> None:
    frozen.drop_indexes("taxation_items", ["id"])
    frozen.drop_indexes("document_items", ["id"])
