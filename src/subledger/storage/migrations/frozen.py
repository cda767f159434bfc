"""What more than one revision sends: tables one revision creates and another creates again, and the constraints
and indexes every revision names by the same rule.

Frozen, like the revisions that call it: what a function here sends is part of each revision that calls it, and a
book's schema is what its revisions sent. A function is never changed (``tests/test_migrations_frozen.py`` fails if
a revision's statements change); a revision that needs something else writes it out or adds a function.

Not a revision: Alembic loads the modules of ``versions/`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


def foreign_key(
    table: str, columns: Sequence[str], referred: str, referred_columns: Sequence[str], **options: Any
) -> sa.ForeignKeyConstraint:
    """``table``'s ``columns`` refer to ``referred``'s ``referred_columns``, named by the naming convention's rule
    (``fk_<table>_<columns>_<referred>``); ``options`` as ``sa.ForeignKeyConstraint`` takes them."""
    return sa.ForeignKeyConstraint(
        list(columns),
        [f"{referred}.{column}" for column in referred_columns],
        name=op.f(f"fk_{table}_{'_'.join(columns)}_{referred}"),
        **options,
    )


def accounting_code(table: str, column: str) -> sa.ForeignKeyConstraint:
    """``table.column`` names an accounting code."""
    return foreign_key(table, [column], "accounting_codes", ["name"])


def operation(table: str, column: str = "operation_id") -> sa.ForeignKeyConstraint:
    """``table.column`` is the id of the operation that wrote (or changed) the row."""
    return foreign_key(table, [column], "operations", ["id"])


def customer_account(table: str) -> sa.ForeignKeyConstraint:
    """``table.account_number`` is a customer account's."""
    return foreign_key(table, ["account_number"], "customer_accounts", ["account_number"])


def period(table: str) -> sa.ForeignKeyConstraint:
    """``table.period`` names an accounting period."""
    return foreign_key(table, ["period"], "periods", ["name"])


def journal_entry(table: str, **options: Any) -> sa.ForeignKeyConstraint:
    """``table``'s ``(account_number, entry_seq)`` is a journal entry's key."""
    return foreign_key(table, ["account_number", "entry_seq"], "journal_entries", ["account_number", "seq"], **options)


def create_indexes(table: str, *indexes: Sequence[str]) -> None:
    """A non-unique index of ``table`` on each of ``indexes`` (its columns), in one batch, named by the naming
    convention's rule (``ix_<table>_<columns>``)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for columns in indexes:
            batch_op.create_index(batch_op.f(f"ix_{table}_{'_'.join(columns)}"), list(columns), unique=False)


def drop_indexes(table: str, *indexes: Sequence[str]) -> None:
    """Drop the indexes ``create_indexes`` made of ``table`` on each of ``indexes``, in this order, in one batch."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for columns in indexes:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{'_'.join(columns)}"))


def create_export_runs() -> None:
    """``export_runs`` as 0001 created it: 0007 replaced it by journal runs, and creates it again on downgrade."""
    op.create_table(
        "export_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period", sa.String(length=100), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        period("export_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_runs")),
    )


def create_journal_transfers() -> None:
    """``journal_transfers`` as 0001 created it: 0007 replaced it by journal run entries, and creates it again on
    downgrade."""
    op.create_table(
        "journal_transfers",
        sa.Column("account_number", sa.String(length=64), nullable=False),
        sa.Column("entry_seq", sa.Integer(), nullable=False),
        sa.Column("export_run_id", sa.Integer(), nullable=False),
        journal_entry("journal_transfers"),
        foreign_key("journal_transfers", ["export_run_id"], "export_runs", ["id"]),
        sa.PrimaryKeyConstraint("account_number", "entry_seq", name=op.f("pk_journal_transfers")),
        sa.UniqueConstraint(
            "account_number",
            "entry_seq",
            "export_run_id",
            name=op.f("uq_journal_transfers_account_number_entry_seq_export_run_id"),
        ),
    )
