-- The event store, exactly as eventsourcing 9.5.6 (eventsourcing.postgres) creates it
-- for an Application named Berth with snapshotting enabled, originator ids of type uuid,
-- in schema public. The application runs with CREATE_TABLE=n: these migrations own every
-- table. The library's es_insert_events_uuid() function is left out on purpose: it is used
-- only with POSTGRES_ENABLE_DB_FUNCTIONS, which Berth does not switch on (see DESIGN.md).

-- Composite type the recorders bind a batch of events to (unnest(%s::stored_event_uuid[])).
-- The library registers it with psycopg when a recorder is constructed.
CREATE TYPE public.stored_event_uuid AS (
    originator_id uuid,
    originator_version bigint,
    topic text,
    state bytea
);

-- Application recorder: every domain event, with its position in the notification log.
CREATE TABLE public.berth_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);

CREATE UNIQUE INDEX berth_events_notification_id_idx
    ON public.berth_events (notification_id ASC);

-- Snapshot recorder (an aggregate recorder: no notification log).
CREATE TABLE public.berth_snapshots (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);
