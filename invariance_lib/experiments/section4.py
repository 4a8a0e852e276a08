"""The paper's Section 4 experiment over several seeds, and what it is compared with.

Duan & Montúfar (Section 4, Appendix C.1) train a two-layer linear network
``196 → 5 → 9`` on 1,000 MNIST images (14×14, digits 0–8) under the rotations C4, by
augmentation, hard-wiring and regularisation with ``λ ∈ {1e-3, 1e-2, 1e-1}``, with
Adam (lr 1e-3, betas (0.9, 0.999)), full batch, for 2,000 epochs. This module runs
that experiment for several **seeds** — a seed fixes both the initial weights and
the 1,000-image training subset — on the library's moment fast path
(:func:`invariance_lib.experiments.training.train_many`), and provides what the book's
chapter 8 compares the runs with:

* :func:`run_section4` — every run, every seed, under one or both readings of λ:
  ``"mean"`` (PyTorch's ``MSELoss``, ``(1/(n·dL))‖WX − Y‖² + λ‖WG‖²``) and
  ``"paper"`` (eq. (7), ``(1/n)‖WX − Y‖² + λ‖WG‖²``); with the closed-form optimum
  of every run's own objective;
* :func:`objective` — a run's objective computed **from the samples** (the
  augmented samples for augmentation), independently of the moments the training
  and the solvers use;
* :func:`compare_to_optimum` — loss gap, function distance, accuracies of every
  trained run against its closed form;
* :func:`paper_singular_values` — the singular values of ``Z_inv``, ``Z_da`` and
  ``Z_reg(λ)`` in the paper's normalisation (Figure 5);
* :func:`measure_cost` — time per epoch of each method on the moment fast path,
  full batch on the samples, and mini-batches;
* small helpers: :func:`median_band`, :func:`settling_epoch`, :func:`dead_part`,
  :func:`parameter_counts`.

Conventions are the library's: ``X`` is ``(d0, n)`` (columns are samples), ``Y``
``(dL, n)``, ``W`` ``(dL, d0)``.
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from invariance_lib import (augmented_optimum, c4_rotations, hardwired_optimum,
                            load_mnist, regularized_optimum, train_many)
from invariance_lib.experiments.history import History
from invariance_lib.measures import accuracy, function_distance, w_perp_norm
from invariance_lib.experiments.networks import DeepLinear, HardwiredDeepLinear
from invariance_lib.theory.problems import (augmented_problem, canonical_method,
                                     hardwired_problem, regularized_problems)
from invariance_lib.experiments.training import Run, section4_runs

__all__ = [
    "PAPER_LAMS",
    "PAPER_EPOCHS",
    "PAPER_REPORTED",
    "RunKey",
    "SeedResult",
    "Section4Sweep",
    "run_section4",
    "objective",
    "compare_to_optimum",
    "paper_singular_values",
    "measure_cost",
    "parameter_counts",
    "median_band",
    "settling_epoch",
    "dead_part",
]

#: The paper's three penalty strengths (its experiments' λ).
PAPER_LAMS = (1e-3, 1e-2, 1e-1)
#: The paper's number of epochs (its figures' axes run to about 3,000).
PAPER_EPOCHS = 2000

#: Values read off the paper's Figures 2 and 3 by eye (about ±0.02): the plateaus
#: of ``‖W_⊥‖_F`` and the accuracies on the augmented training set at the end of
#: training. Keys: ``("w_perp" | "aug_train_acc", method, λ)``.
PAPER_REPORTED = {
    ("w_perp", "regularized", 1e-3): 0.73,
    ("w_perp", "regularized", 1e-2): 0.37,
    ("w_perp", "regularized", 1e-1): 0.08,
    ("aug_train_acc", "regularized", 1e-3): 0.34,
    ("aug_train_acc", "regularized", 1e-2): 0.40,
    ("aug_train_acc", "regularized", 1e-1): 0.52,
    ("aug_train_acc", "augmented", None): 0.50,
    ("aug_train_acc", "hardwired", None): 0.50,
}

_NORMALIZATIONS = ("mean", "paper")


# ------------------------------------------------------------------ checks
def _check_seeds(seeds) -> tuple[int, ...]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be a sequence of non-negative integers such as "
                        f"range(5), got {type(seeds).__name__}.")
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0:
            raise ValueError(f"every seed must be a non-negative integer, got {s!r}.")
        out.append(int(s))
    if not out:
        raise ValueError("seeds is empty; pass at least one seed, e.g. seeds=range(5).")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds {out} repeat a value; each seed must appear once.")
    return tuple(out)


def _check_normalizations(normalizations) -> tuple[str, ...]:
    if isinstance(normalizations, str):
        normalizations = (normalizations,)
    norms = tuple(normalizations)
    if not norms or any(n not in _NORMALIZATIONS for n in norms):
        raise ValueError(f"normalizations must be a non-empty subset of {_NORMALIZATIONS} "
                         f"('mean': PyTorch's MSELoss, 'paper': eq. (7)), got {norms!r}.")
    if norms[0] != "mean" and "mean" in norms:
        norms = ("mean",) + tuple(n for n in norms if n != "mean")
    return norms


def _check_positive_int(v, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(v).__name__}.")
    if v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v}.")
    return int(v)


# --------------------------------------------------------------- the sweep
@dataclass(frozen=True)
class RunKey:
    """Which run: ``method`` (canonical name), ``lam`` and the λ ``normalization``.

    Augmentation and hard-wiring do not depend on the reading of λ; they are
    trained once, under the first normalization of the sweep.
    """

    method: str
    lam: float | None
    normalization: str

    @property
    def label(self) -> str:
        """``"augmentation"``, ``"hard-wired"``, ``"λ=0.01 (MSELoss)"``, …"""
        if self.method == "regularized":
            reading = "MSELoss" if self.normalization == "mean" else "eq. (7)"
            return f"λ={self.lam:g} ({reading})"
        return {"augmented": "augmentation", "hardwired": "hard-wired"}.get(self.method,
                                                                          self.method)


@dataclass
class SeedResult:
    """One seed: its data subset, the trained histories and the closed-form optima.

    Attributes
    ----------
    seed : int
        Seed of the initial weights **and** of the data subset (``load_mnist(seed=...)``).
    data : MNIST
        The training and test split of this seed.
    histories : dict RunKey -> History
    optima : dict RunKey -> ndarray (dL, d0)
        The closed-form (minimum-norm) optimum of each run's own objective.
    """

    seed: int
    data: object
    histories: dict
    optima: dict


@dataclass
class Section4Sweep:
    """All runs of :func:`run_section4`, grouped by seed.

    Attributes
    ----------
    seeds : tuple of int
    results : list of SeedResult
        In the order of ``seeds``.
    rep : Representation
        The group (C4 on 14×14 images).
    keys : list of RunKey
        The runs of every seed, in a fixed order.
    settings : dict
        Epochs, recording periods, training-set size, λ values, normalizations.
    """

    seeds: tuple
    results: list
    rep: object
    keys: list
    settings: dict = field(default_factory=dict)

    def histories(self, key: RunKey) -> list[History]:
        """The History of run ``key`` for every seed."""
        self._check_key(key)
        return [res.histories[key] for res in self.results]

    def series(self, key: RunKey, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """``(epochs, values)`` with ``values`` of shape ``(n_seeds, T)`` (or
        ``(n_seeds, T, dL, k)`` for ``"entries"``)."""
        hs = self.histories(key)
        if metric == "entries":
            return hs[0].epochs, np.stack([h.entries for h in hs])
        pairs = [h.series(metric) for h in hs]
        return pairs[0][0], np.stack([v for _, v in pairs])

    def value_at(self, key: RunKey, metric: str, epoch: int) -> np.ndarray:
        """The value of ``metric`` at ``epoch`` (the nearest recorded one) per seed."""
        epochs, values = self.series(key, metric)
        i = int(np.argmin(np.abs(epochs - epoch)))
        return values[:, i]

    def key(self, method: str, lam: float | None = None,
            normalization: str | None = None) -> RunKey:
        """The RunKey of a method (aliases accepted), λ and normalization."""
        m = canonical_method(method)
        norm = normalization or self.settings["normalizations"][0]
        if m != "regularized":
            norm = self.settings["normalizations"][0]
            lam = None
        k = RunKey(m, None if lam is None else float(lam), norm)
        self._check_key(k)
        return k

    def _check_key(self, key: RunKey) -> None:
        if key not in self.keys:
            raise ValueError(f"no run {key} in this sweep; its runs are "
                             f"{[k.label for k in self.keys]}.")


def _optima(X, Y, rep, keys: list, r: int) -> dict:
    """The closed form of every run's objective; one λ-path per normalization."""
    out = {}
    for key in keys:
        if key.method == "augmented":
            out[key] = augmented_optimum(X, Y, rep.elements(), r)
        elif key.method == "hardwired":
            out[key] = hardwired_optimum(X, Y, rep, r)
    for norm in dict.fromkeys(k.normalization for k in keys if k.method == "regularized"):
        reg = [k for k in keys if k.method == "regularized" and k.normalization == norm]
        Ws = regularized_optimum(X, Y, rep.constraint_matrix(), r, [k.lam for k in reg],
                                 normalization=norm)
        out.update(zip(reg, Ws))
    return out


