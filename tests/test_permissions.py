"""Permissions: actors come from the administrator's TOML file; an actor without a permission is refused, and the
refusal writes nothing but its audit record (both engines)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from conftest import db_url, dump, example, set_period_status
from subledger.api import Books
from subledger.errors import PermissionDenied, Problems, SubledgerError
from subledger.permissions import ALL_PERMISSIONS, Actor, resolve_actor

ACTORS = """
[actors.clerk]
permissions = []

[actors.closer]
permissions = ["Manage Close Process"]
"""


@pytest.fixture
def actors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An actors file with ``clerk`` (no permission), ``closer`` and one ``no-X`` actor per permission X (all
    permissions but X)."""
    path = tmp_path / "actors.toml"
    body = ACTORS
    for permission in sorted(ALL_PERMISSIONS):
        others = ", ".join(f'"{p}"' for p in sorted(ALL_PERMISSIONS - {permission}))
        body += f'\n[actors."{without(permission)}"]\npermissions = [{others}]\n'
    path.write_text(body)
    monkeypatch.setenv("SUBLEDGER_ACTORS", str(path))
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
    "Unapply Payment": (
        "unapply_payment",
        ("P00000001", {"effectiveDate": "2026-10-28", "invoices": [{"invoiceNumber": "INV00000001", "amount": "1"}]}),
    ),
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


def test_admin_holds_every_permission_without_a_file(tmp_path: Path) -> None:
    assert resolve_actor(None, tmp_path / "missing.toml") == Actor("admin", ALL_PERMISSIONS)


def test_unknown_actor_and_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "actors.toml"
    with pytest.raises(PermissionDenied, match="unknown actor 'clerk': no actors file"):
        resolve_actor("clerk", path)
    path.write_text('[actors.clerk]\npermissions = ["Delete Everything"]\n')
    with pytest.raises(SubledgerError, match="invalid actors file"):
        resolve_actor("clerk", path)
    path.write_text("[actors.clerk\n")
    with pytest.raises(SubledgerError, match="invalid actors file"):
        resolve_actor("clerk", path)


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
