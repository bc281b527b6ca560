"""The `berth` command: migrate, run, operate and inspect Berth from a shell.

Every command prints JSON on stdout and exits non-zero with a one-line reason
on stderr when it fails.
"""

import argparse
import contextlib
import dataclasses
import getpass
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
from eventsourcing import persistence
from psycopg_pool import PoolTimeout

from berth import config, logs, resources
from berth.adapters.inputs import fields as bounded
from berth.adapters.postgres import apikeys, database, migrations
from berth.adapters.postgres.eventstore import last_position, open_reservations
from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandResult
from berth.domain.error import DomainError
from berth.domain.stay import Stay

Handler = Callable[[argparse.Namespace], Any]
LOG_FORMAT_VAR = config.variable("log_format")
METRICS_PORT_VAR = config.variable("metrics_port")


def cli_cause() -> Cause:
    """The command's cause: this invocation's request id (the one its log lines carry)."""
    request_id = logs.current().get("request_id") or str(uuid4())
    return Cause(
        principal=cli_principal(),
        channel="operations",
        request_id=request_id,
        correlation_id=request_id,
    )


def connect() -> tuple[str, Reservations]:
    url = database.database_url()
    return url, open_reservations(url)


def result(outcome: CommandResult) -> dict[str, Any]:
    return {"id": str(outcome.id), "version": outcome.version, "position": outcome.position}


def booking_view(booking: Booking, *, position: int) -> dict[str, Any]:
    """The booking as the API shows it (berth.http.schemas.answers.Booking)."""
    from berth.http.schemas.answers import Booking as Representation  # noqa: PLC0415 - shown so
    from berth.projections.bookings import row_of  # noqa: PLC0415 - by booking commands only

    return dict(Representation().dump(row_of(booking, position=position)))


def booking_after(app: Reservations, outcome: CommandResult) -> dict[str, Any]:
    """The booking as the command left it."""
    booking: Booking = app.repository.get(outcome.id, version=outcome.version)
    return booking_view(booking, position=outcome.position)


# -- handlers -----------------------------------------------------------------


def do_migrate(_: argparse.Namespace) -> Any:
    return {"applied": migrations.migrate_deployment()}


def do_config(_: argparse.Namespace) -> Any:
    """The effective settings (every BERTH_* variable, defaults filled in), secrets masked."""
    return config.load().masked()


def do_up(_: argparse.Namespace) -> Any:
    """Start PostgreSQL (embedded unless BERTH_DATABASE_URL), migrate, run the Procfile.

    A process that dies is restarted with backoff; the others keep running.
    """
    import threading  # noqa: PLC0415

    from berth.workers import supervisor  # noqa: PLC0415 - only `up` supervises

    settings = dataclasses.replace(config.load(), embedded=True)
    json_lines = logs.wants_json(settings)
    url = database.database_url(settings)
    print(json.dumps({"database": config.mask_url(url)}), flush=True)
    # The Procfile names `gunicorn` and `berth`: find this environment's, activated or not.
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    # The release line (`berth migrate`) sees what `berth up` was given: the embedded
    # server's superuser, or BERTH_MIGRATE_DATABASE_URL. The other processes get the
    # application role's URL and never the owner's.
    release_env = dict(os.environ, PATH=path, PYTHONUNBUFFERED="1")
    if database.is_embedded(settings):
        release_env[database.EMBEDDED_VAR] = "1"
    # Every process logs as `up` does (children write to a pipe, which `auto` takes for JSON).
    release_env[LOG_FORMAT_VAR] = "json" if json_lines else "text"
    env = dict(release_env, BERTH_DATABASE_URL=url)
    env.pop(database.MIGRATE_DATABASE_URL_VAR, None)
    processes = procfile_processes()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        supervisor.Supervisor(
            processes, env, release_env=release_env, json_lines=json_lines,
            child_env=metrics_ports(processes, settings.metrics_port),
        ).run(stop)  # fmt: skip
    except supervisor.ReleaseFailed as failed:
        raise ValueError(str(failed)) from None
    return None


def metrics_ports(processes: Sequence[tuple[str, str]], first: int) -> dict[str, dict[str, str]]:
    """With BERTH_METRICS_PORT set, each worker line its own port: that one, the next, ...

    The web line serves /metrics on its own port and the release line serves none."""
    if not first:
        return {}
    workers = [name for name, command in processes if name not in ("web", "release")]
    return {name: {METRICS_PORT_VAR: str(first + i)} for i, name in enumerate(workers)}


