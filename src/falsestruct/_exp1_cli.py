"""Command-line glue of Experiment I: options, validation, run files, diagnosis.

``falsestruct reproduce experiment1`` trains the four networks of Figure 2
(see ``falsestruct._exp1``), diagnoses each, diagnoses the authors' published
networks where their files are found, and writes weights, Figure 2,
``summary.md`` and the ``experiment1`` entry of ``metrics.json`` (fields in
``docs/run-directory.md``). ``falsestruct diagnose experiment1 FILE.npz``
diagnoses one stored network of any hidden width.
"""

import argparse
import json
import logging
from collections import Counter
from pathlib import Path

from ._exp1 import (
    NET_NAMES,
    NETS,
    PROTOCOLS,
    VERDICT_RULE,
    VERDICTS,
    Exp1Config,
    TrainedNet,
    diagnose_network,
    net_spec,
    predict_on_probes,
    train_all,
)
from ._exp1_data import Exp1Params, eps_upper_bound
from ._exp1_figures import plot_figure2
from ._parallel import default_workers, scheduler_address
from ._reference import REFERENCE_ENV, find_reference_folder
from ._weights import load_weights, save_weights

logger = logging.getLogger("falsestruct")

EXPERIMENT = "experiment1"
DIAGNOSE_HELP = "diagnose a 2 -> width -> 1 ReLU network against f_a (any width)"

# The authors' networks and the numbers an independent evaluation measured on
# them (20 001 grid points of [b, 1] restricted to S_eps, paper parameters).
REFERENCE_FILES = {
    "Psi1": "exp1_psi1_T7_delta.npz",
    "Psi2": "exp1_psi2_T5000_zero.npz",
    "Psi3": "exp1_psi3_T5000_delta.npz",
    "Psi4": "exp1_psi4_T10000_zero.npz",
}
PUBLISHED = {
    "Psi1": (0.422, 1.000, 0.000),
    "Psi2": (0.888, 0.888, 0.466),
    "Psi3": (0.422, 1.000, 0.000),
    "Psi4": (1.000, 1.000, 0.578),
}
PUBLISHED_TOLERANCE = 0.005
NUMBER_KEYS = ("agreement_c0", "agreement_c_delta", "ones_share_c0")
PAPER_CONCLUSION = {
    "false_structure": "learned the false structure g",
    "neither": "learned neither",
    "original": "learned f_a",
}
QUICK_NOTE = (
    "Protocol quick: Psi1 trains 200 000 full-batch epochs, Psi2 to Psi4 train "
    "3 000 epochs. In calibration runs Psi1 reached the false structure for 16 "
    "of 16 seeds at 200 000 epochs and Psi3 for 14 of 14 seeds at 3 000 epochs. "
    "Psi2 and Psi4 are far from converged, so their verdicts may differ from "
    "the paper's."
)


def tf_shape_spec() -> dict[str, tuple]:
    """Shapes of a 2 -> width -> 1 ReluNet in TensorFlow's layout, any width."""
    return {
        "dense.kernel": (2, "width"),
        "dense.bias": ("width",),
        "dense_1.kernel": ("width", 1),
        "dense_1.bias": (1,),
    }


# --- options and validation -------------------------------------------------


def add_reproduce_options(parser: argparse.ArgumentParser) -> None:
    """Add --protocol, --seeds, --workers, --scheduler and the --exp1-* options."""
    _add_shared_options(parser)
    _add_exp1_options(parser.add_argument_group("experiment1 options"))


