"""Tests of invariance_lib.experiments.cross_entropy (chapter 9)."""

import numpy as np
import pytest
from scipy.optimize import minimize

from invariance_lib import c4_rotations, from_matrix
from invariance_lib.experiments.cross_entropy import (
    CrossEntropyProblem, cross_entropy_toy, hessian_index, lbfgs_starts,
    minimiser_exists, stationary_points)
from invariance_lib.measures import invariant_part


@pytest.fixture
def swap():
    return from_matrix(np.eye(4)[[1, 0, 3, 2]], name="swap")


@pytest.fixture
def toy(swap):
    return cross_entropy_toy(swap, n=12, n_classes=3, seed=0)


@pytest.mark.parametrize("method", ["plain", "augmented", "hardwired",
                                    "regularized"])
def test_gradient_and_hessian_match_finite_differences(swap, toy, method):
    X, Y, _ = toy
    lam = 0.3 if method == "regularized" else 0.0
    pr = CrossEntropyProblem(X, Y, method, rep=swap, lam=lam, ridge=0.05)
    rng = np.random.default_rng(1)
    M = rng.standard_normal((3, pr.m))
    D = rng.standard_normal(M.shape)
    h = 1e-6
    _, g = pr.value_grad(M)
    fd = (pr.value(M + h * D) - pr.value(M - h * D)) / (2 * h)
    assert abs(fd - np.sum(g * D)) < 1e-7
    fd_h = (pr.value_grad(M + h * D)[1] - pr.value_grad(M - h * D)[1]) / (2 * h)
    np.testing.assert_allclose(pr.hvp(M, D), fd_h, atol=1e-7)
    theta = rng.standard_normal(2 * (pr.m + 3))
    e = rng.standard_normal(theta.size)
    fd_f = (pr.factorised(theta + h * e, 2)[1]
            - pr.factorised(theta - h * e, 2)[1]) / (2 * h)
    np.testing.assert_allclose(pr.factorised_hessian(theta, 2) @ e, fd_f,
                               atol=1e-7)
    # the matrix-free product against the dense Hessian (an independent formula)
    np.testing.assert_allclose(pr.factorised_hvp(theta, 2, e),
                               pr.factorised_hessian(theta, 2) @ e, atol=1e-12)


def test_value_is_the_brute_force_cross_entropy(swap, toy):
    X, Y, lab = toy
    M = np.random.default_rng(2).standard_normal((3, 4))
    brute = []
    for E in swap.elements():
        Z = M @ E @ X
        brute += [np.log(np.exp(Z[:, i]).sum()) - Z[lab[i], i]
                  for i in range(X.shape[1])]
    pr = CrossEntropyProblem(X, Y, "augmented", rep=swap)
    assert abs(pr.value(M) - np.mean(brute)) < 1e-12


def test_group_average_is_brute_force_and_does_not_raise_the_loss(toy):
    X, Y, _ = toy
    rep = c4_rotations(2)
    rng = np.random.default_rng(3)
    pr = CrossEntropyProblem(X, Y, "augmented", rep=rep)
    for _ in range(20):
        W = rng.standard_normal((3, 4)) * 3
        A = invariant_part(W, rep)
        np.testing.assert_allclose(A, np.mean([W @ E for E in rep.elements()],
                                              axis=0), atol=1e-14)
        assert np.linalg.norm(A @ rep.constraint_matrix()) < 1e-12
        assert np.linalg.matrix_rank(A) <= np.linalg.matrix_rank(W)
        assert pr.value(A) <= pr.value(W) + 1e-12


def test_hardwired_equals_augmented_on_invariant_maps(swap, toy):
    X, Y, _ = toy
    V = np.random.default_rng(4).standard_normal((3, 2))
    hw = CrossEntropyProblem(X, Y, "hardwired", rep=swap)
    aug = CrossEntropyProblem(X, Y, "augmented", rep=swap)
    assert abs(hw.value(V) - aug.value(hw.to_map(V))) < 1e-12


def test_lp_separable_quasi_separable_and_overlapping():
    # strictly separable: margins all reach the cap 1
    X = np.array([[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 3.0]])
    res = minimiser_exists(X, np.array([0, 0, 1, 1]))
    assert not res.exists and abs(res.margin_fraction - 1) < 1e-9
    # quasi-separable: no minimiser, but not all margins positive
    Xq = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    res = minimiser_exists(Xq, np.array([0, 0, 1]))
    assert not res.exists and 0 < res.margin_fraction < 1
    # overlapping classes: a minimiser exists, and L-BFGS finds a small gradient
    Xo = np.array([[1.0, 1.0, -1.0, -1.0], [1.0, -1.0, 1.0, -1.0]])
    lab = np.array([0, 1, 1, 0])
    Xo = np.hstack([Xo, Xo])
    lab = np.concatenate([lab, 1 - lab])
    res = minimiser_exists(Xo, lab)
    assert res.exists
    pr = CrossEntropyProblem(Xo, np.eye(2)[:, lab])
    sol = minimize(lambda m: (lambda v, g: (v, g.ravel()))(
        *pr.value_grad(m.reshape(2, 2))), np.ones(4), jac=True,
        method="L-BFGS-B", options={"gtol": 1e-10})
    assert np.linalg.norm(pr.value_grad(sol.x.reshape(2, 2))[1]) < 1e-8


