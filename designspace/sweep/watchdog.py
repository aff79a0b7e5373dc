"""Ends a local Ray when its driver dies, also when the driver is killed with SIGKILL.

``python -m designspace.sweep.watchdog DRIVER_PID`` runs beside a driver that started a local
Ray. Every half second it remembers the driver's descendant processes (the Ray processes:
GCS server, raylet, agents, workers); when the driver is gone it kills those that remain, and
their descendants, then exits. The driver stops the watchdog itself after a normal
``ray.shutdown()``. Uses psutil (a dependency of ray).
"""

from __future__ import annotations

import os
import sys
import time

_POLL_S = 0.5


def _descendants(proc) -> list:
    import psutil

    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []


def _kill_all(procs: dict) -> None:
    import psutil

    # Children of the remembered processes that appeared since the last look, too.
    everything = dict(procs)
    for p in list(procs.values()):
        for c in _descendants(p):
            everything.setdefault(c.pid, c)
    for p in everything.values():
        try:
            if p.is_running():
                p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(list(everything.values()), timeout=3)


def watch(driver_pid: int) -> None:
    """Watch ``driver_pid`` until it exits, then kill every process it left behind."""
    import psutil

    me = os.getpid()
    try:
        driver = psutil.Process(driver_pid)
        created = driver.create_time()
    except psutil.Error:
        return
    remembered: dict[int, psutil.Process] = {}
    while True:
        try:
            alive = driver.is_running() and driver.create_time() == created
            if alive and driver.status() == psutil.STATUS_ZOMBIE:
                alive = False
        except psutil.Error:
            alive = False
        if not alive:
            _kill_all({pid: p for pid, p in remembered.items() if pid != me})
            return
        for p in _descendants(driver):
            if p.pid != me:
                remembered.setdefault(p.pid, p)
        remembered = {pid: p for pid, p in remembered.items() if p.is_running()}
        time.sleep(_POLL_S)


if __name__ == "__main__":
    watch(int(sys.argv[1]))
