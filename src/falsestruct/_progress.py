"""Progress display for long stages: a bar on a terminal, log lines elsewhere.

Library code reports progress only through a ``Progress`` object handed to
it. The command line picks the kind: ``RichProgress`` on an interactive
terminal, ``LogProgress`` (plain periodic ``logging`` lines, for CI logs) when
output is not a terminal, and ``NullProgress`` for ``--quiet``.
"""

import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO

logger = logging.getLogger("falsestruct")

# update(done, total) for one task, in the task's own units.
UpdateFn = Callable[[int, int], None]


class Progress:
    """Base class that opens tasks and receives their updates but shows nothing."""

    def task(self, description: str, total: int, unit: str = "epochs") -> "Task":
        """Open a task of `total` units; use the result as a context manager."""
        return Task(self, description, total, unit)

    def _start(self, task: "Task") -> None:
        pass

    def _update(self, task: "Task") -> None:
        pass

    def _finish(self, task: "Task", failed: bool) -> None:
        pass

    def close(self) -> None:
        pass


NullProgress = Progress


class Task:
    """One long stage; use as a context manager and call ``update``."""

    def __init__(self, owner: Progress, description: str, total: int, unit: str):
        self.owner = owner
        self.description = description
        self.total = max(int(total), 1)
        self.unit = unit
        self.done = 0
        self.started = time.monotonic()
        self.handle = None

    def __enter__(self) -> "Task":
        self.started = time.monotonic()
        self.owner._start(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.owner._finish(self, failed=exc_type is not None)

    def update(self, done: int, total: int | None = None) -> None:
        """Record that `done` of `total` units are finished (clipped to total)."""
        if total is not None:
            self.total = max(int(total), 1)
        self.done = max(min(int(done), self.total), 0)
        self.owner._update(self)

    def advance(self, amount: int = 1) -> None:
        self.update(self.done + amount)

    @property
    def elapsed(self) -> float:
        """Seconds since the task was entered."""
        return time.monotonic() - self.started

    @property
    def remaining(self) -> float | None:
        """Estimated seconds left from the average rate so far; None before any."""
        if self.done <= 0:
            return None
        return self.elapsed * (self.total - self.done) / self.done


def format_seconds(seconds: float | None) -> str:
    """Format seconds as m:ss, or h:mm:ss from one hour on; None gives "?"."""
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


class LogProgress(Progress):
    """Log a line at start, at most every `interval` seconds, and at the end."""

    def __init__(self, interval: float = 10.0):
        if interval < 0:
            raise ValueError(f"interval must be >= 0 seconds, got {interval}")
        self.interval = interval
        self._last_logged: dict[int, float] = {}

    def _line(self, task: Task) -> str:
        return (
            f"{task.description}: {task.done}/{task.total} {task.unit}, "
            f"elapsed {format_seconds(task.elapsed)}, "
            f"remaining {format_seconds(task.remaining)}"
        )

    def _start(self, task: Task) -> None:
        self._last_logged[id(task)] = time.monotonic()
        logger.info("%s: started (%d %s)", task.description, task.total, task.unit)

    def _update(self, task: Task) -> None:
        now = time.monotonic()
        if now - self._last_logged.get(id(task), 0.0) >= self.interval:
            self._last_logged[id(task)] = now
            logger.info("%s", self._line(task))

    def _finish(self, task: Task, failed: bool) -> None:
        self._last_logged.pop(id(task), None)
        status = "failed after" if failed else "finished in"
        logger.info(
            "%s: %s %s (%d/%d %s)",
            task.description,
            status,
            format_seconds(task.elapsed),
            task.done,
            task.total,
            task.unit,
        )


class RichProgress(Progress):
    """A rich progress bar per task with elapsed and remaining time.

    `console` is the ``rich.console.Console`` to draw on; by default one on
    standard error.
    """

    def __init__(self, console=None):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as _RichProgress

        self.console = Console(stderr=True) if console is None else console
        self._bar = _RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._bar.start()

    def _start(self, task: Task) -> None:
        task.handle = self._bar.add_task(
            task.description, total=task.total, unit=task.unit
        )

    def _update(self, task: Task) -> None:
        self._bar.update(task.handle, completed=task.done, total=task.total)

    def _finish(self, task: Task, failed: bool) -> None:
        # A failed task keeps its bar where it stopped instead of showing 100 %.
        if not failed:
            self._bar.update(task.handle, completed=task.total)
        self._bar.stop_task(task.handle)

    def close(self) -> None:
        self._bar.stop()


def make_progress(quiet: bool = False, stream: TextIO | None = None) -> Progress:
    """Choose the display for `stream` (default stderr).

    `quiet` gives no display; a terminal gets a bar; anything else gets log
    lines, which go through the ``falsestruct`` logger, not `stream`.
    """
    if quiet:
        return NullProgress()
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        from rich.console import Console

        return RichProgress(console=Console(file=stream))
    return LogProgress()
