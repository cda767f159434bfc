"""The Beancount ledger: loads with zero errors, asserts the control accounts, re-exports byte-identically."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from beancount.core import data
from sqlalchemy import Connection, Engine

from conftest import ROOT, assert_snapshot_tree, db_url, killed_at, tree
from subledger import calendar
from subledger.api import Books
from subledger.errors import BadOutput, SubledgerError

SNAPSHOTS = ROOT / "tests" / "snapshots"


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.beancount"))}


def test_ledger_loads_without_errors_and_reexports_identically(line_level: Books, tmp_path: Path) -> None:
    line_level.load(ROOT / "examples" / "seed-003-books.json")
    first, second = tmp_path / "a", tmp_path / "b"
    line_level.export_beancount(first)
    line_level.export_beancount(second)
    assert files(first) == files(second)
    entries, errors, _ = loader.load_file(str(first / "main.beancount"))
    assert errors == []
    balances = [e for e in entries if isinstance(e, data.Balance)]
    assert {(str(b.account), str(b.amount)) for b in balances} == {
        ("Assets:AccountsReceivable", "1048.25 USD"),
        ("Assets:CreditMemoOnAccount", "-43.50 USD"),
        ("Liabilities:UnappliedPayments", "0.00 USD"),
    }


def test_the_api_refuses_an_out_the_ledger_cannot_be_written_to(seed003: Books, tmp_path: Path) -> None:
    """``Books.export_beancount`` checks its directory as the command line does (a file given for it was an
    ``OSError``, not a refusal): one line, nothing written."""
    a_file = tmp_path / "ledger.txt"
    a_file.write_text("not a directory")
    (tmp_path / "book" / "periods").mkdir(parents=True)
    (tmp_path / "book" / "periods" / "2026-11.beancount").mkdir()
    before = tree(tmp_path)
    with pytest.raises(BadOutput) as refused:
        seed003.export_beancount(a_file)
    assert str(refused.value) == f"--out {a_file} is a file: give a directory to write the ledger to"
    with pytest.raises(BadOutput) as refused:
        seed003.export_beancount(tmp_path / "book")
    day = tmp_path / "book" / "periods" / "2026-11.beancount"
    assert str(refused.value) == (
        f"--out {tmp_path / 'book'}: {day} is a directory where the ledger writes a file: move it away or give "
        "another directory"
    )
    assert tree(tmp_path) == before


def test_ledger_snapshot(seed003: Books, tmp_path: Path) -> None:
    """The seed 003 books as an accountant reads them (tests/snapshots/seed003)."""
    seed003.export_beancount(tmp_path)
    assert_snapshot_tree(SNAPSHOTS / "seed003", files(tmp_path))


def test_edited_ledger_amount_breaks_a_balance_assertion(seed003: Books, tmp_path: Path) -> None:
    seed003.export_beancount(tmp_path)
    period = tmp_path / "periods" / "2026-10.beancount"
    text = period.read_text()
    period.write_text(text.replace("-330.00 USD", "-320.00 USD", 1).replace(" 330.00 USD", " 320.00 USD", 1))
    _, errors, _ = loader.load_file(str(tmp_path / "main.beancount"))
    assert any("Balance failed" in e.message for e in errors)


def test_reexport_after_a_reopen_leaves_no_stale_period_file(seed003: Books, tmp_path: Path) -> None:
    """Reopening the last closed period, which has no entries, ends the ledger a period earlier: exporting again to
    the same directory removes that period's old file (it said Closed, with a fingerprint), so the directory is
    what a fresh export writes."""
    seed003.close_periods_through("2026-12")
    seed003.export_beancount(tmp_path / "again")
    assert 'custom "closed-period" "2026-12"' in (tmp_path / "again" / "periods" / "2026-12.beancount").read_text()
    seed003.reopen_period("2026-12", "late invoice")
    seed003.export_beancount(tmp_path / "again")
    seed003.export_beancount(tmp_path / "fresh")
    assert not (tmp_path / "again" / "periods" / "2026-12.beancount").exists()
    assert files(tmp_path / "again") == files(tmp_path / "fresh")
    assert sorted(files(tmp_path / "fresh"))[-1] == "periods/2026-11.beancount"


def _names_unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A book whose calendar was loaded before ``init`` checked period names (any text was a name then)."""
    monkeypatch.setattr(calendar, "_NAME", re.compile(r".+").fullmatch)


