"""Tests for invariance_lib.experiments.training and invariance_lib.history.

The key claims: the fast path's gradients are the sample gradients; batched runs are
separate runs; long full-batch training reaches the closed form of the same
objective; a seed fixes the whole history; bad input is refused with a clear message.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from invariance_lib.data import load_mnist, one_hot, synthetic_regression  # noqa: E402
from invariance_lib.core.groups import c4_rotations, so2  # noqa: E402
from invariance_lib.experiments.adam import FlatAdam  # noqa: E402
from invariance_lib.experiments.history import History  # noqa: E402
from invariance_lib.figures.histories import plot_histories, plot_section4  # noqa: E402
from invariance_lib.measures import invariance_error, w_perp_norm  # noqa: E402
from invariance_lib.experiments.networks import DeepLinear, HardwiredDeepLinear  # noqa: E402
from invariance_lib.theory.problems import augmented_problem, plain_problem  # noqa: E402
from invariance_lib.theory.solvers import (augmented_optimum, hardwired_optimum,  # noqa: E402
                                    regularized_optimum)
from invariance_lib.experiments.training import (Run, moment_gradients,  # noqa: E402
                                     section4_runs, train, train_many)

REP = c4_rotations(4)          # d0 = 16, four orbits of four pixels
G = REP.constraint_matrix()


@pytest.fixture(scope="module")
def reg_data():
    """A small regression problem with a non-invariant teacher."""
    d = synthetic_regression(REP, dL=3, n=40, invariant=False, noise=0.3, seed=0)
    return d.X, d.Y


@pytest.fixture(scope="module")
def cls_data():
    """A small classification problem: one-hot targets, a test set, a dead pixel orbit."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((16, 80))
    X[[0, 3, 12, 15]] = 0.0
    W = rng.standard_normal((3, 16))
    Y = one_hot((W @ X).argmax(axis=0), range(3))
    Xt = rng.standard_normal((16, 30))
    Yt = one_hot((W @ Xt).argmax(axis=0), range(3))
    return X, Y, Xt, Yt


# ---------------------------------------------------------------- fast path
def _sample_gradients(X, Y, method, lam, hidden, normalization):
    """Autograd on the samples, written independently of the training module."""
    widths = (16,) + hidden + (Y.shape[0],)
    net = HardwiredDeepLinear(widths, REP, seed=0) if method == "hard-wired" \
        else DeepLinear(widths, seed=0)
    if method == "augmentation":
        Xs = np.concatenate([g @ X for g in REP.elements()], axis=1)
        Ys = np.tile(Y, (1, REP.order))
    else:
        Xs, Ys = X, Y
    out = net(torch.as_tensor(Xs.T))
    scale = Xs.shape[1] * (Y.shape[0] if normalization == "mean" else 1)
    loss = (out - torch.as_tensor(Ys.T)).pow(2).sum() / scale
    if method == "regularisation":
        loss = loss + lam * (net.end_to_end() @ torch.as_tensor(G)).pow(2).sum()
    loss.backward()
    return [w.grad.numpy() for w in net.factors()]


@pytest.mark.parametrize("hidden", [(), (3,), (4, 2)], ids=["L1", "L2", "L3"])
@pytest.mark.parametrize("normalization", ["paper", "mean"])
@pytest.mark.parametrize("method, lam", [("plain", None), ("hard-wired", None),
                                         ("augmentation", None), ("regularisation", 0.7)])
def test_fast_path_gradients_equal_sample_gradients(reg_data, method, lam, hidden, normalization):
    X, Y = reg_data
    fast = moment_gradients(X, Y, method, rep=REP, lam=lam, hidden=hidden,
                            normalization=normalization)
    slow = _sample_gradients(X, Y, method, lam, hidden, normalization)
    assert len(fast) == len(slow) == len(hidden) + 1
    for a, b in zip(fast, slow):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * np.abs(b).max())


