"""Accounting periods: every transition of Part 1's status machine, allowed and refused, on both databases."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from conftest import db_url, dump, money
from subledger.api import Books
from subledger.errors import (
    CloseChecksFailed,
    NotFound,
    PeriodTransitionRefused,
    PermissionDenied,
    Problems,
    RuleViolation,
    SubledgerError,
)
from subledger.fingerprint import period_fingerprint

ACTORS = """
[actors.clerk]
permissions = []

[actors.closer]
permissions = ["Manage Close Process"]

[actors.controller]
permissions = ["Manage Close Process", "Reopen Accounting Period"]
"""

EARLIER = [f"2026-{m:02d}" for m in range(1, 10)]


@pytest.fixture
def actors(books: Books, tmp_path: Path) -> Path:
    path = tmp_path / "actors.toml"
    path.write_text(ACTORS)
    books.import_actors(path)
    return path


def statuses(books: Books) -> dict[str, str]:
    return {p.name: p.status for p in books.periods()}


def events(books: Books) -> list[tuple[str, str, str, str, str | None]]:
    with books.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT period, from_status, to_status, actor, reason FROM period_events ORDER BY id")
        ).all()
    return [tuple(r) for r in rows]


def close_through(books: Books, last: str) -> None:
    for name in [*EARLIER, "2026-10", "2026-11"]:
        books.close_period(name)
        if name == last:
            return


def invoice(number: str, date: str, amount: str = "100.00") -> dict[str, Any]:
    return {
        "invoices": [
            {
                "invoiceNumber": number,
                "accountNumber": "A00000001",
                "invoiceDate": date,
                "currency": "USD",
                "items": [
                    {
                        "id": f"{number}-1",
                        "chargeName": "Charge",
                        "processingType": "Charge",
                        "chargeAmount": amount,
                        "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
                    }
                ],
            }
        ]
    }


def test_close_in_calendar_order_records_fingerprint_and_event(seed003: Books) -> None:
    before = dump(seed003.engine)
    with pytest.raises(PeriodTransitionRefused, match="earlier period 2026-01 is Open"):
        seed003.close_period("2026-10")
    assert dump(seed003.engine) == before
    close_through(seed003, "2026-10")
    assert statuses(seed003)["2026-10"] == "Closed"
    assert statuses(seed003)["2026-11"] == "Open"
    oct_ = next(p for p in seed003.periods() if p.name == "2026-10")
    with seed003.engine.connect() as conn:
        assert oct_.fingerprint == period_fingerprint(conn, oct_.start_date, oct_.end_date)
    # an empty period's fingerprint is the hash of nothing
    assert next(p for p in seed003.periods() if p.name == "2026-01").fingerprint == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert events(seed003)[-1] == ("2026-10", "Open", "Closed", "admin", None)
    assert len(events(seed003)) == 10
    with pytest.raises(PeriodTransitionRefused, match="already Closed"):
        seed003.close_period("2026-10")


def test_a_year_added_before_closed_periods_closes_in_order(seed003: Books, tmp_path: Path) -> None:
    """``init`` adds a calendar year before the closed ones as Open periods. The whole-book check reports the
    order broken, but closing the new periods (in order) is what mends it: the close of 2025-01 must not be refused
    because a later period is Closed, else no period of the book could ever close again."""
    close_through(seed003, "2026-10")
    calendar = tmp_path / "periods"
    calendar.mkdir()
    for year in ("2025", "2026", "2027"):
        rows = ["name,start_date,end_date,fiscal_year,fiscal_quarter"]
        for month in range(1, 13):
            start = f"{year}-{month:02d}-01"
            end = (date.fromisoformat(start) + timedelta(days=31)).replace(day=1) - timedelta(days=1)
            rows.append(f"{year}-{month:02d},{start},{end},{year},{(month - 1) // 3 + 1}")
        (calendar / f"{year}.csv").write_text("\n".join(rows) + "\n")
    seed003.init(periods=calendar)
    assert [(p.name, p.status) for p in seed003.periods()][11:13] == [("2025-12", "Open"), ("2026-01", "Closed")]
    order = next(c for c in seed003.check().checks if c.name == "closed-periods")
    assert (order.problem_count, order.problems[0].rule) == (10, "is Closed but the earlier period 2025-01 is Open")
    assert seed003.check("2025-01").passed
    seed003.load(invoice("INV00000925", "2025-06-15"))
    done = seed003.close_periods_through("2025-12")
    assert (done.refusal, [p.period for p in done.closed]) == (None, [f"2025-{m:02d}" for m in range(1, 13)])
    assert seed003.check().passed
    assert statuses(seed003)["2026-11"] == "Open"
    seed003.close_period("2026-11")


def test_nothing_is_posted_into_a_closed_period(seed003: Books) -> None:
    close_through(seed003, "2026-10")
    before = dump(seed003.engine)
    with pytest.raises(SubledgerError, match="which is Closed; the first open period is 2026-11"):
        seed003.load(invoice("INV00000900", "2026-10-30"))
    assert dump(seed003.engine) == before
    seed003.load(invoice("INV00000901", "2026-11-02"))


def test_pending_close_needs_manage_close_process_and_opens_only_to_it(seed003: Books, actors: Path) -> None:
    del actors
    for name in EARLIER:
        seed003.close_period(name)
    before = dump(seed003.engine)
    with pytest.raises(PermissionDenied, match="Manage Close Process"):
        seed003.as_actor("clerk").pending_close("2026-10")
    with pytest.raises(PeriodTransitionRefused, match="earlier period 2026-10 is Open"):
        seed003.pending_close("2026-11")
    assert dump(seed003.engine) == before
    result = seed003.as_actor("closer").pending_close("2026-10")
    assert (result.from_status, result.to_status) == ("Open", "Pending Close")
    with pytest.raises(PeriodTransitionRefused, match="only an Open period"):
        seed003.pending_close("2026-10")
    # Pending Close is closed to the clerk, open to the closer
    with pytest.raises(SubledgerError, match="2026-10, which is Pending Close"):
        seed003.as_actor("clerk").load(invoice("INV00000902", "2026-10-30"))
    seed003.as_actor("closer").load(invoice("INV00000903", "2026-10-30"))
    with pytest.raises(PermissionDenied):
        seed003.as_actor("clerk").close_period("2026-10")
    closed = seed003.as_actor("closer").close_period("2026-10")
    assert (closed.from_status, closed.to_status) == ("Pending Close", "Closed")
    assert events(seed003)[-2:] == [
        ("2026-10", "Open", "Pending Close", "closer", None),
        ("2026-10", "Pending Close", "Closed", "closer", None),
    ]


def test_close_refused_naming_every_failing_check_then_accepted_once_fixed(seed003: Books) -> None:
    for name in EARLIER:
        seed003.close_period(name)
    with seed003.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET status = 'Draft' WHERE number = 'INV00000001'"))
        conn.execute(text("UPDATE payments SET status = 'Processing' WHERE number = 'P00000001'"))
        conn.execute(text("UPDATE accounting_codes SET active = false WHERE name = 'Deferred Revenue'"))
    before = dump(seed003.engine)
    with pytest.raises(CloseChecksFailed) as refused:
        seed003.close_period("2026-10")
    assert dump(seed003.engine) == before
    failing = {p.field for p in refused.value.problems}
    assert {"no-drafts", "accounting-codes"} <= failing
    assert all(p.document == "2026-10" for p in refused.value.problems)
    drafts = next(p for p in refused.value.problems if p.field == "no-drafts")
    assert "INV00000001" in drafts.rule
    assert "(and 1 more)" in drafts.rule  # the processing payment too
    with seed003.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET status = 'Posted' WHERE number = 'INV00000001'"))
        conn.execute(text("UPDATE payments SET status = 'Processed' WHERE number = 'P00000001'"))
        conn.execute(text("UPDATE accounting_codes SET active = true WHERE name = 'Deferred Revenue'"))
    assert seed003.close_period("2026-10").to_status == "Closed"


def test_a_refused_close_says_where_the_problems_it_does_not_show_are(seed003: Books, cli: Any) -> None:
    """A refused close names each failing check's first problem; when a check has more, the line says which
    command lists them, so that the controller is not left with "(and 1 more)" and nothing to run."""
    for name in EARLIER:
        seed003.close_period(name)
    with seed003.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET status = 'Draft' WHERE number = 'INV00000001'"))
        conn.execute(text("UPDATE payments SET status = 'Processing' WHERE number = 'P00000001'"))
    with pytest.raises(CloseChecksFailed) as refused:
        seed003.close_period("2026-10")
    drafts = next(p for p in refused.value.problems if p.field == "no-drafts")
    assert drafts.rule == (
        "No draft documents or unprocessed payments: INV00000001, status: draft invoice dated 2026-10-05 must be "
        "posted or canceled before close (and 1 more), all listed by `subledger check --period 2026-10`"
    )
    listed = cli("check", "--period", "2026-10", "--json", db=db_url(seed003)).json()
    shown = next(c for c in listed["checks"] if c["name"] == "no-drafts")
    assert [p["document"] for p in shown["problems"]] == ["INV00000001", "P00000001"]


def test_reopen_only_the_latest_closed_period_with_reason_and_permission(seed003: Books, actors: Path) -> None:
    del actors
    close_through(seed003, "2026-10")
    first = next(p for p in seed003.periods() if p.name == "2026-10").fingerprint
    before = dump(seed003.engine)
    with pytest.raises(PermissionDenied, match="Reopen Accounting Period"):
        seed003.as_actor("closer").reopen_period("2026-10", "late invoice")
    with pytest.raises(RuleViolation, match="reason is required"):
        seed003.reopen_period("2026-10", "  ")
    with pytest.raises(PeriodTransitionRefused, match="only the latest closed period"):
        seed003.reopen_period("2026-09", "late invoice")
    with pytest.raises(PeriodTransitionRefused, match="already Open"):
        seed003.reopen_period("2026-11", "late invoice")
    assert dump(seed003.engine) == before
    result = seed003.as_actor("controller").reopen_period("2026-10", "late invoice")
    assert (result.from_status, result.to_status, result.reason) == ("Closed", "Open", "late invoice")
    assert events(seed003)[-1] == ("2026-10", "Closed", "Open", "controller", "late invoice")
    assert next(p for p in seed003.periods() if p.name == "2026-10").fingerprint is None
    seed003.load(invoice("INV00000904", "2026-10-30"))
    # closing again records the new fingerprint
    assert seed003.close_period("2026-10").fingerprint not in (None, first)
    assert seed003.reopen_period("2026-10", "again").to_status == "Open"
    assert seed003.reopen_period("2026-09", "now the latest").to_status == "Open"


def test_a_reopen_reason_with_a_nul_character_is_refused_in_one_line(seed003: Books) -> None:
    """PostgreSQL cannot store a NUL character: a reason holding one (the Python API takes any str) failed as an
    internal database error on PostgreSQL and was stored on SQLite. It is refused, naming the period and field."""
    close_through(seed003, "2026-10")
    before = dump(seed003.engine)
    with pytest.raises(RuleViolation) as refused:
        seed003.reopen_period("2026-10", "late\x00invoice")
    assert str(refused.value.problem) == "2026-10, reason: the reason contains a NUL character"
    assert dump(seed003.engine) == before
    assert statuses(seed003)["2026-10"] == "Closed"


def test_unknown_period_is_not_found(books: Books) -> None:
    with pytest.raises(NotFound, match="no accounting period 2031-13"):
        books.close_period("2031-13")


def test_period_cli(seed003: Books, cli: Any) -> None:
    url = db_url(seed003)
    for name in EARLIER:
        assert cli("period", "close", name, db=url).code == 0
    out = cli("period", "close", "2026-10", db=url)
    assert out.code == 0
    assert out.out.startswith("2026-10: Open -> Closed (fingerprint ")
    refused = cli("period", "reopen", "2026-09", "--reason", "x", db=url)
    assert refused.code == 1
    assert refused.err.strip() == (
        "error: 2026-09, status: only the latest closed period can be reopened; 2026-10 is Closed"
    )
    reopened = cli("period", "reopen", "2026-10", "--reason", "late invoice", "--json", db=url)
    assert reopened.code == 0
    assert reopened.json() == {
        "success": True,
        "operation": "period-reopen",
        "operationId": reopened.json()["operationId"],
        "replayed": False,
        "documentNumber": "2026-10",
        "documentKind": "Period",
        "period": "2026-10",
        "fromStatus": "Closed",
        "toStatus": "Open",
        "reason": "late invoice",
    }
    listed = cli("period", "list", "--json", db=url).json()
    assert [p["status"] for p in listed[:11]] == ["Closed"] * 9 + ["Open", "Open"]
    assert cli("period", "pending-close", "2026-10", db=url).out.strip() == "2026-10: Open -> Pending Close"


def test_period_list_csv_keeps_the_whole_fingerprint(seed003: Books, cli: Any) -> None:
    """The table shortens fingerprints to 12 characters for the eye; csv and tsv are for scripts, which file the
    fingerprint outside the database (the anchor of the closed books): they get all 64."""
    close_through(seed003, "2026-10")
    url = db_url(seed003)
    recorded = {p.name: p.fingerprint for p in seed003.periods()}
    for fmt, sep in (("csv", ","), ("tsv", "\t")):
        listed = cli("period", "list", "--format", fmt, db=url)
        assert listed.code == 0, listed.err
        rows = [line.split(sep) for line in listed.out.splitlines()]
        assert rows[10][0] == "2026-10"
        assert rows[10][-1] == recorded["2026-10"]
        assert len(rows[10][-1]) == 64
        assert rows[11][-1] == ""
    table = cli("period", "list", db=url).out.splitlines()
    assert table[11].split()[-1] == str(recorded["2026-10"])[:12]


def test_close_refused_lists_every_failing_check_on_the_cli(seed003: Books, cli: Any) -> None:
    url = db_url(seed003)
    for name in EARLIER:
        seed003.close_period(name)
    with seed003.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET status = 'Draft' WHERE number = 'INV00000002'"))
        conn.execute(
            text("UPDATE document_items SET amount = :a WHERE id = 'II-0001'"), {"a": money(conn, Decimal(300))}
        )
    out = cli("period", "close", "2026-10", db=url)
    assert out.code == 1
    lines = out.err.strip().splitlines()
    assert lines[0].startswith("error: 2026-10, no-drafts: No draft documents or unprocessed payments: INV00000002")
    assert any(line.startswith("error: 2026-10, control-accounts: ") for line in lines)
    assert any(line.startswith("error: 2026-10, beancount: ") for line in lines)


# --- a close under load (PostgreSQL) ----------------------------------------------------------------------------

WRITERS = int(os.environ.get("SUBLEDGER_CLOSE_WRITERS", "8"))
#: How long the writers keep posting at most: a close that waits for them to stop takes about this long.
WRITING = float(os.environ.get("SUBLEDGER_CLOSE_WRITING_SECONDS", "20"))


def writer_file(account: str, n: int) -> dict[str, Any]:
    file = invoice(f"{account}-{n}", "2026-10-20", "10.00")
    file["invoices"][0]["accountNumber"] = account
    if n == 0:
        file["accounts"] = [{"accountNumber": account, "name": account, "currency": "USD"}]
    return file


@pytest.mark.pg
def test_a_close_makes_progress_while_writers_post_into_the_period(books: Books) -> None:
    """Writers post into 2026-10 without pause; two closers start among them. The close must not wait for the
    writers to stop (row share locks let newcomers in ahead of a waiting closer), the second closer is told the
    period is already Closed, and every write after the close is refused."""
    if books.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: a close queues like any other writer")
    close_through(books, "2026-09")
    stop = threading.Event()
    posted = [threading.Event() for _ in range(WRITERS)]
    outcomes: list[Counter[str]] = [Counter() for _ in range(WRITERS)]

    def write(i: int) -> None:
        book, n, started = Books(engine=books.engine), 0, time.monotonic()
        while not stop.is_set() and time.monotonic() - started < WRITING:
            try:
                book.load(writer_file(f"W{i}", n))
                outcomes[i]["posted"] += 1
                n += 1
                posted[i].set()
            except SubledgerError as exc:  # a load reports the closed period as one of its problems
                closed = "2026-10, which is Closed" in str(exc)
                outcomes[i]["refused: period closed" if closed else f"refused: {exc}"] += 1

    def close() -> tuple[str, float]:
        started = time.monotonic()
        try:
            result = f"closed {books.close_period('2026-10').to_status}"
        except SubledgerError as exc:
            result = str(exc)
        return result, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=WRITERS + 2) as pool:
        writers = [pool.submit(write, i) for i in range(WRITERS)]
        for event in posted:
            assert event.wait(WRITING)
        closers = [pool.submit(close) for _ in range(2)]
        answers = sorted(c.result() for c in closers)
        still_writing = not any(w.done() for w in writers)
        time.sleep(0.5)  # writes after the close: each refused
        stop.set()
        for w in writers:
            w.result()
    total: Counter[str] = sum(outcomes, Counter())
    print(f"\nclose under load: {WRITERS} writers, closers {answers}, writers {dict(total)}")
    assert [a for a, _ in answers] == ["2026-10, status: 2026-10 is already Closed", "closed Closed"]
    assert still_writing, "the close finished only once the writers stopped"
    assert max(seconds for _, seconds in answers) < WRITING / 2
    assert set(total) <= {"posted", "refused: period closed"}
    assert total["refused: period closed"] >= 1
    assert statuses(books)["2026-10"] == "Closed"
    assert books.check().passed


def test_close_through_is_a_books_operation(seed003: Books) -> None:
    """The rule of ``period close --through`` (in order, each checked, keys ``KEY:<period>``) is the book's."""
    done = seed003.close_periods_through("2026-03", idempotency_key="q1")
    assert [(t.period, t.to_status) for t in done.closed] == [(f"2026-0{m}", "Closed") for m in (1, 2, 3)]
    assert (done.refused, done.refusal) == (None, None)
    again = seed003.close_periods_through("2026-03", idempotency_key="q1")
    assert (again.todo, again.closed) == ([], [])
    with seed003.engine.connect() as conn:
        keys = conn.execute(text("SELECT idempotency_key FROM operations WHERE kind = 'period-close'")).scalars()
        assert sorted(keys) == ["q1:2026-01", "q1:2026-02", "q1:2026-03"]


