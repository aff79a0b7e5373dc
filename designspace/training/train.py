"""The short-schedule trainer: one architecture, one data set, one :class:`TrainResult`.

Schedule (the papers' reference recipe): SGD with momentum 0.9 (Nesterov), learning rate given
per 128 images and scaled linearly with the batch size, weight decay on every parameter (BN and
biases included, as the reference code does by default), a half-period cosine decay evaluated
at every step, an optional linear warm-up, optional label smoothing. A run lasts ``epochs``
(fractional allowed) or ``max_steps`` optimizer steps. Each epoch is one seeded permutation of
the training images in batches of ``batch_size``; the last partial batch is dropped (a set
smaller than one batch is one batch).

Speed: data stay in memory as uint8 NHWC tensors on the training device, batches are gathered
by index and normalized (and augmented) on the device; on a GPU the model runs channels_last
under bf16 autocast. On a CPU the defaults are fp32 (bf16 autocast measured about 10x slower on
an AVX2 CPU without bf16 units) and channels_last (measured about 1.6x faster than NCHW for
RegNetX32 at 28 px: oneDNN's convolutions and batch norm avoid layout reorders).

Errors are fractions in [0, 1]. A non-finite training loss ends the run with status
``"diverged"``; CUDA running out of memory gives status ``"failed"``; bad settings raise
:class:`~designspace.errors.DesignSpaceError`; any other exception propagates to the caller.
Same seed, same data, same device and thread count: the same numbers, bit for bit (CPU).
"""

from __future__ import annotations

import contextlib
import math
import resource
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from designspace.core.arch import Architecture
from designspace.errors import DesignSpaceError
from designspace.training.data import InMemoryData, load_data
from designspace.training.trainconfig import (
    PRECISIONS,
    TrainConfig,
    check_resolution,
    min_resolution,
)

__all__ = [
    "PRECISIONS",
    "SGD",
    "Checkpoint",
    "TrainConfig",
    "TrainResult",
    "augment_batch",
    "check_resolution",
    "evaluate",
    "load_checkpoint",
    "lr_at_step",
    "min_resolution",
    "resolve_device",
    "save_checkpoint",
    "topk_correct",
    "topk_errors",
    "train",
]

_CHECK_EVERY_CUDA = 25  # steps between loss finiteness checks on a GPU (each one syncs)


@dataclass
class TrainResult:
    """Outcome of one run. Errors are fractions in [0, 1] (nan when not measured).

    ``status``: "ok", "diverged" (non-finite loss) or "failed" (e.g. CUDA out of memory; see
    ``error``). ``train_time_s`` counts optimizer steps only (no evaluation, no set-up);
    ``images_per_s`` = training images processed / ``train_time_s``; ``wall_time_s`` is the
    whole call. ``peak_memory_mb``: peak CUDA memory allocated on a GPU, the process's peak
    resident set size on a CPU (MiB).
    """

    status: str
    val_top1_err: float
    best_val_top1_err: float
    val_top5_err: float | None
    train_loss: float
    epoch_train_loss: list[float]
    epoch_val_top1_err: list[float]
    epoch_val_top5_err: list[float]
    train_time_s: float
    images_per_s: float
    peak_memory_mb: float
    device: str
    steps: int
    epochs_done: float
    error: str | None = None
    eval_time_s: float = 0.0
    wall_time_s: float = 0.0
    train_images: int = 0
    resolution: int = 0
    precision: str = "fp32"
    channels_last: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        """Flat record for one results row (lists stay lists; ``extra`` is dropped)."""
        row = asdict(self)
        row.pop("extra")
        return row


