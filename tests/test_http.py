"""The HTTP service over a real socket (uvicorn on 127.0.0.1, an ephemeral port, httpx), on both engines: OAuth 2.0
client credentials, every endpoint's success and refusal envelope, idempotency, the reference product's documented
bodies unchanged, request limits, and one write-off winning among concurrent clients."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select, text

from conftest import ROOT, db_url, dump, example, net_by_code
from subledger.api import Books
from subledger.errors import Problems
from subledger.http.app import create_app, openapi_document
from subledger.http.clients import NewClient, create_client
from subledger.http.protocol import HTTP_PROTOCOL
from subledger.http.throttle import FailedAttempts
from subledger.models.journal_run import REFERENCE_TRANSACTION_TYPES
from subledger.storage.db import make_engine
from subledger.storage.schema import audit_refusals, documents

INV = "INV00000001"
HEADER = example("write-off-header.json")  # the reference product's documented write-off body, unchanged


@contextmanager
def serving(books: Books, **options: Any) -> Iterator[str]:
    """The service over ``books`` on an ephemeral port, stopped (gracefully) at the end."""
    config = uvicorn.Config(
        create_app(books.engine, **options),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        http=HTTP_PROTOCOL,  # as subledger serve runs it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        assert not thread.is_alive()


class Api:
    """An authenticated client of the service."""

    def __init__(self, base: str, client_id: str, secret: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        answer = self.http.post(
            "/oauth/token",
            data={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
        )
        assert answer.status_code == 200, answer.text
        token = answer.json()
        assert token["token_type"] == "bearer"
        assert token["expires_in"] > 0
        self.token = str(token["access_token"])
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def put(self, path: str, body: Any = None, *, key: str | None = None, raw: bytes | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        return self.http.put(path, content=content, headers={"Content-Type": "application/json", **headers})

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)


@pytest.fixture
def seed(seed003: Books) -> Iterator[tuple[Books, Api, str]]:
    made = create_client(seed003.engine, "integrator", "admin")
    with serving(seed003) as base:
        api = Api(base, made.client_id, made.client_secret)
        yield seed003, api, base
        api.http.close()


def books_only(books: Books) -> dict[str, Any]:
    """Every table but the access tokens (which authentication writes on purpose)."""
    return {name: rows for name, rows in dump(books.engine).items() if name != "api_tokens"}


def ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["Zuora-Request-Id"]
    body: dict[str, Any] = answer.json()
    assert body["success"] is True, body
    return body


def refused(answer: httpx.Response, category: int, status: int = 200) -> str:
    """The reference product's refusal envelope; returns the first reason's message."""
    assert answer.status_code == status, answer.text
    assert answer.headers["Zuora-Request-Id"]
    body = answer.json()
    assert body["success"] is False
    assert body["processId"] == answer.headers["Zuora-Request-Id"]
    code = body["reasons"][0]["code"]
    assert isinstance(code, int)
    assert len(str(code)) == 8
    assert code % 100 == category, body
    return str(body["reasons"][0]["message"])


# --- authentication -------------------------------------------------------------------------------------------------


def test_no_request_without_a_valid_token_reaches_an_operation(seed: tuple[Books, Api, str]) -> None:
    books, api, base = seed
    before = books_only(books)
    with httpx.Client(base_url=base) as anonymous:
        body = HEADER.read_bytes()
        assert "Bearer" in anonymous.put(f"/v1/invoices/{INV}/write-off", content=body).headers["WWW-Authenticate"]
        refused(anonymous.put(f"/v1/invoices/{INV}/write-off", content=body), 11, 401)
        bogus = {"Authorization": "Bearer not-a-token"}
        refused(anonymous.put(f"/v1/invoices/{INV}/write-off", content=body, headers=bogus), 11, 401)
        refused(anonymous.get(f"/v1/invoices/{INV}"), 11, 401)
        wrong = {"client_id": "integrator", "client_secret": "guess", "grant_type": "client_credentials"}
        answer = anonymous.post("/oauth/token", data=wrong)
        assert answer.json()["error"] == "invalid_client"
        refused(answer, 11, 401)
        answer = anonymous.post("/oauth/token", data={**wrong, "grant_type": "password"})
        refused(answer, 90, 400)
        # An expired token is refused like an unknown one.
        with books.engine.begin() as conn:
            conn.execute(text("UPDATE api_tokens SET expires_at = 0"))
        refused(api.put(f"/v1/invoices/{INV}/write-off", raw=body), 11, 401)
    assert books_only(books) == before
    stored = dump(books.engine)["api_clients"][0]
    assert "integrator" in stored[0]
    assert "scrypt$" in stored[2]


# --- write-offs -------------------------------------------------------------------------------------------------------


def test_write_off_invoice_with_the_documented_body(seed: tuple[Books, Api, str]) -> None:
    books, api, _ = seed
    done = ok(api.put(f"/v1/invoices/{INV}/write-off", raw=HEADER.read_bytes()))
    assert done["creditMemo"]["id"]
    assert done["creditMemo"]["number"] == f"WO-{INV}-1"
    assert done["amount"] == "430.00"
    invoice = ok(api.get(f"/v1/invoices/{INV}"))
    assert invoice["balance"] == "0.00"
    assert invoice["items"][0]["balance"] == "0.00"
    memo = ok(api.get(f"/v1/creditmemos/WO-{INV}-1"))
    assert memo["unappliedAmount"] == "0.00"
    assert books.show("invoice", INV)["balance"] == "0.00"
    # The same write-off again: refused by the operation's rule, in the envelope.
    assert "nothing left" in refused(api.put(f"/v1/invoices/{INV}/write-off", raw=HEADER.read_bytes()), 30)


def test_refusals_name_document_field_and_rule(seed: tuple[Books, Api, str]) -> None:
    books, api, _ = seed
    before = dump(books.engine)
    assert refused(api.put("/v1/invoices/NOPE/write-off", {}), 40) == "NOPE: no invoice NOPE"
    assert "surprise" in refused(api.put(f"/v1/invoices/{INV}/write-off", {"surprise": 1}), 21)
    assert "memoDate" in refused(api.put(f"/v1/invoices/{INV}/write-off", {"memoDate": "16/11/2026"}), 20)
    assert "credit memo" in refused(api.get("/v1/creditmemos/NOPE"), 40)
    # Malformed requests are 4xx: bad JSON, a duplicate key (models.jsonio), a body over the limit.
    refused(api.put(f"/v1/invoices/{INV}/write-off", raw=b'{"comment": '), 90, 400)
    assert "duplicate" in refused(api.put(f"/v1/invoices/{INV}/write-off", raw=b'{"a": 1, "a": 2}'), 90, 400)
    refused(api.put(f"/v1/invoices/{INV}/write-off", raw=b" " * (1 << 20) + b"{}"), 70, 413)
    # Streamed in chunks, with no length declared: cut off at the limit all the same.
    chunks = (b" " * (1 << 16) for _ in range(17))
    refused(api.http.put(f"/v1/invoices/{INV}/write-off", content=chunks), 70, 413)
    refused(api.put(f"/v1/invoices/{INV}/write-off", {}, key="k" * 256), 90, 400)
    assert dump(books.engine) == before
    with books.engine.connect() as conn:
        kinds = [row.kind for row in conn.execute(select(audit_refusals))]
    assert kinds.count("write-off-invoice") == 3  # the operations' refusals are audited; malformed ones never ran


def test_idempotency_key_replays_and_refuses_another_body(seed: tuple[Books, Api, str]) -> None:
    books, api, _ = seed
    first = ok(api.put(f"/v1/invoices/{INV}/write-off", raw=HEADER.read_bytes(), key="wo-1"))
    after = dump(books.engine)
    again = ok(api.put(f"/v1/invoices/{INV}/write-off", raw=HEADER.read_bytes(), key="wo-1"))
    assert again == first
    other = {"memoDate": "2026-11-17", "reasonCode": "Write-off"}
    assert "idempotency key 'integrator:wo-1'" in refused(
        api.put(f"/v1/invoices/{INV}/write-off", other, key="wo-1"), 30
    )
    assert dump(books.engine) == after
    # Another client's keys are its own: the same key and body run its own request (refused: nothing left), never
    # replaying the first client's answer.
    made = create_client(books.engine, "other", "admin")
    second = Api(str(api.http.base_url), made.client_id, made.client_secret)
    assert "nothing left" in refused(
        second.put(f"/v1/invoices/{INV}/write-off", raw=HEADER.read_bytes(), key="wo-1"), 30
    )
    # A key as long as the reference product allows fits beside any client id (recorded by its hash).
    ok(second.put("/v1/invoices/INV00000002/write-off", raw=HEADER.read_bytes(), key="k" * 255))
    second.http.close()


def retry_gets_the_recorded_write_off(books: Books, made: NewClient, key: str) -> None:
    """The retry of a write-off answered 503 gets its recorded answer: one credit memo, posted once."""
    with serving(books) as base:
        api = Api(base, made.client_id, made.client_secret)
        again = ok(api.put(f"/v1/invoices/{INV}/write-off", raw=HEADER.read_bytes(), key=key))
        assert again["creditMemo"]["number"] == f"WO-{INV}-1"
        api.http.close()
    assert len([e for e in books.journal(document=INV) if e.tag == "write-off"]) == 2


def test_an_operation_past_the_timeout_answers_503_and_a_retry_gets_its_result(seed003: Books) -> None:
    made = create_client(seed003.engine, "integrator", "admin")
    with serving(seed003, timeout=0) as base:
        api = Api(base, made.client_id, made.client_secret)
        late = api.put(f"/v1/invoices/{INV}/write-off", raw=HEADER.read_bytes(), key="slow-1")
        assert "retry with the same Idempotency-Key" in refused(late, 61, 503)
        api.http.close()
    # The operation went on in its thread and committed, though the timeout passed before its thread started; the
    # retry answers its recorded result.
    deadline = time.monotonic() + 20
    while seed003.show("invoice", INV)["balance"] != "0.00":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    retry_gets_the_recorded_write_off(seed003, made, "slow-1")


def test_the_timeout_answers_while_the_operation_still_runs(seed003: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 503 comes at the timeout, not when the operation ends: the write-off waits here until the client has its
    answer (a service that waited for it would never answer, and the client's read would time out); then it goes on,
    commits, and the retry with the same Idempotency-Key gets its recorded answer."""
    made = create_client(seed003.engine, "integrator", "admin")
    answered = threading.Event()
    write_off = Books.write_off_invoice

    def held(self: Books, *args: Any, **kwargs: Any) -> Any:
        assert answered.wait(30)
        return write_off(self, *args, **kwargs)

    monkeypatch.setattr(Books, "write_off_invoice", held)
    with serving(seed003, timeout=0.2) as base:
        api = Api(base, made.client_id, made.client_secret)
        api.http.timeout = httpx.Timeout(10)
        late = api.put(f"/v1/invoices/{INV}/write-off", raw=HEADER.read_bytes(), key="held-1")
        assert seed003.show("invoice", INV)["balance"] != "0.00"
        answered.set()
        assert "retry with the same Idempotency-Key" in refused(late, 61, 503)
        api.http.close()
    # Stopping the service waited for the operation still running.
    assert seed003.show("invoice", INV)["balance"] == "0.00"
    monkeypatch.setattr(Books, "write_off_invoice", write_off)
    retry_gets_the_recorded_write_off(seed003, made, "held-1")


