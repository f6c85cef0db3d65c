"""Benchmark Experiment I: time per Adam step and the full paper protocol.

1. Microseconds per optimiser step of one 2 -> 104 -> 1 network (float64,
   batch 50, TensorFlow 1 Adam), in a child process pinned to one core with
   XLA's thread pool off, as the training workers run. Each chunk is
   ``--chunk-epochs`` epochs of T^5000 (100 steps per epoch); the first
   chunk, which includes compilation, is dropped and the median of the rest
   is reported.
2. Wall time and peak memory of the real command
   ``falsestruct reproduce experiment1 --protocol paper --seeds 1`` (about 12
   million steps) on all usable cores. Peak memory is reported two ways: the
   largest single process (``getrusage(RUSAGE_CHILDREN).ru_maxrss``) and the
   largest sum of RSS over the process tree, sampled from /proc every 0.2 s.

Writes ``bench/results/exp1.json``. Usage:

    .venv/bin/python bench/bench_exp1.py [--skip-paper] [--protocol paper]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from falsestruct._parallel import SINGLE_THREAD_XLA_FLAGS, usable_cores
from falsestruct._rundir import machine_info

RESULTS = Path(__file__).parent / "results" / "exp1.json"

STEP_TIMER = """
import json, os, sys, time
os.sched_setaffinity(0, {{{core}}})
import numpy as np
from falsestruct._exp1 import NETS, train_spec_for, draw_training_set
from falsestruct._exp1_data import Exp1Params
from falsestruct._models import ReluNet
from falsestruct._training import make_ensemble, train_ensemble
from dataclasses import replace

net = NETS[2]  # Psi3: T^5000_delta, batch 50, 100 steps per epoch
params = Exp1Params()
x, y = draw_training_set(net, params, 0)
spec = replace(train_spec_for(net, {epochs}, "batches"), chunk_steps={chunk_steps})
stamps = []
models = make_ensemble(lambda key: ReluNet(104, key=key), [0])
start = time.perf_counter()
train_ensemble(models, x[None], y[None], spec, schedule_seeds=[0],
               progress=lambda done, total: stamps.append(time.perf_counter()))
times = np.diff([start] + stamps)
print(json.dumps({{"chunk_seconds": times.tolist(), "steps_per_chunk": {chunk_steps}}}))
"""


def time_steps(chunk_epochs: int, chunks: int) -> dict:
    """Run the step timer in a pinned single-threaded child; return its numbers."""
    steps = chunk_epochs * 100
    code = STEP_TIMER.format(
        core=usable_cores()[0], epochs=chunk_epochs * chunks, chunk_steps=steps
    )
    env = os.environ | {"XLA_FLAGS": SINGLE_THREAD_XLA_FLAGS}
    output = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    steady = sorted(result["chunk_seconds"][1:])
    median = steady[len(steady) // 2]
    return {
        "us_per_step_median": 1e6 * median / steps,
        "us_per_step_min": 1e6 * steady[0] / steps,
        "us_per_step_max": 1e6 * steady[-1] / steps,
        "steps_per_chunk": steps,
        "chunks_timed": len(steady),
        "first_chunk_seconds_with_compile": result["chunk_seconds"][0],
    }


def _tree_rss_bytes(root_pid: int) -> int:
    """Sum the RSS of `root_pid` and all its descendants, read from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_reproduce(protocol: str, seeds: int, keep: Path | None) -> dict:
    """Run the real CLI on all cores; return wall time, memory and verdicts.

    The run directory is deleted afterwards unless `keep` names a folder to
    write it in.
    """
    executable = shutil.which("falsestruct", path=str(Path(sys.executable).parent))
    out_dir = keep or Path(tempfile.mkdtemp(prefix="bench-exp1-"))
    command = [
        executable,
        "reproduce",
        "experiment1",
        "--protocol",
        protocol,
        "--seeds",
        str(seeds),
        "--out",
        str(out_dir),
        "--quiet",
    ]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak_tree = 0
    while process.poll() is None:
        peak_tree = max(peak_tree, _tree_rss_bytes(process.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    stdout = process.stdout.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed with code {process.returncode}")
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    run_dir = max(path for path in out_dir.iterdir() if path.name.startswith("run-"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    if keep is None:
        shutil.rmtree(out_dir)
    experiment = metrics["experiments"]["experiment1"]
    return {
        "command": " ".join(["falsestruct", *command[1:-3], "--out", "TMP", "--quiet"]),
        "wall_seconds": round(wall, 2),
        "stages": metrics["stages"],
        "peak_rss_largest_process_mib": round(largest / 2**20, 1),
        "peak_rss_process_tree_mib": round(peak_tree / 2**20, 1),
        "verdict_counts": experiment["verdict_counts"],
        "networks": experiment["networks"],
        "summary": stdout,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--chunk-epochs",
        type=int,
        default=100,
        help="epochs of T^5000 per timed chunk (default: 100)",
    )
    parser.add_argument(
        "--chunks",
        type=int,
        default=6,
        help="chunks, the first one dropped (default: 6)",
    )
    parser.add_argument("--protocol", default="paper", choices=("paper", "quick"))
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--skip-paper", action="store_true", help="time the steps only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="result JSON")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="folder to keep the run directory in (default: deleted)",
    )
    args = parser.parse_args()
    result = {
        "machine": machine_info(),
        "usable_cores": len(usable_cores()),
        "step": time_steps(args.chunk_epochs, args.chunks),
    }
    print(json.dumps(result["step"], indent=2))
    if not args.skip_paper:
        result["reproduce"] = run_reproduce(args.protocol, args.seeds, args.keep)
        print(json.dumps(result["reproduce"], indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
