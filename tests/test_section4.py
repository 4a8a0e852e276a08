"""Tests of the Section 4 experiment code (chapter 8) and its figures."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from invariance_lib import paper  # noqa: E402
from invariance_lib.experiments.section4 import (  # noqa: E402
    RunKey, compare_to_optimum, dead_part, measure_cost, median_band, objective,
    paper_singular_values, parameter_counts, run_section4, settling_epoch)
from invariance_lib.figures.section4 import (  # noqa: E402
    plot_accuracy_figure, plot_cost_figure, plot_entries_figure,
    plot_share_figure, plot_singular_values_figure, plot_w_perp_figure)
from invariance_lib.measures import data_span_projector  # noqa: E402
from invariance_lib.theory.problems import augmented_problem, plain_problem  # noqa: E402
from invariance_lib.theory.solvers import hardwired_optimum, regularized_optimum  # noqa: E402


@pytest.fixture(scope="module")
def small_sweep():
    """Two seeds, 200 training images, 40 epochs: every code path, in seconds."""
    return run_section4(seeds=(0, 1), epochs=40, record_every=10, eval_every=10,
                        secondary_eval_every=20, n_train=200)


# --------------------------------------------------------------- objective
def test_objective_matches_the_moments(problem):
    X, Y, rep, _ = problem
    W = np.random.default_rng(0).normal(size=(Y.shape[0], X.shape[0]))
    # plain_problem evaluates tr(WKWᵀ) − 2tr(WCᵀ) + c from the moments: another path
    for norm in ("paper", "mean"):
        assert objective(W, X, Y, "hard-wired", normalization=norm) == pytest.approx(
            plain_problem(X, Y, norm).loss(W), rel=1e-12)
        assert objective(W, X, Y, "augmentation", rep=rep,
                         normalization=norm) == pytest.approx(
            augmented_problem(X, Y, rep.elements(), norm).loss(W), rel=1e-12)


def test_objective_normalisations_and_penalty(problem):
    X, Y, rep, _ = problem
    W = np.random.default_rng(1).normal(size=(Y.shape[0], X.shape[0]))
    dL, n = Y.shape[0], X.shape[1]
    data = np.sum((W @ X - Y) ** 2)
    G = rep.constraint_matrix()
    pen = np.sum((W @ G) ** 2)
    assert objective(W, X, Y, "regularisation", rep=rep, lam=0.3,
                     normalization="paper") == pytest.approx(data / n + 0.3 * pen, rel=1e-12)
    assert objective(W, X, Y, "regularisation", rep=rep, lam=0.3,
                     normalization="mean") == pytest.approx(data / (n * dL) + 0.3 * pen,
                                                            rel=1e-12)


def test_augmented_objective_of_an_invariant_map_is_the_plain_one(problem):
    X, Y, rep, _ = problem
    B = rep.invariant_basis()
    W = np.random.default_rng(2).normal(size=(Y.shape[0], B.shape[0])) @ B
    assert objective(W, X, Y, "augmented", rep=rep) == pytest.approx(
        objective(W, X, Y, "plain"), rel=1e-12)


def test_closed_form_minimises_the_objective(problem):
    X, Y, rep, r = problem
    rng = np.random.default_rng(3)
    G = rep.constraint_matrix()
    W = regularized_optimum(X, Y, G, r, 0.05, normalization="mean")
    best = objective(W, X, Y, "regularized", rep=rep, lam=0.05, normalization="mean")
    U, s, Vt = np.linalg.svd(W)
    for _ in range(20):  # rank-r perturbations stay feasible
        Wp = (U[:, :r] + 1e-3 * rng.normal(size=(U.shape[0], r))) * s[:r] @ Vt[:r]
        assert objective(Wp, X, Y, "regularized", rep=rep, lam=0.05,
                         normalization="mean") >= best - 1e-12


def test_objective_rejects_bad_input(problem):
    X, Y, rep, _ = problem
    W = np.zeros((Y.shape[0], X.shape[0]))
    with pytest.raises(ValueError, match="shapes do not fit"):
        objective(W[:, :-1], X, Y, "plain")
    with pytest.raises(ValueError, match="needs the group"):
        objective(W, X, Y, "augmented")
    with pytest.raises(ValueError, match="lam >= 0"):
        objective(W, X, Y, "regularized", rep=rep, lam=-1.0)
    with pytest.raises(ValueError, match="normalization"):
        objective(W, X, Y, "plain", normalization="sum")
    with pytest.raises(ValueError, match="unknown method"):
        objective(W, X, Y, "dropout")


# ---------------------------------------------------------------- Figure 5
def test_paper_singular_values_match_the_literal_formulas(problem):
    X, Y, rep, _ = problem   # full-rank data: the paper's formulas apply as written
    G, E = rep.constraint_matrix(), rep.elements()
    sv = paper_singular_values(X, Y, rep, lams=(0.01, 1.0))
    k = Y.shape[0]
    lit_inv = np.linalg.svd(paper.Z_inv(X, Y, G), compute_uv=False)[:k]
    lit_da = np.linalg.svd(paper.Z_da(X, Y, E), compute_uv=False)[:k]
    np.testing.assert_allclose(sv["inv"][:4], lit_inv[:4], rtol=1e-8)  # rank ≤ d = 4
    np.testing.assert_allclose(sv["da"][:4], lit_da[:4], rtol=1e-8)
    for lam in (0.01, 1.0):
        lit = np.linalg.svd(paper.Z_reg(X, Y, G, lam), compute_uv=False)[:k]
        np.testing.assert_allclose(sv["reg"][lam][:k], lit, rtol=1e-8)
    np.testing.assert_allclose(sv["da"][:4] / sv["inv"][:4], 2.0, rtol=1e-9)


def test_paper_singular_values_rejects_bad_input(problem):
    X, Y, rep, _ = problem
    with pytest.raises(ValueError, match="same number of columns"):
        paper_singular_values(X, Y[:, :-1], rep)
    with pytest.raises(TypeError, match="Representation"):
        paper_singular_values(X, Y, "C4")


# ----------------------------------------------------------------- helpers
def test_median_band():
    med, lo, hi = median_band([[1.0, 5.0], [3.0, 2.0], [2.0, 9.0]])
    np.testing.assert_array_equal(med, [2.0, 5.0])
    np.testing.assert_array_equal(lo, [1.0, 2.0])
    np.testing.assert_array_equal(hi, [3.0, 9.0])
    with pytest.raises(ValueError, match="NaN"):
        median_band([[1.0, np.nan]])
    with pytest.raises(ValueError, match="at least one"):
        median_band(np.zeros((0, 3)))


def test_settling_epoch():
    e = np.arange(0, 100, 10)
    v = np.array([0.1, 0.3, 0.5, 0.58, 0.62, 0.6, 0.6, 0.605, 0.6, 0.6])
    assert settling_epoch(e, v, tol=0.01) == 50      # 0.62 at 40 is the last miss
    assert settling_epoch(e, v, tol=0.05) == 30
    assert settling_epoch(e, np.full(10, 0.3)) == 0
    with pytest.raises(ValueError, match="same non-zero length"):
        settling_epoch(e, v[:-1])
    with pytest.raises(ValueError, match="tol"):
        settling_epoch(e, v, tol=-1)
    noisy = np.array([0.1, 0.5, 0.6, 0.61, 0.6, 0.59, 0.6, 0.61, 0.6, 0.625])
    assert settling_epoch(e, noisy, tol=0.03) == 60            # the last value decides
    assert settling_epoch(e, noisy, tol=0.03, window=5) == 20  # the tail's median
    with pytest.raises(ValueError, match="window"):
        settling_epoch(e, v, window=11)


def test_dead_part_is_the_part_off_the_data_span(rng):
    from invariance_lib.core.groups import c4_rotations

    rep = c4_rotations(6)
    X = rng.normal(size=(36, 50))
    X[[0, 5, 30, 35]] = 0.0       # one orbit (the corners) black in every image
    Pi = data_span_projector(X, rep)
    W = rng.normal(size=(3, 36))
    Wp = W - W @ rep.group_average()
    want = np.linalg.norm(Wp @ (np.eye(36) - Pi))
    assert want > 0.1
    got = dead_part(np.linalg.norm(Wp), np.linalg.norm(Wp @ Pi))
    assert got == pytest.approx(want, rel=1e-9)
    with pytest.raises(ValueError, match="shapes"):
        dead_part(np.ones(3), np.ones(2))


def test_parameter_counts():
    c = parameter_counts()
    assert c["plain"] == 196 * 5 + 5 * 9
    assert c["hardwired"] == 49 * 5 + 5 * 9
    assert c["ratio"] == pytest.approx(1025 / 290)
    with pytest.raises(TypeError, match="hidden"):
        parameter_counts(hidden=2.5)


# -------------------------------------------------------------- the sweep
def test_sweep_structure_and_seeds(small_sweep):
    sw = small_sweep
    assert sw.seeds == (0, 1)
    assert [k.label for k in sw.keys][:2] == ["augmentation", "hard-wired"]
    assert len(sw.keys) == 2 + 3 * 2
    d0, d1 = (r.data for r in sw.results)
    assert d0.X_train.shape == (196, 200)
    assert not np.array_equal(d0.X_train, d1.X_train)      # seed moves the subset
    for key in sw.keys:
        h0, h1 = sw.histories(key)
        assert h0.seed == 0 and h1.seed == 1
        assert h0.settings["normalization"] == key.normalization
        assert h0.epochs[-1] == 40
    epochs, wp = sw.series(sw.key("hard-wired"), "w_perp")
    assert wp.shape == (2, len(epochs)) and np.all(wp == 0.0)
    assert sw.key("augmentation", normalization="paper").normalization == "mean"
    with pytest.raises(ValueError, match="no run"):
        sw.key("regularisation", lam=0.5)


def test_sweep_is_deterministic(small_sweep):
    again = run_section4(seeds=(1,), epochs=40, record_every=10, eval_every=10,
                         secondary_eval_every=20, n_train=200)
    key = RunKey("regularized", 0.01, "paper")
    np.testing.assert_array_equal(again.histories(key)[0].W, small_sweep.histories(key)[1].W)


def test_compare_to_optimum(small_sweep):
    rows = compare_to_optimum(small_sweep)
    assert len(rows) == 2 * len(small_sweep.keys)
    for row in rows:
        # the History's loss (from the moments) = the objective on the samples
        assert row["loss_recorded_error"] < 1e-10
        assert row["w_perp_recorded_error"] < 1e-8
        assert row["loss_gap"] > -1e-9                     # nothing beats the optimum
        assert 0.0 <= row["test_acc"] <= 1.0 and 0.0 <= row["rot_test_acc_opt"] <= 1.0
    inv = [r for r in rows if r["key"].method == "hardwired"]
    # the hard-wired optimum is invariant: the same accuracy on every rotation
    for r in inv:
        assert r["w_perp_opt"] < 1e-8
        assert abs(r["rot_test_acc_opt"] - r["test_acc_opt"]) < 1e-3
    with pytest.raises(TypeError, match="Section4Sweep"):
        compare_to_optimum([])


def test_optima_are_the_solvers(small_sweep):
    res = small_sweep.results[0]
    X, Y = res.data.X_train, res.data.Y_train
    W = hardwired_optimum(X, Y, small_sweep.rep.constraint_matrix(), 5)
    # Two computations of one least-squares solution (the sweep's and the solver's):
    # they agree to rounding amplified by the conditioning of X Xᵀ, which moves with
    # the BLAS kernels and thread count (1.3e-9 was seen with one OpenMP thread), so
    # the tolerance is relative to the size of W.
    err = np.abs(res.optima[small_sweep.key("hard-wired")] - W).max()
    assert err <= 1e-8 * np.abs(W).max(), err


def test_run_section4_rejects_bad_input():
    with pytest.raises(TypeError, match="seeds"):
        run_section4(seeds="01")
    with pytest.raises(ValueError, match="empty"):
        run_section4(seeds=[])
    with pytest.raises(ValueError, match="repeat"):
        run_section4(seeds=[0, 0])
    with pytest.raises(ValueError, match="non-negative"):
        run_section4(seeds=[-1])
    with pytest.raises(ValueError, match="normalizations"):
        run_section4(seeds=[0], normalizations=("sum",))
    with pytest.raises(TypeError, match="epochs"):
        run_section4(seeds=[0], epochs=10.0)
    with pytest.raises(ValueError, match="lams"):
        run_section4(seeds=[0], lams=(-1.0,))


def test_measure_cost_small(small_sweep):
    d = small_sweep.results[0].data
    rows = measure_cost(d.X_train, d.Y_train, small_sweep.rep, fast_epochs=2,
                        sample_epochs=1, minibatch_epochs=1, repeat=1)
    assert [(r["method"], r["path"]) for r in rows][-1] == ("augmented", "mini-batch")
    assert len(rows) == 7
    assert all(r["seconds_per_epoch"] > 0 for r in rows)
    assert rows[-1]["steps_per_epoch"] == -(-800 // 64)
    with pytest.raises(ValueError, match="batch_size"):
        measure_cost(d.X_train, d.Y_train, small_sweep.rep, batch_size=0)


# ----------------------------------------------------------------- figures
def test_figures_draw(small_sweep):
    figs = [plot_entries_figure(small_sweep), plot_accuracy_figure(small_sweep),
            plot_w_perp_figure(small_sweep, highlight_seed=1),
            plot_share_figure(small_sweep, normalization="paper")]
    d = small_sweep.results[0].data
    figs.append(plot_singular_values_figure(
        paper_singular_values(d.X_train, d.Y_train, small_sweep.rep)))
    rows = [{"method": "augmented", "path": "moments", "seconds_per_epoch": 1e-3},
            {"method": "augmented", "path": "mini-batch", "seconds_per_epoch": 0.1}]
    figs.append(plot_cost_figure(rows, {("augmented", "moments"): 500}))
    for fig in figs:
        for ax in fig.axes:
            assert ax.get_title() and ax.get_xlabel()
        plt.close(fig)


def test_figures_reject_bad_input(small_sweep):
    with pytest.raises(ValueError, match="highlight_seed"):
        plot_w_perp_figure(small_sweep, highlight_seed=7)
    with pytest.raises(TypeError, match="Section4Sweep"):
        plot_accuracy_figure({})
    with pytest.raises(ValueError, match="out of range"):
        plot_entries_figure(small_sweep, rows=(12,))
    with pytest.raises(TypeError, match="paper_singular_values"):
        plot_singular_values_figure({"inv": []})
    with pytest.raises(ValueError, match="empty"):
        plot_cost_figure([], {})
    plt.close("all")
