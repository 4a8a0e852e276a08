"""Cross-entropy: the paper's Appendix C.2 and its open question 2 (chapter 9).

Conventions are the library's: ``X`` is ``(d0, n)`` (columns are samples), ``Y``
``(dL, n)`` one-hot, ``W`` ``(dL, d0)``. The cross-entropy of a map ``W`` is the
mean over samples of ``−log softmax(W x_i)_{y_i}``.

* :class:`CrossEntropyProblem` — the objectives of the three methods on the
  end-to-end map, with value, gradient and Hessian-vector product:

  ============  ============================================================
  method        objective of the coefficients ``M``
  ============  ============================================================
  plain         ``CE(M X) + μ‖M‖²``
  augmented     ``(1/|G|) Σ_g CE(M ρ(g) X) + μ‖M‖²`` (``n|G|`` samples)
  hardwired     ``CE(M B X) + μ‖M‖²`` (map ``W = M B``, ``B`` orthonormal basis)
  regularized   ``CE(M X) + λ‖M G‖² + μ‖M‖²``
  ============  ============================================================

  ``μ`` (``ridge``) is not in the paper; it makes the objective strictly convex.
* :meth:`CrossEntropyProblem.factorised` — the same objective of a two-layer
  network ``M = W_2 W_1``, with gradient and exact Hessian (small problems).
* :func:`minimiser_exists` — the linear program
  that decides whether the unregularised cross-entropy has a minimiser.
* :func:`stationary_points` — many-start search for the stationary points of the
  factorised objective, with their Hessian indices (small problems);
  :func:`lbfgs_starts` — many-start L-BFGS for its minima (MNIST-sized).
* :func:`run_cross_entropy_section4` — the Section 4 runs trained with
  cross-entropy, over seeds (PyTorch; imported when called).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..core.validation import (as_matrix, check_int, check_representation,
                               check_samples, check_scalar, check_seed)
from ..core.linalg import blas_threads
from ..measures import w_perp_norm

__all__ = ["CrossEntropyProblem", "minimiser_exists",
           "SeparabilityResult", "StationaryPoint", "stationary_points",
           "hessian_index", "run_cross_entropy_section4", "CE_LAMS",
           "cross_entropy_toy", "StartResult", "lbfgs_starts"]

#: The penalty strengths of the paper's Appendix C.2.
CE_LAMS = (1e-2, 1e-1, 1.0)

_METHODS = {"plain": "plain", "augmented": "augmented", "augmentation": "augmented",
            "hardwired": "hardwired", "hard-wired": "hardwired",
            "regularized": "regularized", "regularisation": "regularized"}


def _softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def _check_targets(Y: np.ndarray) -> None:
    if not (np.all(Y >= 0) and np.allclose(Y.sum(axis=0), 1.0)):
        raise ValueError("Y must hold probability vectors as columns (one-hot labels) "
                         "for the cross-entropy; one_hot(labels, classes) makes them.")


class CrossEntropyProblem:
    """The cross-entropy objective of one method (see the module table).

    Parameters
    ----------
    X, Y : arrays (d0, n), (dL, n)
        Inputs and one-hot (or probability) targets.
    method : {"plain", "augmented", "hardwired", "regularized"}
        Aliases ``"augmentation"``, ``"hard-wired"``, ``"regularisation"``.
    rep : Representation, optional
        Needed by every method except ``"plain"``; must be orthogonal for
        ``"augmented"`` and ``"hardwired"`` (the statements of chapter 9 use it).
    lam : float, default 0
        ``λ`` of regularisation.
    ridge : float, default 0
        ``μ ≥ 0`` of the ridge term ``μ‖M‖²``.

    Notes
    -----
    With ``P = softmax(M X_s)`` on the method's inputs ``X_s`` (``N`` columns),
    ``∇ = (P − Y_s) X_sᵀ / N + 2λ M GGᵀ + 2μ M``; the Hessian acts on a direction
    ``D`` as ``(P∘(D X_s) − P·diag(1ᵀ(P∘(D X_s)))) X_sᵀ / N + 2λ D GGᵀ + 2μ D``.
    """

    def __init__(self, X, Y, method: str = "plain", *, rep=None, lam: float = 0.0,
                 ridge: float = 0.0) -> None:
        X, Y = check_samples(X, Y)
        _check_targets(Y)
        if not isinstance(method, str):
            raise TypeError(f"method must be a string such as 'augmented', got "
                            f"{type(method).__name__}.")
        if method.lower() not in _METHODS:
            raise ValueError(f"unknown method {method!r}; use one of 'plain', "
                             f"'augmented', 'hardwired', 'regularized'.")
        self.method = _METHODS[method.lower()]
        self.lam = check_scalar(lam, "lam", min_val=0.0)
        self.ridge = check_scalar(ridge, "ridge", min_val=0.0)
        if self.method != "plain":
            rep = check_representation(rep)
            if rep.dim != X.shape[0]:
                raise ValueError(f"rep acts on R^{rep.dim} but X has d0 == "
                                 f"{X.shape[0]} rows.")
            if self.method in ("augmented", "hardwired") and not rep.is_orthogonal():
                raise ValueError(f"method {self.method!r} needs an orthogonal "
                                 f"representation here; {rep.name} is not.")
        if self.lam and self.method != "regularized":
            raise ValueError("lam > 0 is the penalty of method='regularized'; use "
                             "ridge=... for a ridge term.")
        self.rep, self.X, self.Y = rep, X, Y
        self.d0, self.dL = X.shape[0], Y.shape[0]
        self.B = rep.invariant_basis() if self.method == "hardwired" else None
        if self.method == "augmented":
            self.Xs = np.concatenate([E @ X for E in rep.elements()], axis=1)
            self.Ys = np.tile(Y, (1, rep.order))
        elif self.method == "hardwired":
            self.Xs, self.Ys = self.B @ X, Y
        else:
            self.Xs, self.Ys = X, Y
        self.GGt = None
        if self.method == "regularized":
            G = rep.constraint_matrix()
            self.GGt = G @ G.T
        self.m = self.Xs.shape[0]

    # ------------------------------------------------------------ shapes
    def _check_M(self, M, name: str = "M") -> np.ndarray:
        M = as_matrix(M, name)
        if M.shape != (self.dL, self.m):
            raise ValueError(f"{name} has shape {M.shape}; this problem's coefficients "
                             f"are (dL, m) == ({self.dL}, {self.m}).")
        return M

    def to_map(self, M) -> np.ndarray:
        """The end-to-end map ``W`` (``M B`` when hard-wired, else ``M``)."""
        M = self._check_M(M)
        return M @ self.B if self.B is not None else M

    # ------------------------------------------------------ value & grad
    def value(self, M) -> float:
        """The objective at coefficients ``M``."""
        return self.value_grad(M)[0]

    def value_grad(self, M) -> tuple[float, np.ndarray]:
        """The objective and its gradient at ``M`` (module Notes)."""
        M = self._check_M(M)
        Z = M @ self.Xs
        Zmax = Z.max(axis=0, keepdims=True)
        lse = Zmax[0] + np.log(np.exp(Z - Zmax).sum(axis=0))
        N = Z.shape[1]
        value = float(np.sum(self.Ys * (lse - Z)) / N)
        P = _softmax(Z)
        grad = (P * self.Ys.sum(axis=0) - self.Ys) @ self.Xs.T / N
        if self.GGt is not None and self.lam:
            MG = M @ self.GGt
            value += self.lam * float(np.sum(MG * M))
            grad += 2 * self.lam * MG
        if self.ridge:
            value += self.ridge * float(np.sum(M * M))
            grad += 2 * self.ridge * M
        return value, grad

    def hvp(self, M, D) -> np.ndarray:
        """The Hessian at ``M`` applied to a direction ``D`` (same shape)."""
        M, D = self._check_M(M), self._check_M(D, "D")
        P = _softmax(M @ self.Xs) * self.Ys.sum(axis=0)
        dZ = D @ self.Xs
        PdZ = P * dZ
        out = (PdZ - P * PdZ.sum(axis=0) / self.Ys.sum(axis=0)) @ self.Xs.T \
            / self.Xs.shape[1]
        if self.GGt is not None and self.lam:
            out += 2 * self.lam * D @ self.GGt
        if self.ridge:
            out += 2 * self.ridge * D
        return out

    def hessian(self, M) -> np.ndarray:
        """The dense Hessian ``(dL·m, dL·m)`` in row-major ``vec(M)`` (small problems)."""
        M = self._check_M(M)
        k = self.dL * self.m
        return np.stack([self.hvp(M, e.reshape(self.dL, self.m)).ravel()
                         for e in np.eye(k)], axis=1)

    # -------------------------------------------------------- factorised
    def split(self, theta, r: int) -> tuple[np.ndarray, np.ndarray]:
        """``(W_1, W_2)`` of shapes ``(r, m)``, ``(dL, r)`` from ``θ = [vec W_1, vec W_2]``."""
        theta = np.asarray(theta, dtype=np.float64).ravel()
        if theta.size != r * (self.m + self.dL):
            raise ValueError(f"theta has {theta.size} entries; a width-{r} network has "
                             f"r·(m + dL) == {r * (self.m + self.dL)}.")
        return theta[: r * self.m].reshape(r, self.m), theta[r * self.m:].reshape(self.dL, r)

    def factorised(self, theta, r: int) -> tuple[float, np.ndarray]:
        """Value and gradient of ``θ ↦ L(W_2 W_1)`` (chain rule:
        ``∇_{W_1} = W_2ᵀ∇L``, ``∇_{W_2} = ∇L W_1ᵀ``)."""
        W1, W2 = self.split(theta, r)
        v, g = self.value_grad(W2 @ W1)
        return v, np.concatenate([(W2.T @ g).ravel(), (g @ W1.T).ravel()])

    def factorised_hvp(self, theta, r: int, direction) -> np.ndarray:
        """The Hessian of ``θ ↦ L(W_2 W_1)`` applied to a direction ``(dW_1, dW_2)``.

        With ``M = W_2 W_1``, ``dM = dW_2 W_1 + W_2 dW_1``, ``g = ∇L(M)`` and
        ``H = ∇²L(M)`` (:meth:`hvp`), differentiating the chain rule of
        :meth:`factorised` gives ``d∇_{W_1} = W_2ᵀ H[dM] + dW_2ᵀ g`` and
        ``d∇_{W_2} = H[dM] W_1ᵀ + g dW_1ᵀ``. One product costs two passes over
        the samples; :meth:`factorised_hessian` is its dense form.

        Parameters
        ----------
        theta : array (r·(m + dL),)
            ``[vec W_1, vec W_2]`` as in :meth:`split`.
        r : int
            The width.
        direction : array (r·(m + dL),)
            ``[vec dW_1, vec dW_2]``.
        """
        W1, W2 = self.split(theta, r)
        dW1, dW2 = self.split(direction, r)
        M = W2 @ W1
        _, g = self.value_grad(M)
        HdM = self.hvp(M, dW2 @ W1 + W2 @ dW1)
        return np.concatenate([(W2.T @ HdM + dW2.T @ g).ravel(),
                               (HdM @ W1.T + g @ dW1.T).ravel()])

    def factorised_hessian(self, theta, r: int) -> np.ndarray:
        """Exact Hessian of ``θ ↦ L(W_2 W_1)``: ``JᵀH_L J`` plus the term
        ``2⟨∇L, dW_2 dW_1⟩`` of the product's second derivative."""
        W1, W2 = self.split(theta, r)
        M = W2 @ W1
        _, g = self.value_grad(M)
        n1, n2 = r * self.m, self.dL * r
        cols = []
        for e in np.eye(n1 + n2):
            dW1, dW2 = e[:n1].reshape(r, self.m), e[n1:].reshape(self.dL, r)
            cols.append((dW2 @ W1 + W2 @ dW1).ravel())
        J = np.stack(cols, axis=1)                       # (dL·m, n1 + n2)
        H = J.T @ self.hessian(M) @ J
        # bilinear term: ∂²/∂W1_{ij}∂W2_{ak} of ⟨g, W2 W1⟩ = g_{aj} δ_{ik}
        C = np.zeros((n1, n2))
        for i in range(r):
            for j in range(self.m):
                for a in range(self.dL):
                    C[i * self.m + j, a * r + i] = g[a, j]
        H[:n1, n1:] += C
        H[n1:, :n1] += C.T
        return (H + H.T) / 2


