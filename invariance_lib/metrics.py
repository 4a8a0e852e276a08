"""How invariant is a learned map? The measurements of the paper's Figures 1–4 and C.3.

For a linear map ``W`` (``dL × d0``) and a representation ``ρ`` with orthonormal
invariant basis ``B`` (rows spanning ``{w : wG = 0}``):

* **invariant part** ``W P`` and **non-invariant part** ``W_⊥ = W − W P``, where ``P``
  is the orthogonal projector onto the invariant row vectors. For a unitary
  (orthogonal) representation ``P`` is the group average ``Ḡ = (1/|G|) Σ_g ρ(g)``;
  for a non-unitary one ``Ḡ`` is an oblique projector and ``P = BᵀB`` is used
  instead (the two agree when ``ρ`` is unitary). Figure 3 plots ``‖W_⊥‖_F``.
* **invariant share** ``‖W − W_⊥‖_F² / ‖W‖_F²`` (Figure 4); 1 for an invariant map.
* ``‖W_⊥‖`` **on the data span**: ``‖W_⊥ Π‖_F`` with ``Π`` the orthogonal projector
  onto ``range(Σ_g ρ(g) X Xᵀ ρ(g)ᵀ)``, the span of the augmented training inputs.
  MNIST has pixels that are zero in every image; weights on them get no gradient and
  keep their initial values, so ``‖W_⊥‖`` of a trained network cannot reach 0 for that
  reason alone. ``‖W_⊥ Π‖`` measures only what the data can see.
* **invariance error** (Appendix C.3) of any function ``f``: with
  ``f̄(x) = (1/|G|) Σ_g f(ρ(g)x)``,
  ``ε_inv(f, x) = (1/|G|) Σ_g ‖f(ρ(g)x) − f̄(x)‖² / ‖f̄(x)‖²``; its median over inputs.
* **function distance** ``‖(W − W_ref) X‖_F / ‖W_ref X‖_F`` (NOTES §5, "closeness").

Every function takes numpy arrays or torch tensors (and, where a map is expected, a
network with ``end_to_end()``) and returns floats or numpy arrays.
:class:`InvarianceMetrics` evaluates the same quantities for a stack of matrices in
torch; the training loop records with it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ._validation import as_matrix
from .linalg import rank_tolerance

__all__ = [
    "invariant_projector",
    "non_invariant_part",
    "w_perp_norm",
    "invariant_share",
    "data_span_projector",
    "invariance_error",
    "accuracy",
    "function_distance",
    "default_entry_columns",
    "InvarianceMetrics",
]


# ------------------------------------------------------------- conversions
def _to_numpy(A, name: str, ndim: int = 2) -> np.ndarray:
    if isinstance(A, torch.nn.Module):
        if not hasattr(A, "end_to_end"):
            raise TypeError(f"{name} is a {type(A).__name__} without end_to_end(); these "
                            f"measures are for linear maps. Pass the matrix, or use "
                            f"invariance_error() for a nonlinear network.")
        A = A.end_to_end()
    if torch.is_tensor(A):
        A = A.detach().cpu().to(torch.float64).numpy()
    return as_matrix(A, name, ndim=ndim)


def _check_rep(rep):
    if not (hasattr(rep, "invariant_basis") and hasattr(rep, "dim")):
        raise TypeError(f"rep must be a Representation (e.g. c4_rotations(14)), got "
                        f"{type(rep).__name__}.")
    return rep


def _check_cols(W: np.ndarray, d0: int, name: str = "W") -> None:
    if W.shape[-1] != d0:
        raise ValueError(f"{name} has {W.shape[-1]} columns but the representation acts on "
                         f"R^{d0}; {name} must be (dL, d0) == (dL, {d0}).")


# ---------------------------------------------------------------- projector
def invariant_projector(rep) -> np.ndarray:
    """The orthogonal projector ``P`` (``d0 × d0``) onto the invariant row vectors.

    ``w P`` is the invariant vector closest to ``w``. For a unitary finite group
    this is the group average ``Ḡ`` (computed as such); otherwise ``BᵀB`` with ``B``
    the orthonormal invariant basis (``Ḡ`` of a non-unitary representation is a
    projector too, but not an orthogonal one).
    """
    rep = _check_rep(rep)
    if not rep.is_lie and rep.is_orthogonal():
        P = rep.group_average()
        return (P + P.T) / 2.0
    B = rep.invariant_basis()
    return B.T @ B


def non_invariant_part(W, rep) -> np.ndarray:
    """``W_⊥ = W − W P``: the part of ``W`` that is not invariant (``(dL, d0)``)."""
    rep = _check_rep(rep)
    W = _to_numpy(W, "W")
    _check_cols(W, rep.dim)
    return W - W @ invariant_projector(rep)


def w_perp_norm(W, rep, X=None) -> float:
    """``‖W_⊥‖_F`` (Figure 3), or ``‖W_⊥ Π‖_F`` on the augmented data span when ``X`` is given.

    Parameters
    ----------
    W : array, tensor (dL, d0) or linear network
    rep : Representation
    X : array (d0, n), optional
        Training inputs; ``Π`` projects onto ``range(Σ_g ρ(g) X Xᵀ ρ(g)ᵀ)``.
    """
    Wp = non_invariant_part(W, rep)
    if X is not None:
        Wp = Wp @ data_span_projector(X, rep)
    return float(np.linalg.norm(Wp))


def invariant_share(W, rep) -> float:
    """``‖W − W_⊥‖_F² / ‖W‖_F²`` (Figure 4): 1 for invariant ``W``, ``nan`` for ``W = 0``."""
    rep = _check_rep(rep)
    W = _to_numpy(W, "W")
    _check_cols(W, rep.dim)
    total = float(np.sum(W * W))
    inv = W @ invariant_projector(rep)
    return float(np.sum(inv * inv)) / total if total > 0 else float("nan")


def data_span_projector(X, rep=None) -> np.ndarray:
    """Orthogonal projector onto the span of the (augmented) inputs, ``(d0, d0)``.

    ``Π`` projects onto ``range(Σ_g ρ(g) X Xᵀ ρ(g)ᵀ)`` — the span of all ``ρ(g) x_i`` —
    or onto ``range(X Xᵀ)`` when ``rep`` is ``None`` or a Lie group. Eigenvalues
    below ``d0 · eps · e_max`` count as zero (:func:`~invariance_lib.linalg.rank_tolerance`).
    """
    X = _to_numpy(X, "X")
    K0 = X @ X.T
    if rep is not None and not rep.is_lie:
        _check_cols(X.T, rep.dim, "X")
        K = sum(E @ K0 @ E.T for E in rep.elements())
    else:
        K = K0
    e, V = np.linalg.eigh((K + K.T) / 2.0)
    Vs = V[:, e > rank_tolerance(np.abs(e), K.shape[0])]
    return Vs @ Vs.T


def default_entry_columns(rep) -> tuple[int, ...] | None:
    """The columns of ``W`` whose entries the training records (Figure 1).

    For a permutation representation the orbit of pixel 45 (``[45, 52, 143, 150]``
    for C4 on 14×14 images, the paper's choice) when ``d0 > 45``, else the first
    orbit with more than one element; for other representations the first
    ``min(4, d0)`` columns; ``None`` without a representation.
    """
    if rep is None:
        return None
    if not rep.is_lie and rep.is_permutation():
        orbits = rep.orbits()
        if rep.dim > 45:
            return tuple(next(o for o in orbits if 45 in o))
        big = [o for o in orbits if len(o) > 1]
        return tuple(big[0] if big else orbits[0])
    return tuple(range(min(4, rep.dim)))


# ------------------------------------------------------ invariance error
def _as_function(f, dtype=torch.float64) -> Callable[[np.ndarray], np.ndarray]:
    """``f`` as a map from ``(d0, m)`` arrays to ``(dL, m)`` arrays."""
    if isinstance(f, torch.nn.Module):
        params = list(f.parameters()) + list(f.buffers())
        p_dtype = params[0].dtype if params else dtype
        device = params[0].device if params else "cpu"

        def apply(Xc: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                out = f(torch.as_tensor(Xc.T, dtype=p_dtype, device=device))
            return out.detach().cpu().to(torch.float64).numpy().T
        return apply
    if torch.is_tensor(f) or isinstance(f, np.ndarray):
        W = _to_numpy(f, "W")
        return lambda Xc: W @ Xc
    if callable(f):
        return lambda Xc: np.asarray(f(Xc), dtype=np.float64)
    raise TypeError(f"f must be a matrix W (dL, d0), a torch module, or a callable mapping "
                    f"(d0, m) arrays to (dL, m) arrays; got {type(f).__name__}.")


def invariance_error(f, X, rep, *, reduce: str | None = "median"):
    """The invariance error ``ε_inv`` of Appendix C.3.

    For each input ``x`` (a column of ``X``), with ``f̄(x) = (1/|G|) Σ_g f(ρ(g)x)``,

    .. math::  ε_{inv}(f, x) = \\frac{1}{|G|} \\sum_g \\frac{‖f(ρ(g)x) − f̄(x)‖^2}{‖f̄(x)‖^2}.

    It is 0 for an invariant ``f``; where ``f̄(x) = 0`` it is 0 if ``f`` is constant on
    the orbit and ``inf`` otherwise.

    Parameters
    ----------
    f : array or tensor (dL, d0), torch module, or callable
        A linear map ``W``, a network (applied to rows ``X.T``), or a function from
        ``(d0, m)`` to ``(dL, m)`` arrays.
    X : array or tensor (d0, m)
        Inputs (columns), e.g. test images or :func:`~invariance_lib.data.gaussian_inputs`.
    rep : Representation
        A finite group (its :meth:`elements` are enumerated).
    reduce : {"median", "mean", None}
        The paper reports the median; ``None`` returns every ``ε_inv(f, x)``.

    Returns
    -------
    float, or ndarray (m,) for ``reduce=None``
    """
    rep = _check_rep(rep)
    X = _to_numpy(X, "X")
    _check_cols(X.T, rep.dim, "X")
    fn = _as_function(f)
    outs = np.stack([fn(E @ X) for E in rep.elements()])  # (|G|, dL, m)
    mean = outs.mean(axis=0)
    num = np.mean(np.sum((outs - mean) ** 2, axis=1), axis=0)
    den = np.sum(mean ** 2, axis=0)
    eps = _safe_ratio(num, den)
    if reduce is None:
        return eps
    if reduce == "median":
        return float(np.median(eps))
    if reduce == "mean":
        return float(np.mean(eps))
    raise ValueError(f"reduce must be 'median', 'mean' or None, got {reduce!r}.")


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    tiny = np.finfo(np.float64).tiny
    out = np.where(den > tiny, num / np.maximum(den, tiny), np.where(num > tiny, np.inf, 0.0))
    return out


def accuracy(f, X, labels) -> float:
    """Fraction of columns of ``X`` whose largest output is at the label's row.

    ``f`` as in :func:`invariance_error`; ``labels`` are row indices (``0 … dL−1``),
    e.g. ``Y.argmax(axis=0)`` for one-hot ``Y``. A sample is correct when the label's
    output is at least every other output (exact ties, which real-valued outputs
    almost never produce, count as correct); the training records use the same rule.
    """
    X = _to_numpy(X, "X")
    labels = np.asarray(labels).ravel()
    if labels.size != X.shape[1]:
        raise ValueError(f"labels has {labels.size} entries but X has {X.shape[1]} columns "
                         f"(samples).")
    out = _as_function(f)(X)
    if labels.size and (labels.min() < 0 or labels.max() >= out.shape[0]):
        raise ValueError(f"labels must be row indices 0..{out.shape[0] - 1} of the outputs.")
    true = out[labels.astype(np.int64), np.arange(labels.size)]
    return float(np.mean(true >= out.max(axis=0)))


def function_distance(W, W_ref, X) -> float:
    """``‖(W − W_ref) X‖_F / ‖W_ref X‖_F``: distance of two linear maps as functions on ``X``.

    Directions the data do not see (dead pixels) do not count; NOTES §5 uses this
    to compare a trained map with a closed-form optimum.
    """
    W, W_ref, X = _to_numpy(W, "W"), _to_numpy(W_ref, "W_ref"), _to_numpy(X, "X")
    if W.shape != W_ref.shape:
        raise ValueError(f"W has shape {W.shape} but W_ref has shape {W_ref.shape}.")
    ref = np.linalg.norm(W_ref @ X)
    return float(np.linalg.norm((W - W_ref) @ X) / ref) if ref > 0 else float("inf")


# ------------------------------------------------------ batched (torch)
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
            rep = _check_rep(rep)
            d0 = rep.dim
            if any(not 0 <= c < d0 for c in self.columns):
                raise ValueError(f"entry columns {self.columns} must lie in 0..{d0 - 1}.")
            self._B = torch.as_tensor(rep.invariant_basis(), **opts)     # (m, d0)
            self._Bt = self._B.T.contiguous()
            if X is not None:
                Pi = data_span_projector(X, rep)
                diag = np.diag(Pi)
                if (np.abs(Pi - np.diag(diag)).max() <= 1e-10
                        and np.all(np.minimum(np.abs(diag), np.abs(diag - 1)) <= 1e-10)):
                    self._mask = torch.as_tensor((diag > 0.5).astype(np.float64), **opts)
                else:
                    e, V = np.linalg.eigh(Pi)
                    self._U = torch.as_tensor(V[:, e > 0.5], **opts)

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
