"""Every command, with every kind of mistake a user makes: one line, the right exit status, no traceback, nothing
written or created.

The list of commands is checked against the command line itself, so a command added later is covered or this
test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult, command_paths, db_url, dump, example, tree
from subledger.api import Books

EXAMPLE = str(example("seed-003-books.json"))


def commands(files: Path) -> list[list[str]]:
    """One invocation of every command that reads or writes a book, with valid-looking arguments."""
    body = str(files / "body.json")
    out = str(files / "out")
    # Commands another change may add are listed ahead of it: only those the command line has are run.
    paths = command_paths()
    return [c for c in _commands(body, out) if tuple(c[:2]) in paths or tuple(c[:1]) in paths]


def _commands(body: str, out: str) -> list[list[str]]:
    return [
        ["api-client", "create", "erp-sync", "--actor", "admin"],
        # Refused before it listens: every case below has no book, or no database, at --db.
        ["serve", "--port", "0"],
        ["actor", "list"],
        ["actor", "grant", "clerk", "Reverse Invoice"],
        ["actor", "revoke", "clerk", "Reverse Invoice"],
        ["actor", "import", body],
        ["load", EXAMPLE],
        ["show", "invoice", "INV00000001"],
        ["journal"],
        ["audit"],
        ["check"],
        ["period", "list"],
        ["period", "show", "2026-10"],
        ["period", "pending-close", "2026-01"],
        ["period", "close", "2026-01"],
        ["period", "close", "--through", "2026-02"],
        ["period", "reopen", "2026-01", "--reason", "late invoice"],
        ["invoice", "write-off", "INV00000001"],
        ["invoice", "reverse", "INV00000001"],
        ["debit-memo", "write-off", "DM00000001"],
        ["credit-memo", "write-off", "CM00000001"],
        ["credit-memo", "reverse", "CM00000001"],
        ["credit-memo", "apply", "CM00000001", "--body", body],
        ["credit-memo", "unapply", "CM00000001", "--body", body],
        ["payment", "apply", "P00000001", "--body", body],
        ["payment", "unapply", "P00000001", "--body", body],
        ["credit-memo", "refund", "CM00000001", "--body", body],
        ["refund", "cancel", "RF-CM00000001-1"],
        ["invoice", "recover", "WO-INV00000001-1"],
        ["debit-memo", "recover", "WO-DM00000001-1"],
        ["write-off", "--from", body],
        ["adjustment", "create", "--body", body],
        ["adjustment", "list"],
        ["export", "beancount", "--out", out],
        ["export", "gl", "--period", "2026-10", "--out", f"{out}/gl.csv"],
        ["export", "gl", "--list"],
        ["export", "gl", "--run", "JR-00000001", "--out", f"{out}/gl.csv"],
        ["reason-code", "list"],
        ["reason-code", "add", "Bankruptcy", "--for", "credit-memo"],
        ["reason-code", "deactivate", "Goodwill", "--for", "credit-memo"],
        ["list", "invoices", "--open"],
        ["list", "debit-memos"],
        ["list", "credit-memos", "--source", "WriteOff"],
        ["list", "payments"],
        ["report", "aging", "--as-of", "2026-11-30"],
        ["report", "write-offs", "--period", "2026-11"],
        ["report", "reversals", "--period", "2026-11"],
        ["journal-run", "create", "--period", "2026-10"],
        ["journal-run", "list"],
        ["journal-run", "show", "JR-00000001"],
        ["journal-run", "confirm", "JR-00000001"],
        ["journal-run", "cancel", "JR-00000001"],
        ["journal-run", "error", "JR-00000001", "--reason", "rejected"],
    ]


#: Commands that need no book.
BOOKLESS = {("init",), ("schema",)}


def test_the_list_covers_every_command(tmp_path: Path) -> None:
    paths = command_paths()
    listed = {next(tuple(c[:n]) for n in (2, 1) if tuple(c[:n]) in paths) for c in commands(tmp_path)}
    assert sorted(paths - BOOKLESS - listed) == []


def one_line(result: CliResult, status: int, *, json_out: bool = False) -> str:
    """The single line of a refusal; asserts the exit status, no traceback, nothing else printed."""
    assert result.code == status, (result.code, result.out, result.err)
    assert "Traceback" not in result.out + result.err
    if json_out:
        assert result.err == ""
        lines = result.out.splitlines()
        assert len(lines) == 1, result.out
        data = json.loads(lines[0])
        assert data["success"] is False
        assert {"code", "message", "rule"} <= set(data["reasons"][0])
        return str(data["reasons"][0]["message"])
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    place = tmp_path / "files"
    place.mkdir()
    (place / "body.json").write_text('{"effectiveDate": "2026-11-02", "documents": ["INV00000001"]}')
    return place


# --- the book is not there, or is not a book ------------------------------------------------------------------


def _env_cases(tmp: Path) -> Iterator[tuple[str, str, int, str]]:
    """(name, URL, exit status, what the line says) for each way --db can be wrong."""
    (tmp / "a-directory.db").mkdir()
    (tmp / "not-sqlite.db").write_bytes(b"this is a spreadsheet, not a database\n" * 40)
    book = Books(f"sqlite:///{tmp / 'whole.db'}")
    book.init()
    book.engine.dispose()
    (tmp / "truncated.db").write_bytes((tmp / "whole.db").read_bytes()[:8192])
    (tmp / "whole.db").unlink()
    (tmp / "empty.db").write_bytes(b"")
    yield "missing", f"sqlite:///{tmp / 'missing.db'}", 1, "no book at"
    yield "empty file", f"sqlite:///{tmp / 'empty.db'}", 1, "no book at"
    yield "missing directory", f"sqlite:///{tmp / 'nowhere' / 'x.db'}", 1, "no book at"
    yield "directory", f"sqlite:///{tmp / 'a-directory.db'}", 1, "is a directory"
    yield "not sqlite", f"sqlite:///{tmp / 'not-sqlite.db'}", 1, "is not an SQLite database"
    yield "truncated", f"sqlite:///{tmp / 'truncated.db'}", 1, "is damaged"
    yield "unknown dialect", "oracle9+nodriver://scott@host/db", 2, "unknown database kind"
    yield "not a URL", "books.db", 2, "is not a database URL"
    # `--db "$BOOK"` with BOOK unset: it ran on $SUBLEDGER_DB's book, or the default one, instead.
    yield "empty", "", 2, "--db is empty"
    # SQLAlchemy's refusal of this one ran over five lines; an in-memory book said "no such table: documents".
    yield "two slashes", "sqlite://books.db", 2, "a SQLite URL names its file after three slashes (sqlite:///books.db)"
    yield "in memory", "sqlite:///:memory:", 2, "sqlite:///:memory: names no database file"
    yield "closed port", "postgresql+psycopg://postgres@127.0.0.1:1/books", 1, "cannot open the database"


def test_every_command_without_a_book_says_so_and_creates_nothing(cli: Any, tmp_path: Path, files: Path) -> None:
    place = tmp_path / "dbs"
    place.mkdir()
    cases = list(_env_cases(place))
    for name, url, status, says in cases:
        for argv in commands(files):
            before = tree(tmp_path)
            for json_out in (False, True):
                args = [*argv, "--json"] if json_out else argv
                line = one_line(cli("--db", url, *args), status, json_out=json_out)
                assert says in line, (name, argv, line)
            assert tree(tmp_path) == before, (name, argv)


def test_options_before_and_after_the_subcommand(cli: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    for args in (
        ["--db", url, "--json", "journal"],
        ["journal", "--db", url, "--json"],
        ["--json", "journal", "--db", url],
    ):
        assert "no book at" in one_line(cli(*args), 1, json_out=True)
    assert not (tmp_path / "missing.db").exists()


def test_no_book_at_a_relative_path_names_the_directory_it_looked_in(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's ``SUBLEDGER_DB=sqlite:///books.db`` is read from the current directory: run from another one than
    ``init`` was, a command said "no book at sqlite:///books.db: run `subledger init`", and a newcomer made a second,
    empty book there. The line names the file it looked for."""
    elsewhere = tmp_path / "docs"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    said = cli("period", "list", db="sqlite:///books.db")
    assert (said.code, said.out) == (1, "")
    assert (
        said.err
        == f"error: no book at sqlite:///books.db ({elsewhere / 'books.db'}): run `subledger init` (or give --db)\n"
    )
    absolute = cli("period", "list", db=f"sqlite:///{elsewhere / 'books.db'}")
    assert (
        absolute.err == f"error: no book at sqlite:///{elsewhere / 'books.db'}: run `subledger init` (or give --db)\n"
    )
    assert list(elsewhere.iterdir()) == []


