"""Analytic cost of single layers (conv, BN, linear, projection shortcut), vectorized.

Conventions (NDS/DDS, pycls; see :mod:`designspace.core.complexity`): flops are multiply-adds, a
k x k conv from c_in to c_out channels with G groups and an output of h' x h' costs
``k*k*c_in*c_out*h'*h'/G`` (+ ``c_out*h'*h'`` with a bias); params count every weight and
bias, BN's gamma and beta included; acts are the output elements of convs and linear layers.
``h' = (h - 1) // stride + 1`` (padding k // 2). Every function takes numpy arrays or ints and
broadcasts; a cost is an int array of shape ``(3, ...)``: flops, params, acts.

These are the building blocks of every block's cost function in :mod:`designspace.core.blocks`.
"""

from __future__ import annotations

import numpy as np

Cost = np.ndarray  # shape (3, ...): flops, params, acts


def out_size(h, stride):
    """Output side of a conv with padding k // 2: ``(h - 1) // stride + 1`` (px)."""
    return (h - 1) // stride + 1


def conv_cost(h, c_in, c_out, k: int, stride=1, groups=1, bias: bool = False):
    """Cost of a k x k conv on an h x h input; returns (cost, output side)."""
    h_out = out_size(h, stride)
    area = h_out * h_out
    flops = k * k * c_in * c_out * area // groups
    params = k * k * c_in * c_out // groups
    if bias:
        flops = flops + c_out * area
        params = params + c_out
    return np.stack(np.broadcast_arrays(flops, params, c_out * area)), h_out


def bn_cost(c):
    """Batch norm over c channels: 0 flops, 2c params (gamma, beta), 0 acts."""
    return np.stack(np.broadcast_arrays(0 * c, 2 * c, 0 * c))


def linear_cost(c_in, c_out):
    """Linear layer with bias on one vector."""
    return np.stack(np.broadcast_arrays(c_in * c_out + c_out, c_in * c_out + c_out, c_out))


def shortcut_cost(h, w_in, w_out, stride):
    """1x1 strided projection + BN where width or stride change; zero cost otherwise."""
    cost, _ = conv_cost(h, w_in, w_out, 1, stride)
    needed = (np.asarray(w_in) != np.asarray(w_out)) | (np.asarray(stride) != 1)
    return np.where(needed, cost + bn_cost(w_out), 0)
