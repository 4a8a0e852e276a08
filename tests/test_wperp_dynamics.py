"""Chapter 11's library code: the split of the augmented loss, the single-matrix
flow, the moment trainer and the bump detector, each against an independent
computation (materialised samples, a plain numpy loop, explicit curves)."""
import numpy as np
import pytest
import torch

from invariance_lib import c4_rotations
from invariance_lib.checks import sample_loss
from invariance_lib.data import synthetic_regression
from invariance_lib.experiments.wperp_dynamics import (bump, initial_factors,
                                                       moment_runs)
from invariance_lib.theory.problems import augmented_problem
from invariance_lib.theory.wperp_split import (single_matrix_perp_norms,
                                               split_terms)


@pytest.fixture(scope="module")
def small():
    rep = c4_rotations(4)
    data = synthetic_regression(rep, dL=3, n=60, invariant=False, seed=3)
    return rep, data.X, data.Y


def test_split_matches_materialised_augmented_loss(small):
    rep, X, Y = small
    E = rep.elements()
    rng = np.random.default_rng(0)
    for _ in range(5):
        W = rng.normal(size=(3, 16))
        t = split_terms(W, X, Y, E)
        exact = sample_loss(W, X, Y, elements=E)
        # unitary ρ and equal weights over the whole group: no cross term
        assert abs(t.cross) < 1e-10 * exact
        assert abs(t.invariant + t.perp - exact) < 1e-10 * exact
        # the invariant term is the plain loss of W Ḡ on the original samples
        Gbar = rep.group_average()
        assert np.isclose(t.invariant, sample_loss(W @ Gbar, X, Y), rtol=1e-10)


def test_split_cross_term_for_a_subset_is_not_zero(small):
    rep, X, Y = small
    E = rep.elements()[:2]  # {e, g}: not a group
    W = np.random.default_rng(1).normal(size=(3, 16))
    t = split_terms(W, X, Y, E)
    exact = sample_loss(W, X, Y, elements=E)
    assert abs(t.invariant + t.perp + t.cross - exact) < 1e-10 * exact
    assert abs(t.cross) > 1e-6 * exact


def test_single_matrix_descent_against_a_plain_loop(small):
    rep, X, Y = small
    p = augmented_problem(X, Y, rep.elements(), "paper")
    K, C = (p.K + p.K.T) / 2, p.C
    Gbar = rep.group_average()
    W = np.random.default_rng(2).normal(size=(3, 16))
    lr = 0.1 / np.linalg.eigvalsh(K).max()
    norms = [np.linalg.norm(W @ (np.eye(16) - Gbar))]
    for _ in range(50):
        W = W - lr * 2 * (W @ K - C)
        norms.append(np.linalg.norm(W @ (np.eye(16) - Gbar)))
    predicted = single_matrix_perp_norms(
        np.random.default_rng(2).normal(size=(3, 16)), K, Gbar,
        np.arange(51), lr=lr)
    np.testing.assert_allclose(predicted, norms, rtol=1e-9, atol=1e-12)
    assert np.all(np.diff(norms) <= 1e-12)  # never increases


def test_moment_runs_single_matrix_gd_matches_numpy(small):
    rep, X, Y = small
    res = moment_runs(X, Y, rep, hidden=(), scales=(1.0,), seeds=(0,),
                      optimizer="gd", lr=0.05, epochs=40, record_every=40,
                      normalization="paper")
    p = augmented_problem(X, Y, rep.elements(), "paper")
    K, C = (p.K + p.K.T) / 2, p.C
    (W,) = initial_factors((16, 3), 1.0, 0)
    for _ in range(40):
        W = W - 0.05 * 2 * (W @ K - C)
    np.testing.assert_allclose(res.W[0], W, rtol=1e-8, atol=1e-10)
    Gbar = rep.group_average()
    assert np.isclose(res.w_perp[-1, 0],
                      np.linalg.norm(W @ (np.eye(16) - Gbar)), rtol=1e-8)


def test_moment_runs_adam_two_layers_matches_torch_adam(small):
    rep, X, Y = small
    res = moment_runs(X, Y, rep, hidden=(2,), scales=(1.0,), seeds=(1,),
                      optimizer="adam", lr=1e-2, epochs=30, record_every=30,
                      normalization="mean")
    Xa = np.hstack([g @ X for g in rep.elements()])
    Ya = np.tile(Y, len(rep.elements()))
    W1, W2 = (torch.tensor(w, requires_grad=True)
              for w in initial_factors((16, 2, 3), 1.0, 1))
    opt = torch.optim.Adam([W1, W2], lr=1e-2)
    Xt, Yt = torch.tensor(Xa), torch.tensor(Ya)
    for _ in range(30):
        opt.zero_grad()
        loss = torch.mean((W2 @ W1 @ Xt - Yt) ** 2)
        loss.backward()
        opt.step()
    np.testing.assert_allclose(res.W[0], (W2 @ W1).detach().numpy(),
                               rtol=1e-6, atol=1e-8)


def test_bump_detector_on_explicit_curves():
    t = np.linspace(0, 10, 101)
    b = bump(t, 1 + t * np.exp(-t))
    assert b.bump and b.peak_epoch == pytest.approx(1.0) and b.start == 1.0
    assert not bump(t, np.exp(-t)).bump          # only falls
    assert not bump(t, 1 - np.exp(-t) + 0.1).bump  # only rises
    with pytest.raises(ValueError, match="same non-zero length"):
        bump(t, t[:-1])


def test_bad_input_is_refused_clearly(small):
    rep, X, Y = small
    with pytest.raises(TypeError, match="rep"):
        moment_runs(X, Y, "c4", epochs=2)
    with pytest.raises(TypeError, match="epochs"):
        moment_runs(X, Y, rep, epochs=2.5)
    with pytest.raises(ValueError, match="lr"):
        moment_runs(X, Y, rep, lr=-1.0, epochs=2)
    with pytest.raises(ValueError, match="lam"):
        moment_runs(X, Y, rep, method="regularisation", epochs=2)
    with pytest.raises(TypeError, match="W"):
        split_terms("W", X, Y, rep.elements())
