"""The ``subledger`` command.

Every command takes ``--db URL`` (or ``SUBLEDGER_DB``), ``--json`` and, when it writes, ``--actor`` (or
``SUBLEDGER_ACTOR``) and ``--idempotency-key``, before or after the subcommand. A mistake prints one line naming
the thing and what to do (under ``--json``, one JSON object in the reference product's shape on stdout), exits
non-zero and writes nothing; no user ever sees a traceback (an internal error's goes to a log file named in the
one line). Exit statuses are in ``cli.common``.
"""

import datetime as dt
import errno
import json
import os
import sys
import tempfile
import traceback

from subledger.cli import actors as _actors  # noqa: F401  (registers commands)
from subledger.cli import adjustments as _adjustments  # noqa: F401  (registers commands)
from subledger.cli import audit as _audit  # noqa: F401
from subledger.cli import books as _books  # noqa: F401
from subledger.cli import check as _check  # noqa: F401
from subledger.cli import documents as _documents  # noqa: F401
from subledger.cli import exports as _exports  # noqa: F401
from subledger.cli import periods as _periods  # noqa: F401
from subledger.cli import reason_codes as _reason_codes  # noqa: F401
from subledger.cli import refunds as _refunds  # noqa: F401
from subledger.cli import reports as _reports  # noqa: F401
from subledger.cli import serve as _serve  # noqa: F401
from subledger.cli.common import INTERNAL, REFUSED, STATE, USAGE, CommandError, ReaderGone, State, app
from subledger.errors import Problem, SubledgerError, problems_of, reasons


def report_error(exc: SubledgerError, json_out: bool) -> None:
    """One line per problem: ``error: document, field: rule`` on stderr, or the JSON shape on stdout."""
    if json_out:
        try:
            sys.stdout.write(json.dumps({"success": False, "reasons": reasons(exc)}, ensure_ascii=False) + "\n")
            sys.stdout.flush()
            return
        except OSError:  # stdout cannot take it (its disk is full): the line goes to stderr, as without --json
            _quiet_stdout()
    for problem in problems_of(exc):
        sys.stderr.write(f"error: {problem}\n")


def _input_named() -> str:
    return f"{STATE.inputs[-1]}" if STATE.inputs else "the input"


def _database_error(exc: BaseException) -> CommandError:
    from subledger.cli.common import database_url
    from subledger.cli.preflight import unreachable

    text = str(getattr(exc, "orig", None) or exc)
    if "disk is full" in text or "No space left" in text or "could not extend file" in text:
        return CommandError(
            "the disk holding the database is full: nothing was written; free some space and run it again",
            code="disk-full",
        )
    if "no such table" in text or "no such column" in text or "UndefinedTable" in text or "UndefinedColumn" in text:
        behind = _schema_behind()
        if behind is not None:
            return CommandError(behind, code="old-schema")
    if "readonly" in text or "read-only" in text:
        return CommandError("the database is read-only: nothing was written; check its permissions", code="read-only")
    return unreachable(database_url(), exc)


def _schema_behind() -> str | None:
    """Why a table or column is missing, when the reason is a book made by an older subledger."""
    try:
        from alembic.script import ScriptDirectory
        from sqlalchemy import text

        from subledger.cli.common import database_url, engine
        from subledger.storage.migrate import config

        head = ScriptDirectory.from_config(config()).get_current_head()
        with engine().connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        return None
    if current == head:
        return None
    return (
        f"the book at {database_url()} has schema {current}, this subledger needs {head}: "
        "run `subledger init` to upgrade it"
    )


def translate(exc: BaseException) -> SubledgerError | None:
    """A user's or the environment's mistake as one line, or ``None`` for a defect (logged with its traceback)."""
    if isinstance(exc, SubledgerError):
        return exc
    if isinstance(exc, RecursionError):
        return CommandError(f"{_input_named()} is nested too deeply to read (JSON depth)", code="invalid-input")
    if isinstance(exc, UnicodeDecodeError):
        return CommandError(f"{_input_named()} is not UTF-8 text: save it as UTF-8", code="invalid-input")
    if isinstance(exc, OSError):
        name = f" {exc.filename}" if exc.filename else ""
        if exc.errno == errno.ENOSPC and not exc.filename:
            # stdout's disk (``> out.txt``): the command may have done its work, which "run it again" would repeat.
            return CommandError(
                "the disk is full: the output could not be written (`subledger audit` says whether the command was "
                "done); free some space",
                code="disk-full",
            )
        if exc.errno == errno.ENOSPC:
            return CommandError(f"the disk is full writing{name}: free some space and run it again", code="disk-full")
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return CommandError(f"cannot write{name}: {exc.strerror}: check the path's permissions", code="os-error")
        return CommandError(f"{exc.strerror or exc}:{name or ' (no file)'}: check the path", code="os-error")
    module = type(exc).__module__
    if module.startswith(("sqlalchemy", "sqlite3", "psycopg")):
        from sqlalchemy.exc import DBAPIError

        if isinstance(exc, DBAPIError) or module.startswith(("sqlite3", "psycopg")):
            return _database_error(exc)
    return None


def _log_internal(exc: BaseException) -> str:
    fd, path = tempfile.mkstemp(prefix=f"subledger-error-{dt.datetime.now():%Y%m%d-%H%M%S}-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as log:
        log.write(f"subledger {' '.join(sys.argv[1:])}\n\n")
        log.write("".join(traceback.format_exception(exc)))
    return path


def run(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    try:
        return _run(argv)
    except (BrokenPipeError, ReaderGone):
        # The reader went away (``subledger journal | head``), the output's or the help's: nothing to say to it.
        _quiet_stdout()
        return 0


def _quiet_stdout() -> None:
    """What is left in stdout's buffer goes nowhere: flushed into the closed pipe (or onto the full disk) at exit,
    it would print "Exception ignored" and a traceback."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (stdout replaced, as a test does)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (stdout for the rest of this process)


def _run(argv: list[str] | None) -> int:
    from typer import Abort
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    args = sys.argv[1:] if argv is None else argv
    STATE.__dict__.update(State().__dict__)
    try:
        status = app(args=args, prog_name="subledger", standalone_mode=False)
        return status if isinstance(status, int) else 0
    except NoArgsIsHelpError as exc:
        try:  # a group without its command (``subledger list | head``): the usage, and the command line was wrong
            sys.stdout.write(exc.format_message() + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()
        return USAGE
    except ClickException as exc:
        if STATE.json or "--json" in args:
            failure = CommandError(exc.format_message(), code="usage", exit_code=USAGE)
            report_error(failure, True)
        else:
            hint = " (see --help)" if exc.exit_code == USAGE else ""
            sys.stderr.write(f"error: {exc.format_message()}{hint}\n")
        return exc.exit_code
    except Abort:
        sys.stderr.write("aborted\n")
        return 130
    except Exception as exc:
        if isinstance(exc, BrokenPipeError | ReaderGone):
            raise
        error = translate(exc)
        json_out = STATE.json or "--json" in args
        if error is None:
            path = _log_internal(exc)
            error = CommandError(
                f"internal error ({type(exc).__name__}); the traceback is in {path}: please report it",
                code="internal-error",
                exit_code=INTERNAL,
            )
        report_error(error, json_out)
        return error.exit_code if isinstance(error, CommandError) else REFUSED


def main() -> None:
    sys.exit(run())


__all__ = ["Problem", "app", "main", "run"]