def test_flat_adam_is_torch_adam_bit_for_bit():
    rng = np.random.default_rng(0)
    p0 = torch.as_tensor(rng.standard_normal(50))
    a = p0.clone()
    b = torch.nn.Parameter(p0.clone())
    mine = FlatAdam(a, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    ref = torch.optim.Adam([b], lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    for _ in range(25):
        g = torch.as_tensor(rng.standard_normal(50))
        mine.step(g)
        b.grad = g.clone()
        ref.step()
    assert torch.equal(a, b.detach())


def test_batched_runs_equal_separate_runs(reg_data):
    X, Y = reg_data
    runs = [Run("augmentation", seed=0), Run("hard-wired", seed=1),
            Run("regularisation", lam=0.1, seed=0), Run("regularisation", lam=0.1, seed=2),
            Run("plain", seed=3)]
    together = train_many(X, Y, runs, rep=REP, epochs=60, hidden=(3,))
    for run, h in zip(runs, together):
        alone = train(X, Y, run.method, lam=run.lam, seed=run.seed, rep=REP, epochs=60,
                      hidden=(3,))
        for key, val in alone.arrays().items():
            np.testing.assert_allclose(h.arrays()[key], val, rtol=1e-12, atol=1e-14, err_msg=key)


@pytest.mark.parametrize("method, lam", [("plain", None), ("hard-wired", None),
                                         ("augmentation", None), ("regularisation", 0.3)])
def test_fast_path_and_sample_path_train_the_same(cls_data, method, lam):
    X, Y, Xt, Yt = cls_data
    kw = dict(rep=REP, epochs=40, hidden=(3,), X_test=Xt, Y_test=Yt, eval_every=10,
              normalization="mean", lam=lam)
    fast = train(X, Y, method, **kw)
    slow = train(X, Y, method, fast=False, **kw)
    assert fast.settings["path"] == "moments" and slow.settings["path"] == "samples"
    np.testing.assert_allclose(fast.W, slow.W, rtol=1e-10, atol=1e-12)
    for key in ("loss", "w_perp", "w_perp_data", "invariant_share", "entries"):
        np.testing.assert_allclose(getattr(fast, key), getattr(slow, key), rtol=1e-9,
                                   atol=1e-12, err_msg=key)
    for key in ("aug_train_acc", "test_acc"):      # float32 evaluation on the fast path
        np.testing.assert_allclose(getattr(fast, key), getattr(slow, key), atol=0.02)


# ------------------------------------------------------- closed-form agreement
@pytest.fixture(scope="module", params=["paper", "mean"])
def converged(request, reg_data):
    X, Y = reg_data
    runs = [Run("hard-wired"), Run("augmentation"), Run("regularisation", lam=0.1),
            Run("regularisation", lam=1.0)]
    hist = train_many(X, Y, runs, rep=REP, hidden=(2,), epochs=10_000, lr=1e-3,
                      normalization=request.param, record_every=50, eval_every=10_000)
    return request.param, hist


def test_long_training_reaches_the_closed_form_of_the_same_objective(reg_data, converged):
    X, Y = reg_data
    normalization, hist = converged
    r = 2                                           # non-filling: r < min(d, dL) = 3
    for h in hist:
        if h.method == "hardwired":
            W_star = hardwired_optimum(X, Y, G, r)
        elif h.method == "augmented":
            W_star = augmented_optimum(X, Y, REP.elements(), r)
        else:
            W_star = regularized_optimum(X, Y, G, r, h.lam, normalization=normalization)
        rel = np.linalg.norm(h.W - W_star) / np.linalg.norm(W_star)
        assert rel < 1e-3, (h.label, rel)


def test_the_two_normalisations_are_different_problems(reg_data, converged):
    X, Y = reg_data
    normalization, hist = converged
    other = "mean" if normalization == "paper" else "paper"
    W_other = regularized_optimum(X, Y, G, 2, 0.1, normalization=other)
    h = next(h for h in hist if h.lam == 0.1)
    assert np.linalg.norm(h.W - W_other) / np.linalg.norm(W_other) > 1e-2


def test_augmentation_ends_invariant_for_a_unitary_group(converged):
    _, hist = converged
    h = next(h for h in hist if h.method == "augmented")
    assert h.w_perp[-1] < 1e-3 * np.linalg.norm(h.W)
    assert h.w_perp[-1] < 0.05 * h.w_perp.max()
    assert h.invariant_share[-1] > 1 - 1e-6
    assert w_perp_norm(h.W, REP) == pytest.approx(h.w_perp[-1], rel=1e-9, abs=1e-15)


# ----------------------------------------------------------- reproducibility
@pytest.mark.parametrize("options", [{}, {"fast": False, "batch_size": 16}],
                         ids=["moments", "mini-batches"])
def test_same_seed_gives_an_identical_history(cls_data, options):
    X, Y, Xt, Yt = cls_data
    kw = dict(rep=REP, epochs=15, X_test=Xt, Y_test=Yt, eval_every=5, **options)
    a = train(X, Y, "augmentation", seed=4, **kw)
    b = train(X, Y, "augmentation", seed=4, **kw)
    c = train(X, Y, "augmentation", seed=5, **kw)
    assert a.arrays().keys() == b.arrays().keys()
    for key, val in a.arrays().items():
        np.testing.assert_array_equal(val, b.arrays()[key], err_msg=key)
    assert not np.array_equal(a.W, c.W)
    assert a.settings == b.settings


def test_minibatch_order_depends_on_the_seed_only(cls_data):
    X, Y, _, _ = cls_data
    # the same initial weights (same seed) with full batches and mini-batches differ
    full = train(X, Y, "plain", epochs=3, fast=False)
    mini = train(X, Y, "plain", epochs=3, batch_size=20)
    assert mini.settings["path"] == "samples" and full.settings["path"] == "samples"
    np.testing.assert_array_equal(full.entries[0] if full.entries is not None else full.loss[0],
                                  mini.entries[0] if mini.entries is not None else mini.loss[0])
    assert not np.allclose(full.W, mini.W)
    # a batch as large as the data set is a full batch, so the fast path applies
    assert train(X, Y, "plain", epochs=3, batch_size=80).settings["path"] == "moments"


# ---------------------------------------------------------------- recording
def test_what_is_recorded(cls_data):
    X, Y, Xt, Yt = cls_data
    hs = train_many(X, Y, ["hard-wired", "augmentation", {"method": "regularisation", "lam": 0.5}],
                    rep=REP, epochs=10, record_every=3, eval_every=5, X_test=Xt, Y_test=Yt)
    hw, aug, reg = hs
    for h in hs:
        np.testing.assert_array_equal(h.epochs, [0, 3, 6, 9, 10])
        np.testing.assert_array_equal(h.eval_epochs, [0, 5, 10])
        assert h.loss.shape == h.w_perp.shape == h.w_perp_data.shape == (5,)
        assert h.aug_train_acc.shape == h.test_acc.shape == (3,)
        assert h.entries.shape == (5, 3, 4) and h.entry_columns == (0, 3, 12, 15)
        np.testing.assert_array_equal(h.entries[-1], h.W[:, list(h.entry_columns)])
        assert h.W.shape == (3, 16) and isinstance(h.W, np.ndarray)
        np.testing.assert_allclose(h.model.end_to_end().detach().numpy(), h.W, atol=1e-15)
        assert np.all((0 <= h.aug_train_acc) & (h.aug_train_acc <= 1))
        assert h.w_perp_data[-1] <= h.w_perp[-1] + 1e-15
    assert hw.w_perp.max() < 1e-14 and np.allclose(hw.invariant_share, 1.0)
    assert aug.label == "augmentation" and reg.label == "regularisation λ=0.5"
    # the initial loss is the objective at the initial weights
    W0 = DeepLinear((16, 5, 3), seed=0).end_to_end().detach().numpy()
    assert aug.loss[0] == pytest.approx(augmented_problem(X, Y, REP.elements()).loss(W0), rel=1e-12)
    assert reg.loss[0] == pytest.approx(plain_problem(X, Y).loss(W0)
                                        + 0.5 * np.sum((W0 @ G) ** 2), rel=1e-12)
    # an invariant network scores the same on the training set and on its augmentation
    plain_acc = np.mean((hw.W @ X).argmax(axis=0) == Y.argmax(axis=0))
    assert hw.aug_train_acc[-1] == pytest.approx(plain_acc)
    assert hw.settings["widths"] == (16, 5, 3) and hw.settings["normalization"] == "paper"


def test_invariance_error_is_recorded(cls_data):
    X, Y, Xt, _ = cls_data
    hs = train_many(X, Y, ["plain", "hard-wired"], rep=REP, epochs=6, eval_every=3,
                    eps_inputs={"test": Xt})
    plain, hw = hs
    assert plain.eps_inv["test"].shape == (3,)
    assert hw.eps_inv["test"].max() < 1e-25
    assert plain.eps_inv["test"][-1] == pytest.approx(invariance_error(plain.W, Xt, REP), rel=1e-10)
    single = train(X, Y, "plain", rep=REP, epochs=2, eps_inputs=Xt)
    assert set(single.eps_inv) == {"inputs"}


def test_plain_without_group_and_regression_targets(reg_data):
    X, Y = reg_data
    h = train(X, Y, "plain", epochs=5)
    assert h.w_perp is None and h.entries is None and h.aug_train_acc is None
    assert h.loss.shape == (6,) and h.loss[-1] < h.loss[0]
    with pytest.raises(ValueError, match="w_perp was not recorded"):
        h.series("w_perp")


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "swish", "tanh"])
def test_nonlinear_networks_train_on_the_samples(cls_data, activation):
    X, Y, Xt, Yt = cls_data
    hs = train_many(X, Y, ["augmentation", "hard-wired"], rep=REP, activation=activation,
                    hidden=(7,), epochs=30, lr=1e-2, eval_every=10, X_test=Xt, Y_test=Yt,
                    eps_inputs={"test": Xt})
    aug, hw = hs
    for h in hs:
        assert h.settings["path"] == "samples" and h.W is None and h.w_perp is None
        assert h.loss[-1] < h.loss[0]
    assert hw.eps_inv["test"].max() < 1e-25
    assert aug.eps_inv["test"][0] > 1e-6


