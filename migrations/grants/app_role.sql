-- The rights of the application role: the user of BERTH_DATABASE_URL, as which the web
-- app, the workers and the operating commands connect. `berth migrate` runs this file
-- after every run, as the owner (and again as a superuser when it seals the event store,
-- see README "Database roles"), with berth.app_role set to that role's name. It is
-- idempotent, and it covers every table in schema public whoever added it:
--
--   * every table, view and sequence not listed below: the read models, positions,
--     API keys, idempotency records, offsets, ...: SELECT, INSERT, UPDATE, DELETE
--     (sequences: USAGE, SELECT). No TRUNCATE, REFERENCES or TRIGGER, and never DDL:
--     only an object's owner may ALTER or DROP it, and the role owns nothing.
--   * the tables listed below get exactly the rights given here, and nothing else.
--
-- A new table that needs tighter rights than read-and-write must be added to a list
-- (`append_only`, or the `tighter` array and a GRANT below); otherwise it gets read-and-write on the next
-- `berth migrate`. Only objects the running role may grant on are touched: run as the
-- owner, the event store a superuser sealed (owned by berth_store) is left as it is.
DO $grants$
DECLARE
    app name := current_setting('berth.app_role');
    tighter text[] := ARRAY[
        'berth_events', 'berth_snapshots',          -- the event store: append and read
        'event_chain', 'event_chain_head',          -- the hash chain: read; the trigger writes
        'berth_migrations',                         -- which migrations ran: read
        -- Replay checkpoints: read. What an auditor's as-of answer starts from is written
        -- only by `berth audit checkpoint`, as the owner (migration 0195).
        'audit_ledger_checkpoints'
    ];
    append_only text[] := ARRAY[
        'api_key_changes'                           -- who changed which key: read and add
    ];
    object record;
BEGIN
    FOR object IN
        SELECT c.oid::regclass AS name, c.relname, c.relkind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND pg_has_role(c.relowner, 'USAGE')
        ORDER BY c.relname
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM %I', object.name, app);
        IF object.relkind = 'S' THEN
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', object.name, app);
        ELSIF object.relname = ANY (tighter) THEN
            EXECUTE format('GRANT SELECT ON %s TO %I', object.name, app);
        ELSIF object.relname = ANY (append_only) THEN
            EXECUTE format('GRANT SELECT, INSERT ON %s TO %I', object.name, app);
        ELSE
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %I', object.name, app);
        END IF;
    END LOOP;

    -- Events and snapshots: INSERT of the columns the library writes. The position
    -- (notification_id) always comes from its sequence; no UPDATE, DELETE or TRUNCATE.
    FOR object IN
        SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname IN ('berth_events', 'berth_snapshots')
          AND pg_has_role(c.relowner, 'USAGE')
    LOOP
        EXECUTE format('GRANT INSERT (originator_id, originator_version, topic, state) ON %s TO %I',
            object.name, app);
    END LOOP;

    -- The recorder's table lock (migration 0090).
    IF to_regprocedure('public.berth_lock_events()') IS NOT NULL
       AND pg_has_role((SELECT proowner FROM pg_proc
                        WHERE oid = 'public.berth_lock_events()'::regprocedure), 'USAGE') THEN
        EXECUTE format('GRANT EXECUTE ON FUNCTION public.berth_lock_events() TO %I', app);
    END IF;
    -- The same, with the lock timeout and NOTIFY before each insert (migration 0205).
    IF to_regprocedure('public.berth_lock_events(integer)') IS NOT NULL
       AND pg_has_role((SELECT proowner FROM pg_proc
                        WHERE oid = 'public.berth_lock_events(integer)'::regprocedure), 'USAGE') THEN
        EXECUTE format('GRANT EXECUTE ON FUNCTION public.berth_lock_events(integer) TO %I', app);
    END IF;
END
$grants$;

-- Partner mail (berth.adapters.mail, migration 0170): the mail tables get read-and-write
-- from the loop above, except that a partner's reference, once it names a booking, is
-- kept: the application role may read and add them, never change or delete one.
DO $mail_grants$
DECLARE
    app name := current_setting('berth.app_role');
BEGIN
    IF to_regclass('public.mail_partner_refs') IS NOT NULL
       AND pg_has_role((SELECT relowner FROM pg_class
                        WHERE oid = 'public.mail_partner_refs'::regclass), 'USAGE') THEN
        EXECUTE format('REVOKE UPDATE, DELETE ON public.mail_partner_refs FROM %I', app);
    END IF;
END
$mail_grants$;
-- Outbound webhooks (issue 14, migration 0150): webhook_subscriptions and
-- webhook_deliveries take the default read-and-write above (the API manages
-- subscriptions, the worker plans and records deliveries); their sequence USAGE.
-- Staff web screen (issue 15, migration 0160): staff_users and staff_sessions are
-- read-and-write for the application role (sign-in counts failures and locks, sessions
-- come and go), but a staff user is never deleted: events name them as their principal.
DO $staff$
DECLARE
    app name := current_setting('berth.app_role');
BEGIN
    IF to_regclass('public.staff_users') IS NOT NULL
       AND pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'public.staff_users'::regclass),
                       'USAGE') THEN
        EXECUTE format('REVOKE DELETE ON public.staff_users FROM %I', app);
    END IF;
END
$staff$;
