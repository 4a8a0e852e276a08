"""Open question 3 (chapter 10): the first layer split into its invariant and other part.

For a two-layer network ``f(x) = W_2 σ(W_1 x + b_1) + b_2`` the group acts on the
inputs only, so ``f`` is invariant as soon as ``W_1 ρ(g) = W_1`` for every ``g``.
With ``P`` the orthogonal projector onto the invariant row vectors (the group
average ``Ḡ`` of a unitary representation) the first layer splits as

.. math::  W_1 = W_1 P + W_1 (I − P),

its invariant part and its non-invariant part ``W_{1⊥}``. This module measures the
two parts, the part of ``W_{1⊥}`` on the *dead* inputs (coordinates that are zero in
every augmented training input, whose columns of ``W_1`` never receive a gradient),
and the gradient of the augmented squared loss with respect to ``W_1``, split the same
way (the chapter's proposition: at an invariant ``W_1`` the gradient is invariant).
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from invariance_lib.core.linalg import orbit_stack
from invariance_lib.core.validation import check_samples
from invariance_lib.measures import invariant_projector, non_invariant_part

__all__ = ["dead_inputs", "first_layer_split", "augmented_first_layer_gradient"]


def dead_inputs(X, rep) -> np.ndarray:
    """Indices of the coordinates that are zero in every augmented input ``ρ(g) x_i``.

    Their columns of ``W_1`` get a zero gradient from the augmented loss, so
    gradient descent and Adam (whose step is zero where every past gradient is)
    leave them at their initial values.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != rep.dim:
        raise ValueError(f"X must have shape (d0, n) with d0 == {rep.dim} (the group acts "
                         f"on R^{rep.dim}), got shape {X.shape}.")
    aug = np.concatenate(list(orbit_stack(X, rep.elements())), axis=1)
    return np.flatnonzero(~aug.any(axis=1))


def first_layer_split(W1, rep, dead=None) -> dict[str, float]:
    """Norms of the split ``W_1 = W_1 P + W_1(I − P)`` of a first layer ``(h, d0)``.

    Parameters
    ----------
    W1 : array or tensor (h, d0)
        First layer (``W_1 B`` for a hard-wired network).
    rep : Representation
    dead : array of int, optional
        Dead coordinates (:func:`dead_inputs`); if given, ``"perp_dead"`` is the norm
        of the columns of ``W_{1⊥}`` on them and ``"perp_live"`` that on the others.

    Returns
    -------
    dict
        ``"inv"`` ``‖W_1 P‖_F``, ``"perp"`` ``‖W_1(I − P)‖_F`` (and the dead/live
        split of the latter). Since ``P`` is an orthogonal projector,
        ``inv² + perp² = ‖W_1‖_F²``.
    """
    W = W1.detach().cpu().double().numpy() if isinstance(W1, torch.Tensor) \
        else np.asarray(W1, dtype=np.float64)
    perp = non_invariant_part(W, rep)
    out = {"inv": float(np.linalg.norm(W @ invariant_projector(rep))),
           "perp": float(np.linalg.norm(perp))}
    if dead is not None:
        dead = np.asarray(dead, dtype=int)
        live = np.setdiff1d(np.arange(W.shape[1]), dead)
        out["perp_dead"] = float(np.linalg.norm(perp[:, dead]))
        out["perp_live"] = float(np.linalg.norm(perp[:, live]))
    return out


def augmented_first_layer_gradient(model, X, Y, rep) -> np.ndarray:
    """Gradient w.r.t. ``W_1`` of the augmented MSE ``(1/(n|G|dL)) Σ_{g,i} ‖f(ρ(g)x_i) − y_i‖²``.

    Computed in float64 by autograd on a copy of ``model`` (a
    :class:`~invariance_lib.experiments.networks.TwoLayer` without basis); returns
    ``(h, d0)``. The chapter's proposition says that it is invariant
    (``∇ = ∇P``) whenever ``W_1`` is.
    """
    X, Y = check_samples(X, Y)
    if getattr(model, "B", None) is not None:
        raise ValueError("model must be a TwoLayer network without basis (augmentation); "
                         "a hard-wired network's first layer acts on B x.")
    net = copy.deepcopy(model).double()
    aug = np.concatenate(list(orbit_stack(X, rep.elements())), axis=1)
    x = torch.as_tensor(aug.T)
    y = torch.as_tensor(np.tile(Y, (1, rep.order)).T)
    net.zero_grad(set_to_none=True)
    loss = torch.nn.functional.mse_loss(net(x), y)
    loss.backward()
    grad = net.hidden_layer.weight.grad.detach().numpy().copy()
    return grad
