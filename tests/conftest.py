"""Session-wide fixtures: environment for offline tools and one Ray cluster per test session."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

# Offline machine: tools must not wait for the network.
os.environ.setdefault("SEMGREP_ENABLE_VERSION_CHECK", "0")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """Address of the Ray cluster of this test session.

    Uses ``DCODER_RAY_ADDRESS`` when set; otherwise starts one local cluster (2 CPUs, a ``sandbox``
    resource) inside this process, once, and shuts it down at the end of the session.
    """
    import ray

    external = os.environ.get("DCODER_RAY_ADDRESS")
    if external:
        ray.init(address=external, namespace="dcoder-test", log_to_driver=False)
        yield external
        ray.shutdown()
        return
    temp_dir = tempfile.mkdtemp(prefix="rayt", dir="/tmp")
    context = ray.init(
        num_cpus=2,
        resources={"sandbox": 2},
        include_dashboard=False,
        namespace="dcoder-test",
        log_to_driver=False,
        _temp_dir=temp_dir,
        _node_ip_address="127.0.0.1",
    )
    yield context.address_info["address"]
    ray.shutdown()