def run_section4(seeds: Sequence[int] = range(5), *, lams: Sequence[float] = PAPER_LAMS,
                 normalizations: Sequence[str] = ("mean", "paper"), epochs: int = 3000,
                 record_every: int = 10, eval_every: int = 20,
                 secondary_eval_every: int = 100, n_train: int = 1000,
                 hidden: int = 5, dtype: str = "float64", mnist_path=None
                 ) -> Section4Sweep:
    """Train the paper's Section 4 runs for every seed, on the moment fast path.

    For each seed ``s``: ``data = load_mnist(seed=s, n_train=n_train)`` (a different
    1,000-image subset per seed; the test set is the rest of the sample), then one
    :func:`~invariance_lib.experiments.training.train_many` call per normalization trains all of
    that seed's runs together, with initial weights from seed ``s``. Augmentation and
    hard-wiring are trained under the first normalization only (their optimum does
    not depend on it); regularisation under every one. Adam with lr 1e-3 and betas
    (0.9, 0.999), full batch.

    Parameters
    ----------
    seeds : sequence of int, default range(5)
        Each seed fixes the initialisation and the data subset.
    lams : sequence of float, default (1e-3, 1e-2, 1e-1)
    normalizations : sequence of {"mean", "paper"}, default ("mean", "paper")
        The readings of λ to train (see the module docstring).
    epochs : int, default 3000
    record_every, eval_every : int
        Recording periods of the W-measures and of the accuracies.
    secondary_eval_every : int, default 100
        Accuracy period of the runs under the second normalization (only their
        values at a few epochs are reported; evaluating is most of a run's cost).
    n_train : int, default 1000
    hidden : int, default 5
        The bottleneck width ``r``.
    dtype : {"float64", "float32"}
    mnist_path : path, optional
        Folder of the full MNIST IDX files (default: the bundled sample).

    Returns
    -------
    Section4Sweep
    """
    seeds = _check_seeds(seeds)
    norms = _check_normalizations(normalizations)
    epochs = _check_positive_int(epochs, "epochs")
    record_every = _check_positive_int(record_every, "record_every")
    eval_every = _check_positive_int(eval_every, "eval_every")
    secondary_eval_every = _check_positive_int(secondary_eval_every, "secondary_eval_every")
    n_train = _check_positive_int(n_train, "n_train")
    hidden = _check_positive_int(hidden, "hidden")
    lams = tuple(float(v) for v in lams)
    if not lams or any(not np.isfinite(v) or v < 0 for v in lams):
        raise ValueError(f"lams must be non-empty, finite and >= 0, got {lams!r}.")
    rep = c4_rotations(14)
    keys = [RunKey("augmented", None, norms[0]), RunKey("hardwired", None, norms[0])]
    keys += [RunKey("regularized", lam, norm) for norm in norms for lam in lams]
    results = []
    for seed in seeds:
        data = load_mnist(mnist_path, n_train=n_train, seed=seed)
        X, Y = data.X_train, data.Y_train
        common = dict(rep=rep, hidden=(hidden,), epochs=epochs, record_every=record_every,
                      X_test=data.X_test, Y_test=data.Y_test, dtype=dtype, progress=False)
        hist = {}
        for norm in norms:
            if norm == norms[0]:
                runs, every = section4_runs(lams, seeds=[seed]), eval_every
            else:
                runs = [Run("regularisation", lam=lam, seed=seed) for lam in lams]
                every = secondary_eval_every
            for h in train_many(X, Y, runs, normalization=norm, eval_every=every,
                                **common):
                hist[RunKey(h.method, h.lam, norm)] = h
        optima = _optima(X, Y, rep, keys, hidden)
        results.append(SeedResult(seed, data, {k: hist[k] for k in keys}, optima))
    settings = {"epochs": epochs, "record_every": record_every, "eval_every": eval_every,
                "secondary_eval_every": secondary_eval_every,
                "n_train": n_train, "hidden": hidden, "lams": lams,
                "normalizations": norms, "dtype": dtype}
    return Section4Sweep(seeds, results, rep, keys, settings)


