"""Deep linear networks as factorised matrices: numpy only, no torch.

Modules
-------
architecture  widths, the factor check, the factor initialiser, the chain product
varieties     the function space M_r: dimension, factorisations, Jacobian, minors
landscape     stationarity in function space and the critical points U Σ_J Vᵀ
descent       gradient descent on the factors, the parameter-space Hessian

The package re-exports every public name, so a chapter imports from ``invariance_lib.dln``.
"""
from .architecture import (chain_product, check_factors, check_widths, end_to_end,
                           is_filling, n_parameters, random_factors, rank_bound, widths_of)
from .descent import DescentResult, gradient_descent, loss_and_gradients, parameter_hessian
from .landscape import critical_factors, stationarity_residual, visited_critical_points
from .varieties import (change_hidden_basis, factorize, jacobian, jacobian_rank,
                        minor_gradients, minors, minors_vanish, random_matrix_of_rank,
                        tangent_space_dimension, variety_dimension)

__all__ = ["chain_product", "check_factors", "check_widths", "end_to_end", "is_filling",
           "n_parameters", "random_factors", "rank_bound", "widths_of", "DescentResult",
           "gradient_descent", "loss_and_gradients", "parameter_hessian", "critical_factors",
           "stationarity_residual", "visited_critical_points", "change_hidden_basis",
           "factorize", "jacobian", "jacobian_rank", "minor_gradients", "minors",
           "minors_vanish", "random_matrix_of_rank", "tangent_space_dimension",
           "variety_dimension"]
