-- Credentials of plugin instances (API tokens, PATs, OAuth tokens): one AES-GCM ciphertext of a JSON
-- object per instance, never plaintext. ``expires_at`` (of an OAuth access token) is kept in clear so
-- a refresher can find what is due without decrypting.
CREATE TABLE instance_credentials (
    instance_id text PRIMARY KEY REFERENCES plugin_instances (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    ciphertext  bytea NOT NULL,
    key_id      text NOT NULL,
    expires_at  timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
