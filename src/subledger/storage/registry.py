"""The register of document numbers, filled by the database as documents and payments are inserted.

A number is unique in the book, but documents and payments are keyed by ``(account_number, number)`` so that a
distributed engine can keep each account's rows together; two loads carrying one number under two accounts would
both commit. Every insert into ``documents`` or ``payments`` therefore registers its numbers in
``document_numbers`` (number as primary key) in the same transaction, by trigger, so that no code path can forget
it: a concurrent second writer of a number waits for the first, fails on the key (a transient conflict,
``operations.base``), and its rerun finds the number taken and refuses in the user's terms.

PostgreSQL registers a whole statement's rows at once (a statement trigger over the inserted rows, which ``COPY``
fires too); SQLite, whose writers run one at a time, registers row by row. Migrations install a frozen version of
these statements (``V1``); a change adds ``V2``, never edits ``V1``.
"""

from __future__ import annotations

SQLITE_V1: tuple[str, ...] = (
    """
    CREATE TRIGGER documents_register_number AFTER INSERT ON documents
    BEGIN INSERT INTO document_numbers (number, kind, account_number)
          VALUES (NEW.number, NEW.kind, NEW.account_number); END
    """,
    """
    CREATE TRIGGER payments_register_number AFTER INSERT ON payments
    BEGIN INSERT INTO document_numbers (number, kind, account_number)
          VALUES (NEW.number, 'Payment', NEW.account_number); END
    """,
)

POSTGRESQL_V1: tuple[str, ...] = (
    """
    CREATE FUNCTION subledger_register_numbers() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'payments' THEN
        INSERT INTO document_numbers (number, kind, account_number)
        SELECT r.number, 'Payment', r.account_number FROM new_rows r;
      ELSE
        INSERT INTO document_numbers (number, kind, account_number)
        SELECT r.number, r.kind, r.account_number FROM new_rows r;
      END IF;
      RETURN NULL;
    END $$
    """,
    *(
        f"""
        CREATE TRIGGER {table}_register_numbers AFTER INSERT ON {table}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subledger_register_numbers()
        """
        for table in ("documents", "payments")
    ),
)

#: The numbers a book already holds, for a book created before the register (migration 0005). A book that already
#: holds one number twice (the race this register closes) keeps one owner for it: the first account by number.
BACKFILL = """
    INSERT INTO document_numbers (number, kind, account_number)
    SELECT number, min(kind), min(account_number) FROM (
        SELECT number, kind, account_number FROM documents
        UNION ALL SELECT number, 'Payment', account_number FROM payments
    ) AS held GROUP BY number
"""


def statements(dialect: str) -> tuple[str, ...]:
    return POSTGRESQL_V1 if dialect == "postgresql" else SQLITE_V1
