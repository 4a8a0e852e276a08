"""The architecture of a deep linear network: widths, factors and their product.

A network with widths ``(d0, d1, …, dL)`` has factors ``[W_1, …, W_L]`` in the order
they act, ``W_i`` of shape ``(d_i, d_{i-1})``; a leading batch axis ``(S, d_i, d_{i-1})``
on every factor holds ``S`` networks at once. The one home of the width check, the
factor check, the factor initialiser and the chain product ``W_L ⋯ W_1``.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

from ..core.validation import as_matrix, check_int, check_rng, check_scalar

__all__ = ["check_widths", "rank_bound", "is_filling", "n_parameters", "check_factors",
           "widths_of", "random_factors", "chain_product", "end_to_end"]


# --------------------------------------------------------------------- widths
def check_widths(widths: Sequence[int], name: str = "widths") -> tuple[int, ...]:
    """Check a width list ``(d0, d1, …, dL)`` and return it as a tuple of ints.

    Raises
    ------
    TypeError
        If ``widths`` is not a sequence of integers.
    ValueError
        If it has fewer than two entries or a width below 1.
    """
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__iter__"):
        raise TypeError(f"{name} must be a sequence of layer widths (d0, d1, ..., dL), "
                        f"got {widths!r}.")
    ws = tuple(widths)
    if len(ws) < 2:
        raise ValueError(f"{name} == {ws} needs at least two entries (d0, dL): an input "
                         f"and an output width.")
    for w in ws:
        if isinstance(w, (bool, np.bool_)) or not isinstance(w, numbers.Integral):
            raise TypeError(f"every width must be an integer, got {w!r} in {name} == {ws}.")
        if w < 1:
            raise ValueError(f"every width must be >= 1 (a positive integer), got {name} == "
                             f"{ws}; a layer of width {w} has no units.")
    return tuple(int(w) for w in ws)


def rank_bound(widths: Sequence[int]) -> int:
    """The rank bound ``r = min(d0, d1, …, dL)`` of the end-to-end matrix."""
    return min(check_widths(widths))


def is_filling(widths: Sequence[int]) -> bool:
    """Whether the architecture is *filling*: ``r = min(d0, dL)``.

    Then ``M_r`` is all of ``R^{dL×d0}``; otherwise (*non-filling*,
    ``r < min(d0, dL)``) it is a proper determinantal variety.
    """
    ws = check_widths(widths)
    return min(ws) == min(ws[0], ws[-1])


def n_parameters(widths: Sequence[int]) -> int:
    """Number of weights ``Σ_i d_i d_{i-1}`` of the network (no biases)."""
    ws = check_widths(widths)
    return int(sum(a * b for a, b in zip(ws[:-1], ws[1:])))


# -------------------------------------------------------------------- factors
def check_factors(factors) -> list[np.ndarray]:
    if isinstance(factors, np.ndarray) and factors.ndim == 2:
        factors = [factors]
    try:
        fs = list(factors)
    except TypeError:
        raise TypeError(f"factors must be a list [W_1, ..., W_L] of matrices, got "
                        f"{type(factors).__name__}.") from None
    if not fs:
        raise ValueError("factors is empty; pass at least one matrix [W_1, ..., W_L].")
    fs = [as_matrix(F, f"W_{i + 1}") for i, F in enumerate(fs)]
    for i in range(1, len(fs)):
        if fs[i].shape[1] != fs[i - 1].shape[0]:
            rev = fs[::-1]
            chains = all(rev[j].shape[1] == rev[j - 1].shape[0] for j in range(1, len(rev)))
            hint = (" They chain in the reverse order: pass [W_1, ..., W_L], the first "
                    "layer first." if chains else "")
            raise ValueError(
                f"the factors do not chain: W_{i + 1} has shape {fs[i].shape} but W_{i} "
                f"has {fs[i - 1].shape[0]} rows; W_k must have shape (d_k, d_(k-1)).{hint}")
    return fs


def widths_of(factors) -> tuple[int, ...]:
    """The widths ``(d0, d1, …, dL)`` of the factors ``[W_1, …, W_L]``."""
    fs = check_factors(factors)
    return (fs[0].shape[1], *(F.shape[0] for F in fs))


def random_factors(widths: Sequence[int], rng: np.random.Generator, *, scale: float = 1.0,
                   starts: int | None = None) -> list[np.ndarray]:
    """Random factors ``[W_1, …, W_L]`` with i.i.d. ``N(0, scale²)`` entries.

    The one factor initialiser of the numpy side. ``W_i`` has shape
    ``(d_i, d_{i-1})``, drawn in layer order from ``rng``, which must be a
    :class:`numpy.random.Generator` (no global state); ``starts`` adds a leading batch
    axis of that many independent starts.
    """
    ws = check_widths(widths)
    check_rng(rng)
    scale = check_scalar(scale, "scale", min_val=0.0, include_boundaries="neither")
    batch = () if starts is None else (check_int(starts, "starts"),)
    return [scale * rng.normal(size=batch + (b, a)) for a, b in zip(ws[:-1], ws[1:])]


def chain_product(factors) -> np.ndarray:
    """``W_L ⋯ W_1`` of factors ``[W_1, …, W_L]`` (unchecked; batched factors broadcast)."""
    W = factors[0]
    for F in factors[1:]:
        W = F @ W
    return W


def end_to_end(factors) -> np.ndarray:
    """The parametrization map ``μ(W_1, …, W_L) = W_L ⋯ W_1``, of shape ``(dL, d0)``."""
    return chain_product(check_factors(factors))