def _add_shared_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="paper",
        help="training schedule: 'paper' (experiment1: 30 000 epochs per net; "
        "experiment2: 16 seeds, 1000 test images) or 'quick' (experiment1: Psi1 "
        "200 000 full-batch epochs, Psi2 to Psi4 3 000 epochs; experiment2: 4 "
        "seeds, 500 test images) (default: paper)",
    )
    parser.add_argument(
        "--seeds",
        metavar="N",
        type=int,
        default=1,
        help="experiment1: independent seeds trained per network, >= 1 (default: 1)",
    )
    parser.add_argument(
        "--workers",
        metavar="N",
        type=int,
        default=None,
        help="experiment1: training processes, each single-threaded and pinned "
        "to one core (default: the number of usable cores)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="experiment1: address of a Dask distributed scheduler, e.g. "
        "tcp://10.0.0.5:8786; the training jobs run on its workers instead of "
        "local processes (see docs/distributed.md) (default: local processes)",
    )


def add_params_options(parser, prefix: str = "--") -> None:
    """Add the f_a parameters a, K, eps and delta as `prefix` + name options.

    Read them back with ``params_from_args(args, prefix)``.
    """
    defaults = Exp1Params()
    parser.add_argument(
        f"{prefix}a",
        metavar="A",
        type=int,
        default=defaults.a,
        help=f"integer a of f_a(x) = ceil(a/x1) mod 2 (default: {defaults.a})",
    )
    parser.add_argument(
        f"{prefix}K",
        metavar="K",
        type=int,
        default=defaults.K,
        help=f"integer K > a; b = a/(K+1) and hidden width 4K (default: {defaults.K})",
    )
    parser.add_argument(
        f"{prefix}eps",
        metavar="EPS",
        type=float,
        default=defaults.eps,
        help=f"margin eps of S_eps around each jump of f_a, in x1 "
        f"units, 0 < eps < b^2/(2(a-b)) (default: {defaults.eps:g})",
    )
    parser.add_argument(
        f"{prefix}delta",
        metavar="DELTA",
        type=float,
        default=defaults.delta,
        help=f"x2 offset delta of T^r_delta and C_delta, 0 < delta "
        f"< eps (default: {defaults.delta:g})",
    )


def _add_exp1_options(group) -> None:
    add_params_options(group, "--exp1-")
    group.add_argument(
        "--exp1-shuffle",
        choices=("batches", "samples"),
        default="batches",
        help="batch-50 shuffling: 'batches' = fixed batches in a new "
        "order each epoch (the authors' pipeline), 'samples' = new "
        "batches from a fresh permutation each epoch (default: batches)",
    )
    group.add_argument(
        "--exp1-epochs",
        metavar="N",
        type=int,
        default=None,
        help="epochs for every network, overriding --protocol "
        "(default: the protocol's epochs)",
    )
    group.add_argument(
        "--exp1-nets",
        metavar="NETS",
        default=",".join(n.lower() for n in NET_NAMES),
        help="comma-separated subset of networks to train "
        "(default: psi1,psi2,psi3,psi4)",
    )


def _parse_nets(text: str) -> tuple[str, ...]:
    """Parse e.g. ``psi1,psi3`` into net names in the paper's order."""
    allowed = ",".join(name.lower() for name in NET_NAMES)
    parts = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [part for part in parts if part not in allowed.split(",")]
    if unknown or not parts:
        raise ValueError(
            f"--exp1-nets must be a comma-separated subset of {allowed}, got {text!r}"
        )
    return tuple(name for name in NET_NAMES if name.lower() in parts)


def params_from_args(args: argparse.Namespace, prefix: str = "--") -> Exp1Params:
    """Read the options of ``add_params_options(parser, prefix)`` and check them."""
    attribute = prefix.lstrip("-").replace("-", "_")
    values = [getattr(args, attribute + name) for name in ("a", "K", "eps", "delta")]
    return params_from_options(*values, prefix=prefix)


