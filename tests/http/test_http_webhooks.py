"""/webhooks over HTTP: who may subscribe to what, the secret once, bad input refused."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from falcon import testing
from http_support import Api

from berth.http import Services, Settings, create_app


@pytest.fixture
def settings() -> Settings:
    return Settings(
        key_cache_seconds=0, consistency_timeout=1.0, max_body_bytes=4096,
        webhooks_allow_private=True,
    )  # fmt: skip


URL = "http://127.0.0.1:9/hooks"


def _patch(api: Api, path: str, body: Any, who: str = "admin") -> Any:
    return api.client.simulate_patch(path, json=body, headers=api.headers(who))


def _delete(api: Api, path: str, who: str = "admin") -> Any:
    return api.client.simulate_delete(path, headers=api.headers(who))


def _rows(app_db_url: str) -> int:
    with psycopg.connect(app_db_url) as conn:
        row = conn.execute("SELECT count(*) FROM webhook_subscriptions").fetchone()
    assert row is not None
    return int(row[0])


def test_the_secret_is_shown_when_subscribing_and_never_again(api: Api) -> None:
    created = api.post("/webhooks", {"url": URL, "event_types": ["booking.confirmed"]})
    assert created.status_code == 201, created.text
    assert created.json["secret"].startswith("whsec_")
    assert created.headers["location"] == f"/webhooks/{created.json['id']}"
    assert created.json["channel"] is None and created.json["state"] == "active"
    assert created.json["deliveries"] == {"pending": 0, "delivered": 0, "failed": 0}
    shown = api.get(f"/webhooks/{created.json['id']}")
    assert shown.status_code == 200 and "secret" not in shown.json
    listed = api.get("/webhooks")
    assert [w["id"] for w in listed.json["webhooks"]] == [created.json["id"]]
    assert "secret" not in listed.json["webhooks"][0]


def test_a_booking_key_subscribes_for_its_own_channel_and_sees_no_other(api: Api) -> None:
    mine = api.post("/webhooks", {"url": URL}, who="web")
    assert mine.status_code == 201, mine.text
    assert mine.json["channel"] == "web"
    assert len(mine.json["event_types"]) > 5  # all of them by default
    refused = api.post("/webhooks", {"url": URL, "channel": "reseller"}, who="web")
    assert refused.status_code == 400
    assert refused.json["type"].endswith("/invalid-webhook-subscription")
    path = f"/webhooks/{mine.json['id']}"
    for response in (
        api.get(path, who="reseller"),
        _patch(api, path, {"state": "paused"}, who="reseller"),
        _delete(api, path, who="reseller"),
        api.get(f"{path}/deliveries", who="reseller"),
        api.post(f"{path}/ping", who="reseller"),
        api.post(f"{path}/replay?from_position=1", who="reseller"),
    ):
        assert response.status_code == 404, response.text
        assert response.json["type"].endswith("/unknown-webhook-subscription")
    assert api.get("/webhooks", who="reseller").json["webhooks"] == []
    assert [w["id"] for w in api.get("/webhooks", who="web").json["webhooks"]] == [mine.json["id"]]
    assert [w["id"] for w in api.get("/webhooks").json["webhooks"]] == [mine.json["id"]]


def test_other_roles_cannot_subscribe(api: Api) -> None:
    for who in ("operations", "finance", "auditor"):
        assert api.post("/webhooks", {"url": URL}, who=who).status_code == 403
        assert api.get("/webhooks", who=who).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/hooks"},
        {"url": "https://user:pw@example.com/hooks"},
        {"url": "example.com/hooks"},
        {"url": "https://example.com/\x00"},
        {"url": "https://" + "a" * 3000 + ".com/"},
        {"url": URL, "event_types": ["booking.exploded"]},
        {"url": URL, "event_types": []},
        {"url": URL, "channel": "no spaces allowed"},
        {"url": URL, "description": "x" * 201},
        {"url": URL, "unknown": 1},
    ],
)
def test_bad_subscriptions_are_refused_and_nothing_is_stored(
    api: Api, app_db_url: str, body: dict[str, Any]
) -> None:
    answer = api.post("/webhooks", body)
    assert answer.status_code == 400, answer.text
    assert _rows(app_db_url) == 0


def test_private_addresses_are_refused_unless_allowed(
    api: Api, services: Services, app_db_url: str
) -> None:
    strict = Api(testing.TestClient(create_app(Settings(key_cache_seconds=0), services)))
    strict.tokens = api.tokens
    for url in (
        "http://127.0.0.1:8080/",
        "http://localhost/hooks",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://169.254.169.254/latest",
    ):
        answer = strict.post("/webhooks", {"url": url})
        assert answer.status_code == 400, url
        assert answer.json["type"].endswith("/invalid-webhook-url")
    assert _rows(app_db_url) == 0
    assert strict.post("/webhooks", {"url": "https://hooks.example.com/"}).status_code == 201


def test_pause_resume_change_and_delete(api: Api) -> None:
    created = api.post("/webhooks", {"url": URL}).json
    path = f"/webhooks/{created['id']}"
    paused = _patch(api, path, {"state": "paused", "event_types": ["booking.held"]})
    assert paused.status_code == 200, paused.text
    assert paused.json["state"] == "paused" and paused.json["event_types"] == ["booking.held"]
    assert _patch(api, path, {"state": "disabled"}).status_code == 400
    assert _patch(api, path, {"url": "gopher://x"}).status_code == 400
    assert _patch(api, path, {"state": "active"}).json["state"] == "active"
    assert _delete(api, path).status_code == 204
    assert api.get(path).status_code == 404


def test_ping_and_replay_are_queued_and_logged(api: Api) -> None:
    created = api.post("/webhooks", {"url": URL}).json
    path = f"/webhooks/{created['id']}"
    ping = api.post(f"{path}/ping")
    assert ping.status_code == 202, ping.text
    log = api.get(f"{path}/deliveries")
    assert log.status_code == 200
    [entry] = log.json["deliveries"]
    assert entry["webhook_id"] == ping.json["webhook_id"]
    assert entry["event_type"] == "webhook.ping" and entry["status"] == "pending"
    assert log.json["next_cursor"] is None
    replay = api.post(f"{path}/replay?from_position=1")
    assert replay.status_code == 202 and replay.json["position"] == 0
    assert api.post(f"{path}/replay").status_code == 400
    assert api.post(f"{path}/replay?from_position=0").status_code == 400
    assert api.get(f"{path}/deliveries?limit=0").status_code == 400


def test_the_openapi_document_describes_the_webhooks(api: Api) -> None:
    paths = api.get("/openapi.json", who=None).json["paths"]
    assert {"post", "get"} <= set(paths["/webhooks"])
    assert {"get", "patch", "delete"} <= set(paths["/webhooks/{subscription_id}"])
    assert "post" in paths["/webhooks/{subscription_id}/replay"]


def _secrets(app_db_url: str, subscription_id: str) -> tuple[Any, ...]:
    with psycopg.connect(app_db_url) as conn:
        row = conn.execute(
            "SELECT secret, previous_secret, previous_valid_until, secret_rotated_at,"
            " secret_rotated_by, updated_at FROM webhook_subscriptions WHERE subscription_id = %s",
            (subscription_id,),
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_rotated_secret_is_in_its_answer_only_and_the_rotation_is_recorded(
    api: Api, app_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    created = api.post("/webhooks", {"url": URL}, who="web").json
    path = f"/webhooks/{created['id']}"
    caplog.set_level(logging.DEBUG)

    rotated = api.post(f"{path}/secret", {"grace_seconds": 3600}, who="web")

    assert rotated.status_code == 200, rotated.text
    secret = rotated.json["secret"]
    assert secret.startswith("whsec_") and secret != created["secret"]
    assert rotated.json["secret_rotated_by"] == created["created_by"]
    assert rotated.json["secret_rotated_at"] is not None
    until = datetime.fromisoformat(rotated.json["previous_valid_until"])
    rotated_at = datetime.fromisoformat(rotated.json["secret_rotated_at"])
    assert until - rotated_at == timedelta(hours=1)
    stored, previous, *_ = _secrets(app_db_url, created["id"])
    assert (stored, previous) == (secret, created["secret"])
    shown = api.get(path, who="web")
    listed = api.get("/webhooks", who="web")
    assert shown.json["previous_valid_until"] == rotated.json["previous_valid_until"]
    for text in (shown.text, listed.text, api.get(f"{path}/deliveries", who="web").text):
        assert secret not in text and created["secret"] not in text
    assert secret not in caplog.text and "whsec_" not in caplog.text


def test_a_rotation_without_a_body_keeps_the_old_secret_a_day_and_zero_revokes_it(
    api: Api, app_db_url: str
) -> None:
    created = api.post("/webhooks", {"url": URL}).json
    path = f"/webhooks/{created['id']}/secret"

    default = api.post(path)

    assert default.status_code == 200, default.text
    until = datetime.fromisoformat(default.json["previous_valid_until"])
    rotated_at = datetime.fromisoformat(default.json["secret_rotated_at"])
    assert until - rotated_at == timedelta(hours=24)
    revoked = api.post(path, {"grace_seconds": 0})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json["previous_valid_until"] is None
    assert _secrets(app_db_url, created["id"])[:3] == (revoked.json["secret"], None, None)


@pytest.mark.parametrize(
    "body",
    [
        {"grace_seconds": -1},
        {"grace_seconds": 30 * 24 * 3600 + 1},
        {"grace_seconds": 2**63},
        {"grace_seconds": 2**70},
        {"grace_seconds": 1.5},
        {"grace_seconds": "60"},
        {"grace_seconds": True},
        {"grace_seconds": None},
        {"grace_seconds": 60, "secret": "whsec_mine"},
        [60],
    ],
)
def test_a_bad_rotation_is_refused_and_changes_nothing(
    api: Api, app_db_url: str, body: Any
) -> None:
    created = api.post("/webhooks", {"url": URL}).json
    before = _secrets(app_db_url, created["id"])

    refused = api.post(f"/webhooks/{created['id']}/secret", body)

    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "whsec_" not in refused.text
    assert _secrets(app_db_url, created["id"]) == before


def test_another_channels_key_cannot_rotate_and_changes_nothing(api: Api, app_db_url: str) -> None:
    created = api.post("/webhooks", {"url": URL}, who="web").json
    before = _secrets(app_db_url, created["id"])
    refused = api.post(f"/webhooks/{created['id']}/secret", {"grace_seconds": 60}, who="reseller")
    assert refused.status_code == 404, refused.text
    assert refused.json["type"].endswith("/unknown-webhook-subscription")
    assert "whsec_" not in refused.text
    for who in ("operations", "finance", "auditor"):
        path = f"/webhooks/{created['id']}/secret"
        assert api.post(path, {"grace_seconds": 60}, who=who).status_code == 403
    missing = api.post(f"/webhooks/{uuid4()}/secret", {"grace_seconds": 60})
    assert missing.status_code == 404
    assert _secrets(app_db_url, created["id"]) == before
    assert api.post(f"/webhooks/{created['id']}/secret", who="admin").status_code == 200


def test_the_openapi_document_describes_the_rotation(api: Api) -> None:
    operation = api.get("/openapi.json", who=None).json["paths"][
        "/webhooks/{subscription_id}/secret"
    ]["post"]
    assert operation["operationId"] == "rotateWebhookSecret"
    assert operation["x-berth-roles"] == ["admin", "booking"]
    assert "Idempotency-Key" not in {p["name"] for p in operation["parameters"]}
