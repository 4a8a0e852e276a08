"""Group laws and invariance statements, checked on every element (never a sample).

Proposition 4, Remark 5, Lemma B.5 and Proposition A.1, against brute force.
"""
import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given
from hypothesis import strategies as st

from invariance_lib.core.groups import (Representation, c4_rotations, cyclic_shifts, d4_symmetries,
                                   from_matrix, is_group, rot90_matrix, so2, trivial)


def _nonunitary(rep, seed=0, scale=0.3):
    rng = np.random.default_rng(seed)
    S = np.eye(rep.dim) + scale * rng.normal(size=(rep.dim, rep.dim))
    return rep.conjugate(S)


REPS = {
    "C4 on 4x4": lambda: c4_rotations(4),
    "C4 on 5x5 (fixed centre)": lambda: c4_rotations(5),
    "D4 on 4x4": lambda: d4_symmetries(4),
    "shifts of R^6": lambda: cyclic_shifts(6),
    "S C4 S^-1 (non-unitary)": lambda: _nonunitary(c4_rotations(3)),
    "S D4 S^-1 (non-unitary)": lambda: _nonunitary(d4_symmetries(3), seed=1),
}
ORDERS = {"C4 on 4x4": 4, "C4 on 5x5 (fixed centre)": 4, "D4 on 4x4": 8, "shifts of R^6": 6,
          "S C4 S^-1 (non-unitary)": 4, "S D4 S^-1 (non-unitary)": 8}


def _member(E, M, tol=1e-8):
    return np.any(np.abs(E - M).max(axis=(1, 2)) < tol)


@pytest.mark.parametrize("name", REPS)
def test_group_laws_on_every_element(name):
    E = REPS[name]().elements()
    assert len(E) == ORDERS[name]
    assert np.allclose(E[0], np.eye(E.shape[1]))
    for a in E:  # closure and inverses, every pair
        assert _member(E, np.linalg.inv(a))
        for b in E:
            assert _member(E, a @ b)
    # Lagrange: every element's order divides |G|.
    for a in E:
        k, p = 1, a.copy()
        while not np.allclose(p, np.eye(len(a)), atol=1e-8):
            p, k = p @ a, k + 1
        assert len(E) % k == 0
    # Distinct elements.
    for i in range(len(E)):
        for j in range(i):
            assert np.abs(E[i] - E[j]).max() > 1e-6


def test_rotation_and_orbits_match_numpy():
    rng = np.random.default_rng(0)
    img = rng.normal(size=(14, 14))
    assert np.array_equal(rot90_matrix(14) @ img.ravel(), np.rot90(img).ravel())
    rho = c4_rotations(14)
    orbits = rho.orbits()
    assert len(orbits) == 49 and all(len(o) == 4 for o in orbits)
    assert [45, 52, 143, 150] in orbits
    # The orbit of pixel 45 by rotating an indicator image with numpy, independently.
    e = np.zeros((14, 14))
    e.flat[45] = 1
    found = sorted(int(np.flatnonzero(np.rot90(e, k))[0]) for k in range(4))
    assert found == [45, 52, 143, 150]
    assert len(c4_rotations(5).orbits()) == 7  # 6 orbits of 4 and the fixed centre


@pytest.mark.parametrize("name", REPS)
def test_proposition4_constraint_iff_invariant(name, rng):
    """W G = 0 ⇔ W ρ(g) = W for every element g (Proposition 4, Remark 5)."""
    rep = REPS[name]()
    E, G = rep.elements(), rep.constraint_matrix()
    d = rep.dim
    # (⇐) An invariant map built without G: average a random map over the group.
    W = rng.normal(size=(3, d)) @ E.mean(axis=0)
    assert all(np.allclose(W @ g, W, atol=1e-10) for g in E)
    assert np.abs(W @ G).max() < 1e-10
    # (⇒) A map with W G = 0, built from the invariant basis, is invariant under all elements.
    W = rng.normal(size=(3, rep.invariant_dim)) @ rep.invariant_basis()
    assert np.abs(W @ G).max() < 1e-10
    assert max(np.abs(W @ g - W).max() for g in E) < 1e-9
    # A generic map is neither.
    W = rng.normal(size=(3, d))
    assert np.abs(W @ G).max() > 1e-3 and max(np.abs(W @ g - W).max() for g in E) > 1e-3


@pytest.mark.parametrize("name", REPS)
def test_invariant_basis_properties(name):
    rep = REPS[name]()
    B, G, E = rep.invariant_basis(), rep.constraint_matrix(), rep.elements()
    assert np.allclose(B @ B.T, np.eye(len(B)), atol=1e-12)
    assert np.abs(B @ G).max() < 1e-10
    # Dimension, independently: the rank of the group average (its rows span the invariants).
    Gbar = E.mean(axis=0)
    assert len(B) == np.linalg.matrix_rank(Gbar, tol=1e-8)
    # Same subspace: every row of Ḡ lies in span(B) and vice versa.
    assert np.allclose(Gbar @ B.T @ B, Gbar, atol=1e-9)
    if rep.is_orthogonal():
        assert np.allclose(B.T @ B, Gbar, atol=1e-12)  # projector = group average
    if rep.is_permutation():
        assert len(B) == len(rep.orbits())


