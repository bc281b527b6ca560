-- Replay checkpoints are what an auditor's as-of answer starts from: once written,
-- a row is never changed (a checkpoint of other rules is simply unused). Refuse
-- UPDATE, DELETE and TRUNCATE, as for api_key_changes; the application role has only
-- SELECT and INSERT (migrations/grants/app_role.sql).
CREATE FUNCTION audit_ledger_checkpoints_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_ledger_checkpoints is append-only (% refused)', TG_OP;
END
$$;

CREATE TRIGGER audit_ledger_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_ledger_checkpoints_append_only();

CREATE TRIGGER audit_ledger_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_ledger_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_ledger_checkpoints_append_only();
