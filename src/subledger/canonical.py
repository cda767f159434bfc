"""Canonical texts: what the journal's hash chain and a closed period's fingerprint hash, and how money prints.

Each text is written once in Python and, where the database builds it too (the close checks read millions of lines
and have the database format them), once per SQL dialect right beside it; ``tests/test_canonical.py`` proves each
pair equal on both engines (hypothesis). Change a text here and nowhere else, and only by adding a version: books
hold hashes of the old text.

- The chain's line and entry texts (``line_text``, ``entry_fields``): version 1 covered the entry's account, number,
  date, period, transaction type, currency, document and related document, and each line's code, debit, credit
  and item id; version 2 (every entry posted since migration 0006) covers every stored field of the entry and its
  lines. ``journal_entries.hash_version`` says which an entry was hashed under.
- The fingerprint's posting text (``posting_text``): one posting of a closed period, as the database, the
  Beancount ledger and the ``closed_periods`` plugin all see it.
- The printed amount (``amount_text``): ``money.fmt``, and ``driver_amount_text`` giving the same from an amount as
  the database driver returns it.

The SQL twins are the one place outside ``storage`` that knows how money is stored (SQLite: an integer count of
ten-thousandths; PostgreSQL: NUMERIC(24, 4)). Anything the SQL cannot format exactly (a currency it was not told
about, a negative amount on SQLite: version 1) comes out containing ``FALLBACK``, or (version 2) not of the plain
form (``plain_lines``), and the caller formats that entry in Python instead, from the stored values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any

from subledger.money import ZERO, fmt, is_exact_for, minor_unit, quantize, quantum
from subledger.storage.types import SCALE, decoder

#: In a text built by SQL: "this could not be formatted here, format the entry in Python".
FALLBACK = "\x1e"
#: Between the fields and lines of a chain text.
SEPARATOR = "\x1f"
#: The chain text versions: 1 for entries posted before migration 0006, 2 since.
V1, V2 = 1, 2
VERSIONS = (V1, V2)
CURRENT = V2
_STORED = Decimal(1).scaleb(-SCALE)


def _sql_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_in(values: Iterable[str]) -> str:
    return "(" + (", ".join(_sql_quote(v) for v in sorted(values)) or "NULL") + ")"


# --- the hash chain -------------------------------------------------------------------------------------------


def chain_digest(prev_hash: str, fields: Sequence[str], lines: Iterable[str]) -> str:
    """An entry's chain hash: over the previous entry's hash, the entry's ``entry_fields`` and its lines'
    ``line_text`` in line order."""
    return hashlib.sha256(SEPARATOR.join([prev_hash, *fields, *lines]).encode()).hexdigest()


def _ns(text: str) -> str:
    """A text as version 2 hashes it: prefixed by its length, so no field can take a neighbour's characters."""
    return f"{len(text)}:{text}"


def entry_fields(
    version: int,
    account_number: str,
    seq: int,
    entry_date: str | dt.date,
    period: str,
    transaction_type: str,
    currency: str,
    document_number: str,
    related_number: str | None,
    tag: str,
    description: str,
    operation_id: int,
) -> tuple[str, ...]:
    """An entry's own fields as its chain hash covers them, named as ``journal_entries`` stores them (the date as a
    date or its ISO text). Version 1 left out the tag, description and operation, and did not tell an absent related
    document from an empty one."""
    day = entry_date if isinstance(entry_date, str) else entry_date.isoformat()
    if version == V1:
        return (
            account_number,
            str(seq),
            day,
            period,
            transaction_type,
            currency,
            document_number,
            related_number or "",
        )
    # Written out rather than through ``_ns``: the check builds this for every entry of the book.
    return (
        "2",
        f"{len(account_number)}:{account_number}",
        str(seq),
        f"{len(day)}:{day}",
        f"{len(period)}:{period}",
        f"{len(transaction_type)}:{transaction_type}",
        f"{len(currency)}:{currency}",
        f"{len(document_number)}:{document_number}",
        "-" if related_number is None else f"{len(related_number)}:{related_number}",
        f"{len(tag)}:{tag}",
        f"{len(description)}:{description}",
        str(operation_id),
    )


