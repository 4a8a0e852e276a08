"""How invariant is a learned map? The measurements of the paper's Figures 1–4 and C.3.

For a linear map ``W`` (``dL × d0``) and a representation ``ρ`` with orthonormal
invariant basis ``B`` (rows spanning ``{w : wG = 0}``):

* **invariant part** ``W P`` (:func:`invariant_part`) and **non-invariant part**
  ``W_⊥ = W − W P`` (:func:`non_invariant_part`), where ``P``
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
* **function distance** ``‖(W − W_ref) X‖_F / ‖W_ref X‖_F`` (how close a trained map is to a closed form, as a function on the data).

Every function takes numpy arrays or torch tensors (and, where a map is expected, a
network with ``end_to_end()``) and returns floats or numpy arrays. This module imports
no torch: a tensor or a module can only be passed when torch is already loaded, and is
recognised then. :class:`~invariance_lib.experiments.recording.InvarianceMetrics`
evaluates the same quantities for a stack of matrices in torch; the training loop
records with it.
"""

from __future__ import annotations

import sys
from typing import Callable

import numpy as np

from .core.linalg import augmented_moment, orbit_stack, support_eigh
from .core.validation import as_matrix, check_labels, check_representation

__all__ = [
    "invariant_projector",
    "invariant_part",
    "non_invariant_part",
    "w_perp_norm",
    "invariant_share",
    "data_span_projector",
    "data_span_basis",
    "invariance_error",
    "orbit_invariance_error",
    "correct",
    "accuracy",
    "function_distance",
    "default_entry_columns",
]


# ------------------------------------------------------------- conversions
def _torch():
    """The torch module if it is already imported (a tensor can exist only then), else None."""
    return sys.modules.get("torch")


def _to_numpy(A, name: str, ndim: int = 2) -> np.ndarray:
    torch = _torch()
    if torch is None:
        return as_matrix(A, name, ndim=ndim)
    if isinstance(A, torch.nn.Module):
        if not hasattr(A, "end_to_end"):
            raise TypeError(f"{name} is a {type(A).__name__} without end_to_end(); these "
                            f"measures are for linear maps. Pass the matrix, or use "
                            f"invariance_error() for a nonlinear network.")
        A = A.end_to_end()
    if torch.is_tensor(A):
        A = A.detach().cpu().to(torch.float64).numpy()
    return as_matrix(A, name, ndim=ndim)


def _check_cols(W: np.ndarray, d0: int, name: str = "W") -> None:
    if W.shape[-1] != d0:
        raise ValueError(f"{name} has {W.shape[-1]} columns but the representation acts on "
                         f"R^{d0}; {name} must be (dL, d0) == (dL, {d0}).")


def _check_rows(X: np.ndarray, d0: int, name: str = "X") -> None:
    if X.shape[0] != d0:
        raise ValueError(f"{name} has {X.shape[0]} rows but the representation acts on "
                         f"R^{d0}; inputs are columns, so {name} must be (d0, m) == "
                         f"({d0}, m).")


# ---------------------------------------------------------------- projector
def invariant_projector(rep) -> np.ndarray:
    """The orthogonal projector ``P`` (``d0 × d0``) onto the invariant row vectors.

    ``w P`` is the invariant vector closest to ``w``. For a unitary finite group
    this is the group average ``Ḡ`` (computed as such); otherwise ``BᵀB`` with ``B``
    the orthonormal invariant basis (``Ḡ`` of a non-unitary representation is a
    projector too, but not an orthogonal one).
    """
    rep = check_representation(rep)
    if not rep.is_lie and rep.is_orthogonal():
        P = rep.group_average()
        return (P + P.T) / 2.0
    B = rep.invariant_basis()
    return B.T @ B


def invariant_part(W, rep) -> np.ndarray:
    """``W P``: the invariant map closest to ``W`` (``(dL, d0)``).

    ``P`` is :func:`invariant_projector`. For a unitary (orthogonal) finite group
    this is the group average ``W Ḡ = (1/|G|) Σ_g W ρ(g)`` (Lemma B.5: ``Ḡ``
    projects onto the invariant maps); chapter 9's proposition
    ``prop-ce-averaging`` averages over the group with it. For a
    non-unitary representation ``W Ḡ`` is an oblique projection and ``W BᵀB``
    is returned instead. ``W − invariant_part(W, rep)`` is
    :func:`non_invariant_part`.

    Parameters
    ----------
    W : array, tensor (dL, d0) or linear network
    rep : Representation

    Returns
    -------
    ndarray (dL, d0)
    """
    rep = check_representation(rep)
    W = _to_numpy(W, "W")
    _check_cols(W, rep.dim)
    return W @ invariant_projector(rep)


def non_invariant_part(W, rep) -> np.ndarray:
    """``W_⊥ = W − W P``: the part of ``W`` that is not invariant (``(dL, d0)``).

    The complement of :func:`invariant_part`; ``P`` is :func:`invariant_projector`.
    """
    rep = check_representation(rep)
    W = _to_numpy(W, "W")
    _check_cols(W, rep.dim)
    return W - invariant_part(W, rep)


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
    rep = check_representation(rep)
    W = _to_numpy(W, "W")
    _check_cols(W, rep.dim)
    total = float(np.sum(W * W))
    inv = invariant_part(W, rep)
    return float(np.sum(inv * inv)) / total if total > 0 else float("nan")


