"""``--json`` results in one vocabulary, and whether an idempotent call was a replay.

Every operation's result keeps its own fields and gains the same few keys in front: ``success``, ``operation`` (the
kind recorded in the audit trail), ``operationId``, ``replayed`` (true when the idempotency key had already run this
request: the recorded result is answered and nothing is posted again), ``documentNumber`` and ``documentKind`` (the
document the command named), and ``memoNumber``/``memoKind`` (the memo a write-off or reversal generated). Errors
are ``{"success": false, "reasons": [{"code", "message", "document", "field", "rule"}]}`` (the reference product's
shape). ``subledger schema --output NAME`` prints each shape (``cli.output_models``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from subledger.cli.common import STATE, to_jsonable

KIND_OF = {"invoice": "Invoice", "debit-memo": "DebitMemo", "credit-memo": "CreditMemo", "payment": "Payment"}


@dataclass
class Run:
    """One operation run by a command: its kind, the document it names, and what the audit trail says of it."""

    kind: str
    document: str | None = None
    replayed: bool = False
    operation_id: int | None = None


def _operation_id(engine: Any, run: Run, key: str | None) -> int | None:
    from subledger.queries import last_operation

    with engine.connect() as conn:
        return last_operation(conn, kind=run.kind, document=run.document, idempotency_key=key)


def before(engine: Any, kind: str, document: str | None = None) -> Run:
    """Call before the operation: a key already recorded means the call is a replay (or refused as a conflict)."""
    run = Run(kind, document)
    if STATE.idempotency_key is not None:
        found = _operation_id(engine, run, STATE.idempotency_key)
        if found is not None:
            run.replayed, run.operation_id = True, found
    return run


def after(engine: Any, run: Run) -> Run:
    """Call once the operation answered: the id of the operation it recorded."""
    if run.operation_id is None:
        run.operation_id = _operation_id(engine, run, STATE.idempotency_key)
    return run


def run(kind: str, document: str | None, call: Callable[[Any], Any]) -> tuple[Any, Run]:
    """Run one operation through ``Books``, noting whether it was a replay and which operation it recorded.

    A replay is known from the operation itself (``noting_replays``) as well as from the key found before the call:
    a caller with the same key may record it in between, and this call then answers that caller's result."""
    from subledger.cli.common import books
    from subledger.operations.base import noting_replays

    book = books()
    noted = before(book.engine, kind, document)
    with noting_replays() as replays:
        result = call(book)
    for key, operation_id in replays:
        if key == STATE.idempotency_key:
            noted.replayed, noted.operation_id = True, operation_id
    return result, after(book.engine, noted)


def was_replayed(engine: Any, key: str | None, kind: str) -> bool:
    if key is None:
        return False
    return _operation_id(engine, Run(kind), key) is not None


def _subject(data: dict[str, Any]) -> dict[str, Any]:
    """The document the result is about and the memo it generated, from whichever result shape it is."""
    subject: dict[str, Any] = {}
    if "documentKind" in data:  # a write-off
        subject = {"documentNumber": data.get("document"), "documentKind": data["documentKind"]}
        for key, kind in (("creditMemo", "CreditMemo"), ("debitMemo", "DebitMemo")):
            if isinstance(data.get(key), dict):
                subject |= {"memoNumber": data[key].get("number"), "memoKind": kind}
    elif isinstance(data.get("reversed"), list) and data["reversed"]:  # a reversal: the first is the one named
        first = data["reversed"][0]
        subject = {
            "documentNumber": first.get("number"),
            "documentKind": first.get("kind"),
            "memoNumber": first.get("memoNumber"),
            "memoKind": first.get("memoKind"),
        }
    elif "sourceKind" in data:  # an application
        subject = {"documentNumber": data.get("number"), "documentKind": data["sourceKind"]}
    elif "period" in data and "toStatus" in data:
        subject = {"documentNumber": data["period"], "documentKind": "Period"}
    return {k: v for k, v in subject.items() if v is not None}


def operation_json(kind: str, result: Any, *, replayed: bool = False, run: Run | None = None) -> dict[str, Any]:
    data = to_jsonable(result)
    common: dict[str, Any] = {"success": True, "operation": kind, "replayed": replayed}
    if run is not None:
        common |= {"operation": run.kind, "replayed": run.replayed}
        if run.operation_id is not None:
            common["operationId"] = run.operation_id
    if isinstance(data, dict):
        if "operationId" in data:
            common["operationId"] = data["operationId"]
        return {**common, **_subject(data), **data}
    return {**common, "result": data}


def replay_note(run: Run) -> str:
    """What a person is told of a replay: the first result, answered again, and nothing posted twice."""
    return (
        f" (a replay of operation {run.operation_id} with idempotency key {STATE.idempotency_key}: "
        "its recorded result, nothing posted again)"
        if run.replayed
        else ""
    )


def to_list(results: list[Any]) -> list[Any]:
    return [to_jsonable(r) for r in results]