def params_from_options(a, K, eps, delta, *, prefix: str = "--") -> Exp1Params:
    """Check a, K, eps and delta, naming the options (`prefix` + name) in errors."""
    if a < 1:
        raise ValueError(f"{prefix}a must be an integer >= 1, got {a}")
    if K <= a:
        raise ValueError(f"{prefix}K must be > {prefix}a = {a}, got {K}")
    eps_max = eps_upper_bound(a, K)
    if not 0 < eps < eps_max:
        raise ValueError(
            f"{prefix}eps must lie in (0, b^2/(2(a-b))) = (0, {eps_max:.6g}) for "
            f"a={a}, K={K}, got {eps:g}"
        )
    if not 0 < delta < eps:
        raise ValueError(
            f"{prefix}delta must lie in (0, eps) = (0, {eps:g}), got {delta:g}"
        )
    return Exp1Params(a=a, K=K, eps=eps, delta=delta)


def build_config(args: argparse.Namespace) -> Exp1Config:
    """Validate the options into an Exp1Config before anything is written."""
    params = params_from_args(args, "--exp1-")
    if args.seeds < 1:
        raise ValueError(f"--seeds must be an integer >= 1, got {args.seeds}")
    if args.exp1_epochs is not None and args.exp1_epochs < 1:
        raise ValueError(
            f"--exp1-epochs must be an integer >= 1, got {args.exp1_epochs}"
        )
    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise ValueError(f"--workers must be an integer >= 1, got {workers}")
    scheduler = _scheduler_from_args(args)
    nets = _parse_nets(args.exp1_nets)
    return Exp1Config(
        params=params,
        protocol=args.protocol,
        seeds=args.seeds,
        shuffle=args.exp1_shuffle,
        epochs=args.exp1_epochs,
        nets=nets,
        workers=workers,
        scheduler=scheduler,
    )


def _scheduler_from_args(args: argparse.Namespace) -> str | None:
    """Return --scheduler as tcp://HOST:PORT, or None for local processes."""
    if args.scheduler is None:
        return None
    address = scheduler_address(args.scheduler, "--scheduler")
    if args.workers is not None:
        logger.warning(
            "--workers %d is ignored: with --scheduler the Dask workers train",
            args.workers,
        )
    return address


def config_to_dict(config: Exp1Config) -> dict:
    """Return the configuration as a JSON-ready dict."""
    return config.to_dict()


# --- reproduce --------------------------------------------------------------


def reproduce(config: Exp1Config, run, progress) -> str:
    """Train, diagnose and write Experiment I's files; return a text summary."""
    with run.stage("experiment1: train"):
        trained = train_all(config, progress)
    with run.stage("experiment1: diagnose"):
        entries = [_network_entry(config, item, run) for item in trained]
        reference = diagnose_reference(config.params)
    with run.stage("experiment1: figure 2"):
        figure = _write_figure(config, trained, run)
    metrics = _metrics(config, entries, reference, figure)
    run.metrics["experiments"][EXPERIMENT] = metrics
    run.file("experiment1/summary.md").write_text(summary_markdown(config, metrics))
    return summary_text(metrics)


def _network_entry(config: Exp1Config, item: TrainedNet, run) -> dict:
    relative = f"experiment1/weights/{item.net.name.lower()}-seed{item.seed}.npz"
    save_weights(run.file(relative), item.arrays)
    numbers = diagnose_network(item.arrays, config.params)
    return {
        "net": item.net.name,
        "training_set": item.net.training_set,
        "r": item.net.r,
        "seed": item.seed,
        "epochs": item.epochs,
        **{key: numbers[key] for key in NUMBER_KEYS},
        "verdict": numbers["verdict"],
        "paper_verdict": _paper_verdict(config, item.net.name),
        "final_loss": item.final_loss,
        "weights": relative,
    }


def _write_figure(config: Exp1Config, trained: list[TrainedNet], run) -> str:
    relative = "experiment1/figure2.png"
    panels = [
        (
            f"{item.net.name}: {item.net.training_set}",
            predict_on_probes(item.arrays, config.params),
        )
        for item in trained
        if item.seed == 0
    ]
    caption = f"seed 0 of {config.seeds}; protocol {config.protocol}"
    plot_figure2(panels, config.params, run.file(relative), caption=caption)
    return relative


