"""GET facilities, pools, gates and cameras: lists a page at a time, items with their ETag.

Every role may read facilities and pools (a booking site discovers what it can
sell); gates and cameras are for operations, auditors, gate devices and admins.
A gate-device key sees its own facility's only: another facility's answers 404,
as if it did not exist, and its lists hold only its own. A camera's secret is
never read (the catalogue read model has none).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import falcon
from marshmallow import Schema

from berth.adapters.catalogue import queries
from berth.domain import bounds
from berth.domain.camera_commands import UnknownCamera
from berth.domain.catalog_commands import UnknownFacility, UnknownPool
from berth.domain.gate_commands import UnknownGate
from berth.http import paging
from berth.http.auth import caller
from berth.http.endpoint import (
    ADMIN,
    AUDITOR,
    BOOKING,
    FINANCE,
    GATE_DEVICE,
    OPERATIONS,
    Endpoint,
    roles,
)
from berth.http.problems import Problem
from berth.http.queries.reads import Query
from berth.http.schemas import catalogue as schemas
from berth.http.schemas.base import shared
from berth.http.schemas.gates import CAMERA_ID_MAX
from berth.http.schemas.queries import Consistent

EVERYONE = roles(BOOKING, OPERATIONS, FINANCE, AUDITOR, GATE_DEVICE, ADMIN)
SITE_STAFF = roles(OPERATIONS, AUDITOR, GATE_DEVICE, ADMIN)

_NOT_FOUND = {
    "facilities": UnknownFacility,
    "pools": UnknownPool,
    "gates": UnknownGate,
}


def _visible(req: falcon.Request, row: dict[str, Any] | None) -> bool:
    return row is not None and caller(req).sees_facility(row["facility_id"])


def _facility_scope(req: falcon.Request, asked: UUID | None) -> str | None:
    """The facility a list is narrowed to: a gate device's own, or what was asked."""
    who = caller(req)
    if who.role != GATE_DEVICE:
        return None if asked is None else str(asked)
    if asked is not None and not who.sees_facility(asked):
        raise UnknownFacility(f"no facility {asked}")
    return who.key.scope


def _after(req: falcon.Request, kind: str) -> str | None:
    """The key a page continues after: a camera id, or the id of the other kinds."""
    cursor = req.context.query.get("cursor")
    if cursor is None:
        return None
    key = paging.decode(cursor)
    if not isinstance(key, str) or not 1 <= len(key) <= CAMERA_ID_MAX:
        raise paging.invalid_cursor()
    if kind != "cameras":
        try:
            return str(UUID(key))
        except ValueError:
            raise paging.invalid_cursor() from None
    if bounds.text_problem(key):
        raise paging.invalid_cursor()
    return key


def _respond_page(
    req: falcon.Request,
    *,
    resp: falcon.Response,
    schema: type[Schema],
    member: str,
    rows: list[dict[str, Any]],
    more: bool,
    key: str,
) -> None:
    last = str(rows[-1][key]) if more and rows else None
    resp.media = shared(schema).dump({member: rows} | paging.page(req, last))


def _respond_item(resp: falcon.Response, schema: type[Schema], row: dict[str, Any]) -> None:
    resp.media = shared(schema).dump(row)
    resp.set_header("ETag", f'"{row["version"]}"')


class CatalogueQuery(Query):
    projections = ("catalogue",)