#: The columns of a ``journal_entries`` row the chain covers: ``entry_fields``'s parameters after the version.
ENTRY_COLUMNS = tuple(inspect.signature(entry_fields).parameters)[1:]
_entry_values = itemgetter(*ENTRY_COLUMNS)


def stored_entry_fields(version: int, row: Mapping[Any, Any]) -> tuple[str, ...]:
    """``entry_fields`` of a ``journal_entries`` row (its other columns ignored)."""
    return entry_fields(version, *_entry_values(row))


def chain_amount(version: int, amount: Decimal, currency: str) -> str:
    """A stored debit or credit as the chain hashes it. Version 1: quantized to the currency, zero a bare ``0``, an
    amount more precise than its currency as stored (four decimals). Version 2: in ten-thousandths (the precision
    every amount is stored to on both engines), an integer whatever the currency; anything finer (only a hand can
    store it) as it is."""
    if version != V1:
        if not amount:  # one side of every line
            return "0"
        units = amount.scaleb(SCALE)
        return str(int(units)) if units == units.to_integral_value() else f"{units:f}"
    if not amount:
        return "0"
    if is_exact_for(amount, currency):
        return f"{quantize(amount, currency):f}"
    return f"{amount.quantize(_STORED):f}"


def line_text(
    version: int,
    line_no: int,
    accounting_code: str,
    debit: Decimal,
    credit: Decimal,
    currency: str,
    item_id: str | None,
) -> str:
    """A journal line as the chain hashes it (SQL: ``line_sql``), named as ``journal_lines`` stores it. Version 1
    covered neither the line's number nor its currency (the entry's currency was hashed, a line's was checked
    apart), and an absent item id was an empty one.

    Version 2 has two forms. The plain one, ``NO|CODE|DEBIT|CREDIT|CURRENCY|/ITEM`` (an absent item: nothing after
    the last ``|``), is what the database builds; it is taken when no text field holds a ``|`` or a ``SEPARATOR``
    (``plain_lines`` tells whether a database's text is of that form). Otherwise the line is ``#`` and its fields
    each prefixed by its length, which no plain line can equal (a plain line starts with a digit, has exactly five
    ``|``, no ``SEPARATOR``)."""
    d, c = chain_amount(version, debit, currency), chain_amount(version, credit, currency)
    if version == V1:
        return f"{accounting_code}|{d}|{c}|{item_id or ''}"
    # Values read back from a tampered SQLite file may be of any type: compared and printed as text.
    texts = (str(accounting_code), str(currency), "" if item_id is None else str(item_id))
    if type(line_no) is int and not any("|" in t or SEPARATOR in t for t in texts):
        return f"{line_no}|{accounting_code}|{d}|{c}|{currency}|{'' if item_id is None else '/' + texts[2]}"
    item = "-" if item_id is None else _ns(texts[2])
    return "#" + "|".join((_ns(str(line_no)), _ns(texts[0]), d, c, _ns(texts[1]), item))


#: The columns of a ``journal_lines`` row the chain covers: ``line_text``'s parameters after the version.
LINE_COLUMNS = tuple(inspect.signature(line_text).parameters)[1:]
_line_values = itemgetter(*LINE_COLUMNS)


def stored_line_text(version: int, row: Mapping[Any, Any]) -> str:
    """``line_text`` of a ``journal_lines`` row (its other columns ignored)."""
    return line_text(version, *_line_values(row))


def plain_lines(text: str, count: int) -> bool:
    """Whether ``text``, the database's version 2 lines of an entry of ``count`` lines joined by ``SEPARATOR``, is
    ``count`` plain lines: exactly five ``|`` in each (the SQL writes five, a field holding one adds more) and no
    ``SEPARATOR`` but between lines. Only then can it equal the lines' ``line_text``; otherwise the entry is hashed
    from its stored values."""
    return text.count("|") == 5 * count and text.count(SEPARATOR) == count - 1


