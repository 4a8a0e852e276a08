"""invariance_lib: the library behind *Invariance in Deep Linear Networks*.

Modules
-------
groups       representations, constraint matrices, invariant bases (chapter 1)
linalg       sign-fixed SVDs, PSD roots, null spaces
problems     the three problems as one reduced-rank regression
solvers      closed-form global optima: Theorem 6, Propositions 8 and 11
paper        the paper's formulas, written out literally (full-rank data only)
critical     critical points in function space: Propositions B.9 and 13
assumptions  which hypotheses hold, and what follows when one fails

Conventions: ``X`` is ``(d0, n)`` (columns are samples), ``Y`` is ``(dL, n)``,
``W`` is ``(dL, d0)`` and ``G`` is ``(d0, k)``.
"""
from ._validation import AssumptionWarning
from .assumptions import assumptions_report
from .critical import critical_points, low_rank_critical_points
from .groups import (Representation, c4_rotations, cyclic_shifts, d4_symmetries, from_matrix,
                     so2, trivial)
from .solvers import (augmented_optimum, hardwired_optimum, plain_optimum,
                      regularized_optimum)

__all__ = [
    "AssumptionWarning", "assumptions_report", "critical_points", "low_rank_critical_points",
    "Representation", "c4_rotations", "cyclic_shifts", "d4_symmetries", "from_matrix", "so2",
    "trivial", "augmented_optimum", "hardwired_optimum", "plain_optimum", "regularized_optimum",
]
__version__ = "0.1.0"
