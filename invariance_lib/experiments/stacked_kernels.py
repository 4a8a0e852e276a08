"""Hand-written forward and backward of stacked two-layer networks, in column chunks.

:class:`~invariance_lib.experiments.stacked.StackedTrainer` differentiates its
objective with autograd in general. For the case that costs the time — nonlinear
two-layer networks ``W_2 σ(W_1 x + b_1) + b_2`` with the squared loss and no penalty
(chapter 10, Appendix C.3) — this module computes the loss and the gradient by
hand, which is what makes the training reach a large share of the machine's matrix
rate (:mod:`benchmarks.appendix_c`):

* the samples (columns) are processed in **chunks** (about a thousand columns, see
  :data:`CHUNK_BYTES`), so that the hidden matrices of a chunk (``Σ_r h_r`` rows)
  stay in the cache between the first-layer product, the activation, the second
  layer and the backward pass; with all ``N`` columns at once more passes go to
  main memory, with small chunks the number of operations grows;
* every intermediate is written into buffers allocated once (``out=`` and in-place
  operations): no allocation and no zero-filled copy per step;
* the gradients are accumulated over the chunks directly into one flat gradient
  tensor, on which a single :class:`torch.optim.Adam` acts.

The formulas are those of backpropagation for the objective of each run ``r``,
``L_r = s Σ_i ‖W_2 σ(W_1 x_i + b_1) + b_2 − y_i‖²`` with ``s = 1/n`` or
``1/(n·dL)`` (see :mod:`~invariance_lib.experiments.stacked`). With ``H = W_1 X +
b_1``, ``A = σ(H)``, ``R = W_2 A + b_2 − Y`` and ``G = 2sR``:

``∂L/∂W_2 = G Aᵀ``, ``∂L/∂b_2 = G 1``, ``∂L/∂H = σ'(H) ⊙ (W_2ᵀ G)``,
``∂L/∂W_1 = (∂L/∂H) Xᵀ``, ``∂L/∂b_1 = (∂L/∂H) 1``;

each sum over the samples is the sum of the chunks' sums. The element-wise
derivatives are PyTorch's own backward kernels (``threshold_backward``,
``leaky_relu_backward``, ``silu_backward``, ``tanh_backward``), so the result
differs from autograd only by the order of summation (float rounding;
``tests/test_stacked_kernels.py`` compares with an independent autograd
reference).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["CHUNK_BYTES", "ChunkedGroup", "chunk_width"]

#: Target size in bytes of one chunk's hidden matrix ``(Σ_r h_r, columns)``. Measured
#: on the book's 2-core machine (1 MiB L2 per core, 32 MiB L3) for chapter 10's
#: grid (440 hidden rows): a training step at N = 3,500 takes 56 ms with chunks of
#: 150 columns, 47 ms with 292, 41 ms with 1,000–2,000 and 46 ms with all 14,000
#: columns at once; 2 MiB (about 1,200 columns there) keeps the three hidden
#: buffers in L3 with few enough operations per step.
CHUNK_BYTES = 2 * 1024 * 1024

_ATEN = torch.ops.aten


def chunk_width(rows: int, n: int, itemsize: int, target: int = CHUNK_BYTES) -> int:
    """Columns per chunk: about ``target`` bytes of a ``(rows, ·)`` hidden matrix.

    At least 64 columns, at most ``n``; the chunks of ``n`` columns are made of
    (nearly) equal width.

    Parameters
    ----------
    rows : int
        Rows of the hidden matrix (``Σ_r h_r``).
    n : int
        Number of columns (samples).
    itemsize : int
        Bytes per element (4 for float32).
    target : int, default :data:`CHUNK_BYTES`
        Bytes of one chunk.
    """
    if min(rows, n, itemsize, target) < 1:
        raise ValueError(f"rows, n, itemsize and target must be positive, got "
                         f"{rows}, {n}, {itemsize}, {target}.")
    width = max(64, target // (rows * itemsize))
    if width >= n:
        return n
    chunks = -(-n // width)
    return -(-n // chunks)


@dataclass
class _Layer:
    """Second layers of ``K`` runs of hidden width ``h`` on rows ``rows``."""

    rows: slice
    K: int
    hidden: int
    W2: torch.Tensor          # (K, dL, h) parameter view
    b2: torch.Tensor          # (K, dL, 1)
    dW2: torch.Tensor         # gradient views, same shapes
    db2: torch.Tensor
    loss: torch.Tensor        # (K, 1, 1) accumulated sum of squares


class ChunkedGroup:
    """Loss and gradient of one stacked group of nonlinear runs, by hand.

    Parameters
    ----------
    X : Tensor (m, N)
        The group's inputs.
    Y : Tensor (dL, N)
        Targets.
    W1, b1 : Tensor (T, m), (T, 1)
        Stacked first layer (views of the flat parameter).
    dW1, db1 : Tensor
        Their gradients (views of the flat gradient, same shapes).
    activations : list of (slice, str)
        Consecutive row ranges and their activation (``"relu"``, ``"leaky_relu"``,
        ``"silu"``, ``"tanh"``), covering the ``T`` rows.
    layers : list of (slice, K, h, W2, b2, dW2, db2)
        Consecutive row ranges of ``K`` runs of hidden width ``h`` each, with their
        second layers ``W2`` ``(K, dL, h)``, ``b2`` ``(K, dL, 1)`` and gradients.
    scale : float
        ``s`` of the objective (``1/N`` or ``1/(N·dL)``).
    negative_slope : float
        Slope of the Leaky ReLU.
    width : int, optional
        Columns per chunk (default :func:`chunk_width`).
    """

    def __init__(self, X: torch.Tensor, Y: torch.Tensor, W1: torch.Tensor,
                 b1: torch.Tensor, dW1: torch.Tensor, db1: torch.Tensor,
                 activations, layers, scale: float, negative_slope: float,
                 width: int | None = None) -> None:
        T, m = W1.shape
        N = X.shape[1]
        self.W1, self.b1, self.dW1, self.db1 = W1, b1, dW1, db1
        self.scale2 = 2.0 * float(scale)
        self.slope = float(negative_slope)
        self.width = chunk_width(T, N, X.element_size()) if width is None else int(width)
        if self.width < 1:
            raise ValueError(f"width must be a positive number of columns, got {width}.")
        for _, act in activations:
            if act not in ("relu", "leaky_relu", "silu", "tanh"):
                raise ValueError(f"unknown activation {act!r}; use 'relu', 'leaky_relu', "
                                 f"'silu' or 'tanh'.")
        self.acts = list(activations)
        dL = Y.shape[0]
        opts = {"dtype": X.dtype}
        self.layers = [_Layer(rows, K, h, W2, b2, dW2, db2, torch.zeros((K, 1, 1), **opts))
                       for (rows, K, h, W2, b2, dW2, db2) in layers]
        self.chunks = []                        # (X chunk, Y chunk), contiguous
        for c0 in range(0, N, self.width):
            c1 = min(N, c0 + self.width)
            self.chunks.append((X[:, c0:c1].contiguous(), Y[:, c0:c1].contiguous()))
        # per chunk width: buffers H, A, dH (T, w) and, per layer, R (K, dL, w), with
        # their views made once (slicing costs as much as a small operation)
        self.buffers = {}
        for Xc, _ in self.chunks:
            w = Xc.shape[1]
            if w in self.buffers:
                continue
            H, A, dH = (torch.empty((T, w), **opts) for _ in range(3))
            acts = [(act, H[rows], A[rows], dH[rows]) for rows, act in self.acts]
            per_layer = []
            for la in self.layers:
                R = torch.empty((la.K, dL, w), **opts)
                Rf = R.view(la.K, 1, dL * w)
                per_layer.append((la, A[la.rows].view(la.K, la.hidden, w), R, Rf,
                                  Rf.transpose(1, 2), dH[la.rows].view(la.K, la.hidden, w)))
            self.buffers[w] = (H, dH, acts, per_layer)

    # ------------------------------------------------------------ element-wise
    def _forward_act(self, acts) -> None:
        """``A ← σ(H)`` on each row range."""
        for act, h, a, _ in acts:
            if act == "relu":
                torch.clamp_min(h, 0, out=a)
            elif act == "leaky_relu":
                torch._C._nn.leaky_relu(h, self.slope, out=a)
            elif act == "silu":
                torch._C._nn.silu(h, out=a)
            else:
                torch.tanh(h, out=a)

    def _backward_act(self, acts) -> None:
        """``dH ← σ'(H) ⊙ dH`` in place (``dH`` holds ``W_2ᵀ G`` on entry)."""
        for act, h, a, g in acts:
            if act == "relu":
                _ATEN.threshold_backward.grad_input(g, a, 0, grad_input=g)
            elif act == "leaky_relu":
                _ATEN.leaky_relu_backward.grad_input(g, h, self.slope, False, grad_input=g)
            elif act == "silu":
                _ATEN.silu_backward.grad_input(g, h, grad_input=g)
            else:
                _ATEN.tanh_backward.grad_input(g, a, grad_input=g)

    # ------------------------------------------------------------ one pass
    def step(self, backward: bool = True) -> list[torch.Tensor]:
        """Losses of the layers' runs (``(K,)`` each) and, if ``backward``, the gradient.

        The gradient is *written* (not added) into ``dW1``, ``db1`` and the layers'
        ``dW2``, ``db2``.
        """
        with torch.no_grad():
            for la in self.layers:
                la.loss.zero_()
                if backward:
                    la.dW2.zero_()
                    la.db2.zero_()
            if backward:
                self.dW1.zero_()
                self.db1.zero_()
            for Xc, Yc in self.chunks:
                H, dH, acts, per_layer = self.buffers[Xc.shape[1]]
                torch.addmm(self.b1, self.W1, Xc, out=H)
                self._forward_act(acts)
                for la, Ab, R, Rf, RfT, dHb in per_layer:
                    torch.baddbmm(la.b2, la.W2, Ab, out=R)
                    R.sub_(Yc)
                    la.loss.baddbmm_(Rf, RfT)                   # += ‖R_k‖² per run
                    if not backward:
                        continue
                    R.mul_(self.scale2)                          # G = 2 s R
                    la.dW2.baddbmm_(R, Ab.transpose(1, 2))
                    la.db2.add_(R.sum(dim=2, keepdim=True))
                    torch.bmm(la.W2.transpose(1, 2), R, out=dHb)
                if not backward:
                    continue
                self._backward_act(acts)
                self.dW1.addmm_(dH, Xc.t())
                self.db1.add_(dH.sum(dim=1, keepdim=True))
        return [la.loss.view(-1) * (self.scale2 / 2) for la in self.layers]
