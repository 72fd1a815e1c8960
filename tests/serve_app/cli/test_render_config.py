"""The Serve config `up` deploys: on a local head the ingress replicas fit the machine's CPUs."""

from __future__ import annotations

from typing import Any

import pytest

from core.settings import RaySettings, Settings
from serve_app.launcher.deploy import local_max_replicas, render_config


def _ingress(config: dict[str, Any]) -> dict[str, Any]:
    [app] = config["applications"]
    [ingress] = [d for d in app["deployments"] if d["name"] == "Ingress"]
    return ingress["autoscaling_config"]


@pytest.mark.parametrize(("cpus", "want"), [(1, 1), (2, 1), (3, 1), (4, 2), (8, 4), (64, 4)])
def test_a_local_head_gets_one_ingress_replica_per_two_cpus(cpus: int, want: int) -> None:
    settings = Settings(ray=RaySettings(num_cpus=cpus))
    scaling = _ingress(render_config(settings))
    assert scaling["max_replicas"] == want  # configs/serve.yaml's 4 is the ceiling
    assert scaling["min_replicas"] == 1
    assert local_max_replicas(cpus) == max(1, cpus // 2)


def test_an_external_cluster_keeps_the_configured_bound() -> None:
    settings = Settings(ray=RaySettings(address="ray://cluster:10001", num_cpus=2))
    assert _ingress(render_config(settings))["max_replicas"] == 4
