"""Stacked training on the samples: many two-layer networks in one batched product.

:func:`invariance_lib.experiments.training.train_many` trains linear networks with the squared
loss from the data moments, and everything else — cross-entropy, nonlinear
activations — one run at a time on the samples. Training on samples is
compute-bound, and one small network keeps a CPU far from its arithmetic rate. This
module trains **all runs that see the same inputs together**:

* the runs are grouped by the inputs they see — the augmented inputs
  ``[ρ(g_1)X, …, ρ(g_|G|)X]`` (augmentation), ``B X`` (hard-wired, ``B`` the
  orthonormal invariant basis) or ``X`` (plain, regularisation);
* inside a group the first layers of all runs are stacked row-wise into one matrix
  ``W_1^{stack}`` of shape ``(Σ_r h_r, m)``, so the first layer of every run is one
  matrix product ``H = W_1^{stack} X_g + b_1`` of shape ``(Σ_r h_r, N)``, and its
  weight gradient ``∂H · X_gᵀ`` another — these two products are almost all the
  arithmetic;
* runs with the same activation and hidden width form a *block*: ``σ`` acts on the
  block's rows, and the second layers ``(K, dL, h)`` act by one ``torch.bmm``.

Each run's objective is its own mean loss (plus its own penalty); the total that is
differentiated is their sum, so each run's gradient is exactly its own, and Adam
acts entry by entry, so stacked training is the same as training the runs one at a
time (up to the summation order inside the products: rounding, see the tests).

Two engines compute the gradient. ``"autograd"`` differentiates the summed
objective; ``"chunked"`` (:mod:`~invariance_lib.experiments.stacked_kernels`), used
by default whenever it applies — every run nonlinear, the squared loss, no
regularisation (chapter 10) — computes the forward and backward passes by hand in
column chunks that stay in the cache, with one Adam on one flat parameter tensor.
The two agree up to rounding (``tests/test_stacked_kernels.py``).

Networks are the library's (:class:`~invariance_lib.experiments.networks.DeepLinear`,
:class:`~invariance_lib.experiments.networks.HardwiredDeepLinear`,
:class:`~invariance_lib.experiments.networks.TwoLayer`): the stacked parameters are copied from
networks built with each run's seed, so a run starts from the same weights as in
``train_many``, and the trained weights are copied back into such a network
(``History.model``).

Objectives (``s = 1/n`` for ``normalization="paper"``, ``1/(n·dL)`` for ``"mean"``;
the augmented set has ``n|G|`` samples): MSE ``s‖f(X) − Y‖²``; cross-entropy the
mean over samples of ``−Σ_c Y_c log softmax(f(x))_c``; regularisation adds
``λ‖W G‖_F²`` with ``W`` the end-to-end matrix of a linear network or the first
layer ``W_1`` of a nonlinear one (:func:`~invariance_lib.experiments.networks.invariance_penalty`).
Training is full batch (the paper states no batch size) with Adam.

What is recorded — as in ``train_many``, at the state *after* the listed epoch:
the objective every ``record_every`` epochs, for linear networks also the
``W``-measures of :class:`~invariance_lib.measures.InvarianceMetrics`; accuracies
and the median invariance error ``ε_inv`` on each set of ``eps_inputs`` every
``eval_every`` epochs.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch

from invariance_lib.core.validation import as_matrix, check_int, check_samples
from invariance_lib.experiments.setup import _check_eps_inputs, _schedule
from invariance_lib.experiments.history import History, method_label
from invariance_lib.experiments.recording import InvarianceMetrics
from invariance_lib.measures import default_entry_columns
from invariance_lib.experiments.networks import (DeepLinear, HardwiredDeepLinear, TwoLayer,
                                     canonical_activation)
from invariance_lib.experiments.stacked_kernels import ChunkedGroup
from invariance_lib.experiments.training import Run

__all__ = ["NetRun", "StackedTrainer", "train_stacked", "median_invariance_error"]

_LOSSES = {"mse": "mse", "cross_entropy": "cross_entropy",
           "cross-entropy": "cross_entropy", "ce": "cross_entropy"}


@dataclass(frozen=True)
class NetRun:
    """One run of a stacked sweep: method, architecture, seed.

    Parameters
    ----------
    method : str
        ``"plain"``, ``"augmentation"``, ``"hard-wired"`` or ``"regularisation"``
        (aliases of :class:`~invariance_lib.experiments.training.Run`).
    hidden : int
        Width of the one hidden layer (``5`` in Section 4, ``7`` or ``15`` in
        Appendix C.3).
    activation : {None, "relu", "leaky_relu", "silu" ("swish"), "tanh"}
        ``None``: the deep linear network ``W_2 W_1 x`` (no biases); otherwise
        ``W_2 σ(W_1 x + b_1) + b_2``.
    lam : float, optional
        λ of regularisation (required there, refused elsewhere).
    seed : int, default 0
        Seed of the initial weights.
    label : str, optional
        Legend label.
    init : {"default", "invariant"}, default "default"
        ``"default"``: the network's seeded PyTorch initialisation.
        ``"invariant"``: the same, with the first layer replaced by its invariant
        part ``W_1 Ḡ`` (``Ḡ`` the group average), so the network starts invariant
        (chapter 10, open question 3). Not for hard-wired runs, which are
        invariant by construction.
    """

    method: str
    hidden: int
    activation: str | None = None
    lam: float | None = None
    seed: int = 0
    label: str | None = None
    init: str = "default"

    def __post_init__(self) -> None:
        run = Run(self.method, lam=self.lam, seed=self.seed)   # validates all three
        object.__setattr__(self, "method", run.method)
        object.__setattr__(self, "lam", run.lam)
        if isinstance(self.hidden, bool) or not isinstance(self.hidden, numbers.Integral) \
                or self.hidden < 1:
            raise ValueError(f"hidden must be a positive integer (the hidden width), got "
                             f"{self.hidden!r}.")
        object.__setattr__(self, "hidden", int(self.hidden))
        if self.activation is not None:
            object.__setattr__(self, "activation", canonical_activation(self.activation))
        if self.init not in ("default", "invariant"):
            raise ValueError(f"init must be 'default' or 'invariant' (first layer W_1 Ḡ), "
                             f"got {self.init!r}.")
        if self.init == "invariant" and self.method == "hardwired":
            raise ValueError("init='invariant' is for augmentation, regularisation or plain "
                             "runs; a hard-wired network is invariant already: use "
                             "init='default'.")

    @property
    def run(self) -> Run:
        return Run(self.method, lam=self.lam, seed=self.seed, label=self.label)

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        act = self.activation or "linear"
        start = ", invariant start" if self.init == "invariant" else ""
        return f"{method_label(self.method, self.lam)}, {act}, {self.hidden} hidden{start}"


# ------------------------------------------------------------------ helpers
def median_invariance_error(outputs: torch.Tensor) -> np.ndarray:
    """Median over inputs of ``ε_inv`` from outputs ``(R, dL, |G|, M)``; returns ``(R,)``.

    ``outputs[r, :, g, i] = f_r(ρ(g) x_i)``. With ``f̄ = mean_g f(ρ(g)x)``,
    ``ε_inv(f, x) = mean_g ‖f(ρ(g)x) − f̄‖² / ‖f̄‖²`` (Appendix C.3; the definition of
    :func:`invariance_lib.measures.invariance_error`), computed in float64;
    ``0/0 = 0`` and ``c/0 = inf``.
    """
    o = outputs.detach().to(torch.float64)
    mean = o.mean(dim=2, keepdim=True)
    num = (o - mean).pow(2).sum(dim=1).mean(dim=1)          # (R, M)
    den = mean.pow(2).sum(dim=1)[:, 0]                       # (R, M)
    tiny = torch.finfo(torch.float64).tiny
    eps = torch.where(den > tiny, num / den.clamp_min(tiny),
                      torch.where(num > tiny, torch.full_like(num, math.inf),
                                  torch.zeros_like(num)))
    return np.median(eps.cpu().numpy(), axis=1)


def _sigma(name: str | None, h: torch.Tensor, slope: float) -> torch.Tensor:
    if name is None:
        return h
    if name == "relu":
        return torch.relu(h)
    if name == "leaky_relu":
        return torch.nn.functional.leaky_relu(h, slope)
    if name == "silu":
        return torch.nn.functional.silu(h)
    return torch.tanh(h)


@dataclass
class _Block:
    """Runs ``index`` (positions in the sweep) with one activation and hidden width."""

    index: list[int]
    activation: str | None
    hidden: int
    start: int                      # first row in the stacked first layer
    W2: torch.Tensor                # (K, dL, h) parameter
    b2: torch.Tensor | None         # (K, dL, 1) parameter

    @property
    def K(self) -> int:
        return len(self.index)

    @property
    def rows(self) -> slice:
        return slice(self.start, self.start + self.K * self.hidden)


class _StackGroup:
    """All runs that see the same inputs: one stacked first layer, blocks above it."""

    def __init__(self, kind: str, linear: bool, runs: list[NetRun], index: list[int],
                 X: torch.Tensor, Y: torch.Tensor, basis: torch.Tensor | None) -> None:
        self.kind, self.linear, self.basis = kind, linear, basis
        self.X = X.contiguous()                 # (m, N) inputs in group coordinates
        self.Y = Y                              # (dL, N) targets
        # by hidden width first: blocks of one width are adjacent, so the chunked
        # engine does their second layers in one batched product
        order = sorted(index, key=lambda i: (runs[i].hidden, runs[i].activation or "", i))
        self.order = order
        self.blocks: list[_Block] = []
        start = 0
        for i in order:
            r = runs[i]
            last = self.blocks[-1] if self.blocks else None
            if last is not None and (last.activation, last.hidden) == (r.activation, r.hidden):
                last.index.append(i)
            else:
                self.blocks.append(_Block([i], r.activation, r.hidden, start, None, None))
            start += r.hidden
        self.total_hidden = start

    @property
    def m(self) -> int:
        return self.X.shape[0]

    @property
    def N(self) -> int:
        return self.X.shape[1]


# ------------------------------------------------------------------ trainer
class StackedTrainer:
    """Full-batch Adam training of many two-layer networks, stacked (see the module).

    Parameters are those of :func:`train_stacked`, and:

    engine : {"auto", "autograd", "chunked"}, default "auto"
        ``"auto"``: the chunked engine (module docstring) when every run is
        nonlinear, the loss is MSE and no run is regularised, else autograd.
        ``"chunked"`` refuses other sweeps (ValueError); ``"autograd"`` always
        differentiates with autograd (the reference).
    chunk_columns : int, optional
        Columns (samples) per chunk of the chunked engine; default
        :func:`~invariance_lib.experiments.stacked_kernels.chunk_width`.

    :meth:`train` returns the histories; :attr:`engine` is the engine used.
    :meth:`useful_flops` counts the useful floating-point operations of one
    training step of all runs.
    """

    def __init__(self, X, Y, runs: Sequence[NetRun], *, rep=None, loss: str = "mse",
                 normalization: str = "paper", epochs: int = 1000, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 X_test=None, Y_test=None, record_every: int = 1,
                 eval_every: int | None = None, eps_inputs=None,
                 accuracy: bool | None = None, entry_columns: Sequence[int] | None = None,
                 negative_slope: float = 0.01, record_first_layer: bool = False,
                 dtype: torch.dtype = torch.float32, engine: str = "auto",
                 chunk_columns: int | None = None) -> None:
        X, Y = check_samples(X, Y)
        self.runs = _check_runs(runs)
        key = str(loss).lower().strip()
        if key not in _LOSSES:
            raise ValueError(f"unknown loss {loss!r}; use 'mse' or 'cross_entropy'.")
        self.loss_name = _LOSSES[key]
        if normalization not in ("paper", "mean"):
            raise ValueError(f"normalization must be 'paper' ((1/n)‖f(X) − Y‖²) or 'mean' "
                             f"((1/(n·dL))‖f(X) − Y‖², PyTorch's MSELoss), got "
                             f"{normalization!r}.")
        self.normalization = normalization
        self.epochs = check_int(epochs, "epochs")
        self.record_every = check_int(record_every, "record_every")
        self.eval_every = check_int(eval_every if eval_every is not None
                                        else max(1, self.epochs // 50), "eval_every")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}.")
        self.dtype = dtype
        self.lr, self.betas, self.eps = float(lr), tuple(float(b) for b in betas), float(eps)
        if not (self.lr > 0 and self.eps > 0 and len(self.betas) == 2
                and all(0 <= b < 1 for b in self.betas)):
            raise ValueError(f"lr and eps must be positive and betas two numbers in [0, 1); "
                             f"got lr={lr!r}, betas={betas!r}, eps={eps!r}.")
        self.slope = float(negative_slope)
        self.rep = rep
        methods = {r.method for r in self.runs}
        if rep is None and methods - {"plain"}:
            raise ValueError("augmentation, hard-wiring and regularisation need the group: "
                             "pass rep=... (e.g. rep=c4_rotations(14)).")
        if rep is not None and rep.dim != X.shape[0]:
            raise ValueError(f"rep acts on R^{rep.dim} but X has d0 == {X.shape[0]} rows.")
        if self.loss_name == "cross_entropy" and not (
                np.all(Y >= 0) and np.allclose(Y.sum(axis=0), 1.0)):
            raise ValueError("loss='cross_entropy' needs targets that are probability vectors "
                             "(one-hot columns of Y); for regression targets use loss='mse'.")
        one_hot = bool(np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=0) == 1))
        self.accuracy = one_hot if accuracy is None else bool(accuracy)
        if self.accuracy and not one_hot:
            raise ValueError("accuracy=True needs one-hot targets Y.")
        if (X_test is None) != (Y_test is None):
            raise ValueError("pass both X_test and Y_test, or neither.")
        if X_test is not None:
            X_test, Y_test = check_samples(X_test, Y_test)
            if X_test.shape[0] != X.shape[0] or Y_test.shape[0] != Y.shape[0]:
                raise ValueError(f"the test set has shapes {X_test.shape}, {Y_test.shape} but "
                                 f"the training set has d0 == {X.shape[0]}, dL == {Y.shape[0]}.")
        self.X_np, self.Y_np, self.X_test, self.Y_test = X, Y, X_test, Y_test
        self.d0, self.dL, self.n = X.shape[0], Y.shape[0], X.shape[1]
        self.eps_inputs = _check_eps_inputs(eps_inputs, rep, self.d0)
        if entry_columns is None:
            entry_columns = default_entry_columns(rep) if rep is not None else ()
        self.entry_columns = tuple(int(c) for c in (entry_columns or ()))
        self.record_first_layer = bool(record_first_layer)
        if self.record_first_layer and rep is None:
            raise ValueError("record_first_layer=True needs the group (rep=...).")
        self.first_layer: dict[str, np.ndarray] = {}
        self.record_epochs = _schedule(self.epochs, self.record_every)
        self.eval_epochs = _schedule(self.epochs, self.eval_every)
        if engine not in ("auto", "autograd", "chunked"):
            raise ValueError(f"engine must be 'auto', 'autograd' or 'chunked', got "
                             f"{engine!r}.")
        if chunk_columns is not None:
            chunk_columns = check_int(chunk_columns, "chunk_columns")
        self._build()
        eligible = self.loss_name == "mse" and self.G is None \
            and all(not g.linear for g in self.groups)
        if engine == "chunked" and not eligible:
            raise ValueError("engine='chunked' is for nonlinear runs (activation set) with "
                             "loss='mse' and no regularisation; use engine='auto'.")
        #: "chunked" (hand-written passes, :mod:`~invariance_lib.experiments.stacked_kernels`)
        #: or "autograd"
        self.engine = "chunked" if eligible and engine != "autograd" else "autograd"
        if self.engine == "chunked":
            self._build_kernels(chunk_columns)

    # ----------------------------------------------------------- set-up
    def _elements(self) -> np.ndarray:
        return self.rep.elements()

    def _build(self) -> None:
        opts = {"dtype": self.dtype}
        X, Y = self.X_np, self.Y_np
        B_np = self.rep.invariant_basis() if any(r.method == "hardwired" for r in self.runs) \
            else None
        self.B = None if B_np is None else torch.as_tensor(B_np, **opts)
        G_np = self.rep.constraint_matrix() if any(r.method == "regularized" for r in self.runs) \
            else None
        self.G = None if G_np is None else torch.as_tensor(G_np, **opts)
        if any(r.init == "invariant" for r in self.runs):
            if self.rep is None:
                raise ValueError("init='invariant' needs the group: pass rep=...")
            average = torch.as_tensor(self.rep.group_average(), dtype=torch.float64)
            # for a permutation representation, copy one orbit mean to the whole orbit,
            # so that the columns of an orbit are equal to the last bit in any dtype
            canonical = _orbit_representatives(self.rep)
        kinds: dict[tuple[str, bool], list[int]] = {}
        for i, r in enumerate(self.runs):
            kind = {"augmented": "augmented", "hardwired": "hardwired"}.get(r.method, "plain")
            kinds.setdefault((kind, r.activation is None), []).append(i)
        self.groups: list[_StackGroup] = []
        for (kind, linear), index in kinds.items():
            if kind == "augmented":
                Xg = np.concatenate([E @ X for E in self._elements()], axis=1)
                Yg = np.tile(Y, (1, self.rep.order))
            else:
                Xg = B_np @ X if kind == "hardwired" else X
                Yg = Y
            basis = self.B if kind == "hardwired" else None
            self.groups.append(_StackGroup(kind, linear, self.runs, index,
                                           torch.as_tensor(Xg, **opts),
                                           torch.as_tensor(Yg, **opts), basis))
        self.params: list[torch.Tensor] = []
        self.lams = {}
        for g in self.groups:
            W1 = torch.zeros((g.total_hidden, g.m), **opts)
            b1 = None if g.linear else torch.zeros((g.total_hidden, 1), **opts)
            for blk in g.blocks:
                blk.W2 = torch.zeros((blk.K, self.dL, blk.hidden), **opts)
                blk.b2 = None if g.linear else torch.zeros((blk.K, self.dL, 1), **opts)
                for k, i in enumerate(blk.index):
                    w1, c1, w2, c2 = _weights(self._model(self.runs[i]))
                    if self.runs[i].init == "invariant":
                        w1 = (w1.to(torch.float64) @ average).to(w1.dtype)
                        if canonical is not None:
                            w1 = w1[:, canonical]
                    rows = slice(blk.start + k * blk.hidden, blk.start + (k + 1) * blk.hidden)
                    W1[rows] = w1
                    blk.W2[k] = w2
                    if b1 is not None:
                        b1[rows, 0] = c1
                        blk.b2[k, :, 0] = c2
                lam = [self.runs[i].lam or 0.0 for i in blk.index]
                self.lams[id(blk)] = torch.as_tensor(lam, **opts)
            g.W1, g.b1 = W1.requires_grad_(), (None if b1 is None else b1.requires_grad_())
            self.params.append(g.W1)
            if g.b1 is not None:
                self.params.append(g.b1)
            for blk in g.blocks:
                blk.W2.requires_grad_()
                self.params.append(blk.W2)
                if blk.b2 is not None:
                    blk.b2.requires_grad_()
                    self.params.append(blk.b2)
        # evaluation inputs, in each group's coordinates
        self.eval_sets: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if self.accuracy:
            Xa = np.concatenate([E @ X for E in self._elements()], axis=1) \
                if self.rep is not None else X
            la = np.tile(np.argmax(Y, axis=0), Xa.shape[1] // self.n)
            self.eval_sets["aug_train_acc"] = (Xa, la)
            if self.X_test is not None:
                self.eval_sets["test_acc"] = (self.X_test, np.argmax(self.Y_test, axis=0))
        self.metrics = None
        if self.record_first_layer or (any(g.linear for g in self.groups)
                                       and (self.rep is not None or self.entry_columns)):
            self.metrics = InvarianceMetrics(self.rep, X=X, columns=self.entry_columns,
                                             dtype=self.dtype)

    def _build_kernels(self, width: int | None) -> None:
        """Move the parameters into one flat tensor and set up the chunked passes.

        ``g.W1``, ``g.b1``, ``blk.W2``, ``blk.b2`` become views of ``self.flat``; their
        gradients are views of ``self.flat.grad``, written by
        :meth:`~invariance_lib.experiments.stacked_kernels.ChunkedGroup.step`. In a
        group the second layers of all blocks are stored one after the other, so
        adjacent blocks of one hidden width share one batched product.
        """
        total = sum(p.numel() for p in self.params)
        flat = torch.empty(total, dtype=self.dtype)
        grad = torch.zeros(total, dtype=self.dtype)
        pos = 0

        def take(p: torch.Tensor) -> int:
            nonlocal pos
            start, pos = pos, pos + p.numel()
            with torch.no_grad():
                flat[start:pos].copy_(p.reshape(-1))
            return start

        def view(start: int, shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
            n = math.prod(shape)
            return flat[start:start + n].view(shape), grad[start:start + n].view(shape)

        scale = 1.0 / (self.dL if self.normalization == "mean" else 1)
        dL = self.dL
        self.kernels: list[ChunkedGroup] = []
        self._kernel_index: list[list[list[int]]] = []
        for g in self.groups:
            (g.W1, dW1), (g.b1, db1) = (view(take(p), tuple(p.shape)) for p in (g.W1, g.b1))
            w2_at = [take(blk.W2) for blk in g.blocks]
            b2_at = [take(blk.b2) for blk in g.blocks]
            acts, layers = [], []          # layers: [first block, hidden, K, run indices]
            for j, blk in enumerate(g.blocks):
                blk.W2 = view(w2_at[j], (blk.K, dL, blk.hidden))[0]
                blk.b2 = view(b2_at[j], (blk.K, dL, 1))[0]
                if acts and acts[-1][1] == blk.activation:
                    acts[-1] = (slice(acts[-1][0].start, blk.rows.stop), blk.activation)
                else:
                    acts.append((blk.rows, blk.activation))
                if layers and layers[-1][1] == blk.hidden:
                    layers[-1][2] += blk.K
                    layers[-1][3] += blk.index
                else:
                    layers.append([j, blk.hidden, blk.K, list(blk.index)])
            specs = []
            for j, h, K, _ in layers:
                first = g.blocks[j]
                specs.append((slice(first.start, first.start + K * h), K, h,
                              *view(w2_at[j], (K, dL, h)), *view(b2_at[j], (K, dL, 1))))
            # ChunkedGroup wants (rows, K, h, W2, b2, dW2, db2)
            specs = [(r, K, h, W2, b2, dW2, db2) for (r, K, h, W2, dW2, b2, db2) in specs]
            self.kernels.append(ChunkedGroup(g.X, g.Y, g.W1, g.b1, dW1, db1, acts, specs,
                                             scale / g.N, self.slope, width))
            self._kernel_index.append([la[3] for la in layers])
        flat.grad = grad
        self.flat = flat
        self.params = [flat]

    def _model(self, r: NetRun) -> torch.nn.Module:
        """The library's network for run ``r``, initialised from its seed."""
        basis = self.B.to(torch.float64).numpy() if r.method == "hardwired" else None
        if r.activation is not None:
            return TwoLayer(self.d0, r.hidden, self.dL, r.activation, basis=basis,
                            negative_slope=self.slope, seed=r.seed)
        if basis is not None:
            return HardwiredDeepLinear((self.d0, r.hidden, self.dL), basis, seed=r.seed)
        return DeepLinear((self.d0, r.hidden, self.dL), seed=r.seed)

    # ---------------------------------------------------------- forward
    def _outputs(self, g: _StackGroup, Xg: torch.Tensor) -> list[torch.Tensor]:
        """Per block, the outputs ``(K, dL, N)`` of its runs on inputs ``Xg`` ``(m, N)``."""
        H = g.W1 @ Xg if g.b1 is None else torch.addmm(g.b1, g.W1, Xg)
        # split (not slicing): its backward is one concatenation, not a zero-filled
        # copy of H per block
        parts = torch.split(H, [blk.K * blk.hidden for blk in g.blocks])
        outs = []
        for blk, Hb in zip(g.blocks, parts):
            A = _sigma(blk.activation, Hb, self.slope)
            A = A.view(blk.K, blk.hidden, -1)
            out = torch.bmm(blk.W2, A)
            if blk.b2 is not None:
                out = out + blk.b2
            outs.append(out)
        return outs

    def _data_loss(self, out: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """Mean loss per run ``(K,)`` of outputs ``(K, dL, N)`` against targets ``(dL, N)``."""
        N = Y.shape[1]
        if self.loss_name == "mse":
            scale = N * (self.dL if self.normalization == "mean" else 1)
            return (out - Y).pow(2).sum(dim=(1, 2)) / scale
        return -(torch.log_softmax(out, dim=1) * Y).sum(dim=(1, 2)) / N

    def _penalty(self, g: _StackGroup, blk: _Block) -> torch.Tensor | None:
        if self.G is None or g.kind != "plain":
            return None
        lam = self.lams[id(blk)]
        if not bool((lam > 0).any()):
            return None
        W1 = g.W1[blk.rows].view(blk.K, blk.hidden, -1)
        M = torch.bmm(blk.W2, W1) if g.linear else W1
        return lam * (M @ self.G).pow(2).sum(dim=(1, 2))

    def objectives(self) -> list[tuple[list[int], torch.Tensor]]:
        """Per block: its run indices and their objectives ``(K,)`` (differentiable)."""
        out = []
        for g in self.groups:
            for blk, o in zip(g.blocks, self._outputs(g, g.X)):
                value = self._data_loss(o, g.Y)
                pen = self._penalty(g, blk)
                out.append((blk.index, value if pen is None else value + pen))
        return out

    # ---------------------------------------------------------- measures
    def end_to_end(self) -> dict[int, torch.Tensor]:
        """End-to-end matrices ``(dL, d0)`` of the linear runs, by run index."""
        out = {}
        with torch.no_grad():
            for g in self.groups:
                if not g.linear:
                    continue
                for blk in g.blocks:
                    W = torch.bmm(blk.W2, g.W1[blk.rows].view(blk.K, blk.hidden, -1))
                    if g.basis is not None:
                        W = W @ g.basis
                    for k, i in enumerate(blk.index):
                        out[i] = W[k]
        return out

    def _predict(self, Z: np.ndarray) -> torch.Tensor:
        """Outputs ``(R, dL, M)`` of every run on inputs ``Z`` ``(d0, M)``."""
        R = len(self.runs)
        res = torch.empty((R, self.dL, Z.shape[1]), dtype=self.dtype)
        Zt = torch.as_tensor(Z, dtype=self.dtype)
        with torch.no_grad():
            for g in self.groups:
                Zg = Zt if g.basis is None else g.basis @ Zt
                for blk, o in zip(g.blocks, self._outputs(g, Zg)):
                    res[blk.index] = o
        return res

    def useful_flops(self) -> float:
        """Floating-point operations of one training step of all runs.

        Counted per run on ``N`` samples with ``m`` inputs, hidden width ``h`` and
        ``dL`` outputs: first layer ``2Nmh`` forward and ``2Nmh`` for its weight
        gradient (the input gradient is not needed); second layer ``2Nh·dL`` forward
        and ``4Nh·dL`` backward (weight and hidden gradients). Elementwise work
        (activations, loss, Adam) is not counted.
        """
        total = 0.0
        for g in self.groups:
            for blk in g.blocks:
                per = 4.0 * g.N * g.m * blk.hidden + 6.0 * g.N * blk.hidden * self.dL
                total += blk.K * per
        return total

    # ---------------------------------------------------------- training
    def train(self) -> list[History]:
        R = len(self.runs)
        T, S = len(self.record_epochs), len(self.eval_epochs)
        loss = np.full((T, R), np.nan)
        rec_pos = {int(e): i for i, e in enumerate(self.record_epochs)}
        eval_pos = {int(e): i for i, e in enumerate(self.eval_epochs)}
        series = {}
        linear_idx = sorted(self.end_to_end())
        if self.metrics is not None and linear_idx:
            if self.entry_columns:
                series["entries"] = np.full((T, R, self.dL, len(self.entry_columns)), np.nan)
            if self.rep is not None:
                for k in ("w_perp", "w_perp_data", "invariant_share"):
                    series[k] = np.full((T, R), np.nan)
        evals = {k: np.full((S, R), np.nan) for k in self.eval_sets}
        eps = {k: np.full((S, R), np.nan) for k in self.eps_inputs}
        opt = torch.optim.Adam(self.params, lr=self.lr, betas=self.betas, eps=self.eps)
        chunked = self.engine == "chunked"
        for e in range(self.epochs + 1):
            if chunked:      # losses and (before a step) the gradient, by hand
                objs = [(index, v) for idx, k in zip(self._kernel_index, self.kernels)
                        for index, v in zip(idx, k.step(backward=e < self.epochs))]
            else:
                objs = self.objectives()
            pos = rec_pos.get(e)
            if pos is not None:
                for index, v in objs:
                    loss[pos, index] = v.detach().to(torch.float64).numpy()
                if series:
                    self._record_measures(series, pos, linear_idx)
                if self.record_first_layer:
                    self._record_first_layer(pos, T, R)
            epos = eval_pos.get(e)
            if epos is not None:
                self._evaluate(evals, eps, epos)
            if e == self.epochs:
                break
            if not chunked:
                opt.zero_grad(set_to_none=True)
                torch.stack([v.sum() for _, v in objs]).sum().backward()
            opt.step()
        return self._histories(loss, series, evals, eps)

    def _record_measures(self, series: dict, pos: int, linear_idx: list[int]) -> None:
        Ws = self.end_to_end()
        stack = torch.stack([Ws[i] for i in linear_idx])
        vals = self.metrics(stack)
        for key, v in vals.items():
            if key in series:
                series[key][pos, linear_idx] = v.detach().to(torch.float64).numpy()

    def first_layers(self) -> torch.Tensor:
        """Effective first layers ``W_1`` (``W_1 B`` when hard-wired), ``(R, h, d0)``.

        Only for sweeps with one hidden width (else a list per run would be needed).
        """
        widths = {r.hidden for r in self.runs}
        if len(widths) != 1:
            raise ValueError(f"first_layers() needs one hidden width, the runs have "
                             f"{sorted(widths)}.")
        h = widths.pop()
        out = torch.empty((len(self.runs), h, self.d0), dtype=self.dtype)
        with torch.no_grad():
            for g in self.groups:
                W1 = g.W1 if g.basis is None else g.W1 @ g.basis
                for blk in g.blocks:
                    out[blk.index] = W1[blk.rows].view(blk.K, blk.hidden, -1)
        return out

    def _record_first_layer(self, pos: int, T: int, R: int) -> None:
        """``‖W_1 P‖``, ``‖W_1⊥‖`` and ``‖W_1⊥ Π‖`` of every run's first layer."""
        if not self.first_layer:
            for k in ("inv", "perp", "perp_data"):
                self.first_layer[k] = np.full((T, R), np.nan)
        W1 = self.first_layers()
        vals = self.metrics(W1)
        perp = vals["w_perp"].to(torch.float64).numpy()
        total = W1.to(torch.float64).pow(2).sum(dim=(1, 2)).numpy()
        self.first_layer["perp"][pos] = perp
        self.first_layer["inv"][pos] = np.sqrt(np.clip(total - perp ** 2, 0.0, None))
        self.first_layer["perp_data"][pos] = vals["w_perp_data"].to(torch.float64).numpy()

    def _evaluate(self, evals: dict, eps: dict, epos: int) -> None:
        for name, (Z, labels) in self.eval_sets.items():
            out = self._predict(Z)
            lab = torch.as_tensor(labels)
            true = out.gather(1, lab.view(1, 1, -1).expand(out.shape[0], 1, -1))
            evals[name][epos] = (true >= out.amax(dim=1, keepdim=True)).double() \
                .mean(dim=(1, 2)).numpy()
        for name, Z in self.eps_inputs.items():
            Zs = np.concatenate([E @ Z for E in self._elements()], axis=1)
            out = self._predict(Zs)                                  # (R, dL, |G|·M)
            out = out.view(out.shape[0], self.dL, self.rep.order, Z.shape[1])
            eps[name][epos] = median_invariance_error(out)

    def _histories(self, loss, series, evals, eps) -> list[History]:
        Ws = self.end_to_end()
        out = []
        for i, r in enumerate(self.runs):
            model = self._model(r)
            self._copy_into(model, i)
            settings = {"path": "stacked samples", "hidden": (r.hidden,),
                        "widths": (self.d0, r.hidden, self.dL), "activation": r.activation,
                        "loss": self.loss_name, "normalization": self.normalization,
                        "epochs": self.epochs, "lr": self.lr, "betas": self.betas,
                        "eps": self.eps, "batch_size": None,
                        "dtype": str(self.dtype).replace("torch.", ""), "device": "cpu",
                        "n": self.n, "d0": self.d0, "dL": self.dL,
                        "n_test": None if self.X_test is None else self.X_test.shape[1],
                        "group": None if self.rep is None else self.rep.name,
                        "record_every": self.record_every, "eval_every": self.eval_every}
            W = Ws[i].to(torch.float64).numpy().copy() if i in Ws else None
            out.append(History(
                method=r.method, lam=r.lam, seed=r.seed, label=r.name,
                epochs=self.record_epochs.copy(), loss=loss[:, i].copy(),
                eval_epochs=self.eval_epochs.copy(), W=W, model=model, settings=settings,
                w_perp=_col(series, "w_perp", i, W), w_perp_data=_col(series, "w_perp_data", i, W),
                invariant_share=_col(series, "invariant_share", i, W),
                entries=_col(series, "entries", i, W),
                entry_columns=self.entry_columns if "entries" in series and W is not None else (),
                aug_train_acc=evals["aug_train_acc"][:, i].copy() if "aug_train_acc" in evals
                else None,
                test_acc=evals["test_acc"][:, i].copy() if "test_acc" in evals else None,
                eps_inv={k: v[:, i].copy() for k, v in eps.items()}))
        return out

    def _copy_into(self, model: torch.nn.Module, i: int) -> None:
        for g in self.groups:
            for blk in g.blocks:
                if i not in blk.index:
                    continue
                k = blk.index.index(i)
                rows = slice(blk.start + k * blk.hidden, blk.start + (k + 1) * blk.hidden)
                with torch.no_grad():
                    if isinstance(model, TwoLayer):
                        model.hidden_layer.weight.copy_(g.W1[rows])
                        model.hidden_layer.bias.copy_(g.b1[rows, 0])
                        model.output_layer.weight.copy_(blk.W2[k])
                        model.output_layer.bias.copy_(blk.b2[k, :, 0])
                    else:
                        model.layers[0].weight.copy_(g.W1[rows])
                        model.layers[1].weight.copy_(blk.W2[k])
                return


def train_stacked(X, Y, runs: Sequence[NetRun], *, num_threads: int = 2,
                  **options) -> list[History]:
    """Train the runs stacked (module docstring); one History per run, in order.

    Parameters
    ----------
    X : array (d0, n)
        Training inputs, columns are samples.
    Y : array (dL, n)
        Targets (one-hot for classification and for cross-entropy).
    runs : sequence of NetRun
    num_threads : int, default 2
        torch threads during training (restored afterwards). Stacked products are
        large, so both cores of a 2-core CPU pay off here.
    **options
        ``rep``, ``loss`` ("mse" or "cross_entropy"), ``normalization``, ``epochs``,
        ``lr``, ``betas``, ``eps``, ``X_test``, ``Y_test``, ``record_every``,
        ``eval_every`` (default ``epochs // 50``), ``eps_inputs`` (a dict name →
        ``(d0, M)`` inputs for ``ε_inv``), ``accuracy``, ``entry_columns``,
        ``negative_slope``, ``dtype`` (default float32), ``engine``,
        ``chunk_columns`` (see :class:`StackedTrainer`).

    Returns
    -------
    list of History
        ``History.W`` is the end-to-end matrix of a linear run (``None`` for a
        nonlinear one); ``History.model`` is the trained network (float64 copy).
    """
    n_threads = check_int(num_threads, "num_threads")
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        return StackedTrainer(X, Y, runs, **options).train()
    finally:
        torch.set_num_threads(previous)


# ------------------------------------------------------------------ checks
def _check_runs(runs) -> list[NetRun]:
    if isinstance(runs, NetRun):
        runs = [runs]
    try:
        out = list(runs)
    except TypeError:
        raise TypeError(f"runs must be a sequence of NetRun, got {runs!r}.") from None
    if not out:
        raise ValueError("runs is empty; pass at least one NetRun.")
    for r in out:
        if not isinstance(r, NetRun):
            raise TypeError(f"every run must be a NetRun (e.g. NetRun('augmentation', "
                            f"hidden=7, activation='relu')), got {r!r}.")
    return out


def _orbit_representatives(rep) -> np.ndarray | None:
    """For a permutation representation, column ``j`` → the smallest pixel of its orbit.

    ``None`` when some ``ρ(g)`` is not a permutation matrix.
    """
    elements = rep.elements()
    if not all(np.array_equal(E, E.astype(bool)) and np.all(E.sum(axis=0) == 1)
               for E in elements):
        return None
    average = rep.group_average()
    return np.argmax(np.abs(average) > 0, axis=0)


def _weights(model: torch.nn.Module):
    """``(W1, b1, W2, b2)`` of a library network (biases ``None`` for linear ones)."""
    if isinstance(model, TwoLayer):
        return (model.hidden_layer.weight.detach(), model.hidden_layer.bias.detach(),
                model.output_layer.weight.detach(), model.output_layer.bias.detach())
    w1, w2 = (layer.weight.detach() for layer in model.layers)
    return w1, None, w2, None


def _col(series: dict, key: str, i: int, W) -> np.ndarray | None:
    if key not in series or W is None:
        return None
    return series[key][:, i].copy()
