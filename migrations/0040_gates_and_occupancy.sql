-- Gates: plate lookup on the bookings read model, camera secrets for signed
-- webhooks, and the occupancy read model (owned by the occupancy projection).

-- Must agree with berth.domain.plates.normalise_plate (a test checks both).
CREATE FUNCTION berth_normalise_plates(plates jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(upper(regexp_replace(p, '[[:space:]\-.·_/]+', '', 'g'))), '{}')
    FROM jsonb_array_elements_text(plates) AS p
$$;

ALTER TABLE bookings
    ADD COLUMN overstay_charged bigint NOT NULL DEFAULT 0,
    ADD COLUMN plates_normalised text[]
        GENERATED ALWAYS AS (berth_normalise_plates(plates)) STORED;
CREATE INDEX bookings_plates_normalised_idx ON bookings USING gin (plates_normalised);

-- The shared secret of each camera, for the HMAC signature on its webhook calls.
CREATE TABLE gate_cameras (
    camera_id text PRIMARY KEY,
    gate_id uuid NOT NULL,
    facility_id uuid NOT NULL,
    secret text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE occupancy_gates (
    gate_id uuid PRIMARY KEY,
    facility_id uuid NOT NULL,
    name text NOT NULL,
    direction text NOT NULL
);

CREATE TABLE occupancy_bookings (
    booking_id uuid PRIMARY KEY,
    facility_id uuid NOT NULL,
    reference text NOT NULL
);

CREATE TABLE occupancy_on_site (
    booking_id uuid PRIMARY KEY,
    facility_id uuid NOT NULL,
    plate text NOT NULL,
    gate_id uuid NOT NULL,
    read_id text NOT NULL,
    arrived_at timestamptz NOT NULL
);
CREATE INDEX occupancy_on_site_facility_idx ON occupancy_on_site (facility_id);

CREATE TABLE occupancy_reads (
    read_id text PRIMARY KEY,
    read_key uuid NOT NULL UNIQUE,              -- the PlateRead aggregate's id
    facility_id uuid NOT NULL,
    gate_id uuid NOT NULL,
    direction text NOT NULL,
    camera_id text NOT NULL,
    plate text NOT NULL,
    confidence double precision NOT NULL,
    captured_at timestamptz NOT NULL,
    open boolean NOT NULL,
    reason text NOT NULL,
    booking_id uuid,
    resolved boolean NOT NULL DEFAULT false,
    resolution_note text,
    position bigint NOT NULL
);
CREATE INDEX occupancy_reads_unmatched_idx
    ON occupancy_reads (facility_id, captured_at) WHERE booking_id IS NULL;

CREATE TABLE occupancy_overstays (
    booking_id uuid PRIMARY KEY,
    facility_id uuid NOT NULL,
    hours integer NOT NULL,
    amount bigint NOT NULL,
    currency text NOT NULL
);
