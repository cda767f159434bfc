"""The close checks: all pass on healthy books, and each fails on a database crafted to break it (both engines).

Posted journal rows cannot be updated or deleted (triggers), so failures are crafted by inserting journal rows
(``journal.post`` for a well-formed entry, raw SQL for a malformed one), or by editing documents, periods,
accounting codes and ``customer_accounts``, as a tampering hand or a defect would.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from beancount import loader
from sqlalchemy import text

from conftest import (
    EARLIER,
    LINE_UPDATES,
    db_url,
    dump,
    failing,
    money,
    operation_id,
    post_entry,
    raw,
    stored_money,
    unguarded,
)
from subledger.api import DEFAULT_CHART, Books
from subledger.canonical import posting_text
from subledger.checks import CHECKS
from subledger.export.beancount import export_period
from subledger.fingerprint import period_fingerprint
from subledger.journal import Entry, Tag, post
from subledger.plugins.closed_periods import fingerprint
from subledger.posting import Line, TransactionType
from subledger.storage import cursor
from subledger.storage.journal_pass import HASHED_COLUMNS

NAMES = [check.name for check in CHECKS]


def test_every_check_passes_on_healthy_books(seed003: Books, line_level: Books) -> None:
    del line_level
    whole = seed003.check()
    assert [c.name for c in whole.checks] == NAMES
    assert whole.passed, failing(whole)
    assert whole.as_of == dt.date(2026, 10, 31)
    report = seed003.check("2026-10")
    assert report.passed, failing(report)
    assert report.period == "2026-10"


def test_unbalanced_entry_fails_balance_trial_balance_and_chain(seed003: Books) -> None:
    with raw(seed003) as conn, unguarded(conn):
        op = operation_id(conn)
        conn.execute(
            text(
                "INSERT INTO journal_lines (account_number, entry_seq, line_no, accounting_code, debit, credit, "
                "currency) VALUES ('A00000001', 99, 1, 'Cash', :d, 0, 'USD'), "
                "('A00000001', 99, 2, 'Other Revenue', 0, :c, 'USD')"
            ),
            {"d": money(conn, Decimal("10.00")), "c": money(conn, Decimal("9.00"))},
        )
        conn.execute(
            text(
                "INSERT INTO journal_entries (account_number, seq, entry_date, period, transaction_type, currency, "
                "document_number, tag, description, operation_id, prev_hash, hash) VALUES ('A00000001', 99, "
                "'2026-10-30', '2026-10', 'External Payment', 'USD', 'HAND-1', 'payment', 'by hand', :op, 'x', 'y')"
            ),
            {"op": op},
        )
    found = failing(seed003.check("2026-10"))
    assert found["entries-balanced"] == ["A00000001-99|USD|debits 10.00 and credits 9.00 USD"]
    assert found["trial-balance"] == [
        "2026-10|USD|the trial balance does not net to zero: debits 1170.00, credits 1169.00 USD"
    ]
    assert "A00000001-99|seq|follows entry 4: entries are missing" in found["hash-chain"]
    assert "A00000001-99|hash|its content no longer matches its hash (altered)" in found["hash-chain"]
    assert any(p.startswith("A00000001|lastEntryHash|") for p in found["hash-chain"])


def test_inactive_accounting_code(seed003: Books) -> None:
    with raw(seed003) as conn:
        conn.execute(text("UPDATE accounting_codes SET active = false WHERE name = 'Deferred Revenue'"))
    found = failing(seed003.check("2026-10"))
    assert list(found) == ["accounting-codes"]
    (problem,) = found["accounting-codes"]
    assert problem == "A00000001-1|accountingCode|accounting code 'Deferred Revenue' is inactive (4 journal lines)"


def test_a_code_deactivated_in_the_chart_leaves_the_lines_posted_before_usable(seed003: Books, tmp_path: Any) -> None:
    """Deactivating a code (a ``close`` directive, then ``init``) refuses documents naming it from then on; the
    lines posted while it was active stay good, or no period holding one could ever close again."""
    chart = tmp_path / "chart"
    chart.mkdir()
    text_ = (DEFAULT_CHART / "chart.beancount").read_text()
    (chart / "chart.beancount").write_text(text_ + "\n2026-11-15 close Liabilities:DeferredRevenue\n")
    seed003.init(chart=chart)
    assert failing(seed003.check()) == {}
    seed003.close_periods_through("2026-10")
    assert [p.status for p in seed003.periods()][9:11] == ["Closed", "Open"]
    five = Decimal("5.00")
    with raw(seed003) as conn:  # a defect posts to the inactive code
        post_entry(
            conn,
            "2026-11-20",
            "2026-11",
            [Line("Cash", five, Decimal(0)), Line("Deferred Revenue", Decimal(0), five)],
        )
    found = failing(seed003.check("2026-11"))
    assert found["accounting-codes"] == [
        "A00000001-5|accountingCode|accounting code 'Deferred Revenue' is inactive (1 journal line)"
    ]


def test_drafts_and_unprocessed_payments(seed003: Books) -> None:
    with raw(seed003) as conn:
        conn.execute(text("UPDATE documents SET status = 'Draft' WHERE number = 'INV00000002'"))
        conn.execute(text("UPDATE payments SET status = 'Processing' WHERE number = 'P00000001'"))
    found = failing(seed003.check("2026-10"))
    assert found["no-drafts"] == [
        "INV00000002|status|draft invoice dated 2026-10-05 must be posted or canceled before close",
        "P00000001|status|processing payment dated 2026-10-20 must be processed or canceled before close",
    ]
    assert failing(seed003.check("2026-11")).get("no-drafts") is None


def test_the_whole_book_check_lists_drafts_dated_after_the_last_posting(seed003: Books) -> None:
    """A draft posts nothing, so it never moves the last posting date; the whole-book check must still list it, or
    ``subledger check`` says every check passes on a book whose next closes are refused."""
    item = {
        "id": "II-9001",
        "chargeName": "Charge",
        "processingType": "Charge",
        "quantity": "1",
        "unitPrice": "10",
        "chargeAmount": "10.00",
        "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"},
    }
    invoice = {
        "invoiceNumber": "INV00009001",
        "accountNumber": "A00000001",
        "invoiceDate": "2026-12-15",
        "dueDate": "2027-01-14",
        "currency": "USD",
        "status": "Draft",
        "items": [item],
    }
    payment = {
        "number": "P00009001",
        "accountNumber": "A00000001",
        "effectiveDate": "2027-01-03",
        "currency": "USD",
        "amount": "10.00",
        "status": "Processing",
    }
    seed003.load({"invoices": [invoice], "payments": [payment]})
    whole = seed003.check()
    assert whole.as_of == dt.date(2026, 10, 31)  # the last posting is still October's payment
    assert failing(whole) == {
        "no-drafts": [
            "INV00009001|status|draft invoice dated 2026-12-15 must be posted or canceled before close",
            "P00009001|status|processing payment dated 2027-01-03 must be processed or canceled before close",
        ]
    }
    assert failing(seed003.check("2026-10")) == {}
    assert failing(seed003.check("2026-12")) == {
        "no-drafts": ["INV00009001|status|draft invoice dated 2026-12-15 must be posted or canceled before close"]
    }


def test_control_accounts_disagree_with_the_subledger(seed003: Books) -> None:
    with raw(seed003) as conn:
        conn.execute(text("UPDATE document_items SET amount = amount * 2 WHERE id = 'II-0001'"))
    found = failing(seed003.check("2026-10"))
    assert found["control-accounts"] == [
        "Accounts Receivable|USD|at the end of 2026-10-31 the journal shows 710.00 USD but the documents and "
        "applications give 1040.00 USD (debit minus credit)"
    ]
    assert any("Balance failed for 'Assets:AccountsReceivable'" in p for p in found["beancount"])


def write_off(books: Books, number: str, date: str) -> str:
    """A header-level write-off of ``number`` on ``date``: the generated credit memo's number."""
    result = books.write_off_invoice(number, {"memoDate": date})
    assert result.credit_memo is not None
    return str(result.credit_memo.number)


