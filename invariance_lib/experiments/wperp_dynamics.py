"""Why does ‖W⊥‖ rise and fall? Moment-based training with GD or Adam, and a reduced model.

Chapter 11 (open question 1 of the paper) needs what :func:`invariance_lib.train_many`
does not offer: plain gradient descent besides Adam, an initial scale ``α`` that
multiplies every layer's default initialisation, and records of the two factors of
``W⊥ = T W1⊥`` (``T = W_L ⋯ W_2`` the upper layers, ``W1⊥ = W1 (I − Ḡ)`` the
non-invariant part of the first layer). This module provides

* :func:`moment_runs` — full-batch training of many deep linear networks together,
  from the moments of the objective ``tr(WKWᵀ) − 2tr(WCᵀ) + c`` (the same objective as
  :func:`invariance_lib.train_many`'s fast path, see
  :mod:`invariance_lib.theory.problems`), one run per ``(scale, seed)``, with ``optimizer``
  ``"gd"`` (``θ ← θ − lr·∇``, the Euler scheme of gradient flow with time step
  ``lr``) or ``"adam"`` (the update of ``torch.optim.Adam``);
* :func:`bump` and :func:`bump_table` — does a curve rise and then fall: start,
  peak, epoch of the peak, end;
* :func:`reduced_model` — the two-layer dynamics in split coordinates
  ``W1 = V B + N Uᵀ``: the hard-wired network ``(T, V)`` and the non-invariant part
  ``N`` of the first layer, which obeys a linear equation driven by ``TᵀT``;
  dropping the back-reaction of ``N`` on ``T`` gives the reduced model of chapter 11.

The non-invariant part is ``W⊥ = W (I − Ḡ)`` with the group average ``Ḡ``
(for a unitary representation this is ``W − W P`` of
:func:`invariance_lib.measures.non_invariant_part`). With the data-span projector
``Π`` (:func:`invariance_lib.measures.data_span_projector`) it splits into the part
the data see, ``W⊥ Π``, and the dead-pixel part ``W⊥ (I − Π)``, whose squared norms
add up when ``Π`` commutes with ``Ḡ`` (unitary ``ρ``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from invariance_lib.core.validation import (check_int, check_representation,
                                            check_scalar)
from invariance_lib.measures import data_span_projector
from invariance_lib.experiments.networks import DeepLinear
from invariance_lib.theory.problems import (augmented_problem, plain_problem,
                                     regularized_problems)

__all__ = ["OPTIMIZERS", "MomentRuns", "moment_runs", "initial_factors", "bump", "Bump",
           "bump_table", "ReducedPath", "reduced_model"]

OPTIMIZERS = ("gd", "adam")
_METHODS = {"augmentation": "augmentation", "augmented": "augmentation",
            "regularisation": "regularisation", "regularization": "regularisation",
            "regularized": "regularisation", "regularised": "regularisation",
            "plain": "plain"}


# ----------------------------------------------------------------- records
@dataclass(frozen=True)
class MomentRuns:
    """The records of :func:`moment_runs`: one column per run ``(scale, seed)``.

    Attributes
    ----------
    epochs : ndarray (T,)
        Recorded epochs (0 is the initialisation; the state *after* each epoch).
    scales, seeds : tuple
        Run ``j`` has ``scales[j // len(seeds)]`` and ``seeds[j % len(seeds)]``.
    loss : ndarray (T, R)
        The objective ``tr(WKWᵀ) − 2tr(WCᵀ) + c``.
    w_perp, w_perp_data, w_perp_dead : ndarray (T, R)
        ``‖W⊥‖_F``, ``‖W⊥Π‖_F`` (data span) and ``‖W⊥(I − Π)‖_F`` (dead pixels).
    first_perp : ndarray (T, R)
        ``‖W1 (I − Ḡ)‖_F``, the non-invariant part of the first layer (``= w_perp``
        for a single matrix).
    upper_norm : ndarray (T, R)
        ``‖W_L ⋯ W_2‖_F``, the scale of the upper layers (``nan`` for a single matrix).
    W : ndarray (R, dL, d0)
        Final end-to-end matrices.
    settings : dict
    """

    epochs: np.ndarray
    scales: tuple
    seeds: tuple
    loss: np.ndarray
    w_perp: np.ndarray
    w_perp_data: np.ndarray
    w_perp_dead: np.ndarray
    first_perp: np.ndarray
    upper_norm: np.ndarray
    W: np.ndarray
    settings: dict = field(default_factory=dict)

    def runs_of(self, scale: float) -> np.ndarray:
        """Column indices of the runs with initial scale ``scale``."""
        matches = [i for i, s in enumerate(self.scales) if math.isclose(s, scale)]
        if not matches:
            raise ValueError(f"scale {scale!r} was not run; the scales are {self.scales}.")
        k = len(self.seeds)
        return np.arange(matches[0] * k, matches[0] * k + k)

    def series(self, metric: str, scale: float) -> np.ndarray:
        """``(T, n_seeds)`` values of ``metric`` for the runs with initial scale ``scale``."""
        if metric not in ("loss", "w_perp", "w_perp_data", "w_perp_dead", "first_perp",
                          "upper_norm"):
            raise ValueError(f"unknown metric {metric!r}; use 'loss', 'w_perp', "
                             f"'w_perp_data', 'w_perp_dead', 'first_perp' or 'upper_norm'.")
        return getattr(self, metric)[:, self.runs_of(scale)]


# -------------------------------------------------------------- validation
def _check_rep(rep, d0: int):
    check_representation(rep)
    if rep.dim != d0:
        raise ValueError(f"rep acts on R^{rep.dim} but X has d0 == {d0} rows; use the "
                         f"representation of the input space.")
    if getattr(rep, "is_lie", False):
        raise ValueError(f"{rep.name} is a Lie group; W⊥ = W(I − Ḡ) needs the average over "
                         f"a finite group.")
    return rep


def _objective(X, Y, rep, method: str, lam, normalization: str):
    """``(K, C, const)`` of the run's objective, from :mod:`invariance_lib.theory.problems`."""
    if method == "augmentation":
        if lam is not None:
            raise ValueError("lam is only used by method='regularisation'; drop lam=... .")
        p = augmented_problem(X, Y, rep.elements(), normalization)
    elif method == "regularisation":
        if lam is None:
            raise ValueError("method='regularisation' needs its strength: pass lam=... "
                             "(a number >= 0), e.g. lam=1e-2.")
        lam = check_scalar(lam, "lam", min_val=0.0)
        p = regularized_problems(X, Y, rep.constraint_matrix(), [float(lam)],
                                 normalization)[0]
    else:
        if lam is not None:
            raise ValueError("lam is only used by method='regularisation'; drop lam=... .")
        p = plain_problem(X, Y, normalization)
    K = (p.K + p.K.T) / 2.0
    return K, p.C, float(p.const)


# ----------------------------------------------------------------- training
def initial_factors(widths: Sequence[int], scale: float, seed: int) -> list[np.ndarray]:
    """``α`` times the library's default initialisation of a deep linear network.

    The factors ``[W_1, …, W_L]`` of :class:`invariance_lib.experiments.networks.DeepLinear`
    (PyTorch's ``U(−1/√fan_in, 1/√fan_in)``, drawn from ``seed``), each multiplied
    by ``scale``; the end-to-end matrix is then ``scale^L`` times the default one.
    """
    net = DeepLinear(tuple(widths), seed=int(seed))
    return [scale * w.detach().cpu().numpy().copy() for w in net.factors()]


def moment_runs(X, Y, rep, *, method: str = "augmentation", lam: float | None = None,
                hidden: Sequence[int] = (5,), scales: Sequence[float] = (1.0,),
                seeds: Sequence[int] = range(5), optimizer: str = "adam",
                lr: float | Sequence[float] = 1e-3, epochs: int = 2000,
                betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                normalization: str = "mean", record_every: int = 10,
                layer_scales: Sequence[float] | None = None,
                dtype: torch.dtype = torch.float64) -> MomentRuns:
    """Train deep linear networks from the moments with GD or Adam; record ``W⊥``.

    Every run minimises the objective of ``method`` (full batch)

    ============== ===================================================
    augmentation   ``s/|G| Σ_g ‖W ρ(g) X − Y‖²``
    regularisation ``s ‖W X − Y‖² + λ ‖W G‖²``
    plain          ``s ‖W X − Y‖²``
    ============== ===================================================

    with ``s = 1/(n·dL)`` for ``normalization="mean"`` (PyTorch's ``MSELoss``, the
    paper's experiments; the default here) or ``1/n`` for ``"paper"`` (eq. (7)),
    written as ``tr(WKWᵀ) − 2tr(WCᵀ) + c`` so that its gradient is ``2(WK − C)``
    and the layers' gradients follow by the chain rule. All runs share the layer
    shapes and are updated together.

    Parameters
    ----------
    X, Y : arrays (d0, n), (dL, n)
        Training inputs and targets (columns are samples).
    rep : Representation
        The finite group acting on the inputs (defines ``Ḡ`` and ``W⊥``).
    method : {"augmentation", "regularisation", "plain"}
    lam : float, optional
        λ of regularisation (required there, refused otherwise).
    hidden : sequence of int, default (5,)
        Hidden widths; ``()`` trains a single matrix ``W``.
    scales : sequence of float, default (1.0,)
        Initial scales ``α``: every layer starts at ``α`` times its default
        initialisation (:func:`initial_factors`).
    seeds : sequence of int, default range(5)
    optimizer : {"gd", "adam"}
        ``"gd"``: ``θ ← θ − lr·∇θ``. ``"adam"``: ``torch.optim.Adam``'s update with
        ``betas`` and ``eps`` (no weight decay).
    lr : float or sequence of float, default 1e-3
        The step; or one step per initial scale (gradient descent's stable step
        shrinks like ``1/α²`` for a factorised network).
    epochs : int, default 2000
    normalization : {"mean", "paper"}, default "mean"
    record_every : int, default 10
        Record every this many epochs (and at the last one).
    layer_scales : sequence of float, optional
        One extra factor per layer, ``[β_1, …, β_L]``: layer ``i`` starts at
        ``α β_i`` times its default. ``(β, 1/β)`` keeps the end-to-end matrix at
        initialisation (and so the initial ``‖W⊥‖``) and moves its scale between the
        layers (an *unbalanced* initialisation).
    dtype : torch.float64 or torch.float32

    Returns
    -------
    MomentRuns

    Raises
    ------
    ValueError, TypeError
        For inconsistent shapes, an unknown method or optimiser, a bad scale,
        learning rate or seed, or a non-finite state (GD diverged: lower ``lr``).
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"X must be (d0, n) and Y (dL, n) with the same n; got shapes "
                         f"{X.shape} and {Y.shape}.")
    d0, dL = X.shape[0], Y.shape[0]
    rep = _check_rep(rep, d0)
    key = str(method).lower().strip()
    if key not in _METHODS:
        raise ValueError(f"unknown method {method!r}; use 'augmentation', "
                         f"'regularisation' or 'plain'.")
    method = _METHODS[key]
    optimizer = str(optimizer).lower()
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be 'gd' or 'adam', got {optimizer!r}.")
    try:
        hidden = tuple(check_int(h, "every hidden width") for h in hidden)
        scales = tuple(check_scalar(s, "every initial scale", min_val=0.0, include_boundaries="neither") for s in scales)
        seeds = tuple(check_int(s, "every seed", 0) for s in seeds)
    except TypeError:
        raise TypeError("hidden, scales and seeds must be sequences (e.g. hidden=(5,), "
                        "scales=(0.1, 1.0), seeds=range(5)).") from None
    if not scales or not seeds:
        raise ValueError("scales and seeds must each hold at least one value.")
    if isinstance(lr, numbers.Real):
        lrs = (check_scalar(lr, "lr", min_val=0.0, include_boundaries="neither"),) * len(scales)
    else:
        lrs = tuple(check_scalar(x, "every lr", min_val=0.0, include_boundaries="neither") for x in lr)
        if len(lrs) != len(scales):
            raise ValueError(f"lr has {len(lrs)} values but there are {len(scales)} "
                             f"scales; pass one lr, or one per scale.")
    epochs = check_int(epochs, "epochs")
    record_every = check_int(record_every, "record_every")
    b1, b2 = (float(b) for b in betas)
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}.")
    eps = check_scalar(eps, "eps", min_val=0.0, include_boundaries="neither")
    if dtype not in (torch.float64, torch.float32):
        raise ValueError(f"dtype must be torch.float64 or torch.float32, got {dtype!r}.")

    K, C, const = _objective(X, Y, rep, method, lam, normalization)
    widths = (d0,) + hidden + (dL,)
    L = len(widths) - 1
    if layer_scales is None:
        layer_scales = (1.0,) * L
    layer_scales = tuple(check_scalar(b, "every layer scale", min_val=0.0, include_boundaries="neither") for b in layer_scales)
    if len(layer_scales) != L:
        raise ValueError(f"layer_scales needs one factor per layer ({L} for hidden == "
                         f"{hidden}), got {len(layer_scales)}.")
    runs = [(a, s) for a in scales for s in seeds]
    R = len(runs)
    opts = {"dtype": dtype}
    inits = [[b * f for b, f in zip(layer_scales, initial_factors(widths, a, s))]
             for a, s in runs]
    Gbar = rep.elements().mean(axis=0)
    Q = np.eye(d0) - Gbar                                  # W⊥ = W (I − Ḡ)
    Pi = data_span_projector(X, rep)
    # Gradient descent is equivariant under an orthogonal change of input basis
    # (W1 → W1 V): in the eigenbasis of K the product W1 K is a column scaling.
    # Frobenius norms of W⊥ V, W⊥ Π V are those of W⊥, W⊥ Π. Adam is not
    # equivariant (it acts entry by entry) and trains in pixel coordinates.
    diagonal = optimizer == "gd"
    if diagonal:
        lam_K, V = np.linalg.eigh(K)
        K, C = lam_K, C @ V
        Q, Pi = V.T @ Q @ V, V.T @ Pi @ V
        for f in inits:
            f[0] = f[0] @ V
    layers = [torch.tensor(np.stack([f[i] for f in inits]), **opts) for i in range(L)]
    Kt, Ct = torch.tensor(K, **opts), torch.tensor(C, **opts)
    Qt, Pit = torch.tensor(Q, **opts), torch.tensor(Pi, **opts)
    lr_t = torch.tensor([x for x in lrs for _ in seeds], **opts).view(R, 1, 1)

    def times_K(A: torch.Tensor) -> torch.Tensor:
        return A * Kt if diagonal else torch.matmul(A, Kt)

    rec_epochs = list(range(0, epochs + 1, record_every))
    if rec_epochs[-1] != epochs:
        rec_epochs.append(epochs)
    T = len(rec_epochs)
    out = {k: np.full((T, R), np.nan) for k in
           ("loss", "w_perp", "w_perp_data", "w_perp_dead", "first_perp", "upper_norm")}
    m = [torch.zeros_like(w) for w in layers]
    v = [torch.zeros_like(w) for w in layers]
    pos = 0
    with torch.inference_mode():
        for e in range(epochs + 1):
            # prefix products P_i = W_i ⋯ W_1 and suffix products S_i = W_L ⋯ W_{i+2}
            pre = [layers[0]]
            for w in layers[1:]:
                pre.append(torch.bmm(w, pre[-1]))
            suf = [None] * L
            for i in range(L - 2, -1, -1):
                suf[i] = layers[i + 1] if suf[i + 1] is None else \
                    torch.bmm(suf[i + 1], layers[i + 1])
            W = pre[-1]
            top = suf[0]                                   # T = W_L ⋯ W_2 (or None)
            if top is not None and widths[1] < dL:
                E = torch.matmul(top, times_K(layers[0])) - Ct
            else:
                E = times_K(W) - Ct
            if pos < T and rec_epochs[pos] == e:
                loss = (W * (E - Ct)).sum(dim=(1, 2)) + const
                if not torch.all(torch.isfinite(loss)):
                    raise ValueError(f"the training diverged (a non-finite loss at epoch "
                                     f"{e}); lower lr (now {lrs}) or the initial scales.")
                F1 = torch.matmul(layers[0], Qt)              # W1 (I − Ḡ)
                Wp = F1 if top is None else torch.bmm(top, F1)
                Wpd = torch.matmul(Wp, Pit)
                out["loss"][pos] = loss.cpu().numpy()
                out["w_perp"][pos] = torch.linalg.norm(Wp, dim=(1, 2)).cpu().numpy()
                out["w_perp_data"][pos] = torch.linalg.norm(Wpd, dim=(1, 2)).cpu().numpy()
                out["w_perp_dead"][pos] = torch.linalg.norm(Wp - Wpd,
                                                            dim=(1, 2)).cpu().numpy()
                out["first_perp"][pos] = torch.linalg.norm(F1, dim=(1, 2)).cpu().numpy()
                if top is not None:
                    out["upper_norm"][pos] = torch.linalg.norm(top,
                                                               dim=(1, 2)).cpu().numpy()
                pos += 1
            if e == epochs:
                break
            grads = []
            for i in range(L):
                left = E if suf[i] is None else torch.bmm(suf[i].transpose(1, 2), E)
                grads.append(2.0 * (left if i == 0 else
                                    torch.bmm(left, pre[i - 1].transpose(1, 2))))
            t = e + 1
            for i in range(L):
                g = grads[i]
                if optimizer == "gd":
                    layers[i].sub_(lr_t * g)
                    continue
                m[i].lerp_(g, 1 - b1)
                v[i].mul_(b2).addcmul_(g, g, value=1 - b2)
                bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
                denom = (v[i].sqrt() / math.sqrt(bc2)).add_(eps)
                layers[i].sub_((lr_t / bc1) * m[i] / denom)
        W_final = W.cpu().numpy().copy()
    if diagonal:
        W_final = W_final @ V.T
    settings = {"method": method, "lam": lam, "hidden": hidden, "widths": widths,
                "optimizer": optimizer, "lr": lrs, "epochs": epochs,
                "betas": (b1, b2), "eps": eps, "normalization": normalization,
                "record_every": record_every, "layer_scales": layer_scales, "dtype": str(dtype).replace("torch.", "")}
    return MomentRuns(epochs=np.asarray(rec_epochs), scales=scales, seeds=seeds,
                      W=W_final, settings=settings, **out)


# --------------------------------------------------------------- the bump
@dataclass(frozen=True)
class Bump:
    """Start, peak, epoch of the peak and end of a curve; ``bump`` if it rises and falls.

    ``bump`` is true when the peak exceeds the start by more than ``tol`` (relative)
    *and* the end lies more than ``tol`` below the peak.
    """

    bump: bool
    start: float
    peak: float
    peak_epoch: float
    end: float


def bump(epochs, values, tol: float = 0.02) -> Bump:
    """Does ``values`` (over ``epochs``) rise by more than ``tol`` and then fall again?

    Parameters
    ----------
    epochs, values : 1-d arrays of the same length
    tol : float, default 0.02
        Relative margin for "rises" (``peak > (1 + tol)·start``) and "falls"
        (``end < (1 − tol)·peak``).
    """
    epochs = np.asarray(epochs, dtype=np.float64).ravel()
    values = np.asarray(values, dtype=np.float64).ravel()
    if epochs.shape != values.shape or values.size == 0:
        raise ValueError(f"epochs and values must be 1-d of the same non-zero length, got "
                         f"{epochs.shape} and {values.shape}.")
    if not np.all(np.isfinite(values)):
        raise ValueError("values must be finite.")
    tol = float(tol)
    if not 0 <= tol < 1:
        raise ValueError(f"tol must lie in [0, 1), got {tol!r}.")
    i = int(np.argmax(values))
    start, peak, end = float(values[0]), float(values[i]), float(values[-1])
    rises = peak > (1 + tol) * start
    falls = end < (1 - tol) * peak
    return Bump(bool(rises and falls), start, peak, float(epochs[i]), end)


# ------------------------------------------------------------- reduced model
@dataclass(frozen=True)
class ReducedPath:
    """Trajectories of :func:`reduced_model`, laid out like :class:`MomentRuns`.

    ``w_perp = ‖T N‖_F``, ``w_perp_data`` and ``w_perp_dead`` split ``N``'s columns
    into directions the data see (``κ_j > 0``) and dead ones (``κ_j = 0``),
    ``first_perp = ‖N‖_F = ‖W1⊥‖_F`` and ``upper_norm = ‖T‖_F``.
    """

    epochs: np.ndarray
    w_perp: np.ndarray
    w_perp_data: np.ndarray
    w_perp_dead: np.ndarray
    first_perp: np.ndarray
    upper_norm: np.ndarray
    invariant_loss: np.ndarray
    back_reaction: bool
    kappa: np.ndarray


def _split_coordinates(K: np.ndarray, rep) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``B`` (invariant rows), ``U`` and ``κ`` with ``(I − Ḡ) K (I − Ḡ) = U diag(κ) Uᵀ``."""
    B = rep.invariant_basis()                                  # (m, d0)
    d0, m = B.shape[1], B.shape[0]
    q, O = np.linalg.eigh(np.eye(d0) - B.T @ B)                # eigenvalues 0 (m) and 1
    O = O[:, m:]                                               # the non-invariant rows
    kap, R = np.linalg.eigh(O.T @ K @ O)
    U = O @ R
    tol = 1e-12 * max(float(np.abs(kap).max(initial=0.0)), 1e-300) * d0
    kap = np.where(kap > tol, kap, 0.0)
    return B, U, kap


def reduced_model(X, Y, rep, *, T0, W10, lr: float = 0.5, epochs: int = 10000,
                  back_reaction: bool = False, normalization: str = "mean",
                  record_every: int = 50) -> ReducedPath:
    """The two-layer augmented dynamics in split coordinates (chapter 11, §3).

    For a unitary ``ρ``, write the first layer as ``W1 = V B + N Uᵀ`` with ``B`` the
    orthonormal invariant rows and ``U`` an orthonormal basis of the non-invariant
    directions that diagonalises ``(I − Ḡ)K(I − Ḡ) = U diag(κ) Uᵀ`` (``K`` commutes
    with ``Ḡ``). With ``K_i = B K Bᵀ`` and ``C_i = C Bᵀ`` gradient flow on the
    augmented objective is exactly

    .. math::

        \\dot T = -2(T V K_i - C_i) V^\\top - 2\\,T N \\operatorname{diag}(\\kappa) N^\\top,
        \\quad \\dot V = -2 T^\\top (T V K_i - C_i),
        \\quad \\dot N = -2\\, T^\\top T\\, N \\operatorname{diag}(\\kappa),

    and ``W⊥ = T N Uᵀ``. ``(T, V)`` is the hard-wired network; the last term of
    ``Ṫ`` (the *back-reaction* of the non-invariant part) is the only coupling.
    The **reduced model** drops it (``back_reaction=False``): the hard-wired network
    evolves on its own and ``N`` follows a linear equation driven by ``TᵀT``, column
    by column at rate ``2κ_j``. With ``back_reaction=True`` the integration is gradient
    descent itself, in other coordinates.

    Integrated by Euler steps of size ``lr`` (= gradient descent with step ``lr``).

    Parameters
    ----------
    X, Y : arrays (d0, n), (dL, n)
    rep : Representation
        A *unitary* finite group (the splitting needs ``Ḡ`` symmetric).
    T0 : array (R, dL, r) or (dL, r)
        Initial second layers.
    W10 : array (R, r, d0) or (r, d0)
        Initial first layers.
    lr : float, default 0.5
    epochs : int, default 10000
    back_reaction : bool, default False
    normalization : {"mean", "paper"}
    record_every : int, default 50

    Returns
    -------
    ReducedPath
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    rep = _check_rep(rep, X.shape[0])
    if not rep.is_orthogonal():
        raise ValueError(f"reduced_model needs a unitary representation (Ḡ symmetric); "
                         f"{rep.name} is not. Unitarise it first (unitarizing_matrix()).")
    T = np.array(T0, dtype=np.float64, ndmin=3)
    W1 = np.array(W10, dtype=np.float64, ndmin=3)
    if T.ndim != 3 or W1.ndim != 3 or T.shape[0] != W1.shape[0] \
            or T.shape[2] != W1.shape[1] or W1.shape[2] != X.shape[0] \
            or T.shape[1] != Y.shape[0]:
        raise ValueError(f"T0 must be (R, dL, r) and W10 (R, r, d0) with dL == {Y.shape[0]} "
                         f"and d0 == {X.shape[0]}; got {T.shape} and {W1.shape}.")
    lr = check_scalar(lr, "lr", min_val=0.0, include_boundaries="neither")
    epochs = check_int(epochs, "epochs")
    record_every = check_int(record_every, "record_every")
    K, C, const = _objective(X, Y, rep, "augmentation", None, normalization)
    B, U, kap = _split_coordinates(K, rep)
    Ki, Ci = B @ K @ B.T, C @ B.T
    V, N = W1 @ B.T, W1 @ U
    seen = kap > 0
    rec = list(range(0, epochs + 1, record_every))
    if rec[-1] != epochs:
        rec.append(epochs)
    R = T.shape[0]
    out = {k: np.full((len(rec), R), np.nan) for k in
           ("w_perp", "w_perp_data", "w_perp_dead", "first_perp", "upper_norm",
            "invariant_loss")}
    pos = 0
    for e in range(epochs + 1):
        Ei = T @ V @ Ki - Ci                                  # (R, dL, m)
        if pos < len(rec) and rec[pos] == e:
            TN = T @ N
            if not np.all(np.isfinite(TN)):
                raise ValueError(f"the integration diverged at epoch {e}; lower lr "
                                 f"(now {lr:g}).")
            Wi = T @ V
            out["w_perp"][pos] = np.linalg.norm(TN, axis=(1, 2))
            out["w_perp_data"][pos] = np.linalg.norm(TN[:, :, seen], axis=(1, 2))
            out["w_perp_dead"][pos] = np.linalg.norm(TN[:, :, ~seen], axis=(1, 2))
            out["first_perp"][pos] = np.linalg.norm(N, axis=(1, 2))
            out["upper_norm"][pos] = np.linalg.norm(T, axis=(1, 2))
            out["invariant_loss"][pos] = (np.sum((Wi @ Ki) * Wi, axis=(1, 2))
                                          - 2 * np.sum(Wi * Ci, axis=(1, 2)) + const)
            pos += 1
        if e == epochs:
            break
        NK = N * kap
        gT = 2.0 * Ei @ V.transpose(0, 2, 1)
        if back_reaction:
            gT = gT + 2.0 * T @ (NK @ N.transpose(0, 2, 1))
        Tt = T.transpose(0, 2, 1)
        gV = 2.0 * Tt @ Ei
        gN = 2.0 * (Tt @ T) @ NK
        T, V, N = T - lr * gT, V - lr * gV, N - lr * gN
    return ReducedPath(epochs=np.asarray(rec), back_reaction=bool(back_reaction),
                       kappa=kap, **out)


def bump_table(results, metrics: Sequence[str] = ("w_perp", "w_perp_data", "w_perp_dead"),
               tol: float = 0.02) -> str:
    """A text table of :func:`bump` for every setting, scale and metric.

    Parameters
    ----------
    results : mapping ``label -> MomentRuns`` (a label may be a tuple of strings)
    metrics : sequence of str
        Metrics of :meth:`MomentRuns.series`.
    tol : float
        Passed to :func:`bump`.

    Returns
    -------
    str
        One row per (setting, scale, metric): whether the *median* curve over the
        seeds has a bump, in how many seeds one appears, and the median curve's
        start, peak, epoch of the peak and end (3 significant digits).
    """
    names = {"w_perp": "all", "w_perp_data": "data span", "w_perp_dead": "dead pixels"}
    head = (f"{'setting':24s}{'α':>6s} {'part':12s}{'bump':>5s}{'seeds':>6s}"
            f"{'start':>9s}{'peak':>9s}{'epoch':>7s}{'end':>9s}")
    lines = [head, "-" * len(head)]
    for label, runs in results.items():
        name = ", ".join(label) if isinstance(label, tuple) else str(label)
        for a in runs.scales:
            for metric in metrics:
                Y = runs.series(metric, a)
                b = bump(runs.epochs, np.median(Y, axis=1), tol)
                k = sum(bump(runs.epochs, Y[:, j], tol).bump for j in range(Y.shape[1]))
                lines.append(f"{name:24s}{a:6g} {names.get(metric, metric):12s}"
                             f"{'yes' if b.bump else 'no':>5s}{k:>4d}/{Y.shape[1]}"
                             f"{b.start:9.3g}{b.peak:9.3g}{b.peak_epoch:7.0f}{b.end:9.3g}")
    return "\n".join(lines)
