-- The catalogue read model (issue 12): facilities, pools, gates and cameras as
-- GET /facilities, /pools, /gates and /facilities/{id}/cameras show them, owned
-- by the catalogue projection. A camera's secret stays in gate_cameras only.

CREATE TABLE catalogue_facilities (
    facility_id uuid PRIMARY KEY,
    name text NOT NULL,
    time_zone text NOT NULL,
    currency text,
    version integer NOT NULL,
    position bigint NOT NULL,
    created_at timestamptz NOT NULL,
    modified_at timestamptz NOT NULL
);

CREATE TABLE catalogue_pools (
    pool_id uuid PRIMARY KEY,
    facility_id uuid NOT NULL,
    name text NOT NULL,
    capacity integer NOT NULL,
    nightly_price bigint NOT NULL,
    currency text NOT NULL,
    time_zone text NOT NULL,
    cancellation jsonb NOT NULL,
    tax_rate_bp integer NOT NULL DEFAULT 0,
    overstay_hourly bigint NOT NULL DEFAULT 0,
    version integer NOT NULL,
    position bigint NOT NULL,
    created_at timestamptz NOT NULL,
    modified_at timestamptz NOT NULL
);
CREATE INDEX catalogue_pools_facility_idx ON catalogue_pools (facility_id, pool_id);

CREATE TABLE catalogue_gates (
    gate_id uuid PRIMARY KEY,
    facility_id uuid NOT NULL,
    name text NOT NULL,
    direction text NOT NULL,
    early_grace_minutes integer NOT NULL,
    late_grace_minutes integer NOT NULL,
    passage_seconds integer NOT NULL,
    version integer NOT NULL,
    position bigint NOT NULL,
    created_at timestamptz NOT NULL,
    modified_at timestamptz NOT NULL
);
CREATE INDEX catalogue_gates_facility_idx ON catalogue_gates (facility_id, gate_id);

CREATE TABLE catalogue_cameras (
    facility_id uuid NOT NULL,
    camera_id text NOT NULL,
    camera_key uuid NOT NULL UNIQUE,            -- the Camera aggregate's id
    gate_id uuid NOT NULL,
    previous_valid_until timestamptz,
    rekeyed_at timestamptz,
    version integer NOT NULL,
    position bigint NOT NULL,
    created_at timestamptz NOT NULL,
    modified_at timestamptz NOT NULL,
    PRIMARY KEY (facility_id, camera_id)
);
