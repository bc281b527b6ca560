-- Booking search (issue 12): the guest's name and e-mail folded for case- and
-- accent-insensitive search (berth.projections.search_text.fold, in the
-- projection, so the database's collation plays no part).
--
-- Existing rows cannot be folded here (the fold is Python's), so the bookings
-- projection starts over, as in 0075: its rows are emptied and its position set
-- back to zero in this transaction; a running bookings worker notices the moved
-- position and replays from the start of the log.
ALTER TABLE bookings
    ADD COLUMN guest_folded text NOT NULL DEFAULT '',
    ADD COLUMN email_folded text NOT NULL DEFAULT '';
CREATE INDEX bookings_email_folded_idx ON bookings (email_folded) WHERE email_folded <> '';
CREATE INDEX bookings_pool_arrival_idx ON bookings (pool_id, arrival);
CREATE INDEX bookings_arrival_idx ON bookings (arrival, booking_id);
CREATE INDEX bookings_created_idx ON bookings (created_at, booking_id);
DELETE FROM bookings;
UPDATE projection_positions SET position = 0, event_time = NULL, updated_at = now()
    WHERE projection = 'bookings';
