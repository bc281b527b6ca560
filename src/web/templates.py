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

    A panel (`group`: what it shows) is rendered at `seen`, the positions of the
    projections it reads ("12.40"); positions only grow. The newest render of
    each group is kept: a poll at positions it covers is served from it, and
    at most one render per group runs at a time, so fifty screens polling while
    twenty lanes read cost one render per poll interval, not fifty. The
    session's CSRF token is put in after. The last `size` groups are kept.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.latest: OrderedDict[Hashable, tuple[tuple[int, ...], str]] = OrderedDict()
        self.rendering: dict[Hashable, threading.Lock] = {}
        self.lock = threading.Lock()
        self.renders = 0

    def _cached(self, group: Hashable, seen: tuple[int, ...]) -> str | None:
        with self.lock:
            found = self.latest.get(group)
            if found is None:
                return None
            self.latest.move_to_end(group)
        at, text = found
        covers = len(at) == len(seen) and all(a >= b for a, b in zip(at, seen, strict=True))
        return text if covers else None

    def render(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        name: str,
        group: Hashable,
        *,
        seen: str,
        context: Callable[[], dict[str, Any]],
    ) -> None:
        at = tuple(int(part) for part in seen.split("."))
        text = self._cached(group, at)
        if text is None:
            with self.lock:
                rendering = self.rendering.setdefault(group, threading.Lock())
            with rendering:
                text = self._cached(group, at)  # rendered by another screen meanwhile
                if text is None:
                    text = (
                        environment()
                        .get_template(name)
                        .render(user=None, csrf_token=_SESSION_SLOT, path="", **context())
                    )
                    with self.lock:
                        self.renders += 1
                        self.latest[group] = (at, text)
                        self.latest.move_to_end(group)
                        while len(self.latest) > self.size:
                            dropped, _ = self.latest.popitem(last=False)
                            self.rendering.pop(dropped, None)
        session = req.context.session
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Cache-Control", "no-store")
        resp.text = text.replace(_SESSION_SLOT, session.csrf_token if session else "")
