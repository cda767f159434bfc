"""A real ``subledger write-off --from`` process killed (SIGKILL) in the middle of a bulk write-off.

The bulk write-off commits documents in batches, each batch one transaction. Killed between or inside batches, the
database must be consistent: each invoice wholly written off (its memo, its application, its entries, balance zero)
or untouched (no memo, balance as loaded), every journal entry complete, every hash chain intact. Running the same
command again with the same idempotency key finishes the job without writing anything twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select

from conftest import db_url
from invariants import assert_invariants
from subledger.api import Books
from subledger.storage.schema import document_items, documents

INVOICES = int(os.environ.get("SUBLEDGER_CRASH_INVOICES", "3000"))
ACCOUNTS = 3
MEMO_DATE = "2026-10-28"


def numbers() -> list[str]:
    return [f"KINV{n:06d}" for n in range(INVOICES)]


def book_file() -> dict[str, Any]:
    accounts = [f"K{a:08d}" for a in range(ACCOUNTS)]
    return {
        "accounts": [{"accountNumber": a, "name": f"Customer {a}", "currency": "USD"} for a in accounts],
        "invoices": [
            {
                "invoiceNumber": number,
                "accountNumber": accounts[n % ACCOUNTS],
                "invoiceDate": "2026-10-05",
                "currency": "USD",
                "items": [
                    {
                        "id": f"{number}-1",
                        "chargeAmount": "120.00",
                        "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
                        "taxationItems": [{"id": f"{number}-T", "taxAmount": "12.00"}],
                    }
                ],
            }
            for n, number in enumerate(numbers())
        ],
    }


def written_off(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(documents).where(documents.c.source == "WriteOff")
            ).scalar_one()
        )


def start(url: str, task: Path, key: str) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).with_name("subledger")), "write-off", "--from", str(task), "--json"]
    command += ["--db", url, "--idempotency-key", key]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "SUBLEDGER_ACTOR": "admin"}
    )


def states(engine: Engine) -> dict[str, str]:
    """Each invoice: 'written off' (memo and zero balance), 'untouched' (no memo, balance as loaded), or what it is."""
    with engine.connect() as conn:
        memos = Counter(
            conn.execute(select(documents.c.source_document).where(documents.c.source == "WriteOff")).scalars()
        )
        balances = dict(
            conn.execute(
                select(document_items.c.document_number, document_items.c.balance).where(
                    document_items.c.document_number.like("KINV%")
                )
            ).all()
        )
    out: dict[str, str] = {}
    for number in numbers():
        balance, memo = balances[number], memos.get(number, 0)
        if memo == 1 and balance == 0:
            out[number] = "written off"
        elif memo == 0 and balance == 120:
            out[number] = "untouched"
        else:
            out[number] = f"memos {memo}, balance {balance}"
    return out


@pytest.mark.slow
def test_killed_bulk_write_off_leaves_each_document_whole_or_untouched(books: Books, tmp_path: Path) -> None:
    if not hasattr(Books, "write_off_bulk"):
        pytest.skip("write-offs have not landed yet")
    books.load(json.dumps(book_file()))
    task = tmp_path / "write-off.json"
    task.write_text(json.dumps({"documents": numbers(), "settings": {"memoDate": MEMO_DATE}}))
    url = db_url(books)

    # Watch with a plain engine: the books' SQLite engine opens every transaction with BEGIN IMMEDIATE, so its
    # reads would queue behind the writer's batches and see them only at the end.
    watcher = create_engine(url)
    process = start(url, task, "month-end")
    deadline = time.monotonic() + 300
    while written_off(watcher) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    watcher.dispose()
    if process.poll() is not None:
        pytest.fail(f"the write-off finished before it could be killed: {process.communicate()[1].decode()[-500:]}")
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    after_kill = states(books.engine)
    counts = Counter(after_kill.values())
    assert set(counts) <= {"written off", "untouched"}, counts
    assert 0 < counts.get("written off", 0) < INVOICES, counts
    assert_invariants(books)

    # The same command and key again: what was done is skipped, the rest is written off, nothing twice.
    rerun = start(url, task, "month-end")
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()[-1000:]
    result = json.loads(out)
    assert (result["requested"], len(result["writtenOff"]), result["failed"]) == (INVOICES, INVOICES, [])
    assert set(states(books.engine).values()) == {"written off"}
    assert written_off(books.engine) == INVOICES
    assert_invariants(books)
    print(f"\ncrash: killed after {counts.get('written off', 0)} of {INVOICES} invoices were written off")