def test_write_off_memo_not_fully_applied_or_lines_not_reduced_exactly(seed003: Books) -> None:
    memo = write_off(seed003, "INV00000001", "2026-11-05")
    assert seed003.check("2026-11").passed, failing(seed003.check("2026-11"))
    with raw(seed003) as conn:
        first = (
            conn.execute(text("SELECT id FROM document_items WHERE document_number = :m ORDER BY line_no"), {"m": memo})
            .scalars()
            .all()
        )
        conn.execute(
            text("UPDATE document_items SET balance = :b WHERE id = :i"), {"b": money(conn, Decimal(5)), "i": first[0]}
        )
        conn.execute(
            text("UPDATE document_items SET amount = amount + :b WHERE id = :i"),
            {"b": money(conn, Decimal(1)), "i": first[1]},
        )
    found = failing(seed003.check("2026-11"))
    assert found["write-offs"] == [
        f"{memo}|items[{first[0]}]|the write-off line still has 5.00 USD unapplied (not fully applied)",
        f"{memo}|items[{first[1]}]|applied 100.00 USD to the lines it mirrors (II-0002), but the write-off line is "
        "101.00 USD",
    ]


def test_reversal_that_does_not_mirror_its_original(seed003: Books) -> None:
    result = seed003.reverse_invoice("INV00000001", {"memoDate": "2026-11-05", "applyEffectiveDate": "2026-11-05"})
    assert result.credit_memo is not None
    memo = result.credit_memo.number
    assert seed003.check("2026-11").passed, failing(seed003.check("2026-11"))
    with raw(seed003) as conn:
        line = (
            conn.execute(text("SELECT id FROM document_items WHERE document_number = :m ORDER BY line_no"), {"m": memo})
            .scalars()
            .first()
        )
        conn.execute(text("UPDATE document_items SET revenue_code = 'Sales Revenue' WHERE id = :i"), {"i": line})
    found = failing(seed003.check("2026-11"))
    assert found["reversals"] == [
        f"{memo}|Deferred Revenue|the reversal carries 100.00 USD on revenue code 'Deferred Revenue', the reversed "
        "document INV00000001 430.00 USD",
        f"{memo}|Sales Revenue|the reversal carries 330.00 USD on revenue code 'Sales Revenue', the reversed "
        "document INV00000001 0.00 USD",
    ]


