"""The reference product's REST API over ``Books``: every operation is a ``Books`` method, every refusal its error.

Envelope: a success answers ``{"success": true, ...the result's keys}``; a refused operation answers HTTP 200
``{"success": false, "processId", "reasons": [{"code", "message"}]}`` with 8-digit codes (a 6-digit resource code,
then the category of ``errors.category``); a malformed request (bad JSON, duplicate keys, too large) answers 4xx
with the same envelope, and so does a request without a valid access token (401). Every response carries
``Zuora-Request-Id`` and ``Zuora-Track-Id``; every write passes ``Idempotency-Key`` to ``Books``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
import traceback
import uuid
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

from subledger import __version__
from subledger.api import Books, parse
from subledger.audit import record_refusal
from subledger.checks import CheckReport
from subledger.errors import (
    AuthenticationFailed,
    InvalidInput,
    LimitExceeded,
    NotFound,
    RuleViolation,
    SubledgerError,
    Unsupported,
    category,
    problems_of,
)
from subledger.http import clients, throttle
from subledger.models.apply import (
    ApplyResult,
    CreditMemoApplyRequest,
    CreditMemoUnapplyRequest,
    PaymentApplyRequest,
    PaymentUnapplyRequest,
)
from subledger.models.base import OutputModel, is_identifier
from subledger.models.journal_run import JournalEntryBasicInformation, JournalRunCreate
from subledger.models.jsonio import read_object
from subledger.models.refund import CreditMemoRefundRequest, RefundCancelRequest, RefundResult
from subledger.models.reversal import CreditMemoReversalRequest, InvoiceReversalRequest, ReversalResult
from subledger.models.views import PeriodView
from subledger.models.writeoff import CreditMemoWriteOffRequest, WriteOffRequest, WriteOffResult
from subledger.operations.base import audit_scope, record_once
from subledger.operations.journal_runs import (
    TRANSFERRED,
    JournalRunResult,
    JournalRunView,
    SummaryEntry,
    SummaryEntryView,
)
from subledger.operations.periods import PeriodTransition
from subledger.reports import PaymentListRow

ACCESS_LOG = logging.getLogger("subledger.http.access")
ERROR_LOG = logging.getLogger("subledger.http.error")

#: Operations past their request's timeout, still running: held here (the event loop keeps only weak references
#: to tasks) until they end; shutting down waits for them (their worker threads are shielded from cancellation).
_GOING_ON: set[asyncio.Future[Any]] = set()


def _go_on(work: asyncio.Future[Any], rid: str) -> None:
    """Let ``work`` finish after its request was answered; an unexpected error of it goes to the error log."""

    def ended(task: asyncio.Future[Any]) -> None:
        _GOING_ON.discard(task)
        error = None if task.cancelled() else task.exception()
        if error is not None and not isinstance(error, SubledgerError):
            ERROR_LOG.error("request %s (after its timeout): %s", rid, "".join(traceback.format_exception(error)))

    _GOING_ON.add(work)
    work.add_done_callback(ended)


MAX_BODY = 1 << 20
MAX_IDEMPOTENCY_KEY = 255
#: The 6-digit resource codes that lead each 8-digit reason code (ours: the reference product does not publish its
#: table; the last two digits, the category, are the part clients act on).
RESOURCE = {
    "invoice": 501100,
    "debit-memo": 501200,
    "credit-memo": 501300,
    "payment": 501400,
    "refund": 501500,
    "period": 502100,
    "journal-run": 502200,
    "journal-entry": 502300,
    "oauth": 509100,
    "request": 509900,
}
MALFORMED, AUTHENTICATION, LOCKING, INTERNAL, TEMPORARY, LIMIT = 90, 11, 50, 60, 61, 70
NOT_FOUND, UNSUPPORTED = 40, 45
INVALID, UNKNOWN = 20, 21
#: The reference product's paging of a list (``GET /v1/payments``): ``page`` from 1, ``pageSize`` 20 unless given,
#: at most 40; ``nextPage`` in the answer while there is a next page. Every list endpoint pages the same way.
PAGE_SIZE, MAX_PAGE_SIZE, MAX_PAGE = 20, 40, 999_999_999
PAGE_PARAMETERS = frozenset({"page", "pageSize"})
PAGING = [
    {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    },
    {
        "name": "pageSize",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": PAGE_SIZE},
    },
]


def reason_code(resource: str, cat: int) -> int:
    return RESOURCE[resource] * 100 + cat


def failure_envelope(request_id: str, resource: str, reasons: list[tuple[int, str]]) -> dict[str, Any]:
    """A refusal as the reference product answers it: each reason a (category, message)."""
    return {
        "success": False,
        "processId": request_id,
        "reasons": [{"code": reason_code(resource, cat), "message": message} for cat, message in reasons],
    }


def refusal(exc: SubledgerError, resource: str, request_id: str) -> dict[str, Any]:
    """A refused operation as the reference product's envelope: one reason per problem, the message naming the
    document, the field and the rule (the same sentence the command line prints)."""
    return failure_envelope(request_id, resource, [(category(exc, p), str(p)) for p in problems_of(exc)])


class _Refused(Exception):
    """A request refused before it reaches an operation (authentication, malformed input): status and reason, and
    the error it is audited as."""

    def __init__(
        self, status: int, resource: str, cat: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.resource, self.cat, self.message = status, resource, cat, message
        self.headers = headers or {}
        error = {AUTHENTICATION: AuthenticationFailed, LIMIT: LimitExceeded, NOT_FOUND: NotFound}.get(cat)
        self.error: SubledgerError = (error or (Unsupported if cat == UNSUPPORTED else InvalidInput))(message)


JSON, FORM = "application/json", "application/x-www-form-urlencoded"


def media_type(content_type: str | None) -> str | None:
    """The media type a Content-Type header declares, without its parameters, in lower case (``None``: none
    declared)."""
    return None if content_type is None else content_type.partition(";")[0].strip().lower()


def wrong_media(content_type: str | None, expected: str) -> str | None:
    """Why a body declared as ``content_type`` is not read as ``expected`` (``None``: it is, or none is declared,
    and the body is examined as the one format the endpoint takes: RFC 9110 8.3 lets the recipient look)."""
    declared = media_type(content_type)
    if declared is None or declared == expected:
        return None
    return f"the request body must be Content-Type: {expected}, not {declared or 'an empty Content-Type'}"


#: The actor a refusal is audited under when the caller proved no identity and named no client.
ANONYMOUS = "anonymous"
#: The width of ``api_clients.client_id``: a longer (or non-identifier) client id names no client.
MAX_CLIENT_ID = 100


# --- the ASGI layer: request ids, body limit, access log ----------------------------------------------------------


def asked_method(scope: Scope) -> str:
    """The request's method as the client sent it (a HEAD is routed as a GET: ``Edge``)."""
    return str(scope.get("state", {}).get("method") or scope["method"])


