"""The benchmarks of issue 8, one function each, returning the report's figures.

Each builds its own book in a scratch place (a SQLite file in a temporary directory, or a PostgreSQL schema of its
own), measures our path and its baselines in the same run, and leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from bench.book import direct_book, load_file
from bench.harness import (
    TABLES,
    Figure,
    Scratch,
    bulk_insert,
    capture,
    driver_rows,
    ratio_target,
    row_count,
    timed,
)
from subledger.api import Books
from subledger.fingerprint import close_marks
from subledger.storage import schema
from subledger.storage.db import refresh_statistics

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Sizes:
    load: int
    write_off: int
    ledger_lines: int

    def scaled(self, factor: float) -> Sizes:
        return Sizes(*(max(1, round(n * factor)) for n in (self.load, self.write_off, self.ledger_lines)))


FULL = Sizes(load=100_000, write_off=100_000, ledger_lines=1_000_000)
QUICK = Sizes(load=100, write_off=100, ledger_lines=2_000)

#: What the bulk write-off asks of every invoice: header level, non-revenue, to the bad-debt expense.
WRITE_OFF_BODY = {
    "memoDate": "2026-12-15",
    "reasonCode": "Write-off",
    "comment": "Month-end bad debt",
    "revenueImpacting": "No",
    "nonRevenueWriteOffAccountingCode": "Bad Debt Expense",
}


def _every_row(engine: Engine) -> dict[str, str]:
    return {t.name: "1 = 1" for t in TABLES}


def _after(operation_id: int) -> dict[str, str]:
    """The rows that operations after ``operation_id`` inserted (write-offs insert; they update balances only)."""
    journaled = (
        "(account_number, entry_seq) IN "
        f"(SELECT account_number, seq FROM journal_entries WHERE operation_id > {operation_id})"
    )
    documented = (
        "(account_number, document_number) IN "
        f"(SELECT account_number, number FROM documents WHERE operation_id > {operation_id})"
    )
    return {
        "operations": f"id > {operation_id}",
        "documents": f"operation_id > {operation_id}",
        "document_items": documented,
        "taxation_items": documented,
        "applications": f"operation_id > {operation_id}",
        "journal_lines": journaled,
        "journal_entries": f"operation_id > {operation_id}",
    }


def _last_operation(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(schema.operations.c.id).order_by(schema.operations.c.id.desc())).scalar() or 0)


def _load_json(scratch: Scratch, invoices: int) -> Path:
    path = scratch.directory / f"load-{invoices}.json"
    path.write_text(json.dumps(load_file(invoices)))
    return path


# --- 2. loading ---------------------------------------------------------------------------------------------------


def load(scratch: Scratch, sizes: Sizes) -> list[Figure]:
    path = _load_json(scratch, sizes.load)
    books = scratch.book("load")
    before = _last_operation(books.engine)  # the book's init: the baseline book has its own
    ours, result = timed(lambda: books.load(path))
    rows = capture(books.engine, {**_every_row(books.engine), "operations": f"id > {before}"})
    baseline_book = scratch.book("load_baseline")
    base, _ = timed(lambda: bulk_insert(baseline_book.engine, rows))
    engine = scratch.engine_kind
    limit = 4 if engine == "sqlite" else 6
    target, passed = ratio_target(limit)(ours, base)
    work = f"{sizes.load:,} invoices, {row_count(rows):,} rows"
    figures = [Figure("load", engine, work, ours, "driver bulk insert", base, target, passed)]
    figures.append(_rate("load", engine, "invoices loaded", sizes.load, ours, 5_000 if engine == "sqlite" else None))
    assert result.loaded.get("Invoice") == sizes.load
    return figures


def _rate(benchmark: str, engine: str, what: str, count: int, seconds: float, floor: int | None) -> Figure:
    rate = count / seconds if seconds else float("inf")
    target = f"target >= {floor:,}/s" if floor else "-"
    return Figure(
        benchmark,
        engine,
        f"{rate:,.0f} {what}/s",
        seconds,
        "-",
        0.0,
        target,
        None if floor is None else rate >= floor,
    )


# --- 1. bulk write-off --------------------------------------------------------------------------------------------


def write_off_entry_point() -> Callable[..., Any] | None:
    return getattr(Books, "write_off_bulk", None)


def write_off(scratch: Scratch, sizes: Sizes) -> list[Figure]:
    bulk = write_off_entry_point()
    engine = scratch.engine_kind
    if bulk is None:
        return [Figure.skip("write-off", engine, "Books.write_off_bulk is not in the package yet")]
    path = _load_json(scratch, sizes.write_off)
    books = scratch.book("write_off")
    books.load(path)
    before = _last_operation(books.engine)
    # The baseline writes the same rows into the same book as it stood before the write-offs.
    baseline_book = scratch.copy(books, "write_off_baseline")
    numbers = [f"INV{n:08d}" for n in range(1, sizes.write_off + 1)]
    ours, _ = timed(lambda: _call_bulk(books, numbers))
    rows = capture(books.engine, _after(before))
    written = len(rows["documents"][1])
    base, _ = timed(lambda: bulk_insert(baseline_book.engine, rows))
    limit = 4 if engine == "sqlite" else 6
    target, passed = ratio_target(limit)(ours, base)
    work = f"{written:,} write-offs, {row_count(rows):,} rows"
    return [
        Figure("write-off", engine, work, ours, "driver bulk insert", base, target, passed),
        _rate("write-off", engine, "write-offs", written, ours, 5_000 if engine == "sqlite" else None),
    ]


def _call_bulk(books: Books, numbers: list[str]) -> Any:
    """The bulk write-off task over every invoice with the one settings body."""
    bulk = write_off_entry_point()
    assert bulk is not None
    return bulk(books, documents=numbers, settings=WRITE_OFF_BODY)


# --- 3. Beancount export ------------------------------------------------------------------------------------------


def build_ledger_book(scratch: Scratch, name: str, lines: int) -> Books:
    """A book of about ``lines`` journal lines, written directly with bulk inserts (see ``book.direct_book``)."""
    books = scratch.book(name)
    with books.engine.begin() as conn:
        operation_id = conn.execute(
            insert(schema.operations)
            .values(
                kind="bench-generate",
                actor="bench",
                request_hash="0" * 64,
                request="{}",
                status="accepted",
                at=dt.datetime.now(dt.UTC),
            )
            .returning(schema.operations.c.id)
        ).scalar_one()
    tables = {t.name: t for t in TABLES}
    for chunk in direct_book(lines, operation_id):
        bulk_insert(
            books.engine,
            {name: driver_rows(books.engine, tables[name], rows) for name, rows in chunk.rows.items()},
        )
    # A book in use has planner statistics (autovacuum, or the load's own refresh); one just bulk-copied has none
    # until then, and on this machine's server autovacuum is off.
    refresh_statistics(books.engine, TABLES)
    return books


def _probe(what: str, books: Books, out: Path) -> dict[str, float]:
    url = books.engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-m", "bench.probe", what, url, str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _journal_lines(books: Books) -> int:
    with books.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.journal_lines)).scalar_one())


def export(scratch: Scratch, sizes: Sizes, books: Books | None = None) -> list[Figure]:
    engine = scratch.engine_kind
    books = books or build_ledger_book(scratch, "ledger", sizes.ledger_lines)
    lines = _journal_lines(books)
    ours = _probe("export", books, scratch.directory / "ledger")
    plain = _probe("plain", books, scratch.directory / "plain.beancount")
    printed = _probe("printer", books, scratch.directory / "printer.beancount")
    work = f"{lines:,} journal lines"
    figures = [
        Figure(
            "export", engine, work, ours["seconds"], "plain formatting", plain["seconds"], *_within(1.5, ours, plain)
        ),
        Figure("export", engine, work, ours["seconds"], "beancount printer", printed["seconds"], "-", None),
    ]
    # Peak memory must not grow with the book: the same export of a book a quarter the size.
    small = build_ledger_book(scratch, "ledger_small", max(sizes.ledger_lines // 4, 1_000))
    small_probe = _probe("export", small, scratch.directory / "ledger_small")
    growth = ours["peak_rss_mb"] - small_probe["peak_rss_mb"]
    figures.append(
        Figure(
            "export",
            engine,
            f"peak RSS {ours['peak_rss_mb']:.0f} MB vs {small_probe['peak_rss_mb']:.0f} MB at 1/4",
            ours["seconds"],
            "-",
            0.0,
            "target: flat (< 20% growth)",
            growth < 0.2 * small_probe["peak_rss_mb"],
        )
    )
    return figures


def _within(limit: float, ours: dict[str, float], base: dict[str, float]) -> tuple[str, bool]:
    return ratio_target(limit)(ours["seconds"], base["seconds"])


# --- 4. close checks and 5. GL export -----------------------------------------------------------------------------


def check(scratch: Scratch, sizes: Sizes, books: Books | None = None) -> list[Figure]:
    """``subledger check`` of the whole book against bean-check of its exported ledger: once with every period
    open, once at month end, with every period but the last closed (each closed period's fingerprint recomputed by
    us and, through the ``closed_periods`` plugin, by bean-check)."""
    books = books or build_ledger_book(scratch, "ledger", sizes.ledger_lines)
    lines = _journal_lines(books)
    figures = [_check_figure(scratch, books, f"{lines:,} journal lines", "ledger_check")]
    closed = _close_all_but_the_last(books)
    try:
        work = f"{lines:,} lines, {closed} periods closed"
        figures.append(_check_figure(scratch, books, work, "ledger_check_closed"))
    finally:
        _reopen(books)
    return figures


#: Runs of ``subledger check`` per figure, the median taken: one run of a few seconds moves by a second on this
#: machine (the minute-long bean-check by a few per cent, so it runs once).
CHECK_RUNS = 3


def _check_figure(scratch: Scratch, books: Books, work: str, name: str) -> Figure:
    out = scratch.directory / name
    probes = [_probe("check", books, out) for _ in range(CHECK_RUNS)]
    probe = sorted(probes, key=lambda run: run["seconds"])[len(probes) // 2]
    ours = probe["seconds"]
    runs = ", ".join(f"{run['seconds']:.2f}" for run in probes)
    print(f"# check {scratch.engine_kind} {work}: {runs} s, the median taken")
    books.export_beancount(out)
    bean_check = Path(sys.executable).with_name("bean-check")
    base, done = timed(
        lambda: subprocess.run(
            [str(bean_check), str(out / "main.beancount")], capture_output=True, text=True, check=False
        )
    )
    if done.returncode != 0:
        print(f"# bean-check reported errors: {done.stdout[:500]}{done.stderr[:500]}")
    checked = all(run["passed"] for run in probes)
    if not checked:
        print(f"# subledger check failed: {[str(p) for p in books.check().failures()][:5]}")
    passed = bool(ours * 20 <= base and ours < 5 and checked)
    return Figure("check", scratch.engine_kind, work, ours, "bean-check", base, "target 20x faster, < 5 s", passed)


def _close_all_but_the_last(books: Books) -> int:
    """Close every period with entries but the last, recording what the close records (status, fingerprint and
    seal: ``fingerprint.close_marks``, and the period's event), directly: the close's own checks are not what this
    benchmark measures."""
    p = schema.periods
    with books.engine.begin() as conn:
        used = set(conn.execute(select(schema.journal_entries.c.period).distinct()).scalars())
        periods = conn.execute(select(p.c.name, p.c.start_date, p.c.end_date).order_by(p.c.start_date)).all()
        to_close = [row for row in periods if row.name in used][:-1]
        for name, start, end in to_close:
            fingerprint, seal = close_marks(conn, start, end)
            conn.execute(update(p).where(p.c.name == name).values(status="Closed", fingerprint=fingerprint, seal=seal))
            _event(conn, name, "Open", "Closed", fingerprint)
    return len(to_close)


def _event(conn: Any, period: str, before: str, after: str, fingerprint: str | None) -> None:
    """The period event an operation records with a transition (the checks compare each status with it)."""
    at = dt.datetime.now(dt.UTC)
    row = {"period": period, "from_status": before, "to_status": after, "actor": "bench", "at": at}
    conn.execute(insert(schema.period_events).values(**row, fingerprint=fingerprint, reason="bench"))


def _reopen(books: Books) -> None:
    p = schema.periods
    with books.engine.begin() as conn:
        closed = conn.execute(select(p.c.name).where(p.c.status == "Closed")).scalars().all()
        conn.execute(update(p).where(p.c.status == "Closed").values(status="Open", fingerprint=None, seal=None))
        for name in closed:
            _event(conn, name, "Closed", "Open", None)


def gl(scratch: Scratch, sizes: Sizes, books: Books | None = None) -> list[Figure]:
    """Detail (a journal run per period, created and rendered: ``export gl --period``) and summary (those runs
    rendered as summary entries) over every period of the book, against the Beancount export of the same book."""
    engine = scratch.engine_kind
    books = books or build_ledger_book(scratch, "ledger", sizes.ledger_lines)
    lines = _journal_lines(books)
    beancount_time = _probe("export", books, scratch.directory / "ledger_gl")["seconds"]
    figures: list[Figure] = []
    for mode in ("detail", "summary"):  # the summary renders the runs the detail created
        ours = _probe(f"gl-{mode}", books, scratch.directory / f"gl-{mode}")["seconds"]
        target, passed = ratio_target(2)(ours, beancount_time)
        work = f"{mode}, {lines:,} journal lines"
        figures.append(Figure("gl", engine, work, ours, "beancount export", beancount_time, target, passed))
    return figures
