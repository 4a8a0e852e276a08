"""The stacked trainer against a plain one-model PyTorch loop, and its measures.

The reference loop below is written from scratch with ``torch.nn.functional`` and
``torch.optim.Adam``, one network at a time: it shares with the library only the
initial weights (drawn by the library's networks from the run's seed).
"""
import numpy as np
import pytest
import torch

from invariance_lib.data import synthetic_regression
from invariance_lib.experiments.stacked import (NetRun, median_invariance_error,
                                                train_stacked)
from invariance_lib.core.groups import c4_rotations
from invariance_lib.measures import invariance_error
from invariance_lib.experiments.networks import DeepLinear, HardwiredDeepLinear, TwoLayer

REP = c4_rotations(4)


def _data(n=40, dL=3, classes=False, seed=0):
    syn = synthetic_regression(REP, dL=dL, n=n, invariant=False, seed=seed)
    X, Y = syn.X, syn.Y
    if classes:
        Y = np.eye(dL)[:, np.argmax(Y, axis=0)]
    return X, Y


def _act(name, h):
    return {"relu": torch.relu, "tanh": torch.tanh,
            "silu": torch.nn.functional.silu,
            "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01),
            None: lambda t: t}[name](h)


def _plain_loop(X, Y, run, epochs, loss, lr=1e-2):
    """One network, the way a tutorial trains it (float64, rows are samples)."""
    B = REP.invariant_basis()
    if run.activation is None:
        net = (HardwiredDeepLinear((16, run.hidden, Y.shape[0]), B, seed=run.seed)
               if run.method == "hardwired" else
               DeepLinear((16, run.hidden, Y.shape[0]), seed=run.seed))
        W1, W2 = [l.weight.detach().clone() for l in net.layers]
        b1 = b2 = None
    else:
        net = TwoLayer(16, run.hidden, Y.shape[0], run.activation,
                       basis=B if run.method == "hardwired" else None, seed=run.seed)
        W1 = net.hidden_layer.weight.detach().clone()
        b1 = net.hidden_layer.bias.detach().clone()
        W2 = net.output_layer.weight.detach().clone()
        b2 = net.output_layer.bias.detach().clone()
    params = [p.requires_grad_() for p in (W1, b1, W2, b2) if p is not None]
    if run.method == "augmented":
        Xs = np.concatenate([E @ X for E in REP.elements()], axis=1)
        Ys = np.tile(Y, (1, 4))
    elif run.method == "hardwired":
        Xs, Ys = B @ X, Y
    else:
        Xs, Ys = X, Y
    x, y = torch.tensor(Xs.T), torch.tensor(Ys.T)
    G = torch.tensor(REP.constraint_matrix())
    opt = torch.optim.Adam(params, lr=lr)
    losses = []
    for _ in range(epochs + 1):
        h = x @ W1.T + (b1 if b1 is not None else 0)
        out = _act(run.activation, h) @ W2.T + (b2 if b2 is not None else 0)
        if loss == "mse":
            value = torch.nn.functional.mse_loss(out, y, reduction="sum") / x.shape[0]
        else:
            value = torch.nn.functional.cross_entropy(out, y)
        if run.method == "regularized":
            M = W2 @ W1 if run.activation is None else W1
            value = value + run.lam * (M @ G).pow(2).sum()
        losses.append(value.item())
        opt.zero_grad()
        value.backward()
        opt.step()
    return np.array(losses)


RUNS = [NetRun("augmentation", 3, "relu", seed=1),
        NetRun("augmentation", 5, "tanh", seed=2),
        NetRun("augmentation", 3, "tanh", seed=3),
        NetRun("hard-wired", 3, "silu", seed=4),
        NetRun("regularisation", 4, "leaky_relu", lam=0.1, seed=5),
        NetRun("plain", 4, "leaky_relu", seed=6)]
LINEAR = [NetRun("augmentation", 2, seed=0), NetRun("hard-wired", 2, seed=1),
          NetRun("regularisation", 2, lam=1.0, seed=2), NetRun("plain", 3, seed=3)]


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
@pytest.mark.parametrize("runs", [RUNS, LINEAR], ids=["nonlinear", "linear"])
def test_stacked_equals_one_model_loops(loss, runs):
    X, Y = _data(classes=(loss == "cross_entropy"))
    hist = train_stacked(X, Y, runs, rep=REP, loss=loss, epochs=60, lr=1e-2,
                         dtype=torch.float64, num_threads=1, accuracy=False)
    for run, h in zip(runs, hist):
        ref = _plain_loop(X, Y, run, 60, loss)
        np.testing.assert_allclose(h.loss, ref, rtol=1e-9, atol=1e-12,
                                   err_msg=run.name)
        assert ref[-1] < 0.9 * ref[0]           # the comparison is of real training


def test_float32_stays_close_to_float64():
    X, Y = _data()
    h32 = train_stacked(X, Y, RUNS, rep=REP, epochs=60, lr=1e-2, accuracy=False)
    h64 = train_stacked(X, Y, RUNS, rep=REP, epochs=60, lr=1e-2, accuracy=False,
                        dtype=torch.float64)
    for a, b in zip(h32, h64):
        np.testing.assert_allclose(a.loss, b.loss, rtol=1e-4)


