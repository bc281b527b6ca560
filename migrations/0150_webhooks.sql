-- Outbound webhooks (issue 14): subscriptions, and the deliveries planned for them.
--
-- A subscription follows the store like a projection, with its own position: the
-- webhooks worker writes one delivery per event it wants, and moves the position
-- to the end of the page, in one transaction. A delivery is sent (and retried)
-- until the receiver answers 2xx; its webhook_id is stable (uuid5 of the
-- subscription and the event), so a receiver deduplicates on it.

CREATE TABLE webhook_subscriptions (
    subscription_id uuid PRIMARY KEY,
    channel text,                                -- NULL: every channel (an admin's); else one
    url text NOT NULL,
    event_types text[] NOT NULL,
    description text NOT NULL DEFAULT '',
    secret text NOT NULL,                        -- whsec_...: signs each delivery; shown once
    state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'disabled')),
    position bigint NOT NULL DEFAULT 0,          -- the last store position planned
    failing_since timestamptz,                   -- first failure since the last success
    disabled_at timestamptz,
    disabled_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_subscriptions_channel ON webhook_subscriptions (channel, subscription_id);

CREATE TABLE webhook_deliveries (
    seq bigserial UNIQUE,                        -- the delivery log's order and cursor
    subscription_id uuid NOT NULL
        REFERENCES webhook_subscriptions (subscription_id) ON DELETE CASCADE,
    webhook_id uuid NOT NULL,                    -- the webhook-id header
    position bigint NOT NULL,                    -- the event's store position
    ordering_key text NOT NULL,                  -- the booking: sent one at a time, in order
    event_type text NOT NULL,
    payload text NOT NULL,                       -- the JSON body, as signed
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    replays integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    first_attempt_at timestamptz,
    last_attempt_at timestamptz,
    response_code integer,
    latency_ms double precision,
    response_body text,                          -- the first bytes only
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    PRIMARY KEY (subscription_id, webhook_id)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (subscription_id, position)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (subscription_id, ordering_key, position)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (subscription_id, seq);
