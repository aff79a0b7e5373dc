"""The ray executor: trials through Ray Tune, on a local Ray or on a running cluster.

Owns its options (:class:`RayOptions`: ``--address``, ``--object-store-memory``), its probe (ray
installed; a cluster address that accepts connections) and its placement rules (a local Ray
offers this machine's CPUs and GPUs, known before it starts; a cluster's are known once
joined). Importing this module does not import ray: the Tune run and the Ray connection live
in :mod:`designspace.sweep.ray_tune`, imported when a sweep connects.
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from designspace.errors import DesignSpaceError
from designspace.sweep.config import Placement
from designspace.sweep.executor import BaseExecutor, Job, Recorder
from designspace.sweep.options import ExecutorOptions, option


@dataclass(frozen=True)
class RayOptions(ExecutorOptions):
    """Options of the ray executor. ``address``: None starts a local Ray bound to 127.0.0.1
    (or uses the one already initialized in this process); ``"auto"`` or ``"HOST:PORT"``
    joins a running cluster. ``object_store_memory`` (bytes) sizes a local Ray's object store
    (None: 5% of memory, between 256 MiB and 2 GiB)."""

    address: str | None = option(
        None,
        "join a running Ray cluster (default: start a local Ray on 127.0.0.1)",
        metavar="auto|HOST:PORT",
    )
    object_store_memory: int | None = option(
        None,
        "bytes of a local Ray's object store (default: 5% of memory, 256 MiB to 2 GiB)",
        metavar="BYTES",
        low=1,
    )

    def check(self) -> None:
        """``address`` is ``auto``, ``ray://...`` or ``HOST:PORT``."""
        a = self.address
        if a is not None and a != "auto" and "://" not in a:
            host, sep, port = a.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise DesignSpaceError(f"--address must be auto or HOST:PORT, got {a!r}")


class RayExecutor(BaseExecutor):
    """Trials through Ray Tune; see :mod:`designspace.sweep.ray_tune`."""

    name = "ray"
    Options = RayOptions
    summary = "Ray Tune; a local Ray bound to 127.0.0.1, or a cluster with --address"

    @classmethod
    def unavailable(cls, placement: Placement) -> str | None:
        """Ray not installed, or a ``HOST:PORT`` cluster that accepts no connection in 5 s."""
        if importlib.util.find_spec("ray") is None:
            return (
                "the ray executor needs Ray, which is not installed; pip install 'ray[tune]' "
                "or use --executor local"
            )
        address = placement.options.address
        return None if address is None else address_problem(address)

    @classmethod
    def planned_resources(cls, placement: Placement) -> Mapping[str, float] | None:
        """This machine's resources for a local Ray; None for a cluster (known once joined)."""
        if placement.options.address is not None:
            return None
        return super().planned_resources(placement)

    def connect(self, placement: Placement) -> contextlib.AbstractContextManager:
        """Connect to Ray for the duration of the block (see
        :func:`designspace.sweep.ray_tune.ray_connection`)."""
        from designspace.sweep.ray_tune import ray_connection

        return ray_connection(placement)

    def run(self, job: Job, recorder: Recorder) -> None:
        """One Tune run over the trials of ``job``."""
        from designspace.sweep.ray_tune import run_tune

        run_tune(job, recorder)


def address_problem(address: str) -> str | None:
    """None when a Ray cluster address ``HOST:PORT`` accepts a connection within 5 s (``auto``
    and ``ray://`` addresses are left to Ray), else the one-line reason."""
    if address == "auto" or "://" in address:
        return None
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=5):
            pass
    except OSError as exc:
        return (
            f"cannot reach a Ray cluster at {address} ({exc.strerror or exc}); start one with "
            f"'ray start --head' or check the address"
        )
    return None
