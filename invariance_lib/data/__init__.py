"""Data in the paper's convention (columns are samples), apart from theory and training.

Modules
-------
idx        the IDX file format of the MNIST distribution
mnist      MNIST as in the paper's Section 4 (bundled sample or IDX files)
synthetic  Gaussian inputs and (invariant) linear teachers
"""
from .idx import IDX_FILES, read_idx
from .mnist import MNIST, downsample, load_mnist, one_hot
from .synthetic import SyntheticData, gaussian_inputs, synthetic_regression

__all__ = ["IDX_FILES", "read_idx", "MNIST", "downsample", "load_mnist", "one_hot",
           "SyntheticData", "gaussian_inputs", "synthetic_regression"]
