"""Write-offs through the HTTP service against the same write-offs through the Python API, in the same run.

One book of ``2 n`` invoices: the Python API writes off the odd ones, one ``Books.write_off_invoice`` call each; a
``subledger serve`` process (its own interpreter, as in production) writes off the even ones, one ``PUT
/v1/invoices/{key}/write-off`` each from one keep-alive client on loopback. Same body, same book, alternating
documents, so both paths meet the same data. Target: HTTP at least half the API's rate (``ours`` <= 2x).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from typing import Any

import httpx

from bench.harness import Figure, Scratch, ratio_target
from subledger.api import Books
from subledger.http.clients import create_client

#: Requests are bounded whatever the size asked for: the figure is a rate and a p99, not a soak test.
MAX_REQUESTS = 400
BODY = {
    "memoDate": "2026-12-15",
    "reasonCode": "Write-off",
    "comment": "Month-end bad debt",
    "revenueImpacting": "No",
    "nonRevenueWriteOffAccountingCode": "Bad Debt Expense",
}


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _serve(books: Books) -> tuple[subprocess.Popen[str], str]:
    url = books.engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-c", "from subledger.cli import main; main()", "serve", "--db", url, "--port", "0"]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert server.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = server.stderr.readline()
        found = re.search(r"running on (http://\S+)", line)
        if found:
            # The access log goes on to stderr: drain it so the server never blocks on a full pipe.
            threading.Thread(target=server.stderr.read, daemon=True).start()
            return server, found.group(1)
        if not line and server.poll() is not None:
            break
    server.kill()
    raise RuntimeError("subledger serve did not start")


def http_write_off(scratch: Scratch, invoices: int, load_json: Any) -> list[Figure]:
    engine = scratch.engine_kind
    n = max(2, min(invoices // 4, MAX_REQUESTS))  # --quick: 25 requests a path
    books = scratch.book("http")
    books.load(load_json(scratch, 2 * n))
    numbers = [f"INV{i:08d}" for i in range(1, 2 * n + 1)]
    api_numbers, http_numbers = numbers[0::2], numbers[1::2]

    api: list[float] = []
    for number in api_numbers:
        start = time.perf_counter()
        books.write_off_invoice(number, BODY)
        api.append(time.perf_counter() - start)

    made = create_client(books.engine, "bench", "admin")
    server, base = _serve(books)
    served: list[float] = []
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            form = {"client_id": made.client_id, "client_secret": made.client_secret}
            token = client.post("/oauth/token", data={**form, "grant_type": "client_credentials"}).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            for number in http_numbers:
                start = time.perf_counter()
                answer = client.put(f"/v1/invoices/{number}/write-off", json=BODY)
                served.append(time.perf_counter() - start)
                if not answer.json().get("success"):
                    raise RuntimeError(answer.text)
    finally:
        server.terminate()
        server.wait(30)
    target, passed = ratio_target(2)(sum(served), sum(api))
    rates = f"{n / sum(served):,.0f}/s vs {n / sum(api):,.0f}/s"
    return [
        Figure("http", engine, f"{n:,} write-offs, {rates}", sum(served), "Python API", sum(api), target, passed),
        Figure(
            "http",
            engine,
            f"p99 {p99(served) * 1000:.1f} ms (API {p99(api) * 1000:.1f} ms)",
            p99(served),
            "-",
            0.0,
            "-",
            None,
        ),
    ]