# ------------------------------------------------------------- objectives
def _augmented_inputs(X: np.ndarray, rep) -> np.ndarray:
    """``[ρ(g_1)X, …, ρ(g_|G|)X]``; rows are permuted (no product) for permutations."""
    X = np.asarray(X, dtype=np.float64)
    if rep.is_permutation():
        return np.concatenate([X[np.argmax(E, axis=1)] for E in rep.elements()], axis=1)
    return np.concatenate([E @ X for E in rep.elements()], axis=1)


def _check_xy(W, X, Y):
    W, X, Y = (np.asarray(A, dtype=np.float64) for A in (W, X, Y))
    if W.ndim != 2 or X.ndim != 2 or Y.ndim != 2:
        raise ValueError("W, X and Y must be 2-D arrays (dL, d0), (d0, n), (dL, n).")
    if W.shape != (Y.shape[0], X.shape[0]) or X.shape[1] != Y.shape[1]:
        raise ValueError(f"shapes do not fit: W {W.shape}, X {X.shape}, Y {Y.shape}; "
                         f"W must be (dL, d0) with X (d0, n) and Y (dL, n).")
    return W, X, Y


def _scale(normalization: str, n: int, dL: int) -> float:
    if normalization not in _NORMALIZATIONS:
        raise ValueError(f"normalization must be 'mean' (PyTorch's MSELoss) or 'paper' "
                         f"(eq. (7)), got {normalization!r}.")
    return 1.0 / (n * dL) if normalization == "mean" else 1.0 / n


