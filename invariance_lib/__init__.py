"""invariance_lib: the library behind *Invariance in Deep Linear Networks*.

Modules
-------
groups       representations, constraint matrices, invariant bases (chapter 1)
varieties    deep linear networks' function space: M_r, minors, Jacobians (chapter 2)
landscape    critical points and gradient descent on factorised matrices (chapter 3)
linalg       sign-fixed SVDs, PSD roots, null spaces
problems     the three problems as one reduced-rank regression
solvers      closed-form global optima: Theorem 6, Propositions 8 and 11
paths        the regularisation path and its continuity certificate (chapter 5)
paper        the paper's formulas, written out literally (full-rank data only)
critical     critical points in function space: Propositions B.9 and 13
assumptions  which hypotheses hold, and what follows when one fails
data         MNIST (bundled sample or IDX files) and synthetic data
networks     deep linear, hard-wired and two-layer nonlinear networks (PyTorch)
training     train / train_many: the four methods, fast moment-based path
history      training histories and the paper-style plots
metrics      ‖W⊥‖, invariant share, ε_inv, accuracy, function distance
plotting     figures used by the book

Conventions: ``X`` is ``(d0, n)`` (columns are samples), ``Y`` is ``(dL, n)``,
``W`` is ``(dL, d0)`` and ``G`` is ``(d0, k)``.

The training-related names (``load_mnist``, ``train``, ``train_many``, ``History``)
are imported lazily, so that ``import invariance_lib`` does not load PyTorch.
"""
from ._validation import AssumptionWarning
from .assumptions import assumptions_report
from .critical import critical_points, low_rank_critical_points
from .groups import (Representation, c4_rotations, cyclic_shifts, d4_symmetries, from_matrix,
                     so2, trivial)
from .solvers import (augmented_optimum, hardwired_optimum, plain_optimum,
                      regularized_optimum)

_LAZY = {"load_mnist": "data", "train": "training", "train_many": "training",
         "History": "history"}

__all__ = [
    "AssumptionWarning", "assumptions_report", "critical_points", "low_rank_critical_points",
    "Representation", "c4_rotations", "cyclic_shifts", "d4_symmetries", "from_matrix", "so2",
    "trivial", "augmented_optimum", "hardwired_optimum", "plain_optimum", "regularized_optimum",
    *_LAZY,
]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'invariance_lib' has no attribute {name!r}")
