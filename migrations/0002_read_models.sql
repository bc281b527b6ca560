-- Read models of the booking API, each owned by one projection, and the
-- position each projection has applied, written in the same transaction.

CREATE TABLE projection_positions (
    projection text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    event_time timestamptz,                      -- time of the last event applied
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- availability: per pool and night, from the NightInventory events.
CREATE TABLE availability_pools (
    pool_id uuid PRIMARY KEY,
    facility_id uuid NOT NULL,
    name text NOT NULL,
    capacity integer NOT NULL,                   -- capacity of a night with no inventory yet
    nightly_price bigint NOT NULL,
    currency text NOT NULL,
    time_zone text NOT NULL
);

CREATE TABLE availability_nights (
    pool_id uuid NOT NULL,
    night date NOT NULL,
    capacity integer NOT NULL,
    PRIMARY KEY (pool_id, night)
);

-- One row per booking per night; expires_at is NULL once confirmed, so
-- "held" can be counted at query time and an expired hold stops counting at once.
CREATE TABLE availability_allocations (
    pool_id uuid NOT NULL,
    night date NOT NULL,
    booking_id uuid NOT NULL,
    quantity integer NOT NULL,
    expires_at timestamptz,
    PRIMARY KEY (pool_id, night, booking_id)
);

-- bookings: one row per booking, from the Booking events.
CREATE TABLE bookings (
    booking_id uuid PRIMARY KEY,
    reference text NOT NULL,
    facility_id uuid NOT NULL,
    pool_id uuid NOT NULL,
    channel text NOT NULL,
    status text NOT NULL,
    arrival date NOT NULL,
    departure date NOT NULL,
    quantity integer NOT NULL,
    guest jsonb NOT NULL,
    plates jsonb NOT NULL,
    hold_expires_at timestamptz NOT NULL,
    currency text NOT NULL,
    nightly_price bigint NOT NULL,
    total bigint NOT NULL,
    cancellation_fee bigint NOT NULL DEFAULT 0,
    paid bigint NOT NULL DEFAULT 0,
    refunded bigint NOT NULL DEFAULT 0,
    version integer NOT NULL,
    position bigint NOT NULL,                    -- position of the booking's last event
    created_at timestamptz NOT NULL,
    modified_at timestamptz NOT NULL
);

CREATE INDEX bookings_reference_idx ON bookings (reference);
CREATE INDEX bookings_facility_arrival_idx ON bookings (facility_id, arrival);
CREATE INDEX bookings_facility_departure_idx ON bookings (facility_id, departure);
CREATE INDEX bookings_position_idx ON bookings (position);
CREATE INDEX bookings_channel_position_idx ON bookings (channel, position);
CREATE INDEX bookings_held_idx ON bookings (hold_expires_at) WHERE status = 'held';
