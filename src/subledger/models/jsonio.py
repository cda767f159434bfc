"""Reading JSON from the outside world: the one place a load file, a request body or any other JSON input is parsed.

The standard library's parser and pydantic's both keep the last of two equal keys without a word (a load file
with two ``"invoices"`` arrays would load only the second), accept any encoding the bytes happen to decode in, and
end on a ``RecursionError`` for deeply nested arrays. Here each of these is a refusal in one line:

- a duplicated key anywhere is refused, named with its JSONPath (``duplicate key 'memoDate' at $.memoDate``);
- the text must be UTF-8 (a byte-order mark is allowed and ignored);
- nesting deeper than Python can parse is refused, as is anything else that is not JSON, with its line and column.

``read_json`` parses a whole (small) input; ``subledger.models.loadstream`` reads a load file record by record
with the same rules.
"""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from subledger.errors import InvalidInput

#: Where a JSON value sits, in JSONPath (``$.invoices[3].items[0]``).
JsonPath = str


class _Duplicated(dict[str, Any]):
    """An object in which a key appeared twice (the first such key kept in ``duplicate``)."""

    duplicate: str


class _Pairs:
    """``object_pairs_hook`` that notices duplicated keys without slowing down the common case."""

    def __init__(self) -> None:
        self.found = False

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        self.found = True
        seen: set[str] = set()
        marked = _Duplicated(obj)
        for key, _ in pairs:
            if key in seen:
                marked.duplicate = key
                break
            seen.add(key)
        return marked


def key_path(base: JsonPath, key: str) -> JsonPath:
    if key.isidentifier():
        return f"{base}.{key}"
    return f"{base}[{json.dumps(key, ensure_ascii=False)}]"


def _first_duplicate(value: Any, path: JsonPath) -> tuple[str, JsonPath] | None:
    """The first duplicated key in document order, and where it is; walked only once one is known to exist."""
    stack: list[tuple[Any, JsonPath]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, _Duplicated):
            return node.duplicate, key_path(where, node.duplicate)
        if isinstance(node, dict):
            stack.extend((v, key_path(where, k)) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(node))))
    return None


class JsonReader:
    """One parser with the duplicate-key hook; ``decode`` parses a value at a position of a text."""

    def __init__(self) -> None:
        self._pairs = _Pairs()
        # A JSON number with a fraction is read as the Decimal of its text, never through a float: 10.05 is
        # exactly 10.05, as the reference product's clients (BigDecimal, decimal) mean it.
        self._decoder = json.JSONDecoder(object_pairs_hook=self._pairs, parse_float=Decimal)

    def decode(self, text: str, pos: int = 0) -> tuple[Any, int]:
        """The value starting at ``pos`` (no leading whitespace) and where it ends; ``json.JSONDecodeError`` or
        ``RecursionError`` as the standard parser raises them."""
        self._pairs.found = False
        return self._decoder.raw_decode(text, pos)

    def check_duplicates(self, value: Any, path: JsonPath, *, document: str | None, what: str) -> None:
        """Refuse ``value`` (just decoded) if an object in it repeats a key."""
        if not self._pairs.found:
            return
        found = _first_duplicate(value, path)
        if found is not None:
            key, where = found
            raise InvalidInput(f"duplicate key {key!r} in {what} at {where}", document=document)


def _first_nul(value: Any, path: JsonPath) -> JsonPath | None:
    stack: list[tuple[Any, JsonPath]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return where
        elif isinstance(node, dict):
            for k, v in reversed(list(node.items())):
                if "\x00" in k:
                    return key_path(where, k)
                stack.append((v, key_path(where, k)))
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(node))))
    return None


def refuse_nul(value: Any, path: JsonPath = "$", *, document: str | None, what: str, text: str | None = None) -> None:
    """Refuse a NUL character in any string: PostgreSQL cannot store one in text, and no document needs one.

    ``text``, the JSON the value was parsed from, makes the common case a substring search (JSON writes NUL as
    ``\\u0000``)."""
    if text is not None and "\\u0000" not in text:
        return
    where = _first_nul(value, path)
    if where is not None:
        raise InvalidInput(f"text in {what} at {where} contains a NUL character", document=document)


