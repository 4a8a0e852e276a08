"""Test-only baselines that must stay independent of the library's linear algebra.

The shared independent checks (the factorised fit from many starts, the sample loss,
relative errors, invariance assertions) live in :mod:`invariance_lib.checks`, used by
the chapters too.
"""
import numpy as np


def truncate(W, r):
    """Best rank-r approximation by numpy's SVD (independent of invariance_lib.core.linalg)."""
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return (U[:, :r] * s[:r]) @ Vt[:r]
