"""What a tenant host process keeps per instance (token managers, last egress refusal) goes
with the instance when it is uninstalled, and with every instance of a deleted tenant."""

from __future__ import annotations

import pytest

from actors.host.services import HostServices
from core.settings import load_settings
from plugin_sdk.manifest import Manifest
from tests.conftest import TestServices

MANIFEST = Manifest.model_validate({
    "name": "token-probe", "version": "1.0.0", "sdk_api": ">=1.0,<2", "description": "probe",
    "auth": [{"kind": "personal_access_token"}],
})  # fmt: skip


@pytest.fixture
def svc(test_services: TestServices) -> HostServices:
    return HostServices.create(load_settings())


def _scopes(svc: HostServices) -> set[str]:
    return set(svc.token_managers) | set(svc.egress_refusals)


def test_uninstall_drops_the_instances_token_manager_only(svc: HostServices) -> None:
    first = svc.token_manager("t1", "i1", MANIFEST, {})
    kept = svc.token_manager("t1", "i2", MANIFEST, {})
    svc.egress_refusals["t1/i1"] = "refused"
    assert svc.token_manager("t1", "i1", MANIFEST, {}) is first  # shared while installed
    svc.drop_instance("t1", "i1")
    assert _scopes(svc) == {"t1/i2"}
    assert svc.token_manager("t1", "i2", MANIFEST, {}) is kept
    assert svc.token_manager("t1", "i1", MANIFEST, {}) is not first  # a new one, if ever


def test_a_deleted_tenant_loses_every_instance_and_no_other_tenant_anything(
    svc: HostServices,
) -> None:
    for tenant, instance in [("t1", "i1"), ("t1", "i2"), ("t10", "i3"), ("t2", "i4")]:
        svc.token_manager(tenant, instance, MANIFEST, {})
    svc.egress_refusals["t1/i2"] = "refused"
    svc.forget_tenant("t1")
    assert _scopes(svc) == {"t10/i3", "t2/i4"}  # "t10" only shares a prefix with "t1"
