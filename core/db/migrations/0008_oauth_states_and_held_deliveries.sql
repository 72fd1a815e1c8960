-- OAuth install flows in progress: one row per ``state`` handed out by POST …/oauth/start. The
-- state itself is HMAC-signed and names tenant + instance; this row makes it single-use
-- (``used_at``) and bounds its life (``expires_at``). Nothing secret is stored here: the PKCE
-- verifier is derived from the nonce with the state key.
CREATE TABLE oauth_states (
    nonce       text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    instance_id text NOT NULL REFERENCES plugin_instances (id) ON DELETE CASCADE,
    redirect_uri text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);

-- Deliveries kept while their instance waits for a new authorization (state needs_reauth): the
-- bus message as published, republished when the instance is authorized again. Not dead letters:
-- nothing here needs an operator.
CREATE TABLE held_deliveries (
    id          text PRIMARY KEY,
    delivery_id text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    instance_id text NOT NULL REFERENCES plugin_instances (id) ON DELETE CASCADE,
    subject     text NOT NULL,
    payload     bytea NOT NULL,
    headers     jsonb NOT NULL DEFAULT '{}'::jsonb,
    held_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (delivery_id)
);
CREATE INDEX held_deliveries_instance ON held_deliveries (tenant_id, instance_id, held_at);
