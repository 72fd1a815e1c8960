"""Where one instance's HTTP may go and where its credential may be sent, from its manifest and
config: the tenant host's ``ctx.http`` (``actors.host.services``) and a job's ``JobRun.http``
(``actors.job_access``) build their egress guard and auth from the same answer here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.egress_transport import NETWORK_PERMISSION, HostPermissions
from core.errors import PluginConfigInvalid
from core.oauth import TokenEndpoint
from plugin_sdk.auth_kinds import render_url
from plugin_sdk.manifest import Manifest


@dataclass(frozen=True)
class InstanceHosts:
    """The hosts an instance may reach, and those its ``Authorization`` may go to."""

    permitted: HostPermissions  # manifest ``network:`` permissions, config URLs, auth endpoints
    own: HostPermissions  # the same without ``network:*``: the token never goes just anywhere


def instance_hosts(manifest: Manifest, config: Mapping[str, Any]) -> InstanceHosts:
    """The instance's hosts (auth endpoints whose config values are unset are left out)."""
    urls = []
    for spec in manifest.auth:
        for template in spec.endpoint_urls():
            try:
                urls.append(render_url(template, config))
            except PluginConfigInvalid:
                continue
    named = [p for p in manifest.permissions if p != f"{NETWORK_PERMISSION}*"]
    return InstanceHosts(
        permitted=HostPermissions.build(manifest.permissions, config, urls),
        own=HostPermissions.build(named, config),
    )


def token_endpoints(manifest: Manifest, config: Mapping[str, Any]) -> dict[str, TokenEndpoint]:
    """The instance's OAuth token endpoints by kind (those whose config values are set)."""
    out = {}
    for spec in manifest.auth:
        if spec.token_url is None:
            continue
        try:
            url = render_url(spec.token_url, config)
        except PluginConfigInvalid:
            continue  # a refresh then fails with a clear error
        out[spec.kind.value] = TokenEndpoint(url, tuple(spec.scopes))
    return out
