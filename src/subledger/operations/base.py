"""Running an operation: one transaction, one record, idempotent replays, audited refusals, safe concurrency.

``run_operation`` opens the transaction, records the operation (who, when, what was asked), hands the body a
``Context``, and stores the result. Any error rolls everything back: a refused operation writes nothing to the
books; it is recorded afterwards, in a transaction of its own, in the append-only ``audit_refusals`` (see
``subledger.audit``). ``audited`` does the same for refusals that happen before the operation starts (a request
that does not parse, an unknown actor): put it on every write method of ``Books``.

Idempotency: with a key, the same key and the same request return the recorded result and post nothing; the same
key with another request is refused (``IdempotencyConflict``). Operations that fan out (a bulk write-off) derive
one key per document from the caller's key (``derived_key``), so a retried batch skips what is already done; a
document's key recorded for another request refuses the whole batch, as it refuses a single operation.

``run_batch`` runs many documents, each its own operation (a bulk write-off in either settlement mode): operation
rows, idempotency per document, the audit of each refusal, the bulk write mode (a batch of documents planned in
memory and written together in one transaction), the one-by-one fallback when the database refuses a batch, the
cyclic garbage collector paused and the planner statistics refreshed after a large run. ``run_bulk`` is the same
machinery for one operation writing many records (a load).

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from subledger.audit import record_refusal
from subledger.context import Context
from subledger.errors import Conflict, IdempotencyConflict, InvalidInput, RuleViolation, SubledgerError
from subledger.journal import Entry, post_together
from subledger.permissions import Actor, actor_name
from subledger.state import DocumentState, ItemLine, TaxLine, document_rows, write_balances
from subledger.storage.bulk import gc_paused, insert_rows, one_of
from subledger.storage.db import ANALYZE_FROM, refresh_statistics, write_transaction
from subledger.storage.limits import over_limit
from subledger.storage.schema import (
    BULK_TABLES,
    ID,
    applications,
    document_items,
    documents,
    operations,
    periods,
    taxation_items,
)

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


#: The width of ``operations.idempotency_key``: the longest key a caller may give.
KEY_WIDTH = 255


def checked_key(key: object) -> str | None:
    """An idempotency key as given, refused when empty (an unset shell variable: every later write would be
    refused as a different request under the same key) or wider than the books record."""
    if key is None:
        return None
    if not isinstance(key, str) or not 0 < len(key) <= KEY_WIDTH:
        raise InvalidInput(f"an idempotency key is 1 to {KEY_WIDTH} characters", field="idempotencyKey")
    return key


def derived_key(key: str | None, *parts: str) -> str | None:
    """The idempotency key of one part of a fanned-out request (one document of a bulk write-off); by its SHA-256
    when the parts would make it wider than the books record (the same key and parts give the same one)."""
    if key is None:
        return None
    derived = ":".join((key, *parts))
    if len(derived) <= KEY_WIDTH:
        return derived
    return "sha256:" + hashlib.sha256(derived.encode()).hexdigest()


def request_hash(request_json: str) -> str:
    return hashlib.sha256(request_json.encode()).hexdigest()


def _recorded_with(key: str, row: Any, kind: str, hashed: str, *, document: str | None = None) -> None:
    """Refuse a key recorded for another request (another kind of operation, or another body)."""
    if row.kind != kind or row.request_hash != hashed:
        raise IdempotencyConflict(
            f"idempotency key {key!r} was used for a different request ({row.kind})",
            document=document,
            field="idempotencyKey",
        )


#: The operations answered as replays within the current ``noting_replays`` scope: (idempotency key, operation id).
_replays_noted: ContextVar[list[tuple[str, int]] | None] = ContextVar("subledger_replays", default=None)


@contextmanager
def noting_replays() -> Iterator[list[tuple[str, int]]]:
    """Within it, each operation answered from its idempotency key's record is listed (key, operation id): whether
    a call was a replay is known from the call itself, not from a look at the key before it (which a concurrent
    caller with the same key can answer wrongly)."""
    noted: list[tuple[str, int]] = []
    token = _replays_noted.set(noted)
    try:
        yield noted
    finally:
        _replays_noted.reset(token)


def _replay(conn: Connection, key: str, kind: str, hashed: str, result_type: type[R]) -> R | None:
    row = conn.execute(
        select(operations.c.id, operations.c.kind, operations.c.request_hash, operations.c.result).where(
            operations.c.idempotency_key == key
        )
    ).first()
    if row is None:
        return None
    _recorded_with(key, row, kind, hashed)
    result = result_type.model_validate_json(row.result)
    noted = _replays_noted.get()
    if noted is not None:
        noted.append((key, int(row.id)))
    return result


def recorded_request(conn: Connection, kind: str, keys: Sequence[str | None]) -> dict[str, Any] | None:
    """The request an earlier operation of ``kind`` recorded under one of ``keys`` (the first found), as JSON: what a
    task that fans out under derived keys planned the first time, so that its retry replays that plan instead of
    planning again from what the first run left."""
    listed = [key for key in keys if key is not None]
    if not listed:
        return None
    row = conn.execute(
        select(operations.c.request)
        .where(operations.c.kind == kind, operations.c.idempotency_key.in_(listed))
        .order_by(operations.c.id)
        .limit(1)
    ).first()
    return None if row is None else dict(json.loads(row.request))


def _operation_row(
    actor: Actor, kind: str, request_json: str, account: str | None, document: str | None, key: str | None
) -> dict[str, Any]:
    width = ID.length or 0
    return {
        "kind": kind,
        "actor": actor.name,
        # A number longer than the column names nothing in the book: the operation refuses it (not found) rather
        # than the database refusing this row first (PostgreSQL; SQLite does not check lengths).
        "account_number": account if account is None or len(account) <= width else None,
        "document_number": document if document is None or len(document) <= width else None,
        "idempotency_key": key,
        "request_hash": request_hash(request_json),
        "request": request_json,
        "status": "accepted",
        "at": dt.datetime.now(dt.UTC),
    }


def _driver_error(exc: BaseException) -> BaseException | None:
    """The database driver's error behind ``exc`` (wrapped by SQLAlchemy, or raw from a driver-level COPY)."""
    if isinstance(exc, DBAPIError):
        return exc.orig
    return exc if isinstance(getattr(exc, "sqlstate", None), str) else None


