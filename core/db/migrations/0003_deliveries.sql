-- Webhook deliveries and bus events through the pipeline, and the dead letters of those that
-- exhausted their retries. The unique key is the durable de-duplication record: it outlives
-- JetStream's duplicate window (rows are purged after DCODER_WEBHOOKS_DEDUP_WINDOW_DAYS).
CREATE TABLE deliveries (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    instance_id     text NOT NULL REFERENCES plugin_instances (id) ON DELETE CASCADE,
    plugin          text NOT NULL,
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 512),
    event_key       text,
    status          text NOT NULL
                    CHECK (status IN ('accepted', 'processing', 'done', 'retrying', 'dead')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    next_attempt_at timestamptz,
    UNIQUE (tenant_id, instance_id, idempotency_key)
);
CREATE INDEX deliveries_tenant_received ON deliveries (tenant_id, received_at DESC);
CREATE INDEX deliveries_tenant_status ON deliveries (tenant_id, status, received_at DESC);

CREATE TABLE dead_letters (
    id          text PRIMARY KEY,
    delivery_id text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    instance_id text NOT NULL,
    plugin      text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('webhook', 'event')),
    payload     bytea NOT NULL,
    headers     jsonb NOT NULL DEFAULT '{}'::jsonb,
    last_error  text,
    attempts    integer NOT NULL,
    dead_at     timestamptz NOT NULL DEFAULT now(),
    replayed_at timestamptz
);
CREATE INDEX dead_letters_tenant_dead ON dead_letters (tenant_id, dead_at DESC);
CREATE INDEX dead_letters_delivery ON dead_letters (delivery_id);
