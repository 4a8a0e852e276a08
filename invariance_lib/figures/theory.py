"""Figures of the theory chapters (2–7): the rank-one cone, loss curves between
critical values, the explorers of the closed forms on MNIST, critical points and
random augmentation.

The notebooks compute; these functions only draw. Each returns the matplotlib
``Figure`` and never calls ``plt.show()``. Legends use at least 9 pt and are placed
below the axes whenever a curve could run under them.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

__all__ = [
    "plot_cone_chord",
    "plot_rank_explorer",
    "plot_path_explorer",
    "plot_index_set_grids",
    "plot_regularised_critical_losses",
    "plot_sorted_critical_losses",
    "plot_sampling_figure",
    "plot_escape_losses",
    "plot_descent_runs",
    "plot_hardwired_training",
    "plot_path_arrival",
    "plot_path_crossing",
    "plot_path_on_mnist",
    "plot_augmentation_sets",
    "plot_error_per_direction",
]

_FONT = 9
_KEPT, _EXTRA = "tab:blue", "tab:orange"


def _draw_index_sets(ax, points, rank: int, k_inv: int, n_values: int, title: str) -> None:
    points = sorted(points, key=lambda cp: cp.loss)
    grid = np.zeros((n_values, len(points)))
    grid[rank:] = 1  # zero singular values: no critical point keeps them
    for col, cp in enumerate(points):
        for i in cp.index_set:
            grid[i, col] = 2 if i < k_inv else 3
    colours = ListedColormap(["white", "0.85", _KEPT, _EXTRA])
    ax.imshow(grid, cmap=colours, vmin=-0.5, vmax=3.5)
    ax.set_xticks(range(len(points)), [f"{cp.loss:.2f}" for cp in points],
                  rotation=90, fontsize=_FONT)
    ax.set_yticks(range(n_values), [f"σ{i + 1}" for i in range(n_values)])
    ax.set_xticks(np.arange(len(points)) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_values) - 0.5, minor=True)
    ax.grid(which="minor", color="0.6", lw=0.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("loss at the critical point")
    ax.set_title(title, fontsize=10)


def plot_index_set_grids(panels: Sequence[tuple], k_inv: int, n_values: int,
                         suptitle: str):
    """Critical points as index sets, one grid per problem (chapter 7).

    Parameters
    ----------
    panels : sequence of ``(points, rank, title)``
        ``points`` are :class:`~invariance_lib.theory.critical.CriticalPoint` objects
        (with ``index_set`` and ``loss``); ``rank`` is the rank of that problem's
        target: rows from ``rank`` on are grey (zero singular values).
    k_inv : int
        Rank of the invariant target ``Z_inv``; a kept index ``i >= k_inv`` is drawn
        orange (a singular value only the regularised target has).
    n_values : int
        Number of singular values (rows) to draw.
    suptitle : str
        Title of the figure.

    Columns are the critical points sorted by loss, a coloured cell a kept singular
    value: the critical point ``U Σ_I Vᵀ`` of Proposition B.9.
    """
    widths = [max(len(p), 1) for p, _, _ in panels]
    fig, axes = plt.subplots(1, len(panels), figsize=(8.4, 3.3), width_ratios=widths,
                             squeeze=False)
    for ax, (points, rank, title) in zip(axes[0], panels):
        _draw_index_sets(ax, points, rank, k_inv, n_values, title)
    fig.suptitle(suptitle, y=0.98)
    fig.tight_layout()
    return fig


def plot_regularised_critical_losses(lams, path: Sequence[Mapping], hw_losses, here,
                                     limits: Mapping, k_inv: int, lam: float,
                                     best=(0, 1)):
    """The regularised critical losses along λ, and where each one goes (chapter 7).

    Parameters
    ----------
    lams : array
        The grid of penalties.
    path : sequence of dict
        For each λ of ``lams``, ``{index_set: loss}`` of the regularised critical points.
    hw_losses : sequence of float
        The hard-wired critical losses (black triangles: the limits as λ → ∞).
    here : sequence of CriticalPoint
        The regularised critical points at the marked ``lam``.
    limits : dict
        ``{index_set: (W, loss)}``, the predicted λ → ∞ limit of each critical point
        (Proposition "Regularised critical points as λ → ∞").
    k_inv : int
        Rank of ``Z_inv``: index sets with an index ``>= k_inv`` are dashed orange.
    lam : float
        The penalty marked by a vertical line (left) and used on the right.
    best : tuple
        The global minimum's index set, drawn thicker.
    """
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(8.4, 4.5), width_ratios=[2, 1])
    for index_set in path[0]:
        extra = max(index_set) >= k_inv
        ax.plot(lams, [p[index_set] for p in path], ls="--" if extra else "-",
                color=_EXTRA if extra else _KEPT, lw=2.5 if index_set == best else 1.2)
    n_values = 1 + max(max(index_set) for index_set in path[0])
    extra_names = " or ".join(f"σ{i + 1}" for i in range(k_inv, n_values))
    ax.plot([], [], color=_KEPT, label=f"I ⊆ {{1,…,{k_inv}}}")
    ax.plot([], [], color=_EXTRA, ls="--", label=f"I uses {extra_names}")
    ax.scatter([lams[-1] * 3] * len(hw_losses), hw_losses, marker="<", color="k",
               label="hard-wired critical losses", zorder=3)
    ax.axvline(lam, color="grey", lw=0.8)
    ax.set(xscale="log", xlabel="penalty λ", ylabel="loss (1/n)‖WX − Y‖² + λ‖WG‖²",
           title="Regularised critical losses along λ")
    fig.legend(loc="lower center", ncol=3, fontsize=_FONT)
    for cp in here:
        extra = max(cp.index_set) >= k_inv
        ax2.plot([0, 1], [cp.loss, limits[cp.index_set][1]],
                 color=_EXTRA if extra else _KEPT, ls="--" if extra else "-",
                 marker="o", ms=4, lw=0.8)
    ax2.scatter([1] * len(hw_losses), hw_losses, marker="<", color="k", zorder=3)
    ax2.set_xticks([0, 1], [f"λ = {lam:.3g}", "λ → ∞"])
    ax2.set_xlim(-0.3, 1.3)
    ax2.set_title("where each loss goes", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


_STYLES = {"hardwired": dict(marker="o", mfc="none", color="tab:blue"),
           "augmented": dict(marker="x", color="tab:green", ms=4),
           "regularized": dict(marker=".", color="tab:orange"),
           "plain": dict(marker=".", color="tab:grey")}


def plot_sorted_critical_losses(points_by_problem: Mapping, labels: Mapping,
                                zero_loss: float, title: str, r: int):
    """Every problem's critical losses, sorted, with the global minima starred (chapter 7).

    Parameters
    ----------
    points_by_problem : dict
        ``{"hardwired" | "augmented" | "regularized" | "plain": critical points}``,
        each list with the global minimum first (as ``critical_points`` returns it).
    labels : dict
        Legend label of each problem.
    zero_loss : float
        The loss of the zero map, drawn dotted.
    title : str
        Axes title.
    r : int
        The rank bound (for the legend of the stars: the top-``r`` index set).
    """
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for method, points in points_by_problem.items():
        style = _STYLES[method]
        losses = sorted(cp.loss for cp in points)
        ax.plot(range(1, len(losses) + 1), losses, ls="none", label=labels[method],
                **style)
        ax.plot(1, points[0].loss, marker="*", ms=13, color=style["color"], mec="k",
                ls="none")
    ax.plot([], [], marker="*", ms=11, color="w", mec="k", ls="none",
            label=f"global minimum (top-{r} index set)")
    ax.axhline(zero_loss, color="k", lw=0.8, ls=":", label="loss of the zero map")
    ax.set(xlabel="critical point, sorted by loss",
           ylabel="loss (1/n)‖WX − Y‖² (+ penalty)", title=title)
    # the legend goes below the axes, where it cannot cover a curve
    fig.legend(loc="lower center", ncol=3, fontsize=_FONT)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


def plot_sampling_figure(s_values, runs: Sequence[tuple], levels: Sequence[float],
                         anchor: int = 64, limit_color: str = "tab:orange"):
    """Random augmentation: the optimum of the sampled data set against ``s`` (chapter 6).

    Parameters
    ----------
    s_values : sequence of int
        Rotations sampled per image, the x axis (log scale).
    runs : sequence of ``(label, colour, values)``
        ``values`` has shape ``(2, n_seeds, len(s_values))``: the non-invariance and
        the distance to ``W_inv`` of each seed's optimum. Dots are seeds, lines the
        mean. The first run is the uniform one: the dotted ``1/√s`` reference passes
        through its mean at ``s = anchor``.
    levels : pair of float
        The limits of the biased run (the weighted augmented optimum), drawn dashed;
        a level below ``1e-6`` is not drawn (uniform weights have limit 0).
    """
    s_values = np.asarray(s_values)
    fig, axes = plt.subplots(1, 2, figsize=(8.6, 3.9))
    ylabels = ["non-invariance $\\|WG\\|/\\|W\\|$", "distance to $W_{inv}$ on the data"]
    at = int(np.flatnonzero(s_values == anchor)[0])
    for i, (ax, ylabel) in enumerate(zip(axes, ylabels)):
        for label, color, values in runs:
            for row in values[i]:
                ax.plot(s_values, row, ".", color=color, alpha=0.5)
            ax.plot(s_values, values[i].mean(axis=0), "-", color=color, label=label)
        if levels[i] > 1e-6:
            ax.axhline(levels[i], ls="--", color=limit_color, lw=1,
                       label="weighted augmentation (limit)")
        s = s_values[1:]
        ref = runs[0][2][i].mean(axis=0)[at]
        ax.plot(s, ref * np.sqrt(anchor / s), ":", color="0.4", label="slope $1/\\sqrt{s}$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rotations sampled per image, s")
        ax.set_ylabel(ylabel)
    # one legend below both panels, where it cannot cover a curve
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=4,
               fontsize=_FONT)
    fig.suptitle("Random augmentation: the optimum of the sampled data set", fontsize=11)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    return fig


def _draw_cone(ax, mesh, path, point) -> None:
    # The cone, its lines through the apex, the chord, its ends M0 and M1, and
    # the point (1 - t)M0 + tM1.
    ax.plot_surface(*mesh, color="tab:blue", alpha=0.15, linewidth=0)
    for psi in np.linspace(0, 2 * np.pi, 24, endpoint=False):
        u = np.array([-1.0, 1.0])
        ax.plot(u * (1 + np.cos(psi)), u * np.sin(psi), u * (1 - np.cos(psi)),
                color="tab:blue", lw=0.5, alpha=0.5)
    abc = np.array([[M[0, 0], M[0, 1], M[1, 1]] for M in path])
    ax.plot(*abc.T, color="tab:red", lw=2.5)
    ax.scatter(*abc[[0, -1]].T, color="black", s=25, depthshade=False)
    ax.text(*abc[0], "  M₀", fontsize=10)
    ax.text(*abc[-1], "  M₁", fontsize=10)
    a, b, c = point[0, 0], point[0, 1], point[1, 1]
    ax.scatter(a, b, c, color="tab:red", s=40, depthshade=False)
    ax.text(a, b, c, f"  rank {np.linalg.matrix_rank(point)}",
            color="tab:red", fontsize=_FONT)
    ax.scatter(0, 0, 0, color="black", marker="*", s=120, depthshade=False)
    ax.text(0, 0, -0.35, "apex 0\n(singular)", fontsize=8, ha="center", va="top")
    ax.set(xlabel="a", ylabel="b", zlabel="c", yticks=[-1, 0, 1],
           title="Rank ≤ 1 symmetric matrices:\nthe cone ac = b²")
    ax.set_box_aspect((2, 1, 2))  # true proportions: a circular cone
    ax.view_init(elev=20, azim=-50)


def plot_cone_chord(M0, M1, t: float, mesh, n_points: int = 201):
    """The chord from ``M0`` to ``M1`` through the cone of rank-one 2×2 symmetric matrices.

    Left: the cone ``ac = b²`` of the matrices ``[[a, b], [b, c]]`` of rank at most 1
    (``mesh`` = three arrays for ``plot_surface``), the chord and the point
    ``(1 − t)M0 + tM1`` with its rank. Right: the two singular values along the chord;
    the smaller is zero exactly on the cone (chapter 2, non-convexity).
    """
    grid = np.linspace(0, 1, n_points)
    path = [(1 - s) * M0 + s * M1 for s in grid]
    fig = plt.figure(figsize=(8.4, 4.6))
    gs = fig.add_gridspec(1, 2, width_ratios=(1.3, 1))
    _draw_cone(fig.add_subplot(gs[0], projection="3d"), mesh, path, (1 - t) * M0 + t * M1)
    s = np.array([np.linalg.svd(M, compute_uv=False) for M in path])
    ax = fig.add_subplot(gs[1])
    ax.plot(grid, s[:, 0], label="σ₁")
    ax.plot(grid, s[:, 1], label="σ₂ (zero on the cone)")
    ax.axvline(t, color="tab:red", ls="--", lw=1, label=f"t = {t:.2f}")
    ax.set(xlabel="position t on the chord", ylabel="singular value",
           title="Singular values of (1−t)M₀ + tM₁")
    # below the axes: t moves the red line across the whole panel
    ax.legend(fontsize=_FONT, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    fig.tight_layout()
    return fig


def _weight_image(ax, w, vmax, side: int, title: str, fontsize=None) -> None:
    ax.imshow(np.asarray(w).reshape(side, side), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set(xticks=[], yticks=[])
    ax.set_title(title, fontsize=fontsize)


def plot_rank_explorer(ranks, acc_train, acc_test, W, pixel_scale, r: int,
                       side: int = 14):
    """The hard-wired optimum for one rank bound (chapter 4's explorer).

    Left: training and test accuracy against the rank bound (``ranks``), with ``r``
    marked. Right: the rows of ``W`` (one per digit) times ``pixel_scale``, the
    typical size of each pixel, as ``side × side`` images, each on its own colour
    scale (red positive, blue negative).
    """
    fig = plt.figure(figsize=(8.4, 4.4))
    grid = fig.add_gridspec(3, 6)
    ax = fig.add_subplot(grid[:, :3])
    ax.plot(ranks, acc_train, "o-", label="training images")
    ax.plot(ranks, acc_test, "s-", label="test images")
    ax.axvline(r, color="k", ls=":")
    ax.set(xlabel="rank bound r", ylabel="accuracy", title=f"Hard-wired optimum, r = {r}")
    ax.legend(fontsize=_FONT)
    for digit, w in enumerate(np.asarray(W) * pixel_scale):
        a = fig.add_subplot(grid[digit // 3, 3 + digit % 3])
        _weight_image(a, w, np.abs(w).max(), side, f"digit {digit}", fontsize=8)
    fig.tight_layout()
    return fig


def plot_path_explorer(lams, distance, index: int, W_row, W_inv_row, pixel_scale,
                       digit: int, side: int = 14):
    """One point of the regularisation path (chapter 5's explorer).

    Left: ``distance`` (the function distance to ``W_inv``) against ``lams``, with the
    point ``index`` marked. Middle and right: the digit's row of ``W_reg(λ)`` and of
    ``W_inv``, times ``pixel_scale``, on one shared colour scale.
    """
    fig, axes = plt.subplots(1, 3, figsize=(8.4, 2.8),
                             gridspec_kw={"width_ratios": [1.6, 1, 1]})
    axes[0].loglog(lams, distance)
    axes[0].plot(lams[index], distance[index], "ro")
    axes[0].set(xlabel="penalty strength λ", ylabel="function distance to W_inv",
                title=f"λ = {lams[index]:.2g}")
    rows = (np.asarray(W_row) * pixel_scale, np.asarray(W_inv_row) * pixel_scale)
    vmax = max(np.abs(w).max() for w in rows)
    for ax, w, title in zip(axes[1:], rows,
                            (f"W_reg(λ), digit {digit}", f"W_inv, digit {digit}")):
        _weight_image(ax, w, vmax, side, title)
    fig.tight_layout()
    return fig


def _critical_levels(ax, levels, names) -> None:
    """Dotted lines at the critical values, named on a right-hand axis."""
    for v in levels:
        ax.axhline(v, color="0.7", ls=":", lw=1)
    ax.set_yticks(list(levels), [f"{v:.3g}" for v in levels])
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    right.set_yticks(list(levels), list(names))
    right.set_ylabel("critical point")


def plot_escape_losses(t, curves: Sequence[tuple], levels, names, *,
                       rising: tuple | None = None):
    """The loss along escape curves from critical points (chapter 3, Lemma B.10).

    Parameters
    ----------
    t : array
        The angles of the curves, from 0 to π/2.
    curves : sequence of (label, loss, formula)
        The computed loss along each curve (line) and the closed form
        ``ℓ(W_I) − 2σ_i(σ_j − σ_i) sin²t`` (dots), both at ``t``.
    levels, names : sequences
        The critical values (dotted lines) and the names of their critical points.
    rising : (label, loss, formula), optional
        A curve from the global minimum, drawn in red (its loss goes up).
    """
    fig, ax = plt.subplots(figsize=(8, 4.8))
    colors = plt.cm.viridis(np.linspace(0, 0.85, max(len(curves), 1)))
    runs = [(c, *curve) for c, curve in zip(colors, curves)]
    if rising is not None:
        runs.append(("tab:red", *rising))
    for c, label, loss, formula in runs:
        ax.plot(t, loss, color=c, label=label)
        ax.plot(t[::7], np.asarray(formula)[::7], "o", color=c, ms=3)
    ax.set(xlabel="angle t of the escape curve (radians)", ylabel="loss ‖Z − W(t)‖²",
           title="Leaving each critical point along a rank-2 curve", xlim=(0, np.pi / 2))
    _critical_levels(ax, levels, names)
    ax.legend(fontsize=_FONT, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    fig.tight_layout()
    return fig


def plot_descent_runs(steps, losses, levels, names, *, title: str,
                      labels: Sequence[str] | None = None,
                      ylabel: str = "loss ‖Z − W_2 W_1‖²", ax=None):
    """Loss curves of gradient-descent runs between critical values (chapter 3).

    Parameters
    ----------
    steps : array, shape (T,)
    losses : array, shape (T, runs)
        One column per run.
    levels, names : sequences
        Critical values (dotted lines) and the names of their critical points.
    title, ylabel : str
    labels : sequence of str, optional
        One legend entry per run (none when omitted).
    ax : Axes, optional
        Draw here instead of a new figure.

    Returns
    -------
    Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.2))
    losses = np.asarray(losses)
    colors = plt.cm.viridis(np.linspace(0, 0.85, losses.shape[1]))
    for k in range(losses.shape[1]):
        ax.plot(steps, losses[:, k], color=colors[k] if labels else None, lw=1.3,
                label=labels[k] if labels else None)
    ax.set(xlabel="gradient descent step", ylabel=ylabel, title=title,
           xlim=(0, steps[-1]))
    _critical_levels(ax, levels, names)
    if labels:
        ax.legend(fontsize=_FONT, loc="center right")
    ax.figure.tight_layout()
    return ax


