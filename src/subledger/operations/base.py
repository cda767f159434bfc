"""Running an operation: one transaction, one record, idempotent replays, audited refusals, safe concurrency.

``run_operation`` opens the transaction, records the operation (who, when, what was asked), hands the body a
``Context``, and stores the result. Any error rolls everything back: a refused operation writes nothing to the
books; it is recorded afterwards, in a transaction of its own, in the append-only ``audit_refusals`` (see
``subledger.audit``). ``audited`` does the same for refusals that happen before the operation starts (a request
that does not parse, an unknown actor): put it on every write method of ``Books``.

Idempotency: with a key, the same key and the same request return the recorded result and post nothing; the same
key with another request is refused (``IdempotencyConflict``). Operations that fan out (a bulk write-off) derive
one key per document from the caller's key (``derived_key``), so a retried batch skips what is already done.

Concurrency (PostgreSQL, READ COMMITTED; chosen over SERIALIZABLE with retries because every operation touches
one customer account and row locks make the waiting explicit instead of failing late):

1. every operation first takes a share lock on the accounting periods (``SELECT ... FOR SHARE``), so the period
   statuses it reads stay as read until it commits; a period transition updates a period row and so waits for
   the operations in flight (and they for it);
2. before reading any balance, the operation locks the customer account rows it touches in account order
   (``Context.lock_accounts``, ``SELECT ... FOR UPDATE``); the account row is also the head of that account's
   journal hash chain, so two writers can never number or chain entries of one account at the same time;
3. the documents it changes are read with ``fetch_document(s)(lock=True)`` (``FOR UPDATE``), after the account
   lock, so every statement sees the balances the previous writer committed.

What remains transient (a deadlock between two operations that lock several accounts, or a unique key a
concurrent writer inserted first: the same new customer account, document or idempotency key) is rolled back and
run again from the start, up to ``ATTEMPTS`` times; the rerun sees the other writer's rows (an idempotent replay,
an "unchanged" document). SQLite write transactions start with ``BEGIN IMMEDIATE`` and so run one at a time.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from subledger.audit import record_refusal
from subledger.context import Context
from subledger.errors import Conflict, IdempotencyConflict, InvalidInput
from subledger.permissions import Actor, actor_name
from subledger.storage.db import write_transaction
from subledger.storage.schema import operations, periods

R = TypeVar("R", bound=BaseModel)
T = TypeVar("T")
P = ParamSpec("P")

#: How many times an operation runs before a transient database conflict is reported.
ATTEMPTS = 5
#: SQLSTATEs that a rerun resolves: serialization failure, deadlock, unique key inserted by a concurrent writer.
TRANSIENT = frozenset({"40001", "40P01", "23505"})
#: Raw request text kept for a refusal whose request never parsed (a whole load file is kept up to this size).
MAX_RAW_REQUEST = 1_000_000


def canonical_json(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def derived_key(key: str | None, *parts: str) -> str | None:
    """The idempotency key of one part of a fanned-out request (one document of a bulk write-off)."""
    return None if key is None else ":".join((key, *parts))


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


def _driver_error(exc: BaseException) -> BaseException | None:
    """The database driver's error behind ``exc`` (wrapped by SQLAlchemy, or raw from a driver-level COPY)."""
    if isinstance(exc, DBAPIError):
        return exc.orig
    return exc if isinstance(getattr(exc, "sqlstate", None), str) else None


def _sqlstate(exc: BaseException) -> str:
    return str(getattr(_driver_error(exc), "sqlstate", "") or "")