def _objective(W, X, Y, Xa, G, method: str, lam, s: float) -> float:
    """The objective from prepared inputs: ``Xa`` augmented inputs, ``G`` constraint."""
    if method == "augmented":
        k = Xa.shape[1] // X.shape[1]
        return float(s / k * np.sum((W @ Xa - np.tile(Y, (1, k))) ** 2))
    value = s * float(np.sum((W @ X - Y) ** 2))
    if method == "regularized":
        value += float(lam) * float(np.sum((W @ G) ** 2))
    return value


def objective(W, X, Y, method: str, *, rep=None, lam: float | None = None,
              normalization: str = "mean") -> float:
    """A run's training objective at ``W``, computed from the samples.

    ``s·‖WX − Y‖²`` (hard-wired, plain), ``s/|G|·Σ_g ‖Wρ(g)X − Y‖²`` (augmentation,
    on the ``n|G|`` augmented samples), ``s·‖WX − Y‖² + λ‖WG‖²`` (regularisation),
    with ``s = 1/(n·dL)`` for ``"mean"`` (PyTorch's ``MSELoss``) and ``s = 1/n`` for
    ``"paper"`` (eq. (7)). This does not use the moments that training and the
    solvers use, so it checks both.

    Parameters
    ----------
    W : array (dL, d0)
    X, Y : arrays (d0, n), (dL, n)
    method : {"plain", "hardwired", "augmented", "regularized"} (aliases accepted)
    rep : Representation
        Needed by augmentation and regularisation.
    lam : float
        Needed by regularisation (``>= 0``).
    normalization : {"mean", "paper"}
    """
    m = canonical_method(method)
    W, X, Y = _check_xy(W, X, Y)
    s = _scale(normalization, X.shape[1], Y.shape[0])
    if m in ("augmented", "regularized") and rep is None:
        raise ValueError(f"method {method!r} needs the group: pass rep=c4_rotations(14).")
    if m == "regularized" and (lam is None or not np.isfinite(lam) or lam < 0):
        raise ValueError(f"regularisation needs a finite lam >= 0, got {lam!r}.")
    Xa = _augmented_inputs(X, rep) if m == "augmented" else None
    G = rep.constraint_matrix() if m == "regularized" else None
    return _objective(W, X, Y, Xa, G, m, lam, s)


