"""Money: ``Decimal`` quantized to the currency's minor unit, end to end.

No float ever reaches an amount: parsing refuses floats, NaN and infinity, and refuses more decimals than the
currency has (a write-off of 13.125 USD is an error, not a rounding).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import get_currency_precision

ZERO = Decimal(0)


#: Digits before the decimal point of any amount or decimal the input accepts: at most 999,999,999,999.9999.
#: The columns hold 20 (NUMERIC(24, 4)) and SQLite a 64-bit count of ten-thousandths (922 trillion); twelve leave
#: room for the sums: a document's lines, an account's balance. Sums in Python stay exact too (``Decimal``'s 28
#: digits hold 24 integer digits with 4 decimals).
MAX_INTEGER_DIGITS = 12
#: The most a SQLite book may hold in journal debits over its whole life (``storage.limits``): every sum a
#: command computes is a sum of posted amounts, and twice this (debits and credits together) still fits SQLite's
#: 64-bit ``sum()`` of ten-thousandths (9.2e18). PostgreSQL sums NUMERIC without such a bound.
SQLITE_BOOK_LIMIT = Decimal(4 * 10**14)


@lru_cache(maxsize=256)
def minor_unit(currency: str) -> int:
    """Number of decimals of a currency's minor unit (USD 2, JPY 0, BHD 3), from CLDR via babel."""
    return int(get_currency_precision(currency))


@lru_cache(maxsize=256)
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def shown(value: object) -> str:
    """A value of the input as a refusal quotes it: text in quotes, anything else as JSON wrote it (``1.5``,
    ``true``, ``null``), never Python's spelling (``Decimal('1.5')``, ``True``, ``None``)."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def parse_decimal(value: object) -> Decimal:
    """A finite Decimal from a decimal string, an int or a Decimal (a JSON number is read as one); floats are
    refused outright."""
    if isinstance(value, bool):
        raise ValueError(f'must be a decimal string (e.g. "12.50"), not {str(value).lower()}')
    if isinstance(value, float):
        # JSON numbers arrive as Decimal (models.jsonio); a float here is NaN, Infinity or a Python caller's.
        raise ValueError(f'must be a decimal number (e.g. 12.50 or "12.50"), not the float {value!r}')
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        # Decimal() also reads 1_000 and digits of other scripts (١٠٠, １００): a billing system writes neither.
        if not text or text != value or not text.isascii() or "_" in text:
            raise ValueError(f"{shown(value)} is not a decimal number")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{shown(value)} is not a decimal number") from None
    else:
        raise ValueError(f"{shown(value)} is not a decimal number")
    if not result.is_finite():
        raise ValueError(f"{shown(value)} is not a finite number")
    if result and result.adjusted() >= MAX_INTEGER_DIGITS:
        # Larger numbers would overflow the sums on SQLite (and a column or a quantize, beyond 20 digits).
        raise ValueError(f"{shown(value)} is too large (at most {MAX_INTEGER_DIGITS} digits before the decimal point)")
    return result


def is_exact_for(amount: Decimal, currency: str) -> bool:
    """True when ``amount`` has no more decimals than the currency's minor unit allows."""
    return amount == amount.quantize(quantum(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Quantize an amount already known to be exact (see ``is_exact_for``) to the minor unit."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_EVEN)


def fmt(amount: Decimal, currency: str) -> str:
    """The decimal string printed everywhere money leaves the package (never ``-0.00``)."""
    return str(quantize(amount, currency) + ZERO)


def ratio_split(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` so that the parts add back to the total exactly.

    Largest remainder: each part is rounded down to the minor unit, and the leftover minor units go to the
    parts with the largest remainders (ties to the earliest), so a proration never loses or invents a cent.
    """
    q = quantum(currency)
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        return [ZERO for _ in weights]
    raw = [total * w / weight_sum for w in weights]
    floors = [(r / q).to_integral_value(rounding="ROUND_FLOOR") * q for r in raw]
    leftover = int(((total - sum(floors, ZERO)) / q).to_integral_value())
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += q
    return [quantize(f, currency) for f in floors]
