-- Replay checkpoints are what an auditor's as-of answer starts from, so the application
-- role may no longer write them (migrations/grants/app_role.sql now grants it SELECT
-- only; `berth audit checkpoint`, run as the owner, writes them), and each one names the
-- hash chain's link at its position: the link of the last event at or below `position`
-- in event_chain, which commits to every event up to there. A replay uses a checkpoint
-- only when that link is the chain's link there in the store it reads, so a checkpoint
-- of another history (a copied row, a restored backup, a rewrite) is never used.
--
-- The rows already there were written by the application role and name no link: they
-- cannot be told from forged ones, and they are a cache of what the events give, so
-- they go (the append-only triggers are stepped over for this one statement; only the
-- table's owner may do so) and the next `berth audit checkpoint` writes them again.

ALTER TABLE audit_ledger_checkpoints DISABLE TRIGGER audit_ledger_checkpoints_no_truncate;
TRUNCATE audit_ledger_checkpoints;
ALTER TABLE audit_ledger_checkpoints ENABLE TRIGGER audit_ledger_checkpoints_no_truncate;

ALTER TABLE audit_ledger_checkpoints
    ADD COLUMN link bytea NOT NULL CHECK (length(link) = 32);

COMMENT ON COLUMN audit_ledger_checkpoints.link IS
    'event_chain.link of the last event at or below position: the history summarised';
