"""Training the paper's networks: plain, hard-wired, augmentation and regularisation.

One entry point, :func:`train`, trains one run; :func:`train_many` trains several runs
that share the data and the architecture (methods × λ × seeds) together and returns
one :class:`~invariance_lib.history.History` per run.

**The objective.** For the MSE loss every run minimises, over the network's
parameters, with ``W`` the end-to-end matrix and ``n`` samples,

============  ==================================================================
method        objective
============  ==================================================================
plain         ``s · ‖WX − Y‖²``
hard-wired    ``s · ‖WX − Y‖²`` with ``W = W_L ⋯ W_1 B`` (so ``WG = 0``)
augmentation  ``s/|G| · Σ_g ‖W ρ(g) X − Y‖²`` (every ``ρ(g) x_i`` is a sample)
regularised   ``s · ‖WX − Y‖² + λ ‖WG‖²``
============  ==================================================================

where the normalisation sets ``s``: ``normalization="paper"`` (**the default**) is
``s = 1/n``, the paper's eq. (7); ``normalization="mean"`` is ``s = 1/(n·dL)``,
PyTorch's ``MSELoss``, which averages over the outputs too. The penalty is
``λ‖WG‖²`` in both, so the experiment's ``λ`` under ``"mean"`` is ``dL·λ`` of eq. (7)
(NOTES §5: the paper's figures fit this reading). The closed forms take the same
keyword — ``regularized_optimum(X, Y, G, r, lam, normalization=...)`` — and a long
full-batch run converges to the closed form of the *same* objective; the
hard-wired and augmented optima do not depend on ``s``. With ``loss="cross_entropy"``
the data term is the mean cross-entropy of the softmax outputs (``normalization`` is
not used) and the penalty is added the same way.

**Two ways to train, one result.** For linear networks with the MSE loss and full
batches (the paper's Section 4) the objective is exactly

.. math::  \\operatorname{tr}(W K W^\\top) - 2\\operatorname{tr}(W C^\\top) + c

with the moments of :mod:`invariance_lib.problems` (``K = s·XXᵀ``, ``C = s·YXᵀ``;
augmented: ``s/|G| Σ_g ρ(g)XXᵀρ(g)ᵀ`` and ``s/|G| Σ_g YXᵀρ(g)ᵀ``; regularised:
``K + λGGᵀ``; hard-wired: ``BKBᵀ`` and ``CBᵀ``), so its gradient with respect to ``W``
is ``2(WK − C)`` and no sample is touched during training (*fast path*; NOTES §3).
The gradients of the layers follow by the chain rule, ``∂/∂W_i = (W_L⋯W_{i+1})ᵀ
2(WK − C) (W_{i−1}⋯W_1)ᵀ``. Runs with the same layer shapes are stacked along a batch
dimension and updated by one Adam step over all their parameters; Adam acts entry by
entry, so this is the same as training them one at a time. Everything else —
nonlinear networks, cross-entropy, mini-batches, ``fast=False`` — trains on the
samples with autograd and :class:`torch.optim.Adam` (*sample path*). Both paths
start from the same initial weights for the same seed and record the same things.

**What is recorded.** Every quantity refers to the state *after* the listed epoch
(epoch 0 is the initialisation): ``loss`` and the ``W``-measures every
``record_every`` epochs, accuracies and ``ε_inv`` every ``eval_every`` epochs, and
both at the last epoch. See :class:`~invariance_lib.history.History`.

Determinism: a run's seed fixes its initial weights (see
:mod:`invariance_lib.networks`) and its mini-batch order; nothing uses global RNG
state. Training runs torch on ``num_threads`` threads (default 1: small matrices are
fastest on one thread, and mixing two-thread torch with numpy was measured several
times slower) and restores the previous setting afterwards.
"""

from __future__ import annotations

import math
import numbers
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import torch

from ._validation import as_matrix, check_lam, check_samples
from .history import History, method_label
from .metrics import InvarianceMetrics, default_entry_columns, invariance_error
from .networks import (DeepLinear, HardwiredDeepLinear, TwoLayer, canonical_activation,
                       invariance_penalty)
from .problems import (NORMALIZATIONS, augmented_problem, canonical_method, plain_problem,
                       regularized_problems)

try:  # installed with scikit-learn (a dependency of mlxtend); optional
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover
    _threadpool_limits = None

__all__ = [
    "LOSSES",
    "Run",
    "section4_runs",
    "train",
    "train_many",
    "moment_gradients",
    "DEFAULT_EVAL_POINTS",
]

LOSSES = ("mse", "cross_entropy")
_LOSS_ALIASES = {"mse": "mse", "l2": "mse", "squared": "mse",
                 "cross_entropy": "cross_entropy", "cross-entropy": "cross_entropy",
                 "crossentropy": "cross_entropy", "ce": "cross_entropy"}

#: With ``eval_every=None``, accuracies and ε_inv are evaluated about this many times
#: per run (every ``max(1, epochs // DEFAULT_EVAL_POINTS)`` epochs: every 40 of the
#: paper's 2,000). For the paper's five runs one evaluation of both accuracies (4,000
#: augmented training and 3,500 test images) costs about as much as ten fast-path
#: epochs, so evaluating every epoch would make evaluation, not training, the cost of
#: a run; at this default it is about a tenth. Pass ``eval_every=1`` for every epoch.
DEFAULT_EVAL_POINTS = 50

#: The fast path computes accuracies from float32 copies of the weights and inputs
#: (4× cheaper than float64 here); a prediction can change only where two outputs
#: agree to about 1e-7. Losses, ``W``-measures and ε_inv use the training dtype.
_EVAL_DTYPE = torch.float32


# ------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Run:
    """One run of a sweep: a method, its λ, a seed and a legend label.

    Parameters
    ----------
    method : str
        ``"plain"``, ``"hard-wired"``, ``"augmentation"`` or ``"regularisation"``
        (or the canonical names of :func:`invariance_lib.problems.canonical_method`).
    lam : float, optional
        Required for regularisation (``λ >= 0``); must be omitted otherwise.
    seed : int, default 0
        Seed of the initial weights and of the mini-batch order.
    label : str, optional
        Legend label (default: ``"augmentation"``, ``"regularisation λ=0.01"``, …).
    """

    method: str
    lam: float | None = None
    seed: int = 0
    label: str | None = None

    def __post_init__(self) -> None:
        method = canonical_method(self.method)
        object.__setattr__(self, "method", method)
        if method == "regularized":
            if self.lam is None:
                raise ValueError("method 'regularisation' needs its strength: pass lam=... "
                                 "(a number >= 0), e.g. lam=1e-2.")
            vals, _ = check_lam(self.lam, allow_array=False)
            object.__setattr__(self, "lam", float(vals[0]))
        elif self.lam is not None:
            raise ValueError(f"lam is only used by method 'regularisation', but method is "
                             f"{self.method!r}; drop lam=... or use method='regularisation'.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) \
                or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}.")
        object.__setattr__(self, "seed", int(self.seed))

    @property
    def name(self) -> str:
        """The label, or the display name of the method (and λ)."""
        return self.label or method_label(self.method, self.lam)