def test_cross_entropy_and_nonlinear_regularisation(cls_data):
    X, Y, _, _ = cls_data
    kw = dict(rep=REP, loss="cross-entropy", epochs=40, lr=1e-2)
    lin = train(X, Y, "regularisation", lam=1.0, **kw)
    assert lin.settings["loss"] == "cross_entropy" and lin.settings["path"] == "samples"
    assert lin.loss[-1] < lin.loss[0]
    free = train(X, Y, "plain", activation="relu", hidden=(6,), **kw)
    reg = train(X, Y, "regularisation", lam=1.0, activation="relu", hidden=(6,), **kw)
    pen = [np.sum((h.model.invariance_matrix().detach().numpy() @ G) ** 2) for h in (free, reg)]
    assert pen[1] < 0.5 * pen[0]


def test_threads_are_restored_and_progress_is_optional(reg_data, capsys):
    X, Y = reg_data
    before = torch.get_num_threads()
    train(X, Y, "plain", epochs=3, progress=False)
    assert torch.get_num_threads() == before
    assert capsys.readouterr().err == ""
    train(X, Y, "plain", epochs=3, progress=True)
    assert "training" in capsys.readouterr().err
    train(X, Y, "plain", epochs=3)                      # auto: stderr is not a terminal here
    assert capsys.readouterr().err == ""


