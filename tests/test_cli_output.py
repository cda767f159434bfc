"""What the command prints: one vocabulary under --json, output schemas, tables for people and for scripts."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import command_paths, db_url, example
from subledger.api import Books
from subledger.cli.common import render_table

COMMON = {"success", "operation", "operationId", "replayed", "documentNumber", "documentKind"}


def test_one_vocabulary_across_operations(cli: Any, line_level: Books) -> None:
    url = db_url(line_level)
    wrote = cli("invoice", "write-off", "INV00000010", "--memo-date", "2026-11-16", "--json", db=url).json()
    assert COMMON | {"memoNumber", "memoKind"} <= set(wrote)
    assert (wrote["documentNumber"], wrote["documentKind"], wrote["memoKind"]) == (
        "INV00000010",
        "Invoice",
        "CreditMemo",
    )
    assert wrote["memoNumber"] == wrote["creditMemo"]["number"] == wrote["creditMemo"]["id"] == "WO-INV00000010-1"
    assert wrote["operation"] == "write-off-invoice"
    assert wrote["replayed"] is False
    reversed_ = cli(
        "credit-memo", "reverse", "CM00000001", "--body", str(example("reverse-credit-memo.json")), "--json", db=url
    ).json()
    assert COMMON | {"memoNumber", "memoKind"} <= set(reversed_)
    assert (reversed_["documentNumber"], reversed_["documentKind"], reversed_["memoKind"]) == (
        "CM00000001",
        "CreditMemo",
        "DebitMemo",
    )
    assert reversed_["debitMemo"]["id"] == reversed_["debitMemo"]["number"] == reversed_["memoNumber"]
    assert reversed_["operationId"] == wrote["operationId"] + 1
    memo = cli("debit-memo", "write-off", "DM00000001", "--memo-date", "2026-11-16", "--json", db=url).json()
    assert (memo["documentNumber"], memo["documentKind"], memo["memoKind"]) == ("DM00000001", "DebitMemo", "CreditMemo")


def test_a_replay_says_so_and_a_refused_replay_is_an_error(cli: Any, line_level: Books) -> None:
    url = db_url(line_level)
    args = ("debit-memo", "write-off", "DM00000001", "--memo-date", "2026-11-16", "--idempotency-key", "wo-1")
    first = cli(*args, db=url)
    assert first.code == 0, first.err
    assert "replay" not in first.out
    again = cli(*args, db=url)
    assert again.code == 0
    assert "(a replay of operation " in again.out.splitlines()[0]
    assert "nothing posted again" in again.out
    assert cli(*args, "--json", db=url).json()["replayed"] is True
    other = cli(
        "debit-memo", "write-off", "DM00000001", "--idempotency-key", "wo-1", "--comment", "x", "--json", db=url
    )
    assert other.code == 1
    reason = json.loads(other.out)["reasons"][0]
    assert reason["code"] == "idempotency-conflict"
    assert reason["field"] == "idempotencyKey"


def test_errors_under_json_are_the_reference_shape(cli: Any, seed003: Books) -> None:
    refused = cli("invoice", "write-off", "NOPE", "--json", db=db_url(seed003))
    assert refused.code == 1
    assert refused.err == ""
    assert json.loads(refused.out) == {
        "success": False,
        "reasons": [
            {"code": "not-found", "message": "NOPE: no invoice NOPE", "document": "NOPE", "rule": "no invoice NOPE"}
        ],
    }
    usage = cli("invoice", "write-off", "--json", db=db_url(seed003))
    assert usage.code == 2
    assert json.loads(usage.out)["reasons"][0]["code"] == "usage"


def test_output_schemas(cli: Any) -> None:
    error = json.loads(cli("schema", "--output", "error").out)
    assert set(error["properties"]) == {"success", "reasons"}
    operation = json.loads(cli("schema", "--output", "operation").out)
    assert {"operationId", "replayed", "documentNumber", "memoNumber"} <= set(operation["properties"])
    write_off = json.loads(cli("schema", "--output", "write-off").out)
    assert "creditMemo" in write_off["properties"]
    unknown = cli("schema", "--output", "nope")
    assert unknown.code == 2
    assert unknown.err.startswith("error: unknown output schema 'nope'")


def test_tables_never_cut_and_csv_for_scripts(cli: Any, seed003: Books, monkeypatch: Any) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    url = db_url(seed003)
    table = cli("journal", "--document", "P00000001", db=url).out.splitlines()
    assert table[0].split() == [
        "date", "entry", "type", "code", "debit", "credit", "cur", "item", "documents", "description",
    ]  # fmt: skip
    assert "Payment P00000001 applied to invoice INV00000002" in table[4]
    assert "2026-10-20" in table[2]
    assert "…" not in "\n".join(table)
    rows = list(csv.reader(io.StringIO(cli("--format", "csv", "period", "list", db=url).out)))
    assert rows[0] == ["period", "start", "end", "FY", "Q", "status", "entries", "fingerprint"]
    assert rows[1][:6] == ["2026-01", "2026-01-01", "2026-01-31", "2026", "1", "Open"]
    tsv = cli("period", "list", "--format", "tsv", db=url).out.splitlines()
    assert tsv[1].split("\t")[0] == "2026-01"
    bad = cli("period", "list", "--format", "xml", db=url)
    assert bad.code == 2


def test_format_goes_after_the_subcommand_of_every_command_that_prints_a_table(cli: Any, seed003: Books) -> None:
    """The README: ``--format`` goes before or after the subcommand. ``show``, ``load``, ``adjustment create`` and
    the actor commands print tables but refused it after ("No such option: --format")."""
    url = db_url(seed003)
    shown = cli("show", "invoice", "INV00000002", "--format", "csv", db=url)
    assert shown.code == 0, shown.err
    rows = list(csv.reader(io.StringIO(shown.out)))
    assert rows[0] == ["line", "kind", "name", "amount", "balance"]
    assert rows[-1] == ["total", "", "", "430.00", "280.00"]
    again = cli("load", str(example("seed-003-books.json")), "--format", "tsv", db=url)
    assert again.code == 0, again.err
    # Every command whose code prints a table takes the option after it.
    from typer.main import get_command

    from subledger.cli import app

    printers = _table_printers()
    assert {("subledger.cli.books", "show"), ("subledger.cli.books", "load")} <= printers
    command = get_command(app)
    for path in sorted(command_paths()):
        leaf: Any = command
        for word in path:
            leaf = leaf.commands[word]
        if (leaf.callback.__module__, leaf.callback.__name__) in printers:
            assert "--format" in [o for p in leaf.params for o in p.opts], path


def _table_printers() -> set[tuple[str, str]]:
    """The CLI's command functions that print a table (``print_table`` or the list helper): (module, name)."""
    import ast
    from pathlib import Path

    import subledger.cli

    found: set[tuple[str, str]] = set()
    for path in Path(subledger.cli.__file__).parent.glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and getattr(d.func, "id", "") == "register" for d in node.decorator_list
            ):
                text = ast.unparse(node)
                if "print_table(" in text or "_show(" in text:
                    found.add((f"subledger.cli.{path.stem}", node.name))
    return found


