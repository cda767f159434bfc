"""Turning pydantic's validation errors into problems that name the document, the field and the rule."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from subledger.errors import TOO_MANY_ITEMS, Problem
from subledger.models.base import is_identifier

_NUMBER_KEYS = ("invoiceNumber", "number", "accountNumber")


def _number_of(doc: Any) -> str | None:
    """A record's own number, if it has one that may name it (a number breaking the identifier rule may not)."""
    if not isinstance(doc, dict):
        return None
    for key in _NUMBER_KEYS:
        number = doc.get(key)
        if isinstance(number, str):
            return number if is_identifier(number) else None
    return None


def _document_at(raw: Any, loc: tuple[int | str, ...]) -> tuple[str | None, tuple[int | str, ...]]:
    """Find the document a location points into (``invoices[3]`` -> its number) and the rest of the path."""
    if len(loc) >= 2 and isinstance(raw, dict) and isinstance(loc[1], int):
        items = raw.get(str(loc[0]))
        if isinstance(items, list) and loc[1] < len(items):
            number = _number_of(items[loc[1]])
            if number is not None:
                return number, loc[2:]
        return f"{loc[0]}[{loc[1]}]", loc[2:]
    return None, loc


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(err: ErrorDetails) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown field"
    elif err["type"] == "list_type":
        message = "Input should be a valid array"  # JSON's word: input is parsed before it is validated
    elif err["type"] in ("dict_type", "model_type", "model_attributes_type"):
        message = "Input should be an object"
    elif err["type"] == "too_long":
        context = err.get("ctx", {})
        limit, given = context.get("max_length"), context.get("actual_length")
        message = f"{TOO_MANY_ITEMS}: at most {limit} per request, {given} given"
    return message


def validation_problems(exc: ValidationError, raw: Any, *, document: str | None = None) -> list[Problem]:
    """The problems of a request body; ``document`` is the one the request acts on (a write-off's invoice, an
    application's credit memo): a problem in one of the body's lists is then that document's, at its whole path
    (``INV00000002, items[0].amountWithoutTax``), as the operation's own refusals name it. Without one, a list's
    entry is named by its number (``_document_at``)."""
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        doc, rest = (None, loc) if document is not None else _document_at(raw, loc)
        problems.append(Problem(doc or document, _path(rest) or None, _message(err)))
    return problems


def record_problems(exc: ValidationError, record: Any, key: str, index: int) -> list[Problem]:
    """The problems of one record of a load file's section ``key``, named as in the whole file (its number, or
    ``invoices[3]``)."""
    document = _number_of(record) or f"{key}[{index}]"
    return [Problem(document, _path(tuple(err["loc"])) or None, _message(err)) for err in exc.errors()]