def test_closed_period_changed_misdated_entry_and_period_order(seed003: Books, tmp_path: Any) -> None:
    for name in [*EARLIER, "2026-10"]:
        seed003.close_period(name)
    assert seed003.check().passed, failing(seed003.check())
    five = Decimal("5.00")
    with raw(seed003) as conn:
        post_entry(
            conn, "2026-10-30", "2026-10", [Line("Cash", five, Decimal(0)), Line("Other Revenue", Decimal(0), five)]
        )
        post_entry(
            conn, "2026-11-03", "2026-10", [Line("Cash", five, Decimal(0)), Line("Other Revenue", Decimal(0), five)]
        )
        conn.execute(text("UPDATE periods SET status = 'Open' WHERE name = '2026-05'"))
    found = failing(seed003.check())
    assert found["closed-periods"] == [
        *(f"2026-{m:02d}|status|is Closed but the earlier period 2026-05 is Open" for m in range(6, 11)),
        "A00000001-6|period|dated 2026-11-03 (period 2026-11) but posted in 2026-10",
        "2026-10|fingerprint|the journal of this closed period changed since it closed (fingerprint mismatch)",
    ]
    assert any(
        "Transaction dated 2026-10-30 is posted into closed accounting period" in p
        or "Closed accounting period 2026-10 was altered" in p
        for p in found["beancount"]
    )
    assert "hash-chain" not in found


