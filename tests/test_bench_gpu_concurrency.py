"""benchmarks/bench_gpu_concurrency.py: its CPU smoke run and its bookkeeping.

The smoke run (a subprocess, a few optimizer steps per trial, K = 1 and 2) must record every
model trained exactly once per setting, K = 2 trials that really overlapped in time, the JSON
fields the GPU run reports, and say that nothing was measured on a GPU.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_gpu_concurrency.py"


def _module():
    spec = importlib.util.spec_from_file_location("bench_gpu_concurrency", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


bench = _module()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("gpu-concurrency")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--cpu-smoke", "--data", "synthetic", "--models", "2"]
        + ["--plan", "1,2,mps2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "OUT": str(out), "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / bench.JSON_NAME).read_text()), out


def test_smoke_says_it_measured_nothing_on_a_gpu(smoke):
    report, out = smoke
    assert report["measured_on_gpu"] is False
    assert "nothing was measured on a GPU" in report["note"]
    assert report["target_met"] is False
    log = (out / bench.LOG_NAME).read_text()
    assert "nothing measured on a GPU" in log
    assert not any(line.startswith("RESULT") for line in log.splitlines())


def test_smoke_trains_every_model_exactly_once_per_setting(smoke):
    report, _ = smoke
    assert [s["k"] for s in report["settings"]] == [1, 2]
    pool_ids = [m["id"] for m in report["models"]]
    assert pool_ids == list(range(len(pool_ids)))
    for s in report["settings"]:
        assert s["status"] == "done"
        ids = sorted(t["id"] for t in s["trials"])
        assert ids == list(range(s["n_models"])), (s["k"], ids)
        assert all(t["status"] == "ok" for t in s["trials"])
        assert s["n_completed"] == s["n_models"]
        assert sum(w["trials"] for w in s["workers"]) == s["n_models"]
    assert report["settings"][0]["n_models"] == 2  # --models 2
    assert report["settings"][1]["n_models"] == 4  # models_per_worker 2 x K 2


def test_smoke_k2_workers_ran_at_the_same_time(smoke):
    report, _ = smoke
    s = report["settings"][1]
    assert len({t["worker"] for t in s["trials"]}) == 2
    assert len({w["pid"] for w in s["workers"]}) == 2
    overlapping = [
        (a["id"], b["id"])
        for a in s["trials"]
        for b in s["trials"]
        if a["worker"] < b["worker"] and a["start"] < b["end"] and b["start"] < a["end"]
    ]
    assert overlapping, s["trials"]
    assert s["max_concurrent"] == 2
    assert report["settings"][0]["max_concurrent"] == 1
    # the rate is trials over the steady interval, as documented
    assert s["models_per_hour"] == pytest.approx(3600 * s["n_completed"] / s["steady_s"])
    # a worker's own busy span is never longer than the setting's: the busy rate is >= the rate
    assert s["models_per_hour_busy"] >= s["models_per_hour"] * (1 - 1e-9)
    for w in s["workers"]:
        assert Path(w["designspace"]) == ROOT / "designspace"  # this tree's package


def test_smoke_reports_the_figures_the_gpu_run_needs(smoke):
    report, _ = smoke
    assert report["ray_imported"] is False
    assert report["device"]["torch"]
    assert report["data_source"] == "synthetic"
    spaces = {(m["space"], m["regime"]) for m in report["models"]}
    assert len(spaces) == len(report["models"])  # a prefix of the round-robin: all distinct
    base, two = report["settings"]
    assert base["ratio_to_baseline"] == pytest.approx(1.0)
    assert two["ratio_to_baseline"] == pytest.approx(
        two["models_per_hour"] / base["models_per_hour"]
    )
    for s in report["settings"]:
        assert s["share"] == pytest.approx(1 / s["k"])
        assert s["peak_memory_mb_max"] > 0
        assert s["startup_s"] >= 0 and s["steady_s"] > 0
    rec = report["recommendation"]
    assert rec["k"] in (1, 2) and rec["share"] == pytest.approx(1 / rec["k"])
    assert "within 10%" in rec["reasoning"]
    assert report["recommendation_without_mps"]["mode"] == "processes"


def test_smoke_mps_setting_is_skipped_with_its_reason_when_mps_is_missing(smoke):
    report, _ = smoke
    if shutil.which("nvidia-cuda-mps-control") is not None:
        pytest.skip("this machine has MPS: the skip path is not reachable")
    assert report["skipped"] == [
        {"setting": "mps2", "k": 2, "reason": "no MPS: nvidia-cuda-mps-control not found"}
    ]
    assert "mps" not in {s["mode"] for s in report["settings"]}


def test_model_pool_is_a_balanced_prefix_stable_mix():
    small, big = bench.model_pool(3), bench.model_pool(14)
    assert [m["arch"] for m in small] == [m["arch"] for m in big[:3]]
    combos = [(m["regime"], m["space"]) for m in big[:12]]
    assert len(set(combos)) == 12
    assert {m["regime"] for m in big} == set(bench.REGIMES)
    assert all(3.6 <= m["mflops"] <= 4.0 for m in big)


def test_max_overlap_counts_simultaneous_intervals():
    assert bench.max_overlap([]) == 0
    assert bench.max_overlap([(0, 1), (1, 2)]) == 1  # touching, not overlapping
    assert bench.max_overlap([(0, 3), (1, 2), (1.5, 4), (3.5, 5)]) == 3


def test_recommendation_takes_the_fewest_trials_within_ten_percent():
    def setting(k, rate, status="done"):
        return {"k": k, "models_per_hour": rate, "status": status, "peak_memory_mb_max": 100.0}

    rec = bench.recommend([setting(1, 100), setting(4, 700), setting(8, 950), setting(16, 1000)])
    assert (rec["k"], rec["best_k"]) == (8, 16)
    assert rec["share"] == pytest.approx(1 / 8)
    assert "largest K tried" in rec["reasoning"]
    # a cut setting does not count, however fast it looked
    rec = bench.recommend([setting(1, 100), setting(2, 300), setting(4, 5000, "cut")])
    assert rec["k"] == 2
    assert bench.recommend([])["share"] is None


def test_budget_estimate_uses_best_rate_and_slowest_startup():
    assert bench.estimate_s([], 10) is None
    settings = [
        {"models_per_hour": 3600.0, "startup_s": 2.0},
        {"models_per_hour": 7200.0, "startup_s": 5.0},
    ]
    assert bench.estimate_s(settings, 10) == pytest.approx(5.0 + 10 / 2.0)


def test_sampler_parses_and_windows_its_samples():
    stamp = "2026/12/01 22:05:47.250"
    epoch = datetime(2026, 12, 1, 22, 5, 47, 250000).timestamp()
    assert bench.parse_smi_line(f"{stamp}, 37, 1234") == (pytest.approx(epoch), 37.0, 1234.0)
    assert bench.parse_smi_line("not a time, 37, 1234") == (None, 37.0, 1234.0)
    assert bench.parse_smi_line(f"{stamp}, [N/A], 12") is None
    assert bench.parse_smi_line("timestamp, utilization.gpu [%], memory.used [MiB]") is None
    now = datetime.now().strftime("%Y/%m/%d %H:%M:%S.%f")[:-3]
    lines = [f"{now}, 10, 100", "bad", f"{now}, 30, 300", "2001/01/01 00:00:00.000, 99, 999"]
    fake = [sys.executable, "-c", f"print({chr(10).join(lines)!r})"]
    sampler = bench.GpuSampler(command=fake)
    sampler.thread.join(timeout=30)
    sampler.stop()
    assert len(sampler.samples) == 3
    # nvidia-smi's own timestamps place the samples: the two of now, not the one of 2001
    got = sampler.window(time.monotonic() - 60, time.monotonic() + 60)
    assert got["gpu_util_mean"] == pytest.approx(20.0)
    assert (got["gpu_util_max"], got["gpu_mem_used_max_mb"], got["gpu_samples"]) == (30, 300, 2)
    assert sampler.window(-2.0, -1.0)["gpu_util_mean"] is None
    assert sampler.first_memory() == 100.0


def test_summary_counts_only_finished_trials_and_both_rates():
    def trial(i, worker, start, end, status="ok"):
        return {
            "id": i,
            "worker": worker,
            "start": start,
            "end": end,
            "status": status,
            "train_s": end - start - 0.5,
            "peak_memory_mb": 100.0 + i,
            "val_top1_err": 0.2,
        }

    trials = [
        trial(0, 0, 10, 12),
        trial(1, 1, 10, 13),
        trial(2, 0, 12, 14),
        trial(3, 1, 13, 20, "failed"),
    ]
    got = bench.summarize({"trials": trials, "go": 10.0, "launched": 8.0})
    assert (got["n_trials"], got["n_completed"], got["n_ok"]) == (4, 3, 3)
    assert got["steady_s"] == 10.0 and got["startup_s"] == 2.0
    assert got["models_per_hour"] == pytest.approx(3600 * 3 / 10)
    assert got["models_per_hour_busy"] == pytest.approx(3600 * 3 / ((4 + 10) / 2))
    assert got["models_per_hour_e2e"] == pytest.approx(3600 * 3 / 12)
    assert got["max_concurrent"] == 2
    assert got["peak_memory_mb_max"] == 102.0
    nothing = bench.summarize({"trials": [], "go": None, "launched": 8.0})
    assert nothing["models_per_hour"] is None and nothing["startup_s"] is None
