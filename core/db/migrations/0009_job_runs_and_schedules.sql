-- What the job actor needs to run a job (resources, timeout, bounded attempts), an outbox marker
-- for the job.completed / job.failed event, and the schedule leases: one row per (instance,
-- schedule) whose ``next_at`` is advanced by exactly one driver per tick (UPDATE ... WHERE
-- next_at <= now()), however many drivers run.
ALTER TABLE jobs
    ADD COLUMN resources    jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN timeout_s    double precision NOT NULL DEFAULT 600 CHECK (timeout_s > 0),
    ADD COLUMN max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    ADD COLUMN notified_at  timestamptz;
-- the runner's queue and its outbox of ended jobs whose event is not yet published
CREATE INDEX jobs_queued ON jobs (created_at) WHERE status = 'queued';
CREATE INDEX jobs_unnotified ON jobs (finished_at)
    WHERE status IN ('done', 'failed') AND notified_at IS NULL;

CREATE TABLE schedule_leases (
    instance_id text NOT NULL REFERENCES plugin_instances (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    next_at     timestamptz NOT NULL,
    fired_at    timestamptz,
    fired_tick  timestamptz,
    fired_count bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (instance_id, name)
);
