"""Service settings: built once (pydantic-settings), nested per concern, prefix ``DCODER_``.

Each concern reads its own prefix, so the environment names stay short and stable:
``DCODER_NATS_URL``, ``DCODER_DATABASE_URL``, ``DCODER_RAY_ADDRESS``, ... Build one ``Settings``
at a process's entry point and pass it (or the part a component needs) into constructors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import SettingsError
from core.paths import CONFIGS_DIR, PROJECT_ROOT


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", validate_default=True)


class NatsSettings(BaseSettings):
    """NATS JetStream. Without ``url`` the service starts an embedded nats-server."""

    model_config = _config("DCODER_NATS_")

    url: str | None = Field(None, description="NATS URL; unset starts an embedded server")
    embedded_port: int = Field(14222, ge=1, le=65535, description="port of the embedded server")
    namespace: str = Field(
        "dcoder",
        pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="prefix of every stream and subject, so environments can share a NATS",
    )
    connect_timeout_s: float = Field(2.0, gt=0, description="timeout of one connect attempt")
    duplicate_window_s: int = Field(
        7200, ge=1, description="JetStream message-id de-duplication window of event streams "
        "(NATS keeps about 100 bytes of memory per message id in it, see docs/webhooks.md)",
    )  # fmt: skip


class DatabaseSettings(BaseSettings):
    """PostgreSQL. Without ``url`` the service starts an embedded PostgreSQL."""

    model_config = _config("DCODER_DATABASE_")

    url: str | None = Field(None, description="PostgreSQL DSN; unset starts an embedded server")
    embedded_port: int = Field(15432, ge=1, le=65535, description="port of the embedded server")
    pool_min: int = Field(
        1, ge=0, description="minimum connections per pool (one per process; an ingress replica "
        "has a second one for the webhook ingest)",
    )  # fmt: skip
    pool_max: int = Field(
        10, ge=1, description="maximum connections per pool (one per process; an ingress replica "
        "has a second one for the webhook ingest, which keeps all of them open)",
    )  # fmt: skip
    command_timeout_s: float = Field(10.0, gt=0, description="timeout of one SQL command")


class RaySettings(BaseSettings):
    """Ray. Without ``address`` `up` starts a local head node."""

    model_config = _config("DCODER_RAY_")

    address: str | None = Field(
        None, description="Ray address (ray://... or host:port); unset starts a local head"
    )
    namespace: str = Field("dcoder", description="Ray namespace of every named actor")
    dashboard_port: int = Field(
        8265, ge=1, le=65535, description="Ray dashboard port of a local head"
    )
    dashboard_url: str | None = Field(
        None, description="dashboard of an external cluster (Serve deploys go there); default local"
    )
    head_port: int = Field(26379, ge=1, le=65535, description="GCS port of a local head")
    num_cpus: int | None = Field(
        None, ge=1, description="logical CPUs of a local head (default: all)"
    )
    sandbox_slots: int = Field(
        2, ge=0, description="`sandbox` resource of a local head (parallel reviews)"
    )
    tenant_hosts: int = Field(
        2, ge=1, le=1024, description="tenant host actors (tenants hash onto them)"
    )
    tenant_idle_s: float = Field(
        300.0, gt=0, description="idle seconds before a tenant is passivated"
    )
    event_relays: int = Field(
        1, ge=1, le=64, description="JetStream consumer actors (they share durable consumers)"
    )
    dispatch_nice: int = Field(
        4, ge=0, le=19,
        description="added to the CPU niceness of relays, tenant hosts and job tasks (Ray's "
        "workers start at 0), so that webhook ingest (which answers clients) wins the CPU over "
        "background work; above 0 the local PostgreSQL backends of relays and tenant hosts get "
        "the same niceness where it may be set",
    )  # fmt: skip


class HttpSettings(BaseSettings):
    """The HTTP API served by Ray Serve."""

    model_config = _config("DCODER_HTTP_")

    host: str = Field("127.0.0.1", description="address the HTTP API listens on")
    port: int = Field(8085, ge=1, le=65535, description="port of the HTTP API")
    data_plane: Literal["haproxy", "proxy"] = Field(
        "haproxy",
        description="what carries HTTP to the Serve replicas: Serve's HAProxy mode (confined to "
        "loopback and the data dir) or Serve's Python proxy; read by `up`, which also runs the "
        "replicas' request code on their own event loop "
        "(`RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD=0` unless set) and Serve's controller loop "
        "every 0.5 s (`RAY_SERVE_CONTROL_LOOP_INTERVAL_S`, Serve's default 0.1, unless set)",
    )
    haproxy_threads: int = Field(
        2, ge=1, le=64, description="HAProxy threads (data_plane haproxy); about one per core"
    )
    replica_maxconn: int = Field(
        64, ge=1, le=4096,
        description="requests HAProxy (data_plane haproxy) has open on one Ingress replica at "
        "once; more wait in HAProxy's queue, at most DCODER_HTTP_QUEUE_TIMEOUT_MS",
    )  # fmt: skip
    queue_timeout_ms: int = Field(
        1000, ge=1, le=60_000,
        description="longest wait of a request in HAProxy's queue (data_plane haproxy) for a "
        "replica slot; then 503 problem+json with Retry-After "
        "(DCODER_WEBHOOKS_OVERLOAD_RETRY_AFTER_S) instead of a wait into the sender's timeout",
    )  # fmt: skip
    queue_max: int = Field(
        32, ge=1, le=100_000,
        description="requests that may wait in HAProxy's queue (data_plane haproxy) for a slot "
        "on the Ingress replicas; past it HAProxy answers 503 problem+json with a jittered "
        "Retry-After at once, keeping the connection open, so an overload is shed at the door "
        "for a few microseconds each instead of piling up and timing out",
    )  # fmt: skip
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="largest request body of the management API (every route but the webhook "
        "ingest, which has DCODER_WEBHOOKS_MAX_BODY_BYTES); larger ones get 413",
    )
    max_config_bytes: int = Field(
        65_536,
        ge=256,
        description="largest plugin instance config, JSON-encoded; a larger one gets 413",
    )


class SecuritySettings(BaseSettings):
    """Keys of the operator and of secret encryption."""

    model_config = _config("DCODER_")

    operator_key: SecretStr | None = Field(
        None, description="operator API key; unset generates one into <data dir>/operator.key"
    )
    secrets_key: SecretStr | None = Field(
        None,
        description="base64 AES-256 key(s) for secrets at rest, comma-separated, newest first; "
        "unset generates one into <data dir>/secrets.key",
    )


class FlagsmithSettings(BaseSettings):
    """Feature flags through the flagsmith SDK."""

    model_config = _config("DCODER_FLAGSMITH_")

    environment_key: SecretStr | None = Field(
        None, description="server-side environment key; unset evaluates offline from configs/"
    )
    api_url: str | None = Field(None, description="Flagsmith API URL (self-hosted)")
    local_evaluation: bool = Field(False, description="evaluate flags locally (server-side key)")
    offline_document: Path = Field(
        CONFIGS_DIR / "flags.json", description="environment document used without a key"
    )


class LlmSettings(BaseSettings):
    """The LLM gateway (litellm). Without a model every agent still does its deterministic work."""

    model_config = _config("DCODER_LLM_")

    model: str | None = Field(
        None,
        description="litellm model name, e.g. openai/gpt-4o-mini; a tenant's own model "
        "(PUT /v1/tenants/{t}/llm) overrides it; unset: only such tenants have an LLM",
    )
    api_base: str | None = Field(None, description="base URL of an OpenAI-compatible endpoint")
    api_key: SecretStr | None = Field(None, description="API key of the provider")
    timeout_s: float = Field(60.0, gt=0, description="timeout of one completion")


class SandboxSettings(BaseSettings):
    """Sandboxed code analysis."""

    model_config = _config("DCODER_SANDBOX_")

    backend: Literal["auto", "docker", "bwrap"] = Field("auto", description="sandbox backend")
    docker_image: str = Field(
        "dcoder-analyzers:latest", description="analysis image of the Docker backend"
    )
    docker_host: str | None = Field(
        None, description="Docker engine URL; unset: DOCKER_HOST, else engine.sh's own socket"
    )
    tools_dir: Path = Field(
        PROJECT_ROOT / ".tools", description="analyzer virtualenv mounted read-only"
    )
    timeout_s: float = Field(300.0, gt=0, description="wall timeout of one analysis")
    memory_mb: int = Field(2048, ge=64, description="memory limit of one analysis")
    cpus: float = Field(1.0, gt=0, description="CPU limit of one analysis")
    pids: int = Field(256, ge=8, description="process limit of one analysis")


class WebhookSettings(BaseSettings):
    """The webhook and event pipeline: ingest limits, replay window, retries, breakers."""

    model_config = _config("DCODER_WEBHOOKS_")

    rate_per_s: float = Field(
        20.0, gt=0, description="sustained webhook rate per tenant and ingress replica"
    )
    burst: int = Field(100, ge=1, description="webhooks a tenant may send at once above the rate")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="largest webhook body (else 413)")
    tolerance_s: int = Field(
        300, ge=1, description="accepted clock skew of timestamped signatures (replay window)"
    )
    dedup_window_days: int = Field(
        7, ge=1, description="days a delivery record is kept to drop repeated deliveries"
    )
    handler_timeout_s: float = Field(30.0, gt=0, description="timeout of one plugin handler call")
    dispatch_linger_ms: float = Field(
        150.0, ge=0, le=1000,
        description="after a partial batch, the relay waits this long before fetching again, so "
        "dispatch under load works in fewer, larger batches (adds at most this to handler start)",
    )  # fmt: skip
    dispatch_yield_ms: float = Field(
        50.0, ge=0,
        description="ingest latency (moving average of an ingress replica) above which relays "
        "wait before each fetch (50 ms, doubled while the pressure lasts, at most 1 s; batches "
        "stay full), so dispatch yields its CPU to ingest; 0: off",
    )  # fmt: skip
    max_inflight: int = Field(
        64, ge=1,
        description="webhook requests one ingress replica works on at once; past it the ingest "
        "answers 503 with Retry-After at once instead of queueing (Serve user_config "
        "webhooks_max_inflight overrides it at runtime)",
    )  # fmt: skip
    overload_retry_after_s: int = Field(
        1, ge=1, le=3600,
        description="shortest Retry-After (seconds) of a 503 shed under overload (the in-flight "
        "bound, HAProxy's queue bound or its queue timeout)",
    )  # fmt: skip
    overload_retry_spread_s: int = Field(
        3, ge=0, le=3600,
        description="a shed 503's Retry-After is drawn uniformly from DCODER_WEBHOOKS_OVERLOAD_"
        "RETRY_AFTER_S to that plus this, so the senders told to come back do not all come back "
        "in the same second; the spread while no webhook is shed",
    )  # fmt: skip
    overload_retry_spread_max_s: int = Field(
        120, ge=0, le=3600,
        description="widest spread of a shed 503's Retry-After: every second in which more than "
        "2 % of the webhooks reaching a node are refused widens it 1.5 times up to this, every "
        "second without shrinks it 0.8 times, so senders refused in a long burst come back "
        "spread over minutes instead of all within seconds",
    )  # fmt: skip
    max_attempts: int = Field(5, ge=1, description="attempts before a delivery is dead-lettered")
    backoff_base_s: float = Field(1.0, gt=0, description="first retry delay (doubles per attempt)")
    backoff_max_s: float = Field(300.0, gt=0, description="longest retry delay")
    breaker_failures: int = Field(
        5, ge=1, description="consecutive failures that open an endpoint's circuit breaker"
    )
    breaker_cooldown_s: float = Field(
        30.0, gt=0, description="how long an open breaker fails fast before a trial call"
    )
    outbound_timeout_s: float = Field(
        10.0, gt=0, description="timeout of one outbound HTTP call of a plugin"
    )


class EgressSettings(BaseSettings):
    """The egress guard on plugins' outbound HTTP (SSRF protection)."""

    model_config = _config("DCODER_EGRESS_")

    allow: str = Field(
        "",
        description="comma-separated hosts, CIDRs or host:port a plugin may reach although they "
        "are loopback/private/link-local (e.g. a Data Center host on the LAN: 10.2.0.0/16)",
    )


