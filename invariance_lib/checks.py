"""The book's independent checks, used by the chapters and the tests alike.

Every closed form of the library is checked against a computation that knows nothing
of it: :func:`factorised_fit` minimises the loss *on the samples* over a factorised
network ``W = W_2 W_1 B`` from many random starts with L-BFGS (an optimiser unaware of
SVDs, whitening or moments); :func:`relative_error` and :func:`assert_invariant` state
the comparisons once, with tolerances that scale with the dtype (as e3nn's
``assert_equivariant`` and scikit-learn's PSD checks do). numpy and scipy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .core.linalg import orbit_stack
from .core.validation import (as_matrix, check_square_stack, check_int, check_representation, check_samples,
                              check_scalar, check_seed)

__all__ = ["FactorisedFit", "factorised_fit", "sample_loss", "relative_error",
           "dtype_tolerance", "assert_invariant"]


def sample_loss(W, X, Y, *, elements=None, weights=None, G=None, lam: float = 0.0) -> float:
    """The objective computed on the samples, never from moments.

    ``(1/n)‖WX − Y‖² + λ‖WG‖²``, or with ``elements`` the augmented data term
    ``(1/n) Σ_g w_g ‖W ρ(g) X − Y‖²`` (``w_g = 1/|G|`` unless ``weights`` are given),
    by materialising the augmented data set.
    """
    W = np.asarray(W, dtype=np.float64)
    n = X.shape[1]
    if elements is None:
        value = np.sum((W @ X - Y) ** 2, axis=(-2, -1)) / n
    else:
        w = (np.full(len(elements), 1.0 / len(elements)) if weights is None
             else np.asarray(weights, dtype=np.float64) / np.sum(weights))
        value = sum(wg * np.sum((W @ g @ X - Y) ** 2, axis=(-2, -1))
                    for wg, g in zip(w, elements)) / n
    if lam:
        value = value + lam * np.sum((W @ G) ** 2, axis=(-2, -1))
    return value if np.ndim(value) else float(value)


@dataclass(frozen=True)
class FactorisedFit:
    """One start of :func:`factorised_fit`: the end-to-end matrix and its loss."""

    W: np.ndarray
    loss: float
    converged: bool

    def __iter__(self):  # unpacks as (W, loss)
        return iter((self.W, self.loss))

    def __getitem__(self, i):
        return (self.W, self.loss)[i]


def factorised_fit(X, Y, r: int, *, B=None, G=None, lam: float = 0.0, elements=None,
                   weights=None, starts: int = 12, seed: int = 0, scale: float = 0.5,
                   maxiter: int = 20_000) -> list[FactorisedFit]:
    """Minimise the sample loss over ``W = W_2 W_1 B`` from many random starts (L-BFGS).

    The independent check of every closed form in the book: a two-layer factorised
    network of bottleneck width ``r`` (rank bound ``r``; hard-wired when ``B``, an
    ``m × d0`` invariant basis, is given), trained on the samples by
    ``scipy.optimize.minimize(method="L-BFGS-B")`` with exact gradients.

    The loss is :func:`sample_loss`: ``(1/n)‖WX − Y‖² + λ‖WG‖²``, or the augmented
    ``(1/n) Σ_g w_g ‖W ρ(g) X − Y‖²`` when ``elements`` is given.

    Parameters
    ----------
    X, Y : arrays (d0, n), (dL, n)
    r : int
        Width of the hidden layer.
    B : array (m, d0), optional
        Fixed first factor (hard-wiring); default the identity.
    G : array (d0, k), optional
        Constraint matrix of the penalty ``λ‖WG‖²`` (needed when ``lam > 0``).
    lam : float, default 0
    elements : sequence of (d0, d0) arrays, optional
        Group elements for the augmented loss.
    weights : sequence of float, optional
        Weights of the elements (default uniform).
    starts : int, default 12
        Number of random starts; start ``i`` draws its entries i.i.d.
        ``N(0, scale²)`` from ``numpy.random.default_rng(seed)`` in turn.
    seed : int, default 0
    scale : float, default 0.5
    maxiter : int, default 20000

    Returns
    -------
    list of FactorisedFit
        One per start, in order; each unpacks as ``(W, loss)``.
    """
    from scipy.optimize import minimize

    X, Y = check_samples(X, Y)
    r = check_int(r, "r")
    starts = check_int(starts, "starts")
    seed = check_seed(seed)
    lam = check_scalar(lam, "lam", min_val=0.0)
    scale = check_scalar(scale, "scale", min_val=0.0, include_boundaries="neither")
    d0, n = X.shape
    dL = Y.shape[0]
    B = np.eye(d0) if B is None else as_matrix(B, "B")
    if lam and G is None:
        raise ValueError("lam > 0 needs the constraint matrix: pass G=... (shape (d0, k)).")
    if G is not None:
        G = as_matrix(G, "G")
    m = B.shape[0]
    if elements is None:
        inputs, w = [X], np.ones(1)
    else:
        inputs = list(orbit_stack(X, check_square_stack(elements, "elements", d=d0)))
        w = (np.full(len(inputs), 1.0 / len(inputs)) if weights is None
             else np.asarray(weights, dtype=np.float64) / np.sum(weights))

    def f(theta):
        W2 = theta[: dL * r].reshape(dL, r)
        W1 = theta[dL * r:].reshape(r, m)
        W = W2 @ W1 @ B
        loss, gW = 0.0, np.zeros_like(W)
        for wg, Xg in zip(w, inputs):
            R = W @ Xg - Y
            loss += wg * np.sum(R * R) / n
            gW += 2 * wg * R @ Xg.T / n
        if lam:
            WG = W @ G
            loss += lam * np.sum(WG * WG)
            gW += 2 * lam * WG @ G.T
        return loss, np.concatenate([(gW @ (W1 @ B).T).ravel(), (W2.T @ gW @ B.T).ravel()])

    rng = np.random.default_rng(seed)
    fits = []
    for _ in range(starts):
        theta0 = rng.normal(scale=scale, size=dL * r + r * m)
        res = minimize(f, theta0, jac=True, method="L-BFGS-B",
                       options={"maxiter": maxiter, "gtol": 1e-12, "ftol": 1e-15})
        W2 = res.x[: dL * r].reshape(dL, r)
        W1 = res.x[dL * r:].reshape(r, m)
        fits.append(FactorisedFit(W=W2 @ W1 @ B, loss=float(res.fun),
                                  converged=bool(res.success)))
    return fits


def relative_error(A, B, *, axis=None) -> float | np.ndarray:
    """``‖A − B‖_F / ‖B‖_F`` (``‖A − B‖`` when ``B = 0``).

    With ``axis`` (e.g. ``(-2, -1)`` for a stack of matrices) the norms are taken over
    those axes and an array is returned.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    num = np.sqrt(np.sum((A - B) ** 2, axis=axis))
    den = np.sqrt(np.sum(B ** 2, axis=axis))
    out = np.where(den > 0, num / np.where(den > 0, den, 1.0), num)
    return float(out) if np.ndim(out) == 0 else out


