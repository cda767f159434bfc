"""The Beancount ledger: ``main.beancount``, ``accounts.beancount`` and one file per accounting period.

Each journal entry becomes one transaction: dated as posted, tagged by kind (``#write-off``), linked to its documents
(``^INV00000001``), with the entry id and transaction type as metadata and the item id on each posting. Debits are
positive and credits negative, every amount explicit. Each period file ends with balance assertions for the control
accounts, computed from the subledger (documents and applications), not from the journal: bean-check then proves
the two agree. The text is streamed period by period, and identical books give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from subledger.balances import CONTROL_SIGN, Key, journal_balances, subledger_balances, subledger_balances_at
from subledger.context import PeriodState, read_chart, read_periods
from subledger.money import ZERO, fmt, minor_unit, quantum
from subledger.storage.cursor import driver_rows
from subledger.storage.schema import journal_entries
from subledger.storage.types import SCALE, from_scaled

ACCOUNT_WIDTH = 50
AMOUNT_WIDTH = 16
PLUGIN = "subledger.plugins.closed_periods"
#: Rows fetched (and text written) per round trip while streaming a period.
_BATCH = 5_000


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: The period's journal lines in ledger order, read through the driver (``storage.cursor``): no result rows, no
#: type processing. Money comes back as the driver gives it (``_amount_text``), dates as ISO text on SQLite and as
#: ``date`` on PostgreSQL.
_ENTRIES_SQL = """
SELECT e.account_number, e.seq, e.entry_date, e.transaction_type, e.tag, e.description, e.document_number,
       e.related_number, c.name, l.accounting_code, l.debit - l.credit, l.currency, l.item_id
