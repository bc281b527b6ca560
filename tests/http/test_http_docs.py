"""The API version header and the interactive reference at /docs, served without any CDN."""

from __future__ import annotations

import re

from http_support import Api, World, problem_type

from berth.http.versioning import CURRENT


def test_every_answer_names_the_api_version_and_a_pinned_one_is_served(
    api: Api, world: World
) -> None:
    for answer in (
        api.get("/health", who=None),
        api.get(f"/pools/{world.pool_id}"),
        api.get("/pools/not-a-uuid"),
        api.get("/facilities", who=None),  # 401
        api.get("/openapi.json", who=None),
    ):
        assert answer.headers["berth-version"] == CURRENT, answer.status
    pinned = api.get(f"/facilities/{world.facility_id}", headers={"Berth-Version": CURRENT})
    assert pinned.status_code in {200, 404}  # the catalogue worker does not run here
    assert pinned.headers["berth-version"] == CURRENT
    assert api.get("/openapi.json", who=None).json["info"]["version"] == CURRENT


def test_an_unknown_version_is_refused_before_anything_is_stored(api: Api, world: World) -> None:
    before = api.get("/projections").json["projections"][0]["head"]
    refused = api.post(
        "/facilities",
        {"name": "Never", "time_zone": "UTC"},
        headers={"Berth-Version": "2020-01-01"},
    )
    assert (refused.status_code, problem_type(refused)) == (400, "unsupported-version")
    assert refused.json["supported"] == [CURRENT]
    assert api.get("/projections").json["projections"][0]["head"] == before


def test_docs_is_swagger_ui_from_this_server_reading_the_openapi_document(api: Api) -> None:
    page = api.get("/docs", who=None)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/") for s in sources), sources
    assert "//" not in page.text.replace("<!DOCTYPE html>", "")  # no other host at all
    start = api.get("/docs/start.js", who=None)
    assert start.status_code == 200 and '"/openapi.json"' in start.text
    for source in sources:
        asset = api.get(source, who=None)
        assert asset.status_code == 200, source
        assert asset.content, source
    bundle = api.get("/docs/assets/swagger-ui-bundle.js", who=None)
    assert b"SwaggerUIBundle" in bundle.content
    assert api.get("/docs/assets/../../setup.cfg", who=None).status_code == 404