class Edge:
    """Outermost middleware: a request id on every response, the body size limit, one JSON access-log line.
    ``on_refused`` audits a request it refuses (too large)."""

    def __init__(
        self,
        app: FastAPI,
        max_body: int,
        on_refused: Callable[[Scope, SubledgerError], Awaitable[None]] | None = None,
    ) -> None:
        self.app, self.max_body, self.on_refused = app, max_body, on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        headers = dict(scope["headers"])
        track_id = headers.get(b"zuora-track-id", b"").decode("latin-1")[:64] or request_id
        method = asked_method(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        head = scope["method"] == "HEAD"
        if head:
            # A server that serves GET serves HEAD (RFC 9110 9.3.2): the GET's status and headers, its
            # Content-Length included, without the body. Answered here as a GET, whatever the route, so that the two
            # can never differ; the state (shared by the copy) keeps the method asked for the log and the refusals.
            scope["state"]["method"] = "HEAD"
            scope = {**scope, "method": "GET"}
        status = 0
        received = 0

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"zuora-request-id", request_id.encode()),
                    (b"zuora-track-id", track_id.encode("latin-1")),
                ]
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        async def whole_body() -> bytes | None:
            """The request body, read here up to the limit (``None``: the client went away): the application
            never sees a byte past it, whether the client declared a length or streamed the body in chunks."""
            nonlocal received
            chunks: list[bytes] = []
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body:
                    raise _TooLarge
                chunks.append(chunk)
                more = message.get("more_body", False)
            return b"".join(chunks)

        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        try:
            if declared > self.max_body:
                raise _TooLarge
            body = await whole_body()
            if body is None:
                return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if replayed:
                    return await receive()  # after the body: wait for the client to go away
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send_with_ids)
        except _TooLarge:
            message = f"the request body exceeds {self.max_body} bytes"
            if self.on_refused is not None:
                await self.on_refused(scope, LimitExceeded(message))
            failure = failure_envelope(request_id, "request", [(LIMIT, message)])
            await JSONResponse(failure, status_code=413)(scope, receive, send_with_ids)
        except Exception as exc:
            # Answered already by the application's handler of unexpected errors, which logged it (Starlette
            # raises it again after answering): not raised further, or uvicorn would log it a second time.
            if status == 0:
                await JSONResponse(internal_error(exc, request_id), status_code=500)(scope, receive, send_with_ids)
        finally:
            state: MutableMapping[str, Any] = scope.get("state", {})
            log_access(
                request_id=request_id,
                track_id=track_id,
                client=(scope.get("client") or ("", 0))[0],
                actor=state.get("actor"),
                method=method,
                path=scope["path"],
                status=status,
                received=received,
                ms=round((time.perf_counter() - started) * 1000, 2),
            )


def log_access(
    *,
    request_id: str,
    track_id: str,
    client: str,
    actor: str | None,
    method: str | None,
    path: str | None,
    status: int,
    received: int,
    ms: float,
) -> None:
    """The access log's line for one request (one JSON object)."""
    line = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "requestId": request_id,
        "trackId": track_id,
        "client": client,
        "actor": actor,
        "method": method,
        "path": path,
        "status": status,
        "bytesIn": received,
        "ms": ms,
    }
    ACCESS_LOG.info(json.dumps(line))


class _TooLarge(Exception):
    pass


def internal_error(exc: BaseException, request_id: str) -> dict[str, Any]:
    """An unexpected error: its traceback to the error log, the client the envelope naming the request (category
    60), never the traceback or a page of text."""
    ERROR_LOG.error("request %s: %s", request_id, "".join(traceback.format_exception(exc)))
    return failure_envelope(request_id, "request", [(INTERNAL, f"internal error, request {request_id}")])


# --- request models the reference product's bodies need beyond the operations' own -----------------------------


class Reason(BaseModel):
    """``PUT .../reopen`` and ``PUT /v1/journal-runs/{jr}/cancel``: why (recorded)."""

    model_config = ConfigDict(extra="forbid")
    reason: str


class OptionalReason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = None


class JournalEntryTransfer(OutputModel):
    """What ``PUT /v1/journal-entries/{je}/basic-information`` did: the book transfers whole runs, so the answer
    names the run and shows it (every one of its summary entries has the same status)."""

    journal_entry_number: str
    journal_run_number: str
    transferred_to_accounting: str
    message: str
    journal_run: JournalRunView


#: The models whose JSON Schema documents a request body (added to the OpenAPI components).
BODY_MODELS: tuple[type[BaseModel], ...] = (
    WriteOffRequest,
    CreditMemoWriteOffRequest,
    InvoiceReversalRequest,
    CreditMemoReversalRequest,
    CreditMemoApplyRequest,
    CreditMemoUnapplyRequest,
    PaymentApplyRequest,
    PaymentUnapplyRequest,
    CreditMemoRefundRequest,
    RefundCancelRequest,
    JournalRunCreate,
    JournalEntryBasicInformation,
    Reason,
    OptionalReason,
)


def _model_of(result: Any) -> Any:
    """A result (a model, a list of models, a dict) as JSON values, camelCase, unset fields left out."""
    return to_jsonable_python(result, by_alias=True, exclude_none=True)


def _operation_id(method: str, path: str) -> str:
    words = path.strip("/").replace("{", "").replace("}", "").replace("-", "_").split("/")
    return "_".join([method.lower(), *words])


def _no_body(body: dict[str, Any], document: str) -> bool:
    """An operation that takes no body refuses one rather than ignore what a client meant to say."""
    if body:
        field = next(iter(body))
        raise InvalidInput("unknown field", document=document, field=field)
    return False


def _parse(model: type[Any], body: dict[str, Any], document: str | None) -> Any:
    return parse(model, body, document=document)