def procfile_processes(path: Path | None = None) -> list[tuple[str, str]]:
    """The lines of ``./Procfile`` if there is one, else of the one Berth ships."""
    if path is None:
        path = Path("Procfile") if Path("Procfile").is_file() else resources.packaged("Procfile")
    processes = []
    with path.open(encoding="utf-8") as procfile:
        for line in procfile:
            name, sep, command = line.partition(":")
            if sep and not line.lstrip().startswith("#"):
                processes.append((name.strip(), command.strip()))
    return processes


def do_apikey_create(args: argparse.Namespace) -> Any:
    """Create an API key; its token is printed this once and never stored."""
    import psycopg  # noqa: PLC0415 - only key management talks to PostgreSQL directly

    with psycopg.connect(database.database_url(), autocommit=True) as conn:
        key, token = apikeys.create_key(
            conn, role=args.role, scope=args.scope, label=args.label, principal=cli_principal()
        )
    return {"key_id": key.key_id, "role": key.role, "scope": key.scope, "token": token}


def cli_principal() -> str:
    return f"cli:{getpass.getuser()}"


def do_apikey_list(_: argparse.Namespace) -> Any:
    """Every key, never its secret."""
    import psycopg  # noqa: PLC0415 - only key management talks to PostgreSQL directly

    with psycopg.connect(database.database_url(), autocommit=True) as conn:
        return [key.as_dict() for key in apikeys.iter_keys(conn)]


def do_apikey_revoke(args: argparse.Namespace) -> Any:
    import psycopg  # noqa: PLC0415 - only key management talks to PostgreSQL directly

    with psycopg.connect(database.database_url(), autocommit=True) as conn:
        return apikeys.revoke(conn, args.key_id, principal=cli_principal()).as_dict()


def do_apikey_rotate(args: argparse.Namespace) -> Any:
    """A new secret for the key; the new token is printed this once."""
    import psycopg  # noqa: PLC0415 - only key management talks to PostgreSQL directly

    with psycopg.connect(database.database_url(), autocommit=True) as conn:
        key, token = apikeys.rotate(conn, args.key_id, principal=cli_principal())
    return key.as_dict() | {"token": token}


def do_worker(args: argparse.Namespace) -> Any:
    """Run one long-running worker until SIGTERM or SIGINT."""
    from berth import heap, workers  # noqa: PLC0415 - only `worker` needs the workers

    heap.settle()  # this process's startup: never garbage, so full collections skip it
    workers.run_worker(args.name, database.database_url())
    return {"worker": args.name, "stopped": True}


def do_facility_create(args: argparse.Namespace) -> Any:
    _, app = connect()
    return result(
        app.catalogue.register_facility(
            name=args.name, time_zone=args.time_zone, context=CommandContext(cause=cli_cause())
        )
    )


def do_pool_create(args: argparse.Namespace) -> Any:
    _, app = connect()
    outcome = app.catalogue.add_pool(
        facility_id=args.facility_id,
        name=args.name,
        capacity=args.capacity,
        nightly_price=args.price,
        currency=args.currency,
        context=CommandContext(cause=cli_cause()),
    )
    return result(outcome)


def catalogue_rows(kind: str, *, facility_id: UUID | None = None) -> list[dict[str, Any]]:
    """Every facility or pool (of one facility) the catalogue read model holds, as the API."""
    import psycopg  # noqa: PLC0415 - the catalogue is read straight from its read model

    from berth.adapters.catalogue import queries  # noqa: PLC0415
    from berth.http.schemas import catalogue  # noqa: PLC0415 - shown as the API shows them

    schema = catalogue.FacilityEntry() if kind == "facilities" else catalogue.PoolEntry()
    key = "facility_id" if kind == "facilities" else "pool_id"
    shown: list[dict[str, Any]] = []
    after = None
    with psycopg.connect(database.database_url(), autocommit=True) as conn:
        while True:
            rows, more = queries.page(
                conn, kind, facility_id=facility_id, after=after, limit=queries.MAX_PAGE
            )
            shown += [dict(schema.dump(row)) for row in rows]
            if not more:
                return shown
            after = str(rows[-1][key])


def catalogue_item(kind: str, key: UUID) -> dict[str, Any]:
    import psycopg  # noqa: PLC0415 - the catalogue is read straight from its read model

    from berth.adapters.catalogue import queries  # noqa: PLC0415
    from berth.domain.catalog_commands import UnknownFacility, UnknownPool  # noqa: PLC0415
    from berth.http.schemas import catalogue  # noqa: PLC0415 - shown as the API shows them

    with psycopg.connect(database.database_url(), autocommit=True) as conn:
        row = queries.item(conn, kind, key)
    if kind == "facilities":
        if row is None:
            raise UnknownFacility(f"no facility {key} in the catalogue")
        return dict(catalogue.FacilityEntry().dump(row))
    if row is None:
        raise UnknownPool(f"no pool {key} in the catalogue")
    return dict(catalogue.PoolEntry().dump(row))