def _as_run(spec) -> Run:
    if isinstance(spec, Run):
        return spec
    if isinstance(spec, str):
        return Run(spec)
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"method", "lam", "seed", "label"}
        if unknown:
            raise ValueError(f"unknown run keys {sorted(unknown)}; a run is given by method, "
                             f"lam, seed and label.")
        return Run(**spec)
    raise TypeError(f"a run must be a Run, a method name or a dict, got {spec!r}.")


def section4_runs(lams: Iterable[float] = (1e-3, 1e-2, 1e-1),
                  seeds: Iterable[int] = (0,)) -> list[Run]:
    """The paper's Section 4 runs: augmentation, hard-wired and regularisation for each λ.

    With several seeds, every run is repeated per seed (labels then name the seed).
    """
    seeds = list(seeds)
    out = []
    for s in seeds:
        tag = f" (seed {s})" if len(seeds) > 1 else ""
        out.append(Run("augmentation", seed=s, label="augmentation" + tag))
        out.append(Run("hard-wired", seed=s, label="hard-wired" + tag))
        for lam in lams:
            out.append(Run("regularisation", lam=lam, seed=s,
                           label=method_label("regularized", float(lam)) + tag))
    return out


# ------------------------------------------------------------------ setup
@dataclass
class _Setup:
    X: np.ndarray
    Y: np.ndarray
    rep: object
    hidden: tuple[int, ...]
    activation: str | None
    loss: str
    normalization: str
    epochs: int
    lr: float
    betas: tuple[float, float]
    eps: float
    batch_size: int | None
    X_test: np.ndarray | None
    Y_test: np.ndarray | None
    record_every: int
    eval_every: int
    record_epochs: np.ndarray
    eval_epochs: np.ndarray
    entry_columns: tuple[int, ...] | None
    eps_inputs: dict
    accuracy: bool
    dtype: torch.dtype
    device: torch.device
    progress: bool | None
    basis: np.ndarray | None = None
    G: np.ndarray | None = None

    @property
    def d0(self) -> int:
        return self.X.shape[0]

    @property
    def dL(self) -> int:
        return self.Y.shape[0]

    @property
    def n(self) -> int:
        return self.X.shape[1]

    def widths(self) -> tuple[int, ...]:
        return (self.d0,) + self.hidden + (self.dL,)


def train(X, Y, method: str = "plain", *, lam: float | None = None, seed: int = 0,
          label: str | None = None, **options) -> History:
    """Train one network by ``method`` and record its history.

    Parameters
    ----------
    X : array (d0, n)
        Training inputs, **columns are samples** (the paper's convention).
    Y : array (dL, n)
        Targets (one-hot for classification).
    method : {"plain", "augmentation", "hard-wired", "regularisation"}
        Aliases of :func:`~invariance_lib.problems.canonical_method` are accepted.
    lam : float, optional
        λ of ``method="regularisation"`` (required there, refused elsewhere).
    seed : int, default 0
        Seed of the initial weights (and of the mini-batch order).
    label : str, optional
        Legend label of the history.
    **options
        Everything :func:`train_many` takes: ``rep``, ``hidden``, ``activation``,
        ``loss``, ``normalization``, ``epochs``, ``lr``, ``betas``, ``batch_size``,
        ``X_test``, ``Y_test``, ``record_every``, ``eval_every``, ``eps_inputs``,
        ``device``, ``progress``, ...

    Returns
    -------
    History
        ``history.W`` is the final end-to-end matrix, a numpy array ``(dL, d0)``.

    Examples
    --------
    >>> data = load_mnist()                                          # doctest: +SKIP
    >>> h = train(data.X_train, data.Y_train, method="augmentation",
    ...           rep=c4_rotations(14), X_test=data.X_test, Y_test=data.Y_test)  # doctest: +SKIP
    """
    return train_many(X, Y, [Run(method, lam=lam, seed=seed, label=label)], **options)[0]