def where_at(message: str) -> str:
    """The parser's message ready for " line L column C" ("Unterminated string starting at" ends in "at")."""
    return message if message.endswith(" at") else f"{message} at"


def too_many_digits() -> str:
    """Why an integer Python will not convert is refused: in JSON's terms, not the interpreter's advice."""
    return f"an integer of more than {sys.get_int_max_str_digits()} digits"


def malformed(
    exc: json.JSONDecodeError | RecursionError, *, document: str | None, line_offset: int = 0
) -> InvalidInput:
    if isinstance(exc, RecursionError):
        return InvalidInput("malformed JSON: nested too deeply", document=document)
    return InvalidInput(
        f"malformed JSON: {where_at(exc.msg)} line {exc.lineno + line_offset} column {exc.colno}", document=document
    )


def not_utf8(exc: UnicodeDecodeError, *, document: str | None, offset: int = 0) -> InvalidInput:
    byte = exc.object[exc.start]
    return InvalidInput(f"not UTF-8 text: byte 0x{byte:02x} at offset {offset + exc.start}", document=document)


def decode_text(raw: bytes | str, *, document: str | None) -> str:
    """UTF-8 text from bytes (a leading byte-order mark dropped)."""
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise not_utf8(exc, document=document) from None


#: The most a pipe or device (``<(curl ...)``, ``/dev/stdin``) may give: it is read whole into memory, being
#: readable once, and one that never ends (``/dev/zero``) must not hang the command or fill the memory.
MAX_STREAM = 64 << 20


def is_stream(path: Path) -> bool:
    """A path that exists and is neither a regular file nor a directory: a pipe, a device, a socket."""
    return path.exists() and not path.is_file() and not path.is_dir()


def read_bytes(path: Path, *, document: str | None) -> bytes:
    try:
        if is_stream(path):
            with path.open("rb") as stream:
                raw = stream.read(MAX_STREAM + 1)
            if len(raw) > MAX_STREAM:
                raise InvalidInput(
                    f"{path} is a pipe or device giving more than {MAX_STREAM >> 20} MB: save it to a file and give "
                    "that",
                    document=document,
                )
            return raw
        return path.read_bytes()
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not a JSON file", document=document) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", document=document) from None


def read_json(source: Path | bytes | str, *, what: str = "input", document: str | None = None) -> Any:
    """Parse one whole JSON input (a file, its bytes or text) under the rules above.

    ``what`` names the input in a duplicate-key refusal ("write-off body"); ``document`` is the document the
    refusal is about, if any.
    """
    raw = read_bytes(source, document=document) if isinstance(source, Path) else source
    text = decode_text(raw, document=document)
    reader = JsonReader()
    start = skip_space(text, 0)
    if start == len(text):
        raise InvalidInput("malformed JSON: the input is empty", document=document)
    try:
        value, end = reader.decode(text, start)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise malformed(exc, document=document) from None
    except ValueError:  # an integer of more digits than Python converts
        raise InvalidInput(f"malformed JSON: {too_many_digits()}", document=document) from None
    end = skip_space(text, end)
    if end != len(text):
        error = json.JSONDecodeError("Extra data", text, end)
        raise malformed(error, document=document)
    reader.check_duplicates(value, "$", document=document, what=what)
    refuse_nul(value, document=document, what=what, text=text)
    return value


def read_object(source: Path | bytes | str, *, what: str, document: str | None = None) -> dict[str, Any]:
    """``read_json`` for an input that must be a JSON object (every request body and load file)."""
    value = read_json(source, what=what, document=document)
    if not isinstance(value, dict):
        raise InvalidInput(f"the {what} must be a JSON object", document=document)
    return value


_SPACE = re.compile(r"[ \t\n\r]*")


def skip_space(text: str, pos: int) -> int:
    """The first position at or after ``pos`` that is not JSON whitespace."""
    match = _SPACE.match(text, pos)
    return pos if match is None else match.end()
