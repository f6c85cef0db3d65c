"""The ``falsestruct`` command line.

Subcommands:

- ``reproduce [experiment1|experiment2|all]``: train, diagnose and write a run
  directory with a report.
- ``diagnose experiment1|experiment2 FILE.npz``: diagnose a stored network.
- ``check experiment1|experiment2``: verify the paper's propositions.
- ``report RUN_DIR``: rebuild a run's HTML report from its stored metrics.

Bad input ends with one line ``falsestruct: error: ...`` on stderr and exit
code 2, before anything is written.
"""

import argparse
import importlib
import logging
import os
import shlex
import signal
import sys
import threading
from pathlib import Path

from ._parallel import WorkerError
from ._weights import WeightFileError

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXPERIMENTS = ("experiment1", "experiment2")
_MODULES = {
    "experiment1": "falsestruct._exp1_cli",
    "experiment2": "falsestruct._exp2_cli",
}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit with code 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"falsestruct: error: {message}\n")


def _experiment_module(name: str):
    return importlib.import_module(_MODULES[name])


def _add_reproduce(subparsers) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="train the paper's networks, diagnose them and write a run directory",
        description="Reproduce one or both experiments and write a run directory "
        "with configuration, metrics, weights, figures and report.html.",
    )
    parser.add_argument(
        "experiment",
        nargs="?",
        default="all",
        choices=EXPERIMENTS + ("all",),
        help="which experiment to run (default: all)",
    )
    parser.add_argument(
        "--out",
        default="runs",
        help="folder that receives the run directory (default: ./runs)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="show no progress bar or log lines"
    )
    for name in EXPERIMENTS:
        _experiment_module(name).add_reproduce_options(parser)
    parser.set_defaults(handler=_reproduce)


def _add_diagnose(subparsers) -> None:
    parser = subparsers.add_parser(
        "diagnose",
        help="diagnose a stored network (TensorFlow-layout .npz)",
        description="Diagnose a network stored as .npz in TensorFlow's layout.",
    )
    experiments = parser.add_subparsers(dest="experiment", required=True)
    for name in EXPERIMENTS:
        module = _experiment_module(name)
        sub = experiments.add_parser(name, help=module.DIAGNOSE_HELP)
        module.add_diagnose_options(sub)
        sub.set_defaults(handler=module.diagnose)


def _add_check(subparsers) -> None:
    parser = subparsers.add_parser(
        "check",
        help="verify the paper's propositions for an experiment",
        description="Check the false structure and severity of an experiment and, "
        "for experiment1, the printed and corrected network of Prop. 3.3.",
    )
    module = importlib.import_module("falsestruct._check_cli")
    experiments = parser.add_subparsers(dest="experiment", required=True)
    for name in EXPERIMENTS:
        sub = experiments.add_parser(name, help=f"checks for {name}")
        module.add_check_options(sub, name)
        sub.set_defaults(handler=module.check)


def _add_report(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="rebuild report.html of a run directory from its metrics",
        description="Rebuild report.html from metrics.json without retraining.",
    )
    parser.add_argument(
        "run_dir", help="run directory written by 'falsestruct reproduce'"
    )
    parser.set_defaults(handler=_report)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = _Parser(
        prog="falsestruct",
        description="Reproduce and probe false structures in deep learning "
        "(Thesing, Antun, Hansen 2019).",
    )
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    _add_reproduce(subparsers)
    _add_diagnose(subparsers)
    _add_check(subparsers)
    _add_report(subparsers)
    return parser


def _version() -> str:
    from . import __version__

    return f"falsestruct {__version__}"


def _reproduce(args: argparse.Namespace) -> int:
    from ._progress import make_progress
    from ._report import write_report
    from ._rundir import RunDirectory, check_writable_folder

    if not args.out.strip():
        raise ValueError("--out is empty; give the folder that receives the run")
    names = EXPERIMENTS if args.experiment == "all" else (args.experiment,)
    modules = {name: _experiment_module(name) for name in EXPERIMENTS}
    # Validate every option, also those of an experiment not selected, so a
    # bad value is never silently ignored, and do it before anything is written.
    configs = {name: modules[name].build_config(args) for name in EXPERIMENTS}
    check_writable_folder(Path(args.out))
    config = {name: modules[name].config_to_dict(configs[name]) for name in names}
    progress = make_progress(quiet=args.quiet)
    try:

        def finish(path, metrics):
            write_report(path, metrics=metrics, run_name=run.final_path.name)

        with RunDirectory(args.out, args.command_line, config, finish) as run:
            summaries = [
                modules[name].reproduce(configs[name], run, progress) for name in names
            ]
    finally:
        progress.close()
    for summary in summaries:
        print(summary)
    print(f"run directory: {run.final_path}")
    print(f"report: {run.final_path / 'report.html'}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from ._report import write_report

    path = write_report(args.run_dir)
    print(f"report: {path}")
    return 0


def _configure_logging(quiet: bool) -> None:
    """Send the package's log lines to stderr; other libraries' stay silent.

    Only the ``falsestruct`` logger gets a handler, so that JAX's own INFO
    lines (for example its search for TPU backends) do not reach the user.
    """
    logger = logging.getLogger("falsestruct")
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    if not any(getattr(h, "_falsestruct", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
        )
        handler._falsestruct = True
        logger.addHandler(handler)
    logger.propagate = False


class _Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM."""


def _raise_terminated(signum, frame) -> None:
    raise _Terminated()


def _error(message: str) -> None:
    print(f"falsestruct: error: {message}", file=sys.stderr)


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.command_line = shlex.join(["falsestruct", *argv])
    _configure_logging(quiet=getattr(args, "quiet", False))
    # SIGTERM (kill, timeout, batch schedulers) unwinds like Ctrl-C, so the
    # temporary run folder and the worker processes are cleaned up.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return _run_handler(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run_handler(args: argparse.Namespace) -> int:
    """Run the subcommand, turning expected failures into one-line errors."""
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError, PermissionError, WeightFileError) as error:
        _error(_first_line(error))
        return EXIT_USAGE
    except WorkerError as error:
        # A crash is not bad input: keep the worker's traceback in the log.
        logging.getLogger("falsestruct").error("worker failure: %s", error)
        _error(_first_line(error))
        print("falsestruct: no run directory was written", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader of stdout went away (for example `| head`); stop quietly.
        # Point stdout at /dev/null so the flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except OSError as error:
        _error(f"{error.strerror or _first_line(error)}: {error.filename or ''}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("falsestruct: interrupted; no run directory was written", file=sys.stderr)
        return 130
    except _Terminated:
        print("falsestruct: terminated; no run directory was written", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())