def test_period_names_with_quotes_and_backslashes_are_quoted_where_main_includes_them(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A period's name was the calendar's free text: main.beancount includes its file by a Beancount string that
    parses back to the file's path (a quote in the name made bean-check fail: Invalid token)."""
    _names_unchecked(monkeypatch)
    rows = list(csv.reader((ROOT / "periods" / "2026.csv").open()))
    names = {"2026-10": 'P10 "Oct"', "2026-11": "P11 \\ Nov"}
    with (tmp_path / "2026.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0], *([names.get(r[0], r[0]), *r[1:]] for r in rows[1:])])
    books = Books(engine=engine)
    books.init(periods=tmp_path)
    books.load(ROOT / "examples" / "seed-003-books.json")
    books.write_off_invoice("INV00000001", {"memoDate": "2026-11-16"})
    books.close_periods_through('P10 "Oct"')
    books.export_beancount(tmp_path / "ledger")
    main = (tmp_path / "ledger" / "main.beancount").read_text()
    assert main.endswith('include "periods/P10 \\"Oct\\".beancount"\ninclude "periods/P11 \\\\ Nov.beancount"\n')
    entries, errors, _ = loader.load_file(str(tmp_path / "ledger" / "main.beancount"))
    assert errors == []
    assert {e.values[0].value for e in entries if isinstance(e, data.Custom) and e.type == "closed-period"} >= {
        'P10 "Oct"'
    }
    assert len([e for e in entries if isinstance(e, data.Transaction)]) == 6


def test_export_reads_one_snapshot_of_a_book_written_meanwhile(
    seed003: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write-off committed while the ledger is being exported (after its balance assertions are computed, before
    the period's entries are read) is in neither: on PostgreSQL each statement read the book as it was then, so the
    ledger had the write-off's entries and assertions without them, and bean-check failed (Balance failed)."""
    from subledger.balances import subledger_balances_at as computed
    from subledger.export import beancount as export

    def then_written(conn: Connection, days: list[dt.date]) -> dict[dt.date, Any]:
        balances = computed(conn, days)
        seed003.write_off_invoice("INV00000001", {"memoDate": "2026-10-20"})
        return balances

    monkeypatch.setattr(export, "subledger_balances_at", then_written)
    seed003.export_beancount(tmp_path / "during")
    monkeypatch.undo()
    _, errors, _ = loader.load_file(str(tmp_path / "during" / "main.beancount"))
    assert [e.message for e in errors] == []
    assert "WO-INV00000001-1" not in (tmp_path / "during" / "periods" / "2026-10.beancount").read_text()
    seed003.export_beancount(tmp_path / "after")
    assert "WO-INV00000001-1" in (tmp_path / "after" / "periods" / "2026-10.beancount").read_text()


def test_a_period_named_like_a_ledger_file_is_never_removed_as_stale(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only period files under periods/ are removed as stale: a period named '../main' outside the ledger's span
    (a book from before ``init`` checked names) leaves main.beancount alone."""
    _names_unchecked(monkeypatch)
    rows = list(csv.reader((ROOT / "periods" / "2026.csv").open()))
    with (tmp_path / "2026.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0], *([r[0] if r[0] != "2026-12" else "../main", *r[1:]] for r in rows[1:])])
    books = Books(engine=engine)
    books.init(periods=tmp_path)
    books.load(ROOT / "examples" / "seed-003-books.json")
    books.export_beancount(tmp_path / "ledger")
    _, errors, _ = loader.load_file(str(tmp_path / "ledger" / "main.beancount"))
    assert errors == []


def _two_customers(tmp_path: Path) -> list[Path]:
    """The seed 003 books twice, for customer accounts a1 and B1 (documents X... and Y...): their entries share
    dates, so the ledger orders them by account number."""
    text = (ROOT / "examples" / "seed-003-books.json").read_text()
    files = []
    for account, prefix in (("a1", "X"), ("B1", "Y")):
        mine = text.replace("A00000001", account)
        for kind in ("INV0", "II-", "P0"):
            mine = mine.replace(f'"{kind}', f'"{prefix}{kind}')
        files.append(tmp_path / f"{account}.json")
        files[-1].write_text(mine)
    return files


def test_entries_are_in_byte_order_of_account_whatever_the_databases_collation(tmp_path: Path) -> None:
    """A PostgreSQL database made with a language's collation (most are: en_US.UTF-8) sorted customer account a1
    before B1, SQLite after: the same book exported to different files on the two engines (the ledger, and the GL
    file of a journal run)."""
    import uuid

    from sqlalchemy import create_engine, text

    from conftest import PG_URL

    if not PG_URL:
        pytest.skip("PostgreSQL not configured (set SUBLEDGER_TEST_PG)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C.UTF-8'")
        )
    try:
        ledgers = []
        for url in (f"sqlite:///{tmp_path / 'books.db'}", PG_URL.rsplit("/", 1)[0] + f"/{name}"):
            books = Books(url)
            books.init()
            for path in _two_customers(tmp_path):
                books.load(path)
            books.export_beancount(tmp_path / url.split(":")[0])
            gl_file = tmp_path / url.split(":")[0] / "gl" / "2026-10.csv"
            books.export_gl("2026-10", gl_file)
            books.engine.dispose()
            ledgers.append({**files(tmp_path / url.split(":")[0]), "gl": gl_file.read_bytes()})
        october = ledgers[0]["periods/2026-10.beancount"].decode()
        assert october.index('"Invoice YINV00000001"') < october.index('"Invoice XINV00000001"')
        assert ledgers[0]["gl"].index(b"YINV00000001") < ledgers[0]["gl"].index(b"XINV00000001")
        assert ledgers[0] == ledgers[1]
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def test_an_export_that_fails_midway_leaves_the_previous_ledger_as_it_was(
    seed003: Books, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file is written beside its place first and moved into place only once all are written: an export
    that failed on November's file (the disk full) had already replaced October's, whose entries then disagreed
    with November's old balance assertions (bean-check: Balance failed)."""
    import errno

    from subledger.export import beancount as export

    seed003.write_off_invoice("INV00000001", {"memoDate": "2026-11-16"})
    seed003.export_beancount(tmp_path / "ledger")
    before = files(tmp_path / "ledger")
    seed003.write_off_invoice("INV00000002", {"memoDate": "2026-10-20"})
    written = export._period_file

    def full_in_november(conn: Connection, period: Any, *args: Any) -> Iterator[str]:
        if period.name == "2026-11":
            raise OSError(errno.ENOSPC, "No space left on device")
        yield from written(conn, period, *args)

    monkeypatch.setattr(export, "_period_file", full_in_november)
    with pytest.raises(OSError, match="No space left"):
        seed003.export_beancount(tmp_path / "ledger")
    assert files(tmp_path / "ledger") == before
    assert sorted(p.name for p in (tmp_path / "ledger").rglob(".*")) == []
    _, errors, _ = loader.load_file(str(tmp_path / "ledger" / "main.beancount"))
    assert errors == []


_HELD_EXPORT = """
import sys, time
from pathlib import Path
from subledger.api import Books
from subledger.errors import SubledgerError
from subledger.export import beancount

url, out, marker = sys.argv[1:4]
period_file = beancount._period_file

def held(*args, **kwargs):
    yield from period_file(*args, **kwargs)
    Path(marker).write_text("writing")
    time.sleep(600)

beancount._period_file = held
Books(url).export_beancount(Path(out))
"""


def test_a_killed_export_leaves_the_previous_ledger_whole(seed003: Books, tmp_path: Path) -> None:
    """``kill -9`` while a period's file is being written: the folder holds the previous export exactly, with no
    temporary file beside it and no file of the new one; the next export writes the new ledger in full."""
    out, marker = tmp_path / "ledger", tmp_path / "writing"
    seed003.export_beancount(out)
    before = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    seed003.load(ROOT / "examples" / "line-level-books.json")  # the next export differs
    killed_at(marker, _HELD_EXPORT, db_url(seed003), str(out), str(marker))
    assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if not p.is_dir()} == before
    written = seed003.export_beancount(out)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == sorted(
        str(p.relative_to(out)) for p in written
    )
    assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()} != before
    _, errors, _ = loader.load_file(str(out / "main.beancount"))
    assert errors == []


def test_a_ledger_file_that_is_a_link_refuses_the_export_before_any_file_is_replaced(
    seed003: Books, tmp_path: Path
) -> None:
    """A period file under ``--out`` that is a symbolic link is never written through: the export is refused, and
    refused before it put any of its files in place (accounts.beancount came first and was already replaced)."""
    out = tmp_path / "ledger"
    seed003.write_off_invoice("INV00000001", {"memoDate": "2026-11-16"})  # a November file after October's
    seed003.export_beancount(out)
    target = tmp_path / "elsewhere.beancount"
    target.write_text("; kept\n")
    link = sorted((out / "periods").iterdir())[-1]  # the last period's: October's, which changes, is written before
    link.unlink()
    link.symlink_to(target)
    before = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file() and not p.is_symlink()}
    seed003.load(ROOT / "examples" / "line-level-books.json")  # the next export differs
    with pytest.raises(SubledgerError, match="exists and is not a regular file"):
        seed003.export_beancount(out)
    after = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file() and not p.is_symlink()}
    assert after == before
    assert link.is_symlink()
    assert target.read_text() == "; kept\n"


_HELD_NAMED_EXPORT = """
import os, sys, time
from pathlib import Path
from subledger.api import Books
from subledger.export.gl import files

url, out, marker = sys.argv[1:4]
del os.O_TMPFILE  # a file system without unnamed files: the temporary files have names


def held(self, *args, **kwargs):
    Path(marker).write_text("staged")
    time.sleep(600)


files.Staged.commit = held
Books(url).export_beancount(Path(out))
"""


def test_a_killed_exports_temporary_file_of_a_period_no_longer_in_the_ledger_is_swept(
    seed003: Books, tmp_path: Path
) -> None:
    """``kill -9`` with every file written under a temporary name (a file system without unnamed files), then the
    last closed period reopened (it leaves the ledger) and the ledger exported again: the killed export's temporary
    file of that period is removed with the period's stale file. It stayed: only the files written were swept."""
    seed003.close_periods_through("2026-12")
    ledger, marker = tmp_path / "ledger", tmp_path / "staged"
    seed003.export_beancount(ledger)
    killed_at(marker, _HELD_NAMED_EXPORT, db_url(seed003), str(ledger), str(marker))
    left = sorted(p.name for p in (ledger / "periods").iterdir() if ".subledger-" in p.name)
    assert any(name.startswith(".2026-12.beancount.subledger-") for name in left), left
    seed003.reopen_period("2026-12", "late invoice")
    periods = ledger / "periods"
    live = periods / f".2026-12.beancount.subledger-{os.getpid()}.abc.tmp"  # a process still writing it
    mine = periods / ".notes.subledger-999999999.txt"  # no temporary file of ours
    for kept in (live, mine):
        kept.write_text("kept")
    seed003.export_beancount(ledger)
    assert live.exists()
    assert mine.exists()
    live.unlink()
    mine.unlink()
    seed003.export_beancount(tmp_path / "fresh")
    assert sorted(str(p.relative_to(ledger)) for p in ledger.rglob("*")) == sorted(
        str(p.relative_to(tmp_path / "fresh")) for p in (tmp_path / "fresh").rglob("*")
    )
    assert files(ledger) == files(tmp_path / "fresh")
