-- Tenant incarnations: a tenant id that is deleted and created again names a new tenant, which
-- must never see its predecessor's records. Everything a tenant owns goes with it (ON DELETE
-- CASCADE) except the audit trail, which the operator keeps: each audit row of a tenant names
-- the incarnation it belongs to, and a tenant reads only its own incarnation's rows.

ALTER TABLE tenants
    ADD COLUMN incarnation text NOT NULL DEFAULT gen_random_uuid()::text;  -- built in (PG 13+)

ALTER TABLE audit_log ADD COLUMN incarnation text;

-- Rows written before this migration: those from the current tenant's lifetime are its own;
-- older rows of the same id belong to a former incarnation (left NULL: the operator sees them).
UPDATE audit_log a SET incarnation = t.incarnation
  FROM tenants t
 WHERE a.tenant_id = t.id AND a.at >= t.created_at;

CREATE INDEX audit_log_tenant_incarnation ON audit_log (tenant_id, incarnation, id DESC);