def do_facility_list(_: argparse.Namespace) -> Any:
    return catalogue_rows("facilities")


def do_facility_show(args: argparse.Namespace) -> Any:
    return catalogue_item("facilities", args.facility_id)


def do_pool_list(args: argparse.Namespace) -> Any:
    return catalogue_rows("pools", facility_id=args.facility)


def do_pool_show(args: argparse.Namespace) -> Any:
    return catalogue_item("pools", args.pool_id)


def do_hold(args: argparse.Namespace) -> Any:
    _, app = connect()
    outcome = app.bookings.hold(
        pool_id=args.pool_id,
        stay=Stay(args.arrival, args.departure),
        quantity=args.quantity,
        guest={"name": args.guest},
        plates=args.plate,
        context=CommandContext(cause=cli_cause()),
    )
    return booking_after(app, outcome)


def booking_command(name: str) -> Handler:
    def handle(args: argparse.Namespace) -> Any:
        _, app = connect()
        command = getattr(app.bookings, name)
        outcome = command(booking_id=args.booking_id, context=CommandContext(cause=cli_cause()))
        return booking_after(app, outcome)

    return handle


def do_show(args: argparse.Namespace) -> Any:
    url, app = connect()
    booking = app.bookings.booking(args.booking_id)
    return booking_view(booking, position=last_position(url, booking.id))


def do_close_day(args: argparse.Namespace) -> Any:
    """Night audit: close a facility's business day (the ledger recognises its nights)."""
    _, app = connect()
    outcome = app.finance.close_day(
        facility_id=args.facility_id,
        business_date=args.date,
        context=CommandContext(cause=cli_cause()),
    )
    return result(outcome) | {"facility_id": str(args.facility_id), "date": args.date.isoformat()}


# -- audit --------------------------------------------------------------------


def do_audit_verify(args: argparse.Namespace) -> Any:
    from berth.adapters.audit import audit_chain  # noqa: PLC0415 - only audit needs them
    from berth.adapters.console import progress  # noqa: PLC0415 - only audit needs them

    with progress.progress_bar("verifying") as update:
        report = audit_chain.verify(
            database.database_url(),
            start=args.start,
            anchor=args.anchor,
            progress=update,
            all_breaks=args.all_breaks,
        )
    if len(report.breaks) > 1:
        places = ", ".join(f"{b.position} ({b.kind})" for b in report.breaks)
        return audit_outcome(
            report.as_dict(), f"chain broken at {len(report.breaks)} places: {places}"
        )
    return audit_outcome(report.as_dict(), report.broken)


def do_audit_anchor(_: argparse.Namespace) -> Any:
    from berth.adapters.audit import audit_chain  # noqa: PLC0415 - only audit needs it

    return audit_chain.anchor(database.database_url()).as_dict()


def do_audit_export(args: argparse.Namespace) -> Any:
    """Write JSON Lines to --output, or stdout (the summary then goes to stderr)."""
    from berth.adapters.audit import audit_export  # noqa: PLC0415 - only audit needs them
    from berth.adapters.console import progress  # noqa: PLC0415 - only audit needs them

    url = database.database_url()

    def write(out: Any) -> dict[str, Any]:
        with progress.progress_bar("exporting") as update:
            summary = audit_export.export(
                url,
                out,
                start=args.start,
                stop=args.stop,
                aggregate_id=args.aggregate,
                progress=update,
            )
        return summary.as_dict()

    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            return write(out)
    print(json.dumps(write(sys.stdout)), file=sys.stderr)
    return None


def do_audit_verify_export(args: argparse.Namespace) -> Any:
    from berth.adapters.audit import audit_export  # noqa: PLC0415 - only audit needs it

    report = audit_export.verify_export(args.file, anchor=args.anchor, allow_gaps=args.allow_gaps)
    return audit_outcome(report.as_dict(), report.broken)


def do_audit_history(args: argparse.Namespace) -> Any:
    """Every event of an aggregate with the state after it: JSON Lines, or a table."""
    import psycopg  # noqa: PLC0415 - only audit needs these
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from berth.adapters.audit import audit_history  # noqa: PLC0415

    table = Table("version", "position", "time", "type", "principal", "channel", "request")
    with (
        psycopg.connect(database.database_url(), autocommit=True) as conn,
        contextlib.closing(audit_history.iter_history(conn, args.aggregate_id)) as steps,
    ):
        for step in steps:
            if not args.table:
                print(json.dumps(step.as_dict()))
                continue
            cause = step.cause
            table.add_row(
                str(step.version), str(step.position), step.timestamp.isoformat(), step.type,
                cause.get("principal", ""), cause.get("channel", ""), cause.get("request_id", ""),
            )  # fmt: skip
    if args.table:
        Console(width=None if sys.stdout.isatty() else 200).print(table)


