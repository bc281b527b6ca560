"""The database roles Berth runs as, and the rights each one has.

* the owner (``BERTH_MIGRATE_DATABASE_URL``; embedded: ``berth_owner``) runs the
  migrations and owns what they create: the read models, keys, positions, ...
* the application role (``BERTH_DATABASE_URL``; embedded: ``berth_app``) is what the
  web app, the workers and the operating commands connect as. Its rights are set by
  ``migrations/grants/app_role.sql`` after every migration run (`apply_grants`).
* ``berth_store`` (no login, no members) owns the event store, the hash chain and
  the chain's SECURITY DEFINER functions once a superuser has sealed them
  (`seal_event_store`): then neither the owner nor the application role can change,
  delete, truncate or un-trigger an event or a link; only a superuser can.

Roles are global to a PostgreSQL cluster while databases are not, and the test suite
creates them from several processes at once: `ensure_roles` creates each one in its
own statement and takes "already there" (whoever won the race) as success.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

OWNER_ROLE = "berth_owner"
APP_ROLE = "berth_app"
STORE_ROLE = "berth_store"

GRANTS_FILE = Path("grants") / "app_role.sql"

# What the sealed store role owns: the event store as eventsourcing creates it, and the
# chain of migrations 0010, 0011, 0090 and 0205 (sequences move with their tables).
STORE_TABLES = ("berth_events", "berth_snapshots", "event_chain", "event_chain_head")
STORE_FUNCTIONS = (
    "event_chain_record(uuid, bigint, text, bytea, bigint)",
    "event_chain_append()",
    "event_chain_store_head()",
    "event_store_append_only()",
    "berth_lock_events()",
    "berth_lock_events(integer)",
)
STORE_TYPES = ("stored_event_uuid",)

Connection = psycopg.Connection[Any]

_CREATE_ROLE = """
DO $$
BEGIN
    CREATE ROLE {role} {options};
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created meanwhile by another process: the same role
END
$$
"""


def ensure_roles(conn: Connection) -> None:
    """Create the three roles if missing (needs CREATEROLE; safe to race)."""
    create_role(conn, OWNER_ROLE, login=True)
    create_role(conn, APP_ROLE, login=True)
    create_role(conn, STORE_ROLE, login=False)


def create_role(conn: Connection, role: str, *, login: bool) -> None:
    """``CREATE ROLE``, where a role of that name already there counts as done.

    Two sessions creating one role at once: the second waits on the first's
    catalogue row, then fails with unique_violation (or duplicate_object once the
    first has committed); either means the role is there.
    """
    options = sql.SQL("LOGIN" if login else "NOLOGIN")
    conn.execute(sql.SQL(_CREATE_ROLE).format(role=sql.Identifier(role), options=options))


def prepare_database(conn: Connection, *, owner: str = OWNER_ROLE) -> None:
    """Let ``owner`` create tables in public and schemas (rebuilds) in this database.

    The database and its public schema stay the superuser's: the owner of a schema
    may drop any table in it, the sealed event store included.
    """
    dbname = conn.execute("SELECT current_database()").fetchone()
    assert dbname is not None
    conn.execute(
        sql.SQL("GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {} TO {}").format(
            sql.Identifier(dbname[0]), sql.Identifier(owner)
        )
    )
    conn.execute(
        sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(sql.Identifier(owner))
    )


def current_role(url: str) -> str:
    """The role a connection to ``url`` runs as (PGUSER and libpq defaults included)."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT current_user").fetchone()
    assert row is not None
    return str(row[0])


def is_superuser(conn: Connection) -> bool:
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


def apply_grants(conn: Connection, *, app_role: str, migrations_dir: Path) -> None:
    """Give ``app_role`` its rights on every object the connection's role may grant on."""
    grants = (migrations_dir / GRANTS_FILE).read_text(encoding="utf-8")
    with conn.transaction():
        conn.execute("SELECT set_config('berth.app_role', %s, true)", (app_role,))
        conn.execute(grants.encode("utf-8"))


def seal_event_store(conn: Connection, *, app_role: str, owner: str, migrations_dir: Path) -> None:
    """Hand the event store and chain to ``berth_store`` (needs a superuser; idempotent).

    Then only a superuser can alter, disable the triggers of, or drop them; the
    owner keeps SELECT (migrations may read events), the application role its
    grants (applied here, as the superuser, since the owner can no longer grant them).
    """
    ensure_roles(conn)
    store = sql.Identifier(STORE_ROLE)
    with conn.transaction():
        for table in STORE_TABLES:
            conn.execute(
                sql.SQL("ALTER TABLE public.{} OWNER TO {}").format(sql.Identifier(table), store)
            )
        for function in STORE_FUNCTIONS:
            conn.execute(
                sql.SQL("ALTER FUNCTION public.{} OWNER TO {}").format(sql.SQL(function), store)
            )
        for type_name in STORE_TYPES:
            conn.execute(
                sql.SQL("ALTER TYPE public.{} OWNER TO {}").format(sql.Identifier(type_name), store)
            )
        if owner != app_role and not is_superuser_role(conn, owner):
            for table in STORE_TABLES:
                conn.execute(
                    sql.SQL("GRANT SELECT ON public.{} TO {}").format(
                        sql.Identifier(table), sql.Identifier(owner)
                    )
                )
    apply_grants(conn, app_role=app_role, migrations_dir=migrations_dir)


def is_superuser_role(conn: Connection, role: str) -> bool:
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    return bool(row and row[0])


_ADOPT = """
DO $$
DECLARE
    object record;
BEGIN
    FOR object IN
        SELECT c.oid::regclass AS name FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relowner = current_user::regrole
          AND c.relkind IN ('r', 'p', 'v', 'S')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO {owner}', object.name);
    END LOOP;
    FOR object IN
        SELECT p.oid::regprocedure AS name FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner = current_user::regrole
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO {owner}', object.name);
    END LOOP;
    FOR object IN
        SELECT t.oid::regtype AS name FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
        LEFT JOIN pg_class c ON c.oid = t.typrelid
        WHERE n.nspname = 'public' AND t.typowner = current_user::regrole
          AND t.typtype IN ('c', 'e', 'd') AND (t.typrelid = 0 OR c.relkind = 'c')
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO {owner}', object.name);
    END LOOP;
END
$$
"""


def adopt_objects(conn: Connection, *, owner: str = OWNER_ROLE) -> None:
    """Give ``owner`` what the connected superuser owns in public.

    An embedded data directory made before the roles existed was migrated as the
    superuser; from now on the owner migrates it. Nothing to do on a fresh one.
    """
    conn.execute(sql.SQL(_ADOPT).format(owner=sql.Identifier(owner)))
