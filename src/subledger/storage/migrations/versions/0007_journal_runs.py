"""journal runs

Revision ID: 0007
Revises: 0006

Journal runs replace export runs: a run takes a period's journal entries (``journal_run_entries``, which replaces
``journal_transfers``) and records its summary journal entries (``journal_run_totals``); it is Processing until
confirmed (Completed), marked Error, or cancelled. Each export run becomes a Completed run of the same number (its
entries were marked transferred when it was written), its totals computed from its entries' lines.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import subledger.storage.types
from subledger.storage.migrations import frozen

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "journal_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=100), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_by", sa.String(length=100), nullable=True),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status in ('Processing', 'Completed', 'Error', 'Cancelled')", name=op.f("ck_journal_runs_status")
        ),
        frozen.period("journal_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_runs")),
        sa.UniqueConstraint("number", name=op.f("uq_journal_runs_number")),
    )
    op.create_table(
        "journal_run_entries",
        sa.Column("account_number", sa.String(length=64), nullable=False),
        sa.Column("entry_seq", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        frozen.journal_entry("journal_run_entries"),
        frozen.foreign_key("journal_run_entries", ["run_id"], "journal_runs", ["id"]),
        sa.PrimaryKeyConstraint("account_number", "entry_seq", name=op.f("pk_journal_run_entries")),
    )
    frozen.create_indexes("journal_run_entries", ["run_id"])
    op.create_table(
        "journal_run_totals",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("transaction_type", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("accounting_code", sa.String(length=100), nullable=False),
        sa.Column("debit", subledger.storage.types.Money(), nullable=False),
        sa.Column("credit", subledger.storage.types.Money(), nullable=False),
        frozen.accounting_code("journal_run_totals", "accounting_code"),
        frozen.foreign_key("journal_run_totals", ["run_id"], "journal_runs", ["id"]),
        sa.PrimaryKeyConstraint(
            "run_id", "transaction_type", "currency", "accounting_code", name=op.f("pk_journal_run_totals")
        ),
    )
    conn = op.get_bind()
    for run in conn.execute(sa.text("SELECT id, period, actor, at FROM export_runs ORDER BY id")).all():
        end = conn.execute(sa.text("SELECT end_date FROM periods WHERE name = :p"), {"p": run.period}).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO journal_runs (id, number, period, entry_date, status, entry_count, line_count, "
                "created_by, created_at, status_by, status_at) VALUES (:id, :number, :period, :end, 'Completed', "
                "0, 0, :actor, :at, :actor, :at)"
            ),
            {
                "id": run.id,
                "number": f"JR-{run.id:08d}",
                "period": run.period,
                "end": end,
                "actor": run.actor,
                "at": run.at,
            },
        )
    conn.execute(
        sa.text(
            "INSERT INTO journal_run_entries (account_number, entry_seq, run_id) "
            "SELECT account_number, entry_seq, export_run_id FROM journal_transfers"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO journal_run_totals (run_id, transaction_type, currency, accounting_code, debit, credit) "
            "SELECT r.run_id, e.transaction_type, e.currency, l.accounting_code, SUM(l.debit), SUM(l.credit) "
            "FROM journal_run_entries r "
            "JOIN journal_entries e ON e.account_number = r.account_number AND e.seq = r.entry_seq "
            "JOIN journal_lines l ON l.account_number = r.account_number AND l.entry_seq = r.entry_seq "
            "GROUP BY r.run_id, e.transaction_type, e.currency, l.accounting_code"
        )
    )
    conn.execute(
        sa.text(
            "UPDATE journal_runs SET "
            "entry_count = (SELECT count(*) FROM journal_run_entries r WHERE r.run_id = journal_runs.id), "
            "line_count = (SELECT count(*) FROM journal_run_entries r JOIN journal_lines l "
            "ON l.account_number = r.account_number AND l.entry_seq = r.entry_seq WHERE r.run_id = journal_runs.id)"
        )
    )
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('journal_runs', 'id'), "
                "COALESCE((SELECT max(id) FROM journal_runs), 0) + 1, false)"
            )
        )
    op.drop_table("journal_transfers")
    op.drop_table("export_runs")


def downgrade() -> None:
    frozen.create_export_runs()
    frozen.create_journal_transfers()
    # Only confirmed runs were transferred; the others' entries go out again after a downgrade.
    op.execute(
        "INSERT INTO export_runs (id, period, format, mode, path, entry_count, file_sha256, actor, at) "
        "SELECT id, period, 'csv', 'detail', '', entry_count, '', created_by, created_at FROM journal_runs "
        "WHERE status = 'Completed'"
    )
    op.execute(
        "INSERT INTO journal_transfers (account_number, entry_seq, export_run_id) SELECT r.account_number, "
        "r.entry_seq, r.run_id FROM journal_run_entries r JOIN journal_runs j ON j.id = r.run_id "
        "WHERE j.status = 'Completed'"
    )
    op.drop_table("journal_run_totals")
    frozen.drop_indexes("journal_run_entries", ["run_id"])
    op.drop_table("journal_run_entries")
    op.drop_table("journal_runs")
