-- Rate plans and what a night sells at (issue 12, prices that change and differ).

-- The availability read model learns each pool's cancellation terms and tax rate
-- (for quotes) and every rate plan's terms. Existing pool rows cannot know their
-- cancellation terms, so the projection starts over: its rows are emptied and its
-- position set back to zero in this transaction; a running availability worker
-- notices the moved position and replays from the start of the log.
ALTER TABLE availability_pools
    ADD COLUMN cancellation jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN tax_rate_bp integer NOT NULL DEFAULT 0;

CREATE TABLE availability_rate_plans (
    plan_id uuid PRIMARY KEY,
    pool_id uuid NOT NULL,
    facility_id uuid NOT NULL,
    code text NOT NULL,
    name text NOT NULL,
    currency text NOT NULL,
    terms jsonb NOT NULL,                        -- berth.domain.pricing.PlanTerms.as_dict()
    retired boolean NOT NULL DEFAULT false,
    version integer NOT NULL,
    position bigint NOT NULL,
    created_at timestamptz NOT NULL,
    modified_at timestamptz NOT NULL,
    UNIQUE (pool_id, code)
);

DELETE FROM availability_allocations;
DELETE FROM availability_nights;
DELETE FROM availability_pools;
UPDATE projection_positions SET position = 0, event_time = NULL, updated_at = now()
    WHERE projection = 'availability';

-- The bookings read model shows the plan a booking was sold under and each
-- night's price; a booking held before plans existed was sold under `default` at
-- its nightly price every night (NULL night_prices).
ALTER TABLE bookings
    ADD COLUMN rate_plan text NOT NULL DEFAULT 'default',
    ADD COLUMN night_prices jsonb;
