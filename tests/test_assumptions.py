"""The assumptions report says which hypotheses fail, each for a constructed reason."""
import numpy as np

from invariance_lib.theory.assumptions import assumptions_report
from invariance_lib.core.groups import c4_rotations


def test_generic_problem_satisfies_everything(problem):
    X, Y, rho, r = problem
    rep = assumptions_report(X, Y, r, rho, lam=np.logspace(-3, 3, 9))
    assert rep.all_hold, str(rep)
    assert "FAIL" not in str(rep)
    assert max(len(line) for line in str(rep).splitlines()) <= 79  # fits a book page


def test_dead_pixels_fail_full_rank(problem):
    X, Y, rho, r = problem
    X = X.copy()
    X[[0, 3, 7]] = 0.0
    rep = assumptions_report(X, Y, r, rho)
    assert rep.failed() == ["full_rank_data"]
    assert "rank 13 of 16" in rep["full_rank_data"].detail
    assert "minimum-norm" in str(rep)


def test_rank_bound_and_filling_cases(problem):
    X, Y, rho, _ = problem
    rep = assumptions_report(X, Y, 4, rho)  # r = d = 4
    assert "rank_below_invariant_dim" in rep.failed()
    assert "target_rank_above_r" in rep.failed()  # rank(Z_inv) <= 4 = r
    rep = assumptions_report(X, Y, 6, rho)  # r = min(d0, dL)
    assert "non_filling" in rep.failed()


def test_nonunitary_and_partial_augmentation(problem, rng):
    X, Y, rho, r = problem
    S = np.eye(16) + 0.3 * rng.normal(size=(16, 16))
    rep = assumptions_report(X, Y, r, rho.conjugate(S))
    assert rep.failed() == ["unitary"]
    assert "still holds" in rep["unitary"].consequence
    rep = assumptions_report(X, Y, r, rho, elements=rho.elements()[:2])
    assert rep.failed() == ["augmentation_is_group"]
    rep = assumptions_report(X, Y, r, rho, weights=[4, 3, 2, 1])
    assert rep.failed() == ["augmentation_is_group"]
    assert "unequal weights" in rep["augmentation_is_group"].detail


def test_tied_singular_values_fail_distinctness():
    rho = c4_rotations(4)  # d0 = 16, invariant dimension 4
    B = rho.invariant_basis()
    n = 16
    X = np.sqrt(n) * np.eye(16)  # X Xᵀ / n = I, so the whitened invariant target is Y Bᵀ / √n
    Y = np.sqrt(n) * np.diag([3.0, 2.0, 2.0, 1.0]) @ B
    rep = assumptions_report(X, Y, 1, rho)
    assert rep.failed() == ["distinct_singular_values"]
    assert float(rep["distinct_singular_values"].detail.split()[-1]) < 1e-12  # σ_2 = σ_3


def test_regularisation_path_crossing_is_reported():
    X = np.sqrt(2.0) * np.eye(2)
    Y = np.diag([3.0, 1.0]) @ X
    G = np.array([[1.0], [0.0]])
    for lam in (np.array([1.0, 8.0, 20.0]), np.logspace(-2, 2, 9)):  # 8 on or off the grid
        rep = assumptions_report(X, Y, 1, G=G, lam=lam)
        assert rep["reg_full_rank"].holds  # Theorem 9's hypothesis holds ...
        assert not rep["reg_gap_at_r"].holds  # ... but σ_1 = σ_2 at λ = 8: the path jumps
        lo, hi = (float(v) for v in rep["reg_gap_at_r"].detail.split("[")[1].rstrip("]").split(","))
        assert lo <= 8.0 <= hi  # the report points at the cell that contains λ* = 8
