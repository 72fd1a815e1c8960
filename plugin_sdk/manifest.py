"""The plugin manifest: what a plugin is, needs and may do, parsed strictly (unknown keys refused).

Every plugin ships a ``manifest.json`` in the folder of the module that defines its ``Plugin``
subclass. The registry and the test harness read it with ``Manifest.from_file``.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from core.bus import PLATFORM_EVENT_PREFIXES
from plugin_sdk.auth_kinds import AuthSpec, AuthSpecs
from plugin_sdk.version import SDK_API_VERSION, is_semver, parse_sdk_range, sdk_range_includes

NAME_RE = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"
SECRET_NAME_RE = r"^[a-z][a-z0-9_]{0,63}$"
# Subjects are dot-separated lowercase tokens; patterns (consumed subjects) may use NATS
# wildcards: ``*`` for one token, ``>`` for the rest.
SUBJECT_RE = r"^[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9][a-z0-9_-]*)+$"
SUBJECT_PATTERN_RE = r"^(?:[a-z0-9][a-z0-9_-]*|\*)(?:\.(?:[a-z0-9][a-z0-9_-]*|\*))*(?:\.>)?$|^>$"
PERMISSION_RE = r"^[a-z][a-z_]*(?::[A-Za-z0-9*._/-]+)?$"
EVENT_KEY_RE = r"^(?:header:[A-Za-z0-9-]+|json:(?:/[^/]*)*)$"


class Capability(StrEnum):
    """What a plugin does; the service wires only what is declared."""

    WEBHOOKS = "webhooks"  # receives HTTP webhooks through the ingress (needs a `webhook` section)
    EVENTS = "events"  # consumes events from the bus (``events.consumes``)
    MCP_TOOLS = "mcp_tools"  # exposes tools to AI agents over MCP
    SCHEDULED = "scheduled"  # runs periodic jobs
    LLM = "llm"  # calls the LLM gateway


class WebhookScheme(StrEnum):
    """How the ingress authenticates a webhook before the plugin sees its body."""

    ATLASSIAN_HMAC = "atlassian-hmac"  # X-Hub-Signature: sha256=<hex HMAC of the raw body>
    STANDARD_WEBHOOKS = "standard-webhooks"  # webhook-id / webhook-timestamp / webhook-signature
    CONNECT_JWT = "connect-jwt"  # Atlassian Connect JWT signed with the app's shared secret
    NONE = "none"  # unauthenticated (only for trusted networks and tests)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class WebhookSpec(_Strict):
    """How the ingress verifies this plugin's webhooks (and finds their event key)."""

    scheme: WebhookScheme
    secret: str | None = Field(
        default=None,
        pattern=SECRET_NAME_RE,
        description="name of the secret field holding the signing key",
    )
    event_key: str | None = Field(
        default=None,
        pattern=EVENT_KEY_RE,
        description="where the event key is: 'header:X-Event-Key' or 'json:/webhookEvent'",
    )

    @model_validator(mode="after")
    def _secret_matches_scheme(self) -> Self:
        if self.scheme is WebhookScheme.NONE and self.secret is not None:
            raise ValueError("scheme 'none' takes no secret")
        if self.scheme is not WebhookScheme.NONE and self.secret is None:
            raise ValueError(f"scheme {self.scheme.value!r} needs 'secret' (a secret field name)")
        return self


class SecretField(_Strict):
    """One named secret of an instance (stored encrypted, never logged, never in config)."""

    name: str = Field(pattern=SECRET_NAME_RE)
    description: str = Field("", max_length=300)
    required: bool = True


