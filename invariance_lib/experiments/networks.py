"""The networks of the paper's experiments, in PyTorch.

* :class:`DeepLinear` — ``x ↦ W_L ⋯ W_1 x`` of any depth and widths, no bias; its
  end-to-end matrix ``W = W_L ⋯ W_1`` (the parametrization map ``μ``) has rank at
  most ``r = min(d_0, …, d_L)``.
* :class:`HardwiredDeepLinear` — ``x ↦ W_L ⋯ W_1 B x`` with a fixed (non-trainable)
  matrix ``B`` whose rows are an orthonormal basis of the invariant row vectors
  ``{w : wG = 0}`` (:meth:`~invariance_lib.core.groups.Representation.invariant_basis`).
  For a permutation representation such as C4 on images the rows are the
  normalised orbit indicators, so ``B x`` is (up to the factor ``√|orbit|``) the
  average of ``x`` over each orbit: the paper's hard-wired architecture (§4).
* :class:`TwoLayer` — ``x ↦ W_2 σ(W_1 x + b_1) + b_2`` with ReLU, Leaky ReLU,
  SiLU/Swish or Tanh, plain or hard-wired (``W_1 B``), with or without a bottleneck
  (Appendix C.3: 7 or 15 hidden units for 9 outputs).
* :func:`invariance_penalty` — the regulariser ``λ‖WG‖_F²`` of eq. (7) on the
  end-to-end matrix.

Conventions. Modules follow PyTorch: ``forward`` takes a batch of shape
``(batch, d0)`` (rows are samples) and returns ``(batch, dL)``. Matrices follow the
paper: :meth:`end_to_end` is ``(dL, d0)``, ``B`` is ``(m, d0)``. To apply a network to
data ``X`` of shape ``(d0, n)`` use ``net(X.T).T``.

Initialisation. Every weight (and bias) is drawn from PyTorch's default
``nn.Linear`` distribution ``U(−1/√fan_in, 1/√fan_in)``, but from an explicit
:class:`torch.Generator` (``seed=`` or ``generator=``) instead of the global RNG, and
in float64 on the CPU, so that a seed fixes the network for every dtype and device
(float32 weights are the float64 draws rounded). Layers are drawn in order
``W_1, W_2, …`` (biases right after their weights).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..core.validation import (check_scalar, check_seed, constraint_matrix_of,
                               is_representation)
from ..dln.architecture import check_widths

__all__ = [
    "ACTIVATIONS",
    "BOTTLENECK_HIDDEN",
    "WIDE_HIDDEN",
    "DeepLinear",
    "HardwiredDeepLinear",
    "TwoLayer",
    "invariance_penalty",
    "make_generator",
    "canonical_activation",
]

#: Hidden widths of Appendix C.3: with a bottleneck (7 < 9 outputs) and without (15).
BOTTLENECK_HIDDEN = 7
WIDE_HIDDEN = 15

#: Activation names accepted by :class:`TwoLayer` (aliases map to these).
ACTIVATIONS = ("relu", "leaky_relu", "silu", "tanh")
_ACTIVATION_ALIASES = {
    "relu": "relu", "leaky_relu": "leaky_relu", "leaky-relu": "leaky_relu",
    "leakyrelu": "leaky_relu", "lrelu": "leaky_relu", "silu": "silu", "swish": "silu",
    "tanh": "tanh",
}


def canonical_activation(name: str) -> str:
    """Map an activation name (``"swish"``, ``"leaky-relu"``, …) to its canonical form."""
    key = str(name).lower().strip().replace(" ", "_")
    if key not in _ACTIVATION_ALIASES:
        raise ValueError(f"unknown activation {name!r}; use one of 'relu', 'leaky_relu', "
                         f"'silu' (alias 'swish') or 'tanh', or activation=None for a linear "
                         f"network.")
    return _ACTIVATION_ALIASES[key]


def make_generator(seed: int | None = None, generator: torch.Generator | None = None
                   ) -> torch.Generator:
    """A CPU :class:`torch.Generator`: the one given, or a new one seeded with ``seed``.

    Raises
    ------
    ValueError
        If both or neither are given, or the seed is not a non-negative integer.
    """
    if generator is not None:
        if seed is not None:
            raise ValueError("pass either seed=... or generator=..., not both.")
        return generator
    if seed is None:
        raise ValueError("the initialisation needs an explicit seed=... (an integer) or a "
                         "torch.Generator via generator=...; the global RNG is never used.")
    return torch.Generator().manual_seed(check_seed(seed))


def _init_uniform_(t: torch.Tensor, fan_in: int, gen: torch.Generator) -> None:
    """PyTorch's default ``nn.Linear`` law ``U(−1/√fan_in, 1/√fan_in)``, drawn from ``gen``."""
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    with torch.no_grad():
        # Drawn in float64 on the CPU whatever the parameter's dtype and device, so a
        # seed gives the same initial weights (rounded) in float32 and on CUDA.
        cpu = torch.empty(t.shape, dtype=torch.float64)
        cpu.uniform_(-bound, bound, generator=gen)
        t.copy_(cpu)