def test_journal_by_tag(cli: Any, seed003: Books) -> None:
    url = db_url(seed003)
    assert cli("invoice", "write-off", "INV00000001", "--memo-date", "2026-11-16", db=url).code == 0
    everything = cli("journal", "--json", db=url).json()
    tags = {e["tag"] for e in everything}
    assert len(tags) > 1
    for tag in tags:
        tagged = cli("journal", "--tag", tag, "--json", db=url).json()
        assert tagged == [e for e in everything if e["tag"] == tag]


def test_help_shows_no_python_types(cli: Any) -> None:
    """Every command's help names values (--db URL, NUMBER, table|csv|tsv), never Python types (<str>, <bool>),
    and keeps what it says in braces and brackets (no markup swallowed)."""

    for path in sorted(command_paths()):
        shown = cli(*path, "--help")
        assert shown.code == 0, path
        assert not re.search(r"<(str|bool|int|path|list\[str\]|float)>", shown.out), (path, shown.out)
        assert "{NUMBER}" not in shown.out
    bulk = " ".join(cli("write-off", "--help").out.split())
    assert '{"documents": [NUMBER, ...]}' in bulk


def test_a_groups_help_names_every_command_it_has() -> None:
    """A group whose help lists what it does (``Accounting periods: list, close, reopen.``) lists every command of
    it: ``period`` left out ``show`` and ``pending-close``, so a newcomer reading ``subledger --help`` missed them."""
    from typer.main import get_command

    from subledger.cli import app

    groups = get_command(app).commands  # type: ignore[attr-defined]
    listed = 0
    for name, group in groups.items():
        said = " ".join((group.help or "").split())
        if not hasattr(group, "commands") or not re.fullmatch(r"[^:]+: [a-z ,-]+\.", said):
            continue
        listed += 1
        verbs = said.split(": ", 1)[1].replace("-", " ")
        for command in group.commands:
            assert command.replace("-", " ").removesuffix("s") in verbs, (name, command, said)
    assert listed >= 9


