-- Revenue follows the nightly prices a booking was sold at (rate plans, issue
-- 12): closing a night recognises that night's price times the quantity, the
-- stay's last night the remainder of the total (berth.domain.recognition). The
-- ledger keeps each booking's quantity and nightly breakdown; NULL night_prices:
-- none known (an amendment recorded before rate plans), the total is recognised
-- evenly as before.
--
-- Existing rows cannot know their breakdown and their recognitions were posted
-- evenly, so the ledger projection starts over, as in 0122: its rows are emptied
-- and its position set back to zero in this transaction; a running ledger
-- worker notices the moved position and replays from the start of the log.
-- Histories from before rate plans replay to the same journal (their nights
-- were all at the pool's one price, which the even split already gave).
ALTER TABLE ledger_bookings
    ADD COLUMN quantity integer NOT NULL DEFAULT 1,
    ADD COLUMN night_prices bigint[];

DELETE FROM ledger_journal;
DELETE FROM ledger_bookings;
DELETE FROM ledger_pools;
DELETE FROM ledger_facilities;
DELETE FROM ledger_closed_days;
DELETE FROM ledger_time_marks;
UPDATE projection_positions SET position = 0, event_time = NULL, updated_at = now()
    WHERE projection = 'ledger';
