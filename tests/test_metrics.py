"""Tests for invariance_lib.measures: projections, shares, ε_inv, and the batched evaluator."""

import numpy as np
import pytest
import torch

from invariance_lib.core.groups import c4_rotations, cyclic_shifts, from_matrix, so2
from invariance_lib.experiments.recording import InvarianceMetrics
from invariance_lib.measures import (accuracy, data_span_projector,
                                    default_entry_columns, function_distance,
                                    invariance_error, invariant_part,
                                    invariant_projector, invariant_share,
                                    non_invariant_part, w_perp_norm)
from invariance_lib.experiments.networks import DeepLinear, HardwiredDeepLinear, TwoLayer

REP = c4_rotations(4)
RNG = np.random.default_rng(0)


def _nonunitary(d=6, seed=1):
    """C_d shifts conjugated by a random S: a non-unitary representation of a finite group."""
    S = np.eye(d) + 0.5 * np.random.default_rng(seed).standard_normal((d, d))
    return from_matrix(S @ cyclic_shifts(d).generators[0] @ np.linalg.inv(S))


def _invariant(rep, dL=3, seed=0):
    B = rep.invariant_basis()
    return np.random.default_rng(seed).standard_normal((dL, B.shape[0])) @ B


@pytest.mark.parametrize("rep", [REP, cyclic_shifts(5), _nonunitary(), so2(2)],
                         ids=["C4", "C5", "non-unitary", "SO2"])
def test_projector_is_orthogonal_onto_invariant_rows(rep):
    P = invariant_projector(rep)
    np.testing.assert_allclose(P, P.T, atol=1e-12)
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    B = rep.invariant_basis()
    np.testing.assert_allclose(P, B.T @ B, atol=1e-12)
    W = np.random.default_rng(0).standard_normal((3, rep.dim))
    np.testing.assert_allclose((W @ P) @ rep.constraint_matrix(), 0, atol=1e-10)
    if not rep.is_lie and rep.is_orthogonal():
        np.testing.assert_allclose(P, rep.group_average(), atol=1e-14)


def test_non_unitary_group_average_is_oblique_but_projector_is_orthogonal():
    rep = _nonunitary()
    Gbar = rep.group_average()
    assert np.abs(Gbar - Gbar.T).max() > 1e-3          # an oblique projector
    assert np.abs(invariant_projector(rep) - Gbar).max() > 1e-3


@pytest.mark.parametrize("rep", [REP, cyclic_shifts(5), _nonunitary()],
                         ids=["C4", "C5", "non-unitary"])
def test_invariant_part_is_the_brute_force_projection(rep):
    """``invariant_part`` against the group enumerated element by element."""
    from scipy.linalg import null_space

    W = np.random.default_rng(5).standard_normal((3, rep.dim))
    A = invariant_part(W, rep)
    E = rep.elements()
    # the decomposition W = invariant_part + non_invariant_part
    np.testing.assert_allclose(W - A, non_invariant_part(W, rep), atol=1e-14)
    # invariant under every element, not only the generators
    for g in E:
        np.testing.assert_allclose(A @ g, A, atol=1e-12)
    # the orthogonal projection onto {w : w(ρ(g) − I) = 0 for every g}
    N = null_space(np.vstack([(g - np.eye(rep.dim)).T for g in E]))
    np.testing.assert_allclose(A, W @ N @ N.T, atol=1e-12)
    mean = np.mean([W @ g for g in E], axis=0)
    if rep.is_orthogonal():
        np.testing.assert_allclose(A, mean, atol=1e-14)   # the group average
    else:
        assert np.abs(A - mean).max() > 1e-3              # W Ḡ is oblique here


def test_invariant_part_validation():
    with pytest.raises(ValueError, match="columns but the representation"):
        invariant_part(np.zeros((2, 5)), REP)
    with pytest.raises(TypeError, match="rep must be a Representation"):
        invariant_part(np.zeros((2, 16)), "c4")


def test_w_perp_and_share_laws():
    W = RNG.standard_normal((3, 16))
    Wp = non_invariant_part(W, REP)
    inv = W - Wp
    # Pythagoras: the two parts are orthogonal
    assert np.sum(Wp * inv) == pytest.approx(0, abs=1e-12)
    assert w_perp_norm(W, REP) ** 2 + np.sum(inv ** 2) == pytest.approx(np.sum(W ** 2))
    share = invariant_share(W, REP)
    assert 0 < share < 1
    assert share == pytest.approx(np.sum(inv ** 2) / np.sum(W ** 2))
    Winv = _invariant(REP)
    assert w_perp_norm(Winv, REP) < 1e-13
    assert invariant_share(Winv, REP) == pytest.approx(1.0)
    assert np.isnan(invariant_share(np.zeros((2, 16)), REP))
    # torch tensors and networks are accepted
    assert w_perp_norm(torch.as_tensor(W), REP) == pytest.approx(w_perp_norm(W, REP))
    net = HardwiredDeepLinear((16, 2, 3), REP, seed=0)
    assert w_perp_norm(net, REP) < 1e-13


def test_data_span_projector_and_dead_pixels():
    X = RNG.standard_normal((16, 40))
    X[[0, 3, 12, 15]] = 0.0                         # one whole orbit (the corners) is dead
    Pi = data_span_projector(X, REP)
    np.testing.assert_allclose(Pi @ Pi, Pi, atol=1e-12)
    np.testing.assert_allclose(np.diag(Pi)[[0, 3, 12, 15]], 0, atol=1e-12)
    W = RNG.standard_normal((3, 16))
    assert w_perp_norm(W, REP, X) < w_perp_norm(W, REP)
    # without a group: the span of X itself
    X2 = X.copy()
    X2[5] = 0.0
    assert np.trace(data_span_projector(X2)) == pytest.approx(11)
    assert np.trace(data_span_projector(X2, REP)) == pytest.approx(12)  # pixel 5 is seen rotated


