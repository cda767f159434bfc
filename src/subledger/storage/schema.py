"""The schema of a book.

Every table that holds a customer's documents or journal carries ``account_number`` first in its primary key:
each operation touches one customer account, so a distributed PostgreSQL engine can shard these tables by account
and keep every operation on one shard. The other tables (chart, periods, reason codes, settings, journal runs, the
register of document numbers, actors) are small and would be replicated, the operation logs kept on the
coordinator: ``docs/scaling.md``.

Money columns use ``Money`` (exact on SQLite too). Journal lines hold a positive debit or a positive credit, never a
sign. Posted journal entries and lines are never updated or deleted: the database refuses it (``guards``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from subledger.storage.types import Money

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(64)
NAME = String(100)
#: Identity columns (and the columns referring to them) are 64-bit: a 32-bit id runs out after two billion
#: operations. SQLite's autoincrement needs the column to be exactly ``INTEGER PRIMARY KEY`` (64-bit there anyway).
ROW_ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --- reference tables ---------------------------------------------------------------------------------------


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(NAME, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AccountingCodeRow(Base):
    __tablename__ = "accounting_codes"
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    number: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(255), unique=True)
    currencies: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Period(Base):
    __tablename__ = "periods"
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    start_date: Mapped[dt.date] = mapped_column(Date, unique=True)
    end_date: Mapped[dt.date] = mapped_column(Date, unique=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    fiscal_quarter: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="Open")
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    #: Recorded with the fingerprint at close: a hash over the chain hashes of the period's entries and the chart's
    #: accounts (``fingerprint.period_seal``), which lets ``subledger check`` prove the fingerprint unchanged from
    #: its one journal pass instead of recomputing it from every line.
    seal: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (CheckConstraint("status in ('Open', 'Pending Close', 'Closed')", name="status"),)


class PeriodEvent(Base):
    """Every period transition, with who asked and why (reopen reasons are required)."""

    __tablename__ = "period_events"
    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(ForeignKey("periods.name"))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(NAME)
    reason: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ReasonCode(Base):
    __tablename__ = "reason_codes"
    document_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (CheckConstraint("document_type in ('CreditMemo', 'DebitMemo')", name="document_type"),)


class Operation(Base):
    """The record of every operation: who, when, what was asked, what came of it."""

    __tablename__ = "operations"
    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(NAME)
    account_number: Mapped[str | None] = mapped_column(ID)
    document_number: Mapped[str | None] = mapped_column(ID)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    request: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditRefusal(Base):
    """A refused (or failed) operation: written after the rollback, in its own transaction; append-only."""

    __tablename__ = "audit_refusals"
    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(NAME)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    request: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str] = mapped_column(String(64))
    document: Mapped[str | None] = mapped_column(ID)
    field: Mapped[str | None] = mapped_column(String(255))
    rule: Mapped[str] = mapped_column(Text)
    __table_args__ = (CheckConstraint("outcome in ('refused', 'failed')", name="outcome"),)


class DocumentNumber(Base):
    """The book's register of document numbers: one row per invoice, debit memo, credit memo or payment number,
    naming the customer account that holds it.

    Document numbers are unique in the book, but the document tables are keyed (and would be distributed) by
    account, so their own keys cannot say so. Inserting a document or payment registers its number in the same
    transaction (a trigger, ``storage.registry``); a second writer of the number waits for the first and then
    fails on this primary key, and its rerun sees the number taken. A reference table in Citus terms."""

    __tablename__ = "document_numbers"
    number: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    account_number: Mapped[str] = mapped_column(ID)
    __table_args__ = (CheckConstraint("kind in ('Invoice', 'DebitMemo', 'CreditMemo', 'Payment')", name="kind"),)


class ActorRow(Base):
    """An actor of the book (who may run commands); its permissions are ``actor_permissions`` rows."""

    __tablename__ = "actors"
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    __table_args__ = (CheckConstraint("name <> ''", name="name"),)


class ActorPermission(Base):
    """One permission held by one actor. Granted and revoked only by an actor holding Manage Actors, each change
    an operation of its own (recorded in ``operations``; a refusal in ``audit_refusals``)."""

    __tablename__ = "actor_permissions"
    actor: Mapped[str] = mapped_column(ForeignKey("actors.name"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)


# --- account-scoped tables ----------------------------------------------------------------------------------


class CustomerAccountRow(Base):
    """A customer account, and the head of its journal's hash chain (locked by every operation on it)."""

    __tablename__ = "customer_accounts"
    account_number: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    content_hash: Mapped[str] = mapped_column(String(64))
    last_entry_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_entry_hash: Mapped[str] = mapped_column(String(64), default="")