def _sqlstate(exc: BaseException) -> str:
    return str(getattr(_driver_error(exc), "sqlstate", "") or "")


def _hold_periods(conn: Connection, *, exclusive: bool = False) -> None:
    """Share-lock the periods so their statuses cannot change under the operation (PostgreSQL).

    A period transition (``exclusive``) first locks the table itself: row share locks are granted to newcomers
    while other share locks are held, so a closer waiting for a row lock starves as long as writers keep coming;
    a table lock request queues, and the writers that come after it wait behind it. Taking it before any share
    lock also means two closers never both hold one and deadlock upgrading it."""
    if conn.dialect.name == "postgresql":
        if exclusive:
            conn.exec_driver_sql("LOCK TABLE periods IN EXCLUSIVE MODE")
        conn.execute(select(periods.c.name).order_by(periods.c.name).with_for_update(read=True)).all()


#: The refusals recorded so far within the current ``audit_scope`` (by identity), so that the method or batch
#: around an operation does not record its refusal a second time.
_recorded: ContextVar[dict[int, BaseException] | None] = ContextVar("subledger_recorded", default=None)


@contextmanager
def audit_scope() -> Iterator[None]:
    """Within it, each refusal is recorded once, however many callers around the operation see it (nests)."""
    if _recorded.get() is not None:
        yield
        return
    token = _recorded.set({})
    try:
        yield
    finally:
        _recorded.reset(token)


def _recorded_as(error: BaseException, original: BaseException) -> None:
    """``error`` reports ``original`` in other words: if ``original`` was recorded in this scope, so was ``error``."""
    recorded = _recorded.get()
    if recorded is not None and recorded.get(id(original)) is original:
        recorded[id(error)] = error


def _record(
    engine: Engine, *, kind: str, actor: str, request_json: str, idempotency_key: str | None, error: BaseException
) -> None:
    """Record a refusal once; a failure to record is noted on the error rather than hiding it."""
    recorded = _recorded.get()
    if recorded is not None and recorded.get(id(error)) is error:
        return
    try:
        record_refusal(
            engine, kind=kind, actor=actor, request_json=request_json, idempotency_key=idempotency_key, error=error
        )
    except Exception as audit_error:  # the refusal itself is what the caller must see
        error.add_note(f"the refusal could not be recorded in the audit trail: {audit_error}")
    if recorded is not None:
        recorded[id(error)] = error


