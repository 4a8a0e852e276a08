"""The closed forms against independent computations.

Each optimum is checked three ways: against the paper's formula written out literally
(invariance_lib.theory.paper, a different code path), against optimisation of a factorised
network W2 W1 (B) from many random starts (which knows nothing of the closed form), and
against random feasible perturbations (no feasible point nearby is better).
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import truncate
from invariance_lib.checks import factorised_fit, sample_loss
from invariance_lib import AssumptionWarning, paper
from invariance_lib.core.groups import c4_rotations, d4_symmetries
from invariance_lib.core.linalg import psd_root
from invariance_lib.theory.solvers import (augmented_optimum, hardwired_optimum, plain_optimum,
                                    regularized_optimum)


def reg_loss(W, X, Y, G, lam):
    return sample_loss(W, X, Y) + lam * float(np.sum((W @ G) ** 2))


def rel(A, B):
    return np.linalg.norm(A - B) / np.linalg.norm(B)


# ------------------------------------------------------------------ Theorem 6
def test_theorem6_matches_paper_formula(problem):
    X, Y, rho, r = problem
    W = hardwired_optimum(X, Y, rho.constraint_matrix(), r)
    assert rel(W, paper.theorem6_optimum(X, Y, rho.constraint_matrix(), r)) < 1e-10
    assert np.abs(W @ rho.constraint_matrix()).max() < 1e-12
    assert np.linalg.matrix_rank(W, tol=1e-10) == r


def test_theorem6_no_factorised_network_does_better(problem):
    X, Y, rho, r = problem
    W = hardwired_optimum(X, Y, rho, r)  # a Representation is accepted for G
    best = sample_loss(W, X, Y)
    runs = factorised_fit(X, Y, r, B=rho.invariant_basis())
    losses = np.array([l for _, l in runs])
    assert losses.min() >= best - 1e-10  # nobody beats the closed form
    assert abs(losses.min() - best) < 1e-8  # and the best start reaches it
    W_best = runs[int(np.argmin(losses))][0]
    assert rel(W_best, W) < 1e-4


def test_theorem6_random_feasible_perturbations(problem, rng):
    X, Y, rho, r = problem
    W = hardwired_optimum(X, Y, rho, r)
    B = rho.invariant_basis()
    best = sample_loss(W, X, Y)
    for eps in (1e-4, 1e-2, 1.0):
        for _ in range(100):
            Wp = truncate(W + eps * rng.normal(size=(Y.shape[0], len(B))) @ B, r)
            assert np.abs(Wp @ rho.constraint_matrix()).max() < 1e-10  # Lemma B.2
            assert sample_loss(Wp, X, Y) >= best - 1e-12


def test_lemma_B2_truncation_keeps_constraint(rng):
    A = rng.normal(size=(5, 3)) @ rng.normal(size=(3, 8))
    Bm = rng.normal(size=(8, 2))
    A = A - (A @ Bm) @ np.linalg.pinv(Bm)  # now A B = 0
    for r in range(1, 4):
        assert np.abs(truncate(A, r) @ Bm).max() < 1e-12


# --------------------------------------------------------- Proposition 8, Thm 9
@pytest.mark.parametrize("lam", [0.0, 1e-3, 0.1, 1.0, 30.0])
def test_proposition8_matches_paper_and_symmetric_root(problem, lam):
    X, Y, rho, r = problem
    G = rho.constraint_matrix()
    W = regularized_optimum(X, Y, G, r, lam)
    assert rel(W, paper.proposition8_optimum(X, Y, G, r, lam)) < 1e-9
    # A third route: W = [C K^{-1/2}]_r K^{-1/2} with the symmetric root of K(λ).
    n = X.shape[1]
    _, Kih, _ = psd_root(X @ X.T / n + lam * G @ G.T)
    W3 = truncate(Y @ X.T / n @ Kih, r) @ Kih
    assert rel(W, W3) < 1e-9


@pytest.mark.parametrize("lam", [1e-2, 1.0])
def test_proposition8_no_factorised_network_does_better(problem, lam):
    X, Y, rho, r = problem
    G = rho.constraint_matrix()
    W = regularized_optimum(X, Y, G, r, lam)
    best = reg_loss(W, X, Y, G, lam)
    runs = factorised_fit(X, Y, r, G=G, lam=lam, starts=8)
    losses = np.array([l for _, l in runs])
    assert losses.min() >= best - 1e-10 and abs(losses.min() - best) < 1e-8


def test_regularized_path_is_one_call_and_matches_pointwise(problem):
    X, Y, rho, r = problem
    lams = np.logspace(-3, 3, 7)
    path = regularized_optimum(X, Y, rho, r, lams)
    assert path.shape == (7, Y.shape[0], X.shape[0])
    for lam, W in zip(lams, path):
        assert rel(W, paper.proposition8_optimum(X, Y, rho.constraint_matrix(), r, lam)) < 1e-8
    assert rel(regularized_optimum(X, Y, rho, r, 0.0), plain_optimum(X, Y, r)) < 1e-12


def test_normalization_mean_is_lambda_times_dL(problem):
    X, Y, rho, r = problem
    dL = Y.shape[0]
    a = regularized_optimum(X, Y, rho, r, 0.01, normalization="mean")
    b = regularized_optimum(X, Y, rho, r, 0.01 * dL)
    assert rel(a, b) < 1e-12


def test_theorem9_limit_and_continuity(problem):
    X, Y, rho, r = problem
    W_inv = hardwired_optimum(X, Y, rho, r)
    lams = np.logspace(0, 10, 11)
    dist = [rel(W, W_inv) for W in regularized_optimum(X, Y, rho, r, lams)]
    assert dist[-1] < 1e-7 and dist[0] > 1e-2
    assert all(b <= a * 1.01 for a, b in zip(dist[3:], dist[4:]))  # decreasing towards W_inv
    # Continuity on generic data: jumps between neighbours shrink when the grid is refined.
    jumps = []
    for k in (200, 400, 800):
        path = regularized_optimum(X, Y, rho, r, np.logspace(-4, 4, k))
        jumps.append(np.max(np.linalg.norm(np.diff(path, axis=0), axis=(1, 2))))
    assert jumps[1] < 0.6 * jumps[0] and jumps[2] < 0.6 * jumps[1]


def crossing_example():
    """Z_reg(λ) = diag(3/√(1 + λ), 1): its two singular values cross at λ* = 8."""
    X = np.sqrt(2.0) * np.eye(2)  # X Xᵀ / n = I with n = 2
    Y = np.diag([3.0, 1.0]) @ X  # C = Y Xᵀ / n = diag(3, 1)
    G = np.array([[1.0], [0.0]])  # penalise the first input direction only
    return X, Y, G


def test_theorem9_caveat_path_jumps_when_singular_values_cross():
    X, Y, G = crossing_example()
    below, above = regularized_optimum(X, Y, G, 1, np.array([7.9, 8.1]))
    assert np.allclose(below, [[3 / 8.9, 0], [0, 0]], atol=1e-12)  # W = 3/(1 + λ) on direction 1
    assert np.allclose(above, [[0, 0], [0, 1]], atol=1e-12)  # switched to direction 2
    assert np.linalg.norm(above - below) > 1.0  # a jump, while Z_reg keeps full rank
    with pytest.warns(AssumptionWarning, match="tied singular values"):
        regularized_optimum(X, Y, G, 1, 8.0)


# --------------------------------------------------- Proposition 11, Theorem 12
def test_proposition11_matches_paper_formula(problem):
    X, Y, rho, r = problem
    E = rho.elements()
    W = augmented_optimum(X, Y, E, r)
    assert rel(W, paper.proposition11_optimum(X, Y, E, r)) < 1e-9
    best = sample_loss(W, X, Y, elements=E)
    runs = factorised_fit(X, Y, r, elements=E, starts=8)
    losses = np.array([l for _, l in runs])
    assert losses.min() >= best - 1e-10 and abs(losses.min() - best) < 1e-8


@pytest.mark.parametrize("group", [c4_rotations, d4_symmetries])
def test_theorem12_unitary(group, rng):
    rho = group(4)
    X, Y = rng.normal(size=(16, 80)), rng.normal(size=(6, 80))
    W_da = augmented_optimum(X, Y, rho.elements(), 2)
    W_inv = hardwired_optimum(X, Y, rho, 2)
    assert rel(W_da, W_inv) < 1e-10
    assert np.abs(W_da @ rho.constraint_matrix()).max() < 1e-10
    # Singular values of Z_da are √|G| times those of Z_inv (paper's normalisation).
    s_da = np.linalg.svd(paper.Z_da(X, Y, rho.elements()), compute_uv=False)
    s_inv = np.linalg.svd(paper.Z_inv(X, Y, rho.constraint_matrix()), compute_uv=False)
    k = min(len(s_da), len(s_inv))
    assert np.allclose(s_da[:k], np.sqrt(rho.order) * s_inv[:k], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_theorem12_holds_for_nonunitary_finite_group(seed):
    """The paper assumes ρ unitary. For a finite group it is not needed: ρ = Sρ₀S⁻¹, and
    X → S⁻¹X, W → WS maps both problems to the unitary case. The proof's steps fail."""
    rng = np.random.default_rng(seed)
    S = np.eye(16) + 0.3 * rng.normal(size=(16, 16))
    rho = c4_rotations(4).conjugate(S)
    assert not rho.is_orthogonal()
    X, Y = rng.normal(size=(16, 80)), rng.normal(size=(6, 80))
    E = rho.elements()
    W_da, W_inv = augmented_optimum(X, Y, E, 2), hardwired_optimum(X, Y, rho, 2)
    assert rel(W_da, W_inv) < 1e-8
    assert rel(W_da, paper.proposition11_optimum(X, Y, E, 2)) < 1e-8
    # ... although the proof's intermediate claims are false here:
    Zda = paper.Z_da(X, Y, E)
    assert max(np.abs(Zda @ g - Zda).max() for g in E) > 1e-3  # Z_da is not invariant
    Q = psd_root(sum(g @ X @ X.T @ g.T for g in E))[0]
    assert max(np.abs(Q @ g - g @ Q).max() for g in E) > 1e-3  # Q does not commute with ρ