def test_amounts_as_json_numbers_are_exact(seed: tuple[Books, Api, str]) -> None:
    """A typed client of the reference product sends amounts as JSON numbers with fractions: read from their text,
    100.10 writes off exactly 100.10 (no float on the way)."""
    books, api, _ = seed
    before = [i["balance"] for i in books.show("invoice", INV)["items"]]
    body = {"memoDate": "2026-11-16", "items": [{"invoiceItemId": "II-0001", "amountWithoutTax": 100.10}]}
    raw = json.dumps(body).encode()
    assert b'"amountWithoutTax": 100.1}' in raw  # what a JSON encoder of a float sends
    ok(api.put(f"/v1/invoices/{INV}/write-off", raw=raw))
    assert before[0] == "330.00"
    assert [i["balance"] for i in books.show("invoice", INV)["items"]] == ["229.90", *before[1:]]
    memo = [e for e in books.journal(document=INV) if e.transaction_type == "Credit Memo Item (Charge)"]
    assert [(line.debit, line.credit) for line in memo[0].lines] == [("100.10", "0.00"), ("0.00", "100.10")]


def test_permissions_are_the_clients_actor(seed003: Books, tmp_path: Path) -> None:
    actors = tmp_path / "actors.toml"
    actors.write_text('[actors.clerk]\npermissions = ["Reverse Invoice"]\n')
    seed003.import_actors(actors)
    made = create_client(seed003.engine, "clerk-app", "clerk")
    with serving(seed003) as base:
        api = Api(base, made.client_id, made.client_secret)
        assert "Enhanced Write-off" in refused(api.put("/v1/debit-memos/DM00000001/write-off", {}), 10)
        api.http.close()
    with seed003.engine.connect() as conn:
        actors_refused = [row.actor for row in conn.execute(select(audit_refusals))]
    assert actors_refused == ["clerk"]


# --- reversals, applications --------------------------------------------------------------------------------------


NOV = {"memoDate": "2026-11-16", "applyEffectiveDate": "2026-11-16"}


def test_reverse_invoice(seed: tuple[Books, Api, str]) -> None:
    books, api, _ = seed
    done = ok(api.put(f"/v1/invoices/{INV}/reverse", NOV))
    assert done["creditMemo"]["id"]
    assert books.show("invoice", INV)["balance"] == "0.00"
    assert "reversed" in refused(api.put(f"/v1/invoices/{INV}/reverse", NOV), 30)


@pytest.fixture
def lines(line_level: Books) -> Iterator[tuple[Books, Api]]:
    made = create_client(line_level.engine, "integrator", "admin")
    with serving(line_level) as base:
        api = Api(base, made.client_id, made.client_secret)
        yield line_level, api
        api.http.close()


def test_apply_unapply_and_reverse_credit_memo(lines: tuple[Books, Api]) -> None:
    books, api = lines
    body = {"effectiveDate": "2026-11-02", "invoices": [{"invoiceNumber": "INV00000010", "amount": "43.50"}]}
    applied = ok(api.put("/v1/creditmemos/CM00000001/apply", body))
    assert (applied["amount"], applied["unappliedAmount"]) == ("43.50", "0.00")
    assert "43.50" in refused(api.put("/v1/creditmemos/CM00000001/apply", body), 30)
    undone = ok(api.put("/v1/credit-memos/CM00000001/unapply", {**body, "effectiveDate": "2026-11-03"}))
    assert undone["unappliedAmount"] == "43.50"
    reversed_ = ok(api.put("/v1/credit-memos/CM00000001/reverse", raw=example("reverse-credit-memo.json").read_bytes()))
    assert reversed_["debitMemo"]["id"]
    assert books.show("credit-memo", "CM00000001")["unappliedAmount"] == "0.00"


def test_unapply_and_apply_payment(lines: tuple[Books, Api]) -> None:
    books, api = lines
    body = {"effectiveDate": "2026-11-03", "invoices": [{"invoiceNumber": "INV00000010", "amount": "100.00"}]}
    before = books.show("invoice", "INV00000010")["balance"]
    assert ok(api.put("/v1/payments/P00000010/unapply", body))["unappliedAmount"] == "100.00"
    assert ok(api.put("/v1/payments/P00000010/apply", body))["unappliedAmount"] == "0.00"
    assert books.show("invoice", "INV00000010")["balance"] == before
    refused(api.put("/v1/payments/P00000010/apply", body), 30)
    refused(api.put("/v1/payments/NOPE/apply", body), 40)
    payment = ok(api.get("/v1/payments/P00000010"))
    assert (payment["amount"], payment["unappliedAmount"], payment["accountNumber"]) == ("100.00", "0.00", "A00000002")
    listed = ok(api.get("/v1/payments?accountNumber=A00000002"))["payments"]
    assert [p["number"] for p in listed] == ["P00000010"]
    refused(api.get("/v1/payments/NOPE"), 40)


# --- accounting periods, journal runs -------------------------------------------------------------------------------


def test_accounting_periods(seed: tuple[Books, Api, str]) -> None:
    books, api, _ = seed
    listed = ok(api.get("/v1/accounting-periods"))["accountingPeriods"]
    assert [p["name"] for p in listed][:2] == ["2026-01", "2026-02"]
    assert ok(api.get("/v1/accounting-periods/2026-01"))["status"] == "Open"
    refused(api.get("/v1/accounting-periods/1999-01"), 40)
    report = ok(api.put("/v1/accounting-periods/2026-10/run-trial-balance"))
    assert report["period"] == "2026-10"
    assert report["checks"]
    # Closing needs every earlier period closed: refused for 2026-02, done for 2026-01.
    assert "2026-01" in refused(api.put("/v1/accounting-periods/2026-02/close"), 30)
    assert ok(api.put("/v1/accounting-periods/2026-01/pending-close"))["toStatus"] == "Pending Close"
    assert ok(api.put("/v1/accounting-periods/2026-01/close"))["toStatus"] == "Closed"
    refused(api.put("/v1/accounting-periods/2026-01/reopen", {}), 22)
    assert ok(api.put("/v1/accounting-periods/2026-01/reopen", {"reason": "late invoice"}))["toStatus"] == "Open"
    assert books.periods()[0].status == "Open"


def test_journal_runs(seed: tuple[Books, Api, str]) -> None:
    books, api, _ = seed
    created = ok(api.http.post("/v1/journal-runs", json={"accountingPeriodName": "2026-10"}))
    number = created["journalRunNumber"]
    assert number == created["run"]["number"]
    run = ok(api.get(f"/v1/journal-runs/{number}"))
    assert run["status"] == "Processing"
    summary = ok(api.get(f"/v1/journal-entries/journal-runs/{number}"))["journalEntries"]
    assert summary
    assert ok(api.put(f"/v1/journal-runs/{number}/cancel", {"reason": "wrong period"}))["status"] == "Cancelled"
    assert books.journal_run(number).status == "Cancelled"
    refused(api.get("/v1/journal-runs/JR-99999999"), 40)
    assert "organizationLabels" in refused(
        api.http.post("/v1/journal-runs", json={"accountingPeriodName": "2026-10", "organizationLabels": []}), 21
    )


# --- refunds (issue 19) --------------------------------------------------------------------------------------------

CM = "CM00000001"  # line-level books: CMI-0001 40.00 + tax CTI-0001 3.50 = 43.50 unapplied, dated 2026-10-15


def refund_lines(books: Books) -> list[tuple[str, str, str, str]]:
    return [
        (str(e.date), line.accounting_code, line.debit, line.credit)
        for e in books.journal(document=CM)
        if e.tag == "refund"
        for line in e.lines
    ]


def test_refund_a_credit_memo_and_cancel_the_refund(lines: tuple[Books, Api]) -> None:
    """20.00 refunded on 2026-11-10 takes CMI-0001 first (External Refund: Dr Credit Memo On-Account, Cr Cash);
    cancelled on 2026-11-12, its mirror posts and the memo has 43.50 unapplied again."""
    books, api = lines
    body = {"totalAmount": "20.00", "refundDate": "2026-11-10", "methodType": "Check"}
    done = ok(api.http.post(f"/v1/credit-memos/{CM}/refunds", json=body, headers={"Idempotency-Key": "rf-1"}))
    assert (done["number"], done["status"], done["unappliedAmount"], done["refundAmount"]) == (
        "RF-CM00000001-1",
        "Processed",
        "23.50",
        "20.00",
    )
    assert done["items"] == [{"creditMemoItemId": "CMI-0001", "amount": "20.00"}]
    assert [e["transactionType"] for e in done["journalEntries"]] == ["External Refund"]
    assert refund_lines(books) == [
        ("2026-11-10", "Credit Memo On-Account", "20.00", "0.00"),
        ("2026-11-10", "Cash", "0.00", "20.00"),
    ]
    memo = ok(api.get(f"/v1/creditmemos/{CM}"))
    assert (memo["unappliedAmount"], memo["refundAmount"]) == ("23.50", "20.00")
    shown = ok(api.get("/v1/refunds/RF-CM00000001-1"))
    assert {k: shown[k] for k in ("number", "status", "items", "unappliedAmount")} == {
        k: done[k] for k in ("number", "status", "items", "unappliedAmount")
    }
    # The same key and body replay the answer; nothing is refunded twice.
    after = dump(books.engine)
    again = api.http.post(f"/v1/creditmemos/{CM}/refunds", json=body, headers={"Idempotency-Key": "rf-1"})
    assert ok(again) == done
    assert dump(books.engine) == after
    # Refusals in the envelope, writing nothing: more than the unapplied amount, no amount, an unknown memo.
    assert "23.50" in refused(api.http.post(f"/v1/creditmemos/{CM}/refunds", json={**body, "totalAmount": "30"}), 30)
    assert "totalAmount" in refused(api.http.post(f"/v1/creditmemos/{CM}/refunds", json={}), 22)
    refused(api.http.post("/v1/credit-memos/NOPE/refunds", json=body), 40)
    assert dump(books.engine) == after

    cancel = "/v1/refunds/RF-CM00000001-1/cancel"
    assert "before the refund date" in refused(api.put(cancel, {"cancelDate": "2026-11-01"}), 30)
    assert dump(books.engine) == after
    cancelled = ok(api.put(cancel, {"cancelDate": "2026-11-12"}))
    assert (cancelled["status"], cancelled["cancelDate"], cancelled["unappliedAmount"], cancelled["refundAmount"]) == (
        "Canceled",
        "2026-11-12",
        "43.50",
        "0.00",
    )
    assert refund_lines(books)[2:] == [
        ("2026-11-12", "Cash", "20.00", "0.00"),
        ("2026-11-12", "Credit Memo On-Account", "0.00", "20.00"),
    ]
    assert net_by_code(books, CM)["Cash"] == Decimal("0.00")
    assert books.show("credit-memo", CM)["unappliedAmount"] == "43.50"
    assert "Canceled" in refused(api.put(cancel, {"cancelDate": "2026-11-13"}), 30)
    shown = ok(api.get("/v1/refunds/RF-CM00000001-1"))
    assert (shown["status"], shown["amount"], shown["unappliedAmount"], shown["refundAmount"]) == (
        "Canceled",
        "20.00",
        "43.50",
        "0.00",
    )
    assert [e["date"] for e in shown["journalEntries"]] == ["2026-11-10", "2026-11-12"]
    refused(api.get("/v1/refunds/RF-NOPE"), 40)
    refused(api.put("/v1/refunds/RF-NOPE/cancel", {"cancelDate": "2026-11-12"}), 40)
    assert books.check().passed


