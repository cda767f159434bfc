"""Control-account balances two ways: from the subledger (documents and applications) and from the journal.

The subledger side never reads the journal: Accounts Receivable is what posted invoices and debit memos still owe,
Credit Memo On-Account is what posted credit memos have not yet applied, Unapplied Payments is what processed
payments have not yet applied, each as of a date. The Beancount export asserts these figures and the close checks
compare them with the journal; when the two disagree, one of them is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import Connection, and_, func, select, type_coerce

from subledger.money import ZERO
from subledger.operations.adjustments import receivable_adjustments
from subledger.storage.schema import (
    applications,
    document_items,
    documents,
    journal_entries,
    journal_lines,
    payments,
    taxation_items,
)
from subledger.storage.types import Money

Key = tuple[str, str]  # (accounting code, currency)
#: The control accounts, and the sign of their subledger balance as a debit-minus-credit journal balance.
CONTROL_SIGN = {"ar": 1, "on_account": -1, "unapplied": -1}


def _lines_total(conn: Connection, kinds: tuple[str, ...], code_column: str, as_of: dt.date) -> dict[Key, Decimal]:
    totals: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for table, amount in (
        (document_items, document_items.c.amount),
        (taxation_items, taxation_items.c.tax_amount),
    ):
        code = table.c[code_column]
        query = (
            select(code, documents.c.currency, func.sum(amount))
            .join(
                documents,
                and_(
                    documents.c.account_number == table.c.account_number,
                    documents.c.number == table.c.document_number,
                ),
            )
            .where(
                documents.c.kind.in_(kinds),
                documents.c.status == "Posted",
                documents.c.document_date <= as_of,
            )
            .group_by(code, documents.c.currency)
        )
        for name, currency, total in conn.execute(query):
            if name is not None:
                totals[(name, currency)] += total or ZERO
    return totals


def _applied(conn: Connection, source_kind: str, side: str, code_column: str, as_of: dt.date) -> dict[Key, Decimal]:
    """Applications up to ``as_of``, by the code of the target line (``side='target'``) or source memo line."""
    totals: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    number = applications.c.target_number if side == "target" else applications.c.source_number
    item_id = applications.c.target_item_id if side == "target" else applications.c.source_item_id
    for table in (document_items, taxation_items):
        query = (
            select(table.c[code_column], documents.c.currency, func.sum(applications.c.amount))
            .join(table, and_(table.c.account_number == applications.c.account_number, table.c.id == item_id))
            .join(
                documents,
                and_(documents.c.account_number == applications.c.account_number, documents.c.number == number),
            )
            .where(applications.c.source_kind == source_kind, applications.c.effective_date <= as_of)
            .group_by(table.c[code_column], documents.c.currency)
        )
        for name, currency, total in conn.execute(query):
            totals[(name, currency)] += total or ZERO
    return totals


def subledger_balances(conn: Connection, as_of: dt.date) -> dict[str, dict[Key, Decimal]]:
    """Open balances by control account as of the end of ``as_of``, from documents and applications only."""
    ar = _lines_total(conn, ("Invoice", "DebitMemo"), "ar_code", as_of)
    for source_kind in ("Payment", "CreditMemo"):
        for key, amount in _applied(conn, source_kind, "target", "ar_code", as_of).items():
            ar[key] = ar.get(key, ZERO) - amount
    # Books without Invoice Settlement: processed Credit adjustments lower receivable, Charge ones raise it.
    for key, amount in receivable_adjustments(conn, as_of).items():
        ar[key] = ar.get(key, ZERO) - amount
    on_account = _lines_total(conn, ("CreditMemo",), "on_account_code", as_of)
    for key, amount in _applied(conn, "CreditMemo", "source", "on_account_code", as_of).items():
        on_account[key] = on_account.get(key, ZERO) - amount
    unapplied: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    paid = (
        select(payments.c.unapplied_code, payments.c.currency, func.sum(payments.c.amount))
        .where(payments.c.status == "Processed", payments.c.effective_date <= as_of)
        .group_by(payments.c.unapplied_code, payments.c.currency)
    )
    for code, currency, total in conn.execute(paid):
        unapplied[(code, currency)] += total
    applied = (
        select(payments.c.unapplied_code, payments.c.currency, func.sum(applications.c.amount))
        .join(
            payments,
            and_(
                payments.c.account_number == applications.c.account_number,
                payments.c.number == applications.c.source_number,
            ),
        )
        .where(applications.c.source_kind == "Payment", applications.c.effective_date <= as_of)
        .group_by(payments.c.unapplied_code, payments.c.currency)
    )
    for code, currency, total in conn.execute(applied):
        unapplied[(code, currency)] -= total
    return {"ar": dict(ar), "on_account": dict(on_account), "unapplied": dict(unapplied)}


def journal_balances(conn: Connection, as_of: dt.date) -> dict[Key, Decimal]:
    """Debit minus credit by accounting code and currency, over every entry dated on or before ``as_of``."""
    query = (
        select(
            journal_lines.c.accounting_code,
            journal_lines.c.currency,
            type_coerce(func.sum(journal_lines.c.debit) - func.sum(journal_lines.c.credit), Money()),
        )
        .join(
            journal_entries,
            and_(
                journal_entries.c.account_number == journal_lines.c.account_number,
                journal_entries.c.seq == journal_lines.c.entry_seq,
            ),
        )
        .where(journal_entries.c.entry_date <= as_of)
        .group_by(journal_lines.c.accounting_code, journal_lines.c.currency)
    )
    return {(code, currency): total for code, currency, total in conn.execute(query)}
