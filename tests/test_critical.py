"""Critical points (Propositions B.9 and 13): counts, losses, criticality, and that only
the top-r point is a local minimum. Criticality is checked by its definition (the
residual is normal to M_r; the loss is stationary along feasible curves), not by the
formula that produced the points."""
import math

import numpy as np
import pytest

from helpers import truncate
from invariance_lib.checks import sample_loss
from invariance_lib import AssumptionWarning
from invariance_lib.theory.critical import critical_points, escape_curve, low_rank_critical_points
from invariance_lib.core.groups import c4_rotations


def test_propositionB9_count_losses_and_normality(rng):
    Z = rng.normal(size=(5, 7))
    s = np.linalg.svd(Z, compute_uv=False)
    r = 2
    pts = low_rank_critical_points(Z, r)
    assert len(pts) == math.comb(5, 2) == 10
    for p in pts:
        assert np.linalg.matrix_rank(p.W) == r
        assert np.isclose(p.loss, np.sum(np.delete(s, p.index_set) ** 2))
        # Normal space of M_r at W: Uᵀ(Z − W) = 0 and (Z − W)V = 0 for W's singular spaces.
        U, _, Vt = np.linalg.svd(p.W)
        R = Z - p.W
        assert np.abs(U[:, :r].T @ R).max() < 1e-10 and np.abs(R @ Vt[:r].T).max() < 1e-10
    assert [p.is_global_minimum for p in pts].count(True) == 1
    assert pts[0].index_set == (0, 1) and pts[0].loss == min(p.loss for p in pts)


def test_only_the_top_r_point_is_a_local_minimum(rng):
    Z = rng.normal(size=(4, 6))
    U, s, Vt = np.linalg.svd(Z)
    pts = low_rank_critical_points(Z, 2)
    t = np.linspace(0, np.pi / 2, 7)
    for p in pts:
        if p.is_global_minimum:
            # Random curves on the variety through W never go down.
            for k in range(200):
                D = np.random.default_rng(k).normal(size=Z.shape)
                for eps in (1e-5, 1e-2):
                    Wp = truncate(p.W + eps * D, 2)
                    assert np.sum((Z - Wp) ** 2) >= p.loss - 1e-12
            continue
        # A saddle: swap a kept σ_i for a larger discarded σ_j, along a rank-2 curve.
        i = max(p.index_set)
        j = min(set(range(4)) - set(p.index_set))
        assert s[j] > s[i]
        curve = escape_curve(Z, p.index_set, drop=i, add=j, t=t)
        losses = np.sum((Z - curve) ** 2, axis=(1, 2))
        assert np.allclose(losses, p.loss - 2 * s[i] * (s[j] - s[i]) * np.sin(t) ** 2)
        assert all(np.linalg.matrix_rank(W) == 2 for W in curve)
        assert losses[1] < p.loss


@pytest.fixture
def shaped(rng):
    """C4 on 4x4 (d0 = 16, invariant d = 4) with dL = 6 > d: the setting in which
    regularisation has strictly more critical points."""
    X, Y = rng.normal(size=(16, 70)), rng.normal(size=(6, 70))
    return X, Y, c4_rotations(4), 2


def _stationary(loss, W2, W1, B, rng):
    """Loss is flat to first order along random curves (W2 + tA)(W1 + tC)B."""
    base = loss(W2 @ W1 @ B)
    scale = max(abs(base), 1.0)
    for _ in range(10):
        A, C = rng.normal(size=W2.shape), rng.normal(size=W1.shape)
        h = 1e-6
        fp = loss((W2 + h * A) @ (W1 + h * C) @ B)
        fm = loss((W2 - h * A) @ (W1 - h * C) @ B)
        if abs(fp - fm) / (2 * h) > 1e-5 * scale:
            return False
    return True


def _factor(W, r):
    U, s, Vt = np.linalg.svd(W)
    return U[:, :r] * s[:r], Vt[:r]


def test_proposition13_counts_and_criticality(shaped, rng):
    X, Y, rho, r = shaped
    G, E, B = rho.constraint_matrix(), rho.elements(), rho.invariant_basis()
    hw = critical_points(X, Y, r, "hardwired", G=G)
    da = critical_points(X, Y, r, "augmented", elements=E)
    reg = critical_points(X, Y, r, "regularized", G=G, lam=0.5)
    d, dL, d0 = 4, 6, 16
    assert len(hw) == len(da) == math.comb(min(d, dL), r) == 6
    assert len(reg) == math.comb(min(d0, dL), r) == 15  # strictly more: dL > d
    for a, b in zip(hw, da):  # the same maps, the same losses
        assert np.allclose(a.W, b.W, atol=1e-10) and np.isclose(a.loss, b.loss)
        assert np.isclose(a.loss, sample_loss(a.W, X, Y))
        assert np.isclose(b.loss, sample_loss(b.W, X, Y, elements=E))
        assert np.abs(a.W @ G).max() < 1e-10
    for p in hw:  # stationary along curves in the invariant rank-r maps V B
        W2, W1 = _factor(p.W @ B.T, r)
        assert _stationary(lambda W: sample_loss(W, X, Y), W2, W1, B, rng)
    for p in reg:
        assert np.isclose(p.loss, sample_loss(p.W, X, Y) + 0.5 * np.sum((p.W @ G) ** 2))
        W2, W1 = _factor(p.W, r)
        assert _stationary(lambda W: sample_loss(W, X, Y) + 0.5 * np.sum((W @ G) ** 2),
                           W2, W1, np.eye(16), rng)
    # A perturbed (non-critical) point is not stationary: the check can fail.
    W2, W1 = _factor(hw[1].W @ B.T, r)
    assert not _stationary(lambda W: sample_loss(W, X, Y), W2 + 0.1, W1, B, rng)
    # Global minima agree with the closed forms' losses and sit first.
    assert hw[0].is_global_minimum and hw[0].loss == min(p.loss for p in hw)


def test_mnist_shaped_setting_has_126_for_all_three(rng):
    """d0 = 196, dL = 9 < d = 49, r = 5: all three problems have C(9, 5) = 126."""
    rho = c4_rotations(14)
    X, Y = rng.normal(size=(196, 300)), rng.normal(size=(9, 300))
    G = rho.constraint_matrix()
    counts = [len(critical_points(X, Y, 5, "hardwired", G=G)),
              len(critical_points(X, Y, 5, "augmented", elements=rho.elements())),
              len(critical_points(X, Y, 5, "regularized", G=G, lam=0.01))]
    assert counts == [126, 126, 126]


def test_low_rank_target_gives_single_point_with_warning(rng):
    Z = rng.normal(size=(5, 2)) @ rng.normal(size=(2, 6))
    with pytest.warns(AssumptionWarning, match="rank bound is inactive"):
        pts = low_rank_critical_points(Z, 3)
    assert len(pts) == 1 and np.allclose(pts[0].W, Z) and pts[0].loss < 1e-20


def test_repeated_singular_values_warn():
    with pytest.warns(AssumptionWarning, match="continuous families"):
        low_rank_critical_points(np.diag([3.0, 2.0, 2.0, 1.0]), 2)