def dtype_tolerance(dtype, factor: float = 100.0) -> float:
    """``factor · eps(dtype)``: about 2e-14 for float64 and 1e-5 for float32."""
    return float(factor * np.finfo(np.dtype(dtype) if not hasattr(dtype, "is_floating_point")
                                   else np.dtype(str(dtype).replace("torch.", ""))).eps)


def assert_invariant(f, rep, X=None, *, atol: float | None = None, factor: float = 100.0,
                     seed: int = 0) -> float:
    """Assert that ``f`` is invariant: ``f(ρ(g)x) = f(x)`` for every element ``g``.

    ``f`` is a matrix ``W`` (``(dL, d0)``; checked exactly as ``‖W ρ(g) − W‖``) or a
    callable on ``(d0, m)`` arrays, evaluated on ``X`` (default: 8 Gaussian inputs from
    ``seed``). For a Lie group the generators' constraint ``W G = 0`` is checked. The
    tolerance is relative, ``factor · eps(dtype)`` of the largest output (as e3nn's
    ``assert_equivariant``), unless ``atol`` is given.

    Returns
    -------
    float
        The largest relative invariance error found.

    Raises
    ------
    AssertionError
        Naming the element and the error when ``f`` is not invariant.
    """
    rep = check_representation(rep)
    if isinstance(f, np.ndarray) or hasattr(f, "__array__") and not callable(f):
        W = np.asarray(f)
        tol = dtype_tolerance(W.dtype if np.issubdtype(W.dtype, np.floating) else np.float64,
                              factor) if atol is None else atol
        W = W.astype(np.float64)
        ref = max(float(np.abs(W).max()), np.finfo(np.float64).tiny)
        if rep.is_lie:
            err = float(np.abs(W @ rep.constraint_matrix()).max()) / ref
            worst = "the Lie algebra"
        else:
            errs = [float(np.abs(W @ E - W).max()) / ref for E in rep.elements()]
            k = int(np.argmax(errs))
            err, worst = errs[k], f"element {k}"
        if err > tol:
            raise AssertionError(f"not invariant: relative error {err:.3g} > tolerance {tol:.3g} "
                                 f"at {worst} of {rep.name}.")
        return err
    if X is None:
        X = np.random.default_rng(check_seed(seed)).standard_normal((rep.dim, 8))
    X = as_matrix(X, "X")
    base = np.asarray(f(X))
    tol = dtype_tolerance(base.dtype if np.issubdtype(base.dtype, np.floating) else np.float64,
                          factor) if atol is None else atol
    ref = max(float(np.abs(base).max()), np.finfo(np.float64).tiny)
    err, worst = 0.0, None
    for k, E in enumerate(rep.elements()):
        e = float(np.abs(np.asarray(f(E @ X), dtype=np.float64) - base).max()) / ref
        if e > err:
            err, worst = e, k
    if err > tol:
        raise AssertionError(f"not invariant: relative error {err:.3g} > tolerance {tol:.3g} "
                             f"at element {worst} of {rep.name}.")
    return err
