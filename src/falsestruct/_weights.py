"""Read and write network weights as ``.npz`` files in TensorFlow's layout.

Files a user hands in are opened with ``allow_pickle=False``: a file that
stores a Python object instead of a plain array is rejected, never unpickled.
"""

import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._files import set_default_mode

# A shape spec entry is an int (that exact size) or a str naming a dimension
# that must take the same size wherever the name appears.
ShapeSpec = Mapping[str, tuple[int | str, ...]]


class WeightFileError(ValueError):
    """A weight file that is missing, unreadable or does not match the model."""


def _format_spec(spec: tuple[int | str, ...]) -> str:
    return "(" + ", ".join(str(d) for d in spec) + ("," if len(spec) == 1 else "") + ")"


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    if path.is_dir():
        raise WeightFileError(f"{path} is a folder, expected an .npz weight file")
    if not path.is_file():
        raise FileNotFoundError(f"weight file not found: {path}")
    # An .npz file is a zip archive; anything else (.npy, text, a bare
    # pickle) is rejected before numpy tries to interpret it.
    if not zipfile.is_zipfile(path):
        raise WeightFileError(
            f"{path}: not an .npz file (not a zip archive); save the arrays "
            "with numpy.savez"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except ValueError as error:
        # numpy raises ValueError("Object arrays cannot be loaded ...") here.
        raise WeightFileError(
            f"{path}: contains pickled Python objects, which are never loaded; "
            "store plain numeric arrays"
        ) from error
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise WeightFileError(f"{path}: not a readable .npz file ({error})") from error


def _check_array(
    path: Path, key: str, array: np.ndarray, spec, sizes: dict[str, int]
) -> None:
    expected = _format_spec(spec)
    if array.ndim != len(spec):
        raise WeightFileError(
            f"{path}: key {key!r} has shape {array.shape}, expected {expected}"
        )
    for size, dim in zip(array.shape, spec, strict=True):
        if isinstance(dim, str):
            if size < 1:
                raise WeightFileError(
                    f"{path}: key {key!r} has shape {array.shape}, expected "
                    f"{expected} with {dim} >= 1"
                )
            dim = sizes.setdefault(dim, size)
        if size != dim:
            raise WeightFileError(
                f"{path}: key {key!r} has shape {array.shape}, expected {expected}"
                + (
                    f" with {', '.join(f'{k}={v}' for k, v in sizes.items())}"
                    if sizes
                    else ""
                )
            )
    if not np.issubdtype(array.dtype, np.floating):
        raise WeightFileError(
            f"{path}: key {key!r} has dtype {array.dtype}, expected a float dtype"
        )
    if not np.all(np.isfinite(array)):
        raise WeightFileError(f"{path}: key {key!r} contains NaN or infinite values")


def load_weights(path: str | os.PathLike, spec: ShapeSpec) -> dict[str, np.ndarray]:
    """Load and validate TensorFlow-layout weights from an ``.npz`` file.

    Every key of ``spec`` must be present with a matching shape, a float dtype
    and finite values; extra keys are ignored. Arrays come back as float64.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        WeightFileError: the file is unreadable, contains pickled objects, or a key
            is missing or has the wrong shape, dtype or non-finite values. The
            message names the key and the expected shape.
    """
    path = Path(path)
    arrays = _read_arrays(path)
    sizes: dict[str, int] = {}
    for key, shape_spec in spec.items():
        if key not in arrays:
            raise WeightFileError(
                f"{path}: missing key {key!r} (expected shape "
                f"{_format_spec(shape_spec)}); keys present: {sorted(arrays)}"
            )
        _check_array(path, key, arrays[key], shape_spec, sizes)
    return {key: arrays[key].astype(np.float64) for key in spec}


def save_weights(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write arrays to ``path`` as an uncompressed ``.npz``, atomically.

    The data goes to a temporary file in the same folder that is renamed into
    place, so an interrupted write never leaves a partial file at ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **{k: np.asarray(v) for k, v in arrays.items()})
        set_default_mode(tmp_name)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