def compare_to_optimum(sweep: Section4Sweep) -> list[dict]:
    """Every trained run (every seed) against the closed form of its own objective.

    Returns one dict per run and seed with

    * ``loss_gap``: ``(L(W) − L(W*)) / L(W*)``, both from :func:`objective`;
    * ``function_distance``: ``‖(W − W*)X‖/‖W*X‖`` on the run's training inputs
      (the ``n|G|`` augmented inputs for augmentation);
    * ``train_acc``, ``train_acc_opt``: accuracy on the augmented training set of
      the trained map and of the optimum;
    * ``test_acc``, ``test_acc_opt``: on the upright held-out images;
    * ``rot_test_acc``, ``rot_test_acc_opt``: on the held-out images in all four
      rotations;
    * ``w_perp``, ``w_perp_opt``: ``‖W − WḠ‖_F`` of both, with the group average
      ``Ḡ`` (:func:`~invariance_lib.measures.w_perp_norm`; the optimum is
      minimum-norm);
    * ``loss_recorded_error``, ``w_perp_recorded_error``: relative differences
      between the History's last recorded loss and ``‖W_⊥‖`` (computed during
      training from the moments and the invariant basis) and the values here.
    """
    if not isinstance(sweep, Section4Sweep):
        raise TypeError(f"sweep must be a Section4Sweep from run_section4(), got "
                        f"{type(sweep).__name__}.")
    rep = sweep.rep
    G = rep.constraint_matrix()
    rows = []
    for res in sweep.results:
        d = res.data
        X, Y = d.X_train, d.Y_train
        Xa = _augmented_inputs(X, rep)
        lab_a = np.tile(d.labels_train, rep.order)
        Xr = _augmented_inputs(d.X_test, rep)
        lab_r = np.tile(d.labels_test, rep.order)
        for key in sweep.keys:
            h, Wo = res.histories[key], res.optima[key]
            W = np.asarray(h.W, dtype=np.float64)
            s = _scale(key.normalization, X.shape[1], Y.shape[0])
            L = _objective(W, X, Y, Xa, G, key.method, key.lam, s)
            Lo = _objective(Wo, X, Y, Xa, G, key.method, key.lam, s)
            wp = w_perp_norm(W, rep)
            Xf = Xa if key.method == "augmented" else X
            rows.append({
                "seed": res.seed, "key": key, "label": key.label,
                "loss": L, "loss_opt": Lo, "loss_gap": (L - Lo) / Lo,
                "loss_recorded_error": abs(float(h.loss[-1]) - L) / abs(L),
                "function_distance": function_distance(W, Wo, Xf),
                "train_acc": accuracy(W, Xa, lab_a), "train_acc_opt": accuracy(Wo, Xa, lab_a),
                "test_acc": accuracy(W, d.X_test, d.labels_test),
                "test_acc_opt": accuracy(Wo, d.X_test, d.labels_test),
                "rot_test_acc": accuracy(W, Xr, lab_r),
                "rot_test_acc_opt": accuracy(Wo, Xr, lab_r),
                "w_perp": wp, "w_perp_opt": w_perp_norm(Wo, rep),
                "w_perp_recorded_error": abs(float(h.w_perp[-1]) - wp) / max(wp, 1e-300)
                if wp > 0 else abs(float(h.w_perp[-1])),
            })
    return rows


