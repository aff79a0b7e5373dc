"""Signals at random moments of a sweep (issue 20): SIGINT and SIGTERM sent to the driver of a
tiny local sweep and a tiny Ray sweep, ``--count`` times each; every interrupted sweep is
resumed, and every run must end with the rows of an uninterrupted sweep, no temporary or stray
file, no process left, and an exit code that names the signal (130 SIGINT, 143 SIGTERM; 0 when
the sweep had finished before the signal landed).

    .venv/bin/python experiments/signal_stress.py --count 20
    .venv/bin/python experiments/signal_stress.py --count 5 --executors local

Writes ``results/signal-stress/summary.md`` (one row per executor and signal) and
``results/signal-stress/runs.csv`` (one row per run). Outside the test suite: it takes minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "signal-stress"
TINY = ["--space", "AnyNetXA", "-n", "4", "--regime", "fashion-mnist", "--stem", "small",
        "--subset", "256", "--val-subset", "100", "--batch-size", "32", "--max-steps", "5",
        "--no-progress", "--cpus-per-trial", "1", "--max-concurrent", "2"]  # fmt: skip
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
EXPECTED = {signal.SIGINT: 130, signal.SIGTERM: 143}


def command(out: Path, executor: str) -> list[str]:
    return [sys.executable, "-m", "designspace", "sweep", *TINY, "--out", str(out),
            "--executor", executor]  # fmt: skip


def keys(out: Path) -> list[tuple]:
    frame = pd.read_parquet(out / "results", columns=["space", "sample_index", "arch_id"])
    return sorted(zip(frame.space, frame.sample_index, frame.arch_id, strict=True))


def stray(out: Path) -> list[str]:
    """Temporary files, staging folders or a lock left in the sweep's folder."""
    return sorted(
        str(p.relative_to(out)) for p in out.rglob("*") if p.name.startswith(".") or "tmp" in p.name
    )


