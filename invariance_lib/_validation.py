"""Input checks shared by every public function.

Each check raises an error that names the problem *and* what to do about it, in the
spirit of scikit-learn's ``check_array``. Nothing here changes a valid input.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

__all__ = [
    "AssumptionWarning",
    "as_matrix",
    "check_samples",
    "check_rank_bound",
    "check_lam",
    "check_constraint",
    "check_square_stack",
]


class AssumptionWarning(UserWarning):
    """A statement's hypothesis fails, but the problem is still solved.

    Raised as a warning (never an error) when, for example, the r-th and (r+1)-th
    singular values of the whitened target are tied, so that the rank-r optimum is
    not unique. :func:`invariance_lib.assumptions_report` explains every such case.
    """


def as_matrix(A, name: str, *, ndim: int = 2) -> np.ndarray:
    """Return ``A`` as a finite, real float64 array with ``ndim`` dimensions.

    Raises
    ------
    TypeError
        For complex or non-numeric input.
    ValueError
        For the wrong number of dimensions, an empty array, or NaN/inf entries.
    """
    try:
        arr = np.asarray(A)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} could not be read as a numeric array ({exc}); "
                        f"pass a numpy array of shape {_shape_hint(ndim)}.") from None
    if np.iscomplexobj(arr):
        raise TypeError(
            f"{name} is complex, but the closed forms are for real matrices. If its "
            f"imaginary part is zero, pass {name}.real; otherwise stack the real and "
            f"imaginary parts as separate real rows.")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} has dtype {arr.dtype}, not a number type; pass a numeric "
                        f"array of shape {_shape_hint(ndim)}.")
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array of shape {_shape_hint(ndim)}, got an array "
            f"with shape {arr.shape}." + (
                f" For a single sample use {name}.reshape(-1, 1)." if arr.ndim == 1 and ndim == 2 else ""))
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one entry.")
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s) (the first at index "
            f"{first}); remove or impute them before solving.")
    return arr


def _shape_hint(ndim: int) -> str:
    return {1: "(k,)", 2: "(rows, columns)", 3: "(m, d, d)"}.get(ndim, f"{ndim}-D")


def check_samples(X, Y) -> tuple[np.ndarray, np.ndarray]:
    """Check data in the paper's convention: ``X`` is ``(d0, n)``, ``Y`` is ``(dL, n)``."""
    X = as_matrix(X, "X")
    Y = as_matrix(Y, "Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y have inconsistent numbers of samples: X has shape {X.shape} "
            f"({X.shape[1]} samples) and Y has shape {Y.shape} ({Y.shape[1]} samples). "
            f"Columns are samples (X is (d0, n), Y is (dL, n)); if your samples are "
            f"rows, pass X.T and Y.T.")
    return X, Y


def check_rank_bound(r, d0: int, dL: int) -> int:
    """Check the rank bound ``r``: an integer with ``1 <= r <= min(d0, dL)``."""
    if isinstance(r, (bool, np.bool_)) or not isinstance(r, numbers.Integral):
        raise TypeError(
            f"r must be an integer (the rank bound, i.e. the narrowest layer width), "
            f"got {r!r} of type {type(r).__name__}; pass e.g. r=int({r!r}).")
    r = int(r)
    if r <= 0:
        raise ValueError(f"r == {r}, must be >= 1: a rank bound of {r} leaves only the "
                         f"zero map. Use the width of the narrowest hidden layer.")
    m = min(d0, dL)
    if r > m:
        raise ValueError(
            f"r == {r} exceeds min(d0, dL) == min({d0}, {dL}) == {m}: no {dL}x{d0} matrix "
            f"has rank above {m}. Use r <= {m} (r == {m} is the filling case, "
            f"with no rank constraint).")
    return r


def check_lam(lam, *, allow_array: bool = True) -> tuple[np.ndarray, bool]:
    """Check a regularisation strength (scalar, or a 1-D array for a path).

    Returns the values as a 1-D float array and whether the input was a scalar.
    """
    arr = np.asarray(lam)
    if np.iscomplexobj(arr) or not (np.issubdtype(arr.dtype, np.number)):
        raise TypeError(f"lam must be a real number or a 1-D array of real numbers, got {lam!r}.")
    if arr.ndim > 1 or (arr.ndim == 1 and not allow_array):
        raise ValueError(f"lam must be a scalar{' or a 1-D array' if allow_array else ''}, "
                         f"got shape {arr.shape}; pass lam.ravel() for a path.")
    if arr.ndim == 1 and arr.size == 0:
        raise ValueError("lam is an empty array; pass at least one value, e.g. np.logspace(-3, 3, 50).")
    vals = np.atleast_1d(arr).astype(np.float64)
    if not np.all(np.isfinite(vals)):
        raise ValueError(f"lam contains NaN or infinite values ({vals[~np.isfinite(vals)][:3]}); "
                         f"for the limit lam -> infinity use hardwired_optimum.")
    if np.any(vals < 0):
        raise ValueError(f"lam == {vals[vals < 0][0]:g}, must be >= 0: a negative penalty "
                         f"rewards non-invariance and the problem is unbounded below.")
    return vals, arr.ndim == 0


def check_constraint(G, d0: int, name: str = "G") -> np.ndarray:
    """Check the constraint matrix ``G`` of shape ``(d0, k)``.

    Also accepts a :class:`~invariance_lib.groups.Representation`, whose
    :meth:`constraint_matrix` is used.
    """
    if hasattr(G, "constraint_matrix") and callable(G.constraint_matrix):
        G = G.constraint_matrix()
    G = as_matrix(G, name)
    if G.shape[0] != d0:
        hint = (f" It looks transposed: pass {name}.T." if G.shape[1] == d0 else "")
        raise ValueError(
            f"{name} has shape {G.shape} but X has d0 == {d0} rows: the constraint matrix "
            f"must have shape (d0, k) so that the constraint reads W @ {name} == 0.{hint}")
    return G


def check_square_stack(mats, name: str, d: int | None = None) -> np.ndarray:
    """Check a non-empty list of ``(d, d)`` matrices and return a ``(m, d, d)`` array."""
    if isinstance(mats, np.ndarray) and mats.ndim == 2:
        mats = [mats]
    if not isinstance(mats, np.ndarray):
        try:
            mats = list(mats)
        except TypeError:
            raise TypeError(f"{name} must be a list of square matrices or an array of shape "
                            f"(m, d, d), got {type(mats).__name__}.") from None
        if len(mats) == 0:
            raise ValueError(f"{name} is empty; pass at least one ({'d, d' if d is None else f'{d}, {d}'}) matrix.")
        shapes = {np.shape(m) for m in mats}
        if len(shapes) > 1:
            raise ValueError(f"the matrices in {name} have different shapes {sorted(shapes)}; "
                             f"all must be square and of the same size.")
    arr = as_matrix(mats, name, ndim=3)
    if arr.shape[1] != arr.shape[2]:
        raise ValueError(f"the matrices in {name} have shape {arr.shape[1:]}, but a "
                         f"representation's matrices must be square (d, d).")
    if d is not None and arr.shape[1] != d:
        raise ValueError(f"the matrices in {name} are {arr.shape[1]}x{arr.shape[2]} but the data "
                         f"have d0 == {d} rows; they must act on the input space (d0 x d0).")
    return arr

