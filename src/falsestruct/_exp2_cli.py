"""Command-line glue of Experiment II: options, validation, run files, diagnosis.

``falsestruct reproduce experiment2`` trains Phi on both training-set variants
(see ``falsestruct._exp2``) and measures Table 1 for every seed. Where the
authors' network file is found, it measures that network too. It writes
weights, Figures 3 and 4, ``table1.csv``, ``table1.md`` and the
``experiment2`` entry of ``metrics.json`` (fields in
``docs/run-directory.md``).
``falsestruct diagnose experiment2 FILE.npz`` measures Table 1 for one stored
network.
"""

import argparse
import csv
import io
import json
import logging
from dataclasses import asdict, replace
from pathlib import Path

from ._cnn import (
    stripe_cnn_from_tf_arrays,
    stripe_cnn_tf_shapes,
    stripe_cnn_to_tf_arrays,
)
from ._exp2 import (
    ROW_SETS,
    VARIANT_DESCRIPTIONS,
    Exp2Config,
    evaluate_table1,
    predict,
    reference_table1,
    summarise_table1,
    table1_rows,
    train_variant,
)
from ._exp2_figures import figure3_images, plot_figure3, plot_figure4
from ._reference import REFERENCE_ENV, find_reference_folder
from ._stripes import VARIANTS
from ._weights import load_weights, save_weights

logger = logging.getLogger("falsestruct")

EXPERIMENT = "experiment2"
REFERENCE_FILE = "exp2_phi_stripes.npz"
DIAGNOSE_HELP = "measure Table 1 (accuracy on C-tilde and C-hat) for a stripe CNN"
QUICK_SEEDS = 4
# 100 000 float64 images of 32 x 32 are 0.8 GB per test set.
MAX_TEST_SIZE = 100_000
QUICK_TEST_SIZE = 500
QUICK_NOTE = (
    f"Protocol quick: {QUICK_SEEDS} seeds per variant and {QUICK_TEST_SIZE} test "
    "images per set unless set with --exp2-seeds or --exp2-test-size. Training "
    "is the paper's 10 full-batch steps in either protocol."
)


# --- options and validation -------------------------------------------------


def add_reproduce_options(parser: argparse.ArgumentParser) -> None:
    """Add the --exp2-* options; --protocol comes from experiment 1's module."""
    group = parser.add_argument_group("experiment2 options")
    group.add_argument(
        "--exp2-seeds",
        type=int,
        default=None,
        help="networks trained per training-set variant, >= 1 "
        f"(default: 16, or {QUICK_SEEDS} with --protocol quick)",
    )
    group.add_argument(
        "--exp2-test-size",
        type=int,
        default=None,
        help="images in each test set C-tilde and C-hat, >= 1 "
        f"(default: 1000, or {QUICK_TEST_SIZE} with --protocol quick)",
    )
    group.add_argument(
        "--exp2-offset",
        type=float,
        default=0.01,
        help="colour offset a of the training set, 0 < a < 0.5 (default: 0.01)",
    )
    group.add_argument(
        "--exp2-variant",
        choices=(*VARIANTS, "both"),
        default="both",
        help="training set: 'paper' (true vertical stripes), 'authors' (the "
        "published generator, horizontal stripes only) or 'both' (default: both)",
    )
    group.add_argument(
        "--exp2-rows",
        choices=ROW_SETS,
        default="fine",
        help="Table 1 offset ranges: 'paper' (the four printed rows) or 'fine' "
        "(18 rows from [0.009, 0.010] down to [0.0001, 0.0002]) (default: fine)",
    )


def _check_positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value}")


def _check_test_size(option: str, value: int | None) -> None:
    """Reject test sizes outside [1, MAX_TEST_SIZE] before any training."""
    _check_positive(option, value)
    if value is not None and value > MAX_TEST_SIZE:
        raise ValueError(
            f"{option} must be <= {MAX_TEST_SIZE} images (each test set is held "
            f"in memory, 8 KiB per image), got {value}"
        )


