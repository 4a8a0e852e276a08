"""invariance_lib: the library behind *Invariance in Deep Linear Networks*.

Layout (one job per module; the numpy core imports no torch)
------------------------------------------------------------
core/          validation (the public ``check_*`` functions, ``AssumptionWarning``),
               linalg (sign-fixed SVD, truncation, PSD roots, null spaces, the rank
               policy), groups (representations, constraint matrices, invariant bases)
theory/        problems (the three problems as one reduced-rank regression), solvers
               (Theorem 6, Propositions 8 and 11), paper (the formulas written out
               literally), paths (the λ-path), critical (Propositions B.9 and 13),
               assumptions (which hypotheses hold)
dln/           architecture (widths, the chain product and its Jacobian, factor
               initialisation), varieties (function space M_r), landscape (critical
               points in function space), descent (gradient descent on factors)
data/          idx, mnist, synthetic
measures.py    ‖W⊥‖, invariant share, data span, ε_inv, accuracy, function distance
checks.py      the book's independent checks (used by the chapters and the tests)
experiments/   networks, runs, setup, adam, moments (fast path), samples (sample path),
               recording, training (train / train_many), history  -- PyTorch
figures/       images (pictures, orbits, matrices), histories (Section 4 figures)

Conventions: ``X`` is ``(d0, n)`` (columns are samples), ``Y`` is ``(dL, n)``,
``W`` is ``(dL, d0)`` and ``G`` is ``(d0, k)``.

The names that need PyTorch (``train``, ``train_many``, ``History``, ``Run``,
``section4_runs``, the networks) are imported lazily, so that ``import invariance_lib``
does not load PyTorch.
"""
from .checks import assert_invariant, factorised_fit, relative_error
from .core.groups import (Representation, c4_rotations, cyclic_shifts, d4_symmetries,
                          from_matrix, is_group, so2, trivial)
from .core.linalg import (AmbiguousRankError, blas_threads, psd_root, svd,
                          truncate_to_index_set, truncated_svd)
from .core.validation import AssumptionWarning
from .data import gaussian_inputs, load_mnist, one_hot, synthetic_regression
from .measures import (accuracy, data_span_projector, function_distance, invariance_error,
                       invariant_part, invariant_projector, invariant_share,
                       non_invariant_part, w_perp_norm)
from .theory import paper
from .theory.assumptions import assumptions_report
from .theory.critical import critical_points, escape_curve, low_rank_critical_points
from .theory.paths import closest_approach, regularization_path
from .theory.problems import (augmented_problem, build_problem, hardwired_problem,
                              plain_problem, regularized_problems)
from .theory.solvers import (augmented_optimum, hardwired_optimum, plain_optimum,
                             regularized_optimum)

#: Names that need PyTorch: imported on first use (``invariance_lib.train``).
_LAZY = {
    "train": "experiments.training", "train_many": "experiments.training",
    "Run": "experiments.runs", "section4_runs": "experiments.runs",
    "History": "experiments.history",
    "DeepLinear": "experiments.networks", "HardwiredDeepLinear": "experiments.networks",
    "TwoLayer": "experiments.networks", "invariance_penalty": "experiments.networks",
}

__all__ = [
    # core
    "AssumptionWarning", "AmbiguousRankError", "Representation", "c4_rotations",
    "cyclic_shifts", "d4_symmetries", "from_matrix", "is_group", "so2", "trivial",
    "svd", "truncated_svd", "truncate_to_index_set", "psd_root", "blas_threads",
    # theory
    "plain_problem", "hardwired_problem", "regularized_problems", "augmented_problem",
    "build_problem", "plain_optimum", "hardwired_optimum", "regularized_optimum",
    "augmented_optimum", "paper", "regularization_path", "closest_approach",
    "critical_points", "low_rank_critical_points", "escape_curve", "assumptions_report",
    # data and measures
    "load_mnist", "one_hot", "synthetic_regression", "gaussian_inputs",
    "w_perp_norm", "invariant_part", "non_invariant_part", "invariant_projector", "invariant_share",
    "data_span_projector", "invariance_error", "accuracy", "function_distance",
    # checks
    "factorised_fit", "relative_error", "assert_invariant",
    # experiments (lazy: PyTorch)
    *_LAZY,
]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'invariance_lib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