# ------------------------------------------------------------- Figure 5
def paper_singular_values(X, Y, rep, lams: Sequence[float] = PAPER_LAMS) -> dict:
    """Singular values of ``Z_inv``, ``Z_da`` and ``Z_reg(λ)`` in the paper's normalisation.

    The paper whitens with ``P = (XXᵀ)^{1/2}`` and ``Q = (Σ_g ρ(g)XXᵀρ(g)ᵀ)^{1/2}``:
    ``Z = YXᵀP⁻¹``, ``Z_inv = Z(I − G̃G̃⁺)``, ``Z_reg(λ) = Z B(λ)⁻¹`` (eq. (7)'s λ) and
    ``Z_da = |G|·YXᵀḠᵀQ⁻¹``. The library's problems use the moments ``XXᵀ/n`` and
    ``Σ_g ρ(g)XXᵀρ(g)ᵀ/(n|G|)``, so their whitened targets are ``Z/√n`` and
    ``Z_da/√(n|G|)``; this function rescales them. With singular ``XXᵀ`` (dead
    pixels) every inverse root acts on the support, which is the minimum-norm
    optimum's whitening. For a unitary representation
    ``σ(Z_da) = √|G| σ(Z_inv)`` exactly (chapter 6).

    Returns
    -------
    dict
        ``"inv"``, ``"da"``: arrays ``(min(dL, ·),)``; ``"reg"``: dict λ -> array.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"X (d0, n) and Y (dL, n) must have the same number of columns; "
                         f"got {X.shape} and {Y.shape}.")
    if not hasattr(rep, "elements"):
        raise TypeError(f"rep must be a Representation of a finite group, got "
                        f"{type(rep).__name__}.")
    n, order = X.shape[1], rep.order

    def sv(Z):
        return np.linalg.svd(Z, compute_uv=False)

    out = {"inv": np.sqrt(n) * sv(hardwired_problem(X, Y, rep).Z),
           "da": np.sqrt(n * order) * sv(augmented_problem(X, Y, rep.elements()).Z)}
    lams = [float(v) for v in lams]
    probs = regularized_problems(X, Y, rep.constraint_matrix(), lams) if lams else []
    out["reg"] = {lam: np.sqrt(n) * sv(p.Z) for lam, p in zip(lams, probs)}
    return out


# ------------------------------------------------------------------ cost
def parameter_counts(d0: int = 196, hidden: int = 5, dL: int = 9, rep=None) -> dict:
    """Trainable parameters of the plain network and of the hard-wired one.

    Counted on the library's networks (:class:`~invariance_lib.experiments.networks.DeepLinear`
    and :class:`~invariance_lib.experiments.networks.HardwiredDeepLinear`, whose fixed ``B`` is
    not trained). Returns ``{"plain": …, "hardwired": …, "ratio": plain/hardwired}``;
    augmentation and regularisation train the plain network.
    """
    d0, hidden, dL = (_check_positive_int(v, nm) for v, nm in
                      ((d0, "d0"), (hidden, "hidden"), (dL, "dL")))
    rep = rep if rep is not None else c4_rotations(int(round(np.sqrt(d0))))
    if rep.dim != d0:
        raise ValueError(f"rep acts on R^{rep.dim} but d0 == {d0}.")

    def count(model):
        return sum(p.numel() for p in model.parameters() if p.requires_grad)

    plain = count(DeepLinear((d0, hidden, dL), seed=0))
    hard = count(HardwiredDeepLinear((d0, hidden, dL), rep.invariant_basis(), seed=0))
    return {"plain": plain, "hardwired": hard, "ratio": plain / hard}


def measure_cost(X, Y, rep, *, lam: float = 1e-2, fast_epochs: int = 200,
                 sample_epochs: int = 10, minibatch_epochs: int = 2, batch_size: int = 64,
                 repeat: int = 3) -> list[dict]:
    """Seconds per epoch of each method, on each training path (CPU, one thread).

    Paths: ``"moments"`` (the fast path, one run alone), ``"samples"`` (full batch on
    the samples with autograd, ``fast=False``) and, for augmentation,
    ``"mini-batch"`` (batches of ``batch_size`` of the ``n|G|`` augmented samples,
    as one usually trains it). Each is a short run of the given number of epochs,
    without recording, timed ``repeat`` times (the median is kept) after one
    untimed warm-up; the time per epoch is the run's time divided by its epochs,
    so longer runs are an extrapolation. Wall-clock times depend on the machine and
    its load.

    Returns
    -------
    list of dict
        ``{"method", "path", "epochs", "seconds_per_epoch", "steps_per_epoch"}``.
    """
    for v, nm in ((fast_epochs, "fast_epochs"), (sample_epochs, "sample_epochs"),
                  (minibatch_epochs, "minibatch_epochs"), (batch_size, "batch_size"),
                  (repeat, "repeat")):
        _check_positive_int(v, nm)
    n = np.asarray(X).shape[1]
    cases = []
    for method in ("augmented", "hardwired", "regularized"):
        l_ = lam if method == "regularized" else None
        cases.append((method, l_, "moments", fast_epochs, None, 1))
        cases.append((method, l_, "samples", sample_epochs, None, 1))
    steps = -(-n * rep.order // batch_size)
    cases.append(("augmented", None, "mini-batch", minibatch_epochs, batch_size, steps))
    rows = []
    for method, l_, path, ep, bs, st in cases:
        def once(epochs):
            t0 = time.perf_counter()
            train_many(X, Y, [Run(method, lam=l_)], rep=rep, epochs=epochs,
                       batch_size=bs, fast=(path == "moments"), record_every=epochs,
                       eval_every=epochs, accuracy=False, progress=False)
            return time.perf_counter() - t0
        once(1)
        t = float(np.median([once(ep) for _ in range(repeat)]))
        rows.append({"method": method, "path": path, "epochs": ep,
                     "seconds_per_epoch": t / ep, "steps_per_epoch": st})
    return rows


# --------------------------------------------------------------- helpers
def median_band(curves, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and the band from the smallest to the largest value along ``axis``.

    With 5 seeds the band is the range of all five runs. NaNs are not allowed.
    """
    a = np.asarray(curves, dtype=np.float64)
    if a.ndim == 0 or a.shape[axis] == 0:
        raise ValueError("curves must hold at least one curve along the seed axis.")
    if np.isnan(a).any():
        raise ValueError("curves contain NaN; record every curve at the same epochs.")
    return np.median(a, axis=axis), a.min(axis=axis), a.max(axis=axis)