def train_many(X, Y, runs: Sequence, *, rep=None, hidden: Sequence[int] = (5,),
               activation: str | None = None, loss: str = "mse",
               normalization: str = "paper", epochs: int = 2000, lr: float = 1e-3,
               betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
               batch_size: int | None = None, X_test=None, Y_test=None,
               record_every: int = 1, eval_every: int | None = None,
               entry_columns: Sequence[int] | None = None, eps_inputs=None,
               accuracy: bool | None = None, dtype: torch.dtype | str = torch.float64,
               device: str | torch.device = "cpu", fast: bool | None = None,
               progress: bool | None = None, num_threads: int = 1) -> list[History]:
    """Train several runs on the same data and architecture; one History per run.

    Linear MSE full-batch runs (the paper's Section 4) train together from the data
    moments (see the module docstring); the paper's five runs cost about one.

    Parameters
    ----------
    X : array (d0, n)
        Training inputs (columns are samples).
    Y : array (dL, n)
        Targets.
    runs : sequence of Run, str or dict
        E.g. ``section4_runs()``, ``["augmentation", "hard-wired"]`` or
        ``[Run("regularisation", lam=1e-2, seed=s) for s in range(5)]``.
    rep : Representation, optional
        The group acting on the inputs (e.g. ``c4_rotations(14)``). Needed by
        augmentation (a finite group), hard-wiring and regularisation (its
        ``constraint_matrix()`` is ``G``), and for ``‖W_⊥‖``, the invariant share and
        ``ε_inv``; only ``"plain"`` runs without it.
    hidden : sequence of int, default (5,)
        Hidden widths ``(d1, …, d_{L−1})``; the paper's network is ``d0 → 5 → dL``.
        ``()`` trains a single matrix.
    activation : {None, "relu", "leaky_relu", "silu", "swish", "tanh"}
        ``None`` (default): a deep linear network (:class:`~invariance_lib.networks.DeepLinear`).
        Otherwise a two-layer network (:class:`~invariance_lib.networks.TwoLayer`, with
        biases); needs exactly one hidden width.
    loss : {"mse", "cross_entropy"}
        ``"cross_entropy"`` needs targets that are probability vectors (one-hot).
    normalization : {"paper", "mean"}
        Of the MSE data term: ``"paper"`` (default) ``(1/n)‖WX − Y‖²`` as eq. (7);
        ``"mean"`` ``(1/(n·dL))‖WX − Y‖²`` as PyTorch's ``MSELoss`` (what the
        paper's experiments ran). The penalty ``λ‖WG‖²`` is added unscaled.
    epochs : int, default 2000
    lr, betas, eps
        Adam's parameters (the paper's defaults: 1e-3, (0.9, 0.999); eps 1e-8).
    batch_size : int, optional
        ``None`` (default): full batch. Otherwise mini-batches of this size, in an
        order drawn from the run's seed each epoch (the last batch may be smaller).
        For augmentation the ``n|G|`` augmented samples are batched.
    X_test, Y_test : arrays (d0, m), (dL, m), optional
        Test set for ``test_acc``.
    record_every : int, default 1
        Record ``loss`` and the ``W``-measures every this many epochs.
    eval_every : int, optional
        Record accuracies and ``ε_inv`` every this many epochs; default
        ``max(1, epochs // 50)`` (see :data:`DEFAULT_EVAL_POINTS`).
    entry_columns : sequence of int, optional
        Columns of ``W`` recorded in ``entries`` (default: the orbit of pixel 45,
        ``(45, 52, 143, 150)`` for C4 on 14×14 images).
    eps_inputs : array (d0, m) or dict of str -> array, optional
        Inputs (columns) on which to record the median ``ε_inv`` (Appendix C.3), e.g.
        ``{"test": data.X_test, "gaussian": gaussian_inputs(196, 5000)}``.
    accuracy : bool, optional
        Record accuracies; default: when ``Y`` is one-hot.
    dtype : torch.dtype or str, default torch.float64
    device : str, default "cpu"
        ``"cuda"`` when asked for and available.
    fast : bool, optional
        ``None`` (default): train from the moments whenever possible. ``True``:
        require it (error otherwise). ``False``: always train on the samples.
    progress : bool, optional
        A tqdm progress bar. ``None`` (default): only when standard error is a
        terminal and the run takes more than a second (never in notebooks).
    num_threads : int, default 1
        torch threads during training (restored afterwards).

    Returns
    -------
    list of History
        In the order of ``runs``.

    Raises
    ------
    ValueError, TypeError
        For inconsistent shapes, an unknown method, loss or activation, a negative
        or missing λ, a method that needs ``rep`` without one, or an unavailable device.

    Notes
    -----
    Adam with a constant step does not settle exactly: once the gradient is tiny its
    second-moment estimate decays and the iterates keep moving on a scale set by
    ``lr`` (in the tests, a relative distance of about 1e-4 from the closed form at
    ``lr=1e-3``, which can grow again late in a run). On MNIST, dead pixels and
    weakly seen directions make raw parameter distances misleading; compare with the
    closed forms by :func:`~invariance_lib.metrics.function_distance` or the loss gap.
    """
    run_list = _check_runs(runs)
    if isinstance(num_threads, bool) or not isinstance(num_threads, numbers.Integral) \
            or num_threads < 1:
        raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}.")
    previous = torch.get_num_threads()
    torch.set_num_threads(int(num_threads))
    try:
        with _blas_threads(int(num_threads)):
            setup = _make_setup(
                X, Y, run_list, rep=rep, hidden=hidden, activation=activation, loss=loss,
                normalization=normalization, epochs=epochs, lr=lr, betas=betas, eps=eps,
                batch_size=batch_size, X_test=X_test, Y_test=Y_test, record_every=record_every,
                eval_every=eval_every, entry_columns=entry_columns, eps_inputs=eps_inputs,
                accuracy=accuracy, dtype=dtype, device=device, progress=progress)
            use_fast = _fast_applies(setup, run_list)
            if fast is True and not use_fast:
                raise ValueError("fast=True needs a linear network (activation=None), "
                                 "loss='mse' and full batches (batch_size=None); use fast=None "
                                 "to fall back to training on the samples.")
            if fast is False:
                use_fast = False
            if use_fast:
                return _MomentTrainer(setup, run_list).train()
            return [_train_on_samples(setup, run, label)
                    for run, label in zip(run_list, _labels(run_list))]
    finally:
        torch.set_num_threads(previous)


def _blas_threads(n: int):
    """Limit numpy's BLAS to ``n`` threads (restored on exit), when threadpoolctl is there."""
    if _threadpool_limits is None:  # pragma: no cover
        return nullcontext()
    return _threadpool_limits(limits=n, user_api="blas")


# ------------------------------------------------------------- validation
def _check_runs(runs) -> list[Run]:
    if isinstance(runs, (Run, str, Mapping)):
        runs = [runs]
    try:
        run_list = [_as_run(r) for r in runs]
    except TypeError as exc:
        if "a run must be" in str(exc):
            raise
        raise TypeError(f"runs must be a sequence of Run, method names or dicts, got "
                        f"{runs!r}.") from None
    if not run_list:
        raise ValueError("runs is empty; pass at least one run, e.g. section4_runs().")
    return run_list


def _canonical_loss(loss: str) -> str:
    key = str(loss).lower().strip()
    if key not in _LOSS_ALIASES:
        raise ValueError(f"unknown loss {loss!r}; use 'mse' or 'cross_entropy' (alias "
                         f"'cross-entropy').")
    return _LOSS_ALIASES[key]


def _check_int(v, name: str, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}.")
    return int(v)


def _schedule(epochs: int, every: int) -> np.ndarray:
    s = list(range(0, epochs + 1, every))
    if s[-1] != epochs:
        s.append(epochs)
    return np.asarray(s, dtype=np.int64)


def _is_one_hot(Y: np.ndarray) -> bool:
    return bool(np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=0) == 1))


def _make_setup(X, Y, runs, *, rep, hidden, activation, loss, normalization, epochs, lr, betas,
                eps, batch_size, X_test, Y_test, record_every, eval_every, entry_columns,
                eps_inputs, accuracy, dtype, device, progress) -> _Setup:
    """Check every argument of :func:`train_many` and gather them."""
    X, Y = (_writable(A) for A in check_samples(X, Y))
    d0 = X.shape[0]
    loss = _canonical_loss(loss)
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be 'paper' ((1/n)·‖WX − Y‖², eq. (7)) or 'mean' "
                         f"((1/(n·dL))·‖WX − Y‖², PyTorch's MSELoss), got {normalization!r}.")
    hidden, activation = _check_architecture(hidden, activation)
    epochs = _check_int(epochs, "epochs")
    betas = _check_optimiser(lr, betas, eps)
    if batch_size is not None:
        batch_size = _check_int(batch_size, "batch_size")
    methods = {r.method for r in runs}
    _check_group(rep, d0, methods)
    X_test, Y_test = _check_test_set(X_test, Y_test, X.shape[0], Y.shape[0])
    accuracy = _check_targets(Y, loss, accuracy)
    record_every = _check_int(record_every, "record_every")
    if eval_every is None:
        eval_every = max(1, epochs // DEFAULT_EVAL_POINTS)
    eval_every = _check_int(eval_every, "eval_every")
    if entry_columns is None:
        entry_columns = default_entry_columns(rep)
    else:
        entry_columns = tuple(int(c) for c in entry_columns)
        if any(not 0 <= c < d0 for c in entry_columns):
            raise ValueError(f"entry_columns {entry_columns} must lie in 0..{d0 - 1}.")
    return _Setup(X=X, Y=Y, rep=rep, hidden=hidden, activation=activation, loss=loss,
                  normalization=normalization, epochs=epochs, lr=float(lr), betas=betas,
                  eps=float(eps), batch_size=batch_size, X_test=X_test, Y_test=Y_test,
                  record_every=record_every, eval_every=eval_every,
                  record_epochs=_schedule(epochs, record_every),
                  eval_epochs=_schedule(epochs, eval_every), entry_columns=entry_columns,
                  eps_inputs=_check_eps_inputs(eps_inputs, rep, d0), accuracy=accuracy,
                  dtype=_check_dtype(dtype), device=_check_device(device), progress=progress,
                  basis=rep.invariant_basis() if "hardwired" in methods else None,
                  G=rep.constraint_matrix() if "regularized" in methods else None)


def _writable(A: np.ndarray) -> np.ndarray:
    """``A``, or a copy when it is read-only (torch refuses to share read-only memory)."""
    return A if A.flags.writeable else A.copy()


def _check_architecture(hidden, activation) -> tuple[tuple[int, ...], str | None]:
    try:
        hidden = tuple(hidden)
    except TypeError:
        raise TypeError(f"hidden must be a sequence of hidden widths such as (5,), got "
                        f"{hidden!r}.") from None
    hidden = tuple(_check_int(w, "every hidden width") for w in hidden)
    if activation is not None:
        activation = canonical_activation(activation)
        if len(hidden) != 1:
            raise ValueError(f"a nonlinear network (activation={activation!r}) has exactly one "
                             f"hidden layer; got hidden == {hidden}. Pass e.g. hidden=(7,).")
    return hidden, activation


def _check_optimiser(lr, betas, eps) -> tuple[float, float]:
    for name, v in (("lr", lr), ("eps", eps)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) \
                or v <= 0:
            raise ValueError(f"{name} must be a positive number, got {v!r}.")
    try:
        b1, b2 = (float(b) for b in betas)
    except (TypeError, ValueError):
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}.") from None
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}.")
    return b1, b2


