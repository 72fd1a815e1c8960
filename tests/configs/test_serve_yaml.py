"""configs/serve.yaml is a valid Serve config whose builder and args build the application."""

from __future__ import annotations

import importlib

import yaml
from ray.serve.schema import ServeDeploySchema

from core.paths import CONFIGS_DIR
from serve_app.app import AppArgs, UserConfig


def _config() -> dict:
    return yaml.safe_load((CONFIGS_DIR / "serve.yaml").read_text())


def test_schema_valid() -> None:
    schema = ServeDeploySchema.model_validate(_config())
    assert [app.name for app in schema.applications] == ["dcoder"]
    assert schema.http_options.port == 8085


def test_builder_args_and_user_config_validate() -> None:
    app = _config()["applications"][0]
    module, attr = app["import_path"].split(":")
    builder = getattr(importlib.import_module(module), attr)
    assert builder(AppArgs.model_validate(app["args"])) is not None
    ingress = app["deployments"][0]
    UserConfig.model_validate(ingress["user_config"])
    assert ingress["autoscaling_config"]["min_replicas"] >= 1
    assert ingress["ray_actor_options"]["num_cpus"] < 1
