"""Progress display for long stages: a bar on a terminal, log lines elsewhere.

Library code reports progress only through a ``Progress`` object handed to it;
the command line decides which kind: ``RichProgress`` on an interactive
terminal, ``LogProgress`` (plain periodic ``logging`` lines, for CI logs) when
output is not a terminal, and ``NullProgress`` for ``--quiet``.
"""

import logging
import sys
import time
from collections.abc import Callable

logger = logging.getLogger("falsestruct")

# update(done, total) for one task, in the task's own units.
UpdateFn = Callable[[int, int], None]


class Progress:
    """Base class: opens tasks and receives their updates. Shows nothing."""

    def task(self, description: str, total: int, unit: str = "epochs") -> "Task":
        return Task(self, description, total, unit)

    def _start(self, task: "Task") -> None:
        pass

    def _update(self, task: "Task") -> None:
        pass

    def _finish(self, task: "Task") -> None:
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

    def __exit__(self, *exc) -> None:
        self.owner._finish(self)

    def update(self, done: int, total: int | None = None) -> None:
        """Record that `done` of `total` units are finished."""
        if total is not None:
            self.total = max(int(total), 1)
        self.done = min(int(done), self.total)
        self.owner._update(self)

    def advance(self, amount: int = 1) -> None:
        self.update(self.done + amount)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def remaining(self) -> float | None:
        """Estimated seconds left, from the average rate so far."""
        if self.done <= 0:
            return None
        return self.elapsed * (self.total - self.done) / self.done


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


class LogProgress(Progress):
    """Log a line at start, every `interval` seconds, and at the end."""

    def __init__(self, interval: float = 10.0):
        self.interval = interval
        self._last: dict[int, float] = {}

    def _line(self, task: Task) -> str:
        return (
            f"{task.description}: {task.done}/{task.total} {task.unit}, "
            f"elapsed {_format_seconds(task.elapsed)}, "
            f"remaining {_format_seconds(task.remaining)}"
        )

    def _start(self, task: Task) -> None:
        self._last[id(task)] = time.monotonic()
        logger.info("%s: started (%d %s)", task.description, task.total, task.unit)

    def _update(self, task: Task) -> None:
        now = time.monotonic()
        if now - self._last.get(id(task), 0.0) >= self.interval:
            self._last[id(task)] = now
            logger.info("%s", self._line(task))

    def _finish(self, task: Task) -> None:
        self._last.pop(id(task), None)
        logger.info("%s: finished in %s", task.description, _format_seconds(task.elapsed))


class RichProgress(Progress):
    """A rich progress bar per task with elapsed and remaining time."""

    def __init__(self):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as _RichProgress

        self._bar = _RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            transient=False,
        )
        self._bar.start()

    def _start(self, task: Task) -> None:
        task.handle = self._bar.add_task(task.description, total=task.total, unit=task.unit)

    def _update(self, task: Task) -> None:
        self._bar.update(task.handle, completed=task.done, total=task.total)

    def _finish(self, task: Task) -> None:
        self._bar.update(task.handle, completed=task.total)

    def close(self) -> None:
        self._bar.stop()


def make_progress(quiet: bool = False, stream=None) -> Progress:
    """Choose the display: none if `quiet`, a bar on a terminal, else log lines."""
    stream = sys.stderr if stream is None else stream
    if quiet:
        return NullProgress()
    if hasattr(stream, "isatty") and stream.isatty():
        return RichProgress()
    return LogProgress()