def _openapi_extra(
    param: str | None, model: type[BaseModel] | None, *, writes: bool, paged: bool = False
) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if param:
        parameters.append({"name": param, "in": "path", "required": True, "schema": {"type": "string"}})
    if paged:
        parameters.extend(PAGING)
    if writes:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "The same key with the same body answers the recorded result; with another body, a "
                "refusal.",
                "schema": {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY},
            }
        )
    extra: dict[str, Any] = {"parameters": parameters, "security": [{"bearer": []}]}
    if model is not None:
        schema = {"$ref": f"#/components/schemas/{model.__name__}"}
        extra["requestBody"] = {"required": False, "content": {"application/json": {"schema": schema}}}
    return extra


class FailureReason(BaseModel):
    code: int = Field(description="8 digits: a resource code, then the category (the last two digits).")
    message: str


class Failure(BaseModel):
    """A refused operation (HTTP 200) or a refused request (4xx)."""

    success: bool = False
    process_id: str = Field(alias="processId")
    reasons: list[FailureReason]


#: What the reference product does and the book refuses whatever the request (``Unsupported``, or a rule): their
#: only success-shaped answer is the refusal.
ALWAYS_REFUSED = frozenset(
    {
        ("post", "/v1/accounting-periods"),
        ("put", "/v1/accounting-periods/{apId}"),
        ("delete", "/v1/accounting-periods/{apId}"),
        ("delete", "/v1/journal-runs/{jrNumber}"),
        ("put", "/v1/journal-entries/{jeNumber}/cancel"),
    }
)


def _result_schema(method: str, path: str) -> Any:
    """What a successful answer holds: a result model, a list under a key, or a document (``None``: any object)."""
    ends = path.rsplit("/", 1)[-1]
    if ends == "refunds" or path.startswith("/v1/refunds/"):
        return RefundResult
    if ends == "write-off":
        return WriteOffResult
    if ends == "reverse":
        return ReversalResult
    if ends in ("apply", "unapply"):
        return ApplyResult
    if ends in ("pending-close", "close", "reopen"):
        return PeriodTransition
    if ends == "run-trial-balance":
        return CheckReport
    if path == "/v1/journal-runs":
        return JournalRunResult
    if path.startswith("/v1/journal-runs/"):
        return JournalRunView
    if path == "/v1/accounting-periods":
        return ("accountingPeriods", PeriodView)
    if path.startswith("/v1/accounting-periods/"):
        return PeriodView
    if path.startswith("/v1/journal-entries/journal-runs/"):
        return ("journalEntries", SummaryEntry)
    if ends == "basic-information":
        return JournalEntryTransfer
    if path == "/v1/journal-entries/{jeNumber}":
        return SummaryEntryView
    if path == "/v1/payments":
        return ("payments", PaymentListRow)
    if path.startswith("/v1/payments/"):
        return PaymentListRow
    return None


def _models_in(result: Any) -> list[type[BaseModel]]:
    if isinstance(result, tuple):
        return [result[1]]
    return [result] if isinstance(result, type) else []


def _as_schema(result: Any) -> dict[str, Any]:
    if isinstance(result, tuple):
        key, model = result
        items = {"$ref": f"#/components/schemas/{model.__name__}"}
        next_page = {"type": "string", "description": "the URL of the next page; absent on the last page"}
        return {"type": "object", "properties": {key: {"type": "array", "items": items}, "nextPage": next_page}}
    if isinstance(result, type):
        return {"$ref": f"#/components/schemas/{result.__name__}"}
    return {"type": "object", "description": "the document in its load-file shape, with its balances"}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with the request bodies' JSON Schemas (the operations' pydantic models) as components."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in BODY_MODELS:
        schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas["Failure"] = Failure.model_json_schema(by_alias=True)
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            result = _result_schema(method, path)
            for model in _models_in(result):
                schema = model.model_json_schema(
                    by_alias=True, mode="serialization", ref_template="#/components/schemas/{model}"
                )
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
            answered = {"allOf": [_as_schema(result), {"type": "object", "properties": {"success": {"const": True}}}]}
            failure = {"$ref": "#/components/schemas/Failure"}
            operation["responses"] = {
                "200": {
                    "description": "success: true and the result, or (HTTP 200) a refused operation",
                    "content": {"application/json": {"schema": {"anyOf": [answered, failure]}}},
                },
                "400": {"description": "malformed request", "content": {"application/json": {"schema": failure}}},
            }
            if method != "get":
                operation["responses"]["415"] = {
                    "description": "a body declared as another media type than the endpoint reads, or in a "
                    "Content-Encoding other than gzip (category 90; Accept or Accept-Encoding names what it reads)",
                    "headers": {
                        "Accept": {"schema": {"type": "string"}},
                        "Accept-Encoding": {"schema": {"type": "string"}},
                    },
                    "content": {"application/json": {"schema": failure}},
                }
            if (method, path) in ALWAYS_REFUSED:
                operation["responses"]["200"] = {
                    "description": "always refused (HTTP 200, success: false): the book does otherwise (the summary "
                    "says how)",
                    "content": {"application/json": {"schema": failure}},
                }
            if path != "/oauth/token":
                operation["responses"]["401"] = {
                    "description": "no valid access token",
                    "content": {"application/json": {"schema": failure}},
                }
            else:
                operation["responses"]["401"] = {
                    "description": "unknown client or wrong secret (error: invalid_client)",
                    "content": {"application/json": {"schema": failure}},
                }
                operation["responses"]["429"] = {
                    "description": "too many failed attempts for this client id or remote address (error: "
                    "slow_down, category 70): try again after Retry-After seconds",
                    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
                    "content": {"application/json": {"schema": failure}},
                }
    components["securitySchemes"] = {
        "bearer": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}}}
    }
    return doc


