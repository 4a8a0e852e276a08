"""The fast path: full-batch linear MSE training from the data moments, all runs at once.

The objective is ``tr(W K Wᵀ) − 2 tr(W Cᵀ) + c`` with the moments of
:mod:`invariance_lib.theory.problems`; its gradient in ``W`` is ``2(WK − C)`` and the
layers' gradients follow by the chain rule (see :mod:`invariance_lib.experiments.training`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..theory.problems import augmented_problem, plain_problem, regularized_problems
from .adam import FlatAdam
from .history import History
from .recording import Recorder, correct_fraction, make_history, median_eps, metrics_for
from .runs import Run, run_labels
from .setup import EVAL_DTYPE, Setup, augmented_inputs, build_model, make_setup, progress_bar

__all__ = ["MomentTrainer", "moment_gradients", "run_moments"]


def run_moments(setup: Setup, runs: list[Run]) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """``(K, C, const)`` of every run's objective, in input coordinates (``d0``).

    From :mod:`invariance_lib.theory.problems`; the hard-wired run's are the plain ones
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


class StackedRuns:
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


class MomentTrainer:
    """Full-batch training of linear MSE runs from the data moments, all runs at once."""

    def __init__(self, setup: Setup, runs: list[Run]) -> None:
        self.setup, self.runs = setup, runs
        opts = {"dtype": setup.dtype, "device": setup.device}
        self.opts = opts
        moments = run_moments(setup, runs)
        B = None if setup.basis is None else torch.as_tensor(setup.basis, **opts)
        keys = {"full": [], "hardwired": []}
        for i, r in enumerate(runs):
            keys["hardwired" if r.method == "hardwired" else "full"].append(i)
        self.groups: list[StackedRuns] = []
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
            self.groups.append(StackedRuns(index, widths, torch.as_tensor(np.stack(Ks), **opts),
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
                model = build_model(setup, runs[run_i])
                with torch.no_grad():
                    for layer, w in zip(g.layers, model.factors()):
                        layer[r_i].copy_(w.detach())
        self.adam = FlatAdam(self.theta, setup.lr, setup.betas, setup.eps)
        self.metrics = metrics_for(setup)
        self.rec = Recorder(setup, [(g.index, g.basis, g.factor_rows) for g in self.groups],
                             self.metrics)
        self._prepare_eval()

    def _prepare_eval(self) -> None:
        s, opts = self.setup, self.opts

        def to_group(Xc: np.ndarray, g: StackedRuns, dtype=s.dtype) -> torch.Tensor:
            t = torch.as_tensor(Xc, **opts)
            return (t if g.basis is None else g.basis @ t).to(dtype)

        self.eval_sets: list[tuple[str, list[torch.Tensor], torch.Tensor]] = []
        if s.accuracy:
            Xa = augmented_inputs(s, s.X)
            lab = np.tile(np.argmax(s.Y, axis=0), Xa.shape[1] // s.n)
            self.eval_sets.append(("aug_train_acc", [to_group(Xa, g, EVAL_DTYPE)
                                                     for g in self.groups],
                                   torch.as_tensor(lab, device=s.device)))
            if s.X_test is not None:
                self.eval_sets.append(("test_acc", [to_group(s.X_test, g, EVAL_DTYPE)
                                                    for g in self.groups],
                                       torch.as_tensor(np.argmax(s.Y_test, axis=0),
                                                       device=s.device)))
        self.eps_sets = []
        for name, Z in s.eps_inputs.items():
            Zs = augmented_inputs(s, Z)
            self.eps_sets.append((name, Z.shape[1], [to_group(Zs, g) for g in self.groups]))

    def _evaluate(self, pos: int, cache) -> None:
        for name, Xgs, labels in self.eval_sets:
            for g, Xg, (W, E, pre, suf) in zip(self.groups, Xgs, cache):
                self.rec.set_eval(name, pos, g.index, correct_fraction(g.predict(Xg, pre, suf), labels))
        for name, M, Zgs in self.eps_sets:
            for g, Zg, (W, E, pre, suf) in zip(self.groups, Zgs, cache):
                out = g.predict(Zg, pre, suf)                       # (R, dL, |G|·M)
                out = out.view(g.R, out.shape[1], -1, M).transpose(1, 2)
                self.rec.set_eval(name, pos, g.index, median_eps(out))

    def train(self) -> list[History]:
        bar = progress_bar(self.setup, self.setup.epochs, "training (moments)")
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
        labels = run_labels(self.runs)
        arrays = self.rec.history_arrays()
        out: list[History | None] = [None] * len(self.runs)
        for g in self.groups:
            W_full = g.full(g.forward()[0]).detach().cpu().numpy()
            for r_i, run_i in enumerate(g.index):
                run = self.runs[run_i]
                model = build_model(s, run)
                with torch.no_grad():
                    for w, layer in zip(model.factors(), g.layers):
                        w.copy_(layer[r_i])
                out[run_i] = make_history(s, run, arrays[run_i], W_full[r_i].copy(),
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
    setup = make_setup(X, Y, [run], rep=rep, hidden=hidden, activation=None, loss="mse",
                        normalization=normalization, epochs=1, lr=1e-3, betas=(0.9, 0.999),
                        eps=1e-8, batch_size=None, X_test=None, Y_test=None, record_every=1,
                        eval_every=1, entry_columns=(), eps_inputs=None, accuracy=False,
                        dtype=dtype, device="cpu", progress=False)
    trainer = MomentTrainer(setup, [run])
    g = trainer.groups[0]
    W, E, pre, suf = g.forward()
    g.write_gradients(W, E, pre, suf)
    return [gr[0].cpu().numpy().copy() for gr in g.grads]