def test_theorem12_fails_for_partial_group_or_unequal_weights(problem):
    X, Y, rho, r = problem
    E, G = rho.elements(), rho.constraint_matrix()
    W_inv = hardwired_optimum(X, Y, G, r)
    partial = augmented_optimum(X, Y, E[:2], r)  # {e, g}: not a group
    weighted = augmented_optimum(X, Y, E, r, weights=[0.4, 0.3, 0.2, 0.1])
    for W in (partial, weighted):
        assert rel(W, W_inv) > 1e-2
        assert np.abs(W @ G).max() > 1e-3  # not invariant
    # The weighted optimum is still the optimum of the weighted augmented loss.
    w = [0.4, 0.3, 0.2, 0.1]
    best = sample_loss(weighted, X, Y, elements=E, weights=w)
    for _ in range(50):
        Wp = truncate(weighted + 1e-2 * np.random.default_rng(_).normal(size=weighted.shape), r)
        assert sample_loss(Wp, X, Y, elements=E, weights=w) >= best - 1e-12


@given(group=st.sampled_from(["c4_3", "c4_4", "d4_4", "d4_5"]), dL=st.integers(1, 6),
       extra=st.integers(1, 30), seed=st.integers(0, 2**31), r_frac=st.floats(0.0, 1.0))