def settling_epoch(epochs, values, tol: float = 0.01, window: int = 1) -> int:
    """The first recorded epoch after which ``values`` stays within ``tol`` of its end value.

    The end value is the median of the last ``window`` values (``window=1``: the
    last value; a larger window keeps one noisy last evaluation, as mini-batch
    training gives, from deciding). E.g. with ``tol=0.01`` the epoch from which an
    accuracy never again differs from its final level by more than one percentage
    point. If the last value itself is outside, the last epoch is returned.
    """
    e = np.asarray(epochs)
    v = np.asarray(values, dtype=np.float64)
    if e.ndim != 1 or v.shape != e.shape or e.size == 0:
        raise ValueError(f"epochs and values must be 1-D of the same non-zero length, got "
                         f"{e.shape} and {v.shape}.")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise ValueError(f"tol must be a number >= 0, got {tol!r}.")
    if isinstance(window, bool) or not isinstance(window, numbers.Integral) \
            or not 1 <= window <= e.size:
        raise ValueError(f"window must be an integer between 1 and len(values) == {e.size}, "
                         f"got {window!r}.")
    final = float(np.median(v[-window:]))
    outside = np.abs(v - final) > tol
    if not outside.any():
        return int(e[0])
    last = int(np.flatnonzero(outside)[-1])
    return int(e[min(last + 1, e.size - 1)])


def dead_part(w_perp, w_perp_data) -> np.ndarray:
    """``‖W_⊥(I − Π)‖_F = √(‖W_⊥‖² − ‖W_⊥Π‖²)``: the non-invariant part off the data span.

    ``Π`` projects onto the span of the augmented training inputs, so this is the
    part of ``W_⊥`` on the pixels that are black in every rotated training image.
    """
    a = np.asarray(w_perp, dtype=np.float64)
    b = np.asarray(w_perp_data, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"w_perp and w_perp_data have shapes {a.shape} and {b.shape}.")
    return np.sqrt(np.clip(a ** 2 - b ** 2, 0.0, None))