def _as_basis(basis, d0: int | None, dtype, device) -> torch.Tensor:
    """``basis`` (array, tensor or Representation) as an ``(m, d0)`` tensor."""
    if is_representation(basis):
        basis = basis.invariant_basis()
    B = torch.tensor(np.array(basis.detach().cpu() if torch.is_tensor(basis) else basis),
                     dtype=dtype)  # a copy: the basis may be read-only
    if B.ndim != 2 or B.shape[0] == 0:
        raise ValueError(f"the hard-wired basis B must be a non-empty (m, d0) matrix, got "
                         f"shape {tuple(B.shape)}; use Representation.invariant_basis().")
    if d0 is not None and B.shape[1] != d0:
        hint = " It looks transposed: pass B.T." if B.shape[0] == d0 else ""
        raise ValueError(f"the hard-wired basis B has shape {tuple(B.shape)} but the network's "
                         f"input width is d0 == {d0}; B must be (m, d0).{hint}")
    return B.to(device)


class _Widths:
    """``d0`` and ``dL`` of a network with a ``widths`` tuple ``(d0, …, dL)``."""

    widths: tuple[int, ...]

    @property
    def d0(self) -> int:
        """Input width."""
        return self.widths[0]

    @property
    def dL(self) -> int:
        """Output width."""
        return self.widths[-1]


class DeepLinear(_Widths, nn.Module):
    """Deep linear network ``x ↦ W_L ⋯ W_1 x`` (no biases).

    Parameters
    ----------
    widths : sequence of int
        ``(d0, d1, …, dL)``: input width, hidden widths, output width. ``L =
        len(widths) − 1`` layers; ``(196, 5, 9)`` is the paper's two-layer network on 14×14 images.
    seed : int, optional
        Seed of the initialisation (see the module docstring); or pass ``generator``.
    generator : torch.Generator, optional
        Draw the initial weights from this generator instead.
    dtype, device : optional
        Of the parameters (default ``torch.float64``, CPU).

    Attributes
    ----------
    layers : nn.ModuleList of nn.Linear
        ``layers[i].weight`` is ``W_{i+1}`` of shape ``(d_{i+1}, d_i)``.
    """

    def __init__(self, widths: Sequence[int], *, seed: int | None = None,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
                 device: str | torch.device = "cpu") -> None:
        super().__init__()
        ws = check_widths(widths)
        self.widths = ws
        gen = make_generator(seed, generator)
        self.layers = nn.ModuleList(nn.Linear(a, b, bias=False, dtype=dtype, device=device)
                                    for a, b in zip(ws[:-1], ws[1:]))
        for layer in self.layers:
            _init_uniform_(layer.weight, layer.in_features, gen)

    # ------------------------------------------------------------------ maps
    @property
    def rank_bound(self) -> int:
        """``r = min(d0, …, dL)``: the end-to-end matrix has rank at most ``r``."""
        return min(self.widths)

    def factors(self) -> list[torch.Tensor]:
        """The trainable weight matrices ``[W_1, …, W_L]``."""
        return [layer.weight for layer in self.layers]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Input of the first trainable layer (``x`` itself; ``B x`` when hard-wired)."""
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``W x`` for a batch ``x`` of shape ``(batch, d0)``; returns ``(batch, dL)``."""
        h = self.features(x)
        for layer in self.layers:
            h = layer(h)
        return h

    def product(self) -> torch.Tensor:
        """``W_L ⋯ W_1`` (for the hard-wired network, without ``B``)."""
        W = self.layers[0].weight
        for layer in self.layers[1:]:
            W = layer.weight @ W
        return W

    def end_to_end(self) -> torch.Tensor:
        """The end-to-end matrix ``W = W_L ⋯ W_1`` of shape ``(dL, d0)`` (differentiable)."""
        return self.product()

    def invariance_matrix(self) -> torch.Tensor:
        """The matrix whose invariance (``· G = 0``) makes the network invariant: ``W``."""
        return self.end_to_end()


