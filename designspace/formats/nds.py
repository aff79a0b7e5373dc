"""Reading the trained populations that NDS released (Radosavovic et al., ICCV 2019).

The NDS authors published their trained models as JSON files (``data.zip`` of the NDS
repository). Two shapes exist: a list of records (``ResNet_lr-wd_in.json``) and an object of
named lists (``ResNet_reruns.json`` = ``{"top": [...], "mid": [...]}``). :func:`read_nds` turns
every record into one row of the results schema of :mod:`designspace.formats.results`, so the
populations go through every analysis like a sweep's; :func:`import_nds` writes them as a
results data set (``OUT/results/``, one parquet file per model, the sweep's own writer).

Mapping of a record (percentages become fractions in [0, 1]):

* ``space``: the file name up to its first ``_`` (``ResNet_lr-wd_in.json`` -> ``ResNet``), or
  ``space`` when given; a file of named lists gives one space per list, ``<space>-<name>``
  (``ResNet-top``, ``ResNet-mid``). ``sweep`` is the file's stem; ``sample_index`` the record's
  position in its list; ``arch_id`` a 16-hex-digit hash of the ``net`` entry (repeated runs of
  one network share it); ``arch_json`` the ``net`` entry as JSON.
* ``regime`` / ``cfg_dataset`` / ``resolution``: ``imagenet`` / 224 px when the stem ends in
  ``_in`` (NDS's naming), else ``cifar10`` / 32 px.
* errors: ``val_top1_err`` = ``best_val_top1_err`` = ``min_test_top1`` / 100 (the lowest test
  error over the epochs, the value NDS's figures use); ``final_val_top1_err`` = the last
  epoch's test error; ``epoch_val_top1_err`` (``test_ep_top1``), ``epoch_train_top1_err``
  (``train_ep_top1``), ``epoch_train_loss`` (``train_ep_loss``), ``iter_train_loss`` /
  ``iter_train_top1_err`` (``train_it_*``) per epoch / logging step; ``train_loss`` = the last
  epoch's training loss; ``epochs_done`` = the number of epochs recorded.
* ``status``: "diverged" when any error or loss is NaN, or when ``min_test_top1`` is within 1%
  of chance (error >= 0.99 * (1 - 1/classes), classes 1000 / 10); else "ok".
* complexity: ``flops`` (multiply-adds), ``params``; NDS's ``act_mem``, ``exp_mem``,
  ``iter_time`` (s) and ``prec_time`` (``prec_time_<key>``, s) as they are.
* settings: ``cfg_lr`` (``base_lr``), ``cfg_weight_decay`` (``wd``), ``cfg_momentum``
  (``mom``), ``cfg_epochs`` (``max_ep``), ``cfg_seed`` (``rng_seed``), ``cfg_lr_policy``,
  ``cfg_iter_lr``; ``job_id``.
* AnyNet-style nets (``block_type``, ``ds``, ``ws``, ``ss``, ``bot_muls``, ``num_gs``): index 0
  is the stem (``stem_width`` = ws[0], ``stem_stride`` = ss[0]); stages from index 1 give
  ``depths``, ``widths``, ``strides``, ``bottleneck_ratios`` b = 1 / bot_mul (1 when the list
  is empty) and ``group_widths`` g = inner width / groups with inner width = w * bot_mul
  (groups 1 when the list is empty); ``block`` = ``block_type``; flat ``d<i>, w<i>, b<i>, g<i>``.
* cell nets (``genotype``): ``block`` = "cell", ``depth`` (cells), ``cell_width``, ``aux``,
  ``drop_prob`` and ``genotype`` as JSON text (NDS stores it as Python literal text).

Anything that is not such a file or record raises :class:`DesignSpaceError` naming the file
and the record. The module needs json / numpy / pandas (and pyarrow through the writer) only.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from designspace.core import reading
from designspace.errors import DesignSpaceError
from designspace.feedback import Stages

RESOLUTION = {"imagenet": 224, "cifar10": 32}
CLASSES = {"imagenet": 1000, "cifar10": 10}
MIN_STAGES = 4
PREC_TIME_KEYS = ("test_fw", "train_bw", "train_fw", "train_fw_bw")
#: The block types of NDS's AnyNet-style nets (the NDS code's AnyNet blocks; the released
#: Vanilla files use double_plain_block, ResNet res_basic_block, ResNeXt res_bottleneck_block).
BLOCK_TYPES = (
    "double_plain_block",
    "plain_block",
    "res_basic_block",
    "res_bottleneck_block",
    "vanilla_block",
)
#: Sane bounds of a record's numbers (far beyond any published network, well inside int64).
MAX_WIDTH = 10**6
MAX_DEPTH = 10**4
MAX_STRIDE = 64
MAX_BOT_MUL = 64.0
MAX_COUNT = 10**15  # flops (multiply-adds) and params
MAX_EPOCHS = 10**5

#: Training settings of an imported row (columns ``cfg_<name>``) and their types.
SETTINGS: dict[str, str] = {
    "dataset": "str",
    "epochs": "float",
    "lr": "float",
    "momentum": "float",
    "weight_decay": "float",
    "seed": "int",
    "lr_policy": "str",
    "iter_lr": "bool | None",
}
#: Further columns of an imported row and their types (the fixed columns come from the schema).
METRICS: dict[str, str] = {
    "status": "str",
    "val_top1_err": "float",
    "best_val_top1_err": "float",
    "final_val_top1_err": "float",
    "train_loss": "float",
    "epoch_train_loss": "list[float]",
    "epoch_val_top1_err": "list[float]",
    "epoch_train_top1_err": "list[float]",
    "iter_train_loss": "list[float]",
    "iter_train_top1_err": "list[float]",
    "epochs_done": "float",
    "stem_stride": "int | None",
    "cell_width": "int | None",
    "aux": "bool | None",
    "drop_prob": "float | None",
    "genotype": "str | None",
    "act_mem": "float | None",
    "exp_mem": "float | None",
    "iter_time_s": "float | None",
    **{f"prec_time_{k}_s": "float | None" for k in PREC_TIME_KEYS},
    "job_id": "str | None",
    "source": "str",
}


class _Record:
    """Typed access to one record, every failure naming the file and the record."""

    def __init__(self, where: str, record: Any) -> None:
        self.where = where
        if not isinstance(record, dict):
            self.fail(f"is a {type(record).__name__}, expected an object")
        self.record = record

    def fail(self, why: str) -> NoReturn:
        raise DesignSpaceError(f"{self.where} {why} (expected an NDS model record)")

    def get(self, path: str, default: Any = ...) -> Any:
        node: Any = self.record
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is not ...:
                    return default
                self.fail(f"has no field '{path}'")
            node = node[part]
        return node

    def number(
        self,
        path: str,
        default: Any = ...,
        low: float = -math.inf,
        high: float = math.inf,
        nan: bool = False,
    ) -> float | None:
        """The number at ``path``: finite and in [low, high] (NaN too when ``nan``)."""
        value = self.get(path, default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"field '{path}' must be a number, got {type(value).__name__}")
        value = float(value)
        if nan and math.isnan(value):
            return value
        if not (math.isfinite(value) and low <= value <= high):
            self.fail(f"field '{path}' must be a finite number in [{low:g}, {high:g}], got {value}")
        return value

    def integer(
        self, path: str, default: Any = ..., low: int = -(2**63), high: int = 2**63 - 1
    ) -> int | None:
        """The whole number at ``path`` (an integral float too), in [low, high]."""
        value = self.get(path, default)
        if value is None and default is None:
            return None
        ok = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not ok:
            self.fail(f"field '{path}' must be an integer, got {value!r:.40}")
        if not low <= value <= high:
            self.fail(f"field '{path}' must be an integer in [{low}, {high}], got {value!r:.40}")
        return int(value)

    def text(self, path: str, default: Any = ...) -> str | None:
        value = self.get(path, default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.fail(f"field '{path}' must be text, got {type(value).__name__}")
        return str(value)

    def numbers(
        self,
        path: str,
        default: Any = ...,
        integers: bool = False,
        low: float = -math.inf,
        high: float = math.inf,
        finite: bool = True,
        nan: bool = False,
    ) -> list:
        """The list of numbers at ``path``; every finite entry in [low, high]; NaN passes when
        ``nan`` or not ``finite``, infinities when not ``finite`` (a diverged run's curve)."""
        value = self.get(path, default)
        if not isinstance(value, list):
            self.fail(f"field '{path}' must be a list of numbers, got {type(value).__name__}")
        kind = int if integers else (int, float)
        for x in value:
            if isinstance(x, bool) or not isinstance(x, kind):
                what = "integers" if integers else "numbers"
                self.fail(f"field '{path}' must be a list of {what}, holds {x!r:.40}")
            if not math.isfinite(x):
                if finite and not (nan and math.isnan(x)):
                    self.fail(f"field '{path}' must hold finite numbers, holds {x!r:.40}")
            elif not low <= x <= high:
                self.fail(
                    f"field '{path}' must hold numbers in [{low:g}, {high:g}], holds {x!r:.40}"
                )
        return [int(x) for x in value] if integers else [float(x) for x in value]


def nds_regime(path: str | Path) -> str:
    """``imagenet`` when the file's stem ends in ``_in`` (NDS's naming), else ``cifar10``."""
    return "imagenet" if Path(path).stem.endswith("_in") else "cifar10"


def nds_space(path: str | Path) -> str:
    """The design space a file name names: its stem up to the first ``_`` (``ResNet``)."""
    return Path(path).stem.split("_")[0] or Path(path).stem


def _load(path: Path, limit: int) -> list[tuple[str, list]]:
    """The file's record lists as (group name or "", records)."""
    text = reading.read_text(path, "NDS file", limit)
    try:
        # NaN / Infinity are how NDS's writer stores a diverged run's errors and losses
        data = reading.parse_json(text, str(path), allow_nan=True)
    except reading.JSONSyntaxError as exc:
        raise DesignSpaceError(
            f"{path} is not JSON ({exc.detail[:80]}); expected an NDS file"
        ) from None
    if isinstance(data, list):
        groups = [("", data)]
    elif isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        groups = [(str(k), v) for k, v in data.items()]
    else:
        raise DesignSpaceError(
            f"{path} is not an NDS file: expected a list of model records or an object of "
            f'such lists ({{"top": [...], "mid": [...]}}), got {_shape(data)}'
        )
    if not any(records for _, records in groups):
        raise DesignSpaceError(f"{path} holds no model records; expected an NDS file")
    return groups


def _shape(data: Any) -> str:
    if isinstance(data, dict):
        keys = ", ".join(map(str, list(data)[:4]))
        return f"an object with keys {keys or '(none)'}"
    return f"a JSON {type(data).__name__}"


def _fractions(values: list[float]) -> list[float]:
    return [x / 100.0 for x in values]


def _finite(values: list[float]) -> bool:
    return all(math.isfinite(x) for x in values)


def _net_columns(r: _Record) -> tuple[dict[str, Any], dict[str, Any]]:
    """(row columns, the net as JSON-able dict) for an AnyNet-style or a cell net."""
    net = r.get("net")
    if not isinstance(net, dict):
        r.fail(f"field 'net' must be an object, got {type(net).__name__}")
    if "genotype" in net:
        geno = net["genotype"]
        if isinstance(geno, str):
            try:
                geno = ast.literal_eval(geno)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                r.fail("field 'net.genotype' is not readable genotype text")
        if not isinstance(geno, dict):
            r.fail(f"field 'net.genotype' must be an object, got {type(geno).__name__}")
        try:
            geno_json = json.dumps(geno, sort_keys=True)
        except (TypeError, ValueError):
            r.fail("field 'net.genotype' holds values that are not plain data")
        aux = r.get("net.aux", None)
        if aux is not None and not isinstance(aux, bool):
            r.fail(f"field 'net.aux' must be true or false, got {aux!r:.40}")
        cols = dict(
            block="cell",
            depth=r.integer("net.depth", low=1, high=MAX_DEPTH),
            cell_width=r.integer("net.width", low=1, high=MAX_WIDTH),
            aux=aux,
            drop_prob=r.number("net.drop_prob", None, low=0.0, high=1.0),
            genotype=geno_json,
            num_stages=0,
        )
        return cols, {**net, "genotype": geno}
    block = r.text("net.block_type")
    if block not in BLOCK_TYPES:
        r.fail(
            f"field 'net.block_type' is {block!r:.40}; known block types: {', '.join(BLOCK_TYPES)}"
        )
    # positivity is checked below with the stem's exception; here only the upper bounds
    ds = r.numbers("net.ds", integers=True, high=MAX_DEPTH)
    ws = r.numbers("net.ws", integers=True, high=MAX_WIDTH)
    ss = r.numbers("net.ss", integers=True, high=MAX_STRIDE)
    bot = r.numbers("net.bot_muls", [], high=MAX_BOT_MUL)
    gs = r.numbers("net.num_gs", [], integers=True, high=MAX_WIDTH)
    n = len(ds)
    if n < 2:
        r.fail(f"field 'net.ds' must list the stem and at least one stage, got {ds}")
    for name, values in (("ws", ws), ("ss", ss), ("bot_muls", bot), ("num_gs", gs)):
        if values and len(values) != n:
            r.fail(f"field 'net.{name}' has {len(values)} entries but 'net.ds' has {n}")
    if not ws or not ss:
        r.fail("fields 'net.ws' and 'net.ss' must not be empty")
    # index 0 (the stem) of bot_muls / num_gs carries no meaning, so it is not checked
    if min(ds + ws + ss) <= 0 or any(x <= 0 for x in bot[1:] + gs[1:]):
        r.fail("net lists must hold positive values")
    bot_s = bot[1:] if bot else [1.0] * (n - 1)
    gs_s = gs[1:] if gs else [1] * (n - 1)
    depths, widths, strides = ds[1:], ws[1:], ss[1:]
    group_widths = [max(1, round(w * m / g)) for w, m, g in zip(widths, bot_s, gs_s, strict=True)]
    cols: dict[str, Any] = dict(
        block=block,
        stem_width=ws[0],
        stem_stride=ss[0],
        num_stages=n - 1,
        depth=sum(depths),
        depths=depths,
        widths=widths,
        bottleneck_ratios=[1.0 / m for m in bot_s],
        group_widths=group_widths,
        strides=strides,
    )
    for i in range(n - 1):
        cols[f"d{i + 1}"] = depths[i]
        cols[f"w{i + 1}"] = widths[i]
        cols[f"b{i + 1}"] = 1.0 / bot_s[i]
        cols[f"g{i + 1}"] = group_widths[i]
    return cols, net


def _row(r: _Record, regime: str) -> dict[str, Any]:
    # errors are percentages; NaN marks a diverged run. The training curves are kept as
    # recorded (a diverged run's may hold NaN, infinities or values past 100).
    min_err = r.number("min_test_top1", low=0.0, high=100.0, nan=True)
    test = r.numbers("test_ep_top1", low=0.0, high=100.0, nan=True)
    train = r.numbers("train_ep_top1", finite=False)
    loss = r.numbers("train_ep_loss", finite=False)
    it_loss = r.numbers("train_it_loss", [], finite=False)
    it_top1 = r.numbers("train_it_top1", [], finite=False)
    if not test:
        r.fail("field 'test_ep_top1' is empty (no epochs recorded)")
    flops = r.integer("flops", high=MAX_COUNT)
    params = r.integer("params", high=MAX_COUNT)
    if flops <= 0 or params <= 0:
        r.fail("fields 'flops' and 'params' must be positive")
    optim = r.get("optim")
    if not isinstance(optim, dict):
        r.fail(f"field 'optim' must be an object, got {type(optim).__name__}")
    iter_lr = r.get("optim.iter_lr", None)
    if iter_lr is not None and not isinstance(iter_lr, bool):
        r.fail(f"field 'optim.iter_lr' must be true or false, got {iter_lr!r:.40}")
    prec = r.get("prec_time", {})
    if not isinstance(prec, dict):
        r.fail(f"field 'prec_time' must be an object, got {type(prec).__name__}")
    net_cols, net = _net_columns(r)

    chance = 1.0 - 1.0 / CLASSES[regime]
    curves_finite = _finite(test + train + loss + it_loss + it_top1)
    diverged = not math.isfinite(min_err) or not curves_finite or min_err / 100.0 >= 0.99 * chance
    row: dict[str, Any] = dict(
        regime=regime,
        arch_json=json.dumps(net, sort_keys=True),
        resolution=RESOLUTION[regime],
        flops=flops,
        params=params,
        status="diverged" if diverged else "ok",
        val_top1_err=min_err / 100.0,
        best_val_top1_err=min_err / 100.0,
        final_val_top1_err=test[-1] / 100.0,
        train_loss=loss[-1] if loss else None,
        epoch_train_loss=loss,
        epoch_val_top1_err=_fractions(test),
        epoch_train_top1_err=_fractions(train),
        iter_train_loss=it_loss,
        iter_train_top1_err=_fractions(it_top1),
        epochs_done=float(len(test)),
        act_mem=r.number("act_mem", None, low=0.0),
        exp_mem=r.number("exp_mem", None, low=0.0),
        iter_time_s=r.number("iter_time", None, low=0.0),
        job_id=r.text("job_id", None),
        cfg_dataset=regime,
        cfg_epochs=r.number("optim.max_ep", low=1.0, high=MAX_EPOCHS),
        cfg_lr=r.number("optim.base_lr", low=0.0),
        cfg_momentum=r.number("optim.mom", low=0.0),
        cfg_weight_decay=r.number("optim.wd", low=0.0),
        cfg_seed=r.integer("rng_seed"),
        cfg_lr_policy=r.text("optim.lr_policy"),
        cfg_iter_lr=iter_lr,
    )
    for key in PREC_TIME_KEYS:
        row[f"prec_time_{key}_s"] = r.number(f"prec_time.{key}", None, low=0.0)
    row.update(net_cols)
    return row


def nds_records(
    path: str | Path, space: str | None = None, limit: int = reading.NDS_LIMIT
) -> list[dict[str, Any]]:
    """Every record of one NDS file as a results row (a dict; see the module docstring).

    ``space`` overrides the space named by the file name; ``limit``: the largest file read,
    in bytes (512 MiB). Raises DesignSpaceError naming the file and the record for anything
    that is not an NDS file or record: a number out of its range (errors in [0, 100] %,
    ``max_ep`` >= 1, widths up to 10^6, flops and params up to 10^15, every number finite
    except a diverged run's NaN errors and curves) or an unknown ``block_type``.
    """
    path = Path(path)
    if space is not None and not str(space).strip():
        raise DesignSpaceError("--space must not be empty")
    base = space or nds_space(path)
    regime = nds_regime(path)
    rows = []
    for group, records in _load(path, limit):
        name = f"{base}-{group}" if group else base
        for i, record in enumerate(records):
            where = f"{path}: record {f'{group}[{i}]' if group else f'[{i}]'}"
            row = _row(_Record(where, record), regime)
            row.update(
                sweep=path.stem,
                space=name,
                sample_index=i,
                arch_id=hashlib.sha256(row["arch_json"].encode()).hexdigest()[:16],
                source=path.name,
            )
            rows.append(row)
    return rows


def read_nds(
    path: str | Path, space: str | None = None, limit: int = reading.NDS_LIMIT
) -> pd.DataFrame:
    """One NDS file as a results DataFrame (one row per trained model, the sweep's columns).

    ``space``: the space name instead of the file name's (``<space>-<group>`` for a file of
    named lists); ``limit``: the largest file read, in bytes (see :func:`nds_records`).
    Errors are fractions in [0, 1]; flops are multiply-adds.
    """
    rows = nds_records(path, space, limit)
    return _table(rows, _schema(rows)).to_pandas()


def _schema(rows: list[dict[str, Any]]):  # -> pyarrow.Schema
    """The results schema of imported rows; every NDS import gets the same one (4 stages:
    NDS's AnyNet nets have at most 4), so pandas.read_parquet, which takes the first file's
    schema, reads a folder of several imports."""
    from designspace.formats import results as res

    max_stages = max([MIN_STAGES] + [int(row.get("num_stages") or 0) for row in rows])
    return res.results_schema(max_stages, SETTINGS, METRICS)


def _table(rows: list[dict[str, Any]], schema):  # -> pyarrow.Table
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=schema)


