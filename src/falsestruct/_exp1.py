"""Experiment I: train the four networks of Figure 2 and diagnose what they learned.

Source: L. Thesing, V. Antun, A. C. Hansen, "What do AI algorithms actually
learn? On false structures in deep learning", arXiv:1906.01478 (2019),
section 3.1 and Figure 2. Every network is NN_{[1, 4K, 2]} (2 -> 4K ReLU ->
1 logit), trained with TensorFlow 1's Adam (lr 1e-3) on sigmoid
cross-entropy in float64:

| net  | training set | batch          | paper's conclusion |
|------|--------------|----------------|--------------------|
| Psi1 | T^7_delta    | 7 (full batch) | false structure g  |
| Psi2 | T^5000_0     | 50             | neither            |
| Psi3 | T^5000_delta | 50             | false structure g  |
| Psi4 | T^10000_0    | 50             | f_a                |

Protocols:

- ``paper``: 30 000 epochs for every network (about 12 million optimiser
  steps for one seed of all four).
- ``quick``: Psi1 trains ``QUICK_EPOCHS_PSI1`` = 200 000 full-batch epochs
  (200 000 steps of 7 samples, about 2 s) and Psi2, Psi3 and Psi4 train
  ``QUICK_EPOCHS`` = 3 000 epochs. Psi1 runs longer than in ``paper``
  because at 30 000 epochs most seeds had not yet settled on the false
  structure (their C_0 ones share was still 0.1 to 0.3), while at 200 000
  every seed tried had. Psi3 reached the false structure for every seed
  tried from 2 000 epochs on. The calibration runs are listed in
  ``bench/exp1.md``. Psi2 and Psi4 are far from converged after 3 000
  epochs, so their verdicts under ``quick`` need not match the paper's.

Batching of the batch-50 networks (``shuffle``): ``batches`` (default) cuts
the shuffled samples into fixed batches once and draws a new batch order
every epoch, as the authors' ``Dataset.batch(50).repeat().shuffle(r)``
pipeline does; ``samples`` draws new batches from a fresh permutation of all
samples every epoch. Psi1 always trains full batch without shuffling.

Diagnosis (``VERDICT_RULE``): the prediction is round(sigmoid(logit)), i.e.
1 iff logit > 0, on the 20 001 equally spaced x1 in [b, 1] that lie in
S_eps. A net learned the false structure g if it agrees with f_a on at least
99 % of C_delta and predicts 1 on at most 1 % of C_0; it learned f_a
(``original``) if it agrees with f_a on at least 99 % of both; otherwise
``neither``.

Seed k of a network fixes its training set, its initial weights and its
batch order, so the same seed gives bit-identical weights on the same machine
and software.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._exp1_data import Exp1Params, f_a, in_S_eps, probe_grid, probe_sets, training_set

PAPER_EPOCHS = 30_000
QUICK_EPOCHS = 3_000
QUICK_EPOCHS_PSI1 = 200_000
PROTOCOLS = ("paper", "quick")
BATCHING_MODES = ("batches", "samples")
GRID_POINTS = 20_001

AGREEMENT_THRESHOLD = 0.99
ONES_SHARE_THRESHOLD = 0.01
VERDICTS = ("false_structure", "original", "neither")
VERDICT_RULE = (
    "Prediction = round(sigmoid(logit)), i.e. 1 iff logit > 0, on the 20 001 "
    "equally spaced x1 in [b, 1] that lie in S_eps. "
    f"false_structure: agreement with f_a on C_delta >= {AGREEMENT_THRESHOLD} "
    f"and share of C_0 predicted 1 <= {ONES_SHARE_THRESHOLD} (the net follows "
    f"g: 0 iff x2 = 0). original: agreement with f_a >= {AGREEMENT_THRESHOLD} "
    "on both C_0 and C_delta. neither: anything else."
)


@dataclass(frozen=True)
class NetSpec:
    """One network of Figure 2: its training set, batching and paper verdict."""

    name: str
    r: int
    with_delta: bool
    batch_size: int | None  # None: full batch
    paper_verdict: str
    quick_epochs: int

    @property
    def training_set(self) -> str:
        """The set's name in the paper's notation, e.g. ``T^7_delta``."""
        return f"T^{self.r}_{'delta' if self.with_delta else '0'}"

    @property
    def full_batch(self) -> bool:
        return self.batch_size is None


NETS: tuple[NetSpec, ...] = (
    NetSpec("Psi1", 7, True, None, "false_structure", QUICK_EPOCHS_PSI1),
    NetSpec("Psi2", 5000, False, 50, "neither", QUICK_EPOCHS),
    NetSpec("Psi3", 5000, True, 50, "false_structure", QUICK_EPOCHS),
    NetSpec("Psi4", 10000, False, 50, "original", QUICK_EPOCHS),
)
NET_NAMES = tuple(net.name for net in NETS)


def net_spec(name: str) -> NetSpec:
    """Return the NetSpec called `name` (case-insensitive, e.g. ``psi3``)."""
    for net in NETS:
        if net.name.lower() == name.strip().lower():
            return net
    raise ValueError(f"unknown network {name!r}; choose from {', '.join(NET_NAMES)}")


@dataclass(frozen=True)
class Exp1Config:
    """Everything that fixes an Experiment I run; defaults are the paper's."""

    params: Exp1Params = field(default_factory=Exp1Params)
    protocol: str = "paper"
    seeds: int = 1
    shuffle: str = "batches"
    epochs: int | None = None  # overrides the protocol for every network
    nets: tuple[str, ...] = NET_NAMES
    workers: int = 1
    # Address of a Dask distributed scheduler whose workers train the jobs in
    # place of `workers` local processes, e.g. "tcp://10.0.0.5:8786".
    scheduler: str | None = None

    def __post_init__(self):
        _check_choice("protocol", self.protocol, PROTOCOLS)
        _check_choice("shuffle", self.shuffle, BATCHING_MODES)
        if self.seeds < 1:
            raise ValueError(f"`seeds` must be >= 1, got {self.seeds}")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"`epochs` must be >= 1, got {self.epochs}")
        if self.workers < 1:
            raise ValueError(f"`workers` must be >= 1, got {self.workers}")
        if not self.nets:
            raise ValueError("`nets` must name at least one network")
        for name in self.nets:
            net_spec(name)
        if self.scheduler is not None:
            from ._parallel import scheduler_address

            scheduler_address(self.scheduler, "`scheduler`")

    @property
    def width(self) -> int:
        """Hidden width 4K of NN_{[1, 4K, 2]}."""
        return 4 * self.params.K

    def epochs_for(self, net: NetSpec) -> int:
        """Return the epochs `net` trains for under this configuration."""
        if self.epochs is not None:
            return self.epochs
        return PAPER_EPOCHS if self.protocol == "paper" else net.quick_epochs

    def to_dict(self) -> dict:
        return {
            "params": self.params.to_dict(),
            "protocol": self.protocol,
            "seeds": self.seeds,
            "shuffle": self.shuffle,
            "epochs": {name: self.epochs_for(net_spec(name)) for name in self.nets},
            "nets": list(self.nets),
            "workers": self.workers,
            "scheduler": self.scheduler,
            "width": self.width,
            "grid_points": GRID_POINTS,
        }


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {', '.join(allowed)}, got {value!r}")


