"""A projection's read model rebuilt aside, in a schema of its own, then swapped in or compared.

The schema `berth_rebuild_<projection>` holds an empty copy of each of the
projection's tables (`CREATE TABLE ... (LIKE public.t INCLUDING ALL)`: columns,
defaults, generated columns, constraints and indexes, the indexes renamed to the
live ones' names), its own `projection_positions`, and a view `berth_events` of
the store. A connection whose search_path is that schema alone runs the
projection's unchanged runner and writer there: the writers name their tables
unqualified, and any table missing from `read_models.TABLES` fails the rebuild
rather than being written live.

`swap` runs in the caller's transaction, which has locked the live position row
(`lock_live_position`): it drops the live tables, moves the rebuilt ones into
`public` and sets the live position to the rebuilt one. `compare` reports rows
that differ between the two, both ways, per table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from berth.adapters.postgres.event_wakeups import POSITIONS_CHANNEL
from berth.adapters.postgres.standby_lock import lock_key

Connection = psycopg.Connection[Any]
Tables = Mapping[str, tuple[str, ...]]  # table -> key columns
LIVE = "public"


class RebuildError(Exception):
    """A rebuild could not be set up, run or swapped in; nothing live was changed."""


class RebuildRunning(RebuildError):
    pass


def schema(projection: str) -> str:
    return f"berth_rebuild_{projection}"


class RebuildLock:
    """One rebuild (or check) per projection at a time: a session advisory lock, not waited for."""

    def __init__(self, url: str, projection: str) -> None:
        self.url = url
        self.projection = projection
        self._conn: Connection | None = None

    def __enter__(self) -> RebuildLock:
        conn = psycopg.connect(
            self.url, autocommit=True, application_name=f"berth-rebuild-lock:{self.projection}"
        )
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s)", (lock_key(f"rebuild:{self.projection}"),)
        ).fetchone()
        if row is None or not row[0]:
            conn.close()
            raise RebuildRunning(f"a rebuild of {self.projection} is already running")
        self._conn = conn
        return self

    def __exit__(self, *_: object) -> None:
        if self._conn is not None:
            self._conn.close()  # ends the session, and with it the lock
            self._conn = None


# -- setting up and tearing down ------------------------------------------------


def create(conn: Connection, projection: str, tables: Tables) -> None:
    """An empty copy of the projection's tables in its rebuild schema (replacing any left over)."""
    aside = schema(projection)
    with conn.transaction():
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(aside)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(aside)))
        for table in [*tables, "projection_positions"]:
            _refuse_sequences(conn, table)
            conn.execute(
                sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                    sql.Identifier(aside, table), sql.Identifier(LIVE, table)
                )
            )
            _name_indexes_as_live(conn, aside, table)
        conn.execute(
            sql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
                sql.Identifier(aside, "berth_events"), sql.Identifier(LIVE, "berth_events")
            )
        )


def use(conn: Connection, projection: str) -> None:
    """Point the connection's unqualified names at the projection's rebuild schema, only."""
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema(projection))))
    conn.commit()


def analyze(conn: Connection, projection: str, tables: Tables) -> None:
    """Statistics for the rebuilt tables, so queries plan well on them from the swap on."""
    for table in tables:
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema(projection), table)))
    conn.commit()


def drop(conn: Connection, projection: str) -> None:
    conn.execute(
        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema(projection)))
    )
    conn.commit()


def _refuse_sequences(conn: Connection, table: str) -> None:
    """LIKE would share a serial's sequence with the live table, or restart an identity."""
    row = conn.execute(
        "SELECT count(*) FROM pg_attribute a"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped"
        " AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%')",
        (f"{LIVE}.{table}",),
    ).fetchone()
    if row is not None and row[0]:
        raise RebuildError(f"{table} has a sequence-backed column; rebuilds do not handle those")


_INDEX_NAME = re.compile(r"INDEX \S+ ON \S+ ")


def _indexes(conn: Connection, namespace: str, table: str) -> dict[str, str]:
    """Index name -> its definition with the name and table left out."""
    rows = conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass",
        (f"{namespace}.{table}",),
    ).fetchall()
    return {name: _INDEX_NAME.sub("INDEX ON ", definition) for name, definition in rows}


def _name_indexes_as_live(conn: Connection, aside: str, table: str) -> None:
    """LIKE names indexes after their columns: give each its live twin's name (and constraint's)."""
    live = {definition: name for name, definition in _indexes(conn, LIVE, table).items()}
    copied = _indexes(conn, aside, table)
    if len(live) != len(copied) or sorted(live) != sorted(copied.values()):
        raise RebuildError(f"the indexes of {table} could not be matched one to one")
    renames = [(name, live[definition]) for name, definition in copied.items()]
    for step, (name, _) in enumerate(renames):  # out of each other's way first
        conn.execute(
            sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                sql.Identifier(aside, name), sql.Identifier(f"berth_rebuild_{step}")
            )
        )
    for step, (_, target) in enumerate(renames):
        conn.execute(
            sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                sql.Identifier(aside, f"berth_rebuild_{step}"), sql.Identifier(target)
            )
        )


# -- holding the live projection still, and swapping -------------------------------


