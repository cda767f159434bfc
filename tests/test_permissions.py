"""Permissions: the book holds its actors and their permissions; an actor without a permission is refused, and the
refusal writes nothing but its audit record (both engines). Only an actor holding Manage Actors changes them, no
file or environment variable widens them, and setting up an existing book again needs Set Up Books."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text

from conftest import db_url, dump, example, set_period_status
from subledger.api import DEFAULT_CHART, Books
from subledger.errors import PermissionDenied, Problems, RuleViolation, SubledgerError
from subledger.operations.actors import ActorView
from subledger.permissions import ALL_PERMISSIONS
from subledger.storage import migrate
from subledger.storage.db import write_transaction

ACTORS = """
[actors.clerk]
permissions = []

[actors.closer]
permissions = ["Manage Close Process"]
"""


@pytest.fixture
def actors(books: Books, tmp_path: Path) -> Path:
    """An actors file with ``clerk`` (no permission), ``closer`` and one ``no-X`` actor per permission X (all
    permissions but X)."""
    path = tmp_path / "actors.toml"
    body = ACTORS
    for permission in sorted(ALL_PERMISSIONS):
        others = ", ".join(f'"{p}"' for p in sorted(ALL_PERMISSIONS - {permission}))
        body += f'\n[actors."{without(permission)}"]\npermissions = [{others}]\n'
    path.write_text(body)
    books.import_actors(path)
    return path


def without(permission: str) -> str:
    return "no-" + permission.lower().replace(" ", "-")


def refusals(books: Books) -> list[tuple[str, str, str]]:
    with books.engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, kind, error_code FROM audit_refusals ORDER BY id")).all()
    return [tuple(r) for r in rows]


#: Each permission and an operation that needs it: (Books method, its arguments), tried on the seed 003 book.
#: An operation whose method has not landed yet is skipped.
NEEDS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "Reverse Invoice": ("reverse_invoice", ("INV00000001",)),
    "Reverse Credit Memo": ("reverse_credit_memo", ("CM00000001",)),
    "Enhanced Write-off": (
        "write_off_invoice",
        (
            "INV00000001",
            {"memoDate": "2026-10-28", "items": [{"invoiceItemId": "II-0001", "amountWithoutTax": "10.00"}]},
        ),
    ),
    "Manage Close Process": ("pending_close", ("2026-01",)),
    "Reopen Accounting Period": ("reopen_period", ("2026-01", "a late invoice")),
    "Transfer to Accounting": ("export_gl", ("2026-10", Path("/nonexistent/gl"))),
    "Refund Credit Memo": ("refund_credit_memo", ("CM00000001", {"totalAmount": "1.00", "refundDate": "2026-10-28"})),
    "Recover Write-off": ("recover_invoice_write_off", ("WO-INV00000001-1", {"memoDate": "2026-10-28"})),
    "Unapply Payment": (
        "unapply_payment",
        ("P00000001", {"effectiveDate": "2026-10-28", "invoices": [{"invoiceNumber": "INV00000001", "amount": "1"}]}),
    ),
    "Manage Actors": ("grant", ("mallory", ["Reverse Invoice"])),
    "Set Up Books": ("init", ()),
}


def test_every_permission_is_tried() -> None:
    assert set(NEEDS) == ALL_PERMISSIONS


@pytest.mark.parametrize("permission", sorted(NEEDS))
def test_operation_without_its_permission_is_refused_and_writes_nothing(
    seed003: Books, actors: Path, permission: str
) -> None:
    method, args = NEEDS[permission]
    actor = without(permission)
    book = seed003.as_actor(actor)
    if not hasattr(book, method):
        pytest.skip(f"Books.{method} has not landed yet")
    before = dump(seed003.engine)
    with pytest.raises(PermissionDenied) as refused:
        getattr(book, method)(*args)
    assert permission in str(refused.value)
    assert f"'{actor}'" in str(refused.value)
    assert dump(seed003.engine) == before
    assert refusals(seed003)[-1][0::2] == (actor, "permission-denied")


def test_pending_close_is_closed_for_actors_without_manage_close_process(books: Books, actors: Path) -> None:
    """seed 003 is dated October 2026; with 2026-10 Pending Close only an actor who manages the close may post."""
    set_period_status(books, "2026-10", "Pending Close")
    before = dump(books.engine)
    # A load reports every problem of the file together (``Problems``), each naming the period.
    with pytest.raises(Problems, match="2026-10, which is Pending Close"):
        books.as_actor("clerk").load(example("seed-003-books.json"))
    assert dump(books.engine) == before
    assert refusals(books) == [("clerk", "load", "invalid-input")]
    result = books.as_actor("closer").load(example("seed-003-books.json"))
    assert result.journal_entries == 4


@pytest.mark.parametrize("how", ["option", "environment"])
def test_cli_actor_option_and_environment(
    books: Books, actors: Path, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    set_period_status(books, "2026-10", "Pending Close")
    db = db_url(books)
    before = dump(books.engine)
    path = str(example("seed-003-books.json"))
    result = (
        cli("load", path, "--actor", "clerk", db=db) if how == "option" else cli("load", path, db=db, actor="clerk")
    )
    assert result.code == 1
    assert result.err.startswith("error: INV00000001, invoiceDate: 2026-10-05 is in accounting period 2026-10")
    assert dump(books.engine) == before
    monkeypatch.delenv("SUBLEDGER_ACTOR", raising=False)
    assert cli("load", path, "--actor", "closer", db=db).code == 0
    assert refusals(books) == [("clerk", "load", "invalid-input")]


def held(books: Books) -> dict[str, list[str]]:
    return {a.name: a.permissions for a in books.actors()}


def operations_of(books: Books, kind: str) -> list[tuple[str, str]]:
    with books.engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, actor FROM operations WHERE kind = :k ORDER BY id"), {"k": kind})
        return [(r.kind, r.actor) for r in rows]


def test_first_init_makes_its_actor_the_administrator(engine: Engine) -> None:
    alice = Books(engine=engine, actor="alice")
    alice.init()
    assert held(alice) == {"alice": sorted(ALL_PERMISSIONS)}
    assert operations_of(alice, "init") == [("init", "alice")]
    with pytest.raises(PermissionDenied, match="unknown actor 'admin'"):
        Books(engine=engine).load(example("seed-003-books.json"))


def test_init_of_an_existing_book_needs_set_up_books_and_is_audited(
    seed003: Books, actors: Path, tmp_path: Path
) -> None:
    """A clerk's edited chart closing Bad Debt Expense would refuse every non-revenue write-off after it."""
    chart = tmp_path / "chart"
    shutil.copytree(DEFAULT_CHART, chart)
    with (chart / "chart.beancount").open("a") as f:
        f.write("\n2026-01-01 close Expenses:BadDebt\n")
    before = dump(seed003.engine)
    with pytest.raises(PermissionDenied, match="'clerk' lacks the Set Up Books permission"):
        seed003.as_actor("clerk").init(chart=chart)
    assert dump(seed003.engine) == before
    assert refusals(seed003)[-1] == ("clerk", "init", "permission-denied")
    seed003.init()  # the administrator, the default chart: nothing changes but the record of it
    assert operations_of(seed003, "init") == [("init", "admin"), ("init", "admin")]


