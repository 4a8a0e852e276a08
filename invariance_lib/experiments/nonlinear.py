"""Chapter 10 (Appendix C.3): the grid of two-layer nonlinear networks.

Builds the paper's grid — σ ∈ {Leaky ReLU, ReLU, Swish, Tanh}, 7 or 15 hidden units,
augmentation against hard-wiring, several seeds — as
:class:`~invariance_lib.experiments.stacked.NetRun` lists, trains it stacked, and
summarises the final invariance errors ``ε_inv`` per network.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from invariance_lib.experiments.stacked import NetRun, StackedTrainer, train_stacked
from invariance_lib.experiments.history import History

__all__ = ["APPENDIX_C3_ACTIVATIONS", "APPENDIX_C3_HIDDEN", "appendix_c3_runs",
           "train_appendix_c3", "final_eps_table"]

#: The activations of Appendix C.3 (``"silu"`` is Swish).
APPENDIX_C3_ACTIVATIONS = ("leaky_relu", "relu", "silu", "tanh")
#: Hidden widths: a bottleneck (7 < 9 outputs) and none (15).
APPENDIX_C3_HIDDEN = (7, 15)


def appendix_c3_runs(methods: Iterable[str] = ("augmentation", "hard-wired"),
                     activations: Iterable[str] = APPENDIX_C3_ACTIVATIONS,
                     hidden: Iterable[int] = APPENDIX_C3_HIDDEN,
                     seeds: Iterable[int] = range(5)) -> list[NetRun]:
    """Every (method, activation, hidden width, seed) of the grid, as NetRuns."""
    return [NetRun(m, h, a, seed=s) for m in methods for a in activations
            for h in hidden for s in seeds]


def train_appendix_c3(X, Y, runs: Sequence[NetRun], *, rep, epochs: int = 400,
                      lr: float = 1e-3, X_test=None, Y_test=None, eps_inputs=None,
                      eval_every: int | None = None, record_every: int = 5,
                      num_threads: int = 2, **options) -> list[History]:
    """Train the grid with PyTorch's ``MSELoss`` normalisation (``1/(n·dL)``).

    A thin wrapper of :func:`~invariance_lib.experiments.stacked.train_stacked`
    with the choices of chapter 10: MSE, ``normalization="mean"``, full batch,
    Adam (lr 1e-3), float32.
    """
    return train_stacked(X, Y, runs, rep=rep, loss="mse", normalization="mean",
                         epochs=epochs, lr=lr, X_test=X_test, Y_test=Y_test,
                         eps_inputs=eps_inputs, eval_every=eval_every,
                         record_every=record_every, num_threads=num_threads, **options)


def final_eps_table(histories: Sequence[History], input_set: str,
                    method: str = "augmented") -> dict[tuple[str, int], np.ndarray]:
    """``{(activation, hidden): final median ε_inv of every seed}`` for one method."""
    out: dict[tuple[str, int], list[float]] = {}
    for h in histories:
        if h.method != method:
            continue
        key = (h.settings["activation"], h.settings["hidden"][0])
        out.setdefault(key, []).append(float(h.eps_inv[input_set][-1]))
    return {k: np.asarray(v) for k, v in out.items()}


__all__ += ["StackedTrainer"]


def final_loss_table(histories: Sequence[History]) -> dict[tuple[str, int, str],
                                                           np.ndarray]:
    """``{(activation, hidden, method): final training loss of every seed}``.

    The augmented run's loss is on the augmented set; for an invariant (hard-wired)
    network that equals its loss on the original images, so the two are comparable.
    """
    out: dict[tuple[str, int, str], list[float]] = {}
    for h in histories:
        key = (h.settings["activation"], h.settings["hidden"][0], h.method)
        out.setdefault(key, []).append(float(h.loss[-1]))
    return {k: np.asarray(v) for k, v in out.items()}


def run_appendix_c3(data, sizes: Sequence[int], runs: Sequence[NetRun], *, rep,
                    eps_inputs, epochs: int = 300, eval_every: int = 30,
                    **options) -> dict[int, list[History]]:
    """Train ``runs`` on the first ``N`` training images of ``data`` for each ``N``.

    ``data`` is an :class:`~invariance_lib.data.MNIST` (``load_mnist(...)``; pass
    ``path=`` there for the full MNIST); ``eps_inputs`` a dict name → inputs
    ``(d0, M)`` on which ``ε_inv`` is recorded every ``eval_every`` epochs.
    Returns ``{N: histories}``.
    """
    out = {}
    for N in sizes:
        if not 0 < int(N) <= data.n_train:
            raise ValueError(f"every size must be in 1..{data.n_train} (the training "
                             f"images loaded), got {N}; load more with "
                             f"load_mnist(n_train=...).")
        out[int(N)] = train_appendix_c3(data.X_train[:, :N], data.Y_train[:, :N], runs,
                                        rep=rep, epochs=epochs, eval_every=eval_every,
                                        eps_inputs=eps_inputs, accuracy=False,
                                        **options)
    return out


__all__ += ["final_loss_table", "run_appendix_c3"]


def loss_gaps(histories: Sequence[History], at: Sequence[int] | None = None
              ) -> tuple[np.ndarray, dict[tuple[str, int], np.ndarray]]:
    """Relative loss gap of augmentation below hard-wiring, per network and epoch.

    For each network (activation, hidden width) and recorded epoch ``t``,

    ``gap(t) = 1 − median_s L_aug(t) / median_s L_hw(t)``,

    the medians over the seeds ``s`` of the training losses of
    :func:`final_loss_table` (the augmented run's loss is on the augmented set,
    which for an invariant network equals the loss on the original images). A
    positive gap means augmentation is below hard-wiring; ``0.1`` is 10% below.
    This is the comparison behind the paper's first observation on Appendix C.3
    ("similar loss late in training").

    Parameters
    ----------
    histories : sequence of History
        Augmented and hard-wired runs of the same networks, recorded at the same
        epochs (one :func:`run_appendix_c3` size).
    at : sequence of int, optional
        Return only these epochs (each must have been recorded).

    Returns
    -------
    epochs : ndarray (T,)
        The recorded epochs (or ``at``).
    gaps : dict
        ``{(activation, hidden): ndarray (T,)}``.

    Raises
    ------
    ValueError
        If a network lacks one of the two methods, the runs were recorded at
        different epochs, or an epoch of ``at`` was not recorded.
    """
    histories = list(histories)
    if not histories:
        raise ValueError("histories is empty: pass the runs of one size of "
                         "run_appendix_c3.")
    epochs = np.asarray(histories[0].epochs)
    if any(not np.array_equal(h.epochs, epochs) for h in histories):
        raise ValueError("every run must be recorded at the same epochs; pass the "
                         "histories of one training (same epochs, record_every).")
    if at is None:
        pos = np.arange(len(epochs))
    else:
        where = {int(e): i for i, e in enumerate(epochs)}
        missing = [int(e) for e in at if int(e) not in where]
        if missing:
            raise ValueError(f"at: epochs {missing} were not recorded (recorded every "
                             f"{histories[0].settings.get('record_every')} up to "
                             f"{int(epochs[-1])}); choose recorded epochs.")
        pos = np.array([where[int(e)] for e in at], dtype=int)
    losses: dict[tuple[str, int, str], list[np.ndarray]] = {}
    for h in histories:
        key = (h.settings["activation"], h.settings["hidden"][0], h.method)
        losses.setdefault(key, []).append(np.asarray(h.loss, dtype=float)[pos])
    nets = sorted({(a, w) for a, w, _ in losses},
                  key=lambda k: (APPENDIX_C3_ACTIVATIONS.index(k[0])
                                 if k[0] in APPENDIX_C3_ACTIVATIONS else 99, k))
    gaps = {}
    for a, w in nets:
        if (a, w, "augmented") not in losses or (a, w, "hardwired") not in losses:
            raise ValueError(f"network ({a!r}, {w}) needs both augmented and "
                             f"hard-wired runs; train both methods "
                             f"(appendix_c3_runs(methods=...)).")
        aug = np.median(np.stack(losses[(a, w, "augmented")]), axis=0)
        hw = np.median(np.stack(losses[(a, w, "hardwired")]), axis=0)
        gaps[(a, w)] = 1.0 - aug / hw
    return epochs[pos].copy(), gaps


__all__ += ["loss_gaps"]
