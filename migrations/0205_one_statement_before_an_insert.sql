-- Before each insert, eventsourcing's recorder sends three statements: SET LOCAL
-- lock_timeout, the table lock (berth_lock_events(), migration 0090) and NOTIFY
-- berth_events (which wakes the projection workers when the transaction commits). A
-- command's save then pays for three statements' parsing, binding and answers on
-- both sides; this function does the three in one. Its lock timeout is in seconds,
-- as the library's; the notification is the library's (channel berth_events, no
-- payload), sent at commit as NOTIFY's is. berth_lock_events() stays, for a process
-- of an earlier release while a deploy rolls.
CREATE FUNCTION berth_lock_events(lock_timeout_seconds integer) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    -- Not listed in the function's SET clause, so it lasts to the transaction's end,
    -- as the library's SET LOCAL did.
    PERFORM set_config('lock_timeout', lock_timeout_seconds || 's', true);
    LOCK TABLE public.berth_events IN EXCLUSIVE MODE;
    PERFORM pg_notify('berth_events', '');
END
$$;
REVOKE ALL ON FUNCTION berth_lock_events(integer) FROM PUBLIC;