class FacilityListResource(CatalogueQuery):
    endpoints = {
        "GET": Endpoint(
            summary="Facilities, in id order, a page at a time",
            tag="catalogue",
            roles=EVERYONE,
            query=schemas.CatalogueQuery,
            response=schemas.FacilityPage,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        with self.consistent(req) as conn:
            rows, more = queries.page(
                conn, "facilities", facility_id=_facility_scope(req, None),
                after=_after(req, "facilities"), limit=query["limit"],
            )  # fmt: skip
        _respond_page(
            req, resp=resp, schema=schemas.FacilityPage, member="facilities", rows=rows,
            more=more, key="facility_id",
        )  # fmt: skip


class ItemResource(CatalogueQuery):
    """GET /facilities/{id}, /pools/{id} or /gates/{id}."""

    def __init__(self, *args: Any, kind: str, schema: type[Schema], readers: frozenset[str]):
        super().__init__(*args)
        self.kind = kind
        self.schema = schema
        self.endpoints = {
            "GET": Endpoint(
                summary=f"One of the {kind}, from the catalogue; its ETag is its version",
                tag="catalogue",
                roles=readers,
                query=Consistent,
                response=schema,
            )
        }

    def on_get(self, req: falcon.Request, resp: falcon.Response, **ids: UUID) -> None:
        (key,) = ids.values()
        with self.consistent(req) as conn:
            row = queries.item(conn, self.kind, key)
        if not _visible(req, row):
            raise _NOT_FOUND[self.kind](f"no {self.kind.rstrip('s')} {key}")
        assert row is not None
        _respond_item(resp, self.schema, row)


class FacilityChildrenResource(CatalogueQuery):
    """GET /facilities/{id}/pools, /gates or /cameras: a facility's, in id order."""

    def __init__(
        self, *args: Any, kind: str, schema: type[Schema], key: str, readers: frozenset[str]
    ):
        super().__init__(*args)
        self.kind = kind
        self.schema = schema
        self.key = key
        self.endpoints = {
            "GET": Endpoint(
                summary=f"A facility's {kind}, a page at a time",
                tag="catalogue",
                roles=readers,
                query=schemas.CatalogueQuery,
                response=schema,
            )
        }

    def on_get(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        query = req.context.query
        if not caller(req).sees_facility(facility_id):
            raise UnknownFacility(f"no facility {facility_id}")
        after = _after(req, self.kind)
        with self.consistent(req) as conn:
            if queries.item(conn, "facilities", facility_id) is None:
                raise UnknownFacility(f"no facility {facility_id}")
            rows, more = queries.page(
                conn, self.kind, facility_id=facility_id, after=after, limit=query["limit"]
            )
        _respond_page(
            req, resp=resp, schema=self.schema, member=self.kind, rows=rows, more=more,
            key=self.key,
        )  # fmt: skip


class PoolListResource(CatalogueQuery):
    endpoints = {
        "GET": Endpoint(
            summary="Pools, in id order, of every facility or one (`facility_id`)",
            tag="catalogue",
            roles=EVERYONE,
            query=schemas.PoolQuery,
            response=schemas.PoolPage,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        facility = _facility_scope(req, query.get("facility_id"))
        with self.consistent(req) as conn:
            rows, more = queries.page(
                conn,
                "pools",
                facility_id=facility,
                after=_after(req, "pools"),
                limit=query["limit"],
            )
        _respond_page(
            req, resp=resp, schema=schemas.PoolPage, member="pools", rows=rows, more=more,
            key="pool_id",
        )  # fmt: skip


def _camera_id(value: str) -> str:
    """A camera id from the path, bounded like one in a body (as the camera commands do)."""
    problem = bounds.text_problem(value)
    if problem is None and not 1 <= len(value) <= CAMERA_ID_MAX:
        problem = f"1 to {CAMERA_ID_MAX} characters, got {len(value)}"
    if problem:
        raise Problem(400, "invalid-camera-id", "Invalid camera id", f"a camera id is {problem}")
    return value


class CameraResource(CatalogueQuery):
    endpoints = {
        "GET": Endpoint(
            summary="A facility's camera (never its secret); its version is the ETag",
            tag="catalogue",
            roles=SITE_STAFF,
            query=Consistent,
            response=schemas.CameraEntry,
        )
    }

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, facility_id: UUID, camera_id: str
    ) -> None:
        camera_id = _camera_id(camera_id)
        with self.consistent(req) as conn:
            row = queries.camera(conn, facility_id=facility_id, camera_id=camera_id)
        if not _visible(req, row):
            raise UnknownCamera(f"no camera {camera_id!r} at facility {facility_id}")
        assert row is not None
        _respond_item(resp, schemas.CameraEntry, row)


def catalogue_routes(*args: Any) -> dict[str, Any]:
    """The catalogue's resources by route; the three list routes share theirs with commands."""
    return {
        "/facilities": FacilityListResource(*args),
        "/facilities/{facility_id:uuid}": ItemResource(
            *args, kind="facilities", schema=schemas.FacilityEntry, readers=EVERYONE
        ),
        "/facilities/{facility_id:uuid}/pools": FacilityChildrenResource(
            *args, kind="pools", schema=schemas.PoolPage, key="pool_id", readers=EVERYONE
        ),
        "/facilities/{facility_id:uuid}/gates": FacilityChildrenResource(
            *args, kind="gates", schema=schemas.GatePage, key="gate_id", readers=SITE_STAFF
        ),
        "/facilities/{facility_id:uuid}/cameras": FacilityChildrenResource(
            *args, kind="cameras", schema=schemas.CameraPage, key="camera_id", readers=SITE_STAFF
        ),
        "/facilities/{facility_id:uuid}/cameras/{camera_id}": CameraResource(*args),
        "/pools": PoolListResource(*args),
        "/pools/{pool_id:uuid}": ItemResource(
            *args, kind="pools", schema=schemas.PoolEntry, readers=EVERYONE
        ),
        "/gates/{gate_id:uuid}": ItemResource(
            *args, kind="gates", schema=schemas.GateEntry, readers=SITE_STAFF
        ),
    }