def record_once(
    engine: Engine, *, kind: str, actor: str, request_json: str, idempotency_key: str | None, error: BaseException
) -> None:
    """Record a refusal an interface makes itself, around a ``Books`` method (its own check of a body or of what
    the book never does): once, so that within an ``audit_scope`` a refusal the method recorded is not recorded
    again under the interface's kind."""
    _record(engine, kind=kind, actor=actor, request_json=request_json, idempotency_key=idempotency_key, error=error)


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
    exclusive_periods: bool = False,
    bulk: bool = False,
) -> R:
    """Run ``body`` as one operation. ``request_json`` is ``canonical_json(request)`` when the caller has it already
    (a load file's text is put together from its records' texts, which the load needs anyway). A period
    transition passes ``exclusive_periods`` (``_hold_periods``); a bulk task passes ``bulk`` (``write_transaction``)."""
    if request_json is None:
        request_json = canonical_json(request)
    row = _operation_row(actor, kind, request_json, account_number, document_number, idempotency_key)
    try:
        for attempt in range(1, ATTEMPTS + 1):
            if idempotency_key is not None:
                with engine.connect() as conn:
                    replay = _replay(conn, idempotency_key, kind, row["request_hash"], result_type)
                if replay is not None:
                    return replay
            try:
                with write_transaction(engine, bulk=bulk) as conn:
                    if idempotency_key is not None and conn.dialect.name == "sqlite":
                        # A caller with the same key may have committed while this one waited for the write lock
                        # (SQLite: one writer at a time, and its key trigger is no unique violation to rerun on).
                        replay = _replay(conn, idempotency_key, kind, row["request_hash"], result_type)
                        if replay is not None:
                            return replay
                    _hold_periods(conn, exclusive=exclusive_periods)
                    operation_id = conn.execute(
                        insert(operations).values({**row, "at": dt.datetime.now(dt.UTC)}).returning(operations.c.id)
                    ).scalar_one()
                    result = body(Context(conn, actor, operation_id))
                    conn.execute(
                        update(operations)
                        .where(operations.c.id == operation_id)
                        .values(result=result.model_dump_json(by_alias=True))
                    )
                    return result
            except Exception as exc:
                limit = over_limit(exc)
                if limit is not None:
                    raise InvalidInput(limit, document=document_number) from exc
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
                with path.open("rb") as file:  # the head of the file only: a load file can be any size
                    text = file.read(MAX_RAW_REQUEST).decode(errors="replace")
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
            with audit_scope():
                return call(self, *args, **kwargs)

        def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
            key: str | None = None
            try:
                key = checked_key(kwargs.get("idempotency_key"))
                return method(self, *args, **kwargs)
            except Exception as exc:
                book: Book = self
                _record(
                    book.engine,
                    kind=kind,
                    actor=actor_name(book._actor_name),
                    request_json=describe_request(args, dict(kwargs)),
                    idempotency_key=key,
                    error=exc,
                )
                raise

        functools.update_wrapper(wrapper, method)
        return wrapper

    return decorate


# --- many records in one operation, many documents each its own operation ---------------------------------------


def run_bulk(
    engine: Engine,
    *,
    kind: str,
    actor: Actor,
    prepare: Callable[[], tuple[Any, str, Callable[[Context], R]]],
    result_type: type[R],
    written: Callable[[R], int],
    idempotency_key: str | None = None,
) -> R:
    """One operation writing many records at once (a load): ``prepare`` parses the request and returns it, its
    canonical JSON and the operation's body.

    The request's models and rows hold no reference cycles: the cyclic collector is paused while they are built and
    written (``storage.bulk.gc_paused``), and the planner statistics refreshed when ``written(result)`` reaches
    ``ANALYZE_FROM`` (a replay reports what it wrote the first time, and refreshes again: harmless)."""
    with gc_paused():
        request, request_json, body = prepare()
        run = functools.partial(run_operation, engine, kind=kind, actor=actor, result_type=result_type, bulk=True)
        result = run(request=request, request_json=request_json, body=body, idempotency_key=idempotency_key)
    if written(result) >= ANALYZE_FROM:
        refresh_statistics(engine, BULK_TABLES)
    return result


#: Documents planned and written per transaction by a batch.
BATCH = 1000