def data_span_projector(X, rep=None) -> np.ndarray:
    """Orthogonal projector onto the span of the (augmented) inputs, ``(d0, d0)``.

    ``Π = U Uᵀ`` with ``U`` from :func:`data_span_basis`: it projects onto
    ``range(Σ_g ρ(g) X Xᵀ ρ(g)ᵀ)`` — the span of all ``ρ(g) x_i`` — or onto
    ``range(X Xᵀ)`` when ``rep`` is ``None`` or a Lie group.
    """
    Vs = data_span_basis(X, rep)
    return Vs @ Vs.T


def data_span_basis(X, rep=None) -> np.ndarray:
    """Orthonormal columns ``U`` (``d0 × s``) spanning the (augmented) inputs.

    Eigenvalues of ``Σ_g ρ(g) X Xᵀ ρ(g)ᵀ`` below ``d0 · eps · e_max`` count as zero
    (:func:`~invariance_lib.core.linalg.support_eigh`, the library's rank policy).
    """
    X = _to_numpy(X, "X")
    K0 = X @ X.T
    if rep is not None and not rep.is_lie:
        _check_rows(X, rep.dim, "X")
        K = augmented_moment(K0, rep.elements())
    else:
        K = K0
    _, V, support = support_eigh(K)
    return V[:, support]


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
def _as_function(f) -> Callable[[np.ndarray], np.ndarray]:
    """``f`` as a map from ``(d0, m)`` arrays to ``(dL, m)`` arrays."""
    torch = _torch()
    if torch is not None and isinstance(f, torch.nn.Module):
        params = list(f.parameters()) + list(f.buffers())
        p_dtype = params[0].dtype if params else torch.float64
        device = params[0].device if params else "cpu"

        def apply(Xc: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                out = f(torch.as_tensor(Xc.T, dtype=p_dtype, device=device))
            return out.detach().cpu().to(torch.float64).numpy().T
        return apply
    if isinstance(f, np.ndarray) or (torch is not None and torch.is_tensor(f)):
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
    rep = check_representation(rep)
    X = _to_numpy(X, "X")
    _check_rows(X, rep.dim, "X")
    fn = _as_function(f)
    eps = orbit_invariance_error(np.stack([fn(Xg) for Xg in orbit_stack(X, rep.elements())]))
    if reduce is None:
        return eps
    if reduce == "median":
        return float(np.median(eps))
    if reduce == "mean":
        return float(np.mean(eps))
    raise ValueError(f"reduce must be 'median', 'mean' or None, got {reduce!r}.")


def orbit_invariance_error(outs: np.ndarray) -> np.ndarray:
    """``ε_inv`` from the outputs on each orbit, the formula stated once.

    ``outs`` has shape ``(..., |G|, dL, m)``: ``f(ρ(g)x_j)`` for every element ``g``
    and input ``j``. Returns ``(..., m)``; 0 where ``f̄(x) = 0`` and ``f`` is constant on
    the orbit, ``inf`` where ``f̄(x) = 0`` but it is not.
    """
    outs = np.asarray(outs, dtype=np.float64)
    mean = outs.mean(axis=-3)
    num = np.mean(np.sum((outs - mean[..., None, :, :]) ** 2, axis=-2), axis=-2)
    den = np.sum(mean ** 2, axis=-2)
    tiny = np.finfo(np.float64).tiny
    return np.where(den > tiny, num / np.maximum(den, tiny), np.where(num > tiny, np.inf, 0.0))


def accuracy(f, X, labels) -> float:
    """Fraction of columns of ``X`` whose largest output is at the label's row.

    ``f`` as in :func:`invariance_error`; ``labels`` are row indices (``0 … dL−1``),
    e.g. ``Y.argmax(axis=0)`` for one-hot ``Y``. A sample is correct when the label's
    output is at least every other output (exact ties, which real-valued outputs
    almost never produce, count as correct); the training records use the same rule.
    """
    X = _to_numpy(X, "X")
    labels = check_labels(labels, "labels")
    if labels.size != X.shape[1]:
        raise ValueError(f"labels has {labels.size} entries but X has {X.shape[1]} columns "
                         f"(samples).")
    out = _as_function(f)(X)
    labels = check_labels(labels, "labels", n_classes=out.shape[0])
    return float(np.mean(correct(out, labels)))


def correct(outputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The accuracy rule, stated once: sample ``i`` is correct when ``outputs[labels[i], i]``
    is at least every other output of column ``i`` (exact ties count as correct).

    ``outputs`` is ``(dL, N)`` (or ``(..., dL, N)``); returns booleans ``(N,)`` (or
    ``(..., N)``). The training records apply the same rule to torch tensors
    (:func:`~invariance_lib.experiments.recording.correct_fraction`).
    """
    out = np.asarray(outputs)
    idx = np.broadcast_to(labels, out.shape[:-2] + (1, labels.size))
    true = np.take_along_axis(out, idx, axis=-2)[..., 0, :]
    return true >= out.max(axis=-2)


def function_distance(W, W_ref, X) -> float:
    """``‖(W − W_ref) X‖_F / ‖W_ref X‖_F``: distance of two linear maps as functions on ``X``.

    Directions the data do not see (dead pixels) do not count; the book uses this
    to compare a trained map with a closed-form optimum.
    """
    W, W_ref, X = _to_numpy(W, "W"), _to_numpy(W_ref, "W_ref"), _to_numpy(X, "X")
    if W.shape != W_ref.shape:
        raise ValueError(f"W has shape {W.shape} but W_ref has shape {W_ref.shape}.")
    ref = np.linalg.norm(W_ref @ X)
    return float(np.linalg.norm((W - W_ref) @ X) / ref) if ref > 0 else float("inf")
