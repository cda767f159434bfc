"""The README is a test: the shell blocks of its "Using it" section, run in order on a fresh book.

From a fresh clone's point of view: a temporary directory holding only the files git tracks under ``examples/``
(so every file the walk-through names is shipped) and ``.venv`` (this interpreter's environment), no
``SUBLEDGER_*`` variables. Every command must succeed, print no traceback, and the book must end as the story says.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def using_it_blocks(readme: str) -> list[str]:
    section = readme.split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def test_the_section_names_only_shipped_files() -> None:
    script = "\n".join(using_it_blocks((ROOT / "README.md").read_text()))
    named = set(re.findall(r"examples/[\w.-]+", script))
    assert named
    tracked = subprocess.run(["git", "ls-files", "examples"], cwd=ROOT, capture_output=True, text=True, check=False)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    assert named <= set(tracked.stdout.split()), sorted(named - set(tracked.stdout.split()))


def test_the_walk_through_runs_as_written(tmp_path: Path) -> None:
    blocks = using_it_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 6
    tracked = subprocess.run(["git", "ls-files", "examples"], cwd=ROOT, capture_output=True, text=True, check=False)
    files = (
        tracked.stdout.split()
        if tracked.returncode == 0
        else [str(p.relative_to(ROOT)) for p in (ROOT / "examples").rglob("*") if p.is_file()]
    )
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, tmp_path / name)
    venv = Path(sys.executable).parent.parent
    (tmp_path / ".venv").symlink_to(venv)
    if not (venv / "bin" / "activate").exists():
        pytest.skip("the interpreter is not in a virtual environment")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUBLEDGER_", "VIRTUAL_ENV"))}
    script = "set -e -o pipefail\n" + "\n".join(blocks)
    if shutil.which("curl") is None:
        pytest.skip("the walk-through's HTTP step uses curl")
    # Its own session, killed whole afterwards: a step that fails must not leave the served book running.
    walk = subprocess.Popen(
        ["bash", "-x", "-c", script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = walk.communicate(timeout=900)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(walk.pid, signal.SIGKILL)
    done = subprocess.CompletedProcess(walk.args, walk.returncode, stdout, stderr)
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
    assert done.returncode == 0, tail
    assert "Traceback" not in done.stdout + done.stderr
    # The HTTP step: the written-off invoice's credit memo, and the access log's line for it.
    assert '"creditMemo":{"id":"WO-INV00000021-1"' in done.stdout, tail
    assert '"success":true}' in done.stdout
    access = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines() if line.startswith("{")]
    assert [(a["method"], a["status"]) for a in access if "write-off" in a["path"]] == [("PUT", 200)], access
    assert "All checks pass." in done.stdout
    assert "2026-10: Open -> Closed" in done.stdout
    assert (tmp_path / "books.db").exists()
    assert (tmp_path / "ledger" / "main.beancount").exists()
    assert (tmp_path / "gl" / "2026-10.csv").exists()