def _check_group(rep, d0: int, methods: set[str]) -> None:
    if rep is None:
        needing = sorted(m for m in methods if m != "plain")
        if needing:
            raise ValueError(f"method(s) {[method_label(m) for m in needing]} need the group "
                             f"acting on the inputs: pass rep=... (e.g. rep=c4_rotations(14) "
                             f"for 14x14 images).")
        return
    if not (hasattr(rep, "constraint_matrix") and hasattr(rep, "dim")):
        raise TypeError(f"rep must be a Representation (e.g. c4_rotations(14)), got "
                        f"{type(rep).__name__}.")
    if rep.dim != d0:
        raise ValueError(f"rep acts on R^{rep.dim} but X has d0 == {d0} rows; use the "
                         f"representation of the input space (e.g. c4_rotations(14) for "
                         f"14x14 images, d0 == 196).")
    if "augmented" in methods and rep.is_lie:
        raise ValueError(f"augmentation needs a finite group, but {rep.name} is a Lie group "
                         f"(infinitely many elements); use hard-wiring or regularisation.")


def _check_test_set(X_test, Y_test, d0: int, dL: int):
    if (X_test is None) != (Y_test is None):
        raise ValueError("pass both X_test and Y_test, or neither.")
    if X_test is None:
        return None, None
    X_test, Y_test = (_writable(A) for A in check_samples(X_test, Y_test))
    if X_test.shape[0] != d0 or Y_test.shape[0] != dL:
        raise ValueError(f"the test set has shapes X_test {X_test.shape}, Y_test "
                         f"{Y_test.shape}, but the training set has d0 == {d0} and "
                         f"dL == {dL} rows.")
    return X_test, Y_test


def _check_targets(Y: np.ndarray, loss: str, accuracy: bool | None) -> bool:
    one_hot = _is_one_hot(Y)
    if loss == "cross_entropy" and not (np.all(Y >= 0) and np.allclose(Y.sum(axis=0), 1.0)):
        raise ValueError("loss='cross_entropy' needs targets that are probability vectors "
                         "(one-hot columns of Y); for regression targets use loss='mse'.")
    if accuracy is None:
        return one_hot
    if accuracy and not one_hot:
        raise ValueError("accuracy=True needs one-hot targets Y (one 1 per column).")
    return bool(accuracy)


def _check_eps_inputs(eps_inputs, rep, d0: int) -> dict[str, np.ndarray]:
    if eps_inputs is None:
        return {}
    if not isinstance(eps_inputs, Mapping):
        eps_inputs = {"inputs": eps_inputs}
    out = {}
    for name, Z in eps_inputs.items():
        if torch.is_tensor(Z):
            Z = Z.detach().cpu().numpy()
        Z = as_matrix(Z, f"eps_inputs[{name!r}]")
        if Z.shape[0] != d0:
            raise ValueError(f"eps_inputs[{name!r}] has shape {Z.shape}; inputs are columns of "
                             f"length d0 == {d0} (shape (d0, m)).")
        out[str(name)] = Z
    if out and (rep is None or rep.is_lie):
        raise ValueError("eps_inputs needs a finite group (rep=...) to average over orbits.")
    return out


def _check_dtype(dtype) -> torch.dtype:
    if isinstance(dtype, str):
        dtype = {"float64": torch.float64, "double": torch.float64,
                 "float32": torch.float32, "float": torch.float32}.get(dtype, dtype)
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float64 or torch.float32, got {dtype!r}.")
    return dtype


def _check_device(device) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device {device!r} is not a torch device; use 'cpu' or 'cuda'.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available "
                         f"(torch.cuda.is_available() is False); use device='cpu'.")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}.")
    return dev


def _n_effective(setup: _Setup, method: str) -> int:
    return setup.n * (setup.rep.order if method == "augmented" else 1)


def _fast_applies(setup: _Setup, runs: list[Run]) -> bool:
    if setup.activation is not None or setup.loss != "mse":
        return False
    if setup.batch_size is None:
        return True
    return all(setup.batch_size >= _n_effective(setup, r.method) for r in runs)


# ------------------------------------------------------------------ models
def _build_model(setup: _Setup, run: Run) -> torch.nn.Module:
    """The network of ``run``, initialised from its seed (same for both paths)."""
    opts = {"seed": run.seed, "dtype": setup.dtype, "device": setup.device}
    basis = setup.basis if run.method == "hardwired" else None
    if setup.activation is not None:
        return TwoLayer(setup.d0, setup.hidden[0], setup.dL, setup.activation, basis=basis,
                        **opts)
    if basis is not None:
        return HardwiredDeepLinear(setup.widths(), basis, **opts)
    return DeepLinear(setup.widths(), **opts)


def _augmented_inputs(setup: _Setup, X: np.ndarray) -> np.ndarray:
    """``[ρ(g_1)X, …, ρ(g_|G|)X]`` of shape ``(d0, n|G|)`` (``X`` without a finite group)."""
    if setup.rep is None or setup.rep.is_lie:
        return X
    return np.concatenate([E @ X for E in setup.rep.elements()], axis=1)


def _progress_bar(setup: _Setup, total: int, desc: str):
    from tqdm import tqdm  # the text bar: no widget (and no ipywidgets) in notebooks

    show = setup.progress
    if show is None:
        show = bool(getattr(sys.stderr, "isatty", lambda: False)())
        delay = 1.0
    else:
        delay = 0.0
    return tqdm(total=total, desc=desc, disable=not show, delay=delay, leave=False,
                file=sys.stderr)