def test_invariance_error():
    X = RNG.standard_normal((16, 30))
    assert invariance_error(_invariant(REP), X, REP) < 1e-25
    W = RNG.standard_normal((3, 16))
    eps = invariance_error(W, X, REP, reduce=None)
    # direct computation for one input
    x = X[:, 4]
    outs = np.stack([W @ g @ x for g in REP.elements()])
    fbar = outs.mean(axis=0)
    direct = np.mean(np.sum((outs - fbar) ** 2, axis=1)) / np.sum(fbar ** 2)
    assert eps[4] == pytest.approx(direct, rel=1e-12)
    assert invariance_error(W, X, REP) == pytest.approx(np.median(eps))
    assert invariance_error(W, X, REP, reduce="mean") == pytest.approx(np.mean(eps))
    # callables and networks
    assert invariance_error(lambda Z: W @ Z, X, REP) == pytest.approx(np.median(eps))
    hard = TwoLayer(16, 7, 9, "tanh", basis=REP, seed=0)
    assert invariance_error(hard, X, REP) < 1e-25
    assert invariance_error(TwoLayer(16, 7, 9, "tanh", seed=0), X, REP) > 1e-6
    # zero output everywhere: no deviation, error 0 (not nan)
    assert invariance_error(np.zeros((3, 16)), X, REP) == 0.0
    with pytest.raises(ValueError, match="reduce must be"):
        invariance_error(W, X, REP, reduce="max")
    with pytest.raises(ValueError, match=r"X has 5 rows .* \(16, m\)"):
        invariance_error(W, X[:5], REP)


def test_accuracy_and_function_distance():
    W = np.eye(3, 16)
    X = np.zeros((16, 4))
    X[0, 0] = X[1, 1] = X[2, 2] = X[0, 3] = 1.0
    assert accuracy(W, X, [0, 1, 2, 1]) == 0.75
    assert accuracy(torch.as_tensor(W), X, np.array([0, 1, 2, 0])) == 1.0
    with pytest.raises(ValueError, match="4 columns"):
        accuracy(W, X, [0, 1])
    Xr = RNG.standard_normal((16, 20))
    assert function_distance(W, W, Xr) == 0.0
    assert function_distance(2 * W, W, Xr) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        function_distance(W, W[:2], Xr)


def test_default_entry_columns():
    assert default_entry_columns(c4_rotations(14)) == (45, 52, 143, 150)
    assert default_entry_columns(REP) == (0, 3, 12, 15)
    assert default_entry_columns(_nonunitary()) == (0, 1, 2, 3)
    assert default_entry_columns(None) is None


@pytest.mark.parametrize("rep", [REP, c4_rotations(5), _nonunitary(16)],
                         ids=["C4-permutation", "C4-odd-side", "non-unitary"])
@pytest.mark.parametrize("dead", [False, True])
def test_batched_metrics_equal_the_numpy_functions(rep, dead):
    d0 = rep.dim
    X = RNG.standard_normal((d0, 50))
    if dead:
        X[0] = 0.0
    m = InvarianceMetrics(rep, X=X)
    if rep.is_permutation():
        assert m._mask is not None                      # coordinate projector -> column mask
    Ws = RNG.standard_normal((5, 3, d0))
    Ws[2] = _invariant(rep)
    out = m(torch.as_tensor(Ws))
    for i, W in enumerate(Ws):
        assert out["w_perp"][i].item() == pytest.approx(w_perp_norm(W, rep), rel=1e-10, abs=1e-12)
        assert out["w_perp_data"][i].item() == pytest.approx(w_perp_norm(W, rep, X), rel=1e-10,
                                                             abs=1e-12)
        assert out["invariant_share"][i].item() == pytest.approx(invariant_share(W, rep), rel=1e-10)
        cols = list(default_entry_columns(rep))
        np.testing.assert_array_equal(out["entries"][i].numpy(), W[:, cols])
    np.testing.assert_allclose(m.invariant_part(torch.as_tensor(Ws)).numpy(),
                               Ws @ invariant_projector(rep), atol=1e-12)
    # factored form W = T F (a bottleneck of width 2), as the training loop records it
    T = torch.as_tensor(RNG.standard_normal((5, 3, 2)))
    F = torch.as_tensor(RNG.standard_normal((5, 2, d0)))
    F[2] = torch.as_tensor(_invariant(rep, dL=2))
    fact, full = m(F, T), m(T @ F)
    for key in full:
        np.testing.assert_allclose(fact[key].numpy(), full[key].numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=key)
    assert fact["w_perp"][2] < 1e-12


def test_batched_metrics_without_group_and_bad_columns():
    m = InvarianceMetrics(None, columns=(1, 2))
    out = m(torch.ones(2, 3, 4))
    assert set(out) == {"entries"} and out["entries"].shape == (2, 3, 2)
    with pytest.raises(ValueError, match="entry columns"):
        InvarianceMetrics(REP, columns=(16,))
    with pytest.raises(TypeError, match="Representation"):
        w_perp_norm(np.ones((2, 16)), "C4")
    with pytest.raises(TypeError, match="end_to_end"):
        w_perp_norm(TwoLayer(16, 3, 2, seed=0), REP)
    assert isinstance(DeepLinear((16, 2), seed=0).end_to_end(), torch.Tensor)