class DocumentRow(Base):
    """An invoice, debit memo or credit memo (``kind``); loaded or generated by a write-off or reversal."""

    __tablename__ = "documents"
    account_number: Mapped[str] = mapped_column(ForeignKey("customer_accounts.account_number"), primary_key=True)
    number: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    document_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    reason_code: Mapped[str | None] = mapped_column(NAME)
    comment: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(32))
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_document: Mapped[str | None] = mapped_column(ID)
    bill_run_id: Mapped[str | None] = mapped_column(ID)
    revenue_impacting: Mapped[bool | None] = mapped_column(Boolean)
    non_revenue_code: Mapped[str | None] = mapped_column(ForeignKey("accounting_codes.name"))
    reversed: Mapped[bool] = mapped_column(Boolean, default=False)
    transferred_to_accounting: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    operation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("operations.id"))
    __table_args__ = (
        CheckConstraint("kind in ('Invoice', 'DebitMemo', 'CreditMemo')", name="kind"),
        Index(None, "number"),
    )


class DocumentItemRow(Base):
    """A charge or discount line; ``balance`` is the open balance (invoices, debit memos) or unapplied amount."""

    __tablename__ = "document_items"
    account_number: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    document_number: Mapped[str] = mapped_column(ID)
    line_no: Mapped[int] = mapped_column(Integer)
    processing_type: Mapped[str] = mapped_column(String(16))
    charge_name: Mapped[str | None] = mapped_column(String(255))
    subscription_number: Mapped[str | None] = mapped_column(ID)
    applied_to_item_id: Mapped[str | None] = mapped_column(ID)
    quantity: Mapped[str | None] = mapped_column(String(40))
    unit_price: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Money)
    balance: Mapped[Decimal] = mapped_column(Money)
    revenue_code: Mapped[str] = mapped_column(ForeignKey("accounting_codes.name"))
    ar_code: Mapped[str] = mapped_column(ForeignKey("accounting_codes.name"))
    on_account_code: Mapped[str | None] = mapped_column(ForeignKey("accounting_codes.name"))
    source_item_id: Mapped[str | None] = mapped_column(ID)
    source_item_type: Mapped[str | None] = mapped_column(String(32))
    #: Descriptive fields a generated memo copies from the line it mirrors (migration 0008).
    charge_model: Mapped[str | None] = mapped_column(String(255))
    charge_number: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(255))
    unit_of_measure: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str | None] = mapped_column(String(64))
    sku_name: Mapped[str | None] = mapped_column(String(255))
    service_start_date: Mapped[dt.date | None] = mapped_column(Date)
    service_end_date: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (
        ForeignKeyConstraint(["account_number", "document_number"], ["documents.account_number", "documents.number"]),
        Index(None, "account_number", "document_number"),
        # Item ids are unique in the book: a load looks each one up across accounts (migration 0010).
        Index(None, "id"),
    )


class TaxationItemRow(Base):
    __tablename__ = "taxation_items"
    account_number: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    document_number: Mapped[str] = mapped_column(ID)
    item_id: Mapped[str] = mapped_column(ID)
    line_no: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(255))
    jurisdiction: Mapped[str | None] = mapped_column(String(255))
    location_code: Mapped[str | None] = mapped_column(String(64))
    tax_code: Mapped[str | None] = mapped_column(String(64))
    tax_code_description: Mapped[str | None] = mapped_column(String(255))
    tax_mode: Mapped[str | None] = mapped_column(String(16))
    tax_rate: Mapped[str | None] = mapped_column(String(40))
    tax_rate_description: Mapped[str | None] = mapped_column(String(255))
    tax_rate_type: Mapped[str | None] = mapped_column(String(16))
    exempt_amount: Mapped[Decimal | None] = mapped_column(Money)
    tax_amount: Mapped[Decimal] = mapped_column(Money)
    tax_date: Mapped[dt.date | None] = mapped_column(Date)
    balance: Mapped[Decimal] = mapped_column(Money)
    sales_tax_code: Mapped[str] = mapped_column(ForeignKey("accounting_codes.name"))
    ar_code: Mapped[str] = mapped_column(ForeignKey("accounting_codes.name"))
    on_account_code: Mapped[str | None] = mapped_column(ForeignKey("accounting_codes.name"))
    source_tax_item_id: Mapped[str | None] = mapped_column(ID)
    __table_args__ = (
        ForeignKeyConstraint(["account_number", "item_id"], ["document_items.account_number", "document_items.id"]),
        Index(None, "account_number", "document_number"),
        Index(None, "id"),
    )


