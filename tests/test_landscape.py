"""The loss landscape module: criticality on M_r, gradients, Hessians and gradient descent
on factorised matrices. Every quantity is compared with an independent computation
(finite differences, an explicit tangent basis, a hand-written loop, Eckart–Young), not
with the formula that produced it."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import truncate
from invariance_lib.theory.critical import low_rank_critical_points
from invariance_lib.dln.architecture import random_factors
from invariance_lib.dln.descent import gradient_descent, loss_and_gradients, parameter_hessian
from invariance_lib.dln.landscape import (critical_factors, stationarity_residual,
                                          visited_critical_points)


def _target(rng, m=4, k=5):
    return rng.normal(size=(m, k))


def _flat(factors):
    return np.concatenate([f.ravel() for f in factors])


def _unflat(theta, like):
    parts = np.split(theta, np.cumsum([f.size for f in like])[:-1])
    return [p.reshape(f.shape) for p, f in zip(parts, like)]


def _loss(Z, factors):
    W = factors[0]
    for f in factors[1:]:
        W = f @ W
    return float(np.sum((Z - W) ** 2))


def _fd_gradient(Z, factors, h=1e-6):
    theta = _flat(factors)
    g = np.empty_like(theta)
    for p in range(theta.size):
        e = np.zeros_like(theta)
        e[p] = h
        g[p] = (_loss(Z, _unflat(theta + e, factors)) - _loss(Z, _unflat(theta - e, factors))) / (2 * h)
    return g


# ---------------------------------------------------------------- stationarity on M_r

def test_residual_vanishes_exactly_at_the_critical_points(rng):
    Z = _target(rng)
    for p in low_rank_critical_points(Z, 2):
        assert stationarity_residual(Z, p.W, 2) < 1e-12
    # A rank-2 point that is not critical: rotate the global minimum a little.
    W = truncate(low_rank_critical_points(Z, 2)[0].W + 0.1 * rng.normal(size=Z.shape), 2)
    assert stationarity_residual(Z, W, 2) > 1e-3


def test_residual_at_smooth_point_matches_explicit_tangent_basis(rng):
    """At rank r the residual is the length of the projection of Z − W onto the span of
    {A W_1 + W_2 B}, the tangent space, computed here by least squares on a basis."""
    Z = _target(rng)
    W2, W1 = rng.normal(size=(4, 2)), rng.normal(size=(2, 5))
    W = W2 @ W1
    basis = []
    for a, b in itertools.product(range(4), range(2)):
        E = np.zeros((4, 2))
        E[a, b] = 1
        basis.append((E @ W1).ravel())
    for a, b in itertools.product(range(2), range(5)):
        E = np.zeros((2, 5))
        E[a, b] = 1
        basis.append((W2 @ E).ravel())
    B = np.array(basis).T
    R = (Z - W).ravel()
    proj = B @ np.linalg.lstsq(B, R, rcond=None)[0]
    assert np.isclose(stationarity_residual(Z, W, 2), np.linalg.norm(proj) / np.linalg.norm(Z))


def test_residual_at_zero_is_the_steepest_descent_rate(rng):
    """At the singular point W = 0 of M_r the best direction is [Z]_r/‖[Z]_r‖, along which
    the loss falls at rate 2‖[Z]_r‖ (finite difference); random rank-r directions are
    never steeper."""
    Z = _target(rng)
    r = 2
    value = stationarity_residual(Z, np.zeros_like(Z), r) * np.linalg.norm(Z)
    X = truncate(Z, r)
    X /= np.linalg.norm(X)
    h = 1e-7
    rate = -(np.sum((Z - h * X) ** 2) - np.sum(Z ** 2)) / h / 2
    assert np.isclose(value, rate, rtol=1e-6)
    for _ in range(100):
        D = truncate(rng.normal(size=Z.shape), r)
        D /= np.linalg.norm(D)
        assert np.sum(Z * D) <= value + 1e-12


def test_residual_at_lower_rank_point_counts_the_rank_directions(rng):
    Z = _target(rng)
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    W = s[0] * np.outer(U[:, 0], Vt[0])  # rank 1, in M_2: only the missing rank can help
    expected = s[1] / np.linalg.norm(Z)
    assert np.isclose(stationarity_residual(Z, W, 2), expected)
    assert stationarity_residual(Z, W, 1) < 1e-12  # but it is critical on M_1


def test_target_of_low_rank_is_its_own_critical_point(rng):
    Z = rng.normal(size=(4, 1)) @ rng.normal(size=(1, 5))
    assert stationarity_residual(Z, Z, 2) < 1e-12


def test_residual_errors(rng):
    Z = _target(rng)
    with pytest.raises(ValueError, match="same shape as the target"):
        stationarity_residual(Z, Z.T, 2)
    with pytest.raises(ValueError, match="not a point of M_2"):
        stationarity_residual(Z, Z, 2)
    with pytest.raises(ValueError, match="r == 5, must be <= 4"):
        stationarity_residual(Z, Z, 5)
    with pytest.raises(TypeError, match="r must be an integer"):
        stationarity_residual(Z, Z, 2.0)


# ---------------------------------------------------------------- gradients and Hessians

@pytest.mark.parametrize("widths", [(5, 4), (5, 2, 4), (5, 3, 2, 4), (3, 1, 2, 2, 3)])
def test_gradients_match_finite_differences(rng, widths):
    Z = rng.normal(size=(widths[-1], widths[0]))
    factors = random_factors(widths, scale=0.7, rng=rng)
    loss, grads = loss_and_gradients(Z, factors)
    assert np.isclose(loss, _loss(Z, factors))
    assert np.allclose(_flat(grads), _fd_gradient(Z, factors), atol=1e-6)


def test_batched_gradients_equal_one_by_one(rng):
    Z = _target(rng)
    batch = random_factors((5, 2, 3, 4), scale=1.0, rng=rng, starts=4)
    losses, grads = loss_and_gradients(Z, batch)
    for s in range(4):
        loss, g = loss_and_gradients(Z, [f[s] for f in batch])
        assert np.isclose(losses[s], loss)
        assert all(np.allclose(a[s], b) for a, b in zip(grads, g))


@pytest.mark.parametrize("widths", [(5, 4), (5, 2, 4), (5, 3, 2, 4), (4, 2, 3, 2, 5)])
def test_hessian_matches_finite_differences_of_the_gradient(rng, widths):
    Z = rng.normal(size=(widths[-1], widths[0]))
    factors = random_factors(widths, scale=0.8, rng=rng)
    H = parameter_hessian(Z, factors)
    theta, h = _flat(factors), 1e-6
    cols = []
    for p in range(theta.size):
        e = np.zeros_like(theta)
        e[p] = h
        gp = _flat(loss_and_gradients(Z, _unflat(theta + e, factors))[1])
        gm = _flat(loss_and_gradients(Z, _unflat(theta - e, factors))[1])
        cols.append((gp - gm) / (2 * h))
    assert np.allclose(H, np.array(cols).T, atol=1e-6)
    assert np.array_equal(H, H.T)


def test_single_layer_hessian_is_twice_identity(rng):
    Z = _target(rng)
    assert np.allclose(parameter_hessian(Z, [rng.normal(size=(4, 5))]), 2 * np.eye(20))


def test_hessian_at_balanced_critical_points_follows_the_pair_rule(rng):
    """Negative eigenvalues 2(σ_i − σ_j) for each i ∈ I, j ∉ I with σ_j > σ_i."""
    Z = _target(rng)
    s = np.linalg.svd(Z, compute_uv=False)
    for p in low_rank_critical_points(Z, 2):
        eig = np.linalg.eigvalsh(parameter_hessian(Z, critical_factors(Z, p.index_set, (5, 2, 4))))
        out = set(range(4)) - set(p.index_set)
        predicted = sorted(2 * (s[i] - s[j]) for i in p.index_set for j in out if s[j] > s[i])
        assert np.allclose(eig[eig < -1e-8], predicted)
        assert np.sum(np.abs(eig) < 1e-8) == 4  # the GL(2) symmetry W2 A, A⁻¹ W1


def test_gradient_and_hessian_errors(rng):
    Z = _target(rng)
    with pytest.raises(ValueError, match="W_1 has 4 columns but Z has d_0 = 5"):
        loss_and_gradients(Z, [rng.normal(size=(2, 4)), rng.normal(size=(4, 2))])
    with pytest.raises(ValueError, match="does not multiply"):
        loss_and_gradients(Z, [rng.normal(size=(2, 5)), rng.normal(size=(4, 3))])
    with pytest.raises(ValueError, match="W_L has 3 rows but Z has d_L = 4"):
        loss_and_gradients(Z, [rng.normal(size=(2, 5)), rng.normal(size=(3, 2))])
    with pytest.raises(TypeError, match="must be a list"):
        loss_and_gradients(Z, rng.normal(size=(4, 5)))
    with pytest.raises(ValueError, match="factors is empty"):
        loss_and_gradients(Z, [])
    with pytest.raises(ValueError, match="different batch sizes"):
        loss_and_gradients(Z, [rng.normal(size=(3, 2, 5)), rng.normal(size=(2, 4, 2))])
    with pytest.raises(ValueError, match="without a batch axis"):
        parameter_hessian(Z, random_factors((5, 2, 4), scale=1.0, rng=rng, starts=2))


# ---------------------------------------------------------------- gradient descent

def test_descent_equals_a_hand_written_loop(rng):
    Z = _target(rng)
    W1, W2 = random_factors((5, 2, 4), scale=0.5, rng=rng)
    run = gradient_descent(Z, [W1, W2], lr=0.03, steps=25)
    A, B = W1.copy(), W2.copy()
    losses = []
    for _ in range(25):
        R = Z - B @ A
        losses.append(np.sum(R ** 2))
        A, B = A + 0.03 * 2 * B.T @ R, B + 0.03 * 2 * R @ A.T  # simultaneous update
    losses.append(np.sum((Z - B @ A) ** 2))
    assert np.allclose(run.losses, losses)
    assert np.allclose(run.factors[0], A) and np.allclose(run.factors[1], B)
    assert np.allclose(run.end_to_end, B @ A)
    assert run.steps.tolist() == list(range(26))


def test_starts_are_not_modified(rng):
    Z = _target(rng)
    starts = random_factors((5, 2, 4), scale=0.5, rng=rng)
    copies = [f.copy() for f in starts]
    gradient_descent(Z, starts, lr=0.02, steps=10)
    assert all(np.array_equal(a, b) for a, b in zip(starts, copies))


def test_batched_descent_equals_separate_runs_and_reaches_eckart_young(rng):
    Z = _target(rng)
    s = np.linalg.svd(Z, compute_uv=False)
    batch = random_factors((5, 2, 4), scale=0.5, rng=rng, starts=5)
    run = gradient_descent(Z, batch, lr=0.02, steps=3000, record_every=500)
    assert run.losses.shape == (7, 5) and run.steps.tolist() == [0, 500, 1000, 1500, 2000, 2500, 3000]
    for k in range(5):
        single = gradient_descent(Z, [f[k] for f in batch], lr=0.02, steps=3000, record_every=500)
        assert np.allclose(single.losses, run.losses[:, k])
    assert np.allclose(run.losses[-1], np.sum(s[2:] ** 2), atol=1e-8)
    assert np.allclose(run.end_to_end, truncate(Z, 2), atol=1e-5)


def test_record_every_keeps_the_last_step_and_products(rng):
    Z = _target(rng)
    run = gradient_descent(Z, random_factors((5, 2, 4), scale=0.5, rng=rng), lr=0.02,
                           steps=10, record_every=4, record_products=True)
    assert run.steps.tolist() == [0, 4, 8, 10]
    assert run.products.shape == (4, 4, 5)
    assert np.allclose(np.sum((Z - run.products) ** 2, axis=(1, 2)), run.losses)
    assert gradient_descent(Z, random_factors((5, 2, 4), scale=0.5, rng=rng), lr=0.02,
                            steps=3).products is None


def test_descent_errors(rng):
    Z = _target(rng)
    starts = random_factors((5, 2, 4), scale=1.0, rng=rng)
    with pytest.raises(FloatingPointError, match="lr = 5 is too large"):
        gradient_descent(Z, starts, lr=5.0, steps=100)
    for lr, match in ((0, r"lr == 0.0, must be > 0"), (-0.1, r"lr == -0.1, must be > 0"),
                      (np.inf, "lr must be a finite number")):
        with pytest.raises(ValueError, match=match):
            gradient_descent(Z, starts, lr=lr, steps=10)
    with pytest.raises(TypeError, match="lr must be a real number"):
        gradient_descent(Z, starts, lr=True, steps=10)
    with pytest.raises(ValueError, match="steps == -1, must be >= 0"):
        gradient_descent(Z, starts, lr=0.01, steps=-1)
    with pytest.raises(TypeError, match="steps must be an integer"):
        gradient_descent(Z, starts, lr=0.01, steps=10.0)
    with pytest.raises(ValueError, match="record_every == 0"):
        gradient_descent(Z, starts, lr=0.01, steps=10, record_every=0)


def test_random_factors(rng):
    a = random_factors((5, 2, 3, 4), scale=0.1, rng=np.random.default_rng(1))
    b = random_factors((5, 2, 3, 4), scale=0.1, rng=np.random.default_rng(1))
    assert [f.shape for f in a] == [(2, 5), (3, 2), (4, 3)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    big = random_factors((50, 60), scale=0.1, rng=rng)[0]
    assert abs(big.std() - 0.1) < 0.01
    assert random_factors((5, 2, 4), scale=1.0, rng=rng, starts=7)[1].shape == (7, 4, 2)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        random_factors((5, 2, 4), scale=1.0, rng=0)
    with pytest.raises(ValueError, match="at least two entries"):
        random_factors((5,), scale=1.0, rng=rng)
    with pytest.raises(ValueError, match="scale == 0"):
        random_factors((5, 2, 4), scale=0, rng=rng)
    with pytest.raises(ValueError, match="every width must be >= 1"):
        random_factors((5, 0, 4), scale=1.0, rng=rng)


# ---------------------------------------------------------------- critical factors

@pytest.mark.parametrize("widths", [(5, 2, 4), (5, 3, 2, 4), (5, 4)])
def test_critical_factors_are_critical_points_of_f(rng, widths):
    Z = _target(rng)
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    r = min(widths)
    for size in range(r + 1):
        for J in itertools.combinations(range(4), size):
            if len(widths) == 2 and size != 4:
                continue
            factors = critical_factors(Z, J, widths)
            W = factors[0]
            for f in factors[1:]:
                W = f @ W
            idx = list(J)
            assert np.allclose(W, (U[:, idx] * s[idx]) @ Vt[idx])
            assert np.abs(_fd_gradient(Z, factors)).max() < 1e-6


def test_critical_factors_are_balanced(rng):
    Z = _target(rng)
    W1, W2, W3 = critical_factors(Z, (0, 2), (5, 2, 2, 4))
    assert np.allclose(W1 @ W1.T, W2.T @ W2) and np.allclose(W2 @ W2.T, W3.T @ W3)


def test_critical_factors_errors(rng):
    Z = _target(rng)
    with pytest.raises(ValueError, match="widths must run from d_0 = 5 to d_L = 4"):
        critical_factors(Z, (0,), (4, 2, 5))
    with pytest.raises(ValueError, match="narrowest layer has width 2"):
        critical_factors(Z, (0, 1, 2), (5, 2, 4))
    with pytest.raises(ValueError, match="distinct positions between 0 and 3"):
        critical_factors(Z, (0, 0), (5, 2, 4))
    with pytest.raises(ValueError, match="distinct positions between 0 and 3"):
        critical_factors(Z, (4,), (5, 2, 4))


# ---------------------------------------------------------------- visited points

def test_visited_critical_points_reads_a_synthetic_path(rng):
    Z = _target(rng)
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    P = lambda J: (U[:, list(J)] * s[list(J)]) @ Vt[list(J)]  # noqa: E731
    far = P((0,)) + 0.5 * P((1,))  # halfway, near nothing
    path = np.array([P(()), P(()) + 1e-4, far, P((0,)), P((0, 2)), P((0, 2)), P((0, 1))])
    assert visited_critical_points(Z, path, 2) == [(), (0,), (0, 2), (0, 1)]
    # r bounds the index sets considered
    assert visited_critical_points(Z, path, 1) == [(), (0,)]


def test_small_initialisation_visits_the_rank_staircase(rng):
    """Saddle-to-saddle: from a tiny start, W passes 0, [Z]_1, then [Z]_2."""
    U0, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    V0, _ = np.linalg.qr(rng.normal(size=(5, 4)))
    Z = U0 @ np.diag([4.0, 3.0, 2.0, 1.0]) @ V0.T
    starts = random_factors((5, 2, 4), scale=1e-8, rng=rng)
    run = gradient_descent(Z, starts, lr=0.01, steps=700, record_products=True)
    assert visited_critical_points(Z, run.products, 2, tol=0.05) == [(), (0,), (0, 1)]


def test_visited_errors(rng):
    Z = _target(rng)
    with pytest.raises(ValueError, match="must have the shape of Z"):
        visited_critical_points(Z, np.zeros((3, 5, 4)), 2)
    with pytest.raises(ValueError, match="must be a 3-D array"):
        visited_critical_points(Z, np.zeros((3, 2, 4, 5)), 2)
    with pytest.raises(ValueError, match="tol == 2"):
        visited_critical_points(Z, np.zeros((3, 4, 5)), 2, tol=2)


# ---------------------------------------------------------------- properties

@given(m=st.integers(2, 5), k=st.integers(2, 5), seed=st.integers(0, 10_000))
def test_property_eckart_young_point_is_critical_and_descent_finds_it(m, k, seed):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(m, k))
    r = min(m, k) - 1
    best = truncate(Z, r)
    assert stationarity_residual(Z, best, r) < 1e-10
    assert stationarity_residual(Z, truncate(Z, r - 1), r) > 0 if r > 1 else True
    s = np.linalg.svd(Z, compute_uv=False)
    if s[r - 1] - s[r] > 0.05 * s[0]:  # a clear gap: convergence within the budget
        lr = 0.1 / s[0]
        run = gradient_descent(Z, random_factors((k, r, m), scale=0.3, rng=rng), lr=lr,
                               steps=int(40 / (lr * (s[r - 1] - s[r]))) + 200)
        assert math.isclose(run.losses[-1], np.sum(s[r:] ** 2), rel_tol=1e-6, abs_tol=1e-8)