def _amount_sql_v1(column: str, currency: str, currencies: Iterable[str], dialect: str) -> str:
    """SQL of version 1's ``chain_amount`` over a stored amount ``column`` in ``currency`` (a column too); a
    currency outside ``currencies``, or a negative amount on SQLite, gives ``FALLBACK``."""
    by_digits: dict[int, list[str]] = defaultdict(list)
    for code in currencies:
        by_digits[minor_unit(code)].append(code)
    if dialect != "sqlite":
        digits = " ".join(f"WHEN {_sql_quote(c)} THEN {d}" for d, codes in by_digits.items() for c in codes)
        places = f"(CASE {currency} {digits} END)" if digits else "NULL"
        return (
            f"(CASE WHEN {column} = 0 THEN '0' WHEN {places} IS NULL THEN chr(30) "
            f"WHEN {column} = round({column}, {places}) THEN round({column}, {places})::text ELSE {column}::text END)"
        )
    # SQLite: integer ten-thousandths, formatted without a round trip through floating point.
    whens = [f"WHEN {column} = 0 THEN '0'", f"WHEN {column} < 0 THEN char(30)"]
    for d, codes in sorted(by_digits.items()):
        step = 10 ** (SCALE - d)
        text = (
            f"printf('%d', {column} / 10000)"
            if d == 0
            else f"printf('%d.%0{d}d', {column} / 10000, {column} / {step} % {10**d})"
        )
        whens.append(f"WHEN {currency} IN {_sql_in(codes)} AND {column} % {step} = 0 THEN {text}")
    known = [c for codes in by_digits.values() for c in codes]
    whens.append(f"WHEN {currency} IN {_sql_in(known)} THEN printf('%d.%04d', {column} / 10000, {column} % 10000)")
    return f"(CASE {' '.join(whens)} ELSE char(30) END)"


def line_sql(version: int, dialect: str, currencies: Iterable[str], line: str = "l") -> str:
    """SQL giving ``line_text`` of each journal line (table alias ``line``), or text holding ``FALLBACK`` where it
    cannot. ``currencies``: those version 1 formats here (its amounts depend on the currency's minor unit)."""
    l = line  # noqa: E741
    if version == V1:
        currencies = sorted(set(currencies))
        debit = _amount_sql_v1(f"{l}.debit", f"{l}.currency", currencies, dialect)
        credit = _amount_sql_v1(f"{l}.credit", f"{l}.currency", currencies, dialect)
        text = f"{l}.accounting_code || '|' || {debit} || '|' || {credit} || '|' || coalesce({l}.item_id, '')"
        cents = [c for c in currencies if minor_unit(c) == 2]
        if dialect == "sqlite" and cents:
            # The common line (one side, a whole number of cents) in one printf: the general form costs the pass
            # much more (bench/README.md).
            one_side = f"CASE WHEN {l}.currency IN {{}} AND {l}.{{}} = 0 AND {l}.{{}} > 0 AND {l}.{{}} % 100 = 0 "
            one_side += "THEN printf('{}', "
            text = (
                one_side.format(_sql_in(cents), "credit", "debit", "debit", "%s|%d.%02d|0|%s")
                + f"{l}.accounting_code, {l}.debit / 10000, {l}.debit / 100 % 100, coalesce({l}.item_id, '')) "
                + one_side.format(_sql_in(cents), "debit", "credit", "credit", "%s|0|%d.%02d|%s").removeprefix("CASE ")
                + f"{l}.accounting_code, {l}.credit / 10000, {l}.credit / 100 % 100, coalesce({l}.item_id, '')) "
                + f"ELSE {text} END"
            )
        return text
    # Version 2, plain form (``line_text``), for every line whatever its fields hold: ``plain_lines`` tells the
    # caller when that cannot be the canonical text. Amounts in ten-thousandths: SQLite's stored integer as it is
    # (a float or text a hand stored prints as itself), PostgreSQL's NUMERIC(24, 4) shifted by four places.
    item = f"coalesce('/' || {l}.item_id, '')"
    if dialect == "sqlite":
        return (
            f"printf('%s|%s|%s|%s|%s|%s', {l}.line_no, {l}.accounting_code, {l}.debit, {l}.credit, {l}.currency, "
            f"{item})"
        )
    return (
        f"{l}.line_no || '|' || {l}.accounting_code || '|' || trunc({l}.debit * 10000) || '|' || "
        f"trunc({l}.credit * 10000) || '|' || {l}.currency || '|' || {item}"
    )


