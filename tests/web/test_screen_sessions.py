"""Sign-in, sessions, CSRF and roles of the staff screen, without a browser."""

from __future__ import annotations

from datetime import timedelta

from screen_support import PASSWORD, Client, Clock, World, book, csrf, make_world

from berth.adapters.staff import users
from berth.web.settings import Screen


def test_a_page_without_a_session_sends_to_sign_in(client: Client) -> None:
    answer = client.get("/ops/bookings")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ops/login?next=%2Fops%2Fbookings"


def test_an_htmx_poll_without_a_session_moves_the_whole_page(client: Client, world: World) -> None:
    answer = client.get(
        f"/ops/facilities/{world.facility_id}/today/live", headers={"HX-Request": "true"}
    )
    assert answer.status_code == 401
    assert answer.headers["hx-redirect"].startswith("/ops/login?next=")


def test_signing_in_sets_an_http_only_same_site_session_cookie(client: Client) -> None:
    answer = client.sign_in("operations")
    assert answer.status_code == 303, answer.text
    cookie = answer.cookies["berth_session"]
    assert cookie.http_only and cookie.same_site == "Lax" and cookie.path == "/ops"
    assert not cookie.secure  # plain HTTP here; see the HTTPS test
    assert client.get("/ops/bookings").status_code == 200


def test_the_session_cookie_is_secure_over_https(client: Client) -> None:
    page = client.get("/ops/login", protocol="https")
    answer = client.post(
        "/ops/login",
        {"csrf_token": csrf(page.text), "username": "admin", "password": PASSWORD},
        protocol="https",
    )
    assert answer.status_code == 303
    assert answer.cookies["berth_session"].secure


def test_a_wrong_password_is_refused_and_sets_no_session(client: Client) -> None:
    answer = client.sign_in("operations", "not the password")
    assert answer.status_code == 401
    assert "Wrong username or password" in answer.text
    assert "berth_session" not in client.cookies
    assert client.sign_in("nobody-here").status_code == 401


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    client: Client, clock: Clock
) -> None:
    for _ in range(users.MAX_FAILURES):
        assert client.sign_in("finance", "wrong guess!").status_code == 401
    locked = client.sign_in("finance")
    assert locked.status_code == 401 and "locked until" in locked.text
    clock.advance(timedelta(minutes=users.LOCK_MINUTES, seconds=1))
    assert client.sign_in("finance").status_code == 303


def test_sign_in_without_the_login_forms_token_is_refused(client: Client) -> None:
    client.get("/ops/login")
    answer = client.post("/ops/login", {"username": "admin", "password": PASSWORD})
    assert answer.status_code == 403
    assert "berth_session" not in client.cookies


def test_a_post_without_the_sessions_csrf_token_changes_nothing(
    client: Client, screen: Screen, world: World
) -> None:
    booking_id = book(screen.reservations, world, plate="AB12CDE")
    client.sign_in("operations")
    for token in ("", "forged-token"):
        answer = client.post(
            f"/ops/bookings/{booking_id}/check-in", {"csrf_token": token, "version": "2"}
        )
        assert answer.status_code == 403, answer.text
    assert screen.reservations.bookings.booking(booking_id).status == "confirmed"


def test_check_in_from_the_screen_is_recorded_with_the_staff_user_as_cause(
    client: Client, screen: Screen, world: World, workers: None
) -> None:
    booking_id = book(screen.reservations, world, plate="AB12CDE")
    client.sign_in("operations")
    page = client.get(f"/ops/bookings/{booking_id}?min_position=1")
    answer = client.post(
        f"/ops/bookings/{booking_id}/check-in", {"csrf_token": csrf(page.text), "version": "2"}
    )
    assert answer.status_code == 303, answer.text
    assert "min_position=" in answer.headers["location"]
    assert screen.reservations.bookings.booking(booking_id).status == "checked_in"
    detail = client.get(answer.headers["location"])
    assert "Booking.CheckedIn" in detail.text and "staff:operations" in detail.text


def test_a_stale_version_is_refused_as_changed_meanwhile(
    client: Client, screen: Screen, world: World
) -> None:
    booking_id = book(screen.reservations, world, plate="AB12CDE")
    client.sign_in("operations")
    token = csrf(client.get("/ops/bookings").text)
    answer = client.post(
        f"/ops/bookings/{booking_id}/check-in", {"csrf_token": token, "version": "1"}
    )
    assert answer.status_code == 409 and "Changed meanwhile" in answer.text
    assert screen.reservations.bookings.booking(booking_id).status == "confirmed"


def test_an_auditor_may_look_but_not_check_in(client: Client, screen: Screen, world: World) -> None:
    booking_id = book(screen.reservations, world, plate="AB12CDE")
    client.sign_in("auditor")
    token = csrf(client.get("/ops/bookings").text)
    answer = client.post(
        f"/ops/bookings/{booking_id}/check-in", {"csrf_token": token, "version": "2"}
    )
    assert answer.status_code == 403
    assert screen.reservations.bookings.booking(booking_id).status == "confirmed"


def test_the_cancel_page_shows_the_fee_before_anything_is_cancelled(
    client: Client, screen: Screen, world: World
) -> None:
    booking_id = book(screen.reservations, world, plate="AB12CDE")  # arrives today: full fee
    client.sign_in("operations")
    page = client.get(f"/ops/bookings/{booking_id}/cancel")
    assert "a fee of <strong>24.00 EUR</strong>" in page.text
    assert screen.reservations.bookings.booking(booking_id).status == "confirmed"
    answer = client.post(
        f"/ops/bookings/{booking_id}/cancel",
        {"csrf_token": csrf(page.text), "version": "2", "reason": "guest called"},
    )
    assert answer.status_code == 303
    assert screen.reservations.bookings.booking(booking_id).cancellation_fee == 2400


