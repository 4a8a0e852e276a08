"""The arguments of :func:`~invariance_lib.experiments.training.train_many`, checked and
gathered once (:class:`Setup`), and what both training paths build from them: the
network of a run, the augmented inputs, the progress bar.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch

from ..core.linalg import orbit_stack
from ..core.validation import (as_matrix, check_int, check_one_hot, check_representation,
                               check_samples, check_scalar, is_one_hot)
from ..measures import default_entry_columns
from ..theory.problems import NORMALIZATIONS
from .history import method_label
from .networks import DeepLinear, HardwiredDeepLinear, TwoLayer, canonical_activation
from .runs import Run, canonical_loss

__all__ = ["DEFAULT_EVAL_POINTS", "EVAL_DTYPE", "Setup", "make_setup", "build_model",
           "augmented_inputs", "fast_applies", "progress_bar"]

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
EVAL_DTYPE = torch.float32


# ------------------------------------------------------------------ setup
@dataclass
class Setup:
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


def _schedule(epochs: int, every: int) -> np.ndarray:
    s = list(range(0, epochs + 1, every))
    if s[-1] != epochs:
        s.append(epochs)
    return np.asarray(s, dtype=np.int64)


def make_setup(X, Y, runs, *, rep, hidden, activation, loss, normalization, epochs, lr, betas,
                eps, batch_size, X_test, Y_test, record_every, eval_every, entry_columns,
                eps_inputs, accuracy, dtype, device, progress) -> Setup:
    """Check every argument of :func:`train_many` and gather them."""
    X, Y = (_writable(A) for A in check_samples(X, Y))
    d0 = X.shape[0]
    loss = canonical_loss(loss)
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be 'paper' ((1/n)·‖WX − Y‖², eq. (7)) or 'mean' "
                         f"((1/(n·dL))·‖WX − Y‖², PyTorch's MSELoss), got {normalization!r}.")
    hidden, activation = _check_architecture(hidden, activation)
    epochs = check_int(epochs, "epochs")
    betas = _check_optimiser(lr, betas, eps)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size")
    methods = {r.method for r in runs}
    _check_group(rep, d0, methods)
    X_test, Y_test = _check_test_set(X_test, Y_test, X.shape[0], Y.shape[0])
    accuracy = _check_targets(Y, loss, accuracy)
    if accuracy and Y_test is not None:
        check_one_hot(Y_test, "Y_test")
    record_every = check_int(record_every, "record_every")
    if eval_every is None:
        eval_every = max(1, epochs // DEFAULT_EVAL_POINTS)
    eval_every = check_int(eval_every, "eval_every")
    if entry_columns is None:
        entry_columns = default_entry_columns(rep)
    else:
        entry_columns = tuple(int(c) for c in entry_columns)
        if any(not 0 <= c < d0 for c in entry_columns):
            raise ValueError(f"entry_columns {entry_columns} must lie in 0..{d0 - 1}.")
    return Setup(X=X, Y=Y, rep=rep, hidden=hidden, activation=activation, loss=loss,
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
    hidden = tuple(check_int(w, "every hidden width") for w in hidden)
    if activation is not None:
        activation = canonical_activation(activation)
        if len(hidden) != 1:
            raise ValueError(f"a nonlinear network (activation={activation!r}) has exactly one "
                             f"hidden layer; got hidden == {hidden}. Pass e.g. hidden=(7,).")
    return hidden, activation


def _check_optimiser(lr, betas, eps) -> tuple[float, float]:
    for name, v in (("lr", lr), ("eps", eps)):
        check_scalar(v, name, min_val=0.0, include_boundaries="neither")
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
    check_representation(rep)
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
    X_test, Y_test = (_writable(A) for A in check_samples(X_test, Y_test,
                                                          ("X_test", "Y_test")))
    if X_test.shape[0] != d0 or Y_test.shape[0] != dL:
        raise ValueError(f"the test set has shapes X_test {X_test.shape}, Y_test "
                         f"{Y_test.shape}, but the training set has d0 == {d0} and "
                         f"dL == {dL} rows.")
    return X_test, Y_test


def _check_targets(Y: np.ndarray, loss: str, accuracy: bool | None) -> bool:
    one_hot = is_one_hot(Y)
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


def _n_effective(setup: Setup, method: str) -> int:
    return setup.n * (setup.rep.order if method == "augmented" else 1)


def fast_applies(setup: Setup, runs: list[Run]) -> bool:
    if setup.activation is not None or setup.loss != "mse":
        return False
    if setup.batch_size is None:
        return True
    return all(setup.batch_size >= _n_effective(setup, r.method) for r in runs)


# ------------------------------------------------------------------ models
def build_model(setup: Setup, run: Run) -> torch.nn.Module:
    """The network of ``run``, initialised from its seed (same for both paths)."""
    opts = {"seed": run.seed, "dtype": setup.dtype, "device": setup.device}
    basis = setup.basis if run.method == "hardwired" else None
    if setup.activation is not None:
        return TwoLayer(setup.d0, setup.hidden[0], setup.dL, setup.activation, basis=basis,
                        **opts)
    if basis is not None:
        return HardwiredDeepLinear(setup.widths(), basis, **opts)
    return DeepLinear(setup.widths(), **opts)


def augmented_inputs(setup: Setup, X: np.ndarray) -> np.ndarray:
    """``[ρ(g_1)X, …, ρ(g_|G|)X]`` of shape ``(d0, n|G|)`` (``X`` without a finite group)."""
    if setup.rep is None or setup.rep.is_lie:
        return X
    return np.concatenate(orbit_stack(X, setup.rep.elements()), axis=1)


def progress_bar(setup: Setup, total: int, desc: str):
    from tqdm import tqdm  # the text bar: no widget (and no ipywidgets) in notebooks

    show = setup.progress
    if show is None:
        show = bool(getattr(sys.stderr, "isatty", lambda: False)())
        delay = 1.0
    else:
        delay = 0.0
    return tqdm(total=total, desc=desc, disable=not show, delay=delay, leave=False,
                file=sys.stderr)
