"""The staff screen in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright),
served by a real HTTP server on loopback with the projection workers running.

Without Chromium these tests are skipped, saying so; `.ci/run` installs it and sets
BERTH_REQUIRE_BROWSER=1, so there a missing browser fails instead. With
BERTH_SCREENSHOTS=<dir> (`make screenshots`) each page is also written there as a PNG.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from screen_support import PASSWORD, TODAY, Clock, World, book, read_plate

from berth.domain.command_context import CommandContext
from berth.http import Services, Settings
from berth.http import create_app as create_api
from berth.web.app import create_app
from berth.web.by_prefix import ByPrefix
from berth.web.settings import PREFIX, Screen, ScreenSettings

CHROMIUM = Path(os.environ.get("BERTH_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("BERTH_REQUIRE_BROWSER") == "1"
SHOTS = os.environ.get("BERTH_SCREENSHOTS")

if not CHROMIUM.exists() and not REQUIRED:
    pytest.skip(
        f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium;"
        " .ci/run installs it and always runs them)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


class Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server(screen: Screen, staff: dict[str, str], workers: None) -> Iterator[str]:
    """The API and the screen, as `berth.wsgi` serves them, on a loopback port."""
    api = create_api(
        Settings(), Services(reservations=screen.reservations, pool=screen.pool, clock=screen.clock)
    )
    app = ByPrefix(PREFIX, create_app(screen, ScreenSettings(poll_seconds=0.3)), api)
    httpd = make_server("127.0.0.1", 0, app, server_class=Threading, handler_class=Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 768})  # a tablet
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def sign_in(page: Page, server: str, username: str = "operations") -> None:
    page.goto(f"{server}/ops/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shoot(page, "sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_signing_in_shows_todays_arrival(
    page: Page, server: str, screen: Screen, world: World
) -> None:
    booking_id = book(screen.reservations, world, plate="AB12 CDE", name="Ada Lovelace")
    reference = screen.reservations.bookings.booking(booking_id).reference
    sign_in(page, server)
    expect(page).to_have_url(f"{server}/ops/facilities/{world.facility_id}/today")
    arrival = page.locator(f'tr[data-reference="{reference}"]').first
    expect(arrival).to_contain_text("Ada Lovelace")
    expect(arrival).to_contain_text("AB12 CDE")
    expect(arrival).to_contain_text("24.00 EUR")  # two nights due, nothing paid
    shoot(page, "today")


def test_a_plate_read_appears_live_without_a_reload(
    page: Page, server: str, screen: Screen, world: World
) -> None:
    booking_id = book(screen.reservations, world, plate="LIVE 123")
    sign_in(page, server)
    page.goto(f"{server}/ops/facilities/{world.facility_id}/gates")
    expect(page.locator("table.reads")).to_contain_text("No reads yet")
    page.evaluate("window.notReloaded = true")
    read_plate(screen.reservations, screen.pool, world, plate="LIVE123")
    feed = page.locator("table.reads")
    expect(feed).to_contain_text("LIVE123")
    expect(feed).to_contain_text(screen.reservations.bookings.booking(booking_id).reference)
    assert page.evaluate("window.notReloaded") is True
    shoot(page, "gates")


def test_an_unmatched_read_is_resolved_to_the_booking_found_by_reference(
    page: Page, server: str, screen: Screen, world: World
) -> None:
    booking_id = book(screen.reservations, world, plate="KNOWN 1", name="Grace Hopper")
    reference = screen.reservations.bookings.booking(booking_id).reference
    read_id = read_plate(screen.reservations, screen.pool, world, plate="UNKN0WN")
    sign_in(page, server)
    page.goto(f"{server}/ops/facilities/{world.facility_id}/gates")
    unmatched = page.locator("table.unmatched")
    expect(unmatched).to_contain_text("UNKN0WN")
    unmatched.get_by_role("link", name="Resolve UNKN0WN").click()
    page.get_by_label("Find the booking by plate, reference or name").fill(reference)
    page.get_by_role("button", name="Search").click()
    shoot(page, "resolve")
    page.get_by_role("button", name=f"Resolve to {reference}").click()
    expect(page).to_have_url(
        re.compile(rf"/ops/facilities/{world.facility_id}/gates\?min_position=")
    )
    expect(unmatched).to_contain_text("Every read is matched")
    expect(page.locator(f'table.reads tr[data-read="{read_id}"]')).to_contain_text(reference)
    assert screen.reservations.bookings.booking(booking_id).status == "checked_in"


def test_a_guest_is_checked_out_on_their_departure_day(
    page: Page, server: str, screen: Screen, world: World, clock: Clock
) -> None:
    booking_id = book(screen.reservations, world, plate="OUT 1", nights=1)
    screen.reservations.bookings.check_in(
        booking_id=booking_id, context=CommandContext(cause=_cause())
    )
    reference = screen.reservations.bookings.booking(booking_id).reference
    clock.advance(timedelta(days=1))
    sign_in(page, server)
    departures = page.locator("table", has=page.locator("caption", has_text="Departures"))
    departures.get_by_role("button", name=f"check out {reference}").click()
    expect(departures).to_contain_text("None.")
    assert screen.reservations.bookings.booking(booking_id).status == "checked_out"
    page.goto(f"{server}/ops/bookings/{booking_id}")
    expect(page.locator("ol.history")).to_contain_text("Booking.CheckedOut")
    shoot(page, "booking")


def test_a_day_is_closed_after_its_preview(
    page: Page, server: str, screen: Screen, world: World, clock: Clock
) -> None:
    booking_id = book(screen.reservations, world, plate="NIGHT 1", nights=2)
    clock.advance(timedelta(days=1))
    sign_in(page, server)
    page.goto(f"{server}/ops/facilities/{world.facility_id}/night-audit")
    preview = page.locator("table", has=page.locator("caption", has_text="recognises"))
    expect(preview).to_contain_text(screen.reservations.bookings.booking(booking_id).reference)
    expect(preview.locator("td.total")).to_have_text("12.00 EUR")  # one of two nights
    shoot(page, "night-audit")
    page.get_by_role("button", name=f"Close {TODAY.isoformat()}").click()
    expect(page.get_by_role("heading", name=f"{TODAY.isoformat()} closed")).to_be_visible()
    expect(page.locator("table", has_text="Posted by the ledger")).to_contain_text(
        TODAY.isoformat()
    )


def test_every_page_renders(page: Page, server: str, screen: Screen, world: World) -> None:
    booking_id = book(screen.reservations, world, plate="PIC 1", name="Alan Turing")
    reference = screen.reservations.bookings.booking(booking_id).reference
    sign_in(page, server, "admin")
    pages = {
        "bookings": (f"/ops/bookings?q={reference}", "Bookings"),
        "cancel": (f"/ops/bookings/{booking_id}/cancel", f"Cancel booking {reference}?"),
        "pictures": (f"/ops/facilities/{world.facility_id}/pictures", "Pictures"),
    }
    for name, (path, heading) in pages.items():
        page.goto(f"{server}{path}")
        expect(page.get_by_role("heading", name=heading).first).to_be_visible()
        shoot(page, name)
    expect(page.get_by_role("img", name="Occupancy, Long stay").first).to_be_visible()


def _cause() -> Any:
    from screen_support import SETUP  # noqa: PLC0415

    return SETUP
