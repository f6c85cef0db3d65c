"""Locate the authors' published networks (the ``reference-networks`` folder).

The toolkit does not ship them. It looks, in order, in the folder named by
the ``FALSESTRUCT_REFERENCE_DIR`` environment variable, in
``shared/reference-networks`` inside the parent of the working directory,
and in ``shared/reference-networks`` beside the repository root.
"""

import logging
import os
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger("falsestruct")

REFERENCE_ENV = "FALSESTRUCT_REFERENCE_DIR"


def reference_folders() -> list[Path]:
    """Return the candidate folders, in the order they are searched."""
    folders = []
    if os.environ.get(REFERENCE_ENV):
        folders.append(Path(os.environ[REFERENCE_ENV]))
    folders.append(Path.cwd().parent / "shared" / "reference-networks")
    repo_root = Path(__file__).resolve().parents[2]
    folders.append(repo_root.parent / "shared" / "reference-networks")
    return folders


def find_reference_folder(required: Iterable[str]) -> Path | None:
    """Return the first candidate folder that contains every file in `required`."""
    names = list(required)
    configured = os.environ.get(REFERENCE_ENV)
    if configured and not all((Path(configured) / n).is_file() for n in names):
        logger.warning(
            "%s=%s does not contain %s; looking in the default places",
            REFERENCE_ENV,
            configured,
            ", ".join(names),
        )
    for folder in reference_folders():
        if all((folder / name).is_file() for name in names):
            return folder
    return None