@dataclass(frozen=True)
class SeparabilityResult:
    """What :func:`minimiser_exists` found.

    Attributes
    ----------
    exists : bool
        Whether the unregularised cross-entropy has a minimiser.
    margin_fraction : float
        Optimal value of the LP divided by ``n(K−1)``: the largest share of
        margins that one direction makes positive while none is negative. 1 when
        the data are strictly separable, 0 when a minimiser exists, in between
        when they are quasi-separable.
    direction : ndarray (K, d)
        A direction ``D`` along which the loss decreases to its infimum.
    """

    exists: bool
    margin_fraction: float
    direction: np.ndarray


def minimiser_exists(X, labels, n_classes: int | None = None, *,
                     tol: float = 1e-7) -> SeparabilityResult:
    """Decide with one linear program whether ``W ↦ CE(WX)`` has a minimiser.

    Solves ``max Σ_{i, c≠y_i} s_{ic}`` over directions ``D`` and ``s_{ic} ∈ [0, 1]``
    with margins ``m_{ic} = (D x_i)_{y_i} − (D x_i)_c ≥ s_{ic}``
    (``scipy.optimize.linprog``: HiGHS's interior point, its dual simplex as a
    fallback). Scaling ``D`` lifts every positive margin
    above 1, so the optimum counts the margins that can be made positive while
    none is negative. A minimiser exists iff the optimum is 0:
    a positive optimum gives a direction along which no term of the loss grows and
    one strictly falls, so no point is a minimiser; a zero optimum means every
    direction that changes the logits beyond the softmax shift raises a margin's
    loss without bound, so the loss is coercive on the rest and attains its
    minimum (Albert and Anderson's criterion for logistic regression).

    Parameters
    ----------
    X : array (d, n)
        Inputs (columns); pass ``B X`` for the invariant features.
    labels : array (n,) of int
    n_classes : int, optional
        Default ``max(labels) + 1``.
    tol : float
        Optimal values below ``tol · n(K−1)`` count as 0.
    """
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, hstack, identity

    X = as_matrix(X, "X")
    lab = np.asarray(labels)
    if lab.ndim != 1 or not np.issubdtype(lab.dtype, np.integer):
        raise TypeError("labels must be a 1-D array of integer class labels.")
    if lab.size != X.shape[1]:
        raise ValueError(f"labels has {lab.size} entries but X has {X.shape[1]} columns.")
    K = int(lab.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", 2)
    if lab.min() < 0 or lab.max() >= K:
        raise ValueError(f"labels must lie in 0..{K - 1}.")
    d, n = X.shape
    rows, cols, vals = [], [], []
    r = 0
    for i in range(n):
        for c in range(K):
            if c == lab[i]:
                continue
            rows += [r] * (2 * d)
            cols += list(lab[i] * d + np.arange(d)) + list(c * d + np.arange(d))
            vals += list(X[:, i]) + list(-X[:, i])
            r += 1
    A = coo_matrix((vals, (rows, cols)), shape=(r, K * d)).tocsr()
    # variables [vec D, s]: maximise Σ s subject to A vec D >= s, 0 <= s <= 1
    cost = np.concatenate([np.zeros(K * d), -np.ones(r)])
    A_ub = hstack([-A, identity(r, format="csr")]).tocsr()
    bounds = [(None, None)] * (K * d) + [(0, 1)] * r
    # HiGHS's interior point first: its simplex was seen to stop with "Status 0:
    # Not Set" on the MNIST features under another CPU's BLAS kernels.
    for method in ("highs-ipm", "highs-ds"):
        res = linprog(cost, A_ub=A_ub, b_ub=np.zeros(r), bounds=bounds,
                      method=method)
        if res.status == 0:
            break
    if res.status != 0:
        raise RuntimeError(f"the linear program did not solve: {res.message}")
    frac = float(-res.fun) / r
    return SeparabilityResult(exists=frac <= tol, margin_fraction=frac,
                              direction=res.x[: K * d].reshape(K, d))


# --------------------------------------------------------- stationary points
def hessian_index(H, tol: float = 1e-7) -> tuple[int, int]:
    """``(index, nullity)``: eigenvalues below ``−tol·s`` and within ``tol·s`` of 0,
    ``s = max(1, max|eig|)``."""
    H = as_matrix(H, "H")
    e = np.linalg.eigvalsh((H + H.T) / 2)
    s = max(1.0, float(np.abs(e).max()))
    return int(np.sum(e < -tol * s)), int(np.sum(np.abs(e) <= tol * s))


@dataclass
class StationaryPoint:
    """One stationary point of a factorised objective (a class of starts)."""

    W: np.ndarray
    value: float
    index: int
    nullity: int
    grad_norm: float
    w_perp: float
    count: int = 1
    indices: set = field(default_factory=set)


def stationary_points(problem: CrossEntropyProblem, r: int, *, starts: int = 100,
                      seed: int = 0, scale: float = 1.0, gtol: float = 1e-9,
                      w_tol: float = 1e-5) -> list[StationaryPoint]:
    """Stationary points of ``θ ↦ L(W_2 W_1)`` from many starts, with Hessian indices.

    Each start solves ``∇L(θ) = 0`` by Levenberg–Marquardt on the gradient with
    the exact Hessian as its Jacobian (``scipy.optimize.least_squares``), which
    converges to saddles as well as minima. Starts whose gradient norm ends below
    ``gtol`` are kept and grouped by their end-to-end map ``W`` (the network's
    function; ``(W_1, W_2)`` is determined only up to ``GL(r)``). For each group:
    the objective, the smallest index and nullity over its starts (``indices``
    holds every index seen) and ``‖W_⊥‖_F`` (:func:`~invariance_lib.measures.w_perp_norm`;
    ``‖W − WḠ‖`` for orthogonal ``ρ``, 0 for an invariant map).
    """
    from scipy.optimize import least_squares

    r, starts, rng = _check_search(problem, r, starts, seed)
    scale = check_scalar(scale, "scale", min_val=0.0, include_boundaries="neither")
    size = r * (problem.m + problem.dL)
    found: list[StationaryPoint] = []
    for _ in range(starts):
        theta0 = rng.normal(scale=scale, size=size)
        sol = least_squares(lambda t: problem.factorised(t, r)[1], theta0,
                            jac=lambda t: problem.factorised_hessian(t, r),
                            method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                            max_nfev=2000)
        v, g = problem.factorised(sol.x, r)
        gn = float(np.linalg.norm(g))
        if gn > gtol:
            continue
        W1, W2 = problem.split(sol.x, r)
        W = problem.to_map(W2 @ W1)
        idx, nul = hessian_index(problem.factorised_hessian(sol.x, r))
        for p in found:
            if np.linalg.norm(p.W - W) <= w_tol * max(1.0, np.linalg.norm(W)):
                p.count += 1
                p.indices.add(idx)
                p.index, p.nullity = min(p.index, idx), min(p.nullity, nul)
                break
        else:
            wp = 0.0 if problem.rep is None else w_perp_norm(W, problem.rep)
            found.append(StationaryPoint(W, v, idx, nul, gn, wp, 1, {idx}))
    return sorted(found, key=lambda p: p.value)


@dataclass(frozen=True)
class StartResult:
    """Where one start of :func:`lbfgs_starts` ended.

    Attributes
    ----------
    value : float
        The objective at the end.
    grad_norm : float
        ``‖∇_θ f‖₂`` there (``θ = [vec W_1, vec W_2]``).
    theta : ndarray
        The factors, ``[vec W_1, vec W_2]`` (:meth:`CrossEntropyProblem.split`).
    W : ndarray (dL, d0)
        The end-to-end map on the pixels (``W_2 W_1 B`` when hard-wired).
    iterations : int
        L-BFGS iterations used.
    """

    value: float
    grad_norm: float
    theta: np.ndarray
    W: np.ndarray
    iterations: int


def lbfgs_starts(problem: CrossEntropyProblem, r: int, *, starts: int = 20,
                 seed: int = 0, gtol: float = 1e-10,
                 maxiter: int = 20000) -> list[StartResult]:
    """Minimise ``θ ↦ L(W_2 W_1)`` from many random starts by L-BFGS.

    Each start draws ``W_1`` (``r × m``) with entries ``N(0, 1/m)`` and ``W_2``
    (``dL × r``) with entries ``N(0, 1/r)`` from one seeded generator, and runs
    ``scipy.optimize.minimize(method="L-BFGS-B")`` with the analytic gradient of
    :meth:`CrossEntropyProblem.factorised`, memory 20, ``ftol=0`` (continue while
    the objective still decreases in floating point) and ``max|∂f/∂θ_k| ≤ gtol``.
    Unlike :func:`stationary_points` this finds minima only, and it scales to
    MNIST: one evaluation is two passes over the (augmented) samples. BLAS runs on
    one thread meanwhile (:func:`~invariance_lib.core.linalg.blas_threads`). The
    cross-entropy counterpart of :func:`invariance_lib.checks.factorised_fit`.

    Parameters
    ----------
    problem : CrossEntropyProblem
        The objective; ``ridge > 0`` gives it minimisers
        (part 3 of the proposition "Group averaging" of chapter 9).
    r : int
        The width (``r ≥ min(m, dL)``: no bottleneck).
    starts, seed : int
        Number of starts and the seed of their generator.
    gtol : float
        L-BFGS-B's tolerance on the largest gradient entry.
    maxiter : int
        Iteration limit per start.

    Returns
    -------
    list of StartResult
        One per start, in the order drawn (not sorted).
    """
    from scipy.optimize import minimize

    r, starts, rng = _check_search(problem, r, starts, seed)
    gtol = check_scalar(gtol, "gtol", min_val=0.0, include_boundaries="neither")
    maxiter = check_int(maxiter, "maxiter")
    m, dL = problem.m, problem.dL
    out = []
    with blas_threads(1):   # small products: one thread (several times faster)
        for _ in range(starts):
            theta0 = np.concatenate([rng.normal(scale=m ** -0.5, size=r * m),
                                     rng.normal(scale=r ** -0.5, size=dL * r)])
            res = minimize(lambda t: problem.factorised(t, r), theta0, jac=True,
                           method="L-BFGS-B",
                           options={"maxiter": maxiter, "maxfun": 2 * maxiter,
                                    "gtol": gtol, "ftol": 0.0, "maxcor": 20})
            v, g = problem.factorised(res.x, r)
            W1, W2 = problem.split(res.x, r)
            out.append(StartResult(v, float(np.linalg.norm(g)), res.x,
                                   problem.to_map(W2 @ W1), int(res.nit)))
    return out


def cross_entropy_toy(rep, n: int = 12, n_classes: int = 3, *, seed: int = 0,
                      noise: float = 1.0):
    """A small synthetic classification problem: Gaussian inputs, labels from an
    invariant linear teacher plus noise. Returns ``(X, Y, labels)``."""
    rep = check_representation(rep)
    n = check_int(n, "n")
    K = check_int(n_classes, "n_classes", 2)
    rng = np.random.default_rng(check_seed(seed))
    X = rng.standard_normal((rep.dim, n))
    B = rep.invariant_basis()
    T = rng.standard_normal((K, B.shape[0])) @ B
    labels = np.argmax(T @ X + noise * rng.standard_normal((K, n)), axis=0)
    return X, np.eye(K)[:, labels], labels


# ------------------------------------------------------------ Section 4 runs
def run_cross_entropy_section4(seeds: Sequence[int] = range(5), *,
                               lams: Sequence[float] = CE_LAMS, epochs: int = 1000,
                               record_every: int = 10, eval_every: int = 25,
                               n_train: int = 1000, hidden: int = 5,
                               mnist_path=None) -> list[dict]:
    """The Section 4 runs with the cross-entropy loss, one seed at a time.

    For each seed ``s``: ``load_mnist(mnist_path, n_train=n_train, seed=s)`` (the
    seed fixes the 1,000-image subset and the initial weights), then augmentation,
    hard-wiring and regularisation with each ``λ`` in ``lams`` trained together by
    :func:`~invariance_lib.experiments.stacked.train_stacked`: full batch, Adam
    (lr 1e-3, betas (0.9, 0.999)), float32 on two threads, the mean cross-entropy
    of the softmax of ``W x`` plus ``λ‖WG‖²``. The paper's 2,000 epochs are
    ``epochs=2000``.

    Returns
    -------
    list of dict
        ``{"seed", "data", "histories"}`` per seed, histories in the order
        augmentation, hard-wired, then the λ.
    """
    from invariance_lib import c4_rotations, load_mnist
    from invariance_lib.experiments.stacked import NetRun, train_stacked

    seeds = [check_seed(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty; pass at least one seed, e.g. range(5).")
    rep = c4_rotations(14)
    out = []
    for s in seeds:
        data = load_mnist(mnist_path, n_train=n_train, seed=s)
        runs = [NetRun("augmentation", hidden, seed=s),
                NetRun("hard-wired", hidden, seed=s)]
        runs += [NetRun("regularisation", hidden, lam=float(v), seed=s) for v in lams]
        hs = train_stacked(data.X_train, data.Y_train, runs, rep=rep,
                           loss="cross_entropy", epochs=epochs,
                           record_every=record_every, eval_every=eval_every,
                           X_test=data.X_test, Y_test=data.Y_test)
        out.append({"seed": s, "data": data, "histories": hs})
    return out


def _check_search(problem, r, starts, seed):
    """The arguments every many-start search takes: ``(r, starts, rng)``, checked."""
    if not isinstance(problem, CrossEntropyProblem):
        raise TypeError(f"problem must be a CrossEntropyProblem, got "
                        f"{type(problem).__name__}.")
    return (check_int(r, "r"), check_int(starts, "starts"),
            np.random.default_rng(check_seed(seed)))
