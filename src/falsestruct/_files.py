"""File-mode helpers for files written through a temporary name.

``tempfile.mkstemp`` and ``mkdtemp`` create files as 0600 and folders as
0700 whatever the umask, so results renamed into place would be private to
their owner. These helpers give them the modes ``open`` and ``mkdir``
would have given: 0666 and 0777 less the process umask.
"""

import os
from pathlib import Path


def _umask() -> int:
    # os.umask can only be read by setting it, so set it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def set_default_mode(path: str | os.PathLike) -> None:
    """Give `path` the mode a plain ``open`` or ``mkdir`` would have given it."""
    path = Path(path)
    base = 0o777 if path.is_dir() else 0o666
    os.chmod(path, base & ~_umask())
