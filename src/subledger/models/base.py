"""Field types shared by every model: exact decimals, ISO dates, and the camelCase wire names."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from subledger.money import parse_decimal, shown

#: YYYY-MM-DD in ASCII digits: Python 3.11's ``date.fromisoformat`` also reads 2026-W41-1 and 20261005.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch


def iso_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD, and only so (a ``ValueError`` otherwise)."""
    if _ISO_DATE(text) is not None:
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(text)
    if len(text) == 10:
        raise ValueError(f"{text!r} is not a valid date (YYYY-MM-DD)")
    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")


def _parse_date(value: object) -> dt.date:
    if isinstance(value, str):  # the common case first
        return iso_date(value)
    if isinstance(value, dt.datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a timestamp")
    if isinstance(value, dt.date):
        return value
    raise ValueError(f"{shown(value)} is not a date (YYYY-MM-DD)")


def _decimal_str(value: Decimal) -> str:
    return str(value)


#: Money as it arrives: a decimal string, an int, or a JSON number read as a Decimal (``models.jsonio``), never a
#: float; precision is checked against the currency by the document or request that knows the currency.
Amount = Annotated[
    Decimal, BeforeValidator(parse_decimal), PlainSerializer(_decimal_str, return_type=str, when_used="json")
]


def _positive(amount: Decimal) -> Decimal:
    if amount <= 0:
        raise ValueError(f"must be positive, not {amount}")
    return amount


#: Money that must be more than zero (a refund, a recovery): checked on the field, so that a refusal names it.
PositiveAmount = Annotated[Amount, AfterValidator(_positive)]


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


#: Items per list of one request (write-off items and their taxation items, the invoices and debit memos of an
#: application and their items, refund and recovery items): the reference product's documented limit for the
#: invoices, debit memos and items of an application ("the maximum number ... is 1,000"), used for every list of
#: a request it states none for. A longer list is refused before any work (category 70, ``errors.TOO_MANY_ITEMS``).
MAX_ITEMS = 1000


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


class OneOf(Model):
    """A part of a request that names what it acts on by exactly one of the fields ``ONE_OF`` (ids or numbers):
    refused otherwise, with the fields as the wire names them; ``given`` is the one given."""

    ONE_OF: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _exactly_one(self) -> OneOf:
        if sum(getattr(self, name) is not None for name in self.ONE_OF) != 1:
            names = [type(self).model_fields[name].alias or name for name in self.ONE_OF]
            raise ValueError(f"give exactly one of {' and '.join(names) if len(names) == 2 else ', '.join(names)}")
        return self

    @property
    def given(self) -> str:
        return str(next(value for name in self.ONE_OF if (value := getattr(self, name)) is not None))


def items_sum_to(total: Decimal, items: Sequence[Any], field: str = "amount") -> None:
    """Refuse items (each with an ``amount``) that do not add up to the ``total`` given as ``field``."""
    if items and sum((i.amount for i in items), Decimal(0)) != total:
        raise ValueError(f"{field} {total} is not the sum of its items")


def listed_once(ids: Sequence[str], what: str) -> None:
    """Refuse a request listing one line (``what``) twice in its items."""
    if len(set(ids)) != len(ids):
        raise ValueError(f"{what} is listed more than once in items")


class OutputModel(BaseModel):
    """Base of output models: camelCase on the wire, extra fields forbidden."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


#: The identifier rule: every document number, customer account number, payment number and item id. They become
#: Beancount links (``^INV00000001``, whose lexer takes only ``[A-Za-z0-9-_/.]``), ledger metadata, GL file cells
#: and file names; a narrow character set is what keeps every output parseable whatever the input (no quote,
#: space, newline, backslash, control or bidirectional character, and no leading ``= + - @`` a spreadsheet would
#: run as a formula). Free text (names, comments, descriptions) is not restricted: each output escapes it.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
IDENTIFIER_RULE = "must be letters, digits and . _ / - only, starting with a letter or digit"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN).fullmatch  # not match: "$" also matches before a final newline


def is_identifier(value: str) -> bool:
    return _IDENTIFIER(value) is not None


def _identifier(value: str) -> str:
    if _IDENTIFIER(value) is None:
        raise ValueError(f"{value!r} {IDENTIFIER_RULE}")
    return value


#: The longest identifier the books keep: the length of every number and item id column.
ID_LENGTH = 64

#: A document number, account number or item id (at most 64 characters, the columns' length).
Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=ID_LENGTH),
    AfterValidator(_identifier),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": ID_LENGTH, "pattern": IDENTIFIER_PATTERN}),
]


def fitted(identifier: str, *, room: int = 0) -> str:
    """An identifier the books build from another (``WO-`` and a document's number, a memo's number and ``-3``),
    made to fit, with ``room`` characters to spare, in the columns every identifier shares: as it is when it fits,
    else its head, ``.`` and the first 12 hex digits of its SHA-256, in exactly ``ID_LENGTH - room`` characters.

    A number may take all 64 characters, so what is built from it may not fit; the digest of the whole keeps two
    such identifiers apart (they differ only past the head), and the head keeps it readable. The result is an
    identifier (``.`` is one of its characters), so a request can name it as any other."""
    limit = ID_LENGTH - room
    if len(identifier) <= limit:
        return identifier
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:12]
    return f"{identifier[: limit - len(digest) - 1]}.{digest}"


#: Room a shortened prefix keeps for its counter: ``-`` and six digits.
COUNTER_ROOM = 7


def counted(prefix: str, counter: int) -> str:
    """The ``counter``-th identifier the books number under ``prefix`` (``RF-CM00000001-2``): under the prefix
    made to fit (``fitted``) when the plain one would not."""
    number = f"{prefix}-{counter}"
    return number if len(number) <= ID_LENGTH else f"{fitted(prefix, room=COUNTER_ROOM)}-{counter}"


#: Names, as long as the columns that keep them.
Name = Annotated[str, StringConstraints(max_length=255)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Short = Annotated[str, StringConstraints(max_length=64)]
