"""Deep linear networks and determinantal varieties (chapter 2), against independent
computations: exact integer determinants, finite differences, the explicit tangent
space of the rank-r manifold, and numpy's SVD rank."""
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from invariance_lib.core.linalg import AmbiguousRankError
from invariance_lib.dln.architecture import (check_widths, end_to_end, is_filling,
                                             n_parameters, random_factors, rank_bound,
                                             widths_of)
from invariance_lib.dln.varieties import (change_hidden_basis, factorize, jacobian,
                                          jacobian_rank, minor_gradients, minors,
                                          minors_vanish, random_matrix_of_rank,
                                          tangent_space_dimension, variety_dimension)


def _exact_det(M):
    """Laplace expansion in exact rational arithmetic (independent of LAPACK)."""
    M = [[Fraction(int(x)) for x in row] for row in M]
    if len(M) == 0:
        return Fraction(1)
    if len(M) == 1:
        return M[0][0]
    return sum((-1) ** j * M[0][j] * _exact_det([row[:j] + row[j + 1:] for row in M[1:]])
               for j in range(len(M)))


def _tangent_dim_explicit(W, r):
    """dim of {U A + B Vᵀ} at a rank-r W (U, V its singular vectors), by a basis."""
    m, n = W.shape
    U, _, Vt = np.linalg.svd(W)
    U, V = U[:, :r], Vt[:r].T
    basis = [np.outer(U[:, i], e) for i in range(r) for e in np.eye(n)]
    basis += [np.outer(e, V[:, i]) for i in range(r) for e in np.eye(m)]
    if not basis:
        return 0
    return np.linalg.matrix_rank(np.array([b.ravel() for b in basis]))


widths_strategy = st.lists(st.integers(1, 5), min_size=2, max_size=5)


# ---------------------------------------------------------------------- widths
def test_widths_filling_and_bounds():
    assert rank_bound((196, 5, 9)) == 5 and not is_filling((196, 5, 9))  # the paper's net
    assert is_filling((196, 9)) and is_filling((4, 2, 2)) and is_filling((3, 7, 5))
    assert not is_filling((5, 3, 2, 4)) and rank_bound((5, 3, 2, 4)) == 2
    assert n_parameters((196, 5, 9)) == 196 * 5 + 5 * 9
    assert variety_dimension(9, 196, 5) == 1000


@pytest.mark.parametrize("bad, err, match", [
    ((3,), ValueError, "at least two entries"),
    ((3, 0, 2), ValueError, "must be >= 1"),
    ((3, 2.0, 2), TypeError, "must be an integer"),
    ((3, True, 2), TypeError, "must be an integer"),
    ("32", TypeError, "sequence of layer widths"),
    (5, TypeError, "sequence of layer widths"),
])
def test_bad_widths(bad, err, match):
    with pytest.raises(err, match=match):
        check_widths(bad)


def test_bad_dimensions_and_rng():
    with pytest.raises(ValueError, match="0 <= r <= min"):
        variety_dimension(3, 4, 4)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        random_factors((3, 2), rng=0)
    with pytest.raises(ValueError, match="0 <= r <= min"):
        random_matrix_of_rank(2, 3, 3, np.random.default_rng(0))


# -------------------------------------------------------------- the map μ
@given(widths_strategy, st.integers(0, 10_000))
def test_end_to_end_is_the_forward_pass_and_has_rank_r(widths, seed):
    rng = np.random.default_rng(seed)
    fs = random_factors(widths, rng)
    X = rng.normal(size=(widths[0], 7))
    H = X
    for F in fs:  # layer by layer
        H = F @ H
    W = end_to_end(fs)
    assert W.shape == (widths[-1], widths[0])
    assert np.allclose(W @ X, H)
    assert np.linalg.matrix_rank(W) == rank_bound(widths)  # generic factors
    assert widths_of(fs) == tuple(widths)


