"""The regularisation path against independent computations (chapter 5)."""
import warnings

import numpy as np
import pytest

from invariance_lib.checks import sample_loss
from invariance_lib import AssumptionWarning, paper
from invariance_lib.core.groups import c4_rotations
from invariance_lib.theory.paths import closest_approach, regularization_path


def crossing_example():
    """Z_reg(λ)/√n = diag(3/√(1 + λ), 1): the two singular values cross at λ* = 8."""
    X = np.sqrt(2.0) * np.eye(2)
    return X, np.diag([3.0, 1.0]) @ X, np.array([[1.0], [0.0]])


def two_feature_example(noise=0.0, a=3.0, b=1.0):
    """Whitened inputs on 4x4 images; one output reads a pattern v with Rv = −v
    (GGᵀv = 4v), the other an invariant pattern u. For r = 1 the singular values
    a/√(1 + 4λ) and b cross at λ* = (a²/b² − 1)/4."""
    rho = c4_rotations(4)
    E = rho.elements()
    rng = np.random.default_rng(3)
    x = rng.normal(size=16)
    v = sum((-1) ** j * E[j] @ x for j in range(4))
    w = rng.normal(size=16)
    u = sum(E[j] @ w for j in range(4))
    X = rng.normal(size=(16, 80))
    e, V = np.linalg.eigh(X @ X.T / 80)
    X = (V / np.sqrt(e)) @ V.T @ X  # X Xᵀ / n = I
    Y = np.stack([a * v / np.linalg.norm(v), b * u / np.linalg.norm(u)]) @ X
    Y = Y + noise * rng.normal(size=Y.shape)
    return X, Y, rho.constraint_matrix()


@pytest.fixture
def path(problem):
    X, Y, rho, r = problem
    lams = np.concatenate([[0.0], np.logspace(-3, 4, 29)])
    return X, Y, rho.constraint_matrix(), r, lams, regularization_path(X, Y, rho, r, lams)


def test_path_matches_paper_formula_pointwise(path):
    X, Y, G, r, lams, p = path
    n = X.shape[1]
    assert p.W.shape == (lams.size, Y.shape[0], X.shape[0])
    for lam, W, s in zip(lams, p.W, p.sigma):
        Wp = paper.proposition8_optimum(X, Y, G, r, lam)
        assert np.linalg.norm(W - Wp) < 1e-9 * np.linalg.norm(Wp)
        s_paper = np.linalg.svd(paper.Z_reg(X, Y, G, lam), compute_uv=False)
        assert np.allclose(s, s_paper / np.sqrt(n), rtol=1e-9)
    s_plain = np.linalg.svd(paper.Z_plain(X, Y), compute_uv=False) / np.sqrt(n)
    assert np.allclose(p.sigma_plain, s_plain, rtol=1e-10)
    s_inv = np.linalg.svd(paper.Z_inv(X, Y, G), compute_uv=False) / np.sqrt(n)
    assert np.allclose(p.sigma_inv[:4], s_inv[:4], rtol=1e-9)  # rank Z_inv <= d = 4
    assert np.allclose(p.sigma_inv[4:], 0.0, atol=1e-12)
    assert np.allclose(p.W_inv, paper.theorem6_optimum(X, Y, G, r), atol=1e-10)


def test_measures_from_samples(path):
    X, Y, G, r, lams, p = path
    for k in (0, 7, 20):
        W = p.W[k]
        assert np.isclose(p.data_loss[k], sample_loss(W, X, Y), rtol=1e-9)
        assert np.isclose(p.non_invariance[k], np.linalg.norm(W @ G), rtol=1e-12)
        assert np.isclose(p.loss[k], sample_loss(W, X, Y) + lams[k] * np.sum((W @ G) ** 2),
                          rtol=1e-9)
        assert np.isclose(p.distance[k], np.linalg.norm(W - p.W_inv), rtol=1e-12)
    assert np.isclose(p.loss_inv, sample_loss(p.W_inv, X, Y), rtol=1e-12)
    assert np.allclose(p.relative_distance, p.distance / np.linalg.norm(p.W_inv))


def test_monotone_in_lambda(path):
    """σ_i(Z(λ)) and ‖W_reg(λ)G‖ never increase; the data loss never decreases."""
    *_, p = path
    S = np.vstack([p.sigma_plain, p.sigma, p.sigma_inv])
    assert np.all(np.diff(S, axis=0) <= 1e-12)
    assert np.all(np.diff(p.non_invariance) <= 1e-12)
    assert np.all(np.diff(p.data_loss) >= -1e-12)
    assert np.all(p.loss <= p.loss_inv + 1e-12)


def test_monotone_with_singular_data(problem):
    X, Y, rho, r = problem
    X = X.copy()
    X[[0, 5]] = 0.0  # dead pixels: X Xᵀ singular
    p = regularization_path(X, Y, rho, r, np.logspace(-3, 5, 17))
    S = np.vstack([p.sigma_plain, p.sigma, p.sigma_inv])
    assert np.all(np.diff(S, axis=0) <= 1e-12)
    assert np.allclose(S[-2], S[-1], atol=2e-3 * S[0, 0])  # σ(Z(λ)) -> σ(Z_inv)
    assert p.relative_distance[-1] < 1e-4