def _hold_periods(conn: Connection) -> None:
    """Share-lock the periods so their statuses cannot change under the operation (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(periods.c.name).order_by(periods.c.name).with_for_update(read=True)).all()


def _mark_audited(exc: BaseException) -> None:
    exc.subledger_audited = True  # type: ignore[attr-defined]


def _is_audited(exc: BaseException) -> bool:
    return bool(getattr(exc, "subledger_audited", False))


def _record(
    engine: Engine, *, kind: str, actor: str, request_json: str, idempotency_key: str | None, error: BaseException
) -> None:
    """Record a refusal once; a failure to record is noted on the error rather than hiding it."""
    if _is_audited(error):
        return
    try:
        record_refusal(
            engine, kind=kind, actor=actor, request_json=request_json, idempotency_key=idempotency_key, error=error
        )
    except Exception as audit_error:  # the refusal itself is what the caller must see
        error.add_note(f"the refusal could not be recorded in the audit trail: {audit_error}")
    _mark_audited(error)


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
    request_json: str | None = None,
) -> R:
    """Run ``body`` as one operation. ``request_json`` is ``canonical_json(request)`` when the caller has it already
    (a load file's text is put together from its records' texts, which the load needs anyway)."""
    if request_json is None:
        request_json = canonical_json(request)
    request_hash = hashlib.sha256(request_json.encode()).hexdigest()
    try:
        for attempt in range(1, ATTEMPTS + 1):
            if idempotency_key is not None:
                replay = _replay(engine, idempotency_key, kind, request_hash, result_type)
                if replay is not None:
                    return replay
            try:
                with write_transaction(engine) as conn:
                    _hold_periods(conn)
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
            except Exception as exc:
                state = _sqlstate(exc)
                if state.startswith("22"):
                    # SQLSTATE class 22: a value the models let through but a column cannot hold (PostgreSQL
                    # checks lengths and ranges; SQLite does not): a refusal in the user's terms, not a crash.
                    raise InvalidInput(
                        f"a value does not fit the books: {str(_driver_error(exc)).splitlines()[0]}",
                        document=document_number,
                    ) from exc
                if state not in TRANSIENT:
                    raise
                if attempt == ATTEMPTS:
                    raise Conflict(
                        f"{kind} kept colliding with concurrent writers ({ATTEMPTS} attempts); try again",
                        document=document_number,
                    ) from exc
        raise AssertionError("unreachable")  # pragma: no cover
    except Exception as exc:
        _record(
            engine,
            kind=kind,
            actor=actor.name,
            request_json=request_json,
            idempotency_key=idempotency_key,
            error=exc,
        )
        raise


# --- refusals before the operation starts ---------------------------------------------------------------------


class Book(Protocol):
    """What ``audited`` needs of ``Books``: its engine and the actor name it was asked to run as."""

    engine: Engine
    _actor_name: str | None


def describe_request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The request of a call as JSON, best effort: a file is kept as its name and (bounded) text."""

    def one(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json", by_alias=True, exclude_none=True)
        if isinstance(value, os.PathLike):
            path = Path(value)
            try:
                text = path.read_bytes()[:MAX_RAW_REQUEST].decode(errors="replace")
            except OSError as exc:
                text = f"<unreadable: {exc.strerror}>"
            return {"file": str(path), "text": text}
        if isinstance(value, bytes):
            return value[:MAX_RAW_REQUEST].decode(errors="replace")
        if isinstance(value, str):
            return value[:MAX_RAW_REQUEST]
        if isinstance(value, dict | list | int | bool) or value is None:
            return value
        return repr(value)

    described: dict[str, Any] = {k: one(v) for k, v in kwargs.items() if k != "idempotency_key"}
    if args:
        described["args"] = [one(a) for a in args]
    return json.dumps(described, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)


def audited(kind: str) -> Callable[[Callable[Concatenate[Any, P], T]], Callable[Concatenate[Any, P], T]]:
    """Record every refusal of a ``Books`` write method, including those before ``run_operation`` starts."""

    def decorate(method: Callable[Concatenate[Any, P], T]) -> Callable[Concatenate[Any, P], T]:
        def wrapper(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:
                book: Book = self
                key = kwargs.get("idempotency_key")
                _record(
                    book.engine,
                    kind=kind,
                    actor=actor_name(book._actor_name),
                    request_json=describe_request(args, dict(kwargs)),
                    idempotency_key=key if isinstance(key, str) else None,
                    error=exc,
                )
                raise

        functools.update_wrapper(wrapper, method)
        return wrapper

    return decorate