def test_check_of_a_period_writes_nothing_as_its_help_says(
    cli: Any, seed003: Books, tmp_path: Path, monkeypatch: Any
) -> None:
    """``check --period`` said it "also writes that period's ledger": it builds it in memory and writes nothing."""
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    assert cli("check", "--period", "2026-10", db=db_url(seed003)).code == 0
    assert list(here.iterdir()) == []
    said = " ".join(cli("check", "--help").out.split())
    assert "writes that period" not in said
    assert "in memory (nothing is written)" in said


def test_a_reader_that_goes_away_ends_the_output_quietly(seed003: Books) -> None:
    """``subledger list invoices | head`` with the reader gone: typer turned the broken pipe into exit status 1 (as if
    refused) before ``cli.run`` could end quietly, and the usage of a group without its command (``subledger list |
    head``) ended in a traceback. The output just ends: exit 0 (2 for the usage: the command line was wrong)."""
    environment = {**os.environ, "SUBLEDGER_DB": db_url(seed003)}
    command = [sys.executable, "-c", "from subledger.cli import main; main()"]
    cases = [
        (["list", "invoices"], 0),
        (["journal", "--json"], 0),
        (["schema"], 0),
        (["--help"], 0),
        (["list", "invoices", "--help"], 0),
        (["list"], 2),
    ]
    for args, code in cases:
        read, write = os.pipe()
        os.close(read)  # the reader has gone before the first line
        try:
            done = subprocess.run(
                [*command, *args], stdout=write, stderr=subprocess.PIPE, env=environment, text=True, check=False
            )
        finally:
            os.close(write)
        assert (done.returncode, done.stderr) == (code, ""), args


class _FullDisk(io.StringIO):
    """stdout redirected to a file on a full disk."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_output_to_a_full_disk_is_one_line_that_does_not_say_run_it_again(
    cli: Any, seed003: Books, monkeypatch: Any
) -> None:
    """``subledger journal --json > out.json`` on a full disk ended in a traceback (the JSON error went to the same
    full stdout); a write-off whose result could not be printed, done and recorded, was told "free some space and run
    it again"."""
    url = db_url(seed003)
    commands = [
        ("period", "list"),
        ("journal", "--json"),
        ("invoice", "write-off", "INV00000001", "--memo-date", "2026-11-16"),
    ]
    captured = sys.stdout
    for command in commands:
        monkeypatch.setattr(sys, "stdout", _FullDisk())  # each run is a process of its own, its stdout on the disk
        said = cli(*command, db=url)
        assert said.code == 1, (command, said)
        assert said.err.startswith("error: the disk is full: the output could not be written"), (command, said)
        assert said.err.count("\n") == 1, (command, said)
        assert "run it again" not in said.err
    monkeypatch.setattr(sys, "stdout", captured)
    assert cli("audit", "--outcome", "accepted", "--json", db=url).json()[-1]["kind"] == "write-off-invoice"


