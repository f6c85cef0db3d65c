"""``falsestruct check``: verify Props. 3.2 to 3.4 and print the numbers.

``check experiment1`` checks Prop. 3.2 (the x2 = 0 rule is a false structure
for f_a relative to T^r_delta, with its severity) and Prop. 3.3 (the printed
network of the proof and the corrected one). ``check experiment2`` checks
Prop. 3.4 (the pixel-sum rule is a false structure for the stripe direction
relative to M-tilde, with its severity on M-tilde and M-hat).

Exit codes: 0 when every check gives what Thesing, Antun, Hansen
(arXiv:1906.01478, 2019) state, except that the printed network of Prop. 3.3
must fail exactly where the erratum in ``falsestruct._prop33`` predicts; 1
when a check does not; 2 for invalid options.
"""

import argparse
import json
import math
from dataclasses import dataclass

from ._exp1_cli import add_params_options, params_from_args
from ._prop33 import Prop33Config, check_prop33
from ._propositions import check_prop32, check_prop34

EXIT_HOLDS = 0
# Fewer draws than this make the severity interval too wide to compare with
# the exact value, so a check could fail by chance alone.
MIN_SAMPLES = 1000
EXIT_FAILS = 1


def add_check_options(parser: argparse.ArgumentParser, experiment: str) -> None:
    """Add the options of ``falsestruct check EXPERIMENT`` to its subparser."""
    parser.add_argument(
        "--samples",
        type=int,
        default=100_000,
        help="draws of each sampled measure (default: 100000)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of every random draw (default: 0)"
    )
    parser.add_argument(
        "--witnesses",
        type=int,
        default=3,
        help="samples of C to show as witnesses (default: 3)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    if experiment == "experiment1":
        _add_exp1_options(parser)
    elif experiment == "experiment2":
        _add_exp2_options(parser)
    else:
        raise ValueError(
            f"`experiment` must be experiment1 or experiment2, got {experiment!r}"
        )


def _add_exp1_options(parser: argparse.ArgumentParser) -> None:
    add_params_options(parser)
    parser.add_argument(
        "--eta",
        type=float,
        default=Prop33Config.eta,
        help="cross-entropy bound eta of Prop. 3.3 (default: 0.01)",
    )
    parser.add_argument(
        "--r",
        type=int,
        default=Prop33Config.r,
        help="size r of the training set T^r_delta and of the sample sets of "
        "Prop. 3.3 (default: 10000)",
    )


def _add_exp2_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--offset-min",
        type=float,
        default=0.001,
        help="smallest colour offset a of the sampled stripe images (default: 0.001)",
    )
    parser.add_argument(
        "--offset-max",
        type=float,
        default=0.01,
        help="largest colour offset a of the sampled stripe images, below 0.5 "
        "(default: 0.01)",
    )


@dataclass(frozen=True)
class CheckConfig:
    """Validated options of one ``falsestruct check`` call."""

    experiment: str
    samples: int
    seed: int
    witnesses: int
    as_json: bool
    prop33: Prop33Config | None = None
    offset_range: tuple[float, float] | None = None


def build_config(args: argparse.Namespace) -> CheckConfig:
    """Validate the options; raise ValueError naming the bad value and range."""
    if args.samples < MIN_SAMPLES:
        raise ValueError(
            f"--samples must be >= {MIN_SAMPLES}, so that the severity estimate "
            f"is meaningful, got {args.samples}"
        )
    if args.seed < 0:
        raise ValueError(f"--seed must be an integer >= 0, got {args.seed}")
    if args.witnesses < 0:
        raise ValueError(f"--witnesses must be >= 0, got {args.witnesses}")
    common = dict(
        experiment=args.experiment,
        samples=args.samples,
        seed=args.seed,
        witnesses=args.witnesses,
        as_json=args.json,
    )
    if args.experiment == "experiment1":
        return CheckConfig(**common, prop33=_prop33_config(args))
    if not 0 < args.offset_min < args.offset_max < 0.5:
        raise ValueError(
            "--offset-min and --offset-max must satisfy 0 < min < max < 0.5, got "
            f"{args.offset_min!r} and {args.offset_max!r}"
        )
    return CheckConfig(**common, offset_range=(args.offset_min, args.offset_max))


def _prop33_config(args: argparse.Namespace) -> Prop33Config:
    params = params_from_args(args)
    if not (math.isfinite(args.eta) and args.eta > 0):
        raise ValueError(f"--eta must be a finite number > 0, got {args.eta!r}")
    if args.r < 1:
        raise ValueError(f"--r must be an integer >= 1, got {args.r}")
    return Prop33Config(params=params, eta=args.eta, r=args.r, seed=args.seed)


def _run_experiment1(config: CheckConfig) -> dict:
    params, r = config.prop33.params, config.prop33.r
    prop32 = check_prop32(
        params,
        r=r,
        n_samples=config.samples,
        seed=config.seed,
        n_witnesses=config.witnesses,
    )
    return {"prop32": prop32, "prop33": check_prop33(config.prop33)}


def _run_experiment2(config: CheckConfig) -> dict:
    low, high = config.offset_range
    prop34 = check_prop34(
        n_samples=config.samples,
        seed=config.seed,
        a_min=low,
        a_max=high,
        n_witnesses=config.witnesses,
    )
    return {"prop34": prop34}


def _run(config: CheckConfig) -> tuple[bool, dict, str]:
    """Run the checks of one experiment; return (all hold, JSON dict, text)."""
    if config.experiment == "experiment1":
        results = _run_experiment1(config)
    else:
        results = _run_experiment2(config)
    holds = all(result.holds for result in results.values())
    as_dict = {"experiment": config.experiment, "holds": holds}
    as_dict |= {name: result.to_dict() for name, result in results.items()}
    text = "\n".join(result.summary() for result in results.values())
    return holds, as_dict, text


def check(args: argparse.Namespace) -> int:
    """Run ``falsestruct check``; print the results and return the exit code."""
    config = build_config(args)
    holds, as_dict, text = _run(config)
    if config.as_json:
        print(json.dumps(as_dict, indent=2))
    else:
        print(text)
        print(
            f"{config.experiment}: {'all checks hold' if holds else 'a check FAILED'}"
        )
    return EXIT_HOLDS if holds else EXIT_FAILS
