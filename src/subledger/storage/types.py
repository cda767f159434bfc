"""Column types that keep money exact on every engine.

PostgreSQL stores money as NUMERIC(24, 4). SQLite has no exact decimal (NUMERIC columns become floats), so there
money is an INTEGER count of ten-thousandths: sums and comparisons in SQL stay exact on both engines.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = 4


class Money(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(24, SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if type(value) is not Decimal:  # the common case first: bulk writes bind hundreds of thousands of amounts
            if isinstance(value, bool) or not isinstance(value, Decimal | int):
                raise TypeError(f"money must be Decimal or int, got {type(value).__name__}")
            value = Decimal(value)
        if dialect.name != "sqlite":
            return value
        scaled = value.scaleb(SCALE)
        whole = int(scaled)
        if whole != scaled:
            raise ValueError(f"{value} has more than {SCALE} decimals")
        return whole

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-SCALE)
        return Decimal(value)