def test_property_theorem12_and_optimality(group, dL, extra, seed, r_frac):
    rho = {"c4_3": lambda: c4_rotations(3), "c4_4": lambda: c4_rotations(4),
           "d4_4": lambda: d4_symmetries(4), "d4_5": lambda: d4_symmetries(5)}[group]()
    d0 = rho.dim
    rng = np.random.default_rng(seed)
    n = d0 + extra
    X, Y = rng.normal(size=(d0, n)), rng.normal(size=(dL, n))
    r = 1 + int(r_frac * (min(d0, dL) - 1))
    W_inv = hardwired_optimum(X, Y, rho, r)
    W_da = augmented_optimum(X, Y, rho.elements(), r)
    assert rel(W_da, W_inv) < 1e-7
    assert np.abs(W_inv @ rho.constraint_matrix()).max() < 1e-9
    assert np.linalg.matrix_rank(W_inv, tol=1e-9) <= r
    assert rel(W_inv, paper.theorem6_optimum(X, Y, rho.constraint_matrix(), r)) < 1e-7
    B = rho.invariant_basis()
    best = sample_loss(W_inv, X, Y)
    for _ in range(20):
        Wp = truncate(W_inv + 0.1 * rng.normal(size=(dL, len(B))) @ B, r)
        assert sample_loss(Wp, X, Y) >= best - 1e-10


# ---------------------------------------------------- singular X Xᵀ (dead pixels)
@pytest.fixture
def dead_pixel_problem(rng, c4_small):
    X = rng.normal(size=(16, 40))
    X[[0, 5]] = 0.0  # two pixels that are zero in every image, in different orbits
    Y = rng.normal(size=(5, 40))
    return X, Y, c4_small, 2


