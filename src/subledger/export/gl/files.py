"""GL files put in place safely: rendered into temporary files in the target folder, checked by the format's
validator as they are written, synced, and moved into place only when the caller says so (after the journal run
has committed). An existing output is refused unless forced, and a non-regular file (a device, a fifo, a symbolic
link, a directory) always; the files get the user's umask. A failure removes every temporary file; a temporary
file left by a killed process is removed by the next render of the same output.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from subledger.errors import Conflict, ExportFailed, Problem, Problems, RuleViolation
from subledger.export.gl.model import GLEntry, RunInfo, amount_text
from subledger.export.gl.validate import Spec, Validator, check_jsonl

_SEP, _RS = "\x1f", "\x1e"

_TEMP_MARK = ".subledger-"


class Renderer(Protocol):
    """A format prepared for one render (its profile and chart settled once)."""

    @property
    def spec(self) -> Spec | None:
        """The importer's rules (None: the JSONL layout, checked as JSON)."""
        ...

    def rows(self, entry: GLEntry) -> list[list[str]]:
        """One GL entry's rows (for JSONL: one row of one cell, the record's text)."""
        ...

    def settings(self) -> dict[str, Any]:
        """What the profile made of this file, for the sidecar."""
        ...


def part_path(out: Path, k: int) -> Path:
    """The k-th file of a split export: the first is ``out`` itself, then ``stem-2.suffix``, ``stem-3.suffix``..."""
    return out if k == 1 else out.with_name(f"{out.stem}-{k}{out.suffix}")


def sidecar_path(out: Path) -> Path:
    """The sidecar describing a render (run, format, profile, files and their digests)."""
    return out.with_name(out.name + ".manifest.json")


def umask() -> int:
    """The process's umask (read by setting it, so set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def refuse_existing(path: Path, force: bool) -> None:
    """Refuse to replace ``path``: always when it is not a regular file, otherwise unless ``force``."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise Conflict("exists and is not a regular file; it is never replaced", document=str(path), field="out")
    if not force:
        raise Conflict("exists; give --force to replace it", document=str(path), field="out")


def sweep(out: Path) -> None:
    """Remove temporary files of ``out`` whose writing process is gone (a killed render)."""
    _sweep(out.parent, f".{out.name}{_TEMP_MARK}")


def sweep_folder(folder: Path) -> None:
    """Remove every temporary file in ``folder`` whose writing process is gone, whatever file it was to become: a
    file an export no longer writes (a period the ledger no longer holds) has no ``sweep`` of its own."""
    _sweep(folder, ".", marked=True)


