"""The invariants the distributed layout of ``docs/scaling.md`` relies on (both engines).

Every table is placed (distributed by account, reference, or coordinator); every distributed table's primary key
and unique constraints lead with ``account_number`` and its references to another distributed table carry it;
no reference table refers to a distributed one; every operation but a load and a journal run writes rows of one
customer account;
every identity column, and every column referring to one, is 64-bit.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import BigInteger, Engine, UniqueConstraint, text

from conftest import dump, example
from subledger.api import Books
from subledger.storage import schema

DISTRIBUTED = {t.name for t in schema.DISTRIBUTED}
REFERENCE = {t.name for t in schema.REFERENCE}
COORDINATOR = {t.name for t in schema.COORDINATOR}


def test_every_table_has_one_place() -> None:
    assert DISTRIBUTED.isdisjoint(REFERENCE)
    assert COORDINATOR.isdisjoint(DISTRIBUTED | REFERENCE)
    assert set(schema.Base.metadata.tables) == DISTRIBUTED | REFERENCE | COORDINATOR


@pytest.mark.parametrize("table", sorted(DISTRIBUTED))
def test_a_distributed_tables_keys_lead_with_the_account(table: str) -> None:
    t = schema.Base.metadata.tables[table]
    assert next(c.name for c in t.primary_key.columns) == "account_number"
    for constraint in t.constraints:
        if isinstance(constraint, UniqueConstraint):
            assert "account_number" in constraint.columns, constraint
    for fk in t.foreign_key_constraints:
        if fk.referred_table.name in DISTRIBUTED:
            pairs = {(e.parent.name, e.column.name) for e in fk.elements}
            assert ("account_number", "account_number") in pairs, f"{table} -> {fk.referred_table.name}"


@pytest.mark.parametrize("table", sorted(REFERENCE | COORDINATOR))
def test_no_reference_table_refers_to_a_distributed_one(table: str) -> None:
    t = schema.Base.metadata.tables[table]
    assert {fk.referred_table.name for fk in t.foreign_key_constraints}.isdisjoint(DISTRIBUTED)


def test_identity_columns_and_their_references_are_64_bit() -> None:
    identities = set()
    for t in schema.Base.metadata.tables.values():
        for c in t.primary_key.columns:
            if c.autoincrement is True:
                identities.add(f"{t.name}.{c.name}")
                assert isinstance(c.type, BigInteger), f"{t.name}.{c.name}"
    assert identities == {"operations.id", "period_events.id", "audit_refusals.id", "journal_runs.id"}
    for t in schema.Base.metadata.tables.values():
        for fk in t.foreign_keys:
            if f"{fk.column.table.name}.{fk.column.name}" in identities:
                assert isinstance(fk.parent.type, BigInteger), f"{t.name}.{fk.parent.name}"


def test_the_database_holds_64_bit_identities(books: Books) -> None:
    with books.engine.connect() as conn:
        if books.engine.dialect.name == "postgresql":
            query = "SELECT sequence_name, data_type FROM information_schema.sequences"
            rows = conn.execute(text(f"{query} WHERE sequence_schema = current_schema()")).all()
            sequences: dict[str, str] = dict(rows)
            assert sequences == {
                f"{t}_id_seq": "bigint" for t in ("operations", "period_events", "audit_refusals", "journal_runs")
            }
            columns = conn.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND data_type <> 'bigint' AND ("
                    "   column_name = 'operation_id'"
                    "   OR (column_name = 'run_id' AND table_name LIKE 'journal_run%')"
                    "   OR (column_name = 'id' AND table_name IN"
                    "       ('operations', 'period_events', 'audit_refusals', 'journal_runs')))"
                    " AND data_type <> 'bigint'"
                )
            ).all()
            assert columns == []
        else:  # an INTEGER PRIMARY KEY is SQLite's 64-bit rowid
            ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'operations'")).scalar_one()
            assert "id INTEGER NOT NULL" in ddl


def two_accounts(books: Books) -> Books:
    books.load(example("seed-003-books.json"))  # A00000001
    books.load(example("line-level-books.json"))  # A00000002
    return books


def written_accounts(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> set[str]:
    """The customer accounts of every row an operation added or changed in a distributed table (``dump`` keeps each
    value's ``repr``, in the order the columns are declared)."""
    accounts: set[str] = set()
    for name in DISTRIBUTED:
        columns = [c.name for c in schema.Base.metadata.tables[name].columns]
        for row in set(after.get(name, [])) ^ set(before.get(name, [])):
            accounts.add(ast.literal_eval(dict(zip(columns, row, strict=True))["account_number"]))
    return accounts


CM_APPLY = {"effectiveDate": "2026-11-02", "invoices": [{"invoiceNumber": "INV00000010", "amount": "10.00"}]}
PAYMENT = {"effectiveDate": "2026-11-03", "invoices": [{"invoiceNumber": "INV00000010", "amount": "1.00"}]}
REFUND = {"totalAmount": "5.00", "refundDate": "2026-11-10", "methodType": "Check"}
OPERATIONS: list[tuple[str, Callable[[Books], object]]] = [
    ("write off an invoice", lambda b: b.write_off_invoice("INV00000002", {"memoDate": "2026-10-28"})),
    ("reverse an invoice", lambda b: b.reverse_invoice("INV00000001", {"memoDate": "2026-10-28"})),
    ("apply a credit memo", lambda b: b.apply_credit_memo("CM00000001", CM_APPLY)),
    ("unapply it", lambda b: b.unapply_credit_memo("CM00000001", {**CM_APPLY, "effectiveDate": "2026-11-03"})),
    ("write off a debit memo", lambda b: b.write_off_debit_memo("DM00000001", {"memoDate": "2026-11-16"})),
    ("unapply a payment", lambda b: b.unapply_payment("P00000010", PAYMENT)),
    ("apply it again", lambda b: b.apply_payment("P00000010", PAYMENT)),
    ("bulk write-off", lambda b: b.write_off_bulk(documents=["INV00000010"], settings={"memoDate": "2026-11-16"})),
    ("recover a write-off", lambda b: b.recover_invoice_write_off("WO-INV00000002-1", {"memoDate": "2026-11-20"})),
    ("refund a credit memo", lambda b: b.refund_credit_memo("CM00000001", REFUND)),
    ("cancel the refund", lambda b: b.cancel_refund("RF-CM00000001-1", {"cancelDate": "2026-11-12"})),
    ("reverse a credit memo", lambda b: b.reverse_credit_memo("CM00000001", {"memoDate": "2026-11-16"})),
]


def test_every_operation_writes_rows_of_one_customer_account(books: Books) -> None:
    book = two_accounts(books)
    for what, operation in OPERATIONS:
        before = dump(book.engine)
        operation(book)
        assert len(written_accounts(before, dump(book.engine))) == 1, what


def test_a_load_may_write_several_accounts(engine: Engine) -> None:
    """The one exception, a multi-shard transaction on a distributed engine (``docs/scaling.md``)."""
    book = Books(engine=engine)
    book.init()
    before = dump(engine)
    book.load(example("seed-003-books.json"))
    assert written_accounts(before, dump(engine)) == {"A00000001"}


def test_a_journal_run_takes_the_period_of_every_account(books: Books) -> None:
    """The other exception: a journal run takes (and its confirmation marks transferred) the period's entries of
    every account, once per period and ERP file (``docs/scaling.md``)."""
    book = two_accounts(books)
    before = dump(book.engine)
    run = book.create_journal_run("2026-10").run
    taken = dump(book.engine)
    assert run is not None
    assert written_accounts(before, taken) == {"A00000001", "A00000002"}
    book.confirm_journal_run(run.number)
    assert written_accounts(taken, dump(book.engine)) == {"A00000001", "A00000002"}