def test_a_period_name_must_be_safe_as_a_file_name(cli: Any, tmp_path: Path) -> None:
    """A period's name names its ledger file (``periods/NAME.beancount``): a calendar naming one ``../../evil``
    made ``export beancount`` write outside the folder it was given, ``2026/02`` a subfolder, and `` Jan 26 `` a
    name no one types back; a name of 65 characters or more closed with no record of which period the operations log
    names. ``init`` refuses such names, each in one line, and writes nothing."""
    calendar = tmp_path / "periods"
    calendar.mkdir()
    (calendar / "2026.csv").write_text(
        "name,start_date,end_date,fiscal_year,fiscal_quarter\n"
        "../../evil,2026-01-01,2026-01-31,2026,1\n"
        "2026/02,2026-02-01,2026-02-28,2026,1\n"
        " Mar 26 ,2026-03-01,2026-03-31,2026,1\n"
        "FY26-P04.a_b,2026-04-01,2026-04-30,2026,2\n"
        f"{'P' * 65},2026-05-01,2026-05-31,2026,2\n"
    )
    url = f"sqlite:///{tmp_path / 'books.db'}"
    refused = cli("init", "--periods", str(calendar), db=url)
    assert refused.code == 1
    rule = "must be letters, digits and . _ - only, starting with a letter or digit (it names the period's ledger file)"
    assert refused.err.splitlines() == [
        f"error: 2026.csv:2, name: '../../evil' {rule}",
        f"error: 2026.csv:3, name: '2026/02' {rule}",
        f"error: 2026.csv:4, name: ' Mar 26 ' {rule}",
        "error: 2026.csv:6, name: String should have at most 64 characters",
    ]
    assert not (tmp_path / "books.db").exists()  # the calendar is read before anything is written