# --------------------------------------------------------------------------- pieces
def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available else cpu; a CUDA device that is absent is bad input."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DesignSpaceError(f"device must be auto, cpu, cuda or cuda:N, got {name!r}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DesignSpaceError(
                f"device {name!r} requested but CUDA is not available; use --device cpu"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DesignSpaceError(
                f"device {name!r} does not exist ({torch.cuda.device_count()} CUDA device(s))"
            )
    return device


def lr_at_step(step: int, total_steps: int, base_lr: float, warmup_steps: int = 0) -> float:
    """Learning rate of optimizer step ``step`` (0-based) of ``total_steps``.

    Half-period cosine from ``base_lr`` at step 0 towards 0 at ``total_steps``, times a linear
    warm-up factor ``(step + 1) / warmup_steps`` during the first ``warmup_steps`` steps.
    """
    lr = 0.5 * base_lr * (1.0 + math.cos(math.pi * step / total_steps))
    if warmup_steps > 0 and step < warmup_steps:
        lr *= (step + 1) / warmup_steps
    return lr


def topk_correct(
    logits: torch.Tensor, targets: torch.Tensor, ks: tuple[int, ...] = (1,)
) -> torch.Tensor:
    """Number of samples whose target is among the ``k`` highest logits, for each k (a tensor).

    Ties are broken by :func:`torch.topk` order. ``k`` larger than the number of classes counts
    every sample as correct.
    """
    kmax = min(max(ks), logits.shape[1])
    top = logits.topk(kmax, dim=1).indices
    hit = top == targets[:, None]
    return torch.stack([hit[:, : min(k, kmax)].any(dim=1).sum() for k in ks])


def topk_errors(
    logits: torch.Tensor, targets: torch.Tensor, ks: tuple[int, ...] = (1, 5)
) -> list[float]:
    """Top-k error for each k: fraction in [0, 1] of samples whose target is not in the top k."""
    n = targets.shape[0]
    correct = topk_correct(logits, targets, ks)
    return [1.0 - float(c) / n for c in correct]


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


class _Normalizer:
    """uint8 NHWC batch -> float NCHW batch ``(x / 255 - mean) / std`` (channels_last strides)."""

    def __init__(self, data: InMemoryData, device: torch.device, channels_last: bool) -> None:
        mean = torch.tensor(data.mean, dtype=torch.float32, device=device)
        std = torch.tensor(data.std, dtype=torch.float32, device=device)
        self.scale = 1.0 / (255.0 * std)
        self.shift = mean / std
        self.channels_last = channels_last

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = (x.float() * self.scale - self.shift).permute(0, 3, 1, 2)
        return out if self.channels_last else out.contiguous()


def _autocast(
    device: torch.device, bf16: bool, cache: bool = True
) -> contextlib.AbstractContextManager:
    if not bf16:
        return contextlib.nullcontext()
    # CUDA graph capture needs autocast's weight-cast cache off.
    return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=cache)


class _Stepper:
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
        with _autocast(self.device, self.bf16, cache=not self.use_graph):
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


