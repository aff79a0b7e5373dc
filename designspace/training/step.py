"""One training step (forward, loss, backward, update), replayed as a CUDA graph on a GPU."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from designspace.training.optim import SGD
from designspace.training.precision import autocast

__all__ = ["Stepper"]


class Stepper:
    """One training step (forward, loss, backward, update) on a fixed-size batch.

    With ``graph`` (CUDA only) the first ``WARMUP`` steps run eagerly on a side stream (cuDNN
    and allocator warm-up, as capture requires), the next one is captured as a CUDA graph, and
    every later step copies its batch and learning rate into the graph's static inputs and
    replays it. ``fallback`` holds the reason when capture failed and steps stayed eager.
    """

    WARMUP = 3

    def __init__(
        self,
        model: nn.Module,
        optimizer: SGD,
        label_smoothing: float,
        device: torch.device,
        bf16: bool,
        graph: bool,
    ) -> None:
        self.model, self.optimizer = model, optimizer
        self.label_smoothing = label_smoothing
        self.device, self.bf16 = device, bf16
        self.use_graph = graph and device.type == "cuda"
        self.graph: torch.cuda.CUDAGraph | None = None
        self.fallback: str | None = None
        self.warm = 0

    def _eager(self, x: torch.Tensor, y: torch.Tensor, lr: float | torch.Tensor) -> torch.Tensor:
        with autocast(self.device, self.bf16, cache=not self.use_graph):
            loss = F.cross_entropy(self.model(x), y, label_smoothing=self.label_smoothing)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step(lr)
        # Detached: a caller holding the loss must not keep this step's autograd graph alive
        # (its gradient-accumulation nodes would be reused by a later capture).
        return loss.detach()

    def __call__(self, x: torch.Tensor, y: torch.Tensor, lr: float) -> torch.Tensor:
        """Run one step with learning rate ``lr``; returns the (device) loss tensor."""
        if self.graph is not None:
            self.static_x.copy_(x)
            self.static_y.copy_(y)
            self.lr.fill_(lr)
            self.graph.replay()
            return self.static_loss
        if not self.use_graph:
            return self._eager(x, y, lr)
        if self.warm < self.WARMUP:
            self.warm += 1
            main = torch.cuda.current_stream(self.device)
            side = torch.cuda.Stream(self.device)
            side.wait_stream(main)
            with torch.cuda.stream(side):
                loss = self._eager(x, y, lr)
            main.wait_stream(side)
            return loss
        return self._capture(x, y, lr)

    def _capture(self, x: torch.Tensor, y: torch.Tensor, lr: float) -> torch.Tensor:
        self.static_x, self.static_y = x.clone(), y.clone()
        self.lr = torch.full((), lr, dtype=torch.float32, device=self.device)
        graph = torch.cuda.CUDAGraph()
        self.optimizer.zero_grad()  # gradients are then allocated inside the graph's pool
        torch.cuda.synchronize(self.device)
        try:
            with torch.cuda.graph(graph):
                loss = self._eager(self.static_x, self.static_y, self.lr)
        except RuntimeError as exc:
            # Nothing ran during the failed capture: redo this step eagerly and stay eager.
            torch.cuda.synchronize(self.device)
            self.use_graph, self.fallback = False, str(exc).splitlines()[0]
            warnings.warn(
                f"CUDA graph capture failed ({self.fallback}); training on eagerly",
                RuntimeWarning,
                stacklevel=3,
            )
            return self._eager(x, y, lr)
        self.graph, self.static_loss = graph, loss
        graph.replay()
        return loss
