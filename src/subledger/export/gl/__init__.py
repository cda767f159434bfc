"""GL export: GL entries in, files an ERP imports unchanged out. Pure: nothing here reads or writes the books.

A journal run (``operations.journal_runs``) says which journal entries go to the ERP and records its summary
entries; this package renders a run's entries, detail or summary, in each format (one module per format, each with
its importer's rules as a validator), shaped by an ERP profile (``profile``), into files put in place safely
(``files``). Rendering a run again gives the same bytes. Layouts and rules: ``docs/gl-export.md``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from subledger.errors import ExportFailed, RuleViolation
from subledger.export.gl import generic, intacct, jsonl, netsuite, quickbooks, xero
from subledger.export.gl.files import Renderer, Staged, part_path, refuse_existing, sidecar_path, stage
from subledger.export.gl.model import Account, GLEntry, GLLine, RunInfo, accounts_of
from subledger.export.gl.profile import DEFAULT, Profile, load_profile
from subledger.export.gl.validate import Checked, Spec, check_csv, check_jsonl

#: Each format's renderer, prepared per render from the profile, the chart and the run.
RENDERERS: dict[str, Callable[[Profile, dict[str, Account], RunInfo], Renderer]] = {
    "csv": generic.Renderer,
    "jsonl": jsonl.Renderer,
    "netsuite": netsuite.Renderer,
    "xero": xero.Renderer,
    "quickbooks": quickbooks.Renderer,
    "intacct": intacct.Renderer,
}
FORMATS: tuple[str, ...] = tuple(RENDERERS)
#: The file name suffix each format's files get in the demo and the tests.
SUFFIX = {
    "csv": ".csv",
    "jsonl": ".jsonl",
    "netsuite": ".netsuite.csv",
    "xero": ".xero.csv",
    "quickbooks": ".quickbooks.csv",
    "intacct": ".intacct.csv",
}


def _format(name: str) -> str:
    if name not in RENDERERS:
        raise RuleViolation(f"unknown GL format {name!r}; choose from {', '.join(FORMATS)}", field="format")
    return name


def render(
    format_name: str,
    entries: Iterable[GLEntry],
    out: Path,
    *,
    run: RunInfo,
    accounts: dict[str, Account],
    profile: Profile = DEFAULT,
    force: bool = False,
) -> Staged:
    """Render ``entries`` into checked temporary files beside ``out``; ``commit()`` puts them in place."""
    renderer = RENDERERS[_format(format_name)](profile, accounts, run)
    return stage(format_name, renderer, entries, out, run=run, profile_digest=profile.digest, force=force)


def spec_of(format_name: str, profile: Profile, accounts: dict[str, Account] | None) -> Spec | None:
    name = _format(format_name)
    if name == "csv":
        return generic.spec(frozenset(a.number for a in accounts.values()) if accounts else None)
    if name == "netsuite":
        return netsuite.spec(profile.netsuite, accounts)
    if name == "xero":
        return xero.spec(profile.xero, accounts)
    if name == "quickbooks":
        return quickbooks.spec(profile.quickbooks, accounts)
    if name == "intacct":
        return intacct.spec(profile.intacct, accounts)
    return None


def check_file(
    path: Path, format_name: str, *, profile: Profile = DEFAULT, accounts: dict[str, Account] | None = None
) -> Checked:
    """Check an existing file against its format's rules (with ``accounts``: every account mapped as the profile
    maps the chart)."""
    spec = spec_of(format_name, profile, accounts)
    try:
        with path.open(encoding="utf-8") as handle:
            size = os.fstat(handle.fileno()).st_size
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportFailed(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}", field="check") from None
    if spec is None:
        # Records end at "\n" only: a reader that also splits at U+2028 or U+0085 would cut a record in two.
        return check_jsonl(text.removesuffix("\n").split("\n") if text else [], path.name)
    return check_csv(spec, text, path.name, size)


def header_of(format_name: str, profile: Profile = DEFAULT) -> list[str]:
    spec = spec_of(format_name, profile, None)
    return [c.name for c in spec.columns] if spec else []


__all__ = [
    "FORMATS",
    "SUFFIX",
    "Account",
    "Checked",
    "GLEntry",
    "GLLine",
    "Profile",
    "RunInfo",
    "Staged",
    "accounts_of",
    "check_file",
    "header_of",
    "load_profile",
    "part_path",
    "refuse_existing",
    "render",
    "sidecar_path",
]