def test_lie_group_regularisation_and_hardwiring(reg_data):
    X, Y = reg_data
    X4 = X[:4]
    rep = so2(2)                                   # rotations of the first two coordinates
    plain, reg, hw = train_many(X4, Y, ["plain", Run("regularisation", lam=10.0), "hard-wired"],
                                rep=rep, hidden=(2,), epochs=300, lr=1e-2)
    assert reg.w_perp[-1] < 0.5 * min(reg.w_perp[0], plain.w_perp[-1])
    assert hw.w_perp.max() < 1e-14
    np.testing.assert_allclose(hw.W[:, :2], 0, atol=1e-14)


def test_float32_training(reg_data):
    X, Y = reg_data
    h = train(X, Y, "augmentation", rep=REP, epochs=20, dtype="float32")
    assert h.settings["dtype"] == "float32" and h.W.dtype == np.float32
    ref = train(X, Y, "augmentation", rep=REP, epochs=20)
    np.testing.assert_allclose(h.W, ref.W, rtol=1e-3, atol=1e-4)


def test_mnist_smoke():
    data = load_mnist(n_train=100, n_test=200)
    hs = train_many(data.X_train, data.Y_train, section4_runs(), rep=c4_rotations(14),
                    X_test=data.X_test, Y_test=data.Y_test, normalization="mean", epochs=30)
    assert [h.label for h in hs] == ["augmentation", "hard-wired", "regularisation λ=0.001",
                                     "regularisation λ=0.01", "regularisation λ=0.1"]
    for h in hs:
        assert h.entry_columns == (45, 52, 143, 150) and h.W.shape == (9, 196)
        assert h.loss[-1] < h.loss[0]
    # dead pixels keep their random initial weights: ‖W_⊥‖ > ‖W_⊥ Π‖ for augmentation
    assert hs[0].w_perp[-1] > hs[0].w_perp_data[-1]