class HardwiredDeepLinear(DeepLinear):
    """Hard-wired invariant deep linear network ``x ↦ W_L ⋯ W_1 B x``.

    ``B`` (``m × d0``, orthonormal rows with ``BG = 0``) is a fixed buffer, not a
    parameter. Every such network is invariant, ``f(ρ(g)x) = f(x)``, and every
    invariant linear map is ``V B`` for some ``V`` (``V = W Bᵀ``), so training it
    solves Theorem 6's constrained problem.

    Parameters
    ----------
    widths : sequence of int
        ``(d0, d1, …, dL)`` as for :class:`DeepLinear`; the first trainable layer is
        ``W_1 : ℝ^m → ℝ^{d1}``.
    basis : array (m, d0), tensor, or Representation
        ``B``; a :class:`~invariance_lib.core.groups.Representation` stands for its
        ``invariant_basis()`` (for C4 on 14×14 images, the 49 normalised orbit
        indicators).
    seed, generator, dtype, device
        As for :class:`DeepLinear`.
    """

    def __init__(self, widths: Sequence[int], basis, *, seed: int | None = None,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
                 device: str | torch.device = "cpu") -> None:
        ws = check_widths(widths)
        B = _as_basis(basis, ws[0], dtype, device)
        nn.Module.__init__(self)
        self.widths = ws
        self.register_buffer("B", B)
        gen = make_generator(seed, generator)
        inner = (B.shape[0],) + ws[1:]
        self.layers = nn.ModuleList(
            nn.Linear(a, b, bias=False, dtype=dtype, device=device)
            for a, b in zip(inner[:-1], inner[1:]))
        for layer in self.layers:
            _init_uniform_(layer.weight, layer.in_features, gen)

    @property
    def rank_bound(self) -> int:
        return min((self.B.shape[0],) + self.widths)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.B.T

    def end_to_end(self) -> torch.Tensor:
        """``W = W_L ⋯ W_1 B`` of shape ``(dL, d0)``; ``W G = 0`` by construction."""
        return self.product() @ self.B


