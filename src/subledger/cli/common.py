"""What every ``subledger`` command shares: the app and its groups, the common options, output, errors.

Start-up is part of the product: a command line is typed and scripted all day. This module and every command
module import only typer and the standard library; a command imports the API, SQLAlchemy and the pydantic models
inside its function, when it runs (``tests/test_cli_startup.py`` checks that ``subledger --help`` imports none).
So no annotation of a command may name a model, and no command module may import one at module level.

``--db``, ``--actor``, ``--json`` and ``--format`` are accepted before the subcommand (the app's callback) and after
it (``register`` adds them to every command); the later one wins.

Exit statuses: 0 done, 1 refused (the books or the environment said no: nothing written), 2 usage (the command line
itself is wrong), 3 partly done (a bulk run with refusals), 4 internal error (traceback in a log file).
"""

import contextlib
import csv
import functools
import inspect
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from typer.core import TyperGroup

from subledger import __version__
from subledger.errors import SubledgerError
from subledger.text import BIDI_CONTROLS, CONTROLS

DONE, REFUSED, USAGE, PARTLY_DONE, INTERNAL = 0, 1, 2, 3, 4

OutputFormat = Literal["table", "csv", "tsv"]


@dataclass
class State:
    """The common options of this run, from before or after the subcommand."""

    db: str | None = None
    actor: str | None = None
    json: bool = False
    format: OutputFormat = "table"
    idempotency_key: str | None = None
    #: Input files named on the command line: an error decoding one names it.
    inputs: list[Path] = field(default_factory=list)


STATE = State()


class CommandError(SubledgerError):
    """A mistake on the command line or in the environment (a missing file, no book, a database unreachable).

    Like every ``SubledgerError`` it is one line naming the thing and what to do, and nothing was written."""

    code = "command-error"

    def __init__(self, rule: str, *, code: str | None = None, exit_code: int = REFUSED, **where: str | None) -> None:
        super().__init__(rule, **where)
        if code is not None:
            self.code = code
        self.exit_code = exit_code


def _plain_arguments() -> None:
    """Help names an argument by its metavar alone (``NUMBER``, not ``{NUMBER}`` and ``NUMBER <str>``): the type
    is the help text's to explain. typer has no setting for it."""
    from typer.core import TyperArgument, TyperOption

    def usage_name(self: TyperArgument) -> str:
        name = self.display_name_raw
        return name if self.required else f"[{name}]"

    TyperArgument._usage_display_name = usage_name  # type: ignore[method-assign]
    TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]
    typed = TyperOption.display_type_rich

    def option_value(self: TyperOption, ctx: Any) -> str | None:
        # An option without a metavar shows its name (--period PERIOD), not its Python type (<str>); choices
        # still show their values.
        if self.metavar is None and not self.type_descriptor.is_choice and self.name:
            return self.name.upper().replace("_", "-")
        shown = typed(self, ctx)
        return shown.strip("<>") if shown else shown

    TyperOption.display_type_rich = option_value  # type: ignore[method-assign]


_plain_arguments()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"subledger {__version__}")
        raise typer.Exit()


class ReaderGone(Exception):
    """stdout's reader went away (``subledger list invoices | head``). Raised in place of the ``BrokenPipeError``,
    which typer would turn into exit status 1 (refused) before ``cli.run`` could treat it as the end of the output."""


