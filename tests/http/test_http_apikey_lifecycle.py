"""API keys are listed (never their secrets), revoked and rotated, by the CLI and admin endpoints.

A revoked or rotated-away token is refused within the key cache time, on the
clock the app is handed; scopes are checked against roles; and the key cache
keeps valid keys however many unknown tokens arrive.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from falcon import testing
from http_support import Api, Clock, World, make_key, problem_type

from berth import cli
from berth.adapters.postgres import apikeys
from berth.http import Services, Settings, create_app
from berth.http.auth import KeyVerifier

CACHED = Settings(key_cache_seconds=10, consistency_timeout=1.0, max_body_bytes=4096)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    cli.main(list(argv))
    return json.loads(capsys.readouterr().out)


def key_id(token: str) -> str:
    return token.split("_")[1]


def changes(db_url: str, key: str) -> list[tuple[str, str]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT change, principal FROM api_key_changes WHERE key_id = %s ORDER BY change_id",
            (key,),
        ).fetchall()
    return [(change, principal) for change, principal in rows]


def test_the_cli_lists_keys_without_secrets_revokes_and_rotates_them(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    booking = run_cli(capsys, "apikey", "create", "--role", "booking", "--scope", "web")
    finance = run_cli(capsys, "apikey", "create", "--role", "finance", "--label", "books")
    listed = run_cli(capsys, "apikey", "list")
    assert {k["key_id"]: (k["role"], k["scope"], k["revoked"]) for k in listed} == {
        booking["key_id"]: ("booking", "web", False),
        finance["key_id"]: ("finance", "", False),
    }
    for token in (booking["token"], finance["token"]):
        assert token.split("_", 2)[2] not in json.dumps(listed)
    assert all(k["created_at"] and k["created_by"].startswith("cli:") for k in listed)

    revoked = run_cli(capsys, "apikey", "revoke", booking["key_id"])
    assert revoked["revoked"] and revoked["revoked_by"].startswith("cli:")
    rotated = run_cli(capsys, "apikey", "rotate", finance["key_id"])
    assert rotated["key_id"] == finance["key_id"] and rotated["role"] == "finance"
    assert rotated["token"] != finance["token"] and rotated["rotated_at"]
    with psycopg.connect(db_url) as conn:
        assert apikeys.verify(conn, booking["token"]) is None
        assert apikeys.verify(conn, finance["token"]) is None
        now = apikeys.verify(conn, rotated["token"])
    assert now is not None and now.key_id == finance["key_id"]
    assert [c for c, _ in changes(db_url, booking["key_id"])] == ["created", "revoked"]
    assert [c for c, _ in changes(db_url, finance["key_id"])] == ["created", "rotated"]

    with pytest.raises(SystemExit) as stopped:
        cli.main(["apikey", "rotate", booking["key_id"]])
    assert stopped.value.code == 1  # a revoked key is not rotated back to life
    with pytest.raises(SystemExit) as stopped:
        cli.main(["apikey", "revoke", "0123456789abcdef"])
    assert stopped.value.code == 1


def test_an_admin_creates_lists_revokes_and_rotates_keys_over_http(api: Api, db_url: str) -> None:
    created = api.post("/apikeys", {"role": "booking", "scope": "partner-7", "label": "Partner"})
    assert created.status_code == 201, created.text
    token, new_id = created.json["token"], created.json["key_id"]
    assert created.json["created_by"] == key_id(api.tokens["admin"])
    api.tokens["partner"] = token
    assert api.get("/bookings", who="partner").status_code == 200

    first = api.get("/apikeys?limit=2")
    assert first.status_code == 200, first.text
    rest = api.get(f"/apikeys?limit=500&cursor={first.json['next_cursor']}")
    keys = first.json["keys"] + rest.json["keys"]
    assert rest.json["next_cursor"] is None
    assert len(keys) == len({k["key_id"] for k in keys}) == len(api.tokens)
    assert "token" not in json.dumps(keys) and token.split("_", 2)[2] not in json.dumps(keys)
    assert next(k for k in keys if k["key_id"] == new_id)["last_used_at"] is not None

    rotated = api.post(f"/apikeys/{new_id}/rotate")
    assert rotated.status_code == 200, rotated.text
    assert (rotated.json["key_id"], rotated.json["scope"]) == (new_id, "partner-7")
    assert api.get("/bookings", who="partner").status_code == 401
    api.tokens["partner"] = rotated.json["token"]
    assert api.get("/bookings", who="partner").status_code == 200

    revoked = api.post(f"/apikeys/{new_id}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json["revoked"] and revoked.json["revoked_by"] == key_id(api.tokens["admin"])
    assert api.get("/bookings", who="partner").status_code == 401
    again = api.post(f"/apikeys/{new_id}/revoke")  # a retry changes nothing
    assert again.json["revoked_at"] == revoked.json["revoked_at"]
    admin = key_id(api.tokens["admin"])
    assert changes(db_url, new_id) == [("created", admin), ("rotated", admin), ("revoked", admin)]

    refused = api.post(f"/apikeys/{new_id}/rotate")
    assert (refused.status_code, problem_type(refused)) == (409, "key-revoked")
    for path in ("/apikeys/0123456789abcdef/revoke", "/apikeys/not%00a%20key/rotate"):
        missing = api.post(path)
        assert (missing.status_code, problem_type(missing)) == (404, "unknown-key")


def test_only_an_admin_key_manages_keys(api: Api) -> None:
    for who in ("operations", "finance", "auditor", "web"):
        assert api.get("/apikeys", who=who).status_code == 403
        assert api.post("/apikeys", {"role": "admin"}, who=who).status_code == 403
        target = key_id(api.tokens["web"])
        assert api.post(f"/apikeys/{target}/revoke", who=who).status_code == 403


def test_a_revoked_key_is_refused_everywhere_once_the_cache_time_has_passed(
    services: Services, clock: Clock
) -> None:
    """Two apps (two processes' caches); one revokes, both refuse within the cache time."""
    admin, booking = make_key(services, "admin"), make_key(services, "booking", "web")
    here = testing.TestClient(create_app(CACHED, services))
    there = testing.TestClient(create_app(CACHED, services))

    def status(client: testing.TestClient, token: str) -> int:
        answer = client.simulate_get("/bookings", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code

    assert status(here, booking) == status(there, booking) == 200
    revoked = here.simulate_post(
        f"/apikeys/{key_id(booking)}/revoke", headers={"Authorization": f"Bearer {admin}"}
    )
    assert revoked.status_code == 200, revoked.text
    clock.advance(timedelta(seconds=CACHED.key_cache_seconds + 1))
    assert status(here, booking) == status(there, booking) == 401


def test_a_rotated_keys_old_token_is_refused_once_the_cache_time_has_passed(
    services: Services, clock: Clock
) -> None:
    client = testing.TestClient(create_app(CACHED, services))
    old = make_key(services, "operations")
    first = client.simulate_get("/bookings", headers={"Authorization": f"Bearer {old}"})
    assert first.status_code == 200, first.text
    with services.pool.connection() as conn:
        _, new = apikeys.rotate(conn, key_id(old), principal="test")
    clock.advance(timedelta(seconds=CACHED.key_cache_seconds + 1))
    for token, expected in ((old, 401), (new, 200)):
        answer = client.simulate_get("/bookings", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == expected, answer.text


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("gate_device", "another-facility"),
        ("gate_device", str(uuid.uuid4())),  # no such facility
        ("gate_device", ""),
        ("booking", ""),
        ("booking", "web site"),
        ("booking", "x" * 65),
        ("booking", "operations"),  # would pass for the operations channel on events
        ("booking", "-leading"),
        ("operations", "web"),
        ("admin", "anything"),
        ("finance", "web"),
    ],
)
def test_a_scope_its_role_does_not_take_is_refused_and_nothing_is_stored(
    api: Api, world: World, db_url: str, role: str, scope: str
) -> None:
    with psycopg.connect(db_url) as conn:
        before = conn.execute("SELECT count(*) FROM api_keys").fetchone()
    answer = api.post("/apikeys", {"role": role, "scope": scope})
    assert answer.status_code == 400, answer.text
    assert problem_type(answer) in {"invalid-key-spec", "invalid-request"}
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM api_keys").fetchone() == before


def test_a_gate_devices_scope_is_a_registered_facility_in_canonical_form(
    api: Api, world: World
) -> None:
    answer = api.post("/apikeys", {"role": "gate_device", "scope": world.facility_id.upper()})
    assert answer.status_code == 201, answer.text
    assert answer.json["scope"] == world.facility_id
    booking = api.post("/apikeys", {"role": "booking", "scope": "brand.site-2"})
    assert booking.status_code == 201, booking.text


def test_the_cli_refuses_a_scope_its_role_does_not_take(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    for argv in (
        ["--role", "gate_device", "--scope", "another-facility"],
        ["--role", "auditor", "--scope", "web"],
    ):
        with pytest.raises(SystemExit) as stopped:
            cli.main(["apikey", "create", *argv])
        assert stopped.value.code == 1


def test_random_tokens_never_evict_a_valid_cached_key(services: Services, db_url: str) -> None:
    verify = KeyVerifier(services, ttl=3600)
    token = make_key(services, "operations")
    assert verify(token) is not None  # now cached
    for _ in range(10_001):
        assert verify(f"berth_{secrets.token_hex(8)}_{secrets.token_urlsafe(8)}") is None
    # Revoked behind the cache's back: only a cached answer can still accept the token.
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE api_keys SET revoked_at = now() WHERE key_id = %s", (key_id(token),))
    key = verify(token)
    assert key is not None and key.key_id == key_id(token)
