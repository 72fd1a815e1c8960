"""cluster.yaml satisfies the Ray cluster launcher's own schema and our scheduling contract."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import ray.autoscaler
import yaml

from core.paths import PROJECT_ROOT


def _cluster() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "cluster.yaml").read_text())


def test_valid_against_the_launcher_schema() -> None:
    schema_path = Path(ray.autoscaler.__file__).parent / "ray-schema.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.validate(_cluster(), schema)


def test_head_and_two_worker_types_with_sandbox_resource() -> None:
    cluster = _cluster()
    types = cluster["available_node_types"]
    assert cluster["head_node_type"] in types
    workers = {name: t for name, t in types.items() if name != cluster["head_node_type"]}
    assert set(workers) == {"general", "sandbox"}
    assert workers["sandbox"]["resources"]["sandbox"] >= 1
    assert "sandbox" not in workers["general"]["resources"]
    for node_type in workers.values():
        assert 0 <= node_type["min_workers"] <= node_type["max_workers"] <= cluster["max_workers"]


def test_firewall_note_matches_rays_replica_grpc_bind() -> None:
    # Ray binds each replica's inter-deployment gRPC server to all interfaces; cluster.yaml, README
    # and docs/performance.md tell a deployment which firewall rule that needs. If Ray changes the
    # bind, this fails so the note gets revisited.
    import inspect

    from ray.serve._private import replica

    assert 'add_port_to_grpc_server(self._server, "[::]:0")' in inspect.getsource(replica)
    text = (PROJECT_ROOT / "cluster.yaml").read_text()
    assert "internal gRPC server listens on all interfaces" in text
    assert "replica's internal gRPC" in (PROJECT_ROOT / "README.md").read_text()


def test_ray_starts_as_up_starts_it_workers_niceness_and_metrics() -> None:
    from serve_app.launcher.ray_head import RAY_ENV

    cluster = _cluster()
    starts = [c for c in cluster["head_start_ray_commands"] + cluster["worker_start_ray_commands"]
              if "ray start" in c]  # fmt: skip
    assert len(starts) == 2
    for command in starts:
        for name in ("RAY_worker_niceness", "RAY_enable_metrics_collection"):
            assert f"{name}={RAY_ENV[name]} " in command, (name, command)
