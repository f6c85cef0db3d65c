"""Run directories: one folder per run, written whole or not at all.

A run writes into a hidden temporary folder beside its final place. Only when
every stage has finished is it renamed to ``run-YYYYmmdd-HHMMSS``, the time
it finished, with ``-2``, ``-3``, ... appended where that name is taken. So
an interrupted or failed run leaves no half-written result, and no run
overwrites another. SIGTERM counts as an interruption when the run is
started from the command line, which turns it into an exception.
The layout and the fields of ``metrics.json`` are listed in
``docs/run-directory.md``.
"""

import contextlib
import datetime as _dt
import json
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__
from ._files import set_default_mode

logger = logging.getLogger("falsestruct")

METRICS_SCHEMA_VERSION = 1


def machine_info() -> dict[str, Any]:
    """Describe this machine: CPU model, core count, OS and Python version."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def git_revision() -> str | None:
    """Return the package checkout's git revision, or None outside a checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write `obj` as indented JSON through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(obj, handle, indent=2, sort_keys=False, allow_nan=False)
            handle.write("\n")
        set_default_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable_folder(out_dir: Path) -> None:
    """Raise ValueError unless `out_dir` exists or can be made, and is writable."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(
            f"output folder {str(out_dir)!r} is an existing file, not a folder; "
            "choose a folder with --out"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(
            f"output folder {str(out_dir)!r} cannot be created ({error.strerror}); "
            "choose a writable folder with --out"
        ) from None
    if not out_dir.is_dir():
        raise ValueError(
            f"output folder {str(out_dir)!r} is not a folder; choose one with --out"
        )
    try:
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as error:
        raise ValueError(
            f"output folder {str(out_dir)!r} is not writable ({error.strerror}); "
            "choose a writable folder with --out"
        ) from None


class RunDirectory:
    """A run folder under construction; use as a context manager.

    Inside the ``with`` block, files go under ``self.path`` (a temporary
    folder). ``metrics`` is the dict that becomes ``metrics.json``; each
    experiment fills ``metrics["experiments"][name]``. On a clean exit the
    folder is renamed to ``self.final_path``; on an exception it is deleted.
    ``finish(path, metrics)``, if given, runs after ``metrics.json`` is
    complete and before the rename, so files built from the final metrics
    (the report) are part of the run.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike,
        command: str,
        config: dict[str, Any],
        finish: Callable[[Path, dict[str, Any]], Any] | None = None,
    ):
        self.out_dir = Path(out_dir)
        self.finish = finish
        self.command = command
        self.config = config
        self.path: Path | None = None
        self.final_path: Path | None = None
        self.started = time.time()
        self.metrics: dict[str, Any] = {
            "schema_version": METRICS_SCHEMA_VERSION,
            "falsestruct_version": __version__,
            "git_revision": git_revision(),
            "command": command,
            "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "machine": machine_info(),
            "stages": [],
            "experiments": {},
        }

    def __enter__(self) -> "RunDirectory":
        check_writable_folder(self.out_dir)
        self.path = Path(tempfile.mkdtemp(dir=self.out_dir, prefix=".run-partial-"))
        # __exit__ does not run when __enter__ raises, so clean up here too.
        try:
            set_default_mode(self.path)
            write_json_atomic(self.path / "config.json", self.config)
            (self.path / "command.txt").write_text(self.command + "\n")
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        try:
            self.metrics["wall_seconds"] = round(time.time() - self.started, 3)
            write_json_atomic(self.path / "metrics.json", self.metrics)
            # The name is chosen before `finish` runs, so the report can
            # show it; a run that takes it meanwhile moves this one on.
            self.final_path = self._free_name()
            if self.finish is not None:
                self.finish(self.path, self.metrics)
            self.final_path = self._rename_into_place()
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise

    @contextlib.contextmanager
    def stage(self, name: str):
        """Time a stage and record it in ``metrics["stages"]``."""
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self.metrics["stages"].append({"name": name, "seconds": round(seconds, 3)})
        logger.info("stage %s finished in %.1f s", name, seconds)

    def file(self, relative: str) -> Path:
        """Return the path of `relative` inside the run, creating its folder."""
        path = self.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _free_name(self) -> Path:
        """Return the first free ``run-YYYYmmdd-HHMMSS[-N]`` path under out_dir."""
        stamp = _dt.datetime.now().strftime("run-%Y%m%d-%H%M%S")
        for attempt in range(1, 1000):
            target = self.out_dir / (stamp if attempt == 1 else f"{stamp}-{attempt}")
            if not target.exists():
                return target
        raise RuntimeError(f"no free run folder name under {self.out_dir}")

    def _rename_into_place(self) -> Path:
        """Rename the temporary folder to ``self.final_path`` or, if another
        run took that name meanwhile, to the next free name."""
        target = self.final_path
        for _ in range(1000):
            try:
                # os.rename would replace an empty folder, so check first.
                if not target.exists():
                    os.rename(self.path, target)
                    return target
            except OSError:
                if not target.exists():
                    raise
            target = self._free_name()
        raise RuntimeError(f"no free run folder name under {self.out_dir}")
