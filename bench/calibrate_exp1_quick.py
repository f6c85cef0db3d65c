"""Find the epoch counts at which Experiment I's quick protocol keeps its verdicts.

Trains Psi1 and Psi3 (the two networks that, by the paper, learn the false
structure) for several epoch counts and seeds, one job per (net, epochs,
seed) on one single-threaded process per core, and records the verdict of
each. Writes ``bench/results/exp1-quick-calibration.json`` (or ``--out``).

Usage: .venv/bin/python bench/calibrate_exp1_quick.py [--seeds 6]
    [--psi1 30000,60000] [--psi3 1000,2000] [--workers 2]
"""

import argparse
import json
import time
from pathlib import Path

from falsestruct._exp1 import _train_job, diagnose_network
from falsestruct._exp1_data import Exp1Params
from falsestruct._parallel import Job, default_workers, run_jobs

DEFAULT_EPOCHS = {"Psi1": "10000,30000,60000,100000", "Psi3": "500,1000,2000,3000"}
STEPS_PER_EPOCH = {"Psi1": 1, "Psi3": 100}
RESULTS = Path(__file__).parent / "results" / "exp1-quick-calibration.json"


def make_jobs(epochs_by_net: dict[str, list[int]], seeds: range) -> list[Job]:
    params = Exp1Params().to_dict()
    jobs = []
    for net, counts in epochs_by_net.items():
        for epochs in counts:
            for seed in seeds:
                payload = {
                    "net": net,
                    "seeds": [seed],
                    "params": params,
                    "epochs": epochs,
                    "shuffle": "batches",
                }
                cost = epochs * STEPS_PER_EPOCH[net]
                jobs.append(Job(f"{net}/{epochs}/{seed}", cost, _train_job, payload))
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6, help="seeds per epoch count")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed")
    for net, counts in DEFAULT_EPOCHS.items():
        parser.add_argument(
            f"--{net.lower()}",
            default=counts,
            help=f"comma-separated epoch counts for {net} "
            f"(default {counts}; empty: skip {net})",
        )
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--out", type=Path, default=RESULTS, help="result JSON")
    args = parser.parse_args()
    epochs_by_net = {
        net: [int(v) for v in getattr(args, net.lower()).split(",") if v]
        for net in DEFAULT_EPOCHS
    }
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    start = time.perf_counter()
    outcomes = run_jobs(make_jobs(epochs_by_net, seeds), workers=args.workers)
    rows = []
    for job_id, trained in sorted(outcomes.items()):
        net, epochs, seed = job_id.split("/")
        numbers = diagnose_network(trained[0]["arrays"])
        rows.append(
            {
                "net": net,
                "epochs": int(epochs),
                "seed": int(seed),
                **numbers,
                "final_loss": trained[0]["final_loss"],
            }
        )
        print(net, epochs, seed, numbers)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "rows": rows,
                "workers": args.workers,
                "wall_seconds": time.perf_counter() - start,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
