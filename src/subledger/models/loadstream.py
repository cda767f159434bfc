"""A load file read record by record, in bounded memory, under the rules of ``models.jsonio``.

A load file is one JSON object of up to five arrays (``accounts``, ``invoices``, ``debitMemos``, ``creditMemos``,
``payments``). Read whole, a large file took many times its size in memory (figures: ``bench/README.md``); here the
file is read a megabyte at a time and each record is parsed on its own (the standard parser on the record's text),
so memory is one chunk and one record whatever the size of the file. The top level is scanned by hand: a duplicated
section, an unknown key, or anything malformed is refused as soon as it is read, with its line and column.

The file is read once: the load spools each record's canonical JSON while reading and loads from the spools
(``operations.load.read_load``). A file given as bytes or text is read the same way from memory; a dict or a
``LoadFile`` has its records already.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from subledger.errors import InvalidInput
from subledger.models.base import Model
from subledger.models.documents import CreditMemo, CustomerAccount, DebitMemo, Invoice, LoadFile, Payment
from subledger.models.jsonio import (
    JsonReader,
    is_stream,
    key_path,
    malformed,
    not_utf8,
    read_bytes,
    refuse_nul,
    skip_space,
    too_many_digits,
    where_at,
)

#: Each section of a load file (its JSON name) and the model of its records, in the order they are loaded.
SECTIONS: dict[str, type[Model]] = {
    "accounts": CustomerAccount,
    "invoices": Invoice,
    "debitMemos": DebitMemo,
    "creditMemos": CreditMemo,
    "payments": Payment,
}
#: The Python names pydantic also accepted for them (``populate_by_name``).
_NAMES = {
    **{key: key for key in SECTIONS},
    **{name: (info.alias or name) for name, info in LoadFile.model_fields.items()},
}
#: How much of the file is read at a time, and the largest record (in characters) read before it is refused.
CHUNK = 1 << 20
MAX_RECORD = 16 << 20
WHAT = "load file"


@dataclass(frozen=True)
class Item:
    """What a pass over the file meets: a record of a section, or a top-level key that is not a section's array."""

    key: str
    index: int | None
    value: Any


