"""Open question 3: the invariant start stays invariant; the split of the first layer."""
import numpy as np
import pytest
import torch

from invariance_lib.core.groups import c4_rotations
from invariance_lib.data import synthetic_regression
from invariance_lib.experiments.first_layer_split import (
    augmented_first_layer_gradient, dead_inputs, first_layer_split)
from invariance_lib.experiments.networks import TwoLayer
from invariance_lib.experiments.stacked import NetRun, StackedTrainer, train_stacked
from invariance_lib.measures import invariance_error

REP = c4_rotations(4)


def _data(n=30, seed=0):
    syn = synthetic_regression(REP, dL=3, n=n, invariant=False, seed=seed)
    X = syn.X.copy()
    X[[0, 3, 12, 15]] = 0.0                      # one whole orbit dead
    return X, syn.Y


def test_split_norms_and_dead_inputs():
    X, _ = _data()
    assert list(dead_inputs(X, REP)) == [0, 3, 12, 15]
    W = np.random.default_rng(1).standard_normal((5, 16))
    s = first_layer_split(W, REP, dead=[0, 3, 12, 15])
    assert s["inv"] ** 2 + s["perp"] ** 2 == pytest.approx(np.sum(W ** 2))
    assert s["perp_dead"] ** 2 + s["perp_live"] ** 2 == pytest.approx(s["perp"] ** 2)
    # brute force: the orbit mean of each column
    P = np.zeros((16, 16))
    for E in REP.elements():
        P += E / 4
    assert s["perp"] == pytest.approx(np.linalg.norm(W - W @ P))


@pytest.mark.parametrize("act", ["relu", "tanh", "silu", "leaky_relu"])
def test_gradient_invariant_at_invariant_first_layer(act):
    X, Y = _data()
    net = TwoLayer(16, 4, 3, act, seed=2, dtype=torch.float64)
    g_rand = augmented_first_layer_gradient(net, X, Y, REP)
    P = REP.group_average()
    assert np.linalg.norm(g_rand - g_rand @ P) > 1e-3 * np.linalg.norm(g_rand)
    with torch.no_grad():
        net.hidden_layer.weight.copy_(net.hidden_layer.weight @ torch.as_tensor(P))
    g = augmented_first_layer_gradient(net, X, Y, REP)
    assert np.linalg.norm(g) > 1e-3
    assert np.linalg.norm(g - g @ P) < 1e-12 * np.linalg.norm(g)


def test_invariant_start_stays_invariant_under_adam():
    X, Y = _data()
    runs = [NetRun("augmentation", 4, "relu", seed=3, init="invariant"),
            NetRun("augmentation", 4, "relu", seed=3)]
    Z = np.random.default_rng(0).standard_normal((16, 40))
    tr = StackedTrainer(X, Y, runs, rep=REP, epochs=200, lr=1e-2,
                        dtype=torch.float64, eps_inputs={"gauss": Z},
                        eval_every=200, accuracy=False)
    W0 = tr.first_layers().clone()
    hist = tr.train()
    W1 = tr.first_layers()
    dead = dead_inputs(X, REP)
    inv, rnd = (first_layer_split(W1[k], REP, dead) for k in (0, 1))
    assert inv["perp"] < 1e-13 * inv["inv"]
    assert torch.norm(W1[0] - W0[0]) > 0.1          # it did train
    assert hist[0].loss[-1] < 0.7 * hist[0].loss[0]
    assert invariance_error(hist[0].model, Z, REP) < 1e-20
    assert hist[1].eps_inv["gauss"][-1] > 1e-6
    # dead columns never move, under Adam too
    np.testing.assert_array_equal(W1[1][:, dead].numpy(), W0[1][:, dead].numpy())
    assert rnd["perp_dead"] > 0.1


def test_invariant_init_float32_exactly_invariant_start():
    X, Y = _data()
    tr = StackedTrainer(X, Y, [NetRun("augmentation", 4, "tanh", init="invariant")],
                        rep=REP, epochs=1, accuracy=False)
    W = tr.first_layers()[0].numpy()
    for E in REP.elements():
        np.testing.assert_array_equal(W @ E, W)


def test_init_bad_input():
    with pytest.raises(ValueError, match="init"):
        NetRun("augmentation", 3, "relu", init="zeros")
    with pytest.raises(ValueError, match="hard-wired"):
        NetRun("hard-wired", 3, "relu", init="invariant")
    X, Y = _data()
    with pytest.raises(ValueError, match="d0 == 16"):
        dead_inputs(X[:5], REP)
    with pytest.raises(ValueError, match="basis"):
        net = TwoLayer(16, 3, 3, "relu", basis=REP.invariant_basis(),
                       seed=0)
        augmented_first_layer_gradient(net, X, Y, REP)
