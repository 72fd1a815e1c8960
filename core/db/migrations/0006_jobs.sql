-- Background jobs of plugin instances. A newer job with the same key supersedes the older ones
-- still queued or running (their rows keep who superseded them).
CREATE TABLE jobs (
    id            text PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    instance_id   text NOT NULL REFERENCES plugin_instances (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (length(kind) BETWEEN 1 AND 200),
    key           text CHECK (key IS NULL OR length(key) BETWEEN 1 AND 512),
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
    status        text NOT NULL
                  CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled',
                                    'superseded')),
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    progress      double precision NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    result        jsonb,
    error         text,
    superseded_by text REFERENCES jobs (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz
);
CREATE INDEX jobs_tenant_created ON jobs (tenant_id, created_at DESC);
CREATE INDEX jobs_live_key ON jobs (tenant_id, instance_id, key)
    WHERE status IN ('queued', 'running');
