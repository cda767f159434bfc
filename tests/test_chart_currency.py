"""A currency is added to the book with one line of the chart: ``option "operating_currency" "JPY"``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import dump, example
from subledger.api import DEFAULT_CHART, Books
from subledger.chart import load_chart
from subledger.errors import Problems


def yen(value: Any) -> Any:
    """The seed's documents in yen: USD becomes JPY, and amounts lose their (zero) cents."""
    if isinstance(value, dict):
        return {k: yen(v) for k, v in value.items()}
    if isinstance(value, list):
        return [yen(v) for v in value]
    if value == "USD":
        return "JPY"
    if isinstance(value, str) and re.fullmatch(r"-?\d+\.00", value):
        return value[:-3]
    return value


def test_one_line_adds_yen_to_every_code(tmp_path: Path, cli: Any) -> None:
    chart = tmp_path / "chart"
    shutil.copytree(DEFAULT_CHART, chart)
    before = load_chart(chart)
    assert all("JPY" not in code.currencies for code in before.codes.values())
    main = chart / "chart.beancount"
    main.write_text(
        main.read_text().replace(
            'option "operating_currency" "GBP"\n',
            'option "operating_currency" "GBP"\noption "operating_currency" "JPY"\n',
        )
    )
    after = load_chart(chart)
    assert {name: code.currencies for name, code in after.codes.items()} == {
        name: (*code.currencies, "JPY") for name, code in before.codes.items()
    }

    url = f"sqlite:///{tmp_path / 'yen.db'}"
    assert cli("init", "--chart", str(chart), db=url).code == 0
    books = tmp_path / "yen.json"
    books.write_text(json.dumps(yen(json.loads(example("seed-003-books.json").read_text()))))
    loaded = cli("load", str(books), db=url)
    assert loaded.code == 0, loaded.err
    shown = cli("show", "invoice", "INV00000002", "--json", db=url).json()
    assert (shown["currency"], shown["balance"]) == ("JPY", "280")
    assert cli("export", "beancount", "--out", str(tmp_path / "ledger"), db=url).code == 0
    accounts = (tmp_path / "ledger" / "accounts.beancount").read_text()
    assert "open Assets:AccountsReceivable USD,EUR,GBP,JPY" in re.sub(r" +", " ", accounts)
    assert Books(url).check().passed


def test_the_journal_of_a_yen_book_leaves_the_side_a_line_does_not_post_blank(tmp_path: Path, cli: Any) -> None:
    """``subledger journal`` blanked a line's zero side only when it read "0.00": a yen line showed a credit of
    "0" (a dinar line "0.000") where a dollar line shows nothing, in the table and in --format csv."""
    chart = tmp_path / "chart"
    shutil.copytree(DEFAULT_CHART, chart)
    main = chart / "chart.beancount"
    main.write_text(main.read_text().replace('"GBP"\n', '"GBP"\noption "operating_currency" "JPY"\n'))
    url = f"sqlite:///{tmp_path / 'yen.db'}"
    assert cli("init", "--chart", str(chart), db=url).code == 0
    books = tmp_path / "yen.json"
    books.write_text(json.dumps(yen(json.loads(example("seed-003-books.json").read_text()))))
    assert cli("load", str(books), db=url).code == 0
    out = cli("journal", "--document", "INV00000001", "--format", "csv", db=url)
    assert out.code == 0, out.err
    assert [row.split(",")[3:7] for row in out.out.splitlines()] == [
        ["code", "debit", "credit", "cur"],
        ["Accounts Receivable", "330", "", "JPY"],
        ["Deferred Revenue", "", "330", "JPY"],
        ["Accounts Receivable", "100", "", "JPY"],
        ["Deferred Revenue", "", "100", "JPY"],
    ]


def test_an_open_listing_currencies_keeps_them(tmp_path: Path) -> None:
    (tmp_path / "chart.beancount").write_text(
        'option "operating_currency" "USD"\noption "operating_currency" "JPY"\n'
        '1970-01-01 open Assets:Cash EUR\n  name: "Cash"\n  number: "1000"\n  type: "Cash"\n'
        '1970-01-01 open Assets:AR\n  name: "AR"\n  number: "1200"\n  type: "AccountsReceivable"\n'
    )
    chart = load_chart(tmp_path)
    assert chart.codes["Cash"].currencies == ("EUR",)
    assert chart.codes["AR"].currencies == ("USD", "JPY")


def test_a_chart_cannot_drop_a_currency_the_journal_posts_in(seed003: Books, tmp_path: Path) -> None:
    """The seed posts in USD: a chart without USD would leave the book's ledger with postings its accounts refuse,
    and no period holding one could close. ``init`` refuses it, naming each code, and changes nothing."""
    chart = tmp_path / "chart"
    shutil.copytree(DEFAULT_CHART, chart)
    main = chart / "chart.beancount"
    main.write_text(main.read_text().replace('option "operating_currency" "USD"\n', ""))
    before = dump(seed003.engine)["accounting_codes"]
    with pytest.raises(Problems) as refused:
        seed003.init(chart=chart)
    assert [str(p) for p in refused.value.problems] == [
        "Accounts Receivable, currencies: 6 journal lines post USD to it; the chart must keep USD in its currencies",
        "Cash, currencies: 1 journal line posts USD to it; the chart must keep USD in its currencies",
        "Deferred Revenue, currencies: 4 journal lines post USD to it; the chart must keep USD in its currencies",
        "Unapplied Payments, currencies: 3 journal lines post USD to it; the chart must keep USD in its currencies",
    ]
    assert dump(seed003.engine)["accounting_codes"] == before
    assert seed003.check().passed


def test_a_chart_cannot_rename_the_account_of_a_code_closed_periods_post_to(seed003: Books, tmp_path: Path) -> None:
    """A closed period's fingerprint covers the ledger accounts its lines post to: renaming one after the close
    made every check say the closed period's journal had changed (as if tampered with), for good. ``init`` refuses
    the rename while a closed period posts to the code; with the period open it is an edit like any other."""
    chart = tmp_path / "chart"
    shutil.copytree(DEFAULT_CHART, chart)
    main = chart / "chart.beancount"
    main.write_text(
        main.read_text().replace("open Liabilities:DeferredRevenue\n", "open Liabilities:Deferred:Revenue\n")
    )
    seed003.close_periods_through("2026-10")
    before = dump(seed003.engine)["accounting_codes"]
    with pytest.raises(Problems) as refused:
        seed003.init(chart=chart)
    assert [str(p) for p in refused.value.problems] == [
        "Deferred Revenue, account: the chart renames its account Liabilities:DeferredRevenue to "
        "Liabilities:Deferred:Revenue, but closed period 2026-10 posts to it (a closed period's fingerprint covers "
        "its accounts); keep the account's name"
    ]
    assert dump(seed003.engine)["accounting_codes"] == before
    assert seed003.check().passed
    seed003.reopen_period("2026-10", "rename an account")
    seed003.init(chart=chart)
    seed003.close_period("2026-10")
    assert seed003.check().passed
