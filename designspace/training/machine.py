"""What machine a figure was measured on: CPU model, core count and the SIMD flags that change
CPU speed (AVX-512 vs AVX2 only), read from /proc/cpuinfo. Pure Python (no torch)."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def cpu_info() -> dict[str, Any]:
    """CPU model name, ``cpus`` (os.cpu_count()) and whether the avx512f / avx2 flags are
    present; the flags are None where /proc/cpuinfo cannot be read (not Linux)."""
    model, flags = None, None
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
    return {
        "model": model or platform.processor() or platform.machine(),
        "avx512f": None if flags is None else "avx512f" in flags,
        "avx2": None if flags is None else "avx2" in flags,
        "cpus": os.cpu_count(),
    }


def describe_cpu(info: dict[str, Any] | None = None) -> str:
    """One line: "AMD EPYC, 2 cores, avx512f avx2" (flags listed when present)."""
    info = info or cpu_info()
    flags = " ".join(f for f in ("avx512f", "avx2") if info.get(f))
    return f"{info['model']}, {info['cpus']} cores" + (f", {flags}" if flags else "")