FROM journal_entries e
JOIN journal_lines l ON l.account_number = e.account_number AND l.entry_seq = e.seq
JOIN customer_accounts c ON c.account_number = e.account_number
WHERE e.period = :period
ORDER BY e.entry_date, e.account_number, e.seq, l.line_no
"""


def _amount_text(currency: str, scaled: bool) -> Callable[[Any], str]:
    """How a driver's debit-minus-credit value prints in ``currency``: as ``money.fmt`` would print it (quantized to
    the currency, never ``-0.00``).

    On SQLite the value is the stored integer count of ten-thousandths (``storage.types``); an amount that is a whole
    number of the currency's minor units (every posted amount is) is printed from the integer alone, without a
    ``Decimal``. Anything else goes through ``Decimal`` as on PostgreSQL.
    """
    q = quantum(currency)

    def exact(value: Any) -> str:
        return str((from_scaled(value) if scaled else value).quantize(q) + ZERO)

    digits = minor_unit(currency)
    if not scaled or digits > SCALE:
        return exact
    step = 10 ** (SCALE - digits)

    def text(value: int) -> str:
        if value % step:
            return exact(value)
        units = value // step
        whole = str(-units if units < 0 else units)
        if digits:
            whole = whole.rjust(digits + 1, "0")
            whole = f"{whole[:-digits]}.{whole[-digits:]}"
        return f"-{whole}" if units < 0 else whole

    return text


def _entries(conn: Connection, period: str, accounts: dict[str, str]) -> Iterator[str]:
    """The period's transactions as text, in ledger order, streamed from the database.

    This is the hot loop of the export (one iteration per journal line): rows come straight from the driver and are
    unpacked by position, the debit-minus-credit amount comes from SQL as one column, and text that repeats
    (customer names, dates, transaction types, account columns, amount formats) is built once and looked up.
    """
    scaled = conn.dialect.name == "sqlite"
    names: dict[str, str] = {}
    days: dict[Any, str] = {}
    types: dict[str, str] = {}
    columns = {code: f"  {account:<{ACCOUNT_WIDTH}} " for code, account in accounts.items()}
    amounts: dict[str, Callable[[Any], str]] = {}
    current_account, current_seq = "", -1
    chunk: list[str] = []
    out: list[str] = []
    written = 0
    rows = driver_rows(conn, _ENTRIES_SQL, {"period": period}, batch=_BATCH)
    for account, seq, date, ttype, tag, description, document, related, name, code, amount, currency, item in rows:
        if seq != current_seq or account != current_account:
            if chunk:
                out.append("\n".join(chunk))
                if written >= _BATCH:  # text of about one fetch of lines at a time: memory stays flat
                    yield "\n\n".join(out) + "\n\n"
                    out, written = [], 0
            current_account, current_seq = account, seq
            quoted = names.get(name)
            if quoted is None:
                quoted = names[name] = quote(name)
            day = days.get(date)
            if day is None:
                day = days[date] = date if isinstance(date, str) else date.isoformat()
            kind = types.get(ttype)
            if kind is None:
                kind = types[ttype] = f"  transaction-type: {quote(ttype)}"
            links = f"^{document} ^{related}" if related else f"^{document}"
            chunk = [
                f"{day} * {quoted} {quote(description)} #{tag} {links}",
                f'  entry: "{account}-{seq}"',
                kind,
            ]
        written += 1
        text = amounts.get(currency)
        if text is None:
            text = amounts[currency] = _amount_text(currency, scaled)
        chunk.append(f"{columns[code]}{text(amount):>{AMOUNT_WIDTH}} {currency}")
        if item:
            chunk.append(f"    item: {quote(item)}")
    if chunk:
        out.append("\n".join(chunk))
    if out:
        yield "\n\n".join(out) + "\n\n"


Balances = dict[str, dict[Key, Decimal]]


def _assertions(period: PeriodState, accounts: dict[str, str], balances: Balances) -> Iterator[str]:
    """Balance assertions for the control accounts on the day after the period ends (Beancount's convention), from
    the subledger's ``balances`` at the end of the period."""
    day_after = period.end_date + dt.timedelta(days=1)
    lines: list[tuple[str, str, str]] = []
    for control, sign in CONTROL_SIGN.items():
        for (code, currency), amount in balances[control].items():
            lines.append((accounts[code], currency, fmt(sign * amount, currency)))
    if lines:
        yield f"; Control accounts as the subledger proves them at the end of {period.name}\n"
    for account, currency, text in sorted(lines):
        yield f"{day_after.isoformat()} balance {account:<{ACCOUNT_WIDTH - 8}} {text:>{AMOUNT_WIDTH}} {currency}\n"


def _accounts_file(conn: Connection, opened: dt.date) -> str:
    chart = read_chart(conn)
    out = ["; Accounting codes of the book (from chart_of_accounts/), one open directive each.\n"]
    for code in sorted(chart.codes.values(), key=lambda c: c.account):
        out.append(f"{opened.isoformat()} open {code.account} {','.join(code.currencies)}\n")
        out.append(f"  name: {quote(code.name)}\n  number: {quote(code.number)}\n  type: {quote(code.type)}\n")
        if not code.active:
            out.append("  active: FALSE\n")
        out.append("\n")
    return "".join(out)


def _closed(period: PeriodState) -> str:
    return (
        f'{period.end_date.isoformat()} custom "closed-period" {quote(period.name)} '
        f"{period.start_date.isoformat()} {quote(period.fingerprint or '')}\n"
    )


def _write(path: Path, chunks: Iterator[str] | list[str]) -> Path:
    """Write to a temporary file beside ``path`` and move it into place: a failed export leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for chunk in chunks:
                handle.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def ledger_span(conn: Connection, periods: list[PeriodState]) -> list[PeriodState]:
    """The periods the ledger holds: every period from the first with entries to the last with entries or the last
    closed, so that each period's balance assertions follow on from the previous one's."""
    used = {p for (p,) in conn.execute(select(journal_entries.c.period).distinct())}
    closed = [p for p in periods if p.status == "Closed"]
    names = [p.name for p in periods]
    marks = [names.index(p) for p in used] + [names.index(p.name) for p in closed]
    return periods[min(marks) : max(marks) + 1] if marks else []


def _period_file(
    conn: Connection, period: PeriodState, accounts: dict[str, str], balances: Balances | None = None
) -> Iterator[str]:
    """A period's file; ``balances`` are the subledger's at its end when the caller has them (else read here)."""
    yield f"; Accounting period {period.name}: {period.start_date} to {period.end_date}, {period.status}\n\n"
    yield from _entries(conn, period.name, accounts)
    if balances is None:
        balances = subledger_balances(conn, period.end_date)
    yield from _assertions(period, accounts, balances)
    if period.status == "Closed":
        yield "\n" + _closed(period)


def _main_file(title: str, operating: list[str], includes: list[str]) -> list[str]:
    return [
        f'option "title" {quote(title)}\n',
        *(f'option "operating_currency" "{c}"\n' for c in operating),
        "\n",
        *(f'plugin "{PLUGIN}"\n\n' if _plugin_available() else []),
        *(f'include "{name}"\n' for name in includes),
    ]


def export_beancount(conn: Connection, out: Path, *, title: str = "subledger books") -> list[Path]:
    """Write the ledger under ``out``; returns the files written, ``main.beancount`` first."""
    periods = read_periods(conn)
    chart = read_chart(conn)
    accounts = {code.name: code.account for code in chart.codes.values()}
    span = ledger_span(conn, periods)
    opened = periods[0].start_date if periods else dt.date(1970, 1, 1)
    operating = sorted({c for code in chart.codes.values() for c in code.currencies})
    written = [_write(out / "accounts.beancount", [_accounts_file(conn, opened)])]
    # Every period's assertions from one pass over the subledger (its movements by day, carried forward), rather
    # than the subledger summed from the start once per period.
    balances = subledger_balances_at(conn, [p.end_date for p in span])
    for period in span:
        file = _period_file(conn, period, accounts, balances[period.end_date])
        written.append(_write(out / "periods" / f"{period.name}.beancount", file))
    includes = ["accounts.beancount", *(f"periods/{p.name}.beancount" for p in span)]
    return [_write(out / "main.beancount", _main_file(title, operating, includes)), *written]


def _opening(conn: Connection, period: PeriodState, accounts: dict[str, str]) -> Iterator[str]:
    """One transaction on the day before ``period`` starts carrying every account's balance from the journal (debit
    minus credit of every entry dated earlier), so that the period's own assertions can be checked on their own."""
    day_before = period.start_date - dt.timedelta(days=1)
    balances = journal_balances(conn, day_before)
    postings = sorted((accounts[code], currency, amount) for (code, currency), amount in balances.items() if amount)
    yield f"; Journal balances carried into {period.name} (every entry dated before {period.start_date})\n\n"
    if not postings:
        return
    yield f'{day_before.isoformat()} * "Opening balances" {quote(f"Journal balances at the start of {period.name}")}\n'
    for account, currency, amount in postings:
        text = fmt(amount, currency)
        yield f"  {account:<{ACCOUNT_WIDTH}} {text:>{AMOUNT_WIDTH}} {currency}\n"


