"""Batches on the training device: uint8 NHWC images -> augmented, normalized model input.

Data stay in memory as uint8 NHWC tensors on the device; a batch is gathered by index, then
augmented (random crop after zero padding, random horizontal flip) and normalized there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from designspace.training.data import InMemoryData

__all__ = ["Normalizer", "augment_batch"]


def augment_batch(
    x: torch.Tensor, generator: torch.Generator, pad: int, flip: bool = True
) -> torch.Tensor:
    """Random crop after zero padding by ``pad`` px, and random horizontal flip, for a batch.

    ``x``: uint8 or float (B, H, W, C) NHWC. One gather for the whole batch; returns NHWC.
    """
    b, h, w, _ = x.shape
    dev = x.device
    xp = F.pad(x, (0, 0, pad, pad, pad, pad)) if pad > 0 else x
    oy = torch.randint(0, 2 * pad + 1, (b, 1), generator=generator, device=dev)
    ox = torch.randint(0, 2 * pad + 1, (b, 1), generator=generator, device=dev)
    cols = torch.arange(w, device=dev).expand(b, w)
    if flip:
        mirrored = torch.rand((b, 1), generator=generator, device=dev) < 0.5
        cols = torch.where(mirrored, w - 1 - cols, cols)
    rows = oy + torch.arange(h, device=dev)
    cols = ox + cols
    batch = torch.arange(b, device=dev)[:, None, None]
    return xp[batch, rows[:, :, None], cols[:, None, :]]


class Normalizer:
    """uint8 NHWC batch -> float NCHW batch ``(x / 255 - mean) / std`` (channels_last strides).

    ``mean`` and ``std`` are the data set's per-channel values for pixels scaled to [0, 1].
    """

    def __init__(self, data: InMemoryData, device: torch.device, channels_last: bool) -> None:
        mean = torch.tensor(data.mean, dtype=torch.float32, device=device)
        std = torch.tensor(data.std, dtype=torch.float32, device=device)
        self.scale = 1.0 / (255.0 * std)
        self.shift = mean / std
        self.channels_last = channels_last

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The normalized float NCHW view of uint8 NHWC batch ``x``."""
        out = (x.float() * self.scale - self.shift).permute(0, 3, 1, 2)
        return out if self.channels_last else out.contiguous()