def build_config(args: argparse.Namespace) -> Exp2Config:
    """Validate the options into an Exp2Config before anything is written."""
    _check_positive("--exp2-seeds", args.exp2_seeds)
    _check_test_size("--exp2-test-size", args.exp2_test_size)
    if not 0 < args.exp2_offset < 0.5:
        raise ValueError(
            f"--exp2-offset must lie in (0, 0.5), got {args.exp2_offset:g}"
        )
    protocol = getattr(args, "protocol", "paper")
    quick = protocol == "quick"
    defaults = Exp2Config()
    seeds = args.exp2_seeds or (QUICK_SEEDS if quick else defaults.seeds)
    test_size = args.exp2_test_size or (
        QUICK_TEST_SIZE if quick else defaults.test_size
    )
    variants = VARIANTS if args.exp2_variant == "both" else (args.exp2_variant,)
    return Exp2Config(
        seeds=seeds,
        test_size=test_size,
        offset=args.exp2_offset,
        variants=variants,
        rows=args.exp2_rows,
        protocol=protocol,
    )


def config_to_dict(config: Exp2Config) -> dict:
    """Return the configuration as a JSON-ready dict."""
    result = asdict(config)
    result["variants"] = list(config.variants)
    result["table1_rows"] = [list(row) for row in table1_rows(config.rows)]
    return result


# --- reproduce --------------------------------------------------------------


def reproduce(config: Exp2Config, run, progress) -> str:
    """Train, evaluate and write Experiment II's files; return a text summary."""
    variants, models = {}, {}
    for variant in config.variants:
        models[variant], entry = _train_and_save(config, variant, run, progress)
        variants[variant] = entry
    for variant in config.variants:
        with run.stage(f"experiment2: table 1 ({variant})"):
            accuracies = _evaluate(config, models[variant], variant, progress)
        variants[variant]["table1"] = summarise_table1(accuracies, config)
    with run.stage("experiment2: authors' network"):
        reference, reference_model = _evaluate_reference(config)
    with run.stage("experiment2: figures"):
        figures = _write_figures(models, reference_model, run)
    metrics = _metrics(config, variants, reference, figures)
    run.metrics["experiments"][EXPERIMENT] = metrics
    run.file("experiment2/table1.csv").write_text(table1_csv(metrics))
    run.file("experiment2/table1.md").write_text(table1_markdown(metrics))
    return summary_text(metrics)


def _train_and_save(config: Exp2Config, variant: str, run, progress):
    description = f"experiment2: train on the {variant} set"
    with (
        run.stage(description),
        progress.task(description, config.seeds, "networks") as task,
    ):
        models, losses = train_variant(variant, config, on_seed=task.update)
    weights = []
    for seed, model in enumerate(models):
        relative = f"experiment2/weights/{variant}-seed{seed}.npz"
        save_weights(run.file(relative), stripe_cnn_to_tf_arrays(model))
        weights.append(relative)
    entry = {
        "description": VARIANT_DESCRIPTIONS[variant],
        "final_loss": [float(loss) for loss in losses[:, -1]],
        "weights": weights,
    }
    return models, entry


def _evaluate(config: Exp2Config, models, variant: str, progress):
    rows = len(table1_rows(config.rows))
    description = f"experiment2: table 1 for the {variant} set"
    with progress.task(description, rows, "rows") as task:
        return evaluate_table1(models, config, on_row=task.update)


def find_reference_file() -> Path | None:
    """Return the authors' Experiment II network file, or None if not found."""
    folder = find_reference_folder([REFERENCE_FILE])
    return None if folder is None else folder / REFERENCE_FILE


def _evaluate_reference(config: Exp2Config):
    path = find_reference_file()
    if path is None:
        logger.warning(
            "the authors' network %s was not found (set %s to its folder); "
            "the run records reference: null",
            REFERENCE_FILE,
            REFERENCE_ENV,
        )
        return None, None
    model = stripe_cnn_from_tf_arrays(load_weights(path, stripe_cnn_tf_shapes()))
    return {"file": path.name, "table1": reference_table1(model, config)}, model


