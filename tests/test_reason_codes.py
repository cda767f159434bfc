"""``subledger reason-code list | add | deactivate``: managed by the administrator, audited, used by requests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from conftest import db_url, dump
from subledger.api import Books
from subledger.storage.schema import audit_refusals, operations


def test_add_use_and_deactivate_a_reason_code(cli: Any, seed003: Books, tmp_path: Any, monkeypatch: Any) -> None:
    url = db_url(seed003)
    listed = cli("reason-code", "list", "--for", "credit-memo", "--json", db=url).json()
    assert {"Write-off", "Goodwill"} <= {r["name"] for r in listed}
    assert all(r["documentType"] == "CreditMemo" and r["active"] for r in listed)

    refused = cli("invoice", "write-off", "INV00000001", "--reason-code", "Bankruptcy", db=url)
    assert refused.code == 1
    assert "unknown credit memo reason code 'Bankruptcy'" in refused.err

    added = cli("reason-code", "add", "Bankruptcy", "--for", "credit-memo", "--json", db=url).json()
    assert (added["operation"], added["fromStatus"], added["toStatus"]) == ("reason-code-add", "none", "Active")
    wrote = cli(
        "invoice", "write-off", "INV00000001", "--reason-code", "Bankruptcy", "--memo-date", "2026-11-16", db=url
    )
    assert wrote.code == 0, wrote.err

    again = cli("reason-code", "add", "Bankruptcy", "--for", "credit-memo", db=url)
    assert (again.code, again.err.strip()) == (
        1,
        "error: Bankruptcy, name: CreditMemo reason code 'Bankruptcy' exists and is active",
    )
    gone = cli("reason-code", "deactivate", "Bankruptcy", "--for", "credit-memo", db=url)
    assert (gone.code, gone.out.strip()) == (0, "CreditMemo reason code 'Bankruptcy': Active -> Inactive")
    inactive = cli("invoice", "write-off", "INV00000002", "--reason-code", "Bankruptcy", db=url)
    assert inactive.code == 1
    assert "reason code 'Bankruptcy' is inactive" in inactive.err
    back = cli("reason-code", "add", "Bankruptcy", "--for", "credit-memo", "--json", db=url).json()
    assert (back["fromStatus"], back["toStatus"]) == ("Inactive", "Active")
    with seed003.engine.connect() as conn:
        kinds = list(conn.execute(select(operations.c.kind).where(operations.c.kind.like("reason-code-%"))).scalars())
    assert kinds == ["reason-code-add", "reason-code-deactivate", "reason-code-add"]


def test_only_the_administrator_manages_reason_codes(cli: Any, seed003: Books, tmp_path: Any, monkeypatch: Any) -> None:
    url = db_url(seed003)
    actors = tmp_path / "actors.toml"
    actors.write_text('[actors.clerk]\npermissions = ["Reverse Invoice"]\n')
    seed003.import_actors(actors)
    before = dump(seed003.engine)
    with seed003.engine.connect() as conn:
        refusals = conn.execute(select(func.count()).select_from(audit_refusals)).scalar_one()
    refused = cli("reason-code", "add", "Bankruptcy", "--for", "credit-memo", "--actor", "clerk", db=url)
    assert refused.code == 1
    assert len(refused.err.splitlines()) == 1
    assert "clerk" in refused.err
    assert dump(seed003.engine) == before
    with seed003.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_refusals)).scalar_one() == refusals + 1
