"""Benchmark Experiment II: training plus the paper's four Table 1 rows.

Each measurement runs in a fresh Python process, so JAX's import and XLA
compilation are included in the wall time. The child reports its wall time
and its peak resident memory (``resource.getrusage``, ru_maxrss).

Usage::

    .venv/bin/python bench/bench_exp2.py [--repeats 3] [--seeds 1 16]

Writes ``bench/results/exp2.json``; ``bench/exp2.md`` records the numbers of
a run by hand.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from falsestruct._rundir import machine_info

HERE = Path(__file__).resolve().parent

# Runs in the child: train `seeds` networks on one variant and measure the
# paper's four Table 1 rows with 1000-image test sets.
CHILD = """
import json, resource, sys, time
start = time.perf_counter()
import falsestruct
from falsestruct._exp2 import Exp2Config, evaluate_table1, train_variant
config = Exp2Config(seeds={seeds}, test_size=1000, rows="paper")
models, _ = train_variant("{variant}", config)
trained = time.perf_counter()
evaluate_table1(models, config)
done = time.perf_counter()
print(json.dumps({{
    "train_seconds": trained - start,
    "wall_seconds": done - start,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}}))
"""


def run_child(seeds: int, variant: str) -> dict:
    """Run one measurement in a fresh interpreter and return its numbers."""
    code = CHILD.format(seeds=seeds, variant=variant)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(seeds: int, variant: str, repeats: int) -> dict:
    """Repeat one measurement and return every run and the medians."""
    runs = [run_child(seeds, variant) for _ in range(repeats)]
    medians = {
        key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]
    }
    return {"seeds": seeds, "variant": variant, "runs": runs, "median": medians}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--variant", default="authors", choices=("paper", "authors"))
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results = [measure(s, args.variant, args.repeats) for s in args.seeds]
    record = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started": started,
        "machine": machine_info(),
        "measurements": results,
    }
    out = HERE / "results" / "exp2.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    for entry in results:
        print(entry["seeds"], "seeds:", entry["median"])


if __name__ == "__main__":
    main()
