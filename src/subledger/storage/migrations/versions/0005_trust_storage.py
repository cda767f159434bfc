"""number register, actors in the book, 64-bit ids, SQLite money bound

Revision ID: 0005
Revises: 0008 (reserved as 0005; it came to main after 0006 to 0008, and the chain stays linear)

- ``document_numbers``: every document and payment number, registered by trigger as it is inserted, so that a
  number is unique in the book under concurrency too (``storage.registry``); filled from the book's documents.
- ``actors`` and ``actor_permissions``: the permissions of a book belong to the book (``permissions``). A book
  created before this revision had one implicit administrator, ``admin``, holding every permission: it gets the
  same, stored; the actors of the old actors file are granted again by the administrator (``subledger actor
  import``).
- Identity columns (operations, period events, refusals, journal runs) and the columns referring to them become
  64-bit on PostgreSQL (SQLite's INTEGER is 64-bit already).
- SQLite only: the running total of journal debits that keeps every sum exact (``storage.limits``).

The trigger statements are frozen here; a change adds a new migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subledger.storage import registry
from subledger.storage.migrations import frozen

revision = "0005"
down_revision = "0008"

#: Every permission at this revision (frozen: the administrator of an existing book gets these).
PERMISSIONS = (
    "Enhanced Write-off",
    "Reverse Credit Memo",
    "Reverse Invoice",
    "Manage Close Process",
    "Reopen Accounting Period",
    "Transfer to Accounting",
    "Unapply Payment",
    "Refund Credit Memo",
    "Recover Write-off",
    "Manage Actors",
    "Set Up Books",
)

#: ``storage.limits``: the message's prefix is ``limits.MARK``; the bound is ``money.SQLITE_BOOK_LIMIT`` in
#: ten-thousandths.
LIMIT_MESSAGE = (
    "subledger-limit: the book would hold more than 400,000,000,000,000 in journal debits, "
    "the most SQLite can sum exactly (a book this size belongs on PostgreSQL)"
)
SQLITE_MONEY_BOUND = (
    """
    CREATE TABLE money_bound (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      journal_debits REAL NOT NULL
    )
    """,
    """
    INSERT INTO money_bound (id, journal_debits) SELECT 1, total(debit) FROM journal_lines
    """,
    f"""
    CREATE TRIGGER journal_entries_money_bound AFTER INSERT ON journal_entries
    BEGIN
      UPDATE money_bound SET journal_debits = journal_debits + (
        SELECT total(l.debit) FROM journal_lines l
        WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq
      ) WHERE id = 1;
      SELECT RAISE(ABORT, '{LIMIT_MESSAGE}')
      WHERE (SELECT journal_debits FROM money_bound WHERE id = 1) > 4000000000000000000;
    END
    """,
)

#: (table, column, sequence of an identity column or None): every 32-bit id and reference to one.
WIDENED = (
    ("operations", "id", "operations_id_seq"),
    ("period_events", "id", "period_events_id_seq"),
    ("audit_refusals", "id", "audit_refusals_id_seq"),
    ("journal_runs", "id", "journal_runs_id_seq"),
    ("documents", "operation_id", None),
    ("payments", "operation_id", None),
    ("applications", "operation_id", None),
    ("journal_entries", "operation_id", None),
    ("invoice_item_adjustments", "operation_id", None),
    ("journal_run_entries", "run_id", None),
    ("journal_run_totals", "run_id", None),
    ("refunds", "operation_id", None),
    ("refunds", "cancel_operation_id", None),
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "document_numbers",
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("account_number", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind in ('Invoice', 'DebitMemo', 'CreditMemo', 'Payment')", name=op.f("ck_document_numbers_kind")
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_document_numbers")),
    )
    op.execute(registry.BACKFILL)
    for statement in registry.statements(dialect):
        op.execute(statement)

    op.create_table(
        "actors",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.CheckConstraint("name <> ''", name=op.f("ck_actors_name")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_actors")),
    )
    op.create_table(
        "actor_permissions",
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("permission", sa.String(length=64), nullable=False),
        frozen.foreign_key("actor_permissions", ["actor"], "actors", ["name"]),
        sa.PrimaryKeyConstraint("actor", "permission", name=op.f("pk_actor_permissions")),
    )
    book_exists = op.get_bind().execute(sa.text("SELECT 1 FROM settings LIMIT 1")).first() is not None
    if book_exists:
        op.execute("INSERT INTO actors (name) VALUES ('admin')")
        for permission in PERMISSIONS:
            op.execute(
                sa.text("INSERT INTO actor_permissions (actor, permission) VALUES ('admin', :p)").bindparams(
                    p=permission
                )
            )

    if dialect == "postgresql":
        for table, column, sequence in WIDENED:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())
            if sequence is not None:
                op.execute(f"ALTER SEQUENCE {sequence} AS bigint")
    else:
        for statement in SQLITE_MONEY_BOUND:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table, column, sequence in reversed(WIDENED):
            if sequence is not None:
                op.execute(f"ALTER SEQUENCE {sequence} AS integer")
            op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
        for table in ("documents", "payments"):
            op.execute(f"DROP TRIGGER {table}_register_numbers ON {table}")
        op.execute("DROP FUNCTION subledger_register_numbers()")
    else:
        op.execute("DROP TRIGGER journal_entries_money_bound")
        op.execute("DROP TABLE money_bound")
        for table in ("documents", "payments"):
            op.execute(f"DROP TRIGGER {table}_register_number")
    op.drop_table("actor_permissions")
    op.drop_table("actors")
    op.drop_table("document_numbers")
