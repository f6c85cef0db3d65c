"""Tests of the progress displays: log lines, rich bar and the choice between them."""

import io
import logging

import pytest
from rich.console import Console

from falsestruct import _progress
from falsestruct._progress import (
    LogProgress,
    NullProgress,
    Progress,
    RichProgress,
    format_seconds,
    make_progress,
)


class FakeClock:
    """A stand-in for time.monotonic whose time changes only when a test sets `now`."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_progress.time, "monotonic", fake)
    return fake


def log_messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "falsestruct"]


def test_log_progress_start_periodic_finish(caplog, clock):
    caplog.set_level(logging.INFO, logger="falsestruct")
    progress = LogProgress(interval=10.0)
    with progress.task("training Psi1", total=100, unit="epochs") as task:
        clock.now += 5.0
        task.update(10)  # within the interval: no line
        clock.now += 15.0
        task.update(40)  # 20 s elapsed, 40 of 100 done: 30 s left
        clock.now += 20.0
        task.update(100)
    messages = log_messages(caplog)
    assert messages[0] == "training Psi1: started (100 epochs)"
    assert messages[1] == ("training Psi1: 40/100 epochs, elapsed 0:20, remaining 0:30")
    assert messages[2] == (
        "training Psi1: 100/100 epochs, elapsed 0:40, remaining 0:00"
    )
    assert messages[3] == "training Psi1: finished in 0:40 (100/100 epochs)"
    assert len(messages) == 4


def test_log_progress_skips_updates_within_interval(caplog, clock):
    caplog.set_level(logging.INFO, logger="falsestruct")
    progress = LogProgress(interval=10.0)
    with progress.task("stage", total=50) as task:
        for done in range(1, 50):
            clock.now += 0.1
            task.update(done)
    messages = log_messages(caplog)
    assert len(messages) == 2
    assert "started" in messages[0]
    assert "finished in 0:05" in messages[1]


def test_log_progress_reports_failure(caplog, clock):
    caplog.set_level(logging.INFO, logger="falsestruct")
    progress = LogProgress(interval=10.0)
    with pytest.raises(RuntimeError), progress.task("stage", total=10) as task:
        clock.now += 3.0
        task.update(4)
        raise RuntimeError("boom")
    assert log_messages(caplog)[-1] == "stage: failed after 0:03 (4/10 epochs)"


def test_log_progress_rejects_negative_interval():
    with pytest.raises(ValueError, match="interval must be >= 0 seconds, got -1"):
        LogProgress(interval=-1)


def test_task_remaining_unknown_before_progress(clock):
    task = Progress().task("stage", total=10)
    with task:
        clock.now += 4.0
        assert task.remaining is None
        task.update(2)
        assert task.remaining == pytest.approx(16.0)


def test_task_update_clips_and_changes_total():
    task = Progress().task("stage", total=10)
    with task:
        task.update(25)
        assert task.done == 10
        task.update(5, total=20)
        assert task.total == 20
        assert task.done == 5
        task.advance(3)
        assert task.done == 8
        task.update(-4)
        assert task.done == 0


def test_task_total_at_least_one():
    task = Progress().task("stage", total=0)
    assert task.total == 1


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "?"), (0, "0:00"), (59.6, "1:00"), (754, "12:34"), (3725, "1:02:05")],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


class TtyStringIO(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_make_progress_quiet_is_null():
    progress = make_progress(quiet=True, stream=TtyStringIO())
    assert type(progress) is NullProgress


def test_make_progress_non_tty_is_log():
    progress = make_progress(quiet=False, stream=io.StringIO())
    assert isinstance(progress, LogProgress)


def test_make_progress_tty_is_rich():
    stream = TtyStringIO()
    progress = make_progress(quiet=False, stream=stream)
    try:
        assert isinstance(progress, RichProgress)
        assert progress.console.file is stream
    finally:
        progress.close()


def test_null_progress_shows_nothing(caplog, capsys):
    caplog.set_level(logging.INFO, logger="falsestruct")
    progress = NullProgress()
    with progress.task("stage", total=3) as task:
        task.update(3)
    progress.close()
    assert log_messages(caplog) == []
    assert capsys.readouterr() == ("", "")


def test_rich_progress_draws_bar_on_terminal():
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100, color_system=None)
    progress = RichProgress(console=console)
    with progress.task("training Psi4", total=200, unit="epochs") as task:
        task.update(50)
        task.update(200)
    progress.close()
    output = stream.getvalue()
    assert "training Psi4" in output
    assert "200/200" in output
    assert "epochs" in output
    assert "left" in output
    assert "0:00:0" in output  # elapsed and remaining columns, h:mm:ss


def test_rich_progress_failed_task_keeps_position():
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100, color_system=None)
    progress = RichProgress(console=console)
    with pytest.raises(RuntimeError), progress.task("stage", total=10) as task:
        task.update(3)
        raise RuntimeError("boom")
    progress.close()
    output = stream.getvalue()
    assert "3/10" in output
    assert "10/10" not in output
