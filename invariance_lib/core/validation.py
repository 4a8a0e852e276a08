"""Input checks shared by every public function: the library's one set of validators.

Each check raises an error that names the argument, the problem *and* what to do
about it, in the spirit of scikit-learn's ``check_scalar`` and ``check_array``; a
wrong *type* is a ``TypeError``, a wrong *value* a ``ValueError``. One wording is
used throughout: ``"{name} must be {what}, got {value!r}."``. Nothing here changes
a valid input. Every public entry point of the library calls these once.
"""

from __future__ import annotations

import numbers
import numpy as np

__all__ = [
    "AssumptionWarning",
    "check_scalar",
    "check_int",
    "check_seed",
    "check_tolerance",
    "check_representation",
    "check_labels",
    "is_one_hot",
    "check_one_hot",
    "check_rng",
    "check_weights",
    "as_matrix",
    "check_samples",
    "check_scale",
    "check_rank_bound",
    "check_lam",
    "check_constraint",
    "is_representation",
    "constraint_matrix_of",
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


#: Entries of data must lie in ``[SAFE_SCALE_MIN, SAFE_SCALE_MAX]`` in absolute value
#: (their largest entry): the moments ``X Xᵀ`` then neither overflow nor lose their
#: precision to subnormal numbers in float64 (whose range is about 1e±308).
SAFE_SCALE_MIN, SAFE_SCALE_MAX = 1e-150, 1e150


def check_scale(A: np.ndarray, name: str) -> np.ndarray:
    """Refuse data whose scale makes its second moments overflow or underflow in float64.

    The optimum of every problem scales simply (``W → W · s_Y / s_X``), so rescaling
    the data first loses nothing; the message says how.
    """
    s = float(np.abs(A).max()) if A.size else 0.0
    if s > SAFE_SCALE_MAX or 0.0 < s < SAFE_SCALE_MIN:
        raise ValueError(
            f"{name} has entries of size {s:.1e}, outside the range [{SAFE_SCALE_MIN:.0e}, "
            f"{SAFE_SCALE_MAX:.0e}] in which its second moments ({name} {name}ᵀ) are "
            f"computed accurately in float64: they would "
            f"{'overflow' if s > SAFE_SCALE_MAX else 'underflow to zero'}. Rescale the data "
            f"first, e.g. {name} / np.abs({name}).max(); the optimal map scales as "
            f"W -> W * s_Y / s_X.")
    return A


def check_samples(X, Y, names: tuple[str, str] = ("X", "Y")) -> tuple[np.ndarray, np.ndarray]:
    """Check data in the paper's convention: ``X`` is ``(d0, n)``, ``Y`` is ``(dL, n)``.

    ``names`` are the arguments' names in the messages (e.g. ``("X_test", "Y_test")``).
    Data at an extreme scale are refused (:func:`check_scale`).
    """
    nx, ny = names
    X = check_scale(as_matrix(X, nx), nx)
    Y = check_scale(as_matrix(Y, ny), ny)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"{nx} and {ny} have inconsistent numbers of samples: {nx} has shape {X.shape} "
            f"({X.shape[1]} samples) and {ny} has shape {Y.shape} ({Y.shape[1]} samples). "
            f"Columns are samples ({nx} is (d0, n), {ny} is (dL, n)); if your samples are "
            f"rows, pass {nx}.T and {ny}.T.")
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


def is_representation(obj) -> bool:
    """Whether ``obj`` is a Representation (duck-typed: it has ``constraint_matrix()``)."""
    return hasattr(obj, "constraint_matrix") and callable(obj.constraint_matrix)


def constraint_matrix_of(G):
    """"A Representation or a matrix", handled once: the representation's
    :meth:`constraint_matrix`, or ``G`` itself (unchecked; see :func:`check_constraint`)."""
    return G.constraint_matrix() if is_representation(G) else G


def check_constraint(G, d0: int, name: str = "G") -> np.ndarray:
    """Check the constraint matrix ``G`` of shape ``(d0, k)``.

    Also accepts a :class:`~invariance_lib.core.groups.Representation`, whose
    :meth:`constraint_matrix` is used.
    """
    G = as_matrix(constraint_matrix_of(G), name)
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



