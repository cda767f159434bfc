"""A killed check or close releases everything (issue 14 item 6), on both engines.

A command runs in a process of its own, on books big enough for its journal pass to be shared with a forked process
(``SUBLEDGER_SPLIT_FROM=0``), and is held where it must be killed (the journal pass in both processes, or Beancount
loading the period's ledger): then ``kill -9``. The forked process must end with it, the server must see the
command's session end (on PostgreSQL a session left idle in transaction keeps the close's period locks), the next
close must go through, and nothing the killed process wrote may be left on disk (the period's ledger is loaded from
memory).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import db_url, failing
from subledger.api import Books
from subledger.storage import forked

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="needs fork and a second core")

#: The command, held at ``hold`` (the journal pass, or Beancount's load) in every process that gets there.
SCRIPT = """
import os, sys, time
mode, url, marker = sys.argv[1:4]
from subledger.api import Books
from subledger.checks import gather, ledger

def hold(*args, **kwargs):
    with open(marker, "a") as out:
        out.write(f"{os.getpid()}\\n")
    time.sleep(600)

if mode == "load":
    ledger.loader.load_string = hold
else:
    gather._fold = hold
books = Books(url)
if mode == "close":
    books.close_period("2026-01")
else:
    books.check("2026-01" if mode == "load" else None)
"""


@pytest.fixture
def two_accounts(seed003: Books, line_level: Books) -> Books:
    del line_level
    return seed003


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _within(seconds: float, done: Callable[[], bool]) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if done():
            return True
        time.sleep(0.1)
    return done()


def _kill_while_held(books: Books, mode: str, tmp: Path, holders: int) -> tuple[int, list[int], str]:
    """Run ``mode`` in a process of its own, wait until ``holders`` processes are held, kill it with SIGKILL;
    returns its id, the ids of the held processes and the application name its sessions carried."""
    app = f"kill_{uuid.uuid4().hex[:10]}"
    url = db_url(books)
    if books.engine.dialect.name == "postgresql":
        url += f"{'&' if '?' in url else '?'}application_name={app}"
    marker = tmp / "held"
    env = {**os.environ, "SUBLEDGER_SPLIT_FROM": "0", "TMPDIR": str(tmp)}
    command = subprocess.Popen([sys.executable, "-c", SCRIPT, mode, url, str(marker)], env=env)
    try:
        held = _within(120, lambda: marker.exists() and len(set(marker.read_text().split())) >= holders)
        assert held, f"the {mode} never reached the point where it is killed"
    finally:
        command.send_signal(signal.SIGKILL)
        command.wait()
    return command.pid, [int(pid) for pid in set(marker.read_text().split())], app


def _sessions(books: Books, app: str) -> int:
    with books.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :a"), {"a": app}
            ).scalar_one()
        )


@pytest.mark.parametrize("mode", ["check", "close"])
def test_a_killed_command_leaves_no_process_and_no_session(two_accounts: Books, mode: str, tmp_path: Path) -> None:
    parent, held, app = _kill_while_held(two_accounts, mode, tmp_path, holders=2)
    children = [pid for pid in held if pid != parent]
    assert len(children) == 1, held  # the pass was shared with a forked process
    assert _within(10, lambda: not any(_alive(pid) for pid in children)), "the forked process outlived its parent"
    if two_accounts.engine.dialect.name == "postgresql":
        # The server saw the command's connection end: no session of it stays (idle in transaction, with locks).
        assert _within(10, lambda: _sessions(two_accounts, app) == 0)
    closed = two_accounts.close_period("2026-01")
    assert closed.to_status == "Closed"
    report = two_accounts.check()
    assert report.passed, failing(report)


def test_a_killed_period_load_leaves_nothing_on_disk(two_accounts: Books, tmp_path: Path) -> None:
    """Killed while Beancount loads the period's ledger: the command's temporary directory (TMPDIR, ``tmp_path``)
    gains nothing but the test's own marker file (the SQLite book lives there too), and the next check passes."""
    before = {p.name for p in tmp_path.iterdir()}
    _kill_while_held(two_accounts, "load", tmp_path, holders=1)
    assert sorted({p.name for p in tmp_path.iterdir()} - before) == ["held"]
    report = two_accounts.check("2026-01")
    assert report.passed, failing(report)