def audit_cut(args: argparse.Namespace) -> Any:
    from berth.adapters.audit.audit_history import Cut  # noqa: PLC0415 - only audit needs it

    return Cut(as_of=args.as_of, position=args.position)


def do_audit_as_of(args: argparse.Namespace) -> Any:
    import psycopg  # noqa: PLC0415 - only audit needs these

    from berth.adapters.audit import audit_history  # noqa: PLC0415
    from berth.adapters.console import progress  # noqa: PLC0415

    with (
        psycopg.connect(database.database_url(), autocommit=True) as conn,
        progress.progress_bar("replaying") as update,
    ):
        step = audit_history.state_as_of(conn, args.aggregate_id, audit_cut(args), progress=update)
    return step.as_dict()


def do_audit_trial_balance(args: argparse.Namespace) -> Any:
    import psycopg  # noqa: PLC0415 - only audit needs these

    from berth.adapters.audit import audit_history  # noqa: PLC0415
    from berth.adapters.console import progress  # noqa: PLC0415

    with (
        psycopg.connect(database.database_url(), autocommit=True) as conn,
        progress.progress_bar("replaying") as update,
    ):
        return audit_history.trial_balance_as_of(
            conn,
            args.facility_id,
            audit_cut(args),
            progress=update,
            checkpoints=not args.from_zero,
        )


def do_audit_checkpoint(args: argparse.Namespace) -> Any:
    """Write each facility's replay checkpoints up to the chain's head, as the owner."""
    import psycopg  # noqa: PLC0415 - only audit needs these

    from berth.adapters.audit import checkpoint_writer  # noqa: PLC0415
    from berth.adapters.console import progress  # noqa: PLC0415

    # The application role may only read checkpoints (migration 0195): the owner writes.
    written = []
    with psycopg.connect(database.migrate_database_url(), autocommit=True) as conn:
        facility_ids = args.facility or checkpoint_writer.facilities(conn)
        for n, facility_id in enumerate(facility_ids, 1):
            label = f"checkpointing {facility_id} ({n}/{len(facility_ids)})"
            try:
                with progress.progress_bar(label) as update:
                    every = args.every or checkpoint_writer.EVERY
                    run = checkpoint_writer.write(conn, facility_id, every=every, progress=update)
            except psycopg.errors.InsufficientPrivilege as error:
                sys.exit(
                    f"berth: {str(error).strip()}: checkpoints are written as the owner"
                    f" ({database.MIGRATE_DATABASE_URL_VAR}); the application role only reads them"
                )
            written.append(run.as_dict())
    return written


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def aware_time(text: str) -> datetime:
    """An ISO 8601 time with its UTC offset (`2030-06-01T09:00:00Z`)."""
    when = datetime.fromisoformat(text)
    if when.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. {text}Z")
    return when


def audit_outcome(output: dict[str, Any], broken: object | None) -> Any:
    """The report; on a broken chain, also a one-line reason on stderr and exit 1."""
    if broken is not None:
        print(json.dumps(output, indent=2))
        sys.exit(f"berth: {broken}")
    return output


def add_audit_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    audit = commands.add_parser("audit", help="tamper evidence and exports")
    subcommands = audit.add_subparsers(required=True)
    anchor_help = "a link kept from `berth audit anchor`: the chain must pass through it"

    verify = subcommands.add_parser("verify", help="recompute the event store's hash chain")
    verify.add_argument(
        "--from", dest="start", type=int, help="start here (the link before is taken as given)"
    )
    verify.add_argument("--anchor", type=bytes.fromhex, help=anchor_help)
    verify.add_argument(
        "--all-breaks", action="store_true", help="go on past a break and report every one"
    )
    verify.set_defaults(run=do_audit_verify)

    anchor = subcommands.add_parser("anchor", help="print the chain's head, to keep elsewhere")
    anchor.set_defaults(run=do_audit_anchor)

    export = subcommands.add_parser("export", help="write events and links as JSON Lines")
    export.add_argument("--from", dest="start", type=int, help="first position")
    export.add_argument("--to", dest="stop", type=int, help="last position")
    export.add_argument("--aggregate", type=UUID, help="only this aggregate's events")
    export.add_argument("--output", help="a file (default: stdout)")
    export.set_defaults(run=do_audit_export)

    check = subcommands.add_parser("verify-export", help="re-verify an export from the file")
    check.add_argument("file")
    check.add_argument("--anchor", type=bytes.fromhex, help=anchor_help)
    check.add_argument(
        "--allow-gaps", action="store_true", help="an --aggregate export: lines may skip links"
    )
    check.set_defaults(run=do_audit_verify_export)

    history = subcommands.add_parser("history", help="an aggregate's events and state after each")
    history.add_argument("aggregate_id", type=UUID, help="a booking, pool, facility, gate, ... id")
    history.add_argument("--table", action="store_true", help="a table, not JSON Lines")
    history.set_defaults(run=do_audit_history)

    as_of = subcommands.add_parser("as-of", help="an aggregate's state as of a time or position")
    as_of.add_argument("aggregate_id", type=UUID)
    add_cut_arguments(as_of)
    as_of.set_defaults(run=do_audit_as_of)

    books = subcommands.add_parser(
        "trial-balance", help="a facility's trial balance as of a time or position, replayed"
    )
    books.add_argument("facility_id", type=UUID)
    add_cut_arguments(books)
    books.add_argument(
        "--from-zero", action="store_true", help="replay from zero, not the nearest checkpoint"
    )
    books.set_defaults(run=do_audit_trial_balance)

    checkpoint = subcommands.add_parser(
        "checkpoint",
        help="write the replay checkpoints as-of trial balances start from (as the owner)",
    )
    checkpoint.add_argument(
        "--facility", type=UUID, action="append", help="only this facility (repeatable)"
    )
    checkpoint.add_argument(
        "--every",
        type=positive_int,
        help="positions between checkpoints of the history (default 2,000)",
    )
    checkpoint.set_defaults(run=do_audit_checkpoint)