# ---------------------------------------------------------- adam (flat)
class _FlatAdam:
    """Adam on one flat parameter vector, the same update as ``torch.optim.Adam``.

    ``m ← β1 m + (1−β1) g``, ``v ← β2 v + (1−β2) g²``,
    ``θ ← θ − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + eps)`` — the operations of
    torch's single-tensor implementation (the one used on the CPU), in the same
    order, so the iterates agree with it bit for bit.
    """

    def __init__(self, theta: torch.Tensor, lr: float, betas: tuple[float, float],
                 eps: float) -> None:
        self.theta = theta
        self.m = torch.zeros_like(theta)
        self.v = torch.zeros_like(theta)
        self.denom = torch.zeros_like(theta)
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.t = 0

    def step(self, grad: torch.Tensor) -> None:
        self.t += 1
        self.m.lerp_(grad, 1 - self.b1)
        self.v.mul_(self.b2).addcmul_(grad, grad, value=1 - self.b2)
        step = float(self.t)
        bias_correction1 = 1 - self.b1 ** step
        bias_correction2 = 1 - self.b2 ** step
        step_size = self.lr / bias_correction1
        denom = torch.sqrt(self.v, out=self.denom).div_(bias_correction2 ** 0.5).add_(self.eps)
        self.theta.addcdiv_(self.m, denom, value=-step_size)


# ------------------------------------------------------ moments (fast path)
def _run_moments(setup: _Setup, runs: list[Run]) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """``(K, C, const)`` of every run's objective, in input coordinates (``d0``).

    From :mod:`invariance_lib.problems`; the hard-wired run's are the plain ones
    (restricted to ``W = V B`` by the caller).
    """
    X, Y, norm = setup.X, setup.Y, setup.normalization
    methods = {r.method for r in runs}
    out: dict = {}
    if methods & {"plain", "hardwired"}:
        p = plain_problem(X, Y, norm)
        out["plain"] = (p.K, p.C, p.const)
    if "augmented" in methods:
        p = augmented_problem(X, Y, setup.rep.elements(), norm)
        out["augmented"] = (p.K, p.C, p.const)
    lams = sorted({r.lam for r in runs if r.method == "regularized"})
    if lams:
        for lam, p in zip(lams, regularized_problems(X, Y, setup.G, lams, norm)):
            out[("regularized", lam)] = (p.K, p.C, p.const)
    moments = []
    for r in runs:
        key = ("regularized", r.lam) if r.method == "regularized" else (
            "plain" if r.method == "hardwired" else r.method)
        moments.append(out[key])
    return moments


class _Group:
    """Runs with the same layer shapes, stacked: parameters ``(R, d_{i+1}, d_i)``."""

    def __init__(self, index: list[int], widths: tuple[int, ...], K, C, const, basis):
        self.index = index
        self.widths = widths
        self.K, self.C, self.const = K, C, const      # (R, m, m), (R, dL, m), (R,)
        self.basis = basis                           # (m, d0) tensor or None
        self.layers: list[torch.Tensor] = []
        self.grads: list[torch.Tensor] = []

    @property
    def R(self) -> int:
        return len(self.index)

    def products(self):
        """Prefix products ``W_i ⋯ W_1`` and suffix products ``W_L ⋯ W_{i+2}``."""
        Ws = self.layers
        pre = [Ws[0]]
        for W in Ws[1:]:
            pre.append(torch.bmm(W, pre[-1]))
        suf: list[torch.Tensor | None] = [None] * len(Ws)
        for i in range(len(Ws) - 2, -1, -1):
            suf[i] = Ws[i + 1] if suf[i + 1] is None else torch.bmm(suf[i + 1], Ws[i + 1])
        return pre, suf

    def forward(self):
        """``W``, the residual ``E = WK − C`` and the prefix/suffix products."""
        pre, suf = self.products()
        W = pre[-1]
        if len(self.layers) > 1 and self.widths[1] < self.widths[-1]:
            # W_L⋯W_2 (W_1 K) − C: through the narrow first layer, in one fused product
            E = torch.baddbmm(self.C, suf[0], torch.bmm(self.layers[0], self.K), beta=-1.0)
        else:
            E = torch.baddbmm(self.C, W, self.K, beta=-1.0)
        return W, E, pre, suf

    def loss(self, W: torch.Tensor, E: torch.Tensor) -> torch.Tensor:
        """``tr(WKWᵀ) − 2tr(WCᵀ) + const = ⟨W, E − C⟩ + const`` per run, ``(R,)``."""
        R = W.shape[0]
        return torch.baddbmm(self.const.view(R, 1, 1), W.reshape(R, 1, -1),
                             (E - self.C).reshape(R, -1, 1)).view(R)

    def write_gradients(self, W, E, pre, suf) -> None:
        """``∂/∂W_i = (W_L⋯W_{i+1})ᵀ · 2E · (W_{i−1}⋯W_1)ᵀ`` into ``self.grads``."""
        for i, g in enumerate(self.grads):
            if i == 0 and suf[0] is None:
                torch.mul(E, 2.0, out=g)
            elif i == 0:
                torch.baddbmm(g, suf[0].transpose(1, 2), E, beta=0.0, alpha=2.0, out=g)
            else:
                left = E if suf[i] is None else torch.bmm(suf[i].transpose(1, 2), E)
                torch.baddbmm(g, left, pre[i - 1].transpose(1, 2), beta=0.0, alpha=2.0, out=g)

    @property
    def factor_rows(self) -> int | None:
        """Rows of the recorded factor ``F`` (the first layer's width), or ``None`` for ``W``."""
        narrow = len(self.layers) > 1 and self.widths[1] < self.widths[-1]
        return self.widths[1] if narrow else None

    def factors(self, W: torch.Tensor, suf) -> tuple[torch.Tensor | None, torch.Tensor]:
        """``(T, F)`` with ``W = T F``: ``(W_L⋯W_2, W_1)``, or ``(None, W)``."""
        return (suf[0], self.layers[0]) if self.factor_rows is not None else (None, W)

    def full(self, W: torch.Tensor) -> torch.Tensor:
        """End-to-end matrices in input coordinates, ``(R, dL, d0)``."""
        return W if self.basis is None else W @ self.basis

    def predict(self, Xg: torch.Tensor, pre, suf) -> torch.Tensor:
        """Outputs ``(R, dL, N)`` for inputs ``Xg`` (``(m, N)``, group coordinates).

        Computed in the dtype of ``Xg``; through the first layer when it is the
        narrowest (``W_L⋯W_2 (W_1 X)`` costs ``d1/dL`` of ``W X``).
        """
        dt = Xg.dtype
        W1 = self.layers[0].to(dt)
        if len(self.layers) > 1 and self.widths[1] < self.widths[-1]:
            H = (W1.reshape(-1, W1.shape[-1]) @ Xg).view(self.R, W1.shape[1], -1)
            return torch.bmm(suf[0].to(dt), H)
        W = pre[-1].to(dt)
        return (W.reshape(-1, W.shape[-1]) @ Xg).view(self.R, W.shape[1], -1)