def test_mean_normalization_is_a_shift(problem):
    X, Y, rho, r = problem
    dL = Y.shape[0]
    lams = np.logspace(-2, 2, 9)
    a = regularization_path(X, Y, rho, r, lams, normalization="mean")
    b = regularization_path(X, Y, rho, r, dL * lams)
    assert np.allclose(a.W, b.W, atol=1e-12)
    assert np.allclose(a.distance, b.distance, atol=1e-12)
    assert np.allclose(a.sigma * np.sqrt(dL), b.sigma, rtol=1e-10)
    assert np.allclose(dL * a.data_loss, b.data_loss, rtol=1e-10)


def test_certificate_on_generic_data(path):
    *_, p = path
    cert = p.certify()
    assert cert.holds and cert.margin > 0
    # Jumps shrink under refinement, as on a continuous path.
    X, Y, G, r, *_ = path
    jumps = [regularization_path(X, Y, G, r, np.logspace(-3, 3, k)).jumps().max()
             for k in (50, 200)]
    assert jumps[1] < 0.5 * jumps[0]


def test_crossing_example_is_flagged_and_located():
    X, Y, G = crossing_example()
    lam, gap = closest_approach(X, Y, G, 1, 1.0, 100.0)
    assert abs(lam - 8.0) < 1e-8 and gap < 1e-10
    p = regularization_path(X, Y, G, 1, np.array([1.0, 7.9, 8.1, 100.0]))
    assert not p.certify().holds
    assert p.certify().worst_cell == (7.9, 8.1)
    assert np.allclose(p.W[1], [[3 / 8.9, 0], [0, 0]]) and np.allclose(p.W[2], [[0, 0], [0, 1]])
    assert np.allclose(p.sigma[:, 0], np.maximum(3 / np.sqrt(1 + p.lams), 1.0))
    # The jump does not shrink when the grid is refined.
    for k in (11, 101, 1001):
        grid = np.linspace(7, 9, k)
        assert regularization_path(X, Y, G, 1, grid, warn=False).jumps().max() > 1.0
    # ... and the non-invariance drops across it (monotonicity).
    assert p.non_invariance[2] < p.non_invariance[1]


def test_two_feature_crossing_and_avoided_crossing():
    X, Y, G = two_feature_example()
    lam, gap = closest_approach(X, Y, G, 1, 0.1, 100.0)
    assert abs(lam - 2.0) < 1e-6 and gap < 1e-8
    with pytest.warns(AssumptionWarning, match="tied singular values"):
        regularization_path(X, Y, G, 1, np.array([1.0, 2.0, 3.0]))
    # A little noise turns the crossing into an avoided crossing: continuous path.
    X, Y, G = two_feature_example(noise=0.05)
    lam, gap = closest_approach(X, Y, G, 1, 0.1, 100.0)
    assert 1.5 < lam < 2.5 and gap > 1e-3
    lams = np.concatenate([np.logspace(-2, 0, 20), np.linspace(1.05, 3, 800),
                           np.logspace(0.5, 3, 20)])
    p = regularization_path(X, Y, G, 1, lams)
    assert p.certify().holds


def test_filling_case_certifies_trivially(problem):
    X, Y, rho, _ = problem
    p = regularization_path(X, Y, rho, 6, np.logspace(-1, 1, 3))
    assert p.certify().holds and p.certify().margin == np.inf
    assert np.all(np.isinf(p.gap))


def test_no_warning_on_generic_path(path):
    X, Y, G, r, lams, _ = path
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        regularization_path(X, Y, G, r, lams)


def test_bad_input():
    X, Y, G = crossing_example()
    with pytest.raises(ValueError, match="strictly increasing"):
        regularization_path(X, Y, G, 1, np.array([1.0, 0.5]))
    with pytest.raises(ValueError, match="at least two values"):
        regularization_path(X, Y, G, 1, 1.0)
    with pytest.raises(ValueError, match="must be >= 0"):
        regularization_path(X, Y, G, 1, np.array([-1.0, 1.0]))
    with pytest.raises(ValueError, match="exceeds min"):
        regularization_path(X, Y, G, 3, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="It looks transposed"):
        regularization_path(X, Y, np.ones((1, 2)), 1, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="need lo < hi"):
        closest_approach(X, Y, G, 1, 10.0, 1.0)
    with pytest.raises(ValueError, match="must be a finite number > 0"):
        closest_approach(X, Y, G, 1, 0.0, 1.0)
    with pytest.raises(ValueError, match="filling case"):
        closest_approach(X, Y, G, 2, 1.0, 10.0)
    with pytest.raises(ValueError, match="normalization must be"):
        regularization_path(X, Y, G, 1, np.array([0.0, 1.0]), normalization="sum")
    p = regularization_path(np.eye(2), np.zeros((2, 2)), G, 1, np.array([0.0, 1.0]),
                            warn=False)
    with pytest.raises(ValueError, match="W_inv is the zero map"):
        p.relative_distance
