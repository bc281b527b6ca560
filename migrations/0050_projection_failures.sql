-- A projection that cannot apply an event stops there, loudly: its runner records
-- the failure here (one row per projection: the event it is stuck on), keeps its
-- position at the event before, retries with backoff and serves as failed; GET
-- /health and GET /projections name it. `berth projection retry` deletes the row
-- (the runner tries again at once); the runner deletes it once past the event.
CREATE TABLE projection_failures (
    projection text PRIMARY KEY,
    position bigint NOT NULL,                    -- the notification that could not be applied
    error_class text NOT NULL,
    error_message text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 1
);

