"""Column types that keep money exact on every engine.

PostgreSQL stores money as NUMERIC(24, 4). SQLite has no exact decimal (NUMERIC columns become floats), so there
money is an INTEGER count of ten-thousandths: sums and comparisons in SQL stay exact on both engines.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = 4
#: Multiplying by 1E4 shifts the exponent only (a coefficient of one digit), so no digit is added or rounded.
_TEN_THOUSANDTHS = Decimal(1).scaleb(SCALE)


class Money(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(24, SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else (to_scaled if dialect.name == "sqlite" else to_decimal)(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return from_scaled(value) if dialect.name == "sqlite" else Decimal(value)

    # Core calls these once per column and dialect and then the function they return once per value: bulk writes
    # bind hundreds of thousands of amounts and the export reads a million, so the dialect is settled here, once,
    # rather than in ``process_bind_param`` / ``process_result_value`` for every value.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        convert = to_scaled if dialect.name == "sqlite" else to_decimal
        inner = self.impl_instance.bind_processor(dialect)
        if inner is None:
            return lambda value: None if value is None else convert(value)
        return lambda value: inner(None if value is None else convert(value))

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Decimal | None] | None:
        convert = from_scaled if dialect.name == "sqlite" else Decimal
        inner = self.impl_instance.result_processor(dialect, coltype)
        if inner is None:
            return lambda value: None if value is None else convert(value)
        return lambda value: None if (raw := inner(value)) is None else convert(raw)


def to_decimal(value: Any) -> Decimal:
    """A money value as bound: a ``Decimal`` (or an ``int``); anything else (a float, a bool) is a bug."""
    if type(value) is Decimal:  # the common case first
        return value
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"money must be Decimal or int, got {type(value).__name__}")
    return Decimal(value)


def to_scaled(value: Any) -> int:
    """A money value as SQLite stores it: the integer count of ten-thousandths, refused if it has more decimals."""
    whole, denominator = (to_decimal(value) * _TEN_THOUSANDTHS).as_integer_ratio()
    if denominator != 1:
        raise ValueError(f"{value} has more than {SCALE} decimals")
    return whole


def from_scaled(value: Any) -> Decimal:
    """A stored SQLite integer count of ten-thousandths as the exact ``Decimal``. Anything else a hand could have
    stored there (a float, text) is read as it is, never truncated to an integer, so that it shows."""
    if type(value) is int:
        return Decimal(value).scaleb(-SCALE)
    return Decimal(str(value)).scaleb(-SCALE)


def decoder(dialect: str) -> Callable[[Any], Decimal]:
    """The ``Decimal`` of a money column's value as the ``dialect``'s driver returns it (read without SQLAlchemy's
    type processing, ``storage.cursor``): SQLite's integer ten-thousandths, PostgreSQL's NUMERIC (or its text)."""
    return from_scaled if dialect == "sqlite" else Decimal


def raw_zero(dialect: str) -> int | Decimal:
    """Zero as the ``dialect``'s driver returns a money column's zero (to test a raw value without decoding it)."""
    return 0 if dialect == "sqlite" else Decimal(0)


def raw_money_sql(column: str, dialect: str) -> str:
    """A money column selected for ``decoder``: SQLite's integer as it is, PostgreSQL's NUMERIC as its text (which
    the driver hands over without building a ``Decimal`` of its own)."""
    return column if dialect == "sqlite" else f"{column}::text"