class Planned(Protocol):
    """One document's operation planned in memory by a batch's bulk write mode (a write-off's plan): what it
    writes, under its own operation id."""

    @property
    def operation_id(self) -> int: ...

    @property
    def new_documents(self) -> Sequence[DocumentState]: ...

    @property
    def moved_lines(self) -> Sequence[tuple[str, ItemLine | TaxLine]]: ...

    @property
    def application_rows(self) -> Sequence[dict[str, object]]: ...

    @property
    def posted(self) -> tuple[Sequence[Entry], Sequence[tuple[str, dt.date]], int]: ...


def write_planned(conn: Connection, plans: Sequence[Planned]) -> None:
    """Write planned operations with one bulk insert per table, each row under its own document's operation."""
    if not plans:
        return
    doc_rows: list[dict[str, object]] = []
    item_rows: list[dict[str, object]] = []
    tax_rows: list[dict[str, object]] = []
    for p in plans:
        d, i, t = document_rows(p.new_documents, p.operation_id)
        doc_rows += d
        item_rows += i
        tax_rows += t
    insert_rows(conn, documents, doc_rows)
    insert_rows(conn, document_items, item_rows)
    insert_rows(conn, taxation_items, tax_rows)
    write_balances(conn, (moved for p in plans for moved in p.moved_lines))
    insert_rows(conn, applications, [row for p in plans for row in p.application_rows])
    post_together(conn, [p.posted for p in plans])


@dataclass(frozen=True)
class Operation:
    """The operation record of one document of a batch: its kind, its request, and what is known of the document
    before it is locked (its customer account and kind, when it exists). ``document`` is the document the record
    names when the batch's unit is not one (an invoice's N-th adjustment)."""

    kind: str
    request: dict[str, Any]
    account_number: str | None = None
    document_kind: str | None = None
    document: str | None = None

    @functools.cached_property
    def request_json(self) -> str:
        return canonical_json(self.request)


@dataclass
class Outcome(Generic[T]):
    """What one document of a batch came to: its result (``replayed`` when an earlier run wrote it) or a refusal."""

    number: str
    result: T | None = None
    error: SubledgerError | None = None
    replayed: bool = False


@dataclass
class Batch(Generic[R]):
    """A task over many documents, each its own operation (``run_batch``).

    ``operations`` names each document's operation (read on the connection given, without locks); ``body`` is one
    document's operation; ``write`` (the bulk write mode) plans and writes a whole batch in the transaction of
    ``Context``, each document under its own operation id, and returns each outcome, refusals included.
    ``refused_as`` is the kind under which a refusal of the batch's own planning is audited."""

    refused_as: str
    result_type: type[R]
    operations: Callable[[Connection, Sequence[str]], dict[str, Operation]]
    body: Callable[[Context, str, Operation], R]
    write: Callable[[Context, Sequence[tuple[str, int, Operation]]], list[Outcome[R]]] | None = None
    size: int = BATCH