def test_journal_run_body_fields_must_say_what_the_book_does(seed: tuple[Books, Api, str]) -> None:
    """The reference product's run body is taken when it asks for a whole period, its last day as the entry date
    and every transaction type the book posts; anything else is refused naming the field, and nothing is written."""
    books, api, _ = seed
    every = [{"type": t} for t in sorted(REFERENCE_TRANSACTION_TYPES)]
    body: dict[str, Any] = {
        "journalEntryDate": "2026-10-31",
        "targetStartDate": "2026-10-01",
        "targetEndDate": "2026-10-31",
        "transactionTypes": every,
    }
    before = books_only(books)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({}, 22, "accountingPeriodName: Field required"),
        ({"targetStartDate": "2026-10-01"}, 22, "targetEndDate: Field required"),
        (
            {**body, "journalEntryDate": "2026-10-15"},
            20,
            "journalEntryDate: 2026-10-15 is not the last day of "
            "accounting period 2026-10 (2026-10-31): the book dates a journal run's entries on its period's last day",
        ),
        (
            {**body, "targetStartDate": "2026-10-05"},
            20,
            "targetStartDate: 2026-10-05 is not the first day of an "
            "accounting period: the book's journal runs take whole accounting periods",
        ),
        (
            {**body, "targetEndDate": "2026-11-30"},
            20,
            "targetEndDate: 2026-11-30 is not the last day of accounting period 2026-10 (2026-10-31)",
        ),
        (
            {**body, "accountingPeriodName": "2026-11"},
            20,
            "targetStartDate: 2026-10-01 is not the first day of accounting period 2026-11 (2026-11-01)",
        ),
        (
            {**body, "transactionTypes": [{"type": "Invoice Item"}]},
            20,
            "transactionTypes: the book's journal runs take every transaction type; missing: Taxation Item, ",
        ),
        (
            {**body, "transactionTypes": [*every, {"type": "Coupon"}]},
            20,
            "transactionTypes: 'Coupon' is not a journal run transaction type",
        ),
        ({"accountingPeriodName": "1999-01"}, 40, "1999-01, accountingPeriodName: no accounting period 1999-01"),
    ]
    for request, category, message in cases:
        assert refused(api.http.post("/v1/journal-runs", json=request), category).startswith(message), request
    assert books_only(books) == before
    created = ok(api.http.post("/v1/journal-runs", json=body))
    assert (created["run"]["period"], created["run"]["entryDate"], created["run"]["status"]) == (
        "2026-10",
        "2026-10-31",
        "Processing",
    )
    by_name = {"accountingPeriodName": "2026-10", "journalEntryDate": "2026-10-31", "transactionTypes": every}
    # The period's entries are all in the first run: the second takes none.
    again = ok(api.http.post("/v1/journal-runs", json=by_name))
    assert (again["journalRunNumber"], again["period"], "run" in again) == (None, "2026-10", False)
    assert len(books.journal_runs()) == 1


# --- summary journal entries (issue 19) ----------------------------------------------------------------------------


def transferred(books: Books) -> list[str]:
    with books.engine.connect() as conn:
        d = documents.c
        return list(
            conn.execute(select(d.number).where(d.transferred_to_accounting.is_(True)).order_by(d.number)).scalars()
        )


def test_summary_journal_entries_transfer_their_whole_run(seed: tuple[Books, Api, str]) -> None:
    """A summary entry's transferredToAccounting is its run's: Error fails the run (notes, or a default reason),
    Yes confirms it (its documents transferred); Processing is accepted only while the run is Processing; No,
    Ignore and cancelling one entry are refused naming the entry and the rule."""
    books, api, _ = seed
    run = ok(api.http.post("/v1/journal-runs", json={"accountingPeriodName": "2026-10"}))["journalRunNumber"]
    entries = ok(api.get(f"/v1/journal-entries/journal-runs/{run}"))["journalEntries"]
    first = entries[0]["number"]
    entry = ok(api.get(f"/v1/journal-entries/{first}"))
    assert entry["lines"] == entries[0]["lines"]
    assert (entry["journalRunNumber"], entry["accountingPeriodName"], entry["journalEntryDate"]) == (
        run,
        "2026-10",
        "2026-10-31",
    )
    assert (entry["status"], entry["transferredToAccounting"], entry["entriesInRun"]) == (
        "Created",
        "Processing",
        len(entries),
    )
    refused(api.get(f"/v1/journal-entries/{run}-999"), 40)
    refused(api.get("/v1/journal-entries/JR-99999999-001"), 40)

    before = books_only(books)
    info = f"/v1/journal-entries/{first}/basic-information"
    same = ok(api.put(info, {"transferredToAccounting": "Processing"}))
    assert (same["journalRunNumber"], same["journalRun"]["status"]) == (run, "Processing")
    for value in ("No", "Ignore"):
        message = refused(api.put(info, {"transferredToAccounting": value}), 30)
        assert message.startswith(f"{first}, transferredToAccounting: the book does not set transferredToAccounting")
        assert f"PUT /v1/journal-runs/{run}/cancel" in message
    refused(api.put(info, {"transferredToAccounting": "Maybe"}), 20)
    refused(api.put(info, {}), 22)
    message = refused(api.put(f"/v1/journal-entries/{first}/cancel"), 30)
    assert message == (
        f"{first}: the book cancels whole journal runs, not one summary journal entry: PUT /v1/journal-runs/{run}/"
        "cancel releases every entry of the run to the next run"
    )
    refused(api.put(f"/v1/journal-entries/{run}-999/cancel"), 40)
    assert books_only(books) == before
    transfer, cancel = "put_v1_journal_entries_jeNumber_basic_information", "put_v1_journal_entries_jeNumber_cancel"
    # The book's refusals are recorded under its operation (as a write-off's are), the service's own under the endpoint.
    assert [(kind, code) for kind, _, code, _ in refusals(books)] == [
        *[("journal-entry-transfer", "rule-violation")] * 2,
        *[(transfer, "invalid-input")] * 2,
        (cancel, "rule-violation"),
        (cancel, "not-found"),
    ]

    # Error without notes: the run is rejected with a default reason; then cancelled, its entries retaken.
    failed = ok(api.put(info, {"transferredToAccounting": "Error"}))
    assert failed["transferredToAccounting"] == "Error"
    assert (books.journal_run(run).status, books.journal_run(run).status_note) == (
        "Error",
        f"the ERP rejected summary journal entry {first}",
    )
    assert "Error" in refused(api.put(info, {"transferredToAccounting": "Processing"}), 30)
    ok(api.put(f"/v1/journal-runs/{run}/cancel", {"reason": "re-run"}))
    assert ok(api.get(f"/v1/journal-entries/{first}"))["status"] == "Cancelled"
    assert ok(api.get(f"/v1/journal-entries/{first}"))["transferredToAccounting"] == "No"

    second = ok(api.http.post("/v1/journal-runs", json={"accountingPeriodName": "2026-10"}))["journalRunNumber"]
    last = ok(api.get(f"/v1/journal-entries/journal-runs/{second}"))["journalEntries"][-1]["number"]
    info = f"/v1/journal-entries/{last}/basic-information"
    ok(api.put(info, {"transferredToAccounting": "Error", "notes": "GL import: period locked"}))
    assert books.journal_run(second).status_note == "GL import: period locked"
    assert transferred(books) == []
    done = ok(api.put(info, {"transferredToAccounting": "Yes"}, key="je-yes"))
    assert (done["transferredToAccounting"], done["journalRun"]["status"]) == ("Yes", "Completed")
    assert f"journal run {second} (" in done["message"]
    assert books.journal_run(second).status == "Completed"
    assert INV in transferred(books)
    assert ok(api.put(info, {"transferredToAccounting": "Yes"}, key="je-yes")) == done
    assert "Completed" in refused(api.put(info, {"transferredToAccounting": "Yes"}), 30)
    # The book's refusal inside the service's call is audited once, under the book's kind.
    assert [kind for kind, *_ in refusals(books)][-2:] == ["journal-entry-transfer"] * 2
    assert ok(api.get(f"/v1/journal-entries/{last}"))["transferredToAccounting"] == "Yes"


# --- what the book never does (issue 19) ---------------------------------------------------------------------------


def test_deleting_runs_and_editing_the_calendar_are_unsupported(seed: tuple[Books, Api, str]) -> None:
    """Category 45 in the envelope (HTTP 200), once the run or period is found (40 otherwise); nothing written."""
    books, api, _ = seed
    run = ok(api.http.post("/v1/journal-runs", json={"accountingPeriodName": "2026-10"}))["journalRunNumber"]
    ok(api.put(f"/v1/journal-runs/{run}/cancel", {"reason": "wrong period"}))
    before = books_only(books)
    message = refused(api.http.delete(f"/v1/journal-runs/{run}"), 45)
    assert message.startswith(f"{run}: journal run {run} is Cancelled; the book never deletes a journal run")
    refused(api.http.delete("/v1/journal-runs/JR-99999999"), 40)
    assert books.journal_run(run).status == "Cancelled"
    period = {"name": "2028-01", "startDate": "2028-01-01", "endDate": "2028-01-31", "fiscalYear": 2028}
    assert "periods/ folder" in refused(api.http.post("/v1/accounting-periods", json=period), 45)
    assert "periods/ folder" in refused(api.put("/v1/accounting-periods/2026-10", {"notes": "renamed"}), 45)
    assert "periods/ folder" in refused(api.http.delete("/v1/accounting-periods/2027-12"), 45)
    refused(api.http.delete("/v1/accounting-periods/1999-01"), 40)
    assert books_only(books) == before
    assert [p.name for p in books.periods()][-1] == "2027-12"
    # A method an endpoint does not take (405, with Allow) and a path the service does not have (404): the envelope.
    answer = api.http.patch(f"/v1/journal-runs/{run}", json={})
    message = f"PATCH is not a method of /v1/journal-runs/{run}: it takes DELETE, GET, HEAD"
    assert refused(answer, 45, 405) == message
    assert answer.headers["Allow"] == "DELETE, GET, HEAD"
    assert refused(api.get("/v1/journal-entries/a/b/c"), 40, 404) == "no endpoint GET /v1/journal-entries/a/b/c"
    assert books_only(books) == before