def add_cut_arguments(parser: argparse.ArgumentParser) -> None:
    cut = parser.add_mutually_exclusive_group(required=True)
    cut.add_argument(
        "--as-of", type=aware_time, help="a time with offset: events up to the first after it"
    )
    cut.add_argument("--position", type=int, help="the events stored up to this position")


# -- rebuilds -----------------------------------------------------------------

REBUILD_FAILED = 3  # exit status of a rebuild or check that could not run; 1: differences found


def do_rebuild(args: argparse.Namespace) -> Any:
    """Rebuild projections from zero and swap them in, or (--check) compare with the live ones."""
    import psycopg  # noqa: PLC0415 - only rebuilds need these

    from berth import workers  # noqa: PLC0415
    from berth.adapters.console import progress  # noqa: PLC0415
    from berth.adapters.tracking import projection_store  # noqa: PLC0415
    from berth.workers import rebuild  # noqa: PLC0415

    names = sorted(workers.PROJECTIONS) if args.all else args.projections
    known = ", ".join(sorted(workers.PROJECTIONS))
    unknown = [name for name in names if name not in workers.PROJECTIONS]
    if unknown or not names:
        what = f"no projection {unknown[0]!r}" if unknown else "name a projection, or --all"
        print(f"berth: {what}; there are {known}", file=sys.stderr)
        sys.exit(2)  # a usage error, as argparse's
    # A rebuild creates, drops and swaps tables: DDL, which only the owner may run.
    url, mapper, outcomes = database.migrate_database_url(), projection_store.event_mapper(), []
    verb, run = ("checking", rebuild.check) if args.check else ("rebuilding", rebuild.rebuild)
    for name in names:
        try:
            with progress.progress_bar(f"{verb} {name}", unit="notifications") as update:
                projection = workers.PROJECTIONS[name]
                outcome = run(url, projection, mapper, page_size=args.page_size, progress=update)
        except (rebuild.RebuildError, psycopg.Error) as error:
            lines = str(error).strip().splitlines()
            reason = lines[0] if lines else type(error).__name__
            print(f"berth: {verb} {name} failed: {reason}", file=sys.stderr)
            sys.exit(REBUILD_FAILED)
        outcomes.append(outcome)
    output = [outcome.as_dict() for outcome in outcomes]
    differing = [o for o in outcomes if isinstance(o, rebuild.Checked) and not o.same]
    if differing:
        print(json.dumps(output, indent=2, default=str))
        print("berth: " + " | ".join(o.summary() for o in differing), file=sys.stderr)
        sys.exit(1)
    return output


def add_rebuild_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    command = commands.add_parser(
        "rebuild",
        help="rebuild a projection from zero and swap it in (--check: compare only)",
        description="Exit status: 0 done (with --check: no difference), 1 a difference found,"
        f" 2 a usage error, {REBUILD_FAILED} the rebuild could not run (for example one is"
        " already running).",
    )
    command.add_argument(
        "projections", nargs="*", metavar="PROJECTION", help="availability, bookings, ledger, ..."
    )
    command.add_argument("--all", action="store_true", help="every projection, one after another")
    command.add_argument(
        "--check", action="store_true", help="rebuild aside, compare with the live tables, drop"
    )
    command.add_argument("--page-size", type=int, default=5000, help="notifications per page")
    command.set_defaults(run=do_rebuild)


