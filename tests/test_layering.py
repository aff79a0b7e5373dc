"""Layering of the package: no import cycles, and the pure core loads neither torch nor ray.

Import graph: every ``import designspace.x`` / ``from designspace.x import y`` in a module,
at module level, inside functions (a function-level import is still a dependency, only a
later one) and under ``if TYPE_CHECKING:`` (a type a module names is a dependency of its design,
even if it is never imported at run time). An import names the
module it imports (``designspace.a.b``), not its parent packages; ``from designspace.pkg import
name`` points at ``designspace.pkg.name`` when that is a module, else at the package itself.
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "designspace"
PACKAGE = "designspace"
HEAVY = ("torch", "ray")

# The pure core by design (README / docs/ARCHITECTURE.md): numpy and pandas at most.
PURE_MODULES = (
    "designspace",
    "designspace.errors",
    "designspace.version",
    "designspace.feedback",
    "designspace.training",
    "designspace.training.trainconfig",
    "designspace.training.machine",
    "designspace.training.schedule",
    "designspace.training.result",
)
# Whole packages that are pure: the design-space core, the file formats, the analysis library.
PURE_PACKAGES = ("core", "formats", "analysis")
# Sweep planning: the sweep package itself, its configuration and plan modules (plan*.py),
# which must work (dry run, resume) without torch or ray.
PURE_SWEEP_NAMES = ("__init__", "config")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def pure_modules() -> list[str]:
    """The pure core that exists in this tree: the listed modules, every module of the pure
    packages, and the sweep planning modules."""
    mods = all_modules()
    names = [m for m in PURE_MODULES if m in mods]
    for pkg in PURE_PACKAGES:
        names += [m for m in mods if m == f"{PACKAGE}.{pkg}" or m.startswith(f"{PACKAGE}.{pkg}.")]
    sweep = ROOT / "sweep"
    if sweep.is_dir():
        planning = [p for p in sweep.glob("*.py") if p.stem.startswith("plan")]
        planning += [sweep / f"{n}.py" for n in PURE_SWEEP_NAMES if (sweep / f"{n}.py").exists()]
        names += sorted({_module_name(p) for p in planning})
    return names


def _imports(tree: ast.AST, this: str, is_package: bool, modules: set[str]) -> set[str]:
    """designspace modules imported anywhere in ``tree`` (see the module docstring)."""
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    out.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = this.split(".") if is_package else this.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == PACKAGE:
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    out.add(sub if sub in modules else target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    out.discard(this)
    return out


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """module -> the designspace modules it imports."""
    mods = all_modules()
    names = set(mods)
    graph = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[name] = _imports(tree, name, path.name == "__init__.py", names) & names
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = dfs(node)
            if found:
                return found
    return None


def test_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_graph_sees_module_and_function_level_imports():
    code = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "import designspace.core.arch\n"
        "from designspace.core import regnet, __version__\n"
        "if TYPE_CHECKING:\n    from designspace.training.models import AnyNet\n"
        "def f():\n    from designspace.analysis import fit_regnet\n    from . import errors\n"
    )
    mods = set(all_modules())
    got = _imports(ast.parse(code), "designspace.x", False, mods)
    assert got == {
        "designspace.core.arch",
        "designspace.core.regnet",
        "designspace.core",
        "designspace.training.models",
        "designspace.analysis",
        "designspace.errors",
    }


def test_import_graph_has_no_cycle():
    graph = import_graph()
    assert (
        "designspace.core.arch" in graph
        and "designspace.core.blocks" in graph["designspace.core.arch"]
    )
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


# The layers, bottom up: each package (or top-level module) and the packages it may import.
# docs/ARCHITECTURE.md draws the same picture; every package's __init__ docstring states its line.
BASE = {"errors", "version", "feedback"}
LAYERS: dict[str, set[str]] = {
    "errors": set(),
    "version": set(),
    "feedback": set(),
    "core": BASE,
    "training": BASE | {"core"},
    "formats": BASE | {"core"},
    "analysis": BASE | {"core", "formats"},
    "sweep": BASE | {"core", "training", "formats"},
    "reporting": BASE | {"core", "formats", "analysis"},
    "studies": BASE | {"core", "training", "formats", "analysis", "sweep", "reporting"},
    # the facade (designspace/__init__.py) re-exports the core and loads the rest lazily by name
    "": BASE | {"core"},
    "commands": BASE
    | {"", "core", "training", "formats", "analysis", "sweep", "reporting", "studies"},
    "cli": BASE | {"commands"},
    "__main__": {"cli"},
}


def layer_of(module: str) -> str:
    """The layer a module belongs to: the first name below ``designspace`` ("" for the facade)."""
    parts = module.split(".")
    assert parts[0] == PACKAGE, module
    return parts[1] if len(parts) > 1 else ""


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that crosses layers against :data:`LAYERS` ("a -> b"), and every module in
    a layer the table does not know."""
    bad = []
    for module, deps in sorted(graph.items()):
        here = layer_of(module)
        if here not in LAYERS:
            bad.append(f"{module}: layer {here!r} is not in LAYERS")
            continue
        for dep in sorted(deps):
            there = layer_of(dep)
            if there != here and there not in LAYERS[here]:
                bad.append(f"{module} -> {dep}")
    return bad