class EventsSpec(_Strict):
    """Subjects a plugin consumes (patterns allowed) and emits."""

    consumes: list[str] = Field(default_factory=list)
    emits: list[str] = Field(default_factory=list)

    @field_validator("consumes", "emits")
    @classmethod
    def _subjects(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(SUBJECT_PATTERN_RE, value):
                raise ValueError(f"{value!r} is not a subject like 'review.completed' or 'jira.>'")
        return values

    @field_validator("emits")
    @classmethod
    def _not_platform(cls, values: list[str]) -> list[str]:
        """A plugin cannot emit the platform's events (job ends, schedule ticks), not even
        through a leading wildcard: its handlers trust them."""
        for value in values:
            first = value.split(".", 1)[0]
            if first in ("*", ">") or f"{first}." in PLATFORM_EVENT_PREFIXES:
                raise ValueError(
                    f"{value!r} may emit platform events: emitted event types must start with a"
                    f" name, and {', '.join(p + '*' for p in PLATFORM_EVENT_PREFIXES)} are reserved"
                )
        return values


JOB_KIND_RE = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"


class JobSpec(_Strict):
    """One kind of background job the plugin runs (``Plugin.run_job``) and its defaults."""

    kind: str = Field(pattern=JOB_KIND_RE, max_length=64)
    description: str = Field("", max_length=300)
    resources: dict[str, float] = Field(
        default_factory=dict, description='Ray resources per run, e.g. {"sandbox": 1}'
    )
    timeout_s: float = Field(600.0, gt=0, le=86400, description="wall timeout of one attempt")
    max_attempts: int = Field(3, ge=1, le=10, description="attempts when a worker dies")


class ScheduleSpec(_Strict):
    """One schedule: ``run_scheduled(name)`` every ``interval_s`` seconds or on a ``cron``."""

    name: str = Field(pattern=JOB_KIND_RE, max_length=64)
    interval_s: float | None = Field(default=None, ge=1, le=366 * 86400)
    cron: str | None = Field(default=None, description="five fields, UTC, e.g. '*/15 * * * *'")

    @model_validator(mode="after")
    def _one_timing(self) -> Self:
        if (self.interval_s is None) == (self.cron is None):
            raise ValueError(f"schedule {self.name!r} needs exactly one of interval_s and cron")
        if self.cron is not None:
            from core.cron import Cron

            Cron.parse(self.cron)  # CronError is a ValueError: names the bad field
        return self


class Manifest(_Strict):
    """A plugin's manifest (``manifest.json``)."""

    name: str = Field(pattern=NAME_RE, max_length=64, description="lowercase slug; = folder")
    version: str = Field(description="semantic version of the plugin")
    sdk_api: str = Field(description="range of SDK API versions it works with, e.g. '>=1.0,<2'")
    description: str = Field(min_length=1, max_length=500)
    capabilities: frozenset[Capability] = frozenset()
    config_schema: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}, "additionalProperties": False}
    )
    secrets: list[SecretField] = Field(default_factory=list)
    events: EventsSpec = Field(default_factory=EventsSpec)
    webhook: WebhookSpec | None = None
    permissions: list[str] = Field(default_factory=list)
    auth: AuthSpecs = Field(
        default_factory=list, description="auth kinds a tenant may configure per instance"
    )
    homepage: HttpUrl | None = None
    codeowners: list[str] = Field(default_factory=list)
    max_attempts: int | None = Field(
        default=None, ge=1, le=50,
        description="delivery attempts before a webhook or event is dead-lettered",
    )  # fmt: skip
    jobs: list[JobSpec] = Field(default_factory=list, description="background job kinds")
    schedules: list[ScheduleSpec] = Field(default_factory=list, description="periodic runs")

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not is_semver(value):
            raise ValueError(f"{value!r} is not a semantic version like '1.2.3'")
        return value

    @field_validator("sdk_api")
    @classmethod
    def _sdk_range(cls, value: str) -> str:
        parse_sdk_range(value)
        return value

    @field_validator("config_schema")
    @classmethod
    def _schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as err:
            where = "/" + "/".join(str(p) for p in err.path)
            raise ValueError(f"invalid JSON Schema (2020-12) at {where}: {err.message}") from err
        if value.get("type") != "object":
            raise ValueError('the tenant config is an object: the schema needs "type": "object"')
        return value

    @field_validator("permissions")
    @classmethod
    def _permissions(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.match(PERMISSION_RE, value):
                raise ValueError(f"{value!r} is not a permission like 'network:*.atlassian.net'")
        return values

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [s.name for s in self.secrets]
        if len(names) != len(set(names)):
            raise ValueError("secret names must be unique")
        has_webhooks = Capability.WEBHOOKS in self.capabilities
        if has_webhooks and self.webhook is None:
            raise ValueError("capability 'webhooks' needs a 'webhook' section")
        if self.webhook is not None and not has_webhooks:
            raise ValueError("a 'webhook' section needs capability 'webhooks'")
        if self.webhook and self.webhook.secret and self.webhook.secret not in names:
            raise ValueError(f"webhook.secret {self.webhook.secret!r} is not one of 'secrets'")
        if self.events.consumes and Capability.EVENTS not in self.capabilities:
            raise ValueError("'events.consumes' needs capability 'events'")
        for what, items in (("job kinds", [j.kind for j in self.jobs]),
                            ("schedule names", [s.name for s in self.schedules])):  # fmt: skip
            if len(items) != len(set(items)):
                raise ValueError(f"{what} must be unique")
        if self.schedules and Capability.SCHEDULED not in self.capabilities:
            raise ValueError("'schedules' needs capability 'scheduled'")
        return self

    @classmethod
    def from_file(cls, path: Path) -> Manifest:
        """Read and validate a ``manifest.json`` (``ValueError`` / ``ValidationError`` if bad)."""
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))

    def supports_sdk(self, version: str = SDK_API_VERSION) -> bool:
        """Whether this plugin's ``sdk_api`` range includes the SDK API ``version``."""
        return sdk_range_includes(self.sdk_api, version)

    @property
    def module_name(self) -> str:
        """The plugin's name as a Python identifier (dashes become underscores)."""
        return self.name.replace("-", "_")

    def auth_spec(self, kind: str) -> AuthSpec | None:
        """The declared auth kind ``kind``, or None."""
        return next((a for a in self.auth if a.kind.value == kind), None)

    def secret_names(self) -> list[str]:
        """Names of the declared secret fields."""
        return [s.name for s in self.secrets]