def test_permutation_basis_is_orbit_averaging():
    rho = c4_rotations(14)
    B = rho.invariant_basis()
    assert B.shape == (49, 196)
    for row in B:  # each row: 1/2 on one orbit of four pixels
        support = np.flatnonzero(np.abs(row) > 1e-12)
        assert len(support) == 4 and np.allclose(np.abs(row[support]), 0.5)
        assert sorted(support.tolist()) in rho.orbits()


@pytest.mark.parametrize("name", REPS)
def test_lemma_B5_group_average(name):
    rep = REPS[name]()
    E, A = rep.elements(), rep.group_average()
    assert np.allclose(A @ A, A, atol=1e-10)
    for h in E:
        assert np.allclose(A @ h, A, atol=1e-10) and np.allclose(h @ A, A, atol=1e-10)
    assert np.allclose(A, A.T, atol=1e-10) == rep.is_orthogonal()


def test_remark5_several_generators():
    """D4 needs both generators in G: the rotation alone leaves 49 invariants, D4 has 28."""
    d4 = d4_symmetries(14)
    assert d4.constraint_matrix().shape == (196, 2 * 196)
    assert c4_rotations(14).invariant_dim == 49
    assert d4.invariant_dim == 28  # 21 orbits of 8 pixels and 7 diagonal orbits of 4
    assert len(d4.orbits()) == 28


def test_remark5_lie_group_so2():
    rep = so2(trivial_dims=1)
    G = rep.constraint_matrix()
    B = rep.invariant_basis()
    assert np.allclose(np.abs(B), [[0, 0, 1]])
    # Invariance under the group itself, exp(tA) for many angles, checked directly.
    A = rep.lie_generators[0]
    w_inv, w_not = np.array([0.0, 0.0, 2.0]), np.array([1.0, 0.0, 2.0])
    for t in np.linspace(0.1, 6.0, 13):
        R = sla.expm(t * A)
        assert np.allclose(w_inv @ R, w_inv)
        assert not np.allclose(w_not @ R, w_not)
    assert np.allclose(w_inv @ G, 0) and not np.allclose(w_not @ G, 0)
    assert np.allclose(rep.group_average(), np.diag([0.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="infinitely many elements"):
        rep.elements()


def _equivariant_dim_brute_force(rx, ry):
    """Dimension of {W : ρ_Y(g) W = W ρ_X(g) for every element}, without Kronecker products:
    apply the linear map W ↦ (ρ_Y(g)W − Wρ_X(g))_g to every matrix unit."""
    Ex, Ey = rx.elements(), ry.elements()
    cols = []
    for i in range(ry.dim):
        for j in range(rx.dim):
            U = np.zeros((ry.dim, rx.dim))
            U[i, j] = 1
            cols.append(np.concatenate([(gy @ U - U @ gx).ravel() for gx, gy in zip(Ex, Ey)]))
    M = np.array(cols).T
    return ry.dim * rx.dim - np.linalg.matrix_rank(M, tol=1e-9)


def test_appendixA_equivariance():
    rx = c4_rotations(4)
    ry = Representation([[[0.0, -1.0], [1.0, 0.0]]], name="C4 on the plane")
    basis = rx.equivariant_basis(ry)
    assert len(basis) == _equivariant_dim_brute_force(rx, ry) == 8
    for W in basis:  # every element, not just the generator
        for gx, gy in zip(rx.elements(), ry.elements()):
            assert np.allclose(gy @ W, W @ gx, atol=1e-10)
    flat = basis.reshape(len(basis), -1)
    assert np.allclose(flat @ flat.T, np.eye(len(basis)), atol=1e-10)
    # Equivariance to the trivial output representation is invariance.
    inv = rx.equivariant_basis(trivial(3, like=rx))
    assert len(inv) == 3 * rx.invariant_dim
    assert all(np.abs(W @ rx.constraint_matrix()).max() < 1e-10 for W in inv)


def test_equivariance_lie():
    """SO(2) rotating R^2 in, and R^2 out: the equivariant maps are a I + b J (dimension 2)."""
    rep = so2()
    basis = rep.equivariant_basis(rep)
    assert len(basis) == 2
    A = rep.lie_generators[0]
    for W in basis:
        for t in (0.3, 1.1, 2.5):
            R = sla.expm(t * A)
            assert np.allclose(R @ W, W @ R, atol=1e-10)


@given(n=st.integers(2, 9), seed=st.integers(0, 10**6))
def test_unitarizing_matrix_makes_rep_orthogonal(n, seed):
    rng = np.random.default_rng(seed)
    S = np.eye(n) + 0.4 * rng.normal(size=(n, n))
    if np.linalg.cond(S) > 1e6:
        return
    rep = cyclic_shifts(n).conjugate(S)
    T = rep.unitarizing_matrix()
    Ti = np.linalg.inv(T)
    for g in rep.elements():
        h = T @ g @ Ti
        assert np.allclose(h.T @ h, np.eye(n), atol=1e-8)


def test_from_matrix_and_is_group():
    R = rot90_matrix(3)
    rng = np.random.default_rng(3)
    S = np.eye(9) + 0.3 * rng.normal(size=(9, 9))
    rep = from_matrix(S @ R @ np.linalg.inv(S))
    assert rep.order == 4 and not rep.is_orthogonal()
    assert is_group(rep.elements())
    assert not is_group(rep.elements()[:2])  # {e, g} is not closed
    assert not is_group(rep.elements()[1:])  # no identity
