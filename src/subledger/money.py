"""Money: ``Decimal`` quantized to the currency's minor unit, end to end.

No float ever reaches an amount: parsing refuses floats, NaN and infinity, and refuses more decimals than the
currency has (a write-off of 13.125 USD is an error, not a rounding).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import get_currency_precision

ZERO = Decimal(0)


#: Digits before the decimal point that every stored amount and decimal can hold (NUMERIC(24, 4)).
MAX_INTEGER_DIGITS = 20


@lru_cache(maxsize=256)
def minor_unit(currency: str) -> int:
    """Number of decimals of a currency's minor unit (USD 2, JPY 0, BHD 3), from CLDR via babel."""
    return int(get_currency_precision(currency))


@lru_cache(maxsize=256)
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def parse_decimal(value: object) -> Decimal:
    """A finite Decimal from a decimal string, an int or a Decimal; floats are refused outright."""
    if isinstance(value, bool):
        raise ValueError(f'must be a decimal string (e.g. "12.50"), not {str(value).lower()}')
    if isinstance(value, float):
        raise ValueError('must be a decimal string (e.g. "12.50"), not a JSON number with a fraction')
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text or text != value:
            raise ValueError(f"{value!r} is not a decimal number")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
    else:
        raise ValueError(f"{value!r} is not a decimal number")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if result and result.adjusted() >= MAX_INTEGER_DIGITS:
        # The columns hold NUMERIC(24, 4): a larger number would crash the insert (or quantize) instead.
        raise ValueError(f"{value!r} is too large (at most {MAX_INTEGER_DIGITS} digits before the decimal point)")
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
