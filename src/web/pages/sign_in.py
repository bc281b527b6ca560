"""Sign in and out: GET/POST /ops/login, POST /ops/logout."""

from __future__ import annotations

import falcon

from berth.adapters.staff import sessions, users
from berth.web import staff
from berth.web.settings import PREFIX, Screen, ScreenSettings
from berth.web.templates import render, see_other


def _next(value: str | None) -> str:
    """Where to go after signing in: a page of the screen, never another site."""
    if value and value.startswith(f"{PREFIX}/") and not value.startswith("//"):
        return value
    return f"{PREFIX}/"


class SignInResource:
    public = True

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen
        self.settings = settings

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.login_csrf = staff.new_login_token(req, resp, self.settings)
        render(req, resp, "sign_in.html", next=_next(req.get_param("next")), message="")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        staff.check_csrf(req, req.cookies.get(staff.LOGIN_CSRF_COOKIE, ""))
        username = form.get("username", "").strip().lower()
        with self.screen.pool.connection() as conn:
            outcome = users.sign_in(
                conn, username=username, password=form.get("password", ""),
                now=self.screen.clock(),
            )  # fmt: skip
            if outcome.user is not None:
                token, _ = sessions.start(
                    conn, user=outcome.user, now=self.screen.clock(),
                    hours=self.settings.session_hours,
                )  # fmt: skip
        if outcome.user is None:
            req.context.login_csrf = staff.new_login_token(req, resp, self.settings)
            message = "Wrong username or password."
            if outcome.locked_until is not None:
                message = (
                    "Too many failed sign-ins: this account is locked until"
                    f" {outcome.locked_until:%H:%M} UTC."
                )
            render(req, resp, "sign_in.html", 401, next=_next(form.get("next")), message=message)
            return
        staff.set_cookie(resp, req, self.settings, staff.SESSION_COOKIE, token)
        resp.unset_cookie(staff.LOGIN_CSRF_COOKIE, path=PREFIX)
        see_other(resp, _next(form.get("next")))


class SignOutResource:
    roles = {"POST": staff.STAFF}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self.screen.pool.connection() as conn:
            sessions.end(conn, token=req.cookies.get(staff.SESSION_COOKIE, ""))
        resp.unset_cookie(staff.SESSION_COOKIE, path=PREFIX)
        see_other(resp, f"{PREFIX}/login")