def test_a_calendar_file_that_is_not_utf8_is_named(cli: Any, tmp_path: Path) -> None:
    """It said "the input is not UTF-8 text", naming no file; a file saved with a byte-order mark (a spreadsheet's
    "CSV UTF-8") lost its first column's name and every row was refused."""
    calendar = tmp_path / "periods"
    calendar.mkdir()
    header = "name,start_date,end_date,fiscal_year,fiscal_quarter\n"
    (calendar / "2026.csv").write_bytes(header.encode() + "2026-01,2026-01-01,2026-01-31,2026,1 é\n".encode("latin-1"))
    url = f"sqlite:///{tmp_path / 'books.db'}"
    refused = cli("init", "--periods", str(calendar), db=url)
    assert (refused.code, refused.err) == (1, "error: 2026.csv: not UTF-8 text (byte 0xe9): save it as UTF-8\n")
    year = (Path(__file__).parent.parent / "periods" / "2026.csv").read_text()
    (calendar / "2026.csv").write_text("\ufeff" + year, encoding="utf-8")
    assert cli("init", "--periods", str(calendar), db=url).code == 0


def test_a_calendar_year_must_join_the_books_periods_without_a_gap(seed003: Books, tmp_path: Path) -> None:
    """Each calendar file was checked contiguous on its own: ``init`` with only ``2029.csv`` on a book running to
    2027-12 added 2029 and left 2028 out, and 2029-01 then closed with a whole year missing before it. ``init``
    refuses a new period that does not join the periods the book has, and changes nothing."""
    calendar = tmp_path / "periods"
    calendar.mkdir()

    def year(n: int) -> str:
        rows = ["name,start_date,end_date,fiscal_year,fiscal_quarter"]
        for month in range(1, 13):
            start = date(n, month, 1)
            end = (start + timedelta(days=31)).replace(day=1) - timedelta(days=1)
            rows.append(f"{n}-{month:02d},{start},{end},{n},{(month - 1) // 3 + 1}")
        return "\n".join(rows) + "\n"

    (calendar / "2029.csv").write_text(year(2029))
    before = dump(seed003.engine)["periods"]
    with pytest.raises(Problems) as refused:
        seed003.init(periods=calendar)
    assert [str(p) for p in refused.value.problems] == [
        "2029-01, start_date: periods must be contiguous: 2027-12 ends 2027-12-31"
    ]
    assert dump(seed003.engine)["periods"] == before
    (calendar / "2028.csv").write_text(year(2028))
    assert seed003.init(periods=calendar).periods == 48