def _verdict_counts(entries: list[dict]) -> dict[str, dict[str, int]]:
    counts = {}
    for name in dict.fromkeys(entry["net"] for entry in entries):
        tally = Counter(entry["verdict"] for entry in entries if entry["net"] == name)
        counts[name] = {verdict: tally.get(verdict, 0) for verdict in VERDICTS}
    return counts


def _paper_verdict(config: Exp1Config, name: str) -> str | None:
    """Return the paper's verdict for `name`, or None at other parameters."""
    if config.params != Exp1Params():
        return None
    return net_spec(name).paper_verdict


def _note(config: Exp1Config) -> str | None:
    """Say how this run departs from the published protocol, if it does."""
    parts = []
    if config.protocol == "quick":
        parts.append(QUICK_NOTE)
    if config.epochs is not None:
        parts.append(
            f"Every network trained {config.epochs} epochs (--exp1-epochs), "
            f"not the {config.protocol} protocol's schedule."
        )
    if config.params != Exp1Params():
        parts.append(
            "The parameters differ from the paper's (a=20, K=26, eps=0.01, "
            "delta=1e-4), so the paper's conclusions do not apply."
        )
    return " ".join(parts) or None


def _metrics(config, entries, reference, figure) -> dict:
    return {
        "protocol": config.protocol,
        "rule": VERDICT_RULE,
        "seeds": config.seeds,
        "epochs": {name: config.epochs_for(net_spec(name)) for name in config.nets},
        "note": _note(config),
        "networks": entries,
        "verdict_counts": _verdict_counts(entries),
        "reference": reference,
        "figures": {"figure2": figure},
    }


# --- the authors' networks ---------------------------------------------------


def find_reference_dir() -> Path | None:
    """Return the folder of the authors' four networks, or None if not found."""
    return find_reference_folder(REFERENCE_FILES.values())


def diagnose_reference(params: Exp1Params) -> list[dict] | None:
    """Diagnose the authors' four networks; None if not found or params differ."""
    if params != Exp1Params():
        logger.warning(
            "the authors' networks are diagnosed only at the paper's "
            "parameters a=20, K=26, eps=0.01, delta=1e-4; skipped"
        )
        return None
    folder = find_reference_dir()
    if folder is None:
        logger.warning(
            "the authors' networks were not found (set %s to their "
            "folder); the run records reference: null",
            REFERENCE_ENV,
        )
        return None
    return [_reference_entry(folder, net.name, params) for net in NETS]


def _reference_entry(folder: Path, name: str, params: Exp1Params) -> dict:
    path = folder / REFERENCE_FILES[name]
    numbers = diagnose_network(load_weights(path, tf_shape_spec()), params)
    published = dict(zip(NUMBER_KEYS, PUBLISHED[name], strict=True))
    return {
        "net": name,
        "file": path.name,
        **numbers,
        "paper_verdict": net_spec(name).paper_verdict,
        "published": published | {"tolerance": PUBLISHED_TOLERANCE},
    }


# --- summaries ----------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:.4f}"


def summary_markdown(config: Exp1Config, metrics: dict) -> str:
    """Render the verdict tables of a run as Markdown."""
    lines = [
        "# Experiment I: f_a(x) = ceil(a / x1) mod 2",
        "",
        f"Protocol `{config.protocol}`, {config.seeds} seed(s) per network, "
        f"batching `{config.shuffle}`, a={config.params.a}, K={config.params.K}, "
        f"eps={config.params.eps:g}, delta={config.params.delta:g}.",
        "",
    ]
    if metrics["note"]:
        lines += [metrics["note"], ""]
    lines += _counts_table(metrics) + [""] + _networks_table(metrics)
    if metrics["reference"]:
        lines += [""] + _reference_table(metrics["reference"])
    lines += ["", f"Verdict rule: {VERDICT_RULE}", ""]
    return "\n".join(lines)


