"""The audit trail: every operation, accepted or refused, with who asked, when, what was asked and what came of it.

Accepted operations are the ``operations`` rows their own transaction wrote. A refused operation writes nothing to
the books (its transaction is rolled back, ``operations`` row included), so ``record_refusal`` writes it to
``audit_refusals`` in a transaction of its own, after the rollback. That table is append-only (database triggers).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Row, insert, select

from subledger.errors import SubledgerError
from subledger.models.base import OutputModel
from subledger.storage.db import write_transaction
from subledger.storage.schema import audit_refusals, operations

Outcome = Literal["accepted", "refused", "failed"]


class AuditRecord(OutputModel):
    outcome: Outcome
    id: int
    kind: str
    actor: str
    at: dt.datetime
    idempotency_key: str | None = None
    request_hash: str
    request: Any
    result: Any = None
    error_code: str | None = None
    error: str | None = None


def record_refusal(
    engine: Engine,
    *,
    kind: str,
    actor: str,
    request_json: str,
    idempotency_key: str | None,
    error: BaseException,
) -> None:
    """Record a refused (``SubledgerError``) or failed (any other error) operation, in its own transaction."""
    refused = isinstance(error, SubledgerError)
    values: dict[str, object] = {
        "kind": kind,
        "actor": actor,
        "at": dt.datetime.now(dt.UTC),
        "idempotency_key": idempotency_key,
        "request_hash": hashlib.sha256(request_json.encode()).hexdigest(),
        "request": request_json,
        "outcome": "refused" if refused else "failed",
        "error_code": error.code if isinstance(error, SubledgerError) else type(error).__name__,
        "document": error.document if isinstance(error, SubledgerError) else None,
        "field": error.field if isinstance(error, SubledgerError) else None,
        "rule": str(error) if refused else f"{type(error).__name__}: {error}".splitlines()[0],
    }
    # The refusal may be *about* a value too long for the books (a 65-character number, a long actor name): cut
    # every bounded column to its length so that the record itself is never refused.
    for column in audit_refusals.c:
        length = getattr(column.type, "length", None)
        value = values.get(column.key)
        if length and isinstance(value, str) and len(value) > length:
            values[column.key] = value[: length - 1] + "…"
    with write_transaction(engine) as conn:
        conn.execute(insert(audit_refusals).values(**values))


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


#: The columns ``operations`` and ``audit_refusals`` share, copied as they are into an ``AuditRecord``.
_SHARED_COLUMNS = ("id", "kind", "actor", "at", "idempotency_key", "request_hash")


def _record(r: Row[Any], outcome: Outcome, **outcome_fields: Any) -> AuditRecord:
    """The record of a row of ``operations`` or ``audit_refusals``: the columns they share, and ``outcome_fields``."""
    shared = {name: getattr(r, name) for name in _SHARED_COLUMNS}
    return AuditRecord(outcome=outcome, request=_json(r.request), **shared, **outcome_fields)


def audit_trail(
    conn: Connection, *, outcome: Outcome | None = None, actor: str | None = None, limit: int | None = None
) -> list[AuditRecord]:
    """Accepted and refused operations together, oldest first (the last ``limit`` of them when given)."""
    records: list[AuditRecord] = []
    if outcome in (None, "accepted"):
        query = select(operations)
        if actor is not None:
            query = query.where(operations.c.actor == actor)
        records.extend(_record(r, "accepted", result=_json(r.result)) for r in conn.execute(query))
    if outcome != "accepted":
        query = select(audit_refusals)
        if outcome is not None:
            query = query.where(audit_refusals.c.outcome == outcome)
        if actor is not None:
            query = query.where(audit_refusals.c.actor == actor)
        records.extend(_record(r, r.outcome, error_code=r.error_code, error=r.rule) for r in conn.execute(query))
    # SQLite returns naive datetimes (stored as UTC): compare them as UTC.
    records.sort(key=lambda r: (r.at.replace(tzinfo=r.at.tzinfo or dt.UTC), r.outcome != "accepted", r.id))
    return records[-limit:] if limit else records


@dataclass(frozen=True)
class RecordedCode:
    """An accounting code as an ``init`` recorded it in its request: what a later check needs of the chart of its day.
    Read leniently (the fields every version of ``init`` wrote), so that a book's earliest requests still read."""

    name: str
    account: str
    active: bool


def recorded_charts(conn: Connection) -> Iterator[tuple[int, list[RecordedCode]]]:
    """Each ``init``'s operation id and the chart of accounts it installed, as its request recorded it (every code,
    active or not), oldest first. A request that does not read back as a chart is passed over."""
    inits = select(operations.c.id, operations.c.request).where(operations.c.kind == "init").order_by(operations.c.id)
    for op, request in conn.execute(inits):
        try:
            chart = [
                RecordedCode(str(code["name"]), str(code["account"]), code.get("active") is not False)
                for code in json.loads(request)["chart"]
            ]
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        yield op, chart