# -------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, exc, match", [
    ({"Y": np.ones((3, 39))}, ValueError, "inconsistent numbers of samples"),
    ({"method": "dropout"}, ValueError, "unknown method 'dropout'"),
    ({"loss": "hinge"}, ValueError, "unknown loss 'hinge'"),
    ({"method": "regularisation", "lam": -0.1}, ValueError, "must be >= 0"),
    ({"method": "regularisation"}, ValueError, "needs its strength"),
    ({"method": "augmentation", "lam": 0.1}, ValueError, "only used by method 'regularisation'"),
    ({"method": "hard-wired", "rep": None}, ValueError, "need the group"),
    ({"rep": c4_rotations(3)}, ValueError, "acts on R\\^9 but X has d0 == 16"),
    ({"batch_size": 5, "fast": True}, ValueError, "fast=True needs"),
    ({"loss": "cross_entropy"}, ValueError, "probability vectors"),
    ({"X_test": np.ones((16, 4))}, ValueError, "both X_test and Y_test"),
    ({"X_test": np.ones((15, 4)), "Y_test": np.ones((3, 4))}, ValueError, "the test set has"),
    ({"activation": "relu", "hidden": (3, 2)}, ValueError, "exactly one hidden layer"),
    ({"activation": "gelu"}, ValueError, "unknown activation"),
    ({"epochs": 0}, ValueError, "epochs == 0, must be >= 1"),
    ({"lr": -1.0}, ValueError, r"lr == -1.0, must be > 0"),
    ({"betas": (0.9, 1.5)}, ValueError, "betas must be"),
    ({"batch_size": 0}, ValueError, "batch_size == 0, must be >= 1"),
    ({"normalization": "sum"}, ValueError, "normalization must be 'paper'"),
    ({"accuracy": True}, ValueError, "one-hot"),
    ({"dtype": torch.int64}, ValueError, "dtype must be"),
    ({"device": "tpu"}, ValueError, "device"),
    ({"num_threads": 0}, ValueError, "num_threads"),
    ({"eps_inputs": np.ones((5, 3))}, ValueError, "eps_inputs"),
    ({"entry_columns": (16,)}, ValueError, "entry_columns"),
    ({"method": "augmentation", "rep": so2(14)}, ValueError, "finite group"),
    ({"seed": -1}, ValueError, "seed == -1, must be >= 0"),
    ({"X": np.ones(40)}, ValueError, "2-D array"),
])
def test_bad_input_is_refused_clearly(reg_data, kwargs, exc, match):
    X, Y = reg_data
    args = {"X": X, "Y": Y, "method": "plain", "rep": REP, "epochs": 2}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        train(args.pop("X"), args.pop("Y"), **args)