def _write_figures(models: dict, reference_model, run) -> dict[str, str]:
    images = figure3_images()
    figures = {}
    networks = {
        variant: (nets[0], f"seed 0, {variant} set") for variant, nets in models.items()
    }
    if reference_model is not None:
        networks["reference"] = (reference_model, "the authors' network")
    for name, (model, label) in networks.items():
        predictions = {code: predict(model, images[code][0]) for code in images}
        relative = f"experiment2/figure3-{name}.png"
        title = f"Figure 3: Φ ({label}) on C̃ and Ĉ, a in [0.009, 0.010]"
        plot_figure3(run.file(relative), images, predictions, title)
        figures[f"figure3_{name}"] = relative
    plot_figure4(run.file("experiment2/figure4.png"))
    figures["figure4"] = "experiment2/figure4.png"
    return figures


def _metrics(config: Exp2Config, variants: dict, reference, figures) -> dict:
    return {
        "protocol": config.protocol,
        "seeds": config.seeds,
        "test_size": config.test_size,
        "offset": config.offset,
        "rows": config.rows,
        "test_seed": config.test_seed,
        "note": QUICK_NOTE if config.protocol == "quick" else None,
        "variants": variants,
        "reference": reference,
        "figures": figures,
    }


# --- tables -------------------------------------------------------------------


def _percent(value) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def table1_csv(metrics: dict) -> str:
    """Render every variant's Table 1 rows as CSV, one line per row and variant."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["variant", "b", "c", "published_tilde", "published_hat"]
        + [
            f"{code}_{stat}"
            for code in ("tilde", "hat")
            for stat in ("mean", "std", "min", "max")
        ]
        + ["share_tilde_100", "share_hat_0"]
    )
    for variant, entry in metrics["variants"].items():
        for row in entry["table1"]:
            stats = [
                row[code][stat]
                for code in ("tilde", "hat")
                for stat in ("mean", "std", "min", "max")
            ]
            writer.writerow(
                [
                    variant,
                    row["b"],
                    row["c"],
                    row["published_tilde"],
                    row["published_hat"],
                ]
                + stats
                + [row["share_tilde_100"], row["share_hat_0"]]
            )
    return buffer.getvalue()


def _variant_lines(variant: str, entry: dict, seeds: int) -> list[str]:
    lines = [
        f"## Training set: {variant}",
        "",
        entry["description"] + ".",
        "",
        "| b | c | C̃ published | C̃ mean ± std (min–max) | seeds at 100 % | "
        "Ĉ published | Ĉ mean ± std (min–max) | seeds at 0 % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in entry["table1"]:
        cells = [f"{row['b']:g}", f"{row['c']:g}"]
        for code, share in (("tilde", "share_tilde_100"), ("hat", "share_hat_0")):
            s = row[code]
            cells += [
                _percent(row[f"published_{code}"]),
                f"{_percent(s['mean'])} ± {_percent(s['std'])} "
                f"({_percent(s['min'])}–{_percent(s['max'])})",
                f"{round(row[share] * seeds)}/{seeds}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def _reference_lines(reference: dict) -> list[str]:
    lines = [
        f"## The authors' network ({reference['file']})",
        "",
        "| b | c | C̃ measured | C̃ published | Ĉ measured | Ĉ published |",
        "|---|---|---|---|---|---|",
    ]
    for row in reference["table1"]:
        lines.append(
            f"| {row['b']:g} | {row['c']:g} | {_percent(row['accuracy_tilde'])} | "
            f"{_percent(row['published_tilde'])} | {_percent(row['accuracy_hat'])} | "
            f"{_percent(row['published_hat'])} |"
        )
    return lines + [""]


def table1_markdown(metrics: dict) -> str:
    """Render Table 1 per training-set variant and for the authors' network."""
    lines = [
        "# Experiment II: Table 1 (accuracy in %)",
        "",
        f"{metrics['seeds']} seeds per training set, {metrics['test_size']} images "
        f"per test set, training offset a = {metrics['offset']:g}.",
        "",
    ]
    if metrics["note"]:
        lines += [metrics["note"], ""]
    for variant, entry in metrics["variants"].items():
        lines += _variant_lines(variant, entry, metrics["seeds"])
    if metrics["reference"]:
        lines += _reference_lines(metrics["reference"])
    return "\n".join(lines)