# -- projection failures ------------------------------------------------------


def do_projection_skip(args: argparse.Namespace) -> Any:
    """Record that a projection passes over the event at a position (an event, with its cause)."""
    import psycopg  # noqa: PLC0415 - only projection commands need these

    from berth.adapters.tracking import projection_admin  # noqa: PLC0415

    url, app = connect()
    with psycopg.connect(url) as conn:
        outcome = projection_admin.skip(
            conn, app, projection=args.projection, position=args.position,
            reason=args.reason, cause=cli_cause(),
        )  # fmt: skip
    return {"projection": args.projection, "skipped": args.position, **result(outcome)}


def do_projection_retry(args: argparse.Namespace) -> Any:
    """Clear a projection's recorded failure, so its worker tries the event again now."""
    import psycopg  # noqa: PLC0415

    from berth.adapters.tracking import projection_admin  # noqa: PLC0415

    with psycopg.connect(database.database_url()) as conn:
        projection_admin.retry(conn, projection=args.projection, position=args.position)
    return {"projection": args.projection, "retried": args.position}


def add_projection_commands(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    projection = commands.add_parser(
        "projection", help="a failed projection: skip or retry the event it is stuck on"
    ).add_subparsers(required=True)
    skip = projection.add_parser("skip", help="record that NAME passes over the event at POSITION")
    skip.add_argument("projection", metavar="NAME")
    skip.add_argument("position", type=int, metavar="POSITION")
    skip.add_argument("--reason", required=True, help="why (kept with the skip event)")
    skip.set_defaults(run=do_projection_skip)
    retry = projection.add_parser("retry", help="clear NAME's failure at POSITION: try it now")
    retry.add_argument("projection", metavar="NAME")
    retry.add_argument("position", type=int, metavar="POSITION")
    retry.set_defaults(run=do_projection_retry)


# -- parser -------------------------------------------------------------------


def add_apikey_lifecycle_commands(
    apikey: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    apikey.add_parser("list", help="list keys (never their secrets)").set_defaults(
        run=do_apikey_list
    )
    revoke = apikey.add_parser("revoke", help="revoke a key (refused within the cache time)")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=do_apikey_revoke)
    rotate = apikey.add_parser("rotate", help="a new secret for a key; print its token once")
    rotate.add_argument("key_id")
    rotate.set_defaults(run=do_apikey_rotate)


def add_config_options(
    parser: argparse.ArgumentParser,
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    parser.add_argument(
        "--log-json",
        action="store_true",
        help="log JSON lines (BERTH_LOG_FORMAT=json), as this command and any it starts",
    )
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="without BERTH_DATABASE_URL, use (and start) the embedded PostgreSQL in"
        " BERTH_DATA_DIR, as `berth up` does",
    )
    commands.add_parser("config", help="print the effective settings, secrets masked").set_defaults(
        run=do_config
    )


def add_catalogue_commands(facility: Any, pool: Any) -> None:
    """`berth facility list|show` and `berth pool list|show`."""
    facility.add_parser("list", help="every facility, from the catalogue").set_defaults(
        run=do_facility_list
    )
    show = facility.add_parser("show", help="a facility, from the catalogue")
    show.add_argument("facility_id", type=UUID)
    show.set_defaults(run=do_facility_show)
    listing = pool.add_parser("list", help="every pool (of one facility), from the catalogue")
    listing.add_argument("--facility", type=UUID, help="only this facility's pools")
    listing.set_defaults(run=do_pool_list)
    show = pool.add_parser("show", help="a pool, from the catalogue")
    show.add_argument("pool_id", type=UUID)
    show.set_defaults(run=do_pool_show)


def _mail_conn() -> Any:
    import psycopg  # noqa: PLC0415 - only the mail commands talk to these tables directly

    return psycopg.connect(database.database_url(), autocommit=True)


def do_partner_create(args: argparse.Namespace) -> Any:
    """Add a partner who books by e-mail."""
    from berth.adapters.mail import partners  # noqa: PLC0415

    try:
        fmt = json.loads(args.format) if args.format.startswith("{") else {"kind": args.format}
    except json.JSONDecodeError as error:
        raise ValueError(f"--format is a kind or a JSON object: {error}") from None
    _, app = connect()
    app.catalogue.pool(args.pool)  # refused for a pool that is none
    with _mail_conn() as conn:
        partner = partners.create(
            conn,
            name=args.name,
            channel=args.channel,
            pool_id=args.pool,
            sender_list=args.sender,
            format_config=fmt,
            secret=args.secret,
            require_dkim=args.require_dkim,
            dkim_public_key=args.dkim_key,
            principal=cli_principal(),
        )
    return partner.as_dict()


def do_partner_list(_: argparse.Namespace) -> Any:
    from berth.adapters.mail import partners  # noqa: PLC0415

    with _mail_conn() as conn:
        return [p.as_dict() for p in partners.list_partners(conn, limit=10_000)]


def do_mail_quarantine(args: argparse.Namespace) -> Any:
    """List quarantined mails with their reasons and items."""
    from berth.adapters.mail import inbox  # noqa: PLC0415

    with _mail_conn() as conn:
        return [
            m.as_dict() | {"items": [i.as_dict() for i in inbox.items(conn, m.mail_id)]}
            for m in inbox.quarantined(conn, after=args.after, limit=args.limit)
        ]


def mail_decision(name: str) -> Handler:
    def handle(args: argparse.Namespace) -> Any:
        from berth.adapters.mail import inbox  # noqa: PLC0415

        decide = inbox.retry if name == "retry" else inbox.reject
        with _mail_conn() as conn:
            return decide(conn, args.mail_id, principal=cli_principal()).as_dict()

    return handle


def add_mail_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    partner = commands.add_parser("partner", help="partners who book by e-mail").add_subparsers(
        required=True
    )
    create = partner.add_parser("create", help="add a partner: its senders, channel, pool, format")
    create.add_argument("name", type=bounded.argument(bounded.text(100)))
    create.add_argument("--channel", required=True, type=bounded.argument(bounded.text(100)))
    create.add_argument("--pool", required=True, type=UUID, help="the pool its bookings take")
    create.add_argument(
        "--sender",
        nargs="+",
        required=True,
        type=bounded.argument(bounded.text(254)),
        help="addresses (a@b.example) or domains (@b.example)",
    )
    create.add_argument(
        "--format",
        default="key-value",
        type=bounded.argument(bounded.text(4000)),
        help="key-value, csv, ics, or a JSON object (kind, fields, actions, date_format, ...)",
    )
    create.add_argument("--secret", type=bounded.argument(bounded.text(200)), default=None)
    create.add_argument("--require-dkim", action="store_true")
    create.add_argument(
        "--dkim-key", type=bounded.argument(bounded.text(2000)), default=None,
        help="pin the partner's DKIM public key (base64 p= value) instead of DNS",
    )  # fmt: skip
    create.set_defaults(run=do_partner_create)
    partner.add_parser("list", help="list partners").set_defaults(run=do_partner_list)
    mail = commands.add_parser("mail", help="partner mail").add_subparsers(required=True)
    quarantine = mail.add_parser("quarantine", help="list quarantined mails and their reasons")
    quarantine.add_argument("--after", type=int, default=0, help="mail ids after this one")
    quarantine.add_argument("--limit", type=bounded.argument(bounded.whole(1, 10_000)), default=100)
    quarantine.set_defaults(run=do_mail_quarantine)
    for name, text in (("retry", "process a quarantined mail again"), ("reject", "give up on one")):
        decision = mail.add_parser(name, help=text)
        decision.add_argument("mail_id", type=bounded.argument(bounded.whole(1, 2**63 - 1)))
        decision.set_defaults(run=mail_decision(name))


def do_user_create(args: argparse.Namespace) -> Any:
    """A staff user of the operations screen; the password is read from stdin or prompted."""
    import psycopg  # noqa: PLC0415 - only account management talks to PostgreSQL directly

    from berth.adapters.staff import users  # noqa: PLC0415 - only this command needs argon2

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ValueError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with psycopg.connect(database.database_url(), autocommit=True) as conn:
        user = users.create_user(conn, username=args.username, role=args.role, password=password)
    return {"username": user.username, "role": user.role}


def add_user_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    user = commands.add_parser("user", help="staff users of the /ops screen").add_subparsers(
        required=True
    )
    create = user.add_parser(
        "create", help="create a staff user (password from stdin, or prompted twice)"
    )
    create.add_argument("username")
    create.add_argument(
        "--role", required=True, choices=("operations", "finance", "auditor", "admin")
    )
    create.set_defaults(run=do_user_create)


def add_facility_and_pool_commands(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    """`berth facility create|list|show` and `berth pool create|list|show`."""
    facility = commands.add_parser("facility", help="facilities").add_subparsers(required=True)
    create = facility.add_parser("create", help="register a facility")
    create.add_argument("name", type=bounded.argument(bounded.text(200)))
    create.add_argument(
        "--time-zone",
        required=True,
        type=bounded.argument(bounded.text(64)),
        help="IANA time zone, e.g. Europe/London",
    )
    create.set_defaults(run=do_facility_create)

    pool = commands.add_parser("pool", help="pools of capacity").add_subparsers(required=True)
    create = pool.add_parser("create", help="add a pool to a facility")
    create.add_argument("facility_id", type=UUID)
    create.add_argument("name", type=bounded.argument(bounded.text(200)))
    create.add_argument("--capacity", type=bounded.argument(bounded.capacity()), required=True)
    create.add_argument(
        "--price",
        type=bounded.argument(bounded.money()),
        required=True,
        help="nightly price in minor units",
    )
    create.add_argument("--currency", required=True)
    create.set_defaults(run=do_pool_create)
    add_catalogue_commands(facility, pool)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="berth", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    add_config_options(parser, commands)
    commands.add_parser("migrate", help="apply the SQL migrations").set_defaults(run=do_migrate)
    commands.add_parser("up", help="start the database, migrate, run the Procfile").set_defaults(
        run=do_up
    )

    apikey = commands.add_parser("apikey", help="API keys").add_subparsers(required=True)
    create = apikey.add_parser("create", help="create a key and print its token once")
    create.add_argument("--role", required=True, choices=apikeys.ROLES)
    create.add_argument(
        "--scope", default="", help="channel (booking) or facility id (gate_device); others none"
    )
    create.add_argument("--label", default="", help="who or what the key is for")
    create.set_defaults(run=do_apikey_create)
    add_apikey_lifecycle_commands(apikey)

    worker = commands.add_parser("worker", help="run a long-running worker until SIGTERM")
    worker.add_argument(
        "name",
        help="availability, bookings, ledger, occupancy, catalogue, expire-holds, kafka-relay,"
        " gate-reads, mail-smtp or mail-imap",
    )
    worker.set_defaults(run=do_worker)

    add_facility_and_pool_commands(commands)

    booking = commands.add_parser("booking", help="bookings").add_subparsers(required=True)
    hold = booking.add_parser("hold", help="hold capacity for a stay")
    hold.add_argument("pool_id", type=UUID)
    hold.add_argument("--arrival", type=bounded.argument(bounded.Day()), required=True)
    hold.add_argument("--departure", type=bounded.argument(bounded.Day()), required=True)
    hold.add_argument("--quantity", type=bounded.argument(bounded.quantity()), default=1)
    hold.add_argument(
        "--guest", required=True, type=bounded.argument(bounded.text(200)), help="the guest's name"
    )
    hold.add_argument(
        "--plate",
        action="append",
        default=[],
        type=bounded.argument(bounded.text(16)),
        help="a vehicle plate (repeatable)",
    )
    hold.set_defaults(run=do_hold)
    for name in ("confirm", "cancel", "check_in", "check_out"):
        command = booking.add_parser(name.replace("_", "-"), help=f"{name.replace('_', ' ')}")
        command.add_argument("booking_id", type=UUID)
        command.set_defaults(run=booking_command(name))
    show = booking.add_parser("show", help="show a booking from the event store")
    show.add_argument("booking_id", type=UUID)
    show.set_defaults(run=do_show)
    close_day = commands.add_parser("close-day", help="close a facility's business day")
    close_day.add_argument("facility_id", type=UUID)
    close_day.add_argument(
        "date", type=bounded.argument(bounded.Day()), help="the business date, YYYY-MM-DD"
    )
    close_day.set_defaults(run=do_close_day)
    add_audit_commands(commands)
    add_rebuild_command(commands)
    add_projection_commands(commands)
    add_mail_commands(commands)
    add_user_commands(commands)
    return parser


def exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM exits like Ctrl-C does, so exit handlers (the embedded server's) run."""
    sys.exit(128 + signum)


def unreachable(error: Exception) -> str:
    """One line: the database that could not be reached, and how to choose another."""
    settings = config.load()
    where = (
        config.mask_url(settings.database_url)
        if settings.database_url
        else f"the embedded server in {settings.data_dir}"
    )
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return (
        f"berth: cannot use the database at {where}: {reason}"
        f" (set {database.DATABASE_URL_VAR}, or pass --embedded)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    args = build_parser().parse_args(argv)
    if args.embedded:
        os.environ[database.EMBEDDED_VAR] = "1"  # for this process and those it starts
    if args.log_json:
        os.environ[LOG_FORMAT_VAR] = "json"
    request_id = str(uuid4())
    try:
        logs.setup(config.load())  # every setting checked before anything runs
        with logs.context(
            request_id=request_id, correlation_id=request_id, principal=cli_principal()
        ):
            output = args.run(args)
    except (DomainError, ValueError) as error:
        print(f"berth: {error}", file=sys.stderr)
        sys.exit(1)
    except (psycopg.OperationalError, persistence.OperationalError, PoolTimeout) as error:
        sys.exit(unreachable(error))
    if output is not None:
        print(json.dumps(output, indent=2, default=str))


if __name__ == "__main__":
    main()
