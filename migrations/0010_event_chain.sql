-- Tamper evidence for the event store: a SHA-256 hash chain over berth_events, and
-- event rows that cannot be updated, deleted or truncated.
--
-- Each event is chained to the one before it in store (notification) order:
--
--     link(n) = sha256(link(n-1) || record(n)),  link(0) = 32 zero bytes
--     record  = uuid(originator_id)         16 bytes
--               int8(originator_version)     8 bytes, big-endian two's complement
--               int4(len(topic)) || topic    topic as UTF-8; NULL is length -1, no bytes
--               int4(len(state)) || state    the stored bytes as they are; NULL as above
--               int8(notification_id)        8 bytes, big-endian
--
-- berth.adapters.chain_record computes the same bytes in Python; `berth audit verify`
-- recomputes every link from the rows and compares. The links live in event_chain,
-- keyed by position, so berth_events stays exactly the table eventsourcing creates.
-- event_chain_head holds the last link, so appending is O(1). A BEFORE INSERT trigger
-- writes both in the transaction that inserts the event.

CREATE TABLE event_chain (
    position bigint PRIMARY KEY,                 -- berth_events.notification_id
    previous_position bigint NOT NULL,           -- the chain's previous event; 0 for the first
    originator_id uuid NOT NULL,                 -- which event was chained here, to tell a
    originator_version bigint NOT NULL,          -- reordered row from an altered one
    link bytea NOT NULL CHECK (octet_length(link) = 32)
);

CREATE TABLE event_chain_head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    position bigint NOT NULL,                    -- the last chained event; 0 before any
    link bytea NOT NULL CHECK (octet_length(link) = 32),
    length bigint NOT NULL                       -- how many events are chained
);

CREATE FUNCTION event_chain_record(
    originator_id uuid, originator_version bigint, topic text, state bytea, notification_id bigint
) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT uuid_send(originator_id)
        || int8send(originator_version)
        || CASE WHEN topic IS NULL THEN int4send(-1)
                ELSE int4send(octet_length(convert_to(topic, 'UTF8'))) || convert_to(topic, 'UTF8')
           END
        || CASE WHEN state IS NULL THEN int4send(-1)
                ELSE int4send(octet_length(state)) || state
           END
        || int8send(notification_id)
$$;

-- Chain the events stored before this migration (none in practice), in store order.
LOCK TABLE berth_events IN EXCLUSIVE MODE;

INSERT INTO event_chain_head (position, link, length) VALUES (0, decode(repeat('00', 32), 'hex'), 0);

DO $$
DECLARE
    event record;
    head event_chain_head%ROWTYPE;
BEGIN
    SELECT * INTO head FROM event_chain_head;
    FOR event IN SELECT * FROM berth_events ORDER BY notification_id LOOP
        head.link := sha256(head.link || event_chain_record(event.originator_id,
            event.originator_version, event.topic, event.state, event.notification_id));
        INSERT INTO event_chain VALUES (event.notification_id, head.position,
            event.originator_id, event.originator_version, head.link);
        head.position := event.notification_id;
        head.length := head.length + 1;
    END LOOP;
    UPDATE event_chain_head SET position = head.position, link = head.link, length = head.length;
END
$$;

-- Appends one event to the chain. The head row's lock serialises appends (the library's
-- LOCK TABLE already does, for its own inserts). A writer that does not take the table
-- lock could reach the head with a notification_id below one already chained; the event
-- then gets a fresh one, so chain order is always notification order.
CREATE FUNCTION event_chain_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head event_chain_head%ROWTYPE;
BEGIN
    SELECT * INTO head FROM event_chain_head FOR UPDATE;
    IF NEW.notification_id <= head.position THEN
        NEW.notification_id := nextval(pg_get_serial_sequence('berth_events', 'notification_id'));
    END IF;
    head.link := sha256(head.link || event_chain_record(NEW.originator_id,
        NEW.originator_version, NEW.topic, NEW.state, NEW.notification_id));
    INSERT INTO event_chain VALUES (NEW.notification_id, head.position,
        NEW.originator_id, NEW.originator_version, head.link);
    UPDATE event_chain_head
        SET position = NEW.notification_id, link = head.link, length = head.length + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER berth_events_chain BEFORE INSERT ON berth_events
    FOR EACH ROW EXECUTE FUNCTION event_chain_append();

-- Append-only: no role the application can use may change or remove an event or a link.
-- (A superuser can still, by disabling triggers or SET session_replication_role = replica;
-- that is what `berth audit verify` and an anchor kept elsewhere are for.)
CREATE FUNCTION event_store_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the event store is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER berth_events_append_only BEFORE UPDATE OR DELETE ON berth_events
    FOR EACH STATEMENT EXECUTE FUNCTION event_store_append_only();
CREATE TRIGGER berth_events_no_truncate BEFORE TRUNCATE ON berth_events
    FOR EACH STATEMENT EXECUTE FUNCTION event_store_append_only();
CREATE TRIGGER event_chain_append_only BEFORE UPDATE OR DELETE ON event_chain
    FOR EACH STATEMENT EXECUTE FUNCTION event_store_append_only();
CREATE TRIGGER event_chain_no_truncate BEFORE TRUNCATE ON event_chain
    FOR EACH STATEMENT EXECUTE FUNCTION event_store_append_only();
CREATE TRIGGER event_chain_head_no_delete BEFORE DELETE ON event_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION event_store_append_only();
CREATE TRIGGER event_chain_head_no_truncate BEFORE TRUNCATE ON event_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION event_store_append_only();