class _Text:
    """A UTF-8 stream read forward a chunk at a time: the text not yet consumed, and where it sits in the file."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.byte, self.line, self.column = 0, 1, 1
        self.read = 0
        self.eof = False
        self.reader = JsonReader()
        while len(self.buf) < 1 and self.more():  # a chunk can end inside the byte-order mark
            pass
        if self.buf.startswith("\ufeff"):
            self.buf = self.buf[1:]
            self.byte += 3

    def more(self) -> bool:
        """Read the next chunk (dropping what was consumed); False at the end of the file."""
        if self.eof:
            return False
        if self.pos:
            dropped = self.buf[: self.pos]
            self.byte += len(dropped.encode())
            newlines = dropped.count("\n")
            if newlines:
                self.line += newlines
                self.column = len(dropped) - dropped.rfind("\n")
            else:
                self.column += len(dropped)
            self.buf, self.pos = self.buf[self.pos :], 0
        data = self.stream.read(CHUNK)
        pending = len(self.decoder.getstate()[0])
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise not_utf8(exc, document=None, offset=self.read - pending) from None
        self.read += len(data)
        self.eof = not data
        self.buf += text
        return True

    def where(self, pos: int) -> tuple[int, int]:
        newlines = self.buf.count("\n", 0, pos)
        if not newlines:
            return self.line, self.column + pos
        return self.line + newlines, pos - self.buf.rfind("\n", 0, pos)

    def error(self, message: str, pos: int | None = None) -> InvalidInput:
        line, column = self.where(self.pos if pos is None else pos)
        return InvalidInput(f"malformed JSON: {message} at line {line} column {column}")

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file), not consumed."""
        while True:
            self.pos = skip_space(self.buf, self.pos)
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def value(self) -> tuple[Any, int, int]:
        """The JSON value at the current position, consumed, with where its text was in ``buf`` (start, end)."""
        while True:
            start = self.pos
            try:
                value, end = self.reader.decode(self.buf, start)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.buf) - 16 or exc.msg.startswith("Unterminated string")
                if cut and not self.eof:
                    self._grow(start)
                    continue
                line, column = self.where(exc.pos)
                raise InvalidInput(f"malformed JSON: {where_at(exc.msg)} line {line} column {column}") from None
            except RecursionError as exc:
                raise malformed(exc, document=None) from None
            except ValueError:  # an integer of more digits than Python converts
                raise self.error(too_many_digits()) from None
            if end >= len(self.buf) and not self.eof:  # a number may go on in the next chunk
                self._grow(start)
                continue
            self.pos = end
            return value, start, end

    def _grow(self, start: int) -> None:
        if len(self.buf) - start >= MAX_RECORD:
            line, column = self.where(start)
            raise InvalidInput(
                f"a record of the load file is larger than {MAX_RECORD >> 20} MiB (at line {line} column {column})"
            )
        self.more()

    def expect(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise self.error(message)
        self.pos += 1

    def another(self, close: str) -> bool:
        """After a value of an array or object: whether another follows (a comma, consumed) or ``close`` ends it
        (consumed too)."""
        char = self.peek()
        if char == close:
            self.pos += 1
            return False
        if char != ",":
            raise self.error("Expecting ',' delimiter")
        self.pos += 1
        return True

    def elements(self, key: str) -> Iterator[Item]:
        """The records of the array at the current position (its ``[`` not yet consumed)."""
        self.expect("[", "Expecting value")
        if self.peek() == "]":
            self.pos += 1
            return
        index = 0
        while True:
            if self.peek() == "":
                raise self.error("Expecting value")
            value, start, end = self.value()
            where = f"$.{key}[{index}]"
            self.reader.check_duplicates(value, where, document=None, what=WHAT)
            if self.buf.find("\\u0000", start, end) >= 0:
                refuse_nul(value, where, document=None, what=WHAT)
            yield Item(key, index, value)
            if not self.another("]"):
                return
            index += 1


class LoadSource:
    """The records of a load file, read once."""

    def items(self) -> Iterator[Item]:
        """Every record in the order of the file, and each top-level key that is not a section's array."""
        raise NotImplementedError


class _FileSource(LoadSource):
    def __init__(self, open_stream: Any) -> None:
        self._open = open_stream

    def items(self) -> Iterator[Item]:
        with self._open() as stream:
            text = _Text(stream)
            first = text.peek()
            if first == "":
                raise InvalidInput("malformed JSON: the input is empty")
            if first != "{":
                try:
                    text.value()
                except InvalidInput as exc:
                    if "malformed JSON" in str(exc):
                        raise
                raise InvalidInput(f"the {WHAT} must be a JSON object")
            text.pos += 1
            if text.peek() == "}":
                text.pos += 1
            else:
                yield from self._members(text)
            if text.peek() != "":
                raise text.error("Extra data")

    def _members(self, text: _Text) -> Iterator[Item]:
        seen: set[str] = set()
        while True:
            if text.peek() != '"':
                raise text.error("Expecting property name enclosed in double quotes")
            raw_key, _, _ = text.value()
            key = _NAMES.get(raw_key, raw_key)
            if key in seen:
                raise InvalidInput(f"duplicate key {raw_key!r} in {WHAT} at {key_path('$', raw_key)}")
            seen.add(key)
            text.expect(":", "Expecting ':' delimiter")
            if text.peek() == "":
                raise text.error("Expecting value")
            if key in SECTIONS and text.peek() == "[":
                yield from text.elements(key)
            else:
                value, _, _ = text.value()
                text.reader.check_duplicates(value, key_path("$", raw_key), document=None, what=WHAT)
                yield Item(raw_key, None, value)
            if not text.another("}"):
                return


class _ObjectSource(LoadSource):
    """A load file given as a dict (or a validated ``LoadFile``): its records are in memory already."""

    def __init__(self, data: Any) -> None:
        if isinstance(data, LoadFile):
            data = {info.alias or name: getattr(data, name) for name, info in LoadFile.model_fields.items()}
        elif not isinstance(data, dict):
            raise InvalidInput(f"the {WHAT} must be a JSON object")
        else:
            refuse_nul(data, document=None, what=WHAT)
        self.data: dict[str, Any] = {}
        self.other: list[Item] = []
        for raw_key, value in data.items():
            key = _NAMES.get(raw_key, raw_key) if isinstance(raw_key, str) else raw_key
            if key in SECTIONS and isinstance(value, list | tuple):
                if key in self.data:
                    raise InvalidInput(f"duplicate key {raw_key!r} in {WHAT} at {key_path('$', raw_key)}")
                self.data[key] = value
            else:
                self.other.append(Item(str(raw_key), None, value))

    def items(self) -> Iterator[Item]:
        yield from self.other
        for key in SECTIONS:
            for index, value in enumerate(self.data.get(key, ())):
                yield Item(key, index, value)


def load_source(data: Any) -> LoadSource:
    """The records of a load file given as a path, JSON bytes or text, a dict or a ``LoadFile``."""
    if isinstance(data, Path):
        path = data
        if is_stream(path):
            # A pipe (``<(curl ...)``) can be read once: the two passes read what it gave, kept in memory. Read
            # from the pipe twice, the second pass found it empty ("the input is empty").
            given = read_bytes(path, document=None)
            return _FileSource(lambda: io.BytesIO(given))
        read_bytes_check(path)
        return _FileSource(lambda: path.open("rb"))
    if isinstance(data, str):
        data = data.encode()
    if isinstance(data, bytes):
        raw = data
        return _FileSource(lambda: io.BytesIO(raw))
    return _ObjectSource(data)


def read_bytes_check(path: Path) -> None:
    """A missing, unreadable or directory path refused in one line before any reading starts."""
    if path.is_dir() or not path.is_file():
        read_bytes(path, document=None)  # raises the one-line refusal
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
