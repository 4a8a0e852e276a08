"""Training the paper's networks: plain, hard-wired, augmentation and regularisation.

One entry point, :func:`train`, trains one run; :func:`train_many` trains several runs
that share the data and the architecture (methods × λ × seeds) together and returns
one :class:`~invariance_lib.experiments.history.History` per run.

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
(the paper trained with PyTorch's ``MSELoss``; its figures fit this reading). The closed forms take the same
keyword — ``regularized_optimum(X, Y, G, r, lam, normalization=...)`` — and a long
full-batch run converges to the closed form of the *same* objective; the
hard-wired and augmented optima do not depend on ``s``. With ``loss="cross_entropy"``
the data term is the mean cross-entropy of the softmax outputs (``normalization`` is
not used) and the penalty is added the same way.

**Two ways to train, one result.** For linear networks with the MSE loss and full
batches (the paper's Section 4) the objective is exactly

.. math::  \\operatorname{tr}(W K W^\\top) - 2\\operatorname{tr}(W C^\\top) + c

with the moments of :mod:`invariance_lib.theory.problems` (``K = s·XXᵀ``, ``C = s·YXᵀ``;
augmented: ``s/|G| Σ_g ρ(g)XXᵀρ(g)ᵀ`` and ``s/|G| Σ_g YXᵀρ(g)ᵀ``; regularised:
``K + λGGᵀ``; hard-wired: ``BKBᵀ`` and ``CBᵀ``), so its gradient with respect to ``W``
is ``2(WK − C)`` and no sample is touched during training (*fast path*; :mod:`invariance_lib.experiments.moments`).
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
both at the last epoch. See :class:`~invariance_lib.experiments.history.History`.

Determinism: a run's seed fixes its initial weights (see
:mod:`invariance_lib.experiments.networks`) and its mini-batch order; nothing uses global RNG
state. Training runs torch on ``num_threads`` threads (default 1: small matrices are
fastest on one thread, and mixing two-thread torch with numpy was measured several
times slower) and restores the previous setting afterwards.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..core.linalg import blas_threads
from ..core.validation import check_int
from .history import History
from .moments import MomentTrainer, moment_gradients
from .runs import LOSSES, Run, check_runs, run_labels, section4_runs
from .samples import train_on_samples
from .setup import DEFAULT_EVAL_POINTS, fast_applies, make_setup

__all__ = [
    "LOSSES",
    "Run",
    "section4_runs",
    "train",
    "train_many",
    "moment_gradients",
    "DEFAULT_EVAL_POINTS",
]


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
        Aliases of :func:`~invariance_lib.theory.problems.canonical_method` are accepted.
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
        ``None`` (default): a deep linear network (:class:`~invariance_lib.experiments.networks.DeepLinear`).
        Otherwise a two-layer network (:class:`~invariance_lib.experiments.networks.TwoLayer`, with
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
    closed forms by :func:`~invariance_lib.measures.function_distance` or the loss gap.
    """
    run_list = check_runs(runs)
    num_threads = check_int(num_threads, "num_threads")
    previous = torch.get_num_threads()
    torch.set_num_threads(int(num_threads))
    try:
        with blas_threads(int(num_threads)):
            setup = make_setup(
                X, Y, run_list, rep=rep, hidden=hidden, activation=activation, loss=loss,
                normalization=normalization, epochs=epochs, lr=lr, betas=betas, eps=eps,
                batch_size=batch_size, X_test=X_test, Y_test=Y_test, record_every=record_every,
                eval_every=eval_every, entry_columns=entry_columns, eps_inputs=eps_inputs,
                accuracy=accuracy, dtype=dtype, device=device, progress=progress)
            use_fast = fast_applies(setup, run_list)
            if fast is True and not use_fast:
                raise ValueError("fast=True needs a linear network (activation=None), "
                                 "loss='mse' and full batches (batch_size=None); use fast=None "
                                 "to fall back to training on the samples.")
            if fast is False:
                use_fast = False
            if use_fast:
                return MomentTrainer(setup, run_list).train()
            return [train_on_samples(setup, run, label)
                    for run, label in zip(run_list, run_labels(run_list))]
    finally:
        torch.set_num_threads(previous)
