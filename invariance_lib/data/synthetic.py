"""Synthetic data: Gaussian inputs and (invariant) linear teachers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.linalg import truncated_svd
from ..core.validation import (as_matrix, check_int, check_scalar, check_seed,
                               is_representation)

__all__ = ["SyntheticData", "synthetic_regression", "gaussian_inputs"]


@dataclass(frozen=True)
class SyntheticData:
    """A synthetic regression problem ``Y = W* X + noise``.

    Attributes
    ----------
    X : ndarray (d0, n)
        Standard Gaussian inputs (columns are samples).
    Y : ndarray (dL, n)
        Targets ``W* X + σ E`` with ``E`` standard Gaussian.
    W_star : ndarray (dL, d0)
        The teacher map.
    invariant : bool
        Whether ``W*`` is invariant (``W* G = 0``).
    noise : float
        ``σ``.
    seed : int
    """

    X: np.ndarray
    Y: np.ndarray
    W_star: np.ndarray
    invariant: bool
    noise: float
    seed: int


def synthetic_regression(rep, dL: int = 3, n: int = 200, *, invariant: bool = True,
                         rank: int | None = None, noise: float = 0.1, W_star=None,
                         seed: int = 0) -> SyntheticData:
    """Gaussian inputs and targets ``Y = W* X + σ E``, for tests and exact control.

    Draws, from ``numpy.random.default_rng(seed)`` in this order: ``X`` (``d0 × n``,
    i.i.d. ``N(0, 1)``), then ``W*`` unless given, then the noise ``E``. An invariant
    teacher is ``W* = M B`` with ``B`` the orthonormal invariant basis of ``rep``
    (``m × d0``) and ``M`` i.i.d. ``N(0, 1/m)``; a non-invariant one is i.i.d.
    ``N(0, 1/d0)``. Both give outputs of order one.

    Parameters
    ----------
    rep : Representation or int
        The group acting on the inputs (its dimension is ``d0``), or just ``d0``
        when ``invariant=False``.
    dL : int, default 3
        Output dimension.
    n : int, default 200
        Number of samples.
    invariant : bool, default True
        Draw an invariant (``W* G = 0``) or a generic teacher.
    rank : int, optional
        Replace ``W*`` by its best rank-``rank`` approximation (stays invariant,
        Lemma B.2).
    noise : float, default 0.1
        Standard deviation ``σ`` of the additive noise.
    W_star : array (dL, d0), optional
        Use this teacher instead of drawing one (``invariant`` is then computed).
    seed : int, default 0

    Returns
    -------
    SyntheticData
    """
    seed = check_seed(seed)
    if is_representation(rep):
        d0 = rep.dim
    elif isinstance(rep, (int, np.integer)) and not isinstance(rep, bool) and rep > 0:
        d0 = int(rep)
        rep = None
    else:
        raise TypeError(f"rep must be a Representation or the input dimension d0 (a positive "
                        f"integer), got {rep!r}.")
    dL = check_int(dL, "dL")
    n = check_int(n, "n")
    noise = check_scalar(noise, "noise", min_val=0.0)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((d0, n))
    if W_star is not None:
        W = as_matrix(W_star, "W_star")
        if W.shape != (dL, d0):
            raise ValueError(f"W_star has shape {W.shape}, expected (dL, d0) == ({dL}, {d0}).")
    elif invariant:
        if rep is None:
            raise ValueError("an invariant teacher needs the group: pass a Representation "
                             "(e.g. cyclic_shifts(8)) as rep, or invariant=False.")
        B = rep.invariant_basis()
        W = rng.standard_normal((dL, B.shape[0])) / np.sqrt(B.shape[0]) @ B
    else:
        W = rng.standard_normal((dL, d0)) / np.sqrt(d0)
    if rank is not None:
        rank = check_int(rank, "rank")
        W = truncated_svd(W, rank)
    Y = W @ X + noise * rng.standard_normal((dL, n))
    if rep is not None:
        G = rep.constraint_matrix()
        is_inv = bool(np.linalg.norm(W @ G) <= 1e-10 * max(np.linalg.norm(W), 1e-300))
    else:
        is_inv = False
    return SyntheticData(X=X, Y=Y, W_star=W, invariant=is_inv, noise=float(noise), seed=seed)


def gaussian_inputs(d0: int, n: int, *, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """Isotropic Gaussian inputs ``(d0, n)``, i.i.d. ``N(0, scale²)``.

    Appendix C.3 measures the invariance error on such inputs (a distribution
    shift away from images).
    """
    d0 = check_int(d0, "d0")
    n = check_int(n, "n")
    scale = check_scalar(scale, "scale", min_val=0.0)
    return scale * np.random.default_rng(check_seed(seed)).standard_normal((d0, n))