def test_head_answers_what_get_answers_without_the_body(seed: tuple[Books, Api, str]) -> None:
    """HEAD of a resource answered 405 (Allow: GET): a server that serves GET serves HEAD, the same status and
    headers without the body (RFC 9110 9.3.2), its refusals too; a path without GET refuses HEAD naming HEAD."""
    books, api, base = seed
    before = books_only(books)
    for path in (f"/v1/invoices/{INV}", "/v1/payments", "/v1/accounting-periods?pageSize=2", "/v1/creditmemos/NOPE"):
        got, head = api.get(path), api.http.head(path)
        assert (head.status_code, head.content) == (got.status_code, b""), path
        assert head.headers["Content-Type"] == got.headers["Content-Type"] == "application/json"
        assert head.headers["Content-Length"] == got.headers["Content-Length"] == str(len(got.content))
        assert head.headers["Zuora-Request-Id"] != got.headers["Zuora-Request-Id"]
    with httpx.Client(base_url=base) as anonymous:
        head = anonymous.head(f"/v1/invoices/{INV}")
        assert (head.status_code, head.content, head.headers["WWW-Authenticate"]) == (401, b"", "Bearer")
        head = anonymous.head(f"/v1/invoices/{INV}/write-off")
        assert (head.status_code, head.content, head.headers["Allow"]) == (405, b"", "PUT")
    assert books_only(books) == before
    audited = [json.loads(request) for request in requests_of(books)]
    assert [(r["method"], r["path"]) for r in audited] == [
        ("HEAD", f"/v1/invoices/{INV}"),
        ("HEAD", f"/v1/invoices/{INV}/write-off"),
    ]
    rule = refusals(books)[-1][3]
    assert rule == f"HEAD is not a method of /v1/invoices/{INV}/write-off: it takes PUT"


# --- the commands ---------------------------------------------------------------------------------------------------


def _serve(*arguments: str) -> tuple[subprocess.Popen[str], str]:
    """``subledger serve`` with ``arguments`` (its stderr piped to the caller), and the address it listens on once it
    says so."""
    command = [sys.executable, "-c", "from subledger.cli import main; main()", "serve", *arguments]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert server.stderr is not None
    while True:
        line = server.stderr.readline()
        assert line, "subledger serve exited before listening"
        if found := re.search(r"running on (http://\S+)", line):
            return server, found.group(1)


def test_serve_and_api_client_commands(seed003: Books, cli: Any) -> None:
    """``subledger api-client create`` prints the secret once; ``subledger serve`` answers with it, logs one JSON
    line per request and stops cleanly on SIGTERM."""
    url = db_url(seed003)
    created = cli("api-client", "create", "erp", "--actor", "admin", "--json", db=url)
    assert created.code == 0, created.err
    secret = created.json()["clientSecret"]
    assert secret not in json.dumps(dump(seed003.engine))
    assert cli("api-client", "create", "erp2", "--actor", "nobody", db=url).code != 0
    server, base = _serve("--db", url, "--port", "0")
    try:
        api = Api(base, "erp", secret)
        assert ok(api.get(f"/v1/invoices/{INV}"))["balance"] == "430.00"
        assert api.http.get("/openapi.json").json()["paths"]
        api.http.close()
    finally:
        server.send_signal(signal.SIGTERM)
        rest = server.communicate(timeout=30)[1]
    # uvicorn finishes the requests in flight, shuts down, then re-raises the signal it caught: killed by SIGTERM,
    # as a supervisor expects, after a clean shutdown.
    assert server.returncode == -signal.SIGTERM
    assert "Waiting for application shutdown" in rest
    logged = [json.loads(line) for line in rest.splitlines() if line.startswith("{")]
    assert [(r["method"], r["path"], r["status"]) for r in logged] == [
        ("POST", "/oauth/token", 200),
        ("GET", f"/v1/invoices/{INV}", 200),
        ("GET", "/openapi.json", 200),
    ]
    assert logged[1]["actor"] == "admin"
    assert "Finished server process" in rest


def test_only_an_actor_who_manages_actors_hands_out_a_clients_secret(seed003: Books, cli: Any) -> None:
    """``api-client create NAME --actor admin`` made a client acting as admin whoever ran it: a clerk holding only
    Enhanced Write-off got every permission over HTTP, where ``actor grant`` asks for Manage Actors."""
    url = db_url(seed003)
    assert cli("actor", "grant", "clerk", "Enhanced Write-off", db=url).code == 0
    before = dump(seed003.engine)
    by_option = cli("--actor", "clerk", "api-client", "create", "esc", "--actor", "admin", db=url)
    by_environment = cli("api-client", "create", "esc", "--actor", "clerk", db=url, actor="clerk")
    for said in (by_option, by_environment):
        assert (said.code, said.out) == (1, "")
        assert said.err == "error: esc: actor 'clerk' lacks the Manage Actors permission\n"
    assert dump(seed003.engine) == before
    assert cli("api-client", "create", "erp", "--actor", "clerk", db=url, actor="admin").code == 0


def test_a_stopped_server_leaves_the_sqlite_book_whole_in_its_file(tmp_path: Path) -> None:
    """``subledger serve`` stopped by SIGTERM (as the README stops it) left ``books.db-wal`` and ``-shm`` beside the
    book: uvicorn re-raises the signal once shut down, which ended the process with the book's connections open, so
    SQLite never checkpointed; ``cp books.db`` afterwards copied a book without the server's writes. The server
    closes them as it shuts down: the file alone holds every write."""
    path = tmp_path / "served.db"
    books = Books(engine=make_engine(f"sqlite:///{path}"))
    books.init()
    books.load(example("seed-003-books.json"))
    secret = create_client(books.engine, "erp", "admin").client_secret
    books.engine.dispose()
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists()
    server, base = _serve("--db", f"sqlite:///{path}", "--port", "0")
    try:
        api = Api(base, "erp", secret)
        body = {"memoDate": "2026-11-25", "comment": "Customer dissolved"}
        assert ok(api.put(f"/v1/invoices/{INV}/write-off", body))["success"] is True
        api.http.close()
        assert wal.exists()
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert server.returncode == -signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["served.db"]
    copy = tmp_path / "copy.db"
    copy.write_bytes(path.read_bytes())
    copied = Books(engine=make_engine(f"sqlite:///{copy}"))
    assert copied.show("invoice", INV)["balance"] == "0.00"
    copied.engine.dispose()


