"""Who is signed in: the session cookie, the CSRF token of every POST, and the role's rights.

Resources declare `roles`, the staff roles allowed per HTTP method, or
`public = True` (the sign-in page). A page asked for without a session
redirects to the sign-in page (an htmx request gets `HX-Redirect` instead, so
the whole page moves there). Every POST must carry the session's CSRF token in
its `csrf_token` field; the sign-in form, which has no session yet, carries the
token of a pre-session cookie instead (double submit), so nobody can sign a
victim in as someone else. Forms are read here, bounded in size.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from typing import Any
from urllib.parse import quote

import falcon

from berth.adapters.staff import sessions
from berth.domain.cause import Cause
from berth.web.settings import PREFIX, Screen, ScreenSettings

SESSION_COOKIE = "berth_session"
LOGIN_CSRF_COOKIE = "berth_login_csrf"
OPERATIONS = "operations"
FINANCE = "finance"
AUDITOR = "auditor"
ADMIN = "admin"
STAFF = frozenset({OPERATIONS, FINANCE, AUDITOR, ADMIN})
MAX_FIELD = 2000


class Forbidden(falcon.HTTPForbidden):
    pass


def session(req: falcon.Request) -> sessions.Session:
    found = req.context.session
    assert isinstance(found, sessions.Session)
    return found


def cause(req: falcon.Request) -> Cause:
    """Who did it, for the events: the staff user, by name, with their role as the channel."""
    user = session(req).user
    return Cause(
        principal=f"staff:{user.username}",
        channel=user.role,
        request_id=req.context.request_id,
        correlation_id=req.context.request_id,
    )


def set_cookie(
    resp: falcon.Response, req: falcon.Request, settings: ScreenSettings, name: str, value: str
) -> None:
    resp.set_cookie(
        name,
        value,
        path=PREFIX,
        http_only=True,
        secure=settings.secure_cookies or req.scheme == "https",
        same_site="Strict" if name == LOGIN_CSRF_COOKIE else "Lax",
    )


def new_login_token(req: falcon.Request, resp: falcon.Response, settings: ScreenSettings) -> str:
    token = req.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    if len(token) > sessions.MAX_TOKEN:
        token = secrets.token_urlsafe(32)
    set_cookie(resp, req, settings, LOGIN_CSRF_COOKIE, token)
    return token


class StaffSessions:
    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen
        self.settings = settings

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.request_id = uuid.uuid4().hex
        req.context.session = None
        req.context.form = {}
        resp.set_header("X-Frame-Options", "DENY")
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Referrer-Policy", "same-origin")
        resp.set_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
        )

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        if resource is None:
            return
        token = req.cookies.get(SESSION_COOKIE)
        if token:
            with self.screen.pool.connection() as conn:
                req.context.session = sessions.find(conn, token=token, now=self.screen.clock())
        if req.method == "POST":
            req.context.form = self._form(req)
        if getattr(resource, "public", False):
            return
        found = req.context.session
        if found is None:
            target = f"{PREFIX}/login?next={quote(req.relative_uri, safe='')}"
            if req.get_header("HX-Request"):
                raise falcon.HTTPUnauthorized(title="Signed out", headers={"HX-Redirect": target})
            raise falcon.HTTPSeeOther(target)
        if req.method == "POST":
            check_csrf(req, found.csrf_token)
        allowed: frozenset[str] = getattr(resource, "roles", {}).get(req.method, frozenset())
        if found.user.role not in allowed:
            raise Forbidden(
                title="Not for your role",
                description=f"a {found.user.role} user cannot do this ({req.method} {req.path})",
            )

    def _form(self, req: falcon.Request) -> dict[str, str]:
        length = req.content_length or 0
        if length > self.settings.max_form_bytes:
            raise falcon.HTTPContentTooLarge(
                title="Form too large", description=f"at most {self.settings.max_form_bytes} bytes"
            )
        if req.content_type is None or not req.content_type.startswith(falcon.MEDIA_URLENCODED):
            raise falcon.HTTPUnsupportedMediaType(description="send the screen's own forms")
        media = req.get_media(default_when_empty={})
        form: dict[str, str] = {}
        for name, value in media.items():
            text = value[-1] if isinstance(value, list) else value
            if not isinstance(text, str) or len(text) > MAX_FIELD:
                raise falcon.HTTPBadRequest(
                    title="Field too long", description=f"{name} is over {MAX_FIELD} characters"
                )
            form[name] = text
        return form


def check_csrf(req: falcon.Request, expected: str) -> None:
    sent = req.context.form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden(
            title="Form expired",
            description="the form's security token is missing or stale; reload the page and retry",
        )