def _counts_table(metrics: dict) -> list[str]:
    lines = [
        "| net | training set | epochs | false_structure | original | neither "
        "| paper's conclusion |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, counts in metrics["verdict_counts"].items():
        net = net_spec(name)
        lines.append(
            f"| {name} | {net.training_set} | {metrics['epochs'][name]} | "
            f"{counts['false_structure']} | {counts['original']} | {counts['neither']} "
            f"| {_conclusion(metrics, name)} |"
        )
    return lines


def _recorded_paper_verdict(metrics: dict, name: str) -> str | None:
    verdicts = {entry["net"]: entry["paper_verdict"] for entry in metrics["networks"]}
    return verdicts.get(name)


def _conclusion(metrics: dict, name: str) -> str:
    """Return the paper's conclusion for `name`, or why there is none."""
    verdict = _recorded_paper_verdict(metrics, name)
    return "not comparable" if verdict is None else PAPER_CONCLUSION[verdict]


def _networks_table(metrics: dict) -> list[str]:
    lines = [
        "| net | seed | agreement on C_0 | agreement on C_delta | C_0 predicted 1 "
        "| verdict | final loss |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in metrics["networks"]:
        lines.append(
            f"| {entry['net']} | {entry['seed']} | {_fmt(entry['agreement_c0'])} | "
            f"{_fmt(entry['agreement_c_delta'])} | {_fmt(entry['ones_share_c0'])} | "
            f"{entry['verdict']} | {entry['final_loss']:.3g} |"
        )
    return lines


def _reference_table(reference: list[dict]) -> list[str]:
    lines = [
        "The authors' published networks:",
        "",
        "| net | file | agreement on C_0 | agreement on C_delta | C_0 predicted 1 "
        "| verdict | paper's conclusion |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in reference:
        lines.append(
            f"| {entry['net']} | {entry['file']} | {_fmt(entry['agreement_c0'])} | "
            f"{_fmt(entry['agreement_c_delta'])} | {_fmt(entry['ones_share_c0'])} | "
            f"{entry['verdict']} | {PAPER_CONCLUSION[entry['paper_verdict']]} |"
        )
    return lines


def summary_text(metrics: dict) -> str:
    """Return a short plain-text verdict table for the terminal."""
    lines = [f"Experiment I ({metrics['protocol']} protocol): verdicts per network"]
    if metrics["note"] and "--exp1-epochs" in metrics["note"]:
        lines[0] += f" (epochs overridden: {sorted(set(metrics['epochs'].values()))})"
    for name, counts in metrics["verdict_counts"].items():
        tally = ", ".join(f"{verdict} {count}" for verdict, count in counts.items())
        paper = _recorded_paper_verdict(metrics, name) or "not comparable"
        lines.append(
            f"  {name} {net_spec(name).training_set:<13} {tally}  (paper: {paper})"
        )
    return "\n".join(lines)


# --- diagnose -----------------------------------------------------------------


def add_diagnose_options(parser: argparse.ArgumentParser) -> None:
    """Add the weight file, --json and the f_a parameters to `parser`."""
    parser.add_argument(
        "file",
        help=".npz with dense.kernel (2, width), dense.bias "
        "(width,), dense_1.kernel (width, 1), dense_1.bias (1,)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of text"
    )
    add_params_options(parser)


def diagnose(args: argparse.Namespace) -> int:
    """Print the diagnosis of one stored network; return the exit code."""
    params = params_from_args(args)
    arrays = load_weights(args.file, tf_shape_spec())
    result = diagnose_network(arrays, params)
    if args.json:
        print(json.dumps(result))
        return 0
    width = arrays["dense.kernel"].shape[1]
    print(f"{args.file} (hidden width {width})")
    print(f"  agreement with f_a on C_0:     {_fmt(result['agreement_c0'])}")
    print(f"  agreement with f_a on C_delta: {_fmt(result['agreement_c_delta'])}")
    print(f"  share of C_0 predicted 1:      {_fmt(result['ones_share_c0'])}")
    print(f"  verdict: {result['verdict']}")
    return 0
