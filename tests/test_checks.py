"""Tests for invariance_lib.checks, the independent checks shared by chapters and tests."""
import numpy as np
import pytest

from invariance_lib import c4_rotations, hardwired_optimum, plain_optimum, so2
from invariance_lib.checks import (assert_invariant, dtype_tolerance, factorised_fit,
                                   relative_error, sample_loss)

REP = c4_rotations(3)


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    return rng.normal(size=(9, 40)), rng.normal(size=(4, 40))


def test_factorised_fit_reaches_the_closed_forms(data):
    X, Y = data
    for W, B in ((plain_optimum(X, Y, 2), None),
                 (hardwired_optimum(X, Y, REP, 2), REP.invariant_basis())):
        best = sample_loss(W, X, Y)
        fits = factorised_fit(X, Y, 2, B=B, starts=4)
        losses = np.array([f.loss for f in fits])
        assert losses.min() >= best - 1e-10 and losses.min() - best < 1e-8
        W_fit, loss = fits[int(np.argmin(losses))]  # unpacks as (W, loss)
        assert loss == losses.min()
        assert relative_error(W_fit, W) < 1e-4


def test_factorised_fit_is_seeded_and_checks_its_input(data):
    X, Y = data
    a = factorised_fit(X, Y, 2, starts=2, seed=5)
    b = factorised_fit(X, Y, 2, starts=2, seed=5)
    assert all(np.array_equal(p.W, q.W) for p, q in zip(a, b))
    with pytest.raises(ValueError, match="lam > 0 needs the constraint matrix"):
        factorised_fit(X, Y, 2, lam=1.0)
    with pytest.raises(TypeError, match="starts must be an integer"):
        factorised_fit(X, Y, 2, starts=2.0)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        factorised_fit(X, Y[:, :5], 2)


def test_sample_loss_equals_augmented_data_set(data):
    X, Y = data
    W = np.random.default_rng(0).normal(size=(4, 9))
    E = REP.elements()
    X_aug, Y_aug = np.hstack([g @ X for g in E]), np.tile(Y, len(E))
    assert np.isclose(sample_loss(W, X, Y, elements=E),
                      np.sum((W @ X_aug - Y_aug) ** 2) / X_aug.shape[1], rtol=1e-12)
    G = REP.constraint_matrix()
    assert np.isclose(sample_loss(W, X, Y, G=G, lam=0.5),
                      np.sum((W @ X - Y) ** 2) / 40 + 0.5 * np.sum((W @ G) ** 2))


def test_relative_error():
    A, B = np.ones((2, 2)), np.full((2, 2), 2.0)
    assert relative_error(A, B) == pytest.approx(0.5)
    assert relative_error(A, np.zeros((2, 2))) == pytest.approx(2.0)
    stack = relative_error(np.stack([A, B]), np.stack([B, B]), axis=(-2, -1))
    assert np.allclose(stack, [0.5, 0.0])


def test_assert_invariant_with_dtype_tolerances():
    B = REP.invariant_basis()
    W = np.random.default_rng(1).normal(size=(3, B.shape[0])) @ B
    assert assert_invariant(W, REP) < dtype_tolerance(np.float64)
    # float32 rounding passes at float32's tolerance, and is far above float64's
    W32 = W.astype(np.float32)
    assert assert_invariant(W32, REP) <= dtype_tolerance(np.float32)
    assert dtype_tolerance(np.float32) > 1e6 * dtype_tolerance(np.float64)
    with pytest.raises(AssertionError, match="not invariant: relative error"):
        assert_invariant(np.eye(9)[:3], REP)
    assert_invariant(lambda Z: W @ Z, REP)  # a callable, on Gaussian inputs
    with pytest.raises(AssertionError, match="at element"):
        assert_invariant(lambda Z: Z[:2] ** 2, REP)
    rot = so2()
    assert_invariant(np.array([[0.0, 0.0]]), rot)
    with pytest.raises(AssertionError, match="Lie algebra"):
        assert_invariant(np.array([[1.0, 0.0]]), rot)
    with pytest.raises(TypeError, match="rep must be a Representation"):
        assert_invariant(W, "c4")