def one_run(out: Path, executor: str, sig: signal.Signals, delay: float) -> dict:
    """Start a sweep, send ``sig`` to its driver after ``delay`` s, wait, resume, check."""
    proc = subprocess.Popen(command(out, executor), env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    time.sleep(delay)
    family = []
    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        pass
    sent = proc.poll() is None
    if sent:
        os.kill(proc.pid, sig)
    ignored = False
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:  # the first signal did not stop it
        ignored = True
        os.kill(proc.pid, sig)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait()
    err = proc.stderr.read().decode(errors="replace")
    _, alive = psutil.wait_procs(family, timeout=30)
    left = stray(out) if out.exists() else []
    resumed = subprocess.run(command(out, executor), env=ENV, capture_output=True, text=True)
    return {
        "executor": executor,
        "signal": sig.name,
        "delay_s": round(delay, 2),
        "sent": sent,
        "exit": code,
        # 128 + n from the command; -n: killed by the signal before the command had started
        # (Python's own exit for an uncaught KeyboardInterrupt; nothing was written yet)
        "code_ok": code in ((EXPECTED[sig], -sig, 0) if sent else (0,)),
        "first_signal_honoured": not ignored,
        "traceback": "Traceback" in err,
        "stray_after_signal": ";".join(left),
        "orphans": len(alive),
        "resume_exit": resumed.returncode,
        "rows": keys(out) if (out / "results").exists() else [],
        "stray_after_resume": ";".join(stray(out)),
        # what went wrong, when something did: the last lines of each command's stderr
        "stderr_tail": _tail(err) if "Traceback" in err or code not in EXPECTED.values() else "",
        "resume_stderr_tail": _tail(resumed.stderr) if resumed.returncode else "",
    }


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20, help="runs per executor and signal")
    ap.add_argument("--executors", nargs="+", default=["local", "ray"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--summary-only", action="store_true",
                    help="rewrite summary.md from runs.csv, run nothing")  # fmt: skip
    args = ap.parse_args()
    if args.summary_only:
        write_summary(pd.read_csv(OUT / "runs.csv"), args)
        return
    rng = random.Random(args.seed)
    commit = _commit()  # the code the runs exercise: recorded before they start
    scratch = Path(tempfile.mkdtemp(prefix="signal-stress-"))
    rows = []
    try:
        for executor in args.executors:
            ref = scratch / f"ref-{executor}"
            start = time.monotonic()
            r = subprocess.run(command(ref, executor), env=ENV, capture_output=True, text=True)
            took = time.monotonic() - start
            assert r.returncode == 0, r.stderr
            want = keys(ref)
            print(f"{executor}: reference sweep {took:.1f} s, {len(want)} rows", flush=True)
            for i in range(args.count):
                for sig in (signal.SIGINT, signal.SIGTERM):
                    out = scratch / f"{executor}-{sig.name}-{i}"
                    row = one_run(out, executor, sig, rng.uniform(0.2, 0.8 * took))
                    row["same_rows"] = row.pop("rows") == want
                    rows.append(row)
                    print(row, flush=True)
                    shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    frame = pd.DataFrame(rows).assign(seed=args.seed, commit=commit)
    OUT.mkdir(parents=True, exist_ok=True)
    if (OUT / "runs.csv").exists():  # keep the other executors' rows of an earlier run
        earlier = pd.read_csv(OUT / "runs.csv")
        earlier = earlier[~earlier["executor"].isin(args.executors)]
        frame = pd.concat([earlier, frame], ignore_index=True)
    frame.to_csv(OUT / "runs.csv", index=False)
    write_summary(frame, args)


def _provenance(executor: str, runs: pd.DataFrame) -> str:
    """ "ray: seed 3, code 1a2b3c4" for the runs of one executor (rows of a run before the
    columns existed: seed 7, the code before b88b254)."""
    seed = runs["seed"].dropna() if "seed" in runs else pd.Series(dtype=float)
    commit = runs["commit"].dropna() if "commit" in runs else pd.Series(dtype=object)
    return (
        f"{executor}: seed {int(seed.iloc[0]) if len(seed) else 7}, code "
        f"{commit.iloc[0] if len(commit) else 'before b88b254'}"
    )


def _commit() -> str:
    """The code the runs exercised: the repository's commit (``+dirty`` with local changes)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    dirty = subprocess.run(["git", "status", "--porcelain", "designspace"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return head + ("+dirty" if dirty else "")


def write_summary(frame: pd.DataFrame, args: argparse.Namespace) -> None:
    # runs.csv read back gives NaN for the empty strings of the text columns
    text = ["stray_after_signal", "stray_after_resume", "stderr_tail", "resume_stderr_tail"]
    frame = frame.assign(**{c: frame[c].fillna("") for c in text if c in frame})
    lines = [
        "# Signals during a sweep: SIGINT and SIGTERM at random moments",
        "",
        "`experiments/signal_stress.py --count N --executors E --seed S` ("
        + "; ".join(_provenance(ex, g) for ex, g in frame.groupby("executor", sort=False))
        + "): a 4-model Fashion-MNIST sweep (5 steps a model, 2 at "
        "once), the signal sent to the driver at a uniform random moment of the first 80% of "
        "a reference sweep's duration, then the same command again to resume. Expected exit: "
        "130 for SIGINT, 143 for SIGTERM; 0 when the sweep had finished first; -2 / -15 "
        "(killed by the signal) when it arrived while Python was still starting, before the "
        "command ran (nothing written yet). 'no process left': every process the driver had "
        "started when signalled was gone 30 s later.",
        "",
        "| executor | signal | runs | signalled | exit codes | expected exit | "
        "first signal honoured | "
        "no traceback | no stray file after the signal | no process left | resumed (exit 0) | "
        "same rows as uninterrupted | nothing stray after resume |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (ex, sig), g in frame.groupby(["executor", "signal"], sort=False):
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(g.exit.value_counts().items()))
        lines.append(
            f"| {ex} | {sig} | {len(g)} | {int(g.sent.sum())} | {codes} | {int(g.code_ok.sum())} | "
            f"{int(g.first_signal_honoured.sum())} | {int((~g.traceback).sum())} | "
            f"{int((g.stray_after_signal == '').sum())} | {int((g.orphans == 0).sum())} | "
            f"{int((g.resume_exit == 0).sum())} | {int(g.same_rows.sum())} | "
            f"{int((g.stray_after_resume == '').sum())} |"
        )
    small = frame.groupby(["executor", "signal"]).size()
    if (small < 20).any():
        lines += ["", "Reduced run: fewer than 20 runs per executor and signal (time)."]
    if "stderr_tail" in frame:
        failed = frame[frame["stderr_tail"].fillna("") != ""]
        lines += ["", "Stderr of the runs that printed a traceback or exited unexpectedly:", ""]
        lines += [
            f"- {r.executor} {r.signal} (exit {r.exit}): {r.stderr_tail}"
            for r in failed.itertuples()
        ] or ["- none"]
    (OUT / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
