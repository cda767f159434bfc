"""``subledger export``: the Beancount ledger (and GL files for the ERP)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from subledger.cli.common import Db, books, console, export_app


@export_app.command("beancount")
def beancount(
    out: Annotated[Path, typer.Option("--out", help="Directory to write main.beancount and its includes to.")],
    db: Db = None,
) -> None:
    """Write the journal as a Beancount ledger that bean-check and Fava open."""
    files = books(db).export_beancount(out)
    console.print(f"Wrote {len(files)} files under {out} (open {files[0]}).")