class _Recorder:
    """Buffers for all runs, filled in place and converted to numpy at the end.

    The ``W``-measures are not computed every epoch: each group's matrices are
    copied into a buffer — as factors ``W = T F`` when the first layer is the
    narrowest (see :class:`~invariance_lib.metrics.InvarianceMetrics`) — and
    measured in bulk every ``chunk`` records, so that recording every epoch costs
    about one copy per group.

    ``groups`` lists, per group, its run indices, its basis (``None`` in input
    coordinates) and the number of rows ``r`` of ``F`` (``None``: ``W`` itself).
    """

    def __init__(self, setup: _Setup, groups: list[tuple[list[int], torch.Tensor | None,
                                                          int | None]],
                 metrics: InvarianceMetrics | None, chunk: int | None = None) -> None:
        T, S = len(setup.record_epochs), len(setup.eval_epochs)
        R = sum(len(index) for index, _, _ in groups)
        self.setup, self.groups, self.metrics = setup, groups, metrics
        self.rec_pos = {int(e): i for i, e in enumerate(setup.record_epochs)}
        self.eval_pos = {int(e): i for i, e in enumerate(setup.eval_epochs)}
        opts = {"dtype": setup.dtype, "device": setup.device}
        rows = [setup.dL if r is None else r for _, _, r in groups]
        if chunk is None:   # about 64k numbers per group and flush: stays in cache
            widest = max(len(index) * r for (index, _, _), r in zip(groups, rows))
            chunk = max(4, 65536 // (setup.d0 * widest))
        self.chunk = chunk
        self._loss = [torch.full((T, len(index)), float("nan"), **opts) for index, _, _ in groups]
        self._F: list[torch.Tensor] = []
        self._T: list[torch.Tensor | None] = []
        if metrics is not None:
            for (index, basis, r), nrow in zip(groups, rows):
                m = setup.d0 if basis is None else basis.shape[0]
                self._F.append(torch.zeros((chunk, len(index), nrow, m), **opts))
                self._T.append(None if r is None else
                               torch.zeros((chunk, len(index), setup.dL, r), **opts))
        self._pending: list[int] = []
        self.series: dict[str, np.ndarray] = {}
        if metrics is not None:
            if metrics.columns:
                self.series["entries"] = np.full((T, R, setup.dL, len(metrics.columns)), np.nan)
            if metrics.has_rep:
                keys = ["w_perp", "invariant_share"] + (
                    ["w_perp_data"] if metrics.has_data_span else [])
                for key in keys:
                    self.series[key] = np.full((T, R), np.nan)
        self.evals: dict[str, np.ndarray] = {}
        if setup.accuracy:
            self.evals["aug_train_acc"] = np.full((S, R), np.nan)
            if setup.X_test is not None:
                self.evals["test_acc"] = np.full((S, R), np.nan)
        self.eps = {name: np.full((S, R), np.nan) for name in setup.eps_inputs}

    def record(self, pos: int, values: list[tuple[torch.Tensor, torch.Tensor | None,
                                                   torch.Tensor | None]]) -> None:
        """Record, per group, the objective ``(R_g,)`` and the factors ``T``, ``F`` of ``W``."""
        slot = len(self._pending)
        for gi, (loss, T, F) in enumerate(values):
            self._loss[gi][pos] = loss
            if self.metrics is not None:
                self._F[gi][slot] = F
                if T is not None:
                    self._T[gi][slot] = T
        self._pending.append(pos)
        if len(self._pending) == self.chunk:
            self.flush()

    def flush(self) -> None:
        """Measure the buffered matrices (:class:`~invariance_lib.metrics.InvarianceMetrics`)."""
        k = len(self._pending)
        if k == 0 or self.metrics is None:
            self._pending = []
            return
        rows = np.asarray(self._pending)[:, None]
        # The groups share their hidden widths, so their factors stack: one call for all.
        Fs, Ts = [], []
        for gi, (index, basis, _) in enumerate(self.groups):
            nb = k * len(index)
            F = self._F[gi][:k].reshape(nb, *self._F[gi].shape[2:])
            Fs.append(F if basis is None else F @ basis)              # input coordinates
            if self._T[gi] is not None:
                Ts.append(self._T[gi][:k].reshape(nb, self.setup.dL, -1))
        same = len({F.shape[1:] for F in Fs}) == 1 and len(Ts) in (0, len(Fs))
        parts = ([self.metrics(torch.cat(Fs), torch.cat(Ts) if Ts else None)] if same else
                 [self.metrics(F, Ts[i] if Ts else None) for i, F in enumerate(Fs)])
        offset = 0
        for gi, (index, _, _) in enumerate(self.groups):
            nb = k * len(index)
            vals = parts[0] if same else parts[gi]
            start = offset if same else 0
            cols = np.asarray(index)[None, :]
            for key, v in vals.items():
                arr = v[start:start + nb].detach().cpu().numpy()
                self.series[key][rows, cols] = arr.reshape((k, len(index)) + arr.shape[1:])
            offset += nb
        self._pending = []

    def set_eval(self, name: str, pos: int, index: list[int], values) -> None:
        if torch.is_tensor(values):
            values = values.detach().cpu().numpy()
        target = self.evals[name] if name in self.evals else self.eps[name]
        target[pos, index] = values

    def history_arrays(self) -> list[dict]:
        """Per run: ``loss``, the ``W``-measures, accuracies and ``eps_inv``."""
        self.flush()
        R = sum(len(index) for index, _, _ in self.groups)
        out: list[dict] = [dict() for _ in range(R)]
        for (index, _, _), loss in zip(self.groups, self._loss):
            arr = loss.detach().cpu().numpy()
            for j, r in enumerate(index):
                out[r]["loss"] = arr[:, j].copy()
        for r in range(R):
            for key, arr in list(self.series.items()) + list(self.evals.items()):
                out[r][key] = arr[:, r].copy()
            out[r]["eps_inv"] = {name: arr[:, r].copy() for name, arr in self.eps.items()}
        return out


def _correct(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Accuracy per run from outputs ``(R, dL, N)`` and labels ``(N,)``, as ``(R,)``.

    A sample counts as correct when its label's output is the largest (the rule of
    :func:`invariance_lib.metrics.accuracy`; exact ties, which real-valued outputs
    almost never produce, count as correct). ``amax`` over the classes is much
    cheaper here than a strided ``argmax``.
    """
    R, dL, N = outputs.shape
    true = outputs.gather(1, labels.view(1, 1, N).expand(R, 1, N))
    return (true >= outputs.amax(dim=1, keepdim=True)).to(outputs.dtype).mean(dim=(1, 2))


def _settings(setup: _Setup, path: str) -> dict:
    return {
        "path": path, "hidden": setup.hidden, "widths": setup.widths(),
        "activation": setup.activation, "loss": setup.loss,
        "normalization": setup.normalization, "epochs": setup.epochs, "lr": setup.lr,
        "betas": setup.betas, "eps": setup.eps, "batch_size": setup.batch_size,
        "dtype": str(setup.dtype).replace("torch.", ""), "device": str(setup.device),
        "n": setup.n, "d0": setup.d0, "dL": setup.dL,
        "n_test": None if setup.X_test is None else setup.X_test.shape[1],
        "group": None if setup.rep is None else setup.rep.name,
        "record_every": setup.record_every, "eval_every": setup.eval_every,
    }


def _make_history(setup: _Setup, run: Run, arrays: dict, W: np.ndarray | None, model,
                  path: str, label: str) -> History:
    return History(
        method=run.method, lam=run.lam, seed=run.seed, label=label,
        epochs=setup.record_epochs.copy(), loss=arrays["loss"],
        eval_epochs=setup.eval_epochs.copy(), W=W, model=model,
        settings=_settings(setup, path), w_perp=arrays.get("w_perp"),
        w_perp_data=arrays.get("w_perp_data"), invariant_share=arrays.get("invariant_share"),
        entries=arrays.get("entries"),
        entry_columns=tuple(setup.entry_columns or ()) if "entries" in arrays else (),
        aug_train_acc=arrays.get("aug_train_acc"), test_acc=arrays.get("test_acc"),
        eps_inv=arrays.get("eps_inv", {}))


def _labels(runs: list[Run]) -> list[str]:
    names = [r.name for r in runs]
    counts = {n: names.count(n) for n in names}
    return [f"{n} (seed {r.seed})" if counts[n] > 1 and r.label is None else n
            for n, r in zip(names, runs)]


def _metrics_for(setup: _Setup) -> InvarianceMetrics | None:
    if setup.activation is not None:
        return None
    if setup.rep is None and not setup.entry_columns:
        return None
    return InvarianceMetrics(setup.rep, X=setup.X if setup.rep is not None else None,
                             columns=setup.entry_columns or (), dtype=setup.dtype,
                             device=setup.device)


def _median_eps(outs: torch.Tensor) -> np.ndarray:
    """Median over inputs of ``ε_inv`` from outputs ``(R, |G|, dL, M)``; returns ``(R,)``."""
    o = outs.detach().cpu().to(torch.float64).numpy()
    mean = o.mean(axis=1)
    num = np.mean(np.sum((o - mean[:, None]) ** 2, axis=2), axis=1)
    den = np.sum(mean ** 2, axis=1)
    tiny = np.finfo(np.float64).tiny
    eps = np.where(den > tiny, num / np.maximum(den, tiny), np.where(num > tiny, np.inf, 0.0))
    return np.median(eps, axis=1)


# -------------------------------------------------------------- fast path
class _MomentTrainer:
    """Full-batch training of linear MSE runs from the data moments, all runs at once."""

    def __init__(self, setup: _Setup, runs: list[Run]) -> None:
        self.setup, self.runs = setup, runs
        opts = {"dtype": setup.dtype, "device": setup.device}
        self.opts = opts
        moments = _run_moments(setup, runs)
        B = None if setup.basis is None else torch.as_tensor(setup.basis, **opts)
        keys = {"full": [], "hardwired": []}
        for i, r in enumerate(runs):
            keys["hardwired" if r.method == "hardwired" else "full"].append(i)
        self.groups: list[_Group] = []
        for key, index in keys.items():
            if not index:
                continue
            Ks, Cs, cs = [], [], []
            for i in index:
                K, C, c = moments[i]
                if key == "hardwired":
                    K, C = setup.basis @ K @ setup.basis.T, C @ setup.basis.T
                Ks.append((K + K.T) / 2.0)
                Cs.append(C)
                cs.append(c)
            m = setup.basis.shape[0] if key == "hardwired" else setup.d0
            widths = (m,) + setup.hidden + (setup.dL,)
            self.groups.append(_Group(index, widths, torch.as_tensor(np.stack(Ks), **opts),
                                      torch.as_tensor(np.stack(Cs), **opts),
                                      torch.as_tensor(np.asarray(cs), **opts),
                                      B if key == "hardwired" else None))
        # One flat parameter vector for every layer of every group: one Adam for all.
        sizes = [g.R * a * b for g in self.groups for a, b in zip(g.widths[1:], g.widths[:-1])]
        self.theta = torch.zeros(sum(sizes), **opts)
        self.grad = torch.zeros_like(self.theta)
        offset = 0
        for g in self.groups:
            for a, b in zip(g.widths[1:], g.widths[:-1]):
                size = g.R * a * b
                g.layers.append(self.theta[offset:offset + size].view(g.R, a, b))
                g.grads.append(self.grad[offset:offset + size].view(g.R, a, b))
                offset += size
            for r_i, run_i in enumerate(g.index):
                model = _build_model(setup, runs[run_i])
                with torch.no_grad():
                    for layer, w in zip(g.layers, model.factors()):
                        layer[r_i].copy_(w.detach())
        self.adam = _FlatAdam(self.theta, setup.lr, setup.betas, setup.eps)
        self.metrics = _metrics_for(setup)
        self.rec = _Recorder(setup, [(g.index, g.basis, g.factor_rows) for g in self.groups],
                             self.metrics)
        self._prepare_eval()

    def _prepare_eval(self) -> None:
        s, opts = self.setup, self.opts

        def to_group(Xc: np.ndarray, g: _Group, dtype=s.dtype) -> torch.Tensor:
            t = torch.as_tensor(Xc, **opts)
            return (t if g.basis is None else g.basis @ t).to(dtype)

        self.eval_sets: list[tuple[str, list[torch.Tensor], torch.Tensor]] = []
        if s.accuracy:
            Xa = _augmented_inputs(s, s.X)
            lab = np.tile(np.argmax(s.Y, axis=0), Xa.shape[1] // s.n)
            self.eval_sets.append(("aug_train_acc", [to_group(Xa, g, _EVAL_DTYPE)
                                                     for g in self.groups],
                                   torch.as_tensor(lab, device=s.device)))
            if s.X_test is not None:
                self.eval_sets.append(("test_acc", [to_group(s.X_test, g, _EVAL_DTYPE)
                                                    for g in self.groups],
                                       torch.as_tensor(np.argmax(s.Y_test, axis=0),
                                                       device=s.device)))
        self.eps_sets = []
        for name, Z in s.eps_inputs.items():
            Zs = np.concatenate([E @ Z for E in s.rep.elements()], axis=1)
            self.eps_sets.append((name, Z.shape[1], [to_group(Zs, g) for g in self.groups]))

    def _evaluate(self, pos: int, cache) -> None:
        for name, Xgs, labels in self.eval_sets:
            for g, Xg, (W, E, pre, suf) in zip(self.groups, Xgs, cache):
                self.rec.set_eval(name, pos, g.index, _correct(g.predict(Xg, pre, suf), labels))
        for name, M, Zgs in self.eps_sets:
            for g, Zg, (W, E, pre, suf) in zip(self.groups, Zgs, cache):
                out = g.predict(Zg, pre, suf)                       # (R, dL, |G|·M)
                out = out.view(g.R, out.shape[1], -1, M).transpose(1, 2)
                self.rec.set_eval(name, pos, g.index, _median_eps(out))

    def train(self) -> list[History]:
        bar = _progress_bar(self.setup, self.setup.epochs, "training (moments)")
        try:
            with torch.inference_mode():   # no autograd bookkeeping: gradients are explicit
                self._loop(bar)
        finally:
            bar.close()
        return self._histories()

    def _loop(self, bar) -> None:
        rec, n_epochs = self.rec, self.setup.epochs
        for e in range(n_epochs + 1):
            cache = [g.forward() for g in self.groups]
            pos = rec.rec_pos.get(e)
            if pos is not None:
                rec.record(pos, [(g.loss(W, E),) + g.factors(W, suf)
                                 for g, (W, E, pre, suf) in zip(self.groups, cache)])
            epos = rec.eval_pos.get(e)
            if epos is not None:
                self._evaluate(epos, cache)
            if e == n_epochs:
                break
            for g, (W, E, pre, suf) in zip(self.groups, cache):
                g.write_gradients(W, E, pre, suf)
            self.adam.step(self.grad)
            bar.update(1)

    def _histories(self) -> list[History]:
        s = self.setup
        labels = _labels(self.runs)
        arrays = self.rec.history_arrays()
        out: list[History | None] = [None] * len(self.runs)
        for g in self.groups:
            W_full = g.full(g.forward()[0]).detach().cpu().numpy()
            for r_i, run_i in enumerate(g.index):
                run = self.runs[run_i]
                model = _build_model(s, run)
                with torch.no_grad():
                    for w, layer in zip(model.factors(), g.layers):
                        w.copy_(layer[r_i])
                out[run_i] = _make_history(s, run, arrays[run_i], W_full[r_i].copy(),
                                           model.cpu(), "moments", labels[run_i])
        return out


def moment_gradients(X, Y, method: str, *, rep=None, lam: float | None = None,
                     hidden: Sequence[int] = (5,), normalization: str = "paper",
                     seed: int = 0, dtype: torch.dtype = torch.float64) -> list[np.ndarray]:
    """The layer gradients of the fast path at a run's initial weights.

    The same computation as training uses (``2(WK − C)`` and the chain rule), for
    checking against autograd on the samples (they agree to rounding error in
    float64). Returns ``[∂/∂W_1, …, ∂/∂W_L]`` as numpy arrays.
    """
    run = Run(method, lam=lam, seed=seed)
    setup = _make_setup(X, Y, [run], rep=rep, hidden=hidden, activation=None, loss="mse",
                        normalization=normalization, epochs=1, lr=1e-3, betas=(0.9, 0.999),
                        eps=1e-8, batch_size=None, X_test=None, Y_test=None, record_every=1,
                        eval_every=1, entry_columns=(), eps_inputs=None, accuracy=False,
                        dtype=dtype, device="cpu", progress=False)
    trainer = _MomentTrainer(setup, [run])
    g = trainer.groups[0]
    W, E, pre, suf = g.forward()
    g.write_gradients(W, E, pre, suf)
    return [gr[0].cpu().numpy().copy() for gr in g.grads]


# ------------------------------------------------------------ sample path
def _objective(setup: _Setup, run: Run, model, xb, yb, G_t) -> torch.Tensor:
    out = model(xb)
    if setup.loss == "mse":
        scale = xb.shape[0] * (setup.dL if setup.normalization == "mean" else 1)
        value = (out - yb).pow(2).sum() / scale
    else:
        value = torch.nn.functional.cross_entropy(out, yb)
    if run.method == "regularized" and run.lam > 0:
        value = value + invariance_penalty(model, G_t, run.lam)
    return value


def _train_on_samples(setup: _Setup, run: Run, label: str) -> History:
    """Train one run on the samples with autograd and ``torch.optim.Adam``."""
    s = setup
    opts = {"dtype": s.dtype, "device": s.device}
    model = _build_model(s, run)
    Xtr = _augmented_inputs(s, s.X) if run.method == "augmented" else s.X
    Ytr = np.tile(s.Y, (1, Xtr.shape[1] // s.n))
    xs, ys = torch.as_tensor(Xtr.T, **opts), torch.as_tensor(Ytr.T, **opts)
    N = xs.shape[0]
    G_t = torch.as_tensor(s.G, **opts) if run.method == "regularized" else None
    full = s.batch_size is None or s.batch_size >= N
    gen = torch.Generator().manual_seed(
        int(np.random.SeedSequence([run.seed, 1]).generate_state(1)[0]))
    opt = torch.optim.Adam(model.parameters(), lr=s.lr, betas=s.betas, eps=s.eps)

    linear = s.activation is None
    metrics = _metrics_for(s) if linear else None
    rec = _Recorder(s, [([0], None, None)], metrics)
    X_aug = torch.as_tensor(_augmented_inputs(s, s.X).T, **opts) if s.accuracy else None
    lab_aug = (torch.as_tensor(np.tile(np.argmax(s.Y, axis=0), X_aug.shape[0] // s.n),
                               device=s.device) if s.accuracy else None)
    X_te = torch.as_tensor(s.X_test.T, **opts) if (s.accuracy and s.X_test is not None) else None
    lab_te = (torch.as_tensor(np.argmax(s.Y_test, axis=0), device=s.device)
              if X_te is not None else None)

    def record(e: int, loss_value: torch.Tensor | None) -> None:
        pos = rec.rec_pos.get(e)
        if pos is not None:
            with torch.no_grad():
                if loss_value is None:
                    loss_value = _objective(s, run, model, xs, ys, G_t)
                W = model.end_to_end().detach()[None] if linear else None
                rec.record(pos, [(loss_value.detach().reshape(1), None, W)])
        epos = rec.eval_pos.get(e)
        if epos is not None:
            with torch.no_grad():
                if X_aug is not None:
                    rec.set_eval("aug_train_acc", epos, [0],
                                 _correct(model(X_aug).T[None], lab_aug))
                if X_te is not None:
                    rec.set_eval("test_acc", epos, [0], _correct(model(X_te).T[None], lab_te))
            for name, Z in s.eps_inputs.items():
                rec.set_eval(name, epos, [0], invariance_error(model, Z, s.rep))

    bar = _progress_bar(s, s.epochs, f"training {run.name} (samples)")
    try:
        for e in range(s.epochs + 1):
            if e == s.epochs:
                record(e, None)
                break
            if full:
                opt.zero_grad(set_to_none=True)
                value = _objective(s, run, model, xs, ys, G_t)
                record(e, value)        # the loss at the state before this epoch's step
                value.backward()
                opt.step()
            else:
                record(e, None)
                perm = torch.randperm(N, generator=gen).to(s.device)
                for start in range(0, N, s.batch_size):
                    idx = perm[start:start + s.batch_size]
                    opt.zero_grad(set_to_none=True)
                    _objective(s, run, model, xs[idx], ys[idx], G_t).backward()
                    opt.step()
            bar.update(1)
    finally:
        bar.close()
    W = model.end_to_end().detach().cpu().numpy().copy() if linear else None
    return _make_history(s, run, rec.history_arrays()[0], W, model.cpu(), "samples", label)
