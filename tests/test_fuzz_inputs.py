"""Property-based fuzzing of what users hand designspace (issue 20): space files, study files,
NDS records and results tables, each a valid file mutated at random (values replaced by
hostile ones, keys removed or repeated, bytes and byte-order marks inserted, text cut).

The property everywhere: the outcome is success (exit 0) or one line and exit 2 (in-process
through :func:`designspace.cli.main`, or the loader's one-line DesignSpaceError), never a
traceback, and no file outside the command's output is created, changed or removed. Examples
are capped and the database is off (nothing written to the repository), so the whole module
runs in well under a minute.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from designspace.cli import main
from designspace.core.spaces import get_space, space_to_dict
from designspace.errors import DesignSpaceError
from designspace.feedback import PROGRESS_LINE
from tests.hostile import snapshot
from tests.nds_files import anynet_record, cifar_record
from tests.synthetic import make_results

# No shrinking: a failure is reported as found (shrinking one can take minutes; to shrink
# while debugging, add Phase.shrink).
FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ------------------------------------------------------------------------------ strategies
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFF), max_size=12
)
WORDS = st.sampled_from(
    ["x", "X", "R", "anynet", "regnet", "AnyNetXA", "uniform", "log_uniform", "choice",
     "fashion-mnist", "cifar10", "imagenet", "depth", "width", "q", "res_bottleneck_block",
     "", " ", "nan", "../..", "/dev/zero"]
)  # fmt: skip
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 2, 1e30, 1e-300, 250, -5, 10**12, 0.5, 100.0]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT, WORDS)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(WORDS | TEXT, inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and list positions) into a nested document, the root excluded."""
    out = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


#: Plausible values: what a careless edit of a good file puts in.
NEAR = st.sampled_from([0, 1, 2, 3, 4, 8, 16, 64, 0.25, 0.5, 0.99, 1.5, -1, 1e6, "x", [1, 4]])


def mutate(doc: Any, data: st.DataObject) -> Any:
    """``doc`` with 0-3 random edits: a value replaced by a plausible or a hostile one, a key
    removed, a key added."""
    doc = json.loads(json.dumps(doc))  # a deep copy (NaN survives)
    for _ in range(data.draw(st.integers(0, 3), label="edits")):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        op = data.draw(st.sampled_from(["near", "near", "replace", "delete", "add"]), label="op")
        if op in ("near", "replace"):
            # a copy: a list drawn from NEAR must not be edited in place by a later edit
            parent[path[-1]] = copy.deepcopy(data.draw(NEAR if op == "near" else VALUES))
        elif op == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(WORDS | TEXT, label="key")] = data.draw(VALUES, label="value")
    return doc


BYTE_EDITS = st.sampled_from(
    ["none"] * 6 + ["bom8", "bom16", "utf16", "insert", "cut", "dup", "dup"]
)


def mangle(text: str, data: st.DataObject) -> bytes:
    """``text`` as bytes, perhaps mangled: a byte-order mark, UTF-16, random bytes inserted,
    cut short, or a line repeated (a duplicate key in YAML and TOML)."""
    raw = text.encode()
    edit = data.draw(BYTE_EDITS, label="bytes")
    if edit == "bom8":
        return b"\xef\xbb\xbf" + raw
    if edit == "bom16":
        return b"\xff\xfe" + raw
    if edit == "utf16":
        return text.encode("utf-16")
    if edit == "insert" and raw:
        at = data.draw(st.integers(0, len(raw)), label="at")
        return raw[:at] + data.draw(st.binary(min_size=1, max_size=8), label="junk") + raw[at:]
    if edit == "cut" and raw:
        return raw[: data.draw(st.integers(0, len(raw) - 1), label="cut")]
    if edit == "dup":
        lines = text.splitlines(keepends=True)
        if lines:
            i = data.draw(st.integers(0, len(lines) - 1), label="line")
            return "".join(lines + [lines[i]]).encode()
    return raw


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        body = ", ".join(
            f"{json.dumps(str(k), ensure_ascii=False)} = {_toml_value(v)}"
            for k, v in value.items()
            if v is not None
        )
        return "{" + body + "}"
    raise TypeError(type(value))