def test_shutdown_lets_a_request_in_flight_finish(seed003: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    made = create_client(seed003.engine, "integrator", "admin")
    started = threading.Event()
    periods = Books.periods

    def slow(self: Books) -> Any:
        started.set()
        time.sleep(0.5)
        return periods(self)

    monkeypatch.setattr(Books, "periods", slow)
    with ThreadPoolExecutor(1) as pool:
        with serving(seed003) as base:
            api = Api(base, made.client_id, made.client_secret)
            pending = pool.submit(api.get, "/v1/accounting-periods")
            assert started.wait(10)
        # ``serving`` has asked the server to stop and waited for it: the request in flight was answered first.
        answer = pending.result(10)
        api.http.close()
    assert len(ok(answer)["accountingPeriods"]) >= 12


# --- concurrency, OpenAPI -------------------------------------------------------------------------------------------


def test_concurrent_write_offs_of_one_invoice_one_wins(seed: tuple[Books, Api, str]) -> None:
    books, api, _ = seed
    if books.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers: the race is PostgreSQL's")
    clients = 6
    with ThreadPoolExecutor(clients) as pool:
        answers = list(
            pool.map(lambda _: api.put(f"/v1/invoices/{INV}/write-off", raw=HEADER.read_bytes()), range(clients))
        )
    outcomes = [a.json()["success"] for a in answers]
    assert outcomes.count(True) == 1, [a.text for a in answers]
    assert books.show("invoice", INV)["balance"] == "0.00"
    assert len([m for m in books.journal(document=INV) if m.tag == "write-off"]) == 2


def test_committed_openapi_is_the_generated_one() -> None:
    generated = openapi_document()
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert committed == generated, "regenerate: python -m subledger.http.app > docs/openapi.json"
    assert "/v1/invoices/{invoiceKey}/write-off" in generated["paths"]
    assert "WriteOffRequest" in generated["components"]["schemas"]


# --- refusals audited, failed sign-ins limited, items per request ----------------------------------------------------


def refusals(books: Books) -> list[tuple[str, str, str, str]]:
    """(kind, actor, error code, rule) of each audited refusal, oldest first."""
    with books.engine.connect() as conn:
        rows = conn.execute(select(audit_refusals).order_by(audit_refusals.c.id)).all()
    return [(r.kind, r.actor, r.error_code, r.rule) for r in rows]


def requests_of(books: Books) -> list[str]:
    with books.engine.connect() as conn:
        return [r.request for r in conn.execute(select(audit_refusals).order_by(audit_refusals.c.id))]


def test_authentication_refusals_are_audited_without_secret_or_token(seed003: Books, tmp_path: Path) -> None:
    """Each refusal before an operation is in ``audit_refusals`` as the command line records its own: the actor
    (the token's, the client id named at /oauth/token, or ``anonymous``), the operation (the endpoint's
    operationId) and the rule; no secret or token text is stored anywhere."""
    actors = tmp_path / "actors.toml"
    actors.write_text('[actors.clerk]\npermissions = ["Reverse Invoice"]\n')
    seed003.import_actors(actors)
    made = create_client(seed003.engine, "clerk-app", "clerk")
    write_off = "put_v1_invoices_invoiceKey_write_off"
    with serving(seed003) as base, httpx.Client(base_url=base) as anonymous:
        api = Api(base, made.client_id, made.client_secret)
        refused(anonymous.put(f"/v1/invoices/{INV}/write-off", content=b"{}"), 11, 401)
        refused(anonymous.get(f"/v1/invoices/{INV}", headers={"Authorization": "Bearer not-a-token"}), 11, 401)
        wrong = {"client_id": "clerk-app", "client_secret": "a-guessed-secret", "grant_type": "client_credentials"}
        refused(anonymous.post("/oauth/token", data=wrong), 11, 401)
        # A secret pasted into client_id names no client of the book: recorded as anonymous, never as written.
        pasted = {**wrong, "client_id": made.client_secret}
        refused(anonymous.post("/oauth/token", data=pasted), 11, 401)
        refused(anonymous.post("/oauth/token", data={**wrong, "grant_type": "password"}), 90, 400)
        # The clerk lacks Enhanced Write-off: refused by the operation, audited under its kind.
        assert "Enhanced Write-off" in refused(api.put("/v1/debit-memos/DM00000001/write-off", {}), 10)
        # Malformed and too large: refused before the operation, audited with the token's actor.
        refused(api.put(f"/v1/invoices/{INV}/write-off", raw=b'{"a": 1, "a": 2}'), 90, 400)
        refused(api.put(f"/v1/invoices/{INV}/write-off", raw=b" " * (1 << 20) + b"{}"), 70, 413)
        with seed003.engine.begin() as conn:
            conn.execute(text("UPDATE api_tokens SET expires_at = 0"))
        refused(api.put(f"/v1/invoices/{INV}/write-off", {}), 11, 401)
        api.http.close()
    assert refusals(seed003) == [
        (write_off, "anonymous", "authentication-failed", "authentication required: Authorization: Bearer <token>"),
        ("get_v1_invoices_invoiceKey", "anonymous", "authentication-failed", "the access token is unknown or expired"),
        ("post_oauth_token", "clerk-app", "authentication-failed", "unknown client or wrong secret"),
        ("post_oauth_token", "anonymous", "authentication-failed", "unknown client or wrong secret"),
        ("post_oauth_token", "clerk-app", "invalid-input", "grant_type must be client_credentials"),
        (
            "write-off-debit-memo",
            "clerk",
            "permission-denied",
            "DM00000001: writing off a debit memo needs the Enhanced Write-off permission, which actor 'clerk' lacks",
        ),
        (write_off, "clerk", "invalid-input", f"{INV}: duplicate key 'a' in request body at $.a"),
        (write_off, "clerk", "limit-exceeded", "the request body exceeds 1048576 bytes"),
        (write_off, "anonymous", "authentication-failed", "the access token is unknown or expired"),
    ]
    requests = [json.loads(r) for r in requests_of(seed003)]
    assert requests[0]["method"] == "PUT"
    assert requests[0]["path"] == f"/v1/invoices/{INV}/write-off"
    assert requests[2]["clientId"] == "clerk-app"
    assert requests[3]["clientId"] is None
    stored = json.dumps([dump(seed003.engine), refusals(seed003), requests_of(seed003)])
    for secret in (made.client_secret, api.token, "a-guessed-secret", "not-a-token"):
        assert secret not in stored


def test_failed_token_attempts_are_limited_per_client_and_per_address(seed003: Books) -> None:
    made = create_client(seed003.engine, "integrator", "admin")
    other = create_client(seed003.engine, "other", "admin")

    def token(client_id: str, secret: str) -> httpx.Response:
        grant = {"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"}
        return anonymous.post("/oauth/token", data=grant)

    with serving(seed003, client_failures=3, address_failures=5) as base, httpx.Client(base_url=base) as anonymous:
        assert token("integrator", made.client_secret).status_code == 200
        for _ in range(3):
            refused(token("integrator", "guess"), 11, 401)
        # The fourth attempt is refused whatever the secret, until the oldest failure leaves the window.
        limited = token("integrator", made.client_secret)
        assert "too many failed attempts" in refused(limited, 70, 429)
        assert 0 < int(limited.headers["Retry-After"]) <= 60
        assert limited.json()["error"] == "slow_down"
        # Another client from the same address: two more failures reach the address's limit of 5.
        refused(token("other", "guess"), 11, 401)
        refused(token("other", "guess"), 11, 401)
        refused(token("other", other.client_secret), 70, 429)
    kinds = [(kind, actor, code) for kind, actor, code, _ in refusals(seed003)]
    assert kinds.count(("post_oauth_token", "integrator", "limit-exceeded")) == 1
    assert kinds.count(("post_oauth_token", "other", "limit-exceeded")) == 1
    assert len(kinds) == 7  # every failure and every 429 audited


def test_failed_attempts_leave_the_window() -> None:
    now = [1000.0]
    attempts = FailedAttempts(2, 60, max_keys=2, clock=lambda: now[0])
    attempts.failed("a")
    assert attempts.retry_after("a") is None
    now[0] += 10
    attempts.failed("a")
    assert attempts.retry_after("a") == 50
    now[0] += 50
    assert attempts.retry_after("a") is None  # the first failure left the window
    attempts.failed("a")
    assert attempts.retry_after("a") == 10
    attempts.forget("a")
    assert attempts.retry_after("a") is None
    for key in ("b", "c", "d"):  # at most two keys: the least recently failing goes first
        attempts.failed(key)
        attempts.failed(key)
    assert [attempts.retry_after(k) is None for k in ("b", "c", "d")] == [True, False, False]


def test_items_per_request_are_limited(lines: tuple[Books, Api]) -> None:
    """Past the reference product's 1,000 invoices (debit memos, items) per request: refused before any work,
    category 70, naming the field and the limit; the Python API and the command line share the models' limit."""
    books, api = lines
    before = dump(books.engine)

    def invoices(n: int) -> list[dict[str, Any]]:
        return [{"invoiceNumber": f"INV{i:08d}", "amount": "1.00"} for i in range(n)]

    apply = {"effectiveDate": "2026-11-02", "invoices": invoices(1001)}
    message = refused(api.put("/v1/creditmemos/CM00000001/apply", apply), 70)
    assert message == "CM00000001, invoices: too many items: at most 1000 per request, 1001 given"
    # At the limit the request goes on to the operation's own rules.
    assert "exceeds" in refused(api.put("/v1/creditmemos/CM00000001/apply", {**apply, "invoices": invoices(1000)}), 30)
    items = [{"invoiceItemId": f"II-{i}", "amountWithoutTax": "0.01"} for i in range(1001)]
    message = refused(api.put("/v1/invoices/INV00000010/write-off", {"items": items}), 70)
    assert message == "INV00000010, items: too many items: at most 1000 per request, 1001 given"
    parts = [{"invoiceNumber": "INV00000010", "amount": "1.00", "items": items[:1] * 1001}]
    refused(api.put("/v1/payments/P00000010/apply", {"invoices": parts}), 70)
    assert dump(books.engine) == before
    with pytest.raises(Problems) as raised:
        books.apply_payment("P00000010", {"debitMemos": [{"debitMemoNumber": "DM1", "amount": "1"}] * 1001})
    assert "debitMemos: too many items: at most 1000" in str(raised.value)


# --- paging -----------------------------------------------------------------------------------------------------------


def test_lists_are_paged_as_the_reference_product_pages_them(seed: tuple[Books, Api, str], tmp_path: Path) -> None:
    """``page`` and ``pageSize`` (default 20, at most 40), ``nextPage`` while there is one; payments by date then
    number, so that the pages neither repeat nor skip a payment."""
    books, api, _ = seed
    dates = ["2026-11-03", "2026-11-01", "2026-11-03", "2026-11-02", "2026-11-03"]
    payments = [
        {
            "number": f"P{9 - i:08d}",
            "accountNumber": "A00000001",
            "type": "External",
            "effectiveDate": date,
            "currency": "USD",
            "amount": "10.00",
        }
        for i, date in enumerate(dates)
    ]
    (tmp_path / "payments.json").write_text(json.dumps({"payments": payments}))
    books.load(tmp_path / "payments.json")
    whole = ok(api.get("/v1/payments?pageSize=40"))
    assert "nextPage" not in whole
    expected = [p["number"] for p in sorted(whole["payments"], key=lambda p: (p["date"], p["number"]))]
    assert [p["number"] for p in whole["payments"]] == expected
    assert len(expected) == 6
    assert expected[-3:] == ["P00000005", "P00000007", "P00000009"]  # one date: by number
    seen: list[str] = []
    url: str | None = "/v1/payments?accountNumber=A00000001&pageSize=2"
    while url is not None:
        page = ok(api.get(url))
        seen.extend(p["number"] for p in page["payments"])
        url = page.get("nextPage")
        assert url is None or ("accountNumber=A00000001" in url and "pageSize=2" in url)
    assert seen == expected
    assert [p["number"] for p in ok(api.get("/v1/payments?page=3&pageSize=2"))["payments"]] == expected[4:]
    assert ok(api.get("/v1/payments?page=9"))["payments"] == []
    for bad in ("pageSize=41", "pageSize=0", "page=0", "page=two", "page=" + "9" * 5000):
        assert refused(api.get(f"/v1/payments?{bad}"), 20, 400).startswith(bad.split("=")[0] + " must be")
    # Every list pages the same way: the book's 24 accounting periods are 20 and then 4.
    first = ok(api.get("/v1/accounting-periods"))
    assert [len(first["accountingPeriods"]), first["nextPage"].endswith("?page=2&pageSize=20")] == [20, True]
    second = ok(api.get(first["nextPage"]))
    assert [p["name"] for p in second["accountingPeriods"]] == ["2027-09", "2027-10", "2027-11", "2027-12"]
    assert "nextPage" not in second


def test_refusals_without_a_token_fill_the_audit_only_so_far(seed003: Books) -> None:
    """Anyone can send bad requests: past ``anonymous_audits`` per address and window they are answered as ever but
    no longer written to the book (the access log has them); a caller with a valid token is audited as before."""
    made = create_client(seed003.engine, "integrator", "admin")
    with serving(seed003, anonymous_audits=3) as base, httpx.Client(base_url=base) as anonymous:
        for _ in range(5):
            refused(anonymous.put(f"/v1/invoices/{INV}/write-off", content=b"{}"), 11, 401)
        api = Api(base, made.client_id, made.client_secret)
        refused(api.put(f"/v1/invoices/{INV}/write-off", raw=b'{"a": 1, "a": 2}'), 90, 400)
        api.http.close()
    assert [(actor, code) for _, actor, code, _ in refusals(seed003)] == [
        ("anonymous", "authentication-failed"),
        ("anonymous", "authentication-failed"),
        ("anonymous", "authentication-failed"),
        ("admin", "invalid-input"),
    ]


def test_the_services_own_refusals_of_a_write_are_audited_once(seed: tuple[Books, Api, str]) -> None:
    """A write refused by the service itself (a body it parses, what the book never does) is audited under the
    endpoint's operationId; one refused by a ``Books`` method only under the method's kind, never twice."""
    books, api, _ = seed
    ok(api.put(f"/v1/invoices/{INV}/write-off", raw=HEADER.read_bytes()))
    refused(api.put(f"/v1/invoices/{INV}/write-off", raw=HEADER.read_bytes(), key="again"), 30)
    refused(api.put("/v1/accounting-periods/2026-01/reopen", {}), 22)
    refused(api.http.delete("/v1/accounting-periods/2027-12"), 45)
    assert [(kind, actor, code) for kind, actor, code, _ in refusals(books)] == [
        ("write-off-invoice", "admin", "nothing-to-write-off"),
        ("put_v1_accounting_periods_apId_reopen", "admin", "invalid-input"),
        ("delete_v1_accounting_periods_apId", "admin", "unsupported"),
    ]
    with books.engine.connect() as conn:
        keys = [r.idempotency_key for r in conn.execute(select(audit_refusals).order_by(audit_refusals.c.id))]
    assert keys == ["integrator:again", None, None]
    assert json.loads(requests_of(books)[1])["body"] == {}


# --- the reference product's request samples, verbatim ------------------------------------------------------------

#: The request samples of the reference product's v1 API reference (developer.zuora.com, the "Request samples" of
#: PUT_WriteOffInvoice, PUT_ReverseInvoice, PUT_ReverseCreditMemo, PUT_ApplyCreditMemo, PUT_ApplyPayment,
#: PUT_WriteOffCreditMemo) with their keys, values and JSON types unchanged: dates in 2017-2024, amounts as JSON
#: numbers, documents named by ``invoiceId``. Only the keys in the paths are the sample book's.
SAMPLES = [
    ("/v1/invoices/INV-WO/write-off", b'{\n  "memoDate": "2019-01-02"\n}'),
    ("/v1/invoices/INV-REV/reverse", b'{\n  "applyEffectiveDate": "2017-02-20",\n  "memoDate": "2017-02-20"\n}'),
    ("/v1/credit-memos/CM-REV/reverse", b'{\n  "applyEffectiveDate": "2017-02-20",\n  "memoDate": "2017-02-20"\n}'),
    (
        "/v1/credit-memos/CM-APPLY/apply",
        b'{\n  "effectiveDate": "2024-08-19",\n  "invoices": [\n    {\n'
        b'      "invoiceId": "8ad097b490a1ec740190a5aaece25734",\n      "amount": 11\n    }\n  ]\n}',
    ),
    (
        "/v1/payments/P-00000018/apply",
        b'{\n  "invoices": [\n    {\n      "invoiceId": "8ad097b490c4e5aa0190c9b931817cef",\n      "amount": 12\n'
        b"    }\n  ]\n}",
    ),
    ("/v1/creditmemos/CM-WO/write-off", b'{\n  "memoDate": "2022-05-05"\n}'),
]


def _line(kind: str, number: str, amount: str) -> dict[str, Any]:
    charge = "chargeAmount" if kind == "invoice" else "amountWithoutTax"
    code = "deferredRevenueAccountingCode"
    return {
        "id": f"{number}-1",
        "chargeName": "Subscription",
        "processingType": "Charge",
        "quantity": "1",
        "unitPrice": amount,
        charge: amount,
        "financeInformation": {code: "Deferred Revenue"},
        "taxationItems": [],
    }


def _sample_book(books: Books, tmp_path: Path) -> None:
    """A book whose calendar starts in 2017 and whose documents are those the samples name, each dated before
    the sample's dates (the payment's apply takes effect today: the calendar runs to next year)."""
    periods = tmp_path / "periods"
    periods.mkdir()
    for year in range(2017, dt.date.today().year + 2):
        rows = ["name,start_date,end_date,fiscal_year,fiscal_quarter"]
        for month in range(1, 13):
            start = dt.date(year, month, 1)
            end = (start + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
            rows.append(f"{year}-{month:02d},{start},{end},{year},{(month - 1) // 3 + 1}")
        (periods / f"{year}.csv").write_text("\n".join(rows) + "\n")
    books.init(periods=periods)

    def invoice(number: str, date: str, amount: str) -> dict[str, Any]:
        return {
            "invoiceNumber": number,
            "accountNumber": "A00000097",
            "invoiceDate": date,
            "dueDate": date,
            "currency": "USD",
            "status": "Posted",
            "items": [_line("invoice", number, amount)],
        }

    def credit_memo(number: str, date: str, amount: str) -> dict[str, Any]:
        return {
            "number": number,
            "accountNumber": "A00000097",
            "creditMemoDate": date,
            "currency": "USD",
            "status": "Posted",
            "items": [_line("credit-memo", number, amount)],
        }

    book = {
        "accounts": [{"accountNumber": "A00000097", "name": "Sample Corp", "currency": "USD"}],
        "invoices": [
            invoice("INV-WO", "2019-01-01", "100.00"),
            invoice("INV-REV", "2017-02-01", "100.00"),
            invoice("8ad097b490a1ec740190a5aaece25734", "2024-08-01", "14.99"),
            invoice("8ad097b490c4e5aa0190c9b931817cef", "2024-07-18", "14.99"),
        ],
        "creditMemos": [
            credit_memo("CM-REV", "2017-02-01", "20.00"),
            credit_memo("CM-APPLY", "2024-08-01", "14.99"),
            credit_memo("CM-WO", "2022-05-01", "30.00"),
        ],
        "payments": [
            {
                "number": "P-00000018",
                "accountNumber": "A00000097",
                "type": "External",
                "effectiveDate": "2024-07-18",
                "currency": "USD",
                "amount": "14.99",
            }
        ],
    }
    (tmp_path / "book.json").write_text(json.dumps(book))
    books.load(tmp_path / "book.json")


def test_the_reference_products_request_samples_work_unchanged(engine: Any, tmp_path: Path) -> None:
    books = Books(engine=engine)
    _sample_book(books, tmp_path)
    made = create_client(books.engine, "integrator", "admin")
    with serving(books) as base:
        api = Api(base, made.client_id, made.client_secret)
        answers = [ok(api.put(path, raw=body)) for path, body in SAMPLES]
        api.http.close()
    # The answers carry the reference product's keys: the generated memo's id, the application's amounts.
    assert answers[0]["creditMemo"]["id"] == "WO-INV-WO-1"
    assert answers[1]["creditMemo"]["id"]
    assert answers[2]["debitMemo"]["id"]
    assert (answers[3]["amount"], answers[3]["unappliedAmount"]) == ("11.00", "3.99")
    assert answers[4]["unappliedAmount"] == "2.99"
    assert answers[5]["debitMemo"]["id"]
    assert books.show("invoice", "INV-WO")["balance"] == "0.00"
    assert books.show("invoice", "INV-REV")["balance"] == "0.00"
    assert books.show("invoice", "8ad097b490a1ec740190a5aaece25734")["balance"] == "3.99"
    assert books.show("invoice", "8ad097b490c4e5aa0190c9b931817cef")["balance"] == "2.99"
    assert books.show("credit-memo", "CM-WO")["unappliedAmount"] == "0.00"


def test_apply_items_take_the_reference_products_field_names(lines: tuple[Books, Api]) -> None:
    """An item-level apply as the reference product documents its fields: ``invoiceId``, ``creditMemoItemId`` with
    ``invoiceItemId``, ``creditTaxItemId`` with ``taxItemId``."""
    books, api = lines
    body = {
        "effectiveDate": "2026-11-02",
        "invoices": [
            {
                "invoiceId": "INV00000010",
                "amount": "43.50",
                "items": [
                    {"creditMemoItemId": "CMI-0001", "invoiceItemId": "II-0102", "amount": "40.00"},
                    {"creditTaxItemId": "CTI-0001", "taxItemId": "TI-0102", "amount": "3.50"},
                ],
            }
        ],
    }
    applied = ok(api.put("/v1/credit-memos/CM00000001/apply", body))
    assert applied["unappliedAmount"] == "0.00"
    item = books.show("invoice", "INV00000010")["items"][1]
    assert (item["id"], item["balance"]) == ("II-0102", "160.00")
    assert (item["taxationItems"][0]["id"], item["taxationItems"][0]["balance"]) == ("TI-0102", "14.00")


def test_openapi_documents_the_limits() -> None:
    generated = openapi_document()
    token = generated["paths"]["/oauth/token"]["post"]["responses"]
    assert "Retry-After" in token["429"]["headers"]
    assert "Accept" in token["415"]["headers"]
    assert "Accept" in generated["paths"]["/v1/invoices/{invoiceKey}/write-off"]["put"]["responses"]["415"]["headers"]
    params = {p["name"]: p["schema"] for p in generated["paths"]["/v1/payments"]["get"]["parameters"]}
    assert (params["pageSize"]["maximum"], params["pageSize"]["default"]) == (40, 20)
    schemas = generated["components"]["schemas"]
    assert schemas["CreditMemoApplyRequest"]["properties"]["invoices"]["maxItems"] == 1000
    assert schemas["WriteOffRequest"]["properties"]["items"]["anyOf"][0]["maxItems"] == 1000


def test_serve_where_it_cannot_listen_says_so_in_one_line(seed003: Books, cli: Any) -> None:
    """A port in use, or one that does not exist: one line and exit 1 (uvicorn exited 3, partly done, amid its
    start-up log) or 2 (a port out of range: a traceback), and nothing is served."""
    url = db_url(seed003)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = cli("serve", "--port", str(port), db=url)
    assert (busy.code, busy.err) == (
        1,
        f"error: cannot listen on 127.0.0.1 port {port}: Address already in use: give another --host or --port\n",
    )
    out_of_range = cli("serve", "--port", "99999", db=url)
    assert out_of_range.code == 2
    assert out_of_range.err == (
        "error: Invalid value for '--port': Input should be less than or equal to 65535 (see --help)\n"
    )


def test_serve_where_one_of_its_addresses_is_taken_says_so_in_one_line(seed003: Books, cli: Any) -> None:
    """A --host that resolves to more than one address (``''``: 0.0.0.0 and ::) was checked on one of them, then
    uvicorn bound them all: with the port taken on :: it logged the error amid its start-up lines and exited 3,
    the status of a task partly done. The sockets are now bound once, by the command, before uvicorn runs."""
    with socket.socket(socket.AF_INET6) as taken:
        try:
            taken.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            taken.bind(("::", 0))
        except OSError:
            pytest.skip("no IPv6 on this machine")
        taken.listen()
        port = taken.getsockname()[1]
        busy = cli("serve", "--host", "", "--port", str(port), db=db_url(seed003))
    assert (busy.code, busy.out) == (1, "")
    assert busy.err == (
        f"error: cannot listen on every interface port {port}: Address already in use: give another --host or --port\n"
    )


def test_serve_refuses_option_values_it_cannot_serve_with(
    seed003: Books, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Values that started a server which then failed were accepted: a --token-ttl past what the book stores (every
    token request answered 500), 0 or less (every token born expired), a --max-body below 1 (-1 refused every
    request, a GET too, as too large), a --timeout of 0 or below (every operation answered 503) or nan (which
    passes any range), a --graceful below 0. Each is now a usage error (exit 2), and nothing is served."""

    def served(*_: Any, **__: Any) -> None:
        raise AssertionError("the server was started")

    monkeypatch.setattr(uvicorn, "run", served)
    monkeypatch.setattr(uvicorn.Server, "run", served)
    seconds = "must be more than 0 and at most 86400 seconds, not"
    for option, value, rule in (
        ("--token-ttl", "0", "Input should be greater than or equal to 1"),
        ("--token-ttl", "99999999999999999999", "Input should be less than or equal to 31536000"),
        ("--max-body", "-1", "Input should be greater than or equal to 1"),
        ("--timeout", "0", f"{seconds} 0"),
        ("--timeout", "-1", f"{seconds} -1"),
        ("--timeout", "nan", f"{seconds} nan"),
        ("--timeout", "inf", f"{seconds} inf"),
        ("--graceful", "-1", "Input should be greater than or equal to 0"),
    ):
        got = cli("serve", "--port", "0", option, value, db=db_url(seed003))
        assert (got.code, got.err) == (2, f"error: Invalid value for '{option}': {rule} (see --help)\n"), value


def test_a_nul_character_in_a_path_query_or_token_request_is_refused_on_every_engine(
    seed: tuple[Books, Api, str],
) -> None:
    """PostgreSQL cannot hold a NUL in text: a path parameter, query parameter or client id with one answered 500
    (a traceback in the log) on PostgreSQL, ``no invoice ...`` on SQLite. Now it is a malformed request on both,
    as a NUL in a request body is."""
    books, api, base = seed
    before = books_only(books)
    answer = api.get("/v1/invoices/INV%00001")
    assert refused(answer, 90, 400) == "path parameter invoiceKey contains a NUL character"
    answer = api.put("/v1/invoices/INV%00001/write-off", {})
    assert refused(answer, 90, 400) == "path parameter invoiceKey contains a NUL character"
    answer = api.put("/v1/accounting-periods/%00/close")
    assert refused(answer, 90, 400) == "path parameter apId contains a NUL character"
    answer = api.get("/v1/payments?accountNumber=A%00")
    assert refused(answer, 90, 400) == "query parameter accountNumber contains a NUL character"
    with httpx.Client(base_url=base) as anonymous:
        # Without a valid token the answer is still 401: nothing of the request is looked at first.
        refused(anonymous.get("/v1/invoices/INV%00001"), 11, 401)
        grant = {"client_id": "integrator\x00", "client_secret": "guess", "grant_type": "client_credentials"}
        answer = anonymous.post("/oauth/token", data=grant)
        assert refused(answer, 11, 401) == "unknown client or wrong secret"
    assert books_only(books) == before
    assert [code for _, _, code, _ in refusals(books)] == ["invalid-input"] * 4 + ["authentication-failed"] * 2


def test_a_key_longer_than_any_number_is_not_found_on_every_engine(seed: tuple[Books, Api, str]) -> None:
    """A write to a document, period, run or refund whose key is longer than any number the book holds (64
    characters) was refused on PostgreSQL as 'a value does not fit the books: value too long for type character
    varying(64)' (category 20, the operations row's column), and as not found on SQLite; now not found on both."""
    books, api, _ = seed
    before = books_only(books)
    long = "A" * 65
    assert refused(api.put(f"/v1/invoices/{long}/write-off", {}), 40) == f"{long}: no invoice {long}"
    apply = {"effectiveDate": "2026-11-18", "invoices": [{"invoiceNumber": INV, "amount": "1"}]}
    assert refused(api.put(f"/v1/payments/{long}/apply", apply), 40) == f"{long}: no payment {long}"
    assert refused(api.put(f"/v1/refunds/{long}/cancel", {}), 40) == f"{long}: no refund {long}"
    message = refused(api.put(f"/v1/accounting-periods/{long}/close"), 40)
    assert message == f"{long}, period: no accounting period {long} (see periods/)"
    assert refused(api.put(f"/v1/journal-runs/{long}/cancel", {}), 40) == f"{long}, run: no journal run {long}"
    assert books_only(books) == before


def test_a_malformed_entry_of_a_body_list_names_the_document_the_request_acts_on(
    seed: tuple[Books, Api, str],
) -> None:
    """A malformed write-off item was refused as 'items[0], amountWithoutTax: ...' (no document: the entry has no
    number), and a payment application's malformed entry under the invoice's number ('INV00000001, foo: unknown
    field', though foo is the request's, not the invoice's); now the document the request acts on and the whole
    path, as the operations' own refusals name them and as the rest of the body's fields are named."""
    books, api, _ = seed
    before = books_only(books)
    item = {"invoiceItemId": "II-0001", "amountWithoutTax": True}
    assert refused(api.put(f"/v1/invoices/{INV}/write-off", {"items": [item]}), 20) == (
        f'{INV}, items[0].amountWithoutTax: must be a decimal string (e.g. "12.50"), not true'
    )
    apply = {"effectiveDate": "2026-11-18", "invoices": [{"invoiceNumber": INV, "amount": "x"}]}
    assert refused(api.put("/v1/payments/P00000001/apply", apply), 20) == (
        "P00000001, invoices[0].amount: 'x' is not a decimal number"
    )
    apply["invoices"] = [{"invoiceNumber": INV, "amount": "1", "foo": 1}]
    assert refused(api.put("/v1/payments/P00000001/apply", apply), 21) == "P00000001, invoices[0].foo: unknown field"
    assert books_only(books) == before


def test_refusals_quote_the_value_as_json_wrote_it(seed: tuple[Books, Api, str]) -> None:
    """A JSON number or boolean where a date or an amount goes was quoted in Python's spelling ('memoDate:
    Decimal('1.5') is not a date', 'True is not a date', 'Decimal('1E+400') is too large'); now as the request
    wrote it."""
    books, api, _ = seed
    before = books_only(books)
    url = f"/v1/invoices/{INV}/write-off"
    assert refused(api.put(url, raw=b'{"memoDate": 1.5}'), 20) == f"{INV}, memoDate: 1.5 is not a date (YYYY-MM-DD)"
    assert refused(api.put(url, {"memoDate": True}), 20) == f"{INV}, memoDate: true is not a date (YYYY-MM-DD)"
    assert refused(api.put(url, {"memoDate": [1]}), 20) == f"{INV}, memoDate: [1] is not a date (YYYY-MM-DD)"
    item = b'{"items": [{"invoiceItemId": "II-0001", "amountWithoutTax": 1e400}]}'
    assert refused(api.put(url, raw=item), 20) == (
        f"{INV}, items[0].amountWithoutTax: 1E+400 is too large (at most 12 digits before the decimal point)"
    )
    assert books_only(books) == before


def test_an_integer_too_long_to_read_is_refused_in_jsons_terms(seed: tuple[Books, Api, str]) -> None:
    """A JSON integer of more digits than Python converts was refused with the interpreter's advice ('Exceeds the
    limit (4300 digits) for integer string conversion ...; use sys.set_int_max_str_digits() to increase the
    limit'); now in JSON's terms."""
    books, api, _ = seed
    before = books_only(books)
    body = b'{"items": [{"invoiceItemId": "II-0001", "amountWithoutTax": ' + b"9" * 5000 + b"}]}"
    answer = api.put(f"/v1/invoices/{INV}/write-off", raw=body)
    assert refused(answer, 90, 400) == f"{INV}: malformed JSON: an integer of more than 4300 digits"
    assert books_only(books) == before


def test_a_body_declared_as_another_media_type_is_refused_not_read_as_json(seed: tuple[Books, Api, str]) -> None:
    """A write's body sent as text/plain or as a form (curl -d without -H) was read as JSON all the same, and a
    text/plain write-off posted; the reference product takes JSON only, so a body declared as anything else is
    refused (415, category 90, Accept: application/json) and nothing is written. A body without a Content-Type is
    still read as JSON, and a write without a body works whatever its Content-Type says."""
    books, api, base = seed
    before = books_only(books)
    url = f"/v1/invoices/{INV}/write-off"
    for declared, shown in (
        ("text/plain", "text/plain"),
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
        ("TEXT/Plain; charset=utf-8", "text/plain"),
        ("", "an empty Content-Type"),
    ):
        answer = api.http.put(url, content=HEADER.read_bytes(), headers={"Content-Type": declared})
        assert refused(answer, 90, 415) == f"the request body must be Content-Type: application/json, not {shown}"
        assert answer.headers["Accept"] == "application/json"
    answer = api.http.post(
        "/v1/journal-runs", content=b'{"accountingPeriodName": "2026-10"}', headers={"Content-Type": "text/json"}
    )
    assert refused(answer, 90, 415) == "the request body must be Content-Type: application/json, not text/json"
    with httpx.Client(base_url=base) as anonymous:
        grant = b'{"grant_type": "client_credentials", "client_id": "integrator", "client_secret": "x"}'
        answer = anonymous.post("/oauth/token", content=grant, headers={"Content-Type": "application/json"})
        message = "the request body must be Content-Type: application/x-www-form-urlencoded, not application/json"
        assert refused(answer, 90, 415) == message
        assert answer.headers["Accept"] == "application/x-www-form-urlencoded"
    assert books_only(books) == before
    assert [kind for kind, *_ in refusals(books)] == ["put_v1_invoices_invoiceKey_write_off"] * 4 + [
        "post_v1_journal_runs",
        "post_oauth_token",
    ]
    # JSON with parameters, JSON without a declared type, and no body at all whatever the type: as before.
    wrote = api.http.put(
        url, content=b'{"memoDate": "2026-11-25"}', headers={"Content-Type": "Application/JSON; charset=UTF-8"}
    )
    assert ok(wrote)["creditMemo"]["id"] == f"WO-{INV}-1"
    unlabelled = api.http.put("/v1/invoices/INV00000002/write-off", content=b'{"memoDate": "2026-11-25"}')
    assert "content-type" not in unlabelled.request.headers
    assert ok(unlabelled)["creditMemo"]["id"] == "WO-INV00000002-1"
    answer = api.http.put("/v1/accounting-periods/2026-01/pending-close", headers={"Content-Type": "text/plain"})
    assert ok(answer)["toStatus"] == "Pending Close"


def test_an_unexpected_error_outside_an_operation_answers_the_envelope(
    seed003: Books, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An error no endpoint expected outside an operation (here under POST /oauth/token, as a database failing
    there or ``serve --token-ttl`` past what the book stores) answered Starlette's text/plain 'Internal Server
    Error'; now the envelope (500, category 60, naming the request), the traceback in the error log only."""
    made = create_client(seed003.engine, "integrator", "admin")

    def broken(*_: Any) -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr("subledger.http.clients.issue_token", broken)
    before = books_only(seed003)
    with serving(seed003) as base, httpx.Client(base_url=base) as http:
        grant = {"client_id": made.client_id, "client_secret": made.client_secret, "grant_type": "client_credentials"}
        answer = http.post("/oauth/token", data=grant)
    assert answer.headers["Content-Type"] == "application/json"
    request = answer.headers["Zuora-Request-Id"]
    assert refused(answer, 60, 500) == f"internal error, request {request}"
    logged = [r.getMessage() for r in caplog.records if r.name == "subledger.http.error"]
    assert len(logged) == 1
    assert logged[0].startswith(f"request {request}: Traceback")
    assert "OverflowError" in logged[0]
    assert books_only(seed003) == before


def test_a_path_ending_in_a_slash_is_not_found_naming_the_path_that_is(seed: tuple[Books, Api, str]) -> None:
    """A path with a trailing '/' answered 307 with an empty body (not the envelope) and a Location built from the
    Host header, which a client does not follow for a PUT; now 404 in the envelope, naming the path without it."""
    books, api, _ = seed
    before = books_only(books)
    answer = api.get(f"/v1/invoices/{INV}/")
    message = f"no endpoint GET /v1/invoices/{INV}/ (the path ends with '/': /v1/invoices/{INV} is one)"
    assert refused(answer, 40, 404) == message
    assert "Location" not in answer.headers
    answer = api.put(f"/v1/invoices/{INV}/write-off/", raw=HEADER.read_bytes(), key="slash")
    message = (
        f"no endpoint PUT /v1/invoices/{INV}/write-off/ (the path ends with '/': /v1/invoices/{INV}/write-off is one)"
    )
    assert refused(answer, 40, 404) == message
    assert refused(api.get("/v1/payments/"), 40, 404).endswith("(the path ends with '/': /v1/payments is one)")
    assert refused(api.get("/v1/nothing/"), 40, 404) == "no endpoint GET /v1/nothing/"
    assert books_only(books) == before
    assert books.show("invoice", INV)["balance"] == "430.00"


def test_a_query_parameter_the_endpoint_does_not_take_or_given_twice_is_refused(seed: tuple[Books, Api, str]) -> None:
    """Query parameters were read by name and the rest ignored: GET /v1/payments?accountnumber=A00000001 (misspelt)
    answered every account's payments as if they were the one asked for, a write-off with ?foo=1 posted, and a
    parameter given twice took the last. Now each is refused, 400 in the envelope, as an unknown or malformed
    field of a body is (category 21, 20), and nothing is written."""
    books, api, _ = seed
    before = books_only(books)
    assert refused(api.get("/v1/payments?accountnumber=A00000001"), 21, 400) == (
        "unknown query parameter accountnumber: GET /v1/payments takes accountNumber, page, pageSize"
    )
    assert refused(api.get(f"/v1/invoices/{INV}?fields=balance"), 21, 400) == (
        f"unknown query parameter fields: GET /v1/invoices/{INV} takes no query parameter"
    )
    assert refused(api.get("/v1/accounting-periods?page=1&size=5"), 21, 400) == (
        "unknown query parameter size: GET /v1/accounting-periods takes page, pageSize"
    )
    answer = api.put(f"/v1/invoices/{INV}/write-off?dryRun=true", raw=HEADER.read_bytes())
    assert refused(answer, 21, 400) == (
        f"unknown query parameter dryRun: PUT /v1/invoices/{INV}/write-off takes no query parameter"
    )
    assert refused(api.get("/v1/accounting-periods?page=1&page=2"), 20, 400) == "query parameter page is given 2 times"
    answer = api.get("/v1/payments?accountNumber=A00000001&accountNumber=A00000002")
    assert refused(answer, 20, 400) == "query parameter accountNumber is given 2 times"
    assert books_only(books) == before
    assert books.show("invoice", INV)["balance"] == "430.00"
    assert [kind for kind, *_ in refusals(books)] == [
        "get_v1_payments",
        "get_v1_invoices_invoiceKey",
        "get_v1_accounting_periods",
        "put_v1_invoices_invoiceKey_write_off",
        "get_v1_accounting_periods",
        "get_v1_payments",
    ]
    # The parameters an endpoint takes, each once: as before.
    assert ok(api.get("/v1/payments?accountNumber=A00000001&page=1&pageSize=1"))["payments"]


def test_a_request_that_is_not_http_is_refused_in_the_envelope(seed: tuple[Books, Api, str]) -> None:
    """A request uvicorn cannot parse (a Content-Length that is not a number, two that differ, a request line
    that is not one) was answered by uvicorn itself: 400 text/plain 'Invalid HTTP request received.', with no
    request id and no line in the access log. Now the envelope (400, category 90, Zuora-Request-Id), nothing
    written."""
    books, api, base = seed
    before = books_only(books)
    host, port = base.removeprefix("http://").split(":")
    head = (
        f"PUT /v1/invoices/{INV}/write-off HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api.token}\r\n"
        "Content-Type: application/json\r\n"
    )
    body = HEADER.read_bytes()
    for request in (
        f"{head}Content-Length: many\r\n\r\n".encode() + body,
        f"{head}Content-Length: {len(body)}\r\nContent-Length: {len(body) + 1}\r\n\r\n".encode() + body,
        b"NOT HTTP\r\n\r\n",
    ):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head_of, _, content = answer.decode().partition("\r\n\r\n")
        status_line, *lines = head_of.split("\r\n")
        headers = httpx.Headers()
        for line in lines:
            name, _, value = line.partition(": ")
            headers[name] = value
        parsed = httpx.Response(int(status_line.split()[1]), headers=headers, content=content.encode())
        assert parsed.headers["Content-Type"] == "application/json"
        assert refused(parsed, 90, 400) == "malformed HTTP request: Invalid HTTP request received", answer
    assert books_only(books) == before
    assert books.show("invoice", INV)["balance"] == "430.00"


def test_a_gzipped_body_is_read_and_another_content_encoding_refused(seed: tuple[Books, Api, str]) -> None:
    """The reference product takes a gzipped body (Content-Encoding: gzip); it was read as JSON as it came and
    refused as 'not UTF-8 text: byte 0x8b', and a coding the service does not read (br) was ignored. Now gzip is
    inflated (at most to the body limit: a small body cannot expand into any size) and another coding is 415."""
    books, api, _ = seed
    url = f"/v1/invoices/{INV}/write-off"
    headers = {"Content-Type": "application/json", "Idempotency-Key": "gz"}
    before = books_only(books)
    refusals_of = (
        (
            {"Content-Encoding": "br"},
            HEADER.read_bytes(),
            90,
            415,
            "Content-Encoding br is not supported: gzip, or none",
        ),
        ({"Content-Encoding": "gzip"}, HEADER.read_bytes(), 90, 400, "the body is not gzip data: "),
        ({"Content-Encoding": "gzip"}, gzip.compress(HEADER.read_bytes())[:-4], 90, 400, "the body is not gzip data: "),
        ({"Content-Encoding": "gzip"}, gzip.compress(b" " * (1 << 20) + b"{}"), 70, 413, "the request body exceeds"),
    )
    for extra, body, category, status, message in refusals_of:
        answer = api.http.put(url, content=body, headers={**headers, **extra})
        assert refused(answer, category, status).startswith(message), extra
    assert (
        api.http.put(url, content=HEADER.read_bytes(), headers={**headers, "Content-Encoding": "br"}).headers[
            "Accept-Encoding"
        ]
        == "gzip"
    )
    assert books_only(books) == before
    zipped = gzip.compress(HEADER.read_bytes())
    written = ok(api.http.put(url, content=zipped, headers={**headers, "Content-Encoding": "gzip"}))
    assert written["creditMemo"]["id"] == f"WO-{INV}-1"
    after = books_only(books)
    again = ok(api.http.put(url, content=zipped, headers={**headers, "Content-Encoding": "GZIP"}))
    assert again == written
    assert books_only(books) == after


def test_client_credentials_by_http_basic_are_taken(seed003: Books) -> None:
    """RFC 6749 2.3.1: an authorization server MUST take a client's id and secret by HTTP Basic, which OAuth
    libraries send by default; the header was ignored and such a client refused as unknown (401, a failed attempt
    counted against it). Now Basic works; both Basic and a secret in the body is refused (one method per request),
    and a wrong Basic secret is 401 with a Basic challenge."""
    made = create_client(seed003.engine, "integrator", "admin")
    grant = {"grant_type": "client_credentials"}
    with serving(seed003) as base, httpx.Client(base_url=base) as http:
        answer = http.post("/oauth/token", data=grant, auth=(made.client_id, made.client_secret))
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        shown = http.get(f"/v1/invoices/{INV}", headers={"Authorization": f"Bearer {token}"})
        assert ok(shown)["balance"] == "430.00"
        with_id = {**grant, "client_id": made.client_id}
        assert http.post("/oauth/token", data=with_id, auth=(made.client_id, made.client_secret)).status_code == 200
        answer = http.post("/oauth/token", data=grant, auth=(made.client_id, "wrong"))
        assert refused(answer, 11, 401) == "unknown client or wrong secret"
        assert (answer.json()["error"], answer.headers["WWW-Authenticate"]) == ("invalid_client", 'Basic realm="oauth"')
        twice = {**grant, "client_id": made.client_id, "client_secret": made.client_secret}
        answer = http.post("/oauth/token", data=twice, auth=(made.client_id, made.client_secret))
        assert refused(answer, 90, 400) == (
            "the client credentials are given both in Authorization: Basic and in the body: give them once"
        )
        answer = http.post("/oauth/token", data=grant, headers={"Authorization": "Basic bm8tY29sb24="})
        assert refused(answer, 90, 400) == "Authorization: Basic must be the base64 of client_id:client_secret"
    assert made.client_secret not in json.dumps(dump(seed003.engine))
    assert [(kind, actor, code) for kind, actor, code, _ in refusals(seed003)] == [
        ("post_oauth_token", "integrator", "authentication-failed"),
        ("post_oauth_token", "integrator", "invalid-input"),
        ("post_oauth_token", "anonymous", "invalid-input"),
    ]


def test_an_idempotency_key_given_twice_is_refused(seed: tuple[Books, Api, str]) -> None:
    """Two Idempotency-Key headers (a client that adds its own to a library's) were read as the first alone, so a
    retry whose headers came in the other order could post a second time; now the request is refused (400, category
    90) and nothing is written."""
    books, api, _ = seed
    before = books_only(books)
    keys = [("Content-Type", "application/json"), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    for headers in (keys, [keys[0], keys[2], keys[1]]):
        answer = api.http.put(f"/v1/invoices/{INV}/write-off", content=HEADER.read_bytes(), headers=headers)
        assert refused(answer, 90, 400) == "Idempotency-Key is given 2 times: give one"
    assert books_only(books) == before