# ------------------------------------------------------------------ scalars
def _type_names(target_type) -> str:
    types = target_type if isinstance(target_type, tuple) else (target_type,)
    names = {numbers.Integral: "an integer", numbers.Real: "a real number",
             str: "a string", bool: "a bool"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def check_scalar(x, name: str, target_type=numbers.Real, *, min_val=None, max_val=None,
                 include_boundaries: str = "both"):
    """Check a scalar argument's type and range, as scikit-learn's ``check_scalar``.

    Parameters
    ----------
    x : object
        The value passed.
    name : str
        The argument's name, used in the message.
    target_type : type or tuple of types, default numbers.Real
        Accepted types (``bool`` is never accepted as a number).
    min_val, max_val : float, optional
        Bounds of the accepted interval.
    include_boundaries : {"both", "left", "right", "neither"}
        Whether the bounds themselves are accepted.

    Returns
    -------
    The value, as ``int`` for integral targets and ``float`` for real ones.

    Raises
    ------
    TypeError
        ``"{name} must be {type}, got {x!r} of type {type(x)}."``
    ValueError
        ``"{name} must be finite, got nan."`` or ``"{name} == {x}, must be >= {min}."``
    """
    numeric = target_type in (numbers.Real, numbers.Integral) or (
        isinstance(target_type, tuple) and set(target_type) <= {numbers.Real, numbers.Integral})
    if (numeric and isinstance(x, (bool, np.bool_))) or not isinstance(x, target_type):
        raise TypeError(f"{name} must be {_type_names(target_type)}, got {x!r} of type "
                        f"{type(x).__name__}.")
    if not numeric:
        return x
    if isinstance(x, numbers.Integral) and target_type is numbers.Integral:
        x = int(x)
    else:
        x = float(x)
        if not np.isfinite(x):
            raise ValueError(f"{name} must be a finite number, got {x!r}.")
    left = include_boundaries in ("both", "left")
    right = include_boundaries in ("both", "right")
    if min_val is not None and (x < min_val or (x == min_val and not left)):
        raise ValueError(f"{name} == {x!r}, must be {'>=' if left else '>'} {min_val}.")
    if max_val is not None and (x > max_val or (x == max_val and not right)):
        raise ValueError(f"{name} == {x!r}, must be {'<=' if right else '<'} {max_val}.")
    return x


def check_int(v, name: str, minimum: int | None = 1, maximum: int | None = None) -> int:
    """An integer ``minimum <= v <= maximum`` (``bool`` refused): :func:`check_scalar`."""
    return check_scalar(v, name, numbers.Integral, min_val=minimum, max_val=maximum)


def check_seed(seed, name: str = "seed") -> int:
    """A seed: an integer ``>= 0`` (results depend on it, so it is always explicit)."""
    return check_int(seed, name, 0)


def check_tolerance(tol, name: str = "rtol") -> float:
    """A relative tolerance: a finite number with ``0 < tol < 1``."""
    return check_scalar(tol, name, numbers.Real, min_val=0.0, max_val=1.0,
                        include_boundaries="neither")


# ------------------------------------------------------ representations
def check_representation(rep, name: str = "rep", *, allow_none: bool = False):
    """Check that ``rep`` is a :class:`~invariance_lib.core.groups.Representation`.

    Anything with ``dim``, ``invariant_basis`` and ``constraint_matrix`` is accepted
    (duck typing); a string such as ``"c4"`` or an array is a ``TypeError`` that
    names the argument.
    """
    if rep is None and allow_none:
        return None
    if not all(hasattr(rep, a) for a in ("dim", "invariant_basis", "constraint_matrix")):
        raise TypeError(f"{name} must be a Representation (e.g. c4_rotations(14)), got "
                        f"{rep!r} of type {type(rep).__name__}.")
    return rep


# ----------------------------------------------------------------- labels
def check_labels(labels, name: str = "labels", n_classes: int | None = None) -> np.ndarray:
    """Integer class labels as a 1-D ``int64`` array; fractional values are refused.

    Float labels are accepted only when every value is a whole number (as read from
    a float-typed file); ``1.5`` is a ``ValueError``, never truncated.
    """
    arr = np.asarray(labels)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) \
            or np.iscomplexobj(arr):
        raise TypeError(f"{name} must be an array of integer class labels, got dtype "
                        f"{arr.dtype}.")
    arr = arr.ravel()
    if not np.issubdtype(arr.dtype, np.integer):
        bad = ~np.isfinite(arr) | (arr != np.round(arr)) if arr.size else np.zeros(0, bool)
        if bad.any():
            raise ValueError(f"{name} must hold whole numbers (class labels), but "
                             f"{int(bad.sum())} entries are not (the first is "
                             f"{arr[bad][0]!r}); labels are never truncated.")
    arr = arr.astype(np.int64)
    if n_classes is not None and arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"{name} must be row indices 0..{n_classes - 1} of the outputs, "
                         f"got values in {arr.min()}..{arr.max()}.")
    return arr


def is_one_hot(Y: np.ndarray) -> bool:
    """Whether every column of ``Y`` is a one-hot vector (one 1, zeros elsewhere)."""
    return bool(np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=0) == 1))


def check_one_hot(Y: np.ndarray, name: str = "Y") -> np.ndarray:
    """Refuse targets that are not one-hot columns (for recorded accuracies)."""
    if not is_one_hot(Y):
        raise ValueError(f"{name} must be one-hot (one 1 per column, zeros elsewhere) to "
                         f"record accuracies; pass accuracy=False for other targets.")
    return Y



def check_weights(weights, m: int, name: str = "weights") -> np.ndarray:
    """Probability weights on the ``m`` elements of a group (partial or weighted
    augmentation): ``None`` means uniform, ``1/m`` each; otherwise ``m`` finite,
    non-negative numbers, not all zero, returned normalised to sum to one."""
    if weights is None:
        return np.full(m, 1.0 / m)
    w = np.asarray(weights)
    if w.dtype == object or not np.issubdtype(w.dtype, np.number) or np.iscomplexobj(w):
        raise TypeError(f"{name} must be an array of {m} non-negative numbers (one per "
                        f"element), got {weights!r}; for uniform weights pass {name}=None.")
    w = w.astype(np.float64)
    if w.shape != (m,):
        raise ValueError(f"{name} has shape {w.shape} but there are {m} elements; pass one "
                         f"weight per element.")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"{name} must be finite, non-negative and not all zero; they are "
                         f"normalised to sum to one.")
    return w / w.sum()

def check_rng(rng, name: str = "rng"):
    """A :class:`numpy.random.Generator` (``np.random.default_rng(seed)``); no global state."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator, e.g. "
                        f"np.random.default_rng(0), got {type(rng).__name__}.")
    return rng
