"""What a user would otherwise reach for, written as plainly as possible: the yardsticks our figures are divided by.

``plain_ledger`` writes the same transactions as Beancount text with one query over the raw driver and f-strings,
no ledger logic; ``printer_ledger`` builds beancount's own ``Transaction`` objects and prints them with beancount's
printer. Both stream, as the export does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from beancount.core import amount, data
from beancount.parser import printer
from sqlalchemy import Engine

_QUERY = """
SELECT e.entry_date, e.account_number, e.seq, c.name, e.description, e.tag, e.document_number, e.related_number,
       e.transaction_type, a.account, l.debit, l.credit, l.currency, l.item_id
FROM journal_entries e
JOIN journal_lines l ON l.account_number = e.account_number AND l.entry_seq = e.seq
JOIN customer_accounts c ON c.account_number = e.account_number
JOIN accounting_codes a ON a.name = l.accounting_code
ORDER BY e.entry_date, e.account_number, e.seq, l.line_no
"""


def _rows(engine: Engine) -> Iterator[Any]:
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=20_000).exec_driver_sql(_QUERY)
        yield from result


def _money(engine: Engine, value: Any) -> Decimal:
    # SQLite keeps money as an integer count of ten-thousandths; PostgreSQL hands back a Decimal.
    return Decimal(value).scaleb(-4) if engine.dialect.name == "sqlite" else Decimal(value)


def plain_ledger(engine: Engine, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    sqlite = engine.dialect.name == "sqlite"
    with out.open("w", encoding="utf-8") as handle:
        current = None
        for r in _rows(engine):
            key = (r[1], r[2])
            if key != current:
                if current is not None:
                    handle.write("\n")
                current = key
                links = f" ^{r[6]}" + (f" ^{r[7]}" if r[7] else "")
                handle.write(f'{r[0]} * "{r[3]}" "{r[4]}" #{r[5]}{links}\n  transaction-type: "{r[8]}"\n')
            value = r[10] - r[11]
            text = f"{value / 10000:.2f}" if sqlite else f"{value:.2f}"
            handle.write(f"  {r[9]:<50} {text:>16} {r[12]}\n")
            if r[13]:
                handle.write(f'    item: "{r[13]}"\n')


def printer_ledger(engine: Engine, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        txn: data.Transaction | None = None
        key = None
        for r in _rows(engine):
            if (r[1], r[2]) != key:
                if txn is not None:
                    handle.write(printer.format_entry(txn) + "\n")
                key = (r[1], r[2])
                date = r[0] if isinstance(r[0], dt.date) else dt.date.fromisoformat(r[0])
                links = frozenset(n for n in (r[6], r[7]) if n)
                meta = data.new_metadata("subledger", 0, {"transaction-type": r[8]})
                txn = data.Transaction(meta, date, "*", r[3], r[4], frozenset({r[5]}), links, [])
            units = amount.Amount(_money(engine, r[10]) - _money(engine, r[11]), r[12])
            posting_meta = {"item": r[13]} if r[13] else None
            assert txn is not None
            txn.postings.append(data.Posting(r[9], units, None, None, None, posting_meta))
        if txn is not None:
            handle.write(printer.format_entry(txn) + "\n")