# --- diagnosis -------------------------------------------------------------


def classify(
    agreement_c0: float, agreement_c_delta: float, ones_share_c0: float
) -> str:
    """Return the verdict for the three diagnosis numbers (see ``VERDICT_RULE``)."""
    if (
        agreement_c_delta >= AGREEMENT_THRESHOLD
        and ones_share_c0 <= ONES_SHARE_THRESHOLD
    ):
        return "false_structure"
    if agreement_c0 >= AGREEMENT_THRESHOLD and agreement_c_delta >= AGREEMENT_THRESHOLD:
        return "original"
    return "neither"


def _as_logit_fn(model_or_arrays) -> Callable[[np.ndarray], np.ndarray]:
    """Return x (n, 2) -> logits (n,) for a ReluNet or TensorFlow-layout arrays."""
    if isinstance(model_or_arrays, dict):
        w1 = np.asarray(model_or_arrays["dense.kernel"], np.float64)
        b1 = np.asarray(model_or_arrays["dense.bias"], np.float64)
        w2 = np.asarray(model_or_arrays["dense_1.kernel"], np.float64)
        b2 = np.asarray(model_or_arrays["dense_1.bias"], np.float64)
        return lambda x: (np.maximum(x @ w1 + b1, 0.0) @ w2 + b2)[:, 0]
    return lambda x: np.asarray(model_or_arrays(x))