def run_batch(
    engine: Engine,
    actor: Actor,
    batch: Batch[R],
    numbers: Sequence[str],
    report: Callable[[list[Outcome[R]]], T],
    *,
    request_json: str,
    idempotency_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> T:
    """Run every document of ``numbers`` as its own operation, replays first, then the rest a batch at a time, and
    return what ``report`` makes of the outcomes (in that order; built while the collector is still paused).

    With an idempotency key each document's operation gets ``KEY:<number>`` (``derived_key``): documents an earlier
    run did are replayed, and a document whose key was recorded for another request refuses the whole run
    (``IdempotencyConflict``) before anything is written. Each refusal is audited under ``batch.refused_as`` with
    ``request_json`` (the batch's request). ``progress(done, total)`` is called after each batch."""
    with gc_paused(), audit_scope():
        keys = {n: derived_key(idempotency_key, n) for n in numbers}
        replayed = _replays(engine, batch, keys)
        outcomes = [Outcome(n, result=replayed[n], replayed=True) for n in numbers if n in replayed]
        pending = [n for n in numbers if n not in replayed]
        done = len(outcomes)
        for start in range(0, len(pending), batch.size):
            chunk = pending[start : start + batch.size]
            together: list[Outcome[R]] | None = None
            if batch.write is not None:
                try:
                    together = _write_together(engine, actor, batch, chunk, keys)
                except DBAPIError:
                    together = None  # the database refused the batch as a whole: one document per transaction
            for outcome in together if together is not None else _one_by_one(engine, actor, batch, chunk, keys):
                # A refusal of the one-by-one path was audited by its operation (``audit_scope``).
                if outcome.error is not None:
                    _record(
                        engine,
                        kind=batch.refused_as,
                        actor=actor.name,
                        request_json=request_json,
                        idempotency_key=keys[outcome.number],
                        error=outcome.error,
                    )
                outcomes.append(outcome)
            done += len(chunk)
            if progress is not None:
                progress(done, len(numbers))
        written = sum(1 for o in outcomes if o.result is not None and not o.replayed)
        reported = report(outcomes)
        del outcomes  # (freed by reference counting before the collector runs again)
    if written >= ANALYZE_FROM:
        refresh_statistics(engine, BULK_TABLES)  # from what this run wrote, not what earlier runs did
    return reported


def _replays(engine: Engine, batch: Batch[R], keys: dict[str, str | None]) -> dict[str, R]:
    """The recorded results of documents whose key an earlier run used for the same request."""
    wanted = {key: n for n, key in keys.items() if key is not None}
    if not wanted:
        return {}
    listed = list(wanted)
    with engine.connect() as conn:
        rows = {}
        for i in range(0, len(listed), batch.size):
            query = select(
                operations.c.idempotency_key, operations.c.kind, operations.c.request_hash, operations.c.result
            )
            for row in conn.execute(
                query.where(one_of(conn, operations.c.idempotency_key, listed[i : i + batch.size]))
            ):
                rows[wanted[row.idempotency_key]] = row
        named = batch.operations(conn, list(rows)) if rows else {}
    found: dict[str, R] = {}
    for number, row in rows.items():
        operation = named[number]
        _recorded_with(row.idempotency_key, row, operation.kind, request_hash(operation.request_json), document=number)
        if row.result is not None:
            found[number] = batch.result_type.model_validate_json(row.result)
    return found


def _write_together(
    engine: Engine, actor: Actor, batch: Batch[R], numbers: Sequence[str], keys: dict[str, str | None]
) -> list[Outcome[R]]:
    """The bulk write mode: one transaction, one operation row per document, refused documents' rows removed."""
    assert batch.write is not None
    with write_transaction(engine, bulk=True) as conn:
        _hold_periods(conn)
        named = batch.operations(conn, numbers)
        rows = [
            _operation_row(actor, op.kind, op.request_json, op.account_number, op.document or n, keys[n])
            for n, op in ((n, named[n]) for n in numbers)
        ]
        ids = list(
            conn.execute(insert(operations).returning(operations.c.id, sort_by_parameter_order=True), rows).scalars()
        )
        id_of = dict(zip(numbers, ids, strict=True))
        outcomes = batch.write(Context(conn, actor, ids[0]), [(n, id_of[n], named[n]) for n in numbers])
        results = [
            {"i": id_of[o.number], "r": o.result.model_dump_json(by_alias=True)}
            for o in outcomes
            if o.result is not None
        ]
        if results:
            conn.execute(
                update(operations).where(operations.c.id == bindparam("i")).values(result=bindparam("r")), results
            )
        refused = [id_of[o.number] for o in outcomes if o.result is None]
        if refused:
            conn.execute(delete(operations).where(operations.c.id.in_(refused)))
    return outcomes


def _bound(body: Callable[[Context, str, Operation], R], number: str, operation: Operation) -> Callable[[Context], R]:
    return lambda ctx: body(ctx, number, operation)


def _one_by_one(
    engine: Engine, actor: Actor, batch: Batch[R], numbers: Sequence[str], keys: dict[str, str | None]
) -> list[Outcome[R]]:
    """Each document in a transaction of its own (``run_operation``, which audits its own refusal)."""
    with engine.connect() as conn:
        named = batch.operations(conn, numbers)
    outcomes: list[Outcome[R]] = []
    for n in numbers:
        op = named[n]
        try:
            result = run_operation(
                engine,
                kind=op.kind,
                actor=actor,
                request=op.request,
                request_json=op.request_json,
                result_type=batch.result_type,
                body=_bound(batch.body, n, op),
                account_number=op.account_number,
                document_number=op.document or n,
                idempotency_key=keys[n],
            )
        except SubledgerError as exc:
            outcomes.append(Outcome(n, error=exc))
            continue
        except DBAPIError as exc:
            refusal = RuleViolation(f"the database refused it: {exc.orig}", document=n)
            _recorded_as(refusal, exc)
            outcomes.append(Outcome(n, error=refusal))
            continue
        outcomes.append(Outcome(n, result=result))
    return outcomes