def import_nds(
    paths: Sequence[str | Path],
    out: str | Path,
    space: str | None = None,
    stages: Stages | None = None,
) -> list[Path]:
    """Write the records of NDS files as a results data set ``out/results/`` (one parquet file
    per model, written by :func:`designspace.formats.results.write_result`); return the files
    written.

    Every file is read and checked before anything is written, so bad input writes nothing.
    ``out`` may already hold imported results, but never the same models (same space and
    index) or a sweep (its ``sweep.json``). ``stages`` (None: silent) hears each file read
    and the writing.
    """
    from designspace.formats import results as res
    from designspace.version import __version__

    if not paths:
        raise DesignSpaceError("name at least one NDS .json file to import")
    from designspace.formats import outputs

    # the output first (cheap): a sweep's folder, an input, a data set, someone else's folder
    if out is not None and str(out).strip() and (Path(out) / res.MANIFEST_NAME).exists():
        raise DesignSpaceError(
            f"--out {out} holds a sweep ({res.MANIFEST_NAME}); import into another folder"
        )
    outputs.check_out_dir(out, outputs.NDS, inputs=paths)
    rows: list[dict[str, Any]] = []
    for i, p in enumerate(paths, 1):
        if stages is not None:
            stages.stage(f"reading {p}", i, len(paths))
        rows.extend(nds_records(p, space))
    out = Path(out)
    data_dir = out / res.DATA_DIRNAME
    seen: dict[str, str] = {}
    for row in rows:
        name = res.result_filename(row["space"], row["sample_index"], row["arch_id"])
        if name in seen:
            raise DesignSpaceError(
                f"{row['source']} and {seen[name]} both give model {row['space']} "
                f"#{row['sample_index']}; import them with different --space names"
            )
        seen[name] = row["source"]
        if (data_dir / name).exists():
            raise DesignSpaceError(
                f"{data_dir} already holds model {row['space']} #{row['sample_index']} "
                f"(from {row['source']}); use another --out or --space"
            )
    schema = _schema(rows)
    existing = res.result_files(data_dir)
    if existing:
        import pyarrow.parquet as pq

        try:
            same = pq.read_schema(existing[0]).remove_metadata().equals(schema)
        except Exception:  # noqa: BLE001 - any unreadable file means "not ours"
            same = False
        if not same:
            raise DesignSpaceError(
                f"{data_dir} holds results of another schema ({existing[0].name}); import "
                f"into another folder"
            )
    data_dir.mkdir(parents=True, exist_ok=True)
    if stages is not None:
        stages.stage(f"writing {len(rows)} models to {data_dir}")
    written = []
    for row in rows:
        full = dict(row, designspace_version=__version__, attempt=1)
        written.append(res.write_result(data_dir, full, schema))
    return written