def predict_on_probes(
    model_or_arrays, params: Exp1Params, n_points: int = GRID_POINTS
) -> dict[str, np.ndarray]:
    """Evaluate the rounded network output on C_0 and C_delta over the grid.

    Returns ``x1`` (n_points,), ``f_a``, ``pred_c0`` and ``pred_c_delta``
    (int arrays, 1 iff logit > 0) and ``stable`` (bool mask of S_eps).
    """
    x1 = probe_grid(params, n_points)
    c_0, c_delta = probe_sets(x1, params)
    logit_fn = _as_logit_fn(model_or_arrays)
    with np.errstate(over="ignore", invalid="ignore"):
        logits_c0, logits_c_delta = logit_fn(c_0), logit_fn(c_delta)
    if not (np.all(np.isfinite(logits_c0)) and np.all(np.isfinite(logits_c_delta))):
        raise ValueError(
            "the network's outputs on the probe grid are not finite (its weights "
            "overflow float64), so no prediction can be read off them"
        )
    return {
        "x1": x1,
        "f_a": f_a(x1, params.a),
        "pred_c0": (logits_c0 > 0).astype(np.int64),
        "pred_c_delta": (logits_c_delta > 0).astype(np.int64),
        "stable": in_S_eps(x1, params),
    }


def diagnose_network(
    model_or_arrays, params: Exp1Params | None = None, n_points: int = GRID_POINTS
) -> dict:
    """Diagnose which structure a network of any hidden width follows.

    `model_or_arrays` is a ``ReluNet`` or a dict of TensorFlow-layout arrays
    (``dense.kernel`` (2, width), ``dense.bias``, ``dense_1.kernel``
    (width, 1), ``dense_1.bias``). Returns ``agreement_c0``,
    ``agreement_c_delta`` and ``ones_share_c0`` (fractions of the grid
    points in S_eps) and ``verdict`` by ``VERDICT_RULE``.
    """
    params = Exp1Params() if params is None else params
    probes = predict_on_probes(model_or_arrays, params, n_points)
    stable = probes["stable"]
    target = probes["f_a"][stable]
    pred_c0 = probes["pred_c0"][stable]
    numbers = {
        "agreement_c0": float(np.mean(pred_c0 == target)),
        "agreement_c_delta": float(np.mean(probes["pred_c_delta"][stable] == target)),
        "ones_share_c0": float(np.mean(pred_c0 == 1)),
    }
    return numbers | {"verdict": classify(**numbers)}


# --- training --------------------------------------------------------------


def _derived_seed(seed: int, net: NetSpec, purpose: int) -> int:
    """Return an independent 32-bit seed for (seed, network, purpose)."""
    entropy = [seed, NET_NAMES.index(net.name), purpose]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def draw_training_set(net: NetSpec, params: Exp1Params, seed: int):
    """Draw the training set of `net` for `seed`: x (r, 2), y (r,)."""
    rng = np.random.default_rng(_derived_seed(seed, net, 0))
    return training_set(net.r, params, rng, with_delta=net.with_delta)


def train_spec_for(net: NetSpec, epochs: int, shuffle: str):
    """Return the TrainSpec of `net`: full batch unshuffled, or batch 50 shuffled."""
    from ._training import TrainSpec

    if net.full_batch:
        return TrainSpec(epochs=epochs, batch_size=net.r, shuffle="none")
    return TrainSpec(epochs=epochs, batch_size=net.batch_size, shuffle=shuffle)


