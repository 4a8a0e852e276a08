"""Every bad input gets a clear error naming the argument; every degenerate one an answer.

Each case of issue 7's reliability list is pinned here with ``pytest.raises(match=...)``,
and the large-λ defect of the regularised problem is checked against independent
computations.
"""
import gzip
import subprocess
import sys
import warnings

import numpy as np
import pytest

from invariance_lib import (AssumptionWarning, accuracy, assumptions_report, augmented_optimum, c4_rotations,
                            critical_points, cyclic_shifts, data_span_projector,
                            from_matrix, gaussian_inputs, hardwired_optimum, one_hot,
                            plain_optimum, regularization_path, regularized_optimum, trivial)
from invariance_lib.checks import sample_loss
from invariance_lib.core.groups import Representation
from invariance_lib.data import read_idx

REP = c4_rotations(4)


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    return rng.normal(size=(16, 60)), rng.normal(size=(6, 60))


def test_numpy_core_does_not_import_torch():
    code = ("import sys, invariance_lib, invariance_lib.theory.solvers, "
            "invariance_lib.theory.critical, invariance_lib.theory.assumptions, "
            "invariance_lib.theory.paths, invariance_lib.dln, invariance_lib.data, "
            "invariance_lib.measures, invariance_lib.checks, invariance_lib.figures.histories; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_public_surface_is_complete():
    import invariance_lib
    for name in invariance_lib.__all__:
        assert getattr(invariance_lib, name) is not None, name
    for name in ("train", "train_many", "History", "section4_runs", "load_mnist", "one_hot",
                 "w_perp_norm", "non_invariant_part", "invariant_projector", "invariant_share",
                 "data_span_projector", "invariance_error", "accuracy", "function_distance",
                 "AssumptionWarning", "assumptions_report", "critical_points"):
        assert name in invariance_lib.__all__, name


@pytest.mark.parametrize("call, match", [
    (lambda X, Y: trivial(3, like="x"), "like must be a Representation"),
    (lambda X, Y: assumptions_report(X, Y, 2, rep="c4"), "rep must be a Representation"),
    (lambda X, Y: augmented_optimum(X, Y, REP.elements(), 2, weights="uniform"),
     "weights must be an array"),
    (lambda X, Y: cyclic_shifts("3"), "n must be an integer"),
    (lambda X, Y: c4_rotations(2.0), "k must be an integer"),
    (lambda X, Y: plain_optimum(X, Y, "2"), "r must be an integer"),
    (lambda X, Y: hardwired_optimum("X", Y, REP, 2), "X has dtype"),
    (lambda X, Y: regularized_optimum(X, Y, REP, 2, "a"), "lam must be a real number"),
    (lambda X, Y: gaussian_inputs(3, 3, scale="1"), "scale must be a real number"),
])
def test_wrong_types_are_type_errors_naming_the_argument(data, call, match):
    with pytest.raises(TypeError, match=match):
        call(*data)


@pytest.mark.parametrize("call, match", [
    (lambda: REP.invariant_basis(rtol=2), r"rtol == 2.0, must be < 1"),
    (lambda: REP.invariant_basis(rtol=float("nan")), "rtol must be a finite number"),
    (lambda: REP.invariant_basis(rtol=1e-3, gap=1e-5), "rtol == 0.001 exceeds gap"),
    (lambda: gaussian_inputs(3, 3, scale=float("nan")), "scale must be a finite number"),
    (lambda: Representation([np.eye(2)], max_elements=0), "max_elements == 0, must be >= 1"),
    (lambda: from_matrix(np.eye(2), max_order=0), "max_order == 0, must be >= 1"),
    (lambda: cyclic_shifts(0), r"^n == 0, must be >= 1"),
    (lambda: data_span_projector(np.ones((5, 3)), REP), "X has 5 rows"),
])
def test_bad_values_are_refused_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_cyclic_shifts_message_does_not_speak_of_images():
    with pytest.raises(ValueError) as info:
        cyclic_shifts(0)
    assert "image" not in str(info.value)


def test_invariance_penalty_refuses_nan():
    torch = pytest.importorskip("torch")
    from invariance_lib.experiments.networks import invariance_penalty
    with pytest.raises(ValueError, match="lam must be a finite number"):
        invariance_penalty(torch.ones(2, 16), REP, lam=float("nan"))
    with pytest.raises(TypeError, match="lam must be a real number"):
        invariance_penalty(torch.ones(2, 16), REP, lam="big")


def test_fractional_labels_are_refused():
    with pytest.raises(ValueError, match="labels must hold whole numbers"):
        one_hot([0, 1.5], [0, 1])
    with pytest.raises(ValueError, match="labels must hold whole numbers"):
        accuracy(np.eye(3), np.eye(3), [0, 1, 1.5])
    # whole numbers stored as floats are labels, not truncated values
    assert np.array_equal(one_hot(np.array([1.0, 0.0]), [0, 1]), [[0, 1], [1, 0]])


def _idx_bytes(code: int, dims, payload: bytes) -> bytes:
    head = bytes([0, 0, code, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims)
    return head + payload


def test_float_idx_labels_with_fractions_are_refused(tmp_path):
    from invariance_lib.data.idx import read_split
    imgs = _idx_bytes(0x08, (2, 28, 28), bytes(2 * 28 * 28))
    labs = _idx_bytes(0x0D, (2,), np.array([1.0, 2.5], dtype=">f4").tobytes())
    (tmp_path / "train-images-idx3-ubyte").write_bytes(imgs)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(labs)
    with pytest.raises(ValueError, match="labels in .* must hold whole numbers"):
        read_split(tmp_path, "train")


def test_overflowing_idx_header_is_reported_corrupt(tmp_path):
    path = tmp_path / "huge.gz"
    # sizes whose product overflows int64 (2^32 - 1 cubed)
    path.write_bytes(gzip.compress(_idx_bytes(0x08, (2**32 - 1,) * 3, b"\x00" * 16)))
    with pytest.raises(ValueError, match="is corrupt"):
        read_idx(path)


def test_test_set_mismatch_names_the_test_set():
    pytest.importorskip("torch")
    from invariance_lib import train
    X = np.random.default_rng(0).normal(size=(16, 40))
    Y = np.eye(4)[:, np.arange(40) % 4]
    with pytest.raises(ValueError, match="X_test and Y_test have inconsistent"):
        train(X, Y, epochs=1, X_test=np.ones((16, 5)), Y_test=np.ones((4, 4)))
    with pytest.raises(ValueError, match="Y_test must be one-hot"):
        train(X, Y, epochs=1, X_test=np.ones((16, 5)), Y_test=np.full((4, 5), 0.25))


@pytest.mark.parametrize("scale", [1e160, 1e-170])
@pytest.mark.parametrize("solver", ["plain", "hardwired", "augmented", "regularized"])
def test_extreme_scales_are_refused_with_a_scale_message(data, scale, solver):
    X, Y = data
    call = {"plain": lambda: plain_optimum(X * scale, Y, 2),
            "hardwired": lambda: hardwired_optimum(X * scale, Y * scale, REP, 2),
            "augmented": lambda: augmented_optimum(X * scale, Y, REP.elements(), 2),
            "regularized": lambda: regularized_optimum(X * scale, Y, REP, 2, 0.1)}[solver]
    with pytest.raises(ValueError, match="X has entries of size .* Rescale the data"):
        call()


def test_large_but_safe_scales_are_solved(data):
    X, Y = data
    W = hardwired_optimum(X, Y, REP, 2)
    s = 2.0 ** 300  # exact in floating point; moments stay finite
    assert np.allclose(hardwired_optimum(X * 2.0 ** 60, Y, REP, 2) * 2.0 ** 60, W,
                       rtol=1e-9, atol=1e-12)
    assert s > 0


# ------------------------------------------------------------------ the defect
LAMS = np.logspace(-3, 20, 47)


def test_regularized_optimum_tends_to_w_inv_for_every_finite_lambda(data):
    """Theorem 9: W_reg(λ) → W_inv. Before the fix, λ ≳ 1e13 returned W ≈ 0."""
    X, Y = data
    G = REP.constraint_matrix()
    W_inv = hardwired_optimum(X, Y, G, 2)
    path = regularized_optimum(X, Y, G, 2, LAMS)
    dist = np.linalg.norm(path - W_inv, axis=(1, 2)) / np.linalg.norm(W_inv)
    big = LAMS >= 1e6
    # ‖W_reg(λ) − W_inv‖ = O(1/λ) (Theorem 9), down to rounding
    ref = dist[np.argmax(big)] * LAMS[np.argmax(big)]
    assert np.all(dist[big] <= 2 * ref / LAMS[big] + 1e-12)
    assert dist[-1] < 1e-12
    # the defining property: W_reg(λ) is no worse than the feasible W_inv (zero
    # penalty), and strictly better than the zero map, for every λ
    for lam, W in zip(LAMS, path):
        f = sample_loss(W, X, Y, G=G, lam=lam)
        assert f <= sample_loss(W_inv, X, Y) * (1 + 1e-9)
        assert f < sample_loss(np.zeros_like(W), X, Y)


def test_regularized_optimum_matches_the_literal_formula_where_it_is_accurate(data):
    from invariance_lib import paper
    X, Y = data
    G = REP.constraint_matrix()
    for lam in LAMS[LAMS <= 1e4]:
        W = regularized_optimum(X, Y, G, 2, lam)
        lit = paper.proposition8_optimum(X, Y, G, 2, lam)
        assert np.linalg.norm(W - lit) <= 1e-7 * np.linalg.norm(lit)


def test_everything_built_on_the_regularised_problem_survives_large_lambda(data):
    X, Y = data
    G = REP.constraint_matrix()
    W_inv = hardwired_optimum(X, Y, G, 2)
    path = regularization_path(X, Y, G, 2, LAMS)
    assert path.relative_distance[-1] < 1e-12
    with warnings.catch_warnings():
        # the penalised directions' singular values ~ 1/√λ nearly tie: reported, not an error
        warnings.simplefilter("ignore", AssumptionWarning)
        cps = critical_points(X, Y, 2, "regularized", G=G, lam=1e18)
    best = min(cps, key=lambda p: p.loss)
    assert np.linalg.norm(best.W - W_inv) <= 1e-9 * np.linalg.norm(W_inv)
    # the losses of the critical points are losses (before the fix: -8.06 at λ = 1e18,
    # from tr(WKWᵀ) − 2tr(WCᵀ) cancelling) and the best one is the invariant optimum's,
    # evaluated independently on the samples (its penalty is zero)
    assert all(p.loss >= 0 for p in cps)
    assert abs(best.loss - sample_loss(W_inv, X, Y)) <= 1e-9 * sample_loss(W_inv, X, Y)
    report = assumptions_report(X, Y, 2, REP, lam=1e16)
    # generic data: Z_reg(λ) has full rank for every λ (before the fix: rank 0 at λ = 1e16)
    assert report["reg_full_rank"].holds
