"""The staff screen's Falcon app: pages under /ops, sessions and CSRF, HTML errors.

It is its own Falcon app beside the API's (`berth.http`), not routes added to
it: the API's middleware (API keys, JSON payloads, problem+json) is not the
screen's (sessions, forms, pages), and the layers keep the two faces apart.
`berth.wsgi` serves both from one gunicorn, sharing the application and pool.
"""

from __future__ import annotations

from typing import Any

import falcon

from berth.web import errors
from berth.web.assets import StaticResource
from berth.web.pages import bookings, gates, night_audit, pictures, sign_in, today
from berth.web.settings import PREFIX, Screen, ScreenSettings
from berth.web.staff import StaffSessions


def routes(screen: Screen, settings: ScreenSettings) -> list[tuple[str, Any]]:
    facility = f"{PREFIX}/facilities/{{facility_id:uuid}}"
    args = (screen, settings)
    table: list[tuple[str, Any]] = [
        (f"{PREFIX}/login", sign_in.SignInResource(*args)),
        (f"{PREFIX}/logout", sign_in.SignOutResource(*args)),
        (f"{PREFIX}/", today.HomeResource(*args)),
        (f"{facility}/today", today.TodayResource(*args)),
        (f"{facility}/today/live", today.TodayLiveResource(*args)),
        (f"{facility}/gates", gates.GatesResource(*args)),
        (f"{facility}/gates/live", gates.GatesLiveResource(*args)),
        (f"{facility}/reads/{{read_id}}/resolve", gates.ResolveResource(*args)),
        (f"{facility}/gates/{{gate_id:uuid}}/open", gates.OpenBarrierResource(*args)),
        (f"{facility}/night-audit", night_audit.NightAuditResource(*args)),
        (f"{facility}/pictures", pictures.PicturesResource(*args)),
        (f"{PREFIX}/bookings", bookings.SearchResource(*args)),
        (f"{PREFIX}/bookings/{{booking_id:uuid}}", bookings.BookingResource(*args)),
        (f"{PREFIX}/bookings/{{booking_id:uuid}}/cancel", bookings.CancelResource(*args)),
        (f"{PREFIX}/static/{{name}}", StaticResource()),
    ]
    table += [
        (
            f"{PREFIX}/bookings/{{booking_id:uuid}}/{name}",
            bookings.BookingActionResource(*args, name),
        )
        for name in bookings.ACTIONS
    ]
    return table


def create_app(
    screen: Screen, settings: ScreenSettings
) -> falcon.App[falcon.Request, falcon.Response]:
    app = falcon.App(middleware=[StaffSessions(screen, settings)])
    app.req_options.strip_url_path_trailing_slash = False
    errors.register(app)
    for template, resource in routes(screen, settings):
        app.add_route(template, resource)
    return app
