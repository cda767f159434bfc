"""Before a command touches the book: is there a book at ``--db``, can it be reached, is the actors file readable.

Each answer is one line naming the thing and what to do, and nothing is created: SQLite would create an empty
database file on connect, so a file that does not exist is reported before any engine is made, and only ``init``
may create one (in a directory that exists).
"""

import sqlite3
from pathlib import Path
from typing import Any

from subledger.cli.common import REFUSED, USAGE, CommandError

#: A table every initialised book has (``subledger init`` creates it with the rest of the schema).
BOOK_TABLE = "periods"
SQLITE_HEADER = b"SQLite format 3\x00"


def no_book(url: str, path: Path | None = None) -> CommandError:
    """No book at ``url``; a relative SQLite ``path`` is named in full, since it is read from the current directory:
    a command run from another directory than ``init`` was finds no book there, and must not send its reader to
    ``init`` a second, empty one without saying where."""
    where = f" ({Path.cwd() / path})" if path is not None and not path.is_absolute() else ""
    return CommandError(f"no book at {url}{where}: run `subledger init` (or give --db)", code="no-book")


def _sqlite_path(url: Any) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        return None
    return Path(database)


def _check_sqlite(shown: str, path: Path, *, creating: bool) -> None:
    if path.is_dir():
        raise CommandError(f"{shown}: {path} is a directory, not a database file: check --db", code="bad-database")
    if not path.exists():
        if not creating:
            raise no_book(shown, path)
        if not path.parent.is_dir():
            raise CommandError(
                f"cannot create a book at {shown}: directory {path.parent} does not exist: create it or check --db",
                code="bad-database",
            )
        return
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}: check --db", code="bad-database") from None
    if not header:
        if creating:
            return
        raise no_book(shown, path)
    if header != SQLITE_HEADER:
        raise CommandError(
            f"{shown}: {path} is not an SQLite database (a subledger book): check --db", code="bad-database"
        )
    try:
        # Looking must not create anything: read-only, and without a write-ahead log (the -wal and -shm files a
        # WAL database would otherwise get) unless it has one already, whose pages may hold the schema.
        wal = path.with_name(path.name + "-wal").exists()
        with sqlite3.connect(f"file:{path}?{'mode=ro' if wal else 'immutable=1'}", uri=True) as conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (BOOK_TABLE,))
            has_book = found.fetchone() is not None
            if has_book:
                conn.execute(f"SELECT count(*) FROM {BOOK_TABLE}").fetchone()
        conn.close()
    except sqlite3.DatabaseError as exc:
        raise CommandError(
            f"{shown}: {path} is damaged ({exc}): restore it from a backup or check --db", code="bad-database"
        ) from None
    if not has_book and not creating:
        raise no_book(shown, path)


def open_engine(raw_url: str, *, creating: bool = False) -> Any:
    """An engine on the book at ``raw_url``; ``creating`` (``init``): a place a book can be created."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    from subledger.storage.db import make_engine

    try:
        url = make_url(raw_url)
    except ArgumentError:
        raise CommandError(
            f"{raw_url!r} is not a database URL: give sqlite:///FILE.db or postgresql+psycopg://USER@HOST/DB",
            code="bad-database",
            exit_code=USAGE,
        ) from None
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        if url.host:  # sqlite://books.db: the file was taken for a host
            raise CommandError(
                f"{raw_url}: a SQLite URL names its file after three slashes (sqlite:///{url.database or url.host})"
                ", four for an absolute path: check --db",
                code="bad-database",
                exit_code=USAGE,
            )
        path = _sqlite_path(url)
        if path is None:
            # An in-memory database is gone when the command ends: nothing to read, nowhere to keep a book.
            raise CommandError(
                f"{raw_url} names no database file (in memory, a book is gone when the command ends): give "
                "sqlite:///FILE.db",
                code="bad-database",
                exit_code=USAGE,
            )
        _check_sqlite(shown, path, creating=creating)
    try:
        bound = make_engine(raw_url)
    except NoSuchModuleError:
        raise CommandError(
            f"{shown}: unknown database kind {url.drivername!r}: use sqlite:/// or postgresql+psycopg://",
            code="bad-database",
            exit_code=USAGE,
        ) from None
    except (ArgumentError, ImportError, TypeError, ValueError) as exc:
        # The driver's first line: some (SQLAlchemy's URL forms) go on for lines, and a refusal is one.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CommandError(f"{shown}: {first}: check --db", code="bad-database", exit_code=USAGE) from None
    if bound.dialect.name == "sqlite":
        return bound
    try:
        with bound.connect() as conn:
            has_book = inspect(conn).has_table(BOOK_TABLE)
    except DBAPIError as exc:
        bound.dispose()
        raise unreachable(shown, exc) from None
    if not has_book and not creating:
        bound.dispose()
        raise no_book(shown)
    return bound


def new_sqlite_file(raw_url: str) -> Path | None:
    """The SQLite file ``raw_url`` names, when it does not exist yet (the one ``init`` is about to create)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw_url)
    except ArgumentError:
        return None
    path = _sqlite_path(url) if url.get_backend_name() == "sqlite" else None
    return path if path is not None and not path.exists() else None


def discard_if_bookless(path: Path) -> None:
    """Remove the SQLite file at ``path`` (with its -wal and -shm) if it holds no table: a file this command
    created and wrote nothing to. A file holding anything is kept."""
    if not path.is_file():
        return
    try:
        with sqlite3.connect(path) as conn:
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        conn.close()
    except sqlite3.DatabaseError:
        return
    if tables:
        return
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)


def unreachable(shown: str, exc: BaseException) -> CommandError:
    """A database that cannot be reached: the driver's first line says why (no such database, refused...)."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    # A SQLite book is a file (its -wal and -shm beside it, written even by a read): no server to be up.
    advice = "that its file and folder can be written" if shown.startswith("sqlite") else "that the server is up"
    return CommandError(
        f"cannot open the database at {shown}: {first}: check --db and {advice}",
        code="database-unreachable",
        exit_code=REFUSED,
    )
