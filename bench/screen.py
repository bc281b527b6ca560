"""Staff screen render time: "today" at a facility with 2,000 arrivals, and 50 live screens.

    .venv/bin/python bench/screen.py [--arrivals 2000] [--seconds 10] [--screens 50]

On a scratch database (embedded PostgreSQL unless BERTH_DATABASE_URL names a
server), makes a facility with `--arrivals` confirmed bookings arriving today,
lets the bookings and occupancy projections catch up, then measures in-process
(the WSGI apps through falcon's test client, so no socket or gunicorn cost):

- baseline: GET /facilities/{id}/arrivals (the API's JSON of the same rows);
- the full "today" page (/ops/facilities/{id}/today: arrivals, departures,
  on site, overstays, latest reads), rendered by Jinja2;
- `--screens` live panels, each polling `.../today/live?seen=` every 2 s (as the
  screen does) while nothing changes (204s), and the same while `--lanes` lanes
  each record a plate read every 2 s (each read changes the panel: the first
  poll to see it renders it, the others share that render).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).parent))
from falcon import testing

from berth.adapters.postgres import apikeys
from berth.adapters.postgres.database import request_pool
from berth.adapters.postgres.eventstore import open_reservations, utc_now
from berth.adapters.read_models import queries
from berth.adapters.staff import sessions, users
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.stay import Stay
from berth.http import Services, Settings, create_app
from berth.web.app import create_app as create_screen
from berth.web.settings import Screen, ScreenSettings
from berth.workers import run_worker
from common import HEADER, Result, run_load, scratch_database

CAUSE = Cause(principal="bench", channel="operations", request_id="b", correlation_id="b")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arrivals", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--screens", type=int, default=50)
    parser.add_argument("--lanes", type=int, default=20)
    args = parser.parse_args()

    url = scratch_database("berth_bench_screen")
    app = open_reservations(url)
    pool = request_pool(url, max_size=max(8, args.screens // 4))
    facility = app.catalogue.register_facility(
        name="Bench", time_zone="UTC", context=CommandContext(cause=CAUSE)
    ).id
    pool_id = app.catalogue.add_pool(
        facility_id=facility, name="p", capacity=100_000, nightly_price=1000, currency="EUR",
        context=CommandContext(cause=CAUSE),
    ).id  # fmt: skip
    gate = app.gates.add_gate(
        facility_id=facility, name="in", direction="entry", context=CommandContext(cause=CAUSE)
    ).id
    today = datetime.now(UTC).date()
    began = time.perf_counter()
    made = [0]

    def make(first: int) -> None:
        for n in range(first, args.arrivals, 4):
            held = app.bookings.hold(
                pool_id=pool_id, stay=Stay(today, today + timedelta(days=2)), quantity=1,
                guest={"given_name": "Guest", "family_name": f"N{n}"}, plates=[f"BN{n:05d}"],
                context=CommandContext(cause=CAUSE),
            )  # fmt: skip
            app.bookings.confirm(booking_id=held.id, context=CommandContext(cause=CAUSE))
            made[0] += 1

    makers = [threading.Thread(target=make, args=(i,)) for i in range(4)]
    for maker in makers:
        maker.start()
    while any(maker.is_alive() for maker in makers):
        time.sleep(1)
        sys.stderr.write(f"\r  {made[0]:,}/{args.arrivals:,} bookings")
    position = app.recorder.max_notification_id() or 0
    sys.stderr.write(f"\r  {args.arrivals:,} bookings in {time.perf_counter() - began:.0f} s\n")
    stop = threading.Event()
    for name in ("bookings", "occupancy"):
        threading.Thread(target=run_worker, args=(name, url, stop), daemon=True).start()
    with pool.connection() as conn:
        assert queries.wait_for_position(
            conn, projections=("bookings", "occupancy"), min_position=position, timeout=300
        ), "projections did not catch up"

    with pool.connection() as conn:
        _, token = apikeys.create_key(conn, role="operations")
        user = users.create_user(conn, username="bench", role="operations", password="x" * 12)
        cookie, _ = sessions.start(conn, user=user, now=utc_now(), hours=1)
    api = testing.TestClient(
        create_app(Settings(), Services(reservations=app, pool=pool, clock=utc_now))
    )
    screen_app = create_screen(Screen(reservations=app, pool=pool, clock=utc_now), ScreenSettings())
    screen = testing.TestClient(screen_app)
    auth = {"Authorization": f"Bearer {token}"}
    jar = {"berth_session": cookie}
    today_path = f"/ops/facilities/{facility}/today"

    def api_arrivals(c: int, n: int) -> None:
        answer = api.simulate_get(
            f"/facilities/{facility}/arrivals", params={"date": today.isoformat()}, headers=auth
        )
        assert answer.status_code == 200 and len(answer.json["bookings"]) == args.arrivals

    def today_page(c: int, n: int) -> None:
        answer = screen.simulate_get(today_path, cookies=jar)
        assert answer.status_code == 200 and answer.text.count("data-reference") >= args.arrivals

    page = screen.simulate_get(today_path, cookies=jar).text
    seen = page.split("seen=", 1)[1].split('"', 1)[0]

    def poll(c: int, n: int) -> None:
        answer = screen.simulate_get(f"{today_path}/live", params={"seen": seen}, cookies=jar)
        assert answer.status_code in (200, 204)

    results: list[Result] = [
        run_load("baseline: API arrivals JSON", 1, args.seconds, api_arrivals),
        run_load("today page, 2,000 arrivals", 1, args.seconds, today_page),
        run_load("today page, 2,000 arrivals", 2, args.seconds, today_page),
        run_load(
            f"{args.screens} live panels, no change (204)",
            args.screens,
            args.seconds,
            poll,
            every=2.0,
        ),
    ]
    lane_stop = threading.Event()

    def lane(n: int) -> None:
        time.sleep(2.0 * n / args.lanes)
        while not lane_stop.wait(2.0):
            app.gates.record_plate_read(
                read_id=uuid4().hex, camera_id=f"cam-{n}", gate_id=gate, plate="UNKNOWN1",
                confidence=0.9, captured_at=utc_now(), context=CommandContext(cause=CAUSE),
            )  # fmt: skip

    for n in range(args.lanes):
        threading.Thread(target=lane, args=(n,), daemon=True).start()
    renders = screen_app_panels(screen_app)
    before = renders()
    results.append(
        run_load(
            f"{args.screens} live panels, {args.lanes} lanes reading",
            args.screens,
            args.seconds,
            poll,
            every=2.0,
        )
    )
    panel_renders = renders() - before
    lane_stop.set()
    stop.set()
    print(
        f"\nscreen benchmark, {args.seconds:.0f} s per row,"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print(HEADER)
    for result in results:
        print(result.row())
    print(f"\nlive panel renders while the lanes read: {panel_renders} (shared by every screen)")


def screen_app_panels(app: object) -> Callable[[], int]:
    """How many times the live "today" panel was rendered (not served) so far."""
    router = app._router  # type: ignore[attr-defined]
    resource, *_ = router.find(f"/ops/facilities/{uuid4()}/today/live")

    def renders() -> int:
        count: int = resource.panels.renders
        return count

    return renders


if __name__ == "__main__":
    main()