def test_a_calendar_renaming_or_overlapping_a_period_is_refused_in_one_line(seed003: Books, tmp_path: Path) -> None:
    """A period of the book renamed in the calendar (same dates, another name) failed on the database's unique
    start date, reported as "cannot open the database ... check --db and that the server is up". ``init`` names
    the period and the rule instead, and changes nothing."""
    calendar = tmp_path / "periods"
    calendar.mkdir()
    year = (Path(__file__).parent.parent / "periods" / "2026.csv").read_text()
    (calendar / "2026.csv").write_text(year.replace("\n2026-01,", "\nJan-2026,"))
    before = dump(seed003.engine)["periods"]
    with pytest.raises(Problems) as refused:
        seed003.init(periods=calendar)
    assert [str(p) for p in refused.value.problems] == [
        "Jan-2026, name: the calendar renames period 2026-01 (2026-01-01 to 2026-01-31): a period the book has "
        "keeps its name"
    ]
    quarter = "\n".join(line for line in year.splitlines() if not line.startswith(("2026-01", "2026-02", "2026-03")))
    (calendar / "2026.csv").write_text(quarter.replace("\n", "\nQ1-2026,2026-01-01,2026-03-31,2026,1\n", 1) + "\n")
    with pytest.raises(Problems) as overlapping:
        seed003.init(periods=calendar)
    assert [str(p) for p in overlapping.value.problems] == [
        "Q1-2026, start_date: the calendar's period 2026-01-01 to 2026-03-31 overlaps period 2026-01 "
        "(2026-01-01 to 2026-01-31), which the book already has"
    ]
    assert dump(seed003.engine)["periods"] == before
