"""Shared fixtures. Ray starts at most once per test session, and only when a test asks for it."""

from __future__ import annotations

import os

import pytest

# Before anything imports ray: no usage reporting from tests.
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray instance (2 CPUs, no dashboard, small object store) for every test that
    needs one; started by the first such test, shut down at the end of the session.

    Ray costs about 5 s and 700 MB to start, so tests share this one. Code under test that
    calls ``ray.init`` itself (a CLI subprocess, a ``ray.cluster_utils.Cluster``) must run in
    a subprocess so it does not meet this instance.
    """
    import ray

    started = False
    if not ray.is_initialized():
        ray.init(
            num_cpus=2,
            num_gpus=0,
            include_dashboard=False,
            object_store_memory=200 * 2**20,
            log_to_driver=False,
            logging_level="ERROR",
        )
        started = True
    yield ray
    if started:
        ray.shutdown()
