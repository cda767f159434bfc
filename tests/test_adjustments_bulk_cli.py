"""``subledger write-off --from FILE`` in a book without Invoice Settlement: the task writes off by adjustments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import example


def test_bulk_write_off_command_dispatches_to_adjustments(cli: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ns.db'}"
    assert cli("init", "--no-invoice-settlement", db=url).code == 0
    assert cli("load", str(example("no-settlement-books.json")), db=url).code == 0
    task = tmp_path / "task.json"
    task.write_text(
        json.dumps(
            {
                "invoices": ["INV00000101", "INV00000102", "INV00000104"],
                "settings": {"adjustmentDate": "2026-11-20", "adjustTaxationItems": True, "referenceId": "T-1"},
            }
        )
    )
    result = cli("write-off", "--from", str(task), db=url)
    assert result.code == 3, result.err  # partly done: one invoice refused
    report = json.loads(result.out)
    assert (report["processed"], report["failed"]) == (2, 1)
    first = report["invoices"][0]
    assert first["adjustments"] == [f"IIA-INV00000101-{n}" for n in (1, 2, 3, 4)]
    assert [
        (i["id"], i["balance"], [(t["id"], t["balance"]) for t in i["taxationItems"]]) for i in first["invoiceItems"]
    ] == [
        ("II-1011", "0.00", [("TI-1011", "0.00")]),
        ("II-1012", "0.00", [("TI-1012", "0.00")]),
    ]
    assert report["invoices"][2]["errors"] == ["INV00000104: no invoice INV00000104"]
    listed = cli("adjustment", "list", "--json", db=url).json()
    assert {a["referenceId"] for a in listed} == {"T-1"}