def test_an_empty_db_never_falls_through_to_subledger_db(cli: Any, seed003: Books) -> None:
    """A script's `--db "$BOOK"` with BOOK unset wrote off on the book $SUBLEDGER_DB names."""
    before = dump(seed003.engine)
    for args in (("--db", "", "invoice", "write-off"), ("invoice", "write-off", "--db", "")):
        said = cli(*args, "INV00000002", "--memo-date", "2026-11-16", db=db_url(seed003))
        assert one_line(said, 2) == (
            "error: --db is empty: give the book's URL (sqlite:///FILE.db or postgresql+psycopg://USER@HOST/DB)"
        )
    assert dump(seed003.engine) == before


def test_init_in_a_missing_directory_creates_nothing(cli: Any, tmp_path: Path) -> None:
    line = one_line(cli("--db", f"sqlite:///{tmp_path / 'nowhere' / 'books.db'}", "init"), 1)
    assert "directory" in line
    assert "does not exist" in line
    assert list(tmp_path.iterdir()) == []


def test_a_refused_first_init_leaves_no_database_file(cli: Any, tmp_path: Path) -> None:
    """A calendar folder without periods (or a chart that does not parse) was refused, and the audit of the
    refusal had opened books.db, left behind as an empty database."""
    (tmp_path / "calendar").mkdir()
    (tmp_path / "chart").mkdir()
    (tmp_path / "chart" / "chart.beancount").write_text("garbage\n")
    url = f"sqlite:///{tmp_path / 'books.db'}"
    before = tree(tmp_path)
    assert one_line(cli("init", "--periods", str(tmp_path / "calendar"), db=url), 1).endswith(
        "calendar: no accounting periods found"
    )
    assert one_line(cli("init", "--chart", str(tmp_path / "chart"), db=url), 1).endswith("Invalid token: 'garbage'")
    assert tree(tmp_path) == before
    assert cli("init", db=url).code == 0
    # A book that is there is kept, whatever a later init says.
    assert one_line(cli("init", "--periods", str(tmp_path / "calendar"), db=url), 1)
    assert cli("period", "list", db=url).code == 0