def _sweep(folder: Path, prefix: str, *, marked: bool = False) -> None:
    """Remove the files in ``folder`` named ``prefix`` then the writer's process id (``marked``: named as
    ``temporary`` names them, ``.NAME.subledger-PID.``, anywhere after ``prefix``) whose process is gone."""
    try:
        names = [p for p in folder.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    for path in names:
        rest = path.name[len(prefix) :]
        if marked:
            # Only what ``temporary`` and ``_link_unnamed`` name: a hidden file of the user's is no temporary file.
            if _TEMP_MARK not in rest or not rest.endswith((".tmp", ".link")):
                continue
            rest = rest.rpartition(_TEMP_MARK)[2]
        pid = rest.split(".", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except OSError:
            continue


@dataclass
class Staged:
    """A render waiting to be put in place."""

    out: Path
    force: bool
    temps: list[Path] = field(default_factory=list)
    finals: list[Path] = field(default_factory=list)
    #: Per temporary file: its descriptor, held until the render is committed or discarded, and whether it has a
    #: name (a file system without unnamed files) or none (``O_TMPFILE``: gone with the process, even on ``kill -9``).
    fds: list[int] = field(default_factory=list)
    named: list[bool] = field(default_factory=list)
    gl_entries: int = 0
    #: The lines the files hold (a NetSuite amount over ten digits is several of them for one journal line).
    lines: int = 0
    totals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    committed: bool = False

    def commit(self) -> list[Path]:
        """Move every file into place (refusing, again, what appeared meanwhile); returns the final paths."""
        try:
            for tmp, final, named in zip(self.temps, self.finals, self.named, strict=True):
                refuse_existing(final, self.force)
                if not named:
                    _link_unnamed(tmp, final, force=self.force)
                    continue
                if self.force:
                    os.replace(tmp, final)
                else:
                    # A link fails if the name exists: nothing that appeared since the check is replaced.
                    try:
                        os.link(tmp, final)
                    except FileExistsError:
                        raise Conflict("exists; give --force to replace it", document=str(final), field="out") from None
                    except OSError as exc:
                        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                            raise
                        # A file system without hard links: renamed, after the check above.
                        os.rename(tmp, final)
                        continue
                    os.unlink(tmp)
            _sync_dir(self.out.parent)
        except OSError as exc:
            raise ExportFailed(f"could not write {self.out}: {exc.strerror or exc}", field="out") from exc
        finally:
            self.discard()
        self.committed = True
        return self.finals

    def discard(self) -> None:
        for tmp, fd, named in zip(self.temps, self.fds, self.named, strict=True):
            if named:
                tmp.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                os.close(fd)
        self.temps, self.fds, self.named = [], [], []

    def temporary(self, mode: int) -> int:
        """A new temporary file beside the output, with ``mode``; returns a descriptor of it for the caller to own
        (the render keeps one of its own until commit or discard)."""
        folder = self.out.parent
        try:
            # An unnamed file in the target folder: nothing for a killed render to leave behind.
            fd = os.open(folder, os.O_TMPFILE | os.O_RDWR, mode)
            path, named = Path(f"/proc/self/fd/{fd}"), False
        except (OSError, AttributeError):
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{self.out.name}{_TEMP_MARK}{os.getpid()}.", suffix=".tmp")
            path, named = Path(tmp), True
        os.fchmod(fd, mode)
        self.temps.append(path)
        self.fds.append(fd)
        self.named.append(named)
        return os.dup(fd)


def _link_unnamed(tmp: Path, final: Path, *, force: bool) -> None:
    """Give an unnamed temporary file (``/proc/self/fd/N``) its final name. Without ``force`` the link itself refuses
    a name that exists; with it, the file is linked under a temporary name and renamed over the old one."""
    folder = os.open(final.parent, os.O_RDONLY)
    try:
        # linkat(..., AT_SYMLINK_FOLLOW): Python asks for it only when a directory descriptor is given.
        def link(name: str) -> None:
            os.link(str(tmp), name, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=True)

        try:
            if not force:
                try:
                    link(final.name)
                except FileExistsError:
                    raise Conflict("exists; give --force to replace it", document=str(final), field="out") from None
                return
            named = f".{final.name}{_TEMP_MARK}{os.getpid()}.link"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(named, dir_fd=folder)
            link(named)
            os.replace(named, final.name, src_dir_fd=folder, dst_dir_fd=folder)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            _copy_into_place(tmp, final)  # a file system without hard links
    finally:
        os.close(folder)


def _copy_into_place(tmp: Path, final: Path) -> None:
    """The unnamed file's bytes into a named temporary file beside ``final``, synced, renamed into place (after the
    caller's existence check, as ``Staged.commit`` does on a file system without hard links)."""
    fd, named = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}{_TEMP_MARK}{os.getpid()}.", suffix=".tmp")
    try:
        os.fchmod(fd, os.stat(tmp).st_mode & 0o777)
        with os.fdopen(fd, "wb") as target, tmp.open("rb") as source:
            shutil.copyfileobj(source, target)
            target.flush()
            os.fsync(target.fileno())
        os.rename(named, final)
    except BaseException:
        Path(named).unlink(missing_ok=True)
        raise


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Writer:
    """Temporary files for one render, a new one when the next entry would cross the format's lines or bytes per
    file."""

    def __init__(self, staged: Staged, renderer: Renderer, label: str) -> None:
        self.staged, self.renderer, self.label = staged, renderer, label
        self.spec = renderer.spec
        self.limit = self.spec.max_lines_per_file if self.spec else None
        self.max_bytes = self.spec.max_bytes_per_file if self.spec else None
        self.handle: IO[str] | None = None
        # Rows with something to quote are formatted here first, so their bytes are known before they are written.
        self.buffer = io.StringIO(newline="")
        self.writer = csv.writer(self.buffer, lineterminator="\n")
        self.validator: Validator | None = None
        self.count = 0
        self.size = 0
        self.row_no = 1
        self.jsonl_lines: list[str] = []
        self.mode = 0o666 & ~umask()
        self.parts: list[dict[str, Any]] = []

    def _open(self) -> None:
        self._close()
        out = self.staged.out
        k = len(self.staged.temps) + 1
        fd = self.staged.temporary(self.mode)
        self.staged.finals.append(part_path(out, k))
        self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self.count, self.size, self.row_no = 0, 0, 1
        if self.spec is not None:
            header = [c.name for c in self.spec.columns]
            text = self._formatted([header])
            self.handle.write(text)
            self.size = _utf8_size(text)
            self.validator = Validator(self.spec, part_path(out, k).name)
            self.validator.header(header)

    def _formatted(self, rows: list[list[str]], joined: str | None = None) -> str:
        """The rows as the csv module writes them. ``joined`` (the validator's cells and rows joined) is what it
        writes for rows with nothing to quote, made without its per-field machinery; any comma, quote or line break
        in a field goes through the writer."""
        if joined is not None and "," not in joined and '"' not in joined and "\n" not in joined:
            return joined.replace(_SEP, ",").replace(_RS, "\n") + "\n"
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerows(rows)
        return self.buffer.getvalue()

    def write(self, entry: GLEntry) -> None:
        rows = self.renderer.rows(entry)
        if self.spec is None:
            if self.handle is None:
                self._open()
            assert self.handle is not None
            for (record,) in rows:
                self.handle.write(record)
                self.jsonl_lines.append(record)
            self.count += 1
            return
        limit = self.limit
        if limit is not None and len(rows) > limit:
            raise RuleViolation(
                f"GL entry {entry.external_id} has {len(rows)} lines; {self.spec.format} takes at most {limit} per "
                "file and an entry is never split",
                document=entry.source_document,
            )
        if self.handle is None:
            self._open()
        assert self.validator is not None
        validator = self.validator
        text = validator.joined(rows)
        if text is None:
            # A cell a spreadsheet would run as a formula becomes text (a lookup cell: one line); whatever else is
            # wrong is reported.
            rows = [[f(c) if f else c for c, f in zip(row, validator.clean, strict=False)] for row in rows]
            text = validator.joined(rows)
        data = self._formatted(rows, text)
        size = _utf8_size(data) if self.max_bytes is not None else 0
        over_lines = limit is not None and self.count + len(rows) > limit
        over_bytes = self.max_bytes is not None and self.size + size > self.max_bytes
        if self.count and (over_lines or over_bytes):
            self._open()
            assert self.validator is not None
            validator = self.validator
            over_bytes = self.max_bytes is not None and self.size + size > self.max_bytes
        if over_bytes:
            raise RuleViolation(
                f"GL entry {entry.external_id} takes {size} bytes; {validator.spec.format} takes at most "
                f"{self.max_bytes} per file with its header and an entry is never split",
                document=entry.source_document,
            )
        assert self.handle is not None
        validator.entry(rows, self.row_no + 1, text)
        self.row_no += len(rows)
        self.handle.write(data)
        if validator.problems:
            raise Problems(validator.problems)
        self.count += len(rows)
        self.size += size

    def _close(self) -> None:
        if self.handle is None:
            return
        problems: list[Problem] = []
        if self.validator is not None:
            self.validator.size(self.size)
            problems = self.validator.end()
            self.parts.append({"lines": self.count, "journals": len(self.validator._seen)})
        elif self.jsonl_lines:
            checked = check_jsonl(self.jsonl_lines, self.staged.finals[-1].name)
            problems = checked.problems
            self.parts.append(
                {"lines": sum(len(json.loads(t)["lines"]) for t in self.jsonl_lines), "journals": self.count}
            )
            self.jsonl_lines = []
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        self.handle = None
        if problems:
            raise Problems(problems)

    def finish(self) -> None:
        self._close()


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _abandon(staged: Staged, writer: _Writer | None) -> None:
    if writer is not None and writer.handle is not None:
        with contextlib.suppress(OSError):
            writer.handle.close()
        writer.handle = None
    staged.discard()


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stage(
    format_name: str,
    renderer: Renderer,
    entries: Iterable[GLEntry],
    out: Path,
    *,
    run: RunInfo,
    profile_digest: str,
    force: bool,
) -> Staged:
    """Render ``entries`` into temporary files beside ``out`` (checked, synced), and its sidecar; nothing is in
    place until ``commit``. Refuses an existing output (unless ``force``) before writing anything."""
    staged = Staged(out, force)
    writer: _Writer | None = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        refuse_existing(out, force)
        refuse_existing(sidecar_path(out), force)
        sweep(out)
        writer = _Writer(staged, renderer, out.name)
        for entry in entries:
            debits = entry.check_balanced()
            writer.write(entry)
            staged.gl_entries += 1
            staged.totals[entry.currency] += debits
        if staged.gl_entries == 0:
            raise RuleViolation(f"journal run {run.number} has nothing to render", document=run.number)
        writer.finish()
        # The lines the files hold, as each file's count says: a NetSuite amount over ten digits is several lines of
        # the file for one journal line, and the count is the file's, not the book's.
        staged.lines = sum(part["lines"] for part in writer.parts)
        for final in staged.finals[1:]:
            refuse_existing(final, force)
        manifest = {
            "format": format_name,
            "journalRun": run.number,
            "period": run.period,
            "mode": run.mode,
            "profile": {"sha256": profile_digest or None, "settings": renderer.settings()},
            "glEntries": staged.gl_entries,
            "lines": staged.lines,
            "totals": {cur: amount_text(total, cur) for cur, total in sorted(staged.totals.items())},
            "files": [
                {"name": final.name, "sha256": _digest(tmp), **part}
                for tmp, final, part in zip(staged.temps, staged.finals, writer.parts, strict=True)
            ],
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
        fd = staged.temporary(writer.mode)
        staged.finals.append(sidecar_path(out))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        _abandon(staged, writer)
        raise ExportFailed(f"could not write {out}: {exc.strerror or exc}", field="out") from exc
    except BaseException:
        _abandon(staged, writer)
        raise
    return staged
