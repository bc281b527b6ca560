-- Least privilege for the event store (see README, "Database roles").
--
-- The application connects as a role that may only SELECT and INSERT events; it has no
-- right on the chain tables but SELECT. So everything the chain does on an insert runs
-- in SECURITY DEFINER functions, as the role that owns the chain, with a pinned
-- search_path. The grants themselves are in migrations/grants/app_role.sql, which
-- `berth migrate` applies after every run.
--
-- 0011 carried the running head from event to event in a transaction-local setting,
-- trusted when it named the current transaction. Any role can set any custom setting,
-- so an application role could forge the previous link and position and break the chain
-- for good. The trigger now reads nothing a session can set: the previous link is the
-- last row of event_chain, read under the head row's lock (taken again for each event:
-- a no-op once this transaction holds it), and the head row is still written once per
-- statement. The chain and its bytes are unchanged.

-- The library's recorder takes LOCK TABLE berth_events IN EXCLUSIVE MODE before each
-- insert (so the notification order is the commit order). That lock mode needs UPDATE,
-- DELETE or TRUNCATE on the table, none of which the application role has; Berth's
-- recorder takes it through this function instead.
CREATE FUNCTION berth_lock_events() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    LOCK TABLE public.berth_events IN EXCLUSIVE MODE;
END
$$;
REVOKE ALL ON FUNCTION berth_lock_events() FROM PUBLIC;

CREATE OR REPLACE FUNCTION event_chain_append() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    previous_position bigint := 0;
    link bytea := decode(repeat('00', 32), 'hex');
    events regclass := 'public.berth_events'::regclass;
BEGIN
    -- Serialises appends across transactions; in REPEATABLE READ a head moved by
    -- another transaction is a serialisation failure, never a fork.
    PERFORM 1 FROM public.event_chain_head FOR UPDATE;
    SELECT c.position, c.link INTO previous_position, link
        FROM public.event_chain c ORDER BY c.position DESC LIMIT 1;
    IF NOT FOUND THEN
        previous_position := 0;
        link := decode(repeat('00', 32), 'hex');
    END IF;
    -- Only the owner can choose a notification_id (the application role may insert
    -- the four other columns only); chain order is notification order regardless.
    IF NEW.notification_id <= previous_position THEN
        NEW.notification_id := nextval(pg_get_serial_sequence(events::text, 'notification_id'));
        IF NEW.notification_id <= previous_position THEN
            PERFORM setval(pg_get_serial_sequence(events::text, 'notification_id'), previous_position);
            NEW.notification_id := nextval(pg_get_serial_sequence(events::text, 'notification_id'));
        END IF;
    END IF;
    link := sha256(link || public.event_chain_record(NEW.originator_id,
        NEW.originator_version, NEW.topic, NEW.state, NEW.notification_id));
    INSERT INTO public.event_chain VALUES (NEW.notification_id, previous_position,
        NEW.originator_id, NEW.originator_version, link);
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION event_chain_store_head() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    head public.event_chain_head%ROWTYPE;
    added bigint;
    last public.event_chain%ROWTYPE;
BEGIN
    SELECT * INTO head FROM public.event_chain_head;
    -- Rows beyond the head were chained by this statement: this transaction holds the
    -- head row's lock from its first chained event until it commits.
    SELECT count(*) INTO added FROM public.event_chain c WHERE c.position > head.position;
    IF added > 0 THEN
        SELECT * INTO last FROM public.event_chain c ORDER BY c.position DESC LIMIT 1;
        UPDATE public.event_chain_head
            SET position = last.position, link = last.link, length = head.length + added;
    END IF;
    RETURN NULL;
END
$$;
