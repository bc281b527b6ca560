-- `as_of` means one thing on /ledger and /audit (issue 12): the events up to,
-- not including, the first one stamped after the time. The ledger projection
-- records where the running maximum of its events' timestamps rises
-- (berth.adapters.as_of.time_marks); the first mark after a time is where the
-- cut falls. Existing ledger rows have no marks, so the ledger projection starts
-- over, as the bookings projection did in 0075: its rows are emptied and its
-- position set back to zero in this transaction; a running ledger worker
-- notices the moved position and replays from the start of the log.
CREATE TABLE ledger_time_marks (
    position bigint PRIMARY KEY,
    at timestamptz NOT NULL
);
CREATE INDEX ledger_time_marks_at_idx ON ledger_time_marks (at);

DELETE FROM ledger_journal;
DELETE FROM ledger_bookings;
DELETE FROM ledger_pools;
DELETE FROM ledger_facilities;
DELETE FROM ledger_closed_days;
UPDATE projection_positions SET position = 0, event_time = NULL, updated_at = now()
    WHERE projection = 'ledger';