def export_period(conn: Connection, out: Path, name: str, *, title: str = "subledger books") -> list[Path]:
    """Write the ledger of one period under ``out``: the accounts, an opening-balances transaction computed from the
    journal, and the period's file exactly as ``export_beancount`` writes it (its transactions, its balance
    assertions, its closed-period directive). Returns the files written, ``main.beancount`` first."""
    periods = read_periods(conn)
    period = next(p for p in periods if p.name == name)
    chart = read_chart(conn)
    accounts = {code.name: code.account for code in chart.codes.values()}
    # Accounts open before the opening transaction (the day before the period) even when it is the first period.
    opened = min(periods[0].start_date, period.start_date - dt.timedelta(days=1))
    operating = sorted({c for code in chart.codes.values() for c in code.currencies})
    written = [
        _write(out / "accounts.beancount", [_accounts_file(conn, opened)]),
        _write(out / "opening.beancount", _opening(conn, period, accounts)),
        _write(out / "periods" / f"{name}.beancount", _period_file(conn, period, accounts)),
    ]
    includes = ["accounts.beancount", "opening.beancount", f"periods/{name}.beancount"]
    return [_write(out / "main.beancount", _main_file(f"{title}: {name}", operating, includes)), *written]


def _plugin_available() -> bool:
    return importlib.util.find_spec(PLUGIN) is not None