def plot_hardwired_training(histories: Mapping, loss_star: float, acc_star: float):
    """Training the hard-wired network against its closed form (chapter 4).

    Parameters
    ----------
    histories : mapping lr -> sequence of History
        Runs per learning rate (``epochs``, ``loss``, ``eval_epochs``, ``test_acc``).
    loss_star, acc_star : float
        The optimal loss ``L*`` and the test accuracy of the closed form ``W*``.

    Left: the relative gap ``(L − L*)/L*`` on a log axis; right: test accuracy with
    the closed form's as a dotted line.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    for (lr, hs), c in zip(histories.items(), ("C0", "C1", "C2", "C3")):
        for i, h in enumerate(hs):
            label = f"Adam, lr {lr:g}" if i == 0 else None
            ax1.semilogy(h.epochs, (np.asarray(h.loss) - loss_star) / loss_star, c,
                         lw=0.8, label=label)
            ax2.plot(h.eval_epochs, h.test_acc, c, lw=0.8, label=label)
    ax2.axhline(acc_star, color="k", ls=":", label="closed form W*")
    ax1.set(xlabel="epoch", ylabel="(L − L*) / L*",
            title="Relative loss gap to the closed form")
    ax2.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.3, 0.6), title="Test accuracy")
    ax1.legend(fontsize=_FONT)
    ax2.legend(fontsize=_FONT, loc="lower right")
    fig.tight_layout()
    return fig


def plot_path_arrival(lams, measures: Mapping, large, sigma, sigma_inv, r: int):
    """How the regularisation path reaches ``W_inv`` (chapter 5, Proposition 8).

    Parameters
    ----------
    lams : array
        The penalties λ.
    measures : mapping name -> array
        Distances to the λ → ∞ limit along the path; drawn relative to their first
        value, on log axes, with a ``1/λ`` reference over ``lams[large]``.
    large : index or boolean mask
        Where the ``1/λ`` line is drawn.
    sigma : array, shape (len(lams), q)
        The singular values of ``Z_reg(λ)/√n``; ``σ_r`` and ``σ_{r+1}`` are bold.
    sigma_inv : array
        Their λ → ∞ limits (dotted).
    r : int
        The rank bound.
    """
    lams = np.asarray(lams)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    for name, values in measures.items():
        values = np.asarray(values)
        ax1.loglog(lams, values / values[0], label=name)
    ax1.loglog(lams[large], 0.5e3 / lams[large], "k:", label="slope −1")
    ax1.set(xlabel="penalty strength λ", ylabel="relative to its value at λ = 1e-4",
            title="The path arrives at W_inv like 1/λ")
    ax1.legend(fontsize=_FONT)
    for i, s in enumerate(np.asarray(sigma).T):
        bold = i in (r - 1, r)
        ax2.semilogx(lams, s, label=f"σ_{i + 1}" if bold else None,
                     **(dict(lw=2.2) if bold else dict(color="0.6", lw=1)))
    ax2.semilogx(lams[[0, -1]], np.outer([1, 1], sigma_inv), "k:", lw=0.8)
    ax2.set(xlabel="penalty strength λ", ylabel="singular value of Z_reg(λ)/√n",
            title=f"Z_reg(λ): σ_{r} and σ_{r + 1} stay apart (r = {r})")
    ax2.legend(fontsize=_FONT)
    fig.tight_layout()
    return fig


def plot_path_crossing(lams, paths: Sequence[tuple]):
    """A crossing and an avoided crossing of singular values along the path (ch. 5).

    ``paths`` holds ``(path, linestyle, name)`` with ``path`` a
    ``regularization_path`` result for rank 1 (``sigma``, ``relative_distance``).
    Left: ``σ_1, σ_2`` of ``Z_reg(λ)/√n``; right: ``‖W_reg(λ) − W_inv‖/‖W_inv‖``.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.4))
    for path, style, name in paths:
        ax1.plot(lams, path.sigma[:, 0], "C0" + style, label=f"σ_1, {name}")
        ax1.plot(lams, path.sigma[:, 1], "C1" + style, label=f"σ_2, {name}")
        ax2.plot(lams, path.relative_distance, "k" + style, label=name)
    ax1.set(xlabel="penalty strength λ", ylabel="singular value of Z_reg(λ)/√n",
            title="Crossing (exact) vs avoided crossing")
    ax2.set(xlabel="penalty strength λ", ylabel="‖W_reg(λ) − W_inv‖ / ‖W_inv‖",
            title="The exact path jumps at λ* = 2")
    ax1.legend(fontsize=_FONT)
    ax2.legend(fontsize=_FONT)
    fig.tight_layout()
    return fig


