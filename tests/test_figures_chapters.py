"""Smoke tests of the figure functions moved out of chapters 1, 3 and 4: they draw
the data passed in, with titles, labelled axes and legends of at least 9 pt."""
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from invariance_lib import c4_rotations  # noqa: E402
from invariance_lib.figures.images import plot_first_moment  # noqa: E402
from invariance_lib.figures.hardwiring import plot_hardwired_training  # noqa: E402
from invariance_lib.figures.low_rank import (plot_descent_runs,  # noqa: E402
                                             plot_escape_losses)


def _labelled(ax):
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_first_moment_arrow_turns_with_the_image():
    rho = c4_rotations(4)
    rows, cols = np.divmod(np.arange(16), 4)
    M = np.stack([cols - 1.5, 1.5 - rows])
    x = np.zeros(16)
    x[1] = 1.0  # one pixel in the top row
    fig = plot_first_moment(rho.elements(), M, x, side=4)
    assert len(fig.axes) == 4 and fig._suptitle.get_text()
    for ax, g in zip(fig.axes, rho.elements()):
        assert len(ax.patches) == 1  # one arrow per panel
        assert np.allclose(ax.get_images()[0].get_array(), (g @ x).reshape(4, 4))
    # equivariance: the moments of the four images are M rho(g) x = rho_plane(g) M x
    moments = [M @ g @ x for g in rho.elements()]
    assert np.isclose(np.linalg.norm(moments[0]), np.linalg.norm(moments[1]))
    assert abs(moments[0] @ moments[1]) < 1e-12  # a quarter turn apart
    plt.close(fig)


def test_escape_losses_draw_every_curve_and_name_the_levels():
    t = np.linspace(0, np.pi / 2, 15)
    curves = [(f"c{k}", 10 - k * np.sin(t) ** 2, 10 - k * np.sin(t) ** 2)
              for k in range(1, 4)]
    fig = plot_escape_losses(t, curves, [5, 10], ["I = a", "I = b"],
                             rising=("up", 5 + np.sin(t) ** 2, 5 + np.sin(t) ** 2))
    ax, right = fig.axes
    _labelled(ax)
    lines = ax.get_lines()
    assert np.allclose(lines[0].get_ydata(), curves[0][1])
    assert [tk.get_text() for tk in right.get_yticklabels()] == ["I = a", "I = b"]
    legend = ax.get_legend()
    assert len(legend.get_texts()) == 4
    assert all(tx.get_fontsize() >= 9 for tx in legend.get_texts())
    plt.close(fig)


def test_descent_runs_one_line_per_run():
    steps = np.arange(10)
    losses = np.linspace(30, 5, 20).reshape(10, 2)
    ax = plot_descent_runs(steps, losses, [5, 14, 30], ["a", "b", "c"], title="t",
                           labels=["run 0", "run 1"])
    _labelled(ax)
    drawn = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 10]
    assert len(drawn) == 2 and np.allclose(drawn[1].get_ydata(), losses[:, 1])
    assert all(tx.get_fontsize() >= 9 for tx in ax.get_legend().get_texts())
    plt.close(ax.figure)
    ax = plot_descent_runs(steps, losses, [5], ["a"], title="no legend")
    assert ax.get_legend() is None
    plt.close(ax.figure)


def test_hardwired_training_plots_the_relative_gap():
    h = SimpleNamespace(epochs=np.arange(5), loss=np.array([2.0, 1.5, 1.1, 1.01, 1.0]),
                        eval_epochs=np.array([0, 4]), test_acc=np.array([0.4, 0.5]))
    fig = plot_hardwired_training({0.01: [h, h], 0.001: [h]}, 0.5, 0.55)
    ax1, ax2 = fig.axes
    _labelled(ax1), _labelled(ax2)
    assert np.allclose(ax1.get_lines()[0].get_ydata(), (h.loss - 0.5) / 0.5)
    assert len(ax1.get_legend().get_texts()) == 2  # one entry per learning rate
    assert all(tx.get_fontsize() >= 9 for a in (ax1, ax2)
               for tx in a.get_legend().get_texts())
    plt.close(fig)


