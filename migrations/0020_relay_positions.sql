-- Outbound relays (the Kafka relay) and the last store position each has published.
-- A relay advances its row only after the broker acknowledged every event up to
-- that position, so on restart it resumes after it: nothing is skipped, and
-- only a batch in flight at a crash is published twice (with the same event ids).

CREATE TABLE relay_positions (
    relay text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    event_time timestamptz,                      -- time of the last event published
    updated_at timestamptz NOT NULL DEFAULT now()
);