def test_factors_must_chain():
    rng = np.random.default_rng(1)
    fs = random_factors((4, 3, 2), rng)
    with pytest.raises(ValueError, match="reverse order"):
        end_to_end(fs[::-1])
    with pytest.raises(ValueError, match="do not chain"):
        end_to_end([rng.normal(size=(3, 4)), rng.normal(size=(2, 2))])
    with pytest.raises(ValueError, match="empty"):
        end_to_end([])


@given(widths_strategy, st.integers(0, 10_000), st.data())
def test_factorize_reaches_every_matrix_of_rank_at_most_r(widths, seed, data):
    rng = np.random.default_rng(seed)
    m, n, r = widths[-1], widths[0], min(widths)
    k = data.draw(st.integers(0, r))
    W = random_matrix_of_rank(m, n, k, rng)
    fs = factorize(W, widths)
    assert [F.shape for F in fs] == [(b, a) for a, b in zip(widths[:-1], widths[1:])]
    assert np.abs(end_to_end(fs) - W).max() < 1e-10 * max(1.0, np.abs(W).max())


def test_factorize_rejects_rank_above_r_and_bad_shapes():
    rng = np.random.default_rng(2)
    W = random_matrix_of_rank(3, 4, 3, rng)
    with pytest.raises(ValueError, match="rank 3 > r = 2.*not in M_2"):
        factorize(W, (4, 2, 3))
    with pytest.raises(ValueError, match=r"need \(dL, d0\)"):
        factorize(W.T, (4, 2, 3))


def test_change_hidden_basis_keeps_the_product():
    rng = np.random.default_rng(3)
    fs = random_factors((5, 3, 4, 2), rng)
    As = [rng.normal(size=(3, 3)), rng.normal(size=(4, 4))]
    new = change_hidden_basis(fs, As)
    assert np.allclose(end_to_end(new), end_to_end(fs))
    assert np.allclose(new[0], As[0] @ fs[0])
    assert np.allclose(new[1], As[1] @ fs[1] @ np.linalg.inv(As[0]))
    with pytest.raises(ValueError, match="needs 2 change"):
        change_hidden_basis(fs, As[:1])
    with pytest.raises(ValueError, match="must be 4x4"):
        change_hidden_basis(fs, [As[0], np.eye(3)])
    with pytest.raises(ValueError, match="singular"):
        change_hidden_basis(fs, [As[0], np.zeros((4, 4))])


# -------------------------------------------------------------- Jacobian
@pytest.mark.parametrize("widths", [(3, 2), (4, 2, 3), (5, 3, 2, 4), (2, 3, 1, 3, 2)])
def test_jacobian_matches_finite_differences(widths):
    rng = np.random.default_rng(4)
    fs = random_factors(widths, rng)
    J = jacobian(fs)
    theta = np.concatenate([F.ravel() for F in fs])
    shapes = [F.shape for F in fs]

    def mu(t):
        parts, i = [], 0
        for s in shapes:
            parts.append(t[i:i + s[0] * s[1]].reshape(s))
            i += s[0] * s[1]
        return end_to_end(parts).ravel()

    h = 1e-6
    fd = np.stack([(mu(theta + h * e) - mu(theta - h * e)) / (2 * h)
                   for e in np.eye(theta.size)], axis=1)
    assert J.shape == (widths[-1] * widths[0], n_parameters(widths))
    assert np.abs(J - fd).max() < 1e-6


@given(widths_strategy, st.integers(0, 10_000))
def test_jacobian_rank_is_the_dimension_of_M_r(widths, seed):
    fs = random_factors(widths, np.random.default_rng(seed))
    m, n, r = widths[-1], widths[0], min(widths)
    assert jacobian_rank(fs) == variety_dimension(m, n, r)


def test_jacobian_rank_drops_at_singular_points_only_when_non_filling():
    rng = np.random.default_rng(5)
    # Non-filling (5, 3, 2, 4): r = 2 < min(5, 4) = 4. Make W_1 of rank 1.
    fs = random_factors((5, 3, 2, 4), rng)
    fs[0] = np.outer(rng.normal(size=3), rng.normal(size=5))
    assert np.linalg.matrix_rank(end_to_end(fs)) == 1
    dim = variety_dimension(4, 5, 2)
    assert jacobian_rank(fs) <= dim - (min(4, 5) - 2) < dim
    # Filling (4, 2, 2): rank-1 W_1 and invertible W_2 keep the full rank 2·4 = 8.
    fs = random_factors((4, 2, 2), rng)
    fs[0] = np.outer(rng.normal(size=2), rng.normal(size=4))
    assert jacobian_rank(fs) == variety_dimension(2, 4, 2) == 8
    # At θ = 0 every block of the Jacobian vanishes (L >= 2).
    assert jacobian_rank([np.zeros((2, 4)), np.zeros((3, 2))]) == 0