def _legends_ok(fig):
    for ax in fig.axes:
        if ax.get_legend() is not None:
            assert all(tx.get_fontsize() >= 9 for tx in ax.get_legend().get_texts())


def test_path_arrival_relative_and_bold_singular_values():
    from invariance_lib.figures.regularisation import plot_path_arrival
    lams = np.logspace(-4, 4, 9)
    sigma = np.column_stack([3 + 0 * lams, 2 + 0 * lams, 1 / (1 + lams)])
    fig = plot_path_arrival(lams, {"d": 2 / (1 + lams)}, lams > 1, sigma,
                            np.array([3.0, 2.0, 0.0]), r=1)
    ax1, ax2 = fig.axes
    _labelled(ax1), _labelled(ax2), _legends_ok(fig)
    assert np.allclose(ax1.get_lines()[0].get_ydata(), (1 + lams[0]) / (1 + lams))
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["σ_1", "σ_2"]
    plt.close(fig)


def test_path_crossing_and_path_on_mnist():
    from invariance_lib.figures.regularisation import (plot_path_crossing,
                                                       plot_path_on_mnist)
    lams = np.linspace(0.5, 4, 8)
    p = SimpleNamespace(sigma=np.column_stack([lams, 4 - lams]),
                        relative_distance=np.abs(lams - 2))
    fig = plot_path_crossing(lams, [(p, "-", "exact"), (p, "--", "coupled")])
    _labelled(fig.axes[0]), _labelled(fig.axes[1]), _legends_ok(fig)
    assert len(fig.axes[0].get_legend().get_texts()) == 4
    assert np.allclose(fig.axes[1].get_lines()[0].get_ydata(), np.abs(lams - 2))
    plt.close(fig)
    fig = plot_path_on_mnist(lams, [(1 / lams, "-", "a"), (0.1 / lams, "--", "b")],
                             (lams[:2], 1 / lams[:2]), [(0.5 + 0 * lams, "up")],
                             [0.55])
    _labelled(fig.axes[0]), _labelled(fig.axes[1]), _legends_ok(fig)
    assert np.allclose(fig.axes[0].get_lines()[1].get_ydata(), 0.1 / lams)
    plt.close(fig)


def test_augmentation_sets_bars_and_orbit_weights():
    from invariance_lib.figures.augmentation import plot_augmentation_sets
    W = {"C4": np.ones((2, 8)), "none": np.arange(16.0).reshape(2, 8)}
    fig = plot_augmentation_sets(W, lambda W: W.sum(), lambda W: W.std(), [0, 2, 4, 6])
    ax1, ax2 = fig.axes
    assert [b.get_height() for b in ax1.patches[:2]] == [16.0, 120.0]
    assert np.allclose(ax2.get_lines()[1].get_ydata(), [0, 2, 4, 6])
    assert ax2.get_xlabel() and ax2.get_ylabel() and ax1.get_ylabel()
    _legends_ok(fig)
    plt.close(fig)


def test_error_per_direction_marks_unseen_directions():
    from invariance_lib.figures.hardwiring import plot_error_per_direction
    e = np.array([0.0, 1e-4, 1e-2, 1.0])
    err = np.array([3.0, 2.0, 1.0, 0.5])
    fig = plot_error_per_direction(e, {"lr 0.01": err})
    ax1, ax2 = fig.axes
    seen, unseen = ax1.get_lines()[0], ax1.get_lines()[1]
    assert np.allclose(seen.get_ydata(), err[1:]) and np.allclose(unseen.get_ydata(), [3.0])
    assert np.allclose(ax2.get_lines()[0].get_ydata(), err[1:] * np.sqrt(e[1:]))
    _labelled(ax1), _labelled(ax2), _legends_ok(fig)
    plt.close(fig)


