"""Field types shared by every model: exact decimals, ISO dates, and the camelCase wire names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer, StringConstraints
from pydantic.alias_generators import to_camel

from subledger.money import parse_decimal


def _parse_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a timestamp")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a valid date (YYYY-MM-DD)") from None
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")


def _decimal_str(value: Decimal) -> str:
    return str(value)


#: Money as it arrives: a decimal string or an int, never a float; precision is checked against the currency
#: by the document or request that knows the currency.
Amount = Annotated[
    Decimal, BeforeValidator(parse_decimal), PlainSerializer(_decimal_str, return_type=str, when_used="json")
]


def _short_decimal(value: Decimal) -> Decimal:
    if len(str(value)) > 40:
        raise ValueError(f"{value} is longer than 40 characters")
    return value


#: A non-money decimal (quantity, unit price, tax rate): exact, printed as given.
DecimalText = Annotated[
    Decimal,
    BeforeValidator(parse_decimal),
    AfterValidator(_short_decimal),
    PlainSerializer(_decimal_str, return_type=str, when_used="json"),
]
#: A calendar date in ISO form.
Date = Annotated[
    dt.date,
    BeforeValidator(_parse_date),
    PlainSerializer(dt.date.isoformat, return_type=str, when_used="json"),
]


class Model(BaseModel):
    """Base of every input model: camelCase names on the wire, unknown fields refused, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=False,
        validate_default=False,
    )

    def wire(self) -> dict[str, Any]:
        """The model as the reference product's JSON (camelCase, decimals as strings, unset fields omitted)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class OutputModel(BaseModel):
    """Base of output models: camelCase on the wire, extra fields forbidden."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


#: Identifiers and names, as long as the columns that keep them.
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(max_length=255)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Short = Annotated[str, StringConstraints(max_length=64)]