def test_journal_by_the_tag_its_help_names(cli: Any, seed003: Books) -> None:
    """``journal --help`` named the tag ``writeoff``, but the entries carry ``write-off`` (as the Beancount ledger
    spells it), so ``journal --tag writeoff`` printed nothing, as if the book had no write-off. Both spellings (and
    ``#write-off``) now find the write-off's two entries."""
    url = db_url(seed003)
    assert cli("invoice", "write-off", "INV00000001", "--memo-date", "2026-11-16", db=url).code == 0
    assert "write-off" in cli("journal", "--help").out
    found = {
        tag: cli("journal", "--tag", tag, "--json", db=url).json() for tag in ("writeoff", "write-off", "#write-off")
    }
    assert [len(entries) for entries in found.values()] == [2, 2, 2]
    assert found["writeoff"] == found["write-off"] == found["#write-off"]
    assert {e["tag"] for e in found["writeoff"]} == {"write-off"}


def test_a_tag_no_entry_can_carry_is_a_usage_error_naming_the_tags(cli: Any, seed003: Books) -> None:
    """``journal --tag writeof`` (a typo) printed an empty journal and exit 0, as if the book had no write-off; it is
    a mistake on the command line now, naming every tag an entry can carry (refund and recovery included)."""
    url = db_url(seed003)
    refused = cli("journal", "--tag", "writeof", db=url)
    assert (refused.code, refused.out) == (2, "")
    assert refused.err == (
        "error: Invalid value for '--tag': no tag 'writeof'; choose from invoice, debit-memo, credit-memo, payment, "
        "application, write-off, reversal, adjustment, refund, recovery (see --help)\n"
    )
    assert cli("journal", "--tag", "refund", "--json", db=url).json() == []


#: Free text a billing system may send (the load takes any text but NUL): a carriage return and an escape sequence
#: that erase the row on a terminal, a bell, a tab, a right-to-left override that reverses the amounts after it.
SPOOF = "Good name\r\x1b[2K\x07Other\tname \u202e00.01"


def test_free_text_cannot_drive_the_terminal_through_a_table(cli: Any, books: Books) -> None:
    """A customer name or a charge name is printed in the aligned table as the row's text, on one line: what a
    terminal would act on is replaced (U+FFFD), and csv keeps the text exactly. Before, ``show`` and ``report
    aging`` wrote the carriage return and the escape sequence through, and the terminal printed the row's end over
    its start ("spoofed" amounts, a hidden invoice line); csv wrote the carriage return unquoted, so that a reader
    split the row there."""
    item = {"id": "II-S1", "chargeName": SPOOF, "chargeAmount": "10.00",
            "financeInformation": {"deferredRevenueAccountingCode": "Deferred Revenue"}}  # fmt: skip
    books.load(
        {
            "accounts": [{"accountNumber": "A-S1", "name": SPOOF, "currency": "USD"}],
            "invoices": [{"invoiceNumber": "INV-S1", "accountNumber": "A-S1", "invoiceDate": "2026-10-05",
                          "currency": "USD", "items": [item]}],
        }
    )  # fmt: skip
    url = db_url(books)
    shown = "Good name; \ufffd[2K\ufffdOther name \ufffd00.01"
    for args in (("show", "invoice", "INV-S1"), ("report", "aging", "--as-of", "2026-10-31")):
        result = cli(*args, db=url)
        assert result.code == 0
        assert not {"\r", "\x1b", "\x07", "\t", "\u202e"} & set(result.out), args
        row = next(line for line in result.out.splitlines() if shown in line)
        assert "10.00" in row
    rows = list(csv.reader(io.StringIO(cli("show", "invoice", "INV-S1", "--format", "csv", db=url).out, newline="")))
    assert len(rows) == 3  # the header, the line and the total: the carriage return is quoted, not a row's end
    # Off a terminal, click drops the escape sequence itself; the rest is the text as it was loaded.
    assert rows[1][2] == SPOOF.replace("\x1b[2K", "")
    assert "\x1b" not in render_table(["name"], [[SPOOF]], fmt="table")
