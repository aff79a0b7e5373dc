"""What machine a figure was measured on: CPU model, core count, clock and the SIMD flags that
change CPU speed (AVX-512 vs AVX2 only, native bf16: avx512_bf16 or AMX), read from
/proc/cpuinfo, and the fp32 peak those imply. Pure Python (no torch)."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

# Flags reported with every CPU figure, in this order.
SPEED_FLAGS = ("avx512f", "avx2", "avx512_bf16", "amx_bf16")
# fp32 flops per cycle and core: two 256-bit FMA pipes (8 lanes x 2 flops x 2) - also AMD's
# AVX-512, which runs 512-bit FMAs through those pipes in two halves; one 256-bit pipe's
# worth more for Intel server cores with two 512-bit FMA units is not assumed.
FP32_FLOPS_PER_CYCLE = {"avx512f": 32, "avx2": 32, None: 8}


def cpu_info() -> dict[str, Any]:
    """CPU model name, ``cpus`` (os.cpu_count()), ``mhz`` (the first core's current clock,
    None when unknown) and, per flag of :data:`SPEED_FLAGS`, whether it is present; the flags
    are None where /proc/cpuinfo cannot be read (not Linux)."""
    model, flags, mhz = None, None, None
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model is None:
            model = value.strip()
        elif key == "flags" and flags is None:
            flags = set(value.split())
        elif key == "cpu MHz" and mhz is None:
            try:
                mhz = float(value)
            except ValueError:
                pass
    info: dict[str, Any] = {
        "model": model or platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "mhz": mhz,
    }
    for flag in SPEED_FLAGS:
        info[flag] = None if flags is None else flag in flags
    return info


def fp32_peak_flops(info: dict[str, Any] | None = None) -> float | None:
    """The machine's fp32 peak in flop/s (2 flops per multiply-add): cores x clock x
    :data:`FP32_FLOPS_PER_CYCLE` of its widest vector unit; None when the clock is unknown.
    An estimate for a ratio (turbo clocks and FMA pipe counts vary by CPU), not a spec."""
    info = info or cpu_info()
    if not info.get("mhz") or not info.get("cpus"):
        return None
    widest = "avx512f" if info.get("avx512f") else "avx2" if info.get("avx2") else None
    return float(info["cpus"]) * float(info["mhz"]) * 1e6 * FP32_FLOPS_PER_CYCLE[widest]


def describe_cpu(info: dict[str, Any] | None = None) -> str:
    """One line: "AMD EPYC, 2 cores, avx512f avx2 avx512_bf16" (flags listed when present)."""
    info = info or cpu_info()
    flags = " ".join(f for f in SPEED_FLAGS if info.get(f))
    return f"{info['model']}, {info['cpus']} cores" + (f", {flags}" if flags else "")
