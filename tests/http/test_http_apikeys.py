"""`berth apikey create` prints a token once; only its hash is stored, and it opens the API."""

from __future__ import annotations

import json

import psycopg
import pytest
from falcon import testing

from berth import cli
from berth.adapters.postgres import apikeys
from berth.http import Services, Settings, create_app


def test_a_created_key_authenticates_and_only_its_hash_is_stored(
    db_url: str,
    services: Services,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    cli.main(["apikey", "create", "--role", "booking", "--scope", "web", "--label", "site"])
    printed = json.loads(capsys.readouterr().out)
    token = printed["token"]
    assert token.startswith(f"berth_{printed['key_id']}_")
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT secret_hash, role, scope, label FROM api_keys").fetchone()
    assert row is not None
    secret = token.split("_", 2)[2]
    assert row == (apikeys.hash_secret(secret), "booking", "web", "site")
    assert secret not in json.dumps(row)
    client = testing.TestClient(create_app(settings, services))
    answer = client.simulate_get("/bookings", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200


def test_a_booking_key_needs_a_channel(db_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    with pytest.raises(SystemExit) as stopped:
        cli.main(["apikey", "create", "--role", "booking"])
    assert stopped.value.code == 1


@pytest.mark.parametrize(
    ("role", "scope"),
    [("booking", "admin"), ("booking", ""), ("gate_device", "harbour"), ("finance", "web")],
)
def test_a_key_stored_before_its_scope_rule_existed_is_refused_and_cannot_be_rotated(
    db_url: str, services: Services, settings: Settings, role: str, scope: str
):
    secret = "an-old-secret"
    with psycopg.connect(db_url) as conn:  # as a key made before the rule was
        conn.execute(
            "INSERT INTO api_keys (key_id, secret_hash, role, scope, label, created_by)"
            " VALUES ('00000000000000aa', %s, %s, %s, 'old', 'test')",
            (apikeys.hash_secret(secret), role, scope),
        )
        assert apikeys.verify(conn, f"berth_00000000000000aa_{secret}") is None
        with pytest.raises(apikeys.InvalidKeySpec, match="no longer meets the rules"):
            apikeys.rotate(conn, "00000000000000aa", principal="test")
    client = testing.TestClient(create_app(settings, services))
    answer = client.simulate_get(
        "/bookings", headers={"Authorization": f"Bearer berth_00000000000000aa_{secret}"}
    )
    assert answer.status_code == 401


def test_every_scope_the_rules_accept_is_well_formed_when_read_back() -> None:
    assert apikeys.well_formed("booking", "web")
    assert apikeys.well_formed("gate_device", "6f1c1d2e-0000-4000-8000-000000000001")
    assert apikeys.well_formed("admin", "")
    assert not apikeys.well_formed("gate_device", "6F1C1D2E-0000-4000-8000-000000000001")
