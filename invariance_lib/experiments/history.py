"""The record of a training run.

A :class:`History` holds, for one run, the arrays recorded by
:func:`invariance_lib.experiments.training.train` — every quantity at the *state after* the
listed epochs (epoch 0 is the initialisation) — the final end-to-end matrix ``W``
(``(dL, d0)`` numpy array), the final network, and the run's settings. Its ``plot*``
methods draw the paper's figures for that run with
:mod:`invariance_lib.figures.histories`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

__all__ = ["History", "METRICS", "method_label"]

#: Recorded quantities: name -> (axis label, title, which epochs array).
METRICS = {
    "loss": ("training objective", "Training loss", "epochs"),
    "aug_train_acc": ("accuracy", "Accuracy on the augmented training set", "eval_epochs"),
    "test_acc": ("accuracy", "Test accuracy", "eval_epochs"),
    "w_perp": (r"$\|W_\perp\|_F$", r"Non-invariant part $\|W_\perp\|_F$", "epochs"),
    "w_perp_data": (r"$\|W_\perp \Pi\|_F$",
                    r"Non-invariant part on the data span $\|W_\perp\Pi\|_F$", "epochs"),
    "invariant_share": (r"$\|W - W_\perp\|_F^2 / \|W\|_F^2$", "Share of the invariant part",
                        "epochs"),
}

_METHOD_NAMES = {"plain": "plain", "hardwired": "hard-wired", "augmented": "augmentation",
                 "regularized": "regularisation"}


def method_label(method: str, lam: float | None = None) -> str:
    """Display name: ``"hard-wired"``, ``"augmentation"``, ``"regularisation λ=0.01"``, …"""
    name = _METHOD_NAMES.get(method, method)
    return f"{name} λ={lam:g}" if method == "regularized" and lam is not None else name


@dataclass(eq=False)
class History:
    """What one training run recorded.

    Attributes
    ----------
    method : str
        Canonical method name (``"plain"``, ``"hardwired"``, ``"augmented"``,
        ``"regularized"``).
    lam : float or None
        λ of a regularised run.
    seed : int
        Seed of the initialisation (and of the mini-batch order).
    label : str
        Name used in legends.
    epochs : ndarray (T,)
        Epochs at which ``loss`` and the ``W``-measures were recorded.
    loss : ndarray (T,)
        The training objective (data term, plus ``λ‖WG‖²`` for regularisation) on
        the whole training set (augmented for augmentation) at those states.
    w_perp, w_perp_data, invariant_share : ndarray (T,) or None
        ``‖W_⊥‖_F``, ``‖W_⊥ Π‖_F`` and ``‖W − W_⊥‖²/‖W‖²`` of the end-to-end matrix
        (:mod:`invariance_lib.measures`); ``None`` without a representation or for a
        nonlinear network.
    entries : ndarray (T, dL, k) or None
        ``W[:, entry_columns]`` (Figure 1).
    entry_columns : tuple of int
    eval_epochs : ndarray (S,)
        Epochs at which accuracies and invariance errors were recorded.
    aug_train_acc, test_acc : ndarray (S,) or None
        Accuracy on the augmented training set (every ``ρ(g)x_i``; the plain
        training set without a representation) and on the test set; ``None`` when
        the targets are not one-hot or no test set was given.
    eps_inv : dict of str -> ndarray (S,)
        Median invariance error ``ε_inv`` on each named input set (Appendix C.3).
    W : ndarray (dL, d0) or None
        Final end-to-end matrix (``None`` for a nonlinear network).
    model : torch.nn.Module
        The final network (on the CPU).
    settings : dict
        Everything else that defines the run (widths, loss, normalisation, epochs,
        optimiser, batch size, dtype, device, which training path, data sizes).
    """

    method: str
    lam: float | None
    seed: int
    label: str
    epochs: np.ndarray
    loss: np.ndarray
    eval_epochs: np.ndarray
    W: np.ndarray | None
    model: object
    settings: dict
    w_perp: np.ndarray | None = None
    w_perp_data: np.ndarray | None = None
    invariant_share: np.ndarray | None = None
    entries: np.ndarray | None = None
    entry_columns: tuple[int, ...] = ()
    aug_train_acc: np.ndarray | None = None
    test_acc: np.ndarray | None = None
    eps_inv: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        final = f", final loss {self.loss[-1]:.6g}" if self.loss.size else ""
        epochs = self.epochs[-1] if self.epochs.size else 0
        return (f"History({self.label!r}, seed={self.seed}, {epochs} epochs via "
                f"{self.settings.get('path', '?')}{final})")

    # ---------------------------------------------------------------- arrays
    def arrays(self) -> dict[str, np.ndarray]:
        """Every recorded array (and the final ``W``) by name; ``None`` entries omitted.

        ``eps_inv`` sets appear as ``"eps_inv[name]"``.
        """
        out = {"epochs": self.epochs, "loss": self.loss, "eval_epochs": self.eval_epochs}
        for key in ("w_perp", "w_perp_data", "invariant_share", "entries", "aug_train_acc",
                    "test_acc", "W"):
            val = getattr(self, key)
            if val is not None:
                out[key] = val
        for name, val in self.eps_inv.items():
            out[f"eps_inv[{name}]"] = val
        return out

    def final(self) -> dict[str, float]:
        """The last recorded value of every scalar series."""
        return {k: float(v[-1]) for k, v in self.arrays().items()
                if v.ndim == 1 and v.size and k not in ("epochs", "eval_epochs")}

    def series(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """``(epochs, values)`` of ``metric`` (a key of :data:`METRICS` or ``"eps_inv[name]"``).

        Raises
        ------
        ValueError
            If the metric is unknown or was not recorded in this run.
        """
        if metric.startswith("eps_inv"):
            name = metric[len("eps_inv["):-1] if metric.endswith("]") else None
            if name is None:
                if len(self.eps_inv) != 1:
                    raise ValueError(f"say which input set: one of "
                                     f"{[f'eps_inv[{k}]' for k in self.eps_inv]}.")
                name = next(iter(self.eps_inv))
            if name not in self.eps_inv:
                raise ValueError(f"ε_inv was not recorded on {name!r}; recorded: "
                                 f"{list(self.eps_inv)}. Pass eps_inputs={{...}} to train().")
            return self.eval_epochs, self.eps_inv[name]
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; use one of {list(METRICS)} or "
                             f"'eps_inv[name]'.")
        values = getattr(self, metric)
        if values is None:
            why = {"aug_train_acc": "the targets are not one-hot",
                   "test_acc": "no test set was given (X_test=..., Y_test=...) or the targets "
                               "are not one-hot",
                   "w_perp_data": "no representation was given, or the network is nonlinear"
                   }.get(metric, "no representation was given (rep=...), or the network is "
                                 "nonlinear")
            raise ValueError(f"{metric} was not recorded in this run: {why}.")
        return getattr(self, METRICS[metric][2]), values

    # ----------------------------------------------------------------- plots
    def plot(self, metric: str, ax=None, **kwargs):
        """Draw one metric over epochs (see :func:`~invariance_lib.figures.histories.plot_histories`)."""
        from ..figures.histories import plot_histories

        return plot_histories([self], metric, ax=ax, **kwargs)

    def plot_entries(self, ax=None, rows: Sequence[int] = (0,), title: str | None = None):
        """Figure 1: the entries ``W[i, j]`` for the recorded columns ``j`` (one orbit).

        See :func:`invariance_lib.figures.histories.plot_entries`.
        """
        from ..figures.histories import plot_entries

        return plot_entries(self, ax=ax, rows=rows, title=title)

    def plot_accuracy(self, ax=None, split: str = "aug_train", **kwargs):
        """Figure 2: accuracy on the augmented training set (``split="test"``: test set)."""
        if split not in ("aug_train", "test"):
            raise ValueError(f"split must be 'aug_train' or 'test', got {split!r}.")
        return self.plot(f"{split}_acc", ax=ax, **kwargs)

    def plot_w_perp(self, ax=None, data_span: bool = False, **kwargs):
        """Figure 3: ``‖W_⊥‖_F`` over epochs (``data_span=True``: ``‖W_⊥ Π‖_F``)."""
        return self.plot("w_perp_data" if data_span else "w_perp", ax=ax, **kwargs)

    def plot_invariant_share(self, ax=None, **kwargs):
        """Figure 4: ``‖W − W_⊥‖²/‖W‖²`` over epochs."""
        return self.plot("invariant_share", ax=ax, **kwargs)

    def plot_loss(self, ax=None, **kwargs):
        """The training objective over epochs (log scale)."""
        kwargs.setdefault("logy", True)
        return self.plot("loss", ax=ax, **kwargs)
