"""What a training run records: the batched ``W``-measures, the buffers, the History.

:class:`InvarianceMetrics` evaluates the measures of :mod:`invariance_lib.measures` for
a stack of matrices in torch; :class:`Recorder` fills every run's series in place.
"""

from __future__ import annotations

import numpy as np
import torch

from ..core.validation import check_representation
from ..measures import data_span_basis, default_entry_columns, orbit_invariance_error
from .history import History
from .runs import Run
from .setup import Setup

__all__ = ["InvarianceMetrics", "Recorder", "correct_fraction", "make_history",
           "metrics_for", "median_eps"]


class InvarianceMetrics:
    """The linear-map measures for stacks of matrices, in torch, for the training loop.

    Precomputes what is shared — the orthonormal invariant basis ``B`` (so that
    ``W P = (W Bᵀ) B``), the data-span projector and the entry columns — so that
    evaluating many runs at once costs a few batched products. A matrix may be
    given in factored form ``W = T F`` (``T``: ``dL × r``, ``F``: ``r × d0``, e.g. a
    network's layers above and at the bottleneck): every measure is then a quadratic
    form in ``F``'s rows weighted by ``M = TᵀT``,

    .. math::  \\|W_\\perp\\|_F^2 = \\langle M, F_\\perp F_\\perp^\\top \\rangle, \\quad
               \\|W P\\|_F^2 = \\langle M, S S^\\top \\rangle, \\quad
               \\|W_\\perp \\Pi\\|_F^2 = \\langle M, F_\\perp \\Pi F_\\perp^\\top \\rangle,

    with ``S = F Bᵀ`` and ``F_⊥ = F − S B``, which touches ``r`` rows instead of ``dL``.

    Parameters
    ----------
    rep : Representation or None
        Without it only ``entries`` is available.
    X : array (d0, n), optional
        Training inputs, for ``w_perp_data``.
    columns : sequence of int, optional
        Columns of ``W`` to record (default :func:`default_entry_columns`).
    dtype, device
        Of the tensors.
    """

    def __init__(self, rep, X=None, columns=None, *, dtype: torch.dtype = torch.float64,
                 device: str | torch.device = "cpu") -> None:
        self.rep = rep
        opts = {"dtype": dtype, "device": device}
        if columns is None:
            columns = default_entry_columns(rep)
        self.columns = tuple(int(c) for c in columns) if columns is not None else ()
        self._col_idx = torch.tensor(self.columns, dtype=torch.long, device=device)
        self._B = None
        self._mask = None
        self._U = None
        if rep is not None:
            rep = check_representation(rep)
            d0 = rep.dim
            if any(not 0 <= c < d0 for c in self.columns):
                raise ValueError(f"entry columns {self.columns} must lie in 0..{d0 - 1}.")
            self._B = torch.as_tensor(rep.invariant_basis(), **opts)     # (m, d0)
            self._Bt = self._B.T.contiguous()
            if X is not None:
                U = data_span_basis(X, rep)
                Pi = U @ U.T
                diag = np.diag(Pi)
                # A coordinate subspace (MNIST: the pixels some image inks) is a 0/1
                # diagonal projector: then a mask is cheaper than the basis U.
                if (np.abs(Pi - np.diag(diag)).max() <= 1e-10
                        and np.all(np.minimum(np.abs(diag), np.abs(diag - 1)) <= 1e-10)):
                    self._mask = torch.as_tensor(np.round(diag), **opts)
                else:
                    self._U = torch.as_tensor(U, **opts)

    @property
    def has_rep(self) -> bool:
        return self.rep is not None

    @property
    def has_data_span(self) -> bool:
        return self._mask is not None or self._U is not None

    def invariant_part(self, W: torch.Tensor) -> torch.Tensor:
        """``W P = (W Bᵀ) B`` for a stack ``(R, dL, d0)``."""
        return (W @ self._Bt) @ self._B

    def __call__(self, W: torch.Tensor, T: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Measures of every matrix in a stack.

        Parameters
        ----------
        W : tensor (R, r, d0)
            The matrices; or, with ``T``, their right factors ``F``.
        T : tensor (R, dL, r), optional
            Left factors: the matrices are ``T @ W``.

        Returns
        -------
        dict of tensors
            ``entries`` ``(R, dL, k)``; with a representation also ``w_perp``,
            ``invariant_share`` ``(R,)`` and, with ``X``, ``w_perp_data`` ``(R,)``.
        """
        F = W
        cols = F[..., self._col_idx]
        out = {"entries": cols if T is None else torch.bmm(T, cols)}
        if self.rep is None:
            return out
        M = None if T is None else torch.bmm(T.transpose(1, 2), T)     # (R, r, r)

        def form(A: torch.Tensor, C: torch.Tensor) -> torch.Tensor:   # ⟨M, A Cᵀ⟩ per matrix
            if M is None:
                return (A * C).sum(dim=(1, 2))
            return (M * torch.bmm(A, C.transpose(1, 2))).sum(dim=(1, 2))

        S = F @ self._Bt                                # coefficients in the basis B
        perp = F - S @ self._B                          # F_⊥ = F − F P
        out["w_perp"] = form(perp, perp).clamp_min(0.0).sqrt()
        out["invariant_share"] = form(S, S) / form(F, F)
        if self._mask is not None:
            out["w_perp_data"] = form(perp * self._mask, perp).clamp_min(0.0).sqrt()
        elif self._U is not None:
            PU = perp @ self._U
            out["w_perp_data"] = form(PU, PU).clamp_min(0.0).sqrt()
        return out


class Recorder:
    """Buffers for all runs, filled in place and converted to numpy at the end.

    The ``W``-measures are not computed every epoch: each group's matrices are
    copied into a buffer — as factors ``W = T F`` when the first layer is the
    narrowest (see :class:`~invariance_lib.experiments.recording.InvarianceMetrics`) — and
    measured in bulk every ``chunk`` records, so that recording every epoch costs
    about one copy per group.

    ``groups`` lists, per group, its run indices, its basis (``None`` in input
    coordinates) and the number of rows ``r`` of ``F`` (``None``: ``W`` itself).
    """

    def __init__(self, setup: Setup, groups: list[tuple[list[int], torch.Tensor | None,
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
        """Measure the buffered matrices (:class:`~invariance_lib.experiments.recording.InvarianceMetrics`)."""
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


def correct_fraction(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Accuracy per run from outputs ``(R, dL, N)`` and labels ``(N,)``, as ``(R,)``.

    A sample counts as correct when its label's output is the largest (the rule of
    :func:`invariance_lib.measures.accuracy`; exact ties, which real-valued outputs
    almost never produce, count as correct). ``amax`` over the classes is much
    cheaper here than a strided ``argmax``.
    """
    R, dL, N = outputs.shape
    true = outputs.gather(1, labels.view(1, 1, N).expand(R, 1, N))
    return (true >= outputs.amax(dim=1, keepdim=True)).to(outputs.dtype).mean(dim=(1, 2))


def _settings(setup: Setup, path: str) -> dict:
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


def make_history(setup: Setup, run: Run, arrays: dict, W: np.ndarray | None, model,
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


def metrics_for(setup: Setup) -> InvarianceMetrics | None:
    if setup.activation is not None:
        return None
    if setup.rep is None and not setup.entry_columns:
        return None
    return InvarianceMetrics(setup.rep, X=setup.X if setup.rep is not None else None,
                             columns=setup.entry_columns or (), dtype=setup.dtype,
                             device=setup.device)


def median_eps(outs: torch.Tensor) -> np.ndarray:
    """Median over inputs of ``ε_inv`` from outputs ``(R, |G|, dL, M)``; returns ``(R,)``."""
    o = outs.detach().cpu().to(torch.float64).numpy()
    return np.median(orbit_invariance_error(o), axis=1)
