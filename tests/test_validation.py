"""Bad input gets an error that names the problem and says what to do."""
import numpy as np
import pytest

from invariance_lib import paper
from invariance_lib.theory.critical import critical_points
from invariance_lib.core.groups import (Representation, c4_rotations, d4_symmetries, from_matrix,
                                   rot90_matrix)
from invariance_lib.core.linalg import AmbiguousRankError
from invariance_lib.theory.solvers import (augmented_optimum, hardwired_optimum, plain_optimum,
                                    regularized_optimum)

rng = np.random.default_rng(0)
X = rng.normal(size=(9, 30))
Y = rng.normal(size=(4, 30))
RHO = c4_rotations(3)
G = RHO.constraint_matrix()
E = RHO.elements()
NAN_X = X.copy()
NAN_X[2, 3] = np.nan
INF_Y = Y.copy()
INF_Y[0, 0] = np.inf
DEAD_X = X.copy()
DEAD_X[8] = 0.0  # a pixel that is zero in every image
G_D4 = d4_symmetries(3).constraint_matrix()  # (9, 18)

CASES = [
    # (callable, exception, message pattern)
    (lambda: hardwired_optimum(X, Y[:, :20], G, 2), ValueError, r"inconsistent numbers of samples.*pass X\.T and Y\.T"),
    (lambda: hardwired_optimum(X.T, Y.T, G, 2), ValueError, r"inconsistent numbers of samples"),
    (lambda: hardwired_optimum(X, Y, G.T[:5], 2), ValueError, r"G has shape \(5, 9\).*\(d0, k\)"),
    (lambda: hardwired_optimum(X, Y, G_D4.T, 2), ValueError, r"looks transposed: pass G\.T"),
    (lambda: hardwired_optimum(X, Y, G, 0), ValueError, r"r == 0, must be >= 1"),
    (lambda: hardwired_optimum(X, Y, G, -2), ValueError, r"r == -2, must be >= 1"),
    (lambda: hardwired_optimum(X, Y, G, 2.5), TypeError, r"r must be an integer"),
    (lambda: hardwired_optimum(X, Y, G, 2.0), TypeError, r"r must be an integer.*r=int"),
    (lambda: hardwired_optimum(X, Y, G, True), TypeError, r"r must be an integer"),
    (lambda: hardwired_optimum(X, Y, G, 5), ValueError, r"r == 5 exceeds min\(d0, dL\) == min\(9, 4\) == 4"),
    (lambda: hardwired_optimum(NAN_X, Y, G, 2), ValueError, r"X contains 1 NaN or infinite value.*\(2, 3\)"),
    (lambda: augmented_optimum(X, INF_Y, E, 2), ValueError, r"Y contains 1 NaN or infinite"),
    (lambda: plain_optimum(X + 1j, Y, 2), TypeError, r"X is complex.*X\.real"),
    (lambda: plain_optimum(X[0], Y, 2), ValueError, r"X must be a 2-D array.*reshape\(-1, 1\)"),
    (lambda: plain_optimum(np.zeros((9, 0)), np.zeros((4, 0)), 2), ValueError, r"X is empty"),
    (lambda: plain_optimum([["a"] * 30] * 9, Y, 2), TypeError, r"X has dtype .*not a number type"),
    (lambda: regularized_optimum(X, Y, G, 2, -0.1), ValueError, r"lam == -0\.1, must be >= 0.*unbounded below"),
    (lambda: regularized_optimum(X, Y, G, 2, np.array([0.1, -1.0])), ValueError, r"lam == -1, must be >= 0"),
    (lambda: regularized_optimum(X, Y, G, 2, np.ones((2, 2))), ValueError, r"lam must be a scalar or a 1-D array"),
    (lambda: regularized_optimum(X, Y, G, 2, np.inf), ValueError, r"lam contains NaN or infinite.*hardwired_optimum"),
    (lambda: regularized_optimum(X, Y, G, 2, np.array([])), ValueError, r"lam is an empty array"),
    (lambda: regularized_optimum(X, Y, G, 2, 1 + 2j), TypeError, r"lam must be a real number"),
    (lambda: regularized_optimum(X, Y, G, 2, 0.1, normalization="sum"), ValueError, r"normalization must be 'paper'.*or 'mean'"),
    (lambda: augmented_optimum(X, Y, [np.eye(4)], 2), ValueError, r"are 4x4 but the data have d0 == 9 rows"),
    (lambda: augmented_optimum(X, Y, [np.eye(9), np.eye(8)], 2), ValueError, r"different shapes"),
    (lambda: augmented_optimum(X, Y, [np.ones((9, 3))], 2), ValueError, r"must be square"),
    (lambda: augmented_optimum(X, Y, [], 2), ValueError, r"elements is empty"),
    (lambda: augmented_optimum(X, Y, E, 2, weights=[1, 2]), ValueError, r"weights has shape \(2,\) but there are 4 elements"),
    (lambda: augmented_optimum(X, Y, E, 2, weights=[1, -1, 1, 1]), ValueError, r"weights must be finite, non-negative"),
    (lambda: Representation([np.ones((3, 3))]), ValueError, r"generator 0 is not invertible.*not a group action"),
    (lambda: Representation([np.ones((3, 2))]), ValueError, r"must be square"),
    (lambda: Representation([np.eye(3)], [np.zeros((2, 2))]), ValueError, r"both must act on the same space"),
    (lambda: Representation(), ValueError, r"at least one generator.*trivial\(d\)"),
    (lambda: Representation([np.diag([2.0, 1.0])]).elements(), ValueError, r"infinite order.*modulus 2"),
    (lambda: from_matrix([[1.0, 1.0], [0.0, 1.0]]), ValueError, r"infinite order \(or an order above"),
    (lambda: from_matrix([[np.cos(1), -np.sin(1)], [np.sin(1), np.cos(1)]]), ValueError, r"not a rational multiple of 2π"),
    (lambda: from_matrix([[np.nan]]), ValueError, r"A contains 1 NaN"),
    (lambda: from_matrix(np.eye(2, 3)), ValueError, r"must be square"),
    (lambda: Representation([rot90_matrix(3) + 1e-6 * np.ones((9, 9))]).invariant_basis(),
     AmbiguousRankError, r"invariant subspace is ambiguous.*rtol"),
    (lambda: Representation([np.diag([1.0, -1.0])]).orbits(), ValueError, r"needs a permutation representation"),
    (lambda: RHO.equivariance_constraint(Representation([np.eye(2), np.eye(2)])),
     ValueError, r"same group with corresponding generators"),
    (lambda: RHO.conjugate(np.zeros((9, 9))), ValueError, r"S is not invertible"),
    (lambda: critical_points(X, Y, 2, "hardwired"), ValueError, r"needs the constraint matrix: pass G="),
    (lambda: critical_points(X, Y, 2, "regularized", G=G), ValueError, r"needs the penalty strength"),
    (lambda: critical_points(X, Y, 2, "augmented"), ValueError, r"needs the augmentation matrices"),
    (lambda: critical_points(X, Y, 2, "dropout"), ValueError, r"unknown method 'dropout'"),
    (lambda: paper.theorem6_optimum(DEAD_X, Y, G, 2), ValueError, r"X Xᵀ is singular \(rank 8 < 9\).*pinv=True"),
]


@pytest.mark.parametrize("call,exc,pattern", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_input_is_refused_with_a_useful_message(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_there_are_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_degenerate_inputs_are_not_errors():
    """Valid but degenerate problems are solved: singular X Xᵀ, r at the invariant
    dimension, the filling case, an integer-valued numpy r."""
    Xd = X.copy()
    Xd[0] = 0.0
    assert hardwired_optimum(Xd, Y, G, 2).shape == (4, 9)
    assert hardwired_optimum(X, Y, G, RHO.invariant_dim).shape == (4, 9)
    assert plain_optimum(X, Y, 4).shape == (4, 9)
    assert plain_optimum(X, Y, np.int64(2)).shape == (4, 9)
    assert np.allclose(regularized_optimum(X, Y, G, 2, 0), plain_optimum(X, Y, 2))
