"""falsestruct: reproduce and probe false structures in deep learning.

Reference: L. Thesing, V. Antun, A. C. Hansen, "What do AI algorithms
actually learn? On false structures in deep learning", arXiv:1906.01478
(2019).

Importing the package turns on JAX's float64 mode (``jax_enable_x64``),
because every experiment runs in float64 as the paper's did. The two
experiments live in ``falsestruct.experiment1`` and
``falsestruct.experiment2``; the names below are shared by both or apply to
a user's own structures and networks.
"""

import jax

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"

from . import experiment1, experiment2  # noqa: E402
from ._adam import tf1_adam  # noqa: E402
from ._models import ReluNet  # noqa: E402
from ._severity import SeverityEstimate, severity, wilson_interval  # noqa: E402
from ._structures import (  # noqa: E402
    VERDICT_FALSE,
    VERDICT_NONE,
    VERDICT_PARTIAL,
    FalseStructureReport,
    PartitionCheck,
    Structure,
    check_false_structure,
    finite_set_membership,
)
from ._training import (  # noqa: E402
    TrainResult,
    TrainSpec,
    make_ensemble,
    train_ensemble,
    unstack,
)
from ._weights import WeightFileError, load_weights, save_weights  # noqa: E402

__all__ = [
    "VERDICT_FALSE",
    "VERDICT_NONE",
    "VERDICT_PARTIAL",
    "FalseStructureReport",
    "PartitionCheck",
    "ReluNet",
    "SeverityEstimate",
    "Structure",
    "TrainResult",
    "TrainSpec",
    "WeightFileError",
    "__version__",
    "check_false_structure",
    "experiment1",
    "experiment2",
    "finite_set_membership",
    "load_weights",
    "make_ensemble",
    "save_weights",
    "severity",
    "tf1_adam",
    "train_ensemble",
    "unstack",
    "wilson_interval",
]