class PaymentRow(Base):
    __tablename__ = "payments"
    account_number: Mapped[str] = mapped_column(ForeignKey("customer_accounts.account_number"), primary_key=True)
    number: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    unapplied: Mapped[Decimal] = mapped_column(Money)
    cash_code: Mapped[str] = mapped_column(ForeignKey("accounting_codes.name"))
    unapplied_code: Mapped[str] = mapped_column(ForeignKey("accounting_codes.name"))
    transferred_to_accounting: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    operation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("operations.id"))
    __table_args__ = (Index(None, "number"),)


class ApplicationRow(Base):
    """One item-level application: part of a payment or credit memo (line) applied to one invoice or memo line."""

    __tablename__ = "applications"
    account_number: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    operation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("operations.id"))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_number: Mapped[str] = mapped_column(ID)
    source_item_id: Mapped[str | None] = mapped_column(ID)
    target_number: Mapped[str] = mapped_column(ID)
    target_item_id: Mapped[str] = mapped_column(ID)
    target_is_tax: Mapped[bool] = mapped_column(Boolean)
    amount: Mapped[Decimal] = mapped_column(Money)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    __table_args__ = (
        CheckConstraint("source_kind in ('Payment', 'CreditMemo')", name="source_kind"),
        Index(None, "account_number", "source_number"),
        Index(None, "account_number", "target_number"),
    )