def test_a_payment_form_with_a_bad_amount_stores_nothing(
    client: Client, screen: Screen, world: World
) -> None:
    booking_id = book(screen.reservations, world, plate="AB12CDE")
    client.sign_in("operations")
    token = csrf(client.get("/ops/bookings").text)
    for amount in ("-5", "abc", "1e30", "0"):
        answer = client.post(
            f"/ops/bookings/{booking_id}/payments",
            {"csrf_token": token, "version": "2", "amount": amount, "method": "card"},
        )
        assert answer.status_code == 400, (amount, answer.text)
    assert screen.reservations.bookings.booking(booking_id).paid == 0
    answer = client.post(
        f"/ops/bookings/{booking_id}/payments",
        {"csrf_token": token, "version": "2", "amount": "10.50", "method": "cash"},
    )
    assert answer.status_code == 303
    assert screen.reservations.bookings.booking(booking_id).paid == 1050


def test_signing_out_ends_the_session_for_good(client: Client) -> None:
    client.sign_in("admin")
    stolen = dict(client.cookies)
    token = csrf(client.get("/ops/bookings").text)
    assert client.post("/ops/logout", {"csrf_token": token}).status_code == 303
    client.cookies = stolen  # the old cookie, replayed
    assert client.get("/ops/bookings").status_code == 303


def test_the_live_panel_answers_no_content_while_nothing_changed(
    client: Client, screen: Screen, world: World, workers: None
) -> None:
    client.sign_in("operations")
    page = client.get(f"/ops/facilities/{world.facility_id}/today")
    assert page.status_code == 200, page.text
    seen = page.text.split("seen=", 1)[1].split('"', 1)[0]
    live = client.get(f"/ops/facilities/{world.facility_id}/today/live", params={"seen": seen})
    assert live.status_code == 204
    booked = book(screen.reservations, world, plate="ZZ99ZZZ", name="Grace Hopper")
    reference = screen.reservations.bookings.booking(booked).reference
    page = client.get(f"/ops/facilities/{world.facility_id}/today?min_position=999999999")
    fresh = client.get(f"/ops/facilities/{world.facility_id}/today/live", params={"seen": seen})
    assert fresh.status_code == 200
    assert reference in fresh.text


def test_opening_a_barrier_by_hand_is_an_event_with_its_reason_and_who(
    client: Client, screen: Screen, world: World, workers: None
) -> None:
    client.sign_in("operations")
    page = client.get(f"/ops/facilities/{world.facility_id}/gates?min_position=1")
    token = csrf(page.text)
    path = f"/ops/facilities/{world.facility_id}/gates/{world.exit_gate}/open"
    refused = client.post(path, {"csrf_token": token, "reason": "", "plate": "AB1"})
    assert refused.status_code == 400
    answer = client.post(path, {"csrf_token": token, "reason": "camera dirty", "plate": "AB1"})
    assert answer.status_code == 303, answer.text
    shown = client.get(answer.headers["location"])
    manual = shown.text.split('class="manual"', 1)[1]
    assert "camera dirty" in manual and "staff:operations" in manual and "AB1" in manual
    other = make_world(screen.reservations)  # a gate of another facility is not found here
    foreign = f"/ops/facilities/{world.facility_id}/gates/{other.exit_gate}/open"
    assert client.post(foreign, {"csrf_token": token, "reason": "x"}).status_code == 404


def test_a_live_panel_rendered_once_carries_each_sessions_own_csrf_token(
    client: Client, screen: Screen, world: World, workers: None
) -> None:
    book(screen.reservations, world, plate="AB12CDE")
    head = screen.reservations.recorder.max_notification_id()
    other = Client(client.client)
    client.sign_in("operations")
    other.sign_in("admin")
    client.get(f"/ops/facilities/{world.facility_id}/today?min_position={head}")
    path = f"/ops/facilities/{world.facility_id}/today/live"
    mine, theirs = client.get(path, params={"seen": "old"}), other.get(path, params={"seen": "old"})
    assert mine.status_code == theirs.status_code == 200
    assert csrf(mine.text) == csrf(client.get("/ops/bookings").text)
    assert csrf(theirs.text) == csrf(other.get("/ops/bookings").text)
    assert csrf(mine.text) != csrf(theirs.text)


def test_amending_plates_and_dates_from_the_screen(
    client: Client, screen: Screen, world: World
) -> None:
    booking_id = book(screen.reservations, world, plate="AB12CDE")
    client.sign_in("operations")
    token = csrf(client.get("/ops/bookings").text)
    path = f"/ops/bookings/{booking_id}/amend"
    form = {"csrf_token": token, "version": "2", "arrival": "2030-06-01"}
    bad = client.post(path, form | {"departure": "2030-06-04", "plates": "X" * 17})
    assert bad.status_code == 400
    answer = client.post(path, form | {"departure": "2030-06-04", "plates": "AB12CDE, CD34 EFG"})
    assert answer.status_code == 303, answer.text
    booking = screen.reservations.bookings.booking(booking_id)
    assert (str(booking.departure), list(booking.plates)) == ("2030-06-04", ["AB12CDE", "CD34 EFG"])
    assert booking.total == 3600
