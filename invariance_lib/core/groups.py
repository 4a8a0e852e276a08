"""Groups as their generators: representations, constraint matrices, invariant bases.

A :class:`Representation` ``ρ : G → GL(ℝ^d)`` is given by the matrices of a set of
generators of a finite group and, for a Lie group, the matrices ``dρ(A_k)`` of its
Lie-algebra generators (as in EMLP, Finzi, Welling & Wilson 2021). Everything the
book needs follows from them:

* the finite group's elements, by closure under multiplication;
* the paper's constraint matrix ``G = [I − ρ(g_1), …, I − ρ(g_M), dρ(A_1), …]``
  (Proposition 4 and Remark 5): ``W`` is invariant iff ``W G = 0``;
* the group average (Reynolds operator) ``Ḡ = (1/|G|) Σ_g ρ(g)`` (Lemma B.5);
* an orthonormal basis of the invariant row vectors ``{w : w G = 0}``;
* the equivariance constraint for an output representation (Appendix A).

Vectors are images flattened in row-major (C) order: pixel ``(i, j)`` of a
``k × k`` image is entry ``i·k + j``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .validation import (as_matrix, check_int, check_representation, check_square_stack,
                         check_tolerance)
from .linalg import left_null_space, psd_root

__all__ = [
    "Representation",
    "is_group",
    "rot90_matrix",
    "c4_rotations",
    "d4_symmetries",
    "cyclic_shifts",
    "from_matrix",
    "so2",
    "trivial",
]

_ATOL = 1e-8  # matrices closer than this (relative to their size) are the same element


class Representation:
    """A real matrix representation of a group, built from its generators.

    Parameters
    ----------
    generators : sequence of (d, d) arrays, or array of shape (m, d, d)
        Matrices ``ρ(g_1), …, ρ(g_m)`` of generators of a finite group (or of the
        discrete part of a Lie group). Each must be invertible.
    lie_generators : sequence of (d, d) arrays, optional
        Matrices ``dρ(A_1), …, dρ(A_p)`` of Lie-algebra generators of a connected
        Lie group. With these the group is infinite and :meth:`elements` is refused.
    name : str, optional
        Shown in ``repr`` and in plots.
    max_elements : int, default 10_000
        Bound for the closure in :meth:`elements`.

    Raises
    ------
    ValueError
        If a generator is not square, has the wrong size, is not finite, or is not
        invertible (then ``ρ`` is not a group action).
    TypeError
        For complex or non-numeric matrices.

    Examples
    --------
    >>> rho = c4_rotations(14)
    >>> rho.order, rho.invariant_basis().shape
    (4, (49, 196))
    """

    def __init__(self, generators: Sequence[np.ndarray] | np.ndarray = (),
                 lie_generators: Sequence[np.ndarray] | np.ndarray = (), *,
                 name: str = "", max_elements: int = 10_000) -> None:
        gens = _as_stack(generators, "generators")
        lies = _as_stack(lie_generators, "lie_generators")
        if gens is None and lies is None:
            raise ValueError("a representation needs at least one generator matrix or one "
                             "Lie-algebra generator; for the trivial group use trivial(d).")
        d = (gens if gens is not None else lies).shape[1]
        if gens is not None and lies is not None and gens.shape[1] != lies.shape[1]:
            raise ValueError(f"generators are {gens.shape[1]}x{gens.shape[1]} but Lie-algebra "
                             f"generators are {lies.shape[1]}x{lies.shape[1]}; both must act on "
                             f"the same space.")
        self.generators = gens if gens is not None else np.zeros((0, d, d))
        self.lie_generators = lies if lies is not None else np.zeros((0, d, d))
        for i, g in enumerate(self.generators):
            cond = np.linalg.cond(g)
            if not np.isfinite(cond) or cond > 1e12:
                raise ValueError(
                    f"generator {i} is not invertible (condition number {cond:.2g}), so ρ is "
                    f"not a group action: every ρ(g) must have an inverse ρ(g⁻¹). Check the "
                    f"matrix, or drop it if it is a projection rather than a symmetry.")
        self.generators.flags.writeable = False
        self.lie_generators.flags.writeable = False
        self.dim = d
        self.name = name or f"group on R^{d}"
        self.max_elements = check_int(max_elements, "max_elements")
        self._elements: np.ndarray | None = None
        self._bases: dict[tuple[float, float], np.ndarray] = {}

    # ------------------------------------------------------------------ basics
    def __repr__(self) -> str:
        parts = [f"{len(self.generators)} generator(s)"]
        if len(self.lie_generators):
            parts.append(f"{len(self.lie_generators)} Lie-algebra generator(s)")
        if self._elements is not None:
            parts.append(f"order {len(self._elements)}")
        return f"Representation({self.name!r}, dim={self.dim}, {', '.join(parts)})"

    @property
    def is_lie(self) -> bool:
        """True when the group has Lie-algebra generators (it is infinite)."""
        return len(self.lie_generators) > 0

    def elements(self) -> np.ndarray:
        """All matrices ``ρ(g)``, found by closing the generators under multiplication.

        Returns
        -------
        ndarray of shape (|G|, d, d)
            The identity first, then elements in breadth-first order of word length.

        Raises
        ------
        ValueError
            If the group is a Lie group, if a generator has infinite order (an
            eigenvalue off the unit circle, or no power returns to the identity), or
            if the closure exceeds ``max_elements``.
        """
        if self._elements is not None:
            return self._elements
        if self.is_lie:
            raise ValueError(f"{self.name} has Lie-algebra generators, so it has infinitely many "
                             f"elements; use constraint_matrix() or invariant_basis(), which need "
                             f"only the generators.")
        for i, g in enumerate(self.generators):
            _check_finite_order(g, f"generator {i}", self.max_elements)
        d = self.dim
        buf = np.empty((min(64, self.max_elements + 1), d, d))
        buf[0] = np.eye(d)
        count = 1
        frontier = [buf[0].copy()]
        while frontier:
            new = []
            for e in frontier:
                for g in self.generators:
                    cand = g @ e
                    tol = _ATOL * max(1.0, np.abs(cand).max())
                    if np.any(np.abs(buf[:count] - cand).max(axis=(1, 2)) <= tol):
                        continue
                    if count == len(buf):
                        buf = np.concatenate([buf, np.empty_like(buf)])
                    buf[count] = cand
                    count += 1
                    new.append(cand)
                    if count > self.max_elements:
                        raise ValueError(
                            f"the generators of {self.name} did not close into a group within "
                            f"max_elements={self.max_elements} elements. Either the group is "
                            f"infinite (products of finite-order matrices can have infinite "
                            f"order) or it is larger: pass max_elements=... to Representation.")
            frontier = new
        self._elements = buf[:count].copy()
        self._elements.flags.writeable = False
        return self._elements

    @property
    def order(self) -> int:
        """``|G|``, the number of distinct matrices ``ρ(g)``."""
        return len(self.elements())

    def is_orthogonal(self, atol: float = 1e-10) -> bool:
        """Whether ``ρ`` is unitary (orthogonal): ``ρ(g)ᵀρ(g) = I`` for all ``g``.

        Checked on the generators (products of orthogonal matrices are orthogonal)
        and, for Lie groups, ``dρ(A)ᵀ = −dρ(A)`` (the Lie algebra of ``O(d)``).
        """
        eye = np.eye(self.dim)
        gens_ok = all(np.allclose(g.T @ g, eye, atol=atol, rtol=0) for g in self.generators)
        lie_ok = all(np.allclose(a.T, -a, atol=atol, rtol=0) for a in self.lie_generators)
        return gens_ok and lie_ok

    # ------------------------------------------------------------ invariance
    def constraint_matrix(self) -> np.ndarray:
        """The paper's constraint matrix ``G`` (Proposition 4, Remark 5).

        ``G = [I − ρ(g_1), …, I − ρ(g_M), dρ(A_1), …, dρ(A_P)]`` of shape
        ``(d, (M + P)·d)``. A linear map ``W`` is invariant, ``W ρ(g) = W`` for every
        group element ``g``, iff ``W G = 0``.
        """
        blocks = [np.eye(self.dim) - g for g in self.generators] + list(self.lie_generators)
        return np.concatenate(blocks, axis=1)

    def group_average(self) -> np.ndarray:
        """The group average (Reynolds operator) ``Ḡ = (1/|G|) Σ_g ρ(g)`` (Lemma B.5).

        ``Ḡ`` is idempotent and ``Ḡ ρ(h) = ρ(h) Ḡ = Ḡ``; it is symmetric (the
        orthogonal projector onto the invariant vectors) when ``ρ`` is unitary.
        For a compact Lie group with an orthogonal representation the Haar average
        is that orthogonal projector, which is returned.
        """
        if not self.is_lie:
            return self.elements().mean(axis=0)
        if not self.is_orthogonal():
            raise ValueError(f"{self.name} is a Lie group with a non-orthogonal representation; "
                             f"its group average needs the Haar measure, which is not implemented.")
        B = self.invariant_basis()
        return B.T @ B

    def invariant_basis(self, rtol: float = 1e-8, gap: float = 1e-4) -> np.ndarray:
        """Orthonormal rows spanning the invariant row vectors ``{w : w G = 0}``.

        Parameters
        ----------
        rtol, gap : float
            Singular values of ``G`` below ``rtol·σ_max`` count as zero, those above
            ``gap·σ_max`` as non-zero; one in between raises
            :class:`~invariance_lib.core.linalg.AmbiguousRankError`.

        Returns
        -------
        B : ndarray of shape (m, d)
            ``B Bᵀ = I_m``, ``B G = 0``; ``m`` is the dimension of the invariant
            subspace (the paper's nullity ``d``). Rows are canonical: for a
            permutation representation they are the normalised orbit indicators.
        """
        key = (check_tolerance(rtol, "rtol"), check_tolerance(gap, "gap"))
        if key not in self._bases:  # computed once per tolerance, copied out
            self._bases[key] = left_null_space(self.constraint_matrix(), rtol=rtol, gap=gap)
        return self._bases[key].copy()

    @property
    def invariant_dim(self) -> int:
        """Dimension of ``{w : w G = 0}`` (49 for C4 on 14×14 images)."""
        return self.invariant_basis().shape[0]

    def is_permutation(self) -> bool:
        """Whether every generator is a permutation matrix."""
        if self.is_lie:
            return False
        return all(np.all((g == 0) | (g == 1)) and np.all(g.sum(0) == 1) and np.all(g.sum(1) == 1)
                   for g in self.generators)

    def orbits(self) -> list[list[int]]:
        """Orbits of a permutation representation on the coordinates.

        Returns a list of sorted index lists, ordered by their smallest index. For
        C4 on 14×14 images there are 49 orbits of size 4; pixel 45's is
        ``[45, 52, 143, 150]``.
        """
        if not self.is_permutation():
            raise ValueError(f"orbits() needs a permutation representation; {self.name} has "
                             f"non-permutation generators. Use invariant_basis() instead.")
        parent = list(range(self.dim))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for g in self.generators:
            for j, i in enumerate(np.argmax(g, axis=0)):  # g maps basis vector j to i
                a, b = find(int(i)), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        groups: dict[int, list[int]] = {}
        for i in range(self.dim):
            groups.setdefault(find(i), []).append(i)
        return sorted(groups.values())

    # --------------------------------------------------------- equivariance
    def equivariance_constraint(self, output: "Representation") -> np.ndarray:
        """Constraint matrix for equivariant maps ``W : ℝ^d → ℝ^{d_Y}`` (Appendix A).

        ``W`` is equivariant, ``ρ_Y(g) W = W ρ_X(g)``, iff
        ``vec(W) ∈ ⋂_g ker(ρ_X(g)ᵀ ⊗ ρ_Y(g⁻¹) − I)`` (column-major ``vec``). It is
        enough to impose this for the generators (and, for Lie algebra generators,
        ``dρ_X(A)ᵀ ⊕ −dρ_Y(A)``). Returned in the same orientation as
        :meth:`constraint_matrix`: ``vec(W)ᵀ G_eq = 0``.

        Parameters
        ----------
        output : Representation
            ``ρ_Y`` with generators that correspond one-to-one to ``self``'s.

        Returns
        -------
        ndarray of shape (d·d_Y, k)
        """
        if (len(output.generators) != len(self.generators)
                or len(output.lie_generators) != len(self.lie_generators)):
            raise ValueError(
                f"the output representation has {len(output.generators)} generator(s) and "
                f"{len(output.lie_generators)} Lie generator(s) but the input has "
                f"{len(self.generators)} and {len(self.lie_generators)}: both must be "
                f"representations of the same group with corresponding generators "
                f"(use trivial(d, like=rho) for invariance).")
        dY = output.dim
        I = np.eye(self.dim * dY)
        blocks = []
        for gx, gy in zip(self.generators, output.generators):
            blocks.append((np.kron(gx.T, np.linalg.inv(gy)) - I).T)
        for ax, ay in zip(self.lie_generators, output.lie_generators):
            blocks.append((np.kron(ax.T, np.eye(dY)) - np.kron(np.eye(self.dim), ay)).T)
        return np.concatenate(blocks, axis=1)

    def equivariant_basis(self, output: "Representation", rtol: float = 1e-8,
                          gap: float = 1e-4) -> np.ndarray:
        """An orthonormal basis of the equivariant maps ``ℝ^d → ℝ^{d_Y}``.

        Returns
        -------
        ndarray of shape (m, d_Y, d)
            Each ``basis[i]`` satisfies ``ρ_Y(g) W = W ρ_X(g)``; they are orthonormal
            in the Frobenius inner product.
        """
        rows = left_null_space(self.equivariance_constraint(output), rtol=rtol, gap=gap)
        return np.stack([r.reshape(self.dim, output.dim).T for r in rows]) if len(rows) \
            else np.zeros((0, output.dim, self.dim))

    # ------------------------------------------------------ changes of basis
    def conjugate(self, S: np.ndarray, name: str | None = None) -> "Representation":
        """The similar representation ``g ↦ S ρ(g) S⁻¹`` (not unitary unless ``S`` is)."""
        S = as_matrix(S, "S")
        if S.shape != (self.dim, self.dim):
            raise ValueError(f"S has shape {S.shape}, must be ({self.dim}, {self.dim}).")
        if np.linalg.cond(S) > 1e12:
            raise ValueError("S is not invertible (condition number above 1e12); a change of "
                             "basis must be invertible.")
        Si = np.linalg.inv(S)
        return Representation([S @ g @ Si for g in self.generators],
                              [S @ a @ Si for a in self.lie_generators],
                              name=name or f"S·({self.name})·S⁻¹", max_elements=self.max_elements)

    def unitarizing_matrix(self) -> np.ndarray:
        """``T = M^{1/2}`` with ``M = Σ_g ρ(g)ᵀρ(g)``: ``T ρ(g) T⁻¹`` is orthogonal.

        Every representation of a finite group is similar to an orthogonal one
        (Weyl's unitarian trick); this is the matrix that shows it. It is a multiple
        of the identity when ``ρ`` is already orthogonal.
        """
        E = self.elements()
        M = np.sum(E.transpose(0, 2, 1) @ E, axis=0)
        return psd_root(M)[0]


# ---------------------------------------------------------------- helpers
def _as_stack(mats, name: str) -> np.ndarray | None:
    if isinstance(mats, np.ndarray) and mats.size == 0:
        return None
    if not isinstance(mats, np.ndarray) and len(mats) == 0:
        return None
    return check_square_stack(mats, name)


def _check_finite_order(g: np.ndarray, label: str, bound: int) -> int:
    """Return the order of ``g`` or raise a clear error when it is infinite."""
    eig = np.linalg.eigvals(g)
    mod = np.abs(eig)
    if np.any(np.abs(mod - 1.0) > 1e-6):
        worst = mod[np.argmax(np.abs(mod - 1.0))]
        raise ValueError(
            f"{label} has infinite order: it has an eigenvalue of modulus {worst:.6g}, but "
            f"every matrix of finite order has all eigenvalues on the unit circle. A finite "
            f"group needs finite-order generators; for a continuous group pass the Lie-algebra "
            f"generator via lie_generators=... instead.")
    eye = np.eye(g.shape[0])
    power = g.copy()
    for k in range(1, bound + 1):
        if np.abs(power - eye).max() <= _ATOL * max(1.0, np.abs(power).max()):
            return k
        power = power @ g
        if np.abs(power).max() > 1e8:
            break
    raise ValueError(
        f"{label} has infinite order (or an order above {bound}): no power g^k with "
        f"k <= {bound} is the identity. Its eigenvalues lie on the unit circle, so it is a "
        f"rotation by an angle that is not a rational multiple of 2π, or it is not "
        f"diagonalisable. Use a finite-order matrix, or the Lie-algebra generator via "
        f"lie_generators=... for a continuous group.")


def is_group(mats: Sequence[np.ndarray] | np.ndarray, atol: float = 1e-8) -> bool:
    """Whether a finite set of matrices is a group (contains ``I``, closed under products).

    A finite set of invertible matrices closed under multiplication also contains
    the inverses, so these two checks suffice. Used to decide whether Theorem 12
    applies to an augmentation set.
    """
    E = check_square_stack(mats, "elements")
    d = E.shape[1]

    def member(M: np.ndarray) -> bool:
        return bool(np.any(np.abs(E - M).max(axis=(1, 2)) <= atol * max(1.0, np.abs(M).max())))

    if not member(np.eye(d)):
        return False
    return all(member(a @ b) for a in E for b in E)


# -------------------------------------------------------------- factories
def rot90_matrix(k: int) -> np.ndarray:
    """The permutation matrix of a 90° counter-clockwise rotation of a ``k×k`` image.

    ``rot90_matrix(k) @ x.ravel() == np.rot90(x).ravel()`` for every ``k×k`` array
    ``x`` (row-major flattening).
    """
    k = check_int(k, "k")
    idx = np.arange(k * k).reshape(k, k)
    R = np.zeros((k * k, k * k))
    R[np.arange(k * k), np.rot90(idx).ravel()] = 1.0
    return R


def _flip_matrix(k: int) -> np.ndarray:
    idx = np.arange(k * k).reshape(k, k)
    F = np.zeros((k * k, k * k))
    F[np.arange(k * k), np.fliplr(idx).ravel()] = 1.0
    return F


def c4_rotations(k: int = 14) -> Representation:
    """The cyclic group C4 of 90° rotations acting on ``k×k`` images (a permutation
    representation of dimension ``k²``, hence unitary)."""
    return Representation([rot90_matrix(k)], name=f"C4 rotations of {k}x{k} images")


def d4_symmetries(k: int = 14) -> Representation:
    """The dihedral group D4 (rotations and reflections of the square), order 8,
    acting on ``k×k`` images by permuting pixels. Generators: a 90° rotation and a
    left-right reflection."""
    k = check_int(k, "k")
    return Representation([rot90_matrix(k), _flip_matrix(k)],
                          name=f"D4 symmetries of {k}x{k} images")


def cyclic_shifts(n: int) -> Representation:
    """The cyclic group ``C_n`` acting on ``ℝ^n`` by cyclic shifts, ``(ρ x)_i = x_{i−1}``."""
    n = check_int(n, "n")
    return Representation([np.roll(np.eye(n), 1, axis=0)], name=f"cyclic shifts of R^{n}")


def from_matrix(A: np.ndarray, name: str | None = None, max_order: int = 10_000) -> Representation:
    """The cyclic group generated by one matrix of finite order.

    Makes non-unitary examples one line: ``from_matrix(S @ R @ np.linalg.inv(S))``.

    Raises
    ------
    ValueError
        If ``A`` is not square, not invertible, or of infinite order.
    """
    A = as_matrix(A, "A")
    max_order = check_int(max_order, "max_order")
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"A has shape {A.shape}; a representation's matrices must be square.")
    rep = Representation([A], name=name or f"cyclic group generated by a {A.shape[0]}x{A.shape[0]} "
                                            f"matrix", max_elements=max_order)
    rep.elements()  # fail now, with a clear message, if A has infinite order
    return rep


def so2(trivial_dims: int = 0) -> Representation:
    """The rotation group SO(2) acting on ``ℝ^{2+t}``: rotating the first two
    coordinates, fixing the other ``t``. Given by its Lie-algebra generator
    ``[[0, −1], [1, 0]]`` (Remark 5), so ``G`` is that generator.
    """
    trivial_dims = check_int(trivial_dims, "trivial_dims", 0)
    A = np.zeros((2 + trivial_dims, 2 + trivial_dims))
    A[0, 1], A[1, 0] = -1.0, 1.0
    return Representation(lie_generators=[A], name=f"SO(2) on R^{2 + trivial_dims}")


def trivial(d: int, like: Representation | None = None) -> Representation:
    """The trivial representation on ``ℝ^d`` (every element acts as the identity).

    With ``like=rho`` it has as many (identity) generators and (zero) Lie generators
    as ``rho``, so it can serve as the output representation in
    :meth:`Representation.equivariance_constraint`: equivariance to it is invariance.
    """
    d = check_int(d, "d")
    like = check_representation(like, "like", allow_none=True)
    m = len(like.generators) if like is not None else 1
    p = len(like.lie_generators) if like is not None else 0
    return Representation([np.eye(d)] * m, [np.zeros((d, d))] * p, name=f"trivial on R^{d}")
