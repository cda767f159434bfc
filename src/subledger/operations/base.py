"""Running an operation: one transaction, one record, and idempotent replays.

``run_operation`` opens the transaction, records the operation (who, when, what was asked), hands the body a
``Context``, and stores the result. Any error rolls everything back: a refused operation writes nothing. With an
idempotency key, the same key and the same request return the recorded result and post nothing; the same key with
another request is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from subledger.context import Context
from subledger.errors import IdempotencyConflict
from subledger.permissions import Actor
from subledger.storage.schema import operations

R = TypeVar("R", bound=BaseModel)


def canonical_json(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def _replay(engine: Engine, key: str, kind: str, request_hash: str, result_type: type[R]) -> R | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(operations.c.kind, operations.c.request_hash, operations.c.result).where(
                operations.c.idempotency_key == key
            )
        ).first()
    if row is None:
        return None
    if row.kind != kind or row.request_hash != request_hash:
        raise IdempotencyConflict(
            f"idempotency key {key!r} was used for a different request ({row.kind})", field="idempotencyKey"
        )
    return result_type.model_validate_json(row.result)


def run_operation(
    engine: Engine,
    *,
    kind: str,
    actor: Actor,
    request: Any,
    result_type: type[R],
    body: Callable[[Context], R],
    account_number: str | None = None,
    document_number: str | None = None,
    idempotency_key: str | None = None,
) -> R:
    request_json = canonical_json(request)
    request_hash = hashlib.sha256(request_json.encode()).hexdigest()
    if idempotency_key is not None:
        replay = _replay(engine, idempotency_key, kind, request_hash, result_type)
        if replay is not None:
            return replay
    try:
        with engine.begin() as conn:
            operation_id = conn.execute(
                insert(operations)
                .values(
                    kind=kind,
                    actor=actor.name,
                    account_number=account_number,
                    document_number=document_number,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                    request=request_json,
                    status="accepted",
                    at=dt.datetime.now(dt.UTC),
                )
                .returning(operations.c.id)
            ).scalar_one()
            result = body(Context(conn, actor, operation_id))
            conn.execute(
                update(operations)
                .where(operations.c.id == operation_id)
                .values(result=result.model_dump_json(by_alias=True))
            )
            return result
    except IntegrityError:
        # A concurrent writer recorded the same idempotency key first: answer with its result.
        if idempotency_key is not None:
            replay = _replay(engine, idempotency_key, kind, request_hash, result_type)
            if replay is not None:
                return replay
        raise
