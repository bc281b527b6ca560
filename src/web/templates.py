"""Jinja2 templates (package data of berth.web), autoescaped, with the screen's filters."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

import falcon
import jinja2

from berth.web.settings import PREFIX


def money(minor: int | None, currency: str = "") -> str:
    if minor is None:
        return ""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(int(minor)), 100)
    return f"{sign}{whole:,}.{cents:02d} {currency}".strip()


def moment(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M")


def day(value: date | None) -> str:
    return value.isoformat() if value else ""


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("berth.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, moment=moment, day=day)
    env.globals["prefix"] = PREFIX
    return env


def render(
    req: falcon.Request, resp: falcon.Response, name: str, status: int = 200, **context: Any
) -> None:
    """Render template `name` into `resp`, with the session's user and CSRF token."""
    session = getattr(req.context, "session", None)
    resp.status = status
    resp.content_type = falcon.MEDIA_HTML
    resp.set_header("Cache-Control", "no-store")
    resp.text = (
        environment()
        .get_template(name)
        .render(
            user=session.user if session else None,
            csrf_token=session.csrf_token if session else getattr(req.context, "login_csrf", ""),
            path=req.path,
            **context,
        )
    )


def see_other(resp: falcon.Response, location: str) -> None:
    """Post, then redirect, then get: answer a form with 303 to the page it changed."""
    resp.status = falcon.HTTP_303
    resp.location = location
    resp.text = ""
