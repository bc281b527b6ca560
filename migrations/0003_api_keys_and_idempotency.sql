-- API keys (only a hash of the secret is kept) and idempotency records.

CREATE TABLE api_keys (
    key_id text PRIMARY KEY,                     -- public part, shown in logs
    secret_hash text NOT NULL,                   -- sha256 hex of the secret part
    role text NOT NULL CHECK (role IN
        ('booking', 'operations', 'finance', 'auditor', 'gate_device', 'admin')),
    scope text NOT NULL DEFAULT '',              -- a channel (booking) or facility id (gate_device)
    label text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Written in the same transaction as the command's events, so a retried
-- command either finds the first answer or finds nothing was done.
CREATE TABLE idempotency_keys (
    key_id text NOT NULL,
    idempotency_key text NOT NULL,
    request_hash text NOT NULL,
    status integer NOT NULL,
    body jsonb NOT NULL,
    position bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_id, idempotency_key)
);

CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