def plot_path_on_mnist(lams, distances: Sequence[tuple], marks, accuracies: Sequence[tuple],
                       acc_inv: Sequence[float]):
    """The regularisation path on MNIST in two λ conventions (chapter 5).

    Parameters
    ----------
    lams : array
        The penalties λ of eq. (7).
    distances : sequence of (values, linestyle, label)
        Function distances ``‖(W_reg(λ) − W_inv)X‖ / ‖W_inv X‖`` along ``lams``.
    marks : (lams, values)
        Points drawn as black dots (the paper's λ_exp).
    accuracies : sequence of (values, label)
        Test accuracies along ``lams``; ``acc_inv`` are those of ``W_inv`` (dotted).
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    for values, style, label in distances:
        ax1.loglog(lams, values, style, label=label)
    ax1.loglog(*marks, "ko", ms=4, label="the paper's λ_exp")
    ax1.set(xlabel="penalty strength λ", ylabel="‖(W_reg(λ) − W_inv)X‖ / ‖W_inv X‖",
            title="Same path, shifted by log10(9)")
    ax1.legend(fontsize=_FONT)
    for (values, label), a, c in zip(accuracies, acc_inv, ("C0", "C1", "C2")):
        ax2.semilogx(lams, values, color=c, label=label)
        ax2.axhline(a, color=c, ls=":", lw=1)
    ax2.set(xlabel="penalty strength λ (eq. (7))", ylabel="test accuracy",
            title="Accuracy along the path (dotted: W_inv)")
    ax2.legend(fontsize=_FONT, loc="lower right")
    fig.tight_layout()
    return fig


def plot_augmentation_sets(W_cases: Mapping, distance, non_invariance, orbit):
    """The augmented optimum for several augmentation sets (chapter 6).

    Left: bars of ``distance(W)`` (to ``W_inv`` on the data) and
    ``non_invariance(W)`` (``‖WG‖/‖W‖``) per case; right: the weights of output 0 on
    the pixels of one ``orbit`` (equal weights = invariant).
    """
    names = list(W_cases)
    colors = ["tab:green", "tab:red", "tab:orange", "tab:purple"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.6, 3.4))
    x = np.arange(len(names))
    ax1.bar(x - 0.2, [distance(W_cases[k]) for k in names], 0.4,
            label="distance to $W_{inv}$ on the data", color="0.55")
    ax1.bar(x + 0.2, [non_invariance(W_cases[k]) for k in names], 0.4,
            label="non-invariance $\\|WG\\|/\\|W\\|$", color="0.2")
    ax1.text(0, 0.03, "both ≈ 0", ha="center", fontsize=8)
    ax1.set_xticks(x, names, fontsize=8)
    ax1.set(ylabel="relative size", ylim=(0, 1.9))
    ax1.set_title(f"Augmented optimum, {len(names)} augmentation sets", fontsize=10)
    ax1.legend(fontsize=_FONT, loc="upper left")
    for k, c in zip(names, colors):
        ax2.plot(range(len(orbit)), W_cases[k][0, orbit], "o-", color=c, label=k)
    ax2.set_xticks(range(len(orbit)), [f"pixel {p}" for p in orbit], fontsize=8)
    ax2.set(xlabel="pixels of one orbit", ylabel="weight of output 0 (digit 0)")
    ax2.set_title("Weights on one orbit (equal = invariant)", fontsize=10)
    ax2.legend(fontsize=_FONT)
    fig.tight_layout()
    return fig


def plot_error_per_direction(variances, errors: Mapping, *, rel_zero: float = 1e-12):
    """The error of trained maps per direction of the data (appendix, singular XXᵀ).

    Parameters
    ----------
    variances : array, shape (d,)
        The eigenvalues ``e_i`` of the feature covariance: the variance of the data
        along each eigenvector ``u_i``.
    errors : mapping label -> array, shape (d,)
        ``‖(V − V*) u_i‖`` of a trained map, per direction.
    rel_zero : float
        Directions with ``e_i < rel_zero · max e`` are unseen: drawn as crosses at the
        left edge of the raw panel (a log axis cannot show 0).

    Left: the raw error; right: ``√e_i`` times it, as the function distance weighs it.
    """
    e = np.asarray(variances, dtype=float)
    zero = e < rel_zero * e.max()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.6), sharex=True)
    for (label, err), c in zip(errors.items(), ("C0", "C1", "C2", "C3")):
        err = np.asarray(err)
        for ax, y in ((ax1, err), (ax2, err * np.sqrt(np.clip(e, 0, None)))):
            ax.loglog(e[~zero], y[~zero], "o", color=c, ms=3, label=f"{label}, seen")
        ax1.loglog(np.full(zero.sum(), 2e-8), err[zero], "x", color=c, ms=7,
                   label=f"{label}, unseen")
    ax1.axvline(5e-8, color="0.6", lw=0.8)
    ax1.set(xlabel="variance e_i of the data along u_i (unseen: left)",
            ylabel="‖(V − V*) u_i‖", title="Raw error per direction")
    ax2.set(xlabel="variance e_i of the data along u_i", ylabel="√e_i ‖(V − V*) u_i‖",
            title="Error as the function distance sees it")
    ax1.legend(fontsize=_FONT)
    fig.tight_layout()
    return fig