def test_hash_chain_head_moved(seed003: Books) -> None:
    with raw(seed003) as conn:
        conn.execute(text("UPDATE customer_accounts SET last_entry_seq = 7 WHERE account_number = 'A00000001'"))
    found = failing(seed003.check())
    assert found == {
        "hash-chain": [
            "A00000001|lastEntryHash|the account's chain head is entry 7 but its journal ends at entry 4 or with "
            "another hash"
        ]
    }


def test_check_cli_table_json_and_exit_status(seed003: Books, cli: Any) -> None:
    url = db_url(seed003)
    ok = cli("check", "--period", "2026-10", db=url)
    assert ok.code == 0
    assert "All checks pass." in ok.out
    with raw(seed003) as conn:
        conn.execute(text("UPDATE documents SET status = 'Draft' WHERE number = 'INV00000002'"))
    bad = cli("check", "--json", db=url)
    assert bad.code == 1
    report = json.loads(bad.out)
    assert report["passed"] is False
    # a draft leaves the subledger, so the control accounts and the ledger's assertions disagree too
    assert [c["name"] for c in report["checks"] if not c["passed"]] == ["no-drafts", "control-accounts", "beancount"]
    table = cli("check", db=url)
    assert table.code == 1
    assert f"3 of {len(NAMES)} checks fail." in table.out
    missing = cli("check", "--period", "1999-01", db=url)
    assert (missing.code, missing.err.strip()) == (1, "error: period: no accounting period 1999-01")


def test_check_csv_and_tsv_are_only_the_table(seed003: Books, cli: Any) -> None:
    """A script reading ``check --format csv`` gets one row per check; the summary line goes to stderr."""
    url = db_url(seed003)
    with raw(seed003) as conn:
        conn.execute(text("UPDATE documents SET status = 'Draft' WHERE number = 'INV00000002'"))
    for fmt, sep in (("csv", ","), ("tsv", "\t")):
        done = cli("check", "--format", fmt, db=url)
        assert done.code == 1
        rows = list(csv.reader(io.StringIO(done.out), delimiter=sep))
        assert rows[0] == ["", "check", "problems", "first problems"]
        assert [row[:3] for row in rows[1:5]] == [
            ["ok", "Every journal entry balances per currency", "0"],
            ["ok", "The trial balance nets to zero", "0"],
            ["ok", "Every line's accounting code is in the chart and active", "0"],
            ["FAIL", "No draft documents or unprocessed payments", "1"],
        ]
        assert (
            rows[4][3] == "INV00000002, status: draft invoice dated 2026-10-05 must be posted or canceled before close"
        )
        assert len(rows) == len(NAMES) + 1
        assert {len(row) for row in rows} == {4}
        assert done.err.strip() == f"3 of {len(NAMES)} checks fail."


def test_skip_leaves_a_check_out(seed003: Books, cli: Any) -> None:
    report = seed003.check(skip=["beancount", "hash-chain"])
    assert [c.name for c in report.checks] == NAMES[:-2]
    out = cli("check", "--skip", "beancount", "--json", db=db_url(seed003))
    assert out.code == 0
    assert "beancount" not in [c["name"] for c in out.json()["checks"]]


def test_an_unknown_check_to_skip_is_a_usage_error_naming_the_checks(seed003: Books, cli: Any) -> None:
    """A mistyped check name is a mistake on the command line (exit 2, like any bad option value), not the books
    refusing: the line names the checks there are."""
    before = dump(seed003.engine)
    names = ", ".join(NAMES)
    said = cli("check", "--skip", "hash-chain", "--skip", "nope", db=db_url(seed003))
    assert (said.code, said.out) == (2, "")
    assert said.err == (f"error: Invalid value for '--skip': no close check 'nope'; choose from {names} (see --help)\n")
    as_json = cli("check", "--skip", "nope", "--json", db=db_url(seed003))
    assert as_json.code == 2
    assert as_json.json()["reasons"][0]["code"] == "usage"
    assert dump(seed003.engine) == before


# --- the journal pass, the set-based ledger rules and the one-period load ---------------------------------------


