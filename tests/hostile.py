"""The harness of the hostile-input corpus: run the CLI as a user would and check its promise.

The promise (README, "bad input"): one line on stderr, exit code 2, no traceback, and no file
that existed before the command is changed, removed or rewritten. :func:`refused` runs one case
in a subprocess, hashes every file under the watched folders before and after, and asserts all
of that; it returns the message so a test can also check what it says.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from designspace.feedback import PROGRESS_LINE


def snapshot(roots: Iterable[Path]) -> dict[str, str]:
    """SHA-256 of every file below ``roots`` (and of files named directly), keyed by path;
    folders are listed with the value ``"dir"`` so that a created or removed folder shows too."""
    state: dict[str, str] = {}
    for root in map(Path, roots):
        if root.is_file():
            state[str(root)] = hashlib.sha256(root.read_bytes()).hexdigest()
            continue
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file():
                state[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            elif path.is_dir():
                state[str(path)] = "dir"
    return state


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``python -m designspace ARGS`` in a subprocess; returns the process and its wall time
    in seconds."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "designspace", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **(env or {})},
        stdin=subprocess.DEVNULL,
    )
    return proc, time.perf_counter() - start


def refused(
    *args: str,
    watch: Iterable[Path] = (),
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> str:
    """Run one hostile case and assert the promise: exit code 2, exactly one non-empty line on
    stderr after any progress lines, no traceback, and every file and folder under ``watch``
    unchanged (none created, removed or rewritten). Returns the error line."""
    watch = [Path(w) for w in watch]
    before = snapshot(watch)
    proc, _ = run_cli(*args, cwd=cwd, env=env, timeout=timeout)
    after = snapshot(watch)
    # progress lines (designspace.feedback: "analyze: reading X (0.0 s)") may come first
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    while len(lines) > 1 and PROGRESS_LINE.match(lines[0]):
        lines.pop(0)
    case = " ".join(args)
    assert proc.returncode == 2, f"{case}: exit {proc.returncode}\n{proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr, f"{case}: traceback\n{proc.stderr[-2000:]}"
    assert len(lines) == 1, f"{case}: expected one line on stderr, got {len(lines)}:\n{proc.stderr}"
    changed = sorted(set(before) ^ set(after) | {k for k in before if after.get(k) != before[k]})
    assert not changed, f"{case}: files changed: {changed[:10]}"
    return lines[0]
