"""invoice item adjustments

Revision ID: 0003
Revises: 0002

Books without Invoice Settlement write invoices off (and correct them) with invoice item adjustments: one row per
adjusted invoice item or taxation item, account number first in the primary key like every account-scoped table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import subledger.storage.types
from subledger.storage.migrations import frozen

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "invoice_item_adjustments",
        sa.Column("account_number", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("invoice_number", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("amount", subledger.storage.types.Money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source_type", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("adjustment_date", sa.Date(), nullable=False),
        sa.Column("reason_code", sa.String(length=100), nullable=False),
        sa.Column("reference_id", sa.String(length=60), nullable=True),
        sa.Column("comment", sa.String(length=255), nullable=True),
        sa.Column("accounting_code", sa.String(length=100), nullable=False),
        sa.Column("deferred_revenue_account", sa.String(length=100), nullable=True),
        sa.Column("recognized_revenue_account", sa.String(length=100), nullable=True),
        sa.Column("ar_code", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("transferred_to_accounting", sa.Boolean(), nullable=False),
        sa.Column("custom_fields", sa.Text(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_invoice_item_adjustments_amount_positive")),
        sa.CheckConstraint(
            "source_type in ('InvoiceDetail', 'Tax')", name=op.f("ck_invoice_item_adjustments_source_type")
        ),
        sa.CheckConstraint("status in ('Processed', 'Canceled')", name=op.f("ck_invoice_item_adjustments_status")),
        sa.CheckConstraint("type in ('Credit', 'Charge')", name=op.f("ck_invoice_item_adjustments_type")),
        frozen.foreign_key(
            "invoice_item_adjustments", ["account_number", "invoice_number"], "documents", ["account_number", "number"]
        ),
        frozen.customer_account("invoice_item_adjustments"),
        frozen.accounting_code("invoice_item_adjustments", "accounting_code"),
        frozen.accounting_code("invoice_item_adjustments", "ar_code"),
        frozen.accounting_code("invoice_item_adjustments", "deferred_revenue_account"),
        frozen.operation("invoice_item_adjustments"),
        frozen.accounting_code("invoice_item_adjustments", "recognized_revenue_account"),
        sa.PrimaryKeyConstraint("account_number", "number", name=op.f("pk_invoice_item_adjustments")),
    )
    frozen.create_indexes("invoice_item_adjustments", ["account_number", "invoice_number"])


def downgrade() -> None:
    frozen.drop_indexes("invoice_item_adjustments", ["account_number", "invoice_number"])
    op.drop_table("invoice_item_adjustments")
