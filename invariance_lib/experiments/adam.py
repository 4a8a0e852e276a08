"""Adam on one flat parameter vector: the fast path's optimiser."""

from __future__ import annotations

import torch

__all__ = ["FlatAdam"]


class FlatAdam:
    """Adam on one flat parameter vector, the same update as ``torch.optim.Adam``.

    ``m ← β1 m + (1−β1) g``, ``v ← β2 v + (1−β2) g²``,
    ``θ ← θ − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + eps)`` — the operations of
    torch's single-tensor implementation (the one used on the CPU), in the same
    order, so the iterates agree with it bit for bit.
    """

    def __init__(self, theta: torch.Tensor, lr: float, betas: tuple[float, float],
                 eps: float) -> None:
        self.theta = theta
        self.m = torch.zeros_like(theta)
        self.v = torch.zeros_like(theta)
        self.denom = torch.zeros_like(theta)
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.t = 0

    def step(self, grad: torch.Tensor) -> None:
        self.t += 1
        self.m.lerp_(grad, 1 - self.b1)
        self.v.mul_(self.b2).addcmul_(grad, grad, value=1 - self.b2)
        step = float(self.t)
        bias_correction1 = 1 - self.b1 ** step
        bias_correction2 = 1 - self.b2 ** step
        step_size = self.lr / bias_correction1
        denom = torch.sqrt(self.v, out=self.denom).div_(bias_correction2 ** 0.5).add_(self.eps)
        self.theta.addcdiv_(self.m, denom, value=-step_size)