def create_app(
    engine: Engine,
    *,
    token_ttl: int = clients.DEFAULT_TTL,
    max_body: int = MAX_BODY,
    timeout: float = 30.0,
    client_failures: int = throttle.CLIENT_FAILURES,
    address_failures: int = throttle.ADDRESS_FAILURES,
    failure_window: float = throttle.WINDOW,
    anonymous_audits: int = throttle.ANONYMOUS_AUDITS,
) -> Edge:
    """The service over the book on ``engine``. ``POST /oauth/token`` allows ``client_failures`` failed attempts
    per client id and ``address_failures`` per remote address within ``failure_window`` seconds (``throttle``).
    Refusals of callers without a valid token are audited up to ``anonymous_audits`` per remote address in that
    window; past it only the access log has them, so that anyone's bad requests cannot fill the book."""
    app = FastAPI(
        title="subledger",
        version=__version__,
        description="The reference product's REST API for write-offs, reversals, applications, accounting periods "
        "and journal runs, over the books.",
        # A path ending in '/' is not redirected (a 307 has no body, its Location is built from the request, http://
        # behind a TLS proxy, and clients do not follow it for a PUT): its 404, in the envelope, names the path.
        redirect_slashes=False,
    )

    def request_id(request: Request) -> str:
        return str(request.scope["state"]["request_id"])

    # --- refusals before an operation, audited as the command line audits its own ---------------------------------

    def operation_of(scope: Scope) -> str:
        """What was asked: the endpoint's operationId (``docs/openapi.json``), found again for a request refused
        before routing."""
        route = scope.get("route")
        if route is None:
            route = next((r for r in app.router.routes if r.matches(scope)[0] == Match.FULL), None)
        return str(getattr(route, "operation_id", None) or "http-request")

    unaudited = throttle.FailedAttempts(anonymous_audits, failure_window)

    def audit(scope: Scope, error: SubledgerError) -> None:
        """Record a refusal in ``audit_refusals``: the actor of the caller's token (else the client id it named at
        ``/oauth/token``, else ``anonymous``), the operation, the rule. Never a secret or a token: the request is
        recorded as its method, path, request id and remote address. A caller without a valid token gets at most
        ``anonymous_audits`` rows per address and window (the access log has every request)."""
        state = scope.setdefault("state", {})
        remote = (scope.get("client") or ("", 0))[0]
        try:
            caller: clients.Caller | None = state.get("caller")
            if caller is None:
                scheme, _, token = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    caller = clients.caller_of(engine, token.strip())
            if caller is None:
                if unaudited.retry_after(remote) is not None:
                    return
                unaudited.failed(remote)
            claimed = state.get("claimed_client")
            if claimed is not None and not clients.is_client(engine, claimed):
                claimed = None
            request = {
                "method": asked_method(scope),
                "path": scope["path"],
                "requestId": state.get("request_id"),
                "remote": remote,
                "clientId": caller.client_id if caller else claimed,
            }
            record_refusal(
                engine,
                kind=operation_of(scope),
                actor=caller.actor if caller else claimed or ANONYMOUS,
                request_json=json.dumps(request, sort_keys=True, separators=(",", ":")),
                idempotency_key=None,
                error=error,
            )
        except Exception as exc:  # the refusal itself is what the client must get
            ERROR_LOG.error("request %s: the refusal was not audited: %s", state.get("request_id"), exc)

    async def audited(scope: Scope, error: SubledgerError) -> None:
        await run_in_threadpool(audit, scope, error)

    @app.exception_handler(_Refused)
    async def refused(request: Request, exc: _Refused) -> JSONResponse:
        await audited(request.scope, exc.error)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        body = failure_envelope(request_id(request), exc.resource, [(exc.cat, exc.message)])
        return JSONResponse(body, status_code=exc.status, headers={**headers, **exc.headers} or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        """An error no endpoint expected (outside an operation, which answers its own: ``operate``), such as the
        database failing under ``/oauth/token``: the envelope, where Starlette answers text/plain."""
        return JSONResponse(internal_error(exc, request_id(request)), status_code=500)

    @app.exception_handler(HTTPException)
    async def no_such_endpoint(request: Request, exc: HTTPException) -> JSONResponse:
        """A path the service does not have (404, category 40) or a method it does not take there (405, category
        45, with ``Allow``), in the envelope and audited like every refusal before an operation."""
        method, path = asked_method(request.scope), request.url.path
        if exc.status_code == 405:
            # Each method of a path is its own route: Starlette's Allow names only the first route matched. HEAD is
            # served wherever GET is (``Edge``), whatever a route lists.
            matched = [r for r in app.router.routes if r.matches(request.scope)[0] != Match.NONE]
            methods = {m for r in matched for m in getattr(r, "methods", None) or ()} - {"HEAD"}
            allowed = ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))
            message = f"{method} is not a method of {path}: it takes {allowed}"
            answer = await refused(request, _Refused(405, "request", UNSUPPORTED, message))
            answer.headers["Allow"] = allowed
            return answer
        if exc.status_code == 404:
            message = f"no endpoint {method} {path}"
            bare = path.rstrip("/")
            if bare != path and any(r.matches({**request.scope, "path": bare})[0] != Match.NONE for r in app.routes):
                message += f" (the path ends with '/': {bare} is one)"
            return await refused(request, _Refused(404, "request", NOT_FOUND, message))
        return await refused(request, _Refused(exc.status_code, "request", MALFORMED, str(exc.detail)))

    def authenticate(request: Request) -> clients.Caller:
        state = request.scope["state"]
        if "caller" in state:
            return state["caller"]  # type: ignore[no-any-return]
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _Refused(401, "oauth", AUTHENTICATION, "authentication required: Authorization: Bearer <token>")
        caller = clients.caller_of(engine, token.strip())
        if caller is None:
            raise _Refused(401, "oauth", AUTHENTICATION, "the access token is unknown or expired")
        state["caller"], state["actor"] = caller, caller.actor
        return caller

    def parameters(request: Request, resource: str, takes: frozenset[str] = frozenset()) -> None:
        """A NUL in a path or query parameter is a malformed request, as in a body (``models.jsonio``): no book
        holds one, and PostgreSQL cannot even compare text with one. A query parameter the endpoint does not
        ``take``, or one given twice, is refused, not ignored, as an unknown field of a body is: a filter
        misspelt (``accountnumber``) or of the reference product's that the book lacks would otherwise answer every
        payment as if it were the list asked for."""
        for where, params in (("path", request.path_params), ("query", request.query_params)):
            for name, value in params.items():
                if "\x00" in name:
                    raise _Refused(
                        400, resource, MALFORMED, f"the name of a {where} parameter contains a NUL character"
                    )
                if "\x00" in value:
                    raise _Refused(400, resource, MALFORMED, f"{where} parameter {name} contains a NUL character")
        given = [name for name, _ in request.query_params.multi_items()]
        for name in given:
            if name not in takes:
                endpoint = f"{asked_method(request.scope)} {request.url.path}"
                takes_what = f"takes {', '.join(sorted(takes))}" if takes else "takes no query parameter"
                raise _Refused(400, resource, UNKNOWN, f"unknown query parameter {name}: {endpoint} {takes_what}")
            if given.count(name) > 1:
                raise _Refused(400, resource, INVALID, f"query parameter {name} is given {given.count(name)} times")

    def decoded(request: Request, raw: bytes, resource: str) -> bytes:
        """The body without its Content-Encoding: the reference product takes a gzipped body (``Content-Encoding:
        gzip``); a body in a coding the service cannot undo is refused, not read as if it had none. Inflated at most
        to the body limit, so that a small body cannot expand into any size."""
        coding = request.headers.get("content-encoding", "").strip().lower()
        if coding in ("", "identity"):
            return raw
        if coding not in ("gzip", "x-gzip"):
            message = f"Content-Encoding {coding} is not supported: gzip, or none"
            raise _Refused(415, resource, MALFORMED, message, headers={"Accept-Encoding": "gzip"})
        inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            body = inflate.decompress(raw, max_body + 1)
        except zlib.error as exc:
            raise _Refused(400, resource, MALFORMED, f"the body is not gzip data: {exc}") from None
        if len(body) > max_body:
            raise _Refused(413, resource, LIMIT, f"the request body exceeds {max_body} bytes once decompressed")
        if not inflate.eof or inflate.unused_data:
            raise _Refused(400, resource, MALFORMED, "the body is not gzip data: it does not end where the data does")
        return body

    async def body_of(request: Request, resource: str, document: str | None) -> dict[str, Any]:
        raw = decoded(request, await request.body(), resource)
        if not raw.strip():
            return {}
        # The reference product takes JSON and no other format: a body declared as anything else (curl -d sends a
        # form, some clients text/plain) is not read as JSON on the chance that it parses.
        wrong = wrong_media(request.headers.get("content-type"), JSON)
        if wrong is not None:
            raise _Refused(415, resource, MALFORMED, wrong, headers={"Accept": JSON})
        try:
            return read_object(raw, what="request body", document=document)
        except InvalidInput as exc:
            raise _Refused(400, resource, MALFORMED, str(exc)) from None

    def idempotency_key(request: Request, resource: str) -> str | None:
        keys = request.headers.getlist("idempotency-key")
        if not keys:
            return None
        if len(keys) > 1:  # taking one: a retry that sent them in another order would post a second time
            raise _Refused(400, resource, MALFORMED, f"Idempotency-Key is given {len(keys)} times: give one")
        key = keys[0]
        if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            raise _Refused(400, resource, MALFORMED, f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
        return clients.scoped_key(authenticate(request).client_id, key)

    async def operate(
        request: Request,
        resource: str,
        call: Callable[[Books], BaseModel | dict[str, Any] | list[Any]],
        shape: Callable[[Any], dict[str, Any]],
    ) -> JSONResponse:
        """Run ``call`` on the books as the request's actor, in a worker thread, and answer the envelope."""
        caller = await run_in_threadpool(authenticate, request)
        books = Books(engine=engine, actor=caller.actor)
        rid = request_id(request)
        # Started before the wait and never cancelled: a wait_for whose timeout passed before the worker thread
        # started cancelled the operation outright (flaky under load), though the 503 says it goes on. Past the
        # timeout the operation goes on and commits or refuses alone; the client retries with the same
        # Idempotency-Key and gets the recorded answer, never a second posting.
        work = asyncio.ensure_future(run_in_threadpool(call, books))
        done, _ = await asyncio.wait({work}, timeout=timeout)
        if not done:
            _go_on(work, rid)
            message = f"the operation did not finish within {timeout:g}s; retry with the same Idempotency-Key"
            return JSONResponse(failure_envelope(rid, resource, [(TEMPORARY, message)]), status_code=503)
        try:
            result = work.result()
        except SubledgerError as exc:
            return JSONResponse(refusal(exc, resource, rid))
        except DBAPIError as exc:
            text = str(exc.orig)
            if "lock" in text.lower() or "could not serialize" in text:
                message = "the documents are locked by another operation: nothing was written; try again"
                return JSONResponse(failure_envelope(rid, resource, [(LOCKING, message)]), status_code=409)
            ERROR_LOG.error("request %s: %s", rid, "".join(traceback.format_exception(exc)))
            return JSONResponse(failure_envelope(rid, resource, [(INTERNAL, f"internal error, request {rid}")]), 500)
        except Exception as exc:
            ERROR_LOG.error("request %s: %s", rid, "".join(traceback.format_exception(exc)))
            return JSONResponse(failure_envelope(rid, resource, [(INTERNAL, f"internal error, request {rid}")]), 500)
        return JSONResponse({**shape(_model_of(result)), "success": True})

    def whole(result: Any) -> dict[str, Any]:
        return dict(result)

    Operation = Callable[[Books, str, dict[str, Any], str | None], Any]

    def write(
        path: str,
        param: str | None,
        resource: str,
        model: type[BaseModel] | None,
        op: Operation,
        summary: str,
        method: str = "PUT",
        shape: Callable[[Any], dict[str, Any]] = whole,
    ) -> None:
        async def endpoint(request: Request) -> JSONResponse:
            key = request.path_params[param] if param else ""
            caller = await run_in_threadpool(authenticate, request)  # no body is read without a valid token
            parameters(request, resource)
            body = await body_of(request, resource, key)
            idem = idempotency_key(request, resource)
            asked = {"method": method, "path": request.url.path, "requestId": request_id(request), "body": body}

            def audited_op(books: Books) -> Any:
                # A refusal of the service's own (a body it parses, what the book never does) is audited under
                # the endpoint's operationId; one a ``Books`` method refused is in the audit under its kind already.
                with audit_scope():
                    try:
                        return op(books, key, body, idem)
                    except Exception as exc:
                        record_once(
                            engine,
                            kind=_operation_id(method, path),
                            actor=caller.actor,
                            request_json=json.dumps(asked, sort_keys=True, separators=(",", ":"), default=str),
                            idempotency_key=idem,
                            error=exc,
                        )
                        raise

            return await operate(request, resource, audited_op, shape)

        endpoint.__name__ = f"{method.lower()}{path}"

        extra = _openapi_extra(param, model, writes=True)
        app.add_api_route(
            path,
            endpoint,
            methods=[method],
            summary=summary,
            openapi_extra=extra,
            operation_id=_operation_id(method, path),
        )

    def read(
        path: str,
        param: str | None,
        resource: str,
        op: Callable[[Books, str], Any],
        summary: str,
        shape: Callable[[Any], dict[str, Any]] = whole,
        paged: str | None = None,
    ) -> None:
        """A GET endpoint; ``paged`` names the list of a paged answer (``op`` returns the whole list)."""

        async def endpoint(request: Request) -> JSONResponse:
            key = request.path_params[param] if param else ""
            await run_in_threadpool(authenticate, request)
            parameters(request, resource, PAGE_PARAMETERS if paged else frozenset())
            if paged is None:
                return await operate(request, resource, lambda books: op(books, key), shape)
            page, size = page_of(request, resource)
            start = (page - 1) * size
            return await operate(
                request,
                resource,
                lambda books: op(books, key)[start : start + size + 1],
                page_shape(request, paged, page, size),
            )

        endpoint.__name__ = f"get{path}"

        app.add_api_route(
            path,
            endpoint,
            methods=["GET"],
            summary=summary,
            openapi_extra=_openapi_extra(param, None, writes=False, paged=paged is not None),
            operation_id=_operation_id("GET", path),
        )

    # --- paging of list endpoints ---------------------------------------------------------------------------------

    def page_of(request: Request, resource: str) -> tuple[int, int]:
        """The ``page`` and ``pageSize`` asked for (a malformed or out-of-range value: 400, naming it and its range)."""

        def number(name: str, default: int, top: int) -> int:
            raw = request.query_params.get(name, str(default))
            if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(top)) and 1 <= int(raw) <= top):
                raise _Refused(400, resource, INVALID, f"{name} must be a whole number from 1 to {top}")
            return int(raw)

        return number("page", 1, MAX_PAGE), number("pageSize", PAGE_SIZE, MAX_PAGE_SIZE)

    def page_shape(request: Request, key: str, page: int, size: int) -> Callable[[Any], dict[str, Any]]:
        """The page under ``key`` from the rows fetched (one past the page when there is a next one), and the next
        page's URL (the request's, its other parameters kept) while there is one."""

        def shape(rows: Any) -> dict[str, Any]:
            answer: dict[str, Any] = {key: rows[:size]}
            if len(rows) > size:
                answer["nextPage"] = str(request.url.include_query_params(page=page + 1, pageSize=size))
            return answer

        return shape

    # --- OAuth ----------------------------------------------------------------------------------------------------

    by_client = throttle.FailedAttempts(client_failures, failure_window)
    by_address = throttle.FailedAttempts(address_failures, failure_window)

    def basic_credentials(request: Request) -> tuple[str, str] | None:
        """The client id and secret of an ``Authorization: Basic`` header (each form-urlencoded, RFC 6749 2.3.1),
        or ``None`` without one."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            message = "Authorization: Basic must be the base64 of client_id:client_secret"
            raise _Refused(400, "oauth", MALFORMED, message)
        return unquote_plus(client_id), unquote_plus(secret)

    @app.post(
        "/oauth/token",
        summary="An access token for client credentials",
        operation_id="post_oauth_token",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "description": "client_id and client_secret here, or by HTTP Basic (RFC 6749 2.3.1), "
                            "not both",
                            "required": ["grant_type"],
                            "properties": {
                                "client_id": {"type": "string"},
                                "client_secret": {"type": "string"},
                                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            },
                        }
                    }
                },
            }
        },
    )
    async def token(request: Request) -> JSONResponse:
        raw = await request.body()
        wrong = wrong_media(request.headers.get("content-type"), FORM) if raw else None
        if wrong is not None:  # RFC 6749 4.4.2: the grant is a form, whatever else the body might parse as
            raise _Refused(415, "oauth", MALFORMED, wrong, headers={"Accept": FORM})
        try:
            form = {k: v[-1] for k, v in parse_qs(raw.decode(), strict_parsing=bool(raw)).items()}
        except (UnicodeDecodeError, ValueError):
            raise _Refused(400, "oauth", MALFORMED, "the body must be application/x-www-form-urlencoded") from None
        basic = basic_credentials(request)
        named = basic[0] if basic is not None else form.get("client_id", "")
        if is_identifier(named) and len(named) <= MAX_CLIENT_ID:
            request.scope["state"]["claimed_client"] = named  # the actor of a refusal, if a client of the book
        if basic is not None:
            # RFC 6749 2.3.1: a server MUST take the client's credentials by HTTP Basic, what OAuth libraries send
            # by default. One method per request (2.3): a client_id in the body too (some libraries add it) must be
            # the same, a secret there as well is refused.
            if "client_secret" in form or form.get("client_id", basic[0]) != basic[0]:
                message = (
                    "the client credentials are given both in Authorization: Basic and in the body: give them once"
                )
                raise _Refused(400, "oauth", MALFORMED, message)
            form["client_id"], form["client_secret"] = basic
        client_id = form.get("client_id", "")

        async def refuse(status: int, error: str, cat: int, message: str, **headers: str) -> JSONResponse:
            # RFC 6749's error names (slow_down: RFC 8628's) beside the reference product's envelope.
            exc = _Refused(status, "oauth", cat, message)
            await audited(request.scope, exc.error)
            body = {"error": error, **failure_envelope(request_id(request), "oauth", [(cat, message)])}
            return JSONResponse(body, status, headers=headers or None)

        if form.get("grant_type") != "client_credentials":
            return await refuse(400, "unsupported_grant_type", MALFORMED, "grant_type must be client_credentials")
        address = (request.scope.get("client") or ("", 0))[0]
        wait = max(by_client.retry_after(client_id) or 0, by_address.retry_after(address) or 0)
        if wait:
            message = f"too many failed attempts: try again in {wait}s"
            return await refuse(429, "slow_down", LIMIT, message, **{"Retry-After": str(wait)})
        issued = await run_in_threadpool(
            clients.issue_token, engine, client_id, form.get("client_secret", ""), token_ttl
        )
        if issued is None:
            by_client.failed(client_id)
            by_address.failed(address)
            # RFC 6749 5.2: a client that authenticated by a scheme is told that scheme.
            challenge = {"WWW-Authenticate": 'Basic realm="oauth"'} if basic is not None else {}
            return await refuse(401, "invalid_client", AUTHENTICATION, "unknown client or wrong secret", **challenge)
        by_client.forget(client_id)
        return JSONResponse(
            {"access_token": issued.access_token, "token_type": "bearer", "expires_in": issued.expires_in},
            headers={"Cache-Control": "no-store"},
        )

    # --- write-offs, reversals, applications ----------------------------------------------------------------------

    write(
        "/v1/invoices/{invoiceKey}/write-off",
        "invoiceKey",
        "invoice",
        WriteOffRequest,
        lambda b, k, body, i: b.write_off_invoice(k, body, idempotency_key=i),
        "Write off an invoice",
    )
    write(
        "/v1/debit-memos/{debitMemoKey}/write-off",
        "debitMemoKey",
        "debit-memo",
        WriteOffRequest,
        lambda b, k, body, i: b.write_off_debit_memo(k, body, idempotency_key=i),
        "Write off a debit memo",
    )
    write(
        "/v1/creditmemos/{creditMemoId}/write-off",
        "creditMemoId",
        "credit-memo",
        CreditMemoWriteOffRequest,
        lambda b, k, body, i: b.write_off_credit_memo(k, body, idempotency_key=i),
        "Write off a credit memo",
    )
    write(
        "/v1/invoices/{invoiceKey}/reverse",
        "invoiceKey",
        "invoice",
        InvoiceReversalRequest,
        lambda b, k, body, i: b.reverse_invoice(k, body, idempotency_key=i),
        "Reverse an invoice",
    )
    for prefix in ("credit-memos", "creditmemos"):
        write(
            f"/v1/{prefix}/{{creditMemoKey}}/reverse",
            "creditMemoKey",
            "credit-memo",
            CreditMemoReversalRequest,
            lambda b, k, body, i: b.reverse_credit_memo(k, body, idempotency_key=i),
            "Reverse a credit memo",
        )
        write(
            f"/v1/{prefix}/{{creditMemoKey}}/apply",
            "creditMemoKey",
            "credit-memo",
            CreditMemoApplyRequest,
            lambda b, k, body, i: b.apply_credit_memo(k, body, idempotency_key=i),
            "Apply a credit memo",
        )
        write(
            f"/v1/{prefix}/{{creditMemoKey}}/unapply",
            "creditMemoKey",
            "credit-memo",
            CreditMemoUnapplyRequest,
            lambda b, k, body, i: b.unapply_credit_memo(k, body, idempotency_key=i),
            "Unapply a credit memo",
        )
        read(
            f"/v1/{prefix}/{{creditMemoKey}}",
            "creditMemoKey",
            "credit-memo",
            lambda b, k: b.show("credit-memo", k),
            "A credit memo with its items and taxation items",
        )
    # --- refunds (issue 19): Books.refund_credit_memo and Books.cancel_refund --------------------------------------

    for prefix in ("credit-memos", "creditmemos"):
        write(
            f"/v1/{prefix}/{{creditMemoKey}}/refunds",
            "creditMemoKey",
            "credit-memo",
            CreditMemoRefundRequest,
            lambda b, k, body, i: b.refund_credit_memo(k, body, idempotency_key=i),
            "Refund part of a credit memo's unapplied amount",
            method="POST",
        )
    write(
        "/v1/refunds/{refundKey}/cancel",
        "refundKey",
        "refund",
        RefundCancelRequest,
        lambda b, k, body, i: b.cancel_refund(k, body, idempotency_key=i),
        "Cancel a refund (its mirror posts on cancelDate, default today)",
    )
    read(
        "/v1/refunds/{refundKey}",
        "refundKey",
        "refund",
        lambda b, k: b.refund(k),
        "A refund: amounts, status, the credit memo's amounts now, its journal entries",
    )

    write(
        "/v1/payments/{paymentKey}/apply",
        "paymentKey",
        "payment",
        PaymentApplyRequest,
        lambda b, k, body, i: b.apply_payment(k, body, idempotency_key=i),
        "Apply a payment",
    )
    write(
        "/v1/payments/{paymentKey}/unapply",
        "paymentKey",
        "payment",
        PaymentUnapplyRequest,
        lambda b, k, body, i: b.unapply_payment(k, body, idempotency_key=i),
        "Unapply a payment",
    )
    read(
        "/v1/invoices/{invoiceKey}",
        "invoiceKey",
        "invoice",
        lambda b, k: b.show("invoice", k),
        "An invoice with its items and taxation items",
    )
    read(
        "/v1/debit-memos/{debitMemoKey}",
        "debitMemoKey",
        "debit-memo",
        lambda b, k: b.show("debit-memo", k),
        "A debit memo with its items and taxation items",
    )

    async def list_payments(request: Request) -> JSONResponse:
        await run_in_threadpool(authenticate, request)
        parameters(request, "payment", PAGE_PARAMETERS | {"accountNumber"})
        account = request.query_params.get("accountNumber")
        page, size = page_of(request, "payment")
        return await operate(
            request,
            "payment",
            lambda books: books.payments(account=account, offset=(page - 1) * size, limit=size + 1),
            page_shape(request, "payments", page, size),
        )

    app.add_api_route(
        "/v1/payments",
        list_payments,
        methods=["GET"],
        summary="Payments (of one customer account with ?accountNumber=), oldest first, then by number; paged",
        operation_id="get_v1_payments",
        openapi_extra={
            "parameters": [
                {"name": "accountNumber", "in": "query", "required": False, "schema": {"type": "string"}},
                *PAGING,
            ],
            "security": [{"bearer": []}],
        },
    )
    read(
        "/v1/payments/{paymentKey}",
        "paymentKey",
        "payment",
        lambda b, k: b.payment(k),
        "A payment: amount, unapplied amount, status",
    )

    # --- accounting periods -----------------------------------------------------------------------------------------

    def one_period(books: Books, name: str) -> Any:
        for period in books.periods():
            if period.name == name:
                return period
        raise NotFound(f"no accounting period {name}", document=name)

    read(
        "/v1/accounting-periods",
        None,
        "period",
        lambda b, _: b.periods(),
        "The accounting periods, oldest first; paged",
        paged="accountingPeriods",
    )
    read("/v1/accounting-periods/{apId}", "apId", "period", one_period, "An accounting period")
    write(
        "/v1/accounting-periods/{apId}/pending-close",
        "apId",
        "period",
        None,
        lambda b, k, body, i: _no_body(body, k) or b.pending_close(k, idempotency_key=i),
        "Set an accounting period to Pending Close",
    )
    write(
        "/v1/accounting-periods/{apId}/close",
        "apId",
        "period",
        None,
        lambda b, k, body, i: _no_body(body, k) or b.close_period(k, idempotency_key=i),
        "Close an accounting period (every close check passing)",
    )
    write(
        "/v1/accounting-periods/{apId}/reopen",
        "apId",
        "period",
        Reason,
        lambda b, k, body, i: b.reopen_period(k, _parse(Reason, body, k).reason, idempotency_key=i),
        "Reopen the latest closed accounting period",
    )
    write(
        "/v1/accounting-periods/{apId}/run-trial-balance",
        "apId",
        "period",
        None,
        lambda b, k, body, i: _no_body(body, k) or b.check(k),
        "Run the close checks on an accounting period (writes nothing)",
    )

    # --- journal runs -----------------------------------------------------------------------------------------------

    def create_run(books: Books, _: str, body: dict[str, Any], key: str | None) -> Any:
        request: JournalRunCreate = _parse(JournalRunCreate, body, None)
        return books.create_journal_run(request.period_name(books.periods()), idempotency_key=key)

    def run_created(result: dict[str, Any]) -> dict[str, Any]:
        run = result.get("run")
        return {"journalRunNumber": run["number"] if run else None, **result}

    write(
        "/v1/journal-runs",
        "",
        "journal-run",
        JournalRunCreate,
        create_run,
        "Create a journal run",
        method="POST",
        shape=run_created,
    )
    read("/v1/journal-runs/{jrNumber}", "jrNumber", "journal-run", lambda b, k: b.journal_run(k), "A journal run")
    write(
        "/v1/journal-runs/{jrNumber}/cancel",
        "jrNumber",
        "journal-run",
        OptionalReason,
        lambda b, k, body, i: b.cancel_journal_run(k, _parse(OptionalReason, body, k).reason, idempotency_key=i),
        "Cancel a journal run",
    )
    read(
        "/v1/journal-entries/journal-runs/{jrNumber}",
        "jrNumber",
        "journal-entry",
        lambda b, k: b.journal_run(k).summary or [],
        "A journal run's summary journal entries; paged",
        paged="journalEntries",
    )

    # --- what the book never does (issue 19): category 45, after the document is found ------------------------------

    def delete_run(books: Books, number: str, _body: dict[str, Any], _: str | None) -> Any:
        run = books.journal_run(number)
        raise Unsupported(
            f"journal run {number} is {run.status}; the book never deletes a journal run: a cancelled run stays "
            "for the audit trail, its entries already released to the next run (PUT /v1/journal-runs/{jrNumber}"
            "/cancel)",
            document=number,
        )

    write(
        "/v1/journal-runs/{jrNumber}",
        "jrNumber",
        "journal-run",
        None,
        delete_run,
        "Refused: the book keeps cancelled journal runs for the audit trail",
        method="DELETE",
    )

    def calendar_is_a_folder(books: Books, name: str, body: dict[str, Any], _: str | None) -> Any:
        if name:
            one_period(books, name)
        raise Unsupported(
            "the accounting periods are the book's fiscal calendar, defined in its periods/ folder (one CSV file "
            "per fiscal year, loaded by subledger init --periods DIR); the HTTP service only moves a period's "
            "status (PUT /v1/accounting-periods/{apId}/pending-close, /close, /reopen)",
            document=name or None,
        )

    for path, param, method in (
        ("/v1/accounting-periods", None, "POST"),
        ("/v1/accounting-periods/{apId}", "apId", "PUT"),
        ("/v1/accounting-periods/{apId}", "apId", "DELETE"),
    ):
        write(
            path,
            param,
            "period",
            None,
            calendar_is_a_folder,
            "Refused: the periods are defined in the periods/ folder",
            method=method,
        )

    # --- summary journal entries (issue 19): the book transfers and cancels whole runs ------------------------------

    read(
        "/v1/journal-entries/{jeNumber}",
        "jeNumber",
        "journal-entry",
        lambda b, k: b.journal_entry(k),
        "A summary journal entry of a journal run, with its run's transfer status",
    )

    def transfer_entry(books: Books, number: str, body: dict[str, Any], key: str | None) -> JournalEntryTransfer:
        """``transferredToAccounting`` of one summary entry (the book's rule: ``journal_runs.transfer_entry``)."""
        request: JournalEntryBasicInformation = _parse(JournalEntryBasicInformation, body, number)
        view = books.transfer_journal_entry(number, request, idempotency_key=key)
        entry, run = books.journal_entry(number), view.number
        transferred = TRANSFERRED[view.status]
        return JournalEntryTransfer(
            journal_entry_number=number,
            journal_run_number=run,
            transferred_to_accounting=transferred,
            message=f"journal run {run} ({entry.entries_in_run} summary journal entries, one ERP file) is "
            f"{view.status}: transferredToAccounting {transferred} for each of its entries",
            journal_run=view,
        )

    write(
        "/v1/journal-entries/{jeNumber}/basic-information",
        "jeNumber",
        "journal-entry",
        JournalEntryBasicInformation,
        transfer_entry,
        "Set a summary journal entry's transferredToAccounting (the book transfers its whole journal run)",
    )

    def cancel_entry(books: Books, number: str, body: dict[str, Any], _: str | None) -> Any:
        _no_body(body, number)
        run = books.journal_entry(number).journal_run_number
        raise RuleViolation(
            f"the book cancels whole journal runs, not one summary journal entry: PUT /v1/journal-runs/{run}/cancel "
            "releases every entry of the run to the next run",
            document=number,
        )

    write(
        "/v1/journal-entries/{jeNumber}/cancel",
        "jeNumber",
        "journal-entry",
        None,
        cancel_entry,
        "Refused: the book cancels whole journal runs (PUT /v1/journal-runs/{jrNumber}/cancel)",
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return Edge(app, max_body, audited)


def openapi_document() -> dict[str, Any]:
    """The service's OpenAPI document (no database is opened to build it)."""
    edge = create_app(create_engine("sqlite://"))
    return edge.app.openapi()


if __name__ == "__main__":
    # ``python -m subledger.http.app > docs/openapi.json``: the committed document.
    print(json.dumps(openapi_document(), indent=2, ensure_ascii=False))
