"""An installed package is whole: what ``pyproject.toml`` ships (modules and package data, as setuptools copies them
into a wheel) sets up a book, loads it, writes off and checks it, from a directory that is not the checkout.

The default chart of accounts and fiscal calendar were read from the checkout (``chart_of_accounts/`` and
``periods/`` beside ``src/``): installed from a wheel, ``subledger init`` said
``error: .../lib/python3.11/chart_of_accounts: File ... does not exist``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, example


def _installed(build: Path) -> Path:
    """The package as an install lays it out: setuptools' ``build_py`` (what a wheel holds) into ``build``."""
    done = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "--build-lib", str(build)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return build


def test_an_installed_package_sets_up_loads_writes_off_and_checks_a_book(tmp_path: Path) -> None:
    build = _installed(tmp_path / "build")
    work = tmp_path / "work"
    work.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(build), "SUBLEDGER_DB": "sqlite:///books.db"}
    program = (
        "import sys, subledger; from subledger.cli import main; print(subledger.__file__, file=sys.stderr); main()"
    )

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", program, *arguments],
            check=False,
            cwd=work,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    steps = [
        run("init"),
        run("load", str(example("seed-003-books.json"))),
        run("invoice", "write-off", "INV00000001", "--memo-date", "2026-11-25", "--comment", "Customer dissolved"),
        run("check"),
        run("show", "invoice", "INV00000001", "--json"),
    ]
    for step in steps:
        assert step.returncode == 0, step.stderr
        assert step.stderr.splitlines()[0] == str(build / "subledger" / "__init__.py")
    assert json.loads(steps[-1].stdout)["balance"] == "0.00"
    assert sorted(p.name for p in work.iterdir()) == ["books.db"]
