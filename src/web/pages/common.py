"""What most pages share: the facility they are about, its local date, the next page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import falcon

from berth.domain import bounds
from berth.domain.stay import local_date
from berth.web.settings import PREFIX, Screen


@dataclass(frozen=True, kw_only=True)
class Place:
    facility_id: UUID
    name: str
    time_zone: str
    today: date


def place(screen: Screen, facility_id: UUID) -> Place:
    """The facility (404 page if unknown), and today's date there."""
    facility = screen.reservations.catalogue.facility(facility_id)
    return Place(
        facility_id=facility_id,
        name=facility.name,
        time_zone=facility.time_zone,
        today=local_date(screen.clock(), facility.time_zone),
    )


def day_param(req: falcon.Request, name: str, default: date) -> date:
    text = req.get_param(name)
    if not text:
        return default
    try:
        day = date.fromisoformat(text[:10]) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or bounds.date_problem(day):
        raise falcon.HTTPBadRequest(
            title="Bad date", description=f"{name} must be a date, YYYY-MM-DD, from"
            f" {bounds.FIRST_DATE} to {bounds.LAST_DATE}"
        )  # fmt: skip
    return day


def next_page(form: dict[str, str], default: str) -> str:
    """The page a form returns to: one of the screen's, never another site."""
    wanted = form.get("next", "")
    if wanted.startswith(f"{PREFIX}/") and not wanted.startswith("//") and "\\" not in wanted:
        return wanted
    return default


def with_position(url: str, position: int | None) -> str:
    if position is None:
        return url
    base = url.split("min_position=", maxsplit=1)[0].rstrip("?&")
    return f"{base}{'&' if '?' in base else '?'}min_position={position}"