# --- the fingerprint of a closed period -------------------------------------------------------------------------


def posting_text(date: dt.date, entry_id: str, account: str, amount: Decimal, currency: str) -> str:
    """One posting of a closed period, canonically (SQL: ``posting_amount_sql`` in ``postings_sql``): the amount is
    debit minus credit, normalized (``100.00`` and ``100`` agree)."""
    return f"{date.isoformat()}|{entry_id}|{account}|{amount.normalize():f}|{currency}"


def posting_amount_sql(value: str, dialect: str) -> str:
    """SQL of ``posting_text``'s amount: the stored debit-minus-credit ``value`` normalized (SQLite stores
    ten-thousandths as integers, formatted and trimmed here; PostgreSQL's ``trim_scale`` normalizes the NUMERIC)."""
    if dialect == "sqlite":
        return (
            f"CASE WHEN {value} = 0 THEN '0' ELSE (CASE WHEN {value} < 0 THEN '-' ELSE '' END) || "
            f"rtrim(rtrim(printf('%d.%04d', abs({value}) / 10000, abs({value}) % 10000), '0'), '.') END"
        )
    return f"trim_scale({value})::text"


def postings_sql(dialect: str) -> str:
    """The ``posting_text`` of each journal line dated from :start to :end, built by the database and sorted there in
    byte order (what ``sorted`` does in Python): the entry id ``ACCOUNT-SEQ``, the accounting code's Beancount
    account, debit minus credit normalized."""
    amount = posting_amount_sql("x.v", dialect)
    if dialect == "sqlite":
        # CROSS JOIN makes SQLite read the period's entries first and look their lines up, not the other way round.
        day, seq, join, order = "e.entry_date", "e.seq", "CROSS JOIN", "posting"
    else:
        day, seq, join, order = "to_char(e.entry_date, 'YYYY-MM-DD')", "e.seq::text", "JOIN", 'posting COLLATE "C"'
    return (
        f"SELECT posting FROM (SELECT {day} || '|' || e.account_number || '-' || {seq} || '|' || c.account || '|' "
        f"|| {amount} || '|' || x.currency AS posting FROM journal_entries e {join} "
        "(SELECT account_number, entry_seq, accounting_code, debit - credit AS v, currency FROM journal_lines) x "
        "ON x.account_number = e.account_number AND x.entry_seq = e.seq "
        "JOIN accounting_codes c ON c.name = x.accounting_code "
        f"WHERE e.entry_date >= :start AND e.entry_date <= :end) postings ORDER BY {order}"
    )


# --- printed amounts --------------------------------------------------------------------------------------------


def amount_text(amount: Decimal, currency: str) -> str:
    """An amount as printed everywhere money leaves the package: ``money.fmt`` (quantized, never ``-0.00``)."""
    return fmt(amount, currency)


def driver_amount_text(dialect: str, currency: str) -> Callable[[Any], str]:
    """``amount_text`` of an amount in ``currency`` as the ``dialect``'s driver returns it from a money column.

    On SQLite an amount that is a whole number of the currency's minor units (every posted amount is) is printed
    from the stored integer alone, without a ``Decimal`` (the ledger export prints a million of them); anything
    else goes through ``Decimal``."""
    decode = decoder(dialect)
    q = quantum(currency)

    def exact(value: Any) -> str:
        return str(decode(value).quantize(q) + ZERO)

    digits = minor_unit(currency)
    if dialect != "sqlite" or digits > SCALE:
        return exact
    step = 10 ** (SCALE - digits)

    def text(value: Any) -> str:
        if type(value) is not int or value % step:
            return exact(value)
        units = value // step
        whole = str(-units if units < 0 else units)
        if digits:
            whole = whole.rjust(digits + 1, "0")
            whole = f"{whole[:-digits]}.{whole[-digits:]}"
        return f"-{whole}" if units < 0 else whole

    return text
