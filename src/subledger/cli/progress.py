"""A progress bar on stderr, for a person at a terminal (``common.progress`` gives none otherwise)."""

from types import TracebackType
from typing import Any


class Bar:
    """``with Bar("writing off") as bar: task(progress=bar)``: called with (done, total)."""

    def __init__(self, what: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn(what),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task: Any = None

    def __enter__(self) -> "Bar":
        self._progress.__enter__()
        self._task = self._progress.add_task("", total=None)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.__exit__(kind, exc, tb)

    def __call__(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)
