-- The LLM gateway's ledger and per-tenant models.
-- llm_usage: one row per completion the gateway made (failed and timed-out calls too): who asked
-- (tenant, instance, plugin), which model, the provider's token counts, litellm's cost estimate
-- (NULL when the model has no price, e.g. a local endpoint), the latency and the outcome
-- ('ok', 'timeout' or 'error:<kind>'). It goes with its tenant; the instance id is kept as text
-- so an uninstalled instance's calls still count.
CREATE TABLE llm_usage (
    id                bigserial PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT now(),
    tenant_id         text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    instance_id       text NOT NULL,
    plugin            text NOT NULL,
    model             text NOT NULL,
    prompt_tokens     integer CHECK (prompt_tokens >= 0),
    completion_tokens integer CHECK (completion_tokens >= 0),
    cost_usd          double precision CHECK (cost_usd >= 0),
    latency_ms        double precision NOT NULL CHECK (latency_ms >= 0),
    outcome           text NOT NULL CHECK (length(outcome) BETWEEN 1 AND 100)
);
CREATE INDEX llm_usage_tenant_at ON llm_usage (tenant_id, at DESC, id DESC);

-- A tenant's own model (any litellm model string), endpoint and key, overriding DCODER_LLM_*.
-- The key is an AES-GCM ciphertext bound by its AAD to "<tenant>/llm" (core/crypto.py).
CREATE TABLE tenant_llm (
    tenant_id  text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    model      text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
    api_base   text,
    api_key    bytea,
    key_id     text,
    timeout_s  double precision CHECK (timeout_s > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