def lock_live_position(conn: Connection, projection: str) -> int:
    """In the caller's transaction: lock the live position row (its runner's next commit waits)."""
    conn.execute(
        "INSERT INTO public.projection_positions (projection) VALUES (%s)"
        " ON CONFLICT (projection) DO NOTHING",
        (projection,),
    )
    row = conn.execute(
        "SELECT position FROM public.projection_positions WHERE projection = %s FOR UPDATE",
        (projection,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def rebuilt_position(conn: Connection, projection: str) -> int:
    row = conn.execute(
        sql.SQL("SELECT position FROM {} WHERE projection = %s").format(
            sql.Identifier(schema(projection), "projection_positions")
        ),
        (projection,),
    ).fetchone()
    return int(row[0]) if row else 0


def swap(conn: Connection, projection: str, tables: Tables) -> int:
    """In the caller's transaction, holding the live position: the rebuilt tables go live.

    Returns the position they were rebuilt to, now the live position.
    """
    aside = schema(projection)
    row = conn.execute(
        sql.SQL("SELECT position, event_time FROM {} WHERE projection = %s").format(
            sql.Identifier(aside, "projection_positions")
        ),
        (projection,),
    ).fetchone()
    position, event_time = (int(row[0]), row[1]) if row else (0, None)
    for table in tables:
        grants = _grants(conn, table)
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(LIVE, table)))
        conn.execute(
            sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                sql.Identifier(aside, table), sql.Identifier(LIVE)
            )
        )
        for privilege, grantee in grants:
            conn.execute(
                sql.SQL("GRANT {} ON {} TO {}").format(
                    sql.SQL(privilege),
                    sql.Identifier(LIVE, table),
                    sql.SQL("PUBLIC") if grantee is None else sql.Identifier(grantee),
                )
            )
    conn.execute(
        "UPDATE public.projection_positions"
        " SET position = %s, event_time = %s, updated_at = now() WHERE projection = %s",
        (position, event_time, projection),
    )
    conn.execute("SELECT pg_notify(%s, %s)", (POSITIONS_CHANNEL, f"{projection}:{position}"))
    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(aside)))
    return position


_PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}
)


def _grants(conn: Connection, table: str) -> list[tuple[str, str | None]]:
    """The live table's grants (privilege, grantee; None is PUBLIC), to carry over to its
    rebuilt successor: the application role keeps exactly its rights across a swap."""
    rows = conn.execute(
        "SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN NULL"
        " ELSE pg_get_userbyid(a.grantee) END"
        " FROM pg_class c, aclexplode(c.relacl) a"
        " WHERE c.oid = %s::regclass AND a.grantee <> c.relowner",
        (f"{LIVE}.{table}",),
    ).fetchall()
    return [(str(privilege), grantee) for privilege, grantee in rows if privilege in _PRIVILEGES]


# -- comparing ---------------------------------------------------------------------


@dataclass
class TableDifference:
    """Rows of one table that are not in both: by key, changed, only live or only rebuilt."""

    table: str
    live_rows: int
    rebuilt_rows: int
    changed: int
    only_live: int
    only_rebuilt: int
    samples: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.changed + self.only_live + self.only_rebuilt

    def summary(self) -> str:
        parts = [
            f"{count} {what}"
            for count, what in (
                (self.changed, "changed"),
                (self.only_live, "only live"),
                (self.only_rebuilt, "only rebuilt"),
            )
            if count
        ]
        return f"{self.table}: {', '.join(parts)}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "live_rows": self.live_rows,
            "rebuilt_rows": self.rebuilt_rows,
            "changed": self.changed,
            "only_live": self.only_live,
            "only_rebuilt": self.only_rebuilt,
            "samples": self.samples,
        }


def compare(
    conn: Connection, projection: str, tables: Tables, *, samples: int = 3
) -> list[TableDifference]:
    """Each table that differs between live and rebuilt, row by row (`EXCEPT` both ways)."""
    differences = []
    for table, key in tables.items():
        live = sql.Identifier(LIVE, table)
        rebuilt = sql.Identifier(schema(projection), table)
        keys = sql.SQL(", ").join(map(sql.Identifier, key))
        statement = sql.SQL(
            "WITH l AS (SELECT * FROM {live} EXCEPT SELECT * FROM {rebuilt}),"
            " r AS (SELECT * FROM {rebuilt} EXCEPT SELECT * FROM {live})"
            " SELECT (SELECT count(*) FROM {live}), (SELECT count(*) FROM {rebuilt}),"
            " (SELECT count(*) FROM l), (SELECT count(*) FROM r),"
            " (SELECT count(*) FROM l JOIN r USING ({keys})),"
            " (SELECT coalesce(jsonb_agg(x), '[]') FROM"
            "   (SELECT to_jsonb(l) x FROM l ORDER BY {keys} LIMIT {n}) s),"
            " (SELECT coalesce(jsonb_agg(x), '[]') FROM"
            "   (SELECT to_jsonb(r) x FROM r ORDER BY {keys} LIMIT {n}) s)"
        ).format(live=live, rebuilt=rebuilt, keys=keys, n=sql.Literal(samples))
        row = conn.execute(statement).fetchone()
        assert row is not None
        live_rows, rebuilt_rows, only_l, only_r, changed, live_samples, rebuilt_samples = row
        if only_l or only_r:
            differences.append(
                TableDifference(
                    table=table,
                    live_rows=live_rows,
                    rebuilt_rows=rebuilt_rows,
                    changed=changed,
                    only_live=only_l - changed,
                    only_rebuilt=only_r - changed,
                    samples={"live": live_samples, "rebuilt": rebuilt_samples},
                )
            )
    return differences
