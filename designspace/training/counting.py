"""Count a built model's complexity with fvcore and torch's FlopCounterMode.

These are independent checks of the analytic :func:`designspace.core.complexity.complexity` (which
is what the rest of the project uses: it is thousands of times faster).

:func:`count_fvcore` configures fvcore's ``FlopCountAnalysis`` to the papers' convention:

* one multiply-add = 1 flop (fvcore's own unit);
* convs and linear layers ADD their bias terms: ``c_out * h' * w'`` for a conv with bias,
  ``c_out`` for a linear bias (fvcore's default handles ignore biases);
* batch norm, pooling (``adaptive_avg_pool2d``, ``mean``, ...), activations, the residual
  add and the SE multiply cost 0. Explicit zero handles are required: fvcore counts BN and
  adaptive pooling by default, and setting a handle to ``None`` does not stop BN being counted;
* the model is in eval mode (fvcore's BN count differs between modes) and sees one
  ``1 x in_channels x resolution x resolution`` input.

Any traced op that has no handle raises ``RuntimeError`` instead of fvcore's warning, so a new
op can never be silently counted as 0.

:func:`count_flop_counter_mode` is a second opinion from ``torch.utils.flop_counter``; it
counts 2 flops per multiply-add of convs and matrix products only, and no bias adds.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from designspace.core.arch import Architecture
from designspace.core.complexity import Complexity
from designspace.errors import DesignSpaceError
from designspace.training.models import AnyNet

with warnings.catch_warnings():
    # fvcore 0.1.5 imports torch.jit.script, which torch >= 2.13 marks deprecated.
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"fvcore.*")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"fvcore.*")
    from fvcore.nn import FlopCountAnalysis
    from fvcore.nn.jit_handles import get_shape

__all__ = [
    "count_flop_counter_mode",
    "count_fvcore",
    "count_module_fvcore",
    "fvcore_flop_analysis",
    "shape_model",
]

# Ops that cost 0 flops under the papers' convention (ops that fvcore already ignores, such as
# relu and flatten, need no entry).
ZERO_COST_OPS = (
    "aten::batch_norm",
    "aten::adaptive_avg_pool2d",
    "aten::avg_pool2d",
    "aten::max_pool2d",
    "aten::mean",
    "aten::add",
    "aten::add_",
    "aten::mul",
    "aten::mul_",
    "aten::sigmoid",
    "aten::sigmoid_",
)


def _has_tensor(value: Any) -> bool:
    """Whether a traced op argument is a tensor (an optional bias that is not None)."""
    return get_shape(value) is not None


def _conv_handle(inputs: list, outputs: list) -> int:
    """aten::_convolution: k*k*(c_in/G)*c_out*h'*w' multiply-adds, + c_out*h'*w' with a bias."""
    w_shape = get_shape(inputs[1])
    out_elems = math.prod(get_shape(outputs[0]))
    flops = out_elems * math.prod(w_shape[1:])  # w is (c_out, c_in / G, k, k)
    if _has_tensor(inputs[2]):
        flops += out_elems
    return flops


def _linear_handle(inputs: list, outputs: list) -> int:
    """aten::linear (x, W, b): rows*c_in*c_out multiply-adds, + rows*c_out with a bias."""
    rows_cin = math.prod(get_shape(inputs[0]))
    c_out = get_shape(inputs[1])[0]
    flops = rows_cin * c_out
    if _has_tensor(inputs[2]):
        flops += math.prod(get_shape(outputs[0]))
    return flops


def _addmm_handle(inputs: list, outputs: list) -> int:
    """aten::addmm (bias, x, W^T): n*c_in*c_out multiply-adds + n*c_out bias adds."""
    n, c_in = get_shape(inputs[1])
    c_out = get_shape(inputs[2])[1]
    return n * c_in * c_out + n * c_out


def _zero_handle(inputs: list, outputs: list) -> int:
    """0 flops (norms, pooling, activations, elementwise add/multiply)."""
    return 0


def fvcore_flop_analysis(model: nn.Module, inputs: torch.Tensor) -> FlopCountAnalysis:
    """fvcore ``FlopCountAnalysis`` of ``model(inputs)`` configured to the papers' convention.

    Flops are multiply-adds including bias adds; BN, pooling and elementwise ops count 0.
    Unsupported-op and uncalled-module warnings are off: :func:`count_fvcore` checks
    ``unsupported_ops()`` itself and fails loudly instead.
    """
    analysis = FlopCountAnalysis(model, inputs)
    analysis.set_op_handle(
        "aten::_convolution",
        _conv_handle,
        "aten::linear",
        _linear_handle,
        "aten::addmm",
        _addmm_handle,
    )
    analysis.set_op_handle(**{op: _zero_handle for op in ZERO_COST_OPS})
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    analysis.ancestor_mode("caller")  # cheaper, and totals do not depend on it
    return analysis


def _check_resolution(resolution: int) -> None:
    if not isinstance(resolution, int) or resolution < 1:
        raise DesignSpaceError(
            f"resolution must be a whole number of pixels >= 1, got {resolution!r}"
        )


def count_module_fvcore(model: nn.Module, inputs: torch.Tensor) -> Complexity:
    """Complexity of ``model(inputs)`` by fvcore under the papers' convention (see module doc).

    ``flops``: multiply-adds incl. bias adds, BN/pooling/activations 0; ``params``: sum of
    ``numel`` of all parameters (BN gamma and beta included, running statistics excluded);
    ``acts``: output elements of every ``nn.Conv2d`` and ``nn.Linear``, recorded with forward
    hooks during fvcore's (single) trace. Counts are for the whole batch in ``inputs``; the
    model's train/eval mode is left as it is. Raises ``RuntimeError`` if the trace contains an
    op without a handle.
    """
    acts = 0

    def count_output(module: nn.Module, args: Any, output: torch.Tensor) -> None:
        nonlocal acts
        acts += output.numel()

    hooks = [
        m.register_forward_hook(count_output)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    try:
        analysis = fvcore_flop_analysis(model, inputs)
        with torch.no_grad():
            flops = analysis.total()  # runs the trace once; the hooks fire during it
        unsupported: Counter = analysis.unsupported_ops()
    finally:
        for hook in hooks:
            hook.remove()
    if unsupported:
        raise RuntimeError(
            f"fvcore traced ops without a flop handle: {dict(unsupported)}; add them to "
            f"designspace.training.counting.ZERO_COST_OPS or give them a handle"
        )
    params = sum(p.numel() for p in model.parameters())
    return Complexity(flops=int(flops), params=int(params), acts=int(acts))


def shape_model(arch: Architecture) -> AnyNet:
    """The module tree of :func:`~designspace.training.models.build_model`, eval mode, on the CPU.

    Weights keep PyTorch's default init: counts depend only on shapes, and the reference init
    costs more than the count of a small model.
    """
    with torch.device("cpu"):
        return AnyNet(arch, init=False).eval()


def count_fvcore(arch: Architecture, resolution: int = 224) -> Complexity:
    """Complexity of the built model for ``arch`` measured by fvcore on one square image.

    Counts the model's module tree (:func:`shape_model`: as built by
    :func:`~designspace.training.models.build_model`, without the reference init, eval mode) on one
    ``1 x in_channels x resolution x resolution`` input with :func:`count_module_fvcore`:
    flops are multiply-adds incl. bias adds (BN, pooling, activations 0), params include BN's
    gamma and beta, acts are the output elements of every conv and linear layer. Runs with
    PyTorch's current thread settings; on a busy machine one thread
    (``torch.set_num_threads(1)``) is much faster, as the counts need no compute.
    """
    _check_resolution(resolution)
    x = torch.zeros(1, arch.in_channels, resolution, resolution)
    return count_module_fvcore(shape_model(arch), x)


def count_flop_counter_mode(arch: Architecture, resolution: int = 224) -> int:
    """Multiply-adds of the built model by ``torch.utils.flop_counter.FlopCounterMode``, / 2.

    The model is built and run on the meta device (shapes only, no weights or compute).
    FlopCounterMode counts 2 flops per multiply-add of convolutions and matrix products and
    nothing for bias adds, BN, pooling or elementwise ops, so the result is the papers' flops
    minus the bias adds. In an AnyNet every layer with a bias (SE's 1x1 convs, the head's
    linear layer) sees a 1 x 1 input, so its bias adds equal its bias count, and
    ``count_flop_counter_mode(a, r) == complexity(a, r).flops - bias_count`` exactly, where
    ``bias_count = num_classes + sum over Y blocks of (w_se + w_b)``.
    """
    _check_resolution(resolution)
    with torch.device("meta"):
        model = AnyNet(arch, init=False).eval()  # no values needed on meta
        x = torch.empty(1, arch.in_channels, resolution, resolution)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    total = counter.get_total_flops()
    if total % 2:
        raise RuntimeError(f"FlopCounterMode total {total} is odd; expected 2 per multiply-add")
    return total // 2
