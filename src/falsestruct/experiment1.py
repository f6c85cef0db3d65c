"""Experiment I of the paper: f_a(x) = ceil(a / x1) mod 2 on [b, 1] x [0, 1].

Public names for the data (f_a, S_eps, T^r_0 and T^r_delta, the probe sets
C_0 and C_delta, the false structure g), the training protocol of Figure 2
and the diagnosis of a trained network. See ``falsestruct._exp1_data`` and
``falsestruct._exp1`` for the formulas and their sources.
"""

from ._exp1 import (
    NET_NAMES,
    PROTOCOLS,
    VERDICT_RULE,
    VERDICTS,
    Exp1Config,
    TrainedNet,
    classify,
    diagnose_network,
    draw_training_set,
    predict_on_probes,
    train_all,
    train_net_seeds,
)
from ._exp1_data import (
    Exp1Params,
    eps_upper_bound,
    f_a,
    g,
    in_S_eps,
    interval_bounds,
    probe_grid,
    probe_sets,
    sample_x1,
    stable_intervals,
    training_set,
)
from ._prop33 import Prop33Config, Prop33Result, check_prop33, prop33_network
from ._propositions import check_prop32

__all__ = [
    "NET_NAMES",
    "PROTOCOLS",
    "VERDICTS",
    "VERDICT_RULE",
    "Exp1Config",
    "Exp1Params",
    "Prop33Config",
    "Prop33Result",
    "TrainedNet",
    "check_prop32",
    "check_prop33",
    "classify",
    "diagnose_network",
    "draw_training_set",
    "eps_upper_bound",
    "f_a",
    "g",
    "in_S_eps",
    "interval_bounds",
    "predict_on_probes",
    "probe_grid",
    "probe_sets",
    "prop33_network",
    "sample_x1",
    "stable_intervals",
    "train_all",
    "train_net_seeds",
    "training_set",
]