def to_toml(doc: Any) -> str:
    """A document as TOML (inline tables below the top; None values dropped: TOML has none)."""
    if not isinstance(doc, dict):
        return f"value = {_toml_value(doc)}\n" if doc is not None else ""
    lines = [
        f"{json.dumps(str(k), ensure_ascii=False)} = {_toml_value(v)}"
        for k, v in doc.items()
        if v is not None
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ running
def run_cli(args: list[str], watch: Path, output: Path | None = None) -> tuple[int, str]:
    """``designspace ARGS`` in-process; asserts the promise (exit 0, or exit 2 with one line
    on stderr after progress lines; nothing under ``watch`` created, changed or removed but
    under ``output``) and returns (code, stderr)."""

    def state() -> dict[str, str]:
        files = snapshot([watch])
        if output is None:
            return files
        return {k: v for k, v in files.items() if not Path(k).is_relative_to(output)}

    before = state()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    after = state()
    assert after == before, f"{args}: files changed: {sorted(set(before) ^ set(after))[:5]}"
    stderr = err.getvalue()
    hypothesis.event(f"{args[0]} exit {code}")
    assert code in (0, 2), f"{args}: exit {code}\n{stderr}"
    if code == 2:
        lines = [line for line in stderr.splitlines() if line.strip()]
        while len(lines) > 1 and PROGRESS_LINE.match(lines[0]):
            lines.pop(0)
        assert len(lines) == 1, f"{args}: expected one line, got:\n{stderr}"
    return code, stderr


def one_line(func, *args) -> Any:
    """``func(*args)``, or None when it raised a one-line DesignSpaceError."""
    try:
        return func(*args)
    except DesignSpaceError as exc:
        assert "\n" not in str(exc), str(exc)
        return None


BASE_SPACES = [space_to_dict(get_space(n)) for n in ("AnyNetXA", "AnyNetXE", "RegNetX")]


# ------------------------------------------------------------------------------ the tests
@FUZZ
@given(
    data=st.data(), base=st.sampled_from(BASE_SPACES), suffix=st.sampled_from([".yaml", ".toml"])
)
def test_space_files(data, base, suffix):
    doc = mutate(base, data)
    text = yaml.safe_dump(doc, sort_keys=False) if suffix == ".yaml" else to_toml(doc)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"space{suffix}"
        path.write_bytes(mangle(text, data))
        code, _ = run_cli(["spaces", str(path)], Path(tmp))
        if code == 0:  # a space that loads also samples (or refuses in one line)
            out = Path(tmp) / "out" / "s.csv"
            out.parent.mkdir()
            args = ["sample", "--space", str(path), "-n", "2", "-o", str(out)]
            run_cli([*args, "--max-draws", "300"], Path(tmp), out.parent)


STUDY = {
    "name": "fuzz",
    "description": "a fuzzed study",
    "spaces": ["AnyNetXA", "AnyNetXE"],
    "n": 4,
    "seed": 0,
    "regime": "fashion-mnist",
    "reference": "AnyNetXA",
    "out": "runs/fuzz",
    "train": {"dataset": "fashion-mnist", "epochs": 1, "subset": 256, "batch_size": 64, "lr": 0.1},
    "placement": {"cpus_per_trial": 1},
}


@FUZZ
@given(data=st.data())
def test_study_files(data):
    from designspace.studies.study import load_study

    doc = mutate(STUDY, data)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exp" / "study.toml"
        path.parent.mkdir()
        path.write_bytes(mangle(to_toml(doc), data))
        before = snapshot([Path(tmp)])
        study = one_line(load_study, path)
        if study is not None:  # its training settings are checked as completely
            hypothesis.event(
                f"train settings {'ok' if one_line(study.train_config) else 'refused'}"
            )
        hypothesis.event(f"study {'read' if study is not None else 'refused'}")
        assert snapshot([Path(tmp)]) == before


NDS_BASES = [anynet_record(1), anynet_record(2, diverged=True), cifar_record(0, 1)]


@FUZZ
@given(data=st.data(), base=st.sampled_from(NDS_BASES), grouped=st.booleans())
def test_nds_records(data, base, grouped):
    from designspace.analysis.load import load_results

    records = [mutate(base, data)]
    doc = {"top": records} if grouped else records
    text = json.dumps(doc, allow_nan=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Fuzz_in.json"
        path.write_bytes(mangle(text, data))
        out = Path(tmp) / "out"
        code, _ = run_cli(["import", "nds", str(path), "--out", str(out)], Path(tmp), out)
        if code == 0:  # what an import writes, the analysis reads: every value in range
            frame = load_results(out)
            assert len(frame) == 1
        else:
            assert not out.exists()


RESULTS = make_results(("AnyNetXA", "AnyNetXB"), n=12, seed=5).drop(
    columns=["widths", "depths", "bottleneck_ratios", "group_widths", "strides"]
)
RESULT_COLUMNS = ["val_top1_err", "flops", "params", "status", "space", "depth", "w1"]
CELLS = st.one_of(
    NUMBERS, st.none(), st.sampled_from(["ok", "failed", "diverged", "", "36.5%", "AnyNetXA"])
)


@FUZZ
@given(
    data=st.data(),
    edits=st.lists(
        st.tuples(st.integers(0, len(RESULTS) - 1), st.sampled_from(RESULT_COLUMNS), CELLS),
        max_size=6,
    ),
    percent=st.booleans(),
)
def test_results_tables(data, edits, percent):
    frame = RESULTS.copy().astype({c: object for c in RESULT_COLUMNS})
    if percent:
        frame["val_top1_err"] = frame["val_top1_err"] * 100
    for row, column, value in edits:
        frame.at[row, column] = value
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.csv"
        path.write_bytes(mangle(frame.to_csv(index=False), data))
        out = Path(tmp) / "plots" / "edf.png"
        code, _ = run_cli(["plot", "edf", str(path), "-o", str(out)], Path(tmp), out.parent)
        assert out.exists() == (code == 0)
        if percent and code == 0:
            pytest.fail("errors given in percent were accepted")