def train_net_seeds(
    net_name: str,
    seeds: Sequence[int],
    params: Exp1Params,
    epochs: int,
    shuffle: str,
    report: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """Train `net_name` for each seed at once (one vmapped ensemble).

    Returns one dict per seed: ``seed``, ``arrays`` (TensorFlow-layout numpy
    weights) and ``final_loss`` (mean training loss of the last epoch).
    """
    import jax

    from ._models import ReluNet, relu_net_to_tf_arrays
    from ._training import make_ensemble, train_ensemble, unstack

    net = net_spec(net_name)
    data = [draw_training_set(net, params, seed) for seed in seeds]
    x = np.stack([xy[0] for xy in data])  # (S, r, 2)
    y = np.stack([xy[1] for xy in data])  # (S, r)
    init_seeds = [_derived_seed(seed, net, 1) for seed in seeds]
    models = make_ensemble(
        lambda key: ReluNet(4 * params.K, key=key), [s % 2**31 for s in init_seeds]
    )
    result = train_ensemble(
        models,
        x,
        y,
        train_spec_for(net, epochs, shuffle),
        schedule_seeds=[_derived_seed(seed, net, 2) for seed in seeds],
        progress=report,
    )
    return [
        {
            "seed": seed,
            "arrays": relu_net_to_tf_arrays(jax.device_get(unstack(result.models, i))),
            "final_loss": float(result.epoch_loss[i, -1]),
        }
        for i, seed in enumerate(seeds)
    ]


def _train_job(payload: dict, report: Callable[[int, int], None]) -> list[dict]:
    """Worker entry point: unpack a job payload and train it."""
    return train_net_seeds(
        payload["net"],
        payload["seeds"],
        Exp1Params(**payload["params"]),
        payload["epochs"],
        payload["shuffle"],
        report,
    )


# --- the whole protocol ----------------------------------------------------


@dataclass(frozen=True)
class TrainedNet:
    """One trained network: which net and seed, its weights and final loss."""

    net: NetSpec
    seed: int
    epochs: int
    arrays: dict[str, np.ndarray]
    final_loss: float


def steps_per_epoch(net: NetSpec) -> int:
    """Return the optimiser steps of one epoch of `net`."""
    return 1 if net.full_batch else -(-net.r // net.batch_size)


def make_jobs(config: Exp1Config):
    """Return one training job per (network, seed).

    Seeds train in separate jobs, not as one vmapped ensemble. A network
    trained alone and the same network trained inside a vmapped ensemble
    differ in the last bits after a few thousand steps, so grouping would
    make a seed's weights depend on ``--seeds``. The ensemble also saves
    only about 15 % per step at this network size (see ``bench/exp1.md``).
    """
    from ._parallel import Job

    jobs = []
    for name in config.nets:
        net = net_spec(name)
        epochs = config.epochs_for(net)
        for seed in range(config.seeds):
            payload = {
                "net": net.name,
                "seeds": [seed],
                "params": config.params.to_dict(),
                "epochs": epochs,
                "shuffle": config.shuffle,
            }
            cost = epochs * steps_per_epoch(net)
            jobs.append(Job(f"{net.name}/{seed}", cost, _train_job, payload))
    return jobs


class _NetTasks:
    """One progress task per network, fed by the progress of its seeds' jobs."""

    def __init__(self, config: Exp1Config, jobs, progress):
        self.epochs_done = {job.job_id: 0 for job in jobs}
        self.jobs_left = Counter(_net_of(job.job_id) for job in jobs)
        self.tasks = {}
        for name in config.nets:
            total = config.epochs_for(net_spec(name)) * config.seeds
            label = f"Experiment I: train {name} ({config.seeds} seeds)"
            self.tasks[name] = progress.task(label, total).__enter__()

    def on_progress(self, job_id: str, epochs_done: int, total: int) -> None:
        self.epochs_done[job_id] = epochs_done
        name = _net_of(job_id)
        done = sum(v for k, v in self.epochs_done.items() if _net_of(k) == name)
        self.tasks[name].update(done)

    def on_result(self, job_id: str) -> None:
        name = _net_of(job_id)
        self.jobs_left[name] -= 1
        if self.jobs_left[name] == 0:
            self.tasks.pop(name).__exit__(None, None, None)

    def close_failed(self, error: BaseException) -> None:
        for task in self.tasks.values():
            task.__exit__(type(error), error, None)
        self.tasks.clear()


def _net_of(job_id: str) -> str:
    return job_id.split("/")[0]


def train_all(config: Exp1Config, progress=None) -> list[TrainedNet]:
    """Train every selected network for every seed.

    The jobs run on ``config.workers`` local processes, or on the workers of
    the Dask scheduler at ``config.scheduler`` where that is set. `progress`
    (a ``falsestruct._progress.Progress``) gets one task per network,
    counting epochs summed over its seeds. Returns the networks in the order
    of ``config.nets``, seeds ascending.
    """
    from ._progress import NullProgress

    jobs = make_jobs(config)
    tasks = _NetTasks(config, jobs, NullProgress() if progress is None else progress)
    try:
        outcomes = _run_training_jobs(config, jobs, tasks)
    except BaseException as error:
        tasks.close_failed(error)
        raise
    return [_trained_net(config, job.job_id, outcomes[job.job_id][0]) for job in jobs]


def _run_training_jobs(config: Exp1Config, jobs, tasks: _NetTasks) -> dict:
    from ._parallel import run_jobs, run_jobs_dask

    handlers = {"on_progress": tasks.on_progress, "on_result": tasks.on_result}
    if config.scheduler is None:
        return run_jobs(jobs, workers=config.workers, **handlers)
    return run_jobs_dask(jobs, scheduler=config.scheduler, **handlers)


def _trained_net(config: Exp1Config, job_id: str, outcome: dict) -> TrainedNet:
    net = net_spec(job_id.split("/")[0])
    return TrainedNet(
        net=net,
        seed=outcome["seed"],
        epochs=config.epochs_for(net),
        arrays=outcome["arrays"],
        final_loss=outcome["final_loss"],
    )