@pytest.mark.pg
def test_unknown_postgresql_database(cli: Any, books: Books) -> None:
    if books.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    url = books.engine.url.set(database="subledger_no_such_database").render_as_string(hide_password=False)
    line = one_line(cli("--db", url, "journal"), 1)
    assert "subledger_no_such_database" in line


class _Hung(BaseException):
    """Raised by the alarm when a command has not answered: not an ``Exception``, so the CLI cannot report it."""


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A PostgreSQL URL whose server accepts the connection (the kernel completes the handshake on a listening
    socket) and never says a word: what a firewall that drops packets, or a hung server, looks like to libpq."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{listener.getsockname()[1]}/books"


@contextlib.contextmanager
def at_most(seconds: int) -> Iterator[None]:
    def hung(*_: Any) -> None:
        raise _Hung(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_postgresql_server_that_never_answers_is_given_up_on(
    cli: Any, silent_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a timeout libpq waited for minutes; the book's default bounds it (here made short), with the same
    one line as a refused connection."""
    from subledger.storage import db

    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    monkeypatch.setattr(db, "CONNECT_TIMEOUT", 2)
    with at_most(20):
        line = one_line(cli("--db", silent_server, "list", "invoices"), 1)
    assert line == (
        f"error: cannot open the database at {silent_server}: connection timeout expired: check --db and that the "
        "server is up"
    )


def test_a_connect_timeout_in_the_url_wins(cli: Any, silent_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from subledger.storage import db

    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    monkeypatch.setattr(db, "CONNECT_TIMEOUT", 3600)
    url = f"{silent_server}?connect_timeout=2"
    with at_most(20):
        line = one_line(cli("--db", url, "journal"), 1)
    assert line.startswith(f"error: cannot open the database at {url}: connection timeout expired")


# --- files named on the command line --------------------------------------------------------------------------


def file_commands(path: str) -> list[list[str]]:
    return [
        ["load", path],
        ["invoice", "write-off", "INV00000001", "--body", path],
        ["invoice", "write-off", "INV00000001", "--body", path, "--comment", "flag and body"],
        ["invoice", "reverse", "INV00000001", "--body", path],
        ["credit-memo", "apply", "CM00000001", "--body", path],
        ["payment", "apply", "P00000001", "--body", path],
        ["write-off", "--from", path],
        ["adjustment", "create", "--body", path],
    ]


def _bad_files(place: Path) -> Iterator[tuple[str, Path]]:
    (place / "a-directory.json").mkdir()
    (place / "latin1.json").write_bytes('{"comment": "Müller"}'.encode("latin-1"))
    (place / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (place / "deep-object.json").write_text('{"a":' * 50_000 + "1" + "}" * 50_000)
    (place / "truncated.json").write_text('{"invoices": [')
    (place / "empty.json").write_text("")
    yield "missing", place / "missing.json"
    yield "directory", place / "a-directory.json"
    yield "not UTF-8", place / "latin1.json"
    yield "nested too deeply", place / "deep.json"
    yield "object nested too deeply", place / "deep-object.json"
    yield "truncated", place / "truncated.json"
    yield "empty", place / "empty.json"


#: What each line says. Reading the file's text is the API's (models/jsonio.py; tests/bad_inputs fixes its
#: sentences): it names the document a request is about, not the file the command line named.
SAYS = {
    "missing": "does not exist",
    "directory": "is a directory",
    "not UTF-8": "not UTF-8",
    "nested too deeply": "nested too deeply",
    "object nested too deeply": "nested too deeply",
    "truncated": "malformed JSON",
    "empty": "malformed JSON",
}


def test_bad_files_are_one_line_and_write_nothing(cli: Any, seed003: Books, tmp_path: Path) -> None:
    url = db_url(seed003)
    place = tmp_path / "inputs"
    place.mkdir()
    cases = list(_bad_files(place))
    before = dump(seed003.engine)
    for name, path in cases:
        for argv in file_commands(str(path)):
            line = one_line(cli(*argv, db=url), 1)
            assert SAYS[name] in line, (name, argv, line)
            assert one_line(cli(*argv, "--json", db=url), 1, json_out=True)
    assert dump(seed003.engine) == before


def test_a_load_file_or_body_from_a_pipe(cli: Any, books: Books) -> None:
    """``subledger load <(curl ...)``: the file was read twice and the pipe gave nothing the second time ("the
    input is empty"). A pipe is read once now; a device that never ends (``/dev/zero``) is refused, not read
    forever."""
    url = db_url(books)
    text = example("seed-003-books.json").read_bytes()
    read, write = os.pipe()

    def give() -> None:
        os.write(write, text)
        os.close(write)

    writer = threading.Thread(target=give)
    writer.start()
    try:
        loaded = cli("load", f"/dev/fd/{read}", "--json", db=url)
    finally:
        writer.join()
        os.close(read)
    assert loaded.code == 0, loaded.err
    assert loaded.json()["loaded"] == {"Invoice": 2, "Payment": 1, "accounts": 1}
    before = dump(books.engine)
    with at_most(60):
        endless = one_line(cli("load", "/dev/zero", db=url), 1)
        body = one_line(cli("invoice", "write-off", "INV00000002", "--body", "/dev/zero", db=url), 1)
    assert endless == "error: /dev/zero is a pipe or device giving more than 64 MB: save it to a file and give that"
    assert body == f"error: INV00000002: {endless.removeprefix('error: ')}"
    assert dump(books.engine) == before


def test_bad_out_of_export_beancount(cli: Any, seed003: Books, tmp_path: Path) -> None:
    url = db_url(seed003)
    outs = tmp_path / "outs"
    outs.mkdir()
    a_file = outs / "ledger.txt"
    a_file.write_text("not a directory")
    before = tree(outs)
    assert "is a file" in one_line(cli("export", "beancount", "--out", str(a_file), db=url), 1)
    assert "is not a directory" in one_line(cli("export", "beancount", "--out", str(a_file / "sub"), db=url), 1)
    assert tree(outs) == before


def test_out_of_export_beancount_that_cannot_hold_the_ledger(cli: Any, seed003: Books, tmp_path: Path) -> None:
    """Refused before anything is written: a folder whose ``periods`` is a file, or whose ``main.beancount`` is a
    folder, a broken symbolic link, an empty --out (an unset shell variable: it wrote into the current folder)."""
    url = db_url(seed003)
    outs = tmp_path / "outs"
    (outs / "periods-is-a-file").mkdir(parents=True)
    (outs / "periods-is-a-file" / "periods").write_text("not a folder")
    (outs / "main-is-a-folder" / "main.beancount").mkdir(parents=True)
    (outs / "broken").symlink_to(tmp_path / "nowhere")
    before = tree(outs)
    cases = {
        "periods-is-a-file": f"error: --out {outs / 'periods-is-a-file'}: {outs / 'periods-is-a-file' / 'periods'} "
        "is a file where the ledger writes a directory: move it away or give another directory",
        "main-is-a-folder": f"error: --out {outs / 'main-is-a-folder'}: {outs / 'main-is-a-folder' / 'main.beancount'}"
        " is a directory where the ledger writes a file: move it away or give another directory",
        "broken": f"error: --out {outs / 'broken'}: {outs / 'broken'} is a broken symbolic link",
        "broken/sub": f"error: --out {outs / 'broken' / 'sub'}: {outs / 'broken'} is a broken symbolic link",
    }
    for name, says in cases.items():
        assert one_line(cli("export", "beancount", "--out", str(outs / name), db=url), 1) == says
    assert tree(outs) == before
    assert not (tmp_path / "nowhere").exists()
    cwd = Path.cwd()
    os.chdir(outs)
    try:
        line = one_line(cli("export", "beancount", "--out", "", db=url), 1)
    finally:
        os.chdir(cwd)
    assert line == "error: --out is empty: give the directory to write the ledger to"
    assert tree(outs) == before


def test_exported_ledger_files_follow_the_umask(cli: Any, seed003: Books, tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        assert cli("export", "beancount", "--out", str(tmp_path / "ledger"), db=db_url(seed003)).code == 0
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "ledger").rglob("*.beancount")}
    assert modes
    assert set(modes.values()) == {0o640}


def test_actors_file_that_cannot_be_read(cli: Any, seed003: Books, tmp_path: Path) -> None:
    url = db_url(seed003)
    before = dump(seed003.engine)
    folder = tmp_path / "actors.toml"
    folder.mkdir()
    latin = tmp_path / "latin1.toml"
    latin.write_bytes('[actors.clerk]\npermissions = ["Reverse Invoice"] # Müller\n'.encode("latin-1"))
    for path, says in ((folder, "is a directory"), (latin, "is not UTF-8")):
        line = one_line(cli("actor", "import", str(path), db=url), 1)
        assert says in line
    assert dump(seed003.engine) == before


# --- the disk is full, and a defect ---------------------------------------------------------------------------


def test_disk_full_while_writing_the_book(cli: Any, tmp_path: Path, monkeypatch: Any) -> None:
    url = f"sqlite:///{tmp_path / 'full.db'}"
    assert cli("init", db=url).code == 0
    book = Books(url)
    before = dump(book.engine)
    book.engine.dispose()
    from sqlalchemy import event

    from subledger.cli import preflight

    opened = preflight.open_engine

    def full(raw_url: str, *, creating: bool = False) -> Any:
        bound = opened(raw_url, creating=creating)

        @event.listens_for(bound, "connect")
        def _no_room(dbapi_connection: Any, _record: Any) -> None:
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

        return bound

    monkeypatch.setattr(preflight, "open_engine", full)
    line = one_line(cli("load", str(example("demo-books.json")), db=url), 1)
    assert "full" in line
    assert dump(Books(url).engine) == before


def test_disk_full_while_exporting(cli: Any, seed003: Books, tmp_path: Path, monkeypatch: Any) -> None:
    real_fdopen = os.fdopen

    def to_dev_full(fd: int, *args: Any, **kwargs: Any) -> Any:
        os.close(fd)
        return real_fdopen(os.open("/dev/full", os.O_WRONLY), *args, **kwargs)

    # The exporter writes each file through os.fdopen of a temporary file: here every write finds the disk full.
    monkeypatch.setattr(os, "fdopen", to_dev_full)
    out = tmp_path / "ledger"
    line = one_line(cli("export", "beancount", "--out", str(out), db=db_url(seed003)), 1)
    assert "disk is full" in line
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_internal_error_is_one_line_with_a_log_of_the_traceback(cli: Any, seed003: Books, monkeypatch: Any) -> None:
    from subledger import queries

    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("a defect")

    monkeypatch.setattr(queries, "journal", broken)
    result = cli("journal", db=db_url(seed003))
    line = one_line(result, 4)
    log = Path(line.split("the traceback is in ", 1)[1].split(":", 1)[0])
    try:
        text = log.read_text()
        assert "Traceback" in text
        assert "a defect" in text
    finally:
        log.unlink()


def test_a_book_made_by_an_older_subledger(cli: Any, tmp_path: Path) -> None:
    """A table or column the code needs is missing because the book's schema is behind: say so, and how to
    upgrade, instead of the driver's "no such column"."""
    import sqlite3

    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    assert cli("init", db=url).code == 0
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE accounting_codes RENAME COLUMN number TO gl_number")
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    conn.close()
    line = one_line(cli("journal", db=url), 1)
    assert re.search(r"has schema 0001, this subledger needs \d{4}: run `subledger init` to upgrade it$", line), line


def test_a_book_that_cannot_be_opened_is_told_what_to_check_for_its_kind() -> None:
    """A SQLite book is a file (a read-only mount refuses even a read: its -shm is written): 'that the server is
    up' sent its user looking for a server; a PostgreSQL book keeps that advice."""
    from subledger.cli.preflight import unreachable

    cause = OSError("unable to open database file")
    assert str(unreachable("sqlite:////mnt/ro/books.db", cause).problem) == (
        "cannot open the database at sqlite:////mnt/ro/books.db: unable to open database file: check --db and that "
        "its file and folder can be written"
    )
    refused = unreachable("postgresql+psycopg://u@db:5432/books", OSError("connection refused"))
    assert str(refused.problem).endswith("connection refused: check --db and that the server is up")