def test_cuda_is_refused_when_absent(reg_data):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    X, Y = reg_data
    with pytest.raises(ValueError, match="CUDA is not available"):
        train(X, Y, "plain", epochs=2, device="cuda")


def test_bad_runs():
    X, Y = np.ones((16, 4)), np.ones((3, 4))
    with pytest.raises(ValueError, match="runs is empty"):
        train_many(X, Y, [])
    with pytest.raises(TypeError, match="a run must be"):
        train_many(X, Y, [42])
    with pytest.raises(ValueError, match="unknown run keys"):
        train_many(X, Y, [{"method": "plain", "lr": 1}])


def test_section4_runs():
    runs = section4_runs()
    assert [r.method for r in runs] == ["augmented", "hardwired"] + ["regularized"] * 3
    assert [r.lam for r in runs[2:]] == [1e-3, 1e-2, 1e-1]
    two = section4_runs(lams=(1.0,), seeds=(0, 1))
    assert len(two) == 6 and two[-1].label == "regularisation λ=1 (seed 1)"


# ------------------------------------------------------------------ history
@pytest.fixture(scope="module")
def histories(cls_data):
    X, Y, Xt, Yt = cls_data
    return train_many(X, Y, section4_runs(lams=(0.1,)), rep=REP, epochs=12, eval_every=4,
                      X_test=Xt, Y_test=Yt, eps_inputs={"test": Xt})


def _check_axes(ax, n_lines=None):
    assert ax.get_title() and ax.get_xlabel() == "epoch" and ax.get_ylabel()
    assert ax.get_legend() is not None
    if n_lines is not None:
        assert len(ax.get_lines()) == n_lines


def test_history_plots(histories):
    aug = histories[0]
    _check_axes(aug.plot_entries(rows=(0, 2)), n_lines=8)
    _check_axes(aug.plot_accuracy(), n_lines=1)
    _check_axes(aug.plot_accuracy(split="test"), n_lines=1)
    _check_axes(aug.plot_w_perp(), n_lines=1)
    _check_axes(aug.plot_w_perp(data_span=True), n_lines=1)
    _check_axes(aug.plot_invariant_share(), n_lines=1)
    ax = aug.plot_loss()
    _check_axes(ax, n_lines=1)
    assert ax.get_yscale() == "log"
    for metric in ("aug_train_acc", "w_perp", "invariant_share", "eps_inv[test]", "eps_inv"):
        _check_axes(plot_histories(histories, metric), n_lines=len(histories))
    ax = plot_histories(histories, "loss", labels=list("abc"), title="T")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list("abc")
    assert ax.get_title() == "T"
    fig = plot_section4(histories)
    assert len(fig.axes) == 4
    for a in fig.axes:
        _check_axes(a)
    plt.close("all")


def test_history_arrays_and_errors(histories):
    aug = histories[0]
    arrays = aug.arrays()
    assert {"epochs", "loss", "w_perp", "w_perp_data", "invariant_share", "entries",
            "aug_train_acc", "test_acc", "W", "eps_inv[test]"} <= set(arrays)
    assert set(aug.final()) >= {"loss", "w_perp", "test_acc"}
    x, y = aug.series("test_acc")
    np.testing.assert_array_equal(x, [0, 4, 8, 12])
    assert "augmentation" in repr(aug)
    assert isinstance(aug, History)
    with pytest.raises(ValueError, match="unknown metric"):
        aug.series("speed")
    with pytest.raises(ValueError, match="not recorded on 'gaussian'"):
        aug.series("eps_inv[gaussian]")
    with pytest.raises(ValueError, match="out of range"):
        aug.plot_entries(rows=(7,))
    with pytest.raises(ValueError, match="split must be"):
        aug.plot_accuracy(split="val")
    with pytest.raises(ValueError, match="histories is empty"):
        plot_histories([], "loss")
    plt.close("all")
