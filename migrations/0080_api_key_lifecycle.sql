-- API key lifecycle: who created, rotated and revoked a key and when, and when it was
-- last looked up; every change is also a row of the append-only `api_key_changes`, so
-- an auditor can ask "who revoked this key" (and who rotated it, each time).
-- The application role needs SELECT, INSERT, UPDATE on api_keys (last_used_at, rotation,
-- revocation) and SELECT, INSERT on api_key_changes (never UPDATE or DELETE).

ALTER TABLE api_keys
    ADD COLUMN created_by text NOT NULL DEFAULT '',
    ADD COLUMN rotated_at timestamptz,
    ADD COLUMN rotated_by text,
    ADD COLUMN revoked_by text,
    ADD COLUMN last_used_at timestamptz;

CREATE TABLE api_key_changes (
    change_id bigserial PRIMARY KEY,
    key_id text NOT NULL REFERENCES api_keys (key_id),
    change text NOT NULL CHECK (change IN ('created', 'rotated', 'revoked')),
    principal text NOT NULL,              -- an admin key id, or cli:<user>
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX api_key_changes_key_id_idx ON api_key_changes (key_id, change_id);

-- Changes are history: refuse rewriting them as the event tables do.
CREATE FUNCTION api_key_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'api_key_changes is append-only (% refused)', TG_OP;
END $$;

CREATE TRIGGER api_key_changes_append_only
    BEFORE UPDATE OR DELETE ON api_key_changes
    FOR EACH STATEMENT EXECUTE FUNCTION api_key_changes_append_only();
CREATE TRIGGER api_key_changes_no_truncate
    BEFORE TRUNCATE ON api_key_changes
    FOR EACH STATEMENT EXECUTE FUNCTION api_key_changes_append_only();
