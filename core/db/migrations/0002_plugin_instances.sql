-- Plugin instances of tenants, their encrypted secrets, key-value state, effect ledger, and the
-- plugin sources an operator loaded at runtime.
CREATE TABLE plugin_instances (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    plugin      text NOT NULL,
    version     text NOT NULL,
    name        text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    config      jsonb NOT NULL DEFAULT '{}'::jsonb,
    state       text NOT NULL,
    state_detail text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);
CREATE INDEX plugin_instances_tenant ON plugin_instances (tenant_id);

-- AES-GCM ciphertexts (never plaintext). ``previous_*`` keeps the value a rotation replaced, accepted
-- until ``previous_expires_at`` (webhook signing secrets rotate with an overlap).
CREATE TABLE instance_secrets (
    instance_id  text NOT NULL REFERENCES plugin_instances (id) ON DELETE CASCADE,
    name         text NOT NULL,
    ciphertext   bytea NOT NULL,
    key_id       text NOT NULL,
    previous_ciphertext bytea,
    previous_key_id     text,
    previous_expires_at timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, name)
);

CREATE TABLE instance_kv (
    instance_id text NOT NULL REFERENCES plugin_instances (id) ON DELETE CASCADE,
    key         text NOT NULL,
    value       jsonb NOT NULL,
    expires_at  timestamptz,
    PRIMARY KEY (instance_id, key)
);

-- Idempotent side effects: a key is claimed (pending, with a lease) before the effect and marked
-- done after it; a redelivered event finds it done and skips the effect.
CREATE TABLE instance_effects (
    instance_id text NOT NULL REFERENCES plugin_instances (id) ON DELETE CASCADE,
    key         text NOT NULL,
    status      text NOT NULL CHECK (status IN ('pending', 'done')),
    result      jsonb,
    lease_until timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, key)
);

CREATE TABLE plugin_sources (
    path       text PRIMARY KEY,
    loaded_at  timestamptz NOT NULL DEFAULT now(),
    loaded_by  text NOT NULL
);
