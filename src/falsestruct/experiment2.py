"""Experiment II of the paper: 32 x 32 stripe images and the CNN Phi.

Public names for the images (colour codes M-tilde and M-hat, the 60-image
training set in the paper's and the authors' variant, the test sets
C-tilde_{b,c} and C-hat_{b,c}), the network, its training and Table 1. See
``falsestruct._stripes`` and ``falsestruct._exp2`` for the details.
"""

from ._cnn import (
    StripeCNN,
    stripe_cnn_from_tf_arrays,
    stripe_cnn_tf_shapes,
    stripe_cnn_to_tf_arrays,
)
from ._exp2 import (
    PAPER_ROWS,
    PUBLISHED,
    Exp2Config,
    accuracy,
    evaluate_table1,
    predict,
    reference_table1,
    summarise_table1,
    table1_rows,
    train_stripe_cnn,
    train_variant,
)
from ._propositions import check_prop34, pixel_sum_structure
from ._stripes import (
    LABEL_HORIZONTAL,
    LABEL_VERTICAL,
    VARIANTS,
    stripe_images,
    test_set,
    training_set,
)

__all__ = [
    "LABEL_HORIZONTAL",
    "LABEL_VERTICAL",
    "PAPER_ROWS",
    "PUBLISHED",
    "VARIANTS",
    "Exp2Config",
    "StripeCNN",
    "accuracy",
    "check_prop34",
    "evaluate_table1",
    "pixel_sum_structure",
    "predict",
    "reference_table1",
    "stripe_cnn_from_tf_arrays",
    "stripe_cnn_tf_shapes",
    "stripe_cnn_to_tf_arrays",
    "stripe_images",
    "summarise_table1",
    "table1_rows",
    "test_set",
    "train_stripe_cnn",
    "train_variant",
    "training_set",
]
