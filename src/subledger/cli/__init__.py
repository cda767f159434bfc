"""The ``subledger`` command.

Every command takes ``--db`` (or ``SUBLEDGER_DB``) and ``--actor`` (or ``SUBLEDGER_ACTOR``). A user error prints
one line to stderr naming the document, the field and the rule, and exits 1; nothing is written.
"""

from __future__ import annotations

import sys

from subledger.cli import adjustments as _adjustments  # noqa: F401  (registers commands)
from subledger.cli import apply as _apply  # noqa: F401  (registers commands)
from subledger.cli import audit as _audit  # noqa: F401  (registers commands)
from subledger.cli import books as _books  # noqa: F401  (registers commands)
from subledger.cli import check as _check  # noqa: F401
from subledger.cli import exports as _exports  # noqa: F401
from subledger.cli import periods as _periods  # noqa: F401
from subledger.cli import reversal as _reversal  # noqa: F401
from subledger.cli import writeoff as _writeoff  # noqa: F401
from subledger.cli.common import app, err_console
from subledger.errors import Problems, SubledgerError


def main() -> None:
    try:
        app()
    except Problems as exc:
        for problem in exc.problems:
            err_console.print(f"error: {problem}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except SubledgerError as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)


__all__ = ["app", "main"]
