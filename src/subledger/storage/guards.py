"""Database-side guards: the database, not only Python, refuses an unbalanced or altered journal.

Journal lines are written before their entry; inserting the entry *seals* it:
- the entry must have lines, balanced per currency (SQLite: checked as the entry is inserted; PostgreSQL: checked
  again by a deferred constraint trigger at commit, the source of truth);
- no line may be added to a sealed entry;
- no journal entry or line is ever updated or deleted;
- (``V2``) no posted row is replaced: SQLite's ``REPLACE`` / ``INSERT OR REPLACE`` (and ``UPDATE OR REPLACE``)
  resolve a key conflict by deleting the old row *without firing its delete triggers* unless the connection set
  ``PRAGMA recursive_triggers`` (``storage.db`` sets it on every connection it opens). So that this holds for a
  connection that did not, an insert whose key already exists in an append-only table is refused before the
  conflict is resolved. Journal lines need no trigger of their own: a line whose key exists belongs to an entry
  already posted, and ``journal_lines_sealed`` refuses any line of a posted entry. PostgreSQL has no REPLACE; its
  ``INSERT ... ON CONFLICT DO UPDATE`` fires the row's update triggers, which refuse it.
Migrations install a frozen version of these statements (``V1``, ``V2``); a change adds a version, never edits one.
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


#: Append-only tables of SQLite and every key (primary or unique) a REPLACE could take an existing row's place by.
_APPEND_ONLY_KEYS: tuple[tuple[str, str, tuple[tuple[str, ...], ...]], ...] = (
    ("journal_entries", "journal entry is posted", (("account_number", "seq"),)),
    ("audit_refusals", "audit record exists", (("id",),)),
    ("period_events", "period event is recorded", (("id",),)),
    ("operations", "operation is recorded", (("id",), ("idempotency_key",))),
)

SQLITE_V2: tuple[str, ...] = tuple(
    f"""
    CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table}
    WHEN {
        " OR ".join(
            f"EXISTS (SELECT 1 FROM {table} o WHERE {' AND '.join(f'o.{c} = NEW.{c}' for c in key)})" for key in keys
        )
    }
    BEGIN SELECT RAISE(ABORT, '{what}: it cannot be replaced'); END
    """
    for table, what, keys in _APPEND_ONLY_KEYS
)


def statements(dialect: str) -> tuple[str, ...]:
    return POSTGRESQL_V1 if dialect == "postgresql" else SQLITE_V1


def statements_v2(dialect: str) -> tuple[str, ...]:
    """What migration 0006 adds: nothing on PostgreSQL (see the module's docstring)."""
    return () if dialect == "postgresql" else SQLITE_V2
