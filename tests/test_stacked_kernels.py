"""The chunked (hand-written) engine of the stacked trainer against autograd.

The reference is independent of the library's training code: one ``nn.Sequential``
(``nn.Linear``, the activation module, ``nn.Linear``) per run, ``nn.MSELoss`` (or the
paper's sum over outputs), ``torch.optim.Adam``; it shares with the library only the
initial weights, drawn by the library's networks from each run's seed.
"""
import numpy as np
import pytest
import torch
from torch import nn

from invariance_lib.core.groups import c4_rotations
from invariance_lib.data import synthetic_regression
from invariance_lib.experiments.networks import TwoLayer
from invariance_lib.experiments.stacked import NetRun, StackedTrainer, train_stacked
from invariance_lib.experiments.stacked_kernels import chunk_width

REP = c4_rotations(4)
ACTS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01), "silu": nn.SiLU,
        "tanh": nn.Tanh}


def _data(n=40, dL=3, seed=0):
    syn = synthetic_regression(REP, dL=dL, n=n, invariant=False, seed=seed)
    return syn.X, syn.Y


def _reference(X, Y, run, epochs, normalization, dtype, lr=1e-2):
    """The loss before each of ``epochs + 1`` steps of one run, by autograd."""
    B = REP.invariant_basis()
    lib = TwoLayer(16, run.hidden, Y.shape[0], run.activation,
                   basis=B if run.method == "hardwired" else None, seed=run.seed)
    first = nn.Linear(lib.hidden_layer.in_features, run.hidden, dtype=dtype)
    second = nn.Linear(run.hidden, Y.shape[0], dtype=dtype)
    with torch.no_grad():
        for mine, theirs in ((first, lib.hidden_layer), (second, lib.output_layer)):
            mine.weight.copy_(theirs.weight)
            mine.bias.copy_(theirs.bias)
    model = nn.Sequential(first, ACTS[run.activation](), second)
    if run.method == "augmented":
        Xs = np.concatenate([E @ X for E in REP.elements()], axis=1)
        Ys = np.tile(Y, (1, REP.order))
    else:
        Xs, Ys = B @ X, Y
    x = torch.tensor(Xs.T, dtype=dtype)
    y = torch.tensor(Ys.T, dtype=dtype)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    factor = 1.0 if normalization == "mean" else Y.shape[0]
    losses = []
    for _ in range(epochs + 1):
        value = nn.functional.mse_loss(model(x), y) * factor
        losses.append(value.item())
        opt.zero_grad()
        value.backward()
        opt.step()
    return np.array(losses)


# every activation, both methods, two widths per method (merged second layers
# and several blocks in one group)
RUNS = [NetRun(m, h, a, seed=s)
        for s, (m, a, h) in enumerate(
            [(m, a, h) for m in ("augmentation", "hard-wired")
             for a in ("leaky_relu", "relu", "silu", "tanh") for h in (3, 5)])]


@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-10), (torch.float32, 2e-4)])
@pytest.mark.parametrize("normalization", ["mean", "paper"])
def test_chunked_engine_equals_autograd_reference(dtype, rtol, normalization):
    X, Y = _data()
    epochs = 30
    # 7 columns per chunk: 160 augmented columns in 23 chunks (the last one of 6)
    trainer = StackedTrainer(X, Y, RUNS, rep=REP, loss="mse",
                             normalization=normalization, epochs=epochs, lr=1e-2,
                             accuracy=False, dtype=dtype, chunk_columns=7)
    assert trainer.engine == "chunked"
    assert [k.width for k in trainer.kernels] == [7, 7]
    hist = trainer.train()
    for run, h in zip(RUNS, hist):
        ref = _reference(X, Y, run, epochs, normalization, dtype)
        np.testing.assert_allclose(h.loss, ref, rtol=rtol, atol=0, err_msg=run.name)
        assert h.loss[-1] < 0.9 * h.loss[0], run.name       # it did train


