"""The optimizer: SGD with momentum and L2 weight decay, without importing ``torch.optim``."""

from __future__ import annotations

import torch

__all__ = ["SGD"]


class SGD:
    """SGD with momentum (dampening 0), optional Nesterov, L2 weight decay: PyTorch's update.

    Per parameter p with gradient g: ``g += weight_decay * p``; ``buf = momentum * buf + g``
    (``buf = g`` at the first step); ``g += momentum * buf`` with Nesterov, else ``g = buf``;
    ``p -= lr * g``. Done with multi-tensor (foreach) kernels. It matches
    ``torch.optim.SGD(foreach=True)`` bit for bit; it exists because constructing any
    ``torch.optim`` optimizer imports ``torch._dynamo``, a one-time cost of seconds per process
    that a short schedule should not pay.
    """

    def __init__(
        self,
        params: list[torch.Tensor],
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 0.0,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.momentum = momentum
        self.nesterov = nesterov and momentum > 0
        self.weight_decay = weight_decay
        self.buffers: list[torch.Tensor] | None = None

    def zero_grad(self) -> None:
        """Drop every gradient (set to None)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, lr: float | torch.Tensor) -> None:
        """One update with learning rate ``lr``; parameters without a gradient count as g = 0.

        ``lr`` may be a 0-d tensor on the parameters' device (read when the update runs, so a
        captured CUDA graph follows the schedule).
        """
        params = self.params
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        if self.weight_decay != 0:
            grads = torch._foreach_add(grads, params, alpha=self.weight_decay)
        if self.momentum != 0:
            if self.buffers is None:
                self.buffers = [g.clone().detach() for g in grads]
            else:
                torch._foreach_mul_(self.buffers, self.momentum)
                torch._foreach_add_(self.buffers, grads)
            if self.nesterov:
                grads = torch._foreach_add(grads, self.buffers, alpha=self.momentum)
            else:
                grads = self.buffers
        if isinstance(lr, torch.Tensor):
            torch._foreach_sub_(params, torch._foreach_mul(grads, lr))
        else:
            torch._foreach_add_(params, grads, alpha=-lr)
