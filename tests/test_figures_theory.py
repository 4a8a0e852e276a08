"""Smoke tests of the theory chapters' figure functions (chapters 2 and 4–7).

They draw what the notebooks draw, on a small problem: the figures are built, the
legends are readable (>= 9 pt) and sit below the axes, and the drawn data are the
data passed in.
"""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from invariance_lib import c4_rotations, critical_points, synthetic_regression  # noqa: E402
from invariance_lib.figures.augmentation import plot_sampling_figure  # noqa: E402
from invariance_lib.figures.critical_points import (  # noqa: E402
    plot_index_set_grids, plot_regularised_critical_losses,
    plot_sorted_critical_losses)
from invariance_lib.figures.hardwiring import plot_rank_explorer  # noqa: E402
from invariance_lib.figures.low_rank import plot_cone_chord  # noqa: E402
from invariance_lib.figures.regularisation import plot_path_explorer  # noqa: E402


@pytest.fixture(scope="module")
def small():
    rho = c4_rotations(4)
    data = synthetic_regression(rho, dL=6, n=40, noise=0.5, seed=0)
    G = rho.constraint_matrix()
    crit = {"hardwired": critical_points(data.X, data.Y, 2, "hardwired", G=G),
            "regularized": critical_points(data.X, data.Y, 2, "regularized", G=G,
                                           lam=0.1)}
    return data, G, crit


def _figure_legend_ok(fig):
    assert fig.legends, "expected one figure-level legend"
    for legend in fig.legends:
        assert all(t.get_fontsize() >= 9 for t in legend.get_texts())
        # below the axes: the legend's top is under every axes' bottom
        fig.canvas.draw()
        top = legend.get_window_extent().y1
        assert all(top <= ax.get_window_extent().y0 + 1 for ax in fig.axes)


def test_index_set_grids_colour_the_kept_values(small):
    _, _, crit = small
    fig = plot_index_set_grids([(crit["hardwired"], 4, "a"), (crit["regularized"], 6, "b")],
                               k_inv=4, n_values=6, suptitle="t")
    grids = [ax.get_images()[0].get_array() for ax in fig.axes]
    assert grids[0].shape == (6, 6) and grids[1].shape == (6, 15)
    # every column keeps exactly r = 2 singular values (codes 2 and 3)
    for grid in grids:
        assert np.all(((grid == 2) | (grid == 3)).sum(axis=0) == 2)
    assert np.all(grids[0][4:] == 1)  # zero singular values of the rank-4 target
    plt.close(fig)


def test_regularised_losses_and_sorted_losses(small):
    data, G, crit = small
    lams = np.logspace(-2, 2, 5)
    path = [{cp.index_set: cp.loss for cp in
             critical_points(data.X, data.Y, 2, "regularized", G=G, lam=a)} for a in lams]
    limits = {cp.index_set: (None, cp.loss) for cp in crit["regularized"]}
    fig = plot_regularised_critical_losses(lams, path, [cp.loss for cp in crit["hardwired"]],
                                           crit["regularized"], limits, k_inv=4, lam=0.1)
    _figure_legend_ok(fig)
    assert len(fig.axes[0].get_lines()) >= len(path[0])
    plt.close(fig)
    fig = plot_sorted_critical_losses({"hardwired": crit["hardwired"]},
                                      {"hardwired": "hard-wired"}, zero_loss=1.0,
                                      title="t", r=2)
    _figure_legend_ok(fig)
    drawn = fig.axes[0].get_lines()[0].get_ydata()
    assert np.allclose(drawn, sorted(cp.loss for cp in crit["hardwired"]))
    plt.close(fig)


def test_sampling_figure_draws_means_and_reference():
    s = np.array([1, 4, 16, 64, 256])
    rng = np.random.default_rng(0)
    uniform = np.abs(rng.normal(size=(2, 3, s.size))) / np.sqrt(s)
    biased = uniform + 0.3
    fig = plot_sampling_figure(s, [("u", "tab:blue", uniform), ("b", "tab:orange", biased)],
                               [0.3, 0.1])
    _figure_legend_ok(fig)
    means = [ln.get_ydata() for ln in fig.axes[0].get_lines() if ln.get_linestyle() == "-"]
    assert any(np.allclose(m, uniform[0].mean(axis=0)) for m in means)
    ref = [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() == ":"][0]
    at = list(s).index(64) - 1  # the reference starts at s[1]
    assert np.isclose(ref.get_ydata()[at], uniform[0].mean(axis=0)[3])
    plt.close(fig)


def test_cone_chord_singular_values():
    M0, M1 = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
    u, psi = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(0, 2 * np.pi, 10))
    mesh = (u + u * np.cos(psi), u * np.sin(psi), u - u * np.cos(psi))
    fig = plot_cone_chord(M0, M1, 0.5, mesh, n_points=11)
    sigma2 = fig.axes[1].get_lines()[1].get_ydata()
    # both ends have rank 1 (on the cone), the open chord has rank 2: min(t, 1 - t)
    assert np.allclose(sigma2, np.minimum(np.linspace(0, 1, 11), 1 - np.linspace(0, 1, 11)))
    assert all(t.get_fontsize() >= 9 for t in fig.axes[1].get_legend().get_texts())
    plt.close(fig)


def test_explorers_draw_the_rows_they_are_given():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(9, 196))
    scale = np.abs(rng.normal(size=196))
    fig = plot_rank_explorer(range(1, 10), np.linspace(0.1, 0.6, 9), np.linspace(0.1, 0.5, 9),
                             W, scale, r=5)
    images = [ax.get_images()[0].get_array() for ax in fig.axes if ax.get_images()]
    assert len(images) == 9 and np.allclose(images[4], (W[4] * scale).reshape(14, 14))
    plt.close(fig)
    lams = np.logspace(-2, 2, 5)
    fig = plot_path_explorer(lams, 1 / (1 + lams), 2, W[0], W[1], scale, digit=0)
    assert np.allclose(fig.axes[1].get_images()[0].get_array(), (W[0] * scale).reshape(14, 14))
    assert np.allclose(fig.axes[0].get_lines()[1].get_xdata(), [lams[2]])
    plt.close(fig)


def test_each_figure_function_has_one_home():
    """The figure modules split by topic (issue 11): every public function lives in
    exactly one module, is defined there, documents itself, and the old catch-all
    ``figures.theory`` is gone."""
    import importlib
    import pkgutil

    import invariance_lib.figures as figures

    homes = {}
    for info in pkgutil.iter_modules(figures.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"invariance_lib.figures.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if callable(obj) and getattr(obj, "__module__", "") == module.__name__:
                assert name not in homes, f"{name} in {homes.get(name)} and {info.name}"
                homes[name] = info.name
                assert obj.__doc__, f"{info.name}.{name} has no docstring"
    assert "theory" not in {i.name for i in pkgutil.iter_modules(figures.__path__)}
    assert {"plot_cone_chord", "plot_rank_explorer", "plot_path_arrival",
            "plot_sampling_figure", "plot_index_set_grids"} <= set(homes)
    assert homes["plot_descent_runs"] == "low_rank"
    assert homes["plot_error_per_direction"] == "hardwiring"
    assert homes["plot_sorted_critical_losses"] == "critical_points"
