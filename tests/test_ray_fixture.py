import ray


def test_cluster_has_sandbox_resource(ray_address: str) -> None:
    assert ray.cluster_resources().get("sandbox") == 2