def test_layer_table_is_acyclic():
    assert find_cycle({k: v - {k} for k, v in LAYERS.items()}) is None


def test_layer_check_catches_an_upward_import():
    graph = {
        "designspace.core.arch": {"designspace.errors", "designspace.training.models"},
        "designspace.training.models": {"designspace.core.arch"},
        "designspace.misc.thing": set(),
    }
    assert layer_violations(graph) == [
        "designspace.core.arch -> designspace.training.models",
        "designspace.misc.thing: layer 'misc' is not in LAYERS",
    ]


def test_every_import_follows_the_layers():
    graph = import_graph()
    assert {layer_of(m) for m in graph} == set(LAYERS), "a package is missing from LAYERS"
    bad = layer_violations(graph)
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


_PROBE = """
import importlib, json, sys
heavy = {heavy!r}
report = {{}}
for name in {names!r}:
    before = {{m for m in sys.modules if m.split(".")[0] in heavy}}
    importlib.import_module(name)
    after = {{m for m in sys.modules if m.split(".")[0] in heavy}}
    report[name] = sorted(after - before)
if {cli!r}:
    from designspace.cli import build_parser
    before = {{m for m in sys.modules if m.split(".")[0] in heavy}}
    build_parser()
    report["designspace.cli (every command's parser)"] = sorted(
        {{m for m in sys.modules if m.split(".")[0] in heavy}} - before
    )
print(json.dumps(report))
"""


def _heavy_imports(
    names: list[str], cli: bool = False, heavy: tuple[str, ...] = HEAVY, path: str | None = None
) -> dict[str, list[str]]:
    """name -> the ``heavy`` modules that importing it loaded (in one fresh interpreter, in
    order: a module imported by an earlier name is charged to that one)."""
    code = _PROBE.format(heavy=heavy, names=names, cli=cli)
    env = None
    if path:
        import os

        env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_probe_detects_a_transitive_heavy_import(tmp_path):
    # the check itself can fail: a stand-in heavy package imported two levels down is seen
    (tmp_path / "fakeheavy").mkdir()
    (tmp_path / "fakeheavy" / "__init__.py").write_text("")
    (tmp_path / "middle.py").write_text("import fakeheavy\n")
    (tmp_path / "top.py").write_text("import middle\n")
    (tmp_path / "clean.py").write_text("import json\n")
    report = _heavy_imports(["clean", "top"], heavy=("fakeheavy",), path=str(tmp_path))
    assert report == {"clean": [], "top": ["fakeheavy"]}


def test_pure_core_imports_neither_torch_nor_ray():
    names = pure_modules()
    assert {"designspace.core.arch", "designspace.core.blocks", "designspace.core.sampling"} <= set(
        names
    )
    assert any(n.startswith("designspace.analysis.") for n in names)
    report = _heavy_imports(names, cli=True)
    offenders = {name: mods[:5] for name, mods in report.items() if mods}
    assert not offenders, f"pure modules that load torch/ray (first import wins): {offenders}"


def test_every_listed_pure_module_exists():
    # a renamed module must not drop out of the purity check unnoticed
    missing = [m for m in PURE_MODULES if m not in all_modules()]
    assert not missing, f"PURE_MODULES names modules that do not exist: {missing}"