def test_period_ledger_opens_with_journal_balances_and_loads(seed003: Books, tmp_path: Any) -> None:
    """``check --period`` writes the period's ledger (opening balances from the journal, then the period as the
    full export writes it) and loads it with Beancount: here November, after a reversal posted in it."""
    seed003.reverse_invoice("INV00000001", {"memoDate": "2026-11-05", "applyEffectiveDate": "2026-11-05"})
    with seed003.engine.connect() as conn:
        main = export_period(conn, tmp_path / "one", "2026-11")[0]
    export = seed003.export_beancount(tmp_path / "all")
    assert (tmp_path / "one/opening.beancount").read_text() == (
        "; Journal balances carried into 2026-11 (every entry dated before 2026-11-01)\n\n"
        '2026-10-31 * "Opening balances" "Journal balances at the start of 2026-11"\n'
        f"  {'Assets:AccountsReceivable':<50} {'710.00':>16} USD\n"
        f"  {'Assets:Cash':<50} {'150.00':>16} USD\n"
        f"  {'Liabilities:DeferredRevenue':<50} {'-860.00':>16} USD\n"
    )
    period_file = "periods/2026-11.beancount"
    assert (tmp_path / "one" / period_file).read_bytes() == (export[0].parent / period_file).read_bytes()
    assert 'include "opening.beancount"' in main.read_text()
    report = seed003.check("2026-11")
    assert report.passed, failing(report)
    # the assertion at the end of November (280.00 USD receivable) holds only with October carried in
    assert "2026-12-01 balance Assets:AccountsReceivable" in (tmp_path / "one" / period_file).read_text()


def test_whole_book_ledger_rules_name_what_bean_check_would(seed003: Books, tmp_path: Any, cli: Any) -> None:
    """Without a period the Beancount check is set-based; it reports what bean-check reports on the export."""
    with raw(seed003) as conn:
        conn.execute(text("UPDATE document_items SET amount = amount * 2 WHERE id = 'II-0001'"))
    found = failing(seed003.check())
    assert found["beancount"] == [
        "periods/2026-10.beancount|Accounts Receivable|Balance failed for 'Assets:AccountsReceivable': expected "
        "1040.00 USD != accumulated 710.00 USD (330.00 too little) on 2026-11-01"
    ]
    main = seed003.export_beancount(tmp_path / "ledger")[0]
    _, errors, _ = loader.load_file(str(main))
    assert [" ".join(str(e.message).split()) for e in errors] == [
        "Balance failed for 'Assets:AccountsReceivable': expected 1040.00 USD != accumulated 710.00 USD "
        "(330.00 too little)"
    ]
    loaded = failing(seed003.check("2026-10"))["beancount"]
    assert len(loaded) == 1
    assert "Balance failed for 'Assets:AccountsReceivable'" in loaded[0]
    assert cli("check", "--period", "2026-10", db=db_url(seed003)).code == 1


def test_currency_the_account_does_not_allow(seed003: Books, tmp_path: Any) -> None:
    with raw(seed003) as conn:
        conn.execute(text("UPDATE accounting_codes SET currencies = 'EUR' WHERE name = 'Deferred Revenue'"))
    found = failing(seed003.check())
    assert list(found) == ["beancount"]
    assert found["beancount"] == [
        "A00000001|Deferred Revenue|Invalid currency USD for account 'Liabilities:DeferredRevenue' (4 postings)"
    ]
    main = seed003.export_beancount(tmp_path / "ledger")[0]
    _, errors, _ = loader.load_file(str(main))
    assert errors
    assert all("Invalid currency USD for account 'Liabilities:DeferredRevenue'" in e.message for e in errors)
    assert any("Invalid currency USD" in p for p in failing(seed003.check("2026-10"))["beancount"])