def _count(values, condition) -> str:
    return f"{sum(1 for v in values if condition(v))}/{len(values)}"


def summary_text(metrics: dict) -> str:
    """Return a short plain-text summary of the first Table 1 row per variant."""
    lines = [
        f"Experiment II: {metrics['seeds']} seeds per training set, "
        f"{metrics['test_size']} test images per set"
    ]
    for variant, entry in metrics["variants"].items():
        row = entry["table1"][0]
        hat = [seed["accuracy_hat"] for seed in row["per_seed"]]
        lines.append(
            f"  {variant:<7} [{row['b']:g}, {row['c']:g}]: C-tilde mean "
            f"{_percent(row['tilde']['mean'])} %, C-hat mean "
            f"{_percent(row['hat']['mean'])} %; seeds with C-hat = 0 %: "
            f"{_count(hat, lambda v: v <= 0.0)}, with C-hat >= 98 %: "
            f"{_count(hat, lambda v: v >= 0.98)}"
        )
    if metrics["reference"]:
        row = metrics["reference"]["table1"][0]
        lines.append(
            f"  authors' network [{row['b']:g}, {row['c']:g}]: C-tilde "
            f"{_percent(row['accuracy_tilde'])} %, "
            f"C-hat {_percent(row['accuracy_hat'])} %"
        )
    return "\n".join(lines)


# --- diagnose -----------------------------------------------------------------


def add_diagnose_options(parser: argparse.ArgumentParser) -> None:
    """Add the weight file, --json, --seed, --test-size and --rows to `parser`."""
    shapes = ", ".join(f"{k} {v}" for k, v in stripe_cnn_tf_shapes().items())
    parser.add_argument("file", help=f".npz in TensorFlow's layout: {shapes}")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of text"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=Exp2Config().test_seed,
        help="seed of the test sets (default: %(default)s)",
    )
    parser.add_argument(
        "--test-size",
        type=int,
        default=1000,
        help="images in each test set, >= 1 (default: 1000)",
    )
    parser.add_argument(
        "--rows",
        choices=ROW_SETS,
        default="paper",
        help="offset ranges: the paper's four or the fine 18 (default: paper)",
    )


def diagnose(args: argparse.Namespace) -> int:
    """Print Table 1 for one stored network; return the exit code."""
    _check_test_size("--test-size", args.test_size)
    if args.seed < 0:
        raise ValueError(f"--seed must be an integer >= 0, got {args.seed}")
    config = replace(
        Exp2Config(), test_size=args.test_size, rows=args.rows, test_seed=args.seed
    )
    model = stripe_cnn_from_tf_arrays(load_weights(args.file, stripe_cnn_tf_shapes()))
    rows = reference_table1(model, config)
    if args.json:
        print(
            json.dumps(
                {
                    "file": str(args.file),
                    "test_size": args.test_size,
                    "seed": args.seed,
                    "table1": rows,
                }
            )
        )
        return 0
    print(f"{args.file}: accuracy in % on {args.test_size} images per test set")
    print(f"  {'b':>7} {'c':>7} {'C-tilde':>8} {'C-hat':>6}  published")
    for row in rows:
        published = ""
        if row["published_tilde"] is not None:
            published = (
                f"{_percent(row['published_tilde'])} / {_percent(row['published_hat'])}"
            )
        print(
            f"  {row['b']:>7g} {row['c']:>7g} {_percent(row['accuracy_tilde']):>8} "
            f"{_percent(row['accuracy_hat']):>6}  {published}"
        )
    return 0