class RefundRow(Base):
    """A refund of a credit memo's unapplied amount to the customer (cash out); Canceled once its cancellation
    posted the mirror entry on ``cancel_date`` (migration 0008)."""

    __tablename__ = "refunds"
    account_number: Mapped[str] = mapped_column(ForeignKey("customer_accounts.account_number"), primary_key=True)
    number: Mapped[str] = mapped_column(ID, primary_key=True)
    credit_memo_number: Mapped[str] = mapped_column(ID)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    refund_date: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str | None] = mapped_column(String(64))
    reference_id: Mapped[str | None] = mapped_column(String(60))
    reason_code: Mapped[str | None] = mapped_column(NAME)
    comment: Mapped[str | None] = mapped_column(String(255))
    cash_code: Mapped[str] = mapped_column(ForeignKey("accounting_codes.name"))
    cancel_date: Mapped[dt.date | None] = mapped_column(Date)
    operation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("operations.id"))
    cancel_operation_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("operations.id"))
    __table_args__ = (
        CheckConstraint("type in ('External', 'Electronic')", name="type"),
        CheckConstraint("status in ('Processed', 'Canceled')", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(None, "number"),
        Index(None, "account_number", "credit_memo_number"),
    )


class RefundItemRow(Base):
    """The part of one credit memo line (item or taxation item) a refund pays out."""

    __tablename__ = "refund_items"
    account_number: Mapped[str] = mapped_column(ID, primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    refund_number: Mapped[str] = mapped_column(ID)
    memo_item_id: Mapped[str] = mapped_column(ID)
    is_tax: Mapped[bool] = mapped_column(Boolean)
    amount: Mapped[Decimal] = mapped_column(Money)
    __table_args__ = (
        ForeignKeyConstraint(["account_number", "refund_number"], ["refunds.account_number", "refunds.number"]),
        Index(None, "account_number", "refund_number"),
    )


class JournalEntryRow(Base):
    """A posted journal entry: immutable, chained to the previous entry of its account by ``hash``."""

    __tablename__ = "journal_entries"
    account_number: Mapped[str] = mapped_column(ID, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_date: Mapped[dt.date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(ForeignKey("periods.name"))
    transaction_type: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    document_number: Mapped[str] = mapped_column(ID)
    related_number: Mapped[str | None] = mapped_column(ID)
    tag: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(255))
    operation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("operations.id"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: Which text of the entry ``hash`` covers (``canonical.entry_text``): 1 for entries posted before every stored
    #: field was hashed (migration 0006), 2 since.
    hash_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __table_args__ = (
        Index(None, "period", "entry_date"),
        Index(None, "account_number", "document_number"),
    )


class JournalLineRow(Base):
    __tablename__ = "journal_lines"
    account_number: Mapped[str] = mapped_column(ID, primary_key=True)
    entry_seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    accounting_code: Mapped[str] = mapped_column(ForeignKey("accounting_codes.name"))
    debit: Mapped[Decimal] = mapped_column(Money)
    credit: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    item_id: Mapped[str | None] = mapped_column(ID)
    __table_args__ = (
        # Lines are written before their entry (SQLite checks the balance when the entry arrives), so the
        # reference to the entry is checked at commit.
        ForeignKeyConstraint(
            ["account_number", "entry_seq"],
            ["journal_entries.account_number", "journal_entries.seq"],
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint("debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0)", name="one_side"),
    )


class JournalRunRow(Base):
    """A journal run: the journal entries of a period not yet in a run, taken to go to the ERP. Processing until
    the ERP accepts it (Completed: its entries' documents are transferred to accounting) or rejects it (Error); a
    cancelled run's entries go to the next run."""

    __tablename__ = "journal_runs"
    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    period: Mapped[str] = mapped_column(ForeignKey("periods.name"))
    entry_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    entry_count: Mapped[int] = mapped_column(Integer)
    line_count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status_by: Mapped[str | None] = mapped_column(NAME)
    status_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status_note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (CheckConstraint("status in ('Processing', 'Completed', 'Error', 'Cancelled')", name="status"),)


class JournalRunEntryRow(Base):
    """Which journal run took each journal entry (kept apart so journal entries stay immutable). A cancelled run's
    rows are deleted: an entry is in at most one run that is not cancelled."""

    __tablename__ = "journal_run_entries"
    account_number: Mapped[str] = mapped_column(ID, primary_key=True)
    entry_seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("journal_runs.id"))
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_number", "entry_seq"], ["journal_entries.account_number", "journal_entries.seq"]
        ),
        Index(None, "run_id"),
    )


class JournalRunTotalRow(Base):
    """A journal run's summary journal entries: per transaction type and currency, each accounting code's debits
    and credits (what a summary render prints, recorded when the run is created)."""

    __tablename__ = "journal_run_totals"
    run_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("journal_runs.id"), primary_key=True)
    transaction_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    accounting_code: Mapped[str] = mapped_column(ForeignKey("accounting_codes.name"), primary_key=True)
    debit: Mapped[Decimal] = mapped_column(Money)
    credit: Mapped[Decimal] = mapped_column(Money)


class InvoiceItemAdjustmentRow(Base):
    """An invoice item adjustment (books without Invoice Settlement): a Credit lowers one invoice item's or
    taxation item's charge, a Charge raises it; ``amount`` is always positive. ``accounting_code`` is the code the
    adjustment posts against (the item's revenue code or the taxation item's sales-tax code, unless overridden);
    ``ar_code`` is the adjusted line's receivable code."""

    __tablename__ = "invoice_item_adjustments"
    account_number: Mapped[str] = mapped_column(ForeignKey("customer_accounts.account_number"), primary_key=True)
    number: Mapped[str] = mapped_column(ID, primary_key=True)
    invoice_number: Mapped[str] = mapped_column(ID)
    type: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    source_type: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(ID)
    adjustment_date: Mapped[dt.date] = mapped_column(Date)
    reason_code: Mapped[str] = mapped_column(NAME)
    reference_id: Mapped[str | None] = mapped_column(String(60))
    comment: Mapped[str | None] = mapped_column(String(255))
    accounting_code: Mapped[str] = mapped_column(ForeignKey("accounting_codes.name"))
    deferred_revenue_account: Mapped[str | None] = mapped_column(ForeignKey("accounting_codes.name"))
    recognized_revenue_account: Mapped[str | None] = mapped_column(ForeignKey("accounting_codes.name"))
    ar_code: Mapped[str] = mapped_column(ForeignKey("accounting_codes.name"))
    status: Mapped[str] = mapped_column(String(16))
    transferred_to_accounting: Mapped[bool] = mapped_column(Boolean, default=False)
    custom_fields: Mapped[str] = mapped_column(Text)
    operation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("operations.id"))
    __table_args__ = (
        ForeignKeyConstraint(["account_number", "invoice_number"], ["documents.account_number", "documents.number"]),
        CheckConstraint("type in ('Credit', 'Charge')", name="type"),
        CheckConstraint("source_type in ('InvoiceDetail', 'Tax')", name="source_type"),
        CheckConstraint("status in ('Processed', 'Canceled')", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(None, "account_number", "invoice_number"),
    )


class ApiClientRow(Base):
    """A client of the HTTP service (OAuth 2.0 client credentials): its secret stored only as a salted scrypt hash,
    and the actor whose permissions its requests carry."""

    __tablename__ = "api_clients"
    client_id: Mapped[str] = mapped_column(NAME, primary_key=True)
    actor: Mapped[str] = mapped_column(NAME)
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[int] = mapped_column(Integer)


class ApiTokenRow(Base):
    """An access token issued to a client, stored as its SHA-256 (a token is 32 random bytes: no salt needed), valid
    until ``expires_at`` (seconds since the epoch)."""

    __tablename__ = "api_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.client_id"))
    expires_at: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index(None, "client_id"),)