class TwoLayer(_Widths, nn.Module):
    """Two-layer nonlinear network ``x ↦ W_2 σ(W_1 x + b_1) + b_2`` (Appendix C.3).

    With ``basis=B`` it is hard-wired: ``x ↦ W_2 σ(W_1 B x + b_1) + b_2``, invariant
    for every value of the parameters.

    Parameters
    ----------
    d0, hidden, dL : int
        Input, hidden and output widths. ``hidden < dL`` is a bottleneck (the paper
        uses 7, :data:`BOTTLENECK_HIDDEN`, and 15, :data:`WIDE_HIDDEN`, for 9 outputs).
    activation : {"relu", "leaky_relu", "silu", "tanh"}
        ``"swish"`` is an alias of ``"silu"``; Leaky ReLU has slope ``negative_slope``.
    basis : array (m, d0), tensor or Representation, optional
        Hard-wire invariance with ``B`` as in :class:`HardwiredDeepLinear`.
    bias : bool, default True
        Biases ``b_1, b_2`` (they do not affect invariance).
    negative_slope : float, default 0.01
        PyTorch's default slope for Leaky ReLU.
    seed, generator, dtype, device
        As for :class:`DeepLinear`.
    """

    def __init__(self, d0: int, hidden: int, dL: int, activation: str = "relu", *,
                 basis=None, bias: bool = True, negative_slope: float = 0.01,
                 seed: int | None = None, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu") -> None:
        super().__init__()
        ws = check_widths((d0, hidden, dL), "(d0, hidden, dL)")
        self.widths = ws
        self.activation = canonical_activation(activation)
        self.negative_slope = float(negative_slope)
        if basis is not None:
            self.register_buffer("B", _as_basis(basis, ws[0], dtype, device))
        else:
            self.B = None
        m = self.B.shape[0] if self.B is not None else ws[0]
        self.hidden_layer = nn.Linear(m, ws[1], bias=bias, dtype=dtype, device=device)
        self.output_layer = nn.Linear(ws[1], ws[2], bias=bias, dtype=dtype, device=device)
        gen = make_generator(seed, generator)
        for layer in (self.hidden_layer, self.output_layer):
            _init_uniform_(layer.weight, layer.in_features, gen)
            if layer.bias is not None:
                _init_uniform_(layer.bias, layer.in_features, gen)

    def _sigma(self, h: torch.Tensor) -> torch.Tensor:
        if self.activation == "relu":
            return torch.relu(h)
        if self.activation == "leaky_relu":
            return nn.functional.leaky_relu(h, self.negative_slope)
        if self.activation == "silu":
            return nn.functional.silu(h)
        return torch.tanh(h)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Input of the hidden layer (``x``, or ``B x`` when hard-wired)."""
        return x if self.B is None else x @ self.B.T

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``f(x)`` for a batch of shape ``(batch, d0)``; returns ``(batch, dL)``."""
        return self.output_layer(self._sigma(self.hidden_layer(self.features(x))))

    def invariance_matrix(self) -> torch.Tensor:
        """The effective first-layer matrix ``W_1`` (``W_1 B`` when hard-wired), ``(hidden, d0)``.

        ``W_1 G = 0`` makes the network invariant; :func:`invariance_penalty`
        penalises ``‖W_1 G‖²`` for this network.
        """
        W1 = self.hidden_layer.weight
        return W1 if self.B is None else W1 @ self.B


def invariance_penalty(W, G, lam: float = 1.0) -> torch.Tensor:
    """The regulariser of eq. (7): ``λ ‖W G‖_F²``.

    Parameters
    ----------
    W : tensor (dL, d0), or a network
        The end-to-end matrix, or a module with ``invariance_matrix()`` (the
        end-to-end matrix of a linear network; ``W_1`` of a :class:`TwoLayer`).
    G : tensor or array (d0, k), or Representation
        The constraint matrix (``Representation.constraint_matrix()``).
    lam : float, default 1
        ``λ >= 0``.

    Returns
    -------
    torch.Tensor
        A differentiable scalar.
    """
    if isinstance(W, nn.Module):
        if not hasattr(W, "invariance_matrix"):
            raise TypeError(f"{type(W).__name__} has no invariance_matrix(); pass the "
                            f"end-to-end matrix W instead.")
        W = W.invariance_matrix()
    G = constraint_matrix_of(G)
    lam = check_scalar(lam, "lam", min_val=0.0)
    G = torch.as_tensor(G, dtype=W.dtype, device=W.device)
    if G.shape[0] != W.shape[1]:
        raise ValueError(f"G has shape {tuple(G.shape)} but W has {W.shape[1]} columns; the "
                         f"constraint matrix must be (d0, k) so that the penalty is ‖W G‖².")
    return lam * (W @ G).pow(2).sum()
