"""``subledger period close --through P``: each open period up to P, in order, each checked; stops at the first
refusal, saying what was closed (exit 3, partly done)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import db_url, example
from subledger.api import Books


def test_close_through_closes_each_period_in_order(cli: Any, seed003: Books) -> None:
    url = db_url(seed003)
    done = cli("period", "close", "--through", "2026-10", db=url)
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"2026-{m:02d}" for m in range(1, 11)]
    statuses = {p["name"]: p["status"] for p in cli("period", "list", "--json", db=url).json()}
    assert [statuses[f"2026-{m:02d}"] for m in range(1, 12)] == ["Closed"] * 10 + ["Open"]
    again = cli("period", "close", "--through", "2026-10", db=url)
    assert (again.code, again.out.strip()) == (0, "Every period through 2026-10 is already closed.")


def test_close_through_stops_at_the_first_refusal(cli: Any, books: Books, tmp_path: Path) -> None:
    data = json.loads(example("seed-003-books.json").read_text())
    data["invoices"][0]["status"] = "Draft"  # dated 2026-10: October's close checks refuse a draft document
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps(data))
    url = db_url(books)
    assert cli("load", str(draft), db=url).code == 0
    result = cli("period", "close", "--through", "2026-11", db=url)
    assert result.code == 3, result.err
    assert result.out.splitlines()[-1].startswith("2026-09: Open -> Closed")
    assert result.err.startswith("error: 2026-10: closed 2026-01 to 2026-09; 2026-10 refused: ")
    assert len(result.err.splitlines()) == 1
    statuses = {p["name"]: p["status"] for p in cli("period", "list", "--json", db=url).json()}
    assert (statuses["2026-09"], statuses["2026-10"], statuses["2026-11"]) == ("Closed", "Open", "Open")


def _with_a_draft(cli: Any, books: Books, tmp_path: Path) -> str:
    """Loads seed 003 with its first invoice (October) a Draft, through the command; the book's URL."""
    data = json.loads(example("seed-003-books.json").read_text())
    data["invoices"][0]["status"] = "Draft"
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps(data))
    url = db_url(books)
    assert cli("load", str(draft), db=url).code == 0
    return url


def test_close_through_stopped_says_under_json_what_it_closed(cli: Any, books: Books, tmp_path: Path) -> None:
    """Partly done under --json: one JSON document with the periods closed and the refusal (exit 3), as the text
    output lists them; not the bare error shape, which leaves a script to parse what closed out of a message."""
    url = _with_a_draft(cli, books, tmp_path)
    result = cli("--json", "period", "close", "--through", "2026-11", db=url)
    assert result.code == 3, result.err
    report = json.loads(result.out)
    assert (report["success"], report["operation"]) == (False, "period-close")
    assert [(c["period"], c["fromStatus"], c["toStatus"]) for c in report["closed"]] == [
        (f"2026-{m:02d}", "Open", "Closed") for m in range(1, 10)
    ]
    (reason,) = report["reasons"]
    assert (reason["code"], reason["document"], reason["field"]) == ("close-checks-failed", "2026-10", "no-drafts")
    assert reason["rule"].startswith("No draft documents or unprocessed payments: INV00000001, status: draft invoice")
    assert result.err == ""


def test_a_draft_reloaded_posted_lets_its_period_close(cli: Any, books: Books, tmp_path: Path) -> None:
    """The probe's repro: a draft refused October's close for good (its reload was 'different content'); the
    billing system's posted record, reloaded, posts it and October closes."""
    url = _with_a_draft(cli, books, tmp_path)
    assert cli("period", "close", "--through", "2026-10", db=url).code == 3
    posted = cli("load", str(example("seed-003-books.json")), db=url)
    assert posted.code == 0, posted.err
    assert "Invoice        0        1          1" in posted.out.splitlines()
    assert posted.out.splitlines()[-1] == "1 journal entries posted."
    closed = cli("period", "close", "--through", "2026-10", db=url)
    assert (closed.code, closed.out.splitlines()[-1][:26]) == (0, "2026-10: Open -> Closed (f")


def test_close_needs_a_period_or_through(cli: Any, books: Books) -> None:
    url = db_url(books)
    assert cli("period", "close", db=url).code == 2
    assert cli("period", "close", "2026-01", "--through", "2026-02", db=url).code == 2
    assert cli("period", "close", "--through", "1999-01", db=url).code == 1


def test_closing_out_of_order_points_to_through(cli: Any, books: Books) -> None:
    refused = cli("period", "close", "2026-10", db=db_url(books))
    assert refused.code == 1
    assert refused.err.strip().endswith(
        "the earlier period 2026-01 is Open (periods close in calendar order); "
        "`subledger period close --through 2026-10` closes each in order"
    )