def test_singular_plain_is_min_norm_and_matches_reduced_problem(dead_pixel_problem):
    X, Y, _, r = dead_pixel_problem
    W = plain_optimum(X, Y, r)
    alive = np.flatnonzero(np.any(X != 0, axis=1))
    W_alive = paper.Z_plain(X[alive], Y)  # full rank on the live pixels
    _, Pinv = paper.whitening(X[alive])
    expected = np.zeros_like(W)
    expected[:, alive] = truncate(W_alive, r) @ Pinv
    assert rel(W, expected) < 1e-10
    assert np.abs(W[:, [0, 5]]).max() < 1e-14  # minimum norm: nothing on dead pixels


def test_singular_hardwired_is_optimal_and_min_norm(dead_pixel_problem):
    X, Y, rho, r = dead_pixel_problem
    with pytest.raises(ValueError, match=r"X Xᵀ is singular \(rank 14 < 16\)"):
        paper.theorem6_optimum(X, Y, rho.constraint_matrix(), r)
    W = hardwired_optimum(X, Y, rho, r)
    best = sample_loss(W, X, Y)
    B = rho.invariant_basis()
    runs = factorised_fit(X, Y, r, B=B, starts=8)
    assert min(l for _, l in runs) >= best - 1e-10
    # Minimum norm: W = V B with the rows of V in the range of B X Xᵀ Bᵀ.
    V = W @ B.T
    e, U = np.linalg.eigh(B @ X @ X.T @ B.T)
    null = U[:, e < 1e-10 * e.max()]
    assert null.shape[1] == 0 or np.abs(V @ null).max() < 1e-10
    # Plugging P⁺ into Theorem 6 stays invariant but is not optimal.
    W_pinv = paper.theorem6_optimum(X, Y, rho.constraint_matrix(), r, pinv=True)
    assert np.abs(W_pinv @ rho.constraint_matrix()).max() < 1e-10
    assert sample_loss(W_pinv, X, Y) > best + 1e-3


def test_singular_augmented_equals_hardwired_for_unitary(dead_pixel_problem):
    X, Y, rho, r = dead_pixel_problem
    assert rel(augmented_optimum(X, Y, rho.elements(), r), hardwired_optimum(X, Y, rho, r)) < 1e-10


# ------------------------------------------------------- degenerate but valid
def test_filling_case_is_ordinary_least_squares(problem):
    X, Y, rho, _ = problem
    r = min(X.shape[0], Y.shape[0])
    W = plain_optimum(X, Y, r)
    W_ls = np.linalg.lstsq(X.T, Y.T, rcond=None)[0].T
    assert rel(W, W_ls) < 1e-10


def test_rank_bound_at_invariant_dimension_is_invariant_least_squares(problem):
    X, Y, rho, _ = problem
    B = rho.invariant_basis()
    W = hardwired_optimum(X, Y, rho, len(B))  # r = d = 4: the bound does nothing
    V_ls = np.linalg.lstsq((B @ X).T, Y.T, rcond=None)[0].T
    assert rel(W, V_ls @ B) < 1e-10


def test_tied_singular_values_warn_and_return_an_optimum():
    n = 3
    X = np.sqrt(n) * np.eye(3)
    Y = np.diag([3.0, 2.0, 2.0]) @ X  # whitened target diag(3, 2, 2): σ_2 = σ_3
    with pytest.warns(AssumptionWarning, match="not unique"):
        W = plain_optimum(X, Y, 2)
    assert np.isclose(sample_loss(W, X, Y), 4.0)  # the discarded σ² = 4, whichever one
    assert np.linalg.matrix_rank(W) == 2


def test_lemma_B4_commuting_root(problem):
    """Lemma B.4: a PD matrix commuting with ρ(h) has a root that commutes with ρ(h)."""
    import scipy.linalg as sla
    X, _, rho, _ = problem
    E = rho.elements()
    K = sum(g @ X @ X.T @ g.T for g in E)
    Q, Q_pinv, rank = psd_root(K)
    assert rank == K.shape[0]
    assert np.allclose(Q @ Q, K, rtol=1e-10, atol=1e-10 * np.abs(K).max())
    assert np.allclose(Q, sla.sqrtm(K).real, atol=1e-8 * np.abs(Q).max())  # independent root
    for h in E:
        assert np.abs(K @ h - h @ K).max() < 1e-10 * np.abs(K).max()
        assert np.abs(Q @ h - h @ Q).max() < 1e-10 * np.abs(Q).max()
        assert np.abs(Q_pinv @ h - h @ Q_pinv).max() < 1e-10 * np.abs(Q_pinv).max()