class OAuthSettings(BaseSettings):
    """Instance credentials: OAuth 2.0 install flow and token refresh."""

    model_config = _config("DCODER_OAUTH_")

    public_url: str | None = Field(
        None,
        description="the service's public base URL for the OAuth redirect "
        "(<it>/v1/oauth/callback); unset: the URL the start request came in on",
    )
    refresh_before_s: float = Field(
        120.0, ge=0, description="refresh an access token this long before it expires"
    )
    state_ttl_s: int = Field(
        600, ge=30, le=3600, description="how long an OAuth authorization (its state) is valid"
    )


class Settings(BaseSettings):
    """All settings of one process."""

    model_config = _config("DCODER_")

    env: Literal["dev", "test", "prod"] = Field("dev", description="deployment environment")
    data_dir: Path = Field(
        PROJECT_ROOT / ".data", description="data of embedded servers, keys, pids"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")
    contracts_dir: Path = Field(
        PROJECT_ROOT.parent / "shared" / "contracts",
        description="official API specs and webhook samples (contract tests)",
    )

    nats: NatsSettings = Field(default_factory=NatsSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    ray: RaySettings = Field(default_factory=RaySettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    flagsmith: FlagsmithSettings = Field(default_factory=FlagsmithSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    egress: EgressSettings = Field(default_factory=EgressSettings)
    oauth: OAuthSettings = Field(default_factory=OAuthSettings)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()


def load_settings() -> Settings:
    """Build the settings from the environment, turning validation errors into a readable one."""
    try:
        return Settings()
    except ValidationError as err:
        raise SettingsError.from_validation(err) from err