@pytest.mark.parametrize("how", ["api", "option", "environment"])
def test_an_empty_actor_name_is_refused_not_the_administrator(
    seed003: Books, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    before = dump(seed003.engine)
    if how == "api":
        with pytest.raises(PermissionDenied, match="an actor name is required"):
            seed003.as_actor("").reverse_invoice("INV00000001")
    else:
        args = ("invoice", "reverse", "INV00000001")
        result = cli(*args, "--actor", "", db=db_url(seed003)) if how == "option" else None
        if how == "environment":
            monkeypatch.setenv("SUBLEDGER_ACTOR", "")
            result = cli(*args, db=db_url(seed003))
        assert result is not None
        assert result.code == 1
        assert result.err == "error: an actor name is required: an empty name is no one\n"
    assert dump(seed003.engine) == before
    assert refusals(seed003)[-1] == ("", "reverse-invoice", "permission-denied")


def test_no_environment_variable_or_file_widens_permissions(
    seed003: Books, actors: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "mine.toml"
    everything = ", ".join(f'"{p}"' for p in sorted(ALL_PERMISSIONS))
    mine.write_text(f"[actors.clerk]\npermissions = [{everything}]\n")
    monkeypatch.setenv("SUBLEDGER_ACTORS", str(mine))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "actors.toml").write_text(mine.read_text())
    clerk = seed003.as_actor("clerk")
    before = dump(seed003.engine)
    with pytest.raises(PermissionDenied, match="'clerk' lacks the Reverse Invoice permission"):
        clerk.reverse_invoice("INV00000001")
    with pytest.raises(PermissionDenied, match="'clerk' lacks the Manage Actors permission"):
        clerk.import_actors(mine)
    with pytest.raises(PermissionDenied, match="'clerk' lacks the Manage Actors permission"):
        clerk.grant("clerk", ["Reverse Invoice"])
    assert dump(seed003.engine) == before
    assert [r[1] for r in refusals(seed003)[-3:]] == ["reverse-invoice", "actor-import", "actor-grant"]


def test_grant_and_revoke_are_operations_of_an_actor_allowed_to(seed003: Books, actors: Path) -> None:
    assert seed003.grant("clerk", ["Reverse Invoice"]) == ActorView(name="clerk", permissions=["Reverse Invoice"])
    seed003.as_actor("clerk").reverse_invoice("INV00000001")
    assert seed003.revoke("clerk", ["Reverse Invoice"]) == ActorView(name="clerk", permissions=[])
    with pytest.raises(PermissionDenied, match="'clerk' lacks the Reverse Credit Memo permission"):
        seed003.as_actor("clerk").reverse_credit_memo("CM00000001")
    assert [k for k, _ in operations_of(seed003, "actor-grant") + operations_of(seed003, "actor-revoke")] == [
        "actor-grant",
        "actor-revoke",
    ]
    with pytest.raises(RuleViolation, match="unknown permission 'Delete Everything'"):
        seed003.grant("clerk", ["Delete Everything"])


def test_the_administrators_permissions_are_the_books_own(books: Books, tmp_path: Path) -> None:
    """An actors file saying ``admin`` holds nothing is honoured, as long as some actor can still manage actors."""
    path = tmp_path / "actors.toml"
    path.write_text("[actors.admin]\npermissions = []\n")
    before = dump(books.engine)
    with pytest.raises(RuleViolation, match="no actor would hold Manage Actors"):
        books.import_actors(path)
    assert dump(books.engine) == before
    path.write_text('[actors.admin]\npermissions = []\n[actors.boss]\npermissions = ["Manage Actors"]\n')
    books.import_actors(path)
    assert held(books) == {"admin": [], "boss": ["Manage Actors"]}
    with pytest.raises(PermissionDenied, match="'admin' lacks the Manage Close Process permission"):
        books.pending_close("2026-01")
    with pytest.raises(RuleViolation, match="no actor would hold Manage Actors"):
        books.as_actor("boss").revoke("boss", ["Manage Actors"])


def test_bad_actors_file(books: Books, tmp_path: Path) -> None:
    path = tmp_path / "actors.toml"
    path.write_text('[actors.clerk]\npermissions = ["Delete Everything"]\n')
    with pytest.raises(SubledgerError, match=r"actors.clerk.permissions\[0\]: Input should be 'Enhanced Write-off'"):
        books.import_actors(path)
    path.write_text("[actors.clerk\n")
    with pytest.raises(SubledgerError, match="invalid actors file"):
        books.import_actors(path)


def test_an_actors_file_of_the_wrong_shape_is_one_line_per_key(books: Books, cli: Any, tmp_path: Path) -> None:
    """pydantic's own text was printed: four lines per problem, the last a web address."""
    path = tmp_path / "actors.toml"
    path.write_text('[actors.clerk]\npermisions = ["Reverse Invoice"]\n[actors.boss]\npermissions = "Manage Actors"\n')
    before = dump(books.engine)
    said = cli("actor", "import", str(path), db=db_url(books))
    assert (said.code, said.out) == (1, "")
    assert said.err.splitlines() == [
        f"error: {path}, actors.clerk.permisions: unknown field",
        f"error: {path}, actors.boss.permissions: Input should be a valid array",
    ]
    assert dump(books.engine) == before


def test_a_book_from_before_migration_0005_keeps_its_administrator(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        command.upgrade(migrate.config(conn), "0008")
        conn.execute(text("INSERT INTO settings (key, value) VALUES ('invoice_settlement', 'true')"))
    with write_transaction(engine) as conn:
        migrate.upgrade(conn)
    assert held(Books(engine=engine)) == {"admin": sorted(ALL_PERMISSIONS)}


def test_cli_actor_commands(books: Books, cli: Callable[..., Any]) -> None:
    db = db_url(books)
    assert cli("actor", "grant", "clerk", "Reverse Invoice", db=db).code == 0
    result = cli("actor", "list", "--json", db=db)
    assert result.json() == [
        {"name": "admin", "permissions": sorted(ALL_PERMISSIONS)},
        {"name": "clerk", "permissions": ["Reverse Invoice"]},
    ]
    refused = cli("actor", "grant", "clerk", "Manage Actors", "--actor", "clerk", db=db)
    assert (refused.code, refused.err) == (1, "error: clerk: actor 'clerk' lacks the Manage Actors permission\n")


def test_an_actor_name_longer_than_the_book_keeps_is_refused_in_one_line(books: Books, cli: Callable[..., Any]) -> None:
    """A 65-character actor name was granted on SQLite (which does not enforce column lengths) and refused on
    PostgreSQL with 'a value does not fit the books: value too long for type character varying(64)', naming no
    field; both engines now refuse it alike, naming the rule. 64 characters are a name."""
    db = db_url(books)
    before = dump(books.engine)
    refused = cli("actor", "grant", "a" * 65, "Reverse Invoice", db=db)
    assert (refused.code, refused.err) == (1, "error: actor: an actor name is at most 64 characters, 65 given\n")
    assert dump(books.engine) == before
    assert cli("actor", "grant", "a" * 64, "Reverse Invoice", db=db).code == 0
