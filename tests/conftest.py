"""Shared fixtures: small, seeded problems in the paper's convention (X is (d0, n))."""
import numpy as np
import pytest
from hypothesis import settings

from invariance_lib.core.groups import c4_rotations

settings.register_profile("book", max_examples=25, deadline=None, derandomize=True)
settings.load_profile("book")


@pytest.fixture
def rng():
    return np.random.default_rng(20250613)


@pytest.fixture
def c4_small():
    """C4 acting on 4x4 images: d0 = 16, invariant dimension 4."""
    return c4_rotations(4)


@pytest.fixture
def problem(rng, c4_small):
    """Generic full-rank data: d0 = 16, dL = 6, n = 60, rank bound r = 2 < d = 4."""
    X = rng.normal(size=(16, 60))
    Y = rng.normal(size=(6, 60))
    return X, Y, c4_small, 2