def test_models_and_eps_inv_against_metrics():
    """The returned network reproduces the recorded ε_inv, computed independently."""
    X, Y = _data()
    Z = np.random.default_rng(0).standard_normal((16, 31))
    hist = train_stacked(X, Y, RUNS, rep=REP, epochs=20, lr=1e-2, eval_every=20,
                         eps_inputs={"gauss": Z}, dtype=torch.float64)
    for h in hist:
        ref = invariance_error(h.model, Z, REP)
        assert h.eps_inv["gauss"][-1] == pytest.approx(ref, rel=1e-9, abs=1e-15)
        if h.method == "hardwired":
            assert ref < 1e-20
        else:
            assert ref > 1e-6


def test_linear_measures_and_end_to_end():
    X, Y = _data()
    hist = train_stacked(X, Y, LINEAR, rep=REP, epochs=30, lr=1e-2,
                         dtype=torch.float64)
    for h in hist:
        W = h.model.end_to_end().detach().numpy()
        np.testing.assert_allclose(h.W, W, rtol=1e-12, atol=1e-14)
        P = REP.group_average()
        assert h.w_perp[-1] == pytest.approx(np.linalg.norm(W - W @ P), rel=1e-8)
        np.testing.assert_allclose(h.entries[-1], W[:, list(h.entry_columns)])
    assert hist[1].w_perp[-1] < 1e-12            # hard-wired: invariant


def test_median_invariance_error_formula():
    out = torch.tensor([[[[1.0, 2.0], [3.0, 2.0], [1.0, 2.0], [3.0, 2.0]]]])
    out = out.permute(0, 3, 2, 1)                 # (R=1, dL=2, |G|=4, M=1)
    # f values (1,2),(3,2),(1,2),(3,2): mean (2,2), deviations 1 each: 1/8
    assert median_invariance_error(out)[0] == pytest.approx(1 / 8)


def test_bad_input():
    X, Y = _data()
    with pytest.raises(TypeError, match="NetRun"):
        train_stacked(X, Y, ["augmentation"], rep=REP)
    with pytest.raises(ValueError, match="hidden"):
        NetRun("augmentation", 0)
    with pytest.raises(ValueError, match="lam"):
        NetRun("regularisation", 3)
    with pytest.raises(ValueError, match="rep="):
        train_stacked(X, Y, [NetRun("augmentation", 3)])
    with pytest.raises(ValueError, match="loss"):
        train_stacked(X, Y, [NetRun("plain", 3)], loss="hinge")
    with pytest.raises(ValueError, match="probability"):
        train_stacked(X, Y, [NetRun("plain", 3)], loss="cross_entropy")


def _fake(method, activation, hidden, loss, epochs=(0, 10, 20)):
    from types import SimpleNamespace
    return SimpleNamespace(method=method, epochs=np.asarray(epochs),
                           loss=np.asarray(loss, dtype=float),
                           settings={"activation": activation, "hidden": (hidden,),
                                     "record_every": 10})


def test_loss_gaps_is_one_minus_the_ratio_of_seed_medians():
    from invariance_lib.experiments.nonlinear import loss_gaps
    hs = [_fake("augmented", "tanh", 7, [1.0, 0.5, s]) for s in (0.2, 0.3, 0.9)]
    hs += [_fake("hardwired", "tanh", 7, [1.0, 0.5, s]) for s in (0.4, 0.5, 0.6)]
    hs += [_fake("augmented", "relu", 15, [2.0, 1.0, 0.5]),
           _fake("hardwired", "relu", 15, [1.0, 1.0, 1.0])]
    epochs, gaps = loss_gaps(hs)
    assert list(epochs) == [0, 10, 20]
    assert list(gaps) == [("relu", 15), ("tanh", 7)]     # the chapter's order
    # medians: augmented 0.3, hard-wired 0.5 at epoch 20 -> 40% below
    np.testing.assert_allclose(gaps[("tanh", 7)], [0.0, 0.0, 0.4], atol=1e-15)
    np.testing.assert_allclose(gaps[("relu", 15)], [-1.0, 0.0, 0.5], atol=1e-15)
    at, sub = loss_gaps(hs, at=[20, 0])
    assert list(at) == [20, 0]
    np.testing.assert_allclose(sub[("tanh", 7)], [0.4, 0.0], atol=1e-15)


def test_loss_gaps_bad_input():
    from invariance_lib.experiments.nonlinear import loss_gaps
    aug = _fake("augmented", "tanh", 7, [1.0, 0.5, 0.2])
    hw = _fake("hardwired", "tanh", 7, [1.0, 0.5, 0.4])
    with pytest.raises(ValueError, match="empty"):
        loss_gaps([])
    with pytest.raises(ValueError, match="not recorded"):
        loss_gaps([aug, hw], at=[15])
    with pytest.raises(ValueError, match="both augmented and hard-wired"):
        loss_gaps([aug])
    with pytest.raises(ValueError, match="same epochs"):
        loss_gaps([aug, _fake("hardwired", "tanh", 7, [1.0, 0.4], epochs=(0, 5))])
