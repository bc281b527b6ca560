"""Jinja2 templates (package data of berth.web), autoescaped, with the screen's filters."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
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


# Stands for the session's CSRF token in a panel rendered once for every screen.
_SESSION_SLOT = "@@csrf-token@@"


class SharedPanels:
    """Live panels rendered once per change for every screen that watches them.

    A panel's key names what it shows and the positions of the projections it
    reads, so equal keys are equal panels: fifty screens polling after one gate
    read cost one render, not fifty. The session's CSRF token is put in after.
    The last `size` panels are kept, per process.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.panels: OrderedDict[Hashable, str] = OrderedDict()
        self.lock = threading.Lock()
        self.renders = 0

    def render(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        name: str,
        key: Hashable,
        context: Callable[[], dict[str, Any]],
    ) -> None:
        with self.lock:
            text = self.panels.get(key)
            if text is not None:
                self.panels.move_to_end(key)
        if text is None:
            text = (
                environment()
                .get_template(name)
                .render(user=None, csrf_token=_SESSION_SLOT, path="", **context())
            )
            with self.lock:
                self.renders += 1
                self.panels[key] = text
                while len(self.panels) > self.size:
                    self.panels.popitem(last=False)
        session = req.context.session
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Cache-Control", "no-store")
        resp.text = text.replace(_SESSION_SLOT, session.csrf_token if session else "")
