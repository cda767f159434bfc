"""refunds; the descriptive fields of document items

Revision ID: 0008
Revises: 0007

A credit memo's unapplied amount can be refunded (``refunds``, one row per refund, Canceled once cancelled) line
by line (``refund_items``). Document items keep the descriptive fields a write-off's, reversal's or recovery's
memo copies from the line it mirrors (charge model and number, description, unit of measure, SKU, service period):
nullable columns added in place (a plain ADD COLUMN, no table rebuild).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import subledger.storage.types
from subledger.storage.migrations import frozen

revision = "0008"
down_revision = "0007"

#: The descriptive fields of document items (nullable), in the order they are added; dropped in reverse.
ITEM_FIELDS = (
    ("charge_model", sa.String(length=255)),
    ("charge_number", sa.String(length=64)),
    ("description", sa.String(length=255)),
    ("unit_of_measure", sa.String(length=64)),
    ("sku", sa.String(length=64)),
    ("sku_name", sa.String(length=255)),
    ("service_start_date", sa.Date()),
    ("service_end_date", sa.Date()),
)


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("account_number", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("credit_memo_number", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("refund_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", subledger.storage.types.Money(), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=True),
        sa.Column("reference_id", sa.String(length=60), nullable=True),
        sa.Column("reason_code", sa.String(length=100), nullable=True),
        sa.Column("comment", sa.String(length=255), nullable=True),
        sa.Column("cash_code", sa.String(length=100), nullable=False),
        sa.Column("cancel_date", sa.Date(), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("cancel_operation_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status in ('Processed', 'Canceled')", name=op.f("ck_refunds_status")),
        sa.CheckConstraint("type in ('External', 'Electronic')", name=op.f("ck_refunds_type")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount_positive")),
        frozen.customer_account("refunds"),
        frozen.operation("refunds", "cancel_operation_id"),
        frozen.accounting_code("refunds", "cash_code"),
        frozen.operation("refunds"),
        sa.PrimaryKeyConstraint("account_number", "number", name=op.f("pk_refunds")),
    )
    frozen.create_indexes("refunds", ["account_number", "credit_memo_number"], ["number"])

    op.create_table(
        "refund_items",
        sa.Column("account_number", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("refund_number", sa.String(length=64), nullable=False),
        sa.Column("memo_item_id", sa.String(length=64), nullable=False),
        sa.Column("is_tax", sa.Boolean(), nullable=False),
        sa.Column("amount", subledger.storage.types.Money(), nullable=False),
        frozen.foreign_key(
            "refund_items", ["account_number", "refund_number"], "refunds", ["account_number", "number"]
        ),
        sa.PrimaryKeyConstraint("account_number", "id", name=op.f("pk_refund_items")),
    )
    frozen.create_indexes("refund_items", ["account_number", "refund_number"])

    with op.batch_alter_table("document_items", schema=None) as batch_op:
        for name, type_ in ITEM_FIELDS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document_items", schema=None) as batch_op:
        for name, _ in reversed(ITEM_FIELDS):
            batch_op.drop_column(name)

    frozen.drop_indexes("refund_items", ["account_number", "refund_number"])
    op.drop_table("refund_items")
    frozen.drop_indexes("refunds", ["number"], ["account_number", "credit_memo_number"])
    op.drop_table("refunds")
