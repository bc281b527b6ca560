-- One booking representation (command answers and GET /bookings alike) and
-- idempotent replays that return exactly the first answer.

-- The bookings read model carries the refunds requested and not yet settled
-- (refund id -> amount). Existing rows cannot know theirs, so the projection
-- starts over: its rows are emptied and its position set back to zero in this
-- transaction; a running bookings worker notices the moved position and
-- replays from the start of the log.
ALTER TABLE bookings ADD COLUMN pending_refunds jsonb NOT NULL DEFAULT '{}';
DELETE FROM bookings;
UPDATE projection_positions SET position = 0, event_time = NULL, updated_at = now()
    WHERE projection = 'bookings';

-- What a command's answer is about, written with the command's events: the
-- resource and the version the command left it at. With `position`, enough to
-- rebuild the first answer from the event store if the process died between
-- the commit and storing the answer's body.
ALTER TABLE idempotency_keys
    ADD COLUMN subject_id uuid,
    ADD COLUMN subject_version integer;