def test_entry_in_a_currency_the_sql_does_not_format_still_chains(seed003: Books) -> None:
    """Lines in a currency outside the chart and the accounts are hashed in Python; the chain still verifies,
    while the ledger rules and the trial balance name what is wrong."""
    with raw(seed003) as conn:
        entry = Entry(
            "A00000001",
            dt.date(2026, 10, 30),
            TransactionType.EXTERNAL_PAYMENT,
            "JPY",
            "HAND-1",
            Tag.PAYMENT,
            "by hand",
            (Line("Cash", Decimal(500), Decimal(0)), Line("Other Revenue", Decimal(0), Decimal(500))),
        )
        post(conn, [entry], [("2026-10", entry.date)], operation_id(conn))
    found = failing(seed003.check())
    assert "hash-chain" not in found
    assert "entries-balanced" not in found
    assert found["beancount"] == [
        "A00000001|Cash|Invalid currency JPY for account 'Assets:Cash' (1 postings)",
        "A00000001|Other Revenue|Invalid currency JPY for account 'Income:OtherRevenue' (1 postings)",
    ]
    with raw(seed003) as conn:
        conn.execute(text("UPDATE customer_accounts SET last_entry_hash = 'x' WHERE account_number = 'A00000001'"))
    assert failing(seed003.check())["hash-chain"] == [
        "A00000001|lastEntryHash|the account's chain head is entry 5 but its journal ends at entry 5 or with "
        "another hash"
    ]


def test_the_chain_does_not_depend_on_the_order_the_database_aggregates_lines_in(
    seed003: Books, monkeypatch: Any
) -> None:
    """The pass concatenates each entry's lines in the order the join gives them, without sorting them: were that
    order ever another, the entries whose hash did not recompute are hashed again from their lines in line order,
    and only a real alteration is reported."""
    read = cursor.driver_rows
    reordered: list[str] = []

    at = -1 - len(HASHED_COLUMNS)  # the lines' text, before the entry's other hashed fields

    def lines_reversed(*args: Any, **kwargs: Any) -> Iterator[tuple[Any, ...]]:
        for row in read(*args, **kwargs):
            lines = row[at].split("\x1f") if isinstance(row[at], str) else []
            if len(lines) > 1:
                reordered.append(f"{row[0]}-{row[1]}")
                yield (*row[:at], "\x1f".join(reversed(lines)), *row[at + 1 :])
            else:
                yield row

    monkeypatch.setattr(cursor, "driver_rows", lines_reversed)
    report = seed003.check()
    assert reordered
    assert report.passed, failing(report)
    with raw(seed003) as conn, unguarded(conn, LINE_UPDATES):
        conn.execute(text("UPDATE journal_lines SET item_id = 'tampered' WHERE entry_seq = 2 AND line_no = 1"))
    assert [p for p in failing(seed003.check())["hash-chain"] if "|hash|" in p] == [
        "A00000001-2|hash|its content no longer matches its hash (altered)"
    ]


def test_fingerprint_built_in_sql_equals_the_plugins(seed003: Books) -> None:
    """The database builds and sorts the posting lines; they must be ``posting_text``'s, whatever the amount."""
    seed003.reverse_invoice("INV00000001", {"memoDate": "2026-10-20", "applyEffectiveDate": "2026-10-20"})
    with raw(seed003) as conn:
        post_entry(
            conn,
            "2026-10-31",
            "2026-10",
            [Line("Cash", Decimal("1000.00"), Decimal(0)), Line("Other Revenue", Decimal(0), Decimal("1000.00"))],
        )
    with seed003.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.entry_date, e.account_number, e.seq, c.account, l.debit, l.credit, l.currency FROM "
                "journal_entries e JOIN journal_lines l ON l.account_number = e.account_number AND "
                "l.entry_seq = e.seq JOIN accounting_codes c ON c.name = l.accounting_code"
            )
        ).all()
        lines = [
            posting_text(
                dt.date.fromisoformat(str(day)),
                f"{account}-{seq}",
                name,
                stored_money(conn, d) - stored_money(conn, c),
                cur,
            )
            for day, account, seq, name, d, c, cur in rows
        ]
        assert any("|1000|" in line for line in lines)
        assert any("|-" in line for line in lines)
        start, end = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
        assert period_fingerprint(conn, start, end) == fingerprint(lines)