def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    normalize: Any,
    num_classes: int,
    batch_size: int = 500,
    bf16: bool = False,
) -> tuple[float, float | None]:
    """(top-1 error, top-5 error or None when <= 5 classes) of ``model`` in eval mode, no grad.

    ``images``: uint8 NHWC; ``normalize`` maps a uint8 NHWC batch to the model's input.
    """
    was_training = model.training
    model.eval()
    ks = (1, 5) if num_classes > 5 else (1,)
    correct = torch.zeros(len(ks), dtype=torch.int64, device=images.device)
    with torch.inference_mode(), _autocast(images.device, bf16):
        for i in range(0, images.shape[0], batch_size):
            logits = model(normalize(images[i : i + batch_size]))
            correct += topk_correct(logits.float(), labels[i : i + batch_size], ks)
    model.train(was_training)
    errs = [1.0 - c / images.shape[0] for c in correct.tolist()]
    return errs[0], (errs[1] if len(errs) > 1 else None)


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _cudnn_benchmark(on: bool) -> Iterator[None]:
    """cuDNN autotuning for the run's fixed shapes, restored afterwards."""
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = on or before
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return "cpu"


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# --------------------------------------------------------------------------- checkpoints
@dataclass
class Checkpoint:
    """A saved run: weights, architecture, settings and metrics."""

    arch: Architecture
    config: TrainConfig
    state_dict: dict[str, torch.Tensor]
    result: dict[str, Any]

    def model(self) -> nn.Module:
        """The network with the saved weights, in eval mode, on the CPU."""
        from designspace.training.models import build_model

        net = build_model(self.arch)
        net.load_state_dict(self.state_dict)
        return net.eval()


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    arch: Architecture,
    config: TrainConfig,
    result: TrainResult | None = None,
) -> Path:
    """Write weights (CPU tensors), ``arch.to_json()``, the config and the metrics to ``path``.

    Only tensors, strings, numbers, lists and dicts are stored, so
    ``torch.load(path, weights_only=True)`` reads it back (see :func:`load_checkpoint`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": "designspace-checkpoint-1",
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "arch_json": arch.to_json(),
        "config": config.to_dict(),
        "result": result.to_row() if result is not None else {},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a :func:`save_checkpoint` file with ``torch.load(weights_only=True)``."""
    path = Path(path)
    if not path.is_file():
        raise DesignSpaceError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a bad file
        raise DesignSpaceError(f"{path} is not a readable checkpoint ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != "designspace-checkpoint-1":
        raise DesignSpaceError(f"{path} is not a designspace checkpoint")
    return Checkpoint(
        arch=Architecture.from_json(payload["arch_json"]),
        config=TrainConfig.from_dict(payload["config"]),
        state_dict=payload["state_dict"],
        result=payload["result"],
    )


# --------------------------------------------------------------------------- the trainer
def _failed(device: torch.device, message: str, wall: float, **kw: Any) -> TrainResult:
    nan = float("nan")
    return TrainResult(
        status="failed",
        val_top1_err=nan,
        best_val_top1_err=nan,
        val_top5_err=None,
        train_loss=nan,
        epoch_train_loss=[],
        epoch_val_top1_err=[],
        epoch_val_top5_err=[],
        train_time_s=0.0,
        images_per_s=0.0,
        peak_memory_mb=_peak_memory_mb(device),
        device=_device_name(device),
        steps=0,
        epochs_done=0.0,
        error=message,
        wall_time_s=wall,
        **kw,
    )


def train(
    arch: Architecture,
    config: TrainConfig,
    data: InMemoryData | None = None,
    progress: bool = False,
    save: str | Path | None = None,
) -> TrainResult:
    """Train ``arch`` on ``data`` (loaded from ``config`` when None) and evaluate each epoch.

    The network's input channels and classes are taken from the data set
    (``arch.with_io``). ``progress`` shows a tqdm bar per epoch (when stderr is a terminal) and
    one line per epoch on stderr. ``save`` writes a checkpoint (:func:`save_checkpoint`) at
    the end of an "ok" run. Bad settings raise
    DesignSpaceError; a non-finite loss returns status "diverged"; CUDA out-of-memory returns
    status "failed".
    """
    start = time.perf_counter()
    config.validate()
    device = resolve_device(config.device)
    if data is None:
        # Fail on a too-small resolution before spending time on loading.
        check_resolution(arch, config.data.resolution)
        data = load_data(config.data, device=device)
    arch = arch.with_io(in_channels=data.in_channels, num_classes=data.num_classes)
    check_resolution(arch, data.resolution)
    if data.num_train < 1 or data.num_val < 1:
        raise DesignSpaceError("the data set has no training or no validation images")
    bf16 = config.precision == "bf16" or (config.precision == "auto" and device.type == "cuda")
    channels_last = config.channels_last if config.channels_last is not None else True
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    try:
        with _threads(config.threads), _cudnn_benchmark(device.type == "cuda"):
            return _run(arch, config, data, device, bf16, channels_last, progress, save, start)
    except torch.OutOfMemoryError as exc:
        if device.type == "cuda":
            torch.cuda.empty_cache()
        message = f"out of memory: {str(exc).splitlines()[0]}"
        return _failed(
            device,
            message,
            time.perf_counter() - start,
            resolution=data.resolution,
            precision="bf16" if bf16 else "fp32",
            channels_last=channels_last,
        )


def _run(
    arch: Architecture,
    config: TrainConfig,
    data: InMemoryData,
    device: torch.device,
    bf16: bool,
    channels_last: bool,
    progress: bool,
    save: str | Path | None,
    start: float,
) -> TrainResult:
    from designspace.training.models import build_model

    # Model init uses the global RNG: seed it without disturbing the caller's RNG state.
    fork_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(config.seed)
        model = build_model(arch, zero_init_last_bn=config.zero_init_last_bn)
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()

    train_x = data.train_x.to(device).permute(0, 2, 3, 1).contiguous()  # NHWC uint8
    train_y = data.train_y.to(device)
    val_x = data.val_x.to(device).permute(0, 2, 3, 1).contiguous()
    val_y = data.val_y.to(device)
    normalize = _Normalizer(data, device, channels_last)
    augment = config.augment if config.augment is not None else data.augment_default
    pad = max(1, data.resolution // 8)

    n = train_x.shape[0]
    bs = min(config.batch_size, n)
    steps_per_epoch = max(1, n // bs)
    if config.max_steps is not None:
        total_steps = config.max_steps
    else:
        total_steps = max(1, round(config.epochs * steps_per_epoch))
    warmup_steps = round(config.warmup_epochs * steps_per_epoch)
    base_lr = config.lr * config.batch_size / 128.0

    optimizer = SGD(
        list(model.parameters()),
        momentum=config.momentum,
        nesterov=config.nesterov,
        weight_decay=config.weight_decay,
    )
    stepper = _Stepper(
        model,
        optimizer,
        config.label_smoothing,
        device,
        bf16,
        graph=config.cuda_graph is not False,
    )
    gen = torch.Generator(device=device).manual_seed(config.seed)
    check_every = 1 if device.type == "cpu" else _CHECK_EVERY_CUDA

    epoch_loss: list[float] = []
    epoch_top1: list[float] = []
    epoch_top5: list[float] = []
    train_time = eval_time = 0.0
    status, error = "ok", None
    step = 0
    num_epochs = math.ceil(total_steps / steps_per_epoch)
    for epoch in range(num_epochs):
        steps_now = min(steps_per_epoch, total_steps - step)
        perm = torch.randperm(n, generator=gen, device=device)
        loss_sum = torch.zeros((), dtype=torch.float32, device=device)
        bar = _bar(progress, steps_now, epoch, num_epochs)
        _sync(device)
        t0 = time.perf_counter()
        for i in range(steps_now):
            idx = perm[i * bs : (i + 1) * bs]
            xb = train_x[idx]
            if augment:
                xb = augment_batch(xb, gen, pad)
            loss = stepper(
                normalize(xb), train_y[idx], lr_at_step(step, total_steps, base_lr, warmup_steps)
            )
            loss_sum += loss.detach().float()
            step += 1
            if (i + 1) % check_every == 0 or i + 1 == steps_now:
                if not math.isfinite(float(loss_sum)):
                    status = "diverged"
                    error = f"training loss became non-finite at step {step} (epoch {epoch + 1})"
                    break
            if bar is not None:
                bar.update(1)
                if (i + 1) % 20 == 0 or i + 1 == steps_now:
                    bar.set_postfix(loss=f"{float(loss_sum) / (i + 1):.4f}", refresh=False)
        _sync(device)
        train_time += time.perf_counter() - t0
        if bar is not None:
            bar.close()
        if status != "ok":
            break
        epoch_loss.append(float(loss_sum) / steps_now)
        t1 = time.perf_counter()
        top1, top5 = evaluate(model, val_x, val_y, normalize, data.num_classes, 500, bf16)
        _sync(device)
        eval_time += time.perf_counter() - t1
        epoch_top1.append(top1)
        if top5 is not None:
            epoch_top5.append(top5)
        if progress:
            top5_text = f"  top-5 err {top5:.4f}" if top5 is not None else ""
            print(
                f"epoch {epoch + 1}/{num_epochs}: train loss {epoch_loss[-1]:.4f}  "
                f"val top-1 err {top1:.4f}{top5_text}",
                file=sys.stderr,
            )

    nan = float("nan")
    ok = status == "ok"
    result = TrainResult(
        status=status,
        val_top1_err=epoch_top1[-1] if ok else nan,
        best_val_top1_err=min(epoch_top1) if epoch_top1 else nan,
        val_top5_err=(epoch_top5[-1] if ok and epoch_top5 else None),
        train_loss=epoch_loss[-1] if ok else nan,
        epoch_train_loss=epoch_loss,
        epoch_val_top1_err=epoch_top1,
        epoch_val_top5_err=epoch_top5,
        train_time_s=train_time,
        images_per_s=step * bs / train_time if train_time > 0 else 0.0,
        peak_memory_mb=_peak_memory_mb(device),
        device=_device_name(device),
        steps=step,
        epochs_done=step / steps_per_epoch,
        error=error,
        eval_time_s=eval_time,
        wall_time_s=time.perf_counter() - start,
        train_images=step * bs,
        resolution=data.resolution,
        precision="bf16" if bf16 else "fp32",
        channels_last=channels_last,
    )
    if save is not None and ok:
        save_checkpoint(save, model, arch, config, result)
    return result


def _bar(progress: bool, total: int, epoch: int, num_epochs: int) -> Any:
    if not progress or not sys.stderr.isatty():  # the per-epoch lines suffice in logs
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"epoch {epoch + 1}/{num_epochs}",
        unit="step",
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    )
