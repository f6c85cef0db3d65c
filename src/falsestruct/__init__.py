"""falsestruct: reproduce and probe false structures in deep learning.

Importing the package turns on JAX's float64 mode (``jax_enable_x64``),
because every experiment runs in float64 as the paper's did.
"""

import jax

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"