def test_lp_direction_decreases_the_loss():
    Xq = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    lab = np.array([0, 0, 1])
    res = minimiser_exists(Xq, lab)
    pr = CrossEntropyProblem(Xq, np.eye(2)[:, lab])
    vals = [pr.value(t * res.direction) for t in (0, 1, 10, 100)]
    assert np.all(np.diff(vals) < 0)


def test_hessian_index_at_the_origin_is_r_times_rank_of_gradient(toy, swap):
    # at theta = 0 the Hessian is [[0, C], [C^T, 0]] from <grad L(0), dW2 dW1>:
    # eigenvalues +-sigma_j(grad L(0)), each r times
    X, Y, _ = toy
    pr = CrossEntropyProblem(X, Y, "plain")
    _, g = pr.value_grad(np.zeros((3, 4)))
    rank = np.linalg.matrix_rank(g)
    for r in (1, 2):
        H = pr.factorised_hessian(np.zeros(r * 7), r)
        idx, nul = hessian_index(H)
        assert idx == r * rank
        assert nul == r * 7 - 2 * r * rank
        e = np.sort(np.linalg.eigvalsh(H))
        s = np.linalg.svd(g, compute_uv=False)[:rank]
        np.testing.assert_allclose(e[-r * rank:], np.sort(np.repeat(s, r)),
                                   atol=1e-12)


def test_stationary_points_are_stationary_and_indices_agree(swap, toy):
    X, Y, _ = toy
    aug = CrossEntropyProblem(X, Y, "augmented", rep=swap, ridge=0.05)
    hw = CrossEntropyProblem(X, Y, "hardwired", rep=swap, ridge=0.05)
    pa = stationary_points(aug, 1, starts=30, seed=0)
    ph = stationary_points(hw, 1, starts=30, seed=0)
    assert pa and ph
    for p in pa:
        assert p.grad_norm < 1e-9
    # the global minimum: both find the same map and value
    assert abs(pa[0].value - ph[0].value) < 1e-9
    np.testing.assert_allclose(pa[0].W, ph[0].W, atol=1e-6)
    assert pa[0].index == ph[0].index == 0


@pytest.mark.parametrize("method", ["augmented", "hardwired"])
def test_lbfgs_starts_reach_the_convex_minimum_when_filling(swap, toy, method):
    # r = dL = 3: every map is reachable, F is strictly convex in W, and every
    # start must end at the one minimum, found independently by L-BFGS on W;
    # by averaging (ridge, orthogonal rep) that minimum is invariant
    X, Y, _ = toy
    pr = CrossEntropyProblem(X, Y, method, rep=swap, ridge=0.05)
    aug = CrossEntropyProblem(X, Y, "augmented", rep=swap, ridge=0.05)
    sol = minimize(lambda w: (lambda v, g: (v, g.ravel()))(
        *aug.value_grad(w.reshape(3, 4))),
        np.random.default_rng(7).standard_normal(12), jac=True,
        method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 0.0})
    ends = lbfgs_starts(pr, 3, starts=6, seed=0)
    assert len(ends) == 6
    for e in ends:
        assert e.grad_norm < 1e-7
        assert abs(e.value - sol.fun) < 1e-10
        assert abs(aug.value(e.W) - e.value) < 1e-12     # same objective on W
        np.testing.assert_allclose(e.W, sol.x.reshape(3, 4), atol=1e-5)
        np.testing.assert_allclose(invariant_part(e.W, swap), e.W, atol=1e-5)


def test_lbfgs_starts_are_seeded(swap, toy):
    X, Y, _ = toy
    pr = CrossEntropyProblem(X, Y, "augmented", rep=swap, ridge=0.05)
    a = lbfgs_starts(pr, 1, starts=2, seed=3)
    b = lbfgs_starts(pr, 1, starts=2, seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.theta, y.theta)


def test_validation(swap, toy):
    X, Y, lab = toy
    with pytest.raises(ValueError, match="unknown method"):
        CrossEntropyProblem(X, Y, "dropout", rep=swap)
    with pytest.raises(TypeError, match="method must be a string"):
        CrossEntropyProblem(X, Y, 3, rep=swap)
    with pytest.raises(TypeError, match="rep must be a Representation"):
        CrossEntropyProblem(X, Y, "augmented", rep="c4")
    with pytest.raises(ValueError, match="probability vectors"):
        CrossEntropyProblem(X, 2 * Y, "plain")
    with pytest.raises(ValueError, match="ridge"):
        CrossEntropyProblem(X, Y, "plain", ridge=-1.0)
    with pytest.raises(ValueError, match="lam > 0 is the penalty"):
        CrossEntropyProblem(X, Y, "augmented", rep=swap, lam=0.1)
    pr = CrossEntropyProblem(X, Y, "hardwired", rep=swap)
    with pytest.raises(ValueError, match=r"coefficients are \(dL, m\)"):
        pr.value(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="theta has"):
        pr.factorised(np.zeros(3), 1)
    with pytest.raises(ValueError, match="labels has"):
        minimiser_exists(X, lab[:-1])
    with pytest.raises(TypeError, match="integer class labels"):
        minimiser_exists(X, lab.astype(float))
    with pytest.raises(TypeError, match="CrossEntropyProblem"):
        stationary_points("problem", 1)
    with pytest.raises(TypeError, match="CrossEntropyProblem"):
        lbfgs_starts("problem", 1)
    with pytest.raises(ValueError, match="starts"):
        lbfgs_starts(pr, 1, starts=0)
    with pytest.raises(ValueError, match="gtol"):
        lbfgs_starts(pr, 1, gtol=0.0)
