"""Turning pydantic's validation errors into problems that name the document, the field and the rule."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from subledger.errors import Problem
from subledger.models.base import is_identifier

_NUMBER_KEYS = ("invoiceNumber", "number", "accountNumber")


def _document_at(raw: Any, loc: tuple[int | str, ...]) -> tuple[str | None, tuple[int | str, ...]]:
    """Find the document a location points into (``invoices[3]`` -> its number) and the rest of the path."""
    if len(loc) >= 2 and isinstance(raw, dict) and isinstance(loc[1], int):
        items = raw.get(str(loc[0]))
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            doc = items[loc[1]]
            for key in _NUMBER_KEYS:
                number = doc.get(key)
                if isinstance(number, str):
                    if is_identifier(number):
                        return number, loc[2:]
                    break  # a number that breaks the rule does not name the document: its place in the file does
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


def validation_problems(exc: ValidationError, raw: Any, *, document: str | None = None) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        doc, rest = _document_at(raw, loc)
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "list_type":
            message = "Input should be a valid array"  # JSON's word: input is parsed before it is validated
        elif err["type"] in ("dict_type", "model_type", "model_attributes_type"):
            message = "Input should be an object"
        problems.append(Problem(doc or document, _path(rest) or None, message))
    return problems
