"""Locate the authors' published networks (the ``reference-networks`` folder).

The toolkit does not ship them. It looks, in order, in the folder named by
the ``FALSESTRUCT_REFERENCE_DIR`` environment variable, in
``shared/reference-networks`` inside the parent of the working directory,
and in ``shared/reference-networks`` beside the repository root.
"""

import os
from collections.abc import Iterable
from pathlib import Path

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
    for folder in reference_folders():
        if all((folder / name).is_file() for name in names):
            return folder
    return None