def _chapter10_histories():
    """Fake histories of 4 runs (2 default, 2 invariant starts) for chapter 10."""
    from invariance_lib.experiments.stacked import NetRun
    runs = [NetRun("augmentation", 7, a, seed=s, init=i)
            for i in ("default", "invariant") for a in ("relu", "tanh")
            for s in (0,)]
    ev = np.array([0, 10, 20])
    hists = [SimpleNamespace(eval_epochs=ev, eps_inv={
        "test images": np.array([1e-1, 5e-2, 2e-2 * (j + 1)]) * (1e-12 if j >= 2 else 1),
        "Gaussian inputs": np.array([1.0, 0.5, 0.1]) * (0.0 if j >= 2 else 1)})
        for j in range(4)]
    return runs, hists


def test_split_by_start_groups_the_runs_by_initialisation():
    from invariance_lib.figures.appendix_c import plot_split_by_start
    runs, hists = _chapter10_histories()
    epochs = np.array([0, 5, 10, 15, 20])
    perp = np.outer(np.linspace(1, 2, 5), [3.0, 4.0, 0.0, 1e-14])
    fig = plot_split_by_start(epochs, {"perp": perp}, hists, runs)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        _labelled(ax)
        assert ax.get_yscale() == "log"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [
            "default start", "invariant start"]
    med = fig.axes[0].get_lines()[0].get_ydata()
    np.testing.assert_allclose(med, np.median(perp[:, :2], axis=1))
    low = fig.axes[0].get_lines()[1].get_ydata()   # floored at 1e-12 on the log axis
    np.testing.assert_allclose(low, 1e-12 + 0 * low)
    assert list(fig.axes[1].get_lines()[0].get_xdata()) == [0, 10, 20]
    _legends_ok(fig)
    plt.close(fig)
    with pytest.raises(ValueError, match="same runs"):
        plot_split_by_start(epochs, {"perp": perp[:, :3]}, hists, runs)


def test_final_eps_curves_combine_sizes_and_the_grid():
    from invariance_lib.figures.appendix_c import final_eps_curves, plot_eps_inv_vs_n
    runs, hists = _chapter10_histories()
    grid = {(s, 1000): {("relu", 7): np.array([0.3]), ("tanh", 7): np.array([0.4])}
            for s in ("test images", "Gaussian inputs")}
    curves = final_eps_curves({250: hists, 1000: None}, runs, grid)
    assert list(curves) == ["ReLU, test images", "ReLU, Gaussian inputs",
                            "Tanh, test images", "Tanh, Gaussian inputs"]
    med, lo, hi = curves["Tanh, test images"]
    np.testing.assert_allclose(med, [0.04, 0.4])      # run 1's last value; the grid's
    np.testing.assert_allclose(lo, med)
    inv = final_eps_curves({250: hists}, runs, init="invariant")
    assert max(float(h.max()) for _, _, h in inv.values()) < 1e-12
    with pytest.raises(ValueError, match="grid_table"):
        final_eps_curves({250: hists, 1000: None}, runs)
    ax = plot_eps_inv_vs_n([250, 1000], curves)
    _labelled(ax)
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert len(ax.get_legend().get_texts()) == 4
    plt.close(ax.figure)


def test_loss_gap_draws_one_line_per_network_in_per_cent():
    from invariance_lib.figures.appendix_c import plot_loss_gap
    epochs = np.array([0, 10, 100, 1000])
    gaps = {("relu", 7): np.array([0.0, 0.01, 0.05, 0.1]),
            ("relu", 15): np.array([0.0, 0.02, 0.1, 0.15]),
            ("tanh", 7): np.array([0.0, -0.01, 0.0, 0.02])}
    ax = plot_loss_gap(epochs, gaps, marks=(100,))
    _labelled(ax)
    assert ax.get_xscale() == "log"
    lines = ax.get_lines()[:3]
    assert [ln.get_label() for ln in lines] == [
        "ReLU, 7 hidden", "ReLU, 15 hidden", "Tanh, 7 hidden"]
    np.testing.assert_allclose(lines[1].get_xdata(), [10, 100, 1000])  # no epoch 0
    np.testing.assert_allclose(lines[1].get_ydata(), [2, 10, 15])
    assert lines[0].get_linestyle() == "--" and lines[1].get_linestyle() == "-"
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert len(ax.get_lines()) == 5                  # the zero line, the mark
    _legends_ok(ax.figure)
    plt.close(ax.figure)
