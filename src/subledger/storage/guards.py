"""Database-side guards: the database, not only Python, refuses an unbalanced or altered journal.

Journal lines are written before their entry; inserting the entry *seals* it:
- the entry must have lines, balanced per currency (SQLite: checked as the entry is inserted; PostgreSQL: checked
  again by a deferred constraint trigger at commit, the source of truth);
- no line may be added to a sealed entry;
- no journal entry or line is ever updated or deleted.
Migrations install a frozen version of these statements (``V1``); a change adds ``V2``, never edits ``V1``.
"""

from __future__ import annotations

SQLITE_V1: tuple[str, ...] = (
    """
    CREATE TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    WHEN NOT EXISTS (SELECT 1 FROM journal_lines l
                     WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq)
      OR EXISTS (SELECT 1 FROM journal_lines l
                 WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq
                 GROUP BY l.currency HAVING sum(l.debit) <> sum(l.credit))
    BEGIN SELECT RAISE(ABORT, 'journal entry is not balanced per currency'); END
    """,
    """
    CREATE TRIGGER journal_lines_sealed BEFORE INSERT ON journal_lines
    WHEN EXISTS (SELECT 1 FROM journal_entries e
                 WHERE e.account_number = NEW.account_number AND e.seq = NEW.entry_seq)
    BEGIN SELECT RAISE(ABORT, 'journal entry is posted: lines cannot be added'); END
    """,
    *(
        f"""
        CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
        BEGIN SELECT RAISE(ABORT, 'posted {table} are never updated or deleted'); END
        """
        for table in ("journal_entries", "journal_lines")
        for action in ("UPDATE", "DELETE")
    ),
)

POSTGRESQL_V1: tuple[str, ...] = (
    """
    CREATE FUNCTION subledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'posted % are never updated or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
    """
    CREATE FUNCTION subledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM journal_lines l
                     WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq)
         OR EXISTS (SELECT 1 FROM journal_lines l
                    WHERE l.account_number = NEW.account_number AND l.entry_seq = NEW.seq
                    GROUP BY l.currency HAVING sum(l.debit) <> sum(l.credit)) THEN
        RAISE EXCEPTION 'journal entry %/% is not balanced per currency', NEW.account_number, NEW.seq
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION subledger_lines_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM new_lines l JOIN journal_entries e
                 ON e.account_number = l.account_number AND e.seq = l.entry_seq) THEN
        RAISE EXCEPTION 'journal entry is posted: lines cannot be added'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION subledger_entry_balanced()
    """,
    """
    CREATE TRIGGER journal_lines_sealed AFTER INSERT ON journal_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION subledger_lines_sealed()
    """,
    *(
        f"""
        CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION subledger_refuse_change()
        """
        for table in ("journal_entries", "journal_lines")
    ),
)


def statements(dialect: str) -> tuple[str, ...]:
    return POSTGRESQL_V1 if dialect == "postgresql" else SQLITE_V1
