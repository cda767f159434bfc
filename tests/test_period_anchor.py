"""What the hash chain cannot prove, and the anchor that does: ``subledger period show`` (both engines).

The chain proves each journal entry consistent with the ones before it. A hand that can write the database and knows
the chain can rewrite a whole chain, and the seals recorded beside it, consistently: ``subledger check`` then
passes. The fingerprint and seal printed at close, kept outside the database, are what show it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from conftest import EARLIER, ENTRY_UPDATES, LINE_UPDATES, db_url, failing, raw, rechain, unguarded
from subledger import canonical
from subledger.api import DEFAULT_CHART, Books
from subledger.fingerprint import period_seal
from subledger.storage.schema import periods


def _closed(books: Books) -> Books:
    for name in [*EARLIER, "2026-10"]:
        books.close_period(name)
    return books


def _recorded(books: Books) -> tuple[str, str]:
    with books.engine.connect() as conn:
        fingerprint, seal = conn.execute(text("SELECT fingerprint, seal FROM periods WHERE name = '2026-10'")).one()
    return str(fingerprint), str(seal)


def test_period_show_prints_what_the_close_recorded_and_that_the_journal_gives_it(seed003: Books, cli: Any) -> None:
    fingerprint, seal = _recorded(_closed(seed003))
    shown = cli("period", "show", "2026-10", db=db_url(seed003))
    assert shown.code == 0, shown.err
    assert shown.out.splitlines() == [
        "2026-10: 2026-10-01 to 2026-10-31, Closed",
        f"fingerprint: {fingerprint} (the journal gives it)",
        f"seal:        {seal} (the journal gives it)",
    ]
    as_json = cli("period", "show", "2026-10", "--json", db=db_url(seed003)).json()
    assert (as_json["fingerprint"], as_json["seal"], as_json["holds"]) == (fingerprint, seal, True)
    missing = cli("period", "show", "2099-01", db=db_url(seed003))
    assert (missing.code, missing.out) == (1, "")
    assert "no accounting period 2099-01" in missing.err


def test_an_edited_amount_shows(seed003: Books, cli: Any) -> None:
    fingerprint, _ = _recorded(_closed(seed003))
    with raw(seed003) as conn, unguarded(conn, LINE_UPDATES):
        conn.execute(text("UPDATE journal_lines SET debit = debit * 2 WHERE entry_seq = 1 AND debit > 0"))
    shown = cli("period", "show", "2026-10", db=db_url(seed003))
    assert shown.code == 1
    assert f"fingerprint: {fingerprint} (the journal now gives " in shown.out
    assert "the journal no longer gives the fingerprint and seal recorded at close" in shown.err


def test_period_show_json_of_an_anchor_that_no_longer_holds_is_one_json_document(seed003: Books, cli: Any) -> None:
    """Under --json the anchor was printed and then the refusal as a second JSON object on stdout: a script's
    json.loads failed on the answer it most needed. Now one object (``holds`` false), exit 1."""
    fingerprint, _ = _recorded(_closed(seed003))
    with raw(seed003) as conn, unguarded(conn, LINE_UPDATES):
        conn.execute(text("UPDATE journal_lines SET debit = debit * 2 WHERE entry_seq = 1 AND debit > 0"))
    shown = cli("period", "show", "2026-10", "--json", db=db_url(seed003))
    assert (shown.code, shown.err) == (1, "")
    answer = shown.json()
    assert (answer["fingerprint"], answer["holds"]) == (fingerprint, False)
    assert answer["journal_fingerprint"] != fingerprint


def test_a_consistent_forgery_passes_the_check_but_not_the_seal_kept_outside(seed003: Books, cli: Any) -> None:
    """Every description rewritten, every chain rehashed and every seal recomputed and stored: the database agrees
    with itself, and only the seal printed at close tells."""
    kept_fingerprint, kept_seal = _recorded(_closed(seed003))
    with raw(seed003) as conn, unguarded(conn, ENTRY_UPDATES):
        keys = conn.execute(text("SELECT account_number, seq FROM journal_entries")).all()
        rechain(conn, canonical.CURRENT, dict.fromkeys(((account, seq) for account, seq in keys), "forged"))
        p = periods.c
        for name, start, end, fingerprint in conn.execute(
            select(p.name, p.start_date, p.end_date, p.fingerprint).where(p.status == "Closed")
        ).all():
            conn.execute(periods.update().where(p.name == name).values(seal=period_seal(conn, start, end, fingerprint)))
    report = seed003.check()
    assert report.passed, failing(report)
    shown = cli("period", "show", "2026-10", db=db_url(seed003))
    assert shown.code == 0
    # The fingerprint covers the postings only (unchanged); the seal covers every entry's chain hash.
    assert f"fingerprint: {kept_fingerprint} (the journal gives it)" in shown.out
    assert kept_seal not in shown.out


def test_a_code_added_to_the_chart_after_the_close_leaves_the_anchor_holding(
    seed003: Books, cli: Any, tmp_path: Path
) -> None:
    """The seal covers the chart's code-to-account map as it was at close. Adding a code (the chart README's one
    line) made ``period show`` of every closed period say the journal no longer gives its seal, exit 1: a false
    alarm of tampering. The seal is proved over the chart the close saw (each init records the chart it
    installed); an edit of the journal still shows."""
    fingerprint, seal = _recorded(_closed(seed003))
    chart = tmp_path / "chart"
    shutil.copytree(DEFAULT_CHART, chart)
    with (chart / "chart.beancount").open("a") as f:
        f.write(
            '\n1970-01-01 open Expenses:Marketing\n  name: "Marketing"\n  number: "6500"\n  type: "OtherExpenses"\n'
        )
    seed003.init(chart=chart)
    shown = cli("period", "show", "2026-10", db=db_url(seed003))
    assert (shown.code, shown.err) == (0, "")
    assert shown.out.splitlines() == [
        "2026-10: 2026-10-01 to 2026-10-31, Closed",
        f"fingerprint: {fingerprint} (the journal gives it)",
        f"seal:        {seal} (the journal gives it)",
    ]
    assert cli("period", "show", "2026-01", db=db_url(seed003)).code == 0
    with raw(seed003) as conn, unguarded(conn, LINE_UPDATES):
        conn.execute(text("UPDATE journal_lines SET debit = debit * 2 WHERE entry_seq = 1 AND debit > 0"))
    assert cli("period", "show", "2026-10", db=db_url(seed003)).code == 1