def test_jacobian_rank_refuses_to_guess():
    rng = np.random.default_rng(6)
    fs = random_factors((5, 3, 2, 4), rng)
    U, s, Vt = np.linalg.svd(fs[0], full_matrices=False)
    s[-2:] = [1e-8, 1e-8]  # W_1 nearly of rank 1
    fs[0] = (U * s) @ Vt
    with pytest.raises(AmbiguousRankError, match="ambiguous"):
        jacobian_rank(fs)
    with pytest.raises(ValueError, match="0 < rtol <= gap < 1"):
        jacobian_rank(fs, rtol=1e-3, gap=1e-6)


# ----------------------------------------------------------------- minors
def test_minors_match_exact_determinants():
    rng = np.random.default_rng(7)
    W = rng.integers(-4, 5, size=(3, 4)) @ rng.integers(-3, 4, size=(4, 5))
    for k in (1, 2, 3):
        got = minors(W, k)
        exact = [_exact_det(W[np.ix_(I, J)].tolist())
                 for I in itertools.combinations(range(3), k)
                 for J in itertools.combinations(range(5), k)]
        assert got.size == math.comb(3, k) * math.comb(5, k)
        assert np.allclose(got, [float(e) for e in exact], rtol=0, atol=1e-6)


@pytest.mark.parametrize("m, n", [(3, 4), (4, 4), (5, 3)])
def test_minors_vanish_iff_rank_below_k(m, n):
    rng = np.random.default_rng(8)
    for rank in range(min(m, n) + 1):
        W = random_matrix_of_rank(m, n, rank, rng)
        assert np.linalg.matrix_rank(W) == rank
        for k in range(1, min(m, n) + 1):
            assert minors_vanish(W, k) == (rank < k)


def test_minors_refuse_too_many_and_bad_order():
    with pytest.raises(ValueError, match="more than max_minors"):
        minors(np.ones((9, 196)), 6)
    with pytest.raises(ValueError, match="only for 1 <= k <= 3"):
        minors(np.ones((3, 4)), 4)
    with pytest.raises(TypeError, match="must be an integer"):
        minors(np.ones((3, 4)), 2.0)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_minor_gradients_match_finite_differences(k):
    rng = np.random.default_rng(9)
    W = rng.normal(size=(3, 4))
    grads = minor_gradients(W, k)
    h = 1e-6
    fd = np.stack([(minors(W + h * E.reshape(3, 4), k) - minors(W - h * E.reshape(3, 4), k))
                   / (2 * h) for E in np.eye(12)], axis=1)
    assert np.abs(grads - fd).max() < 1e-7


@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 10_000), st.data())
def test_tangent_space_smooth_at_rank_r_singular_below(m, n, seed, data):
    rng = np.random.default_rng(seed)
    r = data.draw(st.integers(0, min(m, n)))
    W = random_matrix_of_rank(m, n, r, rng)
    assert tangent_space_dimension(W, r) == (
        variety_dimension(m, n, r) if r < min(m, n) else m * n)
    assert _tangent_dim_explicit(W, r) == variety_dimension(m, n, r)
    if 0 < r < min(m, n):
        low = random_matrix_of_rank(m, n, r - 1, rng)
        assert tangent_space_dimension(low, r) == m * n > variety_dimension(m, n, r)


def test_tangent_space_needs_a_point_of_the_variety():
    W = random_matrix_of_rank(3, 4, 3, np.random.default_rng(10))
    with pytest.raises(ValueError, match="not in M_2"):
        tangent_space_dimension(W, 2)
