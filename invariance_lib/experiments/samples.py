"""The sample path: autograd and ``torch.optim.Adam`` on the (augmented) samples.

Used for nonlinear networks, cross-entropy, mini-batches and ``fast=False``.
"""

from __future__ import annotations

import numpy as np
import torch

from ..measures import invariance_error
from .history import History
from .networks import invariance_penalty
from .recording import Recorder, correct_fraction, make_history, metrics_for
from .runs import Run
from .setup import Setup, augmented_inputs, build_model, progress_bar

__all__ = ["train_on_samples"]


def _objective(setup: Setup, run: Run, model, xb, yb, G_t) -> torch.Tensor:
    out = model(xb)
    if setup.loss == "mse":
        scale = xb.shape[0] * (setup.dL if setup.normalization == "mean" else 1)
        value = (out - yb).pow(2).sum() / scale
    else:
        value = torch.nn.functional.cross_entropy(out, yb)
    if run.method == "regularized" and run.lam > 0:
        value = value + invariance_penalty(model, G_t, run.lam)
    return value


def train_on_samples(setup: Setup, run: Run, label: str) -> History:
    """Train one run on the samples with autograd and ``torch.optim.Adam``."""
    s = setup
    opts = {"dtype": s.dtype, "device": s.device}
    model = build_model(s, run)
    Xtr = augmented_inputs(s, s.X) if run.method == "augmented" else s.X
    Ytr = np.tile(s.Y, (1, Xtr.shape[1] // s.n))
    xs, ys = torch.as_tensor(Xtr.T, **opts), torch.as_tensor(Ytr.T, **opts)
    N = xs.shape[0]
    G_t = torch.as_tensor(s.G, **opts) if run.method == "regularized" else None
    full = s.batch_size is None or s.batch_size >= N
    gen = torch.Generator().manual_seed(
        int(np.random.SeedSequence([run.seed, 1]).generate_state(1)[0]))
    opt = torch.optim.Adam(model.parameters(), lr=s.lr, betas=s.betas, eps=s.eps)

    linear = s.activation is None
    metrics = metrics_for(s) if linear else None
    rec = Recorder(s, [([0], None, None)], metrics)
    X_aug = torch.as_tensor(augmented_inputs(s, s.X).T, **opts) if s.accuracy else None
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
                                 correct_fraction(model(X_aug).T[None], lab_aug))
                if X_te is not None:
                    rec.set_eval("test_acc", epos, [0], correct_fraction(model(X_te).T[None], lab_te))
            for name, Z in s.eps_inputs.items():
                rec.set_eval(name, epos, [0], invariance_error(model, Z, s.rep))

    bar = progress_bar(s, s.epochs, f"training {run.name} (samples)")
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
    return make_history(s, run, rec.history_arrays()[0], W, model.cpu(), "samples", label)
