"""The complete description of one network: :class:`Architecture` and its :class:`Stage` list.

Conventions (DDS notation):

* ``width`` is a stage's output channels ``w``; ``bottleneck_ratio`` is ``b`` so the inner
  width of a bottleneck block is ``w / b`` (the d2l chapter's ``bot_mul`` is ``1 / b``);
  ``group_width`` is channels per group of the 3x3 conv (groups = ``w / b / g``).
* Only the first block of a stage has the stage's ``stride`` (and a projection shortcut when
  the width or the stride changes).
* ``block`` names a registered block type (:mod:`designspace.core.blocks`): built in are ``"x"``
  (ResNeXt bottleneck), ``"y"`` (X block + squeeze-and-excitation with ``se_ratio`` of the
  block's input width), ``"basic"`` (two 3x3 convs with a residual) and ``"plain"`` (two 3x3
  convs, no residual). Blocks without a bottleneck (basic, plain) have dense convs: their
  ``bottleneck_ratio`` is 1 and their ``group_width`` equals the stage width.
* ``stem`` is ``"simple"`` (3x3 conv, stride 2) or ``"small"`` (3x3 conv, stride 1, for
  28-32 px inputs).

The description holds no input resolution: complexity is a function of an architecture and a
resolution (see :mod:`designspace.core.complexity`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from designspace.core.blocks import block_names, get_block
from designspace.core.reading import SMALL_LIMIT, parse_json
from designspace.errors import DesignSpaceError

STEMS = ("simple", "small")
STEM_STRIDES = {"simple": 2, "small": 1}
MAX_STAGES = 8  # flat row columns d1..d8 exist only for stages that a network has
# Sanity limits far above any published network (RegNetY-32GF: widest stage 3712, deepest 13
# blocks), so that an absurd description is refused here rather than overflowing a count or
# exhausting memory in the builder.
MAX_DEPTH = 1024  # blocks per stage
MAX_CHANNELS = 65536  # any width: stage, inner (bottleneck), stem, input channels
MAX_CLASSES = 1_000_000
MAX_STRIDE = 64
_CELL_LIMIT = 4096  # characters of a per-stage list cell read from a CSV ("[1, 2, 4, 8]")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Stage:
    """One stage: ``depth`` blocks of output ``width`` channels.

    ``bottleneck_ratio`` is DDS's b (inner width = width / b), ``group_width`` is channels per
    group of the 3x3 conv, ``stride`` applies to the stage's first block only.
    """

    depth: int
    width: int
    bottleneck_ratio: float = 1.0
    group_width: int = 1
    stride: int = 2

    def __post_init__(self) -> None:
        # 2 and 2.0 are the same ratio: store whole ratios as int so ids and JSON agree.
        b = self.bottleneck_ratio
        if isinstance(b, float) and b.is_integer():
            object.__setattr__(self, "bottleneck_ratio", int(b))

    @property
    def inner_width(self) -> int:
        """Inner (bottleneck) width ``w_b = width / bottleneck_ratio`` in channels."""
        return int(round(self.width / self.bottleneck_ratio))

    @property
    def groups(self) -> int:
        """Number of groups of the 3x3 conv: ``inner_width / group_width``."""
        return self.inner_width // self.group_width


@dataclass(frozen=True)
class Architecture:
    """A whole network: stem -> stages -> head (global average pool + linear).

    Instances are immutable and validated on construction; :attr:`id` is a stable content hash
    (the ``name`` is not part of it), so two samples with the same network share an id.
    """

    stages: tuple[Stage, ...]
    block: str = "x"
    stem: str = "simple"
    stem_width: int = 32
    in_channels: int = 3
    num_classes: int = 1000
    se_ratio: float = 0.0
    name: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.stages, (tuple, list)):
            raise DesignSpaceError(
                f"'stages' must be a list of stages, got {type(self.stages).__name__} "
                f"{self.stages!r:.40}"
            )
        object.__setattr__(self, "stages", tuple(self.stages))
        _validate(self)

    # ----------------------------------------------------------------- derived views
    @property
    def depths(self) -> list[int]:
        """Blocks per stage."""
        return [s.depth for s in self.stages]

    @property
    def widths(self) -> list[int]:
        """Output channels per stage."""
        return [s.width for s in self.stages]

    @property
    def bottleneck_ratios(self) -> list[float]:
        """DDS's b per stage (inner width = width / b)."""
        return [s.bottleneck_ratio for s in self.stages]

    @property
    def group_widths(self) -> list[int]:
        """Channels per group of the 3x3 conv, per stage."""
        return [s.group_width for s in self.stages]

    @property
    def strides(self) -> list[int]:
        """Stride of each stage's first block."""
        return [s.stride for s in self.stages]

    @property
    def depth(self) -> int:
        """Total number of blocks."""
        return sum(self.depths)

    @property
    def block_widths(self) -> list[int]:
        """Output width of every block in order (the per-block profile that RegNet fits)."""
        return [s.width for s in self.stages for _ in range(s.depth)]

    @property
    def total_stride(self) -> int:
        """Product of the stem's and all stages' strides."""
        out = STEM_STRIDES[self.stem]
        for s in self.stages:
            out *= s.stride
        return out

    @property
    def min_resolution(self) -> int:
        """Smallest input side (px) at which every strided layer still sees at least 2 x 2 px.

        With padding k // 2 a map never shrinks below 1 px, so a network whose total stride
        exceeds the image still runs (28 px through a total stride of 32 ends at 1 x 1, as
        224 px ends at 7 x 7); below this size a stride-2 layer would only see a single pixel.
        """
        need = 1
        for s in reversed([STEM_STRIDES[self.stem], *self.strides]):
            if s > 1:
                need = max(2, s * (need - 1) + 1)
        return need

    @property
    def id(self) -> str:
        """Stable 16-hex-digit content hash of everything but the name."""
        payload = self.to_dict()
        payload.pop("name", None)
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def with_io(
        self,
        in_channels: int | None = None,
        num_classes: int | None = None,
        stem: str | None = None,
        stem_width: int | None = None,
    ) -> Architecture:
        """A copy for another input/output regime; arguments left as None are kept."""
        changes: dict[str, Any] = {}
        if in_channels is not None:
            changes["in_channels"] = in_channels
        if num_classes is not None:
            changes["num_classes"] = num_classes
        if stem is not None:
            changes["stem"] = stem
        if stem_width is not None:
            changes["stem_width"] = stem_width
        return replace(self, **changes)

    # ----------------------------------------------------------------- serialization
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict; :meth:`from_dict` inverts it exactly."""
        out = asdict(self)
        out["stages"] = [asdict(s) for s in self.stages]
        return out

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict` (keyword arguments go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Architecture:
        """Inverse of :meth:`to_dict`; a missing or unknown field raises DesignSpaceError."""
        if not isinstance(data, dict):
            raise DesignSpaceError("an architecture must be a JSON object with a 'stages' list")
        if "stages" not in data:
            raise DesignSpaceError(
                "architecture is missing the field 'stages' (a list of "
                "{depth, width, bottleneck_ratio, group_width, stride})"
            )
        known = {
            "stages",
            "block",
            "stem",
            "stem_width",
            "in_channels",
            "num_classes",
            "se_ratio",
            "name",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise DesignSpaceError(
                f"architecture has unknown field(s) {unknown}; valid fields: {sorted(known)}"
            )
        if not isinstance(data["stages"], list):
            raise DesignSpaceError(
                f"field 'stages' must be a list of {{depth, width, bottleneck_ratio, "
                f"group_width, stride}} objects, got {type(data['stages']).__name__} "
                f"{data['stages']!r:.40}"
            )
        stages = []
        for i, st in enumerate(data["stages"], start=1):
            if not isinstance(st, dict):
                raise DesignSpaceError(f"stage {i} must be an object with depth and width")
            for key in ("depth", "width"):
                if key not in st:
                    raise DesignSpaceError(f"stage {i} is missing the field '{key}'")
            extra = sorted(
                set(st) - {"depth", "width", "bottleneck_ratio", "group_width", "stride"}
            )
            if extra:
                raise DesignSpaceError(f"stage {i} has unknown field(s) {extra}")
            stages.append(Stage(**st))
        rest = {k: v for k, v in data.items() if k != "stages"}
        return cls(stages=tuple(stages), **rest)

    @classmethod
    def from_json(cls, text: str) -> Architecture:
        """Parse JSON text written by :meth:`to_json` (a string, not a file: files are read by
        :func:`designspace.formats.archfile.read_architecture`), through
        :func:`designspace.core.reading.parse_json`: bounded size and nesting, no number that
        overflows (``NaN`` is parsed, and refused by the field it is in, naming the field);
        DesignSpaceError otherwise."""
        if not isinstance(text, (str, bytes, bytearray)):
            raise DesignSpaceError(
                f"an architecture must be JSON text, got {type(text).__name__} {text!r:.40}"
            )
        if len(text) > SMALL_LIMIT:
            raise DesignSpaceError(
                f"architecture JSON of {len(text):,} characters is over the {SMALL_LIMIT:,} "
                f"an architecture can need; is it the right text?"
            )
        return cls.from_dict(parse_json(text, "architecture", allow_nan=True))

    def to_row(self) -> dict[str, Any]:
        """One flat record: per-stage lists plus flat columns d1.., w1.., b1.., g1...

        Columns: ``arch_id, name, block, stem, stem_width, in_channels, num_classes, se_ratio,
        num_stages, depth, depths, widths, bottleneck_ratios, group_widths, strides, d<i>, w<i>,
        b<i>, g<i>`` for i = 1..num_stages. :meth:`from_row` inverts it.
        """
        row: dict[str, Any] = {
            "arch_id": self.id,
            "name": self.name,
            "block": self.block,
            "stem": self.stem,
            "stem_width": self.stem_width,
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
            "se_ratio": float(self.se_ratio),
            "num_stages": len(self.stages),
            "depth": self.depth,
            "depths": self.depths,
            "widths": self.widths,
            "bottleneck_ratios": [float(b) for b in self.bottleneck_ratios],
            "group_widths": self.group_widths,
            "strides": self.strides,
        }
        for i, s in enumerate(self.stages, start=1):
            row[f"d{i}"] = s.depth
            row[f"w{i}"] = s.width
            row[f"b{i}"] = float(s.bottleneck_ratio)
            row[f"g{i}"] = s.group_width
        return row

    @classmethod
    def from_row(cls, row: Any) -> Architecture:
        """Rebuild from a :meth:`to_row` record (a dict or a pandas Series)."""
        get = row.get if hasattr(row, "get") else row.__getitem__
        try:
            depths = [int(x) for x in _cell_list(get("depths"))]
            widths = [int(x) for x in _cell_list(get("widths"))]
            bs = [float(x) for x in _cell_list(get("bottleneck_ratios"))]
            gs = [int(x) for x in _cell_list(get("group_widths"))]
            strides = [int(x) for x in _cell_list(get("strides"))]
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise DesignSpaceError(
                f"row has no readable per-stage lists (depths, widths, bottleneck_ratios, "
                f"group_widths, strides): {exc}"
            ) from None
        name = get("name")
        if not len(depths) == len(widths) == len(bs) == len(gs) == len(strides):
            raise DesignSpaceError("row's per-stage lists have different lengths")
        stages = tuple(
            Stage(d, w, b, g, s)
            for d, w, b, g, s in zip(depths, widths, bs, gs, strides, strict=True)
        )
        try:
            rest = {
                "block": str(get("block")),
                "stem": str(get("stem")),
                "stem_width": int(get("stem_width")),
                "in_channels": int(get("in_channels")),
                "num_classes": int(get("num_classes")),
                "se_ratio": float(get("se_ratio")),
            }
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise DesignSpaceError(
                f"row has no readable block, stem, stem_width, in_channels, num_classes or "
                f"se_ratio: {exc}"
            ) from None
        return cls(stages=stages, name=name if isinstance(name, str) else None, **rest)


def _cell_list(value: Any) -> list:
    """A per-stage list from a table cell: a list or array, or its JSON text (from a CSV)."""
    if isinstance(value, str):
        if len(value) > _CELL_LIMIT:
            raise ValueError(f"a list cell of {len(value):,} characters is too long")
        value = parse_json(value, "a per-stage list cell", max_depth=2)
    if value is None or isinstance(value, (int, float, dict)):
        raise TypeError(f"expected a list, got {value!r:.40}")
    return list(value)


def _validate(arch: Architecture) -> None:
    spec = get_block(arch.block)
    if arch.stem not in STEMS:
        raise DesignSpaceError(f"stem must be one of {list(STEMS)}, got {arch.stem!r}")
    limits = {"stem_width": MAX_CHANNELS, "in_channels": MAX_CHANNELS, "num_classes": MAX_CLASSES}
    for key, limit in limits.items():
        value = getattr(arch, key)
        if not _is_int(value) or value <= 0:
            raise DesignSpaceError(f"{key} must be a positive integer, got {value!r:.40}")
        if value > limit:
            raise DesignSpaceError(f"{key} must be at most {limit}, got {value}")
    if (
        isinstance(arch.se_ratio, bool)
        or not isinstance(arch.se_ratio, (int, float))
        or not 0 <= arch.se_ratio < 1
    ):
        raise DesignSpaceError(f"se_ratio must be in [0, 1), got {arch.se_ratio!r}")
    if spec.se and arch.se_ratio <= 0:
        raise DesignSpaceError(
            f"a {arch.block!r}-block network needs se_ratio > 0 (the papers use 0.25)"
        )
    if not spec.se and arch.se_ratio != 0:
        raise DesignSpaceError(
            f"se_ratio must be 0 for {arch.block!r} blocks; use a block with "
            f"squeeze-excitation ({', '.join(_se_blocks())}) for it"
        )
    if arch.name is not None and not isinstance(arch.name, str):
        raise DesignSpaceError(f"name must be a string, got {arch.name!r:.40}")
    if not arch.stages:
        raise DesignSpaceError("an architecture needs at least one stage")
    if len(arch.stages) > MAX_STAGES:
        raise DesignSpaceError(f"at most {MAX_STAGES} stages are supported")
    w_in = arch.stem_width
    for i, s in enumerate(arch.stages, start=1):
        if not isinstance(s, Stage):
            raise DesignSpaceError(f"stage {i} must be a Stage, got {type(s).__name__}")
        stage_limits = {
            "depth": MAX_DEPTH,
            "width": MAX_CHANNELS,
            "group_width": MAX_CHANNELS,
            "stride": MAX_STRIDE,
        }
        for key, limit in stage_limits.items():
            value = getattr(s, key)
            if not _is_int(value) or value <= 0:
                raise DesignSpaceError(
                    f"stage {i} field '{key}' must be a positive integer, got {value!r:.40}"
                )
            if value > limit:
                raise DesignSpaceError(
                    f"stage {i} field '{key}' must be at most {limit}, got {value}"
                )
        b = s.bottleneck_ratio
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 < b < float("inf"):
            raise DesignSpaceError(
                f"stage {i} field 'bottleneck_ratio' must be a positive number, got {b!r}"
            )
        inner = s.width / b
        if inner > MAX_CHANNELS:
            raise DesignSpaceError(
                f"stage {i}: inner width {s.width} / bottleneck_ratio {b} must be at most "
                f"{MAX_CHANNELS} channels"
            )
        if abs(inner - round(inner)) > 1e-9 or round(inner) < 1:
            raise DesignSpaceError(
                f"stage {i}: width {s.width} / bottleneck_ratio {b} is not a whole number of "
                f"channels; pick a width divisible by the ratio"
            )
        if not spec.bottleneck:
            if b != 1 or s.group_width != s.width:
                raise DesignSpaceError(
                    f"stage {i}: {arch.block!r} blocks have no bottleneck and dense convs: "
                    f"set bottleneck_ratio 1 and group_width = width ({s.width})"
                )
        elif spec.se and min(round(arch.se_ratio * w_in), round(arch.se_ratio * s.width)) < 1:
            raise DesignSpaceError(
                f"stage {i}: se_ratio {arch.se_ratio} of a block input width "
                f"{min(w_in, s.width)} rounds to an SE width of 0; raise se_ratio or the width"
            )
        elif s.inner_width % s.group_width != 0:
            raise DesignSpaceError(
                f"stage {i}: group_width {s.group_width} does not divide the inner width "
                f"{s.inner_width} (= width {s.width} / b {b}); use a divisor of it or "
                f"designspace.core.regnet.adjust_compatibility"
            )
        w_in = s.width


def _se_blocks() -> list[str]:
    return [n for n in block_names() if get_block(n).se]