def test_chunked_weights_equal_autograd_engine():
    """Trained weights and the recorded measures of both engines agree (float64)."""
    X, Y = _data(n=24)
    rng = np.random.default_rng(1)
    opts = dict(rep=REP, loss="mse", normalization="mean", epochs=25, lr=1e-2,
                accuracy=False, dtype=torch.float64, record_every=5, eval_every=5,
                eps_inputs={"Gaussian": rng.standard_normal((16, 30))})
    runs = [NetRun("augmentation", 4, a, seed=i) for i, a in
            enumerate(("relu", "tanh", "silu", "leaky_relu"))]
    runs.append(NetRun("augmentation", 4, "tanh", seed=9, init="invariant"))
    out = {}
    for engine in ("chunked", "autograd"):
        tr = StackedTrainer(X, Y, runs, engine=engine, chunk_columns=10,
                            record_first_layer=True, **opts)
        assert tr.engine == engine
        out[engine] = (tr.train(), tr.first_layers().clone(), dict(tr.first_layer))
    (h1, W1, f1), (h2, W2, f2) = out["chunked"], out["autograd"]
    torch.testing.assert_close(W1, W2, rtol=1e-10, atol=1e-12)
    for a, b in zip(h1, h2):
        np.testing.assert_allclose(a.loss, b.loss, rtol=1e-10)
        np.testing.assert_allclose(a.eps_inv["Gaussian"], b.eps_inv["Gaussian"],
                                   rtol=1e-6, atol=1e-20)
        for p, q in zip(a.model.parameters(), b.model.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-10, atol=1e-12)
    for key in ("inv", "perp", "perp_data"):
        np.testing.assert_allclose(f1[key], f2[key], rtol=1e-8, atol=1e-14)


def test_engine_choice_and_errors():
    X, Y = _data(n=12)
    nonlinear = [NetRun("augmentation", 3, "relu")]
    assert StackedTrainer(X, Y, nonlinear, rep=REP, epochs=1).engine == "chunked"
    assert StackedTrainer(X, Y, nonlinear, rep=REP, epochs=1,
                          engine="autograd").engine == "autograd"
    linear = [NetRun("augmentation", 3)]
    assert StackedTrainer(X, Y, linear, rep=REP, epochs=1).engine == "autograd"
    reg = [NetRun("regularisation", 3, "relu", lam=0.1)]
    assert StackedTrainer(X, Y, reg, rep=REP, epochs=1).engine == "autograd"
    with pytest.raises(ValueError, match="engine='chunked'"):
        StackedTrainer(X, Y, linear, rep=REP, epochs=1, engine="chunked")
    with pytest.raises(ValueError, match="engine must be"):
        StackedTrainer(X, Y, nonlinear, rep=REP, epochs=1, engine="fast")
    with pytest.raises(ValueError, match="chunk_columns"):
        StackedTrainer(X, Y, nonlinear, rep=REP, epochs=1, chunk_columns=0)


def test_chunk_width():
    assert chunk_width(440, 14000, 4) == 1167         # 12 chunks of <= 1167 columns
    assert chunk_width(440, 100, 4) == 100            # one chunk
    assert chunk_width(40_000, 5000, 4) == 64         # at least 64 columns
    w = chunk_width(300, 1000, 4, target=300 * 4 * 300)
    assert w == 250                                   # 4 equal chunks, not 300+300+300+100
    with pytest.raises(ValueError, match="positive"):
        chunk_width(0, 10, 4)


def test_train_stacked_uses_chunked_engine_threads_restored():
    X, Y = _data(n=12)
    before = torch.get_num_threads()
    hist = train_stacked(X, Y, [NetRun("hard-wired", 3, "silu")], rep=REP, epochs=3,
                         num_threads=1, accuracy=False)
    assert torch.get_num_threads() == before
    assert np.all(np.isfinite(hist[0].loss)) and len(hist[0].loss) == 4