class _Root(TyperGroup):
    """``subledger``: a ``BrokenPipeError`` of a command, or of the help it prints, raised as ``ReaderGone``."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            raise ReaderGone from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise ReaderGone from None


app = typer.Typer(
    name="subledger",
    cls=_Root,
    help="Billing settlement as double-entry accounting: load, write off, reverse, apply, check, close, export.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def command_group(name: str, help: str) -> typer.Typer:
    """A command group of ``subledger`` (``subledger NAME ...``)."""
    group = typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(group, name=name)
    return group


invoice_app = command_group("invoice", "Invoices: write off, reverse, recover a write-off.")
debit_memo_app = command_group("debit-memo", "Debit memos: write off, recover a write-off.")
credit_memo_app = command_group("credit-memo", "Credit memos: write off, reverse, apply, unapply, refund.")
payment_app = command_group("payment", "Payments: apply, unapply.")
period_app = command_group("period", "Accounting periods: list, show, pending-close, close, reopen.")
export_app = command_group("export", "Export the books: Beancount ledger, GL files.")

DB_HELP = "Database URL (default $SUBLEDGER_DB, else sqlite:///subledger.db)."
ACTOR_HELP = "Who runs the command (default $SUBLEDGER_ACTOR, else admin)."
JSON_HELP = "Print JSON for machines (errors too)."
FORMAT_HELP = "Tables as aligned text (table), or csv or tsv for scripts."

Db = Annotated[str | None, typer.Option("--db", metavar="URL", help=DB_HELP, show_default=False)]
ActorName = Annotated[str | None, typer.Option("--actor", metavar="NAME", help=ACTOR_HELP, show_default=False)]
Json = Annotated[bool, typer.Option("--json", help=JSON_HELP, show_default=False)]
Format = Annotated[
    OutputFormat | None, typer.Option("--format", metavar="table|csv|tsv", help=FORMAT_HELP, show_default=False)
]
IdempotencyKey = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        metavar="KEY",
        help="Replaying the same key and request answers the first result and posts nothing twice.",
        show_default=False,
    ),
]


@app.callback()
def _options(
    db: Db = None,
    actor: ActorName = None,
    json_out: Json = False,
    format: Format = None,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True),
    ] = False,
) -> None:
    """Billing settlement as double-entry accounting: load, write off, reverse, apply, check, close, export.

    New here? README.md, section "Using it", walks through a book from init to export."""
    _remember(db=db, actor=actor, json=json_out, format=format)


def _remember(**given: Any) -> None:
    for name, value in given.items():
        if value is not None and value is not False:
            setattr(STATE, name, value)


def option_param(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    """A keyword-only parameter of a command's signature: an option ``register`` adds, or one a command builds."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def register(
    group: typer.Typer,
    name: str | None = None,
    *,
    writes: bool = False,
    table: bool = False,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a command on ``group`` with the common options appended: ``--db`` and ``--json`` always,
    ``--actor`` and ``--idempotency-key`` on a command that writes, ``--format`` on one that prints tables.

    The command function declares only its own parameters and reads the common ones from ``STATE``."""
    extra = [option_param("db", Db), option_param("json_out", Json, False)]
    if writes:
        extra += [option_param("actor", ActorName), option_param("idempotency_key", IdempotencyKey)]
    if table:
        extra.append(option_param("format", Format))

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command)
        parameters = [*signature.parameters.values(), *extra]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> None:
            common = {p.name: kwargs.pop(p.name) for p in extra}
            json_out = common.pop("json_out")
            _remember(json=json_out, **common)
            command(**kwargs)

        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        group.command(name)(wrapper)
        return command

    return decorate


# --- input files ----------------------------------------------------------------------------------------------


def input_file(path: Path, what: str) -> Path:
    """``path`` if it is a readable file; otherwise one line saying what is wrong with it."""
    STATE.inputs.append(path)
    if not path.exists():
        raise CommandError(f"{what} {path} does not exist: check the path", code="file-not-found")
    if path.is_dir():
        raise CommandError(f"{what} {path} is a directory: give a file", code="not-a-file")
    if not os.access(path, os.R_OK):
        raise CommandError(f"{what} {path} is not readable: check its permissions", code="unreadable")
    return path


def read_json_object(path: Path, what: str = "request body") -> dict[str, Any]:
    """A JSON object from a file named on the command line, or one line saying why it is not one."""
    from subledger.models.jsonio import read_object

    return read_object(input_file(path, what), what=what, document=str(path))


# --- the book -------------------------------------------------------------------------------------------------


def database_url(db: str | None = None) -> str:
    given = db if db is not None else STATE.db
    if given == "":
        # `--db "$BOOK"` with BOOK unset: falling through to $SUBLEDGER_DB or the default would run the command,
        # a write included, on another book than the one meant.
        raise CommandError(
            "--db is empty: give the book's URL (sqlite:///FILE.db or postgresql+psycopg://USER@HOST/DB)",
            code="bad-database",
            exit_code=USAGE,
        )
    return given or os.environ.get("SUBLEDGER_DB") or "sqlite:///subledger.db"


def engine(db: str | None = None, *, creating: bool = False) -> Any:
    """An engine on the book at ``--db``, once it is known to hold a book (or, ``creating``, can hold one).

    A command never creates a database file by accident: only ``init`` may."""
    from subledger.cli.preflight import open_engine

    return open_engine(database_url(db), creating=creating)


def books(db: str | None = None, actor: str | None = None, *, creating: bool = False) -> Any:
    """The ``Books`` facade over the book at ``--db``, run as ``--actor``."""
    bound = engine(db, creating=creating)
    from subledger.api import Books

    # An actor named empty stays empty (and is refused): it must not fall through to the administrator.
    return Books(engine=bound, actor=actor if actor is not None else STATE.actor)


# --- output ---------------------------------------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


def print_json(value: Any) -> None:
    # A date or Decimal in a plain dict prints as its text (ISO date, exact amount) rather than failing the command.
    typer.echo(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False, default=str))


def out(text: str = "") -> None:
    typer.echo(text)


def note(text: str) -> None:
    """A line for the person at the terminal, on stderr so that stdout stays the result."""
    typer.echo(text, err=True)


def _numeric(value: str) -> bool:
    return bool(value) and value.lstrip("-").replace(".", "", 1).replace(",", "").isdigit()


#: What a terminal acts on rather than shows, in a cell of an aligned table: control characters (C0 but line
#: breaks and tab, DEL, C1: ``ESC [2K`` erases the row, a carriage return writes over its start) and the
#: bidirectional controls that reorder what follows them on the line.
_TERMINAL_CONTROL = re.compile(f"[{CONTROLS}{BIDI_CONTROLS}]")
_LINE_BREAK = re.compile("\r\n|\r|\n")


def _shown_cell(text: str) -> str:
    """A cell of the aligned table: on one line, every tab a space, and every character a terminal would act on
    (``_TERMINAL_CONTROL``) replaced by U+FFFD, as the ledger replaces control characters."""
    if text.isprintable():
        return text
    return _TERMINAL_CONTROL.sub("\ufffd", _LINE_BREAK.sub("; ", text).replace("\t", " "))


class _Rows(list[str]):
    """What a csv writer writes, each row ending in a line feed. The writer quotes only a field holding a character
    of its line terminator: with ``\n`` a field holding a bare carriage return went out unquoted and a reader
    split the row there, so it writes ``\r\n`` (quoting both), which is cut back to ``\n`` here, one row per
    ``write``."""

    def write(self, row: str) -> None:
        self.append(row.removesuffix("\r\n") + "\n")


def render_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, fmt: OutputFormat | None = None) -> str:
    """Rows as aligned plain text (never cut, whatever the terminal's width), or CSV/TSV with a header row.

    Columns holding only amounts are right-aligned. A cell with several lines (csv/tsv keep them) is joined with
    "; " in aligned text so that one row stays one line; billing data's free text may hold characters a terminal
    acts on (a carriage return, an escape sequence), shown there as U+FFFD (csv/tsv keep the text as it is)."""
    fmt = fmt or STATE.format
    cells = [["" if c is None else str(c) for c in row] for row in rows]
    if fmt in ("csv", "tsv"):
        rows_written = _Rows()
        writer = csv.writer(rows_written, delimiter="," if fmt == "csv" else "\t", lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows(cells)
        return "".join(rows_written).rstrip("\n")
    cells = [[_shown_cell(c) for c in row] for row in cells]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    right = [
        all(_numeric(row[i]) or not row[i] for row in cells) and any(row[i] for row in cells)
        for i in range(len(headers))
    ]

    def line(row: Sequence[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in cells)])


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None) -> None:
    text = render_table(headers, rows)
    if title and STATE.format == "table":
        out(title)
    out(text)


class _Console:
    """What commands written for rich's console call: ``print`` of text or a rich renderable, never cut."""

    def print(self, *values: Any, **_: Any) -> None:
        for value in values:
            if isinstance(value, str):
                out(value)
            else:
                from rich.console import Console

                Console(highlight=False, width=10_000, soft_wrap=True).print(value)


console = _Console()


def _nonzero(amount: str) -> str:
    """A line's amount on its side, blank on the side it does not post to ("0.00", "0", "0.000": every currency)."""
    return "" if amount.strip("0.") == "" else amount


def journal_rows(entries: Sequence[Any]) -> list[list[str]]:
    """Journal entries as an accountant reads them: one row per line, the entry's date, id, type and description
    on its first line."""
    rows = []
    for entry in entries:
        for i, line in enumerate(entry.lines):
            first = i == 0
            rows.append(
                [
                    str(entry.date) if first else "",
                    entry.id if first else "",
                    entry.transaction_type if first else "",
                    line.accounting_code,
                    _nonzero(line.debit),
                    _nonzero(line.credit),
                    line.currency,
                    line.item_id or "",
                    " ".join(entry.documents) if first else "",
                    entry.description if first else "",
                ]
            )
    return rows


JOURNAL_HEADERS = ("date", "entry", "type", "code", "debit", "credit", "cur", "item", "documents", "description")


def print_journal(entries: Sequence[Any]) -> None:
    print_table(JOURNAL_HEADERS, journal_rows(entries))


def busy(what: str) -> Any:
    """A context showing that ``what`` is under way (a pulsing bar on stderr) for a person at a terminal; nothing
    for a script or under --json. For work that reports no progress of its own (a load, a check, an export)."""
    bar = progress(what)
    return contextlib.nullcontext() if bar is None else bar


def progress(what: str) -> Any:
    """A progress callback ``(done, total)`` drawing a bar on stderr, or ``None`` when stderr is not a terminal
    (or under --json): a script's output never carries a bar."""
    if STATE.json or not sys.stderr.isatty():
        return None
    from subledger.cli.progress import Bar

    return Bar(what)
