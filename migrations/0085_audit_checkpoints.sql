-- Checkpoints of the auditors' replayed books (berth.adapters.ledger_checkpoints): a
-- facility's replay state after every ledger event up to `position`, written by the
-- replay itself (never from a read model) each time it passes a multiple of N
-- positions, so a later replay starts from the nearest one at or below its cut.
-- `rules` is a digest of the posting rules' code: a checkpoint of other rules is unused.
-- `latest` is the latest timestamp of the events it includes (for time cuts).
-- The application role needs SELECT and INSERT (rows are never changed).

CREATE TABLE audit_ledger_checkpoints (
    facility_id uuid NOT NULL,
    position bigint NOT NULL,
    rules text NOT NULL,
    latest timestamptz NOT NULL,
    state bytea NOT NULL,                    -- zlib-compressed JSON
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, rules, position)
);
