-- The chain trigger of 0010 updated the one head row for every event. Within one
-- transaction each update walks the row versions the earlier ones left behind, so
-- appending n events in one transaction (a bulk import, the benchmark's fill) cost
-- O(n^2): 2,700 events/s at 50,000 per statement. Now the running head is carried
-- from event to event in a transaction-local setting, and the head row is written
-- once per statement. The chain and its bytes are unchanged.
--
-- berth.event_chain_head = '<xid> <position> <length> <link hex>'. It is trusted only
-- in the transaction that set it (its xid), which holds the head row's lock from the
-- first event it chained; a setting left by anyone else is ignored.

CREATE OR REPLACE FUNCTION event_chain_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    carried text := current_setting('berth.event_chain_head', true);
    xid text := pg_current_xact_id()::text;
    previous_position bigint;
    chained bigint;
    link bytea;
BEGIN
    IF split_part(carried, ' ', 1) = xid THEN
        previous_position := split_part(carried, ' ', 2)::bigint;
        chained := split_part(carried, ' ', 3)::bigint;
        link := decode(split_part(carried, ' ', 4), 'hex');
    ELSE
        SELECT h.position, h.length, h.link INTO previous_position, chained, link
            FROM event_chain_head h FOR UPDATE;
    END IF;
    IF NEW.notification_id <= previous_position THEN
        NEW.notification_id := nextval(pg_get_serial_sequence('berth_events', 'notification_id'));
    END IF;
    link := sha256(link || event_chain_record(NEW.originator_id,
        NEW.originator_version, NEW.topic, NEW.state, NEW.notification_id));
    INSERT INTO event_chain VALUES (NEW.notification_id, previous_position,
        NEW.originator_id, NEW.originator_version, link);
    PERFORM set_config('berth.event_chain_head',
        concat_ws(' ', xid, NEW.notification_id, chained + 1, encode(link, 'hex')), true);
    RETURN NEW;
END
$$;

CREATE FUNCTION event_chain_store_head() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    carried text := current_setting('berth.event_chain_head', true);
BEGIN
    IF split_part(carried, ' ', 1) = pg_current_xact_id()::text THEN
        UPDATE event_chain_head SET
            position = split_part(carried, ' ', 2)::bigint,
            length = split_part(carried, ' ', 3)::bigint,
            link = decode(split_part(carried, ' ', 4), 'hex');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER berth_events_chain_head AFTER INSERT ON berth_events
    FOR EACH STATEMENT EXECUTE FUNCTION event_chain_store_head();