def _table(cls: type[Base]) -> Table:
    return cast(Table, cls.__table__)


settings = _table(Setting)
accounting_codes = _table(AccountingCodeRow)
periods = _table(Period)
period_events = _table(PeriodEvent)
reason_codes = _table(ReasonCode)
operations = _table(Operation)
audit_refusals = _table(AuditRefusal)
customer_accounts = _table(CustomerAccountRow)
documents = _table(DocumentRow)
document_items = _table(DocumentItemRow)
taxation_items = _table(TaxationItemRow)
payments = _table(PaymentRow)
applications = _table(ApplicationRow)
journal_entries = _table(JournalEntryRow)
journal_lines = _table(JournalLineRow)
journal_runs = _table(JournalRunRow)
journal_run_entries = _table(JournalRunEntryRow)
journal_run_totals = _table(JournalRunTotalRow)
invoice_item_adjustments = _table(InvoiceItemAdjustmentRow)
refunds = _table(RefundRow)
refund_items = _table(RefundItemRow)
document_numbers = _table(DocumentNumber)
actors = _table(ActorRow)
actor_permissions = _table(ActorPermission)
api_clients = _table(ApiClientRow)
api_tokens = _table(ApiTokenRow)


def of_entry(table: Table) -> ColumnElement[bool]:
    """The rows of ``table`` (``journal_lines``, ``journal_run_entries``: keyed by ``account_number`` and
    ``entry_seq``) that belong to a row of ``journal_entries``: the condition joining them."""
    return and_(table.c.account_number == journal_entries.c.account_number, table.c.entry_seq == journal_entries.c.seq)


#: How the tables would be placed on a distributed PostgreSQL (Citus; ``docs/scaling.md``, checked by
#: ``tests/test_scaling.py``): sharded by ``account_number``, which leads each one's primary key ...
DISTRIBUTED = (
    customer_accounts,
    documents,
    document_items,
    taxation_items,
    payments,
    applications,
    journal_entries,
    journal_lines,
    journal_run_entries,
    invoice_item_adjustments,
    refunds,
    refund_items,
)
#: ... replicated to every node (small, read by every operation or written rarely) ...
REFERENCE = (
    settings,
    accounting_codes,
    periods,
    period_events,
    reason_codes,
    document_numbers,
    actors,
    actor_permissions,
    api_clients,
    journal_runs,
    journal_run_totals,
)
#: ... and kept on the coordinator: the book-wide logs keyed by their own id.
COORDINATOR = (operations, audit_refusals, api_tokens)

#: The tables a load or a bulk write-off fills (``db.refresh_statistics`` after a large one).
BULK_TABLES = (
    customer_accounts,
    documents,
    document_items,
    taxation_items,
    payments,
    applications,
    journal_entries,
    journal_lines,
)
